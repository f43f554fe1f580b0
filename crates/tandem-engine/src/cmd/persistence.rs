//! Persistence commands: SAVE, BGSAVE [SCHEDULE], LASTSAVE, BGREWRITEAOF, with Redis
//! 7.0.15's replies. The work is done by the engine's `persist` module.

use std::sync::atomic::Ordering;

use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::persist::{aof, save};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "save",
        arity: 1,
        flags: ADMIN | NO_MULTI,
        keys: Keys::None,
        run: save_cmd,
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: ADMIN,
        keys: Keys::None,
        run: bgsave,
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: ADMIN,
        keys: Keys::None,
        run: bgrewriteaof,
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        run: lastsave,
    },
];

const BGSAVE_IN_PROGRESS: CmdError = CmdError::fixed("ERR Background save already in progress");

fn save_cmd(c: &mut Call<'_, '_>) -> CmdResult {
    if c.engine.persist.rdb.bgsave_running.load(Ordering::Acquire) {
        return Err(BGSAVE_IN_PROGRESS);
    }
    save::save_sync(c.engine).map_err(|_| CmdError::fixed("ERR"))?;
    c.out.ok();
    Ok(())
}

fn bgsave(c: &mut Call<'_, '_>) -> CmdResult {
    let schedule = match c.argc() {
        1 => false,
        2 if c.is(1, "schedule") => true,
        _ => return Err(SYNTAX),
    };
    let p = &c.engine.persist;
    if p.rdb.bgsave_running.load(Ordering::Acquire) {
        return Err(BGSAVE_IN_PROGRESS);
    }
    if p.aof.rewrite_running() || c.in_exec {
        if schedule || c.in_exec {
            p.rdb.bgsave_scheduled.store(true, Ordering::Release);
            c.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::fixed(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    match save::bgsave(&c.engine.arc()) {
        Ok(()) => {
            c.out.simple("Background saving started");
            Ok(())
        }
        Err(save::BgsaveRefused::InProgress) => Err(BGSAVE_IN_PROGRESS),
        Err(save::BgsaveRefused::Spawn) => Err(CmdError::fixed("ERR")),
    }
}

fn bgrewriteaof(c: &mut Call<'_, '_>) -> CmdResult {
    let p = &c.engine.persist;
    if p.aof.rewrite_running() {
        return Err(CmdError::fixed(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    if p.rdb.bgsave_running.load(Ordering::Acquire) || c.in_exec {
        p.aof.sh.schedule_rewrite();
        c.out
            .simple("Background append only file rewriting scheduled");
        return Ok(());
    }
    match aof::start_rewrite(&c.engine.arc()) {
        Ok(()) => {
            c.out.simple("Background append only file rewriting started");
            Ok(())
        }
        Err(aof::RewriteRefused::InProgress) => Err(CmdError::fixed(
            "ERR Background append only file rewriting already in progress",
        )),
        Err(aof::RewriteRefused::Spawn) => Err(CmdError::fixed(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        )),
    }
}

fn lastsave(c: &mut Call<'_, '_>) -> CmdResult {
    let t = c.engine.persist.rdb.last_save_s.load(Ordering::Relaxed);
    c.out.int(t as i64);
    Ok(())
}
