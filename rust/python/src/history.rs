//! Read-only sequence views of a tracker's retained snapshots (`metrics_history`): indexing
//! builds one metrics object, so asking for the length or the last snapshot of a long run
//! costs nothing.

/// Defines a pyclass `$view` that views `$tracker.$field.history()` as `$metrics` objects.
macro_rules! history_view {
    ($view:ident, $pyname:literal, $tracker:ty, $metrics:ident, $field:ident) => {
        #[doc = concat!("Read-only view of the retained snapshots (", $pyname, ").")]
        #[pyo3::pyclass(module = "rlforensics._core", name = $pyname, sequence)]
        pub struct $view {
            pub tracker: pyo3::Py<$tracker>,
        }

        #[pyo3::pymethods]
        impl $view {
            fn __len__(&self, py: pyo3::Python<'_>) -> usize {
                self.tracker.borrow(py).$field.history().len()
            }

            fn __getitem__<'py>(
                &self,
                py: pyo3::Python<'py>,
                index: &pyo3::Bound<'py, pyo3::PyAny>,
            ) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                use pyo3::types::PyAnyMethods;
                let t = self.tracker.borrow(py);
                let h = t.$field.history();
                let item = |i: usize| $metrics {
                    inner: h[i].clone(),
                };
                if let Ok(s) = index.cast::<pyo3::types::PySlice>() {
                    use pyo3::types::PySliceMethods;
                    let idx = s.indices(h.len() as isize)?;
                    let mut out = Vec::with_capacity(idx.slicelength);
                    let mut i = idx.start;
                    for _ in 0..idx.slicelength {
                        out.push(item(i as usize));
                        i += idx.step;
                    }
                    return Ok(pyo3::types::PyList::new(py, out)?.into_any().unbind());
                }
                let i: isize = index.extract()?;
                let n = h.len() as isize;
                let j = if i < 0 { i + n } else { i };
                if !(0..n).contains(&j) {
                    return Err(pyo3::exceptions::PyIndexError::new_err(
                        "metrics_history index out of range",
                    ));
                }
                Ok(pyo3::Bound::new(py, item(j as usize))?.into_any().unbind())
            }

            fn __repr__(&self, py: pyo3::Python<'_>) -> String {
                format!("<{} of {} snapshots>", $pyname, self.__len__(py))
            }
        }
    };
}

pub(crate) use history_view;
