//! The data a run presents: loaded (downloaded if allowed and missing), limited, and standardised (SPEC §2.3).

use crate::error::SimError;
use crate::model::{Dataset, InputScaling, Model};
use crate::seeds::Streams;
use ndarray::{Array2, ArrayView2, s};
use snn_data::fetch::fetch_missing;
use snn_data::{DataError, Standardiser};

/// Training and test inputs as f32 features ready to present, with labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// Standardised training inputs, `[examples, features]`.
    pub train_x: Array2<f32>,
    /// Training labels.
    pub train_y: Vec<u8>,
    /// Standardised test inputs.
    pub test_x: Array2<f32>,
    /// Test labels.
    pub test_y: Vec<u8>,
    /// Real-valued training targets `[examples, outputs]` of a regression task (SPEC §5), `None` for classes.
    /// The labels of a regression task are all 0.
    pub train_t: Option<Array2<f32>>,
    /// Real-valued test targets.
    pub test_t: Option<Array2<f32>>,
}

impl Prepared {
    /// Loads the model's dataset from its data folder (see `ModelFile::data_dir`), downloading missing files when
    /// `data.download` is set, keeps the first `train_limit`/`test_limit` examples and standardises every feature
    /// over the (limited) training set to `data.input_mean` and `data.input_std`.
    ///
    /// A teacher task (SPEC §3) is generated from the model's seed instead (its own random stream), then limited and
    /// standardised in the same way.
    pub fn load(model: &Model) -> Result<Self, SimError> {
        let d = model.data();
        if let Some(task) = d.dataset.regression() {
            return Self::regression(model, &task);
        }
        let (Some(kind), Some(dir)) = (d.dataset.files(), model.data_dir()) else {
            return Self::teacher(model);
        };
        let missing = kind.files().iter().any(|f| !dir.join(f.name).exists());
        if missing && d.download {
            let url = d.url.clone().unwrap_or_else(|| kind.default_url().to_string());
            fetch_missing(kind, &dir, &url)?;
        }
        let set = snn_data::load(kind, &dir, d.verify_checksums)?;
        let train = match d.train_limit {
            Some(n) => set.train.truncated(n),
            None => set.train,
        };
        let test = match d.test_limit {
            Some(n) => set.test.truncated(n),
            None => set.test,
        };
        if set.features != model.layers()[0] {
            return Err(SimError::Mismatch(format!(
                "network.layers.0 = {} but the images of {} have {} pixels",
                model.layers()[0],
                dir.display(),
                set.features
            )));
        }
        let out = *model.layers().last().unwrap();
        if model.classes() != set.classes {
            let group = model.cells_per_class();
            return Err(SimError::Mismatch(format!(
                "network.layers ends with {out} output cells, {group} per class, but {} has {} classes: expected \
                 {} output cells",
                dir.display(),
                set.classes,
                group * set.classes
            )));
        }
        let (train_x, test_x) = match d.scaling {
            InputScaling::Standardise => {
                let st = Standardiser::fit(train.images.view(), d.input_mean, d.input_std);
                (st.apply(train.images.view()), st.apply(test.images.view()))
            }
            InputScaling::UnitInterval => {
                let unit = |x: &Array2<u8>| x.mapv(|p| f32::from(p) / 255.0);
                (unit(&train.images), unit(&test.images))
            }
            InputScaling::StandardiseGlobal => {
                let st = Standardiser::fit_global(train.images.view(), d.input_mean, d.input_std);
                (st.apply(train.images.view()), st.apply(test.images.view()))
            }
        };
        Ok(Self {
            train_x,
            train_y: train.labels,
            test_x,
            test_y: test.labels,
            train_t: None,
            test_t: None,
        })
    }

    /// A regression task (SPEC §5), drawn from `data.seed` (or the run's seed), inputs as drawn, then limited.
    fn regression(model: &Model, task: &snn_data::RegressionTask<'_>) -> Result<Self, SimError> {
        let d = model.data();
        let mut rng = Streams::from_seed(d.seed.unwrap_or(model.seed())).data;
        let set = task.generate(&mut rng)?;
        let limit = |x: Array2<f32>, n: Option<usize>| match n {
            Some(n) if n < x.nrows() => x.slice(s![..n, ..]).to_owned(),
            _ => x,
        };
        let (train_x, train_t) = (limit(set.train_x, d.train_limit), limit(set.train_t, d.train_limit));
        let (test_x, test_t) = (limit(set.test_x, d.test_limit), limit(set.test_t, d.test_limit));
        Ok(Self {
            train_y: vec![0; train_x.nrows()],
            test_y: vec![0; test_x.nrows()],
            train_x,
            test_x,
            train_t: Some(train_t),
            test_t: Some(test_t),
        })
    }

    fn teacher(model: &Model) -> Result<Self, SimError> {
        let d = model.data();
        let Dataset::Teacher(params) = &d.dataset else {
            unreachable!("only a teacher task has no data folder")
        };
        let mut rng = Streams::from_seed(d.seed.unwrap_or(model.seed())).data;
        let task = snn_data::teacher::generate(params, &mut rng)?;
        let limit = |x: Array2<f32>, y: Vec<u8>, n: Option<usize>| match n {
            Some(n) if n < y.len() => (x.slice(s![..n, ..]).to_owned(), y[..n].to_vec()),
            _ => (x, y),
        };
        let (train_x, train_y) = limit(task.train_x, task.train_y, d.train_limit);
        let (test_x, test_y) = limit(task.test_x, task.test_y, d.test_limit);
        let layers = model.layers();
        if layers[0] != params.inputs || *layers.last().unwrap() != snn_data::teacher::TEACHER_CLASSES {
            return Err(SimError::Mismatch(format!(
                "network.layers = {layers:?} but the teacher task has {} inputs and {} classes: expected \
                 [{}, ..., {}]",
                params.inputs,
                snn_data::teacher::TEACHER_CLASSES,
                params.inputs,
                snn_data::teacher::TEACHER_CLASSES
            )));
        }
        let st = Standardiser::fit(train_x.view(), d.input_mean, d.input_std);
        Ok(Self {
            train_x: st.apply(train_x.view()),
            train_y,
            test_x: st.apply(test_x.view()),
            test_y,
            train_t: None,
            test_t: None,
        })
    }

    /// Builds a prepared set from arrays (for tests and synthetic tasks).
    pub fn from_arrays(
        train_x: Array2<f32>,
        train_y: Vec<u8>,
        test_x: Array2<f32>,
        test_y: Vec<u8>,
    ) -> Result<Self, SimError> {
        if train_x.nrows() != train_y.len() || test_x.nrows() != test_y.len() || train_x.ncols() != test_x.ncols() {
            return Err(SimError::Data(DataError::Format {
                path: "<arrays>".into(),
                reason: "inputs and labels disagree in size".into(),
            }));
        }
        Ok(Self {
            train_x,
            train_y,
            test_x,
            test_y,
            train_t: None,
            test_t: None,
        })
    }

    /// The normalised squared error (SPEC §4) of outputs whose summed squared error is `squared_error`, over the
    /// test examples `indices`: `Σ (y* − y)² / Σ_t Σ_i (y*_ti − ȳ*_i)²`, ȳ* the mean target over `indices`. `None`
    /// for a classification task.
    pub fn nse(&self, squared_error: f64, indices: &[usize]) -> Option<f64> {
        let t = self.test_t.as_ref()?;
        let n = indices.len().max(1) as f64;
        let mut mean = vec![0.0f64; t.ncols()];
        for &i in indices {
            for (m, &v) in mean.iter_mut().zip(t.row(i)) {
                *m += f64::from(v) / n;
            }
        }
        let spread: f64 = indices
            .iter()
            .map(|&i| {
                t.row(i)
                    .iter()
                    .zip(&mean)
                    .map(|(&v, m)| (f64::from(v) - m).powi(2))
                    .sum::<f64>()
            })
            .sum();
        Some(squared_error / spread)
    }

    /// Test inputs `[start, end)`.
    pub fn test_slice(&self, start: usize, end: usize) -> ArrayView2<'_, f32> {
        self.test_x.slice(s![start..end, ..])
    }
}
