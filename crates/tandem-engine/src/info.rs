//! INFO: Redis 7.0's sections, in Redis's order, with Redis's field names, so
//! redis-cli, Sentinel, redis_exporter and dashboards read tandem as they read Redis.
//!
//! The engine fills every section it can. Sections owned elsewhere come from
//! [`InfoProvider`](crate::InfoProvider)s: for `persistence` and `replication` a provider's text replaces
//! the engine's default body (a master without persistence); for every other section a
//! provider's `field:value` lines replace the engine's line of the same field, or are
//! appended. A provider may also answer sections the engine does not know; they are
//! shown when asked for by name.
//!
//! Also here: error reply accounting (`errorstats`) and the instantaneous metrics
//! (`instantaneous_ops_per_sec` & co), sampled by [`Shared::track_instantaneous`].

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::Shared;

/// Every section, in the order Redis prints them.
const ORDER: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];
/// Not part of the default set.
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats"];
/// Sections whose provider text replaces the engine's default body.
const PROVIDED: &[&str] = &["persistence", "replication"];
/// How many distinct error codes `errorstats` tracks (as Redis).
const MAX_ERROR_CODES: usize = 128;
/// Samples kept for the instantaneous metrics (Redis: 16, taken every 100 ms).
const INST_SAMPLES: usize = 16;

pub(crate) fn render(sh: &Shared, requested: &[&str]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    let mut extra: Vec<String> = Vec::new();
    if requested.is_empty() {
        wanted.extend(ORDER.iter().filter(|s| !NOT_DEFAULT.contains(s)));
    }
    for r in requested {
        let r = r.to_ascii_lowercase();
        match r.as_str() {
            "default" => wanted.extend(ORDER.iter().filter(|s| !NOT_DEFAULT.contains(s))),
            "all" | "everything" => wanted.extend(ORDER.iter()),
            s => match ORDER.iter().find(|o| **o == s) {
                Some(o) => wanted.push(o),
                None => {
                    if !extra.contains(&r) {
                        extra.push(r)
                    }
                }
            },
        }
    }
    let providers = sh.info_providers.read().clone();
    let mut out = String::new();
    let mut emit = |title: &str, body: &str| {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let _ = write!(out, "# {title}\r\n");
        out.push_str(body);
    };
    for section in ORDER.iter().filter(|s| wanted.contains(s)) {
        let mut provided = String::new();
        for p in &providers {
            p.info(section, &mut provided);
        }
        let body = if PROVIDED.contains(section) && !provided.is_empty() {
            provided
        } else {
            let mut body = String::new();
            section_body(sh, section, &mut body);
            merge_fields(&mut body, &provided);
            body
        };
        emit(&title(section), &body);
    }
    for section in &extra {
        let mut provided = String::new();
        for p in &providers {
            p.info(section, &mut provided);
        }
        if !provided.is_empty() {
            emit(&title(section), &provided);
        }
    }
    out
}

fn title(section: &str) -> String {
    match section {
        "cpu" => "CPU".to_string(),
        s => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// Replaces lines of `body` whose field `extra` also has, and appends the others.
fn merge_fields(body: &mut String, extra: &str) {
    if extra.is_empty() {
        return;
    }
    let mut lines: Vec<String> = body.split_terminator("\r\n").map(String::from).collect();
    for line in extra.split_terminator("\r\n") {
        let field = line.split(':').next().unwrap_or(line);
        match lines
            .iter_mut()
            .find(|l| l.split(':').next() == Some(field) && l.contains(':'))
        {
            Some(l) => *l = line.to_string(),
            None => lines.push(line.to_string()),
        }
    }
    body.clear();
    for l in lines {
        body.push_str(&l);
        body.push_str("\r\n");
    }
}

/// Memory figures shared by INFO memory and MEMORY STATS.
pub(crate) struct MemFigures {
    pub(crate) used: u64,
    pub(crate) peak: u64,
    pub(crate) startup: u64,
    pub(crate) clients: u64,
    pub(crate) overhead: u64,
    pub(crate) dataset: u64,
    pub(crate) dataset_perc: f64,
    pub(crate) peak_perc: f64,
    pub(crate) rss: u64,
    pub(crate) frag_ratio: f64,
}

/// Current memory figures; also moves the recorded peak up.
pub(crate) fn memory_figures(sh: &Shared) -> MemFigures {
    let used = sh.keyspace.used_memory() as u64;
    let peak = sh
        .stats
        .memory_peak
        .fetch_max(used, Ordering::Relaxed)
        .max(used);
    let rss = process_rss().unwrap_or(0);
    let dataset = used;
    MemFigures {
        used,
        peak,
        startup: 0,
        clients: 0,
        overhead: 0,
        dataset,
        dataset_perc: if used == 0 {
            0.0
        } else {
            dataset as f64 * 100.0 / used as f64
        },
        peak_perc: if peak == 0 {
            0.0
        } else {
            used as f64 * 100.0 / peak as f64
        },
        rss,
        frag_ratio: if used == 0 {
            0.0
        } else {
            rss as f64 / used as f64
        },
    }
}

fn section_body(sh: &Shared, section: &str, o: &mut String) {
    let ks = &sh.keyspace;
    let line = |o: &mut String, k: &str, v: &dyn std::fmt::Display| {
        let _ = write!(o, "{k}:{v}\r\n");
    };
    match section {
        "server" => {
            let uptime = sh.started.elapsed().as_secs();
            let hz = sh.config.get_i64("hz");
            let os = format!(
                "{} {} {}",
                if cfg!(target_os = "linux") {
                    "Linux"
                } else {
                    std::env::consts::OS
                },
                std::fs::read_to_string("/proc/sys/kernel/osrelease")
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default(),
                std::env::consts::ARCH
            );
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let config_file = sh
                .config_file
                .read()
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            line(o, "redis_version", &"7.0.15");
            line(o, "redis_git_sha1", &"00000000");
            line(o, "redis_git_dirty", &0);
            line(o, "redis_build_id", &"0");
            line(o, "redis_mode", &"standalone");
            line(o, "os", &os);
            line(o, "arch_bits", &(usize::BITS));
            line(o, "monotonic_clock", &"POSIX clock_gettime");
            line(o, "multiplexing_api", &"epoll");
            line(o, "atomicvar_api", &"c11-builtin");
            line(o, "gcc_version", &"0.0.0");
            line(o, "process_id", &std::process::id());
            line(o, "process_supervised", &"no");
            line(o, "run_id", &sh.run_id);
            line(o, "tcp_port", &sh.config.get_i64("port"));
            line(o, "server_time_usec", &sh.clock.now_us());
            line(o, "uptime_in_seconds", &uptime);
            line(o, "uptime_in_days", &(uptime / 86400));
            line(o, "hz", &hz);
            line(o, "configured_hz", &hz);
            line(
                o,
                "lru_clock",
                &tandem_keyspace::evict::lru_clock(sh.clock.now_ms()),
            );
            line(o, "executable", &exe);
            line(o, "config_file", &config_file);
            line(o, "io_threads_active", &0);
            line(o, "tandem_version", &env!("CARGO_PKG_VERSION"));
        }
        "clients" => {
            let all = sh.clients.all();
            let blocked = all
                .iter()
                .filter(|c| c.blocked.load(Ordering::Relaxed))
                .count();
            line(o, "connected_clients", &all.len());
            line(o, "cluster_connections", &0);
            line(o, "maxclients", &sh.config.get_i64("maxclients"));
            line(o, "client_recent_max_input_buffer", &0);
            line(o, "client_recent_max_output_buffer", &0);
            line(o, "blocked_clients", &blocked);
            line(o, "tracking_clients", &0);
            line(o, "clients_in_timeout_table", &blocked);
        }
        "memory" => {
            let m = memory_figures(sh);
            let maxmem = ks.maxmemory();
            let total = system_memory().unwrap_or(0);
            line(o, "used_memory", &m.used);
            line(o, "used_memory_human", &human_bytes(m.used));
            line(o, "used_memory_rss", &m.rss);
            line(o, "used_memory_rss_human", &human_bytes(m.rss));
            line(o, "used_memory_peak", &m.peak);
            line(o, "used_memory_peak_human", &human_bytes(m.peak));
            line(o, "used_memory_peak_perc", &format!("{:.2}%", m.peak_perc));
            line(o, "used_memory_overhead", &m.overhead);
            line(o, "used_memory_startup", &m.startup);
            line(o, "used_memory_dataset", &m.dataset);
            line(
                o,
                "used_memory_dataset_perc",
                &format!("{:.2}%", m.dataset_perc),
            );
            line(o, "allocator_allocated", &m.used);
            line(o, "allocator_active", &m.used);
            line(o, "allocator_resident", &m.rss);
            line(o, "total_system_memory", &total);
            line(o, "total_system_memory_human", &human_bytes(total));
            line(o, "used_memory_lua", &0);
            line(o, "used_memory_vm_eval", &0);
            line(o, "used_memory_lua_human", &"0B");
            line(o, "used_memory_scripts_eval", &0);
            line(o, "number_of_cached_scripts", &0);
            line(o, "number_of_functions", &0);
            line(o, "number_of_libraries", &0);
            line(o, "used_memory_vm_functions", &0);
            line(o, "used_memory_vm_total", &0);
            line(o, "used_memory_vm_total_human", &"0B");
            line(o, "used_memory_functions", &0);
            line(o, "used_memory_scripts", &0);
            line(o, "used_memory_scripts_human", &"0B");
            line(o, "maxmemory", &maxmem);
            line(o, "maxmemory_human", &human_bytes(maxmem));
            line(o, "maxmemory_policy", &ks.policy().name());
            line(o, "allocator_frag_ratio", &"1.00");
            line(o, "allocator_frag_bytes", &0);
            line(o, "allocator_rss_ratio", &format!("{:.2}", m.frag_ratio));
            line(o, "allocator_rss_bytes", &m.rss.saturating_sub(m.used));
            line(o, "rss_overhead_ratio", &"1.00");
            line(o, "rss_overhead_bytes", &0);
            line(
                o,
                "mem_fragmentation_ratio",
                &format!("{:.2}", m.frag_ratio),
            );
            line(o, "mem_fragmentation_bytes", &m.rss.saturating_sub(m.used));
            line(o, "mem_not_counted_for_evict", &0);
            line(o, "mem_replication_backlog", &0);
            line(o, "mem_total_replication_buffers", &0);
            line(o, "mem_clients_slaves", &0);
            line(o, "mem_clients_normal", &m.clients);
            line(o, "mem_cluster_links", &0);
            line(o, "mem_aof_buffer", &0);
            line(o, "mem_allocator", &"libc");
            line(o, "active_defrag_running", &0);
            line(o, "lazyfree_pending_objects", &0);
            line(o, "lazyfreed_objects", &0);
        }
        "persistence" => {
            let aof = u8::from(sh.config.get_bool("appendonly"));
            line(o, "loading", &u8::from(sh.loading.load(Ordering::Relaxed)));
            line(o, "async_loading", &0);
            line(o, "current_cow_peak", &0);
            line(o, "current_cow_size", &0);
            line(o, "current_cow_size_age", &0);
            line(o, "current_fork_perc", &"0.00");
            line(o, "current_save_keys_processed", &0);
            line(o, "current_save_keys_total", &0);
            line(
                o,
                "rdb_changes_since_last_save",
                &sh.stats.dirty.load(Ordering::Relaxed),
            );
            line(o, "rdb_bgsave_in_progress", &0);
            line(o, "rdb_last_save_time", &(sh.started_ms / 1000));
            line(o, "rdb_last_bgsave_status", &"ok");
            line(o, "rdb_last_bgsave_time_sec", &-1);
            line(o, "rdb_current_bgsave_time_sec", &-1);
            line(o, "rdb_saves", &0);
            line(o, "rdb_last_cow_size", &0);
            line(o, "rdb_last_load_keys_expired", &0);
            line(o, "rdb_last_load_keys_loaded", &0);
            line(o, "aof_enabled", &aof);
            line(o, "aof_rewrite_in_progress", &0);
            line(o, "aof_rewrite_scheduled", &0);
            line(o, "aof_last_rewrite_time_sec", &-1);
            line(o, "aof_current_rewrite_time_sec", &-1);
            line(o, "aof_last_bgrewrite_status", &"ok");
            line(o, "aof_rewrites", &0);
            line(o, "aof_rewrites_consecutive_failures", &0);
            line(o, "aof_last_write_status", &"ok");
            line(o, "aof_last_cow_size", &0);
            line(o, "module_fork_in_progress", &0);
            line(o, "module_fork_last_cow_size", &0);
        }
        "stats" => {
            let st = &sh.stats;
            let kst = ks.stats();
            let inst = sh.instantaneous();
            line(
                o,
                "total_connections_received",
                &st.connections.load(Ordering::Relaxed),
            );
            line(
                o,
                "total_commands_processed",
                &st.commands.load(Ordering::Relaxed),
            );
            line(o, "instantaneous_ops_per_sec", &inst.ops);
            line(
                o,
                "total_net_input_bytes",
                &st.net_input_bytes.load(Ordering::Relaxed),
            );
            line(
                o,
                "total_net_output_bytes",
                &st.net_output_bytes.load(Ordering::Relaxed),
            );
            line(o, "total_net_repl_input_bytes", &0);
            line(o, "total_net_repl_output_bytes", &0);
            line(
                o,
                "instantaneous_input_kbps",
                &format!("{:.2}", inst.in_kbps),
            );
            line(
                o,
                "instantaneous_output_kbps",
                &format!("{:.2}", inst.out_kbps),
            );
            line(o, "instantaneous_input_repl_kbps", &"0.00");
            line(o, "instantaneous_output_repl_kbps", &"0.00");
            line(
                o,
                "rejected_connections",
                &st.rejected_connections.load(Ordering::Relaxed),
            );
            line(o, "sync_full", &0);
            line(o, "sync_partial_ok", &0);
            line(o, "sync_partial_err", &0);
            line(o, "expired_keys", &kst.expired);
            line(o, "expired_stale_perc", &"0.00");
            line(o, "expired_time_cap_reached_count", &0);
            line(o, "expire_cycle_cpu_milliseconds", &0);
            line(o, "evicted_keys", &kst.evicted);
            line(o, "evicted_clients", &0);
            line(o, "total_eviction_exceeded_time", &0);
            line(o, "current_eviction_exceeded_time", &0);
            line(o, "keyspace_hits", &kst.hits);
            line(o, "keyspace_misses", &kst.misses);
            line(o, "pubsub_channels", &sh.pubsub.channel_count());
            line(o, "pubsub_patterns", &sh.pubsub.numpat());
            line(o, "pubsubshard_channels", &sh.pubsub.shard_channel_count());
            line(o, "latest_fork_usec", &0);
            line(o, "total_forks", &0);
            line(o, "migrate_cached_sockets", &0);
            line(o, "slave_expires_tracked_keys", &0);
            line(o, "active_defrag_hits", &0);
            line(o, "active_defrag_misses", &0);
            line(o, "active_defrag_key_hits", &0);
            line(o, "active_defrag_key_misses", &0);
            line(o, "total_active_defrag_time", &0);
            line(o, "current_active_defrag_time", &0);
            line(o, "tracking_total_keys", &0);
            line(o, "tracking_total_items", &0);
            line(o, "tracking_total_prefixes", &0);
            line(o, "unexpected_error_replies", &0);
            line(o, "total_error_replies", &st.errors.load(Ordering::Relaxed));
            line(o, "dump_payload_sanitizations", &0);
            line(o, "total_reads_processed", &0);
            line(o, "total_writes_processed", &0);
            line(o, "io_threaded_reads_processed", &0);
            line(o, "io_threaded_writes_processed", &0);
            line(o, "reply_buffer_shrinks", &0);
            line(o, "reply_buffer_expands", &0);
        }
        // "replication" is written by the replication module's provider.
        "cpu" => {
            let (user, sys) = process_cpu("/proc/self/stat").unwrap_or((0.0, 0.0));
            let (tuser, tsys) = process_cpu("/proc/thread-self/stat").unwrap_or((user, sys));
            let _ = write!(
                o,
                "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{tsys:.6}\r\nused_cpu_user_main_thread:{tuser:.6}\r\n"
            );
        }
        "cluster" => line(o, "cluster_enabled", &0),
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
        "latencystats" => {
            let mut names: Vec<_> = sh.command_stats.iter().collect();
            names.sort_by_key(|(n, _)| *n);
            for (name, s) in names {
                let Some(h) = s.latency.snapshot() else {
                    continue;
                };
                let _ = write!(
                    o,
                    "latency_percentiles_usec_{name}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
                    h.percentile_us(50.0),
                    h.percentile_us(99.0),
                    h.percentile_us(99.9)
                );
            }
        }
        "errorstats" => {
            for (code, n) in sh.error_stats.lock().iter() {
                let _ = write!(o, "errorstat_{code}:count={n}\r\n");
            }
        }
        _ => {}
    }
}

/// Instantaneous metrics, averaged over the last samples.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Instantaneous {
    pub(crate) ops: u64,
    pub(crate) in_kbps: f64,
    pub(crate) out_kbps: f64,
}

/// The samples behind the instantaneous metrics.
#[derive(Default)]
pub struct InstSamples {
    last: Option<(u64, u64, u64, u64)>,
    ops: [f64; INST_SAMPLES],
    input: [f64; INST_SAMPLES],
    output: [f64; INST_SAMPLES],
    idx: usize,
}

impl Shared {
    /// Counts an error reply for `total_error_replies` and `errorstats` (by the code,
    /// the error's first word).
    pub(crate) fn record_error(&self, text: &str) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        let code = text.split(' ').next().unwrap_or(text);
        let mut m = self.error_stats.lock();
        if let Some(n) = m.get_mut(code) {
            *n += 1;
        } else if m.len() < MAX_ERROR_CODES {
            m.insert(code.to_string(), 1);
        }
    }

    /// Takes one sample of the command and network counters and of the memory peak;
    /// the server calls it about every 100 ms (Redis's `trackInstantaneousMetric`) so
    /// INFO can show `instantaneous_ops_per_sec`, the kbps figures and
    /// `used_memory_peak`.
    pub fn track_instantaneous(&self) {
        let now = self.clock.now_ms();
        let st = &self.stats;
        st.memory_peak
            .fetch_max(self.keyspace.used_memory() as u64, Ordering::Relaxed);
        let cur = (
            now,
            st.commands.load(Ordering::Relaxed),
            st.net_input_bytes.load(Ordering::Relaxed),
            st.net_output_bytes.load(Ordering::Relaxed),
        );
        let mut s = self.stats.inst.lock();
        if let Some(last) = s.last {
            let dt = cur.0.saturating_sub(last.0);
            if dt == 0 {
                return;
            }
            let i = s.idx;
            s.ops[i] = (cur.1.saturating_sub(last.1)) as f64 * 1000.0 / dt as f64;
            s.input[i] = (cur.2.saturating_sub(last.2)) as f64 * 1000.0 / dt as f64;
            s.output[i] = (cur.3.saturating_sub(last.3)) as f64 * 1000.0 / dt as f64;
            s.idx = (i + 1) % INST_SAMPLES;
        }
        s.last = Some(cur);
    }

    fn instantaneous(&self) -> Instantaneous {
        let s = self.stats.inst.lock();
        let avg = |v: &[f64; INST_SAMPLES]| v.iter().sum::<f64>() / INST_SAMPLES as f64;
        Instantaneous {
            ops: avg(&s.ops).round() as u64,
            in_kbps: avg(&s.input) / 1024.0,
            out_kbps: avg(&s.output) / 1024.0,
        }
    }

    /// Resets the counters INFO shows (`CONFIG RESETSTAT`).
    pub fn reset_stats(&self) {
        let st = &self.stats;
        for c in [
            &st.commands,
            &st.connections,
            &st.rejected_connections,
            &st.net_input_bytes,
            &st.net_output_bytes,
            &st.errors,
            &st.pubsub_published,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        st.memory_peak
            .store(self.keyspace.used_memory() as u64, Ordering::Relaxed);
        *st.inst.lock() = InstSamples::default();
        for (_, cs) in &self.command_stats {
            cs.calls.store(0, Ordering::Relaxed);
            cs.usec.store(0, Ordering::Relaxed);
            cs.failed.store(0, Ordering::Relaxed);
            cs.latency.reset();
        }
        self.error_stats.lock().clear();
        self.keyspace.reset_stats();
    }
}

/// Sub-buckets per power of two: HdrHistogram's layout for 2 significant digits.
const SUB_BITS: u32 = 7;
/// Largest value tracked, in ns (Redis: 1 s).
const HIST_MAX_NS: u64 = 1_000_000_000;
const HIST_BUCKETS: usize =
    (((64 - HIST_MAX_NS.leading_zeros() - SUB_BITS) as usize) + 1) << SUB_BITS;

/// A command's latency distribution in nanoseconds, with the bucket layout of the
/// HdrHistogram Redis uses (1 ns .. 1 s, 2 significant digits), so percentiles read the
/// same. The buckets are allocated on the first sample.
#[derive(Default)]
pub struct LatencyHistogram {
    buckets: OnceLock<Box<[AtomicU64]>>,
}

fn hist_bucket(ns: u64) -> usize {
    let v = ns.clamp(1, HIST_MAX_NS);
    if v < 1 << SUB_BITS {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    (((shift + 1) as usize) << SUB_BITS) + ((v >> shift) as usize - (1 << SUB_BITS))
}

/// The highest value that falls in bucket `i`.
fn hist_highest(i: usize) -> u64 {
    if i < 1 << SUB_BITS {
        return i as u64;
    }
    let shift = (i >> SUB_BITS) as u32 - 1;
    let m = (i as u64 & ((1 << SUB_BITS) - 1)) + (1 << SUB_BITS);
    ((m + 1) << shift) - 1
}

/// A copy of a histogram's counts.
pub(crate) struct HistSnapshot {
    counts: Vec<u64>,
    total: u64,
}

impl LatencyHistogram {
    /// Records one sample.
    pub(crate) fn record(&self, ns: u64) {
        let b = self
            .buckets
            .get_or_init(|| (0..HIST_BUCKETS).map(|_| AtomicU64::new(0)).collect());
        if let Some(c) = b.get(hist_bucket(ns)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
    /// Forgets every sample.
    pub(crate) fn reset(&self) {
        if let Some(b) = self.buckets.get() {
            for c in b.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
    }
    /// The counts, if there are any.
    pub(crate) fn snapshot(&self) -> Option<HistSnapshot> {
        let counts: Vec<u64> = self
            .buckets
            .get()?
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total = counts.iter().sum();
        (total > 0).then_some(HistSnapshot { counts, total })
    }
}

impl HistSnapshot {
    /// Number of samples.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
    /// `hdr_value_at_percentile`, in microseconds.
    pub(crate) fn percentile_us(&self, p: f64) -> f64 {
        let want = (((p.min(100.0) / 100.0) * self.total as f64) + 0.5) as u64;
        let want = want.max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return hist_highest(i) as f64 / 1000.0;
            }
        }
        0.0
    }
    /// The cumulative distribution LATENCY HISTOGRAM shows: (µs bound, samples up to
    /// it) at powers of two from 1024 ns, where the count grows.
    pub(crate) fn cdf(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut level: u64 = 1024;
        let mut prev = 0;
        loop {
            let last = hist_bucket(level);
            let cum: u64 = self.counts.iter().take(last + 1).sum();
            if cum > prev {
                out.push((hist_highest(last) / 1000, cum));
            }
            prev = cum;
            if cum >= self.total || level > HIST_MAX_NS {
                break;
            }
            level *= 2;
        }
        out
    }
}

/// Redis's `bytesToHuman`.
pub(crate) fn human_bytes(n: u64) -> String {
    let n = n as f64;
    const K: f64 = 1024.0;
    if n < K {
        format!("{}B", n as u64)
    } else if n < K * K {
        format!("{:.2}K", n / K)
    } else if n < K * K * K {
        format!("{:.2}M", n / (K * K))
    } else if n < K * K * K * K {
        format!("{:.2}G", n / (K * K * K))
    } else if n < K * K * K * K * K {
        format!("{:.2}T", n / (K * K * K * K))
    } else {
        format!("{:.2}P", n / (K * K * K * K * K))
    }
}

/// User and system CPU seconds from a /proc stat file (Linux).
fn process_cpu(path: &str) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / 100.0, stime / 100.0))
}

/// Resident set size of this process in bytes (Linux).
fn process_rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Physical memory of the machine in bytes (Linux).
fn system_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
