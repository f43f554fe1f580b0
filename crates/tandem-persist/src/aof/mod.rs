//! Redis 7 multi-part AOF.
