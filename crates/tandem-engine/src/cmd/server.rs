//! The server commands.

use crate::command::CommandSpec;
use crate::error::{CmdError, CmdResult};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[];

/// CLIENT SETNAME / HELLO SETNAME: no spaces, newlines or other non-printable bytes.
pub(crate) fn validate_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::fixed(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}
