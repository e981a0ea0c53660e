//! Spike onsets from a raster of activity.
//!
//! A raster holds the activity a of every step, and a LIF spike keeps a = 1 for `t_ref / Δt` steps (4 at the
//! paper's constants, SPEC §1): counting the true entries counts every spike four times. Each spike is one run of
//! `pulse` true steps, and a new spike can start only when the previous pulse has ended, so a run of k · pulse true
//! steps is k spikes, with onsets `pulse` steps apart, and a run cut off by the end of the raster still has its
//! onsets. Stochastic binary units (SPEC §5.4) spike for one step: `pulse` = 1, and every true entry is an onset.
//!
//! The error pools of `error_pools: Relay` relay the output's activity (e⁺ = max(a_out − y*, 0), SPEC §2.1) rather
//! than spike: e⁺ of a wrong class repeats the output cell's 4-step pulses, and e⁻ of the right class is 1 whenever
//! its output cell is silent. Their onsets count `pulse`-step stretches of that activity by the same rule.

use ndarray::ArrayView2;

/// The spikes of a raster as events, in the style of Brian2's `SpikeMonitor` (`i`, `t`): onset steps and cells,
/// ordered by step, then cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Onsets {
    /// The step of each onset (0 = the first step of the raster).
    pub steps: Vec<u32>,
    /// The cell of each onset.
    pub cells: Vec<u32>,
}

impl Onsets {
    /// The onsets of `raster` (`[steps, cells]`, true where a = 1), whose spikes last `pulse` steps. With
    /// `carried_in` (cells not reset between examples, so that a pulse may have begun before the raster), a run of
    /// true steps at the very start whose length is not a multiple of `pulse` began earlier: its first
    /// `length mod pulse` steps are the end of an earlier pulse, not an onset. Without it every run starts with an
    /// onset.
    ///
    /// # Panics
    /// If `pulse` is 0.
    pub fn of(raster: ArrayView2<'_, bool>, pulse: usize, carried_in: bool) -> Self {
        assert!(pulse > 0, "a spike lasts at least one step");
        let (steps, cells) = raster.dim();
        let mut events: Vec<(u32, u32)> = Vec::new();
        for c in 0..cells {
            let column = raster.column(c);
            let mut t = 0;
            while t < steps {
                if !column[t] {
                    t += 1;
                    continue;
                }
                let start = t;
                while t < steps && column[t] {
                    t += 1;
                }
                let carried = if carried_in && start == 0 {
                    (t - start) % pulse
                } else {
                    0
                };
                events.extend((start + carried..t).step_by(pulse).map(|s| (s as u32, c as u32)));
            }
        }
        events.sort_unstable();
        let (steps, cells) = events.into_iter().unzip();
        Self { steps, cells }
    }

    /// Number of spikes.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn raster(columns: &[&str]) -> Array2<bool> {
        let steps = columns[0].len();
        Array2::from_shape_fn((steps, columns.len()), |(t, c)| columns[c].as_bytes()[t] == b'1')
    }

    #[test]
    fn one_onset_per_pulse_even_when_pulses_touch() {
        let r = raster(&["0111100001111111100", "1111000000000000000"]);
        let o = Onsets::of(r.view(), 4, true);
        assert_eq!(o.steps, vec![0, 1, 9, 13]);
        assert_eq!(o.cells, vec![1, 0, 0, 0]);
    }

    #[test]
    fn a_pulse_carried_into_the_raster_is_not_an_onset_and_a_cut_one_is() {
        let r = raster(&["1100000011", "1111111000"]);
        let o = Onsets::of(r.view(), 4, true);
        // Cell 0: the tail of two steps is carried over, the last pulse is cut by the end. Cell 1: three steps
        // carried, then a whole pulse.
        assert_eq!(o.steps, vec![3, 8]);
        assert_eq!(o.cells, vec![1, 0]);
        // Reset before the raster, the same runs began at step 0.
        let o = Onsets::of(r.view(), 4, false);
        assert_eq!(o.steps, vec![0, 0, 4, 8]);
        assert_eq!(o.cells, vec![0, 1, 1, 0]);
    }

    #[test]
    fn with_one_step_pulses_every_true_entry_is_an_onset() {
        let r = raster(&["1101", "0110"]);
        let o = Onsets::of(r.view(), 1, true);
        assert_eq!(o.len(), r.iter().filter(|&&a| a).count());
        assert_eq!(o.steps, vec![0, 1, 1, 2, 3]);
        assert_eq!(o.cells, vec![0, 0, 1, 1, 0]);
    }
}
