//! The memory-mapped file loader: the one place in this crate with `unsafe`.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::path::Path;

use memmap2::Mmap;

/// Maps a whole file read-only, for [`crate::rdb::read_slice`] and the AOF reader.
/// An empty file maps to an empty slice.
///
/// # Safety
///
/// The caller must ensure that no process modifies or truncates the file while the map
/// is alive: a change shows through the slice (breaking Rust's immutability promise) and
/// a truncation turns reads past the new end into `SIGBUS`. tandem maps only files it
/// owns and does not write while it reads them (RDB at start-up, AOF before appending).
pub unsafe fn map_file(path: &Path) -> io::Result<Mmap> {
    let file = File::open(path)?;
    // SAFETY: the caller promises (see `# Safety`) that the file is neither written nor
    // truncated while the map lives; the map is read-only and memmap2 handles length 0.
    let map = unsafe { Mmap::map(&file)? };
    #[cfg(unix)]
    {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(map)
}
