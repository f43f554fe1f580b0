//! Redis 7 multi-part AOF: a manifest naming a base file (an RDB, or commands) and
//! incremental files of commands, in a directory (`appenddirname`).
//!
//! * [`manifest`] parses and writes the manifest with Redis's rules.
//! * [`read_commands`] reads a command file from an offset and calls back for each
//!   command with its exact byte offset, distinguishing a torn tail (the file simply
//!   ends in the middle of a command, or inside a `MULTI` without `EXEC`) from damage
//!   in the middle (an error naming the offset). `#…` annotation lines (`#TS:`) are
//!   skipped. Commands between `MULTI` and `EXEC` are delivered only once the `EXEC`
//!   has been read, so the callback never sees half a transaction.
//! * [`load_file`] reads one file (RDB preamble and/or commands); [`load_dir`] reads a
//!   whole directory through its manifest, applying the [`RecoveryMode`] to the last
//!   file's tail as Redis applies `aof-load-truncated`.
//!
//! Commands are parsed with [`tandem_resp::RequestParser`] with the strictness a master
//! link gets: multibulk only, no length limits.

pub mod manifest;

use std::fmt;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

pub use manifest::{AofFileType, AofInfo, AofManifest, ManifestError};
use tandem_resp::{RequestLimits, RequestParser};

use crate::rdb::{self, RdbError, RdbSummary, RdbVisitor, ReadOptions, VisitError};

/// What to do with a torn tail in the last file (Redis's `aof-load-truncated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Load up to the last complete command (and truncate the file there, if asked):
    /// `aof-load-truncated yes`, the default.
    #[default]
    TolerateCorruptTail,
    /// Fail on any incomplete tail: `aof-load-truncated no`.
    Strict,
}

/// Why a command file ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailKind {
    /// The file ends in the middle of a command (or annotation line).
    MidCommand,
    /// The file ends inside a `MULTI` without its `EXEC`.
    OpenMulti,
}

/// How a command file ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// At a command boundary.
    Complete,
    /// Early: everything from `valid_up_to` on is a torn tail.
    Truncated {
        /// Offset just past the last complete command (before an unterminated MULTI).
        valid_up_to: u64,
        /// Why.
        kind: TailKind,
    },
}

/// Totals of reading one command file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandsRead {
    /// Commands delivered.
    pub commands: u64,
    /// How the file ended.
    pub tail: Tail,
    /// The file's length.
    pub len: u64,
}

/// What went wrong loading an AOF.
#[derive(Debug)]
#[non_exhaustive]
pub enum AofErrorKind {
    /// The manifest is invalid.
    Manifest(ManifestError),
    /// A file could not be opened or read.
    Io(std::io::Error),
    /// A file the manifest names does not exist.
    MissingFile,
    /// Not a valid command: Redis's "Bad file format reading the append only file".
    Format(String),
    /// The RDB preamble of a base file is invalid.
    Rdb(RdbError),
    /// The file ends early where that is not allowed (not the last file, or
    /// [`RecoveryMode::Strict`]).
    UnexpectedEof(TailKind),
    /// The visitor stopped the load.
    Visitor(VisitError),
}

/// An error loading an AOF: which file, where, what.
#[derive(Debug)]
pub struct AofError {
    /// The file (or the manifest) concerned.
    pub file: Option<PathBuf>,
    /// Byte offset in that file.
    pub offset: u64,
    /// What is wrong.
    pub kind: AofErrorKind,
}

impl fmt::Display for AofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        match &self.kind {
            AofErrorKind::Manifest(e) => write!(f, "invalid AOF manifest {file}: {e}"),
            AofErrorKind::Io(e) => write!(f, "can't read the append only file {file}: {e}"),
            AofErrorKind::MissingFile => write!(f, "the AOF file {file} doesn't exist"),
            AofErrorKind::Format(why) => write!(
                f,
                "bad file format reading the append only file {file} at offset {}: {why}",
                self.offset
            ),
            AofErrorKind::Rdb(e) => {
                write!(f, "bad RDB preamble in the append only file {file}: {e}")
            }
            AofErrorKind::UnexpectedEof(k) => write!(
                f,
                "unexpected end of file reading the append only file {file} at offset {}{}",
                self.offset,
                if *k == TailKind::OpenMulti {
                    " (unterminated MULTI)"
                } else {
                    ""
                }
            ),
            AofErrorKind::Visitor(e) => {
                write!(f, "{e} (append only file {file}, offset {})", self.offset)
            }
        }
    }
}

impl std::error::Error for AofError {}

impl AofError {
    fn at(file: Option<&Path>, offset: u64, kind: AofErrorKind) -> AofError {
        AofError {
            file: file.map(Path::to_path_buf),
            offset,
            kind,
        }
    }
}

/// Receives an AOF's contents: the RDB preamble through [`RdbVisitor`], then commands.
pub trait AofVisitor: RdbVisitor {
    /// A file is about to be read.
    fn file(&mut self, name: &str, kind: AofFileType) -> Result<(), VisitError> {
        let _ = (name, kind);
        Ok(())
    }
    /// One command; `offset` is where it starts in the current file. A transaction
    /// arrives as `MULTI`, its commands, `EXEC`, once the `EXEC` has been read.
    fn command(&mut self, args: &[&[u8]], offset: u64) -> Result<(), VisitError>;
}

fn is_cmd(args: &[&[u8]], name: &[u8]) -> bool {
    args.first().is_some_and(|a| a.eq_ignore_ascii_case(name))
}

struct CmdParser<'a> {
    data: &'a [u8],
    parser: RequestParser,
    args: Vec<&'a [u8]>,
}

enum Step {
    /// A command was parsed into `args`; the next one starts at `.0`.
    Command(usize),
    /// An annotation line ending at `.0`.
    Annotation(usize),
    /// The data ends inside an item.
    Incomplete,
}

impl<'a> CmdParser<'a> {
    fn step(&mut self, pos: usize) -> Result<Step, String> {
        let data = self.data;
        match data[pos] {
            b'#' => match data[pos..].iter().position(|&c| c == b'\n') {
                Some(nl) => Ok(Step::Annotation(pos + nl + 1)),
                None => Ok(Step::Incomplete),
            },
            b'*' => {
                let limits = RequestLimits {
                    from_master: true,
                    ..RequestLimits::default()
                };
                let base = data.as_ptr() as usize;
                match self.parser.parse(&data[pos..], &limits) {
                    Ok(Some(req)) => {
                        if req.is_empty() {
                            return Err("invalid multibulk count".into());
                        }
                        let consumed = req.consumed();
                        // The arguments are slices of `data`: rebuild them with its lifetime.
                        self.args.clear();
                        for a in req.args() {
                            let s = a.as_ptr() as usize - base;
                            self.args.push(&data[s..s + a.len()]);
                        }
                        Ok(Step::Command(pos + consumed))
                    }
                    Ok(None) => Ok(Step::Incomplete),
                    Err(e) => Err(e.to_string()),
                }
            }
            c => Err(format!("expected '*' or '#', got '{}'", c.escape_ascii())),
        }
    }
}

/// Reads the commands of `data` from offset `start` (0, or the end of an RDB preamble)
/// and calls `f(args, offset)` for each. Damage is an error with its offset; a torn
/// tail is reported in [`CommandsRead::tail`] and not delivered.
pub fn read_commands<F>(
    data: &[u8],
    start: usize,
    mut f: F,
) -> Result<CommandsRead, (u64, AofErrorKind)>
where
    F: FnMut(&[&[u8]], u64) -> Result<(), VisitError>,
{
    let mut p = CmdParser {
        data,
        parser: RequestParser::new(),
        args: Vec::new(),
    };
    let mut pos = start;
    let mut valid_up_to = start;
    let mut multi_at: Option<usize> = None;
    let mut commands = 0u64;
    let deliver = |f: &mut F, args: &[&[u8]], at: usize| {
        f(args, at as u64).map_err(|e| (at as u64, AofErrorKind::Visitor(e)))
    };
    let tail = loop {
        if pos >= data.len() {
            break match multi_at {
                Some(m) => Tail::Truncated {
                    valid_up_to: m as u64,
                    kind: TailKind::OpenMulti,
                },
                None => Tail::Complete,
            };
        }
        match p
            .step(pos)
            .map_err(|why| (pos as u64, AofErrorKind::Format(why)))?
        {
            Step::Annotation(next) => pos = next,
            Step::Incomplete => {
                break Tail::Truncated {
                    valid_up_to: multi_at.unwrap_or(valid_up_to) as u64,
                    kind: TailKind::MidCommand,
                }
            }
            Step::Command(next) => {
                let args = std::mem::take(&mut p.args);
                if is_cmd(&args, b"MULTI") {
                    if multi_at.is_none() {
                        multi_at = Some(pos);
                    }
                } else if is_cmd(&args, b"EXEC") && multi_at.is_some() {
                    // Replay the transaction from its MULTI, now that it is complete.
                    let mut q = multi_at.take().unwrap_or(pos);
                    let mut inner = CmdParser {
                        data,
                        parser: RequestParser::new(),
                        args: Vec::new(),
                    };
                    while q < next {
                        match inner.step(q) {
                            Ok(Step::Command(n)) => {
                                deliver(&mut f, &inner.args, q)?;
                                commands += 1;
                                q = n;
                            }
                            Ok(Step::Annotation(n)) => q = n,
                            _ => break,
                        }
                    }
                } else if is_cmd(&args, b"DISCARD") && multi_at.is_some() {
                    multi_at = None;
                } else if multi_at.is_none() {
                    deliver(&mut f, &args, pos)?;
                    commands += 1;
                }
                p.args = args;
                pos = next;
                if multi_at.is_none() {
                    valid_up_to = pos;
                }
            }
        }
    };
    Ok(CommandsRead {
        commands,
        tail,
        len: data.len() as u64,
    })
}

/// What loading one file found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub len: u64,
    /// The RDB preamble's summary, if the file starts with `REDIS`.
    pub rdb: Option<RdbSummary>,
    /// Commands delivered.
    pub commands: u64,
    /// How its command part ended.
    pub tail: Tail,
}

struct Forward<'v, V: ?Sized>(&'v mut V);

impl<V: AofVisitor + ?Sized> RdbVisitor for Forward<'_, V> {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        self.0.aux(key, value)
    }
    fn function(&mut self, code: &[u8]) -> Result<(), VisitError> {
        self.0.function(code)
    }
    fn select_db(&mut self, db: u64) -> Result<(), VisitError> {
        self.0.select_db(db)
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> Result<(), VisitError> {
        self.0.resize_db(keys, expires)
    }
    fn entry(&mut self, entry: rdb::Entry<'_>) -> Result<(), VisitError> {
        self.0.entry(entry)
    }
    fn skipped(&mut self, s: rdb::Skipped<'_>) -> Result<(), VisitError> {
        self.0.skipped(s)
    }
}

/// Reads one AOF file held in memory: an RDB preamble if it starts with `REDIS`, then
/// commands. The tail is reported, not judged: see [`load_dir`] for the policy.
pub fn load_bytes<V: AofVisitor + ?Sized>(
    data: &[u8],
    path: &Path,
    visitor: &mut V,
    rdb_opts: &ReadOptions,
) -> Result<FileReport, AofError> {
    let mut start = 0usize;
    let mut rdb_summary = None;
    if data.starts_with(b"REDIS") {
        let s = rdb::read_slice(data, &mut Forward(&mut *visitor), rdb_opts)
            .map_err(|e| AofError::at(Some(path), e.offset, AofErrorKind::Rdb(e)))?;
        start = s.end as usize;
        rdb_summary = Some(s);
    }
    let r = read_commands(data, start, |args, off| visitor.command(args, off))
        .map_err(|(off, kind)| AofError::at(Some(path), off, kind))?;
    Ok(FileReport {
        path: path.to_path_buf(),
        len: data.len() as u64,
        rdb: rdb_summary,
        commands: r.commands,
        tail: r.tail,
    })
}

/// Maps and reads one AOF file (see [`load_bytes`]). A missing file is
/// [`AofErrorKind::MissingFile`]; an empty one reads as empty.
#[allow(unsafe_code)]
pub fn load_file<V: AofVisitor + ?Sized>(
    path: &Path,
    visitor: &mut V,
    rdb_opts: &ReadOptions,
) -> Result<FileReport, AofError> {
    if !path.exists() {
        return Err(AofError::at(Some(path), 0, AofErrorKind::MissingFile));
    }
    // SAFETY: AOF files are only appended to by the process that loads them, after the
    // load; nothing writes them while they are mapped here.
    let map = unsafe { crate::map_file(path) }
        .map_err(|e| AofError::at(Some(path), 0, AofErrorKind::Io(e)))?;
    load_bytes(&map, path, visitor, rdb_opts)
}

/// Settings for [`load_dir`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// What to do with a torn tail in the last file.
    pub recovery: RecoveryMode,
    /// Cut the last file at its last complete command when the tail is tolerated
    /// (Redis does), so appending continues from a clean boundary.
    pub truncate_torn_tail: bool,
    /// RDB preamble settings.
    pub rdb: ReadOptions,
}

/// A torn tail that was tolerated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The file.
    pub path: PathBuf,
    /// Where the valid data ends.
    pub valid_up_to: u64,
    /// The file's length before any truncation.
    pub len: u64,
    /// Why.
    pub kind: TailKind,
    /// Whether the file was truncated on disk.
    pub truncated_on_disk: bool,
}

/// What [`load_dir`] loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The manifest.
    pub manifest: AofManifest,
    /// One report per file, in load order.
    pub files: Vec<FileReport>,
    /// The tolerated torn tail, if any: log it (Redis logs "Truncating the AOF … at
    /// offset …").
    pub truncation: Option<Truncation>,
}

/// Loads an AOF directory through its manifest `dir/manifest_name`: the base, then each
/// incr file. A torn tail is accepted only in the last file and only with
/// [`RecoveryMode::TolerateCorruptTail`]; anywhere else it is an error naming the file
/// and offset, and so is any damage.
pub fn load_dir<V: AofVisitor + ?Sized>(
    dir: &Path,
    manifest_name: &str,
    visitor: &mut V,
    opts: &LoadOptions,
) -> Result<LoadReport, AofError> {
    let mpath = dir.join(manifest_name);
    let text = std::fs::read(&mpath).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            AofErrorKind::MissingFile
        } else {
            AofErrorKind::Io(e)
        };
        AofError::at(Some(&mpath), 0, kind)
    })?;
    let manifest = AofManifest::parse(&text)
        .map_err(|e| AofError::at(Some(&mpath), 0, AofErrorKind::Manifest(e)))?;
    let files: Vec<AofInfo> = manifest.load_order().cloned().collect();
    for f in &files {
        let p = dir.join(&f.name);
        if !p.exists() {
            return Err(AofError::at(Some(&p), 0, AofErrorKind::MissingFile));
        }
    }
    let mut report = LoadReport {
        manifest,
        ..LoadReport::default()
    };
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let p = dir.join(&f.name);
        visitor
            .file(&f.name, f.kind)
            .map_err(|e| AofError::at(Some(&p), 0, AofErrorKind::Visitor(e)))?;
        let fr = load_file(&p, visitor, &opts.rdb)?;
        if let Tail::Truncated { valid_up_to, kind } = fr.tail {
            if !last || opts.recovery == RecoveryMode::Strict {
                return Err(AofError::at(
                    Some(&p),
                    valid_up_to,
                    AofErrorKind::UnexpectedEof(kind),
                ));
            }
            let mut truncated_on_disk = false;
            if opts.truncate_torn_tail {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .map_err(|e| AofError::at(Some(&p), valid_up_to, AofErrorKind::Io(e)))?;
                file.set_len(valid_up_to)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| AofError::at(Some(&p), valid_up_to, AofErrorKind::Io(e)))?;
                truncated_on_disk = true;
            }
            report.truncation = Some(Truncation {
                path: p.clone(),
                valid_up_to,
                len: fr.len,
                kind,
                truncated_on_disk,
            });
        }
        report.files.push(fr);
    }
    Ok(report)
}

/// Appends a command as an AOF (and replication stream) records it.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    tandem_resp::encode::command(out, args);
}

/// Appends a `#TS:<unix seconds>` annotation (`aof-timestamp-enabled`).
pub fn encode_timestamp(out: &mut Vec<u8>, unix_secs: i64) {
    out.extend_from_slice(format!("#TS:{unix_secs}\r\n").as_bytes());
}

#[cfg(test)]
mod tests;
