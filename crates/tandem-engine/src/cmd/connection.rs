//! Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET.

use std::sync::atomic::Ordering;

use tandem_resp::Proto;

use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdError, CmdResult, DB_RANGE, NOT_INTEGER};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: FAST | SUB_CONTEXT,
        keys: Keys::None,
        run: ping,
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: FAST,
        keys: Keys::None,
        run: echo,
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: FAST | LOADING | STALE,
        keys: Keys::None,
        run: select,
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: NO_AUTH | LOADING | STALE | FAST | TX_CONTROL | SUB_CONTEXT,
        keys: Keys::None,
        run: quit,
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NO_AUTH | LOADING | STALE | FAST,
        keys: Keys::None,
        run: auth,
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: NO_AUTH | LOADING | STALE | FAST,
        keys: Keys::None,
        run: hello,
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: NO_AUTH | LOADING | STALE | FAST | TX_CONTROL | SUB_CONTEXT,
        keys: Keys::None,
        run: reset,
    },
];

fn ping(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc() > 2 {
        return Err(crate::error::wrong_arity("ping"));
    }
    if c.sess.proto == Proto::Resp2 && c.sess.is_subscriber() {
        c.out.array(2);
        c.out.bulk(b"pong");
        c.out.bulk(c.argv.get(1).copied().unwrap_or(b""));
    } else if c.argc() == 2 {
        c.out.bulk(c.argv[1]);
    } else {
        c.out.simple("PONG");
    }
    Ok(())
}

fn echo(c: &mut Call<'_, '_>) -> CmdResult {
    c.out.bulk(c.argv[1]);
    Ok(())
}

fn select(c: &mut Call<'_, '_>) -> CmdResult {
    let db = tandem_resp::parse_i64(c.argv[1]).ok_or(NOT_INTEGER)?;
    if db < 0 || db as usize >= c.engine.keyspace.databases() {
        return Err(DB_RANGE);
    }
    c.sess.db = db as usize;
    c.sess.handle.db.store(db as usize, Ordering::Relaxed);
    c.out.ok();
    Ok(())
}

fn quit(c: &mut Call<'_, '_>) -> CmdResult {
    c.out.ok();
    c.close();
    Ok(())
}

const WRONGPASS: CmdError =
    CmdError::fixed("WRONGPASS invalid username-password pair or user is disabled.");

/// Checks `AUTH [user] password`; on success marks the session authenticated.
fn authenticate(c: &mut Call<'_, '_>, user: Option<&[u8]>, pass: &[u8]) -> CmdResult {
    if !c.engine.auth_required() {
        if user.is_none() {
            return Err(CmdError::fixed(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        // `AUTH default <anything>` succeeds when no password is set (nopass user).
        if user == Some(b"default") {
            c.sess.authenticated = true;
            return Ok(());
        }
        return Err(WRONGPASS);
    }
    if user.is_some_and(|u| u != b"default") || !c.engine.check_password(pass) {
        return Err(WRONGPASS);
    }
    c.sess.authenticated = true;
    Ok(())
}

fn auth(c: &mut Call<'_, '_>) -> CmdResult {
    match c.argc() {
        2 => authenticate(c, None, c.argv[1])?,
        3 => authenticate(c, Some(c.argv[1]), c.argv[2])?,
        _ => return Err(crate::error::SYNTAX),
    }
    c.out.ok();
    Ok(())
}

fn hello(c: &mut Call<'_, '_>) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if c.argc() > 1 {
        let v = tandem_resp::parse_i64(c.argv[1]).ok_or(CmdError::fixed(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::fixed("NOPROTO unsupported protocol version"));
        }
        proto = Some(if v == 3 { Proto::Resp3 } else { Proto::Resp2 });
        i = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut setname: Option<&[u8]> = None;
    while i < c.argc() {
        if c.is(i, "auth") && i + 2 < c.argc() {
            auth = Some((c.argv[i + 1], c.argv[i + 2]));
            i += 3;
        } else if c.is(i, "setname") && i + 1 < c.argc() {
            setname = Some(c.argv[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(c.argv[i])
            )));
        }
    }
    if let Some((user, pass)) = auth {
        authenticate(c, Some(user), pass)?;
    }
    if !c.sess.authenticated {
        return Err(CmdError::fixed(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = setname {
        super::server::validate_client_name(name)?;
        *c.sess.handle.name.lock() = if name.is_empty() {
            None
        } else {
            Some(name.to_vec())
        };
    }
    if let Some(p) = proto {
        c.sess.proto = p;
        c.sess
            .handle
            .proto3
            .store(p == Proto::Resp3, Ordering::Relaxed);
        c.out.set_proto(p);
    }
    let replica = c.engine.is_replica.load(Ordering::Relaxed);
    c.out.map(7);
    c.out.bulk(b"server");
    c.out.bulk(b"redis");
    c.out.bulk(b"version");
    c.out.bulk(b"7.0.15");
    c.out.bulk(b"proto");
    c.out.int(if c.sess.proto == Proto::Resp3 { 3 } else { 2 });
    c.out.bulk(b"id");
    c.out.int(c.sess.handle.id as i64);
    c.out.bulk(b"mode");
    c.out.bulk(b"standalone");
    c.out.bulk(b"role");
    c.out.bulk(if replica { b"replica" } else { b"master" });
    c.out.bulk(b"modules");
    c.out.array(0);
    Ok(())
}

fn reset(c: &mut Call<'_, '_>) -> CmdResult {
    super::multi::discard_transaction(c);
    super::multi::unwatch_all(c);
    super::pubsub::unsubscribe_all(c);
    super::server::reset_client(c);
    c.sess.db = 0;
    c.sess.handle.db.store(0, Ordering::Relaxed);
    c.sess.proto = Proto::Resp2;
    c.sess.handle.proto3.store(false, Ordering::Relaxed);
    *c.sess.handle.name.lock() = None;
    c.sess.authenticated = !c.engine.auth_required();
    c.out.set_proto(Proto::Resp2);
    c.out.simple("RESET");
    Ok(())
}
