//! The leaky integrate-and-fire cell of Samadi, Lillicrap & Tweed (2017), SPEC §1 and the paper's Table 1.
//!
//! Units: time in ms, potentials in decivolts (0 = rest, 1 = spike peak).
//!
//! Per cell and step, in exactly Table 1's order (SPEC §1):
//!
//! ```text
//! if ref > 0:     ref += Δt
//! if ref > t_ref: ref = 0
//! if ref > 0:     h = 0           else: h += (v − h) Δt/τ
//! if h > h_th:    ref = ε
//! a = (ref > 0) ? 1 : 0
//! ```
//!
//! `ref` is kept as an integer step counter `r` (SPEC §1: "use an integer step counter"): `r = 0` means not refractory,
//! `r = k ≥ 1` means `ref = ε + (k − 1) Δt`. The test `ref > t_ref` becomes `k − 1 ≥ t_ref/Δt`, so a spike lasts
//! exactly `n_ref = ceil(t_ref / Δt)` steps (4 for the paper's 1 ms at 0.25 ms).

use crate::column_blocks::ColumnBlocks;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};
use rayon::prelude::*;
use thiserror::Error;

/// Invalid neuron parameters.
#[derive(Debug, Error, PartialEq)]
pub enum NeuronError {
    /// A parameter is outside its physical range.
    #[error("{field} = {value}: {expected}")]
    OutOfRange {
        /// Name of the parameter.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
}

/// Constants of the LIF cell (SPEC §1 table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LifParams {
    /// Euler step Δt in ms (paper: 0.25).
    pub dt: f32,
    /// Membrane time constant τ in ms (paper: 20; §2.1's "2 ms" is a typo, SPEC §1).
    pub tau: f32,
    /// Threshold h_th of the hillock potential (paper: 0.4).
    pub h_th: f32,
    /// Refractory period t_ref in ms (paper: 1), during which a = 1 and h is pinned at 0.
    pub t_ref: f32,
}

impl LifParams {
    /// The constants of Samadi et al. (2017), Table 1 with SPEC §1's correction τ = 20 ms.
    pub const SAMADI: Self = Self {
        dt: 0.25,
        tau: 20.0,
        h_th: 0.4,
        t_ref: 1.0,
    };

    /// Validates the constants: Δt > 0, τ > Δt (else the Euler update overshoots), h_th > 0, t_ref ≥ Δt.
    pub fn check(&self) -> Result<(), NeuronError> {
        let bad = |field, value: f32, expected| {
            Err(NeuronError::OutOfRange {
                field,
                value: f64::from(value),
                expected,
            })
        };
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return bad("dt", self.dt, "a time step > 0 ms");
        }
        if !(self.tau.is_finite() && self.tau > self.dt) {
            return bad("tau", self.tau, "a time constant > dt (ms)");
        }
        if !(self.h_th.is_finite() && self.h_th > 0.0) {
            return bad("h_th", self.h_th, "a threshold > 0 (decivolts)");
        }
        if !(self.t_ref.is_finite() && self.t_ref >= self.dt && self.t_ref / self.dt <= 250.0) {
            return bad(
                "t_ref",
                self.t_ref,
                "a refractory period with dt <= t_ref <= 250 dt (ms)",
            );
        }
        Ok(())
    }

    /// Number of steps a spike lasts: `ceil(t_ref / Δt)`, with a relative tolerance of 1e-6 so that 1 ms / 0.25 ms
    /// is 4, not 5.
    pub fn refractory_steps(&self) -> u32 {
        let ratio = f64::from(self.t_ref) / f64::from(self.dt);
        (ratio - 1e-6 * ratio).ceil().max(1.0) as u32
    }

    /// The Euler factor Δt/τ used in `h += (v − h) · (Δt/τ)`.
    pub fn leak_factor(&self) -> f32 {
        self.dt / self.tau
    }
}

impl Default for LifParams {
    fn default() -> Self {
        Self::SAMADI
    }
}

/// State of a batch of LIF populations: `[examples, cells]` arrays of hillock potential, refractory counter and
/// activity.
#[derive(Clone, Debug, PartialEq)]
pub struct LifState {
    /// Hillock potential h.
    pub h: Array2<f32>,
    /// Integer refractory counter (0 = not refractory; k = k-th step of the spike).
    pub refractory: Array2<u32>,
    /// Activity a ∈ {0, 1} of this step, as f32 so it feeds matrix products directly.
    pub a: Array2<f32>,
}

impl LifState {
    /// A resting population (h = 0, not refractory, silent) of `examples × cells`.
    pub fn new(examples: usize, cells: usize) -> Self {
        Self {
            h: Array2::zeros((examples, cells)),
            refractory: Array2::zeros((examples, cells)),
            a: Array2::zeros((examples, cells)),
        }
    }

    /// Back to rest (SPEC §2.4: state is reset between examples).
    pub fn reset(&mut self) {
        self.h.fill(0.0);
        self.refractory.fill(0);
        self.a.fill(0.0);
    }

    /// Advances every cell by one Euler step under drive `v` (`[examples, cells]`), in Table 1's order.
    ///
    /// One fused pass over the state; large populations are split into fixed chunks of [`CHUNK`] cells stepped in
    /// parallel (elementwise, so the result does not depend on the split).
    ///
    /// # Panics
    /// If `v` does not have the state's shape (a programming error, not a user input).
    pub fn step(&mut self, params: &LifParams, v: ArrayView2<'_, f32>) {
        assert_eq!(v.dim(), self.h.dim(), "drive shape must match the population");
        let k = params.leak_factor();
        let th = params.h_th;
        let n_ref = params.refractory_steps();
        match (
            self.h.as_slice_mut(),
            self.refractory.as_slice_mut(),
            self.a.as_slice_mut(),
            v.as_slice(),
        ) {
            (Some(h), Some(r), Some(a), Some(v)) => {
                if h.len() <= CHUNK {
                    step_slices(h, r, a, v, k, th, n_ref);
                } else {
                    h.par_chunks_mut(CHUNK)
                        .zip(r.par_chunks_mut(CHUNK))
                        .zip(a.par_chunks_mut(CHUNK))
                        .zip(v.par_chunks(CHUNK))
                        .for_each(|(((h, r), a), v)| step_slices(h, r, a, v, k, th, n_ref));
                }
            }
            _ => Zip::from(&mut self.h)
                .and(&mut self.refractory)
                .and(&mut self.a)
                .and(v)
                .for_each(|h, r, a, &v| {
                    let (nh, nr) = lif_update(*h, *r, v, k, th, n_ref);
                    *h = nh;
                    *r = nr;
                    *a = if nr > 0 { 1.0 } else { 0.0 };
                }),
        }
    }
}

/// A batch of LIF populations stored in column blocks ([`ColumnBlocks`]): a layer stepped block by block in parallel,
/// each block's h, counter and activity in memory of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct LifColumns {
    /// Hillock potential h.
    pub h: ColumnBlocks<f32>,
    /// Integer refractory counter (as in [`LifState`]).
    pub refractory: ColumnBlocks<u32>,
    /// Activity a ∈ {0, 1} of this step.
    pub a: ColumnBlocks<f32>,
}

impl LifColumns {
    /// A resting population of `examples × cells` in blocks of `width` cells.
    pub fn new(examples: usize, cells: usize, width: usize) -> Self {
        Self {
            h: ColumnBlocks::zeros(examples, cells, width),
            refractory: ColumnBlocks::zeros(examples, cells, width),
            a: ColumnBlocks::zeros(examples, cells, width),
        }
    }

    /// Back to rest (SPEC §2.4: state is reset between examples).
    pub fn reset(&mut self) {
        self.h.fill(0.0);
        self.refractory.fill(0);
        self.a.fill(0.0);
    }

    /// Advances every cell by one Euler step under drive `v` (kept in the same blocks), block by block on the
    /// calling thread: for a layer stepped whole (one block), such as the output layer.
    ///
    /// # Panics
    /// If `v` does not have the population's blocks.
    pub fn step(&mut self, params: &LifParams, v: &ColumnBlocks<f32>) {
        assert_eq!(
            v.blocks().len(),
            self.h.blocks().len(),
            "drive blocks must match the population's"
        );
        let blocks = self
            .h
            .blocks_mut()
            .iter_mut()
            .zip(self.refractory.blocks_mut())
            .zip(self.a.blocks_mut());
        for (((h, refractory), a), v) in blocks.zip(v.blocks()) {
            let mut block = LifBlock {
                h: h.view_mut(),
                refractory: refractory.view_mut(),
                a: a.view_mut(),
            };
            block.step(params, v.view());
        }
    }

    /// The blocks, each a [`LifBlock`] covering every example, as a parallel iterator in column order: the unit of
    /// work of a fused per-block step.
    pub fn blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = LifBlock<'_>> {
        self.h
            .par_blocks_mut()
            .zip(self.refractory.par_blocks_mut())
            .zip(self.a.par_blocks_mut())
            .map(|((h, refractory), a)| LifBlock {
                h: h.view_mut(),
                refractory: refractory.view_mut(),
                a: a.view_mut(),
            })
    }
}

/// Some cells (a column block) of a LIF population, for every example: views into the state's arrays.
pub struct LifBlock<'a> {
    /// Hillock potential h, `[examples, block cells]`.
    pub h: ArrayViewMut2<'a, f32>,
    /// Refractory counter.
    pub refractory: ArrayViewMut2<'a, u32>,
    /// Activity a.
    pub a: ArrayViewMut2<'a, f32>,
}

impl LifBlock<'_> {
    /// Advances the block's cells by one Euler step under drive `v` (`[examples, block cells]`): the same update as
    /// [`LifState::step`], one example's row at a time, serially (the caller runs blocks in parallel).
    ///
    /// # Panics
    /// If `v` does not have the block's shape.
    pub fn step(&mut self, params: &LifParams, v: ArrayView2<'_, f32>) {
        assert_eq!(v.dim(), self.h.dim(), "drive shape must match the block");
        let (k, th, n_ref) = (params.leak_factor(), params.h_th, params.refractory_steps());
        Zip::from(self.h.rows_mut())
            .and(self.refractory.rows_mut())
            .and(self.a.rows_mut())
            .and(v.rows())
            .for_each(|mut h, mut r, mut a, v| {
                match (h.as_slice_mut(), r.as_slice_mut(), a.as_slice_mut(), v.as_slice()) {
                    (Some(h), Some(r), Some(a), Some(v)) => step_slices(h, r, a, v, k, th, n_ref),
                    _ => Zip::from(&mut h)
                        .and(&mut r)
                        .and(&mut a)
                        .and(&v)
                        .for_each(|h, r, a, &v| {
                            let (nh, nr) = lif_update(*h, *r, v, k, th, n_ref);
                            (*h, *r, *a) = (nh, nr, u32::from(nr > 0) as f32);
                        }),
                }
            });
    }
}

/// Cells per parallel chunk of [`LifState::step`].
impl LifBlock<'_> {
    /// [`Self::step`] for example (row) `e` of the block alone, `v` its drive: a caller that has just computed the
    /// row's drive steps its cells while the row is in L1.
    #[inline]
    pub fn step_row(&mut self, params: &LifParams, e: usize, v: &[f32]) {
        let (k, th, n_ref) = (params.leak_factor(), params.h_th, params.refractory_steps());
        let contiguous = "rows of a block are contiguous";
        let (mut h, mut r, mut a) = (self.h.row_mut(e), self.refractory.row_mut(e), self.a.row_mut(e));
        let (h, r, a) = (
            h.as_slice_mut().expect(contiguous),
            r.as_slice_mut().expect(contiguous),
            a.as_slice_mut().expect(contiguous),
        );
        assert_eq!(v.len(), h.len(), "drive row width");
        step_slices(h, r, a, v, k, th, n_ref);
    }
}

pub const CHUNK: usize = 16 * 1024;

#[inline(always)]
fn step_slices(h: &mut [f32], r: &mut [u32], a: &mut [f32], v: &[f32], k: f32, th: f32, n_ref: u32) {
    let n = h.len();
    let (r, a, v) = (&mut r[..n], &mut a[..n], &v[..n]);
    for i in 0..n {
        let (nh, nr) = lif_update(h[i], r[i], v[i], k, th, n_ref);
        h[i] = nh;
        r[i] = nr;
        a[i] = u32::from(nr > 0) as f32;
    }
}

/// One cell, one step: returns the new (h, refractory counter). Table 1's order, integer counter (module docs),
/// written with selects instead of branches so that loops over cells vectorise:
///
/// ```text
/// r1 = (r > 0) ? r + 1 : 0;  r1 = (r1 > n_ref) ? 0 : r1     // count up; end of the refractory period
/// h' = (r1 > 0) ? 0 : h + (v − h) Δt/τ                        // pinned, or leaky integration
/// r' = (r1 == 0 && h' > h_th) ? 1 : r1                        // a spike starts
/// ```
#[inline(always)]
pub fn lif_update(h: f32, r: u32, v: f32, leak: f32, h_th: f32, n_ref: u32) -> (f32, u32) {
    let r1 = r + u32::from(r > 0);
    let r1 = r1 * u32::from(r1 <= n_ref);
    let integrated = h + (v - h) * leak;
    let h1 = if r1 > 0 { 0.0 } else { integrated };
    // When a spike starts r1 is 0, so `|` sets the counter to 1.
    let r2 = r1 | u32::from((r1 == 0) & (h1 > h_th));
    (h1, r2)
}

/// Convenience for tests and single-cell experiments: simulates one cell under a drive sequence from rest and returns
/// its (h, a) trace.
pub fn simulate_single(params: &LifParams, drive: impl IntoIterator<Item = f32>) -> Vec<(f32, f32)> {
    let mut s = LifState::new(1, 1);
    let mut v = Array2::<f32>::zeros((1, 1));
    drive
        .into_iter()
        .map(|d| {
            v[[0, 0]] = d;
            s.step(params, v.view());
            (s.h[[0, 0]], s.a[[0, 0]])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_constants_are_valid_and_spike_lasts_four_steps() {
        let p = LifParams::SAMADI;
        assert_eq!(p.check(), Ok(()));
        assert_eq!(p.refractory_steps(), 4);
        let p3 = LifParams { t_ref: 0.8, ..p };
        assert_eq!(p3.refractory_steps(), 4, "0.8/0.25 = 3.2 rounds up");
    }

    #[test]
    fn bad_constants_are_rejected_with_their_name() {
        let p = LifParams {
            tau: 0.1,
            ..LifParams::SAMADI
        };
        match p.check() {
            Err(NeuronError::OutOfRange { field, .. }) => assert_eq!(field, "tau"),
            other => panic!("expected tau error, got {other:?}"),
        }
        let p = LifParams {
            dt: 0.0,
            ..LifParams::SAMADI
        };
        assert!(p.check().unwrap_err().to_string().starts_with("dt = 0"));
        let p = LifParams {
            h_th: f32::NAN,
            ..LifParams::SAMADI
        };
        assert!(p.check().is_err());
    }
}
