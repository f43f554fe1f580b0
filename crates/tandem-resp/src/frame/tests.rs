//! Frame decoding tests: every type, nesting, attributes, and hostile input.

use super::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn dec(input: &[u8]) -> Result<(Frame, usize), FrameError> {
    Frame::decode(&Bytes::copy_from_slice(input))
}

fn ok(input: &[u8]) -> Frame {
    let (f, n) = dec(input).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(input)));
    assert_eq!(n, input.len(), "{:?}", String::from_utf8_lossy(input));
    // Every shorter prefix is merely incomplete.
    for cut in 0..input.len() {
        assert_eq!(
            dec(&input[..cut]),
            Err(FrameError::Incomplete),
            "{:?} cut at {cut}",
            String::from_utf8_lossy(input)
        );
    }
    // Trailing bytes are left alone.
    let mut more = input.to_vec();
    more.extend_from_slice(b"+next\r\n");
    assert_eq!(dec(&more).unwrap().1, input.len());
    f
}

fn invalid(input: &[u8]) -> (usize, &'static str) {
    match dec(input) {
        Err(FrameError::Invalid { pos, reason }) => (pos, reason),
        other => panic!(
            "{:?}: expected invalid, got {other:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

#[test]
fn every_type() {
    let cases: Vec<(&[u8], Frame)> = vec![
        (b"+OK\r\n", Frame::Simple(b("OK"))),
        (b"+\r\n", Frame::Simple(b(""))),
        (b"+a\nb\r\n", Frame::Simple(b("a\nb"))),
        (b"-ERR no\r\n", Frame::Error(b("ERR no"))),
        (b":0\r\n", Frame::Integer(0)),
        (b":-9223372036854775808\r\n", Frame::Integer(i64::MIN)),
        (b"$3\r\nfoo\r\n", Frame::Bulk(b("foo"))),
        (b"$0\r\n\r\n", Frame::Bulk(b(""))),
        (b"$4\r\na\r\nb\r\n", Frame::Bulk(b("a\r\nb"))),
        (b"$-1\r\n", Frame::Null),
        (b"*-1\r\n", Frame::Null),
        (b"_\r\n", Frame::Null),
        (b"*0\r\n", Frame::Array(vec![])),
        (b",1.5\r\n", Frame::Double(1.5)),
        (b",-0.25\r\n", Frame::Double(-0.25)),
        (b",1e+17\r\n", Frame::Double(1e17)),
        (b",10\r\n", Frame::Double(10.0)),
        (b",inf\r\n", Frame::Double(f64::INFINITY)),
        (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
        (b"#t\r\n", Frame::Boolean(true)),
        (b"#f\r\n", Frame::Boolean(false)),
        (
            b"!21\r\nSYNTAX invalid syntax\r\n",
            Frame::Error(b("SYNTAX invalid syntax")),
        ),
        (
            b"=15\r\ntxt:Some string\r\n",
            Frame::Verbatim(b("Some string")),
        ),
        (b"=8\r\nmkd:# hi\r\n", Frame::Verbatim(b("# hi"))),
        (b"=4\r\ntxt:\r\n", Frame::Verbatim(b(""))),
        (
            b"(3492890328409238509324850943850943825024385\r\n",
            Frame::BigNumber(b("3492890328409238509324850943850943825024385")),
        ),
        (b"(-12\r\n", Frame::BigNumber(b("-12"))),
        (b"%0\r\n", Frame::Map(vec![])),
        (b"~0\r\n", Frame::Set(vec![])),
        (b">0\r\n", Frame::Push(vec![])),
        (
            b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n",
            Frame::Map(vec![
                (Frame::Simple(b("first")), Frame::Integer(1)),
                (Frame::Bulk(b("second")), Frame::Boolean(false)),
            ]),
        ),
        (
            b"~3\r\n+orange\r\n+apple\r\n#t\r\n",
            Frame::Set(vec![
                Frame::Simple(b("orange")),
                Frame::Simple(b("apple")),
                Frame::Boolean(true),
            ]),
        ),
        (
            b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
            Frame::Push(vec![
                Frame::Bulk(b("subscribe")),
                Frame::Bulk(b("ch")),
                Frame::Integer(1),
            ]),
        ),
    ];
    for (input, want) in cases {
        let got = ok(input);
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
        // And back: encode then decode gives the same frame.
        let mut out = Vec::new();
        got.encode(&mut out);
        assert_eq!(Frame::decode(&Bytes::from(out)).unwrap().0, want);
    }
    assert!(matches!(ok(b",nan\r\n"), Frame::Double(v) if v.is_nan()));
}

#[test]
fn nested_aggregates() {
    let input = b"*3\r\n$3\r\nfoo\r\n:-7\r\n%1\r\n+a\r\n*2\r\n~1\r\n_\r\n>1\r\n%0\r\n";
    assert_eq!(
        ok(input),
        Frame::Array(vec![
            Frame::Bulk(b("foo")),
            Frame::Integer(-7),
            Frame::Map(vec![(
                Frame::Simple(b("a")),
                Frame::Array(vec![
                    Frame::Set(vec![Frame::Null]),
                    Frame::Push(vec![Frame::Map(vec![])])
                ]),
            )]),
        ])
    );
    // Aggregates as map keys.
    assert_eq!(
        ok(b"%1\r\n*1\r\n:1\r\n~1\r\n:2\r\n"),
        Frame::Map(vec![(
            Frame::Array(vec![Frame::Integer(1)]),
            Frame::Set(vec![Frame::Integer(2)])
        )])
    );
    // A null inside an array (RESP2 style).
    assert_eq!(
        ok(b"*2\r\n$-1\r\n*-1\r\n"),
        Frame::Array(vec![Frame::Null, Frame::Null])
    );
}

#[test]
fn attributes_are_dropped() {
    // The example of the RESP3 specification.
    let input = b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n";
    assert_eq!(
        ok(input),
        Frame::Array(vec![Frame::Integer(2039123), Frame::Integer(9543892)])
    );
    // Inside an aggregate, before an element.
    assert_eq!(
        ok(b"*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n+two\r\n"),
        Frame::Array(vec![Frame::Integer(1), Frame::Simple(b("two"))])
    );
    // Empty attribute, and attributes on attributes.
    assert_eq!(ok(b"|0\r\n#t\r\n"), Frame::Boolean(true));
    assert_eq!(ok(b"|1\r\n|0\r\n+k\r\n+v\r\n:5\r\n"), Frame::Integer(5));
    // Incomplete until the annotated value is there.
    assert_eq!(dec(b"|1\r\n+k\r\n+v\r\n"), Err(FrameError::Incomplete));
}

#[test]
fn invalid_input_is_reported_with_its_position() {
    assert_eq!(invalid(b"?x\r\n"), (0, "unknown type byte"));
    assert_eq!(invalid(b"+OK\rX"), (4, "expected LF after CR"));
    assert_eq!(invalid(b":12a\r\n").1, "bad integer");
    assert_eq!(invalid(b":+1\r\n").1, "bad integer");
    assert_eq!(invalid(b":\r\n").1, "bad integer");
    assert_eq!(invalid(b"$-2\r\n").1, "negative length");
    assert_eq!(invalid(b"*-2\r\n").1, "negative length");
    assert_eq!(invalid(b"$3\r\nfooXY").1, "expected CRLF after payload");
    assert_eq!(invalid(b"#x\r\n").1, "bad boolean");
    assert_eq!(invalid(b"#\r\n").1, "bad boolean");
    assert_eq!(invalid(b",abc\r\n").1, "bad double");
    assert_eq!(invalid(b",\r\n").1, "bad double");
    assert_eq!(invalid(b"(12a\r\n").1, "bad big number");
    assert_eq!(invalid(b"(\r\n").1, "bad big number");
    assert_eq!(invalid(b"(-\r\n").1, "bad big number");
    assert_eq!(invalid(b"_x\r\n").1, "null with payload");
    assert_eq!(invalid(b"=3\r\ntxt\r\n").1, "verbatim without format");
    assert_eq!(invalid(b"=5\r\ntxt-a\r\n").1, "verbatim without format");
    // Errors deep inside report the position of the offending byte.
    assert_eq!(invalid(b"*2\r\n:1\r\n?\r\n"), (8, "unknown type byte"));
    // RESP3 streamed types are not supported.
    assert_eq!(invalid(b"$?\r\n;4\r\nHell\r\n;0\r\n").1, "bad integer");
    assert_eq!(invalid(b"*?\r\n:1\r\n.\r\n").1, "bad integer");
}

#[test]
fn hostile_lengths_are_never_allocated() {
    // Each of these would need exabytes if the length were believed.
    let claims: &[&[u8]] = &[
        b"$9223372036854775807\r\n",
        b"$9223372036854775807\r\nabc",
        b"!9223372036854775807\r\nabc",
        b"=9223372036854775807\r\ntxt:",
        b"*9223372036854775807\r\n",
        b"*9223372036854775807\r\n:1\r\n:2\r\n",
        b"~9223372036854775807\r\n+a\r\n",
        b">9223372036854775807\r\n+a\r\n",
        b"%9223372036854775807\r\n+a\r\n+b\r\n",
        b"|9223372036854775807\r\n+a\r\n+b\r\n",
        b"*4294967296\r\n*4294967296\r\n*4294967296\r\n",
        b"$9999999999999\r\n",
    ];
    for input in claims {
        assert_eq!(
            dec(input),
            Err(FrameError::Incomplete),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // Out of i64 range is not a length at all.
    assert_eq!(invalid(b"$9223372036854775808\r\n").1, "bad integer");
    assert_eq!(invalid(b"*99999999999999999999\r\n").1, "bad integer");
    // A big claim followed by enough small elements decodes what is there, then waits.
    let mut input = b"*1000000\r\n".to_vec();
    for _ in 0..1000 {
        input.extend_from_slice(b"_\r\n");
    }
    assert_eq!(dec(&input), Err(FrameError::Incomplete));
}

#[test]
fn deep_nesting_is_refused_not_overflowing_the_stack() {
    let mut input = Vec::new();
    for _ in 0..100_000 {
        input.extend_from_slice(b"*1\r\n");
    }
    input.extend_from_slice(b":1\r\n");
    assert_eq!(invalid(&input).1, "nesting too deep");
    // 64 levels are fine.
    let mut input = Vec::new();
    for _ in 0..64 {
        input.extend_from_slice(b"*1\r\n");
    }
    input.extend_from_slice(b":1\r\n");
    assert!(dec(&input).is_ok());
    // Attributes and map keys count as levels too.
    let mut input = Vec::new();
    for _ in 0..100 {
        input.extend_from_slice(b"|1\r\n");
    }
    assert_eq!(invalid(&input).1, "nesting too deep");
    let mut input = Vec::new();
    for _ in 0..100 {
        input.extend_from_slice(b"%1\r\n");
    }
    assert_eq!(invalid(&input).1, "nesting too deep");
}

#[test]
fn payloads_are_slices_of_the_input() {
    let input = Bytes::from_static(b"*2\r\n$3\r\nfoo\r\n+bar\r\n");
    let (f, _) = Frame::decode(&input).unwrap();
    let Frame::Array(v) = f else { panic!() };
    let range = input.as_ptr_range();
    for e in v {
        match e {
            Frame::Bulk(x) | Frame::Simple(x) => assert!(range.contains(&x.as_ptr())),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn incomplete_input() {
    for input in [
        &b""[..],
        b"+",
        b"+OK",
        b"+OK\r",
        b"$5\r\nab",
        b"$5\r\nhello\r",
        b"*2\r\n:1\r\n",
        b"%1\r\n+a\r\n",
        b":1",
    ] {
        assert_eq!(
            dec(input),
            Err(FrameError::Incomplete),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}
