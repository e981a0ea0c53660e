//! The deep, narrow teacher task of Samadi §3.1 (SPEC §3): a random teacher network labels random inputs, and a
//! learner must mimic it.
//!
//! The teacher has `inputs` graded inputs, `hidden_layers` layers of `width` nonrectified tanh cells, and a linear
//! read-out to two cells whose argmax is the class (one-hot outputs). What the paper leaves open is chosen here and
//! kept configurable (SPEC §3 \[choice\]):
//! - inputs uniform in `[-input_range, input_range]^inputs`;
//! - weights uniform with mean 0 and variance `weight_gain² / fan_in` (gain 2: tanh layers well into their
//!   nonlinear range, so that the function is not nearly linear), biases uniform with standard deviation `bias_std`;
//! - classes balanced by the read-out's bias: the threshold on the difference of the two read-out cells is the median
//!   over the training inputs, so the training set is split exactly in half and the test set to within its sampling
//!   error (both fractions are returned; SPEC: within 0.001 of 0.5).

use crate::error::DataError;
use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Shape of the teacher and of its data (SPEC §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeacherParams {
    /// Graded inputs (2).
    pub inputs: usize,
    /// Hidden tanh layers (8).
    pub hidden_layers: usize,
    /// Cells per hidden layer (2).
    pub width: usize,
    /// Training examples drawn (each epoch presents them all).
    pub train_examples: usize,
    /// Test examples drawn (the learning curve samples from them; the final test uses all).
    pub test_examples: usize,
    /// Inputs uniform in `[-input_range, input_range]`.
    pub input_range: f64,
    /// Weights have variance `weight_gain² / fan_in`.
    pub weight_gain: f64,
    /// Standard deviation of the biases.
    pub bias_std: f64,
}

impl Default for TeacherParams {
    fn default() -> Self {
        Self {
            inputs: 2,
            hidden_layers: 8,
            width: 2,
            train_examples: 10_000,
            test_examples: 2_000,
            input_range: 1.0,
            weight_gain: 2.0,
            bias_std: 0.5,
        }
    }
}

/// A teacher task: inputs `[examples, inputs]` and class labels (0 or 1) for training and test.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherTask {
    /// Training inputs.
    pub train_x: Array2<f32>,
    /// Training labels.
    pub train_y: Vec<u8>,
    /// Test inputs.
    pub test_x: Array2<f32>,
    /// Test labels.
    pub test_y: Vec<u8>,
    /// Fraction of class 1 in the training set.
    pub train_balance: f64,
    /// Fraction of class 1 in the test set.
    pub test_balance: f64,
}

/// Number of classes of the task (one-hot outputs).
pub const TEACHER_CLASSES: usize = 2;

impl TeacherParams {
    /// Checks the parameters; the error names the field.
    pub fn check(&self) -> Result<(), DataError> {
        let bad = |field: &str, expected: &str| {
            Err(DataError::Format {
                path: format!("data.dataset.Teacher.{field}").into(),
                reason: format!("expected {expected}"),
            })
        };
        if self.inputs == 0 || self.inputs > 10_000 {
            return bad("inputs", "1 to 10000 inputs");
        }
        if self.width == 0 || self.width > 10_000 {
            return bad("width", "1 to 10000 cells per layer");
        }
        if self.hidden_layers > 1000 {
            return bad("hidden_layers", "at most 1000 layers");
        }
        if self.train_examples < 2 || self.train_examples > 10_000_000 {
            return bad("train_examples", "2 to 10^7 examples");
        }
        if self.test_examples == 0 || self.test_examples > 10_000_000 {
            return bad("test_examples", "1 to 10^7 examples");
        }
        for (field, v) in [("input_range", self.input_range), ("weight_gain", self.weight_gain)] {
            if !(v.is_finite() && v > 0.0) {
                return bad(field, "a positive number");
            }
        }
        if !(self.bias_std.is_finite() && self.bias_std >= 0.0) {
            return bad("bias_std", "a standard deviation >= 0");
        }
        Ok(())
    }
}

/// A random teacher network: tanh hidden layers and a linear read-out to two cells.
struct Teacher {
    layers: Vec<(Array2<f64>, Array1<f64>)>,
}

impl Teacher {
    fn draw(p: &TeacherParams, rng: &mut Xoshiro256PlusPlus) -> Self {
        let mut sizes = vec![p.inputs];
        sizes.extend(std::iter::repeat_n(p.width, p.hidden_layers));
        sizes.push(TEACHER_CLASSES);
        let bias_half = p.bias_std * 3f64.sqrt();
        let layers = sizes
            .windows(2)
            .map(|w| {
                let half = p.weight_gain * (3.0 / w[0] as f64).sqrt();
                let weights = Array2::from_shape_simple_fn((w[1], w[0]), || rng.random_range(-half..half));
                let biases = Array1::from_shape_simple_fn(w[1], || {
                    if bias_half > 0.0 {
                        rng.random_range(-bias_half..bias_half)
                    } else {
                        0.0
                    }
                });
                (weights, biases)
            })
            .collect();
        Self { layers }
    }

    /// Difference of the two read-out cells for input x.
    fn margin(&self, x: &[f64]) -> f64 {
        let mut a = Array1::from(x.to_vec());
        let last = self.layers.len() - 1;
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let v = w.dot(&a) + b;
            a = if l == last { v } else { v.mapv(f64::tanh) };
        }
        a[1] - a[0]
    }
}

/// Draws a teacher and its training and test sets from `rng` (inputs first, then the teacher).
pub fn generate(p: &TeacherParams, rng: &mut Xoshiro256PlusPlus) -> Result<TeacherTask, DataError> {
    p.check()?;
    let r = p.input_range;
    let mut draw = |n: usize| Array2::<f64>::from_shape_simple_fn((n, p.inputs), || rng.random_range(-r..r));
    let train = draw(p.train_examples);
    let test = draw(p.test_examples);
    let teacher = Teacher::draw(p, rng);
    let margins = |x: &Array2<f64>| -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|row| teacher.margin(row.as_slice().expect("standard layout")))
            .collect()
    };
    let (m_train, m_test) = (margins(&train), margins(&test));
    let mut sorted = m_train.clone();
    sorted.sort_by(f64::total_cmp);
    let half = sorted.len() / 2;
    // Class 1 iff the margin is above the threshold: exactly half of the training set (ties aside).
    let threshold = if sorted.len() % 2 == 0 {
        0.5 * (sorted[half - 1] + sorted[half])
    } else {
        sorted[half]
    };
    let label = |m: &[f64]| -> Vec<u8> { m.iter().map(|&v| u8::from(v > threshold)).collect() };
    let (train_y, test_y) = (label(&m_train), label(&m_test));
    let balance = |y: &[u8]| y.iter().map(|&c| f64::from(c)).sum::<f64>() / y.len() as f64;
    Ok(TeacherTask {
        train_balance: balance(&train_y),
        test_balance: balance(&test_y),
        train_x: train.mapv(|v| v as f32),
        train_y,
        test_x: test.mapv(|v| v as f32),
        test_y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn balanced_deterministic_and_not_trivial() {
        let p = TeacherParams::default();
        let a = generate(&p, &mut Xoshiro256PlusPlus::seed_from_u64(5)).unwrap();
        let b = generate(&p, &mut Xoshiro256PlusPlus::seed_from_u64(5)).unwrap();
        assert_eq!(a, b, "the same seed gives the same task");
        let c = generate(&p, &mut Xoshiro256PlusPlus::seed_from_u64(6)).unwrap();
        assert_ne!(a.train_y, c.train_y, "another seed, another teacher");
        assert_eq!(a.train_x.dim(), (10_000, 2));
        assert_eq!(a.test_x.dim(), (2_000, 2));
        assert!((a.train_balance - 0.5).abs() < 1e-3, "{}", a.train_balance);
        assert!((a.test_balance - 0.5).abs() < 0.05, "{}", a.test_balance);
        assert!(a.train_x.iter().all(|&x| (-1.0..1.0).contains(&x)));
    }

    #[test]
    fn bad_parameters_are_named() {
        let p = TeacherParams {
            width: 0,
            ..TeacherParams::default()
        };
        let e = generate(&p, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap_err();
        assert!(e.to_string().contains("data.dataset.Teacher.width"), "{e}");
    }
}
