//! Every kind of plot renders, as PNG (decodes, expected size, not blank) and SVG (well formed,
//! axis labels present), from a synthetic results set and from a small real run of the ring
//! example.

use neuroxide_plot::draw::{self, SIZE, Series, TALL};
use neuroxide_plot::results::{Array, parse_spec};
use neuroxide_plot::{Format, Kind, PlotOptions, ResultsSet, plot_results};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-plot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Width, height and number of distinct colours of a PNG file.
fn png_info(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let colours: HashSet<&[u8]> = buffer[..info.buffer_size()].chunks(channels).collect();
    (info.width, info.height, colours.len())
}

/// Check a PNG: its size, and that it shows more than a background and some text.
fn check_png(path: &Path, size: (u32, u32)) {
    let (w, h, colours) = png_info(path);
    assert_eq!((w, h), size, "{}", path.display());
    assert!(colours > 2, "{}: {colours} colours", path.display());
}

/// A small well-formedness check: tags nest and close, one root `<svg>`.
fn check_svg(path: &Path, labels: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text.as_str();
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "{}",
                path.display()
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap().to_string();
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg");
            }
            stack.push(name);
        } else if stack.is_empty() {
            roots += 1;
        }
    }
    assert!(stack.is_empty(), "{}: unclosed {stack:?}", path.display());
    assert_eq!(roots, 1, "{}", path.display());
    for label in labels {
        assert!(
            text.contains(label),
            "{}: no label `{label}`",
            path.display()
        );
    }
}

const SPEC: &str = "
name: synthetic
dt: 0.5 ms
duration: 500 ms
populations:
  E: {size: 64, model: rate, tau: 20 ms}
  I: {size: 16, tau: 10 ms}
projections:
  EE: {pre: E, post: E, rule: all_to_all, profile: {cosine: {kappa: 3.0}}, weight: 1.0}
";

/// Two lanes, 50 frames of 10 ms: a bump of 64 neurons drifting in lane 1, spikes, currents, a
/// weight matrix and a swept value.
fn synthetic() -> ResultsSet {
    let (lanes, frames, n) = (2, 50, 64);
    let t: Vec<f64> = (1..=frames).map(|f| f as f64 * 0.01).collect();
    let mut rate = Vec::new();
    for l in 0..lanes {
        for f in 0..frames {
            let centre = 1.0 + l as f64 * 0.05 * f as f64;
            for j in 0..n {
                let theta = std::f64::consts::TAU * j as f64 / n as f64;
                rate.push(
                    (1.0 + 2.0 * (theta - centre).cos()).max(0.0) * (f as f64 / 10.0).min(1.0),
                );
            }
        }
    }
    let mean: Vec<f64> = rate
        .chunks(n)
        .map(|r| r.iter().sum::<f64>() / n as f64)
        .collect();
    let i_mean: Vec<f64> = mean.iter().map(|m| 0.5 * m).collect();
    let current: Vec<f64> = mean.iter().map(|m| m - 0.3).collect();
    let mut spikes = Vec::new();
    for step in (0..1000).step_by(7) {
        spikes.extend_from_slice(&[0.0, step as f64, ((step * 13) % n) as f64]);
    }
    let weights: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            (std::f64::consts::TAU * (i as f64 - j as f64) / n as f64).cos()
        })
        .collect();
    let arrays = vec![
        Array::new("t", vec![frames], t),
        Array::new("E.rate", vec![lanes, frames, n], rate),
        Array::new("E.rate_mean", vec![lanes, frames], mean),
        Array::new("I.rate_mean", vec![lanes, frames], i_mean),
        Array::new("E.current_mean", vec![lanes, frames], current),
        Array::new("E.spikes", vec![spikes.len() / 3, 3], spikes),
        Array::new("EE.weights", vec![n, n], weights),
        Array::new("lane.inputs.drive.constant", vec![lanes], vec![1.0, 2.0]),
    ];
    ResultsSet::from_arrays(arrays, parse_spec(SPEC))
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_kind_renders_from_a_synthetic_set_png() {
    let set = synthetic();
    let out = temp_dir("synthetic-png");
    let files = set.plot(&out, &PlotOptions::default()).unwrap();
    assert_eq!(
        names(&files),
        [
            "E.raster.png",
            "E.heatmap.png",
            "means.png",
            "currents.png",
            "EE.connectivity.png",
            "E.bump.png",
            "sweep.inputs.drive.constant.png",
        ]
    );
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        let size = match name.as_ref() {
            "E.bump.png" => TALL,
            "EE.connectivity.png" => (SIZE.1 + 190, SIZE.1),
            _ => SIZE,
        };
        check_png(file, size);
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn every_kind_renders_from_a_synthetic_set_svg() {
    let set = synthetic();
    let out = temp_dir("synthetic-svg");
    let options = PlotOptions {
        format: Format::Svg,
        ..PlotOptions::default()
    };
    let files = set.plot(&out, &options).unwrap();
    assert_eq!(files.len(), 7);
    let labels: &[(&str, &[&str])] = &[
        ("E.raster.svg", &["time (ms)", "neuron", "E spikes"]),
        (
            "E.heatmap.svg",
            &["time (ms)", "neuron", "rate (a.u.)", "<image"],
        ),
        ("means.svg", &["time (ms)", "mean rate (a.u.)", "lane 1"]),
        ("currents.svg", &["time (ms)", "mean current (a.u.)"]),
        (
            "EE.connectivity.svg",
            &[
                "presynaptic neuron (E)",
                "postsynaptic neuron (E)",
                "weight",
            ],
        ),
        (
            "E.bump.svg",
            &["time (ms)", "bump phase (deg)", "amplitude (a.u.)"],
        ),
        (
            "sweep.inputs.drive.constant.svg",
            &["inputs.drive.constant", "time-averaged rate (a.u.)"],
        ),
    ];
    for (name, expected) in labels {
        check_svg(&out.join(name), expected);
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn kinds_and_lanes_select_plots() {
    let set = synthetic();
    let out = temp_dir("select");
    let options = PlotOptions {
        kinds: vec![Kind::Heatmap, Kind::Means],
        lane: Some(1),
        ..PlotOptions::default()
    };
    let files = set.plot(&out, &options).unwrap();
    assert_eq!(names(&files), ["E.heatmap.png", "means.png"]);
    // Lane 1's bump moves; the heatmap of lane 1 is not the one of lane 0.
    let lane1 = std::fs::read(&files[0]).unwrap();
    let files0 = set
        .plot(
            &out.join("lane0"),
            &PlotOptions {
                kinds: vec![Kind::Heatmap],
                ..PlotOptions::default()
            },
        )
        .unwrap();
    assert_ne!(std::fs::read(&files0[0]).unwrap(), lane1);
    let beyond = PlotOptions {
        lane: Some(2),
        ..PlotOptions::default()
    };
    let error = set.plot(&out, &beyond).unwrap_err().to_string();
    assert!(
        error.contains("lane 2 is out of range: the results have 2 lanes"),
        "{error}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn slice_api_checks_shapes() {
    let out = temp_dir("shapes");
    let e = draw::heatmap(
        &out.join("h.png"),
        "x",
        &[1.0; 5],
        (2, 3),
        &[0.1, 0.2],
        "n",
        "r",
    );
    assert!(e.unwrap_err().to_string().contains("5 values"));
    let e = draw::lines(
        &out.join("l.png"),
        "x",
        &[0.0, 1.0],
        &[Series::new("a", vec![1.0], (0, 0, 0))],
        "y",
    );
    assert!(e.is_err());
    assert!(draw::raster(&out.join("r.gif"), "x", &[], &[], 1, (0.0, 1.0)).is_err());
    // Constant and non-finite data still draw.
    draw::lines(
        &out.join("c.png"),
        "constant",
        &[0.0, 0.5, 1.0],
        &[Series::new("a", vec![2.0, f64::NAN, 2.0], (200, 0, 0))],
        "y",
    )
    .unwrap();
    check_png(&out.join("c.png"), SIZE);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A real run of examples/ring.yaml, reduced: its results folder plots as `neuroxide plot` does.
#[test]
fn ring_example_plots() {
    let overrides: Vec<String> = [
        "duration=600 ms",
        "populations.E.size=200",
        "populations.I.size=50",
        "sweep={inputs.cue.stimulus.phase: [90, 270]}",
        "monitors=[{population: E, variable: rate, window: 10 ms}, \
         {population: I, variable: rate, window: 10 ms, neurons: none}, \
         {population: E, variable: input, window: 10 ms, neurons: none}]",
    ]
    .map(String::from)
    .to_vec();
    let dir = run_example("ring", &overrides);

    let files = plot_results(&dir, &PlotOptions::default()).unwrap();
    assert_eq!(
        names(&files),
        [
            "E.heatmap.png",
            "means.png",
            "currents.png",
            "E.bump.png",
            "sweep.inputs.cue.stimulus.phase.png"
        ]
    );
    assert!(files.iter().all(|f| f.starts_with(dir.join("plots"))));
    for file in &files {
        let tall = file.ends_with("E.bump.png");
        check_png(file, if tall { TALL } else { SIZE });
    }

    let svg = dir.join("svg");
    let options = PlotOptions {
        format: Format::Svg,
        out: Some(svg.clone()),
        ..PlotOptions::default()
    };
    let files = plot_results(&dir, &options).unwrap();
    assert_eq!(files.len(), 5);
    check_svg(
        &svg.join("E.heatmap.svg"),
        &["ring: E rate", "time (ms)", "neuron", "rate (a.u.)"],
    );
    check_svg(&svg.join("means.svg"), &["mean rate (a.u.)", "E", "I"]);
    check_svg(&svg.join("currents.svg"), &["mean current (a.u.)"]);
    check_svg(
        &svg.join("E.bump.svg"),
        &["bump phase (deg)", "amplitude (a.u.)", "phase = 270"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run `examples/<name>.yaml` with overrides and write its result folder.
fn run_example(name: &str, overrides: &[String]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join(format!("examples/{name}.yaml"));
    let model =
        neuroxide_model::ModelFile::load(&file, overrides).unwrap_or_else(|e| panic!("{e}"));
    let options = neuroxide::BuildOptions {
        threads: Some(1),
        base_dir: model.base_dir(),
    };
    let mut sim =
        neuroxide::AnySimulation::build(&model.spec, &options).unwrap_or_else(|e| panic!("{e}"));
    let results = sim.run().unwrap_or_else(|d| panic!("{}", d.message));
    let dir = temp_dir(name);
    neuroxide_io::write_results(&dir, &results).unwrap();
    dir
}

/// A real spiking run (the COBA example, shortened): rasters from its int64 spike arrays.
#[test]
fn coba_example_rasters() {
    let overrides = ["duration=100 ms", "monitors.4.stop=100 ms"].map(String::from);
    let dir = run_example("coba", &overrides);
    let files = plot_results(&dir, &PlotOptions::default()).unwrap();
    assert_eq!(
        names(&files),
        [
            "E.raster.png",
            "I.raster.png",
            "E.v.heatmap.png",
            "means.png"
        ]
    );
    for file in &files {
        check_png(file, SIZE);
    }
    let options = PlotOptions {
        format: Format::Svg,
        kinds: vec![Kind::Raster, Kind::Means],
        ..PlotOptions::default()
    };
    plot_results(&dir, &options).unwrap();
    let plots = dir.join("plots");
    check_svg(
        &plots.join("E.raster.svg"),
        &["coba: E spikes", "time (ms)", "neuron", "Hz per neuron"],
    );
    check_svg(&plots.join("means.svg"), &["mean rate (Hz)"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
