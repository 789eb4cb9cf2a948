//! The output columns of the batch paths: one column per metric, one value per row, written
//! into buffers the caller provides (the Python binding hands in NumPy's, which come in huge
//! pages: faulting in a fresh `Vec` per column, 4 KB at a time, cost about as much as a
//! tracker's own work per row), or into vectors allocated here.

use crate::error::{check_same_len, Result};

/// Checks that `out` holds `k` columns of `n` values each.
pub(crate) fn check_columns(out: &[&mut [f64]], k: usize, n: usize) -> Result<()> {
    check_same_len("metric columns and output columns", k, out.len())?;
    for col in out {
        check_same_len("rows and output column length", n, col.len())?;
    }
    Ok(())
}

/// Writes `row` as row `i` of the columns.
#[inline]
pub(crate) fn write_row<const K: usize>(out: &mut [&mut [f64]], i: usize, row: [f64; K]) {
    for (col, v) in out.iter_mut().zip(row) {
        col[i] = v;
    }
}

/// Runs a batch that fills `k` columns of `n` rows into vectors allocated here.
pub(crate) fn collect_columns(
    k: usize,
    n: usize,
    fill: impl FnOnce(&mut [&mut [f64]]) -> Result<()>,
) -> Result<Vec<Vec<f64>>> {
    let mut cols: Vec<Vec<f64>> = (0..k).map(|_| vec![0.0; n]).collect();
    let mut out: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    fill(&mut out)?;
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use crate::forensics::kl_schedule::{
        kl_schedule_batch, kl_schedule_batch_into, KlScheduleConfig, KlScheduleTracker,
        KL_NUMERIC_FIELDS,
    };

    #[test]
    fn columns_must_match_the_fields_and_rows_and_nothing_is_fed_otherwise() {
        let steps = [0.0, 1.0, 2.0];
        let kl = [0.1, 0.12, 0.09];
        let mut t = KlScheduleTracker::new(KlScheduleConfig::default()).unwrap();
        let k = KL_NUMERIC_FIELDS.len();
        let mut short = vec![vec![0.0; 2]; k];
        let mut out: Vec<&mut [f64]> = short.iter_mut().map(|c| c.as_mut_slice()).collect();
        assert!(kl_schedule_batch_into(&mut t, &steps, &kl, None, &mut out).is_err());
        let mut few = vec![vec![0.0; 3]; k - 1];
        let mut out: Vec<&mut [f64]> = few.iter_mut().map(|c| c.as_mut_slice()).collect();
        assert!(kl_schedule_batch_into(&mut t, &steps, &kl, None, &mut out).is_err());
        assert_eq!(t.updates(), 0);
        // Written in place, the columns are those the allocating batch returns.
        let mut fresh = KlScheduleTracker::new(KlScheduleConfig::default()).unwrap();
        let want = kl_schedule_batch(&mut fresh, &steps, &kl, None).unwrap();
        let mut cols = vec![vec![f64::NAN; 3]; k];
        let mut out: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
        kl_schedule_batch_into(&mut t, &steps, &kl, None, &mut out).unwrap();
        let bits = |c: &[Vec<f64>]| -> Vec<Vec<u64>> {
            c.iter()
                .map(|c| c.iter().map(|v| v.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&cols), bits(&want));
        // The same state (compared as bytes: missing coefficients are NaN, never `==`).
        assert_eq!(
            postcard::to_stdvec(&t).unwrap(),
            postcard::to_stdvec(&fresh).unwrap()
        );
    }
}
