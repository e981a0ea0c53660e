//! What probes see of a LIF network on a step: every population of the roster, by name.

use super::buffers::LifEngine;
use crate::probe::{StepView, Values};
use crate::roster::{PopId, Role, Roster, Variable};

/// A LIF engine's populations after one step.
pub(super) struct LifView<'a> {
    engine: &'a LifEngine,
}

impl LifEngine {
    /// The state of this step, for probes.
    pub(super) fn view(&self) -> LifView<'_> {
        LifView { engine: self }
    }
}

impl StepView for LifView<'_> {
    fn roster(&self) -> &Roster {
        &self.engine.roster
    }

    fn values(&self, pop: PopId, variable: Variable) -> Option<Values<'_>> {
        let e = self.engine;
        match (e.roster.get(pop).role, variable) {
            (Role::Input, Variable::A) => Some(Values::Whole(e.input.view())),
            (Role::ErrorExc, Variable::A) => Some(Values::Whole(e.err_exc.view())),
            (Role::ErrorInh, Variable::A) => Some(Values::Whole(e.err_inh.view())),
            (Role::Hidden(_) | Role::Output, _) => {
                let l = e.roster.layer_of(pop)?;
                match variable {
                    Variable::A => Some(Values::Blocks(&e.layers[l].a)),
                    Variable::H => Some(Values::Blocks(&e.layers[l].h)),
                    Variable::V => Some(Values::Blocks(&e.drive[l])),
                    Variable::Iota => e.learned_now[l].then(|| Values::Blocks(&e.iota[l])),
                    Variable::Delta => e.learned_now[l].then(|| Values::Blocks(&e.delta[l])),
                    Variable::U => None,
                }
            }
            _ => None,
        }
    }
}
