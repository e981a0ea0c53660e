//! The alignment diagnostic over training (SPEC §4): for each group of runs (seeds and trials aside) and each learning
//! hidden layer, the mean angle between the layer's teaching signal and backprop's, with a ±2 SEM band across runs.
//! Near 90° the signal is unrelated to the gradient; feedback and broadcast alignment bring it below 90° as the
//! forward weights come to agree with the fixed feedback (Lillicrap et al. 2016).

use crate::curve::{CurveFigure, CurveGroup, CurveStyle, Grouping, Measure, group_runs, mean_sem};
use crate::error::PlotError;
use crate::run_folder::RunFolder;
use snn_sim::alignment::AlignmentPoint;
use snn_sim::metrics::read_alignment;
use std::path::{Path, PathBuf};

/// Which angle of `alignment.csv` a figure shows (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Angle {
    /// θ(δ, δ_BP), 0–180° (`angle_deg`): the default, as Akrout et al. and Samadi et al. plot it.
    #[default]
    Signed,
    /// θ_fold = min(θ, 180° − θ), 0–90° (`folded_deg`): as Lillicrap et al. 2016 plot it (Figs 2b, 3b).
    Folded,
    /// θ(Wᵀ, B) of the flattened matrices (`weight_angle_deg`).
    Weight,
    /// The mean per-unit angle θ(W[:, j], B[j, :]) (`unit_angle_deg`, Lillicrap et al. 2016 Fig 5a).
    Unit,
    /// θ(δ, δ_BP) on the first training image, learning off (`probe_first_deg`, `protocol.alignment_probe`): the
    /// δ angle Akrout et al. 2019's reference code logs (SPEC §6.4).
    Probe,
    /// θ(δ, δ_BP) averaged over the first `protocol.alignment_probe` training images (`probe_mean_deg`).
    ProbeMean,
}

impl Angle {
    fn of(self, p: &AlignmentPoint) -> f64 {
        match self {
            Angle::Signed => p.angle_deg,
            Angle::Folded => p.folded_deg,
            Angle::Weight => p.weight_angle_deg,
            Angle::Unit => p.unit_angle_deg,
            Angle::Probe => p.probe_first_deg,
            Angle::ProbeMean => p.probe_mean_deg,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Angle::Signed => "angle to backprop's teaching signal",
            Angle::Folded => "folded angle to backprop's teaching signal",
            Angle::Weight => "angle between W^T and B",
            Angle::Unit => "mean per-unit angle between W and B",
            Angle::Probe => "angle to backprop's delta, first training image",
            Angle::ProbeMean => "angle to backprop's delta, mean over the probe images",
        }
    }
}

/// One line per (group, hidden population), points at the training examples every run of the group has. With
/// `spread`, a group of one run is drawn with a band of ±2 SD of the teaching-signal angle over the examples of each
/// measuring window (Lillicrap et al. 2016, Fig 2b); groups of several runs have their ±2 SEM band across runs.
pub fn groups(
    runs: &[RunFolder],
    grouping: Grouping,
    angle: Angle,
    spread: bool,
) -> Result<Vec<CurveGroup>, PlotError> {
    let mut out = Vec::new();
    for (label, members) in group_runs(runs, grouping) {
        let series: Vec<Vec<AlignmentPoint>> = members
            .iter()
            .map(|r| {
                let file = r.path.join("alignment.csv");
                if !file.exists() {
                    return Err(PlotError::NotARun {
                        path: r.path.clone(),
                        reason: "alignment.csv is missing (a run made before snnsim recorded alignment?)".into(),
                    });
                }
                read_alignment(&file).map_err(|e| PlotError::BadFile {
                    path: file,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        let mut populations: Vec<&str> = series[0].iter().map(|p| p.population.as_str()).collect();
        populations.dedup();
        populations.sort_unstable();
        populations.dedup();
        for pop in populations {
            let at = |s: &[AlignmentPoint], x: u64| {
                s.iter()
                    .find(|p| p.population == pop && p.examples == x)
                    .map(|p| angle.of(p))
                    .filter(|a| a.is_finite())
            };
            let examples: Vec<u64> = series[0]
                .iter()
                .filter(|p| p.population == pop)
                .map(|p| p.examples)
                .filter(|&x| series.iter().all(|s| at(s, x).is_some()))
                .collect();
            let (mut mean, mut sem) = (Vec::new(), Vec::new());
            let within = spread && series.len() == 1;
            for &x in &examples {
                let ys: Vec<f64> = series.iter().filter_map(|s| at(s, x)).collect();
                let (m, e) = mean_sem(&ys);
                mean.push(m);
                sem.push(match within {
                    true => series[0]
                        .iter()
                        .find(|p| p.population == pop && p.examples == x)
                        .map_or(0.0, |p| p.angle_sd_deg),
                    false => e,
                });
            }
            out.push(CurveGroup {
                label: format!(
                    "{label}: {pop} ({} run{})",
                    members.len(),
                    if members.len() == 1 { "" } else { "s" }
                ),
                examples: examples.iter().map(|&x| x as f64).collect(),
                mean,
                sem,
                runs: members.len(),
                band: members.len() > 1 || (within && angle == Angle::Signed) || (within && angle == Angle::Folded),
            });
        }
    }
    if out.iter().all(|g| g.examples.is_empty()) {
        return Err(PlotError::BadFile {
            path: runs[0].path.join("alignment.csv"),
            reason: format!(
                "no {}: no hidden layer learns (learning depth 1), protocol.curve_every = 0, or the run has no such \
                 angle (weight angles need a feedback matrix; runs made before they were recorded have none)",
                angle.name()
            ),
        });
    }
    Ok(out)
}

/// Draws the alignment of `runs` into `<stem>.png` and `<stem>.svg`: the chosen `angle`, with the spread within
/// each window when `spread` is set (see [`groups`]), on a logarithmic x axis with `log_x`.
pub fn plot(
    runs: &[PathBuf],
    grouping: Grouping,
    angle: Angle,
    spread: bool,
    log_x: bool,
    title: Option<&str>,
    stem: &Path,
) -> Result<Vec<PathBuf>, PlotError> {
    let folders = RunFolder::open_all(runs)?;
    let groups = groups(&folders, grouping, angle, spread)?;
    let band = match (folders.len(), spread) {
        (1, true) => "mean ± 2 SD over each window's examples",
        _ => "mean ± 2 SEM across runs",
    };
    let title = match title {
        Some(t) => t.to_string(),
        None => {
            let name = angle.name();
            format!("{}{} ({band})", name[..1].to_uppercase(), &name[1..])
        }
    };
    crate::write_png_and_svg(
        stem,
        crate::SIZE,
        &CurveFigure {
            groups,
            title,
            measure: Measure::Alignment,
            style: CurveStyle {
                log_x,
                ..CurveStyle::default()
            },
        },
    )
}
