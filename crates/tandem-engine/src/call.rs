//! The context a command handler runs in.

use tandem_keyspace::Guard;

use crate::error::{CmdError, CmdResult, NOT_INTEGER};
use crate::reply::Reply;
use crate::session::Session;
use crate::Shared;

/// What the session should do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Carry on reading commands.
    Continue,
    /// Close the connection after writing the reply (QUIT, a killed client).
    Close,
    /// The command blocked; no reply was written.
    Blocked,
    /// The connection asked for PSYNC/SYNC: hand it to
    /// [`Shared::attach_replica`](crate::Shared::attach_replica) with
    /// [`Session::take_sync_request`](crate::Session::take_sync_request).
    Replica,
    /// The server should shut down (SHUTDOWN), saving first if `save`.
    Shutdown {
        /// Whether to save a snapshot before exiting.
        save: bool,
    },
}

/// One command being executed: its arguments, the locked keys, the reply writer and the
/// session. Fields are public so a handler can borrow `ks` and `out` at the same time.
pub struct Call<'c, 'e> {
    /// The arguments, command name first.
    pub argv: &'c [&'c [u8]],
    /// The session's database when the command started.
    pub db: usize,
    /// The shards of the declared keys, locked.
    pub ks: &'c mut Guard<'e>,
    /// Where the reply goes.
    pub out: Reply<'c>,
    /// The client.
    pub sess: &'c mut Session,
    /// Engine state shared by all sessions.
    pub engine: &'e Shared,
    /// Current time, unix ms (the same for the whole command).
    pub now_ms: u64,
    /// Inside EXEC: blocking commands must not block.
    pub in_exec: bool,
    pub(crate) dirty: u64,
    pub(crate) rewritten: Option<Vec<Vec<Vec<u8>>>>,
    pub(crate) ready: Vec<(usize, Box<[u8]>)>,
    pub(crate) flow: Flow,
    pub(crate) repl_only: bool,
}

impl<'c, 'e> Call<'c, 'e> {
    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &'c [u8] {
        self.argv[i]
    }

    /// Number of arguments including the name.
    pub fn argc(&self) -> usize {
        self.argv.len()
    }

    /// Whether argument `i` equals `word`, ignoring ASCII case.
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.argv
            .get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// Argument `i` as an integer, or `ERR value is not an integer or out of range`.
    pub fn int_arg(&self, i: usize) -> Result<i64, CmdError> {
        tandem_resp::parse_i64(self.argv[i]).ok_or(NOT_INTEGER)
    }

    /// Records `n` changes to the data. Unless the handler called
    /// [`Call::propagate_as`], the command is propagated (replicas, AOF) exactly as it
    /// was received.
    pub fn changed(&mut self, n: u64) {
        self.dirty += n;
    }

    /// Propagates `argv` instead of the received command (may be called several times;
    /// the effects are kept in order). Also counts one change.
    pub fn propagate_as<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        self.dirty += 1;
        self.rewritten
            .get_or_insert_with(Vec::new)
            .push(argv.iter().map(|a| a.as_ref().to_vec()).collect());
    }

    /// Sends the command as received to replicas but not to the AOF, without counting
    /// a change to the data (`PUBLISH`, as Redis's `forceCommandPropagation(REPL)`).
    pub fn propagate_to_replicas(&mut self) {
        self.repl_only = true;
    }

    /// The command changed data but must not be propagated at all.
    pub fn propagate_nothing(&mut self) {
        self.rewritten.get_or_insert_with(Vec::new);
    }

    /// Wakes clients blocked on `key` (a list or sorted set that gained elements).
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.engine.blocking.has_waiters() {
            self.ready.push((db, key.into()));
        }
    }

    /// Blocks the client on `keys` until `deadline` (unix ms; `None` = forever). The
    /// command is run again when one of the keys is signalled ready, and answered with
    /// a null array on timeout.
    pub fn block(&mut self, keys: Vec<(usize, Box<[u8]>)>, deadline: Option<u64>) -> CmdResult {
        self.block_on(crate::session::BlockKind::Keys, keys, deadline)
    }

    /// Blocks the client for another reason than keys (WAIT).
    pub fn block_on(
        &mut self,
        kind: crate::session::BlockKind,
        keys: Vec<(usize, Box<[u8]>)>,
        deadline: Option<u64>,
    ) -> CmdResult {
        self.sess.blocked = Some(crate::session::Blocked {
            kind,
            argv: self.argv.iter().map(|a| a.to_vec()).collect(),
            keys,
            deadline,
        });
        self.flow = Flow::Blocked;
        Ok(())
    }

    /// Asks for the connection to be closed after the reply.
    pub fn close(&mut self) {
        self.flow = Flow::Close;
    }

    /// Asks for a server shutdown.
    pub fn shutdown(&mut self, save: bool) {
        self.flow = Flow::Shutdown { save };
    }
}
