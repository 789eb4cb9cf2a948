//! KL-controller analysis: how an adaptive KL coefficient keeps the KL near its target.

mod analyzer;
mod bivariate;

pub use analyzer::{
    controller_batch, ControllerAnalyzer, ControllerConfig, ControllerKind, ControllerReport,
};
pub(crate) use bivariate::{centred_sums, pearson};
pub use bivariate::{correlation, Bivariate};
