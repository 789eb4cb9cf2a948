//! TensorBoard event files (`events.out.tfevents.*`) read in Rust, without TensorFlow or
//! tensorboard: TFRecord frames holding `Event` protobufs, of which the scalar summaries are
//! kept (`simple_value`, and one-number `tensor` values as `add_scalar(new_style=True)`
//! writes them). Text, image and histogram summaries are skipped, not reported.
//!
//! Field numbers (tensorboard's `event.proto`, `summary.proto`, `tensor.proto`):
//! Event{wall_time=1 double, step=2 int64, summary=5}; Summary{value=1 repeated};
//! Value{tag=1, simple_value=2 float, tensor=8}; TensorProto{dtype=1, tensor_shape=2,
//! tensor_content=4, float_val=5, double_val=6, int_val=7, int64_val=10, bool_val=11,
//! half_val=13}.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::json::Leaf;
use super::problem::{InputProblem, ProblemKind};
use super::protobuf::{DecodeError, Fields, Wire};
use super::records::{Place, Role, RunBuilder};
use super::tfrecord::{Frame, Frames};

/// One scalar of one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scalar<'a> {
    /// The summary tag (`train/kl`).
    pub tag: &'a str,
    /// The event's step.
    pub step: i64,
    /// The event's wall time (seconds since the epoch).
    pub wall_time: f64,
    /// The value, widened to f64 (`simple_value` is a float32).
    pub value: f64,
}

/// Calls `sink` for every scalar in one serialized `Event`.
pub fn decode_event(payload: &[u8], sink: &mut impl FnMut(Scalar<'_>)) -> Result<(), DecodeError> {
    let (mut step, mut wall_time, mut summary) = (0i64, 0.0f64, None);
    let mut f = Fields::new(payload);
    while let Some((field, w)) = f.next_field()? {
        match (field, w) {
            (1, Wire::Fixed64(bits)) => wall_time = f64::from_bits(bits),
            (2, Wire::Varint(v)) => step = v as i64,
            (5, Wire::Bytes(b)) => summary = Some(b),
            (1 | 2 | 5, _) => return Err("event field with the wrong wire type"),
            _ => {}
        }
    }
    // The summary may come before the step on the wire: decode it once both are known.
    let Some(summary) = summary else {
        return Ok(());
    };
    let mut s = Fields::new(summary);
    while let Some((field, w)) = s.next_field()? {
        if let (1, Wire::Bytes(value)) = (field, w) {
            if let Some((tag, v)) = decode_value(value)? {
                sink(Scalar {
                    tag,
                    step,
                    wall_time,
                    value: v,
                });
            }
        }
    }
    Ok(())
}

/// A `Summary.Value`'s tag and number, when it holds one number.
fn decode_value(buf: &[u8]) -> Result<Option<(&str, f64)>, DecodeError> {
    let (mut tag, mut value) = (None, None);
    let mut f = Fields::new(buf);
    while let Some((field, w)) = f.next_field()? {
        match (field, w) {
            (1, Wire::Bytes(b)) => {
                tag = Some(std::str::from_utf8(b).map_err(|_| "tag is not UTF-8")?);
            }
            (2, Wire::Fixed32(bits)) => value = Some(f64::from(f32::from_bits(bits))),
            (8, Wire::Bytes(t)) => value = tensor_scalar(t)?,
            _ => {}
        }
    }
    Ok(tag.zip(value))
}

/// The number in a one-element numeric `TensorProto`; `None` for strings and for tensors
/// of several elements.
fn tensor_scalar(buf: &[u8]) -> Result<Option<f64>, DecodeError> {
    let mut dtype = 0u64;
    let mut content: &[u8] = &[];
    let mut vals: Vec<f64> = Vec::new();
    let mut f = Fields::new(buf);
    while let Some((field, w)) = f.next_field()? {
        match (field, w) {
            (1, Wire::Varint(d)) => dtype = d,
            (4, Wire::Bytes(b)) => content = b,
            // float_val: packed or one fixed32
            (5, Wire::Fixed32(b)) => vals.push(f64::from(f32::from_bits(b))),
            (5, Wire::Bytes(b)) => {
                for c in b.chunks_exact(4) {
                    vals.push(f64::from(f32::from_le_bytes(c.try_into().expect("4"))));
                }
            }
            (6, Wire::Fixed64(b)) => vals.push(f64::from_bits(b)),
            (6, Wire::Bytes(b)) => {
                for c in b.chunks_exact(8) {
                    vals.push(f64::from_le_bytes(c.try_into().expect("8")));
                }
            }
            (7 | 10 | 11, Wire::Varint(v)) => vals.push(varint_number(v, dtype)),
            (7 | 10 | 11, Wire::Bytes(b)) => {
                let mut p = Fields::new(b);
                while !p.at_end() {
                    vals.push(varint_number(p.varint()?, dtype));
                }
            }
            (13, Wire::Varint(v)) => vals.push(f64::from(half_to_f32(v as u16))),
            _ => {}
        }
    }
    if !content.is_empty() {
        let width = match dtype {
            1 | 3 => 4,
            2 | 9 => 8,
            4 | 6 | 10 => 1,
            5 | 19 => 2,
            _ => return Ok(None),
        };
        if content.len() != width {
            return Ok(None);
        }
        let c = content;
        let v = match dtype {
            1 => f64::from(f32::from_le_bytes(c.try_into().expect("4"))),
            2 => f64::from_le_bytes(c.try_into().expect("8")),
            3 => f64::from(i32::from_le_bytes(c.try_into().expect("4"))),
            9 => i64::from_le_bytes(c.try_into().expect("8")) as f64,
            4 | 10 => f64::from(c[0]),
            6 => f64::from(c[0] as i8),
            5 => f64::from(i16::from_le_bytes(c.try_into().expect("2"))),
            _ => f64::from(half_to_f32(u16::from_le_bytes(c.try_into().expect("2")))),
        };
        return Ok(Some(v));
    }
    Ok((vals.len() == 1).then(|| vals[0]))
}

/// An integer field's value as a number of `dtype` (int32 values are sign-extended varints).
fn varint_number(v: u64, dtype: u64) -> f64 {
    match dtype {
        3 | 5 | 6 => f64::from(v as i64 as i32),
        19 => f64::from(half_to_f32(v as u16)),
        _ => v as i64 as f64,
    }
}

/// IEEE half precision to f32.
fn half_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1F);
    let frac = u32::from(h & 0x3FF);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // subnormal: value = frac · 2^-24
            let v = frac as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (31, 0) => sign | 0x7F80_0000,
        (31, _) => sign | 0x7FC0_0000,
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// One tag's points, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagSeries {
    /// Steps.
    pub steps: Vec<i64>,
    /// Wall times.
    pub wall_times: Vec<f64>,
    /// Values.
    pub values: Vec<f64>,
}

/// Every scalar of one event file, by tag, with what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventScalars {
    /// Tags in order of first appearance.
    pub tags: Vec<String>,
    /// Their points (parallel to `tags`).
    pub series: Vec<TagSeries>,
    /// Records read (valid frames).
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Damaged or undecodable records, located.
    pub problems: Vec<InputProblem>,
}

impl EventScalars {
    /// The points of `tag`, if it was logged.
    pub fn get(&self, tag: &str) -> Option<&TagSeries> {
        self.tags
            .iter()
            .position(|t| t == tag)
            .map(|i| &self.series[i])
    }
}

/// Reads the scalars of an event stream; never fails: damage is reported in `problems`.
pub fn read_event_scalars<R: std::io::Read>(src: R) -> EventScalars {
    let mut out = EventScalars::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut frames = Frames::new(src);
    while let Some(frame) = frames.next_frame() {
        match frame {
            Frame::Record(at, payload) => {
                out.records += 1;
                let (tags, series) = (&mut out.tags, &mut out.series);
                let mut sink = |s: Scalar<'_>| {
                    let i = match index.get(s.tag) {
                        Some(&i) => i,
                        None => {
                            index.insert(s.tag.to_string(), tags.len());
                            tags.push(s.tag.to_string());
                            series.push(TagSeries::default());
                            tags.len() - 1
                        }
                    };
                    let t = &mut series[i];
                    t.steps.push(s.step);
                    t.wall_times.push(s.wall_time);
                    t.values.push(s.value);
                };
                if let Err(e) = decode_event(payload, &mut sink) {
                    out.problems.push(InputProblem {
                        kind: ProblemKind::Malformed,
                        offset: at,
                        line: None,
                        detail: format!("event record does not decode: {e}"),
                    });
                }
            }
            Frame::Problem(p) => out.problems.push(p),
        }
    }
    out.bytes = frames.offset();
    out
}

/// [`read_event_scalars`] of a file.
pub fn read_event_file(path: &Path) -> std::io::Result<EventScalars> {
    let f = File::open(path)?;
    Ok(read_event_scalars(BufReader::with_capacity(1 << 16, f)))
}

/// Which entry of transformers' log a tag belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Train,
    Eval,
    Summary,
    /// `epoch`, which transformers adds to every entry: it joins the open one.
    Any,
}

/// The run key of a tag and its group: transformers' `TensorBoardCallback` writes `train/<key>`
/// and `eval/<key>`; other writers (accelerate for TRL PPO-v1) write the raw keys.
fn tag_key(tag: &str) -> (&str, Group) {
    if tag.starts_with("eval/") {
        return (tag, Group::Eval);
    }
    let key = tag.strip_prefix("train/").unwrap_or(tag);
    let group = match Role::of(key) {
        Role::Epoch => Group::Any,
        Role::Runtime | Role::Summary => Group::Summary,
        _ => Group::Train,
    };
    (key, group)
}

/// Reads an event stream into `run` as log entries: consecutive scalars of one step and one
/// group (training, evaluation, end-of-training summary) form one entry, as one `on_log` call
/// wrote them. Returns the bytes read.
pub fn read_event_run<R: std::io::Read>(src: R, run: &mut RunBuilder) -> u64 {
    let mut frames = Frames::new(src);
    let mut open: Option<(i64, Group, Place)> = None;
    while let Some(frame) = frames.next_frame() {
        match frame {
            Frame::Record(at, payload) => {
                let place = Place {
                    offset: at,
                    line: None,
                };
                let mut sink = |s: Scalar<'_>| {
                    let (key, mut group) = tag_key(s.tag);
                    if let Some((step, g, p)) = open {
                        if group == Group::Any && step == s.step {
                            group = g;
                        }
                        if step != s.step || g != group {
                            run.end_record(p);
                            open = None;
                        }
                    }
                    if open.is_none() {
                        run.leaf("step", Leaf::Number(s.step as f64), place);
                        open = Some((s.step, group, place));
                    }
                    run.leaf(key, Leaf::Number(s.value), place);
                };
                if let Err(e) = decode_event(payload, &mut sink) {
                    run.problem(
                        ProblemKind::Malformed,
                        place,
                        format!("event record does not decode: {e}"),
                    );
                }
            }
            Frame::Problem(p) => run.problems.push(p),
        }
    }
    if let Some((_, _, p)) = open {
        run.end_record(p);
    }
    frames.offset()
}

#[cfg(test)]
mod tests;
