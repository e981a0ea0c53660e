//! A `[examples, cells]` matrix kept as column blocks, each block in its own contiguous allocation.
//!
//! A step of a hidden layer runs its cells in column blocks, one parallel task per block, on every step. When the
//! blocks are column ranges of one row-major array, each row of the array holds a piece of every block side by side,
//! and the hardware prefetcher of the core stepping one block runs on into the next block's piece of the row, which
//! another core is writing: the cache lines at every boundary of every row travel between the cores on every step, and
//! two threads can take longer than one (docs/performance.md, "Session 7: each block of a layer in memory of its own
//! (two threads stop slowing each other down)").
//! Here each block is its own `[examples, block cells]` array with rows on cache lines ([`crate::layout`]): a block's
//! state is one region of memory that only its own task touches.
//!
//! The block split is fixed by the width alone (never by the number of threads), so every computation per block gives
//! the same bits at any thread count.

use crate::layout::aligned_zeros;
use ndarray::{Array2, ArrayView2, ArrayViewMut1, s};
use num_traits::Zero;
use rayon::prelude::*;

/// A `[examples, cells]` matrix stored as column blocks of `width` cells (the last one narrower).
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnBlocks<T> {
    blocks: Vec<Array2<T>>,
    examples: usize,
    cells: usize,
    width: usize,
}

impl<T: Clone + Zero> ColumnBlocks<T> {
    /// Zeros, `examples × cells`, in blocks of `width` cells. `T` must be a 4-byte element (f32, u32).
    ///
    /// # Panics
    /// If `width` is 0 while `cells` is not.
    pub fn zeros(examples: usize, cells: usize, width: usize) -> Self {
        assert!(width > 0 || cells == 0, "column blocks need a width");
        let blocks = (0..cells.div_ceil(width.max(1)))
            .map(|k| aligned_zeros(examples, width.min(cells - k * width)))
            .collect();
        Self {
            blocks,
            examples,
            cells,
            width,
        }
    }
}

impl<T> ColumnBlocks<T> {
    /// Number of rows (examples).
    pub fn examples(&self) -> usize {
        self.examples
    }

    /// Number of columns (cells) over all blocks.
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// Cells per block (the last block may be narrower).
    pub fn width(&self) -> usize {
        self.width
    }

    /// `(examples, cells)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.examples, self.cells)
    }

    /// The blocks, in column order: block k holds cells `k · width ..`.
    pub fn blocks(&self) -> &[Array2<T>] {
        &self.blocks
    }

    /// The blocks, mutably.
    pub fn blocks_mut(&mut self) -> &mut [Array2<T>] {
        &mut self.blocks
    }

    /// The only block of a matrix that is one block wide (a layer stepped whole, such as the output layer).
    ///
    /// # Panics
    /// If there is more than one block.
    pub fn single(&self) -> &Array2<T> {
        assert_eq!(self.blocks.len(), 1, "a matrix of one block");
        &self.blocks[0]
    }

    /// [`Self::single`], mutably.
    pub fn single_mut(&mut self) -> &mut Array2<T> {
        assert_eq!(self.blocks.len(), 1, "a matrix of one block");
        &mut self.blocks[0]
    }
}

impl<T: Send + Sync> ColumnBlocks<T> {
    /// The blocks as a parallel iterator, in column order.
    pub fn par_blocks(&self) -> impl IndexedParallelIterator<Item = &Array2<T>> {
        self.blocks.par_iter()
    }

    /// The blocks as a parallel iterator of mutable references, in column order.
    pub fn par_blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = &mut Array2<T>> {
        self.blocks.par_iter_mut()
    }
}

impl<T: Copy> ColumnBlocks<T> {
    /// Sets every element to `x`.
    pub fn fill(&mut self, x: T) {
        self.blocks.iter_mut().for_each(|b| b.fill(x));
    }

    /// The element of example `e`, cell `c`.
    ///
    /// # Panics
    /// If out of range.
    pub fn get(&self, e: usize, c: usize) -> T {
        assert!(c < self.cells, "cell {c} out of range");
        self.blocks[c / self.width][[e, c % self.width]]
    }

    /// Row `e` (every cell of example `e`, in order).
    pub fn row(&self, e: usize) -> impl Iterator<Item = T> + '_ {
        self.blocks.iter().flat_map(move |b| b.row(e).into_iter().copied())
    }

    /// Copies row `e` into `dst` (`cells` long).
    ///
    /// # Panics
    /// If `dst` has another length.
    pub fn copy_row_into(&self, e: usize, mut dst: ArrayViewMut1<'_, T>) {
        assert_eq!(dst.len(), self.cells, "row length");
        for (k, b) in self.blocks.iter().enumerate() {
            let first = k * self.width;
            dst.slice_mut(s![first..first + b.ncols()]).assign(&b.row(e));
        }
    }

    /// The whole matrix as one `[examples, cells]` array.
    pub fn to_dense(&self) -> Array2<T>
    where
        T: Zero,
    {
        let mut out = Array2::zeros((self.examples, self.cells));
        self.copy_into(&mut out);
        out
    }

    /// Copies the whole matrix into `out` (`[examples, cells]`).
    ///
    /// # Panics
    /// If `out` has another shape.
    pub fn copy_into(&self, out: &mut Array2<T>) {
        assert_eq!(out.dim(), self.dim(), "shape of the copy");
        for (k, b) in self.blocks.iter().enumerate() {
            let first = k * self.width;
            out.slice_mut(s![.., first..first + b.ncols()]).assign(b);
        }
    }

    /// Sets the whole matrix from `src` (`[examples, cells]`).
    ///
    /// # Panics
    /// If `src` has another shape.
    pub fn assign(&mut self, src: ArrayView2<'_, T>) {
        assert_eq!(src.dim(), self.dim(), "shape of the source");
        let width = self.width;
        for (k, b) in self.blocks.iter_mut().enumerate() {
            let (first, cols) = (k * width, b.ncols());
            b.assign(&src.slice(s![.., first..first + cols]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_columns_in_order_and_read_back() {
        let dense = Array2::from_shape_fn((3, 10), |(e, c)| (10 * e + c) as f32);
        let mut m = ColumnBlocks::<f32>::zeros(3, 10, 4);
        assert_eq!(m.blocks().iter().map(|b| b.ncols()).collect::<Vec<_>>(), [4, 4, 2]);
        m.assign(dense.view());
        assert_eq!(m.to_dense(), dense);
        assert_eq!(m.get(2, 9), 29.0);
        assert_eq!(m.get(1, 4), m.blocks()[1][[1, 0]]);
        assert_eq!(m.row(1).collect::<Vec<_>>(), dense.row(1).to_vec());
        let mut row = ndarray::Array1::zeros(10);
        m.copy_row_into(2, row.view_mut());
        assert_eq!(row, dense.row(2));
        m.fill(1.5);
        assert!(m.to_dense().iter().all(|&x| x == 1.5));
    }

    #[test]
    fn each_block_is_its_own_contiguous_allocation_on_cache_lines() {
        let m = ColumnBlocks::<f32>::zeros(5, 1000, 256);
        for b in m.blocks() {
            assert_eq!(b.as_ptr() as usize % 64, 0, "block starts on a cache line");
            for r in b.rows() {
                assert!(r.as_slice().is_some(), "rows contiguous");
            }
        }
        let ends: Vec<(usize, usize)> = m
            .blocks()
            .iter()
            .map(|b| (b.as_ptr() as usize, b.as_ptr() as usize + 4 * b.len()))
            .collect();
        for (i, a) in ends.iter().enumerate() {
            for b in &ends[i + 1..] {
                assert!(a.1 <= b.0 || b.1 <= a.0, "blocks do not overlap");
            }
        }
    }

    #[test]
    fn one_block_when_the_width_covers_every_cell() {
        let m = ColumnBlocks::<u32>::zeros(2, 10, 10);
        assert_eq!(m.single().dim(), (2, 10));
        assert_eq!(ColumnBlocks::<f32>::zeros(2, 0, 16).blocks().len(), 0);
    }
}
