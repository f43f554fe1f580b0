//! Checks shared by the fuzz targets (`fuzz/fuzz_targets/rdb_read.rs`,
//! `aof_read.rs`) and the tests that replay their corpora on stable Rust: hostile input
//! must give a result or an error, never a panic, and the two RDB sources (memory and
//! stream) must agree.

use std::io::Read;
use std::path::Path;

use crate::aof::{self, AofVisitor};
use crate::rdb::{self, Entry, RdbValue, RdbVisitor, ReadOptions, VisitError};

/// Touches every element of every value, so that lazily decoded encodings are decoded.
#[derive(Default)]
struct Consume {
    keys: u64,
    bytes: u64,
}

impl RdbVisitor for Consume {
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.keys += 1;
        self.bytes += e.key.len() as u64;
        match e.value {
            RdbValue::String(s) => self.bytes += s.len() as u64,
            RdbValue::List(v) | RdbValue::Set(v) => {
                self.bytes += v.iter().map(|s| s.len() as u64).sum::<u64>()
            }
            RdbValue::Hash(p) => {
                self.bytes += p
                    .iter()
                    .map(|(f, v)| (f.len() + v.len()) as u64)
                    .sum::<u64>()
            }
            RdbValue::ZSet(z) => self.bytes += z.iter().map(|(m, _)| m.len() as u64).sum::<u64>(),
        }
        Ok(())
    }
}

impl AofVisitor for Consume {
    fn command(&mut self, args: &[&[u8]], _offset: u64) -> Result<(), VisitError> {
        self.keys += 1;
        self.bytes += args.iter().map(|a| a.len() as u64).sum::<u64>();
        Ok(())
    }
}

/// A reader that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.step).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Parses `data` as an RDB from memory and as a stream in small reads; both must
/// succeed or fail together and agree on what they found.
pub fn check_rdb(data: &[u8]) {
    let opts = ReadOptions::default();
    let mut a = Consume::default();
    let slice = rdb::read_slice(data, &mut a, &opts);
    let mut b = Consume::default();
    let step = 1 + data.first().copied().unwrap_or(0) as usize % 17;
    let stream = rdb::read_from(Trickle { data, step }, &mut b, &opts);
    match (&slice, &stream) {
        (Ok(s), Ok((t, _))) => {
            assert_eq!(s.keys, t.keys, "keys differ between slice and stream");
            assert_eq!((a.keys, a.bytes), (b.keys, b.bytes), "contents differ");
        }
        (Err(_), Err(_)) => {}
        _ => panic!(
            "slice and stream disagree: {:?} vs {:?}",
            slice.is_ok(),
            stream.is_ok()
        ),
    }
}

/// Reads `data` as one AOF file (RDB preamble or commands): a report or an error,
/// never a panic.
pub fn check_aof(data: &[u8]) {
    let mut v = Consume::default();
    let _ = aof::load_bytes(data, Path::new("fuzz.aof"), &mut v, &ReadOptions::default());
}
