//! Reading model files: YAML text → [`NetworkSpec`], with overrides, lanes and error positions.

use crate::error::{SpecError, SpecErrors};
use crate::paths;
use crate::spec::NetworkSpec;
use crate::validate;
use crate::yaml_index::YamlIndex;
use std::path::{Path, PathBuf};

/// A model read from YAML text, with what is needed to point errors at its lines.
///
/// Load a file (overrides as `--set` takes them), or YAML text; every problem is reported with
/// the file, line, key path, value and expectation:
///
/// ```
/// use neuroxide_model::ModelFile;
/// use std::path::Path;
///
/// let ring = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ring.yaml");
/// let model = ModelFile::load(&ring, &["populations.E.tau=15 ms".to_string()]).unwrap();
/// assert_eq!(model.spec.populations["E"].tau.unwrap().ms(), 15.0);
/// assert_eq!(model.spec.populations["E"].size, 1000);
///
/// // A typo is an error naming the line and the allowed keys.
/// let yaml = "dt: 0.1 ms\nduration: 10 ms\npopulations:\n  E: {size: 10, tua: 20 ms}\n";
/// let errors = ModelFile::from_yaml(yaml, Some(Path::new("model.yaml")), &[]).unwrap_err();
/// let message = errors.to_string();
/// assert!(message.contains("model.yaml:4"), "{message}");
/// assert!(message.contains("unknown field `tua`"), "{message}");
/// ```
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// The model as written, with command-line overrides applied.
    pub spec: NetworkSpec,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    index: YamlIndex,
}

impl ModelFile {
    /// Read and validate a model file, then apply `overrides` (`key.path=value`, as given to
    /// `--set`). Every problem found is reported with the file, line and key.
    pub fn load(path: &Path, overrides: &[String]) -> Result<ModelFile, SpecErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SpecErrors::one(SpecError {
                file: Some(path.to_path_buf()),
                ..SpecError::new("", format!("cannot read the model file: {e}"))
            })
        })?;
        ModelFile::from_yaml(&text, Some(path), overrides)
    }

    /// Parse YAML text; `path` (if given) names the file in errors and anchors relative file paths.
    pub fn from_yaml(
        text: &str,
        path: Option<&Path>,
        overrides: &[String],
    ) -> Result<ModelFile, SpecErrors> {
        let index = YamlIndex::new(text);
        let file = path.map(Path::to_path_buf);
        let mut model = ModelFile {
            spec: parse_yaml(text).map_err(|e| model_error(text, &index, &file, e))?,
            path: file,
            index,
        };
        for assignment in overrides {
            model.spec = paths::apply_override(&model.spec, assignment).map_err(SpecErrors::one)?;
        }
        validate::validate(&model.spec, model.base_dir().as_deref())
            .map_err(|e| model.locate_all(e))?;
        Ok(model)
    }

    /// The folder relative file paths in the model are resolved against.
    pub fn base_dir(&self) -> Option<PathBuf> {
        self.path
            .as_ref()
            .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    /// Fill in the file and line of an error found after loading (e.g. while lowering).
    pub fn locate(&self, mut error: SpecError) -> SpecError {
        if error.file.is_none() {
            error.file = self.path.clone();
        }
        if error.line.is_none()
            && let Some((line, column)) = self.index.locate(&error.path)
        {
            error.line = Some(line);
            error.column = Some(column);
        }
        error
    }

    /// [`ModelFile::locate`] for each error.
    pub fn locate_all(&self, errors: SpecErrors) -> SpecErrors {
        SpecErrors(errors.0.into_iter().map(|e| self.locate(e)).collect())
    }
}

/// Parse YAML text into any type (e.g. the training files of `neuroxide train`) with the errors
/// of model files: file, line and key path. Returns the key index, to locate later errors with
/// [`YamlIndex::locate`].
pub fn parse_located<T: serde::de::DeserializeOwned>(
    text: &str,
    path: Option<&Path>,
) -> Result<(T, YamlIndex), SpecErrors> {
    let index = YamlIndex::new(text);
    let file = path.map(Path::to_path_buf);
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    match serde_saphyr::from_str_with_options(text, options) {
        Ok(value) => Ok((value, index)),
        Err(e) => Err(model_error(text, &index, &file, e)),
    }
}

fn parse_yaml(text: &str) -> Result<NetworkSpec, serde_saphyr::Error> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options)
}

/// Turn a parser error into a [`SpecError`] with its line and the key path at that position.
fn model_error(
    text: &str,
    index: &YamlIndex,
    file: &Option<PathBuf>,
    error: serde_saphyr::Error,
) -> SpecErrors {
    let location = error.location();
    let (line, column) = match location {
        Some(l) if l.line() > 0 => (Some(l.line() as usize), Some(l.column() as usize)),
        _ => (None, None),
    };
    let path = match (line, column) {
        (Some(l), Some(c)) => index.path_at(l, c).unwrap_or_default(),
        _ => String::new(),
    };
    let mut message = clean_message(&error.to_string());
    if let (Some(l), Some(c)) = (line, column)
        && let Some(value) = scalar_at(text, l, c)
        && !message.contains("unknown field")
        && !message.contains(&format!("`{value}`"))
    {
        message = format!("got `{value}`: {message}");
    }
    SpecErrors::one(SpecError {
        file: file.clone(),
        line,
        column,
        path,
        message,
    })
}

/// The plain scalar written at (line, column), for quoting the value in a message.
fn scalar_at(text: &str, line: usize, column: usize) -> Option<String> {
    let row = text.lines().nth(line.checked_sub(1)?)?;
    let rest: String = row.chars().skip(column.checked_sub(1)?).collect();
    let value = rest
        .split(" #")
        .next()?
        .trim()
        .trim_end_matches([',', '}', ']'])
        .trim();
    (!value.is_empty() && !value.ends_with(':') && value.len() < 80).then(|| value.to_string())
}

/// serde's messages start with their own position ("line 7 column 8: ..."); ours is in front.
fn clean_message(message: &str) -> String {
    let message = message.lines().next().unwrap_or(message).trim();
    let message = match message.find(": ") {
        Some(cut) if message.starts_with("line ") || message.starts_with("error: line ") => {
            &message[cut + 2..]
        }
        _ => message,
    };
    let message = message.trim_start_matches("error: ");
    // Drop a trailing position, which the error's own prefix already gives.
    let message = match message.rfind(" at line ") {
        Some(cut) => &message[..cut],
        None => message,
    };
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_message_drops_the_position_prefix() {
        assert_eq!(clean_message("line 7 column 8: invalid u64"), "invalid u64");
        assert_eq!(clean_message("unknown field `x`"), "unknown field `x`");
    }
}
