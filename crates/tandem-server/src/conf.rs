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

/// What the command line asked for.
#[derive(Debug, Default)]
pub struct Invocation {
    /// The config file named first on the command line, if any, as given.
    pub config_file: Option<String>,
    /// Whether configuration is also read from standard input (`-` first or last).
    pub from_stdin: bool,
    /// The `--name value` options, rendered as configuration lines the way Redis does
    /// (`name "value"`, one per line).
    pub options: String,
    /// `--version` / `-v`.
    pub version: bool,
    /// `--help` / `-h`.
    pub help: bool,
    /// `--test-memory`.
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

/// Appends `arg` quoted as Redis's `sdscatrepr` does.
fn push_repr(out: &mut String, arg: &[u8]) {
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// Parses `argv` (without the program name) exactly as redis-server 7.0 does: an
/// optional config file first, `-` (first or last) for standard input, and `--name
/// value...` options that become configuration lines appended after the file.
pub fn parse_args(args: &[Vec<u8>]) -> Invocation {
    let mut inv = Invocation::default();
    let Some(first) = args.first() else {
        return inv;
    };
    match first.as_slice() {
        b"-v" | b"--version" => {
            inv.version = true;
            return inv;
        }
        b"-h" | b"--help" => {
            inv.help = true;
            return inv;
        }
        b"--test-memory" => {
            inv.test_memory = true;
            return inv;
        }
        _ => {}
    }
    let mut j = 0;
    if first.first() != Some(&b'-') {
        inv.config_file = Some(String::from_utf8_lossy(first).into_owned());
        j = 1;
    }
    let is_opt = |a: &[u8]| a.starts_with(b"--");
    let mut handled_last = true;
    let opts = &mut inv.options;
    while j < args.len() {
        let a = args[j].as_slice();
        let last = j == args.len() - 1;
        if a == b"-" && (j == 0 || last) {
            inv.from_stdin = true;
        } else if handled_last && is_opt(a) {
            if !opts.is_empty() {
                opts.push('\n');
            }
            opts.push_str(&String::from_utf8_lossy(&a[2..]));
            opts.push(' ');
            let words = split_line(&String::from_utf8_lossy(a)).map_or(0, |w| w.len());
            if words == 1 {
                handled_last = false;
                let next_is_opt = !last && is_opt(&args[j + 1]);
                if a.eq_ignore_ascii_case(b"--save") && (next_is_opt || last) {
                    opts.push_str("\"\"");
                    handled_last = next_is_opt;
                } else if a.eq_ignore_ascii_case(b"--sentinel") && next_is_opt {
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            push_repr(opts, a);
            opts.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    inv
}

/// Redis's wording of an I/O error (`strerror`), without Rust's ` (os error N)`.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The configuration text Redis would parse: the file, then standard input, then a
/// newline and the command-line options. `stdin_text` is what was read from standard
/// input when [`Invocation::from_stdin`] is set.
pub fn config_text(inv: &Invocation, stdin_text: Option<&str>) -> Result<String, String> {
    let mut text = String::new();
    if let Some(path) = &inv.config_file {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "Fatal error, can't open config file '{path}': {}",
                strerror(&e)
            )
        })?;
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    if let Some(s) = stdin_text {
        text.push_str(s);
    }
    text.push('\n');
    text.push_str(&inv.options);
    Ok(text)
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
        if tandem_engine::config::directive(name).is_none() {
            return Err(err("Bad directive or wrong number of arguments".into()));
        }
        if args.is_empty() && !name.eq_ignore_ascii_case("save") {
            return Err(err("wrong number of arguments".into()));
        }
        let dir = config.set(name, &args).map_err(err)?;
        if dir.name == "dir" {
            // Redis changes directory while reading the file: later relative paths
            // (includes, dbfilename, logfile) are relative to it.
            if let Some(d) = args.first().filter(|d| !d.is_empty()) {
                std::env::set_current_dir(d).map_err(|e| err(strerror(&e)))?;
            }
        }
    }
    Ok(())
}

/// The text `CONFIG REWRITE` writes: the original file with changed directives
/// replaced in place and new ones appended.
#[allow(dead_code)] // called once the engine hands CONFIG REWRITE to the server
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
                        out.push_str(&format!("{} {}\n", d.name, render_value(d.name, v)));
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
            out.push_str(&format!("{n} {}\n", render_value(n, v)));
        }
    }
    out
}

/// A value as a config line writes it: several words for list-like directives
/// (`save 3600 1`, `bind a b`), one quoted word otherwise.
fn render_value(name: &str, v: &str) -> String {
    let words = matches!(
        tandem_engine::config::directive(name).map(|d| d.kind),
        Some(tandem_engine::config::ValueKind::Words)
    );
    if v.is_empty() {
        "\"\"".into()
    } else if words {
        v.split(' ').map(quote).collect::<Vec<_>>().join(" ")
    } else {
        quote(v)
    }
}

/// CONFIG REWRITE: rewrites the config file at `path` in place, safely: the new text
/// goes to a temporary file beside it (synced, with the old file's permissions) that
/// is then renamed over it.
#[allow(dead_code)] // called once the engine hands CONFIG REWRITE to the server
pub fn rewrite_file(path: &std::path::Path, config: &Config) -> std::io::Result<()> {
    use std::io::Write;
    let original = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let text = rewrite(&original, config);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
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
        ]));
        assert_eq!(
            inv.options,
            "port \"7000\" \nsave \"\" \nreplicaof \"127.0.0.1\" \"6379\" "
        );
        let c = Config::default();
        load(&c, &config_text(&inv, None).unwrap()).unwrap();
        assert_eq!(c.get("port").as_deref(), Some("7000"));
        assert_eq!(c.get("save").as_deref(), Some(""));
        assert_eq!(c.get("replicaof").as_deref(), Some("127.0.0.1 6379"));
    }

    #[test]
    fn command_line_special_cases() {
        // `--save` followed by another option, or last, means `save ""`.
        let inv = parse_args(&argv(&["--save", "--port", "1"]));
        assert_eq!(inv.options, "save \"\"\nport \"1\" ");
        let inv = parse_args(&argv(&["--port", "1", "--save"]));
        assert_eq!(inv.options, "port \"1\" \nsave \"\"");
        // An option name without value takes the next word, even one starting with --.
        let inv = parse_args(&argv(&["--port", "--maxmemory"]));
        assert_eq!(inv.options, "port \"--maxmemory\" ");
        // Name and value in one argument.
        let inv = parse_args(&argv(&["--port 7001", "--bind", "a b"]));
        assert_eq!(inv.options, "port 7001 \nbind \"a b\" ");
        // Config file first, `-` last, quoting of odd bytes.
        let inv = parse_args(&argv(&["/x.conf", "--requirepass", "a\"b\\\n\x01", "-"]));
        assert_eq!(inv.config_file.as_deref(), Some("/x.conf"));
        assert!(inv.from_stdin);
        assert_eq!(inv.options, "requirepass \"a\\\"b\\\\\\n\\x01\" ");
        let c = Config::default();
        load(&c, &format!("\n{}", inv.options)).unwrap();
        assert_eq!(c.get("requirepass").as_deref(), Some("a\"b\\\n\x01"));
        assert!(parse_args(&argv(&["--version"])).version);
        assert!(parse_args(&argv(&["-h"])).help);
    }

    #[test]
    fn line_numbers_count_like_redis() {
        // No file: the options start on line 2 (Redis prepends a newline).
        let inv = parse_args(&argv(&["--port", "1", "--maxmemory", "lots"]));
        let e = load(&Config::default(), &config_text(&inv, None).unwrap()).unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.text, "maxmemory \"lots\"");
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'maxmemory \"lots\"'\nargument must be a memory value"
        );
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
        let e = load(&c, "nosuchthing\n").unwrap_err();
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
        let e = load(&c, "port\n").unwrap_err();
        assert_eq!(e.reason, "wrong number of arguments");
        let e = load(&c, "port 1 2\n").unwrap_err();
        assert_eq!(e.reason, "wrong number of arguments");
    }

    #[test]
    fn rewrite_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("tandem-rewrite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        std::fs::write(&path, "# keep me\nport 7000\nrename-command FOO BAR\n").unwrap();
        let c = Config::default();
        load(&c, &std::fs::read_to_string(&path).unwrap()).unwrap();
        c.set("requirepass", &["a b\"c"]).unwrap();
        c.set("save", &["60", "100"]).unwrap();
        rewrite_file(&path, &c).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# keep me\nport 7000\nrename-command FOO BAR\n# Generated by CONFIG REWRITE\nrequirepass \"a b\\\"c\"\nsave 60 100\n"
        );
        let again = Config::default();
        load(&again, &text).unwrap();
        assert_eq!(again.get("requirepass").as_deref(), Some("a b\"c"));
        assert_eq!(again.get("save").as_deref(), Some("60 100"));
        std::fs::remove_dir_all(&dir).unwrap();
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
