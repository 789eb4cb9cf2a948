//! `rlforensics._core`: the PyO3 binding of `rlforensics-core`.
//!
//! This crate only converts arguments, releases the GIL around batch work and maps errors;
//! every algorithm lives in the core crate. Threading model: estimator objects are ordinary
//! (`&mut self`) pyclasses, so calling into one object from two threads at once raises
//! `RuntimeError: Already borrowed` instead of racing; batch functions hold no object and run
//! with the GIL released.

mod advantage;
mod alias;
mod analyzers;
mod arrays;
mod batch;
mod comprehensive;
mod comprehensive_metrics;
mod convert;
mod errors;
mod estimators;
mod events;
mod gradient;
mod history;
mod kl_schedule;
mod pickling;
mod ppo_scan;
mod rolling;
mod scan;
mod signals;
mod tfrecord;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "build_profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    estimators::register(m)?;
    rolling::register(m)?;
    analyzers::register(m)?;
    batch::register(m)?;
    kl_schedule::register(m)?;
    gradient::register(m)?;
    comprehensive::register(m)?;
    ppo_scan::register(m)?;
    advantage::register(m)?;
    scan::register(m)?;
    signals::register(m)?;
    alias::register(m)?;
    tfrecord::register(m)?;
    Ok(())
}
