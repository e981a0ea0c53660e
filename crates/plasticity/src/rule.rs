//! The intracellular teaching signal ι and the learning-rate rules (Samadi eqs 2.8, 2.11; SPEC §2.2, §2.4).

use ndarray::{ArrayBase, ArrayView2, ArrayViewMut2, DataMut, Ix2, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use snn_neuron::rate::{exp_nonpositive, sech2};

/// The derivative term of ι, by algorithm (SPEC §2.2 table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Derivative {
    /// `sech²(c2 v)` for v > 0, else 0: broadcast alignment in LIF cells (eq 2.11, c1 c2 dropped).
    Sech2 {
        /// Fit constant c2 (0.08).
        c2: f32,
    },
    /// `c1 c2 sech²(c2 v)` for v > 0, else 0: the exact derivative of the tanh fit (nonspiking networks).
    TanhFit {
        /// Fit constant c1 (0.82).
        c1: f32,
        /// Fit constant c2 (0.08).
        c2: f32,
    },
    /// `sech²(c2 v)` for every v: the derivative of the unrectified tanh, passed through the rectifier (an option for
    /// nonspiking networks, `learning.rectified_derivative: false`; see `docs/results.md`).
    Sech2Unmasked {
        /// Fit constant c2 (0.08).
        c2: f32,
    },
    /// `c1 c2 sech²(c2 v)` for every v (the chained counterpart of [`Derivative::Sech2Unmasked`]).
    TanhFitUnmasked {
        /// Fit constant c1 (0.82).
        c1: f32,
        /// Fit constant c2 (0.08).
        c2: f32,
    },
    /// `sech²(c2 v) σ(v / scale)`: eq 2.11's derivative with its step at v = 0 softened into the logistic σ, the
    /// probability that v plus a logistic noise of that scale is above 0 (`learning.rectifier_noise_sd`, an option
    /// for nonspiking networks). A LIF cell's drive varies from step to step with its input spikes, so its rectified
    /// derivative, averaged over a presentation, is not 0 where its mean drive is below 0 (docs/results.md, "When a
    /// class dies"); a rate cell's drive has no such noise, and this lends it the average.
    Sech2Soft {
        /// Fit constant c2 (0.08).
        c2: f32,
        /// Scale of the logistic noise (its standard deviation times √3/π).
        scale: f32,
    },
    /// `c1 c2 sech²(c2 v) σ(v / scale)` (the chained counterpart of [`Derivative::Sech2Soft`]).
    TanhFitSoft {
        /// Fit constant c1 (0.82).
        c1: f32,
        /// Fit constant c2 (0.08).
        c2: f32,
        /// Scale of the logistic noise.
        scale: f32,
    },
    /// 1 everywhere: the derivative-free algorithm (DF).
    One,
}

/// The logistic function `1 / (1 + e^(−x))`, branch-free (both forms computed from `e^(−|x|)`, one selected) so
/// that loops over it vectorise.
#[inline(always)]
pub fn logistic(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let p = 1.0 / (1.0 + e);
    if x >= 0.0 { p } else { e * p }
}

impl Derivative {
    /// The derivative term at drive v.
    #[inline(always)]
    pub fn at(self, v: f32) -> f32 {
        match self {
            Derivative::Sech2 { c2 } => {
                if v > 0.0 {
                    sech2(c2 * v)
                } else {
                    0.0
                }
            }
            Derivative::TanhFit { c1, c2 } => {
                if v > 0.0 {
                    c1 * c2 * sech2(c2 * v)
                } else {
                    0.0
                }
            }
            Derivative::Sech2Unmasked { c2 } => sech2(c2 * v),
            Derivative::TanhFitUnmasked { c1, c2 } => c1 * c2 * sech2(c2 * v),
            Derivative::Sech2Soft { c2, scale } => sech2(c2 * v) * logistic(v / scale),
            Derivative::TanhFitSoft { c1, c2, scale } => c1 * c2 * sech2(c2 * v) * logistic(v / scale),
            Derivative::One => 1.0,
        }
    }
}

impl Derivative {
    /// [`Derivative::at`] given `s = sech²(c2 v)` already computed with this derivative's c2
    /// ([`Derivative::sech2_scale`]): the same bits, without evaluating sech² again.
    #[inline(always)]
    pub fn at_with_sech2(self, v: f32, s: f32) -> f32 {
        match self {
            Derivative::Sech2 { .. } => {
                if v > 0.0 {
                    s
                } else {
                    0.0
                }
            }
            Derivative::TanhFit { c1, c2 } => {
                if v > 0.0 {
                    c1 * c2 * s
                } else {
                    0.0
                }
            }
            Derivative::Sech2Unmasked { .. } => s,
            Derivative::TanhFitUnmasked { c1, c2 } => c1 * c2 * s,
            Derivative::Sech2Soft { scale, .. } => s * logistic(v / scale),
            Derivative::TanhFitSoft { c1, c2, scale } => c1 * c2 * s * logistic(v / scale),
            Derivative::One => 1.0,
        }
    }

    /// The c2 of the `sech²(c2 v)` this derivative evaluates (`None` for [`Derivative::One`]).
    pub fn sech2_scale(self) -> Option<f32> {
        match self {
            Derivative::Sech2 { c2 }
            | Derivative::TanhFit { c2, .. }
            | Derivative::Sech2Unmasked { c2 }
            | Derivative::TanhFitUnmasked { c2, .. }
            | Derivative::Sech2Soft { c2, .. }
            | Derivative::TanhFitSoft { c2, .. } => Some(c2),
            Derivative::One => None,
        }
    }
}

/// [`teaching_signal_into`] with `s = sech²(c2 v)` of every cell given (computed with the activation, by
/// `snn_neuron::rate::tanh_fit_with_sech2`): the same bits, one exponential per cell fewer. `s` must have been
/// computed with `derivative`'s c2 ([`Derivative::sech2_scale`]); it is not read for [`Derivative::One`]. All four
/// arrays are `[examples, cells]` and contiguous.
///
/// # Panics
/// If an array is not contiguous or the shapes differ.
pub fn teaching_signal_with_sech2_into(
    iota: &mut ArrayBase<impl DataMut<Elem = f32>, Ix2>,
    v: ArrayView2<'_, f32>,
    s: ArrayView2<'_, f32>,
    delta: ArrayView2<'_, f32>,
    eta: f32,
    derivative: Derivative,
) {
    const CHUNK: usize = 16 * 1024;
    let contiguous = "teaching_signal_with_sech2_into takes contiguous arrays";
    assert!(
        iota.dim() == v.dim() && v.dim() == s.dim() && s.dim() == delta.dim(),
        "shapes of ι, v, s and δ"
    );
    let (i, v, s, d) = (
        iota.as_slice_mut().expect(contiguous),
        v.as_slice().expect(contiguous),
        s.as_slice().expect(contiguous),
        delta.as_slice().expect(contiguous),
    );
    let run = |i: &mut [f32], v: &[f32], s: &[f32], d: &[f32]| match derivative {
        Derivative::Sech2 { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::TanhFit { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::Sech2Unmasked { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::TanhFitUnmasked { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::Sech2Soft { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::TanhFitSoft { .. } => fill_with_sech2(i, v, s, d, |v, s| eta * derivative.at_with_sech2(v, s)),
        Derivative::One => fill_with_sech2(i, v, s, d, |_, _| eta),
    };
    if i.len() <= CHUNK {
        run(i, v, s, d);
    } else {
        i.par_chunks_mut(CHUNK)
            .zip(v.par_chunks(CHUNK))
            .zip(s.par_chunks(CHUNK))
            .zip(d.par_chunks(CHUNK))
            .for_each(|(((i, v), s), d)| run(i, v, s, d));
    }
}

#[inline(always)]
fn fill_with_sech2<F: Fn(f32, f32) -> f32>(iota: &mut [f32], v: &[f32], s: &[f32], delta: &[f32], factor: F) {
    let n = iota.len();
    let (v, s, delta) = (&v[..n], &s[..n], &delta[..n]);
    for k in 0..n {
        iota[k] = factor(v[k], s[k]) * delta[k];
    }
}

/// Calls `apply(args…, factor)` with the factor `v ↦ η f'(v)` of `derivative`: one monomorphised call per
/// derivative, so that each loop vectorises.
macro_rules! with_factor {
    ($derivative:expr, $eta:expr, $apply:ident($($arg:expr),*)) => {
        match $derivative {
            Derivative::Sech2 { c2 } => $apply($($arg,)* |v| $eta * Derivative::Sech2 { c2 }.at(v)),
            Derivative::TanhFit { c1, c2 } => $apply($($arg,)* |v| $eta * Derivative::TanhFit { c1, c2 }.at(v)),
            Derivative::Sech2Unmasked { c2 } => $apply($($arg,)* |v| $eta * Derivative::Sech2Unmasked { c2 }.at(v)),
            Derivative::TanhFitUnmasked { c1, c2 } => {
                $apply($($arg,)* |v| $eta * Derivative::TanhFitUnmasked { c1, c2 }.at(v))
            }
            Derivative::Sech2Soft { c2, scale } => {
                $apply($($arg,)* |v| $eta * Derivative::Sech2Soft { c2, scale }.at(v))
            }
            Derivative::TanhFitSoft { c1, c2, scale } => {
                $apply($($arg,)* |v| $eta * Derivative::TanhFitSoft { c1, c2, scale }.at(v))
            }
            Derivative::One => $apply($($arg,)* |_| $eta),
        }
    };
}

/// `ι = η · f'(v) · δ`, elementwise over `[examples, cells]`, written into `iota` (eq 2.11). Large arrays are split
/// into fixed chunks computed in parallel.
pub fn teaching_signal_into(
    iota: &mut ArrayBase<impl DataMut<Elem = f32>, Ix2>,
    v: ArrayView2<'_, f32>,
    delta: ArrayView2<'_, f32>,
    eta: f32,
    derivative: Derivative,
) {
    const CHUNK: usize = 16 * 1024;
    match (iota.as_slice_mut(), v.as_slice(), delta.as_slice()) {
        (Some(i), Some(v), Some(d)) if i.len() == v.len() && i.len() == d.len() => {
            if i.len() <= CHUNK {
                teaching_signal_slices(i, v, d, eta, derivative);
            } else {
                i.par_chunks_mut(CHUNK)
                    .zip(v.par_chunks(CHUNK))
                    .zip(d.par_chunks(CHUNK))
                    .for_each(|((i, v), d)| teaching_signal_slices(i, v, d, eta, derivative));
            }
        }
        _ => teaching_signal_block(&mut iota.view_mut(), v, delta, eta, derivative),
    }
}

/// [`teaching_signal_into`] for a block of cells (views whose rows are contiguous, as column blocks of
/// `[examples, cells]` arrays are), serially: the caller runs blocks in parallel.
pub fn teaching_signal_block(
    iota: &mut ArrayViewMut2<'_, f32>,
    v: ArrayView2<'_, f32>,
    delta: ArrayView2<'_, f32>,
    eta: f32,
    derivative: Derivative,
) {
    Zip::from(iota.rows_mut())
        .and(v.rows())
        .and(delta.rows())
        .for_each(|mut i, v, d| match (i.as_slice_mut(), v.as_slice(), d.as_slice()) {
            (Some(i), Some(v), Some(d)) => teaching_signal_slices(i, v, d, eta, derivative),
            _ => Zip::from(&mut i)
                .and(&v)
                .and(&d)
                .for_each(|i, &v, &d| *i = eta * derivative.at(v) * d),
        });
}

/// The broadcast feedback `δ = e B_BAᵀ` (eq 2.7) and the teaching signal `ι = η f'(v) δ` (eq 2.11) of a block of
/// hidden cells, one example (row) at a time: `error` is `[examples, outputs]`, `b_t` the block's columns of B_BAᵀ
/// (`[outputs, block cells]`), `v` the block's drive. δ is a sum of rows of `b_t` in output order; outputs whose error
/// is 0 (most of them: e is a difference of spikes) are skipped, and an example whose error is 0 altogether gets
/// δ = ι = 0 without evaluating f' (in a trained network, most examples on most steps). Skipping changes nothing:
/// those terms are exactly zero.
pub fn broadcast_teaching_block(
    delta: &mut ArrayViewMut2<'_, f32>,
    iota: &mut ArrayViewMut2<'_, f32>,
    v: ArrayView2<'_, f32>,
    error: ArrayView2<'_, f32>,
    b_t: ArrayView2<'_, f32>,
    eta: f32,
    derivative: Derivative,
) {
    assert_eq!(delta.dim(), (error.nrows(), b_t.ncols()), "feedback block shape");
    assert_eq!(iota.dim(), delta.dim(), "teaching signal block shape");
    assert_eq!(v.dim(), delta.dim(), "drive block shape");
    assert_eq!(error.ncols(), b_t.nrows(), "one row of B_BAᵀ per output");
    let contiguous = "rows of a block are contiguous";
    Zip::from(delta.rows_mut())
        .and(iota.rows_mut())
        .and(v.rows())
        .and(error.rows())
        .for_each(|mut d, mut i, v, e| {
            let (d, i) = (d.as_slice_mut().expect(contiguous), i.as_slice_mut().expect(contiguous));
            d.fill(0.0);
            if e.iter().all(|&e| e == 0.0) {
                i.fill(0.0);
                return;
            }
            for (&e, b) in e.iter().zip(b_t.rows()) {
                if e != 0.0 {
                    for (d, &b) in d.iter_mut().zip(b.to_slice().expect(contiguous)) {
                        *d += e * b;
                    }
                }
            }
            teaching_signal_slices(i, v.to_slice().expect(contiguous), d, eta, derivative);
        });
}

/// [`broadcast_teaching_block`] for the examples named in `active` alone, compacted: row k of `iota` receives the
/// teaching signal of example `active[k]` (the same bits as that function's row), δ is not kept. This is the form the
/// updates consume (silent examples have ι = 0 and add nothing); `iota` needs at least `active.len()` rows.
pub fn broadcast_teaching_rows(
    iota: &mut ArrayViewMut2<'_, f32>,
    v: ArrayView2<'_, f32>,
    error: ArrayView2<'_, f32>,
    active: &[usize],
    b_t: ArrayView2<'_, f32>,
    eta: f32,
    derivative: Derivative,
) {
    assert!(iota.nrows() >= active.len(), "one row of ι per active example");
    assert_eq!(iota.ncols(), b_t.ncols(), "teaching signal block width");
    assert_eq!(v.dim(), (error.nrows(), b_t.ncols()), "drive block shape");
    assert_eq!(error.ncols(), b_t.nrows(), "one row of B_BAᵀ per output");
    let contiguous = "rows of a block are contiguous";
    for (mut i, &e) in iota.rows_mut().into_iter().zip(active) {
        // δ is summed in place in ι's row, then scaled by η f'(v): the same operations, in the same order, as
        // broadcast_teaching_block.
        let i = i.as_slice_mut().expect(contiguous);
        i.fill(0.0);
        for (&err, b) in error.row(e).iter().zip(b_t.rows()) {
            if err != 0.0 {
                for (d, &b) in i.iter_mut().zip(b.to_slice().expect(contiguous)) {
                    *d += err * b;
                }
            }
        }
        teaching_signal_in_place(i, v.row(e).to_slice().expect(contiguous), eta, derivative);
    }
}

/// ι = η f'(v) δ over contiguous cells, with δ given in `i` and replaced by ι.
fn teaching_signal_in_place(i: &mut [f32], v: &[f32], eta: f32, derivative: Derivative) {
    with_factor!(derivative, eta, scale(i, v));
}

#[inline(always)]
fn scale<F: Fn(f32) -> f32>(i: &mut [f32], v: &[f32], factor: F) {
    let v = &v[..i.len()];
    for k in 0..i.len() {
        i[k] *= factor(v[k]); // the same product as fill's (multiplication commutes exactly)
    }
}

/// ι = η f'(v) δ over contiguous cells.
fn teaching_signal_slices(i: &mut [f32], v: &[f32], d: &[f32], eta: f32, derivative: Derivative) {
    with_factor!(derivative, eta, fill(i, v, d));
}

#[inline(always)]
fn fill<F: Fn(f32) -> f32>(iota: &mut [f32], v: &[f32], delta: &[f32], factor: F) {
    let n = iota.len();
    let (v, delta) = (&v[..n], &delta[..n]);
    for k in 0..n {
        iota[k] = factor(v[k]) * delta[k];
    }
}

/// Per-layer learning-rate constant η (SPEC §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LearningRate {
    /// η = 1 / fan-in (the paper's rule: 1/784 for the first hidden layer of MNIST nets).
    FanIn,
    /// η = 1 / fan-in, times a factor.
    FanInScaled(f32),
    /// The same η for every layer.
    Fixed(f32),
}

impl LearningRate {
    /// η of a layer with the given fan-in.
    pub fn eta(self, fan_in: usize) -> f32 {
        match self {
            LearningRate::FanIn => 1.0 / fan_in as f32,
            LearningRate::FanInScaled(k) => k / fan_in as f32,
            LearningRate::Fixed(eta) => eta,
        }
    }
}

/// How the per-example updates of a minibatch are combined into one (SPEC §2.4: not stated by the paper).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchReduction {
    /// Sum over the examples of the minibatch.
    Sum,
    /// Mean over the examples of the minibatch.
    Mean,
}

impl BatchReduction {
    /// The factor applied to the summed update of a batch of `batch` examples.
    pub fn scale(self, batch: usize) -> f32 {
        match self {
            BatchReduction::Sum => 1.0,
            BatchReduction::Mean => 1.0 / batch as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The teaching signal from a precomputed sech² is the direct one, bit for bit, for every derivative, both signs of
    /// v and arrays larger than one parallel chunk.
    #[test]
    fn the_teaching_signal_from_a_given_sech2_is_the_direct_one_bit_for_bit() {
        use ndarray::Array2;
        let (rows, cols) = (20, 1000);
        let v = Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r * 7919 + c * 104_729) % 2001) as f32 * 0.11 - 110.0
        });
        let delta = Array2::from_shape_fn((rows, cols), |(r, c)| ((r * 31 + c * 17) % 13) as f32 * 0.07 - 0.4);
        for derivative in [
            Derivative::Sech2 { c2: 0.08 },
            Derivative::TanhFit { c1: 0.82, c2: 0.08 },
            Derivative::Sech2Unmasked { c2: 0.08 },
            Derivative::TanhFitUnmasked { c1: 0.82, c2: 0.08 },
            Derivative::Sech2Soft { c2: 0.08, scale: 2.76 },
            Derivative::TanhFitSoft {
                c1: 0.82,
                c2: 0.08,
                scale: 2.76,
            },
            Derivative::One,
        ] {
            let c2 = derivative.sech2_scale().unwrap_or(0.08);
            let s = v.mapv(|v| sech2(c2 * v));
            let mut direct = Array2::zeros((rows, cols));
            let mut given = Array2::from_elem((rows, cols), f32::NAN);
            teaching_signal_into(&mut direct, v.view(), delta.view(), 1.0 / 784.0, derivative);
            teaching_signal_with_sech2_into(&mut given, v.view(), s.view(), delta.view(), 1.0 / 784.0, derivative);
            let same = direct.iter().zip(&given).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{derivative:?}");
            assert!(direct.iter().any(|&x| x != 0.0), "{derivative:?}: a signal to compare");
        }
    }

    use super::*;
    use ndarray::{Array2, array};

    /// The logistic against f64, and the softened rectifier between the hard one and none: 0.5 of sech² at v = 0,
    /// the hard derivative's value away from 0 when the scale is small, never above the unmasked derivative, and
    /// above 0 below v = 0 where the hard one is 0.
    #[test]
    fn the_soft_rectifier_lies_between_the_hard_one_and_none() {
        for k in -4000..=4000 {
            let x = k as f32 * 0.01;
            let exact = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!(
                ((logistic(x) as f64 - exact) / exact).abs() <= 1e-6,
                "{x}: {} against {exact}",
                logistic(x)
            );
        }
        let (c1, c2) = (0.82, 0.08);
        let soft = Derivative::Sech2Soft { c2, scale: 2.76 };
        let chained = Derivative::TanhFitSoft { c1, c2, scale: 2.76 };
        assert!((soft.at(0.0) - 0.5).abs() < 1e-7);
        for k in -600..=600 {
            let v = k as f32 * 0.1;
            let (hard, none) = (Derivative::Sech2 { c2 }.at(v), Derivative::Sech2Unmasked { c2 }.at(v));
            assert!(soft.at(v) <= none && soft.at(v) > 0.0, "{v}");
            assert!(
                (chained.at(v) - c1 * c2 * soft.at(v)).abs() <= 1e-6 * chained.at(v),
                "{v}"
            );
            if v.abs() >= 1.0 {
                let sharp = Derivative::Sech2Soft { c2, scale: 0.01 }.at(v);
                assert!((sharp - hard).abs() <= 1e-6, "{v}: {sharp} against {hard}");
            }
            if v < -0.5 {
                assert!(
                    soft.at(v) < 0.5 * none,
                    "{v}: below 0 the rectifier passes less than half"
                );
            }
        }
    }

    #[test]
    fn teaching_signal_by_hand() {
        let v = array![[-1.0f32, 0.0, 10.0]];
        let d = array![[0.5f32, 0.5, -2.0]];
        let mut iota = Array2::zeros((1, 3));
        teaching_signal_into(&mut iota, v.view(), d.view(), 0.1, Derivative::Sech2 { c2: 0.08 });
        let s = 1.0 - (0.8f32).tanh().powi(2);
        assert_eq!(iota[[0, 0]], 0.0);
        assert_eq!(iota[[0, 1]], 0.0, "v = 0 is not > 0");
        assert!((iota[[0, 2]] - 0.1 * s * -2.0).abs() < 1e-7);
        teaching_signal_into(&mut iota, v.view(), d.view(), 0.1, Derivative::One);
        assert_eq!(iota, array![[0.05f32, 0.05, -0.2]]);
    }

    /// The compact rows the updates use are bit for bit the rows of the whole arrays observers see, and the
    /// silent examples' rows there are zero.
    #[test]
    fn compact_teaching_rows_equal_the_whole_block() {
        let (examples, outputs, cells) = (7, 3, 20);
        let val = |i: usize, j: usize, k: usize| (((i * 31 + j * 17 + k * 7) % 23) as f32 - 11.0) / 4.0;
        let v = Array2::from_shape_fn((examples, cells), |(e, c)| val(e, c, 1) * 10.0);
        let b_t = Array2::from_shape_fn((outputs, cells), |(o, c)| val(o, c, 2));
        // Examples 1, 3 and 4 are silent; the others have one or more outputs in error.
        let error = Array2::from_shape_fn((examples, outputs), |(e, o)| match e {
            1 | 3 | 4 => 0.0,
            _ if (e + o) % 2 == 0 => 1.0,
            _ => -1.0,
        });
        let active = [0, 2, 5, 6];
        for derivative in [Derivative::Sech2 { c2: 0.08 }, Derivative::One] {
            let (mut delta, mut iota) = (Array2::zeros((examples, cells)), Array2::zeros((examples, cells)));
            let eta = 0.01;
            broadcast_teaching_block(
                &mut delta.view_mut(),
                &mut iota.view_mut(),
                v.view(),
                error.view(),
                b_t.view(),
                eta,
                derivative,
            );
            let mut rows = Array2::from_elem((examples, cells), f32::NAN);
            broadcast_teaching_rows(
                &mut rows.view_mut(),
                v.view(),
                error.view(),
                &active,
                b_t.view(),
                eta,
                derivative,
            );
            for (k, &e) in active.iter().enumerate() {
                assert_eq!(rows.row(k), iota.row(e), "example {e}");
                assert!(
                    iota.row(e).iter().any(|&x| x != 0.0),
                    "example {e} has a teaching signal"
                );
            }
            for e in [1, 3, 4] {
                assert!(
                    iota.row(e).iter().chain(delta.row(e)).all(|&x| x == 0.0),
                    "silent example {e}"
                );
            }
            assert!(
                rows.rows()
                    .into_iter()
                    .skip(active.len())
                    .all(|r| r.iter().all(|x| x.is_nan()))
            );
        }
    }

    #[test]
    fn learning_rates_and_reductions() {
        assert_eq!(LearningRate::FanIn.eta(784), 1.0 / 784.0);
        assert_eq!(LearningRate::FanInScaled(2.0).eta(1000), 0.002);
        assert_eq!(LearningRate::Fixed(0.5).eta(3), 0.5);
        assert_eq!(BatchReduction::Sum.scale(100), 1.0);
        assert_eq!(BatchReduction::Mean.scale(100), 0.01);
    }
}
