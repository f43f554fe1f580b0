//! The command table: every command's name, arity, flags and key positions, and the
//! function that runs it.
//!
//! Flags, not string compares, decide authentication, read-only replicas, `maxmemory`
//! refusals, `CLIENT PAUSE WRITE`, MULTI queueing and what is propagated. Key positions
//! decide which shards are locked before the handler runs.

use std::collections::HashMap;

use crate::call::Call;
use crate::cmd::server::Sub;
use crate::error::CmdResult;

/// Command flags (a bit set).
pub mod flags {
    /// Changes data; refused on read-only replicas, paused by `CLIENT PAUSE WRITE`.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads data.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused with `-OOM` over `maxmemory` when nothing can be evicted.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 5;
    /// Allowed while the dataset is loading.
    pub const LOADING: u32 = 1 << 6;
    /// Allowed on a replica whose master link is down with `replica-serve-stale-data no`.
    pub const STALE: u32 = 1 << 7;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 8;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 9;
    /// Not propagated as a write, but may replicate (PUBLISH): paused by `CLIENT PAUSE WRITE`.
    pub const MAY_REPLICATE: u32 = 1 << 10;
    /// Refused inside MULTI.
    pub const NO_MULTI: u32 = 1 << 11;
    /// Not shown by MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 12;
    /// Executed immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub const TX_CONTROL: u32 = 1 << 13;
    /// Allowed in RESP2 subscriber context.
    pub const SUB_CONTEXT: u32 = 1 << 14;
    /// Refused unless `enable-debug-command` allows it (DEBUG).
    pub const PROTECTED: u32 = 1 << 15;
    /// Refused inside scripts (informational: tandem runs no scripts).
    pub const NOSCRIPT: u32 = 1 << 16;
    /// Not recorded by SLOWLOG (EXEC: its commands are recorded one by one).
    pub const SKIP_SLOWLOG: u32 = 1 << 17;
    /// Allowed while a script or module is busy (informational: tandem has none).
    pub const ALLOW_BUSY: u32 = 1 << 18;
    /// Refused while a replica loads a snapshot asynchronously (informational).
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;

    /// Names as `COMMAND INFO` lists them, in Redis 7.0's order. `movablekeys` is not a
    /// bit: it comes from the key positions ([`super::Keys::movable`]). Flags Redis hides
    /// (`may_replicate`, `protected`) and the engine's own (`TX_CONTROL`, `SUB_CONTEXT`)
    /// are absent on purpose.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
    ];

    /// Where `movablekeys` goes in the list of [`NAMES`] (Redis lists it after
    /// `no_multi`, before `allow_busy`).
    pub const AFTER_MOVABLEKEYS: &[(u32, &str)] = &[(ALLOW_BUSY, "allow_busy")];
}

/// Key positions as `COMMAND INFO` reports them (Redis's "legacy" first/last/step range):
/// the keys at fixed positions; `(0, 0, 0)` when there are none.
pub type Legacy = (i32, i32, i32);

/// Computes key positions: pushes `(db, argument index)` pairs given the arguments and
/// the session's current db.
pub type KeyFn = fn(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>);

/// Where a command's keys are.
#[derive(Clone, Copy)]
pub enum Keys {
    /// No keys: nothing is locked.
    None,
    /// Keys at `first..=last` every `step` (`last` < 0 counts from the end, -1 = last).
    Range {
        /// First key argument.
        first: i32,
        /// Last key argument.
        last: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Computed from the arguments: pushes `(db, argument index)` pairs given the
    /// session's current db (MOVE and COPY name another db; `numkeys` forms).
    Custom {
        /// Finds the keys.
        find: KeyFn,
        /// What `COMMAND INFO` reports as first/last/step.
        legacy: Legacy,
        /// Whether the positions depend on the arguments (`movablekeys`).
        movable: bool,
    },
    /// Keys the command names (`COMMAND INFO` and `GETKEYS` report them) but the engine
    /// does not lock, because the handler touches no data under them: WATCH registers
    /// watches (taking the shard locks itself), SSUBSCRIBE and SPUBLISH name channels.
    Unlocked {
        /// First key argument.
        first: i32,
        /// Last key argument (< 0 counts from the end).
        last: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Every shard of the session's database (FLUSHDB, KEYS, SCAN, DBSIZE, RANDOMKEY).
    Db,
    /// Every shard of every database (FLUSHALL, SWAPDB).
    All,
}

impl Keys {
    /// Shorthand for [`Keys::Range`].
    pub const fn range(first: i32, last: i32, step: i32) -> Keys {
        Keys::Range { first, last, step }
    }

    /// Keys computed by `find` at positions that do not move: COMMAND INFO reports
    /// `first`/`last`/`step` (MOVE, COPY).
    pub const fn custom(find: KeyFn, first: i32, last: i32, step: i32) -> Keys {
        Keys::Custom {
            find,
            legacy: (first, last, step),
            movable: false,
        }
    }

    /// Keys computed by `find` whose positions depend on the arguments (`numkeys`
    /// forms): COMMAND INFO reports `movablekeys` and `first`/`last`/`step` for the
    /// fixed part (ZUNIONSTORE's destination: 1 1 1; none: 0 0 0).
    pub const fn movable(find: KeyFn, first: i32, last: i32, step: i32) -> Keys {
        Keys::Custom {
            find,
            legacy: (first, last, step),
            movable: true,
        }
    }

    /// Shorthand for [`Keys::Unlocked`].
    pub const fn unlocked(first: i32, last: i32, step: i32) -> Keys {
        Keys::Unlocked { first, last, step }
    }

    /// Appends `(db, argument index)` of every key in `argv` the engine locks.
    pub fn collect(&self, argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
        match *self {
            Keys::Range { first, last, step } => range(argv, first, last, step, db, out),
            Keys::Custom { find, .. } => find(argv, db, out),
            Keys::None | Keys::Unlocked { .. } | Keys::Db | Keys::All => {}
        }
    }

    /// Appends `(db, argument index)` of every key `COMMAND GETKEYS` reports: the locked
    /// ones and the [`Keys::Unlocked`] ones.
    pub fn named(&self, argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
        match *self {
            Keys::Unlocked { first, last, step } => range(argv, first, last, step, db, out),
            _ => self.collect(argv, db, out),
        }
    }

    /// The (first, last, step) triple `COMMAND INFO` reports.
    pub fn legacy_triple(&self) -> Legacy {
        match *self {
            Keys::Range { first, last, step } | Keys::Unlocked { first, last, step } => {
                (first, last, step)
            }
            Keys::Custom { legacy, .. } => legacy,
            Keys::None | Keys::Db | Keys::All => (0, 0, 0),
        }
    }

    /// Whether key positions depend on the arguments (`movablekeys`).
    pub fn is_movable(&self) -> bool {
        matches!(self, Keys::Custom { movable: true, .. })
    }
}

/// Pushes the arguments `first..=last` every `step` (`last` < 0 counts from the end).
fn range(
    argv: &[&[u8]],
    first: i32,
    last: i32,
    step: i32,
    db: usize,
    out: &mut Vec<(usize, usize)>,
) {
    let n = argv.len() as i32;
    let last = if last < 0 { n + last } else { last.min(n - 1) };
    let mut i = first;
    while i <= last && i < n && step > 0 {
        out.push((db, i as usize));
        i += step;
    }
}

/// A command handler.
pub type Handler = fn(&mut Call<'_, '_>) -> CmdResult;

/// One entry of the command table.
pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    /// Bit set of [`flags`].
    pub flags: u32,
    /// Key positions.
    pub keys: Keys,
    /// The implementation.
    pub run: Handler,
}

impl CommandSpec {
    /// Whether the spec has flag `f`.
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }
}

/// A [`CommandSpec`] in one call, for the families' tables.
pub const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: Keys,
    run: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        run,
    }
}

/// All commands by lower-case name. Each has a stable index for per-command counters.
pub struct CommandTable {
    by_name: HashMap<&'static str, usize, foldhash::fast::FixedState>,
    specs: Vec<&'static CommandSpec>,
    /// The subcommands of container commands (CLIENT, CONFIG, OBJECT…), by index.
    subs: Vec<Option<&'static [Sub]>>,
}

impl CommandTable {
    /// Builds the table from every command family.
    pub fn new() -> CommandTable {
        let mut by_name = HashMap::with_hasher(foldhash::fast::FixedState::default());
        let mut specs = Vec::new();
        for family in crate::cmd::FAMILIES {
            for spec in family.iter() {
                let prev = by_name.insert(spec.name, specs.len());
                assert!(prev.is_none(), "command {} defined twice", spec.name);
                specs.push(spec);
            }
        }
        let subs = specs
            .iter()
            .map(|spec| {
                crate::cmd::server::containers()
                    .iter()
                    .find(|(name, _, _)| *name == spec.name)
                    .map(|(_, subs, _)| *subs)
            })
            .collect();
        CommandTable {
            by_name,
            specs,
            subs,
        }
    }

    /// The subcommands of the command with index `i`, if it is a container.
    pub(crate) fn subcommands(&self, i: usize) -> Option<&'static [Sub]> {
        self.subs.get(i).copied().flatten()
    }

    /// Looks a command up by name, ignoring ASCII case; returns its index too.
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let s = std::str::from_utf8(lower).ok()?;
        let i = *self.by_name.get(s)?;
        Some((i, self.specs[i]))
    }

    /// The command with index `i`.
    pub fn by_index(&self, i: usize) -> Option<&'static CommandSpec> {
        self.specs.get(i).copied()
    }

    /// Looks a command up by name, ignoring ASCII case.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.lookup(name).map(|(_, s)| s)
    }

    /// Every command, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.specs.iter().copied()
    }

    /// Number of commands.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}
