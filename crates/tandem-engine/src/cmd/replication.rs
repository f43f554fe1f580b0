//! Replication commands: REPLCONF, PSYNC, SYNC, REPLICAOF/SLAVEOF, ROLE, WAIT.

use std::sync::atomic::Ordering;

use crate::call::{Call, Flow};
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::repl::{replica::LinkState, ReplicaState, SyncRequest};
use crate::session::BlockKind;
use crate::ClientKind;

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "replconf",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        keys: Keys::None,
        run: replconf,
    },
    CommandSpec {
        name: "psync",
        arity: -3,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        keys: Keys::None,
        run: psync,
    },
    CommandSpec {
        name: "sync",
        arity: 1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        keys: Keys::None,
        run: psync,
    },
    CommandSpec {
        name: "replicaof",
        arity: 3,
        flags: ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        keys: Keys::None,
        run: replicaof,
    },
    CommandSpec {
        name: "slaveof",
        arity: 3,
        flags: ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        keys: Keys::None,
        run: replicaof,
    },
    CommandSpec {
        name: "role",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST,
        keys: Keys::None,
        run: role,
    },
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT,
        keys: Keys::None,
        run: wait,
    },
];

fn replconf(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc().is_multiple_of(2) {
        return Err(SYNTAX);
    }
    let mut i = 1;
    while i < c.argc() {
        let opt = c.argv[i];
        let val = c.argv[i + 1];
        if opt.eq_ignore_ascii_case(b"listening-port") {
            let p = tandem_resp::parse_i64(val).ok_or(NOT_INTEGER)?;
            c.sess.repl_hello.port = p.clamp(0, 65535) as u16;
        } else if opt.eq_ignore_ascii_case(b"ip-address") {
            if val.len() >= 256 {
                return Err(CmdError::msg(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
            c.sess.repl_hello.ip = Some(String::from_utf8_lossy(val).into_owned());
        } else if opt.eq_ignore_ascii_case(b"capa") {
            if val.eq_ignore_ascii_case(b"eof") {
                c.sess.repl_hello.capa_eof = true;
            } else if val.eq_ignore_ascii_case(b"psync2") {
                c.sess.repl_hello.capa_psync2 = true;
            }
        } else if opt.eq_ignore_ascii_case(b"ack") || opt.eq_ignore_ascii_case(b"getack") {
            // From an attached replica these are read by its link thread; from anyone
            // else they get no reply, as in Redis.
            return Ok(());
        } else if opt.eq_ignore_ascii_case(b"rdb-only") {
            match val {
                b"0" => c.sess.repl_hello.rdb_only = false,
                b"1" => c.sess.repl_hello.rdb_only = true,
                _ => return Err(CmdError::fixed("ERR rdb-only must be 0 or 1")),
            }
        } else if opt.eq_ignore_ascii_case(b"rdb-filter-only") {
            // Only "functions" filtering exists; tandem has no functions, so nothing to drop.
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
        i += 2;
    }
    c.out.ok();
    Ok(())
}

fn psync(c: &mut Call<'_, '_>) -> CmdResult {
    if c.sess.handle().kind() == ClientKind::Replica {
        return Ok(());
    }
    if let Some(m) = c.engine.master() {
        if m.state() != LinkState::Connected {
            return Err(CmdError::fixed(
                "NOMASTERLINK Can't SYNC while not connected with my master",
            ));
        }
    }
    let legacy = c.is(0, "sync");
    let (replid, offset) = if legacy {
        (b"?".to_vec(), -1)
    } else {
        (
            c.argv[1].to_vec(),
            tandem_resp::parse_i64(c.argv[2]).unwrap_or(-1),
        )
    };
    c.sess.sync_request = Some(SyncRequest {
        legacy,
        replid,
        offset,
    });
    c.flow = Flow::Replica;
    Ok(())
}

fn replicaof(c: &mut Call<'_, '_>) -> CmdResult {
    if c.is(1, "no") && c.is(2, "one") {
        if c.engine.master().is_some() {
            c.engine.arc().promote();
            let h = c.sess.handle();
            c.engine.log(
                crate::Level::Notice,
                &format!(
                    "MASTER MODE enabled (user request from 'id={} addr={}')",
                    h.id, h.addr
                ),
            );
        }
        c.out.ok();
        return Ok(());
    }
    if c.sess.handle().kind() == ClientKind::Replica {
        return Err(CmdError::fixed(
            "ERR Command is not valid when client is a replica.",
        ));
    }
    let port = tandem_resp::parse_i64(c.argv[2])
        .filter(|p| (0..=65535).contains(p))
        .ok_or(CmdError::fixed("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(c.argv[1]).into_owned();
    if !c.engine.arc().replicaof(&host, port as u16) {
        c.engine.log(
            crate::Level::Notice,
            "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
        );
        c.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    let h = c.sess.handle();
    c.engine.log(
        crate::Level::Notice,
        &format!(
            "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
            h.id, h.addr
        ),
    );
    c.out.ok();
    Ok(())
}

fn role(c: &mut Call<'_, '_>) -> CmdResult {
    let log = &c.engine.repl.log;
    match c.engine.master() {
        None => {
            let online: Vec<_> = c
                .engine
                .repl
                .replicas()
                .into_iter()
                .filter(|r| r.state() == ReplicaState::Online)
                .collect();
            c.out.array(3);
            c.out.bulk(b"master");
            c.out.int(log.offset() as i64);
            c.out.array(online.len());
            for r in online {
                c.out.array(3);
                c.out.bulk(r.ip.as_bytes());
                c.out.bulk(r.port.to_string().as_bytes());
                c.out
                    .bulk(r.ack_offset.load(Ordering::Relaxed).to_string().as_bytes());
            }
        }
        Some(m) => {
            let state = m.state();
            c.out.array(5);
            c.out.bulk(b"slave");
            c.out.bulk(m.host.as_bytes());
            c.out.int(i64::from(m.port));
            c.out.bulk(state.name().as_bytes());
            c.out.int(if state == LinkState::Connected {
                log.offset() as i64
            } else {
                -1
            });
        }
    }
    Ok(())
}

fn wait(c: &mut Call<'_, '_>) -> CmdResult {
    if c.engine.master().is_some() {
        return Err(CmdError::fixed(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let n = c.int_arg(1)?;
    let timeout = tandem_resp::parse_i64(c.argv[2]).ok_or(CmdError::fixed(
        "ERR timeout is not an integer or out of range",
    ))?;
    if timeout < 0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    let target = c.sess.last_write_offset;
    let acked = c.engine.repl.acked(target);
    if acked as i64 >= n || c.in_exec {
        c.out.int(acked as i64);
        return Ok(());
    }
    c.engine.request_acks();
    let deadline = if timeout == 0 {
        None
    } else {
        Some(c.now_ms + timeout as u64)
    };
    c.block_on(
        BlockKind::Wait {
            offset: target,
            replicas: n.max(0) as usize,
        },
        Vec::new(),
        deadline,
    )
}
