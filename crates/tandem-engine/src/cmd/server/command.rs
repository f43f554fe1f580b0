//! COMMAND, COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP — in Redis 7.0's
//! reply layout.
//!
//! Each `COMMAND INFO` entry has Redis 7.0's ten fields: name, arity, flags, first key,
//! last key, step, ACL categories, tips, key specs, subcommands. Flags and key positions
//! come from the command table; ACL categories are derived as Redis derives the
//! implicit ones (from flags) plus the family's category (`@string`, `@list`, …); key
//! specs are derived from the key positions (`RO`/`access` for read-only commands,
//! `RW`/`update` for writes). `COMMAND DOCS` replies an empty map: tandem carries no
//! command documentation.

use super::{containers, find_sub, help, Sub};
use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys, Legacy};
use crate::error::{unknown_subcommand, CmdError, CmdResult, SYNTAX};

/// COMMAND's subcommands.
pub(crate) const SUBS: &[Sub] = &[
    Sub::new("count", "command|count", 2, LOADING | STALE),
    Sub::new("docs", "command|docs", -2, LOADING | STALE),
    Sub::new("getkeys", "command|getkeys", -4, LOADING | STALE),
    Sub::new(
        "getkeysandflags",
        "command|getkeysandflags",
        -4,
        LOADING | STALE,
    ),
    Sub::new("info", "command|info", -2, LOADING | STALE),
    Sub::new("list", "command|list", -2, LOADING | STALE),
    Sub::new("help", "command|help", 2, LOADING | STALE),
];

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// ACL categories in Redis's order (COMMAND INFO lists them in this order).
const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

fn cat(name: &str) -> u32 {
    CATEGORIES
        .iter()
        .position(|c| *c == name)
        .map_or(0, |i| 1 << i)
}

/// The category of the family a command belongs to.
fn family_category(spec: &CommandSpec) -> u32 {
    use crate::cmd::*;
    let families: &[(&[CommandSpec], &str)] = &[
        (connection::COMMANDS, "connection"),
        (pubsub::COMMANDS, "pubsub"),
        (multi::COMMANDS, "transaction"),
        (strings::COMMANDS, "string"),
        (keys::COMMANDS, "keyspace"),
        (lists::COMMANDS, "list"),
        (hashes::COMMANDS, "hash"),
        (sets::COMMANDS, "set"),
        (zsets::COMMANDS, "sortedset"),
    ];
    families
        .iter()
        .find(|(f, _)| f.iter().any(|s| s.name == spec.name))
        .map_or(0, |(_, c)| cat(c))
}

/// Categories Redis adds from the flags (`setImplicitACLCategories`).
fn implicit_categories(f: u32) -> u32 {
    let mut c = 0;
    if f & WRITE != 0 {
        c |= cat("write");
    }
    if f & READONLY != 0 {
        c |= cat("read");
    }
    if f & ADMIN != 0 {
        c |= cat("admin") | cat("dangerous");
    }
    if f & PUBSUB != 0 {
        c |= cat("pubsub");
    }
    if f & BLOCKING != 0 {
        c |= cat("blocking");
    }
    if f & FAST != 0 {
        c |= cat("fast");
    } else {
        c |= cat("slow");
    }
    c
}

fn categories_of(c: &mut Call<'_, '_>, bits: u32) {
    let names: Vec<&str> = CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    c.out.set(names.len());
    for n in names {
        c.out.simple(&format!("@{n}"));
    }
}

/// The flags in the order Redis 7.0 lists them (see [`NAMES`]), `movablekeys` included.
fn flags_of(c: &mut Call<'_, '_>, f: u32, movable: bool) {
    let shown = |list: &'static [(u32, &'static str)]| {
        list.iter()
            .filter(move |(bit, _)| f & bit != 0)
            .map(|(_, n)| *n)
    };
    let names: Vec<&str> = shown(NAMES)
        .chain(movable.then_some("movablekeys"))
        .chain(shown(AFTER_MOVABLEKEYS))
        .collect();
    c.out.set(names.len());
    for n in names {
        c.out.simple(n);
    }
}

/// The subcommands of a container command, if it is one, and their ACL category.
fn subs_of(name: &str) -> Option<(&'static [Sub], u32)> {
    containers()
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, s, category)| (*s, cat(category)))
}

/// Key-spec flags from the command flags (an approximation of Redis's per-key flags).
fn key_spec_flags(f: u32) -> &'static [&'static str] {
    if f & WRITE != 0 {
        &["RW", "update"]
    } else if f & READONLY != 0 {
        &["RO", "access"]
    } else {
        &[]
    }
}

/// The key-spec flags of channels named like keys.
const NOT_KEY: &[&str] = &["not_key"];

/// Key-spec flags of a command: keys that are not locked are channels (SSUBSCRIBE,
/// SPUBLISH: `not_key`) or watched keys (WATCH: `RO`).
fn spec_key_flags(spec: &CommandSpec) -> &'static [&'static str] {
    match spec.keys {
        Keys::Unlocked { .. } if spec.has(PUBSUB) => NOT_KEY,
        Keys::Unlocked { .. } => &["RO"],
        _ => key_spec_flags(spec.flags),
    }
}

/// One range key spec for the fixed key positions, none without them.
fn key_specs(c: &mut Call<'_, '_>, (first, last, step): Legacy, kf: &[&str]) {
    if first == 0 {
        c.out.set(0);
        return;
    }
    c.out.set(1);
    c.out.map(3);
    c.out.bulk(b"flags");
    c.out.set(kf.len());
    for f in kf {
        c.out.simple(f);
    }
    c.out.bulk(b"begin_search");
    c.out.map(2);
    c.out.bulk(b"type");
    c.out.bulk(b"index");
    c.out.bulk(b"spec");
    c.out.map(1);
    c.out.bulk(b"index");
    c.out.int(first.into());
    c.out.bulk(b"find_keys");
    c.out.map(2);
    c.out.bulk(b"type");
    c.out.bulk(b"range");
    c.out.bulk(b"spec");
    c.out.map(3);
    c.out.bulk(b"lastkey");
    c.out.int(if last < 0 { last } else { last - first }.into());
    c.out.bulk(b"keystep");
    c.out.int(step.into());
    c.out.bulk(b"limit");
    c.out.int(0);
}

fn sub_info(c: &mut Call<'_, '_>, sub: &Sub, family: u32) {
    c.out.array(10);
    c.out.bulk(sub.full.as_bytes());
    c.out.int(sub.arity.into());
    flags_of(c, sub.flags, false);
    let (first, last, step) = sub.legacy;
    c.out.int(first.into());
    c.out.int(last.into());
    c.out.int(step.into());
    categories_of(c, implicit_categories(sub.flags) | family);
    c.out.set(0);
    key_specs(c, sub.legacy, key_spec_flags(sub.flags));
    c.out.set(0);
}

fn info_entry(c: &mut Call<'_, '_>, spec: &'static CommandSpec) {
    c.out.array(10);
    c.out.bulk(spec.name.as_bytes());
    c.out.int(spec.arity.into());
    let family = family_category(spec);
    match subs_of(spec.name) {
        Some((subs, category)) => {
            // A container: Redis shows @slow and the subcommands, and no flags unless
            // the container also runs alone (COMMAND: loading, stale).
            flags_of(c, if spec.arity == -1 { spec.flags } else { 0 }, false);
            c.out.int(0);
            c.out.int(0);
            c.out.int(0);
            categories_of(c, cat("slow"));
            c.out.set(0);
            c.out.set(0);
            c.out.array(subs.len());
            for s in subs {
                sub_info(c, s, family | category);
            }
        }
        None => {
            flags_of(c, spec.flags, spec.keys.is_movable());
            let (first, last, step) = spec.keys.legacy_triple();
            c.out.int(first.into());
            c.out.int(last.into());
            c.out.int(step.into());
            categories_of(c, implicit_categories(spec.flags) | family);
            c.out.set(0);
            key_specs(c, spec.keys.legacy_triple(), spec_key_flags(spec));
            c.out.set(0);
        }
    }
}

/// All command names, sorted (the table itself has no order).
fn sorted(c: &Call<'_, '_>) -> Vec<&'static CommandSpec> {
    let mut v: Vec<_> = c.engine.commands.iter().collect();
    v.sort_by_key(|s| s.name);
    v
}

pub(super) fn command(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc() == 1 {
        let all = sorted(c);
        c.out.array(all.len());
        for spec in all {
            info_entry(c, spec);
        }
        return Ok(());
    }
    let sub = find_sub(c, "command", SUBS)?;
    match sub.name {
        "help" => help(c, "COMMAND", HELP),
        "count" => c.out.int(c.engine.commands.len() as i64),
        "docs" => c.out.map(0),
        "info" => {
            if c.argc() == 2 {
                let all = sorted(c);
                c.out.array(all.len());
                for spec in all {
                    info_entry(c, spec);
                }
            } else {
                c.out.array(c.argc() - 2);
                for i in 2..c.argc() {
                    match c.engine.commands.get(c.argv[i]) {
                        Some(spec) => info_entry(c, spec),
                        None => c.out.null(),
                    }
                }
            }
        }
        "list" => list(c)?,
        "getkeys" | "getkeysandflags" => getkeys(c, sub.name == "getkeysandflags")?,
        _ => return Err(unknown_subcommand("command", c.argv[1])),
    }
    Ok(())
}

fn list(c: &mut Call<'_, '_>) -> CmdResult {
    enum Filter {
        All,
        Module,
        AclCat(u32),
        Pattern(Vec<u8>),
    }
    let filter = match c.argc() {
        2 => Filter::All,
        5 if c.is(2, "filterby") => {
            if c.is(3, "module") {
                Filter::Module
            } else if c.is(3, "aclcat") {
                let name = String::from_utf8_lossy(c.argv[4]).to_ascii_lowercase();
                Filter::AclCat(cat(&name))
            } else if c.is(3, "pattern") {
                Filter::Pattern(c.argv[4].to_vec())
            } else {
                return Err(SYNTAX);
            }
        }
        _ => return Err(SYNTAX),
    };
    let mut names: Vec<(&'static str, u32)> = Vec::new();
    for spec in sorted(c) {
        let family = family_category(spec);
        match subs_of(spec.name) {
            Some((subs, category)) => {
                names.push((spec.name, cat("slow")));
                for s in subs {
                    names.push((s.full, implicit_categories(s.flags) | family | category));
                }
            }
            None => names.push((spec.name, implicit_categories(spec.flags) | family)),
        }
    }
    let names: Vec<&str> = names
        .into_iter()
        .filter(|(n, cats)| match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(bit) => *bit != 0 && cats & bit != 0,
            Filter::Pattern(p) => tandem_keyspace::glob::glob_match(p, n.as_bytes(), true),
        })
        .map(|(n, _)| n)
        .collect();
    c.out.bulks(names.iter());
    Ok(())
}

fn getkeys(c: &mut Call<'_, '_>, with_flags: bool) -> CmdResult {
    let argv = &c.argv[2..];
    let spec = c
        .engine
        .commands
        .get(argv[0])
        .ok_or(CmdError::fixed("ERR Invalid command specified"))?;
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::fixed(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let mut keys = Vec::new();
    // Shard channels (SSUBSCRIBE, SPUBLISH) are not keys to GETKEYS.
    if spec_key_flags(spec) != NOT_KEY {
        spec.keys.named(argv, c.db, &mut keys);
    }
    // MOVE names its key in two databases; GETKEYS lists it once.
    keys.dedup_by_key(|(_, i)| *i);
    if keys.is_empty() {
        return Err(CmdError::fixed("ERR The command has no key arguments"));
    }
    c.out.array(keys.len());
    for (_, i) in keys {
        if with_flags {
            c.out.array(2);
            c.out.bulk(argv[i]);
            let kf = spec_key_flags(spec);
            c.out.set(kf.len());
            for f in kf {
                c.out.simple(f);
            }
        } else {
            c.out.bulk(argv[i]);
        }
    }
    Ok(())
}
