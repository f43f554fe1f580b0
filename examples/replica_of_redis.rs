//! An application that embeds a read replica of a running redis-server: the data is
//! synced into the process over the Redis replication protocol, reads are answered
//! locally, and the replica's lag is printed every second.
//!
//! ```text
//! redis-server --port 6379 &
//! cargo run -p tandem-examples --example replica_of_redis -- --port 6379 [--seconds 5] [--key name]
//! ```
//! The lag is measured as Redis reports it: the master's `master_repl_offset` (read
//! with one `INFO replication` over a plain connection) minus the replica's offset, and
//! the time since the master last sent anything.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tandem_engine::{Builder, Role};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// `master_repl_offset` from the master's `INFO replication`.
fn master_offset(host: &str, port: u16, password: Option<&str>) -> std::io::Result<u64> {
    let mut s = TcpStream::connect((host, port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    if let Some(pw) = password {
        write!(s, "*2\r\n$4\r\nAUTH\r\n${}\r\n{pw}\r\n", pw.len())?;
        let mut b = [0u8; 64];
        let _ = s.read(&mut b)?;
    }
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")?;
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        if text.ends_with(b"\r\n\r\n") || text.windows(19).any(|w| w == b"repl_backlog_histle") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no master_repl_offset in INFO"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = arg("--host").unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = arg("--port").unwrap_or_else(|| "6379".into()).parse()?;
    let seconds: u64 = arg("--seconds").unwrap_or_else(|| "5".into()).parse()?;
    let key = arg("--key");
    let password = arg("--password");

    let mut b = Builder::new();
    if let Some(pw) = &password {
        b = b.masterauth(pw);
    }
    let replica = b.open()?;
    replica.replicate_from(&host, port)?;
    let started = Instant::now();
    if !replica.wait_for_sync(Duration::from_secs(60)) {
        return Err(format!("no sync with {host}:{port} within 60 s").into());
    }
    println!(
        "in sync with {host}:{port} after {:.1} ms: {} keys",
        started.elapsed().as_secs_f64() * 1e3,
        replica.dbsize()?
    );

    for _ in 0..seconds {
        let st = replica.replication();
        let master = master_offset(&host, port, password.as_deref()).ok();
        let (link, last_io) = match &st.role {
            Role::Replica {
                link_up,
                last_io_ms_ago,
                ..
            } => (*link_up, *last_io_ms_ago),
            Role::Master => (false, None),
        };
        let lag = master.map(|m| m.saturating_sub(st.offset));
        println!(
            "link {} | offset {} | master offset {} | lag {} bytes | last io {} ms ago | keys {}",
            if link { "up" } else { "down" },
            st.offset,
            master.map_or("?".into(), |m| m.to_string()),
            lag.map_or("?".into(), |l| l.to_string()),
            last_io.map_or("-".into(), |l| l.to_string()),
            replica.dbsize()?
        );
        if let Some(k) = &key {
            let v = replica.get(k.as_bytes())?;
            println!(
                "  local read {k} = {}",
                v.map_or("(nil)".into(), |v| String::from_utf8_lossy(&v).into_owned())
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    replica.close()?;
    Ok(())
}
