//! The plumbing every export shares: status codes, the per-thread last error, the panic
//! boundary ([`guard`]), checked conversions of C pointers into Rust borrows, and the
//! library-owned byte buffer [`tandem_bytes`].
//!
//! Invariant: no export lets a panic unwind into C, and an error status is always paired
//! with a message in [`tandem_last_error`].

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ::tandem_engine::{Error, ErrorKind};

/// Status codes returned by the library's functions (as `int`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tandem_status {
    /// Success.
    TANDEM_OK = 0,
    /// No such key, no value, or a wait that timed out.
    TANDEM_NIL = 1,
    /// A required pointer was NULL.
    TANDEM_ERR_NULL = -1,
    /// A bad argument: database index, address, port, a handle that is not one.
    TANDEM_ERR_INVALID = -2,
    /// A directive name or value was rejected.
    TANDEM_ERR_CONFIG = -3,
    /// A socket or file operation failed.
    TANDEM_ERR_IO = -4,
    /// The data on disk could not be loaded.
    TANDEM_ERR_LOAD = -5,
    /// The command answered an error (the message is Redis's text).
    TANDEM_ERR_COMMAND = -6,
    /// The key holds another type (`WRONGTYPE`).
    TANDEM_ERR_WRONGTYPE = -7,
    /// The engine is closed, or the handle was used after `tandem_close`.
    TANDEM_ERR_CLOSED = -8,
    /// The caller's buffer is smaller than the value (its length is still reported).
    TANDEM_ERR_BUFFER_TOO_SMALL = -9,
    /// A name was not valid UTF-8.
    TANDEM_ERR_UTF8 = -10,
    /// A bug inside tandem (a panic); the engine stays usable if it can.
    TANDEM_ERR_PANIC = -11,
}

use tandem_status::*;

pub(crate) const OK: c_int = TANDEM_OK as c_int;
pub(crate) const NIL: c_int = TANDEM_NIL as c_int;

/// A failed call: the status to return and the message for [`tandem_last_error`].
pub(crate) struct Fail {
    pub(crate) code: tandem_status,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn new(code: tandem_status, message: impl Into<String>) -> Fail {
        Fail {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Fail {
        Fail::new(TANDEM_ERR_NULL, format!("{what} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Fail {
        Fail::new(TANDEM_ERR_INVALID, message)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        let code = match e.kind() {
            ErrorKind::Config => TANDEM_ERR_CONFIG,
            ErrorKind::InvalidArgument => TANDEM_ERR_INVALID,
            ErrorKind::Io => TANDEM_ERR_IO,
            ErrorKind::Load => TANDEM_ERR_LOAD,
            ErrorKind::Command => TANDEM_ERR_COMMAND,
            ErrorKind::WrongType => TANDEM_ERR_WRONGTYPE,
            ErrorKind::Closed => TANDEM_ERR_CLOSED,
            _ => TANDEM_ERR_COMMAND,
        };
        Fail::new(code, e.message())
    }
}

pub(crate) type Res<T> = Result<T, Fail>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = c;
        }
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    };
    format!("panic inside tandem: {text}")
}

/// The panic boundary of a status-returning export: runs `f`, turning an `Err` into
/// its status (recording the message) and a panic into `TANDEM_ERR_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> Res<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(code)) => code,
        Ok(Err(fail)) => {
            set_last_error(&fail.message);
            fail.code as c_int
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            TANDEM_ERR_PANIC as c_int
        }
    }
}

/// The panic boundary of an export that returns a value: `fallback` on a panic.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            fallback
        }
    }
}

/// The bytes at `ptr..ptr+len` (NULL is accepted for an empty buffer).
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes_in<'a>(ptr: *const u8, len: usize, what: &str) -> Res<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes for `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A NUL-terminated UTF-8 name.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn name_in<'a>(ptr: *const c_char, what: &str) -> Res<&'a str> {
    if ptr.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map_err(|_| Fail::new(TANDEM_ERR_UTF8, format!("{what} is not valid UTF-8")))
}

/// Writes `value` through `out`, which must not be NULL.
///
/// # Safety
/// A non-NULL `out` must be valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Res<()> {
    if out.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// A byte buffer owned by whoever holds it: filled by the library, freed with
/// `tandem_bytes_free`.
#[repr(C)]
#[derive(Debug)]
pub struct tandem_bytes {
    /// The bytes (never NULL after a successful fill).
    pub ptr: *mut u8,
    /// How many.
    pub len: usize,
}

impl tandem_bytes {
    pub(crate) const EMPTY: tandem_bytes = tandem_bytes {
        ptr: std::ptr::null_mut(),
        len: 0,
    };

    pub(crate) fn from_vec(v: Vec<u8>) -> tandem_bytes {
        let boxed = v.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed).cast::<u8>();
        tandem_bytes { ptr, len }
    }
}

/// Frees a buffer filled by the library and sets it to `{NULL, 0}`. NULL, and a buffer
/// already freed (ptr NULL), are accepted.
///
/// # Safety
/// `b` is NULL or points to a `tandem_bytes` whose `ptr` is NULL or was filled by this
/// library and not freed since.
#[no_mangle]
pub unsafe extern "C" fn tandem_bytes_free(b: *mut tandem_bytes) {
    guard_value((), || {
        if b.is_null() {
            return;
        }
        // SAFETY: non-NULL and, per the contract, a valid tandem_bytes.
        let b = unsafe { &mut *b };
        if !b.ptr.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(b.ptr, b.len);
            // SAFETY: `ptr`/`len` came from `Box<[u8]>::into_raw` in `from_vec` and are
            // freed once: the struct is reset below.
            drop(unsafe { Box::from_raw(slice) });
        }
        *b = tandem_bytes::EMPTY;
    })
}

/// The name of a status code (`"TANDEM_ERR_NULL"`); a static string, never NULL
/// (`"TANDEM_UNKNOWN_STATUS"` for a number that is not a status).
#[no_mangle]
pub extern "C" fn tandem_status_name(status: c_int) -> *const c_char {
    let name: &'static CStr = match status {
        0 => c"TANDEM_OK",
        1 => c"TANDEM_NIL",
        -1 => c"TANDEM_ERR_NULL",
        -2 => c"TANDEM_ERR_INVALID",
        -3 => c"TANDEM_ERR_CONFIG",
        -4 => c"TANDEM_ERR_IO",
        -5 => c"TANDEM_ERR_LOAD",
        -6 => c"TANDEM_ERR_COMMAND",
        -7 => c"TANDEM_ERR_WRONGTYPE",
        -8 => c"TANDEM_ERR_CLOSED",
        -9 => c"TANDEM_ERR_BUFFER_TOO_SMALL",
        -10 => c"TANDEM_ERR_UTF8",
        -11 => c"TANDEM_ERR_PANIC",
        _ => c"TANDEM_UNKNOWN_STATUS",
    };
    name.as_ptr()
}

/// The message of the last failing call on this thread, NUL-terminated; `""` if none
/// failed yet. Valid until the next failing `tandem_` call on this thread.
#[no_mangle]
pub extern "C" fn tandem_last_error() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        LAST_ERROR.with(|cell| match cell.try_borrow() {
            // The CString's heap buffer stays put until the next `set_last_error`.
            Ok(s) => s.as_ptr(),
            Err(_) => c"".as_ptr(),
        })
    })
}

/// The library's version (`"0.1.0"`); a static string.
#[no_mangle]
pub extern "C" fn tandem_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// For tests of the panic boundary only: panics inside the library with `message`
/// (NULL: a fixed message). Returns `TANDEM_ERR_PANIC`, the panic text in
/// `tandem_last_error`.
///
/// # Safety
/// `message` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tandem_debug_panic(message: *const c_char) -> c_int {
    guard(|| {
        let text = if message.is_null() {
            "tandem_debug_panic".to_string()
        } else {
            // SAFETY: non-NULL and NUL-terminated per the contract.
            unsafe { CStr::from_ptr(message) }
                .to_string_lossy()
                .into_owned()
        };
        panic!("{text}")
    })
}
