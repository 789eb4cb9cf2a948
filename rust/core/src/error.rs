//! The one error type of the core. The binding maps every variant to a Python `ValueError`.

use std::fmt;

/// Errors raised by constructors and batch kernels of the core.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// A parameter is outside its domain (for example a window of 0).
    InvalidParameter {
        /// Parameter name as the user spells it.
        name: &'static str,
        /// What was wrong, with the offending value.
        message: String,
    },
    /// Two arrays that must align have different lengths.
    LengthMismatch {
        /// What the arrays are.
        what: &'static str,
        /// Left length.
        left: usize,
        /// Right length.
        right: usize,
    },
    /// A serialized state could not be decoded.
    State(String),
}

/// Result alias used throughout the core.
pub type Result<T> = std::result::Result<T, CoreError>;

impl CoreError {
    /// Shorthand for [`CoreError::InvalidParameter`].
    pub fn param(name: &'static str, message: impl Into<String>) -> Self {
        CoreError::InvalidParameter {
            name,
            message: message.into(),
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::InvalidParameter { name, message } => write!(f, "{name}: {message}"),
            CoreError::LengthMismatch { what, left, right } => {
                write!(f, "{what} must have equal lengths, got {left} and {right}")
            }
            CoreError::State(msg) => write!(f, "cannot restore state: {msg}"),
        }
    }
}

impl std::error::Error for CoreError {}

/// Validates a window length: at least 1.
pub(crate) fn check_window(window: usize) -> Result<()> {
    if window == 0 {
        return Err(CoreError::param("window", "must be at least 1, got 0"));
    }
    Ok(())
}

/// Validates `min_periods` against the window, defaulting to the full window.
pub(crate) fn resolve_min_periods(window: usize, min_periods: Option<usize>) -> Result<usize> {
    check_window(window)?;
    match min_periods {
        None => Ok(window),
        Some(0) => Err(CoreError::param("min_periods", "must be at least 1, got 0")),
        Some(m) if m > window => Err(CoreError::param(
            "min_periods",
            format!("must not exceed window ({window}), got {m}"),
        )),
        Some(m) => Ok(m),
    }
}

/// Validates a significance level in (0, 1).
pub(crate) fn check_alpha(alpha: f64) -> Result<()> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(CoreError::param(
            "alpha",
            format!("must lie in (0, 1), got {alpha}"),
        ))
    }
}

/// Validates that two slices align.
pub(crate) fn check_same_len(what: &'static str, left: usize, right: usize) -> Result<()> {
    if left != right {
        return Err(CoreError::LengthMismatch { what, left, right });
    }
    Ok(())
}
