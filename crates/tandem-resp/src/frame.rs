//! Decoding any RESP2/RESP3 value, zero-copy over [`Bytes`].
//!
//! Used by the client side of the protocol: a replica reading its master's replies, the
//! embedding API turning a reply into a value, and tests.

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
    /// `=n` with its three-letter format (`txt`)
    Verbatim(Bytes),
    /// `(n` big number, as text
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
    let end = pos.checked_add(n).ok_or(FrameError::Invalid {
        pos: *pos,
        reason: "length overflow",
    })?;
    if end + 2 > buf.len() {
        return Err(FrameError::Incomplete);
    }
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
        b'(' => Frame::BigNumber(simple_line(pos)?),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nested_values() {
        let b = Bytes::from_static(b"*3\r\n$3\r\nfoo\r\n:-7\r\n%1\r\n+a\r\n#t\r\n");
        let (f, n) = Frame::decode(&b).unwrap();
        assert_eq!(n, b.len());
        assert_eq!(
            f,
            Frame::Array(vec![
                Frame::Bulk(Bytes::from_static(b"foo")),
                Frame::Integer(-7),
                Frame::Map(vec![(
                    Frame::Simple(Bytes::from_static(b"a")),
                    Frame::Boolean(true)
                )]),
            ])
        );
    }

    #[test]
    fn incomplete_and_invalid() {
        let b = Bytes::from_static(b"$5\r\nab");
        assert_eq!(Frame::decode(&b), Err(FrameError::Incomplete));
        let b = Bytes::from_static(b"$9999999999999\r\n");
        assert_eq!(Frame::decode(&b), Err(FrameError::Incomplete));
        let b = Bytes::from_static(b"?x\r\n");
        assert!(matches!(
            Frame::decode(&b),
            Err(FrameError::Invalid { pos: 0, .. })
        ));
    }
}
