//! Command errors: the exact texts Redis replies with.

use std::borrow::Cow;

/// Why a command failed. The text is the whole error reply without the leading `-`,
/// starting with its code (`ERR`, `WRONGTYPE`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

/// What a command handler returns; on `Err` the engine discards whatever the handler
/// had written and replies with the error.
pub type CmdResult = Result<(), CmdError>;

impl CmdError {
    /// An error with a fixed text.
    pub const fn fixed(text: &'static str) -> Self {
        CmdError(Cow::Borrowed(text))
    }
    /// An error with a built text.
    pub fn msg(text: impl Into<String>) -> Self {
        CmdError(Cow::Owned(text.into()))
    }
    /// The reply text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CmdError {}

/// `-WRONGTYPE`
pub const WRONGTYPE: CmdError =
    CmdError::fixed("WRONGTYPE Operation against a key holding the wrong kind of value");
/// `-ERR syntax error`
pub const SYNTAX: CmdError = CmdError::fixed("ERR syntax error");
/// Not an integer.
pub const NOT_INTEGER: CmdError = CmdError::fixed("ERR value is not an integer or out of range");
/// Not a float.
pub const NOT_FLOAT: CmdError = CmdError::fixed("ERR value is not a valid float");
/// INCR and friends overflowing.
pub const OVERFLOW: CmdError = CmdError::fixed("ERR increment or decrement would overflow");
/// Bad DB number.
pub const DB_RANGE: CmdError = CmdError::fixed("ERR DB index is out of range");
/// No such key (RENAME and others).
pub const NO_SUCH_KEY: CmdError = CmdError::fixed("ERR no such key");
/// Index out of range (LSET).
pub const INDEX_RANGE: CmdError = CmdError::fixed("ERR index out of range");
/// Negative or zero count where positive is required.
pub const POSITIVE: CmdError = CmdError::fixed("ERR value is out of range, must be positive");
/// Timeouts of blocking commands.
pub const TIMEOUT_FLOAT: CmdError = CmdError::fixed("ERR timeout is not a float or out of range");
/// Negative timeouts of blocking commands.
pub const TIMEOUT_NEGATIVE: CmdError = CmdError::fixed("ERR timeout is negative");
/// Bad expire time.
pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::msg(format!("ERR invalid expire time in '{cmd}' command"))
}
/// `-ERR wrong number of arguments for '<cmd>' command`
pub fn wrong_arity(cmd: &str) -> CmdError {
    CmdError::msg(format!("ERR wrong number of arguments for '{cmd}' command"))
}
/// `-ERR unknown subcommand '<sub>'. Try <CMD> HELP.` (`<sub>` cut at 128 bytes, as Redis).
pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        cmd.to_ascii_uppercase()
    ))
}
