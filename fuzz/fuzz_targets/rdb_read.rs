//! The RDB reader over arbitrary bytes, from memory and as a trickling stream: see
//! `tandem_persist::fuzzing::check_rdb`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_persist::fuzzing::check_rdb(data));
