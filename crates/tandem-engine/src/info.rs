//! INFO: Redis's sections and field names, so redis-cli, Sentinel, redis_exporter and
//! dashboards read tandem as they read Redis.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::Shared;

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

pub(crate) fn render(sh: &Shared, requested: &[&str]) -> String {
    let mut wanted: Vec<String> = Vec::new();
    if requested.is_empty() {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for r in requested {
        let r = r.to_ascii_lowercase();
        match r.as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
                wanted.extend(ALL_EXTRA.iter().map(|s| s.to_string()));
            }
            _ => wanted.push(r),
        }
    }
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|s| seen.insert(s.clone()));
    let mut out = String::new();
    for section in &wanted {
        let mut body = String::new();
        section_body(sh, section, &mut body);
        for p in sh.info_providers.read().iter() {
            p.info(section, &mut body);
        }
        if body.is_empty()
            && !matches!(
                section.as_str(),
                "keyspace" | "modules" | "errorstats" | "commandstats" | "latencystats" | "cluster"
            )
        {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let title = match section.as_str() {
            "cpu" => "CPU".to_string(),
            s => {
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        };
        let _ = write!(out, "# {title}\r\n");
        out.push_str(&body);
    }
    out
}

fn section_body(sh: &Shared, section: &str, o: &mut String) {
    let ks = &sh.keyspace;
    match section {
        "server" => {
            let uptime = sh.started.elapsed().as_secs();
            let _ = write!(
                o,
                "redis_version:7.0.15\r\ntandem_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nexecutable:tandem-server\r\nconfig_file:\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                sh.run_id,
                uptime,
                uptime / 86400,
                sh.config.get_i64("hz"),
                sh.config.get_i64("hz"),
            );
        }
        "clients" => {
            let all = sh.clients.all();
            let blocked = all
                .iter()
                .filter(|c| c.blocked.load(Ordering::Relaxed))
                .count();
            let pubsub = all
                .iter()
                .filter(|c| c.sub_count.load(Ordering::Relaxed) > 0)
                .count();
            let _ = write!(
                o,
                "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:{}\r\npubsub_clients:{}\r\n",
                all.len(),
                sh.config.get_i64("maxclients"),
                blocked,
                blocked,
                pubsub,
            );
        }
        "memory" => {
            let used = ks.used_memory();
            let maxmem = ks.maxmemory();
            let _ = write!(
                o,
                "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_peak:{used}\r\nused_memory_dataset:{used}\r\nmaxmemory:{maxmem}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:1.00\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\n",
                human_bytes(used as u64),
                human_bytes(maxmem),
                ks.policy().name(),
            );
        }
        "stats" => {
            let st = &sh.stats;
            let kst = ks.stats();
            let uptime = sh.started.elapsed().as_secs_f64().max(1e-9);
            let _ = write!(
                o,
                "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\ntotal_error_replies:{}\r\naverage_ops_per_sec:{:.0}\r\n",
                st.connections.load(Ordering::Relaxed),
                st.commands.load(Ordering::Relaxed),
                st.net_input_bytes.load(Ordering::Relaxed),
                st.net_output_bytes.load(Ordering::Relaxed),
                st.rejected_connections.load(Ordering::Relaxed),
                kst.expired,
                kst.evicted,
                kst.hits,
                kst.misses,
                sh.pubsub.channels(None).len(),
                sh.pubsub.numpat(),
                st.errors.load(Ordering::Relaxed),
                st.commands.load(Ordering::Relaxed) as f64 / uptime,
            );
        }
        "persistence" => {
            let _ = write!(
                o,
                "loading:{}\r\nrdb_changes_since_last_save:{}\r\n",
                u8::from(sh.loading.load(Ordering::Relaxed)),
                sh.stats.dirty.load(Ordering::Relaxed)
            );
        }
        "cpu" => {
            if let Some((user, sys)) = process_cpu() {
                let _ = write!(o, "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n");
            }
        }
        "keyspace" => {
            for db in 0..ks.databases() {
                let keys = ks.dbsize(db);
                if keys > 0 {
                    let _ = write!(
                        o,
                        "db{db}:keys={keys},expires={},avg_ttl=0\r\n",
                        ks.expires_count(db)
                    );
                }
            }
        }
        "commandstats" => {
            let mut names: Vec<_> = sh
                .command_stats
                .iter()
                .filter(|(_, s)| s.calls.load(Ordering::Relaxed) > 0)
                .collect();
            names.sort_by_key(|(n, _)| n);
            for (name, s) in names {
                let calls = s.calls.load(Ordering::Relaxed);
                let usec = s.usec.load(Ordering::Relaxed);
                let _ = write!(
                    o,
                    "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={:.2},rejected_calls=0,failed_calls={}\r\n",
                    usec as f64 / calls as f64,
                    s.failed.load(Ordering::Relaxed)
                );
            }
        }
        _ => {}
    }
}

/// Redis's `bytesToHuman`.
pub(crate) fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// User and system CPU seconds of this process, from /proc (Linux).
fn process_cpu() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / 100.0, stime / 100.0))
}
