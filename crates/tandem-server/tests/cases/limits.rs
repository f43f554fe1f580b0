//! Client limits: maxclients, idle timeout, output buffer limits; and the paths that
//! need other clients: pub/sub delivery, blocked clients, several event loops.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::support::{resp, Client, Server};

#[test]
fn maxclients_refuses_with_redis_error() {
    let s = Server::start(&["--maxclients", "3"]);
    std::thread::sleep(Duration::from_millis(100)); // the readiness probe has left
    let mut kept: Vec<Client> = (0..3).map(|_| s.client()).collect();
    for c in &mut kept {
        c.expect(&["PING"], b"+PONG\r\n");
    }
    let mut extra = s.client();
    assert_eq!(
        extra.read_to_close(Duration::from_secs(5)),
        b"-ERR max number of clients reached\r\n"
    );
    drop(kept.pop());
    std::thread::sleep(Duration::from_millis(100));
    s.client().expect(&["PING"], b"+PONG\r\n");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.client();
    idle.expect(&["PING"], b"+PONG\r\n");
    let mut busy = s.client();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        busy.expect(&["PING"], b"+PONG\r\n");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(idle.read_to_close(Duration::from_secs(5)), b"");
    busy.expect(&["PING"], b"+PONG\r\n");
}

/// Sends GETs of a big value without reading the replies until the server gives up.
fn flood_until_closed(c: &mut Client, per_round: usize, pause: Duration, limit: Duration) -> bool {
    let batch: Vec<u8> = (0..per_round).flat_map(|_| resp(&["GET", "big"])).collect();
    let start = Instant::now();
    while start.elapsed() < limit {
        if c.stream.write_all(&batch).is_err() {
            return true;
        }
        std::thread::sleep(pause);
    }
    false
}

#[test]
fn normal_client_hard_output_limit() {
    let s = Server::start(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut setup = s.client();
    let value = "v".repeat(100_000);
    setup.expect(&["SET", "big", &value], b"+OK\r\n");
    let mut c = s.client();
    flood_until_closed(
        &mut c,
        50,
        Duration::from_millis(20),
        Duration::from_secs(3),
    );
    assert!(
        s.wait_log(
            "scheduled to be closed ASAP for overcoming of output buffer limits.",
            Duration::from_secs(10)
        ),
        "{}",
        s.log()
    );
    let _ = c.read_to_close(Duration::from_secs(10));
    setup.expect(&["PING"], b"+PONG\r\n");
}

#[test]
fn normal_client_soft_output_limit_needs_its_seconds() {
    let s = Server::start(&["--client-output-buffer-limit", "normal 0 256kb 1"]);
    let mut setup = s.client();
    let value = "v".repeat(200_000);
    setup.expect(&["SET", "big", &value], b"+OK\r\n");
    let mut c = s.client();
    let started = Instant::now();
    flood_until_closed(
        &mut c,
        5,
        Duration::from_millis(100),
        Duration::from_secs(15),
    );
    assert!(
        s.wait_log(
            "scheduled to be closed ASAP for overcoming of output buffer limits.",
            Duration::from_secs(10)
        ),
        "{}",
        s.log()
    );
    // Over the soft limit only after the kernel buffers filled, then for > 1 s.
    assert!(started.elapsed() > Duration::from_secs(1));
    setup.expect(&["PING"], b"+PONG\r\n");
}

#[test]
fn pubsub_messages_are_delivered() {
    let s = Server::start(&[]);
    if !s.has_command(&["PUBLISH", "ch", "x"]) {
        eprintln!("pub/sub is not implemented by the engine yet: skipped");
        return;
    }
    let mut sub = s.client();
    sub.expect(
        &["SUBSCRIBE", "ch"],
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
    );
    let mut publisher = s.client();
    publisher.expect(&["PUBLISH", "ch", "hello"], b":1\r\n");
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
    );
    sub.expect(&["PING"], b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn pubsub_output_limit_closes_slow_subscribers() {
    let s = Server::start(&["--client-output-buffer-limit", "pubsub 512kb 0 0"]);
    if !s.has_command(&["PUBLISH", "ch", "x"]) {
        eprintln!("pub/sub is not implemented by the engine yet: skipped");
        return;
    }
    let mut sub = s.client();
    sub.expect(
        &["SUBSCRIBE", "ch"],
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
    );
    let mut publisher = s.client();
    let msg = "m".repeat(10_000);
    let batch: Vec<u8> = (0..100)
        .flat_map(|_| resp(&["PUBLISH", "ch", &msg]))
        .collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        publisher.send(&batch);
        for _ in 0..100 {
            publisher.read_reply();
        }
        if s.log().contains("for overcoming of output buffer limits") {
            break;
        }
    }
    assert!(s
        .log()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits."));
    let _ = sub.read_to_close(Duration::from_secs(10));
    publisher.expect(&["PUBLISH", "ch", "x"], b":0\r\n");
}

#[test]
fn blocked_clients_time_out_and_wake() {
    let s = Server::start(&[]);
    if !s.has_command(&["LPUSH", "probe", "x"]) || !s.has_command(&["BLPOP", "probe", "0.01"]) {
        eprintln!("blocking lists are not implemented by the engine yet: skipped");
        return;
    }
    let mut c = s.client();
    let t = Instant::now();
    c.expect(&["BLPOP", "q", "0.3"], b"*-1\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
    // Woken by another client; the pipelined PING runs after.
    c.send(&[resp(&["BLPOP", "q", "0"]), resp(&["PING"])].concat());
    assert!(c.is_open_and_quiet(Duration::from_millis(100)));
    s.client().expect(&["LPUSH", "q", "v"], b":1\r\n");
    assert_eq!(c.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
}

#[test]
fn several_event_loops_serve_concurrent_clients() {
    let s = Server::start(&["--io-threads", "3"]);
    let port = s.port;
    let workers: Vec<_> = (0..9)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut req = Vec::new();
                let mut expected = Vec::new();
                for i in 0..500 {
                    let k = format!("w{w}k{i}");
                    req.extend_from_slice(&resp(&["SET", &k, &k]));
                    req.extend_from_slice(&resp(&["GET", &k]));
                    expected.extend_from_slice(b"+OK\r\n");
                    expected.extend_from_slice(format!("${}\r\n{k}\r\n", k.len()).as_bytes());
                }
                c.send(&req);
                assert!(c.read_exact(expected.len()) == expected);
                // Keys written through other loops are visible here.
                let other = format!("w{}k499", (w + 1) % 9);
                c.send(&resp(&["GET", &other]));
                let r = c.read_reply();
                assert!(
                    r == format!("${}\r\n{other}\r\n", other.len()).into_bytes() || r == b"$-1\r\n"
                );
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    s.client().expect(&["GET", "w3k7"], b"$4\r\nw3k7\r\n");
}
