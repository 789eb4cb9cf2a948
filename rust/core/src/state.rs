//! Versioned binary snapshots of estimator states (pickle, checkpoints, shipping to workers).
//!
//! Layout: the 4 magic bytes `RLF` + format version, a length-prefixed type tag, then the
//! postcard encoding of the state. The tag makes restoring a `Moments` snapshot into a
//! `QuantileSketch` an error instead of garbage; the version does the same for a state whose
//! layout has changed since it was written (postcard is not self-describing, so a changed
//! layout could otherwise decode into shifted fields). Bump it when a state's layout changes.

use serde::{de::DeserializeOwned, Serialize};

use crate::error::{CoreError, Result};

/// Invariants a restored state must satisfy before it is used: a snapshot that decodes but
/// breaks them (a window of 0, a missing compactor level) is refused instead of panicking
/// on the next update.
pub trait Validate {
    /// `Ok` when the state is one the constructors and updates could have produced.
    fn validate(&self) -> Result<()>;
}

/// Shorthand for a failed invariant.
pub(crate) fn invalid(what: &str) -> CoreError {
    CoreError::State(format!("inconsistent state: {what}"))
}

/// Format 3: the comprehensive layer's step stride (format 2: the length-bias detector's
/// two recent horizons, the KL tracker's held band).
const MAGIC: &[u8; 4] = b"RLF3";

/// Serializes `value` with its type `tag`.
pub fn to_bytes<T: Serialize>(tag: &str, value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(MAGIC);
    out.push(u8::try_from(tag.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&tag.as_bytes()[..tag.len().min(255)]);
    // Encoding plain structs of numbers and vectors into a Vec cannot fail.
    match postcard::to_extend(value, out) {
        Ok(v) => v,
        Err(e) => unreachable!("postcard encoding into a Vec failed: {e}"),
    }
}

/// Restores a state written by [`to_bytes`] with the same `tag`.
pub fn from_bytes<T: DeserializeOwned + Validate>(tag: &str, bytes: &[u8]) -> Result<T> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| match bytes {
            [b'R', b'L', b'F', v, ..] => CoreError::State(format!(
                "state of format {}, written by another rlforensics version; this one reads \
             format {} (restore it with the version that wrote it)",
                char::from(*v),
                char::from(MAGIC[3])
            )),
            _ => CoreError::State("not an rlforensics state (bad magic)".into()),
        })?;
    let (&len, rest) = rest
        .split_first()
        .ok_or_else(|| CoreError::State("truncated header".into()))?;
    let len = usize::from(len);
    if rest.len() < len {
        return Err(CoreError::State("truncated header".into()));
    }
    let (found, payload) = rest.split_at(len);
    if found != tag.as_bytes() {
        return Err(CoreError::State(format!(
            "state is a {:?}, expected {tag:?}",
            String::from_utf8_lossy(found)
        )));
    }
    let value: T = postcard::from_bytes(payload).map_err(|e| CoreError::State(e.to_string()))?;
    value.validate()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Validate for (u64, f64, Vec<f64>) {
        fn validate(&self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn round_trip_and_tag_check() {
        let v: (u64, f64, Vec<f64>) = (3, f64::NAN, vec![1.0, f64::INFINITY, -0.0]);
        let b = to_bytes("T", &v);
        let back: (u64, f64, Vec<f64>) = from_bytes("T", &b).unwrap();
        assert_eq!(back.0, 3);
        assert!(back.1.is_nan());
        assert_eq!(back.2[1], f64::INFINITY);
        assert!(back.2[2].is_sign_negative());
        assert!(from_bytes::<(u64, f64, Vec<f64>)>("U", &b).is_err());
        assert!(from_bytes::<(u64, f64, Vec<f64>)>("T", &b[..3]).is_err());
        assert!(from_bytes::<(u64, f64, Vec<f64>)>("T", &b[..b.len() - 1]).is_err());
    }

    #[test]
    fn a_state_of_another_format_is_refused_by_name() {
        let v: (u64, f64, Vec<f64>) = (1, 2.0, vec![]);
        let mut b = to_bytes("T", &v);
        b[3] = b'2';
        let err = from_bytes::<(u64, f64, Vec<f64>)>("T", &b)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("format 2") && err.contains("reads format 3"),
            "{err}"
        );
        let err = from_bytes::<(u64, f64, Vec<f64>)>("T", b"PK\x03\x04")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an rlforensics state"), "{err}");
    }
}
