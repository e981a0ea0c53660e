//! The executor of a run: the training protocol of SPEC §2.4 driving an [`Engine`], with observers beside it.
//!
//! [`Experiment::run`] trains for `protocol.epochs` passes in minibatches of `protocol.batch_size` (shuffled each
//! epoch from the seeded order stream), takes a learning-curve point every `protocol.curve_every` training examples
//! (on `curve_test_examples` test images drawn at random, learning off), and finally tests on every test image.
//! Progress bars, metric files and checkpoints plug in as [`Observer`]s; rasters go to an optional [`RasterFile`].

use crate::alignment::{AlignmentMeter, AlignmentPoint, weight_angles};
use crate::answers::Answers;
use crate::checkpoint::{Checkpoint, Checkpoints, NoCheckpoints, Progress};
use crate::confusion::Confusion;
use crate::dataset::Prepared;
use crate::engine::{Engine, Phase, Presentation, Watch, engine_for};
use crate::error::SimError;
use crate::metrics::CurvePoint;
use crate::model::{Model, ModelFile};
use crate::network::Network;
use crate::probe::NoProbe;
use crate::recorder::{ExampleMeta, RasterCapture, RasterFile};
use crate::seeds::Streams;
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::{SliceRandom, index::sample};
use snn_plasticity::{Carrier, FeedbackRule, Pathway};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Watches a run; every method has a default that does nothing. An error stops the run.
pub trait Observer {
    /// Training is about to start: `total` presentations to come.
    fn train_started(&mut self, _total: u64) -> Result<(), SimError> {
        Ok(())
    }
    /// A minibatch was presented: `seen` presentations so far, `correct` of this batch's `size` answered right.
    fn batch_done(&mut self, _seen: u64, _correct: usize, _size: usize) -> Result<(), SimError> {
        Ok(())
    }
    /// A learning-curve point was measured.
    fn curve_point(&mut self, _point: &CurvePoint) -> Result<(), SimError> {
        Ok(())
    }
    /// The alignment of a learning hidden layer's teaching signal with backprop's was measured (one point per layer,
    /// over the window of `protocol.alignment_window` examples that completes each learning-curve interval).
    fn alignment_point(&mut self, _point: &AlignmentPoint) -> Result<(), SimError> {
        Ok(())
    }
    /// The final test is about to start on `total` images.
    fn test_started(&mut self, _total: usize) -> Result<(), SimError> {
        Ok(())
    }
    /// `done` test images answered so far, `correct` of them right.
    fn test_progress(&mut self, _done: usize, _correct: usize) -> Result<(), SimError> {
        Ok(())
    }
}

/// Observes nothing.
pub struct Silent;
impl Observer for Silent {}

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Learning-curve points, the untrained network first.
    pub curve: Vec<CurvePoint>,
    /// Alignment measurements of the learning hidden layers, in order.
    pub alignment: Vec<AlignmentPoint>,
    /// Training presentations.
    pub train_examples_seen: u64,
    /// Correct answers in the final test.
    pub test_correct: usize,
    /// Images in the final test.
    pub test_total: usize,
    /// The normalised squared error of the final test (SPEC §4), for a regression task.
    pub test_nse: Option<f64>,
    /// The final test's confusion matrix, for a classification task.
    pub confusion: Option<Confusion>,
    /// Seconds spent training (curve points included).
    pub train_s: f64,
    /// Seconds spent on the final test.
    pub test_s: f64,
}

impl Outcome {
    /// Fraction correct in the final test.
    pub fn test_accuracy(&self) -> f64 {
        self.test_correct as f64 / self.test_total.max(1) as f64
    }
}

/// What a test pass measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Examples answered right (the most active output unit names the label).
    pub correct: usize,
    /// Σ (y* − y)² over the examples and outputs, for a regression task (0 otherwise).
    pub squared_error: f64,
    /// Each class's answers, for a classification task (`None` for a regression task).
    pub confusion: Option<Confusion>,
}

/// A network, its random streams and simulators, driven through the protocol.
pub struct Experiment {
    model: Model,
    net: Network,
    streams: Streams,
    /// One engine per minibatch size met (the last minibatch of an epoch or a test pass may be smaller).
    engines: HashMap<usize, Box<dyn Engine>>,
    /// The weight layers that learn in the current phase of `learning.schedule` (`None` without a schedule).
    schedule: Option<Vec<usize>>,
}

impl Experiment {
    /// Initialises the network of `model` from its seed.
    pub fn new(model: &Model) -> Result<Self, SimError> {
        let mut streams = Streams::from_seed(model.seed());
        let net = Network::init(model, &mut streams)?;
        Ok(Self::assembled(model, net, streams))
    }

    /// An experiment of `model` with this network and these streams, no engine built yet.
    fn assembled(model: &Model, net: Network, streams: Streams) -> Self {
        Self {
            model: model.clone(),
            net,
            streams,
            engines: HashMap::new(),
            schedule: None,
        }
    }

    /// The weight layers that learn after `seen` training examples under `learning.schedule` (`None` without one):
    /// those of the phase in progress, or of the last phase once the schedule has run out.
    pub fn scheduled_layers(&self, seen: u64) -> Option<&[usize]> {
        let phases = self.model.schedule();
        let mut end = 0u64;
        for phase in phases {
            end += phase.examples;
            if seen < end {
                return Some(&phase.layers);
            }
        }
        phases.last().map(|p| p.layers.as_slice())
    }

    /// An experiment of `model` starting from the given network (e.g. a trained one from a checkpoint), with the
    /// model's own random streams (as they stand once its weights are drawn). The network must have the model's layer sizes and the feedback pathways its
    /// learning plan asks for (a checkpoint of another algorithm is refused, not run).
    pub fn with_network(model: &Model, net: Network) -> Result<Self, SimError> {
        let sizes = model.layers();
        let shapes: Vec<(usize, usize)> = net.forward.iter().map(|p| p.w.dim()).collect();
        let wanted: Vec<(usize, usize)> = sizes.windows(2).map(|w| (w[1], w[0])).collect();
        if shapes != wanted {
            return Err(SimError::Mismatch(format!(
                "the network's weight shapes {shapes:?} do not fit network.layers {sizes:?} (expected {wanted:?})"
            )));
        }
        // The model's own streams, after drawing the network the given one stands in for; nothing is drawn for
        // the feedback rules' start (a weight mirror's mirror batches would be wasted on a network replaced at once).
        // Its pathways are compared with the given network's, rule constants included.
        let mut streams = Streams::from_seed(model.seed());
        let (fresh, _) = Network::drawn(model, &mut streams)?;
        let feedback = |n: &Network| -> Vec<String> { n.feedback.iter().map(describe_pathway).collect() };
        let (have, want) = (feedback(&net), feedback(&fresh));
        if have != want {
            return Err(SimError::Mismatch(format!(
                "the network's feedback pathways [{}] are not those learning.algorithm {:?} asks for ([{}])",
                have.join(", "),
                model.algorithm(),
                want.join(", ")
            )));
        }
        Ok(Self::assembled(model, net, streams))
    }

    /// The network in its current state.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The checked model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Starts a test pass: an engine whose cells carry from example to example (a stochastic binary network, a LIF
    /// network without resets) starts it from a copy of the training state, and training resumes from its own.
    pub fn begin_test(&mut self) {
        let b = self.model.protocol().batch_size;
        self.engine_for(b).begin_test();
    }

    /// Presents one minibatch (inputs `[examples, features]`) in `phase` to the engine of its size, watched by
    /// `watch`, and returns the answers.
    pub fn present(&mut self, x: ArrayView2<'_, f32>, labels: &[u8], phase: Phase, watch: &mut Watch<'_>) -> Answers {
        self.present_targets(x, labels, None, phase, watch)
    }

    /// [`Self::present`] with regression targets (`[examples, outputs]`) in place of the labels' one-hot vectors.
    pub fn present_targets(
        &mut self,
        x: ArrayView2<'_, f32>,
        labels: &[u8],
        targets: Option<ArrayView2<'_, f32>>,
        phase: Phase,
        watch: &mut Watch<'_>,
    ) -> Answers {
        let engine = engine_of(&mut self.engines, &self.model, x.nrows());
        let mut presentation = Presentation {
            inputs: x,
            labels,
            targets,
            phase,
            learning_layers: self.schedule.as_deref(),
            noise: &mut self.streams.noise,
        };
        engine.present(&mut self.net, &mut presentation, watch)
    }

    /// The engine that presents minibatches of `n` examples. An engine whose cells carry state from one
    /// presentation to the next (one continuous stream, SPEC §5.4) is the same for every minibatch: one engine of
    /// `protocol.batch_size` streams, of which a smaller minibatch uses the first.
    fn engine_for(&mut self, n: usize) -> &mut Box<dyn Engine> {
        engine_of(&mut self.engines, &self.model, n)
    }

    /// Presents a batch; the batch `slots` listed are captured and written to `rasters`, each named by
    /// `name(slot) = (phase, ordinal, dataset index)`.
    #[allow(clippy::too_many_arguments)]
    fn present_recorded(
        &mut self,
        x: ArrayView2<'_, f32>,
        labels: &[u8],
        targets: Option<ArrayView2<'_, f32>>,
        phase: Phase,
        slots: &[usize],
        rasters: Option<&RasterFile>,
        meter: Option<&mut AlignmentMeter>,
        name: impl Fn(usize) -> (&'static str, u64, usize),
    ) -> Result<Answers, SimError> {
        let Some(file) = rasters.filter(|_| !slots.is_empty()) else {
            let answers = self.present_targets(
                x,
                labels,
                targets,
                phase,
                &mut Watch {
                    probe: &mut NoProbe,
                    meter,
                },
            );
            return self.checked(answers, &name);
        };
        let mut cap = RasterCapture::new(&self.model, slots, self.model.steps_per_presentation(phase.learns()));
        let answers = self.present_targets(x, labels, targets, phase, &mut Watch { probe: &mut cap, meter });
        let answers = self.checked(answers, &name)?;
        for (slot, capture) in cap.into_captures() {
            let (phase, ordinal, index) = name(slot);
            file.write_example(&meta_for(phase, ordinal, index, labels[slot], &answers, slot), &capture)?;
        }
        Ok(answers)
    }

    /// The answers, or the error naming where a drive became NaN or infinite.
    fn checked(
        &self,
        answers: Answers,
        name: &impl Fn(usize) -> (&'static str, u64, usize),
    ) -> Result<Answers, SimError> {
        match answers.non_finite {
            None => Ok(answers),
            Some(bad) => {
                let (phase, presentation, image) = name(bad.slot);
                Err(SimError::NonFiniteDrive {
                    population: self.model.roster().get(bad.population).name.clone(),
                    step: bad.step,
                    time_ms: (bad.step + 1) as f32 * self.model.protocol().dt,
                    phase: if phase == "train" { "training" } else { "test" },
                    presentation,
                    image,
                })
            }
        }
    }

    /// Answers of the network (learning off) on the test images `indices`, in batches; optionally records chosen
    /// test indices into `rasters`. Returns the number correct.
    pub fn test(
        &mut self,
        data: &Prepared,
        indices: &[usize],
        rasters: Option<&RasterFile>,
        progress: impl FnMut(usize, usize) -> Result<(), SimError>,
    ) -> Result<usize, SimError> {
        Ok(self.test_scored(data, indices, rasters, progress)?.correct)
    }

    /// [`Self::test`], returning the number correct and, for a regression task, the summed squared error.
    pub fn test_scored(
        &mut self,
        data: &Prepared,
        indices: &[usize],
        rasters: Option<&RasterFile>,
        mut progress: impl FnMut(usize, usize) -> Result<(), SimError>,
    ) -> Result<Score, SimError> {
        let b = self.model.protocol().batch_size;
        let record = self.model.record().test_examples.clone();
        self.begin_test();
        let mut correct = 0;
        let mut squared_error = 0.0f64;
        let mut confusion = data.test_t.is_none().then(|| Confusion::new(self.model.classes()));
        let mut x = Array2::<f32>::zeros((0, data.test_x.ncols()));
        let mut t = Array2::<f32>::zeros((0, 0));
        for (done, chunk) in indices.chunks(b).scan(0, |d, c| {
            *d += c.len();
            Some((*d, c))
        }) {
            gather(&data.test_x, chunk, &mut x);
            let targets = data.test_t.as_ref().map(|all| {
                gather(all, chunk, &mut t);
                t.view()
            });
            let labels: Vec<u8> = chunk.iter().map(|&i| data.test_y[i]).collect();
            let slots: Vec<usize> = match rasters {
                Some(_) => (0..chunk.len()).filter(|&s| record.contains(&chunk[s])).collect(),
                None => Vec::new(),
            };
            let answers =
                self.present_recorded(x.view(), &labels, targets, Phase::Test, &slots, rasters, None, |slot| {
                    ("test", chunk[slot] as u64, chunk[slot])
                })?;
            if let Some(t) = targets {
                squared_error += t
                    .iter()
                    .zip(&answers.counts)
                    .map(|(&t, &y)| f64::from(t - y).powi(2))
                    .sum::<f64>();
            }
            correct += answers.correct(&labels);
            if let Some(confusion) = &mut confusion {
                confusion.add_all(&labels, &answers.predicted);
            }
            progress(done, correct)?;
        }
        Ok(Score {
            correct,
            squared_error,
            confusion,
        })
    }

    /// Runs the whole protocol: training with learning-curve points, then the final test on every test image.
    pub fn run(
        &mut self,
        data: &Prepared,
        observer: &mut dyn Observer,
        rasters: Option<&RasterFile>,
    ) -> Result<Outcome, SimError> {
        self.run_from(data, observer, rasters, None, &mut NoCheckpoints)
    }

    /// The current state as a checkpoint, with `progress`.
    pub fn snapshot(&mut self, progress: &Progress) -> Checkpoint {
        let cells = match self.model.carries_cell_state() {
            true => self.engine_for(self.model.protocol().batch_size).cell_state(),
            false => None,
        };
        Checkpoint {
            format: crate::checkpoint::FORMAT,
            model: self.model.to_ron(),
            network: self.net.clone(),
            streams: self.streams.clone(),
            cells,
            progress: progress.clone(),
        }
    }

    /// An experiment continuing from `checkpoint`, which must have been taken for this very model.
    pub fn restore(model: &Model, checkpoint: Checkpoint) -> Result<(Self, Progress), SimError> {
        if !checkpoint.was_taken_for(model) {
            return Err(SimError::Mismatch(
                "the checkpoint was taken for another model than the run folder's model.ron: refusing to resume".into(),
            ));
        }
        Self::from_checkpoint(model, checkpoint)
    }

    /// The network and state of `checkpoint`, to be tested under `model`, which may differ from the model it was
    /// trained with in test-time fields only ([`crate::model::TEST_TIME_FIELDS`]; the first other field that
    /// differs is named in the error).
    pub fn restore_for_test(model: &Model, checkpoint: Checkpoint) -> Result<(Self, Progress), SimError> {
        let trained = ModelFile::from_ron(&checkpoint.model, Path::new("checkpoint.bin"))?;
        trained.check_same_training(model.file())?;
        Self::from_checkpoint(model, checkpoint)
    }

    fn from_checkpoint(model: &Model, checkpoint: Checkpoint) -> Result<(Self, Progress), SimError> {
        if !model.protocol().reset_between_examples && !model.carries_cell_state() {
            return Err(SimError::Mismatch(
                "protocol.reset_between_examples = false: cell states carry across minibatches and are not \
                 checkpointed, so this run cannot be resumed or tested again exactly from its checkpoint"
                    .into(),
            ));
        }
        let mut exp = Self::assembled(model, checkpoint.network, checkpoint.streams);
        if model.carries_cell_state() {
            let Some(cells) = &checkpoint.cells else {
                return Err(SimError::Mismatch(
                    "the checkpoint holds no cell state, but this model's cells carry their state from image to \
                     image: refusing to resume or test from it"
                        .into(),
                ));
            };
            exp.engine_for(model.protocol().batch_size)
                .restore_cell_state(cells)
                .map_err(|e| SimError::Mismatch(format!("{e}: refusing to resume or test from it")))?;
        }
        Ok((exp, checkpoint.progress))
    }

    /// Runs the protocol from `progress` (the start when `None`), saving checkpoints into `checkpoints` every
    /// `protocol.checkpoint_every` examples, when a stop is requested (then ending with [`SimError::Interrupted`]),
    /// and at the end of training.
    pub fn run_from(
        &mut self,
        data: &Prepared,
        observer: &mut dyn Observer,
        rasters: Option<&RasterFile>,
        progress: Option<Progress>,
        checkpoints: &mut dyn Checkpoints,
    ) -> Result<Outcome, SimError> {
        let p = self.model.protocol().clone();
        let classes = self.model.classes();
        if let Some(&l) = data
            .train_y
            .iter()
            .chain(&data.test_y)
            .find(|&&l| usize::from(l) >= classes)
        {
            return Err(SimError::Mismatch(format!(
                "label {l} but the network's output names {classes} classes"
            )));
        }
        let n = data.train_x.nrows();
        let total = (n * p.epochs) as u64;
        let record: Vec<u64> = self.model.record().train_examples.clone();
        let started = Instant::now();
        let mut prog = progress.unwrap_or_else(|| Progress::start(p.curve_every, p.checkpoint_every));
        let elapsed = |prog: &Progress| prog.train_s + started.elapsed().as_secs_f64();
        observer.train_started(total)?;
        if prog.seen > 0 {
            observer.batch_done(prog.seen, 0, 0)?;
        }
        if p.curve_every > 0 && prog.curve.is_empty() {
            let point = self.curve_point(data, 0, 0, f64::NAN, elapsed(&prog))?;
            observer.curve_point(&point)?;
            prog.curve.push(point);
        }
        let mut x = Array2::<f32>::zeros((0, data.train_x.ncols()));
        let mut t = Array2::<f32>::zeros((0, 0));
        while prog.epoch < p.epochs && n > 0 {
            if prog.batch == 0 {
                prog.order = (0..n).collect();
                if p.shuffle {
                    prog.order.shuffle(&mut self.streams.order);
                }
            }
            let epoch = prog.epoch;
            let start = prog.batch * p.batch_size;
            let chunk: Vec<usize> = prog.order[start..(start + p.batch_size).min(n)].to_vec();
            gather(&data.train_x, &chunk, &mut x);
            let targets = data.train_t.as_ref().map(|all| {
                gather(all, &chunk, &mut t);
                t.view()
            });
            let labels: Vec<u8> = chunk.iter().map(|&i| data.train_y[i]).collect();
            let seen = prog.seen;
            if self.scheduled_layers(seen) != self.schedule.as_deref() {
                self.schedule = self.scheduled_layers(seen).map(<[usize]>::to_vec);
            }
            let slots: Vec<usize> = (0..chunk.len())
                .filter(|&s| rasters.is_some() && record.contains(&(seen + s as u64)))
                .collect();
            // The minibatches of the last `alignment_window` examples before a learning-curve point (at least the
            // one that completes the interval) also measure the alignment of the teaching signals with backprop's
            // (SPEC §4).
            let hidden = self.model.plan().learning_hidden_layers();
            let end = seen + chunk.len() as u64;
            let from = prog.next_curve.saturating_sub((p.alignment_window as u64).max(1));
            let due = p.curve_every > 0 && end > from && !hidden.is_empty();
            if due && prog.meter.is_none() {
                prog.meter = Some(AlignmentMeter::new(self.model.plan().layers().len()));
            }
            let answers = self.present_recorded(
                x.view(),
                &labels,
                targets,
                Phase::Train,
                &slots,
                rasters,
                if due { prog.meter.as_mut() } else { None },
                |slot| ("train", seen + slot as u64, chunk[slot]),
            )?;
            if let Some(done) = prog.meter.take_if(|_| end >= prog.next_curve) {
                let probe = self.probe_alignment(data);
                for point in self.alignment_points(&done, probe.as_ref(), &hidden, end) {
                    observer.alignment_point(&point)?;
                    prog.alignment.push(point);
                }
            }
            // A scan of every weight costs what a step of a stochastic binary network costs; its engine reports a
            // non-finite weight through the drive it feeds on the first step its input is active, and the scan is
            // left to the end of training and to checkpoints (where it finds the weights of inputs never active).
            let last = start + chunk.len() >= n && prog.epoch + 1 == p.epochs;
            if !self.engine_for(chunk.len()).drives_show_weights_in_use() || last {
                self.check_weights(seen + chunk.len() as u64)?;
            }
            let correct = answers.correct(&labels);
            prog.seen += chunk.len() as u64;
            prog.window_correct += correct;
            prog.window_total += chunk.len();
            prog.batch += 1;
            if start + chunk.len() >= n {
                prog.epoch += 1;
                prog.batch = 0;
                prog.order.clear();
            }
            observer.batch_done(prog.seen, correct, chunk.len())?;
            if p.curve_every > 0 && prog.seen >= prog.next_curve {
                while prog.next_curve <= prog.seen {
                    prog.next_curve += p.curve_every as u64;
                }
                let train_acc = prog.window_correct as f64 / prog.window_total.max(1) as f64;
                let point = self.curve_point(data, prog.seen, epoch, train_acc, elapsed(&prog))?;
                (prog.window_correct, prog.window_total) = (0, 0);
                observer.curve_point(&point)?;
                prog.curve.push(point);
            }
            let stop = checkpoints.stop_requested();
            let due = p.checkpoint_every > 0 && prog.seen >= prog.next_checkpoint;
            if checkpoints.enabled() && (stop || due) {
                self.check_weights(prog.seen)?;
                while p.checkpoint_every > 0 && prog.next_checkpoint <= prog.seen {
                    prog.next_checkpoint += p.checkpoint_every as u64;
                }
                let mut saved = prog.clone();
                saved.train_s = elapsed(&prog);
                checkpoints.save(&self.snapshot(&saved))?;
            }
            if stop {
                return Err(SimError::Interrupted {
                    seen: prog.seen,
                    dir: Default::default(),
                });
            }
        }
        let train_s = elapsed(&prog);
        if checkpoints.enabled() {
            let mut saved = prog.clone();
            saved.train_s = train_s;
            checkpoints.save_trained(&self.snapshot(&saved))?;
        }
        let test_started = Instant::now();
        let all: Vec<usize> = (0..data.test_x.nrows()).collect();
        observer.test_started(all.len())?;
        let score = self.test_scored(data, &all, rasters, |done, correct| {
            if checkpoints.stop_requested() {
                return Err(SimError::Interrupted {
                    seen: prog.seen,
                    dir: Default::default(),
                });
            }
            observer.test_progress(done, correct)
        })?;
        Ok(Outcome {
            test_nse: data.nse(score.squared_error, &all),
            curve: prog.curve,
            alignment: prog.alignment,
            train_examples_seen: prog.seen,
            test_correct: score.correct,
            confusion: score.confusion,
            test_total: all.len(),
            train_s,
            test_s: test_started.elapsed().as_secs_f64(),
        })
    }

    /// The error naming the first projection with a non-finite weight, bias or momentum, if any, `seen` training
    /// presentations into the run.
    fn check_weights(&self, seen: u64) -> Result<(), SimError> {
        match self.net.first_non_finite() {
            None => Ok(()),
            Some(layer) => {
                let roster = self.model.roster();
                Err(SimError::NonFinite {
                    pre: roster.get(roster.pre_of(layer)).name.clone(),
                    post: roster.get(roster.post_of(layer)).name.clone(),
                    example: seen,
                })
            }
        }
    }

    /// The angles of `protocol.alignment_probe`: each learning hidden layer's feedback signal against backprop's on
    /// the first training image and on the first `alignment_probe` images (file order, learning off), measured into
    /// two meters; `None` when the probe is off or the engine has no such measure.
    fn probe_alignment(&mut self, data: &Prepared) -> Option<(AlignmentMeter, AlignmentMeter)> {
        let n = self.model.protocol().alignment_probe.min(data.train_x.nrows());
        if n == 0 {
            return None;
        }
        let layers = self.model.plan().layers().len();
        // As a learning-curve test, the probe draws from a copy of the noise stream.
        let noise = self.streams.noise.clone();
        let mut measure = |k: usize| -> Option<AlignmentMeter> {
            let mut meter = AlignmentMeter::new(layers);
            let targets = data.train_t.as_ref().map(|t| t.slice(ndarray::s![..k, ..]));
            let mut presentation = Presentation {
                inputs: data.train_x.slice(ndarray::s![..k, ..]),
                labels: &data.train_y[..k],
                targets,
                phase: Phase::Test,
                learning_layers: None,
                noise: &mut self.streams.noise,
            };
            engine_of(&mut self.engines, &self.model, k)
                .probe_alignment(&mut self.net, &mut presentation, &mut meter)
                .then_some(meter)
        };
        let meters = measure(1).and_then(|one| Some((one, measure(n)?)));
        self.streams.noise = noise;
        meters
    }

    /// The points of `alignment.csv` for the learning hidden layers `hidden` after `examples` training examples:
    /// the teaching-signal angles `meter` measured, the probe's (first image, mean), and the angles of the feedback
    /// weights to the forward weights as they are now.
    fn alignment_points(
        &self,
        meter: &AlignmentMeter,
        probe: Option<&(AlignmentMeter, AlignmentMeter)>,
        hidden: &[usize],
        examples: u64,
    ) -> Vec<AlignmentPoint> {
        let roster = self.model.roster();
        let net = self.network();
        hidden
            .iter()
            .filter_map(|&l| {
                let stats = meter.stats(l)?;
                // B_FA(l) where it is kept (broadcast feedback that learns layer by layer), else the pathway's matrix
                // (B_FA, or B_BA = γ B_FA of the last hidden layer: the angle does not see the scale).
                let own = net
                    .layerwise
                    .get(l)
                    .or_else(|| net.feedback.get(l).and_then(|f| f.matrix()));
                let angles = own.and_then(|b| {
                    let above = net.forward.get(l + 1)?;
                    weight_angles(above.w.view(), b.view())
                });
                let (weight_angle_deg, unit_angle_deg) = angles.unwrap_or((f64::NAN, f64::NAN));
                let probed = |m: &AlignmentMeter| m.stats(l).map_or(f64::NAN, |s| s.mean_deg);
                let (probe_first_deg, probe_mean_deg) =
                    probe.map_or((f64::NAN, f64::NAN), |(first, all)| (probed(first), probed(all)));
                Some(AlignmentPoint {
                    examples,
                    population: roster.get(roster.post_of(l)).name.clone(),
                    angle_deg: stats.mean_deg,
                    samples: stats.samples,
                    angle_sd_deg: stats.sd_deg,
                    folded_deg: stats.folded_deg,
                    weight_angle_deg,
                    unit_angle_deg,
                    probe_first_deg,
                    probe_mean_deg,
                })
            })
            .collect()
    }

    fn curve_point(
        &mut self,
        data: &Prepared,
        seen: u64,
        epoch: usize,
        train_accuracy: f64,
        elapsed_s: f64,
    ) -> Result<CurvePoint, SimError> {
        let total = data.test_x.nrows();
        let k = self.model.protocol().curve_test_examples.min(total);
        let picks = sample(&mut self.streams.curve, total, k).into_vec();
        // The test draws its noise from a copy of the training's stream, and training goes on with its own: what and
        // how often the curve measures does not change what the network learns (SPEC §5.4: "the test stream starts
        // from a copy of the training state; training resumes from its own").
        let noise = self.streams.noise.clone();
        let score = self.test_scored(data, &picks, None, |_, _| Ok(()));
        self.streams.noise = noise;
        let score = score?;
        Ok(CurvePoint {
            examples: seen,
            epoch,
            test_accuracy: score.correct as f64 / k.max(1) as f64,
            test_nse: data.nse(score.squared_error, &picks).unwrap_or(f64::NAN),
            test_examples: k,
            train_accuracy,
            elapsed_s,
        })
    }
}

/// [`Experiment::engine_for`] on the experiment's engines, borrowing nothing else.
fn engine_of<'a>(engines: &'a mut HashMap<usize, Box<dyn Engine>>, model: &Model, n: usize) -> &'a mut Box<dyn Engine> {
    let size = if model.carries_cell_state() {
        model.protocol().batch_size
    } else {
        n
    };
    engines.entry(size).or_insert_with(|| engine_for(model, size))
}

fn meta_for(phase: &'static str, ordinal: u64, index: usize, label: u8, a: &Answers, slot: usize) -> ExampleMeta {
    ExampleMeta {
        phase,
        ordinal,
        dataset_index: index,
        label,
        predicted: a.predicted[slot],
        output_counts: a.counts.row(slot).to_vec(),
    }
}

/// Copies rows `idx` of `src` into `dst`, resizing it when the batch size changes.
fn gather(src: &Array2<f32>, idx: &[usize], dst: &mut Array2<f32>) {
    if dst.nrows() != idx.len() {
        *dst = Array2::zeros((idx.len(), src.ncols()));
    }
    for (mut row, &i) in dst.axis_iter_mut(Axis(0)).zip(idx) {
        row.assign(&src.row(i));
    }
}

/// One feedback pathway in words, for comparing a network with its model's plan: reach, carrier (with the matrix's
/// shape) and rule.
fn describe_pathway(p: &Pathway) -> String {
    let carrier = match &p.carrier {
        Carrier::Matrix(b) => format!("a {}x{} matrix", b.nrows(), b.ncols()),
        Carrier::ForwardWeights => "the forward weights".to_string(),
    };
    // Every constant of the rule but sign symmetry's scale, which the rule resolves when it starts.
    let rule = match p.rule {
        FeedbackRule::SignSymmetry { .. } => FeedbackRule::SignSymmetry { scale: None },
        rule => rule,
    };
    format!("{:?} by {carrier} ({rule:?})", p.reach)
}
