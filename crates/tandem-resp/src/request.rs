//! Parsing client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
//! commands (`GET k\r\n`), exactly as Redis 7.0's `processMultibulkBuffer` and
//! `processInlineBuffer` accept them.
//!
//! The parser is check-then-parse over a borrowed buffer: it returns `Ok(None)` until a
//! whole request is present, and a [`Request`] whose arguments are slices of that buffer
//! (multibulk) or of the parser's scratch space (inline arguments, which may contain
//! escapes). [`Request::consumed`] is the exact number of bytes the request occupied;
//! the caller advances its buffer by that much. No heap allocation happens per request
//! once the parser's span vector has grown to the largest argument count seen.

use std::fmt;

use crate::parse_i64;

/// Longest inline request, or count line, Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Limits applied while parsing, checked before anything is allocated.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`: longest bulk string accepted (default 512 MB).
    pub proto_max_bulk_len: u64,
    /// Whether the connection still has to authenticate: then a multibulk count over 10
    /// or a bulk over 16384 bytes is refused, as Redis does.
    pub unauthenticated: bool,
    /// Whether the peer is our master: its bulks are exempt from `proto_max_bulk_len`
    /// and it may not use inline commands.
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
    /// Something other than `$` where a bulk string must start.
    ExpectedDollar(u8),
    /// The `*<n>` line is longer than 64 KB without a CR.
    TooBigMbulkCountString,
    /// A `$<n>` line is longer than 64 KB without a CR.
    TooBigBulkCountString,
    /// An inline request is longer than 64 KB without a newline.
    TooBigInlineRequest,
    /// Quotes in an inline request do not balance.
    UnbalancedQuotes,
    /// An unauthenticated client sent more than 10 arguments.
    UnauthenticatedMultibulkLength,
    /// An unauthenticated client sent a bulk over 16384 bytes.
    UnauthenticatedBulkLength,
    /// Our master sent an inline request.
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
    /// `ERR Protocol error: invalid bulk length`.
    pub fn reply_text(&self) -> String {
        format!("ERR {self}")
    }
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    scratch: bool,
}

/// A reusable request parser (one per connection).
#[derive(Debug, Default)]
pub struct RequestParser {
    spans: Vec<Span>,
    scratch: Vec<u8>,
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
    /// (a blank inline line or `*0`), which the caller skips.
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
    /// Argument `i` (0 is the command name).
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

/// Result of looking for a line end.
fn find_cr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\r')
}

impl RequestParser {
    /// A parser with no state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the request at the start of `buf`. `Ok(None)` means more bytes are needed
    /// (nothing was consumed); an error means the connection must be closed after the
    /// error reply.
    pub fn parse<'a>(
        &'a mut self,
        buf: &'a [u8],
        limits: &RequestLimits,
    ) -> Result<Option<Request<'a>>, ProtocolError> {
        self.spans.clear();
        self.scratch.clear();
        if buf.is_empty() {
            return Ok(None);
        }
        let (consumed, inline) = if buf[0] == b'*' {
            match self.parse_multibulk(buf, limits)? {
                Some(n) => (n, false),
                None => return Ok(None),
            }
        } else {
            match self.parse_inline(buf, limits)? {
                Some(n) => (n, true),
                None => return Ok(None),
            }
        };
        Ok(Some(Request {
            buf,
            scratch: &self.scratch,
            spans: &self.spans,
            consumed,
            inline,
        }))
    }

    /// Bytes still needed before the request at the start of `buf` can complete, when
    /// that is known (inside a long bulk string). Lets the caller size its buffer.
    pub fn bytes_needed_hint(buf: &[u8]) -> Option<usize> {
        let mut pos = 0;
        if buf.first() != Some(&b'*') {
            return None;
        }
        let cr = find_cr(buf)?;
        let count = parse_i64(&buf[1..cr])?;
        pos = pos + cr + 2;
        for _ in 0..count.max(0) {
            if pos >= buf.len() {
                return None;
            }
            let cr = find_cr(&buf[pos..])? + pos;
            if buf.get(pos) != Some(&b'$') {
                return None;
            }
            let len = usize::try_from(parse_i64(&buf[pos + 1..cr])?).ok()?;
            let end = cr + 2 + len + 2;
            if end > buf.len() {
                return Some(end - buf.len());
            }
            pos = end;
        }
        None
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: &RequestLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = find_cr(buf) else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigMbulkCountString);
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        let count = match parse_i64(&buf[1..cr]) {
            Some(n) if n <= i64::from(i32::MAX) => n,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if count > 10 && limits.unauthenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        let mut pos = cr + 2;
        if count <= 0 {
            return Ok(Some(pos));
        }
        for _ in 0..count {
            let rest = &buf[pos..];
            let Some(cr) = find_cr(rest) else {
                if rest.len() > INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigBulkCountString);
                }
                return Ok(None);
            };
            if cr + 2 > rest.len() {
                return Ok(None);
            }
            if rest[0] != b'$' {
                return Err(ProtocolError::ExpectedDollar(rest[0]));
            }
            let len = match parse_i64(&rest[1..cr]) {
                Some(n)
                    if n >= 0 && (limits.from_master || n as u64 <= limits.proto_max_bulk_len) =>
                {
                    n as u64
                }
                _ => return Err(ProtocolError::InvalidBulkLength),
            };
            if len > 16384 && limits.unauthenticated {
                return Err(ProtocolError::UnauthenticatedBulkLength);
            }
            let start = pos + cr + 2;
            // Redis skips the two bytes after the payload without looking at them.
            let Some(end) = usize::try_from(len).ok().and_then(|l| start.checked_add(l)) else {
                return Err(ProtocolError::InvalidBulkLength);
            };
            if end.saturating_add(2) > buf.len() {
                return Ok(None);
            }
            self.spans.push(Span {
                start,
                end,
                scratch: false,
            });
            pos = end + 2;
        }
        Ok(Some(pos))
    }

    fn parse_inline(
        &mut self,
        buf: &[u8],
        limits: &RequestLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(None);
        };
        let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let line = &buf[..line_end];
        split_args(line, &mut self.scratch, &mut self.spans)?;
        if !self.spans.is_empty() && limits.from_master {
            return Err(ProtocolError::MasterInline);
        }
        Ok(Some(nl + 1))
    }
}

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

/// Splits a line like Redis's `sdssplitargs`: whitespace separates arguments;
/// `"..."` supports `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<c>`; `'...'` supports
/// `\'`; a closing quote must be followed by whitespace or the end of the line.
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
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
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
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Option<(Vec<Vec<u8>>, usize)>, ProtocolError> {
        let mut p = RequestParser::new();
        let lim = RequestLimits::default();
        Ok(p.parse(input, &lim)?
            .map(|r| (r.args().map(|a| a.to_vec()).collect(), r.consumed())))
    }

    #[test]
    fn multibulk_exact_consumption() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n";
        let (args, used) = parse_all(input).unwrap().unwrap();
        assert_eq!(args, vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(used, 20);
        let (args, used) = parse_all(&input[20..]).unwrap().unwrap();
        assert_eq!(args, vec![b"PING".to_vec()]);
        assert_eq!(used, 14);
    }

    #[test]
    fn incomplete_at_every_split() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for cut in 0..input.len() {
            assert_eq!(parse_all(&input[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(parse_all(input).unwrap().is_some());
    }

    #[test]
    fn inline_commands() {
        let (args, used) = parse_all(b"ECHO \"a b\"\r\n").unwrap().unwrap();
        assert_eq!(args, vec![b"ECHO".to_vec(), b"a b".to_vec()]);
        assert_eq!(used, 12);
        let (args, _) = parse_all(b"set k \"\\x41\\n\" 'it\\'s'\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            args,
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"A\n".to_vec(),
                b"it's".to_vec()
            ]
        );
        let (args, used) = parse_all(b"\r\n").unwrap().unwrap();
        assert!(args.is_empty());
        assert_eq!(used, 2);
        assert_eq!(
            parse_all(b"ECHO \"abc\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_all(b"ECHO \"a\"b\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
    }

    #[test]
    fn errors_match_redis_texts() {
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().reply_text(),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\nfoo\r\n").unwrap_err().reply_text(),
            "ERR Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n").unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
        assert_eq!(
            parse_all(b"*1\r\n$2000000000\r\n").unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
        assert_eq!(
            parse_all(b"*3000000000\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
        let big = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(
            parse_all(&big).unwrap_err().reply_text(),
            "ERR Protocol error: too big inline request"
        );
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        let (args, used) = parse_all(b"*0\r\n").unwrap().unwrap();
        assert!(args.is_empty());
        assert_eq!(used, 4);
        let (args, used) = parse_all(b"*-1\r\n").unwrap().unwrap();
        assert!(args.is_empty());
        assert_eq!(used, 5);
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::new();
        let lim = RequestLimits {
            unauthenticated: true,
            ..Default::default()
        };
        assert_eq!(
            p.parse(b"*11\r\n", &lim).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        assert_eq!(
            p.parse(b"*1\r\n$16385\r\n", &lim).unwrap_err(),
            ProtocolError::UnauthenticatedBulkLength
        );
    }

    #[test]
    fn needed_hint() {
        assert_eq!(
            RequestParser::bytes_needed_hint(b"*2\r\n$3\r\nSET\r\n$100\r\nab"),
            Some(100)
        );
    }
}
