//! CLIENT: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE, NO-EVICT, REPLY,
//! GETREDIR, TRACKING, TRACKINGINFO, CACHING, UNBLOCK, HELP.
//!
//! Client tracking (server-assisted client-side caching) is not implemented: `CLIENT
//! TRACKING on` is refused rather than accepted silently, since a client that believes
//! it tracks keys would serve stale data. Redis 7.0 has no `SETINFO` or `NO-TOUCH`;
//! they get Redis 7.0's unknown-subcommand error.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{find_sub, help, Sub};
use crate::call::Call;
use crate::command::flags::*;
use crate::error::{unknown_subcommand, CmdError, CmdResult, SYNTAX};
use crate::session::{ClientHandle, ClientKind, UNBLOCK_ERROR, UNBLOCK_TIMEOUT};
use crate::Pause;

const CONN: u32 = NOSCRIPT | LOADING | STALE;
const ADMIN_CONN: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// CLIENT's subcommands.
pub(crate) const SUBS: &[Sub] = &[
    Sub::new("caching", "client|caching", 3, CONN),
    Sub::new("getredir", "client|getredir", 2, CONN),
    Sub::new("getname", "client|getname", 2, CONN),
    Sub::new("id", "client|id", 2, CONN),
    Sub::new("info", "client|info", 2, CONN),
    Sub::new("kill", "client|kill", -3, ADMIN_CONN),
    Sub::new("list", "client|list", -2, ADMIN_CONN),
    Sub::new("no-evict", "client|no-evict", 3, ADMIN_CONN),
    Sub::new("pause", "client|pause", -3, ADMIN_CONN),
    Sub::new("reply", "client|reply", 3, CONN),
    Sub::new("setname", "client|setname", 3, CONN),
    Sub::new("tracking", "client|tracking", -3, CONN),
    Sub::new("trackinginfo", "client|trackinginfo", 2, CONN),
    Sub::new("unblock", "client|unblock", -3, ADMIN_CONN),
    Sub::new("unpause", "client|unpause", 2, ADMIN_CONN),
    Sub::new("help", "client|help", 2, LOADING | STALE),
];

const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// Client types as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Normal,
    Replica,
    Pubsub,
    Master,
}

fn parse_type(name: &[u8]) -> Result<Type, CmdError> {
    let t = match name.to_ascii_lowercase().as_slice() {
        b"normal" => Type::Normal,
        b"slave" | b"replica" => Type::Replica,
        b"pubsub" => Type::Pubsub,
        b"master" => Type::Master,
        _ => {
            return Err(CmdError::msg(format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(name)
            )))
        }
    };
    Ok(t)
}

fn subscriptions(h: &ClientHandle) -> usize {
    h.sub_count.load(Ordering::Relaxed)
        + h.meta.psub_count.load(Ordering::Relaxed)
        + h.meta.ssub_count.load(Ordering::Relaxed)
}

/// Redis's `getClientType`: MONITOR clients count as normal.
fn client_type(h: &ClientHandle) -> Type {
    match h.kind() {
        ClientKind::Master => Type::Master,
        ClientKind::Replica if !h.meta.monitor.load(Ordering::Relaxed) => Type::Replica,
        _ if subscriptions(h) > 0 => Type::Pubsub,
        _ => Type::Normal,
    }
}

/// One CLIENT LIST line (without the newline), in Redis 7.0's field order.
fn client_info(out: &mut String, h: &ClientHandle, now_ms: u64) {
    let mut flags = String::new();
    if h.meta.monitor.load(Ordering::Relaxed) {
        flags.push('O');
    } else if h.kind() == ClientKind::Replica {
        flags.push('S');
    }
    if h.kind() == ClientKind::Master {
        flags.push('M');
    }
    if subscriptions(h) > 0 {
        flags.push('P');
    }
    let in_multi = h.in_multi.load(Ordering::Relaxed);
    if in_multi {
        flags.push('x');
    }
    if h.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    if h.is_killed() {
        flags.push('A');
    }
    if h.meta.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let name = h
        .name
        .lock()
        .as_ref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let multi = if in_multi {
        h.meta.multi_len.load(Ordering::Relaxed) as i64
    } else {
        -1
    };
    let resp = if h.proto3.load(Ordering::Relaxed) {
        3
    } else {
        2
    };
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
        h.id,
        h.addr,
        h.laddr,
        h.meta.fd.load(Ordering::Relaxed),
        name,
        now_ms.saturating_sub(h.created_ms) / 1000,
        now_ms.saturating_sub(h.last_cmd_ms.load(Ordering::Relaxed)) / 1000,
        flags,
        h.db.load(Ordering::Relaxed),
        h.sub_count.load(Ordering::Relaxed),
        h.meta.psub_count.load(Ordering::Relaxed),
        h.meta.ssub_count.load(Ordering::Relaxed),
        multi,
        *h.last_cmd.lock(),
        resp,
    );
}

/// Live (not killed) clients.
fn live_clients(c: &Call<'_, '_>) -> Vec<Arc<ClientHandle>> {
    let mut all = c.engine.clients.all();
    all.retain(|h| !h.is_killed());
    all
}

pub(super) fn client(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = find_sub(c, "client", SUBS)?;
    match sub.name {
        "help" => help(c, "CLIENT", HELP),
        "id" => c.out.int(c.sess.handle.id as i64),
        "getname" => {
            let name = c.sess.handle.name.lock().clone();
            match name {
                Some(n) => c.out.bulk(&n),
                None => c.out.null(),
            }
        }
        "setname" => {
            let name = c.argv[2];
            super::validate_client_name(name)?;
            *c.sess.handle.name.lock() = if name.is_empty() {
                None
            } else {
                Some(name.to_vec())
            };
            c.out.ok();
        }
        "info" => {
            let mut s = String::new();
            client_info(&mut s, &c.sess.handle, c.now_ms);
            s.push('\n');
            c.out.verbatim(s.as_bytes());
        }
        "list" => list(c)?,
        "kill" => kill(c)?,
        "pause" => pause(c)?,
        "unpause" => {
            c.engine.set_pause(Pause::default());
            c.out.ok();
        }
        "no-evict" => {
            let on = on_off(c.argv[2]).ok_or(SYNTAX)?;
            c.sess.handle.meta.no_evict.store(on, Ordering::Relaxed);
            c.out.ok();
        }
        "reply" => reply(c)?,
        "getredir" => c.out.int(-1),
        "tracking" => match on_off(c.argv[2]) {
            Some(false) => c.out.ok(),
            Some(true) => {
                return Err(CmdError::fixed(
                    "ERR CLIENT TRACKING is not supported by this server",
                ))
            }
            None => return Err(SYNTAX),
        },
        "trackinginfo" => {
            c.out.map(3);
            c.out.bulk(b"flags");
            c.out.set(1);
            c.out.bulk(b"off");
            c.out.bulk(b"redirect");
            c.out.int(-1);
            c.out.bulk(b"prefixes");
            c.out.array(0);
        }
        "caching" => {
            return Err(CmdError::fixed(
                "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
            ))
        }
        "unblock" => unblock(c)?,
        _ => return Err(unknown_subcommand("client", c.argv[1])),
    }
    Ok(())
}

fn on_off(a: &[u8]) -> Option<bool> {
    if a.eq_ignore_ascii_case(b"on") {
        Some(true)
    } else if a.eq_ignore_ascii_case(b"off") {
        Some(false)
    } else {
        None
    }
}

fn list(c: &mut Call<'_, '_>) -> CmdResult {
    let mut text = String::new();
    if c.argc() == 4 && c.is(2, "type") {
        let t = parse_type(c.argv[3])?;
        for h in live_clients(c).iter().filter(|h| client_type(h) == t) {
            client_info(&mut text, h, c.now_ms);
            text.push('\n');
        }
    } else if c.argc() > 3 && c.is(2, "id") {
        let mut ids = Vec::with_capacity(c.argc() - 3);
        for a in &c.argv[3..] {
            ids.push(tandem_resp::parse_i64(a).ok_or(CmdError::fixed("ERR Invalid client ID"))?);
        }
        for id in ids {
            if let Some(h) = u64::try_from(id)
                .ok()
                .and_then(|id| c.engine.clients.get(id))
                .filter(|h| !h.is_killed())
            {
                client_info(&mut text, &h, c.now_ms);
                text.push('\n');
            }
        }
    } else if c.argc() != 2 {
        return Err(SYNTAX);
    } else {
        for h in live_clients(c) {
            client_info(&mut text, &h, c.now_ms);
            text.push('\n');
        }
    }
    c.out.verbatim(text.as_bytes());
    Ok(())
}

fn kill(c: &mut Call<'_, '_>) -> CmdResult {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut ty: Option<Type> = None;
    let mut id: Option<u64> = None;
    let mut skipme = true;
    let old_form = c.argc() == 3;
    if old_form {
        addr = Some(c.argv[2]);
        skipme = false;
    } else {
        let mut i = 2;
        while i < c.argc() {
            let more = c.argc() > i + 1;
            if c.is(i, "id") && more {
                let n = tandem_resp::parse_i64(c.argv[i + 1])
                    .filter(|n| *n >= 1)
                    .ok_or(CmdError::fixed("ERR client-id should be greater than 0"))?;
                id = Some(n as u64);
            } else if c.is(i, "type") && more {
                ty = Some(parse_type(c.argv[i + 1])?);
            } else if c.is(i, "addr") && more {
                addr = Some(c.argv[i + 1]);
            } else if c.is(i, "laddr") && more {
                laddr = Some(c.argv[i + 1]);
            } else if c.is(i, "user") && more {
                if !c.argv[i + 1].eq(b"default") {
                    return Err(CmdError::msg(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(c.argv[i + 1])
                    )));
                }
            } else if c.is(i, "skipme") && more {
                if c.is(i + 1, "yes") {
                    skipme = true;
                } else if c.is(i + 1, "no") {
                    skipme = false;
                } else {
                    return Err(SYNTAX);
                }
            } else {
                return Err(SYNTAX);
            }
            i += 2;
        }
    }
    let me = c.sess.handle.id;
    let mut killed = 0;
    let mut close_me = false;
    for h in live_clients(c) {
        if addr.is_some_and(|a| a != h.addr.as_bytes())
            || laddr.is_some_and(|a| a != h.laddr.as_bytes())
            || ty.is_some_and(|t| t != client_type(&h))
            || id.is_some_and(|id| id != h.id)
            || (h.id == me && skipme)
        {
            continue;
        }
        if h.id == me {
            close_me = true;
        } else {
            h.kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::fixed("ERR No such client"));
        }
        c.out.ok();
    } else {
        c.out.int(killed);
    }
    if close_me {
        c.close();
    }
    Ok(())
}

fn pause(c: &mut Call<'_, '_>) -> CmdResult {
    let ms = tandem_resp::parse_i64(c.argv[2]).ok_or(CmdError::fixed(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    let mut writes_only = false;
    if c.argc() == 4 {
        if c.is(3, "write") {
            writes_only = true;
        } else if !c.is(3, "all") {
            return Err(CmdError::fixed(
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ));
        }
    }
    let now = c.engine.clock.now_ms();
    let end = if ms > 0 {
        now.checked_add(ms as u64)
            .filter(|e| *e <= i64::MAX as u64)
            .ok_or(CmdError::fixed("ERR timeout is out of range"))?
    } else {
        0
    };
    let cur = c.engine.pause();
    let active = cur.until_ms > now;
    // An ongoing pause keeps the more restrictive mode and the later end.
    let p = Pause {
        until_ms: if active { cur.until_ms.max(end) } else { end },
        writes_only: if active {
            cur.writes_only && writes_only
        } else {
            writes_only
        },
    };
    if p.until_ms > now {
        c.engine.set_pause(p);
    }
    c.out.ok();
    Ok(())
}

fn reply(c: &mut Call<'_, '_>) -> CmdResult {
    if c.sess.handle.kind() == ClientKind::Master {
        return Ok(());
    }
    if c.is(2, "on") {
        c.sess.suppress_replies = false;
        c.sess.skip_next_reply = false;
        c.out.ok();
    } else if c.is(2, "off") {
        c.sess.suppress_replies = true;
    } else if c.is(2, "skip") {
        if !c.sess.suppress_replies {
            c.sess.skip_next_reply = true;
        }
    } else {
        return Err(SYNTAX);
    }
    Ok(())
}

fn unblock(c: &mut Call<'_, '_>) -> CmdResult {
    let id = c.int_arg(2)?;
    let mode = if c.argc() == 4 {
        if c.is(3, "timeout") {
            UNBLOCK_TIMEOUT
        } else if c.is(3, "error") {
            UNBLOCK_ERROR
        } else {
            return Err(CmdError::fixed(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    } else {
        UNBLOCK_TIMEOUT
    };
    let target = u64::try_from(id)
        .ok()
        .and_then(|id| c.engine.clients.get(id))
        .filter(|h| h.blocked.load(Ordering::Relaxed) && c.engine.blocking.contains(h.id));
    match target {
        Some(h) => {
            h.meta.unblock.store(mode, Ordering::Release);
            h.ready.store(true, Ordering::Release);
            h.notify();
            c.out.int(1);
        }
        None => c.out.int(0),
    }
    Ok(())
}
