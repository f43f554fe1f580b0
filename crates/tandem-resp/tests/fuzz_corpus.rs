//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz targets' checks and
//! runs a seeded mutation loop over it, so that the properties the fuzzers look for are
//! checked by every `cargo test` on stable Rust. `TANDEM_FUZZ_ITERS=<n>` runs longer
//! loops, and `TANDEM_FUZZ_SEED=<n>` another sequence: a small fuzzer without nightly.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use tandem_resp::fuzzing::{check_frame, check_request, escape, mutate, Rng};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                data,
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "{} holds only {} inputs",
        dir.display(),
        files.len()
    );
    files
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `check` on `data`, turning a failure into a message that shows the input.
fn run(check: fn(&[u8]), what: &str, data: &[u8]) {
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| check(data))) {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("{what} failed: {msg}\ninput: b\"{}\"", escape(data));
    }
}

fn replay(target: &str, check: fn(&[u8])) {
    for (name, data) in corpus(target) {
        run(check, &format!("{target}/{name}"), &data);
    }
}

fn mutation_loop(target: &str, check: fn(&[u8]), default_iters: u64) {
    // Large inputs (the 64 KB limit cases) are replayed above but not mutated: slow.
    let seeds: Vec<Vec<u8>> = corpus(target)
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d.len() <= 4096)
        .collect();
    let iters = env_u64("TANDEM_FUZZ_ITERS", default_iters);
    let mut rng = Rng::new(env_u64("TANDEM_FUZZ_SEED", 0x7a4d_3e11));
    for i in 0..iters {
        let mut data = seeds[rng.below(seeds.len())].clone();
        mutate(&mut data, &mut rng, &seeds, 4096);
        run(check, &format!("{target} mutation #{i}"), &data);
    }
}

#[test]
fn replay_request_corpus() {
    replay("resp_request", check_request);
}

#[test]
fn replay_frame_corpus() {
    replay("resp_frame", check_frame);
}

#[test]
fn each_corpus_through_the_other_target() {
    replay("resp_frame", check_request);
    replay("resp_request", check_frame);
}

#[test]
fn mutate_request_corpus() {
    mutation_loop("resp_request", check_request, 2000);
}

#[test]
fn mutate_frame_corpus() {
    mutation_loop("resp_frame", check_frame, 4000);
}
