//! The zsets commands.

use crate::command::CommandSpec;

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[];
