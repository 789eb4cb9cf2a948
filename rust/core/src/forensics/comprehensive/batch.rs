//! The batch path: columns in, each row's scalar metrics out, with every result (events,
//! histories, final state) as row-by-row [`ComprehensiveForensics::update`] calls give.
//!
//! The three trackers do not read each other, and the layer reads only their latest score
//! parts and, for the rows its history keeps, their snapshots. So the rows go in chunks,
//! two threads side by side: while the trackers go over one chunk, recording per row what
//! the layer will read, the layer goes over the chunk before it. Each tracker, and the
//! layer, still sees its rows in order and does exactly what a per-step update does, so
//! nothing depends on the thread count.

use std::ops::Range;
use std::sync::Arc;

use super::metrics::StepInput;
use super::parts::{Part, ScoreParts, Snapshots};
use super::{ComprehensiveForensics, Layer, StepColumns, COMPREHENSIVE_NUMERIC_FIELDS};
use crate::error::Result;
use crate::forensics::advantage::AdvantageTracker;
use crate::forensics::columns::{check_columns, collect_columns, write_row};
use crate::forensics::gradient::GradientAnalyzer;
use crate::forensics::kl_schedule::KlScheduleTracker;

/// Rows per chunk: large enough that handing a chunk to a thread costs nothing per row,
/// small enough that the per-row records stay in cache (about 1 MB per tracker).
pub(super) const CHUNK: usize = 16_384;

/// What the layer reads of one tracker at one row: its score parts, and its snapshot when
/// it was updated at that row and the layer's history keeps the row.
type Row<T> = (<T as Part>::Parts, Option<Arc<<T as Part>::Metrics>>);

/// Feeds the columns row by row (as [`ComprehensiveForensics::update`]) and returns each
/// row's scalar metrics as columns in the order of [`COMPREHENSIVE_NUMERIC_FIELDS`].
pub fn comprehensive_batch(
    forensics: &mut ComprehensiveForensics,
    cols: &StepColumns<'_>,
) -> Result<Vec<Vec<f64>>> {
    collect_columns(
        COMPREHENSIVE_NUMERIC_FIELDS.len(),
        cols.steps.len(),
        |out| comprehensive_batch_into(forensics, cols, out),
    )
}

/// [`comprehensive_batch`] writing into `out`: one column per field of
/// [`COMPREHENSIVE_NUMERIC_FIELDS`], each as long as `cols.steps`. Nothing is fed on a
/// length mismatch.
pub fn comprehensive_batch_into(
    forensics: &mut ComprehensiveForensics,
    cols: &StepColumns<'_>,
    out: &mut [&mut [f64]],
) -> Result<()> {
    cols.check()?;
    let n = cols.steps.len();
    check_columns(out, COMPREHENSIVE_NUMERIC_FIELDS.len(), n)?;
    let (mut kl, mut gradient, mut advantage, layer) = forensics.parts_mut();
    let layer_cap = layer.config().history_size;
    // Event messages are replaced at every step their condition holds: only the last one
    // of each event is seen, so those that can be are written once, when the batch ends.
    if let Some(k) = kl.as_deref_mut() {
        k.set_deferred_messages(true);
    }
    // Chunk k's tracker records are filled while the layer works through chunk k − 1's:
    // one thread runs the KL tracker and the advantage tracker over chunk k, the other the
    // layer over chunk k − 1 and then the gradient analyzer over chunk k.
    let mut next = Records::default();
    let mut ready = Records::default();
    // The flat index of the next response record the layer reads.
    let mut next_record = 0usize;
    let chunks = (0..n).step_by(CHUNK).map(|s| s..(s + CHUNK).min(n));
    for rows in chunks.map(Some).chain(std::iter::once(None)) {
        next.rows = rows.clone().unwrap_or(n..n);
        next.inputs.extend(next.rows.clone().map(|i| cols.row(i)));
        let Records {
            rows: chunk,
            inputs,
            kl: kl_next,
            gradient: g_next,
            advantage: a_next,
        } = &mut next;
        let (chunk, inputs) = (chunk.clone(), &*inputs);
        let first_side = || {
            if let Some(k) = kl.as_deref_mut() {
                run_part(k, inputs, chunk.start, n, layer_cap, kl_next);
            }
            if let Some(a) = advantage.as_deref_mut() {
                run_part(a, inputs, chunk.start, n, layer_cap, a_next);
            }
        };
        let second_side = || {
            if !ready.rows.is_empty() {
                next_record = run_layer(layer, cols, next_record, layer_cap, &mut ready, out);
            }
            if let Some(g) = gradient.as_deref_mut() {
                run_part(g, inputs, chunk.start, n, layer_cap, g_next);
            }
        };
        rayon::join(first_side, second_side);
        std::mem::swap(&mut next, &mut ready);
    }
    if let Some(k) = kl {
        k.set_deferred_messages(false);
    }
    Ok(())
}

/// One chunk: its rows, their inputs, and per row what each tracker recorded for the
/// layer (empty for a disabled one).
struct Records {
    rows: Range<usize>,
    inputs: Vec<StepInput>,
    kl: Vec<Row<KlScheduleTracker>>,
    gradient: Vec<Row<GradientAnalyzer>>,
    advantage: Vec<Row<AdvantageTracker>>,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            rows: 0..0,
            inputs: Vec::new(),
            kl: Vec::new(),
            gradient: Vec::new(),
            advantage: Vec::new(),
        }
    }
}

/// Runs one tracker over a chunk's `inputs` (rows from `first_row` on, of `n`), recording
/// per row what the layer reads.
fn run_part<T: Part>(
    t: &mut T,
    inputs: &[StepInput],
    first_row: usize,
    n: usize,
    layer_cap: usize,
    out: &mut Vec<Row<T>>,
) {
    for (k, input) in inputs.iter().enumerate() {
        let remaining = n - (first_row + k);
        let layer_keeps = remaining <= layer_cap;
        t.keep_for_remaining(remaining, layer_keeps);
        let updated = t.step(input).is_some();
        let snap = (updated && layer_keeps).then(|| t.snapshot());
        out.push((t.score_parts(), snap));
    }
}

/// The layer's part of the updates of the chunk `records` holds, from the trackers'
/// records of it (drained), with the response records from flat index `first_record` on;
/// returns the index after the last one read.
fn run_layer(
    layer: &mut Layer,
    cols: &StepColumns<'_>,
    first_record: usize,
    layer_cap: usize,
    records: &mut Records,
    out: &mut [&mut [f64]],
) -> usize {
    let n = cols.steps.len();
    let rows = records.rows.clone();
    // A tracker that is on recorded every row of the chunk; one that is off, none.
    debug_assert!([
        records.kl.len(),
        records.gradient.len(),
        records.advantage.len()
    ]
    .iter()
    .all(|&k| k == 0 || k == rows.len()));
    let starts = cols.response_starts(rows.clone(), first_record);
    let mut responses = Vec::new();
    let mut kl_it = records.kl.drain(..);
    let mut g_it = records.gradient.drain(..);
    let mut a_it = records.advantage.drain(..);
    for (k, (i, input)) in rows.zip(records.inputs.drain(..)).enumerate() {
        layer.set_history_recording(n - i <= layer_cap);
        let (kp, ks) = kl_it.next().unwrap_or_default();
        let (gp, gs) = g_it.next().unwrap_or_default();
        let (ap, as_) = a_it.next().unwrap_or_default();
        let parts = ScoreParts {
            kl: kp,
            gradient: gp,
            advantage: ap,
        };
        let snaps = Snapshots {
            kl: ks,
            gradient: gs,
            advantage: as_,
        };
        cols.responses_into(starts[k], starts[k + 1], &mut responses);
        let row = layer.finish(input, parts, snaps, &responses);
        write_row(out, i, row.numeric());
    }
    records.rows = 0..0;
    starts[starts.len() - 1]
}
