//! Read-only sequence views of a tracker's retained snapshots (`metrics_history`): indexing
//! builds one metrics object, so asking for the length or the last snapshot of a long run
//! costs nothing.

/// A metrics object made from a snapshot that a history holds (shared, so that the
/// comprehensive layer's snapshots and the trackers' histories store each step once).
pub(crate) trait FromSnapshot<M> {
    fn from_snapshot(m: &std::sync::Arc<M>) -> Self;
}

/// The trackers' metrics objects hold their metrics by value: a copy of the snapshot.
macro_rules! copied_from_snapshot {
    ($($py:ty => $metrics:ty),* $(,)?) => {$(
        impl FromSnapshot<$metrics> for $py {
            fn from_snapshot(m: &std::sync::Arc<$metrics>) -> Self {
                Self { inner: (**m).clone() }
            }
        }
    )*};
}

copied_from_snapshot!(
    crate::kl_schedule::PyKlMetrics => rlforensics_core::forensics::kl_schedule::KlScheduleMetrics,
    crate::gradient::PyGradMetrics => rlforensics_core::forensics::gradient::GradientMetrics,
    crate::advantage::PyAdvMetrics => rlforensics_core::forensics::advantage::AdvantageMetrics,
);

impl FromSnapshot<rlforensics_core::forensics::comprehensive::ComprehensiveMetrics>
    for crate::comprehensive_metrics::PyCompMetrics
{
    fn from_snapshot(
        m: &std::sync::Arc<rlforensics_core::forensics::comprehensive::ComprehensiveMetrics>,
    ) -> Self {
        Self {
            inner: std::sync::Arc::clone(m),
        }
    }
}

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
                let item =
                    |i: usize| <$metrics as crate::history::FromSnapshot<_>>::from_snapshot(&h[i]);
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

/// The methods every tracker class shares: `get_anomalies`, `current_metrics`,
/// `metrics_history`, `total_updates` and `dropped_events`, over a core tracker in `inner`
/// with `events()`, `metrics()` and `updates()`.
macro_rules! tracker_methods {
    ($tracker:ty, $metrics:ident, $view:ident) => {
        #[pyo3::pymethods]
        impl $tracker {
            /// Anomaly events in order of onset (all of them, or only the open ones).
            #[pyo3(signature = (active_only = false))]
            fn get_anomalies<'py>(
                &self,
                py: pyo3::Python<'py>,
                active_only: bool,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyList>> {
                crate::events::event_list(py, self.inner.events(), active_only, None, |_| true)
            }

            /// The latest snapshot.
            #[getter]
            fn current_metrics(&self) -> $metrics {
                $metrics {
                    inner: self.inner.metrics().clone(),
                }
            }

            /// The retained snapshots, oldest first (a read-only view; at most
            /// `history_size`).
            #[getter]
            fn metrics_history(slf: pyo3::Bound<'_, Self>) -> $view {
                $view {
                    tracker: slf.unbind(),
                }
            }

            /// Updates seen.
            #[getter]
            fn total_updates(&self) -> u64 {
                self.inner.updates()
            }

            /// Events dropped because more than `max_events` were stored.
            #[getter]
            fn dropped_events(&self) -> u64 {
                self.inner.events().dropped()
            }
        }
    };
}

pub(crate) use tracker_methods;
