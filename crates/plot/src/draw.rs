//! One function per kind of plot, on plain slices: times in seconds, arrays row-major.
//!
//! Every function writes one image file whose format follows the path's extension (`.png`,
//! `.svg`), creating the parent folder if needed. Time axes are in ms for spans up to 2 s and in
//! s beyond.

use crate::colour::{self, ColourMap, Rgb};
use crate::{FAMILY, Format, PlotError};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::error::Error;
use std::ops::Range;
use std::path::Path;

/// Default image size in pixels (width, height).
pub const SIZE: (u32, u32) = (900, 500);
/// Size of two-panel figures (bump phase and amplitude).
pub const TALL: (u32, u32) = (900, 640);

const TITLE_SIZE: f64 = 24.0;
const DESC_SIZE: f64 = 18.0;
const LABEL_SIZE: f64 = 15.0;
const LEGEND_SIZE: f64 = 14.0;
/// Largest number of points drawn per line (longer series are thinned evenly).
const MAX_POINTS: usize = 4000;

type DrawResult = Result<(), Box<dyn Error>>;

/// One line of a line plot: its legend label, values (one per x) and colour.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
    pub colour: Rgb,
}

impl Series {
    pub fn new(label: impl Into<String>, values: Vec<f64>, colour: Rgb) -> Series {
        Series {
            label: label.into(),
            values,
            colour,
        }
    }
}

/// Render with the backend the path's extension names: `$f(&root, args...)` draws on a white
/// drawing area of `$size` pixels.
macro_rules! render {
    ($path:expr, $size:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let path: &Path = $path;
        let format = Format::from_path(path)?;
        crate::register_font();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| PlotError::File {
                path: parent.to_path_buf(),
                message: format!("cannot create the folder: {e}"),
            })?;
        }
        let outcome: DrawResult = match format {
            Format::Png => (|| {
                let root = BitMapBackend::new(path, $size).into_drawing_area();
                root.fill(&WHITE)?;
                $f(&root, $($arg),*)?;
                root.present()?;
                Ok(())
            })(),
            Format::Svg => (|| {
                let root = SVGBackend::new(path, $size).into_drawing_area();
                root.fill(&WHITE)?;
                $f(&root, $($arg),*)?;
                root.present()?;
                Ok(())
            })(),
        };
        outcome.map_err(|e| PlotError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }};
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Scale and label of a time axis spanning `t0..t1` seconds.
fn time_axis(t0: f64, t1: f64) -> (f64, &'static str) {
    if (t1 - t0).abs() <= 2.0 {
        (1e3, "time (ms)")
    } else {
        (1.0, "time (s)")
    }
}

/// A non-empty, finite range around `lo..hi`, padded by `pad` of its span.
fn padded(lo: f64, hi: f64, pad: f64) -> Range<f64> {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return 0.0..1.0;
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return lo - d..hi + d;
    }
    let d = (hi - lo) * pad;
    lo - d..hi + d
}

fn finite_range<'a>(values: impl IntoIterator<Item = &'a f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

fn check(condition: bool, message: impl FnOnce() -> String) -> Result<(), PlotError> {
    if condition {
        Ok(())
    } else {
        Err(PlotError::Data(message()))
    }
}

/// Extent of frames stamped at `t` (each frame covers the interval ending at its stamp).
fn frame_extent(t: &[f64]) -> (f64, f64) {
    let last = t[t.len() - 1];
    let step = if t.len() > 1 {
        (last - t[0]) / (t.len() - 1) as f64
    } else {
        t[0].abs().max(1e-3)
    };
    (t[0] - step, last)
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart with the standard margins and label areas.
fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x: Range<f64>,
    y: Range<f64>,
    right_labels: u32,
) -> Result<Chart<'a, DB>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(8)
        .margin_bottom(8)
        .margin_left(12)
        .margin_right(if right_labels > 0 { 0 } else { 24 })
        .x_label_area_size(52)
        .y_label_area_size(78);
    if right_labels > 0 {
        builder.right_y_label_area_size(right_labels);
    }
    if let Some(caption) = caption {
        builder.caption(caption, (FAMILY, TITLE_SIZE));
    }
    Ok(builder.build_cartesian_2d(x, y)?)
}

/// Axis lines, ticks and labels; `grid` adds light grid lines.
fn mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x_desc: &str,
    y_desc: &str,
    grid: bool,
    y_format: Option<&dyn Fn(&f64) -> String>,
    max_y_labels: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FAMILY, DESC_SIZE))
        .label_style((FAMILY, LABEL_SIZE))
        .x_labels(8)
        .y_labels(max_y_labels.min(7))
        .x_label_formatter(&tick)
        .y_label_formatter(y_format.unwrap_or(&tick));
    if grid {
        mesh.light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225));
    } else {
        mesh.disable_mesh();
    }
    mesh.draw()?;
    Ok(())
}

/// A tick label: integers without a decimal point, others with up to 6 significant digits.
fn tick(v: &f64) -> String {
    let v = *v;
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    if (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0) {
        return format!("{}", v.round());
    }
    let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.digits$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Draw an RGB image (`w × h`, row-major from the top) over the whole plotting area of `chart`.
fn blit<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    pixels: Vec<u8>,
    (w, h): (u32, u32),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let element = BitMapElement::with_owned_buffer((0, 0), (w, h), pixels)
        .ok_or("internal error: image buffer of the wrong size")?;
    chart.plotting_area().strip_coord_spec().draw(&element)?;
    Ok(())
}

/// Average of `values` (`rows × cols`, row-major) over the pixel grid `w × h`: pixel column `x`
/// covers columns `[x·cols/w, (x+1)·cols/w)` (at least one), pixel row `y` (from the top) covers
/// rows counted from the bottom when `bottom_up`, else from the top.
fn resample(
    values: &[f64],
    (rows, cols): (usize, usize),
    (w, h): (usize, usize),
    bottom_up: bool,
) -> Vec<f64> {
    let bin = |i: usize, n: usize, pixels: usize| {
        let start = i * n / pixels;
        let end = ((i + 1) * n / pixels).max(start + 1).min(n);
        start..end
    };
    // Columns first: (rows × w).
    let mut narrow = vec![0.0; rows * w];
    for x in 0..w {
        let range = bin(x, cols, w);
        let count = range.len() as f64;
        for r in 0..rows {
            let row = &values[r * cols..(r + 1) * cols];
            narrow[r * w + x] = row[range.clone()].iter().sum::<f64>() / count;
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        let from = if bottom_up { h - 1 - y } else { y };
        let range = bin(from, rows, h);
        let count = range.len() as f64;
        for x in 0..w {
            out[y * w + x] = range.clone().map(|r| narrow[r * w + x]).sum::<f64>() / count;
        }
    }
    out
}

fn paint(values: &[f64], map: ColourMap, (lo, hi): (f64, f64)) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(values.len() * 3);
    for &v in values {
        let c = if v.is_finite() {
            map.at((v - lo) / (hi - lo))
        } else {
            (255, 255, 255)
        };
        pixels.extend_from_slice(&[c.0, c.1, c.2]);
    }
    pixels
}

/// Blue–white–red for data on both sides of zero (weights, currents), viridis otherwise (rates,
/// voltages).
fn choose_map(values: &[f64]) -> ColourMap {
    let (lo, hi) = finite_range(values);
    if lo < 0.0 && hi > 0.0 {
        ColourMap::Diverging
    } else {
        ColourMap::Viridis
    }
}

/// A vertical colour bar for `range` with its label, in `area`.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: ColourMap,
    (lo, hi): (f64, f64),
    label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut bar = ChartBuilder::on(area)
        .margin_top(8)
        .margin_bottom(8)
        .margin_left(4)
        .margin_right(12)
        .x_label_area_size(52)
        .right_y_label_area_size(84)
        .build_cartesian_2d(0.0..1.0, lo..hi)?
        .set_secondary_coord(0.0..1.0, lo..hi);
    bar.configure_secondary_axes()
        .y_desc(label)
        .axis_desc_style((FAMILY, DESC_SIZE))
        .label_style((FAMILY, LABEL_SIZE))
        .y_labels(6)
        .y_label_formatter(&tick)
        .draw()?;
    let (w, h) = bar.plotting_area().dim_in_pixel();
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        let c = map.at(1.0 - y as f64 / (h.max(2) - 1) as f64);
        for _ in 0..w {
            pixels.extend_from_slice(&[c.0, c.1, c.2]);
        }
    }
    let element = BitMapElement::with_owned_buffer((0, 0), (w, h), pixels)
        .ok_or("internal error: colour bar of the wrong size")?;
    bar.plotting_area().strip_coord_spec().draw(&element)?;
    Ok(())
}

/// Title on top, then the plot and a colour bar side by side.
type Pair<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

fn titled_with_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<Pair<DB>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let body = root.titled(title, (FAMILY, TITLE_SIZE))?;
    let (w, _) = body.dim_in_pixel();
    Ok(body.split_horizontally(w.saturating_sub(130)))
}

// ---------------------------------------------------------------------------------------------
// Spike raster

/// Spike raster: one mark per spike at (time, neuron). `times` in seconds, `neurons` the neuron
/// index of each spike (same length), `n_neurons` the number of neuron rows, `t_range` the time
/// span shown (seconds).
pub fn raster(
    path: &Path,
    title: &str,
    times: &[f64],
    neurons: &[u32],
    n_neurons: usize,
    t_range: (f64, f64),
) -> Result<(), PlotError> {
    check(times.len() == neurons.len(), || {
        format!(
            "raster: {} spike times but {} neuron indices",
            times.len(),
            neurons.len()
        )
    })?;
    check(n_neurons > 0 && t_range.1 > t_range.0, || {
        "raster: no neurons or an empty time range".into()
    })?;
    render!(
        path,
        SIZE,
        draw_raster(title, times, neurons, n_neurons, t_range)
    )
}

fn draw_raster<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    times: &[f64],
    neurons: &[u32],
    n_neurons: usize,
    (t0, t1): (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (scale, x_desc) = time_axis(t0, t1);
    let mut chart = chart(
        root,
        Some(title),
        t0 * scale..t1 * scale,
        0.0..n_neurons as f64,
        0,
    )?;
    mesh(&mut chart, x_desc, "neuron", false, None, n_neurons + 1)?;
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let (wu, hu) = (w as usize, h as usize);
    let mut pixels = vec![255u8; wu * hu * 3];
    // Marks: a vertical tick per spike, as tall as a neuron row (1 to 6 px), 2 px wide when the
    // raster is sparse.
    let row = h as f64 / n_neurons as f64;
    let height = (row * 0.8).clamp(1.0, 6.0) as usize;
    let width = if times.len() < 20 * wu { 2 } else { 1 };
    for (&t, &n) in times.iter().zip(neurons) {
        if !(t >= t0 && t <= t1) || n as usize >= n_neurons {
            continue;
        }
        let x = (((t - t0) / (t1 - t0)) * (w as f64 - 1.0)).round() as usize;
        let centre = h as f64 - (n as f64 + 0.5) * row;
        let top = (centre - height as f64 / 2.0).round().max(0.0) as usize;
        for y in top..(top + height).min(hu) {
            for x in x..(x + width).min(wu) {
                let i = (y * wu + x) * 3;
                pixels[i..i + 3].copy_from_slice(&[20, 20, 20]);
            }
        }
    }
    blit(&chart, pixels, (w, h))
}

// ---------------------------------------------------------------------------------------------
// Heatmap

/// Heatmap of `values` (`frames × neurons`, row-major, as one lane of a `<pop>.<var>` array):
/// time on x (frame stamps `t` in seconds), neuron on y (index 0 at the bottom), a colour bar
/// labelled `colour_label`. Viridis for non-negative data, blue–white–red otherwise.
pub fn heatmap(
    path: &Path,
    title: &str,
    values: &[f64],
    (frames, neurons): (usize, usize),
    t: &[f64],
    y_label: &str,
    colour_label: &str,
) -> Result<(), PlotError> {
    check(frames > 0 && neurons > 0, || {
        "heatmap: no frames or no neurons".into()
    })?;
    check(
        values.len() == frames * neurons && t.len() == frames,
        || {
            format!(
                "heatmap: {} values and {} times for {frames} frames × {neurons} neurons",
                values.len(),
                t.len()
            )
        },
    )?;
    render!(
        path,
        SIZE,
        draw_heatmap(title, values, (frames, neurons), t, y_label, colour_label)
    )
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    values: &[f64],
    (frames, neurons): (usize, usize),
    t: &[f64],
    y_label: &str,
    colour_label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let map = choose_map(values);
    let range = colour::range(values, map);
    let (left, right) = titled_with_bar(root, title)?;
    let (t0, t1) = frame_extent(t);
    let (scale, x_desc) = time_axis(t0, t1);
    let mut chart = chart(&left, None, t0 * scale..t1 * scale, 0.0..neurons as f64, 0)?;
    mesh(&mut chart, x_desc, y_label, false, None, neurons + 1)?;
    let (w, h) = chart.plotting_area().dim_in_pixel();
    // The array is (frames × neurons); the image wants neurons as rows: transpose.
    let mut transposed = vec![0.0; values.len()];
    for f in 0..frames {
        for n in 0..neurons {
            transposed[n * frames + f] = values[f * neurons + n];
        }
    }
    let grid = resample(
        &transposed,
        (neurons, frames),
        (w as usize, h as usize),
        true,
    );
    blit(&chart, paint(&grid, map, range), (w, h))?;
    colour_bar(&right, map, range, colour_label)
}

// ---------------------------------------------------------------------------------------------
// Lines over time

/// Lines over time: each series has one value per time in `t` (seconds); a legend names them.
pub fn lines(
    path: &Path,
    title: &str,
    t: &[f64],
    series: &[Series],
    y_label: &str,
) -> Result<(), PlotError> {
    check(!t.is_empty() && !series.is_empty(), || {
        "lines: no times or no series".into()
    })?;
    for s in series {
        check(s.values.len() == t.len(), || {
            format!(
                "lines: series `{}` has {} values for {} times",
                s.label,
                s.values.len(),
                t.len()
            )
        })?;
    }
    render!(path, SIZE, draw_lines(title, t, series, y_label))
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    t: &[f64],
    series: &[Series],
    y_label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (t0, t1) = frame_extent(t);
    let (scale, x_desc) = time_axis(t0, t1);
    let (lo, hi) = finite_range(series.iter().flat_map(|s| &s.values));
    let mut chart = chart(
        root,
        Some(title),
        padded(t0 * scale, t1 * scale, 0.0),
        padded(lo, hi, 0.06),
        0,
    )?;
    mesh(&mut chart, x_desc, y_label, true, None, usize::MAX)?;
    let x: Vec<f64> = t.iter().map(|v| v * scale).collect();
    draw_series_lines(&mut chart, &x, series, false)?;
    legend(&mut chart, &x, series)
}

/// Evenly thinned indices so at most [`MAX_POINTS`] points are drawn.
fn thin(n: usize) -> impl Iterator<Item = usize> {
    let stride = n.div_ceil(MAX_POINTS).max(1);
    (0..n)
        .step_by(stride)
        .chain((n > 0 && !(n - 1).is_multiple_of(stride)).then_some(n - 1))
}

fn draw_series_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: &[f64],
    series: &[Series],
    markers: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for s in series {
        let colour = rgb(s.colour);
        let style = colour.stroke_width(2);
        // Non-finite values split the line.
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut segments = Vec::new();
        for i in thin(x.len()) {
            let y = s.values[i];
            if y.is_finite() {
                segment.push((x[i], y));
            } else if !segment.is_empty() {
                segments.push(std::mem::take(&mut segment));
            }
        }
        segments.push(segment);
        for (k, points) in segments.into_iter().enumerate() {
            if markers {
                chart.draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 4, colour.filled()))
                        .collect::<Vec<_>>(),
                )?;
            }
            let drawn = chart.draw_series(LineSeries::new(points, style))?;
            if k == 0 && !s.label.is_empty() {
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], colour.stroke_width(3))
                });
            }
        }
    }
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    x: &[f64],
    series: &[Series],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let labelled = series.iter().filter(|s| !s.label.is_empty()).count();
    if labelled > 0 {
        let chars = series.iter().map(|s| s.label.chars().count()).max();
        let position = legend_corner(
            (chart.x_range(), chart.y_range()),
            chart.plotting_area().dim_in_pixel(),
            x,
            series,
            (labelled, chars.unwrap_or(0)),
        );
        chart
            .configure_series_labels()
            .label_font((FAMILY, LEGEND_SIZE))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(190, 190, 190))
            .position(position)
            .draw()?;
    }
    Ok(())
}

/// The corner of the plot where the legend (`entries` lines, the longest `chars` long, in a plot
/// area of `pixels`) hides the least of the lines (upper right when tied).
fn legend_corner(
    (x_range, y_range): (Range<f64>, Range<f64>),
    pixels: (u32, u32),
    x: &[f64],
    series: &[Series],
    (entries, chars): (usize, usize),
) -> SeriesLabelPosition {
    let width = (chars as f64 * 0.55 * LEGEND_SIZE + 50.0) / pixels.0.max(1) as f64;
    let height = (entries as f64 * (LEGEND_SIZE + 5.0) + 20.0) / pixels.1.max(1) as f64;
    let mut counts = [0usize; 4];
    let mut count = |xi: f64, yi: f64| {
        let fx = (xi - x_range.start) / (x_range.end - x_range.start);
        let fy = (yi - y_range.start) / (y_range.end - y_range.start);
        let (right, left) = (fx >= 1.0 - width, fx <= width);
        let (top, bottom) = (fy >= 1.0 - height, fy <= height);
        counts[0] += (top && right) as usize;
        counts[1] += (top && left) as usize;
        counts[2] += (bottom && right) as usize;
        counts[3] += (bottom && left) as usize;
    };
    // Sample every line densely (about 400 points), interpolating between its points.
    let kept: Vec<usize> = thin(x.len()).collect();
    let per_segment = (400 / kept.len().max(1)).max(1);
    for s in series {
        for pair in kept.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (ya, yb) = (s.values[a], s.values[b]);
            if !(ya.is_finite() && yb.is_finite()) {
                continue;
            }
            for k in 0..per_segment {
                let f = k as f64 / per_segment as f64;
                count(x[a] + (x[b] - x[a]) * f, ya + (yb - ya) * f);
            }
        }
        if let Some(&last) = kept.last()
            && s.values[last].is_finite()
        {
            count(x[last], s.values[last]);
        }
    }
    let best = (0..4).min_by_key(|&i| (counts[i], i)).unwrap_or(0);
    [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Bump phase and amplitude

/// Phase (radians, in `(-π, π]`) and amplitude of the first Fourier mode of `rates` over neurons
/// on a ring (neuron `j` at `θ_j = 2π j / N`): phase = arg Σ r_j e^{iθ_j}, amplitude = 2 |Σ| / N
/// (the height of the cosine `a cos(θ − phase)` that best fits the rates).
pub fn ring_mode(rates: &[f64]) -> (f64, f64) {
    let n = rates.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let (mut re, mut im) = (0.0, 0.0);
    for (j, &r) in rates.iter().enumerate() {
        let theta = std::f64::consts::TAU * j as f64 / n as f64;
        re += r * theta.cos();
        im += r * theta.sin();
    }
    (im.atan2(re), 2.0 * re.hypot(im) / n as f64)
}

/// Bump phase (degrees, one series per lane or population) over amplitude, against time
/// (seconds). Phase lines break where they wrap around ±180°.
pub fn bump(
    path: &Path,
    title: &str,
    t: &[f64],
    phase_deg: &[Series],
    amplitude: &[Series],
    amplitude_label: &str,
) -> Result<(), PlotError> {
    check(!t.is_empty() && !phase_deg.is_empty(), || {
        "bump: no times or no series".into()
    })?;
    for s in phase_deg.iter().chain(amplitude) {
        check(s.values.len() == t.len(), || {
            format!(
                "bump: series `{}` has {} values for {} times",
                s.label,
                s.values.len(),
                t.len()
            )
        })?;
    }
    render!(
        path,
        TALL,
        draw_bump(title, t, phase_deg, amplitude, amplitude_label)
    )
}

fn draw_bump<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    t: &[f64],
    phase: &[Series],
    amplitude: &[Series],
    amplitude_label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let body = root.titled(title, (FAMILY, TITLE_SIZE))?;
    let panels = body.split_evenly((2, 1));
    let (t0, t1) = frame_extent(t);
    let (scale, x_desc) = time_axis(t0, t1);
    let x: Vec<f64> = t.iter().map(|v| v * scale).collect();
    let x_range = padded(t0 * scale, t1 * scale, 0.0);

    let mut top = chart(&panels[0], None, x_range.clone(), -180.0..180.0, 0)?;
    mesh(&mut top, x_desc, "bump phase (deg)", true, None, usize::MAX)?;
    // Break the phase lines at wrap-arounds (a jump of more than 180°).
    for s in phase {
        let (mut xs, mut values) = (Vec::new(), Vec::new());
        for (i, &v) in s.values.iter().enumerate() {
            if i > 0 && (v - s.values[i - 1]).abs() > 180.0 {
                xs.push(x[i]);
                values.push(f64::NAN);
            }
            xs.push(x[i]);
            values.push(v);
        }
        let broken = Series::new(s.label.clone(), values, s.colour);
        draw_series_lines(&mut top, &xs, std::slice::from_ref(&broken), false)?;
    }
    legend(&mut top, &x, phase)?;

    if !amplitude.is_empty() {
        let (lo, hi) = finite_range(amplitude.iter().flat_map(|s| &s.values));
        let mut bottom = chart(&panels[1], None, x_range, padded(lo.min(0.0), hi, 0.06), 0)?;
        mesh(&mut bottom, x_desc, amplitude_label, true, None, usize::MAX)?;
        draw_series_lines(&mut bottom, &x, amplitude, false)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Matrix

/// A matrix (`rows × cols`, row-major; e.g. weights post × pre) as an image, row 0 at the top,
/// with a colour bar (blue–white–red for signed values).
pub fn matrix(
    path: &Path,
    title: &str,
    values: &[f64],
    (rows, cols): (usize, usize),
    (x_label, y_label): (&str, &str),
    colour_label: &str,
) -> Result<(), PlotError> {
    check(rows > 0 && cols > 0 && values.len() == rows * cols, || {
        format!("matrix: {} values for {rows} × {cols}", values.len())
    })?;
    let size = (SIZE.1 + 190, SIZE.1);
    render!(
        path,
        size,
        draw_matrix(
            title,
            values,
            (rows, cols),
            (x_label, y_label),
            colour_label
        )
    )
}

fn draw_matrix<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    values: &[f64],
    (rows, cols): (usize, usize),
    (x_label, y_label): (&str, &str),
    colour_label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let map = choose_map(values);
    let range = colour::range(values, map);
    let (left, right) = titled_with_bar(root, title)?;
    let mut chart = chart(&left, None, 0.0..cols as f64, 0.0..rows as f64, 0)?;
    // Row 0 at the top: label y from the top.
    let flip = move |y: &f64| format!("{}", (rows as f64 - y).round());
    mesh(&mut chart, x_label, y_label, false, Some(&flip), rows + 1)?;
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let grid = resample(values, (rows, cols), (w as usize, h as usize), false);
    blit(&chart, paint(&grid, map, range), (w, h))?;
    colour_bar(&right, map, range, colour_label)
}

// ---------------------------------------------------------------------------------------------
// Sweep summary

/// A quantity against a swept parameter: one line with markers per series, one value per `x`
/// (the lanes, in any order: they are sorted by `x`).
pub fn sweep(
    path: &Path,
    title: &str,
    x: &[f64],
    series: &[Series],
    (x_label, y_label): (&str, &str),
) -> Result<(), PlotError> {
    check(!x.is_empty() && !series.is_empty(), || {
        "sweep: no values or no series".into()
    })?;
    for s in series {
        check(s.values.len() == x.len(), || {
            format!(
                "sweep: series `{}` has {} values for {} swept values",
                s.label,
                s.values.len(),
                x.len()
            )
        })?;
    }
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let xs: Vec<f64> = order.iter().map(|&i| x[i]).collect();
    let sorted: Vec<Series> = series
        .iter()
        .map(|s| {
            Series::new(
                s.label.clone(),
                order.iter().map(|&i| s.values[i]).collect(),
                s.colour,
            )
        })
        .collect();
    render!(
        path,
        SIZE,
        draw_sweep(title, &xs, &sorted, (x_label, y_label))
    )
}

fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x: &[f64],
    series: &[Series],
    (x_label, y_label): (&str, &str),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = finite_range(x);
    let (lo, hi) = finite_range(series.iter().flat_map(|s| &s.values));
    let mut chart = chart(
        root,
        Some(title),
        padded(x0, x1, 0.05),
        padded(lo, hi, 0.08),
        0,
    )?;
    mesh(&mut chart, x_label, y_label, true, None, usize::MAX)?;
    draw_series_lines(&mut chart, x, series, true)?;
    legend(&mut chart, x, series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_mode_of_a_cosine_bump() {
        let n = 64;
        let phase = 1.0_f64;
        let rates: Vec<f64> = (0..n)
            .map(|j| 3.0 + 2.0 * (std::f64::consts::TAU * j as f64 / n as f64 - phase).cos())
            .collect();
        let (p, a) = ring_mode(&rates);
        assert!((p - phase).abs() < 1e-12, "{p}");
        assert!((a - 2.0).abs() < 1e-12, "{a}");
        assert_eq!(ring_mode(&[]), (0.0, 0.0));
    }

    #[test]
    fn resample_averages_and_flips() {
        // 2 rows × 4 columns onto 2 × 2 pixels: column pairs averaged; bottom_up puts row 0 last.
        let v = [1.0, 3.0, 5.0, 7.0, 10.0, 10.0, 20.0, 20.0];
        assert_eq!(
            resample(&v, (2, 4), (2, 2), false),
            vec![2.0, 6.0, 10.0, 20.0]
        );
        assert_eq!(
            resample(&v, (2, 4), (2, 2), true),
            vec![10.0, 20.0, 2.0, 6.0]
        );
        // Upsampling repeats.
        assert_eq!(
            resample(&[1.0, 2.0], (1, 2), (4, 1), false),
            vec![1.0, 1.0, 2.0, 2.0]
        );
    }

    #[test]
    fn thinning_keeps_ends() {
        let kept: Vec<usize> = thin(10_001).collect();
        assert!(kept.len() <= MAX_POINTS + 1);
        assert_eq!(kept[0], 0);
        assert_eq!(*kept.last().unwrap(), 10_000);
        assert_eq!(thin(5).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick(&500.0), "500");
        assert_eq!(tick(&-180.0), "-180");
        assert_eq!(tick(&0.30000000000000004), "0.3");
        assert_eq!(tick(&0.0), "0");
        assert_eq!(tick(&1.25), "1.25");
        assert_eq!(tick(&1.5e-4), "0.00015");
    }
}
