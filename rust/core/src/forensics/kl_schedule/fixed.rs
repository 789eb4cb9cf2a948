//! `{:.N}` formatting of the numbers in finding messages, without the cost of exact float
//! formatting.
//!
//! While a condition holds its message is formatted at every step, and `{:.3}` of an `f64`
//! goes through the exact decimal expansion (often the big-number fallback): that was most of
//! a step's cost. Rounding `v · 10^N` to an integer gives the same digits whenever the value
//! is not within a hair of a rounding tie, and then only integers are formatted; near a tie
//! (or for large or non-finite values) the standard formatting decides.

use std::fmt;

/// Displays like `format!("{:.N$}", self.0)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fixed<const N: u32>(pub f64);

impl<const N: u32> fmt::Display for Fixed<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let scale = 10u64.pow(N);
        let y = v.abs() * scale as f64;
        // Below 2^40 the product is within 2^-12 of the exact one (half an ulp), and
        // integers and their halves are exact.
        if v.is_finite() && y < (1u64 << 40) as f64 {
            let whole = y as u64;
            let frac = y - whole as f64;
            if (frac - 0.5).abs() > 1e-3 {
                let k = whole + u64::from(frac > 0.5);
                return f.write_str(digits(v.is_sign_negative(), k, N as usize).as_str());
            }
        }
        write!(f, "{:.*}", N as usize, v)
    }
}

/// A short decimal, written without the formatting machinery.
struct Digits {
    buf: [u8; 40],
    start: usize,
}

impl Digits {
    fn as_str(&self) -> &str {
        // Only ASCII digits, '.' and '-' are written.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("")
    }
}

/// `[-]int.frac` of k / 10^decimals, with exactly `decimals` fraction digits (k < 2^40 and
/// decimals ≤ 9, so it fits).
fn digits(negative: bool, mut k: u64, decimals: usize) -> Digits {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    for _ in 0..decimals {
        i -= 1;
        buf[i] = b'0' + (k % 10) as u8;
        k /= 10;
    }
    if decimals > 0 {
        i -= 1;
        buf[i] = b'.';
    }
    loop {
        i -= 1;
        buf[i] = b'0' + (k % 10) as u8;
        k /= 10;
        if k == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    Digits { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(v: f64) {
        assert_eq!(Fixed::<0>(v).to_string(), format!("{v:.0}"), "{v:e}");
        assert_eq!(Fixed::<1>(v).to_string(), format!("{v:.1}"), "{v:e}");
        assert_eq!(Fixed::<3>(v).to_string(), format!("{v:.3}"), "{v:e}");
        assert_eq!(Fixed::<4>(v).to_string(), format!("{v:.4}"), "{v:e}");
    }

    #[test]
    fn edge_values_format_as_std() {
        for v in [
            0.0,
            -0.0,
            0.0005,
            -0.0005,
            0.0625,
            0.00125,
            0.25,
            2.5,
            0.9995,
            0.99995,
            1.0,
            -1.0,
            0.1,
            0.3,
            123.4565,
            1e-300,
            5e-324,
            1e12,
            1.0995e12,
            2e15,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.00049999,
            0.2999999999,
        ] {
            check(v);
        }
    }

    proptest! {
        #[test]
        fn formats_as_std(
            v in prop::num::f64::ANY,
            k in -2_000_000i64..2_000_000,
            ulps in -3i64..=3,
        ) {
            check(v);
            // Decimal ties and values next to them, at every precision checked.
            for d in [2.0, 20.0, 2000.0, 20000.0] {
                let t = k as f64 / d;
                check(t);
                check(f64::from_bits((t.to_bits() as i64).wrapping_add(ulps) as u64));
            }
        }
    }
}
