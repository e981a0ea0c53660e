//! The executor of a run: the training protocol of SPEC §2.4 driving a [`Simulator`], with observers beside it.
//!
//! [`Experiment::run`] trains for `protocol.epochs` passes in minibatches of `protocol.batch_size` (shuffled each
//! epoch from the seeded order stream), takes a learning-curve point every `protocol.curve_every` training examples
//! (on `curve_test_examples` test images drawn at random, learning off), and finally tests on every test image.
//! Progress bars, metric files and checkpoints plug in as [`Observer`]s; rasters go to an optional [`RasterFile`].

use crate::dataset::Prepared;
use crate::error::SimError;
use crate::metrics::CurvePoint;
use crate::model::Model;
use crate::network::Network;
use crate::recorder::{ExampleMeta, RasterCapture, RasterFile};
use crate::seeds::Streams;
use crate::simulator::{Answers, NoProbe, Probe, Simulator};
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::{SliceRandom, index::sample};
use std::collections::HashMap;
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
    /// Training presentations.
    pub train_examples_seen: u64,
    /// Correct answers in the final test.
    pub test_correct: usize,
    /// Images in the final test.
    pub test_total: usize,
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

/// A network, its random streams and simulators, driven through the protocol.
pub struct Experiment {
    model: Model,
    net: Network,
    streams: Streams,
    sims: HashMap<usize, Simulator>,
}

impl Experiment {
    /// Initialises the network of `model` from its seed.
    pub fn new(model: &Model) -> Result<Self, SimError> {
        let mut streams = Streams::from_seed(model.file.seed);
        let net = Network::init(model, &mut streams)?;
        Ok(Self {
            model: model.clone(),
            net,
            streams,
            sims: HashMap::new(),
        })
    }

    /// The network in its current state.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The checked model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Presents one batch (inputs `[examples, features]`) and returns the answers.
    pub fn present(&mut self, x: ArrayView2<'_, f32>, labels: &[u8], learn: bool, probe: &mut dyn Probe) -> Answers {
        let n = x.nrows();
        let model = &self.model;
        let sim = self.sims.entry(n).or_insert_with(|| Simulator::new(model, n));
        sim.present(&mut self.net, x, labels, learn, probe)
    }

    /// Presents a batch; the batch `slots` listed are captured and written to `rasters`, each named by
    /// `name(slot) = (phase, ordinal, dataset index)`.
    fn present_recorded(
        &mut self,
        x: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        slots: &[usize],
        rasters: Option<&RasterFile>,
        name: impl Fn(usize) -> (&'static str, u64, usize),
    ) -> Result<Answers, SimError> {
        let Some(file) = rasters.filter(|_| !slots.is_empty()) else {
            return Ok(self.present(x, labels, learn, &mut NoProbe));
        };
        let mut cap = RasterCapture::new(&self.model, slots);
        let answers = self.present(x, labels, learn, &mut cap);
        for (slot, capture) in cap.into_captures() {
            let (phase, ordinal, index) = name(slot);
            file.write_example(&meta_for(phase, ordinal, index, labels[slot], &answers, slot), &capture)?;
        }
        Ok(answers)
    }

    /// Answers of the network (learning off) on the test images `indices`, in batches; optionally records chosen
    /// test indices into `rasters`. Returns the number correct.
    pub fn test(
        &mut self,
        data: &Prepared,
        indices: &[usize],
        rasters: Option<&RasterFile>,
        mut progress: impl FnMut(usize, usize) -> Result<(), SimError>,
    ) -> Result<usize, SimError> {
        let b = self.model.file.protocol.batch_size;
        let record = self.model.file.record.test_examples.clone();
        let mut correct = 0;
        let mut x = Array2::<f32>::zeros((0, data.test_x.ncols()));
        for (done, chunk) in indices.chunks(b).scan(0, |d, c| {
            *d += c.len();
            Some((*d, c))
        }) {
            gather(&data.test_x, chunk, &mut x);
            let labels: Vec<u8> = chunk.iter().map(|&i| data.test_y[i]).collect();
            let slots: Vec<usize> = match rasters {
                Some(_) => (0..chunk.len()).filter(|&s| record.contains(&chunk[s])).collect(),
                None => Vec::new(),
            };
            let answers = self.present_recorded(x.view(), &labels, false, &slots, rasters, |slot| {
                ("test", chunk[slot] as u64, chunk[slot])
            })?;
            correct += answers.correct(&labels);
            progress(done, correct)?;
        }
        Ok(correct)
    }

    /// Runs the whole protocol: training with learning-curve points, then the final test on every test image.
    pub fn run(
        &mut self,
        data: &Prepared,
        observer: &mut dyn Observer,
        rasters: Option<&RasterFile>,
    ) -> Result<Outcome, SimError> {
        let p = self.model.file.protocol.clone();
        let classes = *self.model.layers().last().expect("at least two layers");
        if let Some(&l) = data
            .train_y
            .iter()
            .chain(&data.test_y)
            .find(|&&l| usize::from(l) >= classes)
        {
            return Err(SimError::Mismatch(format!(
                "label {l} but the network has {classes} output cells"
            )));
        }
        let n = data.train_x.nrows();
        let total = (n * p.epochs) as u64;
        let record: Vec<u64> = self.model.file.record.train_examples.clone();
        let started = Instant::now();
        let mut curve = Vec::new();
        let (mut seen, mut next_curve) = (0u64, p.curve_every as u64);
        let (mut window_correct, mut window_total) = (0usize, 0usize);
        observer.train_started(total)?;
        if p.curve_every > 0 {
            let point = self.curve_point(data, 0, 0, f64::NAN, started)?;
            observer.curve_point(&point)?;
            curve.push(point);
        }
        let mut order: Vec<usize> = (0..n).collect();
        let mut x = Array2::<f32>::zeros((0, data.train_x.ncols()));
        for epoch in 0..p.epochs {
            if p.shuffle {
                order.shuffle(&mut self.streams.order);
            }
            for chunk in order.chunks(p.batch_size) {
                gather(&data.train_x, chunk, &mut x);
                let labels: Vec<u8> = chunk.iter().map(|&i| data.train_y[i]).collect();
                let slots: Vec<usize> = (0..chunk.len())
                    .filter(|&s| rasters.is_some() && record.contains(&(seen + s as u64)))
                    .collect();
                let answers = self.present_recorded(x.view(), &labels, true, &slots, rasters, |slot| {
                    ("train", seen + slot as u64, chunk[slot])
                })?;
                if let Some(layer) = self.net.first_non_finite() {
                    return Err(SimError::NonFinite {
                        layer: layer + 1,
                        example: seen + chunk.len() as u64,
                    });
                }
                let correct = answers.correct(&labels);
                seen += chunk.len() as u64;
                window_correct += correct;
                window_total += chunk.len();
                observer.batch_done(seen, correct, chunk.len())?;
                if p.curve_every > 0 && seen >= next_curve {
                    while next_curve <= seen {
                        next_curve += p.curve_every as u64;
                    }
                    let train_acc = window_correct as f64 / window_total.max(1) as f64;
                    let point = self.curve_point(data, seen, epoch, train_acc, started)?;
                    (window_correct, window_total) = (0, 0);
                    observer.curve_point(&point)?;
                    curve.push(point);
                }
            }
        }
        let train_s = started.elapsed().as_secs_f64();
        let test_started = Instant::now();
        let all: Vec<usize> = (0..data.test_x.nrows()).collect();
        observer.test_started(all.len())?;
        let test_correct = self.test(data, &all, rasters, |done, correct| {
            observer.test_progress(done, correct)
        })?;
        Ok(Outcome {
            curve,
            train_examples_seen: seen,
            test_correct,
            test_total: all.len(),
            train_s,
            test_s: test_started.elapsed().as_secs_f64(),
        })
    }

    fn curve_point(
        &mut self,
        data: &Prepared,
        seen: u64,
        epoch: usize,
        train_accuracy: f64,
        started: Instant,
    ) -> Result<CurvePoint, SimError> {
        let total = data.test_x.nrows();
        let k = self.model.file.protocol.curve_test_examples.min(total);
        let picks = sample(&mut self.streams.curve, total, k).into_vec();
        let correct = self.test(data, &picks, None, |_, _| Ok(()))?;
        Ok(CurvePoint {
            examples: seen,
            epoch,
            test_accuracy: correct as f64 / k.max(1) as f64,
            test_examples: k,
            train_accuracy,
            elapsed_s: started.elapsed().as_secs_f64(),
        })
    }
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
