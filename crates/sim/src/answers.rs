//! The answer of a presentation (SPEC §2.4; Samadi §2.7): output activity summed over the counting window, the
//! class it names, and where a presentation had to stop.

use crate::roster::PopId;
use ndarray::{Array2, ArrayView2};

/// The answer of one presentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Answers {
    /// Output activity summed over t > settle (spike counts of LIF cells, `[examples, output cells]`).
    pub counts: Array2<f32>,
    /// Predicted class of each example ([`Readout::predict`]), `None` on a tie.
    pub predicted: Vec<Option<usize>>,
    /// The first NaN or infinite drive, if any: the presentation stopped there.
    pub non_finite: Option<NonFiniteDrive>,
}

impl Answers {
    /// The answers read out of `counts` by `readout`, with `non_finite` if the presentation stopped early.
    pub fn read(readout: Readout, counts: Array2<f32>, non_finite: Option<NonFiniteDrive>) -> Self {
        let predicted = readout.predict_all(counts.view());
        Self {
            counts,
            predicted,
            non_finite,
        }
    }

    /// Number of examples whose prediction equals the label.
    pub fn correct(&self, labels: &[u8]) -> usize {
        self.predicted
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == Some(usize::from(**l)))
            .count()
    }
}

/// Where a drive became NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFiniteDrive {
    /// The population whose drive it was.
    pub population: PopId,
    /// Step of the presentation.
    pub step: usize,
    /// Batch slot of the first example affected.
    pub slot: usize,
}

/// How the output activity names a class: the group of `cells_per_class` output cells with strictly the most
/// activity (Samadi §2.7: correct only when the right cell "produced more spikes than any of the others"), `None` on
/// a tie. One cell per class for every model today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readout {
    /// Consecutive output cells per class.
    pub cells_per_class: usize,
}

impl Readout {
    /// One output cell per class.
    pub const ONE_CELL_PER_CLASS: Readout = Readout { cells_per_class: 1 };

    /// The class of one example's output activity.
    pub fn predict(self, counts: &[f32]) -> Option<usize> {
        if self.cells_per_class == 1 {
            return strict_argmax(counts);
        }
        let sums: Vec<f32> = counts.chunks(self.cells_per_class).map(|g| g.iter().sum()).collect();
        strict_argmax(&sums)
    }

    /// The class of every example (row) of `counts`.
    pub fn predict_all(self, counts: ArrayView2<'_, f32>) -> Vec<Option<usize>> {
        counts
            .rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.predict(s),
                None => self.predict(&r.to_vec()),
            })
            .collect()
    }
}

/// Index of the strictly largest value; `None` if the largest value is shared.
pub fn strict_argmax(v: &[f32]) -> Option<usize> {
    let (mut best, mut at, mut tie) = (f32::NEG_INFINITY, None, false);
    for (i, &x) in v.iter().enumerate() {
        if x > best {
            (best, at, tie) = (x, Some(i), false);
        } else if x == best {
            tie = true;
        }
    }
    if tie { None } else { at }
}

/// The most active of a rate network's output cells (`activity`, one row per example) whose activity `a = f(v)` is a
/// nondecreasing function of the drive `v`, strictly increasing where it is positive: where several cells share the
/// largest positive activity (f32 saturation: `c1 tanh(c2 v)` is 0.82 exactly for every v above ~110), the one with the
/// largest drive, which exact arithmetic would make the most active. Cells tied at zero activity are tied in the model
/// too (`max(0, ·)`): `None`, as for any other remaining tie.
pub fn most_active(activity: ArrayView2<'_, f32>, drive: ArrayView2<'_, f32>) -> Vec<Option<usize>> {
    assert_eq!(activity.dim(), drive.dim(), "one drive per output cell");
    activity
        .rows()
        .into_iter()
        .zip(drive.rows())
        .map(|(a, v)| {
            let best = a.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
            if best <= 0.0 {
                return strict_argmax(&a.to_vec());
            }
            let tied: Vec<f32> = a
                .iter()
                .zip(&v)
                .map(|(&a, &v)| if a == best { v } else { f32::NEG_INFINITY })
                .collect();
            strict_argmax(&tied)
        })
        .collect()
}

/// Index of the first of the largest values (an argmax that answers ties with the lowest index); `None` if empty.
pub fn lowest_argmax(v: impl IntoIterator<Item = f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, x) in v.into_iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// One-hot targets y* of `labels` into `target` (`[examples, classes]`): `on` for the true class, 0 for the others.
pub(crate) fn one_hot_into(target: &mut Array2<f32>, labels: &[u8], on: f32) {
    target.fill(0.0);
    for (e, &l) in labels.iter().enumerate() {
        target[[e, usize::from(l)]] = on;
    }
}

/// Whether every value is finite: a branch-free reduction, so that it vectorises.
fn all_finite(a: ArrayView2<'_, f32>) -> bool {
    match a.as_slice() {
        Some(s) => all_finite_slice(s),
        None => a.rows().into_iter().all(|r| match r.as_slice() {
            Some(s) => all_finite_slice(s),
            None => r.iter().all(|x| x.is_finite()),
        }),
    }
}

/// [`all_finite`] of a slice.
pub(crate) fn all_finite_slice(s: &[f32]) -> bool {
    !s.iter().fold(false, |bad, x| bad | !x.is_finite())
}

/// The first example (row) of `drive` holding a NaN or infinite value, if any: the fast check first, the search only
/// when it fails.
pub(crate) fn first_non_finite_row(drive: ArrayView2<'_, f32>) -> Option<usize> {
    if all_finite(drive) {
        return None;
    }
    Some(
        drive
            .rows()
            .into_iter()
            .position(|r| r.iter().any(|x| !x.is_finite()))
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_strictly_largest_group_is_the_answer_and_a_tie_is_none() {
        assert_eq!(strict_argmax(&[1.0, 3.0, 2.0]), Some(1));
        assert_eq!(strict_argmax(&[3.0, 1.0, 3.0]), None);
        let one = Readout::ONE_CELL_PER_CLASS;
        assert_eq!(
            one.predict_all(array![[0.0f32, 2.0], [1.0, 1.0]].view()),
            [Some(1), None]
        );
        let pairs = Readout { cells_per_class: 2 };
        assert_eq!(pairs.predict(&[3.0, 0.0, 1.0, 1.0]), Some(0));
        assert_eq!(pairs.predict(&[1.0, 1.0, 2.0, 0.0]), None);
    }

    /// Rate outputs tied at a saturated activity go to the larger drive; ties at zero activity stay ties; a strict
    /// maximum of the activity is the answer whatever the drives.
    #[test]
    fn the_most_active_rate_cell_breaks_saturation_ties_by_drive() {
        let a = array![
            [0.82f32, 0.3, 0.82],
            [0.0, 0.0, 0.0],
            [0.1, 0.5, 0.2],
            [0.82, 0.82, 0.0]
        ];
        let v = array![
            [150.0f32, 4.0, 200.0],
            [-1.0, -3.0, -0.5],
            [1.0, 9.0, 2.0],
            [120.0, 120.0, -2.0]
        ];
        assert_eq!(most_active(a.view(), v.view()), [Some(2), None, Some(1), None]);
    }

    #[test]
    fn the_lowest_argmax_answers_a_tie_with_the_first_index() {
        assert_eq!(lowest_argmax([1.0, 3.0, 3.0, 2.0]), Some(1));
        assert_eq!(lowest_argmax([0.0, 0.0]), Some(0));
        assert_eq!(lowest_argmax([2.0, 5.0]), Some(1));
        assert_eq!(lowest_argmax(std::iter::empty()), None);
    }
}
