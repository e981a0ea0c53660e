//! Lillicrap et al. 2016 Fig 4 (SPEC §5.4): the PSP u of one unit of a stochastic binary network and that unit's
//! modulatory signal φ_δ(δ) (with the feedback potential δ) over a window of consecutive images of one stream,
//! image switches marked, once early in training and once late. The state runs on across the switches (there is no
//! reset), which is what the figure shows.
//!
//! Reads the recorded training images of the run (`record.train_examples`, consecutive images of stream 0 being
//! `K` presentations apart), the `u` and `a` traces of the unit's population and the `a` (= φ_δ(δ)) and `delta`
//! traces of its feedback units (`hidden3` ↔ `feedback3`).

use crate::error::PlotError;
use crate::run_folder::{RunFolder, recorded_examples};
use crate::{Figure, text_err};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One window: the images shown and the traces over their steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// `(example name, label)` of each image, in order.
    pub images: Vec<(String, u8)>,
    /// Steps per image.
    pub steps: usize,
    /// PSP u at each step.
    pub u: Vec<f64>,
    /// Spikes (0/1) at each step.
    pub spikes: Vec<f64>,
    /// The feedback unit's signal φ_δ(δ).
    pub signal: Vec<f64>,
    /// Its potential δ.
    pub delta: Vec<f64>,
}

/// The figure: one or two windows side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamTraces {
    /// Windows, early first.
    pub windows: Vec<Window>,
    /// Title.
    pub title: String,
}

fn bad(path: &Path, reason: impl Into<String>) -> PlotError {
    PlotError::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Whether the run's model has Bernoulli cells (its rasters then hold what this figure draws).
pub fn is_stream_run(file: &hdf5::File) -> bool {
    file.attr("model")
        .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
        .ok()
        .and_then(|m| snn_sim::ModelFile::from_ron(m.as_str(), Path::new("model")).ok())
        .is_some_and(|m| matches!(m.network.cells, snn_sim::model::CellKind::Bernoulli(_)))
}

impl StreamTraces {
    /// Reads the traces of `cell` of `population` (and of its feedback units) over the first `per_window`
    /// recorded training images and the last `per_window`.
    pub fn load(run: &RunFolder, population: &str, cell: usize, per_window: usize) -> Result<Self, PlotError> {
        let path = run.rasters();
        let file = hdf5::File::open(&path).map_err(|e| bad(&path, format!("HDF5: {e}")))?;
        let feedback = population.replace("hidden", "feedback").replace("output", "error");
        let train: Vec<String> = recorded_examples(&file)
            .into_iter()
            .filter(|e| e.starts_with("train/"))
            .collect();
        if train.is_empty() {
            return Err(bad(
                &path,
                "no recorded training image; record some with record.train_examples",
            ));
        }
        let per_window = per_window.max(1);
        let mut windows = vec![&train[..per_window.min(train.len())]];
        if train.len() >= 2 * per_window {
            windows.push(&train[train.len() - per_window..]);
        }
        let column = |example: &str, pop: &str, variable: &str| -> Result<Vec<f64>, PlotError> {
            let name = format!("{example}/traces/{pop}/{variable}");
            let ds = file.dataset(&name).map_err(|_| {
                bad(
                    &path,
                    format!("no `{variable}` trace of {pop} in {example}; record it with record.traces in the model"),
                )
            })?;
            let values = ds.read_2d::<f32>().map_err(|e| bad(&path, format!("HDF5: {e}")))?;
            let cells = ds
                .attr("cells")
                .and_then(|a| a.read_1d::<u64>())
                .map_err(|e| bad(&path, e.to_string()))?;
            let k = cells.iter().position(|&c| c == cell as u64).ok_or_else(|| {
                bad(
                    &path,
                    format!("cell {cell} of {pop} was not recorded; recorded cells: {cells}"),
                )
            })?;
            Ok(values.column(k).iter().map(|&x| f64::from(x)).collect())
        };
        let windows = windows
            .into_iter()
            .map(|examples| {
                let mut w = Window {
                    images: Vec::new(),
                    steps: 0,
                    u: Vec::new(),
                    spikes: Vec::new(),
                    signal: Vec::new(),
                    delta: Vec::new(),
                };
                for e in examples {
                    let label = file
                        .group(e)
                        .and_then(|g| g.attr("label"))
                        .and_then(|a| a.read_scalar::<u8>())
                        .map_err(|err| bad(&path, format!("{e}: {err}")))?;
                    let u = column(e, population, "u")?;
                    w.steps = u.len();
                    w.u.extend(u);
                    w.spikes.extend(column(e, population, "a")?);
                    w.signal.extend(column(e, &feedback, "a")?);
                    w.delta.extend(column(e, &feedback, "delta")?);
                    w.images.push((e.clone(), label));
                }
                Ok(w)
            })
            .collect::<Result<Vec<_>, PlotError>>()?;
        Ok(Self {
            windows,
            title: format!("{population} unit {cell}: PSP u and modulatory signal φ(δ) across image switches"),
        })
    }
}

fn span(series: &[&[f64]]) -> std::ops::Range<f64> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.iter())
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let pad = 0.1 * (hi - lo).max(1e-6);
    (lo - pad)..(hi + pad)
}

impl Figure for StreamTraces {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let (title, body) = root.split_vertically(40);
        title
            .draw(&Text::new(self.title.clone(), (150, 8), ("sans-serif", 20).into_font()))
            .map_err(text_err)?;
        let columns = body.split_evenly((1, self.windows.len()));
        for (w, area) in self.windows.iter().zip(&columns) {
            let rows = area.split_evenly((2, 1));
            let steps = w.u.len() as f64;
            let first = w.images.first().map_or("", |i| i.0.as_str());
            let last = w.images.last().map_or("", |i| i.0.as_str());
            let mut cu = ChartBuilder::on(&rows[0])
                .margin(10)
                .caption(format!("{first} … {last}"), ("sans-serif", 14))
                .x_label_area_size(24)
                .y_label_area_size(56)
                .build_cartesian_2d(0.0..steps, span(&[&w.u]))
                .map_err(text_err)?;
            cu.configure_mesh()
                .y_desc("PSP u")
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(text_err)?;
            let switches = |chart: &mut ChartContext<'_, DB, _>, y: std::ops::Range<f64>| -> Result<(), String> {
                for (k, (_, label)) in w.images.iter().enumerate() {
                    let x = (k * w.steps) as f64;
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(x, y.start), (x, y.end)],
                            4,
                            4,
                            BLACK.mix(0.5).stroke_width(1),
                        ))
                        .map_err(text_err)?;
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{label}"),
                            (x + 0.2, y.end - 0.08 * (y.end - y.start)),
                            ("sans-serif", 13),
                        )))
                        .map_err(text_err)?;
                }
                Ok(())
            };
            let yu = span(&[&w.u]);
            switches(&mut cu, yu.clone())?;
            cu.draw_series(LineSeries::new(
                w.u.iter().enumerate().map(|(t, &u)| (t as f64 + 0.5, u)),
                BLUE.stroke_width(2),
            ))
            .map_err(text_err)?;
            cu.draw_series(w.spikes.iter().enumerate().filter(|(_, s)| **s > 0.5).map(|(t, _)| {
                Circle::new(
                    (t as f64 + 0.5, yu.start + 0.05 * (yu.end - yu.start)),
                    3,
                    GREEN.filled(),
                )
            }))
            .map_err(text_err)?;
            let ys = span(&[&w.signal, &w.delta]);
            let mut cs = ChartBuilder::on(&rows[1])
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0.0..steps, ys.clone())
                .map_err(text_err)?;
            cs.configure_mesh()
                .y_desc("feedback")
                .x_desc("step")
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(text_err)?;
            switches(&mut cs, ys)?;
            cs.draw_series(LineSeries::new(
                w.signal.iter().enumerate().map(|(t, &s)| (t as f64 + 0.5, s)),
                RED.stroke_width(2),
            ))
            .map_err(text_err)?
            .label("φ(δ), the modulatory signal")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
            cs.draw_series(LineSeries::new(
                w.delta.iter().enumerate().map(|(t, &d)| (t as f64 + 0.5, d)),
                MAGENTA.mix(0.6).stroke_width(1),
            ))
            .map_err(text_err)?
            .label("δ")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA.stroke_width(1)));
            cs.configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", 11))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(text_err)?;
        }
        Ok(())
    }
}

/// Draws the figure for `cell` of `population` into `<stem>.png/.svg` (default stem:
/// `<run>/plots/psp-<population>-<cell>-stream`).
pub fn plot(
    run: &Path,
    population: &str,
    cell: usize,
    per_window: usize,
    stem: Option<&Path>,
) -> Result<Vec<PathBuf>, PlotError> {
    let folder = RunFolder::open(run)?;
    let fig = StreamTraces::load(&folder, population, cell, per_window)?;
    let stem = stem
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run.join("plots").join(format!("psp-{population}-{cell}-stream")));
    crate::write_png_and_svg(&stem, crate::SIZE, &fig)
}
