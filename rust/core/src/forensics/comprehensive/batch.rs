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

use super::parts::{
    update_advantage, update_gradient, update_kl, AdvantageParts, GradientParts, KlParts,
    ScoreParts, Snapshots,
};
use super::{ComprehensiveForensics, Layer, StepColumns, COMPREHENSIVE_NUMERIC_FIELDS};
use crate::error::Result;
use crate::forensics::advantage::{AdvantageMetrics, AdvantageTracker};
use crate::forensics::columns::{check_columns, collect_columns, write_row};
use crate::forensics::gradient::{GradientAnalyzer, GradientMetrics};
use crate::forensics::kl_schedule::{KlScheduleMetrics, KlScheduleTracker};

/// Rows per chunk: large enough that handing a chunk to a thread costs nothing per row,
/// small enough that the per-row records stay in cache (about 1 MB per tracker).
pub(super) const CHUNK: usize = 16_384;

/// What the layer reads of one tracker at one row: its score parts, and its snapshot when
/// it was updated at that row and the layer's history keeps the row.
type Row<P, M> = (P, Option<Arc<M>>);

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
    let mut pending: Option<Range<usize>> = None;
    // The flat index of the next response record the layer reads.
    let mut next_record = 0usize;
    let chunks = (0..n).step_by(CHUNK).map(|s| s..(s + CHUNK).min(n));
    for rows in chunks.map(Some).chain(std::iter::once(None)) {
        let Records {
            kl: kl_next,
            gradient: g_next,
            advantage: a_next,
        } = &mut next;
        let first_side = || {
            if let (Some(rows), Some(k)) = (rows.clone(), kl.as_deref_mut()) {
                run_kl(k, cols, rows.clone(), layer_cap, kl_next);
            }
            if let (Some(rows), Some(a)) = (rows.clone(), advantage.as_deref_mut()) {
                run_advantage(a, cols, rows, layer_cap, a_next);
            }
        };
        let second_side = || {
            if let Some(done) = pending.clone() {
                next_record = run_layer(layer, cols, done, next_record, layer_cap, &mut ready, out);
            }
            if let (Some(rows), Some(g)) = (rows.clone(), gradient.as_deref_mut()) {
                run_gradient(g, cols, rows, layer_cap, g_next);
            }
        };
        rayon::join(first_side, second_side);
        std::mem::swap(&mut next, &mut ready);
        pending = rows;
    }
    if let Some(k) = kl {
        k.set_deferred_messages(false);
    }
    if let Some(g) = gradient {
        g.set_snapshot_only_fields(true);
    }
    // Per-step updates leave every part recording; so does the batch.
    forensics.set_history_recording(true);
    Ok(())
}

/// Per-row records of one chunk, from each tracker (empty for a disabled one).
#[derive(Default)]
struct Records {
    kl: Vec<Row<KlParts, KlScheduleMetrics>>,
    gradient: Vec<Row<GradientParts, GradientMetrics>>,
    advantage: Vec<Row<AdvantageParts, AdvantageMetrics>>,
}

/// The layer's part of the updates of `rows`, from the trackers' records of them (drained),
/// with the response records from flat index `first_record` on; returns the index after
/// the last one read.
fn run_layer(
    layer: &mut Layer,
    cols: &StepColumns<'_>,
    rows: Range<usize>,
    first_record: usize,
    layer_cap: usize,
    records: &mut Records,
    out: &mut [&mut [f64]],
) -> usize {
    let n = cols.steps.len();
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
    for (k, i) in rows.enumerate() {
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
        let row = layer.finish(cols.row(i), parts, snaps, &responses);
        write_row(out, i, row.numeric());
    }
    starts[starts.len() - 1]
}

/// Runs the KL tracker over `rows`, recording per row what the layer reads.
fn run_kl(
    k: &mut KlScheduleTracker,
    cols: &StepColumns<'_>,
    rows: Range<usize>,
    layer_cap: usize,
    out: &mut Vec<Row<KlParts, KlScheduleMetrics>>,
) {
    let n = cols.steps.len();
    let own_cap = k.config().history_size;
    for i in rows {
        // Snapshots that a history would drop before the batch ends are not kept.
        k.set_history_recording(n - i <= own_cap);
        let input = cols.row(i);
        let snap = update_kl(k, &input)
            .filter(|_| n - i <= layer_cap)
            .map(|m| Arc::new(m.clone()));
        out.push((KlParts::of(k.metrics()), snap));
    }
}

/// Runs the gradient analyzer over `rows`, recording per row what the layer reads.
fn run_gradient(
    g: &mut GradientAnalyzer,
    cols: &StepColumns<'_>,
    rows: Range<usize>,
    layer_cap: usize,
    out: &mut Vec<Row<GradientParts, GradientMetrics>>,
) {
    let n = cols.steps.len();
    let own_cap = g.config().history_size;
    for i in rows {
        let own = n - i <= own_cap;
        let layer_keeps = n - i <= layer_cap;
        g.set_history_recording(own);
        // Its snapshot is kept by its own history or copied into the layer's.
        g.set_snapshot_only_fields(own || layer_keeps);
        let input = cols.row(i);
        let snap = update_gradient(g, &input)
            .filter(|_| layer_keeps)
            .map(|m| Arc::new(m.clone()));
        out.push((GradientParts::of(g.metrics()), snap));
    }
}

/// Runs the advantage tracker over `rows`, recording per row what the layer reads.
fn run_advantage(
    a: &mut AdvantageTracker,
    cols: &StepColumns<'_>,
    rows: Range<usize>,
    layer_cap: usize,
    out: &mut Vec<Row<AdvantageParts, AdvantageMetrics>>,
) {
    let n = cols.steps.len();
    let own_cap = a.config().history_size;
    for i in rows {
        a.set_history_recording(n - i <= own_cap);
        let input = cols.row(i);
        let snap = update_advantage(a, &input, None)
            .filter(|_| n - i <= layer_cap)
            .map(|m| Arc::new(m.clone()));
        out.push((AdvantageParts::of(a.metrics()), snap));
    }
}
