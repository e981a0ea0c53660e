//! Step 2 of Table 1: the excitatory and inhibitory error pools of the same step (SPEC §2.1), and the error
//! e = e⁺ − e⁻ that the feedback pathways carry.

use super::buffers::LifEngine;
use crate::model::ErrorPools;
use ndarray::Zip;

impl LifEngine {
    /// The error pools of this step (SPEC §2.1): `e⁺ = max(a_out − y*, 0)`, `e⁻ = max(y* − a_out, 0)`, relayed or
    /// through LIF pool cells.
    pub(super) fn error_pools(&mut self) {
        let lif = self.lif;
        let out = self.layers[self.layers.len() - 1].a.single();
        match (&mut self.pool_cells, self.model.error_pools()) {
            (None, _) => Zip::from(&mut self.err_exc)
                .and(&mut self.err_inh)
                .and(out)
                .and(&self.target)
                .for_each(|exc, inh, &a, &y| {
                    *exc = (a - y).max(0.0);
                    *inh = (y - a).max(0.0);
                }),
            (Some((exc, inh, drive)), ErrorPools::Lif { gain }) => {
                let gain = *gain;
                Zip::from(&mut *drive)
                    .and(out)
                    .and(&self.target)
                    .for_each(|d, &a, &y| *d = gain * (a - y));
                exc.step(&lif, drive.view());
                drive.mapv_inplace(|d| -d);
                inh.step(&lif, drive.view());
                self.err_exc.assign(&exc.a);
                self.err_inh.assign(&inh.a);
            }
            (Some(_), ErrorPools::Relay) => unreachable!("pool cells exist only for LIF pools"),
        }
    }

    /// The error `e = e⁺ − e⁻` of this step and the examples whose error is not zero: an example whose pools are
    /// silent has δ = 0, so ι = 0, in every layer, and the updates skip it.
    pub(super) fn error_and_active_examples(&mut self) {
        Zip::from(&mut self.error)
            .and(&self.err_exc)
            .and(&self.err_inh)
            .for_each(|e, &p, &n| *e = p - n);
        let error = &self.error;
        self.active.clear();
        self.active
            .extend((0..self.examples).filter(|&e| error.row(e).iter().any(|&x| x != 0.0)));
    }
}
