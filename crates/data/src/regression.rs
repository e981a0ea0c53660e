//! The regression tasks of Lillicrap et al. 2016 (SPEC §5.1, §5.2, §5.5): a fixed random function of random inputs,
//! with real-valued targets, drawn from one seeded stream.
//!
//! Every task draws its function first, then the held-out test set, then the training stream, so that a longer
//! training stream keeps the same function and the same test set.

use crate::error::DataError;
use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// A regression task's inputs and targets for training and test.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionSet {
    /// Training inputs `[examples, inputs]`.
    pub train_x: Array2<f32>,
    /// Training targets `[examples, outputs]`.
    pub train_t: Array2<f32>,
    /// Test inputs.
    pub test_x: Array2<f32>,
    /// Test targets.
    pub test_t: Array2<f32>,
}

/// SPEC §5.1: `y* = T x`, T ∈ ℝ^(outputs × inputs) with elements U[−r, r], x ~ N(0, I).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearTeacherParams {
    /// Inputs (30).
    pub inputs: usize,
    /// Outputs (10).
    pub outputs: usize,
    /// The teacher's elements are U[−teacher_range, teacher_range] (1).
    pub teacher_range: f64,
    /// Training examples, one update each (20 000).
    pub train_examples: usize,
    /// Held-out examples of the normalised squared error (1000).
    pub test_examples: usize,
}

impl Default for LinearTeacherParams {
    fn default() -> Self {
        Self {
            inputs: 30,
            outputs: 10,
            teacher_range: 1.0,
            train_examples: 20_000,
            test_examples: 1000,
        }
    }
}

/// SPEC §5.2: `y* = W₂ tanh(W₁ tanh(W₀ x + b₀) + b₁) + b₂`, every weight and bias U[−r, r], x ~ N(0, I): tanh
/// layers between the first and the last of `layers`, a linear output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TanhTeacherParams {
    /// Units per layer, input first ([30, 20, 10, 10]).
    pub layers: Vec<usize>,
    /// Weights U[−weight_range, weight_range] (0.5).
    pub weight_range: f64,
    /// Biases U[−bias_range, bias_range] (0.5, SPEC's \[choice\]: the same range).
    pub bias_range: f64,
    /// Training examples (400 000).
    pub train_examples: usize,
    /// Held-out examples (5000).
    pub test_examples: usize,
}

impl Default for TanhTeacherParams {
    fn default() -> Self {
        Self {
            layers: vec![30, 20, 10, 10],
            weight_range: 0.5,
            bias_range: 0.5,
            train_examples: 400_000,
            test_examples: 5000,
        }
    }
}

/// SPEC §5.5: `y*_k = xᵀ Q_k x` (k = 1..outputs), Q_k elements U[−q_range, q_range], x elements U[−input_range,
/// input_range].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuadraticParams {
    /// Inputs (20).
    pub inputs: usize,
    /// Outputs (20).
    pub outputs: usize,
    /// Inputs U[−input_range, input_range] (2).
    pub input_range: f64,
    /// The Q_k's elements U[−q_range, q_range] (0.5).
    pub q_range: f64,
    /// Training examples (100 000).
    pub train_examples: usize,
    /// Held-out examples (2000).
    pub test_examples: usize,
}

impl Default for QuadraticParams {
    fn default() -> Self {
        Self {
            inputs: 20,
            outputs: 20,
            input_range: 2.0,
            q_range: 0.5,
            train_examples: 100_000,
            test_examples: 2000,
        }
    }
}

/// One of the regression tasks, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum RegressionTask<'a> {
    /// SPEC §5.1.
    Linear(&'a LinearTeacherParams),
    /// SPEC §5.2.
    Tanh(&'a TanhTeacherParams),
    /// SPEC §5.5.
    Quadratic(&'a QuadraticParams),
}

fn bad(task: &str, field: &str, expected: &str) -> DataError {
    DataError::Format {
        path: format!("data.dataset.{task}.{field}").into(),
        reason: format!("expected {expected}"),
    }
}

fn check_sizes(task: &str, sizes: &[(&str, usize)], train: usize, test: usize) -> Result<(), DataError> {
    if let Some((field, _)) = sizes.iter().find(|(_, n)| *n == 0 || *n > 100_000) {
        return Err(bad(task, field, "1 to 100000 units"));
    }
    if train == 0 || train > 100_000_000 {
        return Err(bad(task, "train_examples", "1 to 10^8 examples"));
    }
    if !(2..=10_000_000).contains(&test) {
        return Err(bad(
            task,
            "test_examples",
            "2 to 10^7 examples (the NSE needs a sample mean)",
        ));
    }
    let floats = (train + test) as f64 * sizes.iter().map(|(_, n)| *n as f64).sum::<f64>();
    if floats > 2.5e9 {
        return Err(bad(task, "train_examples", "at most 10 GB of inputs and targets"));
    }
    Ok(())
}

fn check_range(task: &str, field: &str, r: f64) -> Result<(), DataError> {
    match r.is_finite() && r > 0.0 {
        true => Ok(()),
        false => Err(bad(task, field, "a positive, finite half-width")),
    }
}

impl RegressionTask<'_> {
    /// The task's name in the model file.
    pub fn name(&self) -> &'static str {
        match self {
            RegressionTask::Linear(_) => "LinearTeacher",
            RegressionTask::Tanh(_) => "TanhTeacher",
            RegressionTask::Quadratic(_) => "Quadratic",
        }
    }

    /// (inputs, outputs).
    pub fn shape(&self) -> (usize, usize) {
        match self {
            RegressionTask::Linear(p) => (p.inputs, p.outputs),
            RegressionTask::Tanh(p) => (p.layers[0], *p.layers.last().expect("checked: layers")),
            RegressionTask::Quadratic(p) => (p.inputs, p.outputs),
        }
    }

    /// Checks the parameters; the error names the field (`data.dataset.<Task>.<field>`).
    pub fn check(&self) -> Result<(), DataError> {
        let task = self.name();
        match self {
            RegressionTask::Linear(p) => {
                check_sizes(
                    task,
                    &[("inputs", p.inputs), ("outputs", p.outputs)],
                    p.train_examples,
                    p.test_examples,
                )?;
                check_range(task, "teacher_range", p.teacher_range)
            }
            RegressionTask::Tanh(p) => {
                if p.layers.len() < 2 {
                    return Err(bad(task, "layers", "at least an input and an output layer"));
                }
                let sizes: Vec<(&str, usize)> = p.layers.iter().map(|&n| ("layers", n)).collect();
                check_sizes(task, &sizes, p.train_examples, p.test_examples)?;
                check_range(task, "weight_range", p.weight_range)?;
                match p.bias_range.is_finite() && p.bias_range >= 0.0 {
                    true => Ok(()),
                    false => Err(bad(task, "bias_range", "a finite half-width >= 0")),
                }
            }
            RegressionTask::Quadratic(p) => {
                check_sizes(
                    task,
                    &[("inputs", p.inputs), ("outputs", p.outputs)],
                    p.train_examples,
                    p.test_examples,
                )?;
                check_range(task, "input_range", p.input_range)?;
                check_range(task, "q_range", p.q_range)
            }
        }
    }

    /// Draws the function, then the test set, then the training stream, from `rng` (module docs).
    pub fn generate(&self, rng: &mut Xoshiro256PlusPlus) -> Result<RegressionSet, DataError> {
        self.check()?;
        let uniform = |rng: &mut Xoshiro256PlusPlus, shape: (usize, usize), r: f64| {
            Array2::from_shape_simple_fn(shape, || rng.random_range(-r..r))
        };
        let normal = |rng: &mut Xoshiro256PlusPlus, shape: (usize, usize)| {
            Array2::from_shape_simple_fn(shape, || rng.sample::<f64, _>(StandardNormal))
        };
        let (inputs, outputs) = self.shape();
        let (train_n, test_n) = match self {
            RegressionTask::Linear(p) => (p.train_examples, p.test_examples),
            RegressionTask::Tanh(p) => (p.train_examples, p.test_examples),
            RegressionTask::Quadratic(p) => (p.train_examples, p.test_examples),
        };
        let (test_x, train_x, apply): (Array2<f64>, Array2<f64>, Box<Target>) = match self {
            RegressionTask::Linear(p) => {
                let t = uniform(rng, (outputs, inputs), p.teacher_range);
                let test = normal(rng, (test_n, inputs));
                let train = normal(rng, (train_n, inputs));
                (test, train, Box::new(move |x: &Array2<f64>| x.dot(&t.t())))
            }
            RegressionTask::Tanh(p) => {
                let layers: Vec<(Array2<f64>, Array1<f64>)> = p
                    .layers
                    .windows(2)
                    .map(|w| {
                        let weights = uniform(rng, (w[1], w[0]), p.weight_range);
                        let b = p.bias_range;
                        let biases = Array1::from_shape_simple_fn(w[1], || match b > 0.0 {
                            true => rng.random_range(-b..b),
                            false => 0.0,
                        });
                        (weights, biases)
                    })
                    .collect();
                let test = normal(rng, (test_n, inputs));
                let train = normal(rng, (train_n, inputs));
                let apply = move |x: &Array2<f64>| {
                    let last = layers.len() - 1;
                    let mut a = x.clone();
                    for (l, (w, b)) in layers.iter().enumerate() {
                        let v = a.dot(&w.t()) + b;
                        a = if l == last { v } else { v.mapv(f64::tanh) };
                    }
                    a
                };
                (test, train, Box::new(apply))
            }
            RegressionTask::Quadratic(p) => {
                let q: Vec<Array2<f64>> = (0..outputs)
                    .map(|_| uniform(rng, (inputs, inputs), p.q_range))
                    .collect();
                let test = uniform(rng, (test_n, inputs), p.input_range);
                let train = uniform(rng, (train_n, inputs), p.input_range);
                let apply = move |x: &Array2<f64>| {
                    Array2::from_shape_fn((x.nrows(), q.len()), |(n, k)| {
                        let row = x.row(n);
                        row.dot(&q[k].dot(&row))
                    })
                };
                (test, train, Box::new(apply))
            }
        };
        let f32s = |a: &Array2<f64>| a.mapv(|v| v as f32);
        Ok(RegressionSet {
            train_t: f32s(&apply(&train_x)),
            train_x: f32s(&train_x),
            test_t: f32s(&apply(&test_x)),
            test_x: f32s(&test_x),
        })
    }
}

/// The task's function, inputs `[examples, inputs]` to targets `[examples, outputs]`.
type Target = dyn Fn(&Array2<f64>) -> Array2<f64>;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    #[test]
    fn the_linear_teacher_is_linear_and_the_test_set_does_not_depend_on_the_stream_length() {
        let p = LinearTeacherParams {
            train_examples: 50,
            test_examples: 20,
            ..Default::default()
        };
        let a = RegressionTask::Linear(&p).generate(&mut rng(3)).unwrap();
        assert_eq!((a.train_x.dim(), a.train_t.dim()), ((50, 30), (50, 10)));
        let longer = LinearTeacherParams {
            train_examples: 80,
            ..p.clone()
        };
        let b = RegressionTask::Linear(&longer).generate(&mut rng(3)).unwrap();
        assert_eq!((&a.test_x, &a.test_t), (&b.test_x, &b.test_t));
        assert_eq!(a.train_x, b.train_x.slice(ndarray::s![..50, ..]));
        // The teacher is the stream's first draws: T, row-major, U[−1, 1].
        let mut r = rng(3);
        let t = Array2::from_shape_simple_fn((10, 30), || r.random_range(-1.0..1.0f64));
        let want = a.train_x.mapv(f64::from).dot(&t.t());
        let worst = (&want - &a.train_t.mapv(f64::from))
            .mapv(f64::abs)
            .fold(0.0f64, |m, &d| m.max(d));
        assert!(worst < 1e-5, "y* = T x to f32 rounding: off by {worst}");
        let spread = a.train_x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / (50.0 * 30.0);
        assert!((0.8..1.2).contains(&spread), "x ~ N(0, 1): mean square {spread}");
    }

    #[test]
    fn the_quadratic_targets_are_quadratic_forms() {
        let p = QuadraticParams {
            train_examples: 10,
            test_examples: 4,
            ..Default::default()
        };
        let a = RegressionTask::Quadratic(&p).generate(&mut rng(1)).unwrap();
        let mut r = rng(1);
        let q: Vec<Array2<f64>> = (0..20)
            .map(|_| Array2::from_shape_simple_fn((20, 20), || r.random_range(-0.5..0.5f64)))
            .collect();
        for n in 0..10 {
            let x = a.train_x.row(n).mapv(f64::from);
            for (k, qk) in q.iter().enumerate() {
                let want = x.dot(&qk.dot(&x));
                let got = f64::from(a.train_t[[n, k]]);
                assert!(
                    (want - got).abs() < 1e-5 * want.abs().max(1.0),
                    "y*_{k} = xᵀ Q_k x: {got} vs {want}"
                );
            }
        }
        assert!(a.train_x.iter().all(|x| x.abs() < 2.0));
        assert_eq!(a.train_t.dim(), (10, 20));
        let b = RegressionTask::Quadratic(&p).generate(&mut rng(1)).unwrap();
        assert_eq!(a, b, "the same seed gives the same task");
    }

    #[test]
    fn bad_parameters_are_named() {
        let p = TanhTeacherParams {
            weight_range: 0.0,
            ..Default::default()
        };
        let e = RegressionTask::Tanh(&p).check().unwrap_err();
        assert!(e.to_string().contains("data.dataset.TanhTeacher.weight_range"), "{e}");
        let p = LinearTeacherParams {
            test_examples: 1,
            ..Default::default()
        };
        let e = RegressionTask::Linear(&p).check().unwrap_err();
        assert!(e.to_string().contains("test_examples"), "{e}");
    }
}
