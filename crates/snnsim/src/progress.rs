//! Progress display of `snnsim run`: a bar with examples/s, ETA and the latest learning-curve accuracy when the
//! terminal is interactive; one line per learning-curve point otherwise (logs, CI, cluster jobs).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use snn_sim::SimError;
use snn_sim::experiment::Observer;
use snn_sim::metrics::CurvePoint;

pub struct Display {
    bar: ProgressBar,
    quiet: bool,
    plain: bool,
}

impl Display {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let plain = bar.is_hidden();
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {elapsed_precise} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self { bar, quiet, plain }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn line(&self, s: String) {
        if self.quiet {
        } else if self.plain {
            eprintln!("{s}");
        } else {
            self.bar.set_message(s);
        }
    }
}

impl Observer for Display {
    fn train_started(&mut self, total: u64) -> Result<(), SimError> {
        self.bar.set_prefix("train");
        self.bar.set_length(total);
        self.bar.set_position(0);
        Ok(())
    }

    fn batch_done(&mut self, seen: u64, _correct: usize, _size: usize) -> Result<(), SimError> {
        self.bar.set_position(seen);
        Ok(())
    }

    fn curve_point(&mut self, p: &CurvePoint) -> Result<(), SimError> {
        self.line(match p.test_nse.is_nan() {
            true => format!(
                "test acc {:.1}% on {} images after {} examples ({:.0} s)",
                100.0 * p.test_accuracy,
                p.test_examples,
                p.examples,
                p.elapsed_s
            ),
            false => format!(
                "test NSE {:.3e} on {} examples after {} examples ({:.0} s)",
                p.test_nse, p.test_examples, p.examples, p.elapsed_s
            ),
        });
        Ok(())
    }

    fn test_started(&mut self, total: usize) -> Result<(), SimError> {
        self.bar.set_prefix("test ");
        self.bar.set_length(total as u64);
        self.bar.set_position(0);
        self.bar.reset_eta();
        Ok(())
    }

    fn test_progress(&mut self, done: usize, correct: usize) -> Result<(), SimError> {
        self.bar.set_position(done as u64);
        self.bar.set_message(format!(
            "accuracy so far {:.2}%",
            100.0 * correct as f64 / done.max(1) as f64
        ));
        Ok(())
    }
}
