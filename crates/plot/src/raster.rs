//! The spike raster of one recorded example: populations stacked top to bottom in network order (graded input,
//! hidden layers, output, excitatory and inhibitory error pools), time in ms on the x axis.
//!
//! Each spike is one rectangle spanning its active steps. Large populations show at most `max_cells` cells, evenly
//! spaced, so that figures stay readable (and SVG files small); every spiking population gets a band of at least 8 % of
//! the height, the graded input at most 15 %. The graded input is drawn as grey shading of each shown cell's (constant) value.

use crate::error::PlotError;
use crate::run_folder::RunFolder;
use crate::{Figure, text_err};
use ndarray::{Array1, Array2};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One population's part of the raster.
#[derive(Clone, Debug, PartialEq)]
pub enum Band {
    /// A spiking population: `[steps, cells]`.
    Spikes(Array2<bool>),
    /// The graded input: one value per cell.
    Graded(Array1<f32>),
}

/// A recorded example, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct RasterFigure {
    /// `(population name, band)` top to bottom.
    pub bands: Vec<(String, Band)>,
    /// Step in ms.
    pub dt_ms: f64,
    /// Steps of the presentation.
    pub steps: usize,
    /// Title.
    pub title: String,
    /// Most cells shown per population.
    pub max_cells: usize,
    /// The recorded example shown (`test/00000`, …).
    pub example: String,
}

fn hdf5_err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError::BadFile {
        path: path.to_path_buf(),
        reason: format!("HDF5: {e}"),
    }
}

impl RasterFigure {
    /// Reads example `example` (default: the first recorded test image, else the first training presentation) from
    /// the run's `rasters.h5`.
    pub fn load(run: &RunFolder, example: Option<&str>, max_cells: usize) -> Result<Self, PlotError> {
        let path = run.rasters();
        if !path.exists() {
            return Err(PlotError::NotARun {
                path: run.path.clone(),
                reason: "rasters.h5 is missing".into(),
            });
        }
        let file = hdf5::File::open(&path).map_err(|e| hdf5_err(&path, e))?;
        let (chosen, group) = crate::run_folder::open_example(&file, &path, example)?;
        let dt_ms = file
            .attr("dt_ms")
            .and_then(|a| a.read_scalar::<f64>())
            .map_err(|e| hdf5_err(&path, e))?;
        let steps = file
            .attr("steps")
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| hdf5_err(&path, e))? as usize;
        let names: Vec<String> = file
            .attr("populations")
            .and_then(|a| a.read_raw::<hdf5::types::VarLenUnicode>())
            .map_err(|e| hdf5_err(&path, e))?
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut bands = Vec::new();
        for name in names {
            let Ok(ds) = group.dataset(&name) else { continue };
            // A graded input is stored once (one value per cell); a spiking one (Bernoulli inputs) as a raster.
            let band = if ds.ndim() == 1 {
                Band::Graded(ds.read_1d::<f32>().map_err(|e| hdf5_err(&path, e))?)
            } else {
                Band::Spikes(ds.read_2d::<bool>().map_err(|e| hdf5_err(&path, e))?)
            };
            bands.push((name, band));
        }
        // Test images of a stochastic binary network may last another number of steps than training images.
        let steps = bands
            .iter()
            .find_map(|(_, b)| match b {
                Band::Spikes(r) => Some(r.nrows()),
                Band::Graded(_) => None,
            })
            .unwrap_or(steps);
        let attr_i64 = |n: &str| group.attr(n).and_then(|a| a.read_scalar::<i64>()).ok();
        let label = group.attr("label").and_then(|a| a.read_scalar::<u8>()).ok();
        let (phase, id) = chosen.split_once('/').unwrap_or(("", &chosen));
        let what = if phase == "test" {
            format!("test image {}", id.trim_start_matches('0').parse::<u64>().unwrap_or(0))
        } else {
            format!(
                "training presentation {}",
                id.trim_start_matches('0').parse::<u64>().unwrap_or(0)
            )
        };
        let answer = match attr_i64("predicted") {
            Some(p) if p >= 0 => p.to_string(),
            Some(_) => "tie".into(),
            None => "?".into(),
        };
        let title = match label {
            Some(l) => format!("Spike raster, {what} (label {l}, answer {answer})"),
            None => format!("Spike raster, {what}"),
        };
        Ok(Self {
            bands,
            dt_ms,
            steps,
            title,
            max_cells: max_cells.max(1),
            example: chosen,
        })
    }

    fn cells(band: &Band) -> usize {
        match band {
            Band::Spikes(r) => r.ncols(),
            Band::Graded(v) => v.len(),
        }
    }

    /// Cell indices shown for a population of `n` cells: all of them, or `max_cells` evenly spaced.
    fn shown(&self, n: usize) -> Vec<usize> {
        if n <= self.max_cells {
            (0..n).collect()
        } else {
            (0..self.max_cells).map(|k| k * n / self.max_cells).collect()
        }
    }
}

fn color_of(name: &str, index: usize) -> RGBColor {
    match name {
        "input" => RGBColor(90, 90, 90),
        "output" => RGBColor(20, 20, 20),
        "error_exc" => RGBColor(214, 39, 40),
        "error_inh" => RGBColor(31, 119, 180),
        _ => [
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
            RGBColor(255, 127, 14),
            RGBColor(140, 86, 75),
        ][index % 4],
    }
}

impl Figure for RasterFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        // Band heights: the number of shown cells, at least 8 % of the total; the graded input, which is context, at
        // most 15 %.
        let shown: Vec<Vec<usize>> = self.bands.iter().map(|(_, b)| self.shown(Self::cells(b))).collect();
        let raw: Vec<f64> = shown.iter().map(|s| s.len() as f64).collect();
        let total_raw: f64 = raw.iter().sum();
        let heights: Vec<f64> = raw
            .iter()
            .zip(&self.bands)
            .map(|(&h, (_, band))| match band {
                Band::Graded(_) => h.min(0.15 * total_raw),
                Band::Spikes(_) => h.max(0.08 * total_raw),
            })
            .collect();
        let total: f64 = heights.iter().sum::<f64>().max(1.0);
        let t_end = self.steps as f64 * self.dt_ms;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(136)
            .build_cartesian_2d(0.0..t_end, 0.0..total)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (ms)")
            .y_labels(0)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(text_err)?;
        let style = ("sans-serif", 15).into_font();
        let small = ("sans-serif", 12).into_font();
        let mut top = total;
        let mut hidden = 0;
        for (((name, band), h), cells) in self.bands.iter().zip(&heights).zip(&shown) {
            let color = color_of(name, hidden);
            if name.starts_with("hidden") {
                hidden += 1;
            }
            let row_h = h / cells.len().max(1) as f64;
            let y_of = |k: usize| top - (k as f64 + 1.0) * row_h;
            match band {
                Band::Graded(values) => {
                    let (lo, hi) = values
                        .iter()
                        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                    let span = (hi - lo).max(1e-6);
                    chart
                        .draw_series(cells.iter().enumerate().map(|(k, &c)| {
                            let shade = 1.0 - f64::from((values[c] - lo) / span);
                            let g = (60.0 + 190.0 * shade) as u8;
                            Rectangle::new([(0.0, y_of(k)), (t_end, y_of(k) + row_h)], RGBColor(g, g, g).filled())
                        }))
                        .map_err(text_err)?;
                }
                Band::Spikes(r) => {
                    let mut rects = Vec::new();
                    for (k, &c) in cells.iter().enumerate() {
                        let mut s = 0;
                        while s < r.nrows() {
                            if r[[s, c]] {
                                let start = s;
                                while s < r.nrows() && r[[s, c]] {
                                    s += 1;
                                }
                                let (x0, x1) = (start as f64 * self.dt_ms, s as f64 * self.dt_ms);
                                rects.push(Rectangle::new([(x0, y_of(k)), (x1, y_of(k) + row_h)], color.filled()));
                            } else {
                                s += 1;
                            }
                        }
                    }
                    chart.draw_series(rects).map_err(text_err)?;
                }
            }
            // Band separator and name.
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, top - h), (t_end, top - h)],
                    BLACK.mix(0.3),
                )))
                .map_err(text_err)?;
            let n = Self::cells(band);
            let count = if cells.len() < n {
                format!("{} of {n} cells", cells.len())
            } else {
                format!("{n} cells")
            };
            let (px, py) = chart.backend_coord(&(0.0, top - h / 2.0));
            root.draw(&Text::new(
                name.clone(),
                (px - 130, py - 16),
                style.clone().color(&color),
            ))
            .map_err(text_err)?;
            root.draw(&Text::new(count, (px - 130, py + 2), small.clone().color(&color)))
                .map_err(text_err)?;
            top -= h;
        }
        Ok(())
    }
}

/// Draws the raster of `example` (default: first recorded test image) of the run in `run` into `<stem>.png/.svg`
/// (default stem: `<run>/plots/raster-<phase>-<id>`).
pub fn plot(
    run: &Path,
    example: Option<&str>,
    max_cells: usize,
    stem: Option<&Path>,
) -> Result<Vec<PathBuf>, PlotError> {
    let folder = RunFolder::open(run)?;
    let fig = RasterFigure::load(&folder, example, max_cells)?;
    let stem = match stem {
        Some(s) => s.to_path_buf(),
        None => run
            .join("plots")
            .join(format!("raster-{}", fig.example.replace('/', "-"))),
    };
    crate::write_png_and_svg(&stem, crate::SIZE, &fig)
}
