//! Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, and the
//! shard variants SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH with standalone semantics (one
//! shard holds every channel).
//!
//! Subscriptions are kept twice: in the session (what this client listens to, for the
//! running counts of the confirmations) and in [`crate::registry::PubSub`] (who listens
//! to a channel, for delivery). Messages are encoded per receiver (RESP2 array or RESP3
//! push) into its mailbox, and its driver is notified.
//!
//! Counts in confirmations follow Redis 7.0: channels and patterns are counted together,
//! shard channels on their own. `PUBLISH` is propagated to replicas as received (not to
//! the AOF), as Redis does.

use std::sync::atomic::Ordering;

use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{unknown_subcommand, CmdError, CmdResult};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::None,
        run: subscribe,
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::None,
        run: unsubscribe,
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::None,
        run: psubscribe,
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::None,
        run: punsubscribe,
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::unlocked(1, -1, 1),
        run: ssubscribe,
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE | SUB_CONTEXT,
        keys: Keys::unlocked(1, -1, 1),
        run: sunsubscribe,
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: Keys::None,
        run: publish,
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: Keys::unlocked(1, 1, 1),
        run: spublish,
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        run: pubsub,
    },
];

/// Subscriptions counted in SUBSCRIBE/PSUBSCRIBE confirmations (channels + patterns).
fn count(c: &Call<'_, '_>) -> i64 {
    (c.sess.channels.len() + c.sess.patterns.len()) as i64
}

/// One confirmation: `[kind, name|nil, count]` as an array (RESP2) or push (RESP3).
fn confirm(c: &mut Call<'_, '_>, kind: &[u8], name: Option<&[u8]>, n: i64) {
    c.out.push(3);
    c.out.bulk(kind);
    match name {
        Some(n) => c.out.bulk(n),
        None => c.out.null(),
    }
    c.out.int(n);
}

/// Mirrors the session's subscription counts into its handle (CLIENT LIST, INFO).
fn sync_counts(c: &mut Call<'_, '_>) {
    let h = &c.sess.handle;
    h.sub_count.store(c.sess.channels.len(), Ordering::Relaxed);
    h.meta
        .psub_count
        .store(c.sess.patterns.len(), Ordering::Relaxed);
    h.meta
        .ssub_count
        .store(c.sess.shard_channels.len(), Ordering::Relaxed);
}

fn subscribe(c: &mut Call<'_, '_>) -> CmdResult {
    for &ch in &c.argv[1..] {
        if c.sess.channels.insert(ch.into()) {
            c.engine.pubsub.subscribe(ch, &c.sess.handle);
        }
        let n = count(c);
        confirm(c, b"subscribe", Some(ch), n);
    }
    sync_counts(c);
    Ok(())
}

fn psubscribe(c: &mut Call<'_, '_>) -> CmdResult {
    for &p in &c.argv[1..] {
        if c.sess.patterns.insert(p.into()) {
            c.engine.pubsub.psubscribe(p, &c.sess.handle);
        }
        let n = count(c);
        confirm(c, b"psubscribe", Some(p), n);
    }
    sync_counts(c);
    Ok(())
}

fn ssubscribe(c: &mut Call<'_, '_>) -> CmdResult {
    for &ch in &c.argv[1..] {
        if c.sess.shard_channels.insert(ch.into()) {
            c.engine.pubsub.ssubscribe(ch, &c.sess.handle);
        }
        let n = c.sess.shard_channels.len() as i64;
        confirm(c, b"ssubscribe", Some(ch), n);
    }
    sync_counts(c);
    Ok(())
}

/// Which set of subscriptions an unsubscribe command works on.
#[derive(Clone, Copy)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

fn unsubscribe_some(c: &mut Call<'_, '_>, kind: Kind) {
    let id = c.sess.handle.id;
    let (word, names): (&[u8], Vec<Box<[u8]>>) = {
        let set = match kind {
            Kind::Channel => &c.sess.channels,
            Kind::Pattern => &c.sess.patterns,
            Kind::Shard => &c.sess.shard_channels,
        };
        let names = if c.argc() > 1 {
            c.argv[1..].iter().map(|&a| a.into()).collect()
        } else {
            set.iter().cloned().collect()
        };
        let word: &[u8] = match kind {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        };
        (word, names)
    };
    let names_given = !names.is_empty();
    for name in names {
        let removed = match kind {
            Kind::Channel => c.sess.channels.remove(&name),
            Kind::Pattern => c.sess.patterns.remove(&name),
            Kind::Shard => c.sess.shard_channels.remove(&name),
        };
        if removed {
            match kind {
                Kind::Channel => c.engine.pubsub.unsubscribe(&name, id),
                Kind::Pattern => c.engine.pubsub.punsubscribe(&name, id),
                Kind::Shard => c.engine.pubsub.sunsubscribe(&name, id),
            }
        }
        let n = match kind {
            Kind::Shard => c.sess.shard_channels.len() as i64,
            _ => count(c),
        };
        confirm(c, word, Some(&name), n);
    }
    if !names_given {
        // Nothing to unsubscribe from: one confirmation with a null name.
        let n = match kind {
            Kind::Shard => c.sess.shard_channels.len() as i64,
            _ => count(c),
        };
        confirm(c, word, None, n);
    }
    sync_counts(c);
}

fn unsubscribe(c: &mut Call<'_, '_>) -> CmdResult {
    unsubscribe_some(c, Kind::Channel);
    Ok(())
}

fn punsubscribe(c: &mut Call<'_, '_>) -> CmdResult {
    unsubscribe_some(c, Kind::Pattern);
    Ok(())
}

fn sunsubscribe(c: &mut Call<'_, '_>) -> CmdResult {
    unsubscribe_some(c, Kind::Shard);
    Ok(())
}

fn publish(c: &mut Call<'_, '_>) -> CmdResult {
    let n = c.engine.pubsub.publish(c.argv[1], c.argv[2]);
    c.engine
        .stats
        .pubsub_published
        .fetch_add(1, Ordering::Relaxed);
    c.propagate_to_replicas();
    c.out.int(n as i64);
    Ok(())
}

fn spublish(c: &mut Call<'_, '_>) -> CmdResult {
    let n = c.engine.pubsub.spublish(c.argv[1], c.argv[2]);
    c.engine
        .stats
        .pubsub_published
        .fetch_add(1, Ordering::Relaxed);
    c.propagate_to_replicas();
    c.out.int(n as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

/// `PUBSUB <sub>`: the subcommands and their Redis arities.
pub(crate) const PUBSUB_SUBS: &[super::server::Sub] = &[
    super::server::Sub::new("channels", "pubsub|channels", -2, PUBSUB | LOADING | STALE),
    super::server::Sub::new("numpat", "pubsub|numpat", 2, PUBSUB | LOADING | STALE),
    super::server::Sub::new("numsub", "pubsub|numsub", -2, PUBSUB | LOADING | STALE),
    super::server::Sub::new(
        "shardchannels",
        "pubsub|shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
    ),
    super::server::Sub::new(
        "shardnumsub",
        "pubsub|shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
    ),
    super::server::Sub::new("help", "pubsub|help", 2, LOADING | STALE),
];

fn pubsub(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = super::server::find_sub(c, "pubsub", PUBSUB_SUBS)?;
    let ps = &c.engine.pubsub;
    match sub.name {
        "help" => super::server::help(c, "PUBSUB", PUBSUB_HELP),
        "channels" | "shardchannels" => {
            if c.argc() > 3 {
                return Err(syntax_subcommand(c.argv[1], "PUBSUB"));
            }
            let pattern = c.argv.get(2).copied();
            let list = if sub.name == "channels" {
                ps.channels(pattern)
            } else {
                ps.shard_channels(pattern)
            };
            c.out.bulks(list.iter());
        }
        "numsub" | "shardnumsub" => {
            c.out.array((c.argc() - 2) * 2);
            for &ch in &c.argv[2..] {
                c.out.bulk(ch);
                let n = if sub.name == "numsub" {
                    ps.numsub(ch)
                } else {
                    ps.shard_numsub(ch)
                };
                c.out.int(n as i64);
            }
        }
        "numpat" => c.out.int(ps.numpat() as i64),
        _ => return Err(unknown_subcommand("pubsub", c.argv[1])),
    }
    Ok(())
}

/// `-ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
pub(crate) fn syntax_subcommand(sub: &[u8], cmd: &str) -> CmdError {
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {cmd} HELP.",
        String::from_utf8_lossy(sub)
    ))
}

/// Drops every subscription of the session (RESET, connection end).
pub(crate) fn unsubscribe_all(c: &mut Call<'_, '_>) {
    let id = c.sess.handle.id;
    for ch in std::mem::take(&mut c.sess.channels) {
        c.engine.pubsub.unsubscribe(&ch, id);
    }
    for p in std::mem::take(&mut c.sess.patterns) {
        c.engine.pubsub.punsubscribe(&p, id);
    }
    for ch in std::mem::take(&mut c.sess.shard_channels) {
        c.engine.pubsub.sunsubscribe(&ch, id);
    }
    sync_counts(c);
}

#[cfg(test)]
mod tests {
    use tandem_resp::Frame;

    use crate::testkit::{f::*, TestClient};

    fn push(items: Vec<Frame>) -> Frame {
        Frame::Push(items)
    }

    #[test]
    fn subscribe_confirmations_resp2() {
        let mut c = TestClient::new();
        let r = c.raw(&[b"SUBSCRIBE", b"a", b"b"]);
        assert_eq!(
            r,
            b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        );
        // Subscribing twice does not count twice.
        let r = c.raw(&[b"SUBSCRIBE", b"a"]);
        assert_eq!(r, b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n");
        assert_eq!(
            c.call(&["PSUBSCRIBE", "p*"]),
            arr(vec![bulk("psubscribe"), bulk("p*"), int(3)])
        );
        // Shard channels are counted on their own.
        assert_eq!(
            c.call(&["SSUBSCRIBE", "s"]),
            arr(vec![bulk("ssubscribe"), bulk("s"), int(1)])
        );
        assert_eq!(
            c.call(&["UNSUBSCRIBE", "x"]),
            arr(vec![bulk("unsubscribe"), bulk("x"), int(3)])
        );
        assert_eq!(
            c.call(&["SUNSUBSCRIBE"]),
            arr(vec![bulk("sunsubscribe"), bulk("s"), int(0)])
        );
        assert_eq!(
            c.call(&["SUNSUBSCRIBE"]),
            arr(vec![bulk("sunsubscribe"), nil(), int(0)])
        );
        assert_eq!(
            c.call(&["PUNSUBSCRIBE"]),
            arr(vec![bulk("punsubscribe"), bulk("p*"), int(2)])
        );
        let r = c.raw(&[b"UNSUBSCRIBE"]);
        assert_eq!(
            r,
            b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
        );
        let r = c.raw(&[b"UNSUBSCRIBE"]);
        assert_eq!(r, b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
        // Out of subscriber context: ordinary commands work again.
        assert_eq!(c.call(&["GET", "a"]), nil());
        assert_eq!(
            c.call(&["SUBSCRIBE"]),
            err("ERR wrong number of arguments for 'subscribe' command")
        );
    }

    #[test]
    fn subscriber_context_resp2() {
        let mut c = TestClient::new();
        c.call(&["SSUBSCRIBE", "s"]);
        assert_eq!(
            c.call(&["GET", "a"]),
            err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        assert_eq!(
            c.call(&["SPUBLISH", "s", "m"]),
            err("ERR Can't execute 'spublish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        );
        assert_eq!(c.call(&["PING"]), bulks(&["pong", ""]));
        assert_eq!(c.call(&["PING", "x"]), bulks(&["pong", "x"]));
        assert_eq!(c.call(&["RESET"]), simple("RESET"));
        assert_eq!(c.call(&["PUBSUB", "SHARDCHANNELS"]), arr(vec![]));
        assert_eq!(c.call(&["GET", "a"]), nil());
    }

    #[test]
    fn resp3_pushes_and_commands() {
        let mut c = TestClient::new();
        c.call(&["HELLO", "3"]);
        let r = c.raw(&[b"SUBSCRIBE", b"a"]);
        assert_eq!(r, b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
        // RESP3 subscribers may run any command.
        assert_eq!(c.call(&["GET", "a"]), nil());
        assert_eq!(c.call(&["PING"]), simple("PONG"));
        assert_eq!(
            c.call(&["UNSUBSCRIBE"]),
            push(vec![bulk("unsubscribe"), bulk("a"), int(0)])
        );
        let r = c.raw(&[b"UNSUBSCRIBE"]);
        assert_eq!(r, b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
    }

    #[test]
    fn publish_delivers_between_clients() {
        let mut a = TestClient::new();
        let mut b = a.other();
        let mut c = a.other();
        a.call(&["HELLO", "3"]);
        a.call(&["SUBSCRIBE", "ch"]);
        a.call(&["PSUBSCRIBE", "c*"]);
        c.call(&["SUBSCRIBE", "ch"]);
        assert_eq!(b.call(&["PUBLISH", "ch", "hi"]), int(3));
        assert_eq!(
            a.messages(),
            vec![
                push(vec![bulk("message"), bulk("ch"), bulk("hi")]),
                push(vec![bulk("pmessage"), bulk("c*"), bulk("ch"), bulk("hi")]),
            ]
        );
        assert_eq!(c.messages(), vec![bulks(&["message", "ch", "hi"])]);
        assert_eq!(b.call(&["PUBLISH", "other", "x"]), int(0));
        assert_eq!(b.call(&["PUBLISH", "cx", "x"]), int(1));
        assert_eq!(a.messages().len(), 1);
        assert!(c.messages().is_empty());
        assert_eq!(
            b.call(&["PUBLISH", "a"]),
            err("ERR wrong number of arguments for 'publish' command")
        );
        // After UNSUBSCRIBE nothing more arrives.
        c.call(&["UNSUBSCRIBE", "ch"]);
        assert_eq!(b.call(&["PUBLISH", "ch", "x"]), int(2));
        assert!(c.messages().is_empty());
    }

    #[test]
    fn shard_channels() {
        let mut a = TestClient::new();
        let mut b = a.other();
        a.call(&["SSUBSCRIBE", "sh"]);
        a.call(&["PSUBSCRIBE", "s*"]);
        assert_eq!(b.call(&["SPUBLISH", "sh", "m"]), int(1));
        assert_eq!(a.messages(), vec![bulks(&["smessage", "sh", "m"])]);
        // PUBLISH does not reach shard subscribers, only the pattern.
        assert_eq!(b.call(&["PUBLISH", "sh", "m3"]), int(1));
        assert_eq!(a.messages(), vec![bulks(&["pmessage", "s*", "sh", "m3"])]);
        assert_eq!(b.call(&["PUBSUB", "SHARDCHANNELS"]), bulks(&["sh"]));
        assert_eq!(b.call(&["PUBSUB", "SHARDCHANNELS", "x*"]), arr(vec![]));
        assert_eq!(
            b.call(&["PUBSUB", "SHARDNUMSUB", "sh", "x"]),
            arr(vec![bulk("sh"), int(1), bulk("x"), int(0)])
        );
        drop(a);
        assert_eq!(
            b.call(&["PUBSUB", "SHARDNUMSUB", "sh"]),
            arr(vec![bulk("sh"), int(0)])
        );
        assert_eq!(b.call(&["PUBSUB", "NUMPAT"]), int(0));
    }

    #[test]
    fn pubsub_introspection() {
        let mut a = TestClient::new();
        let mut b = a.other();
        a.raw(&[b"SUBSCRIBE", b"ch", b"news.1"]);
        a.raw(&[b"PSUBSCRIBE", b"n*", b"m*"]);
        let mut d = a.other();
        d.call(&["PSUBSCRIBE", "n*"]);
        assert_eq!(b.call(&["PUBSUB", "CHANNELS"]), bulks(&["ch", "news.1"]));
        assert_eq!(b.call(&["PUBSUB", "CHANNELS", "n*"]), bulks(&["news.1"]));
        assert_eq!(
            b.call(&["PUBSUB", "CHANNELS", "a", "b"]),
            err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
        );
        assert_eq!(
            b.call(&["PUBSUB", "NUMSUB", "ch", "zz"]),
            arr(vec![bulk("ch"), int(1), bulk("zz"), int(0)])
        );
        assert_eq!(b.call(&["PUBSUB", "NUMSUB"]), arr(vec![]));
        assert_eq!(b.call(&["PUBSUB", "NUMPAT"]), int(2));
        assert_eq!(
            b.call(&["PUBSUB", "NUMPAT", "x"]),
            err("ERR wrong number of arguments for 'pubsub|numpat' command")
        );
        assert_eq!(
            b.call(&["PUBSUB", "FOO"]),
            err("ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")
        );
        assert_eq!(
            b.call(&["PUBSUB"]),
            err("ERR wrong number of arguments for 'pubsub' command")
        );
        let Frame::Array(help) = b.call(&["PUBSUB", "HELP"]) else {
            panic!("array")
        };
        assert_eq!(help.len(), 14);
        assert_eq!(
            help[0],
            simple("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help[13], simple("    Prints this help."));
        // RESP3: NUMSUB stays a flat array.
        b.call(&["HELLO", "3"]);
        assert_eq!(
            b.call(&["PUBSUB", "NUMSUB", "ch"]),
            arr(vec![bulk("ch"), int(1)])
        );
    }

    #[test]
    fn subscribe_inside_multi() {
        let mut c = TestClient::new();
        c.call(&["MULTI"]);
        assert_eq!(c.call(&["SUBSCRIBE", "x"]), simple("QUEUED"));
        assert_eq!(c.call(&["EXEC"]), arr(vec![bulks_mixed()]));
        assert_eq!(c.call(&["PING"]), bulks(&["pong", ""]));
    }

    fn bulks_mixed() -> Frame {
        arr(vec![bulk("subscribe"), bulk("x"), int(1)])
    }

    #[test]
    fn publish_is_propagated_to_replicas_only() {
        use std::sync::{Arc, Mutex};
        #[derive(Default)]
        struct Rec {
            all: Mutex<Vec<u8>>,
            repl: Mutex<Vec<u8>>,
        }
        impl crate::Propagator for Rec {
            fn propagate(&self, _db: usize, cmds: &[u8]) -> u64 {
                self.all.lock().unwrap().extend_from_slice(cmds);
                0
            }
            fn propagate_to_replicas(&self, _db: usize, cmds: &[u8]) -> u64 {
                self.repl.lock().unwrap().extend_from_slice(cmds);
                0
            }
        }
        let mut c = TestClient::new();
        let rec = Arc::new(Rec::default());
        c.engine.set_propagator(Some(rec.clone()));
        assert_eq!(c.call(&["PUBLISH", "ch", "hello"]), int(0));
        assert_eq!(
            &rec.repl.lock().unwrap()[..],
            b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\nhello\r\n"
        );
        assert!(rec.all.lock().unwrap().is_empty());
        // Not a change to the data.
        assert_eq!(
            c.engine
                .shared()
                .stats
                .dirty
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
    }

    #[test]
    fn publish_is_paused_by_client_pause_write() {
        let mut c = TestClient::new();
        let mut d = c.other();
        assert_eq!(c.call(&["CLIENT", "PAUSE", "1000", "WRITE"]), ok());
        assert_eq!(d.call(&["PUBLISH", "ch", "x"]), nil());
        assert!(d.sess.is_blocked());
        c.call(&["CLIENT", "UNPAUSE"]);
        assert_eq!(d.resume(), Some(int(0)));
    }
}
