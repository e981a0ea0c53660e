//! The state of K streams of a stochastic binary network (SPEC §5.4): spikes of every population, PSPs u of the
//! hidden and output units, potentials δ of the feedback and error units. It persists from one image to the next
//! and, with `protocol.reset_between_examples: false`, is never reset.

use crate::engine::boundary::CellState;
use ndarray::{Array2, s};

/// The cells of K streams, `[streams, cells]` arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Cells {
    /// Spikes of population l (0 = input), this step.
    pub s: Vec<Array2<f32>>,
    /// PSP u of the population fed by weight layer l.
    pub u: Vec<Array2<f32>>,
    /// Potential δ of the feedback units of the population fed by weight layer l (the error units for the output).
    pub delta: Vec<Array2<f32>>,
}

impl Cells {
    /// Silent cells, u = δ = 0, for `streams` streams of a network of `sizes`.
    pub fn new(streams: usize, sizes: &[usize]) -> Self {
        let zeros = |&n: &usize| Array2::zeros((streams, n));
        Self {
            s: sizes.iter().map(zeros).collect(),
            u: sizes[1..].iter().map(zeros).collect(),
            delta: sizes[1..].iter().map(zeros).collect(),
        }
    }

    /// Back to rest (u = δ = 0, no spikes) for streams `..n`.
    pub fn reset(&mut self, n: usize) {
        for a in self.s.iter_mut().chain(&mut self.u).chain(&mut self.delta) {
            a.slice_mut(s![..n, ..]).fill(0.0);
        }
    }

    /// Copies `other` into these cells (same shapes), without allocating.
    pub fn assign(&mut self, other: &Cells) {
        for (a, b) in self.arrays_mut().zip(other.arrays()) {
            a.assign(b);
        }
    }

    fn arrays(&self) -> impl Iterator<Item = &Array2<f32>> {
        self.s.iter().chain(&self.u).chain(&self.delta)
    }

    fn arrays_mut(&mut self) -> impl Iterator<Item = &mut Array2<f32>> {
        self.s.iter_mut().chain(&mut self.u).chain(&mut self.delta)
    }

    /// Array names in [`CellState`] order: `s0` … `sm`, `u1` … `um`, `delta1` … `deltam`.
    fn names(&self) -> Vec<String> {
        let layers = self.u.len();
        (0..=layers)
            .map(|l| format!("s{l}"))
            .chain((1..=layers).map(|l| format!("u{l}")))
            .chain((1..=layers).map(|l| format!("delta{l}")))
            .collect()
    }

    /// The state as named arrays.
    pub fn to_state(&self) -> CellState {
        CellState {
            arrays: self.names().into_iter().zip(self.arrays().cloned()).collect(),
        }
    }

    /// Takes the values of `state`, which must hold these cells' arrays by name and shape.
    pub fn restore(&mut self, state: &CellState) -> Result<(), String> {
        let names = self.names();
        let have: Vec<(&str, (usize, usize))> = state.arrays.iter().map(|(n, a)| (n.as_str(), a.dim())).collect();
        let want: Vec<(&str, (usize, usize))> = names
            .iter()
            .map(|n| n.as_str())
            .zip(self.arrays().map(|a| a.dim()))
            .collect();
        if have != want {
            return Err(format!(
                "the saved cell state has arrays {have:?}, but this network's streams have {want:?}"
            ));
        }
        for (a, (_, b)) in self.arrays_mut().zip(&state.arrays) {
            a.assign(b);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_round_trips_and_a_foreign_one_is_refused() {
        let mut a = Cells::new(2, &[3, 4, 2]);
        a.u[1][[1, 0]] = 0.5;
        a.s[0][[0, 2]] = 1.0;
        a.delta[0][[1, 3]] = -0.25;
        let mut b = Cells::new(2, &[3, 4, 2]);
        b.restore(&a.to_state()).unwrap();
        assert_eq!(a, b);
        let mut other = Cells::new(3, &[3, 4, 2]);
        let err = other.restore(&a.to_state()).unwrap_err();
        assert!(err.contains("s0"), "{err}");
        b.reset(1);
        assert_eq!(b.u[1][[1, 0]], 0.5, "stream 1 untouched");
        assert_eq!(b.s[0][[0, 2]], 0.0, "stream 0 at rest");
    }
}
