//! The pubsub commands.

use crate::call::Call;
use crate::command::CommandSpec;

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[];

/// Drops every subscription of the session (RESET, connection end).
pub(crate) fn unsubscribe_all(c: &mut Call<'_, '_>) {
    let id = c.sess.handle.id;
    for ch in std::mem::take(&mut c.sess.channels) {
        c.engine.pubsub.unsubscribe(&ch, id);
    }
    for p in std::mem::take(&mut c.sess.patterns) {
        c.engine.pubsub.punsubscribe(&p, id);
    }
    c.sess
        .handle
        .sub_count
        .store(0, std::sync::atomic::Ordering::Relaxed);
}
