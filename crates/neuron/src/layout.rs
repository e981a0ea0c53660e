//! Memory layout of the per-step state arrays: rows padded and aligned to cache lines.
//!
//! Arrays made here have a row stride that is a multiple of 16 elements and a first element on a 64-byte boundary, so
//! every row, and every column boundary at a multiple of 16 cells, starts a cache line. They are ordinary `Array2`s
//! whose rows are contiguous (`row.as_slice()` works; the whole array is not one slice), and threads stepping
//! neighbouring column blocks never write the same line. Because the prefetcher still runs across a block boundary
//! within a row, each block of a hidden layer is an allocation of its own ([`crate::column_blocks`]), made here.

use ndarray::{Array2, s};
use num_traits::Zero;

/// Elements per 64-byte cache line for 4-byte elements.
pub const LINE: usize = 16;

/// A `rows × cols` array of zeros whose rows start on 64-byte boundaries (see the module docs). `T` must be a 4-byte
/// element (f32, u32).
pub fn aligned_zeros<T: Clone + Zero>(rows: usize, cols: usize) -> Array2<T> {
    assert_eq!(
        std::mem::size_of::<T>(),
        4,
        "aligned rows are laid out for 4-byte elements"
    );
    let stride = cols.next_multiple_of(LINE);
    // One spare line so that the first element can be moved onto a line boundary.
    let full = Array2::<T>::from_elem((rows.max(1), stride + LINE), T::zero());
    let misalignment = (full.as_ptr() as usize % 64) / 4;
    let offset = (LINE - misalignment) % LINE;
    let mut a = full.slice_move(s![.., offset..offset + cols]);
    if rows == 0 {
        a = a.slice_move(s![..0, ..]);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_start_on_cache_lines_and_are_contiguous() {
        for cols in [1, 10, 16, 630, 1000] {
            let mut a = aligned_zeros::<f32>(7, cols);
            assert_eq!(a.dim(), (7, cols));
            assert_eq!(a.strides()[0] as usize % LINE, 0);
            for mut r in a.rows_mut() {
                assert_eq!(r.as_ptr() as usize % 64, 0, "cols {cols}");
                r.as_slice_mut().unwrap().fill(1.0);
            }
            assert_eq!(a.sum(), (7 * cols) as f32);
        }
        let u = aligned_zeros::<u32>(3, 100);
        assert!(u.iter().all(|&x| x == 0));
        assert_eq!(aligned_zeros::<f32>(0, 5).dim(), (0, 5));
    }
}
