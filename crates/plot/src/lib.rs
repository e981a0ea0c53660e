#![doc = include_str!("../README.md")]

pub mod alignment;
pub mod curve;
pub mod error;
pub mod font;
pub mod legend;
pub mod psp;
pub mod raster;
pub mod rate;
pub mod run_folder;
pub mod stream_traces;

pub use error::PlotError;

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Size of every figure in pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (1000, 640);

/// A figure that can be drawn on any plotters backend.
pub trait Figure {
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draws `figure` into `<stem>.png` and `<stem>.svg`, creating the folder; returns both paths.
pub fn write_png_and_svg(stem: &Path, size: (u32, u32), figure: &impl Figure) -> Result<Vec<PathBuf>, PlotError> {
    font::register();
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| PlotError::Io {
            path: dir.to_path_buf(),
            reason: e,
        })?;
    }
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        figure.draw(&root).map_err(|reason| PlotError::Draw {
            path: png.clone(),
            reason,
        })?;
        root.present().map_err(|e| PlotError::Draw {
            path: png.clone(),
            reason: e.to_string(),
        })?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        figure.draw(&root).map_err(|reason| PlotError::Draw {
            path: svg.clone(),
            reason,
        })?;
        root.present().map_err(|e| PlotError::Draw {
            path: svg.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(vec![png, svg])
}

/// Turns any drawing error into text.
pub(crate) fn text_err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
