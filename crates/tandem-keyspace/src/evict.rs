//! `maxmemory` policies, the per-key access clock, and victim selection.
//!
//! Each entry carries 24 bits of access clock, as in Redis: under LRU policies the
//! seconds of the last access (mod 2^24); under LFU policies minutes of the last decrement
//! in the high 16 bits and a logarithmic access counter in the low 8 (Redis's
//! `lfu-log-factor 10`, `lfu-decay-time 1`). Victims are chosen by sampling, like Redis's
//! approximated LRU: a few random keys from a few random shards, best candidate evicted.

use crate::Keyspace;

/// A `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    /// Refuse writes that need memory (`-OOM`).
    NoEviction = 0,
    /// Least recently used among all keys.
    AllKeysLru = 1,
    /// Least frequently used among all keys.
    AllKeysLfu = 2,
    /// Random among all keys.
    AllKeysRandom = 3,
    /// Least recently used among keys with a TTL.
    VolatileLru = 4,
    /// Least frequently used among keys with a TTL.
    VolatileLfu = 5,
    /// Random among keys with a TTL.
    VolatileRandom = 6,
    /// Nearest expiry among keys with a TTL.
    VolatileTtl = 7,
}

impl Policy {
    /// All policies with their configuration names.
    pub const ALL: [(Policy, &'static str); 8] = [
        (Policy::NoEviction, "noeviction"),
        (Policy::AllKeysLru, "allkeys-lru"),
        (Policy::AllKeysLfu, "allkeys-lfu"),
        (Policy::AllKeysRandom, "allkeys-random"),
        (Policy::VolatileLru, "volatile-lru"),
        (Policy::VolatileLfu, "volatile-lfu"),
        (Policy::VolatileRandom, "volatile-random"),
        (Policy::VolatileTtl, "volatile-ttl"),
    ];

    /// Parses a configuration name (case-insensitive).
    pub fn parse(name: &str) -> Option<Policy> {
        Self::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(p, _)| *p)
    }

    /// The configuration name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map(|(_, n)| *n)
            .unwrap_or("noeviction")
    }

    pub(crate) fn from_u8(v: u8) -> Policy {
        Self::ALL
            .get(v as usize)
            .map(|(p, _)| *p)
            .unwrap_or(Policy::NoEviction)
    }

    fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

const CLOCK_MAX: u32 = (1 << 24) - 1;
const LFU_INIT: u32 = 5;
const LFU_LOG_FACTOR: f64 = 10.0;

/// The LRU clock for `now_ms`: seconds mod 2^24.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) as u32) & CLOCK_MAX
}

fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) as u32) & 0xffff
}

/// Distance from `then` to `now` on the wrapping 24-bit clock.
pub fn clock_distance(now: u32, then: u32) -> u32 {
    if now >= then {
        now - then
    } else {
        CLOCK_MAX - then + now
    }
}

/// Clock for a new key.
pub(crate) fn new_clock(policy: Policy, now_ms: u64) -> u32 {
    if policy.is_lfu() {
        (lfu_minutes(now_ms) << 8) | LFU_INIT
    } else {
        lru_clock(now_ms)
    }
}

/// Clock after an access at LRU time `lru_now`.
pub(crate) fn touch(policy: Policy, old: u32, lru_now: u32) -> u32 {
    if !policy.is_lfu() {
        return lru_now;
    }
    let now_min = (lru_now / 60) & 0xffff;
    let last_min = old >> 8;
    let mut counter = old & 0xff;
    let elapsed = if now_min >= last_min {
        now_min - last_min
    } else {
        65535 - last_min + now_min
    };
    counter = counter.saturating_sub(elapsed);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT) as f64;
        let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
        // Cheap deterministic-enough randomness from the clock bits.
        let r = ((old.wrapping_mul(2_654_435_761) ^ lru_now.wrapping_mul(40503)) & 0xffff) as f64
            / 65536.0;
        if r < p {
            counter += 1;
        }
    }
    (now_min << 8) | counter
}

/// A small xorshift generator (no external RNG dependency; not for cryptography).
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng(t | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

const SAMPLE_SHARDS: usize = 5;
const SAMPLES_PER_SHARD: usize = 5;

/// Picks the best victim among sampled keys: returns (global shard id, key, score).
pub(crate) fn pick_victim(
    ks: &Keyspace,
    policy: Policy,
    now_ms: u64,
) -> Option<(usize, Vec<u8>, u64)> {
    let n = ks.shard_count();
    let lru_now = lru_clock(now_ms);
    let mut best: Option<(usize, Vec<u8>, u64)> = None;
    let mut tries = 0;
    let mut sampled_shards = 0;
    while sampled_shards < SAMPLE_SHARDS && tries < n.min(64) + SAMPLE_SHARDS {
        tries += 1;
        let id = (ks.next_random() as usize) % n;
        let r1 = ks.next_random();
        let found = ks.with_shard(id, |s| {
            let eligible = if policy.volatile_only() {
                s.expires
            } else {
                s.table.len()
            };
            if eligible == 0 {
                return None;
            }
            let mut local: Option<(Vec<u8>, u64)> = None;
            let len = s.table.len();
            for k in 0..SAMPLES_PER_SHARD {
                let start = ((r1 >> (k * 8)) as usize).wrapping_mul(2_654_435_761) % len;
                let e = s
                    .table
                    .iter()
                    .skip(start)
                    .find(|e| !policy.volatile_only() || e.expire_at().is_some())?;
                // Higher score = better victim.
                let score = match policy {
                    Policy::AllKeysLru | Policy::VolatileLru => {
                        u64::from(clock_distance(lru_now, e.clock()))
                    }
                    Policy::AllKeysLfu | Policy::VolatileLfu => 255 - u64::from(e.clock() & 0xff),
                    Policy::VolatileTtl => u64::MAX - e.expire_at().unwrap_or(u64::MAX),
                    _ => 0,
                };
                if local.as_ref().is_none_or(|(_, s)| score > *s) {
                    local = Some((e.key().to_vec(), score));
                }
            }
            local
        });
        if let Some((key, score)) = found {
            sampled_shards += 1;
            if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                best = Some((id, key, score));
            }
            if matches!(policy, Policy::AllKeysRandom | Policy::VolatileRandom) {
                break;
            }
        }
    }
    if best.is_none() {
        // Sparse keyspace: fall back to a full walk for the first eligible key.
        for id in 0..n {
            let key = ks.with_shard(id, |s| {
                s.table
                    .iter()
                    .find(|e| !policy.volatile_only() || e.expire_at().is_some())
                    .map(|e| e.key().to_vec())
            });
            if let Some(k) = key {
                return Some((id, k, 0));
            }
        }
    }
    best
}
