//! Request parser tests. Expected replies and error texts were checked against
//! redis-server 7.0.15 with raw bytes.

use super::*;

type Parsed = Result<Option<(Vec<Vec<u8>>, usize)>, ProtocolError>;

fn parse_with(input: &[u8], lim: &RequestLimits) -> Parsed {
    let mut p = RequestParser::new();
    Ok(p.parse(input, lim)?
        .map(|r| (r.args().map(|a| a.to_vec()).collect(), r.consumed())))
}

fn parse_all(input: &[u8]) -> Parsed {
    parse_with(input, &RequestLimits::default())
}

fn args(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn err_reply(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    parse_all(input).unwrap_err().write_reply(&mut out);
    out
}

/// Every request in `input`, fed whole, then the final state.
fn run_stream(
    p: &mut RequestParser,
    buf: &[u8],
    lim: &RequestLimits,
) -> (Vec<Vec<Vec<u8>>>, usize, Result<(), ProtocolError>) {
    let mut reqs = Vec::new();
    let mut at = 0;
    loop {
        match p.parse(&buf[at..], lim) {
            Ok(Some(r)) => {
                reqs.push(r.args().map(<[u8]>::to_vec).collect());
                at += r.consumed();
            }
            Ok(None) => return (reqs, at, Ok(())),
            Err(e) => return (reqs, at, Err(e)),
        }
    }
}

/// The same, with the bytes arriving one at a time.
fn run_bytewise(
    p: &mut RequestParser,
    input: &[u8],
    lim: &RequestLimits,
) -> (Vec<Vec<Vec<u8>>>, usize, Result<(), ProtocolError>) {
    let mut reqs = Vec::new();
    let mut at = 0;
    for end in 1..=input.len() {
        loop {
            match p.parse(&input[at..end], lim) {
                Ok(Some(r)) => {
                    reqs.push(r.args().map(<[u8]>::to_vec).collect());
                    at += r.consumed();
                }
                Ok(None) => break,
                Err(e) => return (reqs, at, Err(e)),
            }
        }
    }
    (reqs, at, Ok(()))
}

#[test]
fn multibulk_exact_consumption() {
    let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n";
    let (a, used) = parse_all(input).unwrap().unwrap();
    assert_eq!(a, args(&["GET", "k"]));
    assert_eq!(used, 20);
    let (a, used) = parse_all(&input[20..]).unwrap().unwrap();
    assert_eq!(a, args(&["PING"]));
    assert_eq!(used, 14);
}

#[test]
fn multibulk_arguments_borrow_the_buffer() {
    let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    let mut p = RequestParser::new();
    let r = p.parse(input, &RequestLimits::default()).unwrap().unwrap();
    let range = input.as_ptr_range();
    for a in r.args() {
        assert!(range.contains(&a.as_ptr()));
    }
    assert!(!r.is_inline());
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
fn pieces_give_the_same_result_as_whole() {
    let lim = RequestLimits::default();
    let inputs: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*0\r\n\r\nECHO 'a b' \"c\\x41\"\n*-1\r\n*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\nfoo\r\n",
        b"*1\rx$4\r\nPINGxx*1\r\n$4\r\nPI",
        b"ECHO \"unbalanced\r\n",
        b"*1\r\n$4\x00\r\nPING\r\n",
    ];
    for input in inputs {
        let whole = run_stream(&mut RequestParser::new(), input, &lim);
        let bytewise = run_bytewise(&mut RequestParser::new(), input, &lim);
        assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn redis_skips_the_bytes_after_a_line_end_and_a_payload() {
    // Checked on 7.0.15: both PINGs are answered.
    let input = b"*1\rx$4\r\nPINGxx*1\r\n$4\r\nPING\r\n";
    let (reqs, used, end) = run_stream(&mut RequestParser::new(), input, &RequestLimits::default());
    assert_eq!(reqs, vec![args(&["PING"]), args(&["PING"])]);
    assert_eq!(used, input.len());
    assert_eq!(end, Ok(()));
}

#[test]
fn inline_commands() {
    let (a, used) = parse_all(b"ECHO \"a b\"\r\n").unwrap().unwrap();
    assert_eq!(a, args(&["ECHO", "a b"]));
    assert_eq!(used, 12);
    let (a, _) = parse_all(b"set k \"\\x41\\n\" 'it\\'s'\n")
        .unwrap()
        .unwrap();
    assert_eq!(
        a,
        vec![
            b"set".to_vec(),
            b"k".to_vec(),
            b"A\n".to_vec(),
            b"it's".to_vec()
        ]
    );
    let (a, used) = parse_all(b"\r\n").unwrap().unwrap();
    assert!(a.is_empty());
    assert_eq!(used, 2);
    let (a, used) = parse_all(b"\n").unwrap().unwrap();
    assert!(a.is_empty());
    assert_eq!(used, 1);
    assert_eq!(
        parse_all(b"ECHO \"abc\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    assert_eq!(
        parse_all(b"ECHO \"a\"b\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    assert_eq!(
        parse_all(b"ECHO 'a'b\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    assert_eq!(
        parse_all(b"ECHO 'abc\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
}

#[test]
fn inline_quoting_matches_sdssplitargs() {
    // Each answer below is what redis-server 7.0.15 replied to ECHO with these bytes.
    let cases: &[(&[u8], &[&[u8]])] = &[
        // An invalid \x escape is a plain backslash escape of 'x'.
        (b"ECHO \"a\\x4g\"\r\n", &[b"ECHO", b"ax4g"]),
        // \v and \f are blanks between words but not inside one.
        (b"ECHO a\x0bb\r\n", &[b"ECHO", b"a\x0bb"]),
        (b"\x0b\x0cECHO \"x\"\x0b\r\n", &[b"ECHO", b"x"]),
        // Single quotes keep backslashes, except before a quote.
        (b"ECHO 'a\\b'\r\n", &[b"ECHO", b"a\\b"]),
        // A quote may open in the middle of a word.
        (b"ECHO a\"b c\"\r\n", &[b"ECHO", b"ab c"]),
        (b"ECHO \"\"\r\n", &[b"ECHO", b""]),
        (b"ECHO \xff\x80\r\n", &[b"ECHO", b"\xff\x80"]),
        // Only the CR right before LF is dropped; other CRs separate words.
        (b"ECHO a\r\rb\r\n", &[b"ECHO", b"a", b"b"]),
        (b"\rPING\r\n", &[b"PING"]),
        (b"   \t PING   \n", &[b"PING"]),
        (
            b"ECHO \"\\a\\b\\t\\r\\n\\\\\\\"\\q\"\n",
            &[b"ECHO", b"\x07\x08\t\r\n\\\"q"],
        ),
        (b"ECHO \"\\xfF\\x00\"\n", &[b"ECHO", b"\xff\x00"]),
    ];
    for (input, want) in cases {
        let (got, used) = parse_all(input).unwrap().unwrap();
        let want: Vec<Vec<u8>> = want.iter().map(|a| a.to_vec()).collect();
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(used, input.len());
    }
    // A closing quote needs a blank after it; a word ending in `a"b c"d` does not.
    assert_eq!(
        parse_all(b"ECHO a\"b c\"d\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    // A backslash ending the line inside quotes leaves them open.
    assert_eq!(
        parse_all(b"ECHO \"x\\\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
    assert_eq!(
        parse_all(b"set \"\"\"test-key\"\"\" v\r\n"),
        Err(ProtocolError::UnbalancedQuotes)
    );
}

#[test]
fn errors_match_redis_texts() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*x\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*01\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*+1\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*3000000000\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2147483648\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            b"-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"*1\r\n\xff\r\n",
            b"-ERR Protocol error: expected '$', got '\xff'\r\n",
        ),
        (
            b"*1\r\n\r\n\r\n",
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"*1\r\n\n\r\n",
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"*1\r\n$\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$+1\r\na\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$2000000000\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$blabla\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$99999999999999999999\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"ECHO \"x\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            String::from_utf8_lossy(&err_reply(input)),
            String::from_utf8_lossy(want),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(
        parse_all(b"*x\r\n").unwrap_err().reply_text(),
        "ERR Protocol error: invalid multibulk length"
    );
}

#[test]
fn empty_multibulk_is_skipped() {
    for input in [&b"*0\r\n"[..], b"*-1\r\n", b"*-5\r\n", b"*-2147483649\r\n"] {
        let (a, used) = parse_all(input).unwrap().unwrap();
        assert!(a.is_empty());
        assert_eq!(used, input.len());
    }
    // As Redis: the PING after `*0` and `*-5` is answered.
    let (reqs, used, end) = run_stream(
        &mut RequestParser::new(),
        b"*0\r\n*-5\r\nPING\r\n",
        &RequestLimits::default(),
    );
    assert_eq!(reqs, vec![vec![], vec![], args(&["PING"])]);
    assert_eq!((used, end), (15, Ok(())));
}

#[test]
fn huge_count_waits_without_allocating() {
    let mut p = RequestParser::new();
    let lim = RequestLimits::default();
    assert!(p
        .parse(b"*2147483647\r\n$1\r\na\r\n", &lim)
        .unwrap()
        .is_none());
    assert!(p.spans.capacity() < 16);
    assert!(p.is_pending());
}

#[test]
fn nul_ends_the_search_for_a_line_end() {
    // strchr stops at NUL: Redis 7.0.15 never answers these, until the line is too long.
    for input in [
        &b"*1\r\n$4\x00\r\nPING\r\n"[..],
        b"PING\x00\r\nPING\r\n",
        b"*1\x00\r\n$4\r\nPING\r\n",
    ] {
        assert_eq!(parse_all(input), Ok(None));
    }
    let mut long = b"PING\x00".to_vec();
    long.resize(INLINE_MAX_SIZE + 1, b'a');
    long.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&long), Err(ProtocolError::TooBigInlineRequest));
    let mut long = b"*1\r\n$4\x00".to_vec();
    long.resize(INLINE_MAX_SIZE + 5, b'a');
    assert_eq!(parse_all(&long), Err(ProtocolError::TooBigBulkCountString));
    let mut long = b"*1\x00".to_vec();
    long.resize(INLINE_MAX_SIZE + 1, b'a');
    assert_eq!(parse_all(&long), Err(ProtocolError::TooBigMbulkCountString));
    // The bytes of a payload are never searched: NUL is fine there.
    let (a, _) = parse_all(b"*1\r\n$3\r\na\x00b\r\n").unwrap().unwrap();
    assert_eq!(a, vec![b"a\x00b".to_vec()]);
}

#[test]
fn line_length_limit_does_not_depend_on_arrival() {
    let lim = RequestLimits::default();
    // The terminator may sit at most 64 KB after the line's start.
    let mut ok = b"ECHO ".to_vec();
    ok.resize(INLINE_MAX_SIZE, b'a');
    ok.push(b'\n');
    let mut bad = b"ECHO ".to_vec();
    bad.resize(INLINE_MAX_SIZE + 1, b'a');
    bad.push(b'\n');
    assert_eq!(parse_all(&ok).unwrap().unwrap().1, ok.len());
    assert_eq!(parse_all(&bad), Err(ProtocolError::TooBigInlineRequest));
    assert_eq!(
        parse_all(&bad[..INLINE_MAX_SIZE + 1]),
        Err(ProtocolError::TooBigInlineRequest)
    );
    assert_eq!(parse_all(&bad[..INLINE_MAX_SIZE]), Ok(None));

    let mut bad = b"*".to_vec();
    bad.resize(INLINE_MAX_SIZE + 1, b'1');
    bad.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&bad), Err(ProtocolError::TooBigMbulkCountString));
    let mut bad = b"*1\r\n$".to_vec();
    bad.resize(4 + INLINE_MAX_SIZE + 1, b'1');
    bad.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&bad), Err(ProtocolError::TooBigBulkCountString));
    // A shorter, merely wrong line gets the ordinary error.
    let mut wrong = b"*1\r\n$".to_vec();
    wrong.resize(4 + INLINE_MAX_SIZE, b'1');
    wrong.extend_from_slice(b"\r\n");
    assert_eq!(parse_all(&wrong), Err(ProtocolError::InvalidBulkLength));

    for input in [&ok[..], &bad[..]] {
        let whole = run_stream(&mut RequestParser::new(), input, &lim);
        let bytewise = run_bytewise(&mut RequestParser::new(), input, &lim);
        assert_eq!(whole, bytewise);
    }
}

#[test]
fn unauthenticated_limits() {
    let lim = RequestLimits {
        unauthenticated: true,
        ..Default::default()
    };
    assert_eq!(
        parse_with(b"*11\r\n", &lim),
        Err(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(parse_with(b"*10\r\n", &lim), Ok(None));
    assert_eq!(
        parse_with(b"*1\r\n$16385\r\n", &lim),
        Err(ProtocolError::UnauthenticatedBulkLength)
    );
    assert_eq!(parse_with(b"*1\r\n$16384\r\n", &lim), Ok(None));
    // The invalid-length checks come first, as in Redis.
    assert_eq!(
        parse_with(b"*x\r\n", &lim),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        parse_with(b"*1\r\n$-2\r\n", &lim),
        Err(ProtocolError::InvalidBulkLength)
    );
    let mut out = Vec::new();
    ProtocolError::UnauthenticatedBulkLength.write_reply(&mut out);
    assert_eq!(out, b"-ERR Protocol error: unauthenticated bulk length\r\n");
}

#[test]
fn proto_max_bulk_len() {
    let lim = RequestLimits {
        proto_max_bulk_len: 5,
        ..Default::default()
    };
    assert_eq!(
        parse_with(b"*1\r\n$5\r\nhello\r\n", &lim)
            .unwrap()
            .unwrap()
            .1,
        15
    );
    assert_eq!(
        parse_with(b"*1\r\n$6\r\n", &lim),
        Err(ProtocolError::InvalidBulkLength)
    );
    let master = RequestLimits {
        from_master: true,
        ..lim
    };
    assert_eq!(
        parse_with(b"*1\r\n$6\r\nhello!\r\n", &master)
            .unwrap()
            .unwrap()
            .1,
        16
    );
}

#[test]
fn master_may_only_send_empty_inline_lines() {
    let lim = RequestLimits {
        from_master: true,
        ..Default::default()
    };
    assert_eq!(parse_with(b"\n", &lim).unwrap().unwrap().1, 1);
    assert_eq!(parse_with(b"\r\n", &lim).unwrap().unwrap().1, 2);
    // Redis looks at the line's length, not at its words.
    assert_eq!(parse_with(b" \r\n", &lim), Err(ProtocolError::MasterInline));
    assert_eq!(
        parse_with(b"PING\r\n", &lim),
        Err(ProtocolError::MasterInline)
    );
    // Unbalanced quotes are reported first.
    assert_eq!(
        parse_with(b"\"a\r\n", &lim),
        Err(ProtocolError::UnbalancedQuotes)
    );
}

#[test]
fn needed_hint() {
    let lim = RequestLimits::default();
    let mut p = RequestParser::new();
    let input = b"*2\r\n$3\r\nSET\r\n$100\r\nab";
    assert!(p.parse(input, &lim).unwrap().is_none());
    // 98 more payload bytes and the CRLF.
    assert_eq!(p.bytes_needed_hint(), Some(100));
    // Right after the header: the whole payload.
    assert!(p.parse(&input[..input.len() - 2], &lim).is_ok());
    let mut p = RequestParser::new();
    assert!(p.parse(&input[..input.len() - 2], &lim).unwrap().is_none());
    assert_eq!(p.bytes_needed_hint(), Some(102));
    // Inside a header, nothing is known.
    let mut p = RequestParser::new();
    assert!(p.parse(b"*2\r\n$3\r\nSET\r\n$10", &lim).unwrap().is_none());
    assert_eq!(p.bytes_needed_hint(), None);
    // Payload complete but for its CRLF.
    let mut p = RequestParser::new();
    assert!(p.parse(b"*1\r\n$1\r\na\r", &lim).unwrap().is_none());
    assert_eq!(p.bytes_needed_hint(), Some(1));
    // After a complete request there is no hint.
    let mut p = RequestParser::new();
    assert!(p.parse(b"*1\r\n$1\r\na\r\n", &lim).unwrap().is_some());
    assert_eq!(p.bytes_needed_hint(), None);
}

#[test]
fn pieces_are_not_parsed_twice() {
    let lim = RequestLimits::default();
    // 2000 arguments and a 100 KB bulk, one byte at a time.
    let mut input = Vec::new();
    let mut argv: Vec<Vec<u8>> = (0..2000).map(|i| format!("arg{i}").into_bytes()).collect();
    argv.push(vec![b'x'; 100_000]);
    crate::encode::command(&mut input, &argv);
    let mut p = RequestParser::new();
    let mut done = None;
    for end in 1..=input.len() {
        if let Some(r) = p.parse(&input[..end], &lim).unwrap() {
            done = Some((r.len(), r.consumed(), end));
        }
    }
    assert_eq!(done, Some((2001, input.len(), input.len())));
    // A constant amount of work per byte, not a rescan of what came before.
    assert!(
        p.work < 3 * input.len(),
        "work {} for {} bytes",
        p.work,
        input.len()
    );

    // Same for an inline line.
    let mut line = b"ECHO ".to_vec();
    line.resize(60_000, b'a');
    line.push(b'\n');
    let mut p = RequestParser::new();
    for end in 1..=line.len() {
        let _ = p.parse(&line[..end], &lim).unwrap();
    }
    assert!(p.work < 3 * line.len());
}

#[test]
fn no_allocation_once_warm() {
    let lim = RequestLimits::default();
    let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nSET k \"v\\x41\"\r\n";
    let mut p = RequestParser::new();
    let _ = run_stream(&mut p, input, &lim);
    let caps = (p.spans.capacity(), p.scratch.capacity());
    for _ in 0..100 {
        let _ = run_stream(&mut p, input, &lim);
        let _ = run_bytewise(&mut p, input, &lim);
    }
    assert_eq!(caps, (p.spans.capacity(), p.scratch.capacity()));
}

#[test]
fn a_buffer_that_breaks_the_contract_starts_over() {
    let lim = RequestLimits::default();
    let mut p = RequestParser::new();
    assert!(p
        .parse(b"*2\r\n$3\r\nGET\r\n$1\r\n", &lim)
        .unwrap()
        .is_none());
    // Shorter and different: parsed from scratch, not from the old state.
    let r = p.parse(b"PING\r\n", &lim).unwrap().unwrap();
    assert_eq!(r.args().collect::<Vec<_>>(), vec![&b"PING"[..]]);
    assert!(p
        .parse(b"*2\r\n$3\r\nGET\r\n$1\r\n", &lim)
        .unwrap()
        .is_none());
    p.reset();
    assert!(!p.is_pending());
    let r = p.parse(b"*1\r\n$4\r\nPING\r\n", &lim).unwrap().unwrap();
    assert_eq!(r.len(), 1);
}

#[test]
fn errors_reset_the_parser() {
    let lim = RequestLimits::default();
    let mut p = RequestParser::new();
    assert!(p.parse(b"*1\r\n$x\r\n", &lim).is_err());
    assert!(!p.is_pending());
    assert_eq!(p.parse(b"PING\r\n", &lim).unwrap().unwrap().len(), 1);
}
