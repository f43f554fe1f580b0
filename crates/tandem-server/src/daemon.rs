//! Process-level chores: `daemonize yes` and the pid file.
//!
//! Redis daemonizes with `fork()` + `setsid()`. tandem forbids `unsafe` and a forked
//! multi-threaded process is unsound anyway, so `daemonize yes` starts the same
//! executable again with the same arguments, detached (its own process group, standard
//! streams on `/dev/null`, configuration from standard input replayed through a pipe),
//! and the first process exits 0 at once, as Redis's parent does. The child knows it is
//! the daemon through an environment variable and writes the pid file (by default
//! `/var/run/redis.pid`, as Redis).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Set in the environment of the detached child.
const DAEMON_ENV: &str = "TANDEM_DAEMONIZED";

/// Pid file Redis uses when daemonized without `pidfile`.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// Whether this process is the detached child of a `daemonize yes` start.
pub fn is_daemon_child() -> bool {
    std::env::var_os(DAEMON_ENV).is_some()
}

/// Starts the detached copy of this process; the caller exits 0 on success.
pub fn spawn_detached(stdin_text: Option<&str>) -> std::io::Result<u32> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .env(DAEMON_ENV, "1")
        .stdin(if stdin_text.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = cmd.spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin_text, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    Ok(child.id())
}

/// Writes `pid\n` to `path`; failures are reported to the caller (Redis ignores them).
pub fn write_pidfile(path: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{}\n", std::process::id()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pidfile_holds_our_pid() {
        let p = std::env::temp_dir().join(format!("tandem-pid-{}", std::process::id()));
        super::write_pidfile(p.to_str().unwrap()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        std::fs::remove_file(p).unwrap();
    }
}
