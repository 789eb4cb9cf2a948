//! Special functions for p-values: normal and Student-t tails and the Kolmogorov distribution.

/// Upper tail of the standard normal, P(Z > z).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Upper tail of the Kolmogorov distribution, P(K > z), where K is the limit of
/// sqrt(n)·sup|F_n − F| (scipy's `kstwobign.sf`).
pub fn kolmogorov_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z <= 0.0 {
        return 1.0;
    }
    if z < 1.0 {
        // P(K <= z) = sqrt(2π)/z · Σ exp(-(2k-1)² π² / (8 z²)); converges fast for small z.
        let w = -std::f64::consts::PI * std::f64::consts::PI / (8.0 * z * z);
        let mut cdf = 0.0;
        for k in 1..=20 {
            let j = (2 * k - 1) as f64;
            let term = (j * j * w).exp();
            cdf += term;
            if term < 1e-18 {
                break;
            }
        }
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / z * cdf).clamp(0.0, 1.0)
    } else {
        // P(K > z) = 2 Σ (-1)^(k-1) exp(-2 k² z²); alternating, converges fast for z >= 1.
        let mut sf = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * z * z).exp();
            sf += if k % 2 == 1 { term } else { -term };
            if term < 1e-18 {
                break;
            }
        }
        (2.0 * sf).clamp(0.0, 1.0)
    }
}

/// Regularised incomplete beta function I_x(a, b), by the continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where it converges faster.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Two-sided p-value of a Student t statistic with `dof` degrees of freedom.
pub fn student_t_two_sided(t: f64, dof: f64) -> f64 {
    if t.is_nan() || dof.is_nan() || dof <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    incomplete_beta(0.5 * dof, 0.5, dof / (dof + t * t)).clamp(0.0, 1.0)
}

/// Two-sided p-value of a correlation `r` over `n` pairs (t = r·√((n−2)/(1−r²))), as
/// `scipy.stats.pearsonr` reports it; `None` with fewer than 3 pairs.
pub fn correlation_p_value(r: f64, n: usize) -> Option<f64> {
    if n < 3 || r.is_nan() {
        return None;
    }
    let dof = (n - 2) as f64;
    if r.abs() >= 1.0 {
        return Some(0.0);
    }
    Some(student_t_two_sided(r * (dof / (1.0 - r * r)).sqrt(), dof))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // scipy.stats.kstwobign.sf at 0.5, 1.0, 1.36, 2.0
        assert!((kolmogorov_sf(0.5) - 0.963_945_243_664_875_1).abs() < 1e-12);
        assert!((kolmogorov_sf(1.0) - 0.269_999_671_677_354_56).abs() < 1e-12);
        assert!((kolmogorov_sf(1.36) - 0.049_485_876_755_377_876).abs() < 1e-12);
        assert!((kolmogorov_sf(2.0) - 0.000_670_925_255_779_695_3).abs() < 1e-12);
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        assert!((normal_sf(1.959_963_984_540_054) - 0.025).abs() < 1e-12);
    }

    const T_2_10: f64 = 0.073_388_034_770_740_37;
    const T_05_3: f64 = 0.651_447_964_848_151;
    const PEARSON_08_5: f64 = 0.104_088_038_661_827_82;

    #[test]
    fn student_t_matches_scipy() {
        // 2 * scipy.stats.t.sf(t, dof) and scipy.stats.pearsonr(...).pvalue.
        assert!((student_t_two_sided(2.0, 10.0) - T_2_10).abs() < 1e-12);
        assert!((student_t_two_sided(-0.5, 3.0) - T_05_3).abs() < 1e-12);
        assert!((correlation_p_value(0.8, 5).unwrap() - PEARSON_08_5).abs() < 1e-12);
        assert_eq!(correlation_p_value(1.0, 10), Some(0.0));
        assert_eq!(correlation_p_value(0.3, 2), None);
    }
}
