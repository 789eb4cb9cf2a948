//! Special functions for p-values: normal tail and the Kolmogorov distribution.

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
}
