//! Logging in Redis's format, so operators' greps keep working:
//! `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>`, role `C` (before the
//! server is initialized), `M` (master) or `S` (replica), level `.` debug, `-` verbose,
//! `*` notice, `#` warning. Signals are logged as Redis's handler logs them:
//! `<pid>:signal-handler (<unix secs>) <message>`.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;

/// Message importance, as Redis's `loglevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `.`
    Debug = 0,
    /// `-`
    Verbose = 1,
    /// `*`
    Notice = 2,
    /// `#`
    Warning = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);
static ROLE: AtomicU8 = AtomicU8::new(b'C');
/// The log file's path; lines go to standard output when it is `None`.
static FILE: Mutex<Option<String>> = Mutex::new(None);

/// Sets the least important level written (`loglevel`); `nothing` silences everything.
pub fn set_level(name: &str) {
    let l = match name {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        "warning" => 3,
        _ => 4,
    };
    LEVEL.store(l, Ordering::Relaxed);
}

/// Sends the log to `path` (appending) instead of standard output; empty = stdout.
/// Like Redis, the file is opened for every line, so log rotation needs no signal.
pub fn set_file(path: &str) -> std::io::Result<()> {
    if path.is_empty() {
        *FILE.lock() = None;
    } else {
        open_log(path)?;
        *FILE.lock() = Some(path.to_string());
    }
    Ok(())
}

fn open_log(path: &str) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Marks lines as a replica's (`S`) or a master's (`M`); before the first call they are
/// marked `C`, as Redis marks its start-up lines.
#[allow(dead_code)] // used once replication lands
pub fn set_replica(on: bool) {
    ROLE.store(if on { b'S' } else { b'M' }, Ordering::Relaxed);
}

/// Marks lines as the server's (`M`) from now on.
pub fn set_master() {
    set_replica(false);
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats unix milliseconds as `dd Mon yyyy HH:MM:SS.mmm` (UTC).
pub fn timestamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        unix_ms % 1000
    )
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Whether a message at `level` would be written.
pub fn enabled(level: Level) -> bool {
    (level as u8) >= LEVEL.load(Ordering::Relaxed)
}

/// Writes one line at `level`.
pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let now = unix_ms();
    let mark = match level {
        Level::Debug => '.',
        Level::Verbose => '-',
        Level::Notice => '*',
        Level::Warning => '#',
    };
    let role = char::from(ROLE.load(Ordering::Relaxed));
    let line = format!(
        "{}:{} {} {} {}\n",
        std::process::id(),
        role,
        timestamp(now),
        mark,
        msg
    );
    write_line(&line);
}

/// Writes a line the way Redis's signal handler does (always, whatever the level).
pub fn signal_handler(msg: &str) {
    let line = format!(
        "{}:signal-handler ({}) {}\n",
        std::process::id(),
        unix_ms() / 1000,
        msg
    );
    write_line(&line);
}

fn write_line(line: &str) {
    let f = FILE.lock();
    match f.as_deref() {
        Some(path) => {
            if let Ok(mut file) = open_log(path) {
                let _ = file.write_all(line.as_bytes());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }
}

/// `notice!("...")`: logs at notice level.
#[macro_export]
macro_rules! notice {
    ($($t:tt)*) => { $crate::log::log($crate::log::Level::Notice, &format!($($t)*)) };
}

/// `warning!("...")`: logs at warning level.
#[macro_export]
macro_rules! warning {
    ($($t:tt)*) => { $crate::log::log($crate::log::Level::Warning, &format!($($t)*)) };
}

/// `verbose!("...")`: logs at verbose level (the message is only formatted if written).
#[macro_export]
macro_rules! verbose {
    ($($t:tt)*) => {
        if $crate::log::enabled($crate::log::Level::Verbose) {
            $crate::log::log($crate::log::Level::Verbose, &format!($($t)*))
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_format() {
        // 2025-06-02 09:31:33.838 UTC
        assert_eq!(
            super::timestamp(1_748_856_693_838),
            "02 Jun 2025 09:31:33.838"
        );
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
    }
}
