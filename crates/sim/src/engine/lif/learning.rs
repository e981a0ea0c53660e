//! Step 3 of Table 1, for t > settle: each learning layer's feedback δ, teaching signal ι = η f'(v) δ (eq 2.11) and
//! momentum update (SPEC §2.2), top down; with a meter, backprop's ι beside it for the alignment diagnostic (SPEC §4).
//!
//! δ = e at the output; a hidden layer's δ = B_BA e arrives through its broadcast pathway. Only the examples whose
//! error pools are active on the step have a nonzero ι; the updates of hidden layers are formed from them alone.

use super::buffers::{LifEngine, optional};
use crate::alignment::{AlignmentMeter, Reference};
use crate::network::Network;
use ndarray::linalg::general_mat_mul;
use ndarray::parallel::prelude::*;
use ndarray::{Axis, s};
use snn_plasticity::FeedbackRule;
use snn_plasticity::feedback_learning::kolen_pollack_increment;
use snn_plasticity::projection::learn_biases;
use snn_plasticity::{broadcast_teaching_block, broadcast_teaching_rows, teaching_signal_into};

impl LifEngine {
    /// One learning step: the output's ι, δ and ι of the hidden layers (as whole arrays when `observe`), backprop's
    /// reference when `meter` is given, then every update, top down. The error and its active examples
    /// ([`Self::error_and_active_examples`]) are this step's.
    pub(super) fn learn_step(
        &mut self,
        net: &mut Network,
        learns: &[bool],
        use_gram: bool,
        observe: bool,
        meter: Option<&mut AlignmentMeter>,
    ) {
        let out = self.layers.len() - 1;
        if use_gram && let Some(g) = &mut self.gram {
            let active = &self.active;
            g.select_rows(|e| active.binary_search(&e).is_ok());
        }
        if learns[out] {
            let output = *self.model.plan().layer(out);
            self.delta[out].single_mut().assign(&self.error);
            let (v, d) = (self.drive[out].single().view(), self.delta[out].single().view());
            teaching_signal_into(self.iota[out].single_mut(), v, d, output.eta, output.derivative);
        }
        self.observed = observe && learns[..out].iter().any(|&l| l);
        if self.observed {
            self.observe_teaching(learns);
        }
        if meter.is_some() {
            // Backprop's ι from the weights before this step's update, for the examples with an error. It reads the
            // weights of the layers above: those carried transposed are written back first.
            for (l, carry) in self.carries.iter().enumerate() {
                if let Some(c) = carry {
                    c.store_weights(&mut net.forward[l]);
                }
            }
            let (m, examples) = (&self.model, self.examples);
            self.reference
                .get_or_insert_with(|| Reference::new(examples, &m.layers()[1..]))
                .form_rows(m.plan(), net, &self.drive, &self.error, &self.active, learns);
        }
        self.learn_hidden_layers(net, learns, use_gram);
        if out > 0 && learns[out] {
            self.kolen_pollack_step(net);
        }
        if !net.layerwise.is_empty() {
            self.rebuild_broadcast(net);
        }
        if let (Some(meter), Some(reference)) = (meter, &mut self.reference) {
            // Against the compacted ι the updates used (the same values as the whole arrays' rows).
            reference.compare_blocks(&self.iota_rows, self.active.len(), learns, meter);
        }
        if learns[out] {
            self.learn_output(net, use_gram);
        }
        if use_gram && let Some(g) = &mut self.gram {
            g.advance(); // one step of σ and μ^k, whichever layer the carry serves
        }
    }

    /// Kolen-Pollack in a network with one hidden layer (SPEC §6.6): B_FA = B_BA / γ takes the output weights'
    /// increment ΔW of this step (the momentum update of §2.2), transposed, and both decay by λ:
    /// `B_BA ← (1 − λ) B_BA + γ (η_B / η) ΔWᵀ` and `W ← (1 − λ) W_before + ΔW`, so that `W − B_FAᵀ` shrinks as
    /// `(1 − λ)ᵗ`. The broadcast matrix is the engine's transposed copy; the network's is written at the end of the
    /// presentation.
    fn kolen_pollack_step(&mut self, net: &mut Network) {
        let out = self.layers.len() - 1;
        let top = out - 1;
        let FeedbackRule::KolenPollack { decay, eta } = net.feedback[top].rule else {
            return;
        };
        let plan = self.model.plan();
        let rate = plan.feedback(top).gamma * eta.map_or(1.0, |eta_b| eta_b / plan.layer(out).eta);
        let proj = &mut net.forward[out];
        // The engine keeps B_BA transposed, shaped like W_out: the update entry by entry in W's orientation.
        kolen_pollack_increment(
            self.broadcast_t[top].view_mut(),
            proj.w.view_mut(),
            proj.dw.view(),
            rate,
            decay,
        );
    }

    /// The broadcast matrices below the last hidden layer from the layer-wise B_FA(h), after Kolen-Pollack changed
    /// them and the last one (eq A.6, `B_BA(h) = γ B_FA(h) B_BA(h + 1)`, here transposed: `B_BAᵀ(h) = γ B_BAᵀ(h + 1)
    /// B_FA(h)ᵀ`, `[out, n_h]`), so that the next step's δ sees this step's feedback.
    fn rebuild_broadcast(&mut self, net: &Network) {
        for h in (0..net.layerwise.len()).rev() {
            let gamma = self.model.plan().feedback(h).gamma;
            let (below, above) = self.broadcast_t.split_at_mut(h + 1);
            general_mat_mul(gamma, &above[0], &net.layerwise[h].t(), 0.0, &mut below[h]);
        }
    }

    /// [`Self::learn_hidden`] of every hidden layer, top down.
    fn learn_hidden_layers(&mut self, net: &mut Network, learns: &[bool], use_gram: bool) {
        for l in (0..self.layers.len() - 1).rev() {
            self.learn_hidden(net, l, learns, use_gram);
        }
    }

    /// δ and ι of every learning hidden layer as whole `[examples, cells]` arrays, for probes that ask for them, in
    /// parallel over blocks: the same values the updates use, zero for silent examples.
    fn observe_teaching(&mut self, learns: &[bool]) {
        let plan = self.model.plan();
        for l in (0..self.layers.len() - 1).filter(|&l| learns[l]) {
            let width = self.drive[l].width();
            let (eta, derivative, error) = (plan.layer(l).eta, plan.layer(l).derivative, self.error.view());
            self.delta[l]
                .par_blocks_mut()
                .zip(self.iota[l].par_blocks_mut())
                .zip(self.drive[l].par_blocks())
                .zip(self.broadcast_t[l].axis_chunks_iter(Axis(1), width).into_par_iter())
                .for_each(|(((delta, iota), v), b_t)| {
                    let (mut delta, mut iota) = (delta.view_mut(), iota.view_mut());
                    broadcast_teaching_block(&mut delta, &mut iota, v.view(), error, b_t, eta, derivative);
                });
        }
    }

    /// A learning step of hidden layer `l` (if it learns) and of the output weights fed by it (if `l` is the last
    /// hidden layer and the output learns), in parallel over `l`'s blocks: `δ = e B_BAᵀ` and `ι = η f'(v) δ`
    /// (eq 2.11) of the examples with an error, then the momentum update of the block's rows of W (or its Gram
    /// carry) and biases, and of the block's columns of the output weights. Where feedback learns layer by layer
    /// (Kolen-Pollack, several hidden layers), B_FA(l − 1), which stands for this layer's weights, takes each block's
    /// increment transposed.
    fn learn_hidden(&mut self, net: &mut Network, l: usize, learns: &[bool], use_gram: bool) {
        let out = self.drive.len() - 1;
        let output_above = l + 1 == out && learns[out];
        if !(learns[l] || output_above) {
            return;
        }
        let plan = self.model.plan();
        let update = plan.update(self.examples);
        let (eta, derivative, learn_l) = (plan.layer(l).eta, plan.layer(l).derivative, learns[l]);
        // (rate, decay) of Kolen-Pollack on B_FA(l − 1): the increment scaled by η_B / η of this layer.
        let kolen_pollack = match net.feedback.get(l.wrapping_sub(1)).map(|p| p.rule) {
            Some(FeedbackRule::KolenPollack { decay, eta: eta_b }) if learn_l && l > 0 && !net.layerwise.is_empty() => {
                Some((eta_b.map_or(1.0, |e| e / eta), decay))
            }
            _ => None,
        };
        let width = self.drive[l].width();
        let blocks = self.drive[l].blocks().len();
        let (active, n) = (&self.active[..], self.active.len());
        let gram = self.gram.as_mut().filter(|_| l == 0 && use_gram);
        // The activity below, for the active examples alone (all of them: the activity itself). A hidden layer's
        // activity is kept in column blocks, so its rows are always gathered.
        let pre = match (learn_l && gram.is_none(), l) {
            (false, _) => self.input.view(),
            (true, 0) if n == self.examples => self.input.view(),
            (true, 0) => {
                let rows = &mut self.pre_rows[0];
                for (mut dst, &e) in rows.rows_mut().into_iter().zip(active) {
                    dst.assign(&self.input.row(e));
                }
                rows.slice(s![..n, ..])
            }
            (true, _) => {
                let (rows, below) = (&mut self.pre_rows[l], &self.layers[l - 1].a);
                for (dst, &e) in rows.rows_mut().into_iter().zip(active) {
                    below.copy_row_into(e, dst);
                }
                rows.slice(s![..n, ..])
            }
        };
        let error = self.error.view();
        let iota_out = self.iota[out].single().view();
        let (lower, upper) = net.forward.split_at_mut(l + 1);
        let above = output_above.then(|| upper[0].pre_blocks_mut(width));
        let carry = self.carries[l].as_mut().map(|c| c.blocks_mut());
        let feedback = kolen_pollack.map(|_| {
            net.layerwise[l - 1]
                .axis_chunks_iter_mut(Axis(1), width)
                .into_par_iter()
        });
        lower[l]
            .post_blocks_mut(width)
            .zip(self.iota_rows[l].par_blocks_mut())
            .zip(self.drive[l].par_blocks())
            .zip(self.broadcast_t[l].axis_chunks_iter(Axis(1), width).into_par_iter())
            .zip(self.layers[l].a.par_blocks())
            .zip(optional(gram.map(|g| g.learn_blocks_mut()), blocks))
            .zip(optional(carry, blocks))
            .zip(optional(above, blocks))
            .zip(optional(feedback, blocks))
            .for_each(
                |((((((((mut proj, iota), v), b_t), a_here), gram), carry), above), feedback)| {
                    if learn_l {
                        let mut iota = iota.slice_mut(s![..n, ..]);
                        broadcast_teaching_rows(&mut iota, v.view(), error, active, b_t, eta, derivative);
                        let kp = feedback.zip(kolen_pollack);
                        match (gram, carry) {
                            (Some(mut g), _) => g.learn(iota.view()),
                            (None, Some(c)) => {
                                c.learn(iota.view(), pre, update);
                                if let Some((b, (rate, decay))) = kp {
                                    c.kolen_pollack(b, rate, decay);
                                }
                            }
                            (None, None) => {
                                proj.learn_weights(iota.view(), pre, update);
                                if let Some((b, (rate, decay))) = kp {
                                    proj.kolen_pollack(b, rate, decay);
                                }
                            }
                        }
                        proj.learn_biases(iota.view(), update);
                    }
                    if let Some(mut above) = above {
                        above.learn_weights(iota_out, a_here.view(), update);
                    }
                },
            );
    }

    /// The output layer's learning step: its biases, and its weights too when it reads the input directly (no hidden
    /// layer; otherwise [`Self::learn_hidden`] updated them block by block).
    fn learn_output(&mut self, net: &mut Network, use_gram: bool) {
        let update = self.model.plan().update(self.examples);
        let out = self.drive.len() - 1;
        let iota = self.iota[out].single().view();
        let proj = &mut net.forward[out];
        if out > 0 {
            learn_biases(&mut proj.db, &mut proj.b, iota, update);
        } else {
            match self.gram.as_mut().filter(|_| use_gram) {
                Some(g) => g.learn(proj, iota),
                None => proj.learn(iota, self.input.view(), update),
            }
        }
    }
}
