//! Frame::decode over arbitrary bytes: prefixes agree with the whole, frames round-trip;
//! see `tandem_resp::fuzzing::check_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tandem_resp::fuzzing::check_frame(data));
