//! AOF reader tests.

use super::*;

type Got = Vec<(u64, Vec<Vec<u8>>)>;

fn cmds(data: &[u8]) -> (Got, Result<CommandsRead, (u64, AofErrorKind)>) {
    let mut got = Vec::new();
    let r = read_commands(data, 0, |args, off| {
        got.push((off, args.iter().map(|a| a.to_vec()).collect()));
        Ok(())
    });
    (got, r)
}

fn file() -> Vec<u8> {
    let mut v = Vec::new();
    encode_command(&mut v, &["SELECT", "0"]);
    encode_timestamp(&mut v, 1_700_000_000);
    encode_command(&mut v, &["set", "k1", "v1"]);
    encode_command(&mut v, &["MULTI"]);
    encode_command(&mut v, &["incr", "n"]);
    encode_command(&mut v, &["EXEC"]);
    encode_command(&mut v, &["rpush", "l", "a b", ""]);
    v
}

#[test]
fn reads_commands_with_offsets() {
    let data = file();
    let (got, r) = cmds(&data);
    let r = r.unwrap();
    assert_eq!(r.tail, Tail::Complete);
    assert_eq!(r.commands, 6);
    assert_eq!(got[0], (0, vec![b"SELECT".to_vec(), b"0".to_vec()]));
    assert_eq!(got[1].0, 23 + 16);
    assert_eq!(got[5].1[2], b"a b");
    // Every reported offset starts a command.
    for (off, _) in &got {
        assert_eq!(data[*off as usize], b'*');
    }
}

#[test]
fn torn_tail_at_every_offset() {
    let data = file();
    let (full, _) = cmds(&data);
    let ends: Vec<u64> = {
        let mut e: Vec<u64> = full.iter().map(|(o, _)| *o).collect();
        e.push(data.len() as u64);
        e
    };
    for cut in 0..data.len() {
        let (got, r) = cmds(&data[..cut]);
        let r = r.unwrap();
        match r.tail {
            Tail::Complete => {
                // Only at a boundary between whole commands, outside MULTI.
                assert!(
                    ends.contains(&(cut as u64)) || data[..cut].ends_with(b"\n"),
                    "cut {cut}"
                );
            }
            Tail::Truncated { valid_up_to, kind } => {
                assert!(valid_up_to <= cut as u64);
                // Nothing past the valid point was delivered.
                assert!(got.iter().all(|(o, _)| *o < valid_up_to));
                if kind == TailKind::OpenMulti {
                    assert!(data[valid_up_to as usize..].starts_with(b"*1\r\n$5\r\nMULTI"));
                }
            }
        }
        // The incr inside MULTI is delivered only with its EXEC.
        let saw_incr = got.iter().any(|(_, a)| a[0] == b"incr");
        let saw_exec = got.iter().any(|(_, a)| a[0] == b"EXEC");
        assert_eq!(saw_incr, saw_exec, "cut {cut}");
    }
}

#[test]
fn damage_in_the_middle_is_an_error_with_offset() {
    let data = file();
    let mut bad = data.clone();
    bad[23 + 16] = b'x'; // the '*' of `set`
    let (_, r) = cmds(&bad);
    let (off, kind) = r.unwrap_err();
    assert_eq!(off, 39);
    assert!(matches!(kind, AofErrorKind::Format(_)));
    let mut bad = data.clone();
    let p = data.windows(4).position(|w| w == b"$2\r\n").unwrap();
    bad[p] = b'%';
    let (_, r) = cmds(&bad);
    assert!(matches!(r.unwrap_err().1, AofErrorKind::Format(_)));
    assert!(matches!(
        cmds(b"*0\r\n").1.unwrap_err().1,
        AofErrorKind::Format(_)
    ));
    assert!(matches!(
        cmds(b"SET a b\r\n").1.unwrap_err().1,
        AofErrorKind::Format(_)
    ));
    // Random flips never panic.
    for i in 0..data.len() {
        for x in [1u8, 0x20, 0x80, 0xff] {
            let mut d = data.clone();
            d[i] ^= x;
            let _ = cmds(&d);
        }
    }
}

struct Sink {
    keys: usize,
    commands: Vec<Vec<Vec<u8>>>,
}

impl RdbVisitor for Sink {
    fn entry(&mut self, _e: rdb::Entry<'_>) -> Result<(), VisitError> {
        self.keys += 1;
        Ok(())
    }
}

impl AofVisitor for Sink {
    fn command(&mut self, args: &[&[u8]], _offset: u64) -> Result<(), VisitError> {
        self.commands
            .push(args.iter().map(|a| a.to_vec()).collect());
        Ok(())
    }
}

#[test]
fn load_dir_with_rdb_base_and_torn_incr() {
    let dir = std::env::temp_dir().join(format!("tandem-aof-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut m = AofManifest::default();
    let base = m.new_base("appendonly.aof", true);
    let incr = m.new_incr("appendonly.aof");
    std::fs::write(dir.join("appendonly.aof.manifest"), m.to_text()).unwrap();
    let mut w = rdb::RdbWriter::new(Vec::new(), rdb::WriteOptions::default());
    w.aux_fields(&rdb::AuxFields {
        aof_base: true,
        ..Default::default()
    })
    .unwrap();
    w.select_db(0, 1, 0).unwrap();
    w.string(b"k", b"v", &Default::default()).unwrap();
    std::fs::write(dir.join(&base), w.finish().unwrap()).unwrap();
    let mut data = file();
    let good_len = data.len() as u64;
    data.extend_from_slice(b"*3\r\n$3\r\nset\r\n$1\r\nx");
    std::fs::write(dir.join(&incr), &data).unwrap();

    let mut sink = Sink {
        keys: 0,
        commands: Vec::new(),
    };
    let strict = LoadOptions {
        recovery: RecoveryMode::Strict,
        ..LoadOptions::default()
    };
    let e = load_dir(&dir, "appendonly.aof.manifest", &mut sink, &strict).unwrap_err();
    assert!(matches!(
        e.kind,
        AofErrorKind::UnexpectedEof(TailKind::MidCommand)
    ));
    assert_eq!(e.offset, good_len);

    let mut sink = Sink {
        keys: 0,
        commands: Vec::new(),
    };
    let opts = LoadOptions {
        truncate_torn_tail: true,
        ..LoadOptions::default()
    };
    let r = load_dir(&dir, "appendonly.aof.manifest", &mut sink, &opts).unwrap();
    assert_eq!(sink.keys, 1);
    assert_eq!(sink.commands.len(), 6);
    let t = r.truncation.unwrap();
    assert_eq!((t.valid_up_to, t.truncated_on_disk), (good_len, true));
    assert_eq!(std::fs::metadata(dir.join(&incr)).unwrap().len(), good_len);
    // Loads cleanly now.
    let r = load_dir(&dir, "appendonly.aof.manifest", &mut sink, &opts).unwrap();
    assert!(r.truncation.is_none());
    // A missing file is named.
    std::fs::remove_file(dir.join(&incr)).unwrap();
    let e = load_dir(&dir, "appendonly.aof.manifest", &mut sink, &opts).unwrap_err();
    assert!(matches!(e.kind, AofErrorKind::MissingFile));
    assert!(e.to_string().contains("appendonly.aof.1.incr.aof"));
    let _ = std::fs::remove_dir_all(&dir);
}
