//! The AOF manifest (`appendonly.aof.manifest`), as Redis 7.0 parses and writes it.
//!
//! One line per file: `file <name> seq <n> type <b|h|i>` (more key/value pairs are
//! allowed and ignored, for forward compatibility); `#` lines are comments. The base
//! comes first, then history files, then incr files in ascending `seq`. Names are
//! written in double quotes with C escapes when they contain spaces, quotes or
//! unprintable bytes (`sdscatrepr`), and read back with Redis's `sdssplitargs` rules.

use std::fmt;

/// Longest manifest line Redis reads (`MANIFEST_MAX_LINE`).
pub const MAX_LINE: usize = 1024;
/// Suffix of base files' names.
pub const BASE_SUFFIX: &str = ".base";
/// Suffix of incr files' names.
pub const INCR_SUFFIX: &str = ".incr";
/// Format suffix of an RDB base.
pub const RDB_SUFFIX: &str = ".rdb";
/// Format suffix of a command file.
pub const AOF_SUFFIX: &str = ".aof";
/// Suffix of the manifest's name.
pub const MANIFEST_SUFFIX: &str = ".manifest";
/// Prefix of files being written (renamed into place when complete).
pub const TEMP_PREFIX: &str = "temp-";

/// The role of a file in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofFileType {
    /// `b`: the base (a snapshot: RDB or commands).
    Base,
    /// `h`: history, waiting to be deleted after a rewrite.
    History,
    /// `i`: incremental commands since the base.
    Incr,
}

impl AofFileType {
    /// The manifest letter.
    pub fn letter(self) -> char {
        match self {
            AofFileType::Base => 'b',
            AofFileType::History => 'h',
            AofFileType::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofInfo {
    /// File name inside the AOF directory (never a path).
    pub name: String,
    /// Sequence number.
    pub seq: i64,
    /// Role.
    pub kind: AofFileType,
}

/// A manifest parse error, with Redis's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line number (0 when the error is about the whole file).
    pub line: usize,
    /// The offending line, trimmed.
    pub text: String,
    /// Redis's message, e.g. `Invalid AOF manifest file format`.
    pub reason: &'static str,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{} (manifest line {}: '{}')",
                self.reason, self.line, self.text
            )
        } else {
            f.write_str(self.reason)
        }
    }
}

impl std::error::Error for ManifestError {}

/// The manifest: base, history and incr files, with the current sequence numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AofManifest {
    /// The base file, if any.
    pub base: Option<AofInfo>,
    /// History files, to be deleted.
    pub history: Vec<AofInfo>,
    /// Incr files in load order.
    pub incr: Vec<AofInfo>,
    /// Sequence of the current base.
    pub curr_base_seq: i64,
    /// Sequence of the last incr file.
    pub curr_incr_seq: i64,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits a line like Redis's `sdssplitargs`: spaces separate, `"…"` with `\n \r \t
/// \b \a \xHH` escapes, `'…'` with `\'`. `None` for unbalanced quotes or a closing
/// quote not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut p = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    let h = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                    cur.push(h(at(p + 2)) * 16 + h(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        o => o,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 && p >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 && p >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => done = true,
                    0 if p >= line.len() => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    o => cur.push(o),
                }
            }
            if p < line.len() {
                p += 1;
            }
        }
        out.push(cur);
    }
}

/// Whether Redis would quote a name (`sdsneedsrepr`).
fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8)
            || !(0x20..0x7f).contains(&c)
            || is_space(c)
    })
}

/// Quotes like `sdscatrepr`.
fn repr(s: &[u8], out: &mut String) {
    out.push('"');
    for &c in s {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
}

fn parse_seq(s: &[u8]) -> i64 {
    // atoll: optional spaces and sign, digits, stop at the first other byte.
    let s = std::str::from_utf8(s).unwrap_or("");
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.wrapping_mul(10).wrapping_add(i64::from(c - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

impl AofManifest {
    /// Parses a manifest with Redis 7.0's rules and messages.
    pub fn parse(text: &[u8]) -> Result<AofManifest, ManifestError> {
        let mut am = AofManifest::default();
        let mut maxseq = 0i64;
        let mut linenum = 0usize;
        let mut rest = text;
        let err = |line: usize, t: &[u8], reason| ManifestError {
            line,
            text: String::from_utf8_lossy(t).into_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(err(0, b"", "Found an empty AOF manifest"));
        }
        while !rest.is_empty() {
            // fgets with a MAX_LINE + 1 buffer: at most MAX_LINE bytes per read.
            let nl = rest.iter().take(MAX_LINE).position(|&c| c == b'\n');
            let (raw, next) = match nl {
                Some(i) => (&rest[..=i], &rest[i + 1..]),
                None => (
                    &rest[..rest.len().min(MAX_LINE)],
                    &rest[rest.len().min(MAX_LINE)..],
                ),
            };
            rest = next;
            linenum += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            if nl.is_none() {
                return Err(err(
                    linenum,
                    raw,
                    "The AOF manifest file contains too long line",
                ));
            }
            let trimmed = {
                let mut s = raw;
                while let Some((&c, r)) = s.split_first() {
                    if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                        s = r;
                    } else {
                        break;
                    }
                }
                while let Some((&c, r)) = s.split_last() {
                    if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                        s = r;
                    } else {
                        break;
                    }
                }
                s
            };
            if trimmed.is_empty() {
                return Err(err(linenum, trimmed, "Invalid AOF manifest file format"));
            }
            let argv = match split_args(trimmed) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(err(linenum, trimmed, "Invalid AOF manifest file format")),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for kv in argv.chunks_exact(2) {
                if kv[0].eq_ignore_ascii_case(b"file") {
                    if kv[1].contains(&b'/') {
                        return Err(err(
                            linenum,
                            trimmed,
                            "File can't be a path, just a filename",
                        ));
                    }
                    name = Some(String::from_utf8_lossy(&kv[1]).into_owned());
                } else if kv[0].eq_ignore_ascii_case(b"seq") {
                    seq = parse_seq(&kv[1]);
                } else if kv[0].eq_ignore_ascii_case(b"type") {
                    kind = kv[1].first().copied().unwrap_or(0);
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(err(linenum, trimmed, "Invalid AOF manifest file format"));
            };
            match kind {
                b'b' => {
                    if am.base.is_some() {
                        return Err(err(
                            linenum,
                            trimmed,
                            "Found duplicate base file information",
                        ));
                    }
                    am.curr_base_seq = seq;
                    am.base = Some(AofInfo {
                        name,
                        seq,
                        kind: AofFileType::Base,
                    });
                }
                b'h' => am.history.push(AofInfo {
                    name,
                    seq,
                    kind: AofFileType::History,
                }),
                b'i' => {
                    if seq <= maxseq {
                        return Err(err(
                            linenum,
                            trimmed,
                            "Found a non-monotonic sequence number",
                        ));
                    }
                    am.incr.push(AofInfo {
                        name,
                        seq,
                        kind: AofFileType::Incr,
                    });
                    am.curr_incr_seq = seq;
                    maxseq = seq;
                }
                _ => return Err(err(linenum, trimmed, "Unknown AOF file type")),
            }
        }
        Ok(am)
    }

    /// The manifest text, as `getAofManifestAsString` writes it.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for ai in self.base.iter().chain(&self.history).chain(&self.incr) {
            s.push_str("file ");
            if needs_repr(ai.name.as_bytes()) {
                repr(ai.name.as_bytes(), &mut s);
            } else {
                s.push_str(&ai.name);
            }
            s.push_str(&format!(" seq {} type {}\n", ai.seq, ai.kind.letter()));
        }
        s
    }

    /// Files to load, in order: the base, then the incr files.
    pub fn load_order(&self) -> impl Iterator<Item = &AofInfo> {
        self.base.iter().chain(&self.incr)
    }

    /// Starts a new base (`getNewBaseFileNameAndMarkPreAsHistory`): the old base becomes
    /// history. Returns the new file's name, `<prefix>.<seq>.base.rdb` (or `.aof`).
    pub fn new_base(&mut self, prefix: &str, rdb_preamble: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = AofFileType::History;
            self.history.insert(0, old);
        }
        self.curr_base_seq += 1;
        let name = format!(
            "{prefix}.{}{BASE_SUFFIX}{}",
            self.curr_base_seq,
            if rdb_preamble { RDB_SUFFIX } else { AOF_SUFFIX }
        );
        self.base = Some(AofInfo {
            name: name.clone(),
            seq: self.curr_base_seq,
            kind: AofFileType::Base,
        });
        name
    }

    /// Adds a new incr file (`getNewIncrAofName`): `<prefix>.<seq>.incr.aof`.
    pub fn new_incr(&mut self, prefix: &str) -> String {
        self.curr_incr_seq += 1;
        let name = format!("{prefix}.{}{INCR_SUFFIX}{AOF_SUFFIX}", self.curr_incr_seq);
        self.incr.push(AofInfo {
            name: name.clone(),
            seq: self.curr_incr_seq,
            kind: AofFileType::Incr,
        });
        name
    }

    /// After a rewrite (`markRewrittenIncrAofAsHistory`): every incr file becomes
    /// history, except the last one when `keep_last` (the file being appended to).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incr.is_empty());
        let moved: Vec<AofInfo> = self.incr.drain(..self.incr.len() - keep).collect();
        for mut ai in moved.into_iter().rev() {
            ai.kind = AofFileType::History;
            self.history.insert(0, ai);
        }
    }
}

/// The manifest's file name for `appendfilename` `prefix`.
pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}{MANIFEST_SUFFIX}")
}

/// The temporary manifest written before the rename.
pub fn temp_manifest_name(prefix: &str) -> String {
    format!("{TEMP_PREFIX}{prefix}{MANIFEST_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_manifest_round_trips() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = AofManifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incr.len(), 1);
        assert_eq!(m.to_text(), text);
        let names: Vec<&str> = m.load_order().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"]
        );
    }

    #[test]
    fn rewrite_sequence_like_redis() {
        let mut m = AofManifest::default();
        assert_eq!(
            m.new_base("appendonly.aof", true),
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.2.incr.aof");
        assert_eq!(
            m.new_base("appendonly.aof", false),
            "appendonly.aof.2.base.aof"
        );
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(
            m.to_text(),
            "file appendonly.aof.2.base.aof seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert_eq!(AofManifest::parse(m.to_text().as_bytes()).unwrap(), m);
    }

    #[test]
    fn quoted_names() {
        let m = AofManifest {
            base: Some(AofInfo {
                name: "my file\t\"x\".rdb".into(),
                seq: 1,
                kind: AofFileType::Base,
            }),
            ..AofManifest::default()
        };
        let t = m.to_text();
        assert_eq!(t, "file \"my file\\t\\\"x\\\".rdb\" seq 1 type b\n");
        assert_eq!(
            AofManifest::parse(t.as_bytes()).unwrap().base.unwrap().name,
            "my file\t\"x\".rdb"
        );
    }

    #[test]
    fn redis_validation_errors() {
        let e = |t: &str| AofManifest::parse(t.as_bytes()).unwrap_err().reason;
        assert_eq!(e(""), "Found an empty AOF manifest");
        assert_eq!(
            e("file a seq 1 type b"),
            "The AOF manifest file contains too long line"
        );
        assert_eq!(e("file a seq 1\n"), "Invalid AOF manifest file format");
        assert_eq!(e("\n"), "Invalid AOF manifest file format");
        assert_eq!(
            e("file a seq 0 type b\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            e("file d/a seq 1 type b\n"),
            "File can't be a path, just a filename"
        );
        assert_eq!(
            e("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            e("file a seq 2 type i\nfile b seq 2 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(e("file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(
            e("file \"a seq 1 type b\n"),
            "Invalid AOF manifest file format"
        );
        let long = format!("file {} seq 1 type b\n", "a".repeat(2000));
        assert_eq!(e(&long), "The AOF manifest file contains too long line");
        // Comments and extra pairs are fine.
        let m = AofManifest::parse(b"# hello\nfile a seq 1 type b future x\n").unwrap();
        assert_eq!(m.base.unwrap().name, "a");
    }
}
