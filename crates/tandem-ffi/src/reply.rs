//! `tandem_execute` and its reply tree: a [`Frame`] converted once into a
//! `tandem_reply` whose nodes own their payloads; the caller walks it with the
//! `tandem_reply_*` accessors and frees the root.
//!
//! Invariant: element pointers handed out point into the root's allocation and stay
//! valid until the root is freed; a map's keys and values are stored flattened
//! (`k0, v0, k1, v1, ...`).

use std::ffi::c_int;

use ::tandem_engine::Frame;

use crate::engine::{tandem_engine, with_db};
use crate::util::{bytes_in, guard, guard_value, put, Fail, Res, OK};

/// What a `tandem_reply` node holds (`tandem_reply_type`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tandem_reply_kind {
    /// Null (`$-1`, `*-1`, `_`).
    TANDEM_REPLY_NIL = 0,
    /// Bulk, simple or verbatim string.
    TANDEM_REPLY_STRING = 1,
    /// An error reply (`tandem_reply_string` gives its text).
    TANDEM_REPLY_ERROR = 2,
    /// An integer.
    TANDEM_REPLY_INTEGER = 3,
    /// A double (RESP3).
    TANDEM_REPLY_DOUBLE = 4,
    /// A boolean (RESP3): `tandem_reply_integer` is 0 or 1.
    TANDEM_REPLY_BOOLEAN = 5,
    /// Array, set or push: `tandem_reply_len` elements.
    TANDEM_REPLY_ARRAY = 6,
    /// Map: `tandem_reply_len` pairs, as `2 * len` elements key, value, key, value, ...
    TANDEM_REPLY_MAP = 7,
    /// A big number (RESP3): `tandem_reply_string` gives its decimal text.
    TANDEM_REPLY_BIGNUMBER = 8,
}

use tandem_reply_kind::*;

/// A command's reply (opaque); a tree owned by the caller of `tandem_execute`.
pub struct tandem_reply {
    kind: tandem_reply_kind,
    integer: i64,
    double: f64,
    text: bytes::Bytes,
    elements: Box<[tandem_reply]>,
}

impl tandem_reply {
    fn leaf(kind: tandem_reply_kind) -> tandem_reply {
        tandem_reply {
            kind,
            integer: 0,
            double: 0.0,
            text: bytes::Bytes::new(),
            elements: Box::new([]),
        }
    }

    fn from_frame(f: Frame) -> tandem_reply {
        match f {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Verbatim(b) => tandem_reply {
                text: b,
                ..tandem_reply::leaf(TANDEM_REPLY_STRING)
            },
            Frame::Error(b) => tandem_reply {
                text: b,
                ..tandem_reply::leaf(TANDEM_REPLY_ERROR)
            },
            Frame::BigNumber(b) => tandem_reply {
                text: b,
                ..tandem_reply::leaf(TANDEM_REPLY_BIGNUMBER)
            },
            Frame::Integer(n) => tandem_reply {
                integer: n,
                double: n as f64,
                ..tandem_reply::leaf(TANDEM_REPLY_INTEGER)
            },
            Frame::Double(d) => tandem_reply {
                double: d,
                ..tandem_reply::leaf(TANDEM_REPLY_DOUBLE)
            },
            Frame::Boolean(b) => tandem_reply {
                integer: i64::from(b),
                ..tandem_reply::leaf(TANDEM_REPLY_BOOLEAN)
            },
            Frame::Null => tandem_reply::leaf(TANDEM_REPLY_NIL),
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => tandem_reply {
                elements: v.into_iter().map(tandem_reply::from_frame).collect(),
                ..tandem_reply::leaf(TANDEM_REPLY_ARRAY)
            },
            Frame::Map(pairs) => tandem_reply {
                elements: pairs
                    .into_iter()
                    .flat_map(|(k, v)| [k, v])
                    .map(tandem_reply::from_frame)
                    .collect(),
                ..tandem_reply::leaf(TANDEM_REPLY_MAP)
            },
        }
    }
}

/// Runs any command (`argv[0]` is its name) in database `db` and returns its reply in
/// `*out` (free it with `tandem_reply_free`). An error reply is `TANDEM_OK` with a reply
/// of type `TANDEM_REPLY_ERROR`. Nothing carries over between calls (no MULTI, SELECT).
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `argv` and `argv_len` are NULL or point to `argc`
/// entries, `argv[i]` to `argv_len[i]` bytes (NULL allowed when the length is 0); `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_execute(
    h: *mut tandem_engine,
    db: u32,
    argc: usize,
    argv: *const *const u8,
    argv_len: *const usize,
    out: *mut *mut tandem_reply,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        if argc == 0 {
            return Err(Fail::invalid("argc is 0: a command needs a name"));
        }
        if argv.is_null() {
            return Err(Fail::null("argv"));
        }
        if argv_len.is_null() {
            return Err(Fail::null("argv_len"));
        }
        // SAFETY: both arrays hold `argc` entries per the contract.
        let (ptrs, lens) = unsafe {
            (
                std::slice::from_raw_parts(argv, argc),
                std::slice::from_raw_parts(argv_len, argc),
            )
        };
        let args = ptrs
            .iter()
            .zip(lens)
            // SAFETY: each argument points to its length in bytes per the contract.
            .map(|(&p, &n)| unsafe { bytes_in(p, n, "argv[i]") })
            .collect::<Res<Vec<&[u8]>>>()?;
        // SAFETY: per the contract.
        let frame = unsafe { with_db(h, db, |d| Ok(d.execute(&args))) }?;
        let reply = Box::into_raw(Box::new(tandem_reply::from_frame(frame)));
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, reply, "out") }?;
        Ok(OK)
    })
}

/// The node's type (a `tandem_reply_kind`); `TANDEM_ERR_NULL` for NULL.
///
/// # Safety
/// `r` is NULL or a live reply node.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_type(r: *const tandem_reply) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { r.as_ref() }.ok_or_else(|| Fail::null("reply"))?;
        Ok(r.kind as c_int)
    })
}

/// An INTEGER's value (BOOLEAN: 0 or 1); 0 for other types and NULL.
///
/// # Safety
/// `r` is NULL or a live reply node.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_integer(r: *const tandem_reply) -> i64 {
    guard_value(0, || {
        // SAFETY: per the contract.
        unsafe { r.as_ref() }.map_or(0, |r| r.integer)
    })
}

/// A DOUBLE's value (INTEGER: converted); 0.0 for other types and NULL.
///
/// # Safety
/// `r` is NULL or a live reply node.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_double(r: *const tandem_reply) -> f64 {
    guard_value(0.0, || {
        // SAFETY: per the contract.
        unsafe { r.as_ref() }.map_or(0.0, |r| r.double)
    })
}

/// The bytes of a STRING, ERROR or BIGNUMBER node: `*ptr` (borrowed from the reply, not
/// NUL-terminated) and `*len`. Other types: `TANDEM_ERR_INVALID`, `*ptr` NULL, `*len` 0.
///
/// # Safety
/// `r` is NULL or a live reply node; `ptr` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_string(
    r: *const tandem_reply,
    ptr: *mut *const u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { r.as_ref() }.ok_or_else(|| Fail::null("reply"))?;
        if ptr.is_null() {
            return Err(Fail::null("ptr"));
        }
        if len.is_null() {
            return Err(Fail::null("len"));
        }
        let has_text = matches!(
            r.kind,
            TANDEM_REPLY_STRING | TANDEM_REPLY_ERROR | TANDEM_REPLY_BIGNUMBER
        );
        let (p, n) = if has_text {
            (r.text.as_ptr(), r.text.len())
        } else {
            (std::ptr::null(), 0)
        };
        // SAFETY: both checked non-NULL above and writable per the contract.
        unsafe {
            ptr.write(p);
            len.write(n);
        }
        if has_text {
            Ok(OK)
        } else {
            Err(Fail::invalid(format!("a {:?} reply has no string", r.kind)))
        }
    })
}

/// An ARRAY's element count, a MAP's pair count; 0 for other types and NULL.
///
/// # Safety
/// `r` is NULL or a live reply node.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_len(r: *const tandem_reply) -> usize {
    guard_value(0, || {
        // SAFETY: per the contract.
        match unsafe { r.as_ref() } {
            Some(r) if r.kind == TANDEM_REPLY_MAP => r.elements.len() / 2,
            Some(r) => r.elements.len(),
            None => 0,
        }
    })
}

/// Element `i` of an ARRAY (`i < len`) or a MAP (`i < 2 * len`: keys at even, values at
/// odd positions), borrowed from the reply; NULL when out of range or not a container.
///
/// # Safety
/// `r` is NULL or a live reply node.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_element(
    r: *const tandem_reply,
    i: usize,
) -> *const tandem_reply {
    guard_value(std::ptr::null(), || {
        // SAFETY: per the contract.
        unsafe { r.as_ref() }
            .and_then(|r| r.elements.get(i))
            .map_or(std::ptr::null(), std::ptr::from_ref)
    })
}

/// Frees a reply tree from `tandem_execute` (the root only; never an element). NULL is
/// accepted.
///
/// # Safety
/// `r` is NULL or a root from `tandem_execute`, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tandem_reply_free(r: *mut tandem_reply) {
    guard_value((), || {
        if !r.is_null() {
            // SAFETY: from `Box::into_raw` in `tandem_execute`, freed once.
            drop(unsafe { Box::from_raw(r) });
        }
    })
}
