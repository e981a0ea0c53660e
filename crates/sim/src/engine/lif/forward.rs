//! Step 1 of Table 1: every LIF layer's drive `v = a_below Wᵀ + b` from the layer below's activity of this step,
//! then its LIF update (SPEC §1, §2.4).
//!
//! A hidden layer is stepped in parallel over its column blocks; below the output, each block also adds its share of
//! the output drive. The drive of a learning first layer may come through the Gram carry of its constant input
//! ([`snn_plasticity::gram`]), and a hidden layer fed by another hidden layer may sum the rows of its transposed
//! weights for the active inputs ([`snn_plasticity::spike_input`]): the same values as Table 1's products.

use super::buffers::{LifEngine, optional};
use crate::answers::{NonFiniteDrive, all_finite_slice, first_non_finite_row};
use crate::network::Network;
use crate::probe::Values;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayView2, Axis};
use snn_plasticity::ActiveInputs;
use snn_plasticity::matmul::mat_mul_into;
use snn_plasticity::projection::{drive_block, partial_drive};

impl LifEngine {
    /// Step `s`'s forward pass of every layer, bottom up. The first layer's input is constant, so its drive changes
    /// only after a step that changed its weights (a learning step); otherwise it keeps the value every step would
    /// compute. Returns where a drive first became NaN or infinite: the presentation then stops.
    pub(super) fn forward(
        &mut self,
        net: &Network,
        s: usize,
        learns: &[bool],
        use_gram: bool,
    ) -> Option<NonFiniteDrive> {
        let out = self.layers.len() - 1;
        let settle = self.model.settle_steps();
        for l in 0..=out {
            let recompute = !(l == 0 && s > 0 && !(learns[0] && s > settle));
            let bad = if l < out {
                self.forward_hidden(net, l, recompute, use_gram)
            } else {
                self.forward_output(net, recompute, use_gram)
            };
            if let Some(slot) = bad {
                return Some(NonFiniteDrive {
                    population: self.roster.post_of(l),
                    step: s,
                    slot,
                });
            }
        }
        None
    }

    /// One step of hidden layer `l`, in parallel over its blocks of [`block_width`](super::block_width) cells: each
    /// block computes its drive (if `recompute`; through the Gram carry for a carried first layer), steps its LIF
    /// cells, and, below the output, its share of the output drive. Returns the first example whose drive is not
    /// finite, if any.
    pub(super) fn forward_hidden(&mut self, net: &Network, l: usize, recompute: bool, use_gram: bool) -> Option<usize> {
        let lif = self.lif;
        let width = self.drive[l].width();
        let blocks = self.drive[l].blocks().len();
        let (below, here) = self.layers.split_at_mut(l);
        let pre = match below.last() {
            Some(state) => Values::Blocks(&state.a),
            None => Values::Whole(self.input.view()),
        };
        let proj = &net.forward[l];
        let above = (l + 2 == self.drive.len()).then(|| {
            net.forward[l + 1]
                .w
                .axis_chunks_iter(Axis(1), width)
                .into_par_iter()
                .zip(self.partials.par_iter_mut())
        });
        let gram = self.gram.as_mut().filter(|_| l == 0 && use_gram);
        if let Some(g) = &gram {
            assert_eq!(g.width(), width, "the carry's blocks are the layer's");
        }
        let carry = self.carries[l].as_mut().map(|c| {
            assert_eq!(c.width(), width, "the carry's blocks are the layer's");
            c.blocks_mut()
        });
        // The active cells of the layer below (listed on its step), and of this layer's blocks, for the layer above.
        let (fired_below, fired_here) = self.fired.split_at_mut(l);
        let fired_below: &[ActiveInputs] = fired_below.last().map_or(&[], |f| &f[..]);
        let fired_here = (!fired_here[0].is_empty()).then(|| fired_here[0].par_iter_mut());
        self.drive[l]
            .par_blocks_mut()
            .zip(here[0].blocks_mut())
            .zip(proj.w.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(proj.b.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(optional(gram.map(|g| g.drive_blocks_mut()), blocks))
            .zip(optional(carry, blocks))
            .zip(optional(fired_here, blocks))
            .zip(optional(above, blocks))
            .map(|(((((((v, mut state), w), b), gram), carry), fired), above)| {
                let mut bad = None;
                if recompute {
                    // Drive, finiteness check and LIF update row by row, while the row is in L1.
                    match (&gram, carry) {
                        (Some(_), _) => {}
                        (None, Some(c)) => {
                            c.drive(fired_below, b.to_slice().expect("contiguous biases"), &mut v.view_mut())
                        }
                        (None, None) => drive_block_from(pre, w, b, &mut v.view_mut()),
                    }
                    let (mut gram, b) = (gram, b.to_slice().expect("contiguous biases"));
                    for (e, mut v) in v.rows_mut().into_iter().enumerate() {
                        let v = v.as_slice_mut().expect("rows of a block are contiguous");
                        if let Some(g) = &mut gram {
                            g.drive_row(e, b, v);
                        }
                        if bad.is_none() && !all_finite_slice(v) {
                            bad = Some(e);
                        }
                        state.step_row(&lif, e, v);
                    }
                } else {
                    state.step(&lif, v.view());
                }
                if let Some(fired) = fired {
                    fired.collect(state.a.view());
                }
                if let Some((w_above, partial)) = above {
                    partial_drive(w_above, state.a.view(), &mut partial.view_mut());
                }
                bad
            })
            .filter_map(|bad| bad)
            .min()
    }

    /// One step of the output layer: its drive from the blocks' partial sums (or, without hidden layers, from the
    /// input), then its LIF cells. Returns the first example whose drive is not finite, if any.
    pub(super) fn forward_output(&mut self, net: &Network, recompute: bool, use_gram: bool) -> Option<usize> {
        let out = self.drive.len() - 1;
        let drive = self.drive[out].single_mut();
        if out > 0 {
            net.forward[out].drive_from_partials(&self.partials, drive);
        } else if recompute {
            match self.gram.as_mut().filter(|_| use_gram) {
                Some(g) => g.drive_into(&net.forward[0], drive),
                None => net.forward[0].drive_into(self.input.view(), drive),
            }
        }
        let bad = if recompute {
            first_non_finite_row(drive.view())
        } else {
            None
        };
        if bad.is_none() {
            self.layers[out].step(&self.lif, &self.drive[out]);
        }
        bad
    }
}

/// `v = a_pre Wᵀ + b` for the cells of a post block (`w` its rows of W, `b` its biases, `v` `[examples, block
/// cells]`), from a whole input or from the column blocks of the layer below (summed block by block, in order).
fn drive_block_from(
    pre: Values<'_>,
    w: ArrayView2<'_, f32>,
    b: ndarray::ArrayView1<'_, f32>,
    v: &mut ndarray::ArrayViewMut2<'_, f32>,
) {
    match pre {
        Values::Whole(a) => drive_block(a, w, b, v),
        Values::Blocks(a) => {
            let width = a.width();
            for (k, (a, w)) in a.blocks().iter().zip(w.axis_chunks_iter(Axis(1), width)).enumerate() {
                mat_mul_into(1.0, a.view(), w.t(), if k == 0 { 0.0 } else { 1.0 }, v);
            }
            *v += &b;
        }
    }
}
