use super::*;
use crate::ingest::tfrecord::frame;
use proptest::prelude::*;

/// Protobuf writer for test events.
fn key(field: u64, wire: u64, out: &mut Vec<u8>) {
    varint(field << 3 | wire, out);
}
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}
fn event(step: i64, wall: f64, values: &[Vec<u8>]) -> Vec<u8> {
    let mut summary = Vec::new();
    for v in values {
        bytes(1, v, &mut summary);
    }
    let mut e = Vec::new();
    key(1, 1, &mut e);
    e.extend(wall.to_le_bytes());
    key(2, 0, &mut e);
    varint(step as u64, &mut e);
    bytes(5, &summary, &mut e);
    e
}
fn simple(tag: &str, v: f32) -> Vec<u8> {
    let mut out = Vec::new();
    bytes(1, tag.as_bytes(), &mut out);
    key(2, 5, &mut out);
    out.extend(v.to_le_bytes());
    out
}
fn tensor(tag: &str, t: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    bytes(1, tag.as_bytes(), &mut out);
    bytes(8, t, &mut out);
    out
}

#[test]
fn scalars_of_every_encoding() {
    // float tensor with packed float_val (add_scalar(new_style=True))
    let mut t_float = Vec::new();
    key(1, 0, &mut t_float);
    varint(1, &mut t_float);
    bytes(5, &0.25f32.to_le_bytes(), &mut t_float);
    // double tensor in tensor_content
    let mut t_double = Vec::new();
    key(1, 0, &mut t_double);
    varint(2, &mut t_double);
    bytes(4, &(-3.5f64).to_le_bytes(), &mut t_double);
    // int64 tensor, unpacked int64_val
    let mut t_int = Vec::new();
    key(1, 0, &mut t_int);
    varint(9, &mut t_int);
    key(10, 0, &mut t_int);
    varint(7, &mut t_int);
    // a string tensor (text summary) is not a scalar
    let mut t_text = Vec::new();
    key(1, 0, &mut t_text);
    varint(7, &mut t_text);
    bytes(8, b"hello", &mut t_text);
    let mut file = frame(b"\x1a\x0dbrain.Event:2");
    file.extend(frame(&event(
        3,
        100.5,
        &[
            simple("train/kl", 0.125),
            tensor("train/lr", &t_float),
            tensor("train/x", &t_double),
            tensor("train/n", &t_int),
            tensor("args/text_summary", &t_text),
        ],
    )));
    file.extend(frame(&event(4, 101.0, &[simple("train/kl", f32::NAN)])));
    let s = read_event_scalars(file.as_slice());
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.records, 3);
    assert_eq!(s.tags, ["train/kl", "train/lr", "train/x", "train/n"]);
    let kl = s.get("train/kl").unwrap();
    assert_eq!(kl.steps, [3, 4]);
    assert_eq!(kl.wall_times, [100.5, 101.0]);
    assert_eq!(kl.values[0], 0.125);
    assert!(kl.values[1].is_nan(), "a NaN scalar is kept as NaN");
    assert_eq!(s.get("train/lr").unwrap().values, [0.25]);
    assert_eq!(s.get("train/x").unwrap().values, [-3.5]);
    assert_eq!(s.get("train/n").unwrap().values, [7.0]);
    assert_eq!(s.bytes, file.len() as u64);
}

#[test]
fn undecodable_records_are_located_and_the_rest_read() {
    let mut file = frame(&event(1, 0.0, &[simple("a", 1.0)]));
    let bad_at = file.len() as u64;
    file.extend(frame(&[0x0A, 0x7F, 0x01])); // a length running past the record
    file.extend(frame(&event(2, 0.0, &[simple("a", 2.0)])));
    let s = read_event_scalars(file.as_slice());
    assert_eq!(s.get("a").unwrap().values, [1.0, 2.0]);
    assert_eq!(s.problems.len(), 1);
    assert_eq!(s.problems[0].kind, ProblemKind::Malformed);
    assert_eq!(s.problems[0].offset, bad_at);
}

#[test]
fn half_precision() {
    assert_eq!(half_to_f32(0x3C00), 1.0);
    assert_eq!(half_to_f32(0xC000), -2.0);
    assert_eq!(half_to_f32(0x0001), 2f32.powi(-24));
    assert!(half_to_f32(0x7E00).is_nan());
    assert_eq!(half_to_f32(0x7C00), f32::INFINITY);
}

/// The two real TRL runs: every `train/<key>` scalar equals the float32 of the value in the
/// run's own `log_history.jsonl` at the same step.
#[test]
fn real_trl_event_files_match_their_log_history() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        data.is_dir(),
        "../shared/data must sit beside the repository: {data:?}"
    );
    for (run, key) in [
        ("trl-grpo-healthy", "kl"),
        ("trl-ppo-v2-basic", "objective/kl"),
    ] {
        let dir = data.join(run);
        let tb = std::fs::read_dir(dir.join("tb"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("tfevents"))
            .unwrap();
        let s = read_event_file(&tb).unwrap();
        assert!(s.problems.is_empty(), "{run}: {:?}", s.problems);
        let series = s.get(&format!("train/{key}")).unwrap();
        let jsonl = std::fs::read_to_string(dir.join("log_history.jsonl")).unwrap();
        let mut expected = Vec::new();
        for line in jsonl.lines() {
            let (Some(v), Some(step)) = (json_number(line, key), json_number(line, "step")) else {
                continue;
            };
            expected.push((step as i64, f64::from(v as f32)));
        }
        assert!(expected.len() >= 100, "{run}: {} entries", expected.len());
        let got: Vec<(i64, f64)> = series
            .steps
            .iter()
            .copied()
            .zip(series.values.iter().copied())
            .collect();
        assert_eq!(got, expected, "{run}");
    }
}

/// The number after `"key": ` in a flat JSON object line (enough for these fixtures).
fn json_number(line: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\": ");
    let at = line.find(&pat)? + pat.len();
    let rest = &line[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

proptest! {
    /// No byte string makes the decoder panic.
    #[test]
    fn random_events_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut n = 0;
        let _ = decode_event(&bytes, &mut |_s| n += 1);
        let s = read_event_scalars(bytes.as_slice());
        prop_assert!(s.bytes <= bytes.len() as u64);
    }

    /// Events with random protobuf-shaped noise inside a valid frame: no panic, and a
    /// problem is reported or scalars come out.
    #[test]
    fn framed_noise_never_panics(payload in prop::collection::vec(any::<u8>(), 0..200)) {
        let s = read_event_scalars(frame(&payload).as_slice());
        prop_assert_eq!(s.records, 1);
    }
}

/// The real GRPO run's event file as log entries: the same training rows as its
/// `log_history.jsonl` (values as float32), and the summary apart.
#[test]
fn real_event_file_as_a_run() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/trl-grpo-healthy");
    let tb = std::fs::read_dir(data.join("tb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let mut run = RunBuilder::new();
    read_event_run(BufReader::new(File::open(&tb).unwrap()), &mut run);
    let run = run.finish();
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.train.len(), 300);
    assert!(run.summary.iter().any(|(k, _)| k == "train_runtime"));
    let kl = run.train.position("kl").unwrap();
    assert_eq!(run.train.get(kl, 0), Some(0.0));
    assert!(run.train.position("train/kl").is_none(), "prefix stripped");
}
