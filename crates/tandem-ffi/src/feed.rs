//! The change feed as a C callback: `tandem_on_change` starts a feed thread that calls
//! the host's function once per change, with pointers into the event that are valid for
//! the call only; `tandem_feed_free` stops and joins it.

use std::ffi::{c_int, c_void};

use ::tandem_engine::{ChangeEvent, FeedHandle};

use crate::config::HostPtr;
use crate::engine::{tandem_engine, with_engine};
use crate::util::{guard, guard_value, put, Fail, OK};

/// What a `tandem_change` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tandem_change_kind {
    /// A command was applied: `argv` is the command, `key_index` the positions of its
    /// keys in `argv`.
    TANDEM_CHANGE_WRITE = 0,
    /// Changes were missed (the feed fell behind, or a full sync replaced the data):
    /// treat every key as changed. `argv[0]` is the reason (argc 1), no keys.
    TANDEM_CHANGE_GAP = 1,
}

/// One change, passed to a `tandem_change_fn`; every pointer is valid during the call
/// only.
#[repr(C)]
#[derive(Debug)]
pub struct tandem_change {
    /// A `tandem_change_kind`.
    pub kind: c_int,
    /// The database the command changed.
    pub db: u32,
    /// How many arguments (command name first).
    pub argc: usize,
    /// The arguments.
    pub argv: *const *const u8,
    /// Their lengths.
    pub argv_len: *const usize,
    /// How many keys the command changed (0 for FLUSHDB/FLUSHALL: all of them).
    pub key_count: usize,
    /// Positions in `argv` of the keys.
    pub key_index: *const usize,
}

/// A change callback; runs on the feed's own thread, one call at a time, in order.
pub type tandem_change_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, change: *const tandem_change)>;

/// A running change feed (opaque); see `tandem_feed_free`.
pub struct tandem_feed {
    _handle: FeedHandle,
}

fn deliver(
    f: unsafe extern "C" fn(*mut c_void, *const tandem_change),
    user: HostPtr,
    ev: &ChangeEvent,
) {
    let (kind, db, args, keys): (_, _, Vec<&[u8]>, Vec<usize>) = match ev {
        ChangeEvent::Write(c) => {
            let args: Vec<&[u8]> = c.argv.iter().map(|b| &b[..]).collect();
            // `keys()` yields slices of `argv`: find each one's position by address.
            let keys = c
                .keys()
                .filter_map(|k| {
                    args.iter()
                        .position(|a| std::ptr::eq(a.as_ptr(), k.as_ptr()))
                })
                .collect();
            (tandem_change_kind::TANDEM_CHANGE_WRITE, c.db, args, keys)
        }
        ChangeEvent::Gap { reason } => (
            tandem_change_kind::TANDEM_CHANGE_GAP,
            0,
            vec![reason.as_bytes()],
            Vec::new(),
        ),
    };
    let ptrs: Vec<*const u8> = args.iter().map(|a| a.as_ptr()).collect();
    let lens: Vec<usize> = args.iter().map(|a| a.len()).collect();
    let change = tandem_change {
        kind: kind as c_int,
        db: u32::try_from(db).unwrap_or(u32::MAX),
        argc: args.len(),
        argv: ptrs.as_ptr(),
        argv_len: lens.as_ptr(),
        key_count: keys.len(),
        key_index: keys.as_ptr(),
    };
    // SAFETY: the host registered `f` with `user` for these calls; `change` and the
    // arrays it points to live until the call returns.
    unsafe { f(user.0, &change) };
}

/// Calls `callback(user, change)` on a feed thread for every change applied to the data
/// (writes through any API, from this engine's master, expiries, evictions), in order,
/// until `*out` is freed or the engine closes.
///
/// # Safety
/// `h` is NULL or from `tandem_open`; `callback` may be called with `user` on the feed
/// thread until `tandem_feed_free` returns; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_on_change(
    h: *mut tandem_engine,
    callback: tandem_change_fn,
    user: *mut c_void,
    out: *mut *mut tandem_feed,
) -> c_int {
    guard(|| {
        let f = callback.ok_or_else(|| Fail::null("callback"))?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let user = HostPtr(user);
        // SAFETY: per the contract.
        let handle = unsafe {
            with_engine(h, |e| {
                Ok(e.on_change(move |ev| {
                    // A panic here must not take the feed thread down.
                    guard_value((), || deliver(f, user, ev));
                })?)
            })
        }?;
        let feed = Box::into_raw(Box::new(tandem_feed { _handle: handle }));
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { put(out, feed, "out") }?;
        Ok(OK)
    })
}

/// Stops the feed and joins its thread (the callback is not called after this returns),
/// then frees it. NULL is accepted. Must not be called from the feed's own callback.
///
/// # Safety
/// `feed` is NULL or from `tandem_on_change`, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tandem_feed_free(feed: *mut tandem_feed) {
    guard_value((), || {
        if feed.is_null() {
            return;
        }
        // SAFETY: from `Box::into_raw` in `tandem_on_change`, freed once.
        drop(unsafe { Box::from_raw(feed) });
    })
}
