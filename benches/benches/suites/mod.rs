//! Benchmark suites, one module per subsystem.

pub mod keyspace;
pub mod resp;
