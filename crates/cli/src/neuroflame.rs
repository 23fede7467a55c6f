//! `--from-neuroflame`: read a NeuroFlame config (`neuroxide_model::neuroflame`) for `run`, and
//! `neuroxide convert`, which writes the translated model file.

use anyhow::{Context, Result};
use neuroxide_model::ModelFile;
use neuroxide_model::neuroflame::{self, Options, Version};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of a NeuroFlame import (shared by `run` and `convert`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ImportArgs {
    /// FILE is a NeuroFlame config (`conf/*.yml`), translated into a model (a `defaults.yml` next
    /// to it is read first, as NeuroFlame does).
    #[arg(long)]
    pub from_neuroflame: bool,
    /// Override a NeuroFlame key before translation: `--nf-set N_BATCH=10` (repeatable), as
    /// NeuroFlame's keyword arguments.
    #[arg(long = "nf-set", value_name = "KEY=VALUE")]
    pub nf_set: Vec<String>,
    /// Which NeuroFlame code the config is read as: 2024 (default; `x e^{-dt/τ} + u dt/τ`) or head.
    #[arg(long, default_value = "2024", value_name = "2024|head")]
    pub neuroflame_version: Version,
    /// Run without the enabled features neuroxide does not simulate yet (listed as warnings)
    /// instead of refusing the config.
    #[arg(long)]
    pub allow_unsupported: bool,
    /// Record NeuroFlame's DURATION/T_WINDOW + 1 frames (the first ending at t = 0).
    #[arg(long)]
    pub neuroflame_frames: bool,
}

impl ImportArgs {
    fn options(&self) -> Options {
        Options {
            version: self.neuroflame_version,
            allow_unsupported: self.allow_unsupported,
            neuroflame_frames: self.neuroflame_frames,
        }
    }
}

/// Translate `file`, printing every warning (unless `quiet`) or every error.
pub fn translate(file: &Path, args: &ImportArgs, quiet: bool) -> Result<String, ExitCode> {
    match neuroflame::translate_file(file, &args.nf_set, &args.options()) {
        Ok(t) => {
            if !quiet {
                for w in &t.warnings {
                    eprintln!("warning: {}: not honoured: {w}", file.display());
                }
            }
            Ok(t.to_yaml(&file.display().to_string()))
        }
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            Err(ExitCode::from(2))
        }
    }
}

/// The model of a NeuroFlame config, with `--set` overrides of neuroxide key paths applied.
pub fn load(
    file: &Path,
    set: &[String],
    args: &ImportArgs,
    quiet: bool,
) -> Result<ModelFile, ExitCode> {
    let yaml = translate(file, args, quiet)?;
    ModelFile::from_yaml(&yaml, None, set).map_err(|errors| {
        for e in errors.iter() {
            eprintln!("error: {} (translated): {e}", file.display());
        }
        ExitCode::from(2)
    })
}

/// `neuroxide convert --from-neuroflame FILE -o OUT`.
pub fn convert(file: &Path, out: Option<&PathBuf>, args: &ImportArgs) -> Result<ExitCode> {
    if !args.from_neuroflame {
        anyhow::bail!("convert: give the format of FILE (--from-neuroflame)");
    }
    let yaml = match translate(file, args, false) {
        Ok(y) => y,
        Err(code) => return Ok(code),
    };
    // Check that the model is valid before writing it.
    if let Err(errors) = ModelFile::from_yaml(&yaml, None, &[]) {
        for e in errors.iter() {
            eprintln!("error: {} (translated): {e}", file.display());
        }
        return Ok(ExitCode::from(2));
    }
    match out {
        Some(path) => {
            std::fs::write(path, &yaml).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}
