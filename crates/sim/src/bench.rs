//! Speed measurement of the training and test presentations of a model (`snnsim bench`).
//!
//! Each measured minibatch is a full presentation (`protocol.steps` steps) of `protocol.batch_size` training images
//! with learning on (or off, for the test figure; or on and measuring the alignment of the teaching signals with
//! backprop's, as the minibatch that completes each learning-curve interval does), timed with a monotonic clock after
//! warm-up minibatches. Reported: milliseconds per minibatch (median and spread), LIF cell updates per second, and synaptic events per second
//! (presynaptic activity × fan-out: every graded input counts on every step, a spiking cell on the steps it is active).

use crate::alignment::AlignmentMeter;
use crate::dataset::Prepared;
use crate::engine::{Phase, Watch};
use crate::error::SimError;
use crate::experiment::Experiment;
use crate::model::Model;
use crate::network::Network;
use crate::probe::{NoProbe, Probe, StepView};
use crate::roster::PopId;
use ndarray::Array2;
use std::time::Instant;

/// What a measured minibatch does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A training presentation (learning on).
    Train,
    /// A training presentation that also measures the alignment with backprop on every learning step (SPEC §4): one
    /// minibatch in each learning-curve interval of a run is one of these.
    Align,
    /// A test presentation (learning off).
    Test,
}

impl Mode {
    /// All modes, in the order `snnsim bench` prints them.
    pub const ALL: [Mode; 3] = [Mode::Train, Mode::Align, Mode::Test];

    /// `train`, `align` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Align => "align",
            Mode::Test => "test",
        }
    }

    fn phase(self) -> Phase {
        match self {
            Mode::Test => Phase::Test,
            Mode::Train | Mode::Align => Phase::Train,
        }
    }
}

/// Timing of one mode.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Timing {
    /// `train`, `align` or `test` ([`Mode::name`]).
    pub mode: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// Milliseconds of each measured minibatch.
    pub ms: Vec<f64>,
    /// Median ms per minibatch.
    pub median_ms: f64,
    /// Cell updates per second (examples × cells × steps / time; one step per example for rate cells).
    pub cell_updates_per_s: f64,
    /// Synaptic events per second (see module docs).
    pub synaptic_events_per_s: f64,
}

/// Counts synaptic events: Σ over steps and projections of (Σ presynaptic activity) × fan-out.
struct EventCounter {
    /// Each projection's presynaptic population and fan-out.
    projections: Vec<(PopId, usize)>,
    events: f64,
}

impl Probe for EventCounter {
    fn after_step(&mut self, _step: usize, view: &dyn StepView) {
        let input = view.roster().input();
        for &(pre, out) in &self.projections {
            let active: f32 = if pre == input {
                view.activity(pre).iter().filter(|&x| x != 0.0).count() as f32
            } else {
                view.activity(pre).iter().sum()
            };
            self.events += f64::from(active) * out as f64;
        }
    }
}

/// Times `batches` minibatches after `warmup` ones, on the first training (or test) images of `data`, starting from
/// the model's initial network or from `start` (a trained one: how fast a run goes late in training can differ,
/// since the Gram carry skips examples whose error pools are silent).
pub fn time_presentations(
    model: &Model,
    data: &Prepared,
    mode: Mode,
    warmup: usize,
    batches: usize,
    start: Option<&Network>,
) -> Result<Timing, SimError> {
    let b = model.protocol().batch_size;
    let learn = mode.phase().learns();
    let (x, y) = if learn {
        (&data.train_x, &data.train_y)
    } else {
        (&data.test_x, &data.test_y)
    };
    if x.nrows() < b {
        return Err(SimError::Mismatch(format!(
            "the benchmark needs at least {b} images, the data have {}",
            x.nrows()
        )));
    }
    let new_experiment = || match start {
        Some(net) => Experiment::with_network(model, net.clone()),
        None => Experiment::new(model),
    };
    let mut exp = new_experiment()?;
    let sizes = model.layers();
    let roster = model.roster();
    let mut counter = EventCounter {
        projections: (0..sizes.len() - 1).map(|l| (roster.pre_of(l), sizes[l + 1])).collect(),
        events: 0.0,
    };
    let mut ms = Vec::with_capacity(batches);
    let mut batch = Array2::<f32>::zeros((b, x.ncols()));
    let n_batches = x.nrows() / b;
    let mut events = 0.0;
    for i in 0..warmup + batches {
        let start = (i % n_batches) * b;
        batch.assign(&x.slice(ndarray::s![start..start + b, ..]));
        let labels = &y[start..start + b];
        let mut meter = (mode == Mode::Align).then(|| AlignmentMeter::new(sizes.len() - 1));
        let t = Instant::now();
        let mut watch = Watch {
            probe: &mut NoProbe,
            meter: meter.as_mut(),
        };
        exp.present(batch.view(), labels, mode.phase(), &mut watch);
        let elapsed = t.elapsed().as_secs_f64();
        if i >= warmup {
            ms.push(1e3 * elapsed);
            // Count events on a separate, untimed presentation of the same images (learning off, so the network
            // under measurement is not changed twice).
            if i == warmup {
                counter.events = 0.0;
                if model.is_rate() {
                    // Graded activity everywhere, and no probe calls: every synapse carries an event per step.
                    let synapses: usize = sizes.windows(2).map(|w| w[0] * w[1]).sum();
                    events = (b * synapses * model.steps_per_presentation(learn)) as f64;
                } else {
                    let mut probe_exp = new_experiment()?;
                    let mut watch = Watch {
                        probe: &mut counter,
                        meter: None,
                    };
                    probe_exp.present(batch.view(), labels, Phase::Test, &mut watch);
                    events = counter.events;
                }
            }
        }
    }
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ms = sorted[sorted.len() / 2];
    let cells: usize = sizes[1..].iter().sum::<usize>() * b * model.steps_per_presentation(learn);
    Ok(Timing {
        mode: mode.name(),
        threads: rayon::current_num_threads(),
        ms,
        median_ms,
        cell_updates_per_s: cells as f64 / (median_ms / 1e3),
        synaptic_events_per_s: events / (median_ms / 1e3),
    })
}
