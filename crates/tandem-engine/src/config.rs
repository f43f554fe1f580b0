//! Configuration: every directive tandem knows, with Redis's names, defaults and value
//! syntax. The same table serves the config file, `--name value` arguments,
//! `CONFIG GET/SET/REWRITE` and the typed builder of embedders.
//!
//! Values are stored in canonical text (what `CONFIG GET` prints: memory in bytes,
//! booleans as `yes`/`no`); typed accessors parse them. Settings read on hot paths are
//! mirrored into atomics by [`crate::Shared::apply_config`] whenever they change.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use tandem_keyspace::glob::glob_match;

/// The type and syntax of a directive's value.
#[derive(Clone, Copy, Debug)]
pub enum ValueKind {
    /// `yes` / `no`.
    Bool,
    /// A decimal integer within bounds.
    Int {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// Bytes, with optional unit (`k`, `kb`, `m`, `mb`, `g`, `gb`).
    Memory,
    /// Bytes as [`ValueKind::Memory`], or a percentage up to `100%` (of `maxmemory`),
    /// kept as written (`maxmemory-clients`).
    MemoryOrPercent,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// Free text (may be empty).
    Str,
    /// Several words kept as one space-separated value (`save`, `replicaof`, limits).
    Words,
    /// An octal number up to `max` (`unixsocketperm`), shown in octal.
    Octal {
        /// Largest accepted.
        max: i64,
    },
}

/// One directive.
#[derive(Clone, Copy, Debug)]
pub struct Directive {
    /// Primary name.
    pub name: &'static str,
    /// Other accepted names (`slaveof` for `replicaof`).
    pub aliases: &'static [&'static str],
    /// Default, in canonical form.
    pub default: &'static str,
    /// Value syntax.
    pub kind: ValueKind,
    /// Whether `CONFIG SET` may change it at run time.
    pub mutable: bool,
    /// Whether `CONFIG GET` hides the value (nothing is hidden in Redis 7.0; kept false).
    pub sensitive: bool,
}

const fn d(name: &'static str, default: &'static str, kind: ValueKind, mutable: bool) -> Directive {
    Directive {
        name,
        aliases: &[],
        default,
        kind,
        mutable,
        sensitive: false,
    }
}

const fn alias(
    name: &'static str,
    aliases: &'static [&'static str],
    default: &'static str,
    kind: ValueKind,
    mutable: bool,
) -> Directive {
    Directive {
        name,
        aliases,
        default,
        kind,
        mutable,
        sensitive: false,
    }
}

const BOOL: ValueKind = ValueKind::Bool;
const MEM: ValueKind = ValueKind::Memory;
const STR: ValueKind = ValueKind::Str;
const WORDS: ValueKind = ValueKind::Words;
const fn int(min: i64, max: i64) -> ValueKind {
    ValueKind::Int { min, max }
}
const POS: ValueKind = int(0, i64::MAX);
const I32: ValueKind = int(0, i32::MAX as i64);

/// Every directive, sorted by name.
pub const DIRECTIVES: &[Directive] = &[
    d("activedefrag", "no", BOOL, true),
    d("always-show-logo", "no", BOOL, false),
    d("aof-load-truncated", "yes", BOOL, true),
    d("aof-rewrite-incremental-fsync", "yes", BOOL, true),
    d("aof-timestamp-enabled", "no", BOOL, true),
    d("aof-use-rdb-preamble", "yes", BOOL, true),
    d("appenddirname", "appendonlydir", STR, false),
    d("appendfilename", "appendonly.aof", STR, false),
    d(
        "appendfsync",
        "everysec",
        ValueKind::Enum(&["always", "everysec", "no"]),
        true,
    ),
    d("appendonly", "no", BOOL, true),
    d("auto-aof-rewrite-min-size", "67108864", MEM, true),
    d("auto-aof-rewrite-percentage", "100", I32, true),
    d("bind", "127.0.0.1 -::1", WORDS, true),
    d(
        "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        WORDS,
        true,
    ),
    d("client-query-buffer-limit", "1073741824", MEM, true),
    d("daemonize", "no", BOOL, false),
    d("databases", "16", int(1, 1 << 20), false),
    d("dbfilename", "dump.rdb", STR, true),
    d("dir", "", STR, true),
    d(
        "enable-debug-command",
        "no",
        ValueKind::Enum(&["no", "yes", "local"]),
        false,
    ),
    d("hz", "10", int(1, 500), true),
    d("io-threads", "1", int(1, 128), false),
    d("keyspace-shards", "256", int(1, 65536), false),
    d("latency-monitor-threshold", "0", POS, true),
    d("latency-tracking", "yes", BOOL, true),
    d("lazyfree-lazy-eviction", "no", BOOL, true),
    d("lazyfree-lazy-expire", "no", BOOL, true),
    d("lazyfree-lazy-server-del", "no", BOOL, true),
    d("lazyfree-lazy-user-del", "no", BOOL, true),
    d("lazyfree-lazy-user-flush", "no", BOOL, true),
    d("lfu-decay-time", "1", I32, true),
    d("lfu-log-factor", "10", I32, true),
    d("logfile", "", STR, false),
    d(
        "loglevel",
        "notice",
        ValueKind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        true,
    ),
    d("masterauth", "", STR, true),
    d("masteruser", "", STR, true),
    d("maxclients", "10000", int(1, i32::MAX as i64), true),
    d("maxmemory", "0", MEM, true),
    // Accepted and shown as Redis does; tandem does not evict clients.
    d("maxmemory-clients", "0", ValueKind::MemoryOrPercent, true),
    d("maxmemory-eviction-tenacity", "10", int(0, 100), true),
    d(
        "maxmemory-policy",
        "noeviction",
        ValueKind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        true,
    ),
    d("maxmemory-samples", "5", int(1, 64), true),
    alias(
        "min-replicas-max-lag",
        &["min-slaves-max-lag"],
        "10",
        I32,
        true,
    ),
    alias(
        "min-replicas-to-write",
        &["min-slaves-to-write"],
        "0",
        I32,
        true,
    ),
    d("notify-keyspace-events", "", STR, true),
    d("pidfile", "", STR, false),
    d("port", "6379", int(0, 65535), true),
    d("protected-mode", "yes", BOOL, true),
    d("proto-max-bulk-len", "536870912", MEM, true),
    d("rdb-del-sync-files", "no", BOOL, true),
    d(
        "rdb-key-save-delay",
        "0",
        int(i32::MIN as i64, i32::MAX as i64),
        true,
    ),
    d("rdbchecksum", "yes", BOOL, false),
    d("rdbcompression", "yes", BOOL, true),
    d("repl-backlog-size", "1048576", MEM, true),
    d("repl-backlog-ttl", "3600", POS, true),
    d("repl-disable-tcp-nodelay", "no", BOOL, true),
    d(
        "repl-diskless-load",
        "disabled",
        ValueKind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        true,
    ),
    d("repl-diskless-sync", "yes", BOOL, true),
    d("repl-diskless-sync-delay", "5", I32, true),
    d("repl-diskless-sync-max-replicas", "0", I32, true),
    alias(
        "repl-ping-replica-period",
        &["repl-ping-slave-period"],
        "10",
        int(1, i32::MAX as i64),
        true,
    ),
    d("repl-snapshot-compression", "no", BOOL, true),
    d("repl-timeout", "60", int(1, i32::MAX as i64), true),
    alias("replica-announce-ip", &["slave-announce-ip"], "", STR, true),
    alias(
        "replica-announce-port",
        &["slave-announce-port"],
        "0",
        int(0, 65535),
        true,
    ),
    alias("replica-announced", &[], "yes", BOOL, true),
    alias("replica-priority", &["slave-priority"], "100", I32, true),
    alias("replica-read-only", &["slave-read-only"], "yes", BOOL, true),
    alias(
        "replica-serve-stale-data",
        &["slave-serve-stale-data"],
        "yes",
        BOOL,
        true,
    ),
    alias("replicaof", &["slaveof"], "", WORDS, false),
    d("requirepass", "", STR, true),
    d("save", "3600 1 300 100 60 10000", WORDS, true),
    d("shutdown-on-sigint", "default", WORDS, true),
    d("shutdown-on-sigterm", "default", WORDS, true),
    d("slowlog-log-slower-than", "10000", int(-1, i64::MAX), true),
    d("slowlog-max-len", "128", POS, true),
    d("stop-writes-on-bgsave-error", "yes", BOOL, true),
    d(
        "supervised",
        "no",
        ValueKind::Enum(&["upstart", "systemd", "auto", "no"]),
        false,
    ),
    d("tcp-backlog", "511", I32, false),
    d("tcp-keepalive", "300", I32, true),
    d("timeout", "0", I32, true),
    d("unixsocket", "", STR, false),
    d(
        "unixsocketperm",
        "0",
        ValueKind::Octal { max: 0o777 },
        false,
    ),
];

/// Looks a directive up by name or alias, ignoring case.
pub fn directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Parses a memory amount with Redis's units (`memtoull`).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| lower.strip_suffix(suffix).map(|n| (n.to_string(), *mul)))
    .unwrap_or((lower.clone(), 1));
    let v: u64 = num.parse().ok()?;
    v.checked_mul(mul)
}

/// Checks and canonicalizes a value for `dir`; the error is the reason text Redis gives.
pub fn canonical(dir: &Directive, args: &[&str]) -> Result<String, String> {
    if !matches!(dir.kind, ValueKind::Words) && args.len() != 1 {
        return Err("wrong number of arguments".into());
    }
    let v = args.first().copied().unwrap_or("");
    match dir.kind {
        ValueKind::Bool => match v.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        ValueKind::Int { min, max } => {
            let n: i64 = v
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < min || n > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(n.to_string())
        }
        ValueKind::Memory => {
            let n = if let Some(rest) = v.strip_prefix('-') {
                // Redis accepts -1 style values for a few memory directives; treat as 0.
                parse_memory(rest).map(|_| 0)
            } else {
                parse_memory(v)
            };
            n.map(|n| n.to_string())
                .ok_or_else(|| "argument must be a memory value".to_string())
        }
        ValueKind::MemoryOrPercent => match v.strip_suffix('%') {
            Some(p) if v.len() > 1 => {
                let p: u64 = p
                    .parse()
                    .map_err(|_| "argument must be a memory or percent value".to_string())?;
                if p > 100 {
                    return Err("percentage argument must be less or equal to 100".into());
                }
                // Redis shows 0% as plain 0.
                Ok(if p == 0 { "0".into() } else { format!("{p}%") })
            }
            _ => parse_memory(v)
                .map(|n| n.to_string())
                .ok_or_else(|| "argument must be a memory or percent value".to_string()),
        },
        ValueKind::Enum(words) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(v))
            .map(|w| w.to_string())
            .ok_or_else(|| {
                "argument(s) must be one of the following: ".to_string() + &words.join(", ")
            }),
        ValueKind::Str => Ok(v.to_string()),
        ValueKind::Words if dir.name == "save" => {
            // Pairs of <seconds> <changes>, as Redis's `setConfigSaveOption` checks.
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if !words.len().is_multiple_of(2) || words.iter().any(|w| w.parse::<u32>().is_err()) {
                return Err("Invalid save parameters".into());
            }
            Ok(words.join(" "))
        }
        ValueKind::Words => Ok(args.join(" ")),
        ValueKind::Octal { max } => {
            let n = i64::from_str_radix(v, 8)
                .ok()
                .filter(|_| !v.starts_with(['+', '-']))
                .ok_or_else(|| "argument couldn't be parsed as an octal number".to_string())?;
            if n > max {
                return Err(format!("argument must be between 0 and {max:o} inclusive"));
            }
            Ok(format!("{n:o}"))
        }
    }
}

/// The live configuration.
pub struct Config {
    values: RwLock<BTreeMap<&'static str, String>>,
    /// Bumped by every successful [`Config::set`], so readers can cache derived values.
    generation: AtomicU64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: RwLock::new(
                DIRECTIVES
                    .iter()
                    .map(|d| (d.name, d.default.to_string()))
                    .collect(),
            ),
            generation: AtomicU64::new(0),
        }
    }
}

impl Config {
    /// Sets a directive from its words (file line, argument, CONFIG SET). The
    /// directive's run-time effect is applied by the engine, not here.
    pub fn set(&self, name: &str, args: &[&str]) -> Result<&'static Directive, String> {
        let dir = directive(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let v = canonical(dir, args)?;
        self.values.write().insert(dir.name, v);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(dir)
    }

    /// A counter that changes whenever any directive is set: a cheap way for hot paths
    /// to notice that values they cached must be read again.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The canonical value of a directive (by primary name or alias).
    pub fn get(&self, name: &str) -> Option<String> {
        let dir = directive(name)?;
        self.values.read().get(dir.name).cloned()
    }

    /// A boolean directive.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name).as_deref() == Some("yes")
    }

    /// A numeric directive (integers and memory sizes).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Pairs of (name, value) whose name matches the glob `pattern`.
    pub fn matching(&self, pattern: &str) -> Vec<(&'static str, String)> {
        let values = self.values.read();
        let p = pattern.to_ascii_lowercase();
        let mut out = Vec::new();
        for dir in DIRECTIVES {
            let names = std::iter::once(dir.name).chain(dir.aliases.iter().copied());
            for n in names {
                if glob_match(p.as_bytes(), n.as_bytes(), true) {
                    out.push((n, values.get(dir.name).cloned().unwrap_or_default()));
                }
            }
        }
        out
    }

    /// Every directive whose value differs from its default (for CONFIG REWRITE).
    pub fn non_defaults(&self) -> Vec<(&'static str, String)> {
        let values = self.values.read();
        DIRECTIVES
            .iter()
            .filter_map(|d| {
                values
                    .get(d.name)
                    .filter(|v| *v != d.default)
                    .map(|v| (d.name, v.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_sorted_and_unique() {
        for w in DIRECTIVES.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn defaults_are_canonical() {
        for d in DIRECTIVES {
            let words: Vec<&str> = if matches!(d.kind, ValueKind::Words) {
                d.default.split(' ').filter(|w| !w.is_empty()).collect()
            } else {
                vec![d.default]
            };
            assert_eq!(canonical(d, &words).as_deref(), Ok(d.default), "{}", d.name);
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1mb"), Some(1 << 20));
        assert_eq!(parse_memory("1m"), Some(1_000_000));
        assert_eq!(parse_memory("2GB"), Some(2 << 30));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn set_get_and_aliases() {
        let c = Config::default();
        c.set("slave-read-only", &["no"]).unwrap();
        assert_eq!(c.get("replica-read-only").as_deref(), Some("no"));
        c.set("maxmemory", &["1mb"]).unwrap();
        assert_eq!(c.get_i64("maxmemory"), 1 << 20);
        assert!(c.set("appendfsync", &["sometimes"]).is_err());
        assert!(c.set("nonsense", &["1"]).is_err());
        c.set("save", &["60", "100"]).unwrap();
        assert_eq!(c.get("save").as_deref(), Some("60 100"));
        assert_eq!(
            c.set("save", &["1", "2", "3"]).unwrap_err(),
            "Invalid save parameters"
        );
        assert_eq!(
            c.set("save", &["a", "b"]).unwrap_err(),
            "Invalid save parameters"
        );
        c.set("save", &[]).unwrap();
        assert_eq!(c.get("save").as_deref(), Some(""));
    }

    #[test]
    fn octal_values_and_generation() {
        let c = Config::default();
        let g = c.generation();
        c.set("unixsocketperm", &["0700"]).unwrap();
        assert_eq!(c.get("unixsocketperm").as_deref(), Some("700"));
        assert!(c.generation() > g);
        assert_eq!(
            c.set("unixsocketperm", &["8"]).unwrap_err(),
            "argument couldn't be parsed as an octal number"
        );
        assert_eq!(
            c.set("unixsocketperm", &["1000"]).unwrap_err(),
            "argument must be between 0 and 777 inclusive"
        );
    }
}
