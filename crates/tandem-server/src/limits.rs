//! The configuration values the event loops consult on every read, write and accept,
//! read once from the engine's [`Config`] into plain fields. Each loop keeps its own
//! copy and reloads it only when [`Config::generation`] changes (one atomic load per
//! loop iteration), so the hot path takes no lock and parses no string.

use std::time::Duration;

use tandem_engine::config::{parse_memory, Config};

/// One class of `client-output-buffer-limit`: close the client when its pending output
/// reaches `hard` bytes, or stays at or above `soft` bytes for more than `soft_secs`.
/// Zero disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    /// Hard limit in bytes.
    pub hard: u64,
    /// Soft limit in bytes.
    pub soft: u64,
    /// How long the soft limit may be exceeded.
    pub soft_secs: u64,
}

/// Output-buffer classes, as Redis names them in `client-output-buffer-limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Ordinary clients (`normal`).
    Normal = 0,
    /// Replicas attached to us (`replica` / `slave`).
    Replica = 1,
    /// Clients subscribed to channels or patterns (`pubsub`).
    PubSub = 2,
}

/// Redis's defaults, which classes a value does not mention keep.
pub const OBUF_DEFAULTS: [ObufLimit; 3] = [
    ObufLimit {
        hard: 0,
        soft: 0,
        soft_secs: 0,
    },
    ObufLimit {
        hard: 256 << 20,
        soft: 64 << 20,
        soft_secs: 60,
    },
    ObufLimit {
        hard: 32 << 20,
        soft: 8 << 20,
        soft_secs: 60,
    },
];

/// Parses `client-output-buffer-limit` (`<class> <hard> <soft> <secs>` repeated) over
/// `out`. Unknown classes and unparsable groups are skipped (the engine validates
/// CONFIG SET).
pub fn parse_obuf(value: &str, out: &mut [ObufLimit; 3]) {
    let words: Vec<&str> = value.split_whitespace().collect();
    for g in words.chunks(4) {
        let [class, hard, soft, secs] = g else {
            continue;
        };
        let idx = match class.to_ascii_lowercase().as_str() {
            "normal" => Class::Normal,
            "replica" | "slave" => Class::Replica,
            "pubsub" => Class::PubSub,
            _ => continue,
        } as usize;
        if let (Some(hard), Some(soft), Ok(soft_secs)) =
            (parse_memory(hard), parse_memory(soft), secs.parse::<u64>())
        {
            out[idx] = ObufLimit {
                hard,
                soft,
                soft_secs,
            };
        }
    }
}

/// Cached limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The config generation these values were read at.
    pub generation: u64,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: u64,
    /// `client-query-buffer-limit`.
    pub query_buffer_limit: usize,
    /// `maxclients`.
    pub maxclients: usize,
    /// `timeout` (0 = never close idle clients).
    pub idle_timeout: Option<Duration>,
    /// `tcp-keepalive` in seconds (0 = off).
    pub tcp_keepalive: u32,
    /// `protected-mode`.
    pub protected_mode: bool,
    /// `hz`, clamped to 1..=500.
    pub hz: u32,
    /// `client-output-buffer-limit`, indexed by [`Class`].
    pub obuf: [ObufLimit; 3],
    /// The smallest non-zero output limit of any class (`u64::MAX` if none): pending
    /// output below it needs no further check.
    pub obuf_floor: u64,
    /// `loglevel`.
    pub loglevel: String,
}

impl Limits {
    /// Reads the current values.
    pub fn load(config: &Config) -> Limits {
        // Read the generation first: a concurrent change makes the next check reload.
        let generation = config.generation();
        let mut obuf = OBUF_DEFAULTS;
        parse_obuf(
            &config.get("client-output-buffer-limit").unwrap_or_default(),
            &mut obuf,
        );
        let obuf_floor = obuf
            .iter()
            .flat_map(|l| [l.hard, l.soft])
            .filter(|&v| v > 0)
            .min()
            .unwrap_or(u64::MAX);
        let timeout = config.get_i64("timeout").max(0) as u64;
        Limits {
            generation,
            proto_max_bulk_len: config.get_i64("proto-max-bulk-len").max(1) as u64,
            query_buffer_limit: config.get_i64("client-query-buffer-limit").max(1) as usize,
            maxclients: config.get_i64("maxclients").max(1) as usize,
            idle_timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            tcp_keepalive: config.get_i64("tcp-keepalive").clamp(0, u32::MAX as i64) as u32,
            protected_mode: config.get_bool("protected-mode"),
            hz: config.get_i64("hz").clamp(1, 500) as u32,
            obuf,
            obuf_floor,
            loglevel: config.get("loglevel").unwrap_or_default(),
        }
    }

    /// Reloads if the configuration changed since; returns whether it did.
    pub fn refresh(&mut self, config: &Config) -> bool {
        if config.generation() == self.generation {
            return false;
        }
        *self = Limits::load(config);
        true
    }

    /// The interval between two cron runs.
    pub fn cron_period(&self) -> Duration {
        Duration::from_millis(1000 / u64::from(self.hz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let l = Limits::load(&Config::default());
        assert_eq!(l.proto_max_bulk_len, 512 << 20);
        assert_eq!(l.query_buffer_limit, 1 << 30);
        assert_eq!(l.maxclients, 10000);
        assert_eq!(l.idle_timeout, None);
        assert_eq!(l.hz, 10);
        assert_eq!(l.obuf[Class::Normal as usize], ObufLimit::default());
        assert_eq!(
            l.obuf[Class::PubSub as usize],
            ObufLimit {
                hard: 32 << 20,
                soft: 8 << 20,
                soft_secs: 60
            }
        );
        assert_eq!(l.obuf_floor, 8 << 20);
    }

    #[test]
    fn refresh_follows_config_changes() {
        let c = Config::default();
        let mut l = Limits::load(&c);
        assert!(!l.refresh(&c));
        c.set(
            "client-output-buffer-limit",
            &["pubsub", "1mb", "512kb", "5"],
        )
        .unwrap();
        c.set("timeout", &["3"]).unwrap();
        assert!(l.refresh(&c));
        assert_eq!(
            l.obuf[Class::PubSub as usize],
            ObufLimit {
                hard: 1 << 20,
                soft: 512 << 10,
                soft_secs: 5
            }
        );
        assert_eq!(l.idle_timeout, Some(Duration::from_secs(3)));
    }
}
