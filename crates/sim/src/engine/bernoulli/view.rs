//! What probes see of a stochastic binary network after a step: spikes of every forward population (the input's
//! included), drive v and PSP u of the units, potential δ and signal φ_δ(δ) of the feedback and error units.

use super::BernoulliEngine;
use crate::probe::{StepView, Values};
use crate::roster::{PopId, Role, Roster, Variable};
use ndarray::Array2;

/// A Bernoulli network's populations after one step.
pub(super) struct BernoulliView<'a> {
    pub engine: &'a BernoulliEngine,
}

impl StepView for BernoulliView<'_> {
    fn roster(&self) -> &Roster {
        &self.engine.roster
    }

    fn values(&self, pop: PopId, variable: Variable) -> Option<Values<'_>> {
        let e = self.engine;
        let cells = e.current();
        match (e.roster.get(pop).role, variable) {
            (Role::Input, Variable::A) => whole(&cells.s[0]),
            (Role::Hidden(_) | Role::Output, v) => {
                let l = e.roster.layer_of(pop)?;
                match v {
                    Variable::A => whole(&cells.s[l + 1]),
                    Variable::V => whole(&e.drive[l]),
                    Variable::U => whole(&cells.u[l]),
                    _ => None,
                }
            }
            (Role::Feedback(k), Variable::A) => whole(&e.signal[k]),
            (Role::Feedback(k), Variable::Delta) => whole(&cells.delta[k]),
            (Role::Error, Variable::A) => whole(&e.signal[e.signal.len() - 1]),
            (Role::Error, Variable::Delta) => whole(&cells.delta[cells.delta.len() - 1]),
            _ => None,
        }
    }
}

fn whole(a: &Array2<f32>) -> Option<Values<'_>> {
    Some(Values::Whole(a.view()))
}
