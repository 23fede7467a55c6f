//! Errors in model descriptions: each names the file, line, key path, value and what was expected.

use std::fmt;
use std::path::PathBuf;

/// One problem with a model description.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecError {
    /// The model file, when the spec came from one.
    pub file: Option<PathBuf>,
    /// 1-based line and column of the offending key or value in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `populations.E.tau` or `monitors.0.window`.
    pub path: String,
    /// What is wrong: the value found and what was expected.
    pub message: String,
}

impl SpecError {
    /// A problem with the value at `path`: `got {value}, expected {expected}`.
    pub fn invalid(
        path: impl Into<String>,
        value: impl fmt::Display,
        expected: impl fmt::Display,
    ) -> Self {
        SpecError::new(path, format!("got `{value}`, expected {expected}"))
    }

    /// A problem at `path` described by `message`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError {
            file: None,
            line: None,
            column: None,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}", file.display())?,
            (Some(file), None) => write!(f, "{}", file.display())?,
            (None, Some(line)) => write!(f, "line {line}")?,
            (None, None) => write!(f, "model")?,
        }
        if let (Some(_), Some(column)) = (self.line, self.column) {
            write!(f, ":{column}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

/// All problems found in a model description (validation reports every one, not just the first).
#[derive(Clone, Debug, PartialEq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    pub fn one(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }
    pub fn iter(&self) -> impl Iterator<Item = &SpecError> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<SpecError> for SpecErrors {
    fn from(error: SpecError) -> Self {
        SpecErrors::one(error)
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
