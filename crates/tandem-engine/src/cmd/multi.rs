//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! EXEC locks the shards of every key of every queued command (in canonical order; all
//! shards if a queued command spans whole databases), runs the commands one after the
//! other under those locks, and propagates their effects wrapped in MULTI/EXEC, so no
//! other client observes, or interleaves with, a partial transaction.

use std::sync::atomic::Ordering;

use tandem_resp::encode;

use crate::call::{Call, Flow};
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdError, CmdResult};
use crate::session::Multi;

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        keys: Keys::None,
        run: multi,
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TX_CONTROL,
        keys: Keys::None,
        run: exec,
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        keys: Keys::None,
        run: discard,
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        keys: Keys::unlocked(1, -1, 1),
        run: watch,
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: Keys::None,
        run: unwatch,
    },
];

fn multi(c: &mut Call<'_, '_>) -> CmdResult {
    if c.sess.multi.is_some() {
        return Err(CmdError::fixed("ERR MULTI calls can not be nested"));
    }
    c.sess.multi = Some(Multi {
        queue: Vec::new(),
        aborted: false,
    });
    c.sess.handle.in_multi.store(true, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

/// Leaves MULTI state, dropping the queue.
pub(crate) fn discard_transaction(c: &mut Call<'_, '_>) {
    c.sess.multi = None;
    c.sess.handle.in_multi.store(false, Ordering::Relaxed);
}

/// Forgets every WATCH of the session.
pub(crate) fn unwatch_all(c: &mut Call<'_, '_>) {
    for (db, key) in std::mem::take(&mut c.sess.watched) {
        c.engine.keyspace.unwatch(db, &key, &c.sess.watch_flag);
    }
    c.sess.watch_flag.store(false, Ordering::Release);
}

fn discard(c: &mut Call<'_, '_>) -> CmdResult {
    if c.sess.multi.is_none() {
        return Err(CmdError::fixed("ERR DISCARD without MULTI"));
    }
    discard_transaction(c);
    unwatch_all(c);
    c.out.ok();
    Ok(())
}

fn watch(c: &mut Call<'_, '_>) -> CmdResult {
    if c.sess.multi.is_some() {
        return Err(CmdError::fixed("ERR WATCH inside MULTI is not allowed"));
    }
    for key in &c.argv[1..] {
        let db = c.sess.db;
        if c.sess
            .watched
            .iter()
            .any(|(d, k)| *d == db && &k[..] == *key)
        {
            continue;
        }
        c.engine.keyspace.watch(db, key, &c.sess.watch_flag);
        c.sess.watched.push((db, (*key).into()));
    }
    c.out.ok();
    Ok(())
}

fn unwatch(c: &mut Call<'_, '_>) -> CmdResult {
    unwatch_all(c);
    c.out.ok();
    Ok(())
}

fn exec(c: &mut Call<'_, '_>) -> CmdResult {
    let Some(m) = c.sess.multi.take() else {
        return Err(CmdError::fixed("ERR EXEC without MULTI"));
    };
    c.sess.handle.in_multi.store(false, Ordering::Relaxed);
    let dirty_watch = c.sess.watch_flag.load(Ordering::Acquire);
    unwatch_all(c);
    if m.aborted {
        return Err(CmdError::fixed(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if dirty_watch {
        c.out.null_array();
        return Ok(());
    }
    let sh = c.engine;
    // Every key of every command, following SELECTs inside the transaction.
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new(); // (db, command, arg)
    let mut whole = false;
    let mut db = c.sess.db;
    let mut tmp = Vec::new();
    for (ci, argv) in m.queue.iter().enumerate() {
        let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
        let Some(spec) = sh.commands.get(refs[0]) else {
            continue;
        };
        match spec.keys {
            Keys::Db | Keys::All => whole = true,
            keys => {
                tmp.clear();
                keys.collect(&refs, db, &mut tmp);
                pairs.extend(tmp.iter().map(|&(d, a)| (d, ci, a)));
            }
        }
        if spec.name == "select" {
            if let Some(n) = tandem_resp::parse_i64(refs[1])
                .filter(|n| *n >= 0 && (*n as usize) < sh.keyspace.databases())
            {
                db = n as usize;
            }
        }
    }
    let now = c.now_ms;
    let mut guard = if whole {
        sh.keyspace.lock_all(now)
    } else {
        let mut ids: Vec<usize> = pairs
            .iter()
            .filter(|(d, _, _)| *d < sh.keyspace.databases())
            .map(|&(d, ci, a)| sh.keyspace.shard_of(d, &m.queue[ci][a]))
            .collect();
        sh.keyspace.lock_ids(&mut ids, now)
    };
    if c.sess.handle().kind() == crate::ClientKind::Master {
        guard.ignore_expiry();
    }
    let start_db = c.sess.db;
    // The database the propagated effects are in so far (SELECTs inside the transaction).
    let mut stream_db = start_db;
    let mut effects = Vec::new();
    let out = c.out.raw();
    encode::array(out, m.queue.len());
    let mut flow = Flow::Continue;
    for argv in &m.queue {
        let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
        let (idx, spec) = sh.commands.lookup(refs[0]).expect("queued commands exist");
        let before = effects.len();
        let mut cmd_effects = Vec::new();
        let db_before = c.sess.db;
        let f = sh.run(
            c.sess,
            idx,
            spec,
            &refs,
            out,
            &mut guard,
            true,
            Some(&mut cmd_effects),
        );
        if !cmd_effects.is_empty() {
            if db_before != stream_db {
                encode::command(
                    &mut effects,
                    &[&b"SELECT"[..], db_before.to_string().as_bytes()],
                );
                stream_db = db_before;
            }
            effects.extend_from_slice(&cmd_effects);
        }
        let _ = before;
        if matches!(f, Flow::Close | Flow::Shutdown { .. }) {
            flow = f;
        }
    }
    if !effects.is_empty() {
        if let Some(p) = sh.propagator() {
            let mut wrapped = Vec::with_capacity(effects.len() + 32);
            encode::command(&mut wrapped, &[&b"MULTI"[..]]);
            wrapped.extend_from_slice(&effects);
            if stream_db != start_db {
                // The propagator records the stream as being in `start_db` afterwards.
                encode::command(
                    &mut wrapped,
                    &[&b"SELECT"[..], start_db.to_string().as_bytes()],
                );
            }
            encode::command(&mut wrapped, &[&b"EXEC"[..]]);
            c.sess.last_write_offset = p.propagate(start_db, &wrapped);
        }
    }
    drop(guard);
    if flow != Flow::Continue {
        c.flow = flow;
    }
    Ok(())
}
