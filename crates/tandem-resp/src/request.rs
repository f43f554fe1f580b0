//! Parsing client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
//! commands (`GET k\r\n`), as Redis 7.0's `processMultibulkBuffer`, `processInlineBuffer`
//! and `sdssplitargs` accept them.
//!
//! The parser works over a borrowed buffer that holds the pending request at its start.
//! It returns `Ok(None)` until the whole request is there, and then a [`Request`] whose
//! arguments are slices of that buffer (multibulk) or of the parser's scratch space
//! (inline arguments, which may contain escapes). [`Request::consumed`] is the exact number
//! of bytes the request occupied; the caller drops that many bytes from the front.
//!
//! A request that arrives in pieces is not parsed again from its start: the parser keeps
//! how far it got (the arguments already complete, the bulk length being waited for, how
//! far a line was searched), so the total work is linear in the bytes received. In return
//! the caller must, after `Ok(None)`, pass the same bytes again (moved if it likes) with
//! any new bytes appended, or call [`RequestParser::reset`]. No heap allocation happens
//! per request once the parser's vectors have grown to the largest request seen.
//!
//! Details that follow Redis exactly:
//! * A count or length line ends at its CR; the byte after it is skipped unseen, as are the
//!   two bytes after a bulk payload. Numbers follow `string2ll` (no `+`, no leading zero).
//! * `*0`, `*-1` and any negative count are empty requests, which the caller skips.
//! * Redis looks for line ends with `strchr`, which stops at a NUL byte: a NUL before the
//!   end of a count, length or inline line means that line never ends, and the request
//!   waits until the line is too long.
//! * Inline lines are split like `sdssplitargs` (see [`RequestParser::parse`]).
//!
//! One deliberate difference: Redis applies its 64 KB line limit to whatever happens to be
//! buffered when it looks (its reads are 16 KB), so whether a 64–80 KB line passes depends
//! on how the bytes arrived. Here the limit applies to the line itself: a line whose end is
//! more than 64 KB from its start is too big, however the bytes arrived — what Redis does
//! when they trickle in.

use std::fmt;

use crate::parse_i64;

/// Longest inline request, or count line, Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Longest bulk string an unauthenticated client may send.
const UNAUTH_MAX_BULK: u64 = 16384;

/// Most arguments an unauthenticated client may send.
const UNAUTH_MAX_ARGS: i64 = 10;

/// Limits applied while parsing, checked before anything is allocated.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`: longest bulk string accepted (default 512 MB).
    pub proto_max_bulk_len: u64,
    /// Whether the connection still has to authenticate: then a multibulk count over 10
    /// or a bulk over 16384 bytes is refused, as Redis does.
    pub unauthenticated: bool,
    /// Whether the peer is our master: its bulks are exempt from `proto_max_bulk_len`
    /// and it may not use inline commands (an empty line, its keepalive, is fine).
    pub from_master: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
            from_master: false,
        }
    }
}

/// A malformed request. After any of these the connection is closed, as Redis does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The `*<n>` count is not a number or exceeds `i32::MAX`.
    InvalidMultibulkLength,
    /// A `$<n>` length is not a number, negative, or over `proto-max-bulk-len`.
    InvalidBulkLength,
    /// Something other than `$` where a bulk string must start (the byte found).
    ExpectedDollar(u8),
    /// The `*<n>` line is longer than 64 KB.
    TooBigMbulkCountString,
    /// A `$<n>` line is longer than 64 KB.
    TooBigBulkCountString,
    /// An inline request is longer than 64 KB.
    TooBigInlineRequest,
    /// Quotes in an inline request do not balance, or a closing quote is followed by
    /// something other than a space.
    UnbalancedQuotes,
    /// An unauthenticated client sent more than 10 arguments.
    UnauthenticatedMultibulkLength,
    /// An unauthenticated client sent a bulk over 16384 bytes.
    UnauthenticatedBulkLength,
    /// Our master sent an inline request. Redis closes the link without replying.
    MasterInline,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", char::from(*c)),
            ProtocolError::TooBigMbulkCountString => f.write_str("too big mbulk count string"),
            ProtocolError::TooBigBulkCountString => f.write_str("too big bulk count string"),
            ProtocolError::TooBigInlineRequest => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ProtocolError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ProtocolError::MasterInline => f.write_str("Master using the inline protocol. Desync?"),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl ProtocolError {
    /// The error reply a client gets before its connection is closed, e.g.
    /// `ERR Protocol error: invalid bulk length`. A byte over 0x7f in
    /// [`ProtocolError::ExpectedDollar`] comes out as a Latin-1 character here; use
    /// [`ProtocolError::write_reply`] for Redis's exact bytes.
    pub fn reply_text(&self) -> String {
        format!("ERR {self}")
    }

    /// Appends the whole error reply, byte for byte as Redis sends it
    /// (`-ERR Protocol error: expected '$', got '\xff'\r\n`; CR or LF shown as a space).
    /// Nothing is to be sent for [`ProtocolError::MasterInline`]: the caller decides.
    pub fn write_reply(&self, out: &mut Vec<u8>) {
        match self {
            ProtocolError::ExpectedDollar(c) => {
                out.extend_from_slice(b"-ERR Protocol error: expected '$', got '");
                out.push(if matches!(c, b'\r' | b'\n') { b' ' } else { *c });
                out.extend_from_slice(b"'\r\n");
            }
            other => crate::encode::error(out, &other.reply_text()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    scratch: bool,
}

/// Where a request that has not fully arrived stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// No request under way.
    #[default]
    Idle,
    /// Waiting for the end of the `*<count>` line.
    Count,
    /// `left` bulk strings to go; waiting for the end of the `$<len>` line at `pos`.
    Header { left: u32 },
    /// `left` bulk strings to go (this one included); its `len` bytes start at `pos`.
    Payload { left: u32, len: usize },
    /// Waiting for the newline ending an inline request.
    Inline,
}

/// A reusable request parser (one per connection).
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Arguments found so far (of the pending request, or of the one last returned).
    spans: Vec<Span>,
    /// Unescaped inline arguments.
    scratch: Vec<u8>,
    stage: Stage,
    /// Offset of the line or payload being waited for.
    pos: usize,
    /// How far the line starting at `pos` has been searched for its end.
    scanned: usize,
    /// Length and first byte of the buffer at the last call, to notice a caller that did
    /// not keep the contract (then the parser starts over instead of misreading).
    seen_len: usize,
    seen_first: u8,
    /// Bytes examined and steps taken, to prove that pieces are not parsed twice.
    #[cfg(test)]
    work: usize,
}

/// One complete request, borrowing the input buffer.
#[derive(Debug)]
pub struct Request<'a> {
    buf: &'a [u8],
    scratch: &'a [u8],
    spans: &'a [Span],
    consumed: usize,
    inline: bool,
}

impl<'a> Request<'a> {
    /// Bytes of the input this request occupied.
    pub fn consumed(&self) -> usize {
        self.consumed
    }
    /// Number of arguments, the command name included. Zero for an empty request
    /// (a blank inline line, `*0` or `*-1`), which the caller skips.
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    /// Whether the request carries no command.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    /// Whether it arrived as an inline command.
    pub fn is_inline(&self) -> bool {
        self.inline
    }
    /// Argument `i` (0 is the command name). Panics if `i >= self.len()`.
    pub fn arg(&self, i: usize) -> &'a [u8] {
        let s = self.spans[i];
        if s.scratch {
            &self.scratch[s.start..s.end]
        } else {
            &self.buf[s.start..s.end]
        }
    }
    /// All arguments in order.
    pub fn args(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        (0..self.spans.len()).map(move |i| self.arg(i))
    }
}

/// Outcome of looking for the end of a line.
enum LineEnd {
    /// The terminator is at this offset.
    At(usize),
    /// Not there yet.
    Wait,
    /// It cannot be within 64 KB of the line's start any more.
    TooBig,
}

/// Looks for `term` in the line starting at `start`, resuming at `*scanned`. Like
/// `strchr`, a NUL ends the search for good (`*scanned` then stays on it).
fn find_line_end(buf: &[u8], start: usize, scanned: &mut usize, term: u8) -> LineEnd {
    let window_end = buf.len().min(start + INLINE_MAX_SIZE + 1);
    let from = (*scanned).max(start);
    if from < window_end {
        if let Some(i) = buf[from..window_end]
            .iter()
            .position(|&b| b == term || b == 0)
        {
            let at = from + i;
            if buf[at] == term {
                *scanned = at;
                return LineEnd::At(at);
            }
            *scanned = at;
        } else {
            *scanned = window_end;
        }
    }
    if buf.len() - start > INLINE_MAX_SIZE {
        LineEnd::TooBig
    } else {
        LineEnd::Wait
    }
}

impl RequestParser {
    /// A parser with no state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets a partly parsed request. Needed only before passing a buffer that does
    /// not continue the one given to the last call that returned `Ok(None)`.
    pub fn reset(&mut self) {
        self.stage = Stage::Idle;
        self.pos = 0;
        self.scanned = 0;
        self.spans.clear();
        self.scratch.clear();
    }

    /// Whether part of a request has been seen (the last call returned `Ok(None)` on a
    /// non-empty buffer).
    pub fn is_pending(&self) -> bool {
        self.stage != Stage::Idle
    }

    /// Parses the request at the start of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed; nothing is consumed, and the next call must
    /// be given the same bytes followed by whatever arrived since (see the module docs).
    /// An error means the connection must be closed after the error reply.
    ///
    /// A request not starting with `*` is inline: one line up to `\n` (a CR before it is
    /// dropped), split on spaces like Redis's `sdssplitargs`: blanks are
    /// space, `\t`, `\n`, `\r`, `\v` and `\f`; `"..."` understands `\xHH`, `\n`, `\r`,
    /// `\t`, `\b`, `\a` and `\<any>`; `'...'` understands only `\'`; a closing quote must
    /// be followed by a blank or the end of the line; quotes may start in the middle of
    /// a word (`a"b c"` is `ab c`).
    pub fn parse<'a>(
        &'a mut self,
        buf: &'a [u8],
        limits: &RequestLimits,
    ) -> Result<Option<Request<'a>>, ProtocolError> {
        if self.stage != Stage::Idle
            && (buf.len() < self.seen_len || buf.first() != Some(&self.seen_first))
        {
            self.reset();
        }
        if self.stage == Stage::Idle {
            self.spans.clear();
            self.scratch.clear();
            self.pos = 0;
            self.scanned = 0;
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            self.stage = if first == b'*' {
                Stage::Count
            } else {
                Stage::Inline
            };
        }
        self.seen_len = buf.len();
        self.seen_first = buf[0];
        match self.advance(buf, limits) {
            Ok(Some((consumed, inline))) => {
                self.stage = Stage::Idle;
                Ok(Some(Request {
                    buf,
                    scratch: &self.scratch,
                    spans: &self.spans,
                    consumed,
                    inline,
                }))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// After `parse` returned `Ok(None)`: how many more bytes (beyond the buffer last
    /// passed) the request needs at least, when that is known because the parser is inside
    /// a bulk string — its payload and CRLF. Lets the caller read a big argument in one
    /// piece, as Redis does for bulks of 32 KB and more.
    pub fn bytes_needed_hint(&self) -> Option<usize> {
        match self.stage {
            Stage::Payload { len, .. } => {
                let end = self.pos.saturating_add(len).saturating_add(2);
                Some(end.saturating_sub(self.seen_len)).filter(|&n| n > 0)
            }
            _ => None,
        }
    }

    /// Moves the pending request forward; `Some((consumed, inline))` once it is complete.
    fn advance(
        &mut self,
        buf: &[u8],
        limits: &RequestLimits,
    ) -> Result<Option<(usize, bool)>, ProtocolError> {
        loop {
            #[cfg(test)]
            {
                self.work += 1;
            }
            match self.stage {
                Stage::Idle => return Ok(None),
                Stage::Inline => return self.inline(buf, limits),
                Stage::Count => {
                    let cr = match self.line_end(buf, 0, b'\r') {
                        LineEnd::At(cr) => cr,
                        LineEnd::Wait => return Ok(None),
                        LineEnd::TooBig => return Err(ProtocolError::TooBigMbulkCountString),
                    };
                    if cr + 2 > buf.len() {
                        return Ok(None);
                    }
                    let count = match parse_i64(&buf[1..cr]) {
                        Some(n) if n <= i64::from(i32::MAX) => n,
                        _ => return Err(ProtocolError::InvalidMultibulkLength),
                    };
                    if count > UNAUTH_MAX_ARGS && limits.unauthenticated {
                        return Err(ProtocolError::UnauthenticatedMultibulkLength);
                    }
                    self.pos = cr + 2;
                    self.scanned = self.pos;
                    match u32::try_from(count) {
                        Ok(left) if left > 0 => self.stage = Stage::Header { left },
                        _ => return Ok(Some((self.pos, false))),
                    }
                }
                Stage::Header { left } => {
                    let start = self.pos;
                    let cr = match self.line_end(buf, start, b'\r') {
                        LineEnd::At(cr) => cr,
                        LineEnd::Wait => return Ok(None),
                        LineEnd::TooBig => return Err(ProtocolError::TooBigBulkCountString),
                    };
                    if cr + 2 > buf.len() {
                        return Ok(None);
                    }
                    if buf[start] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[start]));
                    }
                    let len = match parse_i64(&buf[start + 1..cr]) {
                        Some(n)
                            if n >= 0
                                && (limits.from_master
                                    || n.unsigned_abs() <= limits.proto_max_bulk_len) =>
                        {
                            n.unsigned_abs()
                        }
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if len > UNAUTH_MAX_BULK && limits.unauthenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    let Ok(len) = usize::try_from(len) else {
                        return Err(ProtocolError::InvalidBulkLength);
                    };
                    self.pos = cr + 2;
                    self.stage = Stage::Payload { left, len };
                }
                Stage::Payload { left, len } => {
                    let start = self.pos;
                    // Redis skips the two bytes after the payload without looking at them.
                    let Some(next) = start.checked_add(len).and_then(|e| e.checked_add(2)) else {
                        return Err(ProtocolError::InvalidBulkLength);
                    };
                    if next > buf.len() {
                        return Ok(None);
                    }
                    self.spans.push(Span {
                        start,
                        end: start + len,
                        scratch: false,
                    });
                    self.pos = next;
                    self.scanned = next;
                    if left == 1 {
                        return Ok(Some((next, false)));
                    }
                    self.stage = Stage::Header { left: left - 1 };
                }
            }
        }
    }

    fn line_end(&mut self, buf: &[u8], start: usize, term: u8) -> LineEnd {
        #[cfg(test)]
        let before = self.scanned.max(start);
        let r = find_line_end(buf, start, &mut self.scanned, term);
        #[cfg(test)]
        {
            self.work += self.scanned.saturating_sub(before) + 1;
        }
        r
    }

    fn inline(
        &mut self,
        buf: &[u8],
        limits: &RequestLimits,
    ) -> Result<Option<(usize, bool)>, ProtocolError> {
        let nl = match self.line_end(buf, 0, b'\n') {
            LineEnd::At(nl) => nl,
            LineEnd::Wait => return Ok(None),
            LineEnd::TooBig => return Err(ProtocolError::TooBigInlineRequest),
        };
        let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        split_args(&buf[..line_end], &mut self.scratch, &mut self.spans)?;
        // A master may send an empty line as a keepalive, nothing else inline.
        if line_end > 0 && limits.from_master {
            return Err(ProtocolError::MasterInline);
        }
        Ok(Some((nl + 1, true)))
    }
}

/// `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line like Redis's `sdssplitargs` (rules in [`RequestParser::parse`]). The
/// line holds no NUL: line ends are searched the way `strchr` does.
fn split_args(
    line: &[u8],
    scratch: &mut Vec<u8>,
    spans: &mut Vec<Span>,
) -> Result<(), ProtocolError> {
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(());
        }
        let start = scratch.len();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        scratch.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    scratch.push(e);
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                }
                scratch.push(c);
                i += 1;
            } else if in_sq {
                if i >= n {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    scratch.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                }
                scratch.push(c);
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                // Only these end an unquoted word; `\v` and `\f` belong to it.
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => scratch.push(c),
                }
                i += 1;
            }
        }
        spans.push(Span {
            start,
            end: scratch.len(),
            scratch: true,
        });
    }
}

#[cfg(test)]
mod tests;
