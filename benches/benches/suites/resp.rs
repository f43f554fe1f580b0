//! RESP: parsing requests as a connection receives them, and encoding replies.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use tandem_benches::{command, key, pipeline};
use tandem_resp::{encode, Proto, RequestLimits, RequestParser};

/// Parses every request in `input`; returns how many there were.
fn parse_all(p: &mut RequestParser, input: &[u8], lim: &RequestLimits) -> usize {
    let mut at = 0;
    let mut n = 0;
    while let Ok(Some(r)) = p.parse(&input[at..], lim) {
        black_box(r.arg(0));
        at += r.consumed();
        n += 1;
    }
    n
}

/// Request parsing: single commands, a pipelined batch, big bulks whole and in reads.
pub fn parse(c: &mut Criterion) {
    let lim = RequestLimits::default();
    let mut p = RequestParser::new();
    let k = key(1);
    let mut g = c.benchmark_group("resp_parse");
    let single: [(&str, Vec<u8>); 5] = [
        ("get", command(&[b"GET", &k])),
        ("set_16b", command(&[b"SET", &k, &[b'v'; 16]])),
        ("set_1kb", command(&[b"SET", &k, &[b'v'; 1024]])),
        ("set_100kb", command(&[b"SET", &k, &[b'v'; 100 * 1024]])),
        (
            "inline_set",
            b"SET key:000000000001 \"hello world\"\r\n".to_vec(),
        ),
    ];
    for (name, input) in &single {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| parse_all(&mut p, black_box(input), &lim))
        });
    }

    let batch = pipeline(100);
    g.throughput(Throughput::Elements(100));
    g.bench_function("pipeline_100", |b| {
        b.iter(|| parse_all(&mut p, black_box(&batch), &lim))
    });

    // A 100 KB SET arriving in 16 KB reads: each read parses again, which must not cost
    // a rescan of what came before.
    let big = &single[3].1;
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("set_100kb_in_16kb_reads", |b| {
        b.iter(|| {
            let mut end = 0;
            loop {
                end = (end + 16 * 1024).min(big.len());
                if let Ok(Some(r)) = p.parse(black_box(&big[..end]), &lim) {
                    break r.consumed();
                }
            }
        })
    });
    g.finish();
}

/// Reply encoding, RESP2 and RESP3 where they differ.
pub fn encode(c: &mut Criterion) {
    let mut out = Vec::with_capacity(64 * 1024);
    let value_1k = vec![b'v'; 1024];
    let mut g = c.benchmark_group("resp_encode");
    g.bench_function("ok", |b| {
        b.iter(|| {
            out.clear();
            encode::ok(&mut out);
            black_box(out.len())
        })
    });
    g.bench_function("int", |b| {
        b.iter(|| {
            out.clear();
            encode::int(&mut out, black_box(-1_234_567));
            black_box(out.len())
        })
    });
    g.bench_function("bulk_16b", |b| {
        b.iter(|| {
            out.clear();
            encode::bulk(&mut out, black_box(&value_1k[..16]));
            black_box(out.len())
        })
    });
    g.bench_function("bulk_1kb", |b| {
        b.iter(|| {
            out.clear();
            encode::bulk(&mut out, black_box(&value_1k));
            black_box(out.len())
        })
    });
    g.bench_function("null_resp2", |b| {
        b.iter(|| {
            out.clear();
            encode::null(&mut out, black_box(Proto::Resp2));
            black_box(out.len())
        })
    });
    for (name, proto) in [
        ("double_resp2", Proto::Resp2),
        ("double_resp3", Proto::Resp3),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode::double(&mut out, black_box(3.14159e-3), proto);
                black_box(out.len())
            })
        });
    }
    // LRANGE-like: an array of 10 short bulks.
    g.bench_function("array_10_bulks", |b| {
        b.iter(|| {
            out.clear();
            encode::array(&mut out, 10);
            for _ in 0..10 {
                encode::bulk(&mut out, black_box(&value_1k[..8]));
            }
            black_box(out.len())
        })
    });
    // HGETALL-like: a map of 10 pairs.
    for (name, proto) in [
        ("map_10_resp2", Proto::Resp2),
        ("map_10_resp3", Proto::Resp3),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode::map(&mut out, 10, proto);
                for _ in 0..20 {
                    encode::bulk(&mut out, black_box(&value_1k[..8]));
                }
                black_box(out.len())
            })
        });
    }
    g.bench_function("command_set", |b| {
        b.iter(|| {
            out.clear();
            encode::command(
                &mut out,
                black_box(&[&b"SET"[..], b"key:000000000001", &value_1k[..16]]),
            );
            black_box(out.len())
        })
    });
    g.finish();
}
