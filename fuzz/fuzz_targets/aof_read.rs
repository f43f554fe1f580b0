//! The AOF file reader (RDB preamble and commands) over arbitrary bytes: see
//! `tandem_persist::fuzzing::check_aof`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_persist::fuzzing::check_aof(data));
