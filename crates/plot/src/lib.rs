//! neuroxide-plot: pictures of neuroxide results, PNG or SVG, in pure Rust (plotters with an
//! embedded DejaVu Sans font; no system libraries).
//!
//! Two layers:
//! - [`draw`]: one function per kind of plot, taking plain slices and shapes (times in seconds,
//!   row-major arrays), so any caller can use them: [`raster`], [`heatmap`], [`lines`], [`bump`],
//!   [`matrix`], [`sweep`], and [`ring_mode`] (phase and amplitude of a bump);
//! - [`results`]: every applicable plot of a result folder written by `neuroxide run`
//!   ([`plot_results`]), as `neuroxide plot DIR` does.
//!
//! The file format follows the extension of the output path (`.png` or `.svg`). Heatmaps and
//! rasters are drawn as one bitmap (embedded as a PNG in SVG files), so their size does not grow
//! with the number of neurons, frames or spikes.

pub mod colour;
pub mod draw;
pub mod results;

pub use draw::{Series, bump, heatmap, lines, matrix, raster, ring_mode, sweep};
pub use results::{Kind, PlotOptions, ResultsSet, plot_results};

use std::path::{Path, PathBuf};
use std::sync::Once;

/// Image file formats.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Png,
    Svg,
}

impl Format {
    /// The file extension (`png`, `svg`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    /// The format named by a path's extension.
    pub fn from_path(path: &Path) -> Result<Format, PlotError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("png") => Ok(Format::Png),
            Some(e) if e.eq_ignore_ascii_case("svg") => Ok(Format::Svg),
            _ => Err(PlotError::File {
                path: path.to_path_buf(),
                message: "expected a `.png` or `.svg` file name".into(),
            }),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            _ => Err(format!("unknown image format `{s}`, expected png or svg")),
        }
    }
}

/// Errors making a plot, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// The data cannot make this plot (empty, mismatched shapes).
    #[error("{0}")]
    Data(String),
}

/// The font every plot uses, DejaVu Sans (licence: `assets/LICENSE_DEJAVU`).
pub const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name the font is registered under.
pub(crate) const FAMILY: &str = "sans-serif";

/// Register the embedded font with plotters (once per process).
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use plotters::style::FontStyle;
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            plotters::style::register_font(FAMILY, style, FONT)
                .unwrap_or_else(|_| panic!("the embedded font does not parse"));
        }
    });
}
