//! State traces of one cell over a presentation (Samadi Fig 1, Lillicrap Fig 4): the drive v, the hillock potential h
//! with the threshold h_th and the spikes, and the teaching signal ι, stacked with a shared time axis in ms.
//! Needs traces recorded with `record.traces` (at least `v` and `h`; `a` and `iota` when available).

use crate::error::PlotError;
use crate::run_folder::RunFolder;
use crate::{Figure, text_err};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One cell's traces.
#[derive(Clone, Debug, PartialEq)]
pub struct PspFigure {
    /// Time of each sample, ms.
    pub t: Vec<f64>,
    /// Drive v.
    pub v: Vec<f64>,
    /// Hillock potential h.
    pub h: Vec<f64>,
    /// Activity a, if recorded.
    pub a: Option<Vec<f64>>,
    /// Teaching signal ι, if recorded.
    pub iota: Option<Vec<f64>>,
    /// Threshold h_th.
    pub h_th: f64,
    /// Title.
    pub title: String,
}

/// A trace dataset as stored: values `[samples, cells]`, the cell indices, and the sampling interval in steps.
type StoredTrace = (Array2<f32>, Vec<u64>, u64);

fn bad(path: &Path, reason: impl Into<String>) -> PlotError {
    PlotError::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl PspFigure {
    /// Reads the traces of `cell` of `population` in `example` (default: first recorded test image).
    pub fn load(run: &RunFolder, example: Option<&str>, population: &str, cell: usize) -> Result<Self, PlotError> {
        let path = run.rasters();
        if !path.exists() {
            return Err(PlotError::NotARun {
                path: run.path.clone(),
                reason: "rasters.h5 is missing".into(),
            });
        }
        let file = hdf5::File::open(&path).map_err(|e| bad(&path, format!("HDF5: {e}")))?;
        let (chosen, group) = crate::run_folder::open_example(&file, &path, example)?;
        let traces = group.group(&format!("traces/{population}")).map_err(|_| {
            bad(
                &path,
                format!("{chosen} has no traces of {population}; record them with record.traces in the model"),
            )
        })?;
        let read = |name: &str| -> Result<Option<StoredTrace>, PlotError> {
            let Ok(ds) = traces.dataset(name) else { return Ok(None) };
            let values = ds.read_2d::<f32>().map_err(|e| bad(&path, format!("HDF5: {e}")))?;
            let cells = ds
                .attr("cells")
                .and_then(|a| a.read_1d::<u64>())
                .map_err(|e| bad(&path, e.to_string()))?;
            let every = ds.attr("every_steps").and_then(|a| a.read_scalar::<u64>()).unwrap_or(1);
            Ok(Some((values, cells.to_vec(), every)))
        };
        let column = |name: &str| -> Result<Option<(Vec<f64>, u64)>, PlotError> {
            Ok(match read(name)? {
                None => None,
                Some((values, cells, every)) => {
                    let k = cells.iter().position(|&c| c == cell as u64).ok_or_else(|| {
                        bad(
                            &path,
                            format!("cell {cell} of {population} was not recorded; recorded cells: {cells:?}"),
                        )
                    })?;
                    Some((values.column(k).iter().map(|&x| f64::from(x)).collect(), every))
                }
            })
        };
        let (v, every) = column("v")?.ok_or_else(|| bad(&path, format!("no `v` trace of {population} in {chosen}")))?;
        let (h, _) = column("h")?.ok_or_else(|| bad(&path, format!("no `h` trace of {population} in {chosen}")))?;
        let a = column("a")?.map(|(x, _)| x);
        let iota = column("iota")?.map(|(x, _)| x);
        let dt = file
            .attr("dt_ms")
            .and_then(|a| a.read_scalar::<f64>())
            .map_err(|e| bad(&path, e.to_string()))?;
        let model: String = file
            .attr("model")
            .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
            .map(|s| s.to_string())
            .map_err(|e| bad(&path, e.to_string()))?;
        let h_th = snn_sim::ModelFile::from_ron(&model, &path)
            .map(|m| f64::from(m.network.lif.h_th))
            .map_err(|e| bad(&path, format!("model attribute: {e}")))?;
        let t = (0..v.len()).map(|k| (k as u64 * every) as f64 * dt).collect();
        Ok(Self {
            t,
            v,
            h,
            a,
            iota,
            h_th,
            title: format!("{population} cell {cell}, {chosen}"),
        })
    }
}

fn range(xs: &[f64], pad: f64) -> std::ops::Range<f64> {
    let (lo, hi) = xs.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let span = (hi - lo).max(1e-9);
    (lo - pad * span)..(hi + pad * span)
}

/// A tick label of the teaching signal's axis, in scientific notation: a tick that is zero but for rounding (plotters
/// places ticks by adding steps, so 0 comes out as `-3.4e-21`) is written 0.
fn sci_tick(y: f64, axis: &std::ops::Range<f64>) -> String {
    let y = if y.abs() < 1e-9 * (axis.end - axis.start) {
        0.0
    } else {
        y
    };
    format!("{y:.1e}")
}

impl Figure for PspFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let (title, body) = root.split_vertically(40);
        title
            .draw(&Text::new(self.title.clone(), (300, 8), ("sans-serif", 22).into_font()))
            .map_err(text_err)?;
        let n_panels = if self.iota.is_some() { 3 } else { 2 };
        let panels = body.split_evenly((n_panels, 1));
        let t_end = self.t.last().copied().unwrap_or(0.0) + self.t.get(1).copied().unwrap_or(0.25);
        let mesh = |chart: &mut ChartContext<
            '_,
            DB,
            Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
        >,
                    y: &str,
                    x: bool|
         -> Result<(), String> {
            let mut m = chart.configure_mesh();
            m.y_desc(y)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15));
            if x {
                m.x_desc("time (ms)");
            }
            m.draw().map_err(text_err)
        };
        // Drive v.
        let mut cv = ChartBuilder::on(&panels[0])
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..t_end, range(&self.v, 0.1))
            .map_err(text_err)?;
        mesh(&mut cv, "drive v (dV)", false)?;
        cv.draw_series(LineSeries::new(
            self.t.iter().copied().zip(self.v.iter().copied()),
            BLUE.stroke_width(2),
        ))
        .map_err(text_err)?;
        // Hillock potential, threshold, spikes.
        let peak = self.h.iter().fold(self.h_th, |m, &x| m.max(x));
        let top = peak * 1.8;
        let mut ch = ChartBuilder::on(&panels[1])
            .margin(10)
            .x_label_area_size(if n_panels == 2 { 44 } else { 28 })
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..t_end, 0.0..top)
            .map_err(text_err)?;
        mesh(&mut ch, "hillock h (dV)", n_panels == 2)?;
        ch.draw_series(LineSeries::new(
            self.t.iter().copied().zip(self.h.iter().copied()),
            BLACK.stroke_width(2),
        ))
        .map_err(text_err)?
        .label("h")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        ch.draw_series(DashedLineSeries::new(
            vec![(0.0, self.h_th), (t_end, self.h_th)],
            6,
            4,
            RED.stroke_width(2),
        ))
        .map_err(text_err)?
        .label(format!("threshold h_th = {}", self.h_th as f32))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
        if let Some(a) = &self.a {
            let y = peak * 1.12;
            ch.draw_series(
                self.t
                    .iter()
                    .zip(a)
                    .filter(|(_, a)| **a > 0.5)
                    .map(|(&t, _)| Circle::new((t, y), 2, GREEN.filled())),
            )
            .map_err(text_err)?
            .label("spiking (a = 1)")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, GREEN.filled()));
        }
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(text_err)?;
        // Teaching signal.
        if let Some(iota) = &self.iota {
            let axis = range(iota, 0.1);
            let mut ci = ChartBuilder::on(&panels[2])
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(84)
                .build_cartesian_2d(0.0..t_end, axis.clone())
                .map_err(text_err)?;
            ci.configure_mesh()
                .y_desc("teaching ι")
                .x_desc("time (ms)")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| sci_tick(*y, &axis))
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15))
                .draw()
                .map_err(text_err)?;
            ci.draw_series(LineSeries::new(
                self.t.iter().copied().zip(iota.iter().copied()),
                MAGENTA.stroke_width(1),
            ))
            .map_err(text_err)?;
        }
        Ok(())
    }
}

/// Draws the traces of `cell` of `population` in `example` of the run into `<stem>.png/.svg` (default stem:
/// `<run>/plots/psp-<population>-<cell>-<phase>-<id>`). A run of a stochastic binary network gets Lillicrap's
/// Fig 4 instead ([`crate::stream_traces`]): `window` consecutive training images early and late, `example` unused.
pub fn plot(
    run: &Path,
    example: Option<&str>,
    population: &str,
    cell: usize,
    window: usize,
    stem: Option<&Path>,
) -> Result<Vec<PathBuf>, PlotError> {
    let folder = RunFolder::open(run)?;
    let streams = hdf5::File::open(folder.rasters()).is_ok_and(|f| crate::stream_traces::is_stream_run(&f));
    if streams {
        return crate::stream_traces::plot(run, population, cell, window, stem);
    }
    let fig = PspFigure::load(&folder, example, population, cell)?;
    let stem = match stem {
        Some(s) => s.to_path_buf(),
        None => {
            let ex = fig.title.rsplit(", ").next().unwrap_or("example").replace('/', "-");
            run.join("plots").join(format!("psp-{population}-{cell}-{ex}"))
        }
    };
    crate::write_png_and_svg(&stem, crate::SIZE, &fig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_that_is_zero_but_for_rounding_is_written_zero() {
        let axis = -3.0e-5..2.0e-5;
        assert_eq!(sci_tick(-3.4e-21, &axis), "0.0e0");
        assert_eq!(sci_tick(-2.5e-5, &axis), "-2.5e-5");
        assert_eq!(sci_tick(1.0e-6, &axis), "1.0e-6");
    }
}
