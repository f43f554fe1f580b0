//! The C ABI called directly from Rust, as a C host would: status codes, NULL handling,
//! use after close, buffers too small, invalid UTF-8, panics turned into status codes,
//! replies, the change feed, the log callback, and replication between two engines
//! over a host transport (callbacks wrapping TCP sockets).

#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tandem::tandem_change_kind::*;
use tandem::tandem_io_status::*;
use tandem::tandem_reply_kind::*;
use tandem::tandem_status::*;
use tandem::*;

const OK: c_int = TANDEM_OK as c_int;
const NIL: c_int = TANDEM_NIL as c_int;

fn st(s: tandem_status) -> c_int {
    s as c_int
}

fn last_error() -> String {
    // SAFETY: tandem_last_error returns a NUL-terminated string valid until the next call.
    unsafe { CStr::from_ptr(tandem_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn open(cfg: *mut tandem_config) -> *mut tandem_engine {
    let mut h = null_mut();
    // SAFETY: cfg is NULL or fresh; &mut h is writable.
    let rc = unsafe { tandem_open(cfg, &mut h) };
    assert_eq!(rc, OK, "open: {}", last_error());
    assert!(!h.is_null());
    h
}

fn set(h: *mut tandem_engine, db: u32, k: &[u8], v: &[u8]) -> c_int {
    // SAFETY: slices are valid for their lengths.
    unsafe { tandem_set(h, db, k.as_ptr(), k.len(), v.as_ptr(), v.len()) }
}

fn get(h: *mut tandem_engine, db: u32, k: &[u8]) -> (c_int, Option<Vec<u8>>) {
    let mut out = tandem_bytes {
        ptr: null_mut(),
        len: 0,
    };
    // SAFETY: key valid for its length; out writable.
    let rc = unsafe { tandem_get(h, db, k.as_ptr(), k.len(), &mut out) };
    let v = if out.ptr.is_null() {
        None
    } else {
        // SAFETY: filled by the library with len bytes.
        Some(unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec())
    };
    // SAFETY: out was filled by the library (or is empty).
    unsafe { tandem_bytes_free(&mut out) };
    assert!(out.ptr.is_null() && out.len == 0);
    (rc, v)
}

fn exec(h: *mut tandem_engine, db: u32, args: &[&[u8]]) -> *mut tandem_reply {
    let ptrs: Vec<*const u8> = args.iter().map(|a| a.as_ptr()).collect();
    let lens: Vec<usize> = args.iter().map(|a| a.len()).collect();
    let mut r = null_mut();
    // SAFETY: arrays hold args.len() entries.
    let rc = unsafe { tandem_execute(h, db, args.len(), ptrs.as_ptr(), lens.as_ptr(), &mut r) };
    assert_eq!(rc, OK, "execute: {}", last_error());
    r
}

fn reply_str(r: *const tandem_reply) -> Option<Vec<u8>> {
    let mut p = null();
    let mut n = 0;
    // SAFETY: r is a live node; p and n writable.
    let rc = unsafe { tandem_reply_string(r, &mut p, &mut n) };
    // SAFETY: on OK p points to n bytes owned by the reply.
    (rc == OK).then(|| unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
}

fn close(h: *mut tandem_engine) {
    // SAFETY: h from tandem_open.
    assert_eq!(unsafe { tandem_close(h) }, OK, "close: {}", last_error());
}

#[test]
fn data_operations_and_status_codes() {
    let h = open(null_mut());
    assert_eq!(set(h, 0, b"k", b"hello"), OK);
    assert_eq!(get(h, 0, b"k"), (OK, Some(b"hello".to_vec())));
    assert_eq!(get(h, 0, b"missing"), (NIL, None));
    assert_eq!(set(h, 3, b"k", b""), OK);
    assert_eq!(get(h, 3, b"k"), (OK, Some(Vec::new())));
    assert_eq!(set(h, 16, b"k", b"v"), st(TANDEM_ERR_INVALID));
    assert!(last_error().contains("out of range"), "{}", last_error());

    // get_into: exact, too small, missing.
    let mut buf = [0u8; 8];
    let mut len = 99usize;
    // SAFETY: buffers valid.
    let rc = unsafe { tandem_get_into(h, 0, b"k".as_ptr(), 1, buf.as_mut_ptr(), 8, &mut len) };
    assert_eq!((rc, len, &buf[..5]), (OK, 5, &b"hello"[..]));
    let mut small = [0u8; 2];
    // SAFETY: buffers valid.
    let rc = unsafe { tandem_get_into(h, 0, b"k".as_ptr(), 1, small.as_mut_ptr(), 2, &mut len) };
    assert_eq!(
        (rc, len, small),
        (st(TANDEM_ERR_BUFFER_TOO_SMALL), 5, [0, 0])
    );
    // SAFETY: NULL buffer with cap 0 asks for the length only.
    let rc = unsafe { tandem_get_into(h, 0, b"k".as_ptr(), 1, null_mut(), 0, &mut len) };
    assert_eq!((rc, len), (st(TANDEM_ERR_BUFFER_TOO_SMALL), 5));
    // SAFETY: buffers valid.
    let rc = unsafe { tandem_get_into(h, 0, b"zz".as_ptr(), 2, buf.as_mut_ptr(), 8, &mut len) };
    assert_eq!((rc, len), (NIL, 0));

    // incr, wrong type, not an integer.
    let mut n = 0i64;
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_incr_by(h, 0, b"n".as_ptr(), 1, 5, &mut n) };
    assert_eq!(rc, OK);
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_incr_by(h, 0, b"n".as_ptr(), 1, -7, &mut n) };
    assert_eq!(rc, OK);
    assert_eq!(n, -2);
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_incr_by(h, 0, b"k".as_ptr(), 1, 1, &mut n) };
    assert_eq!(rc, st(TANDEM_ERR_COMMAND));
    assert!(last_error().contains("not an integer"), "{}", last_error());
    let r = exec(h, 0, &[b"RPUSH", b"list", b"a"]);
    // SAFETY: a live reply root.
    unsafe { tandem_reply_free(r) };
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_incr_by(h, 0, b"list".as_ptr(), 4, 1, &mut n) };
    assert_eq!(rc, st(TANDEM_ERR_WRONGTYPE), "{}", last_error());

    // set_ex and del.
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_set_ex(h, 0, b"t".as_ptr(), 1, b"v".as_ptr(), 1, 0) };
    assert_eq!(rc, st(TANDEM_ERR_INVALID));
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_set_ex(h, 0, b"t".as_ptr(), 1, b"v".as_ptr(), 1, 100_000) };
    assert_eq!(rc, OK);
    let mut deleted = 0u64;
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_del(h, 0, b"t".as_ptr(), 1, &mut deleted) };
    assert_eq!(rc, OK);
    assert_eq!(deleted, 1);
    // SAFETY: deleted_out may be NULL.
    let rc = unsafe { tandem_del(h, 0, b"t".as_ptr(), 1, null_mut()) };
    assert_eq!(rc, OK);
    close(h);
}

#[test]
fn null_pointers_are_errors() {
    let h = open(null_mut());
    let mut out = tandem_bytes {
        ptr: null_mut(),
        len: 0,
    };
    let null_code = st(TANDEM_ERR_NULL);
    // SAFETY: every call passes NULL where the library must check it.
    unsafe {
        assert_eq!(
            tandem_set(null_mut(), 0, b"k".as_ptr(), 1, b"v".as_ptr(), 1),
            null_code
        );
        assert_eq!(tandem_set(h, 0, null(), 1, b"v".as_ptr(), 1), null_code);
        assert_eq!(tandem_set(h, 0, b"k".as_ptr(), 1, null(), 3), null_code);
        assert_eq!(tandem_get(h, 0, b"k".as_ptr(), 1, null_mut()), null_code);
        assert_eq!(
            tandem_get(null_mut(), 0, b"k".as_ptr(), 1, &mut out),
            null_code
        );
        assert!(last_error().contains("NULL"), "{}", last_error());
        assert_eq!(
            tandem_get_into(h, 0, b"k".as_ptr(), 1, null_mut(), 4, &mut 0),
            null_code
        );
        assert_eq!(
            tandem_get_into(h, 0, b"k".as_ptr(), 1, null_mut(), 0, null_mut()),
            null_code
        );
        assert_eq!(
            tandem_incr_by(h, 0, b"n".as_ptr(), 1, 1, null_mut()),
            null_code
        );
        assert_eq!(
            tandem_execute(h, 0, 1, null(), null(), &mut null_mut()),
            null_code
        );
        assert_eq!(tandem_role(h, null_mut()), null_code);
        assert_eq!(tandem_info(h, null(), &mut out), null_code);
        assert_eq!(tandem_serve_replicas(h, null(), null_mut()), null_code);
        assert_eq!(tandem_replicate_from(h, null(), 6379), null_code);
        assert_eq!(
            tandem_on_change(h, None, null_mut(), &mut null_mut()),
            null_code
        );
        assert_eq!(tandem_open(null_mut(), null_mut()), null_code);
        assert_eq!(
            tandem_config_set(null_mut(), c"hz".as_ptr(), c"10".as_ptr()),
            null_code
        );
        assert_eq!(tandem_close(null_mut()), null_code);
        assert_eq!(tandem_reply_type(null()), null_code);
        assert_eq!(tandem_reply_len(null()), 0);
        assert!(tandem_reply_element(null(), 0).is_null());
        tandem_bytes_free(null_mut());
        tandem_reply_free(null_mut());
        tandem_feed_free(null_mut());
        tandem_config_free(null_mut());
        // An empty key may be NULL.
        assert_eq!(tandem_set(h, 0, null(), 0, b"v".as_ptr(), 1), OK);
    }
    assert_eq!(get(h, 0, b""), (OK, Some(b"v".to_vec())));
    close(h);
}

#[test]
fn names_must_be_utf8_and_config_is_checked() {
    let bad = b"hz\xff\0";
    // SAFETY: a fresh config; strings NUL-terminated.
    unsafe {
        let cfg = tandem_config_new();
        assert_eq!(
            tandem_config_set(cfg, bad.as_ptr().cast(), c"10".as_ptr()),
            st(TANDEM_ERR_UTF8)
        );
        assert_eq!(
            tandem_config_set(cfg, c"no-such-directive".as_ptr(), c"1".as_ptr()),
            st(TANDEM_ERR_CONFIG)
        );
        assert_eq!(
            tandem_config_set(cfg, c"hz".as_ptr(), c"nope".as_ptr()),
            st(TANDEM_ERR_CONFIG)
        );
        assert_eq!(
            tandem_config_set(cfg, c"databases".as_ptr(), c"4".as_ptr()),
            OK
        );
        let h = open(cfg);
        assert_eq!(set(h, 3, b"k", b"v"), OK);
        assert_eq!(set(h, 4, b"k", b"v"), st(TANDEM_ERR_INVALID));
        let mut out = tandem_bytes {
            ptr: null_mut(),
            len: 0,
        };
        assert_eq!(
            tandem_info(h, bad.as_ptr().cast(), &mut out),
            st(TANDEM_ERR_UTF8)
        );
        assert_eq!(
            tandem_serve_replicas(h, c"not an address".as_ptr(), null_mut()),
            st(TANDEM_ERR_INVALID)
        );
        assert_eq!(
            tandem_replicate_from(h, c"127.0.0.1".as_ptr(), 0),
            st(TANDEM_ERR_INVALID)
        );
        close(h);
        // A config that fails to open is consumed anyway (checked under valgrind in C).
        let cfg = tandem_config_new();
        assert_eq!(
            tandem_config_set(cfg, c"dir".as_ptr(), c"/nonexistent/x".as_ptr()),
            OK
        );
        let mut h2 = null_mut();
        let rc = tandem_open(cfg, &mut h2);
        if rc == OK {
            close(h2);
        }
    }
}

#[test]
fn use_after_close_and_double_close() {
    let h = open(null_mut());
    assert_eq!(set(h, 0, b"k", b"v"), OK);
    close(h);
    let closed = st(TANDEM_ERR_CLOSED);
    assert_eq!(set(h, 0, b"k", b"v"), closed);
    assert!(last_error().contains("closed"));
    assert_eq!(get(h, 0, b"k").0, closed);
    let mut info = tandem_role_info::default();
    // SAFETY: h is a closed handle (still valid memory); pointers valid.
    unsafe {
        assert_eq!(tandem_role(h, &mut info), closed);
        assert_eq!(tandem_wait_for_sync(h, 10), closed);
        assert_eq!(tandem_promote(h), closed);
        assert_eq!(tandem_close(h), closed);
    }
}

#[test]
fn panics_become_status_codes() {
    // SAFETY: a NUL-terminated message.
    let rc = unsafe { tandem_debug_panic(c"boom 42".as_ptr()) };
    assert_eq!(rc, st(TANDEM_ERR_PANIC));
    assert!(last_error().contains("boom 42"), "{}", last_error());
    // SAFETY: NULL is accepted.
    assert_eq!(unsafe { tandem_debug_panic(null()) }, st(TANDEM_ERR_PANIC));
    // The library keeps working.
    let h = open(null_mut());
    assert_eq!(set(h, 0, b"k", b"v"), OK);
    close(h);
}

#[test]
fn status_names() {
    for (code, name) in [
        (0, "TANDEM_OK"),
        (1, "TANDEM_NIL"),
        (-9, "TANDEM_ERR_BUFFER_TOO_SMALL"),
        (-11, "TANDEM_ERR_PANIC"),
        (77, "TANDEM_UNKNOWN_STATUS"),
    ] {
        // SAFETY: static strings.
        let s = unsafe { CStr::from_ptr(tandem_status_name(code)) };
        assert_eq!(s.to_str().unwrap(), name);
    }
    // SAFETY: static string.
    let v = unsafe { CStr::from_ptr(tandem_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn execute_builds_a_reply_tree() {
    let h = open(null_mut());
    assert_eq!(set(h, 0, b"a", b"1"), OK);
    let r = exec(h, 0, &[b"MGET", b"a", b"nope"]);
    // SAFETY: r is a live reply tree until freed below.
    unsafe {
        assert_eq!(tandem_reply_type(r), TANDEM_REPLY_ARRAY as c_int);
        assert_eq!(tandem_reply_len(r), 2);
        let e0 = tandem_reply_element(r, 0);
        assert_eq!(tandem_reply_type(e0), TANDEM_REPLY_STRING as c_int);
        assert_eq!(reply_str(e0).as_deref(), Some(&b"1"[..]));
        assert_eq!(
            tandem_reply_type(tandem_reply_element(r, 1)),
            TANDEM_REPLY_NIL as c_int
        );
        assert!(tandem_reply_element(r, 2).is_null());
        assert_eq!(reply_str(r), None);
        tandem_reply_free(r);
    }
    let r = exec(h, 0, &[b"INCRBY", b"counter", b"41"]);
    // SAFETY: live reply.
    unsafe {
        assert_eq!(tandem_reply_type(r), TANDEM_REPLY_INTEGER as c_int);
        assert_eq!(tandem_reply_integer(r), 41);
        tandem_reply_free(r);
    }
    let r = exec(h, 0, &[b"NOSUCHCOMMAND"]);
    // SAFETY: live reply.
    unsafe {
        assert_eq!(tandem_reply_type(r), TANDEM_REPLY_ERROR as c_int);
        let text = String::from_utf8(reply_str(r).unwrap()).unwrap();
        assert!(text.starts_with("ERR unknown command"), "{text}");
        tandem_reply_free(r);
    }
    // HELLO 3 in a stateless call answers a map.
    let r = exec(h, 0, &[b"HELLO", b"3"]);
    // SAFETY: live reply.
    unsafe {
        assert_eq!(tandem_reply_type(r), TANDEM_REPLY_MAP as c_int);
        let pairs = tandem_reply_len(r);
        assert!(pairs >= 3);
        let keys: Vec<Vec<u8>> = (0..pairs)
            .filter_map(|i| reply_str(tandem_reply_element(r, 2 * i)))
            .collect();
        assert!(keys.contains(&b"server".to_vec()), "{keys:?}");
        assert!(!tandem_reply_element(r, 2 * pairs - 1).is_null());
        assert!(tandem_reply_element(r, 2 * pairs).is_null());
        tandem_reply_free(r);
    }
    let mut out = null_mut();
    // SAFETY: argc 0 is rejected before the arrays are read.
    let rc = unsafe { tandem_execute(h, 0, 0, null(), null(), &mut out) };
    assert_eq!(rc, st(TANDEM_ERR_INVALID));
    close(h);
}

static CHANGES: Mutex<Vec<(u32, Vec<Vec<u8>>, Vec<usize>)>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_change(user: *mut c_void, c: *const tandem_change) {
    assert_eq!(user as usize, 0x5eed);
    // SAFETY: the library passes a valid change for the call's duration.
    let c = unsafe { &*c };
    if c.kind != TANDEM_CHANGE_WRITE as c_int {
        return;
    }
    // SAFETY: argc entries in argv/argv_len, key_count in key_index.
    let (args, keys) = unsafe {
        let ptrs = std::slice::from_raw_parts(c.argv, c.argc);
        let lens = std::slice::from_raw_parts(c.argv_len, c.argc);
        let args = ptrs
            .iter()
            .zip(lens)
            .map(|(&p, &n)| std::slice::from_raw_parts(p, n).to_vec())
            .collect();
        (
            args,
            std::slice::from_raw_parts(c.key_index, c.key_count).to_vec(),
        )
    };
    CHANGES.lock().unwrap().push((c.db, args, keys));
}

#[test]
fn change_feed_callback() {
    let h = open(null_mut());
    let mut feed = null_mut();
    // SAFETY: callback and out valid.
    let rc = unsafe { tandem_on_change(h, Some(on_change), 0x5eed as *mut c_void, &mut feed) };
    assert_eq!(rc, OK, "{}", last_error());
    assert_eq!(set(h, 2, b"fk", b"v"), OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = CHANGES.lock().unwrap().clone();
        if let Some((db, args, keys)) = seen
            .iter()
            .find(|(_, a, _)| a.get(1).is_some_and(|k| k == b"fk"))
        {
            assert_eq!(*db, 2);
            assert!(args[0].eq_ignore_ascii_case(b"set"));
            assert_eq!(keys, &vec![1]);
            break;
        }
        assert!(Instant::now() < deadline, "no change delivered: {seen:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Freed after the engine closed: still fine.
    close(h);
    // SAFETY: from tandem_on_change.
    unsafe { tandem_feed_free(feed) };
}

static LOG_LINES: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn on_log(_user: *mut c_void, level: c_int, msg: *const c_char) {
    assert!((0..=3).contains(&level));
    // SAFETY: a NUL-terminated line valid during the call.
    let _ = unsafe { CStr::from_ptr(msg) }.to_str().unwrap();
    LOG_LINES.fetch_add(1, Ordering::Relaxed);
}

// ---- a host transport over TCP, as a C host would write it ----------------------------

unsafe extern "C" fn t_connect(
    user: *mut c_void,
    host: *const c_char,
    port: u16,
    conn_out: *mut *mut c_void,
) -> c_int {
    // SAFETY: user points to the test's connect counter.
    unsafe { &*(user as *const AtomicUsize) }.fetch_add(1, Ordering::Relaxed);
    // SAFETY: host is NUL-terminated.
    let host = unsafe { CStr::from_ptr(host) }
        .to_str()
        .unwrap()
        .to_string();
    match TcpStream::connect((host.as_str(), port)) {
        Ok(s) => {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            // SAFETY: conn_out is writable.
            unsafe { *conn_out = Box::into_raw(Box::new(s)).cast() };
            0
        }
        Err(_) => -1,
    }
}

unsafe extern "C" fn t_read(conn: *mut c_void, buf: *mut u8, cap: usize) -> c_long {
    // SAFETY: conn is the TcpStream from t_connect; buf writable for cap bytes.
    let (s, buf) = unsafe {
        (
            &*(conn as *const TcpStream),
            std::slice::from_raw_parts_mut(buf, cap),
        )
    };
    match (&*s).read(buf) {
        Ok(n) => n as c_long,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            TANDEM_IO_TIMEOUT as c_long
        }
        Err(_) => -1,
    }
}

unsafe extern "C" fn t_write(conn: *mut c_void, buf: *const u8, len: usize) -> c_long {
    // SAFETY: as t_read.
    let (s, buf) = unsafe {
        (
            &*(conn as *const TcpStream),
            std::slice::from_raw_parts(buf, len),
        )
    };
    match (&*s).write(buf) {
        Ok(n) => n as c_long,
        Err(_) => -1,
    }
}

static CLOSED_CONNS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn t_close(conn: *mut c_void) {
    // SAFETY: from Box::into_raw in t_connect, closed once.
    drop(unsafe { Box::from_raw(conn.cast::<TcpStream>()) });
    CLOSED_CONNS.fetch_add(1, Ordering::Relaxed);
}

unsafe extern "C" fn t_shutdown(conn: *mut c_void) {
    // SAFETY: conn is live until t_close.
    let _ = unsafe { &*(conn as *const TcpStream) }.shutdown(Shutdown::Both);
}

#[test]
fn replication_over_a_host_transport() {
    let master = open(null_mut());
    let mut port = 0u16;
    // SAFETY: valid pointers.
    let rc = unsafe { tandem_serve_replicas(master, c"127.0.0.1:0".as_ptr(), &mut port) };
    assert_eq!(rc, OK, "{}", last_error());
    assert_ne!(port, 0);
    assert_eq!(set(master, 0, b"before", b"sync"), OK);

    let connects = Box::new(AtomicUsize::new(0));
    let t = tandem_transport {
        user: std::ptr::from_ref(&*connects).cast_mut().cast(),
        connect: Some(t_connect),
        read: Some(t_read),
        write: Some(t_write),
        close: Some(t_close),
        shutdown: Some(t_shutdown),
    };
    // SAFETY: fresh config; t is copied; its user outlives the engine.
    let replica = unsafe {
        let cfg = tandem_config_new();
        let mut incomplete = t;
        incomplete.read = None;
        assert_eq!(
            tandem_config_set_transport(cfg, &incomplete),
            st(TANDEM_ERR_NULL)
        );
        assert_eq!(tandem_config_set_transport(cfg, &t), OK);
        assert_eq!(tandem_config_set_log(cfg, Some(on_log), null_mut()), OK);
        open(cfg)
    };
    // SAFETY: valid pointers.
    unsafe {
        assert_eq!(
            tandem_replicate_from(replica, c"127.0.0.1".as_ptr(), port),
            OK
        );
        assert_eq!(
            tandem_wait_for_sync(replica, 20_000),
            OK,
            "{}",
            last_error()
        );
    }
    assert_eq!(set(master, 0, b"after", b"stream"), OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(replica, 0, b"after").1.is_none() {
        assert!(
            Instant::now() < deadline,
            "the write did not reach the replica"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(get(replica, 0, b"before").1.as_deref(), Some(&b"sync"[..]));
    assert!(connects.load(Ordering::Relaxed) >= 1);
    assert!(
        LOG_LINES.load(Ordering::Relaxed) > 0,
        "the log callback saw nothing"
    );

    let mut info = tandem_role_info::default();
    // SAFETY: valid pointers.
    unsafe { assert_eq!(tandem_role(replica, &mut info), OK) };
    assert_eq!(
        (info.is_replica, info.link_up, info.master_port),
        (1, 1, port)
    );
    assert!(info.offset > 0);
    let mut minfo = tandem_role_info::default();
    // SAFETY: valid pointers.
    unsafe { assert_eq!(tandem_role(master, &mut minfo), OK) };
    assert_eq!((minfo.is_replica, minfo.connected_replicas), (0, 1));
    assert_eq!(minfo.last_io_ms_ago, -1);
    // A replica refuses writes through the API.
    assert_eq!(set(replica, 0, b"x", b"y"), st(TANDEM_ERR_COMMAND));
    assert!(last_error().contains("READONLY"), "{}", last_error());

    let before = CLOSED_CONNS.load(Ordering::Relaxed);
    close(replica);
    assert!(
        CLOSED_CONNS.load(Ordering::Relaxed) > before,
        "close() was not called"
    );
    close(master);
}

#[test]
fn many_threads_at_once() {
    let h = open(null_mut()) as usize;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let h = h as *mut tandem_engine;
                for i in 0..500 {
                    let k = format!("t{t}:{i}");
                    assert_eq!(set(h, 0, k.as_bytes(), k.as_bytes()), OK);
                    assert_eq!(get(h, 0, k.as_bytes()).1.as_deref(), Some(k.as_bytes()));
                    let mut n = 0;
                    // SAFETY: valid pointers.
                    let rc = unsafe { tandem_incr_by(h, 0, b"shared".as_ptr(), 6, 1, &mut n) };
                    assert_eq!(rc, OK);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let h = h as *mut tandem_engine;
    let r = exec(h, 0, &[b"GET", b"shared"]);
    assert_eq!(reply_str(r).as_deref(), Some(&b"4000"[..]));
    // SAFETY: live reply.
    unsafe { tandem_reply_free(r) };
    close(h);
}

#[test]
fn info_text() {
    let h = open(null_mut());
    let mut out = tandem_bytes {
        ptr: null_mut(),
        len: 0,
    };
    let section = CString::new("replication").unwrap();
    // SAFETY: valid pointers.
    assert_eq!(unsafe { tandem_info(h, section.as_ptr(), &mut out) }, OK);
    // SAFETY: filled by the library.
    let text = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
    // SAFETY: filled by the library.
    unsafe { tandem_bytes_free(&mut out) };
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("role:master"), "{text}");
    close(h);
}
