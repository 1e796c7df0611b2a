//! The one error type of the engine. Every public function returns [`Result`].
//!
//! Each kind of failure a user can cause has its own variant so that the C ABI
//! (status codes) and Python (exception classes) can map it one to one.

use std::path::PathBuf;

/// Result alias used by every public function of the engine.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in `sora`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be served as asked (bad size, bad value, missing input).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The model folder does not exist or is not a diffusers folder.
    #[error("model folder {path}: {reason}")]
    ModelFolder {
        /// The folder the user passed.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A component named by `model_index.json` (or needed by the family) is absent.
    #[error("model folder {path}: missing component `{component}`")]
    MissingComponent {
        /// The model folder.
        path: PathBuf,
        /// The component's name (e.g. `transformer`).
        component: String,
    },

    /// A JSON config file does not parse or lacks a field.
    #[error("config {path}: {reason}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },

    /// A safetensors file is truncated, corrupt or unreadable.
    #[error("weights file {path} is corrupt or truncated: {reason}")]
    CorruptWeights {
        /// The weights file.
        path: PathBuf,
        /// What the reader found.
        reason: String,
    },

    /// The tensors in a component do not match what the model expects.
    #[error("weights of `{component}` do not match the model: {summary}")]
    WeightMismatch {
        /// The component (folder) whose weights were read.
        component: String,
        /// Tensor names the model needs that the files lack.
        missing: Vec<String>,
        /// Tensor names in the files that the model does not use.
        unexpected: Vec<String>,
        /// `name: expected [..], found [..]` lines.
        mismatched: Vec<String>,
        /// A short human summary naming the first problems.
        summary: String,
    },

    /// `model_index.json` names a pipeline class no family here implements.
    #[error("unknown model family: `{class}` (supported: {supported})")]
    UnknownFamily {
        /// The `_class_name` found.
        class: String,
        /// The classes this build supports.
        supported: String,
    },

    /// Something this build does not do (yet); never replaced by fake output.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// The run was cancelled through its token (or Ctrl-C).
    #[error("cancelled")]
    Cancelled,

    /// A device (e.g. CUDA) is unavailable or failed.
    #[error("device error: {0}")]
    Device(String),

    /// Reading or writing media (images, audio, MP4) failed.
    #[error("media {path}: {reason}")]
    Media {
        /// The media file or folder.
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A numeric problem (NaN/inf) was found in a tensor or an input.
    #[error("numeric error: {0}")]
    Numeric(String),

    /// The request would not fit in memory: refused before anything is
    /// allocated (the estimate of `sora_core::estimate` against the budget).
    #[error(
        "out of memory: the request needs about {needed_mb} MiB but the memory budget is {budget_mb} MiB ({largest_part})"
    )]
    OutOfMemory {
        /// Estimated need in MiB.
        needed_mb: u64,
        /// Budget in MiB.
        budget_mb: u64,
        /// The phase of the peak and its largest part, e.g.
        /// `peak while decoding; largest part: VAE decode (812.0 MiB)`.
        largest_part: String,
    },

    /// A consent registry / protected-list file does not parse or breaks a
    /// rule of its format (docs/safety.md).
    #[error("safety registry {path}: {reason}")]
    Registry {
        /// The registry file (or a placeholder for one built in code).
        path: PathBuf,
        /// What is wrong and where (e.g. `people[2].consents[0].expires: …`).
        reason: String,
    },

    /// The prompt (or a face the identity check recognised) names a
    /// registered real person, and the request carries no valid consent of
    /// theirs for this pipeline (see `sora_core::safety`).
    #[error("consent required for `{who}` (matched `{alias}` in \"{normalized}\"): {reason}")]
    ConsentRequired {
        /// The person's shown name in the registry.
        who: String,
        /// The registered name or alias that matched.
        alias: String,
        /// The normalised prompt (or where the identity check looked).
        normalized: String,
        /// Why no consent applies (none given, expired, revoked, other owner, …).
        reason: String,
    },

    /// The prompt names a protected character (a rights holder's opt-out).
    #[error(
        "protected content: the prompt names `{entry}` (matched `{alias}` in \"{normalized}\")"
    )]
    ProtectedContent {
        /// The entry's shown name in the protected list.
        entry: String,
        /// The registered name or alias that matched.
        alias: String,
        /// The normalised prompt.
        normalized: String,
    },

    /// An error reported by LibTorch. Displayed without LibTorch's C++
    /// backtrace (the `Debug` form keeps it).
    #[error("libtorch: {}", torch_message(.0))]
    Torch(#[from] tch::TchError),
}

/// LibTorch's message up to its C++ backtrace ("Exception raised from …",
/// then one line per frame), which says nothing to a user.
fn torch_message(e: &tch::TchError) -> String {
    let full = e.to_string();
    let cut = full
        .find("\nException raised from")
        .or_else(|| full.find("\nframe #0"))
        .unwrap_or(full.len());
    full[..cut].trim_end().to_string()
}

impl Error {
    /// Shorthand for [`Error::InvalidRequest`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidRequest(msg.into())
    }

    /// Shorthand for an [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`Error::Media`] on `path`.
    pub fn media(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Media {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// A stable, short name for the variant (used by the C and Python layers).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidRequest(_) | Error::Registry { .. } => ErrorKind::InvalidRequest,
            Error::ModelFolder { .. }
            | Error::MissingComponent { .. }
            | Error::Config { .. }
            | Error::CorruptWeights { .. }
            | Error::WeightMismatch { .. }
            | Error::UnknownFamily { .. } => ErrorKind::Weights,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Device(_) | Error::OutOfMemory { .. } => ErrorKind::Device,
            Error::Media { .. } | Error::Io { .. } => ErrorKind::Io,
            Error::Numeric(_) | Error::Torch(_) => ErrorKind::Runtime,
            Error::ConsentRequired { .. } => ErrorKind::ConsentRequired,
            Error::ProtectedContent { .. } => ErrorKind::ProtectedContent,
        }
    }
}

/// Coarse classes of [`Error`], one per C status code and Python exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad request or argument.
    InvalidRequest,
    /// Model folder, config or weights problem.
    Weights,
    /// Not implemented in this build.
    Unsupported,
    /// Cancelled by the caller.
    Cancelled,
    /// Device or memory problem.
    Device,
    /// File or media problem.
    Io,
    /// Anything else raised while running.
    Runtime,
    /// Refused by the prompt gate: a registered person without a valid consent.
    ConsentRequired,
    /// Refused by the prompt gate: a protected character.
    ProtectedContent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torch_errors_are_shown_without_the_cpp_backtrace() {
        let e = Error::from(tch::TchError::Torch(
            "expected scalar type BFloat16 but found Float\nException raised from check_type at x.cpp:12 (most recent call first):\nframe #0: c10::Error::Error()".into(),
        ));
        assert_eq!(
            e.to_string(),
            "libtorch: Internal torch error: expected scalar type BFloat16 but found Float"
        );
        let plain = Error::from(tch::TchError::Torch("shape mismatch".into()));
        assert_eq!(
            plain.to_string(),
            "libtorch: Internal torch error: shape mismatch"
        );
    }
}
