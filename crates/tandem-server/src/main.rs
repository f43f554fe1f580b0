//! `tandem-server`: a Redis-protocol server over the tandem engine. It accepts
//! redis-server's command line (`tandem-server [config-file] [--name value ...] [-]`)
//! and configuration file format, logs in Redis's format, and stops the way Redis does
//! (SHUTDOWN, SIGTERM, SIGINT), so tools and scripts written for Redis work unchanged.
#![forbid(unsafe_code)]

mod conf;
mod conn;
mod daemon;
mod limits;
mod listen;
mod log;
mod net;

use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::OsStringExt;
use std::process::exit;

use tandem_engine::{config::Config, Core};

fn usage() -> ! {
    eprintln!("Usage: ./tandem-server [/path/to/redis.conf] [options] [-]");
    eprintln!("       ./tandem-server - (read config from stdin)");
    eprintln!("       ./tandem-server -v or --version");
    eprintln!("       ./tandem-server -h or --help");
    eprintln!();
    eprintln!("Examples:");
    eprintln!("       ./tandem-server (run the server with default conf)");
    eprintln!("       echo 'maxmemory 128mb' | ./tandem-server -");
    eprintln!("       ./tandem-server /etc/redis/6379.conf");
    eprintln!("       ./tandem-server --port 7777");
    eprintln!("       ./tandem-server --port 7777 --replicaof 127.0.0.1 8888");
    eprintln!("       ./tandem-server /etc/myredis.conf --loglevel verbose -");
    exit(1);
}

/// Resolves `bind` addresses; a leading `-` marks an address that may be unavailable.
fn bind_addrs(bind: &str, port: u16) -> Vec<(String, Option<SocketAddr>, bool)> {
    let mut out = Vec::new();
    for word in bind.split_whitespace() {
        let (optional, host) = match word.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, word),
        };
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let bracketed = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let addr = format!("{bracketed}:{port}")
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        out.push((host.to_string(), addr, optional));
    }
    out
}

/// Opens every listening socket, or exits the way Redis does when it cannot.
fn listen(config: &Config, port: u16) -> Vec<listen::Listener> {
    let backlog = config.get_i64("tcp-backlog").clamp(1, i32::MAX as i64) as i32;
    let mut listeners = Vec::new();
    if port != 0 {
        let bind = config.get("bind").unwrap_or_default();
        for (host, addr, optional) in bind_addrs(&bind, port) {
            let result = match addr {
                Some(a) => listen::bind_tcp(a, backlog),
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::AddrNotAvailable,
                    "Cannot assign requested address",
                )),
            };
            match result {
                Ok(l) => listeners.push(l),
                // An optional (`-`) address this host cannot have is skipped, as Redis
                // skips it for ENOPROTOOPT, EPROTONOSUPPORT, ESOCKTNOSUPPORT,
                // EPFNOSUPPORT, EAFNOSUPPORT and EADDRNOTAVAIL.
                Err(e)
                    if optional
                        && (e.kind() == std::io::ErrorKind::AddrNotAvailable
                            || matches!(e.raw_os_error(), Some(92..=94 | 96 | 97 | 99))) => {}
                Err(e) => {
                    warning!(
                        "Warning: Could not create server TCP listening socket {host}:{port}: bind: {}",
                        conf::strerror(&e)
                    );
                    warning!("Failed listening on port {port} (TCP), aborting.");
                    exit(1);
                }
            }
        }
    }
    let unixsocket = config.get("unixsocket").unwrap_or_default();
    if !unixsocket.is_empty() {
        let perm =
            u32::from_str_radix(&config.get("unixsocketperm").unwrap_or_default(), 8).unwrap_or(0);
        match listen::bind_unix(&unixsocket, perm, backlog) {
            Ok(l) => listeners.push(l),
            Err(e) => {
                warning!("Failed opening Unix socket: {}", conf::strerror(&e));
                exit(1);
            }
        }
    }
    if listeners.is_empty() {
        warning!("Configured to not listen anywhere, exiting.");
        exit(1);
    }
    listeners
}

/// The soft `RLIMIT_NOFILE`, read from /proc (no libc call needed).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Redis's `adjustOpenFilesLimit`, without raising the limit: `maxclients` plus 32
/// reserved descriptors must fit in `ulimit -n`, else `maxclients` is reduced.
fn adjust_maxclients(config: &Config) {
    const RESERVED: u64 = 32;
    let Some(limit) = open_files_limit() else {
        return;
    };
    let wanted = config.get_i64("maxclients").max(1) as u64;
    if wanted + RESERVED <= limit {
        return;
    }
    if limit <= RESERVED {
        warning!(
            "Your current 'ulimit -n' of {limit} is not enough for the server to start. Please increase your open file limit to at least {}. Exiting.",
            RESERVED + 1
        );
        exit(1);
    }
    let reduced = limit - RESERVED;
    warning!(
        "You requested maxclients of {wanted} requiring at least {} max file descriptors.",
        wanted + RESERVED
    );
    warning!(
        "Current maximum open files is {limit}. maxclients has been reduced to {reduced} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    );
    let _ = config.set("maxclients", &[&reduced.to_string()]);
}

/// INFO fields only the server knows.
struct ServerInfo {
    port: u16,
}

impl tandem_engine::InfoProvider for ServerInfo {
    fn info(&self, section: &str, out: &mut String) {
        if section == "server" {
            out.push_str(&format!("tcp_port:{}\r\n", self.port));
        }
    }
}

/// Engine log lines go to the server's log, in Redis's format; the role mark (`M`/`S`)
/// follows the engine's role.
struct EngineLog(std::sync::Weak<tandem_engine::Shared>);

impl tandem_engine::LogSink for EngineLog {
    fn log(&self, level: tandem_engine::Level, msg: &str) {
        if let Some(sh) = self.0.upgrade() {
            log::set_replica(sh.is_replica.load(std::sync::atomic::Ordering::Relaxed));
        }
        let level = match level {
            tandem_engine::Level::Debug => log::Level::Debug,
            tandem_engine::Level::Verbose => log::Level::Verbose,
            tandem_engine::Level::Notice => log::Level::Notice,
            tandem_engine::Level::Warning => log::Level::Warning,
        };
        log::log(level, msg);
    }
}

/// The `replicaof` directive, if set: `host port`.
fn engine_replicaof(server: &net::Server) -> Option<(String, u16)> {
    let v = server
        .engine()
        .shared()
        .config
        .get("replicaof")
        .unwrap_or_default();
    let mut w = v.split_whitespace();
    let host = w.next()?.to_string();
    let port = w.next()?.parse().ok()?;
    Some((host, port))
}

/// Loads the data set on the `tandem-load` thread while the event loops already answer
/// (`-LOADING` meanwhile), then follows `replicaof` and logs that the server is ready.
/// A damaged file stops the server with status 1, as Redis does.
fn start_loading(server: &net::Server, port: u16, unixsocket: String) {
    let sh = server.engine().shared().clone();
    let master = engine_replicaof(server);
    sh.loading.store(true, std::sync::atomic::Ordering::Release);
    let spawned = std::thread::Builder::new()
        .name("tandem-load".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sh.load_from_disk()));
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    warning!("{e}");
                    exit(1);
                }
                Err(_) => {
                    warning!("Loading the data set failed (internal error). Exiting.");
                    exit(1);
                }
            }
            net::log_ready(port, &unixsocket);
            if let Some((host, mport)) = master {
                sh.replicaof(&host, mport);
            }
        });
    if let Err(e) = spawned {
        warning!("Can't start the loading thread: {e}");
        exit(1);
    }
}

fn main() {
    let original_dir = std::env::current_dir().ok();
    let args: Vec<Vec<u8>> = std::env::args_os()
        .skip(1)
        .map(OsStringExt::into_vec)
        .collect();
    let inv = conf::parse_args(&args);
    if inv.version {
        println!(
            "Redis server v=7.0.15 sha=00000000:0 malloc=libc bits=64 build=tandem-{}",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    if inv.help {
        usage();
    }
    if inv.test_memory {
        eprintln!("tandem-server does not implement --test-memory.");
        exit(1);
    }
    let stdin_text = inv.from_stdin.then(|| {
        warning!("Reading config from stdin");
        let mut s = String::new();
        let _ = std::io::stdin().read_to_string(&mut s);
        s
    });
    // The config file's absolute path, before `dir` changes the working directory:
    // CONFIG REWRITE writes there.
    let config_path = inv
        .config_file
        .as_ref()
        .and_then(|f| std::path::absolute(f).ok());
    let text = match conf::config_text(&inv, stdin_text.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            warning!("{e}");
            exit(1);
        }
    };
    let config = Config::default();
    if let Err(e) = conf::load(&config, &text) {
        eprintln!("{e}");
        exit(1);
    }
    // `dir` changed the working directory while the config was read; like Redis,
    // CONFIG GET dir reports it as an absolute path, and files are found there.
    if let Ok(cwd) = std::env::current_dir() {
        let _ = config.set("dir", &[&cwd.to_string_lossy()]);
    }
    let daemonize = config.get_bool("daemonize");
    if daemonize && !daemon::is_daemon_child() {
        if let Some(d) = &original_dir {
            let _ = std::env::set_current_dir(d);
        }
        match daemon::spawn_detached(stdin_text.as_deref()) {
            Ok(_) => exit(0),
            Err(e) => {
                warning!("Can't daemonize: {}", conf::strerror(&e));
                exit(1);
            }
        }
    }
    log::set_level(&config.get("loglevel").unwrap_or_default());
    if let Err(e) = log::set_file(&config.get("logfile").unwrap_or_default()) {
        eprintln!("Can't open the log file: {}", conf::strerror(&e));
        exit(1);
    }
    warning!("oO0OoO0OoO0Oo tandem is starting oO0OoO0OoO0Oo");
    warning!(
        "tandem version={} (Redis 7.0.15 compatible), bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    if args.is_empty() {
        warning!("Warning: no config file specified, using the default config. In order to specify a config file use tandem-server /path/to/redis.conf");
    } else {
        warning!("Configuration loaded");
    }
    log::set_master();
    adjust_maxclients(&config);

    let port = config.get_i64("port").clamp(0, 65535) as u16;
    let io_threads = config.get_i64("io-threads").max(1) as usize;
    let unixsocket = config.get("unixsocket").unwrap_or_default();
    let pidfile = {
        let p = config.get("pidfile").unwrap_or_default();
        if p.is_empty() && daemonize {
            daemon::DEFAULT_PIDFILE.to_string()
        } else {
            p
        }
    };
    let engine = Core::new(config);
    engine
        .shared()
        .info_providers
        .write()
        .push(std::sync::Arc::new(ServerInfo { port }));
    engine
        .shared()
        .set_log_sink(Some(std::sync::Arc::new(EngineLog(
            std::sync::Arc::downgrade(engine.shared()),
        ))));
    // CONFIG REWRITE writes to the config file, and INFO shows its path.
    *engine.shared().config_file.write() = config_path;
    engine
        .shared()
        .repl
        .listening_port
        .store(u64::from(port), std::sync::atomic::Ordering::Relaxed);
    let shared = engine.shared().clone();
    let listeners = listen(&engine.shared().config, port);
    let server = match net::Server::new(engine, listeners, io_threads) {
        Ok(s) => s,
        Err(e) => {
            warning!("Failed to start the event loops: {e}");
            exit(1);
        }
    };
    if !pidfile.is_empty() {
        if let Err(e) = daemon::write_pidfile(&pidfile) {
            warning!("Failed to write PID file: {}", conf::strerror(&e));
        }
    }
    start_loading(&server, port, unixsocket.clone());
    let exit_reason = server.run();
    match exit_reason {
        Ok(net::Exit::Shutdown { save }) => {
            // SHUTDOWN saved already; a signal's shutdown saves here.
            if !shared.shutdown_prepared() {
                warning!("User requested shutdown...");
                if let Err(e) = shared.prepare_shutdown(save) {
                    warning!("{e}");
                    warning!(
                        "Errors trying to shut down the server, check the logs for more information"
                    );
                    exit(1);
                }
            }
            if !pidfile.is_empty() {
                notice!("Removing the pid file.");
                let _ = std::fs::remove_file(&pidfile);
            }
            if !unixsocket.is_empty() {
                notice!("Removing the unix socket file.");
                if let Err(e) = std::fs::remove_file(&unixsocket) {
                    warning!(
                        "Error removing the unix socket file: {}",
                        conf::strerror(&e)
                    );
                }
            }
            warning!("Redis is now ready to exit, bye bye...");
            exit(0);
        }
        Err(e) => {
            warning!("Event loop failed: {e}");
            exit(1);
        }
    }
}
