//! Decoding any RESP2/RESP3 value, zero-copy over [`Bytes`], and writing it back.
//!
//! Used by the client side of the protocol: a replica reading its master's replies, the
//! embedding API turning a reply into a value, and tests.
//!
//! [`Frame::decode`] is strict where a server's output is unambiguous (CRLF after every
//! line and payload, integers as `string2ll` reads them, big numbers as optional `-` and
//! digits, booleans `t`/`f`) and lenient where RESP3 implementations differ (doubles
//! accept whatever Rust's `f64` parser does, including `inf`, `-inf` and `nan`). It never
//! panics, and a declared length or count is only compared with the bytes present, never
//! allocated: a frame that claims 2^62 elements costs nothing until they arrive. Nesting
//! deeper than 64 levels is refused. Attributes (`|`) are read and dropped: the frame they
//! annotate is returned, and the bytes they used count in the consumed length. The RESP3
//! streamed forms (`$?`, `*?`, `;`, `.`) are not supported; Redis never sends them.

use bytes::Bytes;

/// One RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Bytes),
    /// `-CODE message`
    Error(Bytes),
    /// `:n`
    Integer(i64),
    /// `$n` payload
    Bulk(Bytes),
    /// `$-1`, `*-1` or `_`
    Null,
    /// `*n` elements
    Array(Vec<Frame>),
    /// `,x`
    Double(f64),
    /// `#t` / `#f`
    Boolean(bool),
    /// `=n` verbatim text, without its `txt:`/`mkd:` format prefix
    Verbatim(Bytes),
    /// `(n` big number, as its decimal text (`-` and digits)
    BigNumber(Bytes),
    /// `%n` pairs
    Map(Vec<(Frame, Frame)>),
    /// `~n` elements
    Set(Vec<Frame>),
    /// `>n` out-of-band push
    Push(Vec<Frame>),
}

/// Why a frame could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not RESP; `pos` is the offset of the offending byte.
    Invalid {
        /// Offset into the input.
        pos: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Incomplete => f.write_str("incomplete frame"),
            FrameError::Invalid { pos, reason } => {
                write!(f, "invalid RESP at byte {pos}: {reason}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

impl Frame {
    /// Decodes one frame from the start of `buf`, returning it and the bytes it used.
    /// Bulk payloads are slices of `buf` (no copy). Declared lengths larger than what
    /// could still arrive are only ever compared, never allocated.
    pub fn decode(buf: &Bytes) -> Result<(Frame, usize), FrameError> {
        let mut pos = 0;
        let f = decode_at(buf, &mut pos, 0)?;
        Ok((f, pos))
    }
}

fn line(buf: &[u8], pos: usize) -> Result<(usize, usize), FrameError> {
    // returns (end of line content, next pos)
    let rest = buf.get(pos..).ok_or(FrameError::Incomplete)?;
    match rest.iter().position(|&b| b == b'\r') {
        Some(i) if pos + i + 1 < buf.len() => {
            if buf[pos + i + 1] != b'\n' {
                return Err(FrameError::Invalid {
                    pos: pos + i + 1,
                    reason: "expected LF after CR",
                });
            }
            Ok((pos + i, pos + i + 2))
        }
        _ => Err(FrameError::Incomplete),
    }
}

fn int_line(buf: &[u8], pos: &mut usize) -> Result<i64, FrameError> {
    let start = *pos;
    let (end, next) = line(buf, start)?;
    let v = crate::parse_i64(&buf[start..end]).ok_or(FrameError::Invalid {
        pos: start,
        reason: "bad integer",
    })?;
    *pos = next;
    Ok(v)
}

fn count(buf: &[u8], pos: &mut usize) -> Result<Option<usize>, FrameError> {
    let start = *pos;
    let n = int_line(buf, pos)?;
    if n == -1 {
        return Ok(None);
    }
    let n = usize::try_from(n).map_err(|_| FrameError::Invalid {
        pos: start,
        reason: "negative length",
    })?;
    Ok(Some(n))
}

fn blob(buf: &Bytes, pos: &mut usize, n: usize) -> Result<Bytes, FrameError> {
    // A length past the end of any possible buffer is merely incomplete, like any other.
    let end = match pos.checked_add(n) {
        Some(end) if end.checked_add(2).is_some_and(|e| e <= buf.len()) => end,
        _ => return Err(FrameError::Incomplete),
    };
    if &buf[end..end + 2] != b"\r\n" {
        return Err(FrameError::Invalid {
            pos: end,
            reason: "expected CRLF after payload",
        });
    }
    let b = buf.slice(*pos..end);
    *pos = end + 2;
    Ok(b)
}

fn elements(
    buf: &Bytes,
    pos: &mut usize,
    n: usize,
    depth: usize,
) -> Result<Vec<Frame>, FrameError> {
    // Each element needs at least 3 bytes: never reserve more than the input can hold.
    let mut v = Vec::with_capacity(n.min((buf.len() - *pos) / 3 + 1));
    for _ in 0..n {
        v.push(decode_at(buf, pos, depth + 1)?);
    }
    Ok(v)
}

fn decode_at(buf: &Bytes, pos: &mut usize, depth: usize) -> Result<Frame, FrameError> {
    if depth > MAX_DEPTH {
        return Err(FrameError::Invalid {
            pos: *pos,
            reason: "nesting too deep",
        });
    }
    let tag_pos = *pos;
    let tag = *buf.get(tag_pos).ok_or(FrameError::Incomplete)?;
    *pos += 1;
    let simple_line = |pos: &mut usize| -> Result<Bytes, FrameError> {
        let start = *pos;
        let (end, next) = line(buf, start)?;
        *pos = next;
        Ok(buf.slice(start..end))
    };
    Ok(match tag {
        b'+' => Frame::Simple(simple_line(pos)?),
        b'-' => Frame::Error(simple_line(pos)?),
        b':' => Frame::Integer(int_line(buf, pos)?),
        b'(' => {
            let l = simple_line(pos)?;
            let digits = l.strip_prefix(b"-").unwrap_or(&l);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(FrameError::Invalid {
                    pos: tag_pos + 1,
                    reason: "bad big number",
                });
            }
            Frame::BigNumber(l)
        }
        b'_' => {
            let (end, next) = line(buf, *pos)?;
            if end != *pos {
                return Err(FrameError::Invalid {
                    pos: *pos,
                    reason: "null with payload",
                });
            }
            *pos = next;
            Frame::Null
        }
        b'#' => {
            let l = simple_line(pos)?;
            match &l[..] {
                b"t" => Frame::Boolean(true),
                b"f" => Frame::Boolean(false),
                _ => {
                    return Err(FrameError::Invalid {
                        pos: tag_pos + 1,
                        reason: "bad boolean",
                    })
                }
            }
        }
        b',' => {
            let l = simple_line(pos)?;
            let text = std::str::from_utf8(&l).map_err(|_| FrameError::Invalid {
                pos: tag_pos + 1,
                reason: "bad double",
            })?;
            let v = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().map_err(|_| FrameError::Invalid {
                    pos: tag_pos + 1,
                    reason: "bad double",
                })?,
            };
            Frame::Double(v)
        }
        b'$' => match count(buf, pos)? {
            None => Frame::Null,
            Some(n) => Frame::Bulk(blob(buf, pos, n)?),
        },
        b'!' => match count(buf, pos)? {
            None => Frame::Null,
            Some(n) => Frame::Error(blob(buf, pos, n)?),
        },
        b'=' => match count(buf, pos)? {
            None => Frame::Null,
            Some(n) => {
                let b = blob(buf, pos, n)?;
                if b.len() < 4 || b[3] != b':' {
                    return Err(FrameError::Invalid {
                        pos: tag_pos,
                        reason: "verbatim without format",
                    });
                }
                Frame::Verbatim(b.slice(4..))
            }
        },
        b'*' => match count(buf, pos)? {
            None => Frame::Null,
            Some(n) => Frame::Array(elements(buf, pos, n, depth)?),
        },
        b'~' => {
            let n = count(buf, pos)?.unwrap_or(0);
            Frame::Set(elements(buf, pos, n, depth)?)
        }
        b'>' => {
            let n = count(buf, pos)?.unwrap_or(0);
            Frame::Push(elements(buf, pos, n, depth)?)
        }
        b'%' => {
            let n = count(buf, pos)?.unwrap_or(0);
            let mut v = Vec::with_capacity(n.min((buf.len() - *pos) / 6 + 1));
            for _ in 0..n {
                let k = decode_at(buf, pos, depth + 1)?;
                let val = decode_at(buf, pos, depth + 1)?;
                v.push((k, val));
            }
            Frame::Map(v)
        }
        b'|' => {
            // Attribute: decode and drop it, then return the value it annotates.
            let n = count(buf, pos)?.unwrap_or(0);
            for _ in 0..n {
                decode_at(buf, pos, depth + 1)?;
                decode_at(buf, pos, depth + 1)?;
            }
            decode_at(buf, pos, depth + 1)?
        }
        _ => {
            return Err(FrameError::Invalid {
                pos: tag_pos,
                reason: "unknown type byte",
            })
        }
    })
}

impl Frame {
    /// Appends this frame in RESP3, the form [`Frame::decode`] reads back to an equal
    /// frame: `_` for null, `=` with `txt:` for verbatim text, `!` for an error holding CR
    /// or LF, a shortest round-trip form for doubles. A `Simple` holding CR (which no
    /// decoded frame does) would not read back.
    pub fn encode(&self, out: &mut Vec<u8>) {
        use crate::encode::{header, push_int};
        match self {
            Frame::Simple(s) => {
                out.push(b'+');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Error(s) if s.iter().any(|&b| b == b'\r' || b == b'\n') => {
                header(out, b'!', s.len());
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Error(s) => {
                out.push(b'-');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Integer(v) => {
                out.push(b':');
                push_int(out, *v);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Bulk(b) => crate::encode::bulk(out, b),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Double(v) => {
                out.push(b',');
                if v.is_nan() {
                    out.extend_from_slice(b"nan");
                } else if v.is_infinite() {
                    out.extend_from_slice(if *v > 0.0 { b"inf" } else { b"-inf" });
                } else {
                    // `{:?}` is the shortest text that parses back to the same value.
                    use std::io::Write;
                    let _ = write!(out, "{v:?}");
                }
                out.extend_from_slice(b"\r\n");
            }
            Frame::Boolean(v) => out.extend_from_slice(if *v { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::Verbatim(t) => crate::encode::verbatim(out, t, crate::Proto::Resp3),
            Frame::BigNumber(n) => {
                out.push(b'(');
                out.extend_from_slice(n);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
                let tag = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                header(out, tag, v.len());
                for f in v {
                    f.encode(out);
                }
            }
            Frame::Map(pairs) => {
                header(out, b'%', pairs.len());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
