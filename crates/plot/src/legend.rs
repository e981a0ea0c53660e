//! Where a legend goes: the place in the plotting area where it hides the least of what is drawn.
//!
//! A figure of many runs (Table 2's stepped rows: twelve lines) has a legend as tall as half the plot, and a fixed
//! corner covers whatever curve runs there. As matplotlib's `loc="best"` does, the legend box is tried in each
//! corner, at the middle of each side and in the centre, and put where it covers the least length of the drawn lines;
//! the figure's usual corner wins a tie.

use plotters::prelude::*;

/// How plotters lays out a legend box (`SeriesLabelStyle::draw`, plotters 0.3): the text block, plus
/// `LEGEND_AREA` px for the line sample and `MARGIN` px each side, `CORNER_GAP` px from the plotting area's edges.
const LEGEND_AREA: i32 = 30;
const MARGIN: i32 = 10;
const CORNER_GAP: i32 = 5;
/// Lines are measured in pieces of at most this many pixels, so that a sparse curve crossing a box counts too.
const STEP_PX: f64 = 2.0;

/// The places tried after the preferred one, in matplotlib's order for `loc="best"`: the corners, then the middles of
/// the sides, then the centre.
const PLACES: [SeriesLabelPosition; 9] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerLeft,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::MiddleRight,
    SeriesLabelPosition::MiddleLeft,
    SeriesLabelPosition::LowerMiddle,
    SeriesLabelPosition::UpperMiddle,
    SeriesLabelPosition::MiddleMiddle,
];

/// The size in pixels of the legend plotters draws for `labels` in `font`.
pub fn legend_size(labels: &[String], font: &TextStyle) -> (i32, i32) {
    let mut text = MultiLineText::<_, &str>::new((0, 0), font);
    for label in labels {
        text.push_line(label.as_str());
    }
    // A font that cannot be measured keeps the preferred place: a box larger than the area covers the same everywhere.
    let (w, h) = text.estimate_dimension().unwrap_or((i32::MAX / 4, i32::MAX / 4));
    (w + LEGEND_AREA + 2 * MARGIN, h + 2 * MARGIN)
}

/// The top-left corner, in pixels from the plotting area's top-left, of a legend of `size` at `place` in an area of
/// `area` pixels, as plotters lays it out (`SeriesLabelPosition::layout_label_area`).
fn origin(place: &SeriesLabelPosition, size: (i32, i32), area: (i32, i32)) -> (i32, i32) {
    use SeriesLabelPosition::*;
    let x = match place {
        UpperLeft | MiddleLeft | LowerLeft => CORNER_GAP,
        UpperMiddle | MiddleMiddle | LowerMiddle => (area.0 - size.0) / 2,
        UpperRight | MiddleRight | LowerRight => area.0 - size.0 - CORNER_GAP,
        Coordinate(x, _) => *x,
    };
    let y = match place {
        UpperLeft | UpperMiddle | UpperRight => CORNER_GAP,
        MiddleLeft | MiddleMiddle | MiddleRight => (area.1 - size.1) / 2,
        LowerLeft | LowerMiddle | LowerRight => area.1 - size.1 - CORNER_GAP,
        Coordinate(_, y) => *y,
    };
    (x, y)
}

/// The place where a legend of `size` pixels covers the least length of `lines` (polylines in pixels from the
/// top-left of a plotting area of `area` pixels), `preferred` first among equals.
pub fn best_place(
    size: (i32, i32),
    area: (i32, i32),
    lines: &[Vec<(f64, f64)>],
    preferred: SeriesLabelPosition,
) -> SeriesLabelPosition {
    let order = std::iter::once(preferred).chain(PLACES);
    let mut best: Option<(f64, SeriesLabelPosition)> = None;
    for place in order {
        let (x0, y0) = origin(&place, size, area);
        let (x1, y1) = (f64::from(x0 + size.0), f64::from(y0 + size.1));
        let (x0, y0) = (f64::from(x0), f64::from(y0));
        let under = |(x, y): (f64, f64)| x >= x0 && x <= x1 && y >= y0 && y <= y1;
        let covered: f64 = lines.iter().map(|line| covered_length(line, under)).sum();
        // Strictly less: the preferred place, tried first, keeps a tie.
        if best.as_ref().is_none_or(|(least, _)| covered < *least) {
            best = Some((covered, place));
        }
    }
    best.map_or(SeriesLabelPosition::LowerRight, |(_, c)| c)
}

/// The length in pixels of `line` whose points are `under` the legend, measured on pieces of at most `STEP_PX`
/// pixels by their midpoints: a length, not a count of vertices, so that a curve of 1800 points in 800 pixels does
/// not weigh four times a curve of 200. A segment with a non-finite end (a point off a log axis) counts nothing.
fn covered_length(line: &[(f64, f64)], under: impl Fn((f64, f64)) -> bool) -> f64 {
    let mut covered = 0.0;
    for w in line.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let length = (bx - ax).hypot(by - ay);
        if !length.is_finite() || length == 0.0 {
            continue;
        }
        let pieces = (length / STEP_PX).ceil() as usize;
        let piece = length / pieces as f64;
        for i in 0..pieces {
            let t = (i as f64 + 0.5) / pieces as f64;
            if under((ax + t * (bx - ax), ay + t * (by - ay))) {
                covered += piece;
            }
        }
    }
    covered
}

#[cfg(test)]
mod tests {
    use super::*;

    const AREA: (i32, i32) = (800, 500);
    const SIZE: (i32, i32) = (300, 200);

    #[test]
    fn an_empty_plot_keeps_the_preferred_corner() {
        for preferred in PLACES {
            assert_eq!(best_place(SIZE, AREA, &[], preferred.clone()), preferred);
        }
    }

    #[test]
    fn a_curve_in_the_preferred_corner_moves_the_legend_to_a_free_one() {
        // A learning curve: rises at the left, then runs along the top; another sits low on the right.
        let rising = vec![(0.0, 250.0), (50.0, 20.0), (800.0, 20.0)];
        let low_right = vec![(400.0, 450.0), (800.0, 450.0)];
        let corner = best_place(SIZE, AREA, &[rising, low_right], SeriesLabelPosition::LowerRight);
        assert_eq!(corner, SeriesLabelPosition::LowerLeft);
    }

    #[test]
    fn a_segment_crossing_the_box_counts_though_its_vertices_lie_outside() {
        // Two vertices only, both outside the lower-right box; the segment between them crosses it.
        let crossing = vec![(400.0, 400.0), (800.0, 400.0)];
        let corner = best_place(SIZE, AREA, &[crossing], SeriesLabelPosition::LowerRight);
        assert_eq!(corner, SeriesLabelPosition::UpperRight);
    }

    #[test]
    fn a_tie_keeps_the_preferred_corner_over_the_earlier_ones() {
        // A line through each row of places, each box over 150 of its 2-pixel pieces.
        let lines = [100.0, 250.0, 400.0].map(|y| vec![(0.5, y), (800.5, y)]);
        let place = best_place(SIZE, AREA, &lines, SeriesLabelPosition::UpperLeft);
        assert_eq!(place, SeriesLabelPosition::UpperLeft);
    }

    #[test]
    fn a_legend_between_curves_goes_to_the_middle_of_a_side() {
        let lines = [20.0, 480.0].map(|y| vec![(0.0, y), (800.0, y)]);
        let place = best_place(SIZE, AREA, &lines, SeriesLabelPosition::LowerRight);
        assert_eq!(place, SeriesLabelPosition::MiddleRight);
    }

    #[test]
    fn what_counts_is_length_not_vertices() {
        // Lower right: 100 pixels of line in 1000 vertices. Every other place: 300 pixels of lines with 2 vertices each.
        let dense: Vec<(f64, f64)> = (0..1000).map(|i| (600.0 + 0.1 * f64::from(i), 400.0)).collect();
        let low = vec![(5.0, 400.0), (550.0, 400.0)];
        let middle = vec![(0.0, 250.0), (800.0, 250.0)];
        let top = vec![(0.0, 100.0), (800.0, 100.0)];
        let everywhere = |_: (f64, f64)| true;
        assert!((covered_length(&dense, everywhere) - 99.9).abs() < 1e-6);
        assert!((covered_length(&low, everywhere) - 545.0).abs() < 1e-6);
        let place = best_place(SIZE, AREA, &[dense, low, middle, top], SeriesLabelPosition::UpperLeft);
        assert_eq!(place, SeriesLabelPosition::LowerRight);
    }

    #[test]
    fn a_segment_off_the_axis_counts_nothing() {
        let line = vec![(f64::NEG_INFINITY, 450.0), (700.0, 450.0), (710.0, 450.0)];
        assert!((covered_length(&line, |_| true) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn the_size_is_the_box_plotters_draws() {
        crate::font::register();
        let labels = [
            "seed 1".to_string(),
            "a much longer label, seed 2".to_string(),
            "seed 3".to_string(),
        ];
        let font: TextStyle = ("sans-serif", 15).into();
        let (w, h) = (400usize, 300usize);
        let mut pixels = vec![255u8; w * h * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (w as u32, h as u32)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root).build_cartesian_2d(0.0..1.0, 0.0..1.0).unwrap();
            for (i, label) in labels.iter().enumerate() {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .unwrap()
                    .label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], Palette99::pick(i)));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(font.clone())
                .background_style(WHITE)
                .border_style(BLACK)
                .draw()
                .unwrap();
            root.present().unwrap();
        }
        // The border is the outermost black; the text inside it is black too, the line samples are coloured.
        let black: Vec<(usize, usize)> = (0..w * h)
            .filter(|i| pixels[3 * i..3 * i + 3] == [0, 0, 0])
            .map(|i| (i % w, i / w))
            .collect();
        let (x0, x1) = (
            black.iter().map(|p| p.0).min().unwrap(),
            black.iter().map(|p| p.0).max().unwrap(),
        );
        let (y0, y1) = (
            black.iter().map(|p| p.1).min().unwrap(),
            black.iter().map(|p| p.1).max().unwrap(),
        );
        assert_eq!((x0, y0), (CORNER_GAP as usize, CORNER_GAP as usize));
        let (sw, sh) = legend_size(&labels, &font);
        assert!(
            (x1 - x0).abs_diff(sw as usize) <= 1 && (y1 - y0).abs_diff(sh as usize) <= 1,
            "drawn {}x{}, computed {sw}x{sh}",
            x1 - x0,
            y1 - y0
        );
    }
}
