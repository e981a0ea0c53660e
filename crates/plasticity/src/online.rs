//! Online learning with an exact weight decay (Lillicrap et al. 2016, Fig 4; SPEC §5.4): on every step, for a
//! batch of K independent streams sharing the synapses,
//!
//! ```text
//! W ← (1 − γ) W + α Σ_k g_k a_kᵀ        b ← (1 − γ) b + α Σ_k g_k
//! ```
//!
//! A decay of γ = 1e-8 per step is far below the rounding of f32 weights near 0.05 (their spacing is 3.7e-9, so
//! 0.05 · γ = 5e-10 would be rounded away on every step, and the decay would never happen). The projection therefore
//! stands for `W = c · w`, `b = c · b̃` with one f64 scale c ([`Projection::scale`]) and takes each step as
//!
//! ```text
//! c ← (1 − γ) c ;   w += (α / c) Σ_k g_k a_kᵀ ;   b̃ += (α / c) Σ_k g_k
//! ```
//!
//! which is the update above exactly, in real arithmetic, whatever γ: the decay is applied in aggregate to every
//! weight at once, and only the added term is rounded (as it is in any f32 update). The drive reads
//! `c (a wᵀ + b̃)`. When c falls below ½ it is folded into w and b̃ (one rounding per weight), which keeps α / c
//! bounded; with γ = 1e-8 that takes 7 × 10⁷ steps.
//!
//! For a few streams the step is a matrix-vector product, bound by memory: [`Projection::update_then_drive`] applies
//! the update of one step and computes the drive of the next in one pass over the weights (each row of W read and
//! written once, while it is in L1), instead of a pass for the drive and a read and a write for the update. When the
//! presynaptic activity is mostly zero (the 0/1 spikes of a stochastic binary network), W stored by presynaptic cell
//! ([`Projection::store_by_presynaptic_cell`]) lets the same pass be event-driven: it reads and writes only the
//! synapses of cells active on either step, `v_k = c (Σ_{j active} x_kj w_·j + b̃)` and `w_·j += (α / c) Σ_k g_k
//! pre_kj` for the j with pre_kj ≠ 0. For many streams [`Projection::learn_decaying`] and
//! [`Projection::scaled_drive_into`] are matrix products (`gemm`).
//!
//! Every product is split over fixed blocks of [`POST_BLOCK`] post-synaptic cells, as in [`Projection::learn`], so
//! results do not depend on the number of threads. The event-driven pass splits the post-synaptic cells by thread
//! instead; each of its sums runs over the presynaptic cells in order whatever the split, so its results do not
//! depend on the number of threads either.

use crate::matmul::mat_mul_into;
use crate::projection::{POST_BLOCK, Projection};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

/// The scale below which it is folded into the weights.
const FOLD_BELOW: f64 = 0.5;

/// An online update waiting to be applied to a projection: `W ← (1 − γ) W + α Σ_k g_k pre_kᵀ`, `b` likewise.
#[derive(Clone, Copy, Debug)]
pub struct PendingUpdate<'a> {
    /// Modulatory signal `[streams, post]`.
    pub g: ArrayView2<'a, f32>,
    /// Presynaptic activity `[streams, pre]`.
    pub pre: ArrayView2<'a, f32>,
    /// Factor α of the summed outer products.
    pub alpha: f32,
    /// Decay γ of this step.
    pub gamma: f64,
}

/// Streams up to which [`Projection::update_then_drive`] is the faster way (a row of W in L1 serves every stream);
/// beyond, matrix products.
pub const FUSED_MAX_STREAMS: usize = 4;

impl Projection {
    /// Stores W by presynaptic cell: column-major `[post, pre]`, the outgoing synapses of each presynaptic cell side by
    /// side in memory, the layout in which [`Self::update_then_drive`] touches only the synapses of active cells.
    /// W's shape and values do not change. The online methods of this module, [`Self::effective_weights`],
    /// [`Self::is_finite`], serde (which writes and reads row-major) and `==` take either layout; the row-by-row
    /// methods of the LIF and graded engines need W row-major ([`Self::store_by_postsynaptic_cell`]).
    pub fn store_by_presynaptic_cell(&mut self) {
        if !self.stored_by_presynaptic_cell() {
            self.w = self.w.t().as_standard_layout().into_owned().reversed_axes();
        }
    }

    /// Stores W row-major (`[post, pre]`, each postsynaptic cell's incoming synapses side by side), the layout every
    /// projection starts in.
    pub fn store_by_postsynaptic_cell(&mut self) {
        if !self.w.is_standard_layout() {
            self.w = self.w.as_standard_layout().into_owned();
        }
    }

    /// Whether each presynaptic cell's synapses are contiguous in memory ([`Self::store_by_presynaptic_cell`]; also
    /// true of a W with one row or one column, which is stored both ways at once).
    pub fn stored_by_presynaptic_cell(&self) -> bool {
        self.w.t().is_standard_layout()
    }

    /// Applies `update` (if any), then writes the drive `v = c (a wᵀ + b̃)` of `next = (a, v)` (if any), in one pass
    /// over W, with `b̃_i += (α / c) Σ_k g_ki` (streams in order) and the drive taken with the new scale.
    ///
    /// W stored row-major (or with one row or column): row i gets `w_i += (α / c) Σ_k g_ki pre_k`, then
    /// `v_ki = c (w_i · a_k + b̃_i)`, dot products in eight fixed lanes. W stored by presynaptic cell (event-driven):
    /// for each presynaptic cell j in order, `w_·j += (α / c) g_k pre_kj` for each stream k with `pre_kj ≠ 0`, then
    /// `v_k += a_kj w_·j` for each k with `a_kj ≠ 0`; `v_k = c (v_k + b̃)` at the end. A cell inactive on both steps
    /// costs nothing. Each drive sums its inputs in the order of the presynaptic cells whatever the split over
    /// threads, so results do not depend on the number of threads.
    ///
    /// # Panics
    /// If the shapes do not agree; or, W stored by presynaptic cell, if `next` has more than [`FUSED_MAX_STREAMS`]
    /// streams, or the rows of the modulatory signal or of the drive buffer are not contiguous.
    pub fn update_then_drive(
        &mut self,
        update: Option<PendingUpdate<'_>>,
        next: Option<(ArrayView2<'_, f32>, &mut Array2<f32>)>,
    ) {
        let (pre_cells, post_cells) = (self.pre(), self.post());
        let a = match update {
            Some(u) => {
                assert_eq!(u.g.dim(), (u.pre.nrows(), post_cells), "modulatory signal shape");
                assert_eq!(u.pre.ncols(), pre_cells, "input width must match the fan-in");
                assert!((0.0..1.0).contains(&u.gamma), "a decay 0 <= γ < 1");
                self.scale *= 1.0 - u.gamma;
                (f64::from(u.alpha) / self.scale) as f32
            }
            None => 0.0,
        };
        let c = self.scale as f32;
        let empty = Array2::<f32>::zeros((0, post_cells));
        let (a_next, v) = match next {
            Some((x, v)) => {
                assert_eq!(x.ncols(), pre_cells, "input width must match the fan-in");
                assert_eq!(v.dim(), (x.nrows(), post_cells), "drive buffer shape");
                (Some(x), Some(v))
            }
            None => (None, None),
        };
        let mut no_drive = Array2::<f32>::zeros((0, post_cells));
        let v = v.unwrap_or(&mut no_drive);
        if !self.w.is_standard_layout() {
            self.events_update_then_drive(update, a, a_next, v, c);
            if update.is_some() && self.scale < FOLD_BELOW {
                self.fold_scale();
            }
            return;
        }
        let g = update.map_or(empty.view(), |u| u.g);
        self.w
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(self.b.axis_chunks_iter_mut(Axis(0), POST_BLOCK).into_par_iter())
            .zip(v.axis_chunks_iter_mut(Axis(1), POST_BLOCK).into_par_iter())
            .enumerate()
            .for_each(|(block, ((mut w, mut b), mut v))| {
                let first = block * POST_BLOCK;
                for (r, (mut row, b)) in w.rows_mut().into_iter().zip(b.iter_mut()).enumerate() {
                    let row = row.as_slice_mut().expect("rows of W are contiguous");
                    if let Some(u) = update {
                        let mut sum = 0.0f32;
                        for (k, pre) in u.pre.rows().into_iter().enumerate() {
                            let gk = g[[k, first + r]];
                            if gk != 0.0 {
                                let f = a * gk;
                                let pre = pre.as_slice().expect("rows of the presynaptic activity are contiguous");
                                for (w, &p) in row.iter_mut().zip(pre) {
                                    *w += f * p;
                                }
                            }
                            sum += gk;
                        }
                        *b += a * sum;
                    }
                    if let Some(x) = a_next {
                        for (k, x) in x.rows().into_iter().enumerate() {
                            let x = x.as_slice().expect("rows of the input are contiguous");
                            v[[k, r]] = c * (dot8(row, x) + *b);
                        }
                    }
                }
            });
        if update.is_some() && self.scale < FOLD_BELOW {
            self.fold_scale();
        }
    }

    /// The event-driven pass of [`Self::update_then_drive`] over W stored by presynaptic cell; `a` is α / c of the
    /// update, `c` the scale after it.
    fn events_update_then_drive(
        &mut self,
        update: Option<PendingUpdate<'_>>,
        a: f32,
        next: Option<ArrayView2<'_, f32>>,
        v: &mut Array2<f32>,
        c: f32,
    ) {
        assert!(
            next.is_none_or(|x| x.nrows() <= FUSED_MAX_STREAMS),
            "the event-driven pass drives at most {FUSED_MAX_STREAMS} streams"
        );
        if let Some(u) = update {
            for (i, b) in self.b.iter_mut().enumerate() {
                let sum = u.g.column(i).iter().fold(0.0f32, |s, &g| s + g);
                *b += a * sum;
            }
        }
        // Any split of the postsynaptic cells gives the same bits; one block per thread keeps each presynaptic
        // cell's synapses in one contiguous run per thread.
        let post = self.post();
        let block = post.div_ceil(rayon::current_num_threads()).max(1);
        let b = self.b.view();
        let mut by_pre = self.w.view_mut().reversed_axes();
        by_pre
            .axis_chunks_iter_mut(Axis(1), block)
            .into_par_iter()
            .zip(v.axis_chunks_iter_mut(Axis(1), block).into_par_iter())
            .enumerate()
            .for_each(|(chunk, (mut w, mut v))| {
                let first = chunk * block;
                let width = w.ncols();
                v.fill(0.0);
                // Per stream, the active inputs whose synapses are still to be added into its drive.
                let mut waiting = [[(0usize, 0.0f32); ADD_ROWS]; FUSED_MAX_STREAMS];
                let mut waiting_n = [0usize; FUSED_MAX_STREAMS];
                let touched = |j: usize| {
                    update.is_some_and(|u| u.pre.column(j).iter().any(|&p| p != 0.0))
                        || next.is_some_and(|x| x.column(j).iter().any(|&x| x != 0.0))
                };
                // The touched inputs in order: `j` and the next one, whose synapses are prefetched while j's are
                // used.
                let pre_cells = w.nrows();
                let after = |j: usize| (j..pre_cells).find(|&j| touched(j)).unwrap_or(pre_cells);
                let mut following = after(0);
                while following < pre_cells {
                    let j = following;
                    following = after(j + 1);
                    if following < pre_cells {
                        prefetch(w.row(following).to_slice().expect("W stored by presynaptic cell"));
                    }
                    if let Some(u) = update {
                        let mut row = w.row_mut(j);
                        let out = row.as_slice_mut().expect("W stored by presynaptic cell");
                        for (pre, g) in u.pre.column(j).iter().zip(u.g.rows()) {
                            if *pre != 0.0 {
                                let g = &g.to_slice().expect("rows of the modulatory signal are contiguous")
                                    [first..first + width];
                                for (w, &g) in out.iter_mut().zip(g) {
                                    *w += (a * g) * pre;
                                }
                            }
                        }
                    }
                    if let Some(x) = next {
                        for (k, &x) in x.column(j).iter().enumerate() {
                            if x != 0.0 {
                                waiting[k][waiting_n[k]] = (j, x);
                                waiting_n[k] += 1;
                                if waiting_n[k] == ADD_ROWS {
                                    add_rows(&mut v.row_mut(k), w.view(), &waiting[k]);
                                    waiting_n[k] = 0;
                                }
                            }
                        }
                    }
                }
                if next.is_some() {
                    let b = &b.as_slice().expect("biases are contiguous")[first..first + width];
                    for (k, mut v) in v.rows_mut().into_iter().enumerate() {
                        add_rows(&mut v, w.view(), &waiting[k][..waiting_n[k]]);
                        for (v, &b) in v.iter_mut().zip(b) {
                            *v = c * (*v + b);
                        }
                    }
                }
            });
    }

    fn fold_scale(&mut self) {
        let c = self.scale;
        let fold = |x: &mut f32| *x = (f64::from(*x) * c) as f32;
        self.w.iter_mut().for_each(fold);
        self.b.iter_mut().for_each(fold);
        self.scale = 1.0;
    }

    /// `v = c (a_pre wᵀ + b̃)` into `v` (`[examples, post]`): the drive of the synapses the projection stands for.
    pub fn scaled_drive_into(&self, a_pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(v.dim(), (a_pre.nrows(), self.post()), "drive buffer shape");
        let c = self.scale as f32;
        v.axis_chunks_iter_mut(Axis(1), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .zip(self.b.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .for_each(|((mut v, w), b)| {
                for mut row in v.rows_mut() {
                    row.assign(&b);
                }
                mat_mul_into(1.0, a_pre, w.t(), 1.0, &mut v);
                if c != 1.0 {
                    v.mapv_inplace(|x| x * c);
                }
            });
    }

    /// One online step with decay (module docs): `g` is `[examples, post]`, `a_pre` is `[examples, pre]`, `alpha`
    /// the factor of the summed outer products (η, or η / K for the mean over K streams), `gamma` the decay of
    /// this step (0 for none). Momentum buffers are not used.
    pub fn learn_decaying(&mut self, g: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, alpha: f32, gamma: f64) {
        assert_eq!(g.dim(), (a_pre.nrows(), self.post()), "modulatory signal shape");
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert!((0.0..1.0).contains(&gamma), "a decay 0 <= γ < 1");
        self.scale *= 1.0 - gamma;
        let a = (f64::from(alpha) / self.scale) as f32;
        self.w
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(g.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
            .for_each(|(mut w, g)| mat_mul_into(a, g.t(), a_pre, 1.0, &mut w));
        for (b, g) in self.b.iter_mut().zip(g.columns()) {
            // Streams summed in order.
            *b += a * g.iter().sum::<f32>();
        }
        if self.scale < FOLD_BELOW {
            self.fold_scale();
        }
    }
}

/// `out_ki ← β out_ki + α (m_i · x_k)` for every row i of `m` (`[rows, cols]`) and stream k of `x` (`[streams,
/// cols]`), `out` `[streams, rows]`: a product for a few streams, each row of `m` read once for all of them, split
/// over fixed blocks of rows (the feedback units' `δ ← (1 − τ) δ + τ φ Bᵀ`).
pub fn rows_dot_into(
    alpha: f32,
    m: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    beta: f32,
    mut out: ArrayViewMut2<'_, f32>,
) {
    assert_eq!(m.ncols(), x.ncols(), "inner dimensions of a product");
    assert_eq!(out.dim(), (x.nrows(), m.nrows()), "shape of a product's result");
    out.axis_chunks_iter_mut(Axis(1), POST_BLOCK)
        .into_par_iter()
        .zip(m.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
        .for_each(|(mut out, m)| {
            for (r, row) in m.rows().into_iter().enumerate() {
                let row = row.as_slice().expect("rows of the matrix are contiguous");
                for (k, x) in x.rows().into_iter().enumerate() {
                    let x = x.as_slice().expect("rows of the input are contiguous");
                    let o = &mut out[[k, r]];
                    *o = beta * *o + alpha * dot8(row, x);
                }
            }
        });
}

/// Asks the memory system for `row` ahead of its use: the rows of active inputs are far apart, and the hardware
/// prefetcher, which follows one contiguous stream, would leave the start of each to a cache miss.
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: SSE, which `_mm_prefetch` needs, is part of every x86_64 target; a prefetch is a hint that reads
        // nothing into the program and cannot fault, and the address is that of a live slice.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Rows of W (by presynaptic cell) added into a drive in one pass over it.
const ADD_ROWS: usize = 4;

/// `v += x_j w_j` for each `(j, x_j)` of `rows` in order, `w_j` row j of `w`: each element summed in the order of the
/// rows, whether they come [`ADD_ROWS`] at a time (one load and store of `v` for all of them) or fewer.
fn add_rows(v: &mut ArrayViewMut1<'_, f32>, w: ArrayView2<'_, f32>, rows: &[(usize, f32)]) {
    let v = v.as_slice_mut().expect("rows of the drive are contiguous");
    let row = |j: usize| w.row(j).to_slice().expect("W stored by presynaptic cell");
    if let &[(ja, xa), (jb, xb), (jc, xc), (jd, xd)] = rows {
        let lanes = v.iter_mut().zip(row(ja)).zip(row(jb)).zip(row(jc)).zip(row(jd));
        for ((((v, &a), &b), &c), &d) in lanes {
            *v = (((*v + xa * a) + xb * b) + xc * c) + xd * d;
        }
    } else {
        for &(j, x) in rows {
            for (v, &w) in v.iter_mut().zip(row(j)) {
                *v += x * w;
            }
        }
    }
}

/// `a · b` summed in eight lanes (element j into lane j mod 8), then the lanes in order: a fixed order that the
/// compiler vectorises.
fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        lanes[l] += x * y;
    }
    lanes.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    /// γ = 1e-8 on weights near 0.05 is below f32 rounding, yet after 10⁶ steps of pure decay the synapses are
    /// (1 − γ)^10⁶ of what they were, to f64 accuracy.
    #[test]
    fn a_decay_below_the_rounding_of_the_weights_takes_effect() {
        let mut p = Projection::new(array![[0.05f32, -0.03]], Array1::from_elem(1, 0.02));
        let g = Array2::<f32>::zeros((1, 1));
        let a = Array2::<f32>::zeros((1, 2));
        let gamma = 1e-8;
        // The naive f32 update changes nothing.
        assert_eq!(0.05f32 - (gamma as f32) * 0.05f32, 0.05f32);
        for _ in 0..1_000_000 {
            p.learn_decaying(g.view(), a.view(), 1e-3, gamma);
        }
        let expected = (1.0 - gamma).powi(1_000_000);
        assert!((p.scale - expected).abs() < 1e-12, "scale {} vs {expected}", p.scale);
        let w = p.effective_weights();
        assert!((f64::from(w[[0, 0]]) - 0.05 * expected).abs() < 1e-9);
        assert!((f64::from(p.effective_biases()[0]) - 0.02 * expected).abs() < 1e-9);
        assert!(w[[0, 0]] < 0.05 * 0.995, "the decay of 1 % took effect");
    }

    /// One fused pass (update, then the next drive) gives what the update followed by the drive gives, to rounding.
    #[test]
    fn the_fused_pass_is_the_update_then_the_drive() {
        let w = Array2::from_shape_fn((300, 37), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.01 - 0.05);
        let mut fused = Projection::new(w, Array1::from_shape_fn(300, |i| (i % 5) as f32 * 0.01));
        let mut plain = fused.clone();
        let g = Array2::from_shape_fn((3, 300), |(k, i)| ((k + i) % 7) as f32 * 0.02 - 0.06);
        let pre = Array2::from_shape_fn((3, 37), |(k, j)| ((k * 5 + j) % 2) as f32);
        let next = Array2::from_shape_fn((3, 37), |(k, j)| ((k + j * 3) % 3 == 0) as u8 as f32);
        let (mut v1, mut v2) = (Array2::zeros((3, 300)), Array2::zeros((3, 300)));
        let update = PendingUpdate {
            g: g.view(),
            pre: pre.view(),
            alpha: 0.01,
            gamma: 1e-3,
        };
        fused.update_then_drive(Some(update), Some((next.view(), &mut v1)));
        plain.learn_decaying(g.view(), pre.view(), 0.01, 1e-3);
        plain.scaled_drive_into(next.view(), &mut v2);
        assert_eq!(fused.scale, plain.scale);
        for (a, b) in fused.w.iter().zip(&plain.w) {
            assert!((a - b).abs() < 1e-6);
        }
        for (a, b) in v1.iter().zip(&v2) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // A drive alone, and an update alone.
        fused.update_then_drive(None, Some((next.view(), &mut v1)));
        for (a, b) in v1.iter().zip(&v2) {
            assert!((a - b).abs() < 1e-5);
        }
        fused.update_then_drive(Some(update), None);
        plain.learn_decaying(g.view(), pre.view(), 0.01, 1e-3);
        for (a, b) in fused.w.iter().zip(&plain.w) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    /// The event-driven pass over W stored by presynaptic cell gives what the row-major pass gives: the same weights
    /// and biases bit for bit (the same `w += (α/c) g · pre` in stream order; skipped inputs would add 0) and the same
    /// drives to rounding, including an update of more streams than the drive (the last, short minibatch) and the
    /// fold of the scale. It never reads the synapses of an input active on neither step (NaN there stays out of
    /// every drive), keeps the layout, and gives the same bits on one thread as on four.
    #[test]
    fn the_event_driven_pass_is_the_row_pass() {
        let w = Array2::from_shape_fn((300, 37), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.01 - 0.05);
        let mut rows = Projection::new(w, Array1::from_shape_fn(300, |i| (i % 5) as f32 * 0.01));
        let mut events = rows.clone();
        events.store_by_presynaptic_cell();
        assert!(events.stored_by_presynaptic_cell() && !rows.stored_by_presynaptic_cell());
        assert_eq!(events.w, rows.w, "the same weights in another layout");
        assert!(events.effective_weights().is_standard_layout());
        let g = Array2::from_shape_fn((3, 300), |(k, i)| ((k + i) % 7) as f32 * 0.02 - 0.06);
        // Input 36 is active on no step; its synapses hold NaN in the event-driven copy.
        let pre = Array2::from_shape_fn((3, 37), |(k, j)| (j != 36 && (k * 5 + j) % 2 == 0) as u8 as f32);
        let next = Array2::from_shape_fn((3, 37), |(k, j)| (j != 36 && (k + j * 3) % 3 == 0) as u8 as f32);
        events.w.column_mut(36).fill(f32::NAN);
        // γ = 0.3 twice takes the scale below ½: the second update folds it into the weights.
        let update = PendingUpdate {
            g: g.view(),
            pre: pre.view(),
            alpha: 0.01,
            gamma: 0.3,
        };
        let pass = |p: &mut Projection, threads: usize| {
            let (mut fused, mut drive, mut short) = (
                Array2::zeros((3, 300)),
                Array2::zeros((3, 300)),
                Array2::zeros((2, 300)),
            );
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                p.update_then_drive(Some(update), Some((next.view(), &mut fused)));
                p.update_then_drive(None, Some((pre.view(), &mut drive)));
                p.update_then_drive(Some(update), Some((next.slice(ndarray::s![..2, ..]), &mut short)));
            });
            [fused, drive, short]
        };
        let by_rows = pass(&mut rows, 1);
        let mut events4 = events.clone();
        let by_events = pass(&mut events, 1);
        assert_eq!(pass(&mut events4, 4), by_events, "drives at one and four threads");
        assert_eq!(
            events4.w.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
            events.w.iter().map(|w| w.to_bits()).collect::<Vec<_>>(),
            "weights at one and four threads"
        );
        assert!(events.stored_by_presynaptic_cell(), "the layout is kept");
        assert_eq!(rows.scale, 1.0, "the scale was folded");
        assert_eq!((events.scale, &events.b), (rows.scale, &rows.b));
        assert!(
            events.w.column(36).iter().all(|w| w.is_nan()),
            "an inactive input's synapses are never written"
        );
        for (j, (a, b)) in events
            .w
            .columns()
            .into_iter()
            .zip(rows.w.columns())
            .enumerate()
            .filter(|&(j, _)| j != 36)
        {
            assert_eq!(a, b, "input {j}'s synapses");
        }
        for (e, r) in by_events.iter().zip(&by_rows) {
            assert!(
                e.iter().all(|v| v.is_finite()),
                "no drive reads an inactive input's synapses"
            );
            for (a, b) in e.iter().zip(r) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
        events.store_by_postsynaptic_cell();
        assert!(events.w.is_standard_layout() && !events.stored_by_presynaptic_cell());
    }

    /// The scaled step equals the literal `W ← (1 − γ) W + α Σ_k g_k a_kᵀ` computed in f64.
    #[test]
    fn the_scaled_step_is_the_decaying_update() {
        let mut p = Projection::new(array![[0.1f32, -0.2, 0.3], [0.0, 0.05, -0.1]], array![0.01f32, -0.02]);
        let mut w: Vec<Vec<f64>> =
            p.w.rows()
                .into_iter()
                .map(|r| r.iter().map(|&x| f64::from(x)).collect())
                .collect();
        let mut b: Vec<f64> = p.b.iter().map(|&x| f64::from(x)).collect();
        let (alpha, gamma) = (0.01f32, 0.05);
        for t in 0..40 {
            let g = Array2::from_shape_fn((2, 2), |(k, i)| ((t + 3 * k + i) % 5) as f32 * 0.1 - 0.2);
            let a = Array2::from_shape_fn((2, 3), |(k, j)| ((t + k + j) % 2) as f32);
            p.learn_decaying(g.view(), a.view(), alpha, gamma);
            for i in 0..2 {
                for j in 0..3 {
                    let add: f64 = (0..2).map(|k| f64::from(g[[k, i]]) * f64::from(a[[k, j]])).sum();
                    w[i][j] = (1.0 - gamma) * w[i][j] + f64::from(alpha) * add;
                }
                let add: f64 = (0..2).map(|k| f64::from(g[[k, i]])).sum();
                b[i] = (1.0 - gamma) * b[i] + f64::from(alpha) * add;
            }
        }
        // 40 steps of γ = 0.05 fold the scale once (0.95^14 < ½).
        let (ew, eb) = (p.effective_weights(), p.effective_biases());
        for i in 0..2 {
            for j in 0..3 {
                assert!((f64::from(ew[[i, j]]) - w[i][j]).abs() < 1e-6, "w[{i}][{j}]");
            }
            assert!((f64::from(eb[i]) - b[i]).abs() < 1e-6, "b[{i}]");
        }
        let x = array![[1.0f32, 0.0, 1.0]];
        let mut v = Array2::zeros((1, 2));
        p.scaled_drive_into(x.view(), &mut v);
        for i in 0..2 {
            assert!((f64::from(v[[0, i]]) - (w[i][0] + w[i][2] + b[i])).abs() < 1e-6);
        }
    }
}
