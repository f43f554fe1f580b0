//! `include/tandem.h` is what cbindgen generates from this crate with `cbindgen.toml`:
//! the test regenerates it in memory and fails when the checked-in header differs
//! (`TANDEM_BLESS_HEADER=1` writes it instead).

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/tandem.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("crates/tandem-ffi/cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    if std::env::var_os("TANDEM_BLESS_HEADER").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(header.parent().unwrap()).unwrap();
        std::fs::write(&header, &fresh).expect("write include/tandem.h");
        return;
    }
    let current = std::fs::read(&header).unwrap_or_default();
    if current != fresh {
        let first = current
            .split(|&b| b == b'\n')
            .zip(fresh.split(|&b| b == b'\n'))
            .position(|(a, b)| a != b)
            .map_or_else(
                || "at the end".to_string(),
                |i| format!("first at line {}", i + 1),
            );
        panic!(
            "include/tandem.h is stale (differs from what cbindgen generates, {first}).\n\
             Regenerate it with: TANDEM_BLESS_HEADER=1 cargo test -p tandem-ffi --test header"
        );
    }
}
