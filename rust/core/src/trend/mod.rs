//! Trends: rolling least squares against the logged step, and robust whole-sample trends.

mod robust;
mod rolling_ols;

pub use robust::{mann_kendall, theil_sen, MannKendall, TheilSen};
pub use rolling_ols::{rolling_trend_batch, RollingTrend, TrendFit};
