//! Encoder tests: every function in both protocol versions, byte for byte as Redis 7.0.15
//! sends it, and read back through [`Frame::decode`].

use bytes::Bytes;

use super::*;
use crate::Frame;

fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    f(&mut v);
    v
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

type Case = (
    &'static str,
    fn(&mut Vec<u8>, Proto),
    &'static [u8],
    &'static [u8],
    Frame,
);

/// (what, writer, RESP2 bytes, RESP3 bytes, the frame the RESP3 bytes decode to)
fn matrix() -> Vec<Case> {
    vec![
        (
            "ok",
            |o, _| ok(o),
            b"+OK\r\n",
            b"+OK\r\n",
            Frame::Simple(b("OK")),
        ),
        (
            "simple",
            |o, _| simple(o, b"QUEUED"),
            b"+QUEUED\r\n",
            b"+QUEUED\r\n",
            Frame::Simple(b("QUEUED")),
        ),
        (
            "error",
            |o, _| error(o, "ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
            Frame::Error(b("ERR syntax error")),
        ),
        (
            "error with newlines",
            |o, _| error(o, "ERR a\r\nb"),
            b"-ERR a  b\r\n",
            b"-ERR a  b\r\n",
            Frame::Error(b("ERR a  b")),
        ),
        (
            "int",
            |o, _| int(o, -42),
            b":-42\r\n",
            b":-42\r\n",
            Frame::Integer(-42),
        ),
        (
            "int min",
            |o, _| int(o, i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
            Frame::Integer(i64::MIN),
        ),
        (
            "int max",
            |o, _| int(o, i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
            Frame::Integer(i64::MAX),
        ),
        (
            "bulk",
            |o, _| bulk(o, b"a\r\nb"),
            b"$4\r\na\r\nb\r\n",
            b"$4\r\na\r\nb\r\n",
            Frame::Bulk(b("a\r\nb")),
        ),
        (
            "empty bulk",
            |o, _| bulk(o, b""),
            b"$0\r\n\r\n",
            b"$0\r\n\r\n",
            Frame::Bulk(b("")),
        ),
        (
            "bulk_int",
            |o, _| bulk_int(o, -123),
            b"$4\r\n-123\r\n",
            b"$4\r\n-123\r\n",
            Frame::Bulk(b("-123")),
        ),
        (
            "bulk_int min",
            |o, _| bulk_int(o, i64::MIN),
            b"$20\r\n-9223372036854775808\r\n",
            b"$20\r\n-9223372036854775808\r\n",
            Frame::Bulk(b("-9223372036854775808")),
        ),
        ("null", |o, p| null(o, p), b"$-1\r\n", b"_\r\n", Frame::Null),
        (
            "null_array",
            |o, p| null_array(o, p),
            b"*-1\r\n",
            b"_\r\n",
            Frame::Null,
        ),
        (
            "empty array",
            |o, _| array(o, 0),
            b"*0\r\n",
            b"*0\r\n",
            Frame::Array(vec![]),
        ),
        (
            "map",
            |o, p| {
                map(o, 2, p);
                bulk(o, b"a");
                int(o, 1);
                bulk(o, b"b");
                null(o, p);
            },
            b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n",
            b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n",
            Frame::Map(vec![
                (Frame::Bulk(b("a")), Frame::Integer(1)),
                (Frame::Bulk(b("b")), Frame::Null),
            ]),
        ),
        (
            "empty map",
            |o, p| map(o, 0, p),
            b"*0\r\n",
            b"%0\r\n",
            Frame::Map(vec![]),
        ),
        (
            "set",
            |o, p| {
                set(o, 1, p);
                bulk(o, b"m");
            },
            b"*1\r\n$1\r\nm\r\n",
            b"~1\r\n$1\r\nm\r\n",
            Frame::Set(vec![Frame::Bulk(b("m"))]),
        ),
        (
            "push",
            |o, p| {
                push(o, 3, p);
                bulk(o, b"message");
                bulk(o, b"ch");
                bulk(o, b"hi");
            },
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            Frame::Push(vec![
                Frame::Bulk(b("message")),
                Frame::Bulk(b("ch")),
                Frame::Bulk(b("hi")),
            ]),
        ),
        (
            "true",
            |o, p| boolean(o, true, p),
            b":1\r\n",
            b"#t\r\n",
            Frame::Boolean(true),
        ),
        (
            "false",
            |o, p| boolean(o, false, p),
            b":0\r\n",
            b"#f\r\n",
            Frame::Boolean(false),
        ),
        (
            "double",
            |o, p| double(o, 1.5, p),
            b"$3\r\n1.5\r\n",
            b",1.5\r\n",
            Frame::Double(1.5),
        ),
        (
            "double 1.1",
            |o, p| double(o, 1.1, p),
            b"$18\r\n1.1000000000000001\r\n",
            b",1.1000000000000001\r\n",
            Frame::Double(1.1),
        ),
        (
            "double exp",
            |o, p| double(o, 1e17, p),
            b"$5\r\n1e+17\r\n",
            b",1e+17\r\n",
            Frame::Double(1e17),
        ),
        (
            "double -0",
            |o, p| double(o, -0.0, p),
            b"$2\r\n-0\r\n",
            b",-0\r\n",
            Frame::Double(-0.0),
        ),
        (
            "inf",
            |o, p| double(o, f64::INFINITY, p),
            b"$3\r\ninf\r\n",
            b",inf\r\n",
            Frame::Double(f64::INFINITY),
        ),
        (
            "-inf",
            |o, p| double(o, f64::NEG_INFINITY, p),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
            Frame::Double(f64::NEG_INFINITY),
        ),
        (
            "verbatim",
            |o, p| verbatim(o, b"# Server\r\n", p),
            b"$10\r\n# Server\r\n\r\n",
            b"=14\r\ntxt:# Server\r\n\r\n",
            Frame::Verbatim(b("# Server\r\n")),
        ),
        (
            "empty verbatim",
            |o, p| verbatim(o, b"", p),
            b"$0\r\n\r\n",
            b"=4\r\ntxt:\r\n",
            Frame::Verbatim(b("")),
        ),
        (
            "big number",
            |o, p| big_number(o, b"1234567999999999999999999999999999999", p),
            b"$37\r\n1234567999999999999999999999999999999\r\n",
            b"(1234567999999999999999999999999999999\r\n",
            Frame::BigNumber(b("1234567999999999999999999999999999999")),
        ),
        (
            "command",
            |o, _| command(o, &[&b"SET"[..], b"k", b""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
            Frame::Array(vec![
                Frame::Bulk(b("SET")),
                Frame::Bulk(b("k")),
                Frame::Bulk(b("")),
            ]),
        ),
        (
            "nested: map of arrays of sets",
            |o, p| {
                map(o, 1, p);
                simple(o, b"k");
                array(o, 2);
                set(o, 0, p);
                null_array(o, p);
            },
            b"*2\r\n+k\r\n*2\r\n*0\r\n*-1\r\n",
            b"%1\r\n+k\r\n*2\r\n~0\r\n_\r\n",
            Frame::Map(vec![(
                Frame::Simple(b("k")),
                Frame::Array(vec![Frame::Set(vec![]), Frame::Null]),
            )]),
        ),
    ]
}

#[test]
fn resp2_resp3_matrix() {
    for (what, write, resp2, resp3, frame) in matrix() {
        let got2 = enc(|o| write(o, Proto::Resp2));
        let got3 = enc(|o| write(o, Proto::Resp3));
        assert_eq!(
            String::from_utf8_lossy(&got2),
            String::from_utf8_lossy(resp2),
            "{what} RESP2"
        );
        assert_eq!(
            String::from_utf8_lossy(&got3),
            String::from_utf8_lossy(resp3),
            "{what} RESP3"
        );
        // RESP3 decodes to the frame, and the frame encodes back to the same bytes.
        let (f, n) = Frame::decode(&Bytes::from(got3.clone())).expect(what);
        assert_eq!(n, got3.len(), "{what}");
        assert_eq!(f, frame, "{what}");
        // Frame::encode writes doubles in their shortest form, not as `%.17g`.
        if !matches!(frame, Frame::Double(_)) {
            let again = enc(|o| f.encode(o));
            assert_eq!(again, got3, "{what} re-encoded");
        }
        // RESP2 must decode too (it is what replicas and RESP2 clients read).
        let (_, n) = Frame::decode(&Bytes::from(got2.clone())).expect(what);
        assert_eq!(n, got2.len(), "{what} RESP2 length");
    }
}

#[test]
fn attribute_precedes_the_reply() {
    let out = enc(|o| {
        attribute(o, 1);
        simple(o, b"key-popularity");
        array(o, 1);
        double(o, 0.1923, Proto::Resp3);
        int(o, 7);
    });
    assert_eq!(
        out,
        b"|1\r\n+key-popularity\r\n*1\r\n,0.1923\r\n:7\r\n".to_vec()
    );
    let (f, n) = Frame::decode(&Bytes::from(out.clone())).unwrap();
    assert_eq!((f, n), (Frame::Integer(7), out.len()));
}

#[test]
fn integers() {
    assert_eq!(enc(|o| int(o, 0)), b":0\r\n");
    assert_eq!(enc(|o| push_uint(o, u64::MAX)), b"18446744073709551615");
    assert_eq!(enc(|o| bulk_int(o, 0)), b"$1\r\n0\r\n");
    assert_eq!(enc(|o| bulk_int(o, 123)), b"$3\r\n123\r\n");
}

#[test]
fn doubles_match_printf_17g() {
    // Right-hand sides are Python's '%.17g' % v, which is C's.
    let cases: &[(f64, &str)] = &[
        (1.1, "1.1000000000000001"),
        (0.1, "0.10000000000000001"),
        (1.0 / 3.0, "0.33333333333333331"),
        (-2.0 / 3.0, "-0.66666666666666663"),
        (1.5, "1.5"),
        (3.0, "3"),
        (100.0, "100"),
        (-2.5, "-2.5"),
        (1e-5, "1.0000000000000001e-05"),
        (1.5e-7, "1.4999999999999999e-07"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (1e16, "10000000000000000"),
        (1e17, "1e+17"),
        (9007199254740993.0, "9007199254740992"),
        (0.0001, "0.0001"),
        (0.00012345, "0.00012344999999999999"),
        (2.71, "2.71"),
        (2.5e-308, "2.4999999999999998e-308"),
        (5e-324, "4.9406564584124654e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (-1e100, "-1e+100"),
        (12345.678, "12345.678"),
        (1e15 + 0.3, "1000000000000000.2"),
        (0.1 + 0.2, "0.30000000000000004"),
        (99999999999999999.0, "1e+17"),
        (1e-4_f64.next_down(), "9.9999999999999991e-05"),
        (1e17_f64.next_down(), "99999999999999984"),
        (1e16_f64.next_up(), "10000000000000002"),
        (0.0, "0"),
        (-0.0, "-0"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (-f64::NAN, "-nan"),
    ];
    for &(v, want) in cases {
        assert_eq!(format_double(v), want, "{v:?}");
    }
}

#[test]
fn human_floats() {
    assert_eq!(format_float_human(10.6), "10.6");
    assert_eq!(format_float_human(3.0), "3");
    assert_eq!(format_float_human(-0.0), "0");
    assert_eq!(format_float_human(1e20), "100000000000000000000");
}

#[test]
fn hot_encoders_do_not_allocate_beyond_the_output() {
    // With room reserved, writing replies never grows the vector: nothing else allocates
    // that could be observed here, and the formatting paths use stack buffers.
    let mut out = Vec::with_capacity(4096);
    let cap = out.capacity();
    for i in 0..50 {
        bulk_int(&mut out, i * 1_000_000_007);
        double(&mut out, i as f64 / 7.0, Proto::Resp2);
        double(&mut out, i as f64 * 1e300, Proto::Resp3);
        int(&mut out, -i);
    }
    assert_eq!(out.capacity(), cap);
}
