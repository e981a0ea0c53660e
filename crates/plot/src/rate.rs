//! Samadi Figure 2: activity a against drive v of a LIF cell, computed by running the Appendix A protocol in the
//! simulator (SPEC §1.1): drives uniform in [−50, 50] (seeded), each held 100 ms on a cell from rest, the first 20 ms
//! ignored. Panel A: 500 random (v, a) pairs. Panel B: the mean of a for each v with ±1 standard deviation, against the
//! closed form E(a) (eq 2.10) and the fit 0.82 tanh(0.08 v). The gap between the simulated mean and E(a) is the Euler
//! discretisation error bounded in `snn_neuron::rate`, and is reported.

use crate::{Figure, text_err};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf32;
use plotters::prelude::*;
use rand::seq::index::sample;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_neuron::LifParams;
use snn_neuron::rate::{appendix_a, rate_closed_form, tanh_fit};
use std::path::{Path, PathBuf};

/// The data of Figure 2.
#[derive(Clone, Debug, PartialEq)]
pub struct RateCurve {
    /// Drives, ascending.
    pub v: Vec<f32>,
    /// Mean activity over the recorded steps, per drive.
    pub mean: Vec<f64>,
    /// Standard deviation of the activity, per drive.
    pub std: Vec<f64>,
    /// 500 random (v, a) pairs.
    pub pairs: Vec<(f32, f32)>,
    /// Largest |mean − E(a)| over the drives, and where.
    pub max_gap: (f64, f32),
    /// Root mean square of mean − E(a) over the drives.
    pub rms_gap: f64,
    /// Mean of mean − E(a) over the drives with v > h_th.
    pub mean_gap: f64,
}

/// Runs the Appendix A protocol with `n` drives drawn from `seed`.
pub fn compute(params: &LifParams, n: usize, seed: u64) -> RateCurve {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut v: Vec<f32> = (0..n).map(|_| rng.random_range(-50.0f32..50.0)).collect();
    v.sort_by(f32::total_cmp);
    let steps = (100.0 / params.dt).round() as usize;
    let settle = (20.0 / params.dt).round() as usize;
    let a = appendix_a(params, &v, steps, settle);
    let k = a.ncols() as f64;
    let mean: Vec<f64> = a
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&x| f64::from(x)).sum::<f64>() / k)
        .collect();
    let std: Vec<f64> = a
        .rows()
        .into_iter()
        .zip(&mean)
        .map(|(r, m)| (r.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / k).sqrt())
        .collect();
    let picks = sample(&mut rng, a.len(), 500.min(a.len())).into_vec();
    let pairs = picks
        .iter()
        .map(|&i| (v[i / a.ncols()], a[[i / a.ncols(), i % a.ncols()]]))
        .collect();
    let gaps: Vec<f64> = v
        .iter()
        .zip(&mean)
        .map(|(&x, m)| m - rate_closed_form(f64::from(x), params))
        .collect();
    let max_gap = v.iter().zip(&gaps).fold(
        (0.0, 0.0),
        |(g, at), (&x, &d)| if d.abs() > g { (d.abs(), x) } else { (g, at) },
    );
    let rms_gap = (gaps.iter().map(|d| d * d).sum::<f64>() / n as f64).sqrt();
    let above: Vec<f64> = v
        .iter()
        .zip(&gaps)
        .filter(|(x, _)| **x > params.h_th)
        .map(|(_, d)| *d)
        .collect();
    let mean_gap = above.iter().sum::<f64>() / above.len().max(1) as f64;
    RateCurve {
        v,
        mean,
        std,
        pairs,
        max_gap,
        rms_gap,
        mean_gap,
    }
}

/// Figure 2, both panels.
pub struct RateFigure {
    /// The data.
    pub curve: RateCurve,
    /// Cell constants (for E(a)).
    pub params: LifParams,
}

impl Figure for RateFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let (title, body) = root.split_vertically(66);
        title
            .draw(&Text::new(
                "LIF activity a vs drive v (Appendix A protocol)",
                (220, 8),
                ("sans-serif", 24).into_font(),
            ))
            .map_err(text_err)?;
        let c = &self.curve;
        let note = format!(
            "simulated mean − closed form E(a), Euler discretisation error: mean {:+.3} for v > h_th, RMS {:.3}, max {:.3} at v = {:.1}",
            c.mean_gap, c.rms_gap, c.max_gap.0, c.max_gap.1
        );
        title
            .draw(&Text::new(note, (60, 40), ("sans-serif", 14).into_font()))
            .map_err(text_err)?;
        let panels = body.split_evenly((1, 2));
        // Panel A: random (v, a) pairs.
        let mut a = panel(&panels[0], "A: 500 random (v, a) pairs")?;
        a.draw_series(
            c.pairs
                .iter()
                .map(|&(v, y)| Circle::new((v, y), 2, BLUE.mix(0.6).filled())),
        )
        .map_err(text_err)?;
        // Panel B: mean ± sd, closed form, fit.
        let mut b = panel(&panels[1], "B: mean a (± 1 sd) vs E(a) and the tanh fit")?;
        let light = RGBColor(120, 170, 230);
        let band: Vec<(f32, f32)> =
            c.v.iter()
                .zip(c.mean.iter().zip(&c.std))
                .map(|(&v, (&m, &s))| (v, (m + s).min(1.0) as f32))
                .chain(
                    c.v.iter()
                        .zip(c.mean.iter().zip(&c.std))
                        .rev()
                        .map(|(&v, (&m, &s))| (v, (m - s).max(0.0) as f32)),
                )
                .collect();
        b.draw_series(std::iter::once(Polygon::new(band, light.mix(0.35))))
            .map_err(text_err)?
            .label("simulated ± 1 sd")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], light.mix(0.35).filled()));
        b.draw_series(
            c.v.iter()
                .zip(&c.mean)
                .map(|(&v, &m)| Circle::new((v, m as f32), 1, BLUE.filled())),
        )
        .map_err(text_err)?
        .label("simulated mean")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLUE.filled()));
        let grid: Vec<f32> = (0..=1000).map(|i| -50.0 + 0.1 * i as f32).collect();
        let p = self.params;
        b.draw_series(LineSeries::new(
            grid.iter().map(|&v| (v, rate_closed_form(f64::from(v), &p) as f32)),
            BLACK.stroke_width(2),
        ))
        .map_err(text_err)?
        .label("E(a), closed form (eq 2.10)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        b.draw_series(LineSeries::new(
            grid.iter().map(|&v| (v, tanh_fit(v, 0.82, 0.08))),
            RED.stroke_width(2),
        ))
        .map_err(text_err)?
        .label("0.82 tanh(0.08 v)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
        b.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(text_err)?;
        Ok(())
    }
}

/// A panel with the axes of Figure 2: drive v in [−50, 50] against activity a.
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf32, RangedCoordf32>>, String> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(-50f32..50f32, -0.1f32..1.1f32)
        .map_err(text_err)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("drive v (decivolts)")
        .y_desc("activity a")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(text_err)?;
    Ok(chart)
}

/// Computes and draws Figure 2 into `<stem>.png/.svg`; returns the files and the data.
pub fn plot(
    params: &LifParams,
    drives: usize,
    seed: u64,
    stem: &Path,
) -> Result<(Vec<PathBuf>, RateCurve), crate::PlotError> {
    let curve = compute(params, drives, seed);
    let files = crate::write_png_and_svg(
        stem,
        crate::SIZE,
        &RateFigure {
            curve: curve.clone(),
            params: *params,
        },
    )?;
    Ok((files, curve))
}
