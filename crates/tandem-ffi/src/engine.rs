//! `tandem_engine`: opening and closing an engine, data operations, roles, INFO and
//! persistence.
//!
//! A handle is a shell `{ magic, RwLock<Option<Open>> }` leaked on open and recorded in
//! [`GRAVEYARD`]: calls take the lock for reading, `tandem_close` takes it for writing
//! and empties it. The shell is never freed, so a handle stays a valid address for the
//! life of the process and a use after close is a `TANDEM_ERR_CLOSED`, not a crash.

use std::ffi::{c_char, c_int};
use std::net::ToSocketAddrs;
use std::time::Duration;

use ::tandem_engine::{Db, Engine, Role};
use parking_lot::{Mutex, RwLock};

use crate::config::tandem_config;
use crate::util::tandem_status::*;
use crate::util::{bytes_in, guard, name_in, put, tandem_bytes, Fail, Res, NIL, OK};

/// Marks a live shell: a pointer that does not start with it is not a handle.
const MAGIC: u64 = 0x7461_6e64_656d_2121;

/// An open engine (opaque). From `tandem_open`; see `tandem_close`.
pub struct tandem_engine {
    magic: u64,
    state: RwLock<Option<Open>>,
}

/// What a live handle holds: the engine and a view of each database.
struct Open {
    engine: Engine,
    dbs: Box<[Db]>,
}

impl Open {
    fn db(&self, index: u32) -> Res<&Db> {
        self.dbs.get(index as usize).ok_or_else(|| {
            Fail::invalid(format!(
                "DB index {index} is out of range (databases: {})",
                self.dbs.len()
            ))
        })
    }
}

/// Every shell ever opened: closed ones stay here, reachable, so a stale handle stays
/// valid memory and leak checkers do not report them as lost.
static GRAVEYARD: Mutex<Vec<&'static tandem_engine>> = Mutex::new(Vec::new());

/// Runs `f` on the open engine behind `h`.
///
/// # Safety
/// `h` is NULL or a pointer returned by `tandem_open` (closed or not).
unsafe fn with_open<T>(h: *const tandem_engine, f: impl FnOnce(&Open) -> Res<T>) -> Res<T> {
    // SAFETY: handles from `tandem_open` point to shells that are never freed.
    let shell = unsafe { h.as_ref() }.ok_or_else(|| Fail::null("engine"))?;
    if shell.magic != MAGIC {
        return Err(Fail::invalid("not a tandem_engine handle"));
    }
    let guard = shell.state.read();
    match guard.as_ref() {
        Some(open) => f(open),
        None => Err(Fail::new(TANDEM_ERR_CLOSED, "the engine is closed")),
    }
}

/// Opens an engine with `cfg` (NULL: defaults). `cfg` is consumed, even on error. On
/// success `*out` is the handle, released with `tandem_close`.
///
/// # Safety
/// `cfg` is NULL or a configuration not yet consumed; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_open(
    cfg: *mut tandem_config,
    out: *mut *mut tandem_engine,
) -> c_int {
    guard(|| {
        let cfg = if cfg.is_null() {
            None
        } else {
            // SAFETY: from `tandem_config_new`, consumed here exactly once.
            Some(unsafe { Box::from_raw(cfg) })
        };
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let builder = match cfg {
            Some(c) => c.builder()?,
            None => ::tandem_engine::Builder::new(),
        };
        let engine = builder.open()?;
        let mut dbs = Vec::new();
        while let Ok(db) = engine.db(dbs.len()) {
            dbs.push(db);
        }
        let shell: &'static tandem_engine = Box::leak(Box::new(tandem_engine {
            magic: MAGIC,
            state: RwLock::new(Some(Open {
                engine,
                dbs: dbs.into_boxed_slice(),
            })),
        }));
        GRAVEYARD.lock().push(shell);
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::from_ref(shell).cast_mut()) };
        Ok(OK)
    })
}

/// Closes the engine: waits for calls in progress, stops and joins its threads, syncs
/// the AOF and saves an RDB if save points are set. Later calls with the handle (a
/// second close included) return `TANDEM_ERR_CLOSED`. A failure to save is
/// `TANDEM_ERR_IO`; the engine is closed anyway.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; no other call on `h` may start while this runs,
/// and it must not be called from a callback.
#[no_mangle]
pub unsafe extern "C" fn tandem_close(h: *mut tandem_engine) -> c_int {
    guard(|| {
        // SAFETY: handles from `tandem_open` point to shells that are never freed.
        let shell = unsafe { h.as_ref() }.ok_or_else(|| Fail::null("engine"))?;
        if shell.magic != MAGIC {
            return Err(Fail::invalid("not a tandem_engine handle"));
        }
        // Taken out under the lock, closed outside it: feed and log callbacks that call
        // back in while the engine stops then get TANDEM_ERR_CLOSED instead of waiting.
        // `try_write` in a loop, not `write`: a parked writer would block new readers,
        // and a callback that calls back in on a thread already holding a read lock
        // would then deadlock.
        let open = loop {
            if let Some(mut state) = shell.state.try_write() {
                break state.take();
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let Some(Open { engine, dbs }) = open else {
            return Err(Fail::new(TANDEM_ERR_CLOSED, "the engine is already closed"));
        };
        drop(dbs);
        engine.close()?;
        Ok(OK)
    })
}

/// `SET key value` in database `db`.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `key`/`val` point to `key_len`/`val_len` bytes
/// (or are NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn tandem_set(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        // SAFETY: per the contract.
        let val = unsafe { bytes_in(val, val_len, "val") }?;
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.db(db)?.set(key, val)?)) }?;
        Ok(OK)
    })
}

/// `SET key value PX ttl_ms` in database `db` (`ttl_ms` 0 is `TANDEM_ERR_INVALID`).
///
/// # Safety
/// As `tandem_set`.
#[no_mangle]
pub unsafe extern "C" fn tandem_set_ex(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    val: *const u8,
    val_len: usize,
    ttl_ms: u64,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        // SAFETY: per the contract.
        let val = unsafe { bytes_in(val, val_len, "val") }?;
        if ttl_ms == 0 {
            return Err(Fail::invalid("ttl_ms must be positive"));
        }
        let ttl = Duration::from_millis(ttl_ms);
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.db(db)?.set_ex(key, val, ttl)?)) }?;
        Ok(OK)
    })
}

/// `GET key` into a new buffer `*out` (free it with `tandem_bytes_free`).
/// `TANDEM_NIL` (and `*out` = `{NULL, 0}`) when the key does not exist.
///
/// # Safety
/// As `tandem_set`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_get(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    out: *mut tandem_bytes,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        // SAFETY: per the contract.
        let value = unsafe {
            with_open(h, |o| {
                Ok(o.db(db)?
                    .get_with(key, |v| v.map(|v| tandem_bytes::from_vec(v.to_vec())))?)
            })
        }?;
        let (code, bytes) = match value {
            Some(b) => (OK, b),
            None => (NIL, tandem_bytes::EMPTY),
        };
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, bytes, "out") }?;
        Ok(code)
    })
}

/// `GET key` into the caller's buffer `buf` of `cap` bytes: `*len_out` is the value's
/// length. `TANDEM_ERR_BUFFER_TOO_SMALL` (nothing copied, `*len_out` set) when
/// `cap < *len_out`; `TANDEM_NIL` (`*len_out` = 0) when the key does not exist.
///
/// # Safety
/// As `tandem_set`; `buf` is NULL (with `cap` 0) or writable for `cap` bytes; `len_out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_get_into(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        if len_out.is_null() {
            return Err(Fail::null("len_out"));
        }
        if buf.is_null() && cap > 0 {
            return Err(Fail::null("buf"));
        }
        let copy = |v: Option<&[u8]>| {
            v.map(|v| {
                if v.len() <= cap && !v.is_empty() {
                    // SAFETY: `buf` is writable for `cap >= v.len()` bytes per the
                    // contract and cannot overlap the engine's reply buffer.
                    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len()) };
                }
                v.len()
            })
        };
        // SAFETY: per the contract.
        let len = unsafe { with_open(h, |o| Ok(o.db(db)?.get_with(key, copy)?)) }?;
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(len_out, len.unwrap_or(0), "len_out") }?;
        match len {
            None => Ok(NIL),
            Some(n) if n > cap => Err(Fail::new(
                TANDEM_ERR_BUFFER_TOO_SMALL,
                format!("the value is {n} bytes, the buffer holds {cap}"),
            )),
            Some(_) => Ok(OK),
        }
    })
}

/// `DEL key`; `*deleted_out` (if not NULL) is how many keys were removed (0 or 1).
///
/// # Safety
/// As `tandem_set`; `deleted_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_del(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    deleted_out: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        // SAFETY: per the contract.
        let n = unsafe { with_open(h, |o| Ok(o.db(db)?.del(&[key])?)) }?;
        if !deleted_out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { deleted_out.write(n) };
        }
        Ok(OK)
    })
}

/// `INCRBY key by`; `*out` is the new value. A value that is not an integer is
/// `TANDEM_ERR_COMMAND`; a key of another type `TANDEM_ERR_WRONGTYPE`.
///
/// # Safety
/// As `tandem_set`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_incr_by(
    h: *mut tandem_engine,
    db: u32,
    key: *const u8,
    key_len: usize,
    by: i64,
    out: *mut i64,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let key = unsafe { bytes_in(key, key_len, "key") }?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        // SAFETY: per the contract.
        let n = unsafe { with_open(h, |o| Ok(o.db(db)?.incr_by(key, by)?)) }?;
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, n, "out") }?;
        Ok(OK)
    })
}

/// Accepts replicas (redis-server or tandem, `REPLICAOF host port`) on `addr`
/// (`"127.0.0.1:0"`); `*port_out` (if not NULL) is the port bound. A malformed address
/// is `TANDEM_ERR_INVALID`; one that cannot be bound `TANDEM_ERR_IO`.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `addr` is NULL or NUL-terminated; `port_out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_serve_replicas(
    h: *mut tandem_engine,
    addr: *const c_char,
    port_out: *mut u16,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let addr = unsafe { name_in(addr, "addr") }?;
        let resolved: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| Fail::invalid(format!("bad address {addr:?}: {e}")))?
            .collect();
        // SAFETY: per the contract.
        let bound = unsafe { with_open(h, |o| Ok(o.engine.serve_replicas(&resolved[..])?)) }?;
        if !port_out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { port_out.write(bound.port()) };
        }
        Ok(OK)
    })
}

/// Starts following the master at `host:port` (`REPLICAOF host port`); returns at
/// once. Port 0 or an empty host is `TANDEM_ERR_INVALID`.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `host` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_replicate_from(
    h: *mut tandem_engine,
    host: *const c_char,
    port: u16,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let host = unsafe { name_in(host, "host") }?;
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.engine.replicate_from(host, port)?)) }?;
        Ok(OK)
    })
}

/// Stops following a master and takes writes (`REPLICAOF NO ONE`).
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
#[no_mangle]
pub unsafe extern "C" fn tandem_promote(h: *mut tandem_engine) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.engine.promote()?)) }?;
        Ok(OK)
    })
}

/// Waits up to `timeout_ms` for this replica's link to be up and streaming:
/// `TANDEM_OK` when it is (a master at once), `TANDEM_NIL` on timeout.
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
#[no_mangle]
pub unsafe extern "C" fn tandem_wait_for_sync(h: *mut tandem_engine, timeout_ms: u64) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let synced = unsafe {
            with_open(h, |o| {
                Ok(o.engine.wait_for_sync(Duration::from_millis(timeout_ms)))
            })
        }?;
        Ok(if synced { OK } else { NIL })
    })
}

/// The role and replication position (`tandem_role`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct tandem_role_info {
    /// 1 when following a master, 0 for a master.
    pub is_replica: c_int,
    /// 1 when the link to the master is up and streaming.
    pub link_up: c_int,
    /// 1 while a full sync is being received.
    pub syncing: c_int,
    /// The master's port (0 for a master).
    pub master_port: u16,
    /// Milliseconds since anything arrived from the master; -1 never (or a master).
    pub last_io_ms_ago: i64,
    /// The replication offset (bytes of history applied).
    pub offset: u64,
    /// Replicas attached to this engine.
    pub connected_replicas: u32,
}

/// Fills `*out` with the role and offsets.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_role(h: *mut tandem_engine, out: *mut tandem_role_info) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        // SAFETY: per the contract.
        let status = unsafe { with_open(h, |o| Ok(o.engine.replication())) }?;
        let mut info = tandem_role_info {
            last_io_ms_ago: -1,
            offset: status.offset,
            connected_replicas: u32::try_from(status.replicas.len()).unwrap_or(u32::MAX),
            ..tandem_role_info::default()
        };
        if let Role::Replica {
            port,
            link_up,
            syncing,
            last_io_ms_ago,
            ..
        } = status.role
        {
            info.is_replica = 1;
            info.link_up = c_int::from(link_up);
            info.syncing = c_int::from(syncing);
            info.master_port = port;
            info.last_io_ms_ago =
                last_io_ms_ago.map_or(-1, |ms| i64::try_from(ms).unwrap_or(i64::MAX));
        }
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, info, "out") }?;
        Ok(OK)
    })
}

/// `INFO section` (`"replication"`, `"all"`, ...) into a new buffer `*out` (free it with
/// `tandem_bytes_free`).
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `section` is NULL or NUL-terminated; `out` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_info(
    h: *mut tandem_engine,
    section: *const c_char,
    out: *mut tandem_bytes,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let section = unsafe { name_in(section, "section") }?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        // SAFETY: per the contract.
        let text = unsafe { with_open(h, |o| Ok(o.engine.info(section))) }?;
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, tandem_bytes::from_vec(text.into_bytes()), "out") }?;
        Ok(OK)
    })
}

/// `SAVE`: writes an RDB snapshot now, on the calling thread.
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
#[no_mangle]
pub unsafe extern "C" fn tandem_save(h: *mut tandem_engine) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.engine.save()?)) }?;
        Ok(OK)
    })
}

/// `BGSAVE`: writes an RDB snapshot on a background thread.
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
#[no_mangle]
pub unsafe extern "C" fn tandem_bgsave(h: *mut tandem_engine) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.engine.bgsave()?)) }?;
        Ok(OK)
    })
}

/// `BGREWRITEAOF`: compacts the AOF on a background thread.
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
#[no_mangle]
pub unsafe extern "C" fn tandem_rewrite_aof(h: *mut tandem_engine) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        unsafe { with_open(h, |o| Ok(o.engine.rewrite_aof()?)) }?;
        Ok(OK)
    })
}

/// Runs `f` with the engine's database `db` (for the other modules).
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
pub(crate) unsafe fn with_db<T>(
    h: *const tandem_engine,
    db: u32,
    f: impl FnOnce(&Db) -> Res<T>,
) -> Res<T> {
    // SAFETY: per the contract.
    unsafe { with_open(h, |o| f(o.db(db)?)) }
}

/// Runs `f` with the engine (for the other modules).
///
/// # Safety
/// `h` is NULL or from `tandem_open`.
pub(crate) unsafe fn with_engine<T>(
    h: *const tandem_engine,
    f: impl FnOnce(&Engine) -> Res<T>,
) -> Res<T> {
    // SAFETY: per the contract.
    unsafe { with_open(h, |o| f(&o.engine)) }
}
