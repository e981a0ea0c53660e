//! Helpers of the tests that a run is reproduced exactly (resumed, or at another thread count): a checkpoint sink
//! that keeps every checkpoint in memory, encoded as a file would hold it, and asks to stop at a chosen minibatch;
//! the bits of an outcome and of a network; and small array and model-check helpers of the feedback-learning tests.
//! Each test file uses a part of it.
#![allow(dead_code)]

use ndarray::{Array2, ArrayView2};
use snn_plasticity::{Carrier, FeedbackRule};
use snn_sim::checkpoint::{Checkpoint, Checkpoints, NoCheckpoints};
use snn_sim::dataset::Prepared;
use snn_sim::experiment::{Experiment, Outcome, Silent};
use snn_sim::network::Network;
use snn_sim::{Model, ModelFile, SimError};
use std::cell::Cell;
use std::path::Path;

/// Keeps every checkpoint (encoded, as a file would hold it) and asks to stop at the `stop_at`-th minibatch.
pub struct Memory {
    pub saved: Vec<Vec<u8>>,
    asked: Cell<u64>,
    stop_at: u64,
}

impl Memory {
    pub fn new(stop_at: u64) -> Self {
        Self {
            saved: Vec::new(),
            asked: Cell::new(0),
            stop_at,
        }
    }

    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        self.saved.iter().map(|b| Checkpoint::from_bytes(b).unwrap()).collect()
    }
}

impl Checkpoints for Memory {
    fn enabled(&self) -> bool {
        true
    }
    fn save(&mut self, c: &Checkpoint) -> Result<(), SimError> {
        self.saved.push(c.to_bytes().unwrap());
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.asked.get() == self.stop_at
    }
}

/// The curve (examples, accuracies and NSE), the alignment points (examples, population, angles) and the test NSE.
pub type OutcomeBits = (Vec<(u64, [u64; 3])>, Vec<(u64, String, [u64; 3])>, Option<u64>);

/// Every column of the curve but its wall-clock time, and of the alignment points, floats as bits.
pub fn outcome_bits(o: &Outcome) -> OutcomeBits {
    let curve = o
        .curve
        .iter()
        .map(|p| {
            (
                p.examples,
                [p.test_accuracy, p.test_nse, p.train_accuracy].map(f64::to_bits),
            )
        })
        .collect();
    let alignment = o
        .alignment
        .iter()
        .map(|p| {
            let f = [p.angle_deg, p.weight_angle_deg, p.unit_angle_deg].map(f64::to_bits);
            (p.examples, p.population.clone(), f)
        })
        .collect();
    (curve, alignment, o.test_nse.map(f64::to_bits))
}

/// A run resumed from each periodic checkpoint `sink` kept of an uninterrupted run of `model` (the last one, the end
/// of training, left out; at least `periodic` of them), and one interrupted after `stop_at` minibatches (`seen`
/// examples), end with the uninterrupted run's curve, alignment and test (`want`) and its network (`same`, which
/// compares a resumed network with it and names the run).
pub fn assert_resumes_exactly(
    model: &Model,
    data: &Prepared,
    sink: &Memory,
    periodic: usize,
    (stop_at, seen): (u64, u64),
    want: &OutcomeBits,
    same: impl Fn(&Network, &str),
) {
    let resume = |ck: Checkpoint, from: &str| {
        let (mut exp, progress) = Experiment::restore(model, ck).unwrap();
        let outcome = exp
            .run_from(data, &mut Silent, None, Some(progress), &mut NoCheckpoints)
            .unwrap();
        assert_eq!(
            &outcome_bits(&outcome),
            want,
            "resumed from {from}: curve, alignment, test"
        );
        same(exp.network(), &format!("resumed from {from}"));
    };
    let mut checkpoints = sink.checkpoints();
    checkpoints.pop(); // the end of training
    assert!(
        checkpoints.len() >= periodic,
        "{} periodic checkpoints",
        checkpoints.len()
    );
    for ck in checkpoints {
        let at = ck.progress.seen;
        resume(ck, &format!("the checkpoint at {at}"));
    }
    let mut first = Experiment::new(model).unwrap();
    let mut stopped = Memory::new(stop_at);
    match first.run_from(data, &mut Silent, None, None, &mut stopped) {
        Err(SimError::Interrupted { seen: s, .. }) => assert_eq!(s, seen),
        other => panic!("expected an interruption after {seen} examples, got {other:?}"),
    }
    let ck = stopped.checkpoints().pop().unwrap();
    assert_eq!(ck.progress.seen, seen);
    resume(ck, &format!("the interruption at {seen}"));
}

pub fn f64s(a: ArrayView2<'_, f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

pub fn frobenius(a: &Array2<f64>) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `scale · sign(w)ᵀ` (0 for a zero weight), as sign symmetry sets B.
pub fn scaled_signs_t(w: &Array2<f32>, scale: f32) -> Array2<f32> {
    w.t().mapv(|x| match x {
        x if x > 0.0 => scale,
        x if x < 0.0 => -scale,
        _ => 0.0,
    })
}

/// Every weight, bias, momentum entry, feedback matrix and rule of a network, floats as bits.
pub fn bits(net: &Network) -> (Vec<Vec<u32>>, Vec<String>) {
    let floats = |a: &mut dyn Iterator<Item = &f32>| a.map(|x| x.to_bits()).collect::<Vec<u32>>();
    let mut all = Vec::new();
    for p in &net.forward {
        all.push(floats(&mut p.w.iter()));
        all.push(floats(&mut p.b.iter()));
        all.push(floats(&mut p.dw.iter()));
        all.push(floats(&mut p.db.iter()));
        all.push(vec![(p.scale.to_bits() >> 32) as u32, p.scale.to_bits() as u32]);
    }
    for pathway in &net.feedback {
        if let Carrier::Matrix(b) = &pathway.carrier {
            all.push(floats(&mut b.iter()));
        }
    }
    for b in &net.layerwise {
        all.push(floats(&mut b.iter()));
    }
    let rules = net
        .feedback
        .iter()
        .map(|p| match p.rule {
            FeedbackRule::SignSymmetry { scale } => format!("SignSymmetry({:?})", scale.map(f32::to_bits)),
            rule => format!("{rule:?}"),
        })
        .collect();
    (all, rules)
}

pub fn assert_same_network(a: &Network, b: &Network, what: &str) {
    assert_eq!(bits(a).1, bits(b).1, "{what}: feedback rules");
    assert_same_arrays(a, b, what);
}

/// [`assert_same_network`] without the rules (for models that differ only in them).
pub fn assert_same_arrays(a: &Network, b: &Network, what: &str) {
    let (x, y) = (bits(a).0, bits(b).0);
    assert_eq!(x.len(), y.len(), "{what}: shapes");
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert!(p == q, "{what}: array {i} differs in its bits");
    }
}

pub fn rms(w: &Array2<f32>) -> f32 {
    (w.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / w.len() as f64).sqrt() as f32
}

/// `check` refuses the model text with an error that names `field` (in backquotes, as every refusal names its field).
pub fn assert_check_refuses(text: &str, field: &str) {
    let err = ModelFile::from_ron(text, Path::new("m.ron"))
        .unwrap()
        .check()
        .expect_err(&format!("{text} must be refused"));
    let needle = format!("`{field}`");
    assert!(err.to_string().contains(&needle), "{err}\nshould name {field} ({text})");
}

/// `check` accepts the model text.
pub fn assert_check_accepts(text: &str) {
    ModelFile::from_ron(text, Path::new("m.ron"))
        .unwrap()
        .check()
        .unwrap_or_else(|e| panic!("{text} should pass: {e}"));
}
