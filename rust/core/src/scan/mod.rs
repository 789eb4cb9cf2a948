//! Scanning many runs: discovery, then each run's logs through the same forensics as the
//! live API, runs in parallel.

pub mod discover;
pub mod report;
pub mod run;
pub mod series;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

pub use discover::{discover, RunSpec};
pub use report::{RunEvent, RunReport};
pub use run::{scan_run, ScanOptions};

/// Progress of a scan, readable from another thread while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read so far.
    pub bytes: AtomicU64,
    /// Runs finished.
    pub runs: AtomicUsize,
}

/// Scans `runs` on `jobs` threads (0: one per core), reporting progress as it goes; the
/// reports come back in the order of `runs`.
pub fn scan_runs(
    runs: &[RunSpec],
    opts: &ScanOptions,
    jobs: usize,
    progress: &Progress,
) -> crate::Result<Vec<RunReport>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| crate::CoreError::param("jobs", e.to_string()))?;
    Ok(pool.install(|| {
        runs.par_iter()
            .map(|spec| {
                let r = scan_run(spec, opts, &mut |b| {
                    progress.bytes.fetch_add(b, Ordering::Relaxed);
                });
                progress.runs.fetch_add(1, Ordering::Relaxed);
                r
            })
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn parallel_scan_keeps_order_and_counts_bytes() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        let (runs, errors) = discover(&[data]);
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["trl-grpo-healthy", "trl-ppo-v2-basic"]);
        let progress = Progress::default();
        let one = scan_runs(&runs, &ScanOptions::default(), 1, &progress).unwrap();
        let two = scan_runs(&runs, &ScanOptions::default(), 2, &Progress::default()).unwrap();
        assert_eq!(one, two);
        assert_eq!(progress.runs.load(Ordering::Relaxed), 2);
        let total: u64 = one.iter().map(|r| r.bytes).sum();
        assert_eq!(progress.bytes.load(Ordering::Relaxed), total);
        assert!(one
            .iter()
            .all(|r| r.format == "trainer_state" && r.skipped.len() == 2));
    }
}
