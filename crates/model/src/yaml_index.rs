//! Where each key of a YAML document is: key path → line and column, and back.
//!
//! serde reports type errors with a position but no key path, and validation reports a key path
//! but no position. This index, built from the parser's events, answers both, so every error can
//! name the file, the line and the key.

use saphyr_parser::{Event, Parser};
use std::collections::HashMap;

/// A (line, column) position, 1-based.
type Position = (usize, usize);

/// Positions of the keys and values of one YAML document.
#[derive(Clone, Debug, Default)]
pub struct YamlIndex {
    /// key path → (line, column) of the key (1-based).
    keys: HashMap<String, Position>,
    /// (path, start, end) of every value, as (line, column) pairs; end is exclusive.
    values: Vec<(String, Position, Position)>,
}

enum Frame {
    Mapping {
        path: String,
        key: Option<String>,
        start: (usize, usize),
    },
    Sequence {
        path: String,
        index: usize,
        start: (usize, usize),
    },
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl YamlIndex {
    /// Index `text`; a document that does not parse gives an empty index (serde reports the syntax
    /// error with its position).
    pub fn new(text: &str) -> Self {
        let mut index = YamlIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else {
                break;
            };
            let start = (span.start.line(), span.start.col() + 1);
            let end = (span.end.line(), span.end.col() + 1);
            // The path a new value takes, if we are expecting a value.
            let value_path = |stack: &mut Vec<Frame>| -> Option<String> {
                match stack.last_mut() {
                    Some(Frame::Mapping { path, key, .. }) => key.take().map(|k| join(path, &k)),
                    Some(Frame::Sequence { path, index, .. }) => {
                        let p = join(path, &index.to_string());
                        *index += 1;
                        Some(p)
                    }
                    None => Some(String::new()),
                }
            };
            match event {
                Event::Scalar(value, ..) => {
                    let expecting_key =
                        matches!(stack.last(), Some(Frame::Mapping { key: None, .. }));
                    if expecting_key {
                        if let Some(Frame::Mapping { path, key, .. }) = stack.last_mut() {
                            index.keys.insert(join(path, &value), start);
                            *key = Some(value.into_owned());
                        }
                    } else if let Some(p) = value_path(&mut stack) {
                        index.values.push((p, start, end));
                    }
                }
                Event::MappingStart(..) => {
                    let path = value_path(&mut stack).unwrap_or_default();
                    stack.push(Frame::Mapping {
                        path,
                        key: None,
                        start,
                    });
                }
                Event::SequenceStart(..) => {
                    let path = value_path(&mut stack).unwrap_or_default();
                    stack.push(Frame::Sequence {
                        path,
                        index: 0,
                        start,
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if let Some(
                        Frame::Mapping { path, start, .. } | Frame::Sequence { path, start, .. },
                    ) = stack.pop()
                    {
                        index.values.push((path, start, end));
                    }
                }
                Event::Alias(..) => {
                    if let Some(p) = value_path(&mut stack) {
                        index.values.push((p, start, end));
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// Line and column of the key at `path`, or of its closest ancestor present in the file
    /// (a key filled in by a default is reported at its parent).
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = path;
        loop {
            if let Some(&position) = self.keys.get(path) {
                return Some(position);
            }
            if let Some((_, start, _)) = self.values.iter().find(|(p, ..)| p == path) {
                return Some(*start);
            }
            match path.rfind('.') {
                Some(cut) => path = &path[..cut],
                None => return None,
            }
        }
    }

    /// The innermost key path whose key or value covers `(line, column)`.
    pub fn path_at(&self, line: usize, column: usize) -> Option<String> {
        let at = (line, column);
        if let Some((path, _)) = self.keys.iter().find(|(_, position)| **position == at) {
            return Some(path.clone());
        }
        self.values
            .iter()
            .filter(|(_, start, end)| *start <= at && at < *end)
            .max_by_key(|(path, ..)| path.len() + 1)
            .map(|(path, ..)| path.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "dt: 0.1 ms\npopulations:\n  E:\n    size: 10\n    tau: 20 ms\nmonitors:\n  - population: E\n    variable: rate\n";

    #[test]
    fn finds_keys_by_path() {
        let index = YamlIndex::new(DOC);
        assert_eq!(index.locate("dt"), Some((1, 1)));
        assert_eq!(index.locate("populations.E.tau"), Some((5, 5)));
        assert_eq!(index.locate("monitors.0.variable"), Some((8, 5)));
        // A defaulted key is reported at its closest written ancestor.
        assert_eq!(index.locate("populations.E.threshold"), Some((3, 3)));
    }

    #[test]
    fn finds_paths_by_position() {
        let index = YamlIndex::new(DOC);
        assert_eq!(index.path_at(5, 10).as_deref(), Some("populations.E.tau"));
        assert_eq!(
            index.path_at(7, 17).as_deref(),
            Some("monitors.0.population")
        );
    }
}
