//! tandem's micro-benchmarks: one `main`, suites by subsystem (`suites/`).
//!
//! `cargo bench -p tandem-benches` runs them all; add `-- resp_parse` (any name filter) for
//! a subset and `-- --test` for a quick check that each one runs.

use criterion::{criterion_group, criterion_main};

mod suites;

criterion_group!(
    micro,
    suites::resp::parse,
    suites::resp::encode,
    suites::keyspace::strings,
    suites::keyspace::hashes
);
criterion_main!(micro);
