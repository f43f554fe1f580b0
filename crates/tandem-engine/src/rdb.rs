//! Glue between the keyspace and tandem-persist's RDB codec: writing a snapshot as an
//! RDB stream, and loading an RDB stream into the keyspace.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use tandem_keyspace::{Hash, List, Object, Set, Snapshot, Ttl, Value, ValueRef, ZSet};
use tandem_log::ReplId;

use tandem_persist::rdb::{
    read_from, AuxFields, Entry, KeyMeta, RdbValue, RdbVisitor, RdbWriter, ReadOptions, ReplAux,
    VisitError, WriteError, WriteOptions,
};

use crate::Shared;

/// Replication facts written into the snapshot's AUX fields.
pub(crate) struct Aux {
    /// The history the snapshot belongs to.
    pub repl_id: Option<ReplId>,
    /// The replication offset the snapshot stands for.
    pub repl_offset: u64,
    /// The database the stream has selected.
    pub repl_stream_db: usize,
}

fn io_err(e: WriteError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes every shard image of `snap` as one RDB; returns the bytes written.
pub(crate) fn write_snapshot(
    sh: &Shared,
    out: &mut dyn Write,
    snap: &mut Snapshot<'_>,
    aux: &Aux,
    compression: bool,
) -> io::Result<u64> {
    write_snapshot_with(sh, out, snap, aux, compression, false, None)
}

/// [`write_snapshot`] for an AOF base (`aof_base`: the `aof-base` AUX field is 1),
/// counting the keys written into `progress` (INFO's `current_save_keys_processed`).
pub(crate) fn write_snapshot_with(
    sh: &Shared,
    out: &mut dyn Write,
    snap: &mut Snapshot<'_>,
    aux: &Aux,
    compression: bool,
    aof_base: bool,
    progress: Option<&std::sync::atomic::AtomicU64>,
) -> io::Result<u64> {
    let opts = WriteOptions {
        compression,
        checksum: sh.config.get_bool("rdbchecksum"),
        ..WriteOptions::default()
    };
    let mut w = RdbWriter::new(out, opts);
    let fields = AuxFields {
        ctime: (snap.started_ms() / 1000) as i64,
        used_mem: sh.keyspace.used_memory() as u64,
        repl: aux.repl_id.map(|id| ReplAux {
            stream_db: aux.repl_stream_db as i64,
            replid: id.to_string(),
            offset: aux.repl_offset as i64,
        }),
        aof_base,
        ..AuxFields::default()
    };
    w.aux_fields(&fields).map_err(io_err)?;
    let ks = &sh.keyspace;
    let mut db = None;
    while let Some(img) = snap.next_image() {
        if img.is_empty() {
            continue;
        }
        if db != Some(img.db) {
            db = Some(img.db);
            w.select_db(
                img.db as u64,
                ks.dbsize(img.db) as u64,
                ks.expires_count(img.db) as u64,
            )
            .map_err(io_err)?;
        }
        for (key, value, expire) in img.iter() {
            let meta = KeyMeta::expiring(expire.map(|e| e as i64));
            match value {
                ValueRef::Str(s) => w.string(key, s, &meta),
                ValueRef::Obj(Object::List(l)) => w.list(key, &meta, l.iter()),
                ValueRef::Obj(Object::Set(s)) => w.set(key, &meta, s.len(), s.iter()),
                ValueRef::Obj(Object::Hash(h)) => w.hash(key, &meta, h.len(), h.iter()),
                // Large sorted sets go highest score first, as Redis writes them.
                ValueRef::Obj(Object::ZSet(z)) => w.zset(key, &meta, z.len(), z.iter().rev()),
            }
            .map_err(io_err)?;
        }
        if let Some(p) = progress {
            p.fetch_add(img.len() as u64, Ordering::Relaxed);
        }
    }
    let n = w.bytes_written();
    w.finish().map_err(io_err)?;
    Ok(n)
}

/// Loads RDB entries into the keyspace.
pub(crate) struct Loader<'a> {
    sh: &'a Shared,
    now_ms: u64,
    /// A replica keeps keys already expired (its master will DEL them).
    keep_expired: bool,
    pub(crate) loaded: u64,
    pub(crate) expired: u64,
    stop: &'a AtomicBool,
    scratch: Vec<u8>,
    /// Database of the last SELECTDB.
    db: usize,
}

impl<'a> Loader<'a> {
    /// A loader into `sh`'s keyspace; keys expired at `now_ms` are dropped unless
    /// `keep_expired`. The load stops with an error once `stop` is set.
    pub(crate) fn new(
        sh: &'a Shared,
        now_ms: u64,
        keep_expired: bool,
        stop: &'a AtomicBool,
    ) -> Loader<'a> {
        Loader {
            sh,
            now_ms,
            keep_expired,
            loaded: 0,
            expired: 0,
            stop,
            scratch: Vec::new(),
            db: 0,
        }
    }
}

fn bytes<'b>(s: &tandem_persist::rdb::Str<'_>, buf: &'b mut Vec<u8>) -> &'b [u8] {
    buf.clear();
    s.write_to(buf);
    buf
}

/// The keyspace value of an RDB entry.
pub(crate) fn value_of(e: &Entry<'_>, buf: &mut Vec<u8>) -> Result<Value, VisitError> {
    let value = match e.value {
        RdbValue::String(s) => Value::Str(s.to_vec()),
        RdbValue::List(items) => {
            let mut l = List::new();
            for it in items.iter() {
                l.push_back(bytes(&it, buf));
            }
            Value::Obj(Object::List(l))
        }
        RdbValue::Set(items) => {
            let mut s = Set::new();
            for it in items.iter() {
                s.insert(bytes(&it, buf));
            }
            Value::Obj(Object::Set(s))
        }
        RdbValue::Hash(pairs) => {
            let mut h = Hash::new();
            let mut vbuf = Vec::new();
            for (f, v) in pairs.iter() {
                h.insert(bytes(&f, buf), bytes(&v, &mut vbuf));
            }
            Value::Obj(Object::Hash(h))
        }
        RdbValue::ZSet(members) => {
            let mut z = ZSet::new();
            for (m, score) in members.iter() {
                if score.is_nan() {
                    return Err(
                        format!("sorted set key at offset {} has a NaN score", e.offset).into(),
                    );
                }
                z.insert(bytes(&m, buf), score);
            }
            Value::Obj(Object::ZSet(z))
        }
    };
    Ok(value)
}

impl RdbVisitor for Loader<'_> {
    fn select_db(&mut self, db: u64) -> Result<(), VisitError> {
        self.db = db as usize;
        Ok(())
    }

    fn resize_db(&mut self, keys: u64, _expires: u64) -> Result<(), VisitError> {
        // Size the tables once instead of rehashing them as the keys arrive.
        if self.db < self.sh.keyspace.databases() {
            self.sh
                .keyspace
                .reserve(self.db, keys.min(1 << 32) as usize);
        }
        Ok(())
    }

    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err("loading stopped".into());
        }
        let db = e.db as usize;
        if db >= self.sh.keyspace.databases() {
            return Err(format!(
                "Data file was created with a server configured to handle more than {} databases",
                self.sh.keyspace.databases()
            )
            .into());
        }
        let expire = e.expire_ms.map(|t| t.max(0) as u64);
        if !self.keep_expired && expire.is_some_and(|t| t <= self.now_ms) {
            self.expired += 1;
            return Ok(());
        }
        if let RdbValue::String(s) = e.value {
            // Strings go in with one allocation, straight from the reader's bytes.
            let mut g = self.sh.keyspace.lock_key(db, e.key, self.now_ms);
            let ttl = expire.map_or(Ttl::Clear, Ttl::At);
            g.set_str(db, e.key, bytes(&s, &mut self.scratch), ttl);
            let _ = g.take_expired();
            self.loaded += 1;
            return Ok(());
        }
        let value = value_of(&e, &mut self.scratch)?;
        let ttl = match expire {
            Some(t) => Ttl::At(t),
            None => Ttl::Clear,
        };
        let mut g = self.sh.keyspace.lock_key(db, e.key, self.now_ms);
        g.set(db, e.key, value, ttl);
        let _ = g.take_expired();
        self.loaded += 1;
        Ok(())
    }
}

/// What a load found.
pub(crate) struct Loaded {
    /// Keys loaded.
    pub keys: u64,
    /// Keys dropped because they had expired.
    pub expired: u64,
    /// Bytes read past the end of the RDB.
    pub rest: Vec<u8>,
}

/// Loads one RDB from `input` into the keyspace (which the caller emptied). Stops with
/// an error when `stop` is set.
pub(crate) fn load(
    sh: &Shared,
    input: &mut dyn Read,
    stop: &AtomicBool,
    keep_expired: bool,
) -> Result<Loaded, String> {
    let mut loader = Loader {
        sh,
        now_ms: sh.clock.now_ms(),
        keep_expired,
        loaded: 0,
        expired: 0,
        stop,
        scratch: Vec::new(),
        db: 0,
    };
    let verify = sh.config.get_bool("rdbchecksum");
    let (_, rest) = read_from(
        input,
        &mut loader,
        &ReadOptions {
            verify_checksum: verify,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Loaded {
        keys: loader.loaded,
        expired: loader.expired,
        rest,
    })
}

impl Shared {
    /// Writes a point-in-time snapshot of the whole keyspace as RDB bytes (diagnostics,
    /// benchmarks and DEBUG RELOAD-style round trips).
    pub fn debug_snapshot_rdb(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some((mut snap, ())) = self.begin_snapshot(|| ()) {
            let aux = Aux {
                repl_id: None,
                repl_offset: 0,
                repl_stream_db: 0,
            };
            let _ = write_snapshot(self, &mut out, &mut snap, &aux, false);
        }
        out
    }

    /// Loads RDB bytes into the (empty) keyspace; returns the keys loaded.
    pub fn debug_load_rdb(&self, rdb: &[u8]) -> u64 {
        let stop = AtomicBool::new(false);
        load(self, &mut &rdb[..], &stop, false)
            .map(|l| l.keys)
            .unwrap_or(0)
    }
}
