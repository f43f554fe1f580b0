//! Committed fixtures: a real Redis 7 file, damaged RDB and AOF files, and the
//! `tandem-check` binary's verdicts on them.

use std::path::{Path, PathBuf};
use std::process::Command;

use tandem_persist::aof::{self, AofErrorKind, AofVisitor, Tail, TailKind};
use tandem_persist::rdb::{self, Entry, RdbErrorKind, RdbVisitor, ReadOptions, VisitError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[derive(Default)]
struct Count {
    keys: usize,
    commands: usize,
}

impl RdbVisitor for Count {
    fn entry(&mut self, _e: Entry<'_>) -> Result<(), VisitError> {
        self.keys += 1;
        Ok(())
    }
}

impl AofVisitor for Count {
    fn command(&mut self, _args: &[&[u8]], _offset: u64) -> Result<(), VisitError> {
        self.commands += 1;
        Ok(())
    }
}

fn read_rdb(name: &str) -> Result<rdb::RdbSummary, rdb::RdbError> {
    let data = std::fs::read(fixture(name)).unwrap();
    rdb::read_slice(&data, &mut Count::default(), &ReadOptions::default())
}

#[test]
fn rdb_fixtures() {
    let s = read_rdb("redis7-example-174.rdb").unwrap();
    assert_eq!((s.keys, s.expires, s.end), (6, 1, 174));
    let e = read_rdb("bad-checksum.rdb").unwrap_err();
    assert!(matches!(e.kind, RdbErrorKind::Checksum { .. }));
    assert_eq!(e.offset, 166);
    let e = read_rdb("truncated.rdb").unwrap_err();
    assert!(matches!(e.kind, RdbErrorKind::UnexpectedEof));
    assert_eq!(e.offset, 146);
    assert_eq!(e.key.as_deref(), Some(&b"e"[..]));
}

fn read_aof(name: &str) -> Result<aof::FileReport, aof::AofError> {
    aof::load_file(
        &fixture(name),
        &mut Count::default(),
        &ReadOptions::default(),
    )
}

#[test]
fn aof_fixtures() {
    let r = read_aof("torn-tail.aof").unwrap();
    assert_eq!(r.commands, 5);
    assert_eq!(
        r.tail,
        Tail::Truncated {
            valid_up_to: 118,
            kind: TailKind::MidCommand
        }
    );
    let r = read_aof("open-multi.aof").unwrap();
    assert_eq!(
        r.tail,
        Tail::Truncated {
            valid_up_to: 118,
            kind: TailKind::OpenMulti
        }
    );
    let e = read_aof("damaged-middle.aof").unwrap_err();
    assert!(matches!(e.kind, AofErrorKind::Format(_)));
    assert_eq!(e.offset, 118);
    assert!(e.to_string().contains("damaged-middle.aof"), "{e}");
}

fn check(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem-check"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn tandem_check_verdicts() {
    let f = |n: &str| fixture(n).to_string_lossy().into_owned();
    let (ok, out) = check(&["rdb", &f("redis7-all-types.rdb")]);
    assert!(ok, "{out}");
    assert!(out.contains("RDB looks OK"), "{out}");
    assert!(out.contains("stream-v2=1"), "{out}");
    let (ok, out) = check(&["rdb", &f("truncated.rdb")]);
    assert!(!ok);
    assert!(out.contains("[offset 146] unexpected end of file"), "{out}");
    assert!(out.contains("Reading key 'e'"), "{out}");
    let (ok, out) = check(&["rdb", &f("bad-checksum.rdb")]);
    assert!(!ok);
    assert!(out.contains("wrong RDB checksum"), "{out}");
    let (ok, out) = check(&["aof", &f("damaged-middle.aof")]);
    assert!(!ok);
    assert!(out.contains("offset 118"), "{out}");
    let (ok, out) = check(&["aof", &f("torn-tail.aof")]);
    assert!(!ok);
    assert!(out.contains("ok_up_to=118"), "{out}");
    // --fix on a copy cuts the torn tail and leaves a valid file.
    let tmp = std::env::temp_dir().join(format!("tandem-check-fix-{}.aof", std::process::id()));
    std::fs::copy(fixture("torn-tail.aof"), &tmp).unwrap();
    let (ok, out) = check(&["aof", "--fix", tmp.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert_eq!(std::fs::metadata(&tmp).unwrap().len(), 118);
    assert!(check(&["aof", tmp.to_str().unwrap()]).0);
    let _ = std::fs::remove_file(&tmp);
    assert!(!check(&["bogus"]).0);
}
