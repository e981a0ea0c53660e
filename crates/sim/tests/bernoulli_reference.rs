//! The Bernoulli engine against a literal, loop-by-loop transcription of SPEC §5.4 (Lillicrap et al. 2016, Fig 4):
//! f64 state and weights, the decay `W += η g sᵀ − γ W` applied to every weight on every step, two streams whose
//! updates are summed, several images with learning on and no reset at the switches. The random draws come from the
//! same noise stream in the same order (input, then each layer; stream by stream, cell by cell). Spikes must be
//! identical; PSPs, feedback potentials and weights equal within float tolerance.

// The reference mirrors the pseudocode's indexed loops on purpose.
#![allow(clippy::needless_range_loop)]

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::ModelFile;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::Experiment;
use snn_sim::probe::{Probe, StepView};
use snn_sim::roster::Variable;
use snn_sim::seeds::Streams;
use std::path::Path;

const MODEL: &str = r#"(
    name: "fig4_reference",
    seed: 11,
    data: (scaling: UnitInterval),
    network: (
        layers: [12, 9, 7, 6],
        cells: Bernoulli(tau: 0.9, train_steps: 5, test_steps: 5, input_max: 0.95, cells_per_class: 2),
    ),
    init: (weights: Uniform(0.8), feedback: Uniform(1.0), b_mean: 0.0),
    learning: (algorithm: FA, depth: 3, momentum: 0.0, learning_rate: Fixed(0.05), weight_decay: 0.001,
               batch_reduction: Sum),
    protocol: (batch_size: 2, epochs: 1, reset_between_examples: false),
)"#;

fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// SPEC §5.4's network, transcribed: `w[l][i][j]`, `b[l][i]`, `bf[l][i][k]` (B^l, n_l × n_(l+1)); per stream `k`:
/// `s[l][k][i]`, `u[l][k][i]`, `d[l][k][i]` (δ) for l = 1..m at index l − 1, `s0[k][j]`.
struct Reference {
    w: Vec<Vec<Vec<f64>>>,
    b: Vec<Vec<f64>>,
    bf: Vec<Vec<Vec<f64>>>,
    s0: Vec<Vec<f64>>,
    s: Vec<Vec<Vec<f64>>>,
    u: Vec<Vec<Vec<f64>>>,
    d: Vec<Vec<Vec<f64>>>,
}

/// What one step leaves, per layer l = 1..m and stream: spikes, u, δ.
type StepRecord = (Vec<Vec<Vec<f64>>>, Vec<Vec<Vec<f64>>>, Vec<Vec<Vec<f64>>>);

impl Reference {
    /// One step of every stream, SPEC §5.4 verbatim; `x[k]` is stream k's image, `y[k]` its target.
    fn step(&mut self, x: &[Vec<f64>], y: &[Vec<f64>], rng: &mut Xoshiro256PlusPlus) -> StepRecord {
        let (tau, eta, gamma, input_max) = (0.9f64, 0.05f64, 0.001f64, 0.95f64);
        let m = self.w.len();
        let streams = x.len();
        for k in 0..streams {
            for j in 0..x[k].len() {
                let r: f32 = rng.random();
                self.s0[k][j] = if r < x[k][j].min(input_max) as f32 { 1.0 } else { 0.0 };
            }
        }
        for l in 0..m {
            for k in 0..streams {
                for i in 0..self.w[l].len() {
                    let pre = if l == 0 { &self.s0[k] } else { &self.s[l - 1][k] };
                    let mut drive = self.b[l][i];
                    for j in 0..pre.len() {
                        drive += self.w[l][i][j] * pre[j];
                    }
                    self.u[l][k][i] = (1.0 - tau) * self.u[l][k][i] + tau * drive;
                }
                for i in 0..self.w[l].len() {
                    let r: f32 = rng.random();
                    self.s[l][k][i] = if r < sigma(self.u[l][k][i]) as f32 { 1.0 } else { 0.0 };
                }
            }
        }
        for k in 0..streams {
            for i in 0..self.w[m - 1].len() {
                self.d[m - 1][k][i] = (1.0 - tau) * self.d[m - 1][k][i] + tau * (y[k][i] - self.s[m - 1][k][i]);
            }
        }
        let phi = |z: f64| (z / 2.0).tanh();
        for l in (0..m - 1).rev() {
            for k in 0..streams {
                for i in 0..self.w[l].len() {
                    let mut fb = 0.0;
                    for j in 0..self.w[l + 1].len() {
                        fb += self.bf[l][i][j] * phi(self.d[l + 1][k][j]);
                    }
                    self.d[l][k][i] = (1.0 - tau) * self.d[l][k][i] + tau * fb;
                }
            }
        }
        for l in 0..m {
            for i in 0..self.w[l].len() {
                let g: Vec<f64> = (0..streams)
                    .map(|k| {
                        let p = sigma(self.u[l][k][i]);
                        phi(self.d[l][k][i]) * p * (1.0 - p)
                    })
                    .collect();
                for j in 0..self.w[l][i].len() {
                    let mut add = 0.0;
                    for k in 0..streams {
                        let pre = if l == 0 { self.s0[k][j] } else { self.s[l - 1][k][j] };
                        add += g[k] * pre;
                    }
                    self.w[l][i][j] += eta * add - gamma * self.w[l][i][j];
                }
                self.b[l][i] += eta * g.iter().sum::<f64>() - gamma * self.b[l][i];
            }
        }
        (self.s.clone(), self.u.clone(), self.d.clone())
    }
}

/// Records, after every step, the spikes and u of the forward populations and δ of the feedback and error units.
#[derive(Default)]
struct Everything {
    steps: Vec<StepRecord>,
}

impl Probe for Everything {
    fn after_step(&mut self, _: usize, view: &dyn StepView) {
        let roster = view.roster();
        let grab = |name: &str, v: Variable| -> Vec<Vec<f64>> {
            let values = view.values(roster.find(name).unwrap(), v).unwrap().to_owned();
            values
                .rows()
                .into_iter()
                .map(|r| r.iter().map(|&x| f64::from(x)).collect())
                .collect()
        };
        let forward = ["hidden1", "hidden2", "output"];
        let feedback = ["feedback1", "feedback2", "error"];
        self.steps.push((
            forward.iter().map(|p| grab(p, Variable::A)).collect(),
            forward.iter().map(|p| grab(p, Variable::U)).collect(),
            feedback.iter().map(|p| grab(p, Variable::Delta)).collect(),
        ));
    }
}

fn rows(a: &Array2<f32>) -> Vec<Vec<f64>> {
    a.rows()
        .into_iter()
        .map(|r| r.iter().map(|&x| f64::from(x)).collect())
        .collect()
}

/// Two streams: each update applied in one pass with the next step's drive, event-driven (the weights stored by
/// presynaptic cell, only the synapses of active inputs read and written).
#[test]
fn the_engine_equals_spec_5_4_transcribed() {
    compare(2, "ActiveRows");
}

/// Two streams, the one pass over every weight.
#[test]
fn the_engine_equals_spec_5_4_transcribed_with_every_weight_read() {
    compare(2, "Product");
}

/// Nine streams: updates and drives as separate matrix products.
#[test]
fn the_engine_equals_spec_5_4_transcribed_with_many_streams() {
    compare(9, "ActiveRows");
}

fn compare(streams: usize, spike_input: &str) {
    let mut file = ModelFile::from_ron(MODEL, Path::new("fig4_reference.ron")).unwrap();
    file.set(&format!("protocol.batch_size={streams}")).unwrap();
    file.set(&format!("engine.spike_input={spike_input}")).unwrap();
    let model = file.check().unwrap();
    let mut exp = Experiment::new(&model).unwrap();
    let net = exp.network().clone();
    let sizes = model.layers().to_vec();
    let zeros = |n: usize| vec![vec![0.0; n]; streams];
    let mut r = Reference {
        w: net.forward.iter().map(|p| rows(&p.w)).collect(),
        b: net
            .forward
            .iter()
            .map(|p| p.b.iter().map(|&x| f64::from(x)).collect())
            .collect(),
        bf: net.feedback.iter().map(|p| rows(p.matrix().unwrap())).collect(),
        s0: zeros(sizes[0]),
        s: sizes[1..].iter().map(|&n| zeros(n)).collect(),
        u: sizes[1..].iter().map(|&n| zeros(n)).collect(),
        d: sizes[1..].iter().map(|&n| zeros(n)).collect(),
    };
    // The engine draws from the run's noise stream; the reference from a copy of it.
    let mut noise = Streams::from_seed(model.seed()).noise;
    let mut images = Xoshiro256PlusPlus::seed_from_u64(5);
    let (mut spikes, mut compared) = (0usize, 0usize);
    for image in 0..6 {
        let x = Array2::from_shape_simple_fn((streams, sizes[0]), || images.random_range(0.0f32..1.0));
        let labels: Vec<u8> = (0..streams).map(|_| images.random_range(0u8..3)).collect();
        let mut probe = Everything::default();
        exp.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut probe));
        let y: Vec<Vec<f64>> = labels
            .iter()
            .map(|&c| {
                (0..sizes[3])
                    .map(|i| f64::from(u8::from(i / 2 == usize::from(c))))
                    .collect()
            })
            .collect();
        for (t, got) in probe.steps.iter().enumerate() {
            let (s, u, d) = r.step(&rows(&x), &y, &mut noise);
            for l in 0..3 {
                for k in 0..streams {
                    assert_eq!(
                        got.0[l][k],
                        s[l][k],
                        "image {image}, step {t}, layer {}, stream {k}: spikes",
                        l + 1
                    );
                    spikes += s[l][k].iter().filter(|&&x| x == 1.0).count();
                    for i in 0..sizes[l + 1] {
                        assert!(
                            (got.1[l][k][i] - u[l][k][i]).abs() < 1e-4,
                            "image {image}, step {t}: u{}",
                            l + 1
                        );
                        assert!(
                            (got.2[l][k][i] - d[l][k][i]).abs() < 1e-4,
                            "image {image}, step {t}: δ{}",
                            l + 1
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(probe.steps.len(), 5, "five steps per image");
    }
    assert!(
        spikes > 500,
        "the comparison must involve real activity ({spikes} spikes)"
    );
    assert!(compared > 1000);
    let net = exp.network();
    let events = spike_input == "ActiveRows" && streams <= 4;
    assert!(
        net.forward.iter().all(|p| p.stored_by_presynaptic_cell() == events),
        "the weights stored by presynaptic cell exactly when the step is event-driven"
    );
    let mut change = 0.0f64;
    for (l, p) in net.forward.iter().enumerate() {
        let (w, b) = (p.effective_weights(), p.effective_biases());
        for i in 0..p.post() {
            for j in 0..p.pre() {
                assert!((f64::from(w[[i, j]]) - r.w[l][i][j]).abs() < 1e-4, "W{l}[{i},{j}]");
                change = change.max((f64::from(w[[i, j]]) - f64::from(exp_initial(&model, l, i, j))).abs());
            }
            assert!((f64::from(b[i]) - r.b[l][i]).abs() < 1e-4, "b{l}[{i}]");
        }
    }
    assert!(
        change > 1e-2,
        "learning must have changed the weights (max change {change})"
    );
}

fn exp_initial(model: &snn_sim::Model, l: usize, i: usize, j: usize) -> f32 {
    Experiment::new(model).unwrap().network().forward[l].w[[i, j]]
}
