//! Replays the fuzz corpora of `fuzz/corpus/{rdb_read,aof_read}` through the checks the
//! fuzz targets run, plus a seeded mutation loop over them, on stable Rust.
//! `TANDEM_FUZZ_ITERS` raises the number of mutations.

use std::path::PathBuf;

use tandem_persist::fuzzing::{check_aof, check_rdb};

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let data: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect();
    assert!(!data.is_empty(), "empty corpus {dir:?}");
    data
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    match rng.next() % 4 {
        0 if !v.is_empty() => {
            let n = (rng.next() % v.len() as u64) as usize;
            v.truncate(n);
        }
        1 if !v.is_empty() => {
            for _ in 0..1 + rng.next() % 3 {
                let i = (rng.next() % v.len() as u64) as usize;
                v[i] ^= 1 << (rng.next() % 8);
            }
        }
        2 if !v.is_empty() => {
            let i = (rng.next() % v.len() as u64) as usize;
            v[i] = [0x00, 0xff, 0x7f, 0x80, 0xc3, 0xfe][(rng.next() % 6) as usize];
        }
        _ => {
            let i = (rng.next() % (v.len() as u64 + 1)) as usize;
            v.insert(i, (rng.next() & 0xff) as u8);
        }
    }
    v
}

fn run(name: &str, check: fn(&[u8])) {
    let seeds = corpus(name);
    for s in &seeds {
        check(s);
    }
    let iters: usize = std::env::var("TANDEM_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..iters {
        let base = &seeds[(rng.next() % seeds.len() as u64) as usize];
        check(&mutate(&mut rng, base));
    }
}

#[test]
fn rdb_corpus_and_mutations_never_panic() {
    run("rdb_read", check_rdb);
}

#[test]
fn aof_corpus_and_mutations_never_panic() {
    run("aof_read", check_aof);
}
