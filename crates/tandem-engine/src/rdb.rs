//! Glue between snapshots / the keyspace and the RDB codec of tandem-persist.
