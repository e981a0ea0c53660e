//! Speed measurement of the training and test presentations of a model (`snnsim bench`).
//!
//! Each measured minibatch is a full presentation (`protocol.steps` steps) of `protocol.batch_size` training images
//! with learning on (or off, for the test figure; or on and measuring the alignment of the teaching signals with
//! backprop's, as the minibatch that completes each learning-curve interval does), timed with a monotonic clock after
//! warm-up minibatches. Reported: milliseconds per minibatch (median and spread), LIF cell updates per second, and synaptic events per second
//! (presynaptic activity × fan-out: every graded input counts on every step, a spiking cell on the steps it is active).

use crate::alignment::AlignmentMeter;
use crate::dataset::Prepared;
use crate::error::SimError;
use crate::experiment::Experiment;
use crate::model::Model;
use crate::network::Network;
use crate::simulator::{Populations, Probe};
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

    fn learns(self) -> bool {
        self != Mode::Test
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
    fan_out: Vec<usize>,
    events: f64,
}

impl Probe for EventCounter {
    fn after_step(&mut self, _step: usize, p: &Populations<'_>) {
        for (l, &out) in self.fan_out.iter().enumerate() {
            let active: f32 = if l == 0 {
                p.activity(0).iter().filter(|&x| x != 0.0).count() as f32
            } else {
                p.activity(l).iter().sum()
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
    let b = model.file.protocol.batch_size;
    let learn = mode.learns();
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
    let mut counter = EventCounter {
        fan_out: sizes[1..].to_vec(),
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
        exp.present_measured(
            batch.view(),
            labels,
            learn,
            &mut crate::simulator::NoProbe,
            meter.as_mut(),
        );
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
                    probe_exp.present(batch.view(), labels, false, &mut counter);
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
