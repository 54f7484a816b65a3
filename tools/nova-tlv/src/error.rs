// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The tool's errors and the exit status each maps to.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::chips::DEBIAN_PACKAGE;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: bad, missing or inconsistent input, or an I/O failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status: bad command line (unknown command, option or chip).
pub const EXIT_USAGE: i32 = 2;

/// A failure of the tool.
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong; the text says how.
    Usage(String),
    /// An input file is missing.
    MissingInput {
        /// The file looked for.
        path: PathBuf,
        /// The output it is needed for.
        needed_for: String,
        /// The GSP-RM version looked for.
        version: String,
        /// Whether `path` is a symbolic link to nothing.
        dangling: bool,
    },
    /// An input file is malformed or inconsistent.
    BadInput {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// An I/O operation failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The output cannot be written as planned; the text says why.
    BadOutput {
        /// The output file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Some of the files given to `verify` failed (each was reported already).
    VerifyFailed {
        /// How many failed.
        failed: usize,
        /// How many were checked.
        total: usize,
    },
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// An I/O error on `path` while doing `action`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(why) => write!(f, "{why} (see nova-tlv --help)"),
            Self::MissingInput {
                path,
                needed_for,
                version,
                dangling,
            } => {
                write!(
                f,
                "missing input file {}{} (needed for {needed_for}): install the Debian package \
                 {DEBIAN_PACKAGE}, which ships NVIDIA's GSP-RM {version} firmware files",
                path.display(),
                if *dangling { " (a dangling symlink)" } else { "" },
            )
            }
            Self::BadInput { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::BadOutput { path, reason } => {
                write!(f, "cannot write {}: {reason}", path.display())
            }
            Self::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Self::VerifyFailed { failed, total } => {
                write!(f, "{failed} of {total} file(s) failed verification")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
