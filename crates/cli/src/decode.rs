//! `neuroxide decode DIR`: decoding of the per-neuron recordings in a result folder.

use anyhow::{Context, Result, bail};
use neuroxide::decode::{Decoder, decode as decode_array, decoders};
use neuroxide::{ArrayData, NamedArray};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The result folder (results.npz, spec.yaml; streamed `<population>.<variable>.npy`).
    dir: PathBuf,
    /// Also decode this population's recording (bump phase, m1, m0), whether or not its monitor
    /// has `decode:`.
    #[arg(long)]
    population: Vec<String>,
    /// The recorded variable of `--population`.
    #[arg(long, default_value = "rate")]
    variable: String,
    /// Circular box-car smoothing (neurons) for `--population`.
    #[arg(long, default_value_t = 0)]
    smooth: usize,
    /// Folder that relative file paths of the spec (overlap vectors) are resolved against
    /// (default: the working directory).
    #[arg(long)]
    base_dir: Option<PathBuf>,
}

pub fn decode(args: &DecodeArgs) -> Result<()> {
    let dir = &args.dir;
    let spec_path = dir.join("spec.yaml");
    let spec = std::fs::read_to_string(&spec_path)
        .ok()
        .and_then(|text| neuroxide_plot::results::parse_spec(&text));
    let mut list: Vec<Decoder> = match &spec {
        Some(spec) => decoders(spec, args.base_dir.as_deref()).map_err(|errors| {
            anyhow::anyhow!(
                "{}: {}",
                spec_path.display(),
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?,
        None => Vec::new(),
    };
    for population in &args.population {
        let prefix = if args.variable == "rate" {
            format!("{population}.")
        } else {
            format!("{population}.{}_", args.variable)
        };
        list.retain(|d| d.prefix != prefix);
        list.push(Decoder {
            array: format!("{population}.{}", args.variable),
            prefix,
            bump: true,
            smooth: args.smooth,
            overlaps: Vec::new(),
        });
    }
    if list.is_empty() {
        bail!(
            "nothing to decode in {}: no monitor has `decode:`; name one with --population",
            dir.display()
        );
    }
    let npz = dir.join("results.npz");
    let arrays =
        neuroxide_io::read_npz(&npz).with_context(|| format!("reading {}", npz.display()))?;
    let mut out = Vec::new();
    for decoder in &list {
        let array = match arrays.iter().find(|a| a.name == decoder.array) {
            Some(a) => a.clone(),
            None => {
                // A streamed recording: `<population>.<variable>.npy`.
                let path = dir.join(format!("{}.npy", decoder.array));
                if !path.is_file() {
                    bail!(
                        "{} has no per-neuron array `{}` (and there is no {}); record it with \
                         `neurons: all`",
                        npz.display(),
                        decoder.array,
                        path.display()
                    );
                }
                let read =
                    neuroxide::lower::read_array_file(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
                let (_, file) = read.into_iter().next().context("empty file")?;
                NamedArray {
                    name: decoder.array.clone(),
                    shape: file.shape,
                    data: ArrayData::F64(file.values),
                }
            }
        };
        if array.shape.len() != 3 {
            bail!(
                "`{}` has shape {:?}, expected (lanes, frames, neurons)",
                decoder.array,
                array.shape
            );
        }
        out.extend(decode_array(decoder, &array));
    }
    let path = dir.join("decoded.npz");
    neuroxide_io::write_npz(&path, &out).with_context(|| format!("writing {}", path.display()))?;
    for array in &out {
        let last: Vec<String> = if array.shape.len() == 2 && array.shape[1] > 0 {
            let values = array.data.to_f64();
            values
                .chunks(array.shape[1])
                .map(|lane| format!("{:.3}", lane[lane.len() - 1]))
                .collect()
        } else {
            Vec::new()
        };
        if last.is_empty() {
            println!("{} {:?}", array.name, array.shape);
        } else {
            println!(
                "{} {:?}; last frame per lane: {}",
                array.name,
                array.shape,
                last.join(" ")
            );
        }
    }
    println!("wrote {}", path.display());
    Ok(())
}
