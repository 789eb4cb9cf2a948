use super::*;
use proptest::prelude::*;

fn leaves(s: &str) -> Result<Vec<(String, Leaf<'static>)>, SyntaxError> {
    let mut out = Vec::new();
    let mut key = String::new();
    let end = walk_object(s, 0, &mut key, &mut |k, v| {
        let v = match v {
            Leaf::Str(s) => Leaf::Str(Cow::Owned(s.into_owned())),
            Leaf::Number(x) => Leaf::Number(x),
            Leaf::Bool(b) => Leaf::Bool(b),
            Leaf::Null => Leaf::Null,
        };
        out.push((k.to_string(), v));
    })?;
    assert_eq!(skip_ws(s.as_bytes(), end), s.len(), "trailing bytes");
    Ok(out)
}

#[test]
fn log_records_of_every_shape() {
    let got = leaves(
        r#"{"loss": -0.07, "kl": NaN, "x": -Infinity, "y": Infinity, "lr": 5e-05,
            "note": "a\"b\u00e9\ud83d\ude00", "ok": true, "none": null, "list": [1, {"a": [2]}],
            "metrics": {"kl_mean": 0.1, "deep": {"v": 2}}, "empty": {}}"#,
    )
    .unwrap();
    assert_eq!(got[0], ("loss".into(), Leaf::Number(-0.07)));
    assert!(matches!(got[1], (ref k, Leaf::Number(v)) if k == "kl" && v.is_nan()));
    assert_eq!(got[2].1, Leaf::Number(f64::NEG_INFINITY));
    assert_eq!(got[3].1, Leaf::Number(f64::INFINITY));
    assert_eq!(got[4].1, Leaf::Number(5e-5));
    assert_eq!(got[5].1, Leaf::Str(Cow::Owned("a\"bé😀".into())));
    assert_eq!(got[6].1, Leaf::Bool(true));
    assert_eq!(got[7].1, Leaf::Null);
    assert_eq!(got[8], ("metrics.kl_mean".into(), Leaf::Number(0.1)));
    assert_eq!(got[9], ("metrics.deep.v".into(), Leaf::Number(2.0)));
    assert_eq!(got.len(), 10);
}

#[test]
fn damage_is_an_error_with_a_position() {
    for bad in [
        r#"{"a": 1"#,
        r#"{"a" 1}"#,
        r#"{"a": 1,}"#,
        r#"{"a": tru}"#,
        r#"{"a": "x}"#,
        r#"{"a": 1e}"#,
        r#"{"a": -}"#,
        r#"{a: 1}"#,
        r#"[1]"#,
        "",
    ] {
        let e = leaves(bad).unwrap_err();
        assert!(e.pos <= bad.len(), "{bad}: {e:?}");
    }
    let deep = "{\"a\":".repeat(40) + "1" + &"}".repeat(40);
    assert_eq!(leaves(&deep).unwrap_err().what, "nesting too deep");
}

#[test]
fn arrays_and_keys_of_a_document() {
    let doc =
        r#"{"global_step": 3, "log_history": [{"step": 1, "kl": 0.5}, {"step": 2}], "x": [1]}"#;
    let mut steps = Vec::new();
    let found = find_key(doc, 0, "log_history", &mut |b, i| {
        walk_array(b, i, &mut |b, i| {
            let mut key = String::new();
            walk_object(b, i, &mut key, &mut |k, v| {
                if let ("step", Leaf::Number(s)) = (k, v) {
                    steps.push(s);
                }
            })
        })
    })
    .unwrap();
    assert!(found);
    assert_eq!(steps, [1.0, 2.0]);
    assert!(!find_key(doc, 0, "nope", &mut |b, i| skip_value(b, i)).unwrap());
}

proptest! {
    /// The fast decimal path gives exactly what the standard parser gives, wherever it
    /// answers (shortest and scientific forms, short digit strings, signs, exponents).
    #[test]
    fn fast_decimal_matches_the_standard_parser(
        v in any::<f64>().prop_filter("finite", |v| v.is_finite()),
        m in 0u64..(1 << 54),
        e in -30i32..30,
        frac in 0usize..19,
    ) {
        let texts = [
            format!("{v:?}"),
            format!("{v:e}"),
            format!("{m}e{e}"),
            format!("-{m}.{:0>w$}", m % 1000, w = frac.min(6)),
            format!("{}", m as f64 / 7.0),
        ];
        for t in texts {
            if let Some(fast) = super::fast_decimal(t.as_bytes()) {
                let std: f64 = t.parse().unwrap();
                prop_assert_eq!(fast.to_bits(), std.to_bits(), "{}", t);
            }
        }
    }

    /// Any finite float written with Rust's shortest round-trip form reads back exactly.
    #[test]
    fn numbers_round_trip(vals in prop::collection::vec(any::<f64>().prop_filter("finite", |v| v.is_finite()), 1..20)) {
        let body: Vec<String> = vals.iter().enumerate().map(|(i, v)| format!("\"k{i}\": {v:?}")).collect();
        let s = format!("{{{}}}", body.join(", "));
        let got = leaves(&s).unwrap();
        for (i, (k, v)) in got.iter().enumerate() {
            prop_assert_eq!(k, &format!("k{i}"));
            prop_assert_eq!(v, &Leaf::Number(vals[i]));
        }
    }

    /// No byte string makes the walker panic.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut key = String::new();
        let text = String::from_utf8_lossy(&bytes);
        let _ = walk_object(&text, 0, &mut key, &mut |_, _| {});
        let _ = skip_value(&text, 0);
    }

    /// Mutations of a valid record never panic either (closer to real damage).
    #[test]
    fn damaged_records_never_panic(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut rec = br#"{"step": 12, "kl": 1.5e-3, "s": "a\\u00e9", "m": {"x": [1, 2]}, "n": null}"#.to_vec();
        let i = at.index(rec.len());
        rec[i] = byte;
        let mut key = String::new();
        if let Ok(text) = std::str::from_utf8(&rec) {
            let _ = walk_object(text, 0, &mut key, &mut |_, _| {});
        }
    }
}
