//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over [`crate::config`].
//!
//! `CONFIG SET` takes several pairs and is atomic: every name and value is checked
//! before any is stored, with Redis 7.0's error texts. `CONFIG REWRITE` rewrites the
//! file the server was started with ([`crate::Shared::config_file`]) the way Redis
//! does: lines of known directives get the current value, repeated ones are dropped,
//! comments and unknown lines stay, and changed directives that were not in the file
//! are appended.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;

use super::{find_sub, help, Sub};
use crate::call::Call;
use crate::command::flags::*;
use crate::config::{self, ValueKind, DIRECTIVES};
use crate::error::{unknown_subcommand, CmdError, CmdResult, SYNTAX};

const FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// CONFIG's subcommands.
pub(crate) const SUBS: &[Sub] = &[
    Sub::new("get", "config|get", -3, FLAGS),
    Sub::new("set", "config|set", -4, FLAGS),
    Sub::new("resetstat", "config|resetstat", 2, FLAGS),
    Sub::new("rewrite", "config|rewrite", 2, FLAGS),
    Sub::new("help", "config|help", 2, LOADING | STALE),
];

const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

pub(super) fn config(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = find_sub(c, "config", SUBS)?;
    match sub.name {
        "help" => help(c, "CONFIG", HELP),
        "get" => get(c),
        "set" => set(c)?,
        "resetstat" => {
            c.engine.reset_stats();
            c.out.ok();
        }
        "rewrite" => {
            let path = c.engine.config_file.read().clone();
            let Some(path) = path else {
                return Err(CmdError::fixed(
                    "ERR The server is running without a config file",
                ));
            };
            rewrite(&c.engine.config, &path)
                .map_err(|e| CmdError::msg(format!("ERR Rewriting config file: {e}")))?;
            c.out.ok();
        }
        _ => return Err(unknown_subcommand("config", c.argv[1])),
    }
    Ok(())
}

fn get(c: &mut Call<'_, '_>) {
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for p in &c.argv[2..] {
        let pattern = String::from_utf8_lossy(p);
        for (name, value) in c.engine.config.matching(&pattern) {
            if seen.insert(name) {
                pairs.push((name, value));
            }
        }
    }
    c.out.map(pairs.len());
    for (name, value) in pairs {
        c.out.bulk(name.as_bytes());
        c.out.bulk(value.as_bytes());
    }
}

fn failed(name: &[u8], reason: &str) -> CmdError {
    CmdError::msg(format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
        String::from_utf8_lossy(name)
    ))
}

fn set(c: &mut Call<'_, '_>) -> CmdResult {
    if !(c.argc() - 2).is_multiple_of(2) {
        return Err(SYNTAX);
    }
    // Names first: unknown, immutable, duplicate.
    let mut dirs = Vec::new();
    for i in (2..c.argc()).step_by(2) {
        let name = String::from_utf8_lossy(c.argv[i]);
        let Some(dir) = config::directive(&name) else {
            return Err(CmdError::msg(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if !dir.mutable {
            return Err(failed(c.argv[i], "can't set immutable config"));
        }
        if dirs
            .iter()
            .any(|(d, _): &(&config::Directive, usize)| d.name == dir.name)
        {
            return Err(failed(c.argv[i], "duplicate parameter"));
        }
        dirs.push((dir, i));
    }
    // Then values, all of them before anything changes.
    let mut values = Vec::with_capacity(dirs.len());
    for &(dir, i) in &dirs {
        let raw = String::from_utf8_lossy(c.argv[i + 1]).into_owned();
        let words: Vec<&str> = match dir.kind {
            ValueKind::Words => raw.split_whitespace().collect(),
            _ => vec![raw.as_str()],
        };
        config::canonical(dir, &words).map_err(|e| failed(c.argv[i], &e))?;
        values.push(raw);
    }
    for (&(dir, _), raw) in dirs.iter().zip(&values) {
        let words: Vec<&str> = match dir.kind {
            ValueKind::Words => raw.split_whitespace().collect(),
            _ => vec![raw.as_str()],
        };
        c.engine
            .config
            .set(dir.name, &words)
            .map_err(|e| CmdError::msg(format!("ERR CONFIG SET failed - {e}")))?;
    }
    for &(dir, _) in &dirs {
        c.engine.apply_config(dir.name);
    }
    c.out.ok();
    Ok(())
}

/// How a value is written in a config file: quoted when empty or not a plain word.
fn file_value(v: &str, kind: ValueKind) -> String {
    let plain = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\')
    };
    match kind {
        ValueKind::Memory | ValueKind::MemoryOrPercent => match v.parse::<u64>() {
            // Redis's rewriteConfigBytesOption.
            Ok(n) if n % (1 << 30) == 0 => format!("{}gb", n >> 30),
            Ok(n) if n % (1 << 20) == 0 => format!("{}mb", n >> 20),
            Ok(n) if n % (1 << 10) == 0 => format!("{}kb", n >> 10),
            _ => v.to_string(),
        },
        ValueKind::Words if v.split(' ').all(plain) => v.to_string(),
        ValueKind::Words if v.is_empty() => "\"\"".to_string(),
        _ if plain(v) => v.to_string(),
        _ => {
            let mut out = Vec::new();
            crate::registry::repr_into(&mut out, v.as_bytes());
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// The directive a config file line sets, if any.
fn line_directive(line: &str) -> Option<&'static config::Directive> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let word = t.split_whitespace().next()?;
    config::directive(word)
}

const GENERATED: &str = "# Generated by CONFIG REWRITE";

/// Rewrites the config file at `path` with the current values (see the module docs).
pub(crate) fn rewrite(cfg: &config::Config, path: &Path) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut done: HashSet<&'static str> = HashSet::new();
    let mut lines: Vec<String> = Vec::new();
    for line in old.lines() {
        if line == GENERATED {
            continue;
        }
        match line_directive(line) {
            Some(dir) => {
                if done.insert(dir.name) {
                    let v = cfg.get(dir.name).unwrap_or_default();
                    lines.push(format!("{} {}", dir.name, file_value(&v, dir.kind)));
                }
            }
            None => lines.push(line.to_string()),
        }
    }
    let mut appended = false;
    for (name, value) in cfg.non_defaults() {
        if done.contains(name) {
            continue;
        }
        let Some(dir) = DIRECTIVES.iter().find(|d| d.name == name) else {
            continue;
        };
        if !appended {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(GENERATED.to_string());
            appended = true;
        }
        lines.push(format!("{} {}", dir.name, file_value(&value, dir.kind)));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
