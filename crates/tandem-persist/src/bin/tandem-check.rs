//! `tandem-check`: checks an RDB file or an AOF (manifest or single file) and prints a
//! summary, or exactly what is wrong and at which offset, like redis-check-rdb and
//! redis-check-aof. Exit status 0 when the file is valid, 1 otherwise.
//!
//! ```text
//! tandem-check rdb <file>
//! tandem-check aof [--fix] <manifest-or-file>
//! ```
//! `--fix` cuts a torn tail (an incomplete last command or an unterminated MULTI at the
//! end of the last file) at the last complete command; damage elsewhere is never cut.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use tandem_persist::aof::{self, AofFileType, AofManifest, AofVisitor, Tail, TailKind};
use tandem_persist::rdb::{
    self, rtype, Checksum, Entry, RdbVisitor, ReadOptions, SkipReason, Skipped, VisitError,
};

#[derive(Default)]
struct Stats {
    now_ms: i64,
    db: u64,
    keys_per_db: BTreeMap<u64, u64>,
    types: BTreeMap<&'static str, u64>,
    encodings: BTreeMap<&'static str, u64>,
    expires: u64,
    expired: u64,
    streams: u64,
    empty: u64,
    functions: u64,
    commands: u64,
    command_names: BTreeMap<String, u64>,
    verbose: bool,
}

impl RdbVisitor for Stats {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        if self.verbose {
            println!(
                "[aux] AUX FIELD {} = '{}'",
                key.escape_ascii(),
                value.escape_ascii()
            );
        }
        Ok(())
    }
    fn function(&mut self, _code: &[u8]) -> Result<(), VisitError> {
        self.functions += 1;
        Ok(())
    }
    fn select_db(&mut self, db: u64) -> Result<(), VisitError> {
        self.db = db;
        if self.verbose {
            println!("[info] Selecting DB ID {db}");
        }
        Ok(())
    }
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        *self.keys_per_db.entry(e.db).or_default() += 1;
        *self.types.entry(e.value.type_name()).or_default() += 1;
        *self.encodings.entry(rtype::name(e.rdb_type)).or_default() += 1;
        if let Some(t) = e.expire_ms {
            self.expires += 1;
            if t < self.now_ms {
                self.expired += 1;
            }
        }
        Ok(())
    }
    fn skipped(&mut self, s: Skipped<'_>) -> Result<(), VisitError> {
        *self.encodings.entry(rtype::name(s.rdb_type)).or_default() += 1;
        match s.reason {
            SkipReason::Stream { .. } => self.streams += 1,
            SkipReason::Empty => self.empty += 1,
        }
        Ok(())
    }
}

impl AofVisitor for Stats {
    fn command(&mut self, args: &[&[u8]], _offset: u64) -> Result<(), VisitError> {
        self.commands += 1;
        let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
        *self.command_names.entry(name).or_default() += 1;
        Ok(())
    }
}

fn join<K: std::fmt::Display>(m: &BTreeMap<K, u64>, prefix: &str) -> String {
    m.iter()
        .map(|(k, v)| format!("{prefix}{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_stats(s: &Stats) {
    let keys: u64 = s.keys_per_db.values().sum();
    println!("[info] {keys} keys read");
    println!("[info] {} expires", s.expires);
    println!("[info] {} already expired", s.expired);
    if !s.keys_per_db.is_empty() {
        println!("[info] keys per db: {}", join(&s.keys_per_db, "db"));
        println!("[info] types: {}", join(&s.types, ""));
    }
    if !s.encodings.is_empty() {
        println!("[info] encodings: {}", join(&s.encodings, ""));
    }
    if s.streams + s.empty > 0 {
        println!(
            "[info] skipped: {} streams (tandem has no stream type), {} empty keys",
            s.streams, s.empty
        );
    }
    if s.functions > 0 {
        println!("[info] {} function libraries", s.functions);
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[allow(unsafe_code)]
fn map(path: &Path) -> Result<memmap2::Mmap, String> {
    // SAFETY: the checker is a read-only tool; like redis-check-rdb it assumes no one
    // writes the file while it is being checked.
    unsafe { tandem_persist::map_file(path) }
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

fn check_rdb(path: &Path) -> bool {
    println!("[offset 0] Checking RDB file {}", path.display());
    let data = match map(path) {
        Ok(m) => m,
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---\n{e}");
            return false;
        }
    };
    let mut stats = Stats {
        now_ms: now_ms(),
        verbose: true,
        ..Stats::default()
    };
    match rdb::read_slice(&data, &mut stats, &ReadOptions::default()) {
        Ok(summary) => {
            match summary.checksum {
                Checksum::Verified(_) => println!("[offset {}] Checksum OK", summary.end),
                Checksum::Disabled => println!(
                    "[offset {}] RDB file was saved with checksum disabled: no check performed.",
                    summary.end
                ),
                _ => {}
            }
            if summary.end < data.len() as u64 {
                println!(
                    "[offset {}] {} bytes of trailing data after the RDB",
                    summary.end,
                    data.len() as u64 - summary.end
                );
            }
            println!("[offset {}] \\o/ RDB looks OK! \\o/", summary.end);
            print_stats(&stats);
            true
        }
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---");
            println!("[offset {}] {}", e.offset, e.kind);
            if let Some(k) = &e.key {
                println!("[additional info] Reading key '{}'", k.escape_ascii());
            }
            if let Some(t) = e.rdb_type {
                println!("[additional info] Reading type {t} ({})", rtype::name(t));
            }
            print_stats(&stats);
            false
        }
    }
}

/// Checks one AOF file; returns (valid, torn tail to cut).
fn check_aof_file(path: &Path, last: bool, stats: &mut Stats) -> (bool, Option<u64>) {
    let data = match map(path) {
        Ok(m) => m,
        Err(e) => {
            println!("{e}");
            return (false, None);
        }
    };
    let kind = if data.starts_with(b"REDIS") {
        "RDB preamble"
    } else {
        "AOF"
    };
    println!("Start checking {kind} file {}", path.display());
    let before = stats.commands;
    match aof::load_bytes(&data, path, stats, &ReadOptions::default()) {
        Ok(r) => {
            if let Some(s) = &r.rdb {
                println!(
                    "RDB preamble is OK, ends at offset {} ({} keys)",
                    s.end, s.keys
                );
            }
            let ok_up_to = match r.tail {
                Tail::Complete => r.len,
                Tail::Truncated { valid_up_to, .. } => valid_up_to,
            };
            println!(
                "AOF analyzed: filename={}, size={}, ok_up_to={}, diff={}, commands={}",
                path.display(),
                r.len,
                ok_up_to,
                r.len - ok_up_to,
                stats.commands - before
            );
            match r.tail {
                Tail::Complete => {
                    println!("AOF {} is valid", path.display());
                    (true, None)
                }
                Tail::Truncated { valid_up_to, kind } => {
                    let why = match kind {
                        TailKind::MidCommand => "ends in the middle of a command",
                        TailKind::OpenMulti => "ends inside a MULTI without EXEC",
                    };
                    println!(
                        "AOF {} {why}: {} bytes after offset {valid_up_to} are a torn tail{}",
                        path.display(),
                        r.len - valid_up_to,
                        if last {
                            " (Use the --fix option to cut it.)"
                        } else {
                            " and it is not the last file: not recoverable"
                        }
                    );
                    (false, last.then_some(valid_up_to))
                }
            }
        }
        Err(e) => {
            println!("AOF {} is not valid: {e}", path.display());
            (false, None)
        }
    }
}

fn check_aof(target: &Path, fix: bool) -> bool {
    let mut stats = Stats {
        now_ms: now_ms(),
        ..Stats::default()
    };
    let is_manifest = target.extension().is_some_and(|e| e == "manifest");
    let files: Vec<(PathBuf, String)> = if is_manifest {
        let text = match std::fs::read(target) {
            Ok(t) => t,
            Err(e) => {
                println!("cannot read {}: {e}", target.display());
                return false;
            }
        };
        let m = match AofManifest::parse(&text) {
            Ok(m) => m,
            Err(e) => {
                println!("Invalid AOF manifest {}: {e}", target.display());
                return false;
            }
        };
        let dir = target.parent().unwrap_or(Path::new("."));
        println!("Start checking Multi Part AOF");
        m.load_order()
            .map(|f| {
                let t = if f.kind == AofFileType::Base {
                    "BASE"
                } else {
                    "INCR"
                };
                (dir.join(&f.name), t.to_string())
            })
            .collect()
    } else {
        vec![(target.to_path_buf(), "AOF".to_string())]
    };
    let mut all_ok = true;
    for (i, (path, _)) in files.iter().enumerate() {
        if !path.exists() {
            println!("AOF {} doesn't exist", path.display());
            return false;
        }
        let last = i + 1 == files.len();
        let (ok, cut) = check_aof_file(path, last, &mut stats);
        if !ok {
            all_ok = false;
            match cut {
                Some(at) if fix => {
                    let r = std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .and_then(|f| f.set_len(at).and_then(|_| f.sync_all()));
                    match r {
                        Ok(()) => {
                            println!(
                                "Successfully truncated AOF {} to {at} bytes",
                                path.display()
                            );
                            all_ok = true;
                        }
                        Err(e) => println!("Failed to truncate AOF {}: {e}", path.display()),
                    }
                }
                _ => break,
            }
        }
    }
    print_stats(&stats);
    if stats.commands > 0 {
        println!(
            "[info] {} commands: {}",
            stats.commands,
            join(&stats.command_names, "")
        );
    }
    if all_ok {
        println!("All AOF files and manifest are valid");
    }
    all_ok
}

fn usage() -> ExitCode {
    eprintln!("Usage: tandem-check rdb <file.rdb>\n       tandem-check aof [--fix] <file.manifest|file.aof>");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["rdb", file] => check_rdb(Path::new(file)),
        ["aof", "--fix", file] | ["aof", file, "--fix"] => check_aof(Path::new(file), true),
        ["aof", file] => check_aof(Path::new(file), false),
        _ => return usage(),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
