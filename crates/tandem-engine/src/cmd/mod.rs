//! Command implementations, one module per family. Each module exports `COMMANDS`, its
//! slice of the command table; [`FAMILIES`] lists them all.
//!
//! Handlers validate all arguments before changing anything, call
//! [`Call::changed`](crate::Call::changed) or [`Call::propagate_as`](crate::Call::propagate_as)
//! when they change data, and write exactly one reply.

use crate::command::CommandSpec;

pub mod connection;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod multi;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod sets;
pub mod strings;
pub mod zsets;

/// Every family's commands.
pub const FAMILIES: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    server::COMMANDS,
    pubsub::COMMANDS,
    replication::COMMANDS,
    persistence::COMMANDS,
    multi::COMMANDS,
    strings::COMMANDS,
    keys::COMMANDS,
    lists::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
];
