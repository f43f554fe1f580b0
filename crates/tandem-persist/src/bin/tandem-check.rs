//! tandem-check.
fn main() {}
