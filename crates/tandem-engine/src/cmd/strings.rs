//! The string commands.

use tandem_keyspace::{Ttl, Value, ValueRef};

use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdResult, WRONGTYPE};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: get,
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, 1, 1),
        run: set,
    },
];

fn get(c: &mut Call<'_, '_>) -> CmdResult {
    match c.ks.get(c.db, c.argv[1]) {
        None => c.out.null(),
        Some(ValueRef::Str(s)) => c.out.bulk(s),
        Some(_) => return Err(WRONGTYPE),
    }
    Ok(())
}

fn set(c: &mut Call<'_, '_>) -> CmdResult {
    c.ks.set(c.db, c.argv[1], Value::Str(c.argv[2].to_vec()), Ttl::Clear);
    c.changed(1);
    c.out.ok();
    Ok(())
}
