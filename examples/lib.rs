//! Example programs that embed tandem; the code is in the `[[example]]` targets
//! (`embed.rs`, `replica_of_redis.rs`), with C programs in `c/` and Python ones in
//! `python/`. This library is empty: it only gives the package a target.
