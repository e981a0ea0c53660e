//! The alignment diagnostic over training (SPEC §4): for each group of runs (seeds and trials aside) and each learning
//! hidden layer, the mean angle between the layer's teaching signal and backprop's, with a ±2 SEM band across runs.
//! Near 90° the signal is unrelated to the gradient; feedback and broadcast alignment bring it below 90° as the
//! forward weights come to agree with the fixed feedback (Lillicrap et al. 2016).

use crate::curve::{CurveFigure, CurveGroup, CurveStyle, Measure, group_runs, mean_sem};
use crate::error::PlotError;
use crate::run_folder::RunFolder;
use snn_sim::alignment::AlignmentPoint;
use snn_sim::metrics::read_alignment;
use std::path::{Path, PathBuf};

/// One line per (group, hidden population), points at the training examples every run of the group has.
pub fn groups(runs: &[RunFolder], each: bool) -> Result<Vec<CurveGroup>, PlotError> {
    let mut out = Vec::new();
    for (label, members) in group_runs(runs, each) {
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
                    .map(|p| p.angle_deg)
            };
            let examples: Vec<u64> = series[0]
                .iter()
                .filter(|p| p.population == pop)
                .map(|p| p.examples)
                .filter(|&x| series.iter().all(|s| at(s, x).is_some()))
                .collect();
            let (mut mean, mut sem) = (Vec::new(), Vec::new());
            for &x in &examples {
                let ys: Vec<f64> = series.iter().filter_map(|s| at(s, x)).collect();
                let (m, e) = mean_sem(&ys);
                mean.push(m);
                sem.push(e);
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
            });
        }
    }
    if out.iter().all(|g| g.examples.is_empty()) {
        return Err(PlotError::BadFile {
            path: runs[0].path.join("alignment.csv"),
            reason: "no alignment measurements: no hidden layer learns (learning depth 1), or protocol.curve_every = 0"
                .into(),
        });
    }
    Ok(out)
}

/// Draws the alignment of `runs` into `<stem>.png` and `<stem>.svg`.
pub fn plot(runs: &[PathBuf], each: bool, title: Option<&str>, stem: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let folders: Vec<RunFolder> = runs.iter().map(|p| RunFolder::open(p)).collect::<Result<_, _>>()?;
    let groups = groups(&folders, each)?;
    let title = title
        .unwrap_or("Alignment with backprop (mean ± 2 SEM across runs)")
        .to_string();
    crate::write_png_and_svg(
        stem,
        crate::SIZE,
        &CurveFigure {
            groups,
            title,
            measure: Measure::Alignment,
            style: CurveStyle::default(),
        },
    )
}
