//! Learning curves of one or many runs (Samadi Figs 3–5).
//!
//! Runs of the same model and overrides (seeds aside) form one group, drawn as its mean test accuracy (or error) with a
//! band of ±2 standard errors of the mean across the runs (the paper's band thickness); with `each`, every run is its
//! own line. The trials of a run with `trials: N` count as N runs of its group (Samadi Figs 3–4: 500 trials per
//! depth). Points are aligned on the number of training examples; a group keeps the points all its runs have.

use crate::error::PlotError;
use crate::legend;
use crate::run_folder::RunFolder;
use crate::{Figure, text_err};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One curve: mean and band over the runs of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveGroup {
    /// Legend text.
    pub label: String,
    /// Training examples of each point.
    pub examples: Vec<f64>,
    /// Mean test accuracy (%) across the runs.
    pub mean: Vec<f64>,
    /// Standard error of the mean (%) across the runs (0 for a single run).
    pub sem: Vec<f64>,
    /// Number of runs (trials).
    pub runs: usize,
    /// Whether to draw the band mean ± 2 `sem` (across runs, or the spread within one run's windows).
    pub band: bool,
}

/// What the y axis shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Test accuracy, %.
    Accuracy,
    /// Test error, % (100 − accuracy), as in Samadi Figs 3–4.
    Error,
    /// Angle between a layer's teaching signal and backprop's, degrees (`alignment.csv`, SPEC §4).
    Alignment,
    /// The normalised squared error of a regression task (SPEC §4) on a log₁₀ axis: the curve of a group is the
    /// mean of its runs' log₁₀ NSE (the geometric mean), with ±2 SEM of log₁₀ NSE (Lillicrap et al. 2016, Figs
    /// 2a, 3d, 5).
    Nse,
}

/// How a learning-curve figure is drawn, beyond what it shows. The default draws every point on linear axes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CurveStyle {
    /// Trailing moving average over this many training examples, applied to each run's curve before the mean and
    /// band across runs: a point at x examples becomes the mean of the run's points in (x − window, x]. A curve
    /// whose points are each tested on 100 images is otherwise a noise of ±3 points.
    pub smooth: Option<f64>,
    /// Logarithmic x axis (training examples); points at 0 examples are left out.
    pub log_x: bool,
    /// The y axis from the first value to the second (default: 0 to 102 %, or to the largest angle).
    pub y_range: Option<(f64, f64)>,
}

impl CurveStyle {
    /// Checks the style: a positive, finite window; a y range of finite values, low below high.
    pub fn check(&self) -> Result<(), String> {
        if let Some(w) = self.smooth
            && !(w.is_finite() && w > 0.0)
        {
            return Err(format!(
                "the smoothing window is {w} examples: expected a positive number of examples"
            ));
        }
        if let Some((lo, hi)) = self.y_range
            && !(lo.is_finite() && hi.is_finite() && lo < hi)
        {
            return Err(format!(
                "the y range is {lo}:{hi}: expected LOW:HIGH, two finite numbers with LOW below HIGH"
            ));
        }
        Ok(())
    }
}

/// The trailing moving average of `ys` sampled at increasing `xs`: point i is the mean of the finite `ys` whose x
/// lies in `(xs[i] − window, xs[i]]`, NaN where there is none (a point without a measurement, such as a curve
/// point's NaN, leaves the window's other points their mean instead of spoiling every later one).
pub fn moving_average(xs: &[f64], ys: &[f64], window: f64) -> Vec<f64> {
    let (mut start, mut sum, mut count) = (0, 0.0, 0usize);
    let mut out = Vec::with_capacity(ys.len());
    for i in 0..ys.len() {
        if ys[i].is_finite() {
            sum += ys[i];
            count += 1;
        }
        while xs[start] <= xs[i] - window {
            if ys[start].is_finite() {
                sum -= ys[start];
                count -= 1;
            }
            start += 1;
        }
        out.push(if count == 0 { f64::NAN } else { sum / count as f64 });
    }
    out
}

/// How runs are gathered into the lines of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Grouping {
    /// Runs of the same model name and overrides, seeds aside, form one line (the default).
    #[default]
    Model,
    /// Runs whose folder names are the same but for a trailing `-seed<N>` form one line, labelled with that name:
    /// the rows of a table whose runs were made under different model names for the same network
    /// (`scripts/table2.sh` names its folders `<row>-seed<N>`).
    Folder,
    /// Every run is a line of its own.
    Each,
}

/// Groups runs by `grouping` and averages each group, each run's curve smoothed
/// first over `smooth` examples if given ([`CurveStyle::smooth`]).
pub fn groups(
    runs: &[RunFolder],
    grouping: Grouping,
    measure: Measure,
    smooth: Option<f64>,
) -> Result<Vec<CurveGroup>, PlotError> {
    group_runs(runs, grouping)
        .into_iter()
        .map(|(label, members)| {
            let per_run: Vec<Vec<_>> = members.iter().map(|r| r.trial_curves()).collect::<Result<_, _>>()?;
            let curves: Vec<_> = per_run.into_iter().flatten().collect();
            let examples: Vec<u64> = curves[0]
                .iter()
                .map(|p| p.examples)
                .filter(|x| curves.iter().all(|c| c.iter().any(|p| p.examples == *x)))
                .collect();
            if examples.is_empty() {
                return Err(PlotError::BadFile {
                    path: members[0].path.join("curve.csv"),
                    reason: "no learning-curve points (protocol.curve_every = 0?)".into(),
                });
            }
            if matches!(measure, Measure::Accuracy | Measure::Error)
                && curves.iter().flatten().all(|p| p.test_accuracy.is_nan())
            {
                return Err(PlotError::BadFile {
                    path: members[0].path.join("curve.csv"),
                    reason: "no test accuracy at any point: a regression task? (plot its NSE with --nse)".into(),
                });
            }
            if measure == Measure::Nse && curves.iter().flatten().all(|p| p.test_nse.is_nan()) {
                return Err(PlotError::BadFile {
                    path: members[0].path.join("curve.csv"),
                    reason: "no normalised squared error: not a regression task (plot its accuracy or error)".into(),
                });
            }
            let xs: Vec<f64> = examples.iter().map(|&x| x as f64).collect();
            // Each run's values at the common points, smoothed along its own curve.
            let values: Vec<Vec<f64>> = curves
                .iter()
                .map(|c| {
                    let ys: Vec<f64> = examples
                        .iter()
                        .map(|x| {
                            let point = c.iter().find(|p| p.examples == *x).expect("aligned");
                            let acc = 100.0 * point.test_accuracy;
                            match measure {
                                Measure::Accuracy => acc,
                                Measure::Error => 100.0 - acc,
                                Measure::Nse => point.test_nse.log10(),
                                Measure::Alignment => unreachable!("alignment groups are made in crate::alignment"),
                            }
                        })
                        .collect();
                    match smooth {
                        Some(window) => moving_average(&xs, &ys, window),
                        None => ys,
                    }
                })
                .collect();
            let (mean, sem) = (0..xs.len())
                .map(|i| mean_sem(&values.iter().map(|v| v[i]).collect::<Vec<_>>()))
                .unzip();
            let (count, unit) = if curves.len() > members.len() {
                (curves.len(), "trial")
            } else {
                (members.len(), "run")
            };
            // A line of its own (`--each`) needs no count, unless it averages a run's trials.
            let label = if grouping == Grouping::Each && count == 1 {
                label
            } else {
                format!("{label} ({count} {unit}{})", if count == 1 { "" } else { "s" })
            };
            Ok(CurveGroup {
                label,
                examples: xs,
                mean,
                sem,
                runs: curves.len(),
                band: curves.len() > 1,
            })
        })
        .collect()
}

/// Runs grouped by `grouping`, in order of first appearance, with the group's label. By model: the model name and
/// the overrides that not every run shares (a sweep's common settings, such as `protocol.epochs=1`, would hide the
/// one that differs in a legend of any width); by folder: the folder name without its `-seed<N>`.
pub fn group_runs(runs: &[RunFolder], grouping: Grouping) -> Vec<(String, Vec<&RunFolder>)> {
    let own = |run: &RunFolder| -> Vec<String> {
        let o = &run.summary.overrides;
        o.iter().filter(|o| !o.starts_with("seed=")).cloned().collect()
    };
    let shared: Vec<String> = match runs.split_first() {
        Some((first, rest)) if !rest.is_empty() => own(first)
            .into_iter()
            .filter(|o| rest.iter().all(|r| r.summary.overrides.contains(o)))
            .collect(),
        _ => Vec::new(),
    };
    let mut keys: Vec<(String, Vec<&RunFolder>)> = Vec::new();
    for run in runs {
        let rest: Vec<String> = own(run).into_iter().filter(|o| !shared.contains(o)).collect();
        let mut key = run.summary.model.clone();
        if !rest.is_empty() {
            key = format!("{key} {}", rest.join(" "));
        }
        match grouping {
            Grouping::Model => {}
            Grouping::Folder => key = folder_stem(&run.path),
            Grouping::Each => key = format!("{key} (seed {})", run.summary.seed),
        }
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(run),
            None => keys.push((key, vec![run])),
        }
    }
    keys
}

/// A run folder's name without a trailing `-seed<N>`.
fn folder_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.rsplit_once("-seed") {
        Some((stem, seed)) if !seed.is_empty() && seed.bytes().all(|b| b.is_ascii_digit()) => stem.to_string(),
        _ => name,
    }
}

/// Mean and standard error of the mean of `ys`.
pub fn mean_sem(ys: &[f64]) -> (f64, f64) {
    let n = ys.len() as f64;
    let m = ys.iter().sum::<f64>() / n;
    let var = if ys.len() > 1 {
        ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (m, (var / n).sqrt())
}

/// The learning-curve figure.
pub struct CurveFigure {
    /// The curves.
    pub groups: Vec<CurveGroup>,
    /// Title.
    pub title: String,
    /// What the y axis shows.
    pub measure: Measure,
    /// Axes and smoothing.
    pub style: CurveStyle,
}

impl CurveFigure {
    /// The default y axis: 0 to 102 % for accuracy and error, 0 to the largest angle (at least 90°) plus a margin
    /// for angles, whole decades around the curves for the NSE.
    fn y_axis(&self) -> (f64, f64) {
        let values = || {
            self.groups
                .iter()
                .flat_map(|g| g.mean.iter().copied())
                .filter(|y| y.is_finite())
        };
        match self.measure {
            Measure::Nse => {
                let lo = values().fold(f64::INFINITY, f64::min);
                let hi = values().fold(f64::NEG_INFINITY, f64::max);
                match lo.is_finite() {
                    true => (lo.floor() - 0.5, hi.ceil().max(lo.floor() + 1.0) + 0.5),
                    false => (-1.0, 1.0),
                }
            }
            _ => (0.0, self.y_max()),
        }
    }

    /// Top of the y axis: 102 % for accuracy and error, the largest angle (at least 90°) plus a margin for angles.
    fn y_max(&self) -> f64 {
        match self.measure {
            Measure::Accuracy | Measure::Error | Measure::Nse => 102.0,
            Measure::Alignment => {
                let top = self
                    .groups
                    .iter()
                    .flat_map(|g| g.mean.iter().zip(&g.sem).map(|(m, s)| m + 2.0 * s))
                    .fold(90.0, f64::max);
                (top / 10.0).ceil() * 10.0 + 10.0
            }
        }
    }
}

impl Figure for CurveFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let xs = || self.groups.iter().flat_map(|g| g.examples.iter().copied());
        let x_max = xs().fold(1.0, f64::max);
        let (y_min, y_max) = self.style.y_range.unwrap_or_else(|| self.y_axis());
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", caption_size(root, &self.title)))
            .margin(16)
            // Room for half of the last x label ("1800000"), centred on the axis's right end.
            .margin_right(40)
            .x_label_area_size(48)
            .y_label_area_size(64);
        if self.style.log_x {
            let x_min = xs().filter(|&x| x > 0.0).fold(x_max, f64::min);
            // A decade at least, so that a curve of one point still has an axis.
            let x_max = x_max.max(10.0 * x_min);
            let chart = builder
                .build_cartesian_2d((x_min..x_max).log_scale(), y_min..y_max)
                .map_err(text_err)?;
            self.draw_curves(chart)
        } else {
            let chart = builder.build_cartesian_2d(0.0..x_max, y_min..y_max).map_err(text_err)?;
            self.draw_curves(chart)
        }
    }
}

/// The caption's font size: 24 px, or less for a title too long to fit the figure's width (a smoothed figure's
/// title names its window and grows long).
fn caption_size<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> f64 {
    // plotters centres the caption on the whole figure, before the chart's margins; 16 px stay clear at each side.
    let room = f64::from(root.dim_in_pixel().0) - 2.0 * 16.0;
    let mut size = 24.0;
    while size > 12.0 {
        match root.estimate_text_size(title, &("sans-serif", size).into_text_style(root)) {
            Ok((width, _)) if f64::from(width) > room => size -= 1.0,
            _ => break,
        }
    }
    size
}

impl CurveFigure {
    /// Mesh, bands, lines and legend on a chart whose x axis is linear or logarithmic. Points outside the x axis (0
    /// examples on a log axis) are left out; the plotting area clips to the y range.
    fn draw_curves<'a, DB, X>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    ) -> Result<(), String>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let shown = |x: f64| !self.style.log_x || x > 0.0;
        chart
            .configure_mesh()
            .x_desc("training examples")
            .y_desc(match self.measure {
                Measure::Accuracy => "test accuracy (%)",
                Measure::Error => "test error (%)",
                Measure::Alignment => "angle (degrees)",
                Measure::Nse => "test NSE (log10)",
            })
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| match self.measure {
                // Ticks fall between decades too: each is labelled with the value it stands for.
                Measure::Nse => format!("{:.0e}", 10f64.powf(*y)),
                _ => format!("{y:.0}"),
            })
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(text_err)?;
        // What is drawn, in pixels of the plotting area, for the legend to avoid.
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let mut drawn: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut trace = |chart: &ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>, line: &[(f64, f64)]| {
            drawn.push(
                line.iter()
                    .map(|p| {
                        let (x, y) = chart.backend_coord(p);
                        (f64::from(x - xs.start), f64::from(y - ys.start))
                    })
                    .collect(),
            );
        };
        for (i, g) in self.groups.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            if g.band {
                let upper = g
                    .examples
                    .iter()
                    .zip(g.mean.iter().zip(&g.sem))
                    .filter(|(x, (m, s))| shown(**x) && m.is_finite() && s.is_finite())
                    .map(|(&x, (&m, &s))| (x, m + 2.0 * s));
                let lower = g
                    .examples
                    .iter()
                    .zip(g.mean.iter().zip(&g.sem))
                    .filter(|(x, (m, s))| shown(**x) && m.is_finite() && s.is_finite())
                    .map(|(&x, (&m, &s))| (x, m - 2.0 * s));
                let band: Vec<(f64, f64)> = upper.chain(lower.rev()).collect();
                trace(&chart, &band);
                chart
                    .draw_series(std::iter::once(Polygon::new(band, color.mix(0.25))))
                    .map_err(text_err)?;
            }
            let points: Vec<(f64, f64)> = g
                .examples
                .iter()
                .copied()
                .zip(g.mean.iter().copied())
                .filter(|&(x, y)| shown(x) && y.is_finite())
                .collect();
            trace(&chart, &points);
            // Thick lines get miter spikes at the sharp turns of a dense, noisy curve: 1 px beyond 200 points.
            let width = if points.len() > 200 { 1 } else { 2 };
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(width)))
                .map_err(text_err)?
                .label(g.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2)));
        }
        // The legend where it hides the least of the curves; accuracy rises, so lower right unless that hides more.
        let preferred = match self.measure {
            Measure::Accuracy => SeriesLabelPosition::LowerRight,
            Measure::Error | Measure::Alignment | Measure::Nse => SeriesLabelPosition::UpperRight,
        };
        let font: TextStyle = ("sans-serif", 15).into();
        let labels: Vec<String> = self.groups.iter().map(|g| g.label.clone()).collect();
        let area = (xs.end - xs.start, ys.end - ys.start);
        let place = legend::best_place(legend::legend_size(&labels, &font), area, &drawn, preferred);
        chart
            .configure_series_labels()
            .position(place)
            .label_font(font)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(text_err)?;
        Ok(())
    }
}

/// Draws the learning curves of `runs` into `<stem>.png` and `<stem>.svg` in `style`, titled `title` (a default if
/// `None`; a smoothed figure's title names its window).
pub fn plot(
    runs: &[PathBuf],
    grouping: Grouping,
    measure: Measure,
    style: CurveStyle,
    title: Option<&str>,
    stem: &Path,
) -> Result<Vec<PathBuf>, PlotError> {
    style.check().map_err(PlotError::Option)?;
    let folders = RunFolder::open_all(runs)?;
    let groups = groups(&folders, grouping, measure, style.smooth)?;
    if style.log_x
        && !groups
            .iter()
            .any(|g| g.examples.iter().zip(&g.mean).any(|(&x, y)| x > 0.0 && y.is_finite()))
    {
        return Err(PlotError::Option(
            "--log-x leaves no point to draw: a log axis has no place for the points at 0 examples, and the curves \
             have no other"
                .into(),
        ));
    }
    let title = match title {
        Some(t) => t.to_string(),
        None if measure == Measure::Nse && groups.iter().any(|g| g.runs > 1) => {
            "Normalised squared error (geometric mean ± 2 SEM of log10 across runs)".to_string()
        }
        None if groups.iter().any(|g| g.runs > 1) => "Learning curves (mean ± 2 SEM across runs)".to_string(),
        None => "Learning curve".to_string(),
    };
    let title = match style.smooth {
        Some(w) => format!("{title}, moving average over {w} examples"),
        None => title,
    };
    crate::write_png_and_svg(
        stem,
        crate::SIZE,
        &CurveFigure {
            groups,
            title,
            measure,
            style,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use snn_sim::metrics::Summary;

    fn run(model: &str, seed: u64, overrides: &[&str]) -> RunFolder {
        RunFolder {
            path: PathBuf::from(format!("{model}-{seed}")),
            summary: Summary {
                status: "finished".into(),
                error: None,
                model: model.into(),
                model_path: format!("models/{model}.ron"),
                model_hash: String::new(),
                overrides: overrides.iter().map(|o| o.to_string()).collect(),
                seed,
                version: "0".into(),
                commit: None,
                resumes: Vec::new(),
                train_examples_seen: 0,
                test_accuracy: None,
                test_examples: 0,
                wall_s: 0.0,
                train_s: 0.0,
                test_s: 0.0,
                threads: 1,
                trials: 1,
                test_accuracy_sem: None,
                test_nse: None,
            },
        }
    }

    /// Seeds group together; the overrides every run shares leave the labels, the differing ones stay.
    #[test]
    fn groups_by_overrides_and_labels_with_the_differing_ones() {
        let runs = [
            run("deep", 1, &["protocol.epochs=1", "seed=1"]),
            run("deep", 2, &["protocol.epochs=1", "seed=2"]),
            run("deep", 1, &["protocol.epochs=1", "learning.gamma=0.0656", "seed=1"]),
            run("shallow", 1, &["protocol.epochs=1", "seed=1"]),
        ];
        let groups = group_runs(&runs, Grouping::Model);
        let labels: Vec<(&str, usize)> = groups.iter().map(|(l, m)| (l.as_str(), m.len())).collect();
        assert_eq!(labels, [("deep", 2), ("deep learning.gamma=0.0656", 1), ("shallow", 1)]);
        let each = group_runs(&runs[..2], Grouping::Each);
        let labels: Vec<&str> = each.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["deep (seed 1)", "deep (seed 2)"]);
        // A single run keeps its overrides in the label.
        let one = group_runs(&runs[2..3], Grouping::Model);
        assert_eq!(one[0].0, "deep protocol.epochs=1 learning.gamma=0.0656");
    }

    /// By folder, the runs of one table row go together whatever model name or overrides each was made with.
    #[test]
    fn groups_by_folder_name_without_the_seed() {
        let named = |model: &str, seed: u64, overrides: &[&str], folder: &str| {
            let mut r = run(model, seed, overrides);
            r.path = PathBuf::from("out").join(folder);
            r
        };
        let runs = [
            named(
                "deep",
                1,
                &["learning.gamma=0.0656", "seed=1"],
                "deep_gamma_alpha-seed1",
            ),
            named("deep_gamma_alpha", 2, &["seed=2"], "deep_gamma_alpha-seed2"),
            named("deep", 1, &["seed=1"], "deep-seed1"),
            named("deep", 3, &["seed=3"], "deep-seed-extra"),
        ];
        let groups = group_runs(&runs, Grouping::Folder);
        let labels: Vec<(&str, usize)> = groups.iter().map(|(l, m)| (l.as_str(), m.len())).collect();
        assert_eq!(labels, [("deep_gamma_alpha", 2), ("deep", 1), ("deep-seed-extra", 1)]);
        let by_model = group_runs(&runs, Grouping::Model);
        assert_eq!(by_model.len(), 3, "the same runs by model name and overrides");
    }

    /// With a window, each run is smoothed along its own curve before the mean and band across runs are taken.
    #[test]
    fn groups_smooth_each_run_before_the_mean() {
        let dir = tempfile::tempdir().unwrap();
        let runs: Vec<RunFolder> = [[0.1, 0.3, 0.5], [0.3, 0.1, 0.9]]
            .iter()
            .enumerate()
            .map(|(k, acc)| {
                let mut r = run("m", k as u64 + 1, &[]);
                r.path = dir.path().join(format!("run{k}"));
                std::fs::create_dir(&r.path).unwrap();
                let mut text = "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s\n".to_string();
                for (i, a) in acc.iter().enumerate() {
                    text += &format!("{},0,{a},100,{a},0.1\n", 100 * (i + 1));
                }
                std::fs::write(r.path.join("curve.csv"), text).unwrap();
                r
            })
            .collect();
        let raw = groups(&runs, Grouping::Model, Measure::Accuracy, None).unwrap();
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        assert!(close(&raw[0].mean, &[20.0, 20.0, 70.0]), "{:?}", raw[0].mean);
        assert!(close(&raw[0].sem, &[10.0, 10.0, 20.0]), "{:?}", raw[0].sem);
        // Window of 150 examples: each point with the one before it. Run 1: 10, 20, 40; run 2: 30, 20, 50. The SEM
        // of two values a, b is |a − b| / 2: 10, 0, 5 (smoothing the raw band instead would give 10, 10, 15).
        let smooth = groups(&runs, Grouping::Model, Measure::Accuracy, Some(150.0)).unwrap();
        assert!(close(&smooth[0].mean, &[20.0, 20.0, 45.0]), "{:?}", smooth[0].mean);
        assert!(close(&smooth[0].sem, &[10.0, 0.0, 5.0]), "{:?}", smooth[0].sem);
        assert_eq!(smooth[0].examples, [100.0, 200.0, 300.0]);
    }

    /// A legend counts the runs a line averages; with one line per run (`--each`) the count says nothing.
    #[test]
    fn a_line_of_its_own_is_labelled_without_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let runs: Vec<RunFolder> = (1..=2)
            .map(|seed| {
                let mut r = run("m", seed, &[]);
                r.path = dir.path().join(format!("m-seed{seed}"));
                std::fs::create_dir(&r.path).unwrap();
                let text =
                    "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s\n100,0,0.5,100,0.5,0.1\n";
                std::fs::write(r.path.join("curve.csv"), text).unwrap();
                r
            })
            .collect();
        let labels = |grouping| -> Vec<String> {
            let g = groups(&runs, grouping, Measure::Accuracy, None).unwrap();
            g.into_iter().map(|g| g.label).collect()
        };
        assert_eq!(labels(Grouping::Model), ["m (2 runs)"]);
        assert_eq!(labels(Grouping::Each), ["m (seed 1)", "m (seed 2)"]);
    }

    /// The moving average is trailing and over examples, not points: each point averages the points of the window
    /// ending at it, fewer at the start of the curve and where points are sparse.
    #[test]
    fn moving_average_is_trailing_over_examples() {
        let xs = [100.0, 200.0, 300.0, 400.0, 1000.0];
        let ys = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(moving_average(&xs, &ys, 250.0), [1.0, 1.5, 2.0, 3.0, 10.0]);
        assert_eq!(moving_average(&xs, &ys, 1.0), ys);
        assert_eq!(moving_average(&xs, &ys, 1e9), [1.0, 1.5, 2.0, 2.5, 4.0]);
        // A point without a measurement (NaN) is left out of every window it falls in (a running sum would carry
        // it into every later point); a window of nothing else is NaN.
        let gappy = [1.0, f64::NAN, 3.0, 4.0, 10.0];
        assert_eq!(moving_average(&xs, &gappy, 250.0), [1.0, 1.0, 2.0, 3.5, 10.0]);
        let lone = moving_average(&xs, &[f64::NAN, f64::NAN, 3.0, 4.0, 10.0], 150.0);
        assert!(lone[0].is_nan() && lone[1].is_nan());
        assert_eq!(lone[2..], [3.0, 3.5, 10.0]);
        assert!(
            CurveStyle {
                smooth: Some(0.0),
                ..Default::default()
            }
            .check()
            .is_err()
        );
        assert!(
            CurveStyle {
                y_range: Some((1.0, f64::NAN)),
                ..Default::default()
            }
            .check()
            .is_err()
        );
        assert!(
            CurveStyle {
                smooth: Some(5.0),
                log_x: true,
                y_range: Some((90.0, 100.0))
            }
            .check()
            .is_ok()
        );
    }

    #[test]
    fn a_title_too_long_for_the_figure_is_set_smaller_to_fit() {
        crate::font::register();
        let mut pixels = vec![0u8; (crate::SIZE.0 * crate::SIZE.1 * 3) as usize];
        let root = BitMapBackend::with_buffer(&mut pixels, crate::SIZE).into_drawing_area();
        assert_eq!(caption_size(&root, "Figure 5: LIF-BA on MNIST"), 24.0);
        let long = "Figure 5: LIF-BA on MNIST (mean ± 2 SEM across seeds), moving average over 30000 examples";
        let size = caption_size(&root, long);
        assert!(size < 24.0, "{size}");
        let style = ("sans-serif", size).into_text_style(&root);
        let (width, _) = root.estimate_text_size(long, &style).unwrap();
        assert!(width <= crate::SIZE.0 - 32, "{width} px");
    }
}
