//! Distribution drift between a reference sample and a current window.

mod detector;
mod histogram_kl;
mod ks;
mod ranked;

pub use detector::DriftDetector;
pub use histogram_kl::{default_bins, histogram_kl, HistogramKl};
pub use ks::{ks_2samp, ks_2samp_sorted, KsTest};
