//! TFRecord checksums for Python-side writers of event files (tests, samples, benchmark
//! corpora): the masked CRC-32C of the core's reader, so that writer and reader agree.

use pyo3::prelude::*;
use rlforensics_core::ingest::crc32c::masked_crc32c as masked;

/// TensorFlow's masked CRC-32C of `data`.
#[pyfunction]
fn masked_crc32c(data: &[u8]) -> u32 {
    masked(data)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(masked_crc32c, m)?)
}
