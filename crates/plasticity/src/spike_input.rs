//! A projection fed by the spikes of a hidden LIF layer: its drive summed over the active inputs alone, from weights
//! kept transposed through a presentation (issue 7; SPEC §1–2.2 computed in another order, nothing approximated).
//!
//! A hidden LIF cell's activity is 1 during its spike and refractory period and 0 otherwise (SPEC §1), so the drive of
//! the layer above, `v = a Wᵀ + b` (Samadi eq 2.5), is for each example the sum of the columns of W of its active
//! inputs: 40–52 % of a trained MNIST layer's cells. Kept transposed (`Wᵀ`, `[pre, post]`) those columns are rows,
//! and adding the rows of the active inputs is the whole product without its multiplications by 0 and 1: half the
//! memory reads, and no packing of the operands as a general matrix product needs on every call.
//!
//! - [`ActiveInputs`] lists, for one column block of the layer below and every example, the block's active cells in
//!   increasing order (built once per step, while the block's activity is in cache, and shared by every block above).
//! - [`SpikeInputCarry`] holds `Wᵀ` and `ΔWᵀ` for the presentation, split by post cells into the blocks the layer
//!   above is stepped in, each block in memory of its own: [`SpikeInputCarry::begin`] transposes the projection's W
//!   and ΔW in, [`SpikeInputCarry::store`] writes them back. A learning step updates them in place
//!   ([`TransposedBlock::learn`]: `ΔWᵀ ← μ ΔWᵀ − s a_preᵀ ι; Wᵀ += ΔWᵀ`, the update of
//!   [`crate::PostBlock::learn_weights`] transposed).
//!
//! **Summation order** ([`TransposedBlock::drive`]): for each example and post cell, the active inputs of each column
//! block below in increasing order, starting from 0; the blocks' sums added into the drive one after the other; then
//! the bias. This is the order of a matrix product over each block below that runs through its inner dimension in
//! order, added block by block (what the dense path computes with `gemm`, which gives the same bits:
//! docs/performance.md, "Session 8: the second hidden layer sums the weights of its active inputs"). It is the same on
//! every call, at any thread count, and with or without AVX2: the vector lanes are independent post cells, each summed
//! in the order above.
//!
//! The sum is tiled for the L1 cache: [`TILE`] rows of `Wᵀ` by [`CHUNK`] post cells (16 KiB) are added by every
//! example of the batch before the next tile; each example's running sums are kept between tiles.

use crate::matmul::mat_mul_into;
use crate::projection::Projection;
use crate::update::Update;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};
use snn_neuron::layout::aligned_zeros;

/// Input cells per tile of the sum: a tile of `Wᵀ` is `TILE × CHUNK` floats (16 KiB).
pub const TILE: usize = 64;

/// Post cells summed at once: eight AVX2 registers of 8 floats.
pub const CHUNK: usize = 64;

/// The active cells of one column block of a spiking layer, for every example of a batch.
#[derive(Clone, Debug)]
pub struct ActiveInputs {
    examples: usize,
    width: usize,
    tiles: usize,
    /// Per example, `width + 8` slots: the block-relative indices of its active cells, ascending, then unused slots.
    index: Vec<u16>,
    /// Per example, `tiles + 1` offsets into its indices: tile t's cells are `index[starts[t]..starts[t + 1]]`.
    starts: Vec<u16>,
}

impl ActiveInputs {
    /// Empty lists for `examples` examples of a block of `width` cells.
    ///
    /// # Panics
    /// If `width` exceeds `u16::MAX` (indices are 16-bit).
    pub fn new(examples: usize, width: usize) -> Self {
        assert!(width <= usize::from(u16::MAX), "a block of at most 65535 cells");
        let tiles = width.div_ceil(TILE);
        Self {
            examples,
            width,
            tiles,
            index: vec![0; examples * (width + 8)],
            starts: vec![0; examples * (tiles + 1)],
        }
    }

    /// Cells of the block.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Lists the active cells of every example from the block's activity `a` (`[examples, width]`, each entry 0 or 1).
    ///
    /// # Panics
    /// If `a` does not have the block's shape.
    pub fn collect(&mut self, a: ArrayView2<'_, f32>) {
        assert_eq!(a.dim(), (self.examples, self.width), "activity block shape");
        for (e, row) in a.rows().into_iter().enumerate() {
            match row.as_slice() {
                Some(row) => self.collect_row(e, row),
                None => self.collect_row(e, &row.to_vec()),
            }
        }
    }

    /// [`Self::collect`] for example `e` alone, from its row of activity.
    pub fn collect_row(&mut self, e: usize, a: &[f32]) {
        assert_eq!(a.len(), self.width, "activity row length");
        let (stride, tiles) = (self.stride(), self.tiles);
        let index = &mut self.index[e * stride..(e + 1) * stride];
        let starts = &mut self.starts[e * (tiles + 1)..(e + 1) * (tiles + 1)];
        let mut n = 0usize;
        let groups = a.chunks_exact(8);
        let rest = groups.remainder();
        for (g, cells) in groups.enumerate() {
            if g % (TILE / 8) == 0 {
                starts[g / (TILE / 8)] = n as u16;
            }
            // Eight cells at a time without a branch: the positions of the active ones (from a table indexed by the
            // mask) are written to the next eight slots, and the count advances by the number of active cells. The
            // slots past the count are overwritten by the next group (a list has `width + 8` slots).
            let mask = cells
                .iter()
                .enumerate()
                .fold(0usize, |m, (k, &x)| m | (usize::from(x != 0.0) << k));
            let first = (8 * g) as u16;
            for (slot, &k) in index[n..n + 8].iter_mut().zip(&ACTIVE_POSITIONS[mask]) {
                *slot = first + u16::from(k);
            }
            n += mask.count_ones() as usize;
        }
        let done = a.len() - rest.len();
        if done.is_multiple_of(TILE) && done < a.len() {
            starts[done / TILE] = n as u16;
        }
        for (i, &x) in rest.iter().enumerate() {
            index[n] = (done + i) as u16;
            n += usize::from(x != 0.0);
        }
        debug_assert!(
            a.iter().all(|&x| x == 0.0 || x == 1.0),
            "a spiking layer's activity is 0 or 1"
        );
        starts[tiles] = n as u16;
    }

    /// Slots per example in `index`: a group of eight cells writes eight slots (see [`Self::collect_row`]).
    fn stride(&self) -> usize {
        self.width + 8
    }

    /// Example `e`'s active cells in tile `t`, ascending.
    fn tile(&self, e: usize, t: usize) -> &[u16] {
        let starts = &self.starts[e * (self.tiles + 1)..];
        &self.index[e * self.stride()..][usize::from(starts[t])..usize::from(starts[t + 1])]
    }

    /// Example `e`'s active cells, ascending.
    pub fn cells(&self, e: usize) -> &[u16] {
        let starts = &self.starts[e * (self.tiles + 1)..];
        &self.index[e * self.stride()..][..usize::from(starts[self.tiles])]
    }
}

/// For each mask of eight cells (bit k = cell k active), the positions of its active cells, ascending, then zeros.
static ACTIVE_POSITIONS: [[u8; 8]; 256] = {
    let mut table = [[0u8; 8]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut k, mut n) = (0, 0);
        while k < 8 {
            if mask & (1 << k) != 0 {
                table[mask][n] = k as u8;
                n += 1;
            }
            k += 1;
        }
        mask += 1;
    }
    table
};

/// The weights of a projection from a spiking layer, transposed for the presentation and split by post cells into
/// blocks of `width` (module docs).
#[derive(Clone, Debug)]
pub struct SpikeInputCarry {
    pre: usize,
    post: usize,
    width: usize,
    blocks: Vec<TransposedBlock>,
}

/// One block of post cells of a [`SpikeInputCarry`]: its columns of `Wᵀ` and `ΔWᵀ` and the running sums of the drive.
#[derive(Clone, Debug)]
pub struct TransposedBlock {
    /// `Wᵀ` of the block's cells, `[pre, width rounded up to 8]`: every row starts a cache line, and the padding
    /// columns stay 0 so that whole registers can be read.
    wt: Array2<f32>,
    /// `ΔWᵀ`, `[pre, width]`.
    dwt: Array2<f32>,
    /// Running sums of one chunk, `[examples, CHUNK]`.
    sums: Array2<f32>,
    width: usize,
}

impl SpikeInputCarry {
    /// Buffers for a projection of `pre → post` cells stepped in blocks of `width` post cells, for `examples` examples.
    pub fn new(examples: usize, pre: usize, post: usize, width: usize) -> Self {
        assert!(width > 0 && pre > 0, "a projection with cells");
        let blocks = (0..post.div_ceil(width))
            .map(|k| {
                let cells = width.min(post - k * width);
                TransposedBlock {
                    wt: aligned_zeros(pre, cells.next_multiple_of(8)),
                    dwt: aligned_zeros(pre, cells),
                    sums: aligned_zeros(examples, CHUNK),
                    width: cells,
                }
            })
            .collect();
        Self {
            pre,
            post,
            width,
            blocks,
        }
    }

    /// Post cells per block.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Takes the projection's W and ΔW in, transposed (at the start of a presentation).
    ///
    /// # Panics
    /// If the projection's shape is not the carry's.
    pub fn begin(&mut self, proj: &Projection) {
        assert_eq!((proj.post(), proj.pre()), (self.post, self.pre), "projection shape");
        let width = self.width;
        self.blocks
            .par_iter_mut()
            .zip(proj.w.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(proj.dw.axis_chunks_iter(Axis(0), width).into_par_iter())
            .for_each(|((blk, w), dw)| {
                let cells = blk.width;
                transpose_into(w, blk.wt.slice_mut(s![.., ..cells]));
                transpose_into(dw, blk.dwt.view_mut());
            });
    }

    /// Writes W and ΔW back into the projection (at the end of a presentation).
    ///
    /// # Panics
    /// If the projection's shape is not the carry's.
    pub fn store(&self, proj: &mut Projection) {
        self.store_parts(proj, true);
    }

    /// Writes W alone back into the projection (for a reader of the weights during a presentation).
    ///
    /// # Panics
    /// If the projection's shape is not the carry's.
    pub fn store_weights(&self, proj: &mut Projection) {
        self.store_parts(proj, false);
    }

    fn store_parts(&self, proj: &mut Projection, momentum: bool) {
        assert_eq!((proj.post(), proj.pre()), (self.post, self.pre), "projection shape");
        let width = self.width;
        self.blocks
            .par_iter()
            .zip(proj.w.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .zip(proj.dw.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .for_each(|((blk, w), dw)| {
                transpose_into(blk.wt.slice(s![.., ..blk.width]), w);
                if momentum {
                    transpose_into(blk.dwt.view(), dw);
                }
            });
    }

    /// The blocks, in order of their post cells, as a parallel iterator: the unit of work of a per-block step.
    pub fn blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = &mut TransposedBlock> {
        self.blocks.par_iter_mut()
    }
}

impl TransposedBlock {
    /// `v = a_pre Wᵀ + b` for the block's cells, `a_pre` given as the active cells of every column block of the layer
    /// below, in order (module docs for the summation order); `b` the block's biases, `v` `[examples, width]`.
    ///
    /// # Panics
    /// If the blocks below do not cover the projection's inputs, or the shapes disagree.
    pub fn drive(&mut self, below: &[ActiveInputs], b: &[f32], v: &mut ArrayViewMut2<'_, f32>) {
        let (width, examples) = (self.width, self.sums.nrows());
        assert_eq!(v.dim(), (examples, width), "drive block shape");
        assert_eq!(b.len(), width, "one bias per cell");
        assert_eq!(
            below.iter().map(ActiveInputs::width).sum::<usize>(),
            self.wt.nrows(),
            "the blocks below cover the inputs"
        );
        assert!(below.iter().all(|a| a.examples == examples), "one list per example");
        #[cfg(target_arch = "x86_64")]
        let avx2 = avx2::available();
        for c0 in (0..width).step_by(CHUNK) {
            let cells = CHUNK.min(width - c0);
            let mut first_row = 0;
            for (k, active) in below.iter().enumerate() {
                for t in 0..active.tiles {
                    #[cfg(target_arch = "x86_64")]
                    if avx2 {
                        // SAFETY: AVX2 was detected; `tile_sums`' bounds hold (see its docs): rows first_row + i <
                        // first_row + active.width ≤ pre (i block-relative), columns c0 + 8·⌈cells/8⌉ ≤ the row length
                        // of wt (the width rounded up to 8), and the rows of sums hold CHUNK floats.
                        unsafe { avx2::tile_sums(&self.wt, first_row, c0, cells, active, t, &mut self.sums) };
                        continue;
                    }
                    for (e, mut sums) in self.sums.rows_mut().into_iter().enumerate() {
                        let sums = sums.as_slice_mut().expect("contiguous rows");
                        tile_sum_portable(&self.wt, first_row, c0, cells, active.tile(e, t), sums, t == 0);
                    }
                }
                // The block's sums into the drive: v = s_0, then v = v + s_k, and after the last block v = v + b.
                let (first, bias) = (k == 0, (k + 1 == below.len()).then(|| &b[c0..c0 + cells]));
                for (mut v, sums) in v.rows_mut().into_iter().zip(self.sums.rows()) {
                    let v = &mut v.as_slice_mut().expect("contiguous rows")[c0..c0 + cells];
                    let sums = &sums.to_slice().expect("contiguous rows")[..cells];
                    match (first, bias) {
                        (true, None) => v.copy_from_slice(sums),
                        (false, None) => v.iter_mut().zip(sums).for_each(|(v, &s)| *v += s),
                        (true, Some(b)) => v.iter_mut().zip(sums).zip(b).for_each(|((v, &s), &b)| *v = s + b),
                        (false, Some(b)) => v
                            .iter_mut()
                            .zip(sums)
                            .zip(b)
                            .for_each(|((v, &s), &b)| *v = (*v + s) + b),
                    }
                }
                first_row += active.width;
            }
        }
    }

    /// One learning step of the block's weights: `ΔWᵀ ← μ ΔWᵀ − s a_preᵀ ι; Wᵀ += ΔWᵀ` (SPEC §2.2), with `iota` the
    /// block's `[examples, width]` teaching signal and `a_pre` the `[examples, pre]` activity below, for the same
    /// examples (the active ones alone: a silent example adds nothing).
    pub fn learn(&mut self, iota: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, update: Update) {
        update.assert_no_decay("spike-input");
        let width = self.width;
        mat_mul_into(
            -update.scale,
            a_pre.t(),
            iota,
            update.momentum,
            &mut self.dwt.view_mut(),
        );
        let mut wt = self.wt.slice_mut(s![.., ..width]);
        wt += &self.dwt;
    }
}

impl TransposedBlock {
    /// Kolen-Pollack after a learning step (SPEC §6.1, §6.6): the block's columns `b` of the feedback matrix that
    /// stands for `W` (`[pre, width]`, the orientation of `Wᵀ`) take the step's increment, `b ← (1 − λ) b + rate ΔWᵀ`,
    /// and the weights decay alike, `W ← (1 − λ) W_before + ΔW` (`Wᵀ −= λ (Wᵀ − ΔWᵀ)`, W already holding the
    /// increment), so that `W − bᵀ` shrinks as `(1 − λ)ᵗ` when `rate` is 1.
    pub fn kolen_pollack(&mut self, b: ArrayViewMut2<'_, f32>, rate: f32, decay: f32) {
        let wt = self.wt.slice_mut(s![.., ..self.width]);
        crate::feedback_learning::kolen_pollack_increment(b, wt, self.dwt.view(), rate, decay);
    }
}

/// `dst = srcᵀ`, by tiles of 16 × 16 (both arrays' rows stay in cache while a tile is copied).
fn transpose_into(src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>) {
    const T: usize = 16;
    let (rows, cols) = src.dim();
    assert_eq!(dst.dim(), (cols, rows), "transposed shape");
    for r0 in (0..rows).step_by(T) {
        let r1 = (r0 + T).min(rows);
        for c0 in (0..cols).step_by(T) {
            let c1 = (c0 + T).min(cols);
            for c in c0..c1 {
                let mut out = dst.row_mut(c);
                let out = &mut out.as_slice_mut().expect("contiguous rows")[r0..r1];
                for (o, r) in out.iter_mut().zip(r0..r1) {
                    *o = src[[r, c]];
                }
            }
        }
    }
}

/// The sum of one tile for one example, without SIMD: `sums[..cells]` (starting from 0 if `fresh`) plus the rows
/// `row0 + i` (i in `active`) of `wt`, columns `c0 ..`, each cell summed in the order of `active`.
fn tile_sum_portable(
    wt: &Array2<f32>,
    row0: usize,
    c0: usize,
    cells: usize,
    active: &[u16],
    sums: &mut [f32],
    fresh: bool,
) {
    let sums = &mut sums[..cells];
    if fresh {
        sums.fill(0.0);
    }
    for &i in active {
        let row = wt.row(row0 + usize::from(i));
        let row = &row.to_slice().expect("contiguous rows")[c0..c0 + cells];
        sums.iter_mut().zip(row).for_each(|(s, &w)| *s += w);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{ActiveInputs, CHUNK};
    use ndarray::Array2;
    use std::arch::x86_64::*;

    /// Whether this CPU runs the kernel (cached by the standard library).
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx2")
    }

    /// [`super::tile_sum_portable`] for every example of `active`'s tile `t` into its row of `sums`, with the sums
    /// of up to [`CHUNK`] cells in eight registers.
    ///
    /// # Safety
    /// AVX2; every row `row0 + i` (i an index in `active`) exists in `wt`, and its row length is at least `c0` plus
    /// `cells` rounded up to 8; `sums` has a row per example of `active`, each of at least that rounded number of
    /// contiguous floats.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn tile_sums(
        wt: &Array2<f32>,
        row0: usize,
        c0: usize,
        cells: usize,
        active: &ActiveInputs,
        t: usize,
        sums: &mut Array2<f32>,
    ) {
        debug_assert!(cells <= CHUNK && sums.ncols() >= cells.next_multiple_of(8) && sums.strides()[1] == 1);
        debug_assert!(c0 + cells.next_multiple_of(8) <= wt.ncols() && wt.strides()[1] == 1);
        debug_assert!(sums.nrows() == active.examples);
        let stride = wt.strides()[0];
        // SAFETY: the caller's bounds, passed on (the stride is that of wt's rows).
        let base = unsafe { wt.as_ptr().offset(row0 as isize * stride).add(c0) };
        let (out, out_stride) = (sums.as_mut_ptr(), sums.strides()[0]);
        // SAFETY (each arm): as above.
        unsafe {
            match cells.div_ceil(8) {
                1 => every_example::<1>(base, stride, active, t, out, out_stride),
                2 => every_example::<2>(base, stride, active, t, out, out_stride),
                3 => every_example::<3>(base, stride, active, t, out, out_stride),
                4 => every_example::<4>(base, stride, active, t, out, out_stride),
                5 => every_example::<5>(base, stride, active, t, out, out_stride),
                6 => every_example::<6>(base, stride, active, t, out, out_stride),
                7 => every_example::<7>(base, stride, active, t, out, out_stride),
                _ => every_example::<8>(base, stride, active, t, out, out_stride),
            }
        }
    }

    /// [`registers`] for each example in turn (row e of the sums at `out + e · out_stride`).
    ///
    /// # Safety
    /// As [`tile_sums`].
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn every_example<const N: usize>(
        base: *const f32,
        stride: isize,
        active: &ActiveInputs,
        t: usize,
        out: *mut f32,
        out_stride: isize,
    ) {
        for e in 0..active.examples {
            // SAFETY: the caller's bounds: row e of sums holds 8 N floats.
            unsafe {
                registers::<N>(
                    base,
                    stride,
                    active.tile(e, t),
                    out.offset(e as isize * out_stride),
                    t == 0,
                )
            };
        }
    }

    /// `N` registers of sums: loaded from `sums` (or zero if `fresh`), each active row's `8 N` floats added, stored.
    ///
    /// # Safety
    /// AVX2; `base + i · stride` is a readable row of `8 N` floats for every i in `active`; `sums` points to `8 N`
    /// writable floats.
    #[target_feature(enable = "avx2")]
    #[inline]
    #[allow(clippy::needless_range_loop)] // constant extents: the sums stay in registers
    unsafe fn registers<const N: usize>(base: *const f32, stride: isize, active: &[u16], sums: *mut f32, fresh: bool) {
        let mut acc = [_mm256_setzero_ps(); N];
        if !fresh {
            for r in 0..N {
                // SAFETY: sums holds 8 N floats.
                acc[r] = unsafe { _mm256_loadu_ps(sums.add(8 * r)) };
            }
        }
        for &i in active {
            // SAFETY: the caller's guarantee on rows.
            let row = unsafe { base.offset(i as isize * stride) };
            for r in 0..N {
                // SAFETY: as above.
                acc[r] = _mm256_add_ps(acc[r], unsafe { _mm256_loadu_ps(row.add(8 * r)) });
            }
        }
        for r in 0..N {
            // SAFETY: sums holds 8 N floats.
            unsafe { _mm256_storeu_ps(sums.add(8 * r), acc[r]) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::drive_block;
    use ndarray::Array1;

    /// A deterministic 0/1 activity with about `density` of the cells active.
    fn spikes(examples: usize, cells: usize, density: f64, seed: u64) -> Array2<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        Array2::from_shape_fn((examples, cells), |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f32::from(((x >> 11) as f64 / (1u64 << 53) as f64) < density)
        })
    }

    fn weights(post: usize, pre: usize) -> Array2<f32> {
        Array2::from_shape_fn((post, pre), |(j, i)| ((j * 31 + i * 17) % 97) as f32 * 0.013 - 0.6)
    }

    /// The lists name exactly the active cells, in order, and tile t holds the cells of t·TILE .. (t+1)·TILE.
    #[test]
    fn active_inputs_list_the_active_cells_by_tile() {
        for (width, seed) in [(150, 1), (130, 2), (128, 3), (7, 4), (64, 5), (300, 6)] {
            let a = spikes(5, width, 0.45, seed);
            let mut act = ActiveInputs::new(5, width);
            act.collect(a.view());
            for e in 0..5 {
                let want: Vec<u16> = (0..width as u16).filter(|&i| a[[e, usize::from(i)]] == 1.0).collect();
                assert_eq!(act.cells(e), &want[..], "width {width}, example {e}");
                for t in 0..act.tiles {
                    let tile = act.tile(e, t);
                    assert!(tile.iter().all(|&i| usize::from(i) / TILE == t), "example {e} tile {t}");
                }
                let joined: Vec<u16> = (0..act.tiles).flat_map(|t| act.tile(e, t).to_vec()).collect();
                assert_eq!(joined, want);
            }
            // All silent, all active.
            act.collect(Array2::zeros((5, width)).view());
            assert!((0..5).all(|e| act.cells(e).is_empty()));
            act.collect(Array2::ones((5, width)).view());
            assert!((0..5).all(|e| act.cells(e).len() == width));
            assert!((0..5).all(|e| act.cells(e).iter().enumerate().all(|(i, &c)| usize::from(c) == i)));
        }
    }

    /// The drive equals a plain loop in the documented order, bit for bit, with and without AVX2, over blocks below
    /// of uneven widths and a post block whose width is not a multiple of 8; and the dense product within rounding.
    #[test]
    fn drive_is_the_ordered_sum_of_active_rows() {
        let (examples, widths, post) = (7, [160, 160, 150], 83);
        let pre: usize = widths.iter().sum();
        let a = spikes(examples, pre, 0.45, 2);
        let w = weights(post, pre);
        let b = Array1::from_shape_fn(post, |j| j as f32 * 0.1 - 4.0);
        let proj = Projection::new(w.clone(), b.clone());
        let mut carry = SpikeInputCarry::new(examples, pre, post, post);
        carry.begin(&proj);
        let mut below = Vec::new();
        let mut first = 0;
        for &width in &widths {
            let mut act = ActiveInputs::new(examples, width);
            act.collect(a.slice(s![.., first..first + width]));
            below.push(act);
            first += width;
        }
        // The documented order, written out.
        let mut want = Array2::<f32>::zeros((examples, post));
        for e in 0..examples {
            for j in 0..post {
                let mut v = 0.0f32;
                let mut first = 0;
                for (k, &width) in widths.iter().enumerate() {
                    let mut s = 0.0f32;
                    for i in first..first + width {
                        if a[[e, i]] == 1.0 {
                            s += w[[j, i]];
                        }
                    }
                    v = if k == 0 { s } else { v + s };
                    first += width;
                }
                want[[e, j]] = v + b[j];
            }
        }
        let blk = &mut carry.blocks[0];
        let mut got = Array2::<f32>::from_elem((examples, post), f32::NAN);
        blk.drive(&below, b.as_slice().unwrap(), &mut got.view_mut());
        assert_eq!(
            got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        // Without SIMD, through the same loops.
        for e in 0..examples {
            let mut v = vec![0.0f32; post];
            let mut first_row = 0;
            for (k, act) in below.iter().enumerate() {
                let mut sums = vec![0.0f32; post];
                for c0 in (0..post).step_by(CHUNK) {
                    let cells = CHUNK.min(post - c0);
                    for t in 0..act.tiles {
                        let s = &mut sums[c0..];
                        tile_sum_portable(&blk.wt, first_row, c0, cells, act.tile(e, t), s, t == 0);
                    }
                }
                for (v, s) in v.iter_mut().zip(&sums) {
                    *v = if k == 0 { *s } else { *v + s };
                }
                first_row += act.width;
            }
            for (j, v) in v.iter().enumerate() {
                assert_eq!(
                    (v + b[j]).to_bits(),
                    want[[e, j]].to_bits(),
                    "portable, example {e} cell {j}"
                );
            }
        }
        let mut dense = Array2::<f32>::zeros((examples, post));
        drive_block(a.view(), w.view(), b.view(), &mut dense.view_mut());
        let err = (&dense - &got).iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(err < 1e-4, "against the dense product: {err}");
    }

    /// begin and store carry W and ΔW through unchanged; a learning step equals the projection's own (within
    /// rounding), over post blocks of uneven width.
    #[test]
    fn learning_in_the_transposed_carry_is_the_projections_update() {
        let (examples, pre, post, width) = (6, 50, 40, 16);
        let a = spikes(examples, pre, 0.5, 3);
        let iota = Array2::from_shape_fn((examples, post), |(e, j)| ((e * 7 + j * 3) % 11) as f32 * 0.01 - 0.05);
        let mut proj = Projection::new(weights(post, pre), Array1::zeros(post));
        proj.dw = weights(post, pre).mapv(|x| x * 0.01);
        let mut carry = SpikeInputCarry::new(examples, pre, post, width);
        carry.begin(&proj);
        let mut back = proj.clone();
        back.w.fill(0.0);
        back.dw.fill(0.0);
        carry.store(&mut back);
        assert_eq!(back, proj, "a round trip without learning changes nothing");
        for _ in 0..3 {
            carry.blocks_mut().enumerate().for_each(|(k, blk)| {
                let iota = iota.slice(s![.., k * width..(k * width + width).min(post)]);
                blk.learn(iota, a.view(), Update::new(0.9, 0.5));
            });
            proj.post_blocks_mut(width).enumerate().for_each(|(k, mut blk)| {
                let iota = iota.slice(s![.., k * width..(k * width + width).min(post)]);
                blk.learn_weights(iota, a.view(), Update::new(0.9, 0.5));
            });
        }
        carry.store(&mut back);
        let err = (&back.w - &proj.w).iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let derr = (&back.dw - &proj.dw).iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(err < 1e-5 && derr < 1e-6, "W {err}, ΔW {derr}");
        assert!(
            carry
                .blocks
                .iter()
                .all(|b| b.wt.slice(s![.., b.width..]).iter().all(|&x| x == 0.0))
        );
    }
}
