//! `tandem-server`: a Redis-protocol server over the tandem engine. It accepts
//! redis-server's command line (`tandem-server [config-file] [--name value ...]`) and
//! configuration file format, so tools and scripts written for Redis work unchanged.
#![forbid(unsafe_code)]

mod conf;
mod log;
mod net;

use std::net::{SocketAddr, ToSocketAddrs};

use tandem_engine::{config::Config, Engine};

fn usage() {
    eprintln!("Usage: ./tandem-server [/path/to/redis.conf] [options] [-]");
    eprintln!("       ./tandem-server - (read config from stdin)");
    eprintln!("       ./tandem-server -v or --version");
    eprintln!("       ./tandem-server -h or --help");
    eprintln!();
    eprintln!("Examples:");
    eprintln!("       ./tandem-server (run the server with default config)");
    eprintln!("       ./tandem-server /etc/redis/6379.conf");
    eprintln!("       ./tandem-server --port 7777");
    eprintln!("       ./tandem-server --port 7777 --replicaof 127.0.0.1 8888");
}

/// Resolves `bind` addresses; a leading `-` marks an address that may be unavailable.
fn bind_addrs(bind: &str, port: u16) -> Vec<(SocketAddr, bool)> {
    let mut out = Vec::new();
    for word in bind.split_whitespace() {
        let (optional, host) = match word.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, word),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        if let Ok(addrs) = format!("{host}:{port}").to_socket_addrs() {
            out.extend(addrs.map(|a| (a, optional)));
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let inv = match conf::parse_args(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if inv.version {
        println!(
            "Redis server v=7.0.15 sha=00000000:0 malloc=libc bits=64 build=tandem-{}",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    if inv.help {
        usage();
        return;
    }
    let config = Config::default();
    if let Err(e) = conf::load(&config, &inv.text) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    log::set_level(&config.get("loglevel").unwrap_or_default());
    if let Err(e) = log::set_file(&config.get("logfile").unwrap_or_default()) {
        eprintln!("Can't open the log file: {e}");
        std::process::exit(1);
    }
    let dir = config.get("dir").unwrap_or_default();
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            warning!("Can't chdir to '{dir}': {e}");
            std::process::exit(1);
        }
    }
    notice!("oO0OoO0OoO0Oo tandem is starting oO0OoO0OoO0Oo");
    notice!(
        "tandem version={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    match &inv.config_file {
        Some(f) => notice!("Configuration loaded from {f}"),
        None => warning!("Warning: no config file specified, using the default config. In order to specify a config file use tandem-server /path/to/redis.conf"),
    }
    let port = config.get_i64("port") as u16;
    let bind = config.get("bind").unwrap_or_default();
    let engine = Engine::new(config);
    let mut addrs = Vec::new();
    for (a, optional) in bind_addrs(&bind, port) {
        match std::net::TcpListener::bind(a) {
            Ok(l) => {
                drop(l);
                addrs.push(a);
            }
            Err(e) if optional => log::log(
                log::Level::Verbose,
                &format!("Skipping optional bind address {a}: {e}"),
            ),
            Err(e) => {
                warning!("Warning: Could not create server TCP listening socket {a}: {e}");
                std::process::exit(1);
            }
        }
    }
    let mut server = match net::Server::bind(engine, &addrs) {
        Ok(s) => s,
        Err(e) => {
            warning!("Failed listening on port {port} (tcp), aborting: {e}");
            std::process::exit(1);
        }
    };
    net::log_ready(&server.local_addrs());
    match server.run() {
        Ok(net::Exit::Shutdown { .. }) => {
            notice!("Redis is now ready to exit, bye bye...");
        }
        Err(e) => {
            warning!("Event loop failed: {e}");
            std::process::exit(1);
        }
    }
}
