//! Reader and writer tests: Redis's own bytes, round trips, damaged input.

use super::*;
use crate::{crc64, listpack};

/// The 174-byte file of redis-wire.md §6 (SAVE on redis-server 7.0.15).
pub(crate) const REAL_EXAMPLE: &str = "\
5245444953303031 30fa 0972 6564 6973
2d76 6572 0637 2e30 2e31 35fa 0a72 6564
6973 2d62 6974 73c0 40fa 0563 7469 6d65
c2c8 5802 6bfa 0875 7365 642d 6d65 6dc2
b078 0f00 fa08 616f 662d 6261 7365 c000
fe00 fb06 0100 016e c12c 010b 0169 0c02
0000 0002 0000 0001 0002 0010 0168 0d0d
0000 0002 0081 6602 8176 02ff 0001 7305
6865 6c6c 6ffc 0050 5c18 a301 0000 0001
6501 7612 016c 0102 0c0c 0000 0002 0081
6102 0701 ffff fc49 7497 0a5a 5cb4";

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn real_example_parses_to_its_contents() {
    let data = unhex(REAL_EXAMPLE);
    assert_eq!(data.len(), 174);
    let c = collect(&data).unwrap();
    assert_eq!(
        c.aux,
        vec![
            (b("redis-ver"), b("7.0.15")),
            (b("redis-bits"), b("64")),
            (b("ctime"), b("1795315912")),
            (b("used-mem"), b("1013936")),
            (b("aof-base"), b("0")),
        ]
    );
    assert_eq!(c.resize, vec![(0, 6, 1)]);
    let got: Vec<(Vec<u8>, OwnedValue, Option<i64>, u8)> = c
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone(), e.expire_ms, e.rdb_type))
        .collect();
    assert_eq!(
        got,
        vec![
            (b("n"), OwnedValue::String(b("300")), None, 0),
            (b("i"), OwnedValue::Set(vec![b("1"), b("2")]), None, 11),
            (b("h"), OwnedValue::Hash(vec![(b("f"), b("v"))]), None, 16),
            (b("s"), OwnedValue::String(b("hello")), None, 0),
            (
                b("e"),
                OwnedValue::String(b("v")),
                Some(1_800_000_000_000),
                0
            ),
            (b("l"), OwnedValue::List(vec![b("a"), b("7")]), None, 18),
        ]
    );
    assert_eq!(
        c.summary.checksum,
        Checksum::Verified(0xb45c_5a0a_9774_49fc)
    );
    assert_eq!(c.summary.end, 174);
    assert_eq!((c.summary.keys, c.summary.expires), (6, 1));
}

#[test]
fn real_example_reencodes_identically() {
    let data = unhex(REAL_EXAMPLE);
    let c = collect(&data).unwrap();
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
    w.aux_fields(&AuxFields {
        ctime: 1_795_315_912,
        used_mem: 1_013_936,
        ..AuxFields::default()
    })
    .unwrap();
    w.select_db(0, 6, 1).unwrap();
    for e in &c.entries {
        w.owned_value(&e.key, &e.value, &KeyMeta::expiring(e.expire_ms))
            .unwrap();
    }
    assert_eq!(w.finish().unwrap(), data);
}

#[test]
fn stream_reader_matches_slice_reader() {
    let data = unhex(REAL_EXAMPLE);
    let mut tail = data.clone();
    tail.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    // A reader that returns one byte at a time exercises every refill path.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }
    let mut c = Collected::default();
    let (summary, rest) = read_from(Trickle(&tail), &mut c, &ReadOptions::default()).unwrap();
    assert_eq!(summary.end, 174);
    assert_eq!(c.entries, collect(&data).unwrap().entries);
    assert!(rest.is_empty());
    let mut c2 = Collected::default();
    let (_, rest) = read_from(&tail[..], &mut c2, &ReadOptions::default()).unwrap();
    assert_eq!(rest, b"*1\r\n$4\r\nPING\r\n");
}

#[allow(clippy::vec_init_then_push)]
fn sample_values() -> Vec<(Vec<u8>, OwnedValue, Option<i64>)> {
    let mut v = Vec::new();
    v.push((b("str-int"), OwnedValue::String(b("-5")), None));
    v.push((
        b("str-int32"),
        OwnedValue::String(b("70000")),
        Some(1_900_000_000_123),
    ));
    v.push((b("str-big-int"), OwnedValue::String(b("9999999999")), None));
    v.push((b("str-lzf"), OwnedValue::String(vec![b'z'; 500]), None));
    v.push((b("str-empty"), OwnedValue::String(Vec::new()), None));
    v.push((b("bin"), OwnedValue::String((0..=255u8).collect()), None));
    v.push((
        b("list-small"),
        OwnedValue::List(vec![b("a"), b("1"), b("-70000"), vec![b'q'; 100]]),
        None,
    ));
    let long_list: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("item-{i}").into_bytes())
        .collect();
    v.push((b("list-long"), OwnedValue::List(long_list), None));
    v.push((
        b("set-int"),
        OwnedValue::Set(vec![b("3"), b("-1"), b("100000"), b("9223372036854775807")]),
        None,
    ));
    v.push((
        b("set-str"),
        OwnedValue::Set(vec![b("x"), b("y"), b("12")]),
        None,
    ));
    let big_set: Vec<Vec<u8>> = (0..600).map(|i| i.to_string().into_bytes()).collect();
    v.push((b("set-int-big"), OwnedValue::Set(big_set), None));
    v.push((
        b("hash-small"),
        OwnedValue::Hash(vec![(b("f"), b("v")), (b("n"), b("42"))]),
        None,
    ));
    let big_hash: Vec<(Vec<u8>, Vec<u8>)> = (0..600)
        .map(|i| {
            (
                format!("field:{i}").into_bytes(),
                format!("value {i}").into_bytes(),
            )
        })
        .collect();
    v.push((
        b("hash-big"),
        OwnedValue::Hash(big_hash),
        Some(2_000_000_000_000),
    ));
    v.push((
        b("hash-longval"),
        OwnedValue::Hash(vec![(b("a"), b("1")), (b("b"), vec![b'v'; 100])]),
        None,
    ));
    v.push((
        b("zset-small"),
        OwnedValue::ZSet(vec![
            (b("a"), 1.0),
            (b("b"), 1.5),
            (b("c"), -0.25),
            (b("d"), 1e20),
            (b("e"), f64::INFINITY),
        ]),
        None,
    ));
    let big_z: Vec<(Vec<u8>, f64)> = (0..200)
        .map(|i| (format!("m{i}").into_bytes(), f64::from(i) / 3.0))
        .collect();
    v.push((b("zset-big"), OwnedValue::ZSet(big_z), None));
    v
}

#[test]
fn writer_round_trips_every_type() {
    for compression in [true, false] {
        for checksum in [true, false] {
            let opts = WriteOptions {
                compression,
                checksum,
                ..WriteOptions::default()
            };
            let mut w = RdbWriter::new(Vec::new(), opts);
            w.aux_fields(&AuxFields::default()).unwrap();
            w.function(b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)")
                .unwrap();
            let vals = sample_values();
            w.select_db(0, vals.len() as u64, 2).unwrap();
            for (k, v, e) in &vals {
                w.owned_value(k, v, &KeyMeta::expiring(*e)).unwrap();
            }
            w.select_db(5, 1, 0).unwrap();
            w.string(b"other-db", b"x", &KeyMeta::default()).unwrap();
            let data = w.finish().unwrap();
            let c = collect(&data).unwrap();
            assert_eq!(c.functions.len(), 1);
            assert_eq!(c.entries.len(), vals.len() + 1);
            for (e, (k, v, exp)) in c.entries.iter().zip(&vals) {
                assert_eq!(&e.key, k);
                assert_eq!(
                    e.value.clone().normalized(),
                    v.clone().normalized(),
                    "key {}",
                    k.escape_ascii()
                );
                assert_eq!(e.expire_ms, *exp);
            }
            let types: Vec<u8> = c.entries.iter().map(|e| e.rdb_type).collect();
            assert_eq!(
                types,
                [0, 0, 0, 0, 0, 0, 18, 18, 11, 2, 2, 16, 4, 4, 17, 5, 0]
            );
            assert_eq!(c.entries.last().unwrap().db, 5);
            assert_eq!(
                c.summary.checksum,
                if checksum {
                    Checksum::Verified(crc64::checksum(&data[..data.len() - 8]))
                } else {
                    Checksum::Disabled
                }
            );
        }
    }
}

#[test]
fn zset_listpack_is_sorted_and_scores_formatted_like_redis() {
    let opts = WriteOptions {
        compression: false,
        ..WriteOptions::default()
    };
    let mut w = RdbWriter::new(Vec::new(), opts);
    w.select_db(0, 1, 0).unwrap();
    w.zset(
        b"z",
        &KeyMeta::default(),
        3,
        [
            (b"b".as_slice(), 1.5),
            (b"a".as_slice(), 1.5),
            (b"c".as_slice(), 0.1),
        ],
    )
    .unwrap();
    let data = w.finish().unwrap();
    let c = collect(&data).unwrap();
    assert_eq!(
        c.entries[0].value,
        OwnedValue::ZSet(vec![(b("c"), 0.1), (b("a"), 1.5), (b("b"), 1.5)])
    );
    let text = b"0.10000000000000001";
    assert!(data.windows(text.len()).any(|w| w == text));
}

#[test]
fn writer_rejects_wrong_counts() {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
    let r = w.set(b"s", &KeyMeta::default(), 1000, [b"a".as_slice(), b"b"]);
    assert!(matches!(
        r,
        Err(WriteError::LengthMismatch {
            declared: 1000,
            actual: 2
        })
    ));
    assert!(matches!(
        w.string(b"k", b"v", &KeyMeta::default()),
        Err(WriteError::Poisoned)
    ));
}

fn full_sample() -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
    w.aux_fields(&AuxFields::default()).unwrap();
    w.select_db(0, 8, 1).unwrap();
    for (k, v, e) in sample_values()
        .into_iter()
        .filter(|(k, _, _)| !k.ends_with(b"big") && k != b"list-long")
    {
        w.owned_value(&k, &v, &KeyMeta::expiring(e)).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn truncated_at_every_offset_is_an_error() {
    for data in [unhex(REAL_EXAMPLE), full_sample()] {
        for cut in 0..data.len() {
            let mut c = Collected::default();
            let e = read_slice(&data[..cut], &mut c, &ReadOptions::default()).unwrap_err();
            assert!(e.offset <= cut as u64, "cut {cut}: {e}");
            let mut c = Collected::default();
            assert!(read_from(&data[..cut], &mut c, &ReadOptions::default()).is_err());
        }
    }
}

#[test]
fn flipped_bytes_error_or_load_never_panic() {
    for data in [unhex(REAL_EXAMPLE), full_sample()] {
        let mut seed = 0x1234_5678u64;
        for i in 0..data.len() {
            for _ in 0..6 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut d = data.clone();
                d[i] ^= (seed as u8) | 1;
                let mut c = Collected::default();
                // Skipping the checksum lets damage reach the value decoders.
                let opts = ReadOptions {
                    verify_checksum: false,
                };
                if let Err(e) = read_slice(&d, &mut c, &opts) {
                    assert!(e.offset <= d.len() as u64);
                    let _ = e.to_string();
                }
                // With the checksum on, a flip in the body is always caught.
                if i < d.len() - 8 {
                    assert!(collect(&d).is_err(), "flip at {i} went unnoticed");
                }
            }
        }
    }
}

#[test]
fn hostile_lengths_do_not_allocate() {
    // A string claiming 2^62 bytes, an LZF string claiming a huge output, a list
    // claiming 2^40 elements: all errors, quickly.
    let mut cases = Vec::new();
    let mut s = b"REDIS0010\xfe\x00\x00\x01k\x81".to_vec();
    s.extend_from_slice(&(1u64 << 62).to_be_bytes());
    cases.push(s);
    let mut s = b"REDIS0010\x00\x01k\xc3\x02".to_vec();
    s.push(0x81);
    s.extend_from_slice(&(1u64 << 40).to_be_bytes());
    s.extend_from_slice(b"\x00a");
    cases.push(s);
    let mut s = b"REDIS0010\x01\x01k\x81".to_vec();
    s.extend_from_slice(&(1u64 << 40).to_be_bytes());
    s.extend_from_slice(b"\x01a\x01b");
    cases.push(s);
    for data in cases {
        let mut c = Collected::default();
        assert!(read_slice(&data, &mut c, &ReadOptions::default()).is_err());
        let mut c = Collected::default();
        assert!(read_from(&data[..], &mut c, &ReadOptions::default()).is_err());
    }
}

#[test]
fn errors_name_offset_and_reason() {
    let data = unhex(REAL_EXAMPLE);
    let mut bad = data.clone();
    bad[0x5B] = 0x42; // the type byte of key `i`
    let e = collect(&bad).unwrap_err();
    assert_eq!(e.offset, 0x5B);
    assert!(matches!(e.kind, RdbErrorKind::UnknownType(0x42)));
    let mut bad = data.clone();
    bad[0x60] = 3; // intset width
    let e = collect(&bad).unwrap_err();
    assert!(matches!(e.kind, RdbErrorKind::Corrupt(_)), "{e}");
    assert_eq!(e.key.as_deref(), Some(&b"i"[..]));
    let mut bad = data.clone();
    bad[0x80] ^= 1; // inside "hello"
    let e = collect(&bad).unwrap_err();
    assert!(matches!(e.kind, RdbErrorKind::Checksum { .. }));
    assert_eq!(e.offset, 0xA6);
    assert!(matches!(
        collect(b"REDIX0010\xff").unwrap_err().kind,
        RdbErrorKind::BadMagic
    ));
    assert!(matches!(
        collect(b"REDIS0011\xff").unwrap_err().kind,
        RdbErrorKind::UnsupportedVersion(11)
    ));
}

#[test]
fn old_encodings_load() {
    // Version 6 file by hand: ziplist list, ziplist hash, ziplist zset, zipmap hash,
    // quicklist v1, linked list, zset v1 with string scores, EXPIRETIME in seconds.
    let zl = |items: &[&[u8]]| -> Vec<u8> {
        let mut z = vec![0u8; 10];
        let mut prev = 0usize;
        let mut last = 10;
        for it in items {
            let start = z.len();
            last = start;
            z.push(prev as u8);
            z.push(it.len() as u8);
            z.extend_from_slice(it);
            prev = z.len() - start;
        }
        z.push(0xff);
        let n = z.len() as u32;
        z[0..4].copy_from_slice(&n.to_le_bytes());
        z[4..8].copy_from_slice(&(last as u32).to_le_bytes());
        z[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
        z
    };
    let mut f = b"REDIS0006".to_vec();
    let push_str = |f: &mut Vec<u8>, s: &[u8]| {
        f.push(s.len() as u8);
        f.extend_from_slice(s);
    };
    f.extend_from_slice(&[0xfe, 0]);
    f.push(rtype::LIST_ZIPLIST);
    push_str(&mut f, b"zl");
    push_str(&mut f, &zl(&[b"a", b"b"]));
    f.push(rtype::HASH_ZIPLIST);
    push_str(&mut f, b"zh");
    push_str(&mut f, &zl(&[b"f", b"v"]));
    f.push(rtype::ZSET_ZIPLIST);
    push_str(&mut f, b"zz");
    push_str(&mut f, &zl(&[b"m", b"2.5"]));
    f.push(rtype::HASH_ZIPMAP);
    push_str(&mut f, b"zm");
    push_str(&mut f, b"\x01\x01k\x01\x00v\xff");
    f.push(rtype::LIST_QUICKLIST);
    push_str(&mut f, b"ql");
    f.push(2);
    push_str(&mut f, &zl(&[b"x"]));
    push_str(&mut f, &zl(&[b"y", b"z"]));
    f.extend_from_slice(&[0xfd]);
    f.extend_from_slice(&1_900_000_000i32.to_le_bytes());
    f.push(rtype::LIST);
    push_str(&mut f, b"ll");
    f.push(1);
    push_str(&mut f, b"only");
    f.push(rtype::ZSET);
    push_str(&mut f, b"z1");
    f.push(2);
    push_str(&mut f, b"a");
    push_str(&mut f, b"3.25");
    push_str(&mut f, b"b");
    f.push(254);
    f.push(0xff);
    let sum = crc64::checksum(&f);
    f.extend_from_slice(&sum.to_le_bytes());
    let c = collect(&f).unwrap();
    let vals: Vec<OwnedValue> = c.entries.iter().map(|e| e.value.clone()).collect();
    assert_eq!(
        vals,
        vec![
            OwnedValue::List(vec![b("a"), b("b")]),
            OwnedValue::Hash(vec![(b("f"), b("v"))]),
            OwnedValue::ZSet(vec![(b("m"), 2.5)]),
            OwnedValue::Hash(vec![(b("k"), b("v"))]),
            OwnedValue::List(vec![b("x"), b("y"), b("z")]),
            OwnedValue::List(vec![b("only")]),
            OwnedValue::ZSet(vec![(b("a"), 3.25), (b("b"), f64::INFINITY)]),
        ]
    );
    assert_eq!(c.entries[5].expire_ms, Some(1_900_000_000_000));
}

#[test]
fn streams_are_parsed_and_skipped() {
    // XADD s 1-1 f v; a group g with one pending entry and consumer c (RDB type 19).
    let mut lp = Vec::new();
    let mut lb = listpack::Builder::new(&mut lp);
    for e in [&b"1"[..], b"0", b"1", b"f", b"0", b"0", b"0", b"v", b"4"] {
        lb.push(&mut lp, e);
    }
    lb.finish(&mut lp);
    let mut f = b"REDIS0010\xfe\x00".to_vec();
    f.push(rtype::STREAM_LISTPACKS_2);
    f.extend_from_slice(b"\x01s\x01\x10");
    f.extend_from_slice(&1u64.to_be_bytes());
    f.extend_from_slice(&1u64.to_be_bytes());
    f.push(lp.len() as u8);
    f.extend_from_slice(&lp);
    f.extend_from_slice(&[1, 1, 1, 1, 1, 0, 0, 1]); // length, last id, first id, max deleted, added
    f.extend_from_slice(b"\x01\x01g\x01\x01\x01\x01"); // one group "g", last id 1-1, read 1, 1 pel
    f.extend_from_slice(&[0u8; 16]);
    f.extend_from_slice(&5i64.to_le_bytes());
    f.push(1);
    f.extend_from_slice(b"\x01\x01c");
    f.extend_from_slice(&6i64.to_le_bytes());
    f.push(1);
    f.extend_from_slice(&[0u8; 16]);
    f.extend_from_slice(b"\x00\x01k\x01v\xff");
    let sum = crc64::checksum(&f);
    f.extend_from_slice(&sum.to_le_bytes());
    let c = collect(&f).unwrap();
    assert_eq!(
        c.skipped,
        vec![(0, b("s"), SkipReason::Stream { entries: 1 })]
    );
    assert_eq!(c.entries.len(), 1);
    for cut in 0..f.len() {
        assert!(collect(&f[..cut]).is_err());
    }
}
