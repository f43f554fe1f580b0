//! RequestParser over arbitrary bytes, whole, byte by byte and in random pieces, against
//! a port of Redis's parser: see `tandem_resp::fuzzing::check_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_resp::fuzzing::check_request(data));
