//! Several independent trials of one model in one run (`trials: N` in the model file; issue 5, Samadi Figs 3–4).
//!
//! Trial k runs the whole protocol with the seed [`trial_seed`]`(seed, k)`: its own initial network, feedback
//! matrices, data order and, for a teacher task, its own teacher. Trials are independent, run in parallel on the
//! worker pool (each one's arithmetic does not depend on the thread count, so the results do not either), and are
//! summarised in trial order. A trial run keeps no checkpoint: an interrupted one stops between trials and is started
//! again.

use crate::alignment::AlignmentPoint;
use crate::dataset::Prepared;
use crate::error::SimError;
use crate::experiment::{Experiment, Observer, Outcome, Silent};
use crate::metrics::{CsvRow, CurvePoint};
use crate::model::Model;
use crate::seeds::trial_seed;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// The outcome of one trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Trial index (0-based).
    pub trial: usize,
    /// Its seed.
    pub seed: u64,
    /// What it measured.
    pub outcome: Outcome,
}

/// One row of `trials.csv`: a trial's final result.
pub struct TrialRow<'a>(pub &'a Trial);

impl CsvRow for TrialRow<'_> {
    const HEADER: &'static [&'static str] = &[
        "trial",
        "seed",
        "test_accuracy",
        "test_examples",
        "train_examples",
        "train_s",
        "test_nse",
    ];
    fn fields(&self) -> Vec<String> {
        let (t, o) = (self.0, &self.0.outcome);
        vec![
            t.trial.to_string(),
            t.seed.to_string(),
            format!("{:.6}", o.test_accuracy()),
            o.test_total.to_string(),
            o.train_examples_seen.to_string(),
            format!("{:.3}", o.train_s),
            format!("{:.6e}", o.test_nse.unwrap_or(f64::NAN)),
        ]
    }
}

/// One row of `trial_curves.csv`: a learning-curve point of one trial.
pub struct TrialCurveRow<'a>(pub usize, pub &'a CurvePoint);

impl CsvRow for TrialCurveRow<'_> {
    const HEADER: &'static [&'static str] = &[
        "trial",
        "examples",
        "epoch",
        "test_accuracy",
        "test_examples",
        "train_accuracy",
        "elapsed_s",
        "test_nse",
    ];
    fn fields(&self) -> Vec<String> {
        let mut f = vec![self.0.to_string()];
        f.extend(self.1.fields());
        f
    }
}

/// Runs `model.trials()` trials, `threads` at a time, reporting each finished group to `observer` as training
/// progress (one unit per trial's examples). Stops between groups when `stop` is set.
pub fn run_trials(model: &Model, observer: &mut dyn Observer, stop: &AtomicBool) -> Result<Vec<Trial>, SimError> {
    let n = model.trials();
    let shared = match model.data().dataset.files() {
        Some(_) => Some(Prepared::load(model)?),
        None => None, // each trial draws its own teacher
    };
    let group = rayon::current_num_threads().max(1);
    let mut done: Vec<Trial> = Vec::with_capacity(n);
    let mut total = None;
    for start in (0..n).step_by(group) {
        if stop.load(Ordering::Relaxed) {
            return Err(SimError::Interrupted {
                seen: done.iter().map(|t| t.outcome.train_examples_seen).sum(),
                dir: Default::default(),
            });
        }
        let trials: Vec<Result<Trial, SimError>> = (start..(start + group).min(n))
            .into_par_iter()
            .map(|k| {
                let m = model.trial(trial_seed(model.seed(), k))?;
                let own;
                let data = match &shared {
                    Some(d) => d,
                    None => {
                        own = Prepared::load(&m)?;
                        &own
                    }
                };
                let outcome = Experiment::new(&m)?.run(data, &mut Silent, None)?;
                Ok(Trial {
                    trial: k,
                    seed: m.seed(),
                    outcome,
                })
            })
            .collect();
        for t in trials {
            let t = t?;
            let per_trial = t.outcome.train_examples_seen;
            if total.is_none() {
                total = Some(per_trial * n as u64);
                observer.train_started(per_trial * n as u64)?;
            }
            done.push(t);
            observer.batch_done(per_trial * done.len() as u64, 0, 0)?;
        }
    }
    Ok(done)
}

/// The mean of the trials' outcomes: curve points and alignment averaged point by point (the trials share the
/// protocol, so their points fall at the same examples), test counts and times summed.
pub fn mean_outcome(trials: &[Trial]) -> Outcome {
    let n = trials.len().max(1) as f64;
    let first = &trials[0].outcome;
    let curve = first
        .curve
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = |f: fn(&CurvePoint) -> f64| trials.iter().map(|t| f(&t.outcome.curve[i])).sum::<f64>() / n;
            CurvePoint {
                examples: p.examples,
                epoch: p.epoch,
                test_accuracy: at(|q| q.test_accuracy),
                test_examples: trials.iter().map(|t| t.outcome.curve[i].test_examples).sum(),
                train_accuracy: at(|q| q.train_accuracy),
                elapsed_s: at(|q| q.elapsed_s),
                test_nse: at(|q| q.test_nse),
            }
        })
        .collect();
    let alignment = first
        .alignment
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let here: Vec<&AlignmentPoint> = trials.iter().filter_map(|t| t.outcome.alignment.get(i)).collect();
            let mean = |f: &dyn Fn(&AlignmentPoint) -> f64| here.iter().map(|q| f(q)).sum::<f64>() / here.len() as f64;
            AlignmentPoint {
                examples: p.examples,
                population: p.population.clone(),
                angle_deg: mean(&|q| q.angle_deg),
                samples: here.iter().map(|q| q.samples).sum(),
                // The spread across all trials' samples is not kept: the mean of the trials' spreads.
                angle_sd_deg: mean(&|q| q.angle_sd_deg),
                folded_deg: mean(&|q| q.folded_deg),
                weight_angle_deg: mean(&|q| q.weight_angle_deg),
                unit_angle_deg: mean(&|q| q.unit_angle_deg),
                probe_first_deg: mean(&|q| q.probe_first_deg),
                probe_mean_deg: mean(&|q| q.probe_mean_deg),
            }
        })
        .collect();
    Outcome {
        curve,
        alignment,
        train_examples_seen: trials.iter().map(|t| t.outcome.train_examples_seen).sum(),
        test_correct: trials.iter().map(|t| t.outcome.test_correct).sum(),
        test_nse: (trials.iter().map(|t| t.outcome.test_nse).sum::<Option<f64>>()).map(|s| s / n),
        // Every trial tests the same images: their matrices add up, as test_correct does.
        confusion: trials
            .iter()
            .map(|t| t.outcome.confusion.clone())
            .reduce(|a, b| {
                a.zip(b).map(|(mut a, b)| {
                    a.merge(&b);
                    a
                })
            })
            .flatten(),
        test_total: trials.iter().map(|t| t.outcome.test_total).sum(),
        train_s: trials.iter().map(|t| t.outcome.train_s).sum(),
        test_s: trials.iter().map(|t| t.outcome.test_s).sum(),
    }
}

/// Standard error of the mean of the trials' final accuracies (`None` for fewer than 2 trials).
pub fn accuracy_sem(trials: &[Trial]) -> Option<f64> {
    let n = trials.len();
    if n < 2 {
        return None;
    }
    let acc: Vec<f64> = trials.iter().map(|t| t.outcome.test_accuracy()).collect();
    let mean = acc.iter().sum::<f64>() / n as f64;
    let var = acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((var / n as f64).sqrt())
}
