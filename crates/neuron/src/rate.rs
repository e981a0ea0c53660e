//! Rate functions of the LIF cell (SPEC §1.1, Samadi eq 2.10–2.11).
//!
//! - [`rate_closed_form`]: the expected activity E(a) of the continuous-time cell under constant drive v.
//! - [`tanh_fit`] and [`tanh_fit_derivative`]: the paper's fit `max(0, c1 tanh(c2 v))` (c1 = 0.82, c2 = 0.08) and its
//!   derivative, used as activation and da/dv of the nonspiking networks.
//! - [`euler_steady_rate`]: the exact steady-state firing fraction of the Euler-discretised cell of [`crate::lif`].
//!
//! # Discretisation error (stated, and tested)
//! From rest, the Euler cell reaches `h_k = v (1 − q^k)` with `q = 1 − Δt/τ`, so it crosses threshold on step
//! `k* = floor(T'/Δt) + 1`, where `T' = τ' ln(v / (v − h_th))` and `τ' = −Δt / ln q` (19.875 ms for the paper's
//! constants). The crossing step is itself the first of the `n_ref` active steps, and h restarts from 0 after them, so
//! the firing pattern is exactly periodic with period `k* + n_ref − 1` steps and rate `n_ref / (k* + n_ref − 1)`.
//! With `n_ref Δt = t_ref` that is `t_ref / (t_ref + T_d)` with `T_d = (k* − 1) Δt ∈ (T' − Δt, T']`, whereas
//! E(a) uses `T = τ ln(v / (v − h_th)) ≥ T'`. Hence, for every v > h_th:
//!
//! ```text
//! 0 ≤ rate_euler(v) − E(a)(v) < t_ref / (t_ref + T' − Δt) − t_ref / (t_ref + T)
//! ```
//!
//! The simulated cell fires slightly *more* than the closed form (the time to threshold is effectively rounded down
//! to whole steps, and the Euler leak is slightly slower). The gap is small at moderate drive (under 0.03 for
//! v ≤ 10) and largest where the time to threshold falls below one step: just above v = 32 = h_th τ/Δt the Euler cell
//! crosses on the first step and fires on every step (rate 1) while E(a) = 0.80, a gap of 0.20; at v = 50 it is
//! 1 vs 0.862. [`euler_rate_error_bound`] returns the bound for each v.

use crate::lif::{LifParams, lif_update};

/// E(a)(v) = t_ref / (t_ref + τ ln(v / (v − h_th))) for v > h_th, else 0 (Samadi §2.4; SPEC §1.1).
pub fn rate_closed_form(v: f64, p: &LifParams) -> f64 {
    let h_th = f64::from(p.h_th);
    if v <= h_th {
        return 0.0;
    }
    let t_ref = f64::from(p.t_ref);
    t_ref / (t_ref + f64::from(p.tau) * (v / (v - h_th)).ln())
}

/// The paper's fit of E(a): `max(0, c1 tanh(c2 v))` (eq 2.10), c1 = 0.82, c2 = 0.08, with the branch-free
/// [`tanh`] so that a loop over a layer vectorises (libm's `tanhf` was 60 % of a stepped rate network's time).
#[inline(always)]
pub fn tanh_fit(v: f32, c1: f32, c2: f32) -> f32 {
    (c1 * tanh(c2 * v)).max(0.0)
}

/// tanh(x), branch-free: Cephes' single-precision `tanhf` (an odd degree-11 polynomial for |x| < 0.625, else
/// `(1 − e)/(1 + e)` with e = e^(−2|x|) from [`exp_nonpositive`]), both computed and one selected. Relative error
/// below 5e-7 over the whole f32 range (tested against f64).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    // Both branches computed, one selected: the loops over a layer vectorise.
    let small = tanh_small(x);
    let e = exp_nonpositive(-2.0 * x.abs());
    let large = ((1.0 - e) / (1.0 + e)).copysign(x);
    if x.abs() < 0.625 { small } else { large }
}

/// Cephes' odd polynomial for tanh(x), |x| < 0.625: the branch of [`tanh`] near 0.
#[inline(always)]
fn tanh_small(x: f32) -> f32 {
    let z = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = p.mul_add(z, 2.063_909e-2);
    p = p.mul_add(z, -5.373_971_6e-2);
    p = p.mul_add(z, 1.333_144_2e-1);
    p = p.mul_add(z, -3.333_328e-1);
    (p * z).mul_add(x, x)
}

/// [`tanh_fit`]`(v)` and [`sech2`]`(c2 v)` together, the same bits as the two calls: both are built on
/// e^(−2|c2 v|), computed once here. A stepped nonspiking network needs the activation of every cell on every step
/// and, for its learning layers, the derivative term of the same drive (docs/performance.md, Session 17).
#[inline(always)]
pub fn tanh_fit_with_sech2(v: f32, c1: f32, c2: f32) -> (f32, f32) {
    let x = c2 * v;
    let small = tanh_small(x);
    let e = exp_nonpositive(-2.0 * x.abs());
    let d = 1.0 + e;
    let large = ((1.0 - e) / d).copysign(x);
    let t = if x.abs() < 0.625 { small } else { large };
    ((c1 * t).max(0.0), 4.0 * e / (d * d))
}

/// Derivative of [`tanh_fit`]: `c1 c2 sech²(c2 v)` for v > 0, else 0 (eq 2.11 before dropping c1 c2).
pub fn tanh_fit_derivative(v: f32, c1: f32, c2: f32) -> f32 {
    if v > 0.0 { c1 * c2 * sech2(c2 * v) } else { 0.0 }
}

/// sech²(x) = 4 e^(−2|x|) / (1 + e^(−2|x|))², evaluated with [`exp_nonpositive`] so that loops over it vectorise.
/// Relative error below 1e-6 over the whole f32 range (tested against f64); unlike `1 − tanh²(x)` it does not lose
/// precision to cancellation for large |x|.
#[inline(always)]
pub fn sech2(x: f32) -> f32 {
    let e = exp_nonpositive(-2.0 * x.abs());
    let d = 1.0 + e;
    4.0 * e / (d * d)
}

/// e^x for x ≤ 0, branch-free (Cephes' single-precision `expf`: x = n ln 2 + r with |r| ≤ ln 2 / 2 and a degree-6
/// polynomial for e^r); about 1 ulp. Arguments below −87 (results below the smallest normal f32) give 0.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4; // ln 2, high part (exact in 10 bits)
    const C2: f32 = -2.121_944_4e-4; // ln 2 − C1
    let underflow = x < -87.0;
    let x = x.clamp(-87.0, 0.0);
    // n = round(x / ln 2) = ceil(x·log2e − 0.5) (ties up), kept as a float: an f32 → i32 `as` cast saturates, which
    // compiles to one scalar conversion per lane and stops the loop (the one that forms ι) from vectorising.
    let nf = (x * LOG2E - 0.5).ceil();
    // Fused multiply-adds (one rounding each; one instruction on every CPU we build for: x86-64-v3, aarch64).
    let r = (-nf).mul_add(C2, (-nf).mul_add(C1, x));
    let mut p = 1.987_569_1e-4_f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5); // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let er = (p * r).mul_add(r, r) + 1.0;
    // 2^n from the bits of 2^23 + 127 + n (an exact integer for −126 ≤ n ≤ 0): shifting its low mantissa bits by 23
    // puts 127 + n in the exponent field and drops the rest.
    let two_n = f32::from_bits((nf + 8_388_735.0).to_bits() << 23);
    let y = er * two_n;
    if underflow { 0.0 } else { y }
}

/// The step on which a cell starting from rest under constant drive v first has `h > h_th` (1-based), computed with
/// the same f32 update as the simulator; `None` if it never crosses within `max_steps`.
pub fn steps_to_threshold(v: f32, p: &LifParams, max_steps: usize) -> Option<usize> {
    let (mut h, leak, n_ref) = (0.0_f32, p.leak_factor(), p.refractory_steps());
    for k in 1..=max_steps {
        let (nh, r) = lif_update(h, 0, v, leak, p.h_th, n_ref);
        if r > 0 {
            return Some(k);
        }
        h = nh;
    }
    None
}

/// Exact steady-state firing fraction of the Euler cell under constant drive v: `n_ref / (k* + n_ref − 1)`
/// (module docs), 0 if it never fires.
pub fn euler_steady_rate(v: f32, p: &LifParams) -> f64 {
    // Beyond 10^6 steps (250 s) the rate is below 4e-6: call it silent.
    match steps_to_threshold(v, p, 1_000_000) {
        Some(k) => {
            let n = f64::from(p.refractory_steps());
            n / (k as f64 + n - 1.0)
        }
        None => 0.0,
    }
}

/// Upper bound on `euler_steady_rate(v) − rate_closed_form(v)` (module docs); the lower bound is 0.
pub fn euler_rate_error_bound(v: f64, p: &LifParams) -> f64 {
    let h_th = f64::from(p.h_th);
    if v <= h_th {
        return 0.0;
    }
    let (dt, tau, t_ref) = (f64::from(p.dt), f64::from(p.tau), f64::from(p.t_ref));
    let tau_euler = -dt / (1.0 - dt / tau).ln();
    let t_euler = tau_euler * (v / (v - h_th)).ln();
    let upper = (t_ref / (t_ref + t_euler - dt)).min(1.0);
    upper - rate_closed_form(v, p)
}

/// The protocol of Samadi Appendix A (SPEC §1.1): each drive of `drives` held constant on its own cell from rest for
/// `steps` steps; returns the activity of every cell on the steps after the first `settle`, `[drives, steps − settle]`.
/// The paper: 1000 drives uniform in [−50, 50], 400 steps, settle 80 (the first 20 ms).
pub fn appendix_a(params: &LifParams, drives: &[f32], steps: usize, settle: usize) -> ndarray::Array2<f32> {
    use crate::lif::LifState;
    let n = drives.len();
    let mut cells = LifState::new(1, n);
    let v = ndarray::Array2::from_shape_vec((1, n), drives.to_vec()).expect("one row of drives");
    let mut out = ndarray::Array2::zeros((n, steps.saturating_sub(settle)));
    for s in 0..steps {
        cells.step(params, v.view());
        if s >= settle {
            out.column_mut(s - settle).assign(&cells.a.row(0));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_paper_points() {
        let p = LifParams::SAMADI;
        assert_eq!(rate_closed_form(0.4, &p), 0.0);
        assert_eq!(rate_closed_form(-3.0, &p), 0.0);
        // v = 1: T = 20 ln(1/0.6) = 10.2165 ms → E = 1 / 11.2165
        assert!((rate_closed_form(1.0, &p) - 1.0 / (1.0 + 20.0 * (1.0f64 / 0.6).ln())).abs() < 1e-7);
    }

    #[test]
    fn the_fused_activation_and_sech2_are_the_separate_calls_bit_for_bit() {
        // Magnitudes from 1e-6 to beyond the underflow of e^(−2|c2 v|), both signs, through both branches of tanh.
        let mut m = 1e-6f32;
        let mut checked = 0;
        while m < 3000.0 {
            for v in [m, -m] {
                let (a, s) = tanh_fit_with_sech2(v, 0.82, 0.08);
                assert_eq!(a.to_bits(), tanh_fit(v, 0.82, 0.08).to_bits(), "activation at v = {v}");
                assert_eq!(s.to_bits(), sech2(0.08 * v).to_bits(), "sech² at v = {v}");
                checked += 1;
            }
            m *= 1.001;
        }
        assert!(checked > 10_000, "{checked}");
        let (a, s) = tanh_fit_with_sech2(0.0, 0.82, 0.08);
        assert_eq!((a, s), (0.0, 1.0));
    }

    #[test]
    fn tanh_fit_is_rectified_and_its_derivative_matches_finite_differences() {
        assert_eq!(tanh_fit(-5.0, 0.82, 0.08), 0.0);
        for v in [0.5f32, 3.0, 8.0, 20.0, 45.0] {
            let h = 1e-2;
            let fd = (tanh_fit(v + h, 0.82, 0.08) - tanh_fit(v - h, 0.82, 0.08)) / (2.0 * h);
            assert!((fd - tanh_fit_derivative(v, 0.82, 0.08)).abs() < 1e-4, "v={v}");
        }
        assert_eq!(tanh_fit_derivative(0.0, 0.82, 0.08), 0.0);
        assert_eq!(tanh_fit_derivative(-1.0, 0.82, 0.08), 0.0);
    }

    #[test]
    fn tanh_matches_f64_to_float_precision() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..=400_000 {
            let x = (-20.0 + 40.0 * f64::from(i) / 400_000.0) as f32;
            let exact = f64::from(x).tanh();
            let rel = (f64::from(tanh(x)) - exact).abs() / exact.abs().max(1e-30);
            if rel > worst.0 {
                worst = (rel, f64::from(x));
            }
        }
        assert!(worst.0 < 5e-7, "tanh relative error {} at x = {}", worst.0, worst.1);
        for x in [1e-30_f32, 1e-6, 0.3, 0.624_999_9, 0.625, 3.0, 50.0, f32::MAX] {
            let exact = f64::from(x).tanh();
            assert!((f64::from(tanh(x)) - exact).abs() <= 5e-7 * exact, "tanh({x})");
            assert_eq!(tanh(-x), -tanh(x), "odd at {x}");
        }
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn sech2_and_exp_match_f64_to_float_precision() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..=400_000 {
            let x = -60.0 + 120.0 * f64::from(i) / 400_000.0;
            let exact = 1.0 / x.cosh().powi(2);
            let got = f64::from(sech2(x as f32));
            let exact_at_f32 = 1.0 / f64::from(x as f32).cosh().powi(2);
            // Below the f32 normal range (|x| > 43.6) only an absolute error is meaningful.
            let rel = (got - exact_at_f32).abs() / exact_at_f32.max(1e-30);
            if rel > worst.0 {
                worst = (rel, x);
            }
            assert!(exact > 0.0);
        }
        assert!(worst.0 < 1e-6, "sech2 relative error {} at x = {}", worst.0, worst.1);
        for i in 0..=100_000 {
            let x = -87.0 * f64::from(i) / 100_000.0;
            let got = f64::from(exp_nonpositive(x as f32));
            let exact = f64::from(x as f32).exp();
            assert!(((got - exact) / exact).abs() < 3e-7, "exp({x}) = {got} vs {exact}");
        }
        assert_eq!(sech2(0.0), 1.0);
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(sech2(60.0), 0.0);
    }

    /// The float-only range reduction gives the same bits as one through an integer cast (n = (x·log2e − 0.5) as
    /// i32, 2^n = from_bits((n + 127) << 23)), on every 37th f32 in [−87, 0] (about 29 million values).
    #[test]
    fn exp_float_range_reduction_equals_the_integer_cast() {
        fn by_int_cast(x: f32) -> f32 {
            let underflow = x < -87.0;
            let x = x.clamp(-87.0, 0.0);
            let n = (x * std::f32::consts::LOG2_E - 0.5) as i32;
            let nf = n as f32;
            let r = (-nf).mul_add(-2.121_944_4e-4, (-nf).mul_add(0.693_359_4, x));
            let mut p = 1.987_569_1e-4_f32;
            for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
                p = p.mul_add(r, c);
            }
            let y = ((p * r).mul_add(r, r) + 1.0) * f32::from_bits(((n + 127) as u32) << 23);
            if underflow { 0.0 } else { y }
        }
        let (lo, hi) = ((-87.0f32).to_bits(), (-0.0f32).to_bits()); // negative floats: bits grow with magnitude
        for bits in (hi..=lo).step_by(37).chain([lo, hi, 0]) {
            let x = f32::from_bits(bits);
            assert_eq!(exp_nonpositive(x).to_bits(), by_int_cast(x).to_bits(), "x = {x:e}");
        }
    }

    #[test]
    fn appendix_a_records_the_activity_after_settling() {
        let p = LifParams::SAMADI;
        let a = appendix_a(&p, &[-5.0, 0.4, 1.0, 50.0], 400, 80);
        assert_eq!(a.dim(), (4, 320));
        assert_eq!(a.row(0).sum(), 0.0);
        assert_eq!(a.row(1).sum(), 0.0);
        assert_eq!(a.row(3).sum(), 320.0);
        // v = 1: onsets at steps 40, 84, …, period 44 (see the LIF tests): 4 active steps per period.
        let expected: f32 = (80..400).filter(|s| (s - 40) % 44 < 4).count() as f32;
        assert_eq!(a.row(2).sum(), expected);
    }

    #[test]
    fn tanh_fit_approximates_the_closed_form() {
        // SPEC §1: with τ = 20 ms the fit's RMSE against E(a) over [0, 50] is about 0.033.
        let p = LifParams::SAMADI;
        let n = 5000;
        let mse: f64 = (1..=n)
            .map(|i| {
                let v = 50.0 * i as f64 / n as f64;
                (rate_closed_form(v, &p) - f64::from(tanh_fit(v as f32, 0.82, 0.08))).powi(2)
            })
            .sum::<f64>()
            / n as f64;
        assert!(mse.sqrt() < 0.04, "rmse {}", mse.sqrt());
    }
}
