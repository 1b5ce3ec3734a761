//! Why a sliced file could not be read.

/// A file that cannot be read at all. Smaller problems (a bad thumbnail, a checksum mismatch
/// in one block) end up in [`super::SliceInfo::warnings`] instead.
#[derive(Debug, thiserror::Error)]
pub enum SliceError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not a G-code, .bgcode or 3MF file")]
    UnknownFormat,
    #[error("the file ends too early: {0}")]
    Truncated(String),
    #[error("not a valid {format} file: {reason}")]
    Invalid {
        format: &'static str,
        reason: String,
    },
    #[error("unsupported {format} version {version}")]
    UnsupportedVersion { format: &'static str, version: u32 },
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },
    #[error("{what} inflates to more than it declares ({declared} bytes): possible zip bomb")]
    SizeMismatch { what: String, declared: u64 },
}

impl SliceError {
    pub(crate) fn invalid(format: &'static str, reason: impl Into<String>) -> Self {
        SliceError::Invalid {
            format,
            reason: reason.into(),
        }
    }
}
