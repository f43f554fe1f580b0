//! Server commands: INFO, CLIENT, CONFIG, COMMAND, TIME, ROLE, SHUTDOWN, DEBUG, MEMORY,
//! LATENCY, SLOWLOG, MONITOR, LOLWUT — with Redis 7.0.15's replies and error texts.
//!
//! Container commands (CLIENT, CONFIG, …) are one entry of the command table each; their
//! subcommands, with Redis's arities and flags, are listed here in [`Sub`] tables, so
//! arity errors name the subcommand (`'client|kill'`) as Redis does and `COMMAND INFO`
//! can describe them. The bigger families live in submodules: [`client`], [`config`],
//! [`command`], [`debug`].

mod client;
mod command;
mod config;
mod debug;

use std::sync::atomic::Ordering;

use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys, Legacy};
use crate::error::{unknown_subcommand, wrong_arity, CmdError, CmdResult, SYNTAX};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "info",
        arity: -1,
        flags: LOADING | STALE,
        keys: Keys::None,
        run: info,
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        run: client::client,
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        run: config::config,
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: LOADING | STALE,
        keys: Keys::None,
        run: command::command,
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        run: time,
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        keys: Keys::None,
        run: shutdown,
    },
    CommandSpec {
        name: "debug",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        keys: Keys::All,
        run: debug::debug,
    },
    CommandSpec {
        name: "memory",
        arity: -2,
        flags: 0,
        keys: Keys::range(2, 2, 1),
        run: memory,
    },
    CommandSpec {
        name: "latency",
        arity: -2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        run: latency,
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        run: slowlog,
    },
    CommandSpec {
        name: "monitor",
        arity: 1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        run: monitor,
    },
    CommandSpec {
        name: "lolwut",
        arity: -1,
        flags: READONLY | FAST,
        keys: Keys::None,
        run: lolwut,
    },
];

/// A subcommand of a container command: name, full name (`client|list`), Redis arity
/// (counting the container's name), flags and the key positions COMMAND INFO reports.
pub(crate) struct Sub {
    /// Lower-case name.
    pub(crate) name: &'static str,
    /// `container|name`, as arity errors, `CLIENT LIST cmd=` and `COMMAND` show it.
    pub(crate) full: &'static str,
    /// Redis arity, container name included.
    pub(crate) arity: i32,
    /// Flags as `COMMAND INFO` lists them.
    pub(crate) flags: u32,
    /// First/last/step key positions as `COMMAND INFO` lists them (the container's
    /// spec declares what is locked).
    pub(crate) legacy: Legacy,
}

impl Sub {
    pub(crate) const fn new(name: &'static str, full: &'static str, arity: i32, flags: u32) -> Sub {
        Sub {
            name,
            full,
            arity,
            flags,
            legacy: (0, 0, 0),
        }
    }

    /// The subcommand with key positions `first`/`last`/`step` (MEMORY USAGE, OBJECT …).
    pub(crate) const fn with_keys(self, first: i32, last: i32, step: i32) -> Sub {
        Sub {
            legacy: (first, last, step),
            ..self
        }
    }
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    (arity > 0 && argc as i32 == arity) || (arity < 0 && argc as i32 >= -arity)
}

/// The subcommand `argv[1]` of container `cmd`, with its arity checked: Redis's errors
/// for an unknown subcommand or a wrong number of arguments. The engine runs this
/// before authentication and MULTI queueing, as Redis does.
pub(crate) fn check_sub(
    cmd: &str,
    subs: &'static [Sub],
    argv: &[&[u8]],
) -> Result<&'static Sub, CmdError> {
    let name = argv.get(1).copied().unwrap_or_default();
    let sub = subs
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
        .ok_or_else(|| unknown_subcommand(cmd, name))?;
    if !arity_ok(sub.arity, argv.len()) {
        return Err(wrong_arity(sub.full));
    }
    Ok(sub)
}

/// Finds the subcommand named by `argv[1]` and checks its arity, with Redis's errors;
/// records it as the client's current command (`cmd=client|list`).
pub(crate) fn find_sub(
    c: &mut Call<'_, '_>,
    cmd: &str,
    subs: &'static [Sub],
) -> Result<&'static Sub, CmdError> {
    let sub = check_sub(cmd, subs, c.argv)?;
    c.sess.handle.touch(c.now_ms, sub.full);
    if sub.flags & ADMIN != 0 {
        // Like admin commands, admin subcommands are not shown to MONITOR.
        c.sess.skip_monitor = true;
    }
    Ok(sub)
}

/// The `<CMD> HELP` reply: a title, `lines`, and the HELP entry, as status strings.
pub(crate) fn help(c: &mut Call<'_, '_>, cmd: &str, lines: &[&str]) {
    c.out.array(lines.len() + 3);
    c.out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        c.out.simple(l);
    }
    c.out.simple("HELP");
    c.out.simple("    Prints this help.");
}

/// Every container command, its subcommands and the ACL category they share (for
/// COMMAND INFO / LIST).
pub(crate) fn containers() -> &'static [(&'static str, &'static [Sub], &'static str)] {
    &[
        ("client", client::SUBS, "connection"),
        ("config", config::SUBS, ""),
        ("command", command::SUBS, "connection"),
        ("pubsub", super::pubsub::PUBSUB_SUBS, ""),
        ("memory", MEMORY_SUBS, ""),
        ("latency", LATENCY_SUBS, ""),
        ("slowlog", SLOWLOG_SUBS, ""),
        ("object", super::keys::OBJECT_SUBS, "keyspace"),
    ]
}

/// CLIENT SETNAME / HELLO SETNAME: no spaces, newlines or other non-printable bytes.
pub(crate) fn validate_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::fixed(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

/// What RESET clears besides transactions, watches and subscriptions: MONITOR mode,
/// `CLIENT NO-EVICT`, `CLIENT REPLY`.
pub(crate) fn reset_client(c: &mut Call<'_, '_>) {
    let h = c.sess.handle.clone();
    if h.meta.monitor.swap(false, Ordering::Relaxed) {
        c.engine.monitors.remove(h.id);
    }
    h.meta.no_evict.store(false, Ordering::Relaxed);
    c.sess.skip_next_reply = false;
    if h.kind() != crate::ClientKind::Master {
        c.sess.suppress_replies = false;
    }
}

fn info(c: &mut Call<'_, '_>) -> CmdResult {
    let sections: Vec<String> = c.argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let refs: Vec<&str> = sections.iter().map(String::as_str).collect();
    let text = c.engine.info(&refs);
    c.out.verbatim(text.as_bytes());
    Ok(())
}

fn time(c: &mut Call<'_, '_>) -> CmdResult {
    let us = c.engine.clock.now_us();
    c.out.array(2);
    c.out.bulk((us / 1_000_000).to_string().as_bytes());
    c.out.bulk((us % 1_000_000).to_string().as_bytes());
    Ok(())
}

fn shutdown(c: &mut Call<'_, '_>) -> CmdResult {
    let (mut nosave, mut save, mut abort) = (false, false, false);
    for i in 1..c.argc() {
        if c.is(i, "nosave") {
            nosave = true;
        } else if c.is(i, "save") {
            save = true;
        } else if c.is(i, "now") || c.is(i, "force") {
            // No replicas to wait for and no save errors to override here.
        } else if c.is(i, "abort") {
            abort = true;
        } else {
            return Err(SYNTAX);
        }
    }
    if (abort && c.argc() != 2) || (nosave && save) {
        return Err(SYNTAX);
    }
    if abort {
        return Err(CmdError::fixed("ERR No shutdown in progress."));
    }
    let save_points = !c
        .engine
        .config
        .get("save")
        .unwrap_or_default()
        .trim()
        .is_empty();
    // Saved (or synced) here, so that a failure is an error reply and the server
    // goes on; no reply on success: the connection closes as the server exits.
    if c.engine
        .shutdown_command(save || (!nosave && save_points))
        .is_err()
    {
        return Err(CmdError::fixed(
            "ERR Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    c.shutdown(false);
    Ok(())
}

fn monitor(c: &mut Call<'_, '_>) -> CmdResult {
    if c.in_exec {
        return Err(CmdError::fixed(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    let h = c.sess.handle.clone();
    if h.kind() == crate::ClientKind::Replica || h.meta.monitor.load(Ordering::Relaxed) {
        // Already a replica or a monitor: ignored, without a reply.
        return Ok(());
    }
    h.meta.monitor.store(true, Ordering::Relaxed);
    c.engine.monitors.add(&h);
    c.out.ok();
    Ok(())
}

fn lolwut(c: &mut Call<'_, '_>) -> CmdResult {
    let mut i = 1;
    while i < c.argc() {
        if c.is(i, "version") && i + 1 < c.argc() {
            c.int_arg(i + 1)?;
            i += 2;
        } else {
            i += 1;
        }
    }
    c.out.verbatim(b"Redis ver. 7.0.15\n");
    Ok(())
}

const MEMORY_SUBS: &[Sub] = &[
    Sub::new("doctor", "memory|doctor", 2, 0),
    Sub::new("malloc-stats", "memory|malloc-stats", 2, 0),
    Sub::new("purge", "memory|purge", 2, 0),
    Sub::new("stats", "memory|stats", 2, 0),
    Sub::new("usage", "memory|usage", -3, READONLY).with_keys(2, 2, 1),
    Sub::new("help", "memory|help", 2, LOADING | STALE),
];

const MEMORY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

fn memory(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = find_sub(c, "memory", MEMORY_SUBS)?;
    match sub.name {
        "help" => help(c, "MEMORY", MEMORY_HELP),
        "usage" => {
            let mut i = 3;
            while i < c.argc() {
                if c.is(i, "samples") && i + 1 < c.argc() {
                    let n = c.int_arg(i + 1)?;
                    if n < 0 {
                        return Err(SYNTAX);
                    }
                    i += 2;
                } else {
                    return Err(SYNTAX);
                }
            }
            match c.ks.mem_usage(c.db, c.argv[2]) {
                Some(n) => c.out.int(n as i64),
                None => c.out.null(),
            }
        }
        "stats" => memory_stats(c),
        "doctor" => {
            let used = c.engine.keyspace.used_memory();
            let text: &[u8] = if used < 5 * 1024 * 1024 {
                b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
            } else {
                b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
            };
            c.out.verbatim(text);
        }
        "malloc-stats" => c
            .out
            .verbatim(b"Stats not supported for the current allocator"),
        "purge" => c.out.ok(),
        _ => return Err(unknown_subcommand("memory", c.argv[1])),
    }
    Ok(())
}

fn memory_stats(c: &mut Call<'_, '_>) {
    let m = crate::info::memory_figures(c.engine);
    let ks = &c.engine.keyspace;
    let dbs: Vec<(usize, usize, usize)> = (0..ks.databases())
        .filter(|&db| ks.dbsize(db) > 0)
        .map(|db| (db, ks.dbsize(db), ks.expires_count(db)))
        .collect();
    let keys: usize = dbs.iter().map(|d| d.1).sum();
    c.out.map(27 + dbs.len());
    let int = |c: &mut Call<'_, '_>, k: &str, v: u64| {
        c.out.bulk(k.as_bytes());
        c.out.int(v as i64);
    };
    int(c, "peak.allocated", m.peak);
    int(c, "total.allocated", m.used);
    int(c, "startup.allocated", m.startup);
    int(c, "replication.backlog", 0);
    int(c, "clients.slaves", 0);
    int(c, "clients.normal", m.clients);
    int(c, "cluster.links", 0);
    int(c, "aof.buffer", 0);
    int(c, "lua.caches", 0);
    int(c, "functions.caches", 0);
    for (db, n, expires) in &dbs {
        c.out.bulk(format!("db.{db}").as_bytes());
        c.out.map(3);
        int(c, "overhead.hashtable.main", (*n as u64) * 24);
        int(c, "overhead.hashtable.expires", (*expires as u64) * 24);
        int(c, "overhead.hashtable.slot-to-keys", 0);
    }
    int(c, "overhead.total", m.overhead);
    int(c, "keys.count", keys as u64);
    let per_key = if keys == 0 {
        0
    } else {
        m.used.saturating_sub(m.startup) / keys as u64
    };
    int(c, "keys.bytes-per-key", per_key);
    int(c, "dataset.bytes", m.dataset);
    c.out.bulk(b"dataset.percentage");
    c.out.double(m.dataset_perc);
    c.out.bulk(b"peak.percentage");
    c.out.double(m.peak_perc);
    int(c, "allocator.allocated", m.used);
    int(c, "allocator.active", m.used);
    int(c, "allocator.resident", m.rss);
    c.out.bulk(b"allocator-fragmentation.ratio");
    c.out.double(1.0);
    int(c, "allocator-fragmentation.bytes", 0);
    c.out.bulk(b"allocator-rss.ratio");
    c.out.double(m.frag_ratio);
    int(c, "allocator-rss.bytes", m.rss.saturating_sub(m.used));
    c.out.bulk(b"rss-overhead.ratio");
    c.out.double(1.0);
    int(c, "rss-overhead.bytes", 0);
    c.out.bulk(b"fragmentation");
    c.out.double(m.frag_ratio);
    int(c, "fragmentation.bytes", m.rss.saturating_sub(m.used));
}

const LATENCY_SUBS: &[Sub] = &[
    Sub::new(
        "doctor",
        "latency|doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new(
        "graph",
        "latency|graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new(
        "histogram",
        "latency|histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new(
        "history",
        "latency|history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new(
        "latest",
        "latency|latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new(
        "reset",
        "latency|reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
    ),
    Sub::new("help", "latency|help", 2, LOADING | STALE),
];

const LATENCY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

/// LATENCY: tandem records no latency events (the latency monitor is off), so the
/// replies are those of a Redis whose monitor never fired.
fn latency(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = find_sub(c, "latency", LATENCY_SUBS)?;
    match sub.name {
        "help" => help(c, "LATENCY", LATENCY_HELP),
        "latest" | "history" => c.out.array(0),
        "histogram" => latency_histogram(c),
        "reset" => c.out.int(0),
        "graph" => {
            return Err(CmdError::msg(format!(
                "ERR No samples available for event '{}'",
                String::from_utf8_lossy(c.argv[2])
            )))
        }
        "doctor" => {
            let text: &[u8] = if c.engine.config.get_i64("latency-monitor-threshold") == 0 {
                b"I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
            } else {
                b"Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
            };
            c.out.verbatim(text);
        }
        _ => return Err(unknown_subcommand("latency", c.argv[1])),
    }
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: each command's calls and cumulative distribution.
fn latency_histogram(c: &mut Call<'_, '_>) {
    let sh = c.engine;
    let mut entries = Vec::new();
    if c.argc() == 2 {
        let mut names: Vec<_> = sh.command_stats.iter().collect();
        names.sort_by_key(|(n, _)| *n);
        for (name, s) in names {
            if let Some(h) = s.latency.snapshot() {
                entries.push((*name, h));
            }
        }
    } else {
        for a in &c.argv[2..] {
            let Some(spec) = sh.commands.get(a) else {
                continue;
            };
            if let Some(h) = sh
                .command_stats_of(spec.name)
                .and_then(|s| s.latency.snapshot())
            {
                entries.push((spec.name, h));
            }
        }
    }
    c.out.map(entries.len());
    for (name, h) in entries {
        c.out.bulk(name.as_bytes());
        c.out.map(2);
        c.out.bulk(b"calls");
        c.out.int(h.total() as i64);
        c.out.bulk(b"histogram_usec");
        let cdf = h.cdf();
        c.out.map(cdf.len());
        for (us, n) in cdf {
            c.out.int(us as i64);
            c.out.int(n as i64);
        }
    }
}

const SLOWLOG_SUBS: &[Sub] = &[
    Sub::new("get", "slowlog|get", -2, ADMIN | LOADING | STALE),
    Sub::new("len", "slowlog|len", 2, ADMIN | LOADING | STALE),
    Sub::new("reset", "slowlog|reset", 2, ADMIN | LOADING | STALE),
    Sub::new("help", "slowlog|help", 2, LOADING | STALE),
];

const SLOWLOG_HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

fn slowlog(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = find_sub(c, "slowlog", SLOWLOG_SUBS)?;
    let log = &c.engine.slowlog;
    match sub.name {
        "help" => help(c, "SLOWLOG", SLOWLOG_HELP),
        "len" => c.out.int(log.len() as i64),
        "reset" => {
            log.reset();
            c.out.ok();
        }
        "get" => {
            if c.argc() > 3 {
                return Err(super::pubsub::syntax_subcommand(c.argv[1], "SLOWLOG"));
            }
            let count = match c.argv.get(2) {
                None => Some(10),
                Some(a) => match tandem_resp::parse_i64(a) {
                    Some(-1) => None,
                    Some(n) if n >= 0 => Some(n as usize),
                    _ => {
                        return Err(CmdError::fixed(
                            "ERR count should be greater than or equal to -1",
                        ))
                    }
                },
            };
            let entries = log.get(count);
            c.out.array(entries.len());
            for e in &entries {
                c.out.array(6);
                c.out.int(e.id as i64);
                c.out.int(e.time_s as i64);
                c.out.int(e.duration_us as i64);
                c.out.bulks(e.argv.iter());
                c.out.bulk(e.addr.as_bytes());
                c.out.bulk(&e.name);
            }
        }
        _ => return Err(unknown_subcommand("slowlog", c.argv[1])),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
