//! tandem's C ABI (`libtandem.so` / `libtandem.a`, header `include/tandem.h`, generated
//! by cbindgen from this crate with `cbindgen.toml`): a thin layer over the embedding API
//! of `tandem-engine` (`Builder`, `Engine`, `Db`, the change feed, roles). This crate is
//! the only one in the workspace with `unsafe` code and `extern "C"` functions.
//!
//! # Status codes and errors
//!
//! Every function returns an `int` status ([`tandem_status`]) except the `*_free`
//! functions and the accessors that return a value or a string: `TANDEM_OK` (0),
//! `TANDEM_NIL` (1: no such key / no value / timed out) or a negative error. After an
//! error, [`tandem_last_error`] gives its message on the same thread (for
//! `TANDEM_ERR_COMMAND`, Redis's error text). A successful call does not clear it.
//!
//! Every export runs behind a panic boundary: a panic inside tandem becomes
//! `TANDEM_ERR_PANIC` with the panic message as the last error, and never unwinds into
//! the host; the engine stays usable (its locks do not poison). Every pointer argument is
//! checked for NULL (`TANDEM_ERR_NULL`); a byte buffer may be NULL when its length is 0.
//! Names (directives, addresses, hosts, sections) are NUL-terminated UTF-8; anything
//! else is `TANDEM_ERR_UTF8`. (Rust's default panic hook also prints the panic on
//! stderr; the library does not replace the process-wide hook.)
//!
//! # Ownership
//!
//! - `tandem_config *` is owned by the caller until [`tandem_open`], which consumes it
//!   even when it fails; otherwise free it with [`tandem_config_free`].
//! - `tandem_engine *` comes from [`tandem_open`] and is released by [`tandem_close`].
//!   The handle itself is a small shell (a lock around the engine) that is never freed:
//!   closing drops the engine (its threads, keyspace and buffers) and leaves the shell,
//!   emptied, in a process-wide graveyard, so a handle used after `tandem_close` answers
//!   `TANDEM_ERR_CLOSED` instead of touching freed memory, and leak checkers see the
//!   shell as still reachable, not lost. Each `tandem_open` costs one such shell (under
//!   a hundred bytes) for the life of the process.
//! - `tandem_bytes` filled by the library (values, INFO text) are the caller's: free them
//!   with [`tandem_bytes_free`]. On success `ptr` is never NULL (an empty value has
//!   `len` 0).
//! - `tandem_reply *` from [`tandem_execute`] is the caller's, freed with
//!   [`tandem_reply_free`] on the root only; element pointers and string pointers are
//!   borrowed from the root and die with it.
//! - `tandem_feed *` from [`tandem_on_change`] is freed with [`tandem_feed_free`] (before
//!   or after the engine is closed).
//! - Strings returned as `const char *` ([`tandem_status_name`], [`tandem_version`]) are
//!   static; [`tandem_last_error`] is valid until the next failing call on that thread.
//!
//! # Threads
//!
//! A `tandem_engine *` may be used from any number of threads at once: commands run on
//! the calling thread and the keyspace locks per shard. [`tandem_close`] must not race
//! other calls on the same handle: it waits for the calls in progress (it takes the
//! shell's lock for writing), then later calls get `TANDEM_ERR_CLOSED`. It must not be
//! called from a callback. Callbacks (log, change feed, transport) run on tandem's own
//! threads; a callback may call back into tandem, except `tandem_close` and
//! `tandem_feed_free` of its own feed.
//!
//! # Host transport
//!
//! `tandem_config_set_transport` makes the engine reach its master through the host's
//! callbacks instead of TCP: `connect` once per attempt, then `read` and `write` (which
//! may run at the same time on two threads for one connection), `shutdown` (optional)
//! at most once to unblock a read when the link stops, and `close` exactly once per
//! successful `connect`, after the last read and write returned. A `read` that waits
//! for data should give up now and then with `TANDEM_IO_TIMEOUT` (tandem retries), so
//! that a link without `shutdown` can still be stopped.
//!
//! # Building
//!
//! `cargo build -p tandem-ffi` writes `target/<profile>/libtandem.so` and `libtandem.a`
//! (link the static one with `-lpthread -ldl -lm`). The header is regenerated with
//! `TANDEM_BLESS_HEADER=1 cargo test -p tandem-ffi --test header`; the same test fails
//! when the checked-in `include/tandem.h` is stale. C programs: `examples/c/`, run by
//! `tests/c/run.sh` under valgrind.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod engine;
mod feed;
mod reply;
mod transport;
mod util;

pub use config::*;
pub use engine::*;
pub use feed::*;
pub use reply::*;
pub use transport::*;
pub use util::{
    tandem_bytes, tandem_bytes_free, tandem_debug_panic, tandem_last_error, tandem_status,
    tandem_status_name, tandem_version,
};
