//! `tandem_config`: the builder of an engine. Directives are checked as they are set
//! (so `tandem_config_set` reports a bad name or value at once) and replayed, in order,
//! onto a `tandem_engine::Builder` by `tandem_open`. Also the log callback.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use ::tandem_engine::{Builder, Level, LogSink};
use ::tandem_transport::Connector;

use crate::transport::{tandem_transport, CTransport};
use crate::util::{guard, guard_value, name_in, Fail, Res, OK};

/// Settings for `tandem_open`, built with `tandem_config_set*`.
pub struct tandem_config {
    pub(crate) directives: Vec<(String, String)>,
    pub(crate) log: Option<Arc<dyn LogSink>>,
    pub(crate) transport: Option<Arc<dyn Connector>>,
}

impl tandem_config {
    /// The engine builder these settings describe.
    pub(crate) fn builder(self) -> Res<Builder> {
        let mut b = Builder::new();
        for (name, value) in &self.directives {
            b = b.set(name, value)?;
        }
        if let Some(log) = self.log {
            b = b.log_sink(log);
        }
        if let Some(t) = self.transport {
            b = b.transport(t);
        }
        Ok(b)
    }
}

/// Log levels passed to a `tandem_log_fn`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tandem_log_level {
    /// Debugging detail.
    TANDEM_LOG_DEBUG = 0,
    /// Verbose.
    TANDEM_LOG_VERBOSE = 1,
    /// Notices (Redis's default level).
    TANDEM_LOG_NOTICE = 2,
    /// Warnings.
    TANDEM_LOG_WARNING = 3,
}

/// A log callback: `level` is a `tandem_log_level`, `msg` one line without newline,
/// valid during the call only. Called on tandem's threads (and on callers' threads).
pub type tandem_log_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, level: c_int, msg: *const c_char)>;

/// A raw pointer the host promised may cross threads.
#[derive(Clone, Copy)]
pub(crate) struct HostPtr(pub(crate) *mut c_void);

// SAFETY: the pointer is only handed back to the host's own callbacks, which the API
// documents as called from tandem's threads; the host guarantees that is safe.
unsafe impl Send for HostPtr {}
// SAFETY: as above; tandem never dereferences it.
unsafe impl Sync for HostPtr {}

struct CLog {
    f: unsafe extern "C" fn(*mut c_void, c_int, *const c_char),
    user: HostPtr,
}

impl LogSink for CLog {
    fn log(&self, level: Level, msg: &str) {
        let level = match level {
            Level::Debug => tandem_log_level::TANDEM_LOG_DEBUG,
            Level::Verbose => tandem_log_level::TANDEM_LOG_VERBOSE,
            Level::Notice => tandem_log_level::TANDEM_LOG_NOTICE,
            Level::Warning => tandem_log_level::TANDEM_LOG_WARNING,
        };
        let line = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: the host registered `f` with `user` for exactly this call; the line is
        // NUL-terminated and outlives the call.
        unsafe { (self.f)(self.user.0, level as c_int, line.as_ptr()) };
    }
}

/// A new configuration with the embedded defaults (no RDB, no AOF). Never NULL unless
/// memory runs out.
#[no_mangle]
pub extern "C" fn tandem_config_new() -> *mut tandem_config {
    guard_value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(tandem_config {
            directives: Vec::new(),
            log: None,
            transport: None,
        }))
    })
}

/// Sets directive `name` (as in redis.conf: `"maxmemory"`, `"save"`, `"replicaof"`, ...)
/// to `value` (words separated by spaces, `""` for an empty value). A bad name or value
/// is `TANDEM_ERR_CONFIG` and leaves the configuration as it was.
///
/// # Safety
/// `cfg` is NULL or from `tandem_config_new` and not yet consumed; `name`/`value` are
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_config_set(
    cfg: *mut tandem_config,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let cfg = unsafe { cfg.as_mut() }.ok_or_else(|| Fail::null("cfg"))?;
        // SAFETY: per the contract.
        let name = unsafe { name_in(name, "name") }?;
        // SAFETY: per the contract.
        let value = unsafe { name_in(value, "value") }?;
        // Checked on a scratch builder, so a rejected value changes nothing.
        Builder::new().set(name, value)?;
        cfg.directives.push((name.to_string(), value.to_string()));
        Ok(OK)
    })
}

/// Sends the engine's log lines to `log_fn(user, level, msg)` (NULL: drop them).
///
/// # Safety
/// `cfg` is NULL or a live configuration; `log_fn` may be called with `user` from any thread
/// until the engine is closed.
#[no_mangle]
pub unsafe extern "C" fn tandem_config_set_log(
    cfg: *mut tandem_config,
    log_fn: tandem_log_fn,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let cfg = unsafe { cfg.as_mut() }.ok_or_else(|| Fail::null("cfg"))?;
        cfg.log = log_fn.map(|f| {
            Arc::new(CLog {
                f,
                user: HostPtr(user),
            }) as Arc<dyn LogSink>
        });
        Ok(OK)
    })
}

/// Makes the engine reach masters through the host's transport `t` (copied; `t->user`
/// and the callbacks must stay valid until the engine is closed). `connect`, `read`,
/// `write` and `close` are required (`TANDEM_ERR_NULL`); `shutdown` is optional.
///
/// # Safety
/// `cfg` is NULL or a live configuration; `t` is NULL or points to a `tandem_transport`.
#[no_mangle]
pub unsafe extern "C" fn tandem_config_set_transport(
    cfg: *mut tandem_config,
    t: *const tandem_transport,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let cfg = unsafe { cfg.as_mut() }.ok_or_else(|| Fail::null("cfg"))?;
        // SAFETY: per the contract.
        let t = unsafe { t.as_ref() }.ok_or_else(|| Fail::null("transport"))?;
        cfg.transport = Some(Arc::new(CTransport::new(t)?));
        Ok(OK)
    })
}

/// Frees a configuration that was not given to `tandem_open`. NULL is accepted.
///
/// # Safety
/// `cfg` is NULL or from `tandem_config_new`, not consumed or freed yet.
#[no_mangle]
pub unsafe extern "C" fn tandem_config_free(cfg: *mut tandem_config) {
    guard_value((), || {
        if !cfg.is_null() {
            // SAFETY: from `Box::into_raw` in `tandem_config_new`, freed once.
            drop(unsafe { Box::from_raw(cfg) });
        }
    })
}
