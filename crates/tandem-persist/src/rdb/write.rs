//! The RDB writer: streams a version-10 file to any `io::Write`, choosing the object
//! encodings Redis 7.0 would for the same contents.
//!
//! | value | written as (Redis 7.0 defaults) |
//! |---|---|
//! | string | int8/16/32 when canonical and ≤ 11 chars, LZF when longer than 20 bytes and it saves ≥ 4, else raw |
//! | list | quicklist 2 (type 18): listpack nodes of ≤ 8 KB (`list-max-listpack-size -2`), a PLAIN node for an element ≥ 1 GiB |
//! | set | intset (11) when ≤ 512 members all integers, else a plain set (2) |
//! | hash | listpack (16) when ≤ 128 fields and every field and value ≤ 64 bytes, else a plain hash (4) |
//! | zset | listpack (17) when ≤ 128 members each ≤ 64 bytes, sorted by (score, member); else ZSET_2 (5) |
//!
//! Output goes through a 64 KiB buffer; the CRC-64 is computed as bytes leave it, so
//! nothing is read back. Collections are written from iterators; only a list is
//! staged whole (its node count precedes the nodes), as compressed listpack nodes.
//! After an error the writer is poisoned: the bytes already written are not a valid
//! file and every further call fails.

use std::io::{self, Write};

use super::value::{fmt_i64, OwnedValue, RdbValue, Str};
use super::{opcode, rtype, RDB_VERSION};
use crate::listpack::{self, Builder, LpEntry};
use crate::{crc64, intset, lzf};

const BUF_CAP: usize = 64 * 1024;

/// Thresholds that choose compact encodings (Redis's config names and defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries` (128).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (64).
    pub hash_max_listpack_value: usize,
    /// `zset-max-listpack-entries` (128).
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (64).
    pub zset_max_listpack_value: usize,
    /// `set-max-intset-entries` (512).
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size` (-2: nodes of at most 8 KB; -1..-5 = 4..64 KB; a
    /// positive value is an element count per node).
    pub list_max_listpack_size: i64,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
        }
    }
}

/// Writer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it saves ≥ 4.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC-64 (else 0).
    pub checksum: bool,
    /// Encoding thresholds.
    pub limits: EncodingLimits,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: true,
            checksum: true,
            limits: EncodingLimits::default(),
        }
    }
}

/// Per-key metadata written before the value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute expire time in Unix ms (`EXPIRETIME_MS`).
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (`IDLE`), written when the eviction policy is LRU.
    pub lru_idle: Option<u64>,
    /// LFU counter (`FREQ`), written when the eviction policy is LFU.
    pub lfu_freq: Option<u8>,
}

impl KeyMeta {
    /// Metadata with only an expire time.
    pub fn expiring(expire_ms: Option<i64>) -> KeyMeta {
        KeyMeta {
            expire_ms,
            ..KeyMeta::default()
        }
    }
}

/// The AUX fields Redis 7.0 writes at the start of a file, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuxFields {
    /// `redis-ver` (what INFO reports; Redis tools only print it).
    pub redis_ver: String,
    /// `redis-bits`.
    pub redis_bits: u32,
    /// `ctime`: creation time, Unix seconds.
    pub ctime: i64,
    /// `used-mem`: memory in use, bytes.
    pub used_mem: u64,
    /// `repl-stream-db`, `repl-id`, `repl-offset`: written for replication and by
    /// instances with a backlog, so a restarted replica can `PSYNC`.
    pub repl: Option<ReplAux>,
    /// `aof-base`: whether this is the RDB preamble of an AOF base file.
    pub aof_base: bool,
}

/// Replication AUX fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplAux {
    /// `repl-stream-db`: the database the command stream has selected.
    pub stream_db: i64,
    /// `repl-id`: the 40-hex replication id.
    pub replid: String,
    /// `repl-offset`: the replication offset the snapshot corresponds to.
    pub offset: i64,
}

impl Default for AuxFields {
    fn default() -> Self {
        AuxFields {
            redis_ver: "7.0.15".into(),
            redis_bits: 64,
            ctime: 0,
            used_mem: 0,
            repl: None,
            aof_base: false,
        }
    }
}

/// An element the writer accepts: anything viewed as bytes, or a [`Str`].
pub trait AsElem {
    /// The element.
    fn elem(&self) -> Str<'_>;
}

impl<T: AsRef<[u8]> + ?Sized> AsElem for T {
    fn elem(&self) -> Str<'_> {
        Str::Bytes(self.as_ref())
    }
}

impl AsElem for Str<'_> {
    fn elem(&self) -> Str<'_> {
        *self
    }
}

/// Why writing failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError {
    /// The destination failed.
    Io(io::Error),
    /// A collection yielded a different number of items than declared.
    LengthMismatch {
        /// Declared count.
        declared: usize,
        /// Items the iterator produced.
        actual: usize,
    },
    /// A sorted set score was NaN.
    NanScore,
    /// An earlier error left the output unusable.
    Poisoned,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "I/O error writing RDB: {e}"),
            WriteError::LengthMismatch { declared, actual } => {
                write!(
                    f,
                    "collection declared {declared} items but yielded {actual}"
                )
            }
            WriteError::NanScore => f.write_str("sorted set score is NaN"),
            WriteError::Poisoned => f.write_str("RDB writer unusable after an earlier error"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

type WRes = Result<(), WriteError>;

fn push_len(out: &mut Vec<u8>, v: u64) {
    if v < 64 {
        out.push(v as u8);
    } else if v < 16384 {
        out.extend_from_slice(&[0x40 | (v >> 8) as u8, (v & 0xff) as u8]);
    } else if v <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Int encoding of a string value (`rdbEncodeInteger`), if it fits 32 bits.
fn push_int_enc(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Encodes a string the way `rdbSaveRawString` does into `out`. Returns false when
/// the caller must append the raw bytes itself (used to stream large strings).
fn encode_str(
    out: &mut Vec<u8>,
    s: &[u8],
    compress: Option<(&mut lzf::Compressor, &mut Vec<u8>)>,
    append_raw: bool,
) -> bool {
    if s.len() <= 11 {
        if let Some(v) = tandem_resp::parse_i64(s) {
            if push_int_enc(out, v) {
                return true;
            }
        }
    }
    if let Some((c, buf)) = compress {
        if s.len() > 20 && c.compress(s, s.len() - 4, buf) {
            out.push(0xC3);
            push_len(out, buf.len() as u64);
            push_len(out, s.len() as u64);
            out.extend_from_slice(buf);
            return true;
        }
    }
    push_len(out, s.len() as u64);
    if append_raw {
        out.extend_from_slice(s);
        true
    } else {
        false
    }
}

fn encode_elem(
    out: &mut Vec<u8>,
    e: Str<'_>,
    compress: Option<(&mut lzf::Compressor, &mut Vec<u8>)>,
) {
    match e {
        Str::Bytes(b) => {
            encode_str(out, b, compress, true);
        }
        Str::Int(v) => {
            if !push_int_enc(out, v) {
                let mut d = [0u8; 20];
                let digits = fmt_i64(v, &mut d);
                push_len(out, digits.len() as u64);
                out.extend_from_slice(digits);
            }
        }
    }
}

fn elem_int(e: Str<'_>) -> Option<i64> {
    match e {
        Str::Int(v) => Some(v),
        Str::Bytes(b) => tandem_resp::parse_i64(b),
    }
}

fn lp_push(b: &mut Builder, out: &mut Vec<u8>, e: Str<'_>) {
    match e {
        Str::Bytes(s) => b.push(out, s),
        Str::Int(v) => b.push_int(out, v),
    }
}

/// Appends a score as `zzlInsertAt` stores it: `d2string` text, then integer detection.
fn lp_push_score(b: &mut Builder, out: &mut Vec<u8>, s: f64) {
    if s == 0.0 && s.is_sign_negative() {
        b.push_str(out, b"-0");
    } else if s > -4_503_599_627_370_495.0 && s < 4_503_599_627_370_496.0 && s == (s as i64) as f64
    {
        b.push_int(out, s as i64);
    } else {
        b.push(out, tandem_resp::encode::format_double(s).as_bytes());
    }
}

/// Whether a quicklist node of `node_sz` listpack bytes may take an element of `sz`
/// bytes (`_quicklistNodeAllowInsert`, Redis 7.0).
fn node_allows(node_sz: usize, node_count: usize, sz: usize, fill: i64) -> bool {
    const SIZE_SAFETY_LIMIT: usize = 8192;
    // Redis 7.0 overestimates every entry's overhead by a flat 8 bytes.
    const SIZE_ESTIMATE_OVERHEAD: usize = 8;
    const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
    let new_sz = node_sz + sz + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let level = usize::try_from(-fill - 1)
            .unwrap_or(usize::MAX)
            .min(LEVELS.len() - 1);
        if new_sz <= LEVELS[level] {
            return true;
        }
    }
    new_sz <= SIZE_SAFETY_LIMIT && (node_count as i64) < fill
}

/// Elements at least this long go to their own PLAIN node.
const PLAIN_THRESHOLD: usize = 1 << 30;

/// Streams an RDB file to `W`. See the module documentation for the encodings.
pub struct RdbWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    crc: u64,
    written: u64,
    opts: WriteOptions,
    lzf: lzf::Compressor,
    lzf_out: Vec<u8>,
    scratch: Vec<u8>,
    nodes: Vec<u8>,
    ints: Vec<i64>,
    zs: Vec<(usize, usize, f64)>,
    poisoned: bool,
}

impl<W: Write> std::fmt::Debug for RdbWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RdbWriter")
            .field("written", &self.written)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RdbWriter<W> {
    /// Starts a file: the `REDIS0010` header goes out with the first flush.
    pub fn new(out: W, opts: WriteOptions) -> Self {
        let mut buf = Vec::with_capacity(BUF_CAP + 1024);
        buf.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        RdbWriter {
            out,
            buf,
            crc: 0,
            written: 0,
            opts,
            lzf: lzf::Compressor::new(),
            lzf_out: Vec::new(),
            scratch: Vec::new(),
            nodes: Vec::new(),
            ints: Vec::new(),
            zs: Vec::new(),
            poisoned: false,
        }
    }

    /// Bytes handed to the destination so far (plus those buffered).
    pub fn bytes_written(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    fn flush_buf(&mut self) -> WRes {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.opts.checksum {
            self.crc = crc64::update(self.crc, &self.buf);
        }
        let r = self.out.write_all(&self.buf);
        self.written += self.buf.len() as u64;
        self.buf.clear();
        r.map_err(|e| self.poison(e.into()))
    }

    fn poison(&mut self, e: WriteError) -> WriteError {
        self.poisoned = true;
        e
    }

    fn check(&self) -> WRes {
        if self.poisoned {
            Err(WriteError::Poisoned)
        } else {
            Ok(())
        }
    }

    #[inline]
    fn maybe_flush(&mut self) -> WRes {
        if self.buf.len() >= BUF_CAP {
            self.flush_buf()
        } else {
            Ok(())
        }
    }

    /// Appends raw bytes, writing large ones straight through.
    fn put(&mut self, data: &[u8]) -> WRes {
        if data.len() >= BUF_CAP {
            self.flush_buf()?;
            if self.opts.checksum {
                self.crc = crc64::update(self.crc, data);
            }
            let r = self.out.write_all(data);
            self.written += data.len() as u64;
            return r.map_err(|e| self.poison(e.into()));
        }
        self.buf.extend_from_slice(data);
        self.maybe_flush()
    }

    fn str_body(&mut self, s: &[u8]) -> WRes {
        let compress = if self.opts.compression {
            Some((&mut self.lzf, &mut self.lzf_out))
        } else {
            None
        };
        if !encode_str(&mut self.buf, s, compress, s.len() < BUF_CAP) {
            self.put(s)?;
        }
        self.maybe_flush()
    }

    fn elem_body(&mut self, e: Str<'_>) -> WRes {
        match e {
            Str::Bytes(b) => self.str_body(b),
            Str::Int(_) => {
                encode_elem(&mut self.buf, e, None);
                self.maybe_flush()
            }
        }
    }

    fn header(&mut self, t: u8, key: &[u8], meta: &KeyMeta) -> WRes {
        if let Some(at) = meta.expire_ms {
            self.buf.push(opcode::EXPIRETIME_MS);
            self.buf.extend_from_slice(&at.to_le_bytes());
        }
        if let Some(idle) = meta.lru_idle {
            self.buf.push(opcode::IDLE);
            push_len(&mut self.buf, idle);
        }
        if let Some(freq) = meta.lfu_freq {
            self.buf.extend_from_slice(&[opcode::FREQ, freq]);
        }
        self.buf.push(t);
        self.str_body(key)
    }

    /// An AUX field.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> WRes {
        self.check()?;
        self.buf.push(opcode::AUX);
        self.str_body(key)?;
        self.str_body(value)
    }

    /// The standard AUX fields, in Redis 7.0's order.
    pub fn aux_fields(&mut self, f: &AuxFields) -> WRes {
        self.aux(b"redis-ver", f.redis_ver.as_bytes())?;
        self.aux(b"redis-bits", f.redis_bits.to_string().as_bytes())?;
        self.aux(b"ctime", f.ctime.to_string().as_bytes())?;
        self.aux(b"used-mem", f.used_mem.to_string().as_bytes())?;
        if let Some(r) = &f.repl {
            self.aux(b"repl-stream-db", r.stream_db.to_string().as_bytes())?;
            self.aux(b"repl-id", r.replid.as_bytes())?;
            self.aux(b"repl-offset", r.offset.to_string().as_bytes())?;
        }
        self.aux(b"aof-base", if f.aof_base { b"1" } else { b"0" })
    }

    /// A function library (`FUNCTION2`), by its source code.
    pub fn function(&mut self, code: &[u8]) -> WRes {
        self.check()?;
        self.buf.push(opcode::FUNCTION2);
        self.str_body(code)
    }

    /// Starts database `db` with a `RESIZEDB` hint (keys, keys with an expire).
    pub fn select_db(&mut self, db: u64, keys: u64, expires: u64) -> WRes {
        self.check()?;
        self.buf.push(opcode::SELECTDB);
        push_len(&mut self.buf, db);
        self.buf.push(opcode::RESIZEDB);
        push_len(&mut self.buf, keys);
        push_len(&mut self.buf, expires);
        self.maybe_flush()
    }

    /// A string key.
    pub fn string<T: AsElem + ?Sized>(&mut self, key: &[u8], value: &T, meta: &KeyMeta) -> WRes {
        self.check()?;
        self.header(rtype::STRING, key, meta)?;
        self.elem_body(value.elem())
    }

    /// A list key, head first, as a quicklist of listpack nodes. An empty list writes
    /// nothing.
    pub fn list<I>(&mut self, key: &[u8], meta: &KeyMeta, items: I) -> WRes
    where
        I: IntoIterator,
        I::Item: AsElem,
    {
        self.check()?;
        let fill = self
            .opts
            .limits
            .list_max_listpack_size
            .clamp(-5, (1 << 15) - 1);
        let mut nodes = std::mem::take(&mut self.nodes);
        let mut lp = std::mem::take(&mut self.scratch);
        nodes.clear();
        lp.clear();
        let mut node: Option<Builder> = None;
        let mut node_count = 0u64;
        {
            let compress = self.opts.compression;
            let (lzf_c, lzf_out) = (&mut self.lzf, &mut self.lzf_out);
            let close = |node: &mut Option<Builder>,
                         lp: &mut Vec<u8>,
                         nodes: &mut Vec<u8>,
                         lzf_c: &mut lzf::Compressor,
                         lzf_out: &mut Vec<u8>| {
                if let Some(b) = node.take() {
                    b.finish(lp);
                    push_len(nodes, 2);
                    let c = if compress {
                        Some((lzf_c, lzf_out))
                    } else {
                        None
                    };
                    encode_str(nodes, lp, c, true);
                    lp.clear();
                }
            };
            for item in items {
                let e = item.elem();
                let sz = e.len();
                if sz >= PLAIN_THRESHOLD {
                    close(&mut node, &mut lp, &mut nodes, lzf_c, lzf_out);
                    push_len(&mut nodes, 1);
                    let c = if compress {
                        Some((&mut *lzf_c, &mut *lzf_out))
                    } else {
                        None
                    };
                    match e {
                        Str::Bytes(b) => {
                            encode_str(&mut nodes, b, c, true);
                        }
                        Str::Int(_) => encode_elem(&mut nodes, e, None),
                    }
                    node_count += 1;
                    continue;
                }
                let fits = match &node {
                    Some(b) => node_allows(b.bytes(&lp), b.count(), sz, fill),
                    None => false,
                };
                if !fits {
                    close(&mut node, &mut lp, &mut nodes, lzf_c, lzf_out);
                    node = Some(Builder::new(&mut lp));
                    node_count += 1;
                }
                if let Some(b) = node.as_mut() {
                    lp_push(b, &mut lp, e);
                }
            }
            close(&mut node, &mut lp, &mut nodes, lzf_c, lzf_out);
        }
        let r = if node_count > 0 {
            self.header(rtype::LIST_QUICKLIST_2, key, meta)
                .and_then(|_| {
                    push_len(&mut self.buf, node_count);
                    self.put(&nodes)
                })
        } else {
            Ok(())
        };
        self.nodes = nodes;
        self.scratch = lp;
        r
    }

    fn finish_count(&mut self, declared: usize, actual: usize) -> WRes {
        if declared != actual {
            return Err(self.poison(WriteError::LengthMismatch { declared, actual }));
        }
        self.maybe_flush()
    }

    /// A set key with `len` members: an intset when small and all integers, else a
    /// plain set. An empty set writes nothing.
    pub fn set<I>(&mut self, key: &[u8], meta: &KeyMeta, len: usize, members: I) -> WRes
    where
        I: IntoIterator,
        I::Item: AsElem,
    {
        self.check()?;
        if len == 0 {
            return Ok(());
        }
        let mut iter = members.into_iter();
        let mut ints = std::mem::take(&mut self.ints);
        ints.clear();
        let mut first_other = None;
        if len <= self.opts.limits.set_max_intset_entries {
            for m in iter.by_ref() {
                match elem_int(m.elem()) {
                    Some(v) => ints.push(v),
                    None => {
                        first_other = Some(m);
                        break;
                    }
                }
            }
            if first_other.is_none() {
                let n = ints.len();
                ints.sort_unstable();
                ints.dedup();
                let mut blob = std::mem::take(&mut self.scratch);
                blob.clear();
                intset::encode(&ints, &mut blob);
                let r = self
                    .header(rtype::SET_INTSET, key, meta)
                    .and_then(|_| self.str_body(&blob))
                    .and_then(|_| self.finish_count(len, n));
                self.scratch = blob;
                self.ints = ints;
                return r;
            }
        }
        let r = (|| {
            self.header(rtype::SET, key, meta)?;
            push_len(&mut self.buf, len as u64);
            let mut n = 0usize;
            for &v in &ints {
                encode_elem(&mut self.buf, Str::Int(v), None);
                n += 1;
            }
            if let Some(m) = first_other {
                self.elem_body(m.elem())?;
                n += 1;
            }
            for m in iter {
                self.elem_body(m.elem())?;
                n += 1;
            }
            self.finish_count(len, n)
        })();
        self.ints = ints;
        r
    }

    /// A hash key with `len` fields: a listpack when small, else a plain hash. An empty
    /// hash writes nothing.
    pub fn hash<I, F, V>(&mut self, key: &[u8], meta: &KeyMeta, len: usize, fields: I) -> WRes
    where
        I: IntoIterator<Item = (F, V)>,
        F: AsElem,
        V: AsElem,
    {
        self.check()?;
        if len == 0 {
            return Ok(());
        }
        let limits = self.opts.limits;
        let mut iter = fields.into_iter();
        let mut lp = std::mem::take(&mut self.scratch);
        lp.clear();
        let mut pending = None;
        let mut staged = false;
        if len <= limits.hash_max_listpack_entries {
            staged = true;
            let mut b = Builder::new(&mut lp);
            for (f, v) in iter.by_ref() {
                let (fe, ve) = (f.elem(), v.elem());
                if fe.len() > limits.hash_max_listpack_value
                    || ve.len() > limits.hash_max_listpack_value
                {
                    pending = Some((f, v));
                    break;
                }
                lp_push(&mut b, &mut lp, fe);
                lp_push(&mut b, &mut lp, ve);
            }
            let n = b.count() / 2;
            b.finish(&mut lp);
            if pending.is_none() {
                let r = self
                    .header(rtype::HASH_LISTPACK, key, meta)
                    .and_then(|_| self.str_body(&lp))
                    .and_then(|_| self.finish_count(len, n));
                self.scratch = lp;
                return r;
            }
        }
        let r = (|| {
            self.header(rtype::HASH, key, meta)?;
            push_len(&mut self.buf, len as u64);
            let mut n = 0usize;
            if staged {
                let staged_entries = listpack::entries(&lp).unwrap_or_default();
                n += staged_entries.len() / 2;
                for e in staged_entries {
                    match e {
                        LpEntry::Str { off, len } => {
                            let s = lp[off..off + len].to_vec();
                            self.str_body(&s)?
                        }
                        LpEntry::Int(v) => self.elem_body(Str::Int(v))?,
                    }
                }
            }
            if let Some((f, v)) = pending {
                self.elem_body(f.elem())?;
                self.elem_body(v.elem())?;
                n += 1;
            }
            for (f, v) in iter {
                self.elem_body(f.elem())?;
                self.elem_body(v.elem())?;
                n += 1;
            }
            self.finish_count(len, n)
        })();
        self.scratch = lp;
        r
    }

    /// A sorted set key with `len` members. Small ones become a listpack sorted by
    /// (score, member) whatever the input order; large ones are written in the order
    /// given (Redis writes highest score first: pass `iter().rev()` to match it). An
    /// empty set writes nothing; a NaN score is an error.
    pub fn zset<I, M>(&mut self, key: &[u8], meta: &KeyMeta, len: usize, members: I) -> WRes
    where
        I: IntoIterator<Item = (M, f64)>,
        M: AsElem,
    {
        self.check()?;
        if len == 0 {
            return Ok(());
        }
        let limits = self.opts.limits;
        let mut iter = members.into_iter();
        let mut bytes = std::mem::take(&mut self.scratch);
        let mut zs = std::mem::take(&mut self.zs);
        bytes.clear();
        zs.clear();
        let mut pending = None;
        let mut staged = false;
        if len <= limits.zset_max_listpack_entries {
            staged = true;
            for (m, s) in iter.by_ref() {
                let e = m.elem();
                if e.len() > limits.zset_max_listpack_value {
                    pending = Some((m, s));
                    break;
                }
                let off = bytes.len();
                e.write_to(&mut bytes);
                zs.push((off, bytes.len() - off, s));
            }
        }
        let r = (|| {
            if zs.iter().any(|z| z.2.is_nan()) {
                return Err(self.poison(WriteError::NanScore));
            }
            if staged && pending.is_none() {
                zs.sort_by(|a, b| {
                    a.2.total_cmp(&b.2)
                        .then_with(|| bytes[a.0..a.0 + a.1].cmp(&bytes[b.0..b.0 + b.1]))
                });
                let mut lp = Vec::with_capacity(bytes.len() + zs.len() * 12 + 8);
                let mut b = Builder::new(&mut lp);
                for &(off, l, s) in zs.iter() {
                    b.push(&mut lp, &bytes[off..off + l]);
                    lp_push_score(&mut b, &mut lp, s);
                }
                b.finish(&mut lp);
                self.header(rtype::ZSET_LISTPACK, key, meta)?;
                self.str_body(&lp)?;
                return self.finish_count(len, zs.len());
            }
            self.header(rtype::ZSET_2, key, meta)?;
            push_len(&mut self.buf, len as u64);
            // Staged members (a long member forced the skiplist form): highest first,
            // as Redis writes them.
            zs.sort_by(|a, b| {
                b.2.total_cmp(&a.2)
                    .then_with(|| bytes[b.0..b.0 + b.1].cmp(&bytes[a.0..a.0 + a.1]))
            });
            let mut n = 0usize;
            for &(off, l, s) in zs.iter() {
                let m = bytes[off..off + l].to_vec();
                self.str_body(&m)?;
                self.buf.extend_from_slice(&s.to_le_bytes());
                n += 1;
            }
            for (m, s) in pending.into_iter().chain(iter) {
                if s.is_nan() {
                    return Err(self.poison(WriteError::NanScore));
                }
                self.elem_body(m.elem())?;
                self.buf.extend_from_slice(&s.to_le_bytes());
                n += 1;
            }
            self.finish_count(len, n)
        })();
        self.scratch = bytes;
        self.zs = zs;
        r
    }

    /// Any value read by the reader (or built by hand), with the encoding this writer
    /// chooses for its contents.
    pub fn value(&mut self, key: &[u8], value: &RdbValue<'_>, meta: &KeyMeta) -> WRes {
        match value {
            RdbValue::String(s) => self.string(key, s, meta),
            RdbValue::List(e) => self.list(key, meta, e.iter()),
            RdbValue::Set(e) => self.set(key, meta, e.len(), e.iter()),
            RdbValue::Hash(p) => self.hash(key, meta, p.len(), p.iter()),
            RdbValue::ZSet(z) => self.zset(key, meta, z.len(), z.iter()),
        }
    }

    /// An owned value.
    pub fn owned_value(&mut self, key: &[u8], value: &OwnedValue, meta: &KeyMeta) -> WRes {
        match value {
            OwnedValue::String(s) => self.string(key, s, meta),
            OwnedValue::List(v) => self.list(key, meta, v.iter()),
            OwnedValue::Set(v) => self.set(key, meta, v.len(), v.iter()),
            OwnedValue::Hash(v) => self.hash(key, meta, v.len(), v.iter().map(|(f, x)| (f, x))),
            OwnedValue::ZSet(v) => self.zset(key, meta, v.len(), v.iter().map(|(m, s)| (m, *s))),
        }
    }

    /// Writes `EOF` and the checksum, flushes, and returns the destination.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.check()?;
        self.buf.push(opcode::EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum { self.crc } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        self.written += 8;
        Ok(self.out)
    }
}
