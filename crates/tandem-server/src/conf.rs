//! Reading configuration the way redis-server does: a redis.conf-style file (one
//! directive per line, `#` comments, `"..."`/`'...'` quoting, `include`), then
//! command-line `--name value...` pairs appended after it, then a check of every line
//! against the engine's directive table. A bad line stops start-up with the file, line
//! and reason, in Redis's words.

use std::fmt;

use tandem_engine::config::Config;

/// A configuration error, printed as Redis prints `FATAL CONFIG FILE ERROR`.
#[derive(Debug)]
pub struct ConfError {
    /// 1-based line number in the combined text.
    pub line: usize,
    /// The offending line.
    pub text: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
            self.line, self.text, self.reason
        )
    }
}

/// What the command line asked for besides configuration.
#[derive(Debug, Default)]
pub struct Invocation {
    /// The config file named first on the command line, if any.
    pub config_file: Option<String>,
    /// Combined configuration text (file, then arguments).
    pub text: String,
    /// `--version` / `-v`.
    pub version: bool,
    /// `--help` / `-h`.
    pub help: bool,
    /// `--check-rdb FILE` / `--check-aof FILE` style tool runs are added later.
    pub test_memory: bool,
}

/// Splits a line into words like Redis's `sdssplitargs`; `None` if quotes do not balance.
pub fn split_line(line: &str) -> Option<Vec<String>> {
    let mut p = tandem_resp::RequestParser::new();
    let mut buf = line.as_bytes().to_vec();
    buf.push(b'\n');
    let req = p
        .parse(&buf, &tandem_resp::RequestLimits::default())
        .ok()??;
    Some(
        req.args()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

fn quote(arg: &str) -> String {
    if arg.is_empty()
        || arg.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
    {
        let mut s = String::from('"');
        for c in arg.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                c => s.push(c),
            }
        }
        s.push('"');
        s
    } else {
        arg.to_string()
    }
}

/// Parses `argv` (without the program name) as redis-server does.
pub fn parse_args(args: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation::default();
    let mut i = 0;
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                inv.version = true;
                return Ok(inv);
            }
            "-h" | "--help" => {
                inv.help = true;
                return Ok(inv);
            }
            "--test-memory" => {
                inv.test_memory = true;
                return Ok(inv);
            }
            f if !f.starts_with("--") => {
                inv.config_file = Some(f.to_string());
                i = 1;
            }
            _ => {}
        }
    }
    if let Some(path) = &inv.config_file {
        let text = if path == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| format!("Can't read config from stdin: {e}"))?;
            s
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))?
        };
        inv.text.push_str(&text);
        if !inv.text.ends_with('\n') {
            inv.text.push('\n');
        }
    }
    let mut line = String::new();
    while i < args.len() {
        let a = &args[i];
        if let Some(name) = a.strip_prefix("--") {
            if !line.is_empty() {
                inv.text.push_str(&line);
                inv.text.push('\n');
            }
            line = name.to_string();
        } else {
            if line.is_empty() {
                return Err(format!(
                    "Invalid argument '{a}': options must start with --"
                ));
            }
            line.push(' ');
            line.push_str(&quote(a));
        }
        i += 1;
    }
    if !line.is_empty() {
        inv.text.push_str(&line);
        inv.text.push('\n');
    }
    Ok(inv)
}

/// Applies every line of `text` to `config`. `include` lines are read recursively.
pub fn load(config: &Config, text: &str) -> Result<(), ConfError> {
    for (n, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let err = |reason: String| ConfError {
            line: n + 1,
            text: trimmed.to_string(),
            reason,
        };
        let words = split_line(trimmed)
            .ok_or_else(|| err("Unbalanced quotes in configuration line".into()))?;
        let Some(name) = words.first() else { continue };
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        if name.eq_ignore_ascii_case("include") {
            let path = args
                .first()
                .ok_or_else(|| err("Bad directive or wrong number of arguments".into()))?;
            let inner = std::fs::read_to_string(path)
                .map_err(|e| err(format!("Can't open included file '{path}': {e}")))?;
            load(config, &inner)?;
            continue;
        }
        // Directives tandem accepts for compatibility but has no use for.
        if [
            "rename-command",
            "user",
            "aclfile",
            "syslog-enabled",
            "syslog-ident",
            "syslog-facility",
            "set-proc-title",
            "proc-title-template",
        ]
        .iter()
        .any(|d| d.eq_ignore_ascii_case(name))
        {
            continue;
        }
        if args.is_empty() && !name.eq_ignore_ascii_case("save") {
            return Err(err("wrong number of arguments".into()));
        }
        config.set(name, &args).map_err(err)?;
    }
    Ok(())
}

/// The text `CONFIG REWRITE` writes: the original file with changed directives
/// replaced in place and new ones appended.
pub fn rewrite(original: &str, config: &Config) -> String {
    let changed = config.non_defaults();
    let mut written = std::collections::HashSet::new();
    let mut out = String::new();
    for raw in original.lines() {
        let words = split_line(raw.trim()).unwrap_or_default();
        let name = words.first().map(|w| w.to_ascii_lowercase());
        let dir = name.as_deref().and_then(tandem_engine::config::directive);
        match dir {
            Some(d) => {
                if written.insert(d.name) {
                    if let Some((_, v)) = changed.iter().find(|(n, _)| *n == d.name) {
                        out.push_str(&format!("{} {}\n", d.name, render_value(v)));
                    }
                }
            }
            None => {
                out.push_str(raw);
                out.push('\n');
            }
        }
    }
    let mut header = false;
    for (n, v) in &changed {
        if !written.contains(n) {
            if !header {
                out.push_str("# Generated by CONFIG REWRITE\n");
                header = true;
            }
            out.push_str(&format!("{n} {}\n", render_value(v)));
        }
    }
    out
}

fn render_value(v: &str) -> String {
    if v.is_empty() {
        "\"\"".into()
    } else {
        v.split(' ').map(quote).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn command_line_like_redis() {
        let inv = parse_args(&argv(&[
            "--port",
            "7000",
            "--save",
            "",
            "--replicaof",
            "127.0.0.1",
            "6379",
        ]))
        .unwrap();
        assert_eq!(inv.text, "port 7000\nsave \"\"\nreplicaof 127.0.0.1 6379\n");
        let c = Config::default();
        load(&c, &inv.text).unwrap();
        assert_eq!(c.get("port").as_deref(), Some("7000"));
        assert_eq!(c.get("save").as_deref(), Some(""));
        assert_eq!(c.get("replicaof").as_deref(), Some("127.0.0.1 6379"));
    }

    #[test]
    fn bad_lines_name_line_and_reason() {
        let c = Config::default();
        let e = load(&c, "# comment\nport 6380\nmaxmemory lots\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.text, "maxmemory lots");
        assert!(e.to_string().contains("FATAL CONFIG FILE ERROR"));
        let e = load(&c, "nosuchthing 1\n").unwrap_err();
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
    }

    #[test]
    fn rewrite_keeps_comments() {
        let c = Config::default();
        load(&c, "port 7001\n").unwrap();
        c.set("maxmemory", &["100"]).unwrap();
        let out = rewrite("# my file\nport 6379\n", &c);
        assert_eq!(
            out,
            "# my file\nport 7001\n# Generated by CONFIG REWRITE\nmaxmemory 100\n"
        );
    }
}
