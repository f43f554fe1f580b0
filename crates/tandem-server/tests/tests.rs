//! Black-box tests of the `tandem-server` binary: each test starts the built server on a
//! free loopback port, talks raw RESP to it over TCP (or its Unix socket) and compares
//! exact reply bytes and log lines with what Redis 7.0.15 produces. Tests that need
//! commands other families provide (pub/sub, blocking lists, SHUTDOWN) skip themselves
//! while the engine lacks them.

#[path = "cases/lifecycle.rs"]
mod lifecycle;
#[path = "cases/limits.rs"]
mod limits;
#[path = "cases/persistence.rs"]
mod persistence;
#[path = "cases/protocol.rs"]
mod protocol;
#[path = "cases/replication.rs"]
mod replication;
#[path = "cases/support.rs"]
mod support;
