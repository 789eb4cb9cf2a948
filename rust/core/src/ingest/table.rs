//! One run's rows as columns: a step column, one column per key (NaN where a row did not
//! log the key, with a presence mask that tells "not logged" from a logged NaN), built row
//! by row by the readers.
//!
//! Steps are kept strictly increasing: a row whose step is not after the previous one is a
//! resume that recomputed those steps (transformers after a restart from a checkpoint, or a
//! log appended across restarts), so the rows from that step on are replaced by the new
//! ones and counted (the latest run's entry wins, as `trainer_state.json` semantics want).

use super::fxhash::FxHashMap;

/// Columns of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    names: Vec<String>,
    index: FxHashMap<String, usize>,
    steps: Vec<f64>,
    columns: Vec<Vec<f64>>,
    present: Vec<Vec<bool>>,
    replaced: u64,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Column names, in order of first appearance.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The steps, strictly increasing.
    pub fn steps(&self) -> &[f64] {
        &self.steps
    }

    /// Column `i`'s values (NaN where not logged; see [`Table::present`]).
    pub fn column(&self, i: usize) -> &[f64] {
        &self.columns[i]
    }

    /// Column `i`'s presence mask.
    pub fn present(&self, i: usize) -> &[bool] {
        &self.present[i]
    }

    /// The position of column `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Row `r`'s value of column `i`: `None` when the row did not log it.
    pub fn get(&self, i: usize, r: usize) -> Option<f64> {
        self.present[i][r].then(|| self.columns[i][r])
    }

    /// Rows dropped because a later row re-logged their step.
    pub fn replaced_rows(&self) -> u64 {
        self.replaced
    }

    /// The id of column `name`, adding it (absent from every earlier row) if new.
    pub fn column_id(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.columns.push(vec![f64::NAN; self.steps.len()]);
        self.present.push(vec![false; self.steps.len()]);
        i
    }

    /// Appends a row at `step` with `values` as (column id, value) pairs (a later pair for
    /// the same column wins).
    pub fn push_row(&mut self, step: f64, values: &[(usize, f64)]) {
        if let Some(&last) = self.steps.last() {
            // NaN steps never reach here (the readers report them), so the comparison is
            // total for what is stored.
            if step <= last {
                let cut = self.steps.partition_point(|&s| s < step);
                self.replaced += (self.steps.len() - cut) as u64;
                self.steps.truncate(cut);
                for (c, p) in self.columns.iter_mut().zip(&mut self.present) {
                    c.truncate(cut);
                    p.truncate(cut);
                }
            }
        }
        self.steps.push(step);
        for (c, p) in self.columns.iter_mut().zip(&mut self.present) {
            c.push(f64::NAN);
            p.push(false);
        }
        for &(i, v) in values {
            *self.columns[i].last_mut().expect("row just pushed") = v;
            *self.present[i].last_mut().expect("row just pushed") = true;
        }
    }

    /// Whether column `i` holds at least one logged value.
    pub fn has_values(&self, i: usize) -> bool {
        self.present[i].iter().any(|&p| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_grow_with_keys_and_resumes_replace_steps() {
        let mut t = Table::new();
        let kl = t.column_id("kl");
        t.push_row(1.0, &[(kl, 0.1)]);
        let gn = t.column_id("grad_norm");
        t.push_row(2.0, &[(kl, f64::NAN), (gn, 1.0)]);
        t.push_row(3.0, &[(gn, 2.0)]);
        assert_eq!(t.names(), ["kl", "grad_norm"]);
        assert_eq!(t.get(kl, 0), Some(0.1));
        assert!(t.get(kl, 1).unwrap().is_nan(), "a logged NaN is kept");
        assert_eq!(t.get(kl, 2), None, "not logged is not NaN");
        assert_eq!(t.get(gn, 0), None);
        // A resume from step 2 recomputes steps 2 and 3.
        t.push_row(2.0, &[(kl, 0.5)]);
        assert_eq!(t.steps(), [1.0, 2.0]);
        assert_eq!(t.get(kl, 1), Some(0.5));
        assert_eq!(t.get(gn, 1), None);
        assert_eq!(t.replaced_rows(), 2);
        assert!(
            t.has_values(kl) && !t.has_values(gn),
            "grad_norm was only in replaced rows"
        );
        assert_eq!(t.position("grad_norm"), Some(gn));
    }
}
