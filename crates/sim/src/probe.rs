//! What an observer sees of a presentation, step by step: the values of any population's variables, addressed by
//! the roster ([`crate::roster`]), whatever engine runs.

use crate::roster::{PopId, Roster, Variable};
use ndarray::{Array2, ArrayView2};
use rayon::iter::Either;
use snn_neuron::ColumnBlocks;

/// One population's `[examples, cells]` values on a step: a whole array (input, error pools, rate layers) or the
/// column blocks of a LIF layer ([`ColumnBlocks`]).
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    /// A whole row-major array.
    Whole(ArrayView2<'a, f32>),
    /// A layer kept in column blocks.
    Blocks(&'a ColumnBlocks<f32>),
}

impl Values<'_> {
    /// `(examples, cells)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Values::Whole(a) => a.dim(),
            Values::Blocks(b) => b.dim(),
        }
    }

    /// The value of example `e`, cell `c`.
    ///
    /// # Panics
    /// If out of range.
    pub fn get(&self, e: usize, c: usize) -> f32 {
        match self {
            Values::Whole(a) => a[[e, c]],
            Values::Blocks(b) => b.get(e, c),
        }
    }

    /// Row `e`: every cell of example `e`, in order.
    pub fn row(&self, e: usize) -> impl Iterator<Item = f32> + '_ {
        match self {
            Values::Whole(a) => Either::Left(a.row(e).into_iter().copied()),
            Values::Blocks(b) => Either::Right(b.row(e)),
        }
    }

    /// Every value, row by row.
    pub fn iter(&self) -> impl Iterator<Item = f32> + '_ {
        (0..self.dim().0).flat_map(move |e| self.row(e))
    }

    /// The whole `[examples, cells]` array (a copy).
    pub fn to_owned(&self) -> Array2<f32> {
        match self {
            Values::Whole(a) => a.to_owned(),
            Values::Blocks(b) => b.to_dense(),
        }
    }
}

/// The state of every population on one step of a presentation, as an engine shows it.
pub trait StepView {
    /// The populations this view can show.
    fn roster(&self) -> &Roster;

    /// The values of `variable` of population `pop` on this step; `None` if the population does not show it, or,
    /// for ι and δ, if the layer did not learn on this step or they were not formed for observers (a probe whose
    /// [`Probe::wants_teaching`] is false).
    fn values(&self, pop: PopId, variable: Variable) -> Option<Values<'_>>;

    /// Activity of `pop` (every population shows it).
    fn activity(&self, pop: PopId) -> Values<'_> {
        self.values(pop, Variable::A)
            .expect("every population shows its activity")
    }
}

/// Something that watches a presentation step by step (a raster recorder, a trace probe, an event counter).
pub trait Probe {
    /// Called after every step with the state of all populations.
    fn after_step(&mut self, step: usize, view: &dyn StepView);

    /// Whether this probe reads the hidden layers' δ and ι: forming them as whole `[examples, cells]` arrays costs
    /// two passes per layer and step, so the LIF engine does it only when asked.
    fn wants_teaching(&self) -> bool {
        false
    }
}

/// A probe that records nothing.
pub struct NoProbe;

impl Probe for NoProbe {
    fn after_step(&mut self, _: usize, _: &dyn StepView) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A population read through `Values` gives the same numbers whether it is a whole array or column blocks.
    #[test]
    fn values_read_the_same_from_a_whole_array_and_from_column_blocks() {
        let dense = Array2::from_shape_fn((3, 11), |(e, c)| (e * 100 + c) as f32);
        let mut blocks = ColumnBlocks::zeros(3, 11, 4);
        blocks.assign(dense.view());
        let (whole, blocked) = (Values::Whole(dense.view()), Values::Blocks(&blocks));
        assert_eq!(whole.dim(), blocked.dim());
        for e in 0..3 {
            assert_eq!(whole.row(e).collect::<Vec<_>>(), blocked.row(e).collect::<Vec<_>>());
            for c in 0..11 {
                assert_eq!(whole.get(e, c), blocked.get(e, c));
            }
        }
        assert_eq!(whole.iter().collect::<Vec<_>>(), blocked.iter().collect::<Vec<_>>());
        assert_eq!(blocked.to_owned(), dense);
    }
}
