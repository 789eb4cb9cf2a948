//! Pickle, copy and byte snapshots for every estimator class.
//!
//! `__reduce__` returns `(cls, constructor_args, state_bytes)`: pickle rebuilds the object with
//! its constructor (which validates the parameters) and then `__setstate__` replaces the
//! state by the snapshot, which carries a type tag and a format version
//! (`rlforensics_core::state`).

/// Adds `__reduce__`, `__setstate__`, `to_bytes` and `from_bytes` to a pyclass that wraps a
/// serde core state in a field `inner`. `$args` builds the constructor arguments from `self`.
macro_rules! impl_pickle {
    ($py_ty:ty, $tag:literal, |$s:ident| $args:expr) => {
        #[pyo3::pymethods]
        impl $py_ty {
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(
                pyo3::Bound<'py, pyo3::types::PyType>,
                pyo3::Bound<'py, pyo3::types::PyTuple>,
                pyo3::Bound<'py, pyo3::types::PyBytes>,
            )> {
                use pyo3::types::PyAnyMethods;
                let py = slf.py();
                let $s = slf.borrow();
                let args = pyo3::IntoPyObject::into_pyobject($args, py)?;
                let state = rlforensics_core::state::to_bytes($tag, &$s.inner);
                Ok((slf.get_type(), args, pyo3::types::PyBytes::new(py, &state)))
            }

            fn __setstate__(&mut self, state: &[u8]) -> pyo3::PyResult<()> {
                self.inner = rlforensics_core::state::from_bytes($tag, state)
                    .map_err(crate::errors::to_py)?;
                Ok(())
            }

            /// The state as bytes (versioned); restore with `from_bytes`.
            fn to_bytes<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::Bound<'py, pyo3::types::PyBytes> {
                pyo3::types::PyBytes::new(py, &rlforensics_core::state::to_bytes($tag, &self.inner))
            }

            /// Rebuilds an object from `to_bytes` output.
            #[staticmethod]
            fn from_bytes(data: &[u8]) -> pyo3::PyResult<Self> {
                Ok(Self {
                    inner: rlforensics_core::state::from_bytes($tag, data)
                        .map_err(crate::errors::to_py)?,
                })
            }

            fn __copy__(&self) -> Self {
                Self {
                    inner: self.inner.clone(),
                }
            }

            fn __deepcopy__(&self, _memo: &pyo3::Bound<'_, pyo3::PyAny>) -> Self {
                Self {
                    inner: self.inner.clone(),
                }
            }
        }
    };
}

pub(crate) use impl_pickle;
