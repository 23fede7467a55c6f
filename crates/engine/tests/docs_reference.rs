//! The model reference in `docs/reference/` against the code: every key a model file may hold,
//! every value of every kind (neuron model, synapse, rule, profile, transfer function, input kind,
//! monitor variable, …) must be documented, and every default in a parameter table must be the
//! code's default.
//!
//! Nothing here lists the keys by hand. The schema is read from the model crate's own
//! "unknown field" / "unknown variant" errors: a probe key `__probe__` placed at a position of a
//! model file makes serde answer with the fields or variants allowed there, and the walk descends
//! into each of them. Defaults come from the code too: a fixture model (JSON, which is YAML) is
//! loaded and serialised back, and every key the fixture did not give holds its serde default;
//! neuron parameter defaults and the keys each model takes come from the engine's `…Params`
//! types. Only the page that documents each kind of value (`CATEGORIES`) is written here.
//!
//! How the pages are read (see docs/contributing/documentation.md):
//! * a `## `populations.<name>`` section (or `## Top-level keys`) holds a table with columns
//!   `key` and `default`: each row documents `<section path>.<key>`;
//! * a category section (`## Rules` on connectivity.md, …) holds one `### `value`` per value;
//!   values with fields have a `key`/`default` table in their `###` section;
//! * each neuron model's `###` section on neurons.md has a `key`/`meaning`/`unit`/`default` table
//!   whose rows are exactly the keys the model takes, with the engine's defaults.

use neuroxide::neurons::{AdexParams, EifParams, IzhikevichParams, LifParams, QifParams};
use neuroxide_model::ModelFile;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The page and `##` section that document the values of each key that takes one of several
/// kinds. A new enum-valued key makes the test fail until it is given a place here.
const CATEGORIES: &[(&str, &str, &str)] = &[
    ("precision", "settings.md", "Precision"),
    ("method", "settings.md", "Integration methods"),
    ("populations.<name>.model", "neurons.md", "Models"),
    (
        "populations.<name>.transfer",
        "transfer.md",
        "Transfer functions",
    ),
    (
        "populations.<name>.initial.rate",
        "initial-state.md",
        "Rate-population values",
    ),
    (
        "populations.<name>.initial.current",
        "initial-state.md",
        "Rate-population values",
    ),
    (
        "populations.<name>.initial.v",
        "initial-state.md",
        "Spiking-population values",
    ),
    (
        "populations.<name>.initial.w",
        "initial-state.md",
        "Spiking-population values",
    ),
    (
        "populations.<name>.initial.g_exc",
        "initial-state.md",
        "Spiking-population values",
    ),
    (
        "populations.<name>.initial.g_inh",
        "initial-state.md",
        "Spiking-population values",
    ),
    (
        "populations.<name>.neuron.integration",
        "neurons.md",
        "Integration rules",
    ),
    (
        "populations.<name>.synapse.kind",
        "synapses.md",
        "Synapse kinds",
    ),
    ("projections.<name>.rule", "connectivity.md", "Rules"),
    ("projections.<name>.profile", "connectivity.md", "Profiles"),
    (
        "projections.<name>.profile.low_rank.vectors",
        "connectivity.md",
        "Low-rank vectors",
    ),
    ("projections.<name>.scaling", "connectivity.md", "Scaling"),
    (
        "inputs.<name>.stimulus.shape",
        "inputs.md",
        "Stimulus shapes",
    ),
    ("monitors[].variable", "monitors.md", "Variables"),
    ("monitors[].neurons", "monitors.md", "Neuron selection"),
    (
        "monitors[].decode.overlap[]",
        "monitors.md",
        "Overlap sources",
    ),
    (
        "projections.<name>.stp.model",
        "plasticity.md",
        "STP models",
    ),
    (
        "projections.<name>.plasticity.rule",
        "plasticity.md",
        "Learning rules",
    ),
    (
        "projections.<name>.plasticity.weight_dependence",
        "plasticity.md",
        "Weight dependence",
    ),
    (
        "projections.<name>.plasticity.scheme",
        "plasticity.md",
        "Update schemes",
    ),
    ("inputs.<name>.encoder.kind", "inputs.md", "Encoders"),
    (
        "inputs.<name>.stimulus.shape.vector.side",
        "inputs.md",
        "Low-rank sides",
    ),
];

/// The fields of `inputs.<name>` that are not input kinds; every other field is a kind and needs
/// its own `## `inputs.<name>.<kind>`` section on inputs.md.
const INPUT_NON_KINDS: &[&str] = &["target", "start", "stop", "random_delay"];

/// Struct values the fixture does not instantiate, and why (their fields are still checked for
/// documentation; only their defaults go unchecked).
const FIXTURE_EXEMPT: &[(&str, &str)] = &[(
    "projections.<name>.rule.explicit",
    "needs a data file; its one field is required",
)];

/// A model that instantiates every struct and every value with fields, giving only what is
/// required (plus what validation needs). Everything it leaves out is a default of the code.
const FIXTURE: &str = r#"{
  "dt": "0.1 ms",
  "duration": "10 ms",
  "populations": {
    "E": {"size": 20, "rate_noise": {"std": 0.1}, "initial": {"rate": {"gaussian": {"mean": 0.0, "std": 1.0}},
                                  "current": {"gaussian": {"mean": 0.0, "std": 1.0}}}},
    "S": {"size": 4, "model": "lif_psc_exp", "neuron": {}, "synapse": {}, "trace": {},
          "initial": {"v": {"gaussian": {"mean": -70.0, "std": 1.0}}, "w": {"uniform": {"low": 0.0, "high": 1.0}},
                      "g_exc": {"gaussian": {"mean": 0.0, "std": 1.0}}, "g_inh": {"gaussian": {"mean": 0.0, "std": 1.0}}}},
    "T": {"size": 4, "model": "lif_psc_exp",
          "initial": {"v": {"uniform": {"low": -70.0, "high": -60.0}}, "w": {"gaussian": {"mean": 0.0, "std": 1.0}},
                      "g_exc": {"uniform": {"low": 0.0, "high": 1.0}}, "g_inh": {"uniform": {"low": 0.0, "high": 1.0}}}},
    "X": {"size": 4, "model": "poisson", "neuron": {"rate": "10 Hz"}}
  },
  "projections": {
    "cos": {"pre": "E", "post": "E", "rule": "all_to_all", "profile": {"cosine": {"kappa": 1.0}}, "weight": 1.0},
    "weak": {"pre": "E", "post": "E", "rule": {"bernoulli": {"p": 0.5}}, "profile": {"cosine_weak": {"kappa": 1.0}}, "weight": 1.0},
    "vm": {"pre": "E", "post": "E", "rule": {"bernoulli": {"k": 10}}, "profile": {"von_mises": {"kappa": 1.0}}, "weight": 1.0},
    "lr": {"pre": "E", "post": "E", "rule": "all_to_all",
           "profile": {"low_rank": {"rank": 1, "vectors": {"gaussian": {}}}}, "weight": 1.0},
    "in": {"pre": "S", "post": "T", "rule": {"fixed_in_degree": {"k": 2}}, "weight": 1.0},
    "out": {"pre": "X", "post": "S", "rule": {"fixed_out_degree": {"k": 2}}, "weight": 1.0},
    "stp": {"pre": "E", "post": "E", "rule": "one_to_one", "weight": 1.0, "stp": {}},
    "ltp": {"pre": "S", "post": "T", "rule": "all_to_all", "weight": 1.0,
            "plasticity": {"rule": "rstdp", "a_plus": 1.0, "a_minus": 1.0, "w_max": 2.0,
                           "reward": {"schedule": [{"start": "0 ms", "stop": "1 ms", "value": 1.0}]}}}
  },
  "inputs": {
    "b": {"target": "E", "balanced": {"k": 10, "m0": 1.0, "j0": 1.0}},
    "n": {"target": "E", "noise": {"std": 1.0}},
    "c": {"target": "E", "stimulus": {"amplitude": 1.0, "shape": {"cosine": {"sigma": 1.0}}}},
    "g": {"target": "E", "stimulus": {"amplitude": 1.0, "shape": {"gaussian": {"width": "30 deg"}}}},
    "p": {"target": "S", "poisson": {"rate": "10 Hz", "weight": 1.0}},
    "s": {"target": "S", "sine": {"amplitude": 1.0, "frequency": "5 Hz"}},
    "t": {"target": "S", "two_way_step": {"amplitude": 1.0, "on": "1 ms", "off": "2 ms"}},
    "r": {"target": "T", "random_step": {"amplitude": 1.0, "width": "1 ms", "pulses": 2}},
    "v": {"target": "E", "stimulus": {"amplitude": 1.0, "shape": {"vector": {"low_rank": "lr"}}},
          "random_delay": {"min": "0 ms", "max": "1 ms"}},
    "e": {"target": "X", "encoder": {"kind": "poisson", "patterns": [[1.0, 2.0, 3.0, 4.0]], "window": "1 ms"}}
  },
  "monitors": [{"population": "E", "variable": "rate", "decode": {}}]
}"#;

// --- the schema, from the loader's own errors ----------------------------------------------

/// A position in a model file.
#[derive(Clone, Debug)]
enum Seg {
    Field(String),
    /// An entry of a map from user-given names (`populations.<name>`).
    Named,
    /// An entry of a list (`monitors[]`).
    Item,
    /// A value with fields (`rule: {bernoulli: {...}}`).
    Variant(String),
}

/// Fields of a struct, in the code's order.
type Fields = Vec<(String, Node)>;

/// What the code allows at a position.
#[derive(Clone, Debug)]
enum Node {
    Struct(Fields),
    Enum(Vec<(String, Option<Node>)>),
    Named(Box<Node>),
    List(Box<Node>),
    Leaf,
}

/// YAML text with `value` placed at `at`.
fn place(at: &[Seg], value: &str) -> String {
    let mut text = value.to_string();
    for seg in at.iter().rev() {
        text = match seg {
            Seg::Field(f) | Seg::Variant(f) => format!("{{{f}: {text}}}"),
            Seg::Named => format!("{{x: {text}}}"),
            Seg::Item => format!("[{text}]"),
        };
    }
    // The outermost braces of a top-level field become the document's mapping.
    text
}

/// The key path the loader reports for a position.
fn error_path(at: &[Seg]) -> String {
    at.iter()
        .map(|s| match s {
            Seg::Field(f) | Seg::Variant(f) => f.clone(),
            Seg::Named => "x".into(),
            Seg::Item => "0".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The path as the docs write it: `populations.<name>.tau`, `monitors[].window`.
fn doc_path(at: &[Seg]) -> String {
    let mut out = String::new();
    for s in at {
        match s {
            Seg::Field(f) | Seg::Variant(f) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(f);
            }
            Seg::Named => out.push_str(".<name>"),
            Seg::Item => out.push_str("[]"),
        }
    }
    out
}

/// The loader's first error for `text`, as (path, message).
fn first_error(text: &str) -> Option<(String, String)> {
    match ModelFile::from_yaml(text, None, &[]) {
        Ok(_) => None,
        Err(errors) => errors
            .0
            .first()
            .map(|e| (e.path.clone(), e.message.clone())),
    }
}

/// `names` from "unknown field `__probe__`, expected one of a, b" (or "expected `a`").
fn listed(message: &str, what: &str) -> Option<Vec<String>> {
    let marker = format!("unknown {what} `__probe__`, ");
    let rest = &message[message.find(&marker)? + marker.len()..];
    if let Some(list) = rest.strip_prefix("expected one of ") {
        return Some(list.split(", ").map(|s| s.trim().to_string()).collect());
    }
    if let Some(one) = rest.strip_prefix("expected ") {
        return Some(vec![one.trim().trim_matches('`').to_string()]);
    }
    Some(Vec::new()) // "there are no fields"
}

fn probe(at: &[Seg], value: &str, expect_at: &str, what: &str) -> Option<Vec<String>> {
    let (path, message) = first_error(&place(at, value))?;
    (path == expect_at)
        .then(|| listed(&message, what))
        .flatten()
}

fn walk(at: &mut Vec<Seg>, depth: usize) -> Node {
    assert!(depth < 12, "schema walk too deep at {}", doc_path(at));
    let here = error_path(at);
    let inner = format!("{here}.__probe__");
    if let Some(fields) = probe(at, "{__probe__: 1}", &inner, "field") {
        return Node::Struct(fields_of(at, fields, depth));
    }
    let variants = probe(at, "{__probe__: 1}", &inner, "variant")
        .or_else(|| probe(at, "__probe__", &here, "variant"));
    if let Some(variants) = variants {
        return Node::Enum(
            variants
                .into_iter()
                .map(|v| {
                    at.push(Seg::Variant(v.clone()));
                    let node = match walk(at, depth + 1) {
                        Node::Leaf => None,
                        node => Some(node),
                    };
                    at.pop();
                    (v, node)
                })
                .collect(),
        );
    }
    let named_at = format!("{here}.x.__probe__");
    if probe(at, "{x: {__probe__: 1}}", &named_at, "field").is_some()
        || probe(at, "{x: {__probe__: 1}}", &named_at, "variant").is_some()
    {
        at.push(Seg::Named);
        let node = walk(at, depth + 1);
        at.pop();
        return Node::Named(Box::new(node));
    }
    let item_at = format!("{here}.0.__probe__");
    if probe(at, "[{__probe__: 1}]", &item_at, "field").is_some() {
        at.push(Seg::Item);
        let node = walk(at, depth + 1);
        at.pop();
        return Node::List(Box::new(node));
    }
    Node::Leaf
}

fn fields_of(at: &mut Vec<Seg>, fields: Vec<String>, depth: usize) -> Fields {
    fields
        .into_iter()
        .map(|f| {
            at.push(Seg::Field(f.clone()));
            let node = walk(at, depth + 1);
            at.pop();
            (f, node)
        })
        .collect()
}

fn schema() -> Fields {
    let (_, message) = first_error("__probe__: 1").expect("a probe key is an error");
    let fields = listed(&message, "field").expect("the top level lists its fields");
    fields_of(&mut Vec::new(), fields, 0)
}

/// The values an enum-valued key takes, each with its fields (empty for a plain value).
type Values = Vec<(String, Vec<String>)>;

/// Everything the schema says must be documented.
#[derive(Default, Debug)]
struct Wanted {
    /// `(section path, key)` of every field of a struct reached through fields, names and lists.
    keys: Vec<(String, String)>,
    /// `(enum path, values with their fields)`.
    enums: Vec<(String, Values)>,
    /// Paths of struct values (for the fixture's coverage).
    structs: BTreeSet<String>,
}

fn collect(fields: &Fields, prefix: &str, wanted: &mut Wanted) {
    wanted.structs.insert(prefix.to_string());
    for (field, node) in fields {
        wanted.keys.push((prefix.to_string(), field.clone()));
        let path = join(prefix, field);
        collect_node(node, &path, wanted);
    }
}

fn collect_node(node: &Node, path: &str, wanted: &mut Wanted) {
    match node {
        Node::Struct(f) => collect(f, path, wanted),
        Node::Named(n) => collect_node(n, &format!("{path}.<name>"), wanted),
        Node::List(n) => collect_node(n, &format!("{path}[]"), wanted),
        Node::Enum(values) => {
            let mut list = Vec::new();
            for (value, node) in values {
                let fields = match node {
                    Some(Node::Struct(f)) => {
                        wanted.structs.insert(format!("{path}.{value}"));
                        // Fields of a value's fields (low_rank.vectors) are documented in turn.
                        for (field, inner) in f {
                            collect_inner(inner, &format!("{path}.{value}.{field}"), wanted);
                        }
                        f.iter().map(|(k, _)| k.clone()).collect()
                    }
                    Some(other) => {
                        collect_inner(other, &format!("{path}.{value}"), wanted);
                        Vec::new()
                    }
                    None => Vec::new(),
                };
                list.push((value.clone(), fields));
            }
            wanted.enums.push((path.to_string(), list));
        }
        Node::Leaf => {}
    }
}

/// Inside a value with fields only nested kinds need pages of their own.
fn collect_inner(node: &Node, path: &str, wanted: &mut Wanted) {
    match node {
        Node::Enum(_) => collect_node(node, path, wanted),
        Node::Struct(f) => {
            for (field, inner) in f {
                collect_inner(inner, &join(path, field), wanted);
            }
        }
        Node::Named(n) | Node::List(n) => collect_inner(n, path, wanted),
        Node::Leaf => {}
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

// --- the pages ---------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Default)]
struct Section {
    title: String,
    tables: Vec<Table>,
    /// `###` subsections.
    subsections: Vec<Section>,
}

#[derive(Debug)]
struct Page {
    name: String,
    sections: Vec<Section>,
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut in_code = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                cell.push(c);
            }
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' if !in_code => out.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    out.push(cell.trim().to_string());
    out
}

fn read_page(name: &str) -> Page {
    let path = docs_dir().join("reference").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut sections: Vec<Section> = Vec::new();
    let mut in_fence = false;
    let mut table: Option<Table> = None;
    let flush = |table: &mut Option<Table>, sections: &mut Vec<Section>| {
        if let Some(t) = table.take()
            && let Some(section) = sections.last_mut()
        {
            match section.subsections.last_mut() {
                Some(sub) => sub.tables.push(t),
                None => section.tables.push(t),
            }
        }
    };
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if line.trim_start().starts_with('|') {
            let row = cells(line);
            match table.as_mut() {
                None => {
                    table = Some(Table {
                        header: row,
                        rows: Vec::new(),
                    })
                }
                Some(t) if row.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) => {
                    let _ = t;
                }
                Some(t) => t.rows.push(row),
            }
            continue;
        }
        flush(&mut table, &mut sections);
        if let Some(title) = line.strip_prefix("## ") {
            sections.push(Section {
                title: title.trim().to_string(),
                ..Default::default()
            });
        } else if let Some(title) = line.strip_prefix("### ")
            && let Some(section) = sections.last_mut()
        {
            section.subsections.push(Section {
                title: title.trim().to_string(),
                ..Default::default()
            });
        }
    }
    flush(&mut table, &mut sections);
    Page {
        name: name.to_string(),
        sections,
    }
}

fn pages() -> Vec<Page> {
    let mut names: Vec<String> = std::fs::read_dir(docs_dir().join("reference"))
        .expect("docs/reference exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    names.iter().map(|n| read_page(n)).collect()
}

/// The backticked names in a cell (`` `v`, `w` `` → v, w); a plain word if there are none.
fn names_in(cell: &str) -> Vec<String> {
    let parts: Vec<&str> = cell.split('`').collect();
    let quoted: Vec<String> = parts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.to_string())
        .collect();
    if quoted.is_empty() {
        vec![cell.trim().to_string()]
    } else {
        quoted
    }
}

/// The path a `##` section documents the keys of: `` ## `populations.<name>` `` or "Top-level keys".
fn section_prefix(title: &str) -> Option<String> {
    if title == "Top-level keys" {
        return Some(String::new());
    }
    let rest = title.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_string())
}

/// A documented key: where, and its default cell.
#[derive(Debug, Clone)]
struct Row {
    page: String,
    section: String,
    default: Option<String>,
}

/// Rows of the `key` column of every table in `tables`, by key.
fn key_rows(
    tables: &[Table],
    page: &str,
    section: &str,
    out: &mut BTreeMap<String, Row>,
    prefix: &str,
) {
    for table in tables {
        let Some(key) = table.column("key") else {
            continue;
        };
        let default = table.column("default");
        for row in &table.rows {
            for name in names_in(&row[key]) {
                out.insert(
                    join(prefix, &name),
                    Row {
                        page: page.to_string(),
                        section: section.to_string(),
                        default: default.and_then(|d| row.get(d).cloned()),
                    },
                );
            }
        }
    }
}

// --- defaults ------------------------------------------------------------------------------

/// `(number, unit)` of a default as written (`15 ms`, `−70`, `9.36667 (281/30 …)`).
fn quantity(text: &str) -> Option<(f64, String)> {
    let text = text.replace('−', "-");
    let mut words = text.split_whitespace();
    let number: f64 = words.next()?.parse().ok()?;
    let unit = words
        .next()
        .filter(|w| w.chars().all(|c| c.is_alphabetic() || c == 'µ' || c == '°'))
        .unwrap_or("")
        .to_string();
    Some((number, unit))
}

/// Whether a default cell states `code` (a value as the code serialises or prints it).
fn same_default(cell: &str, code: &str) -> bool {
    let cell_value = match names_in(cell).first() {
        Some(first) if cell.contains('`') => first.clone(),
        _ => cell.trim().to_string(),
    };
    let code = code.trim();
    match (quantity(&cell_value), quantity(code)) {
        (Some((a, ua)), Some((b, ub))) => {
            let close = if a == b {
                true
            } else {
                (a - b).abs() <= 1e-5 * a.abs().max(b.abs())
            };
            close && (ua == ub || ua.is_empty() || ub.is_empty())
        }
        _ => {
            let cell_value = cell_value.to_lowercase();
            let code = code.to_lowercase();
            cell_value == code
                || (matches!(code.as_str(), "-inf" | "inf" | "nan") && cell_value == "none")
        }
    }
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// Walk the resolved fixture alongside the schema; call `f(doc path, enum path and value of the
/// enclosing value with fields, field, serialised value, given by the fixture?)`.
#[allow(clippy::type_complexity)]
fn walk_values(
    node: &Node,
    resolved: &Value,
    given: Option<&Value>,
    path: &str,
    variant: Option<(&str, &str)>,
    out: &mut Vec<(String, Option<(String, String)>, Value, bool)>,
    covered: &mut BTreeSet<String>,
) {
    match (node, resolved) {
        (Node::Struct(fields), Value::Object(map)) => {
            covered.insert(path.to_string());
            for (field, inner) in fields {
                let Some(value) = map.get(field) else {
                    continue;
                };
                let given_here = given.and_then(|g| g.get(field));
                let full = join(path, field);
                out.push((
                    full.clone(),
                    variant.map(|(e, v)| (e.to_string(), v.to_string())),
                    value.clone(),
                    given_here.is_some(),
                ));
                walk_values(inner, value, given_here, &full, None, out, covered);
            }
        }
        (Node::Named(inner), Value::Object(map)) => {
            for (name, value) in map {
                let given_here = given.and_then(|g| g.get(name));
                walk_values(
                    inner,
                    value,
                    given_here,
                    &format!("{path}.<name>"),
                    None,
                    out,
                    covered,
                );
            }
        }
        (Node::List(inner), Value::Array(items)) => {
            for (i, value) in items.iter().enumerate() {
                let given_here = given.and_then(|g| g.get(i));
                walk_values(
                    inner,
                    value,
                    given_here,
                    &format!("{path}[]"),
                    None,
                    out,
                    covered,
                );
            }
        }
        (Node::Enum(values), Value::Object(map)) if map.len() == 1 => {
            let (name, value) = map.iter().next().unwrap();
            if let Some((_, Some(inner))) = values.iter().find(|(v, _)| v == name) {
                let given_here = given.and_then(|g| g.get(name));
                walk_values(
                    inner,
                    value,
                    given_here,
                    &format!("{path}.{name}"),
                    Some((path, name)),
                    out,
                    covered,
                );
            }
        }
        _ => {}
    }
}

// --- neuron parameters -----------------------------------------------------------------------

/// `key → default` from a `…Params` value's `Debug` text, restricted to the model's keys.
fn debug_defaults(debug: &str, keys: &[&str]) -> Vec<(String, String)> {
    let body = &debug[debug.find('{').unwrap() + 1..debug.rfind('}').unwrap()];
    let fields: BTreeMap<String, String> = body
        .split(", ")
        .filter_map(|kv| kv.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    keys.iter()
        .map(|k| {
            let value = fields
                .get(*k)
                .unwrap_or_else(|| panic!("`{k}` is a key but not a field of {debug}"));
            (k.to_string(), value.clone())
        })
        .collect()
}

/// The keys a model takes with the engine's defaults (`None`: not a `neuron:` model).
fn engine_parameters(model: &str) -> Result<Option<Vec<(String, String)>>, String> {
    Ok(Some(match model {
        "rate" => return Ok(None),
        "poisson" => vec![("rate".to_string(), "required".to_string())],
        "lif_psc_delta" | "lif_psc_exp" | "lif_psc_alpha" | "lif_cond_exp" => {
            debug_defaults(&format!("{:?}", LifParams::default()), LifParams::KEYS)
        }
        "eif" => debug_defaults(&format!("{:?}", EifParams::default()), EifParams::KEYS),
        "adex" => debug_defaults(&format!("{:?}", AdexParams::default()), AdexParams::KEYS),
        "qif" => debug_defaults(&format!("{:?}", QifParams::default()), QifParams::KEYS),
        "izhikevich" => debug_defaults(
            &format!("{:?}", IzhikevichParams::default()),
            IzhikevichParams::KEYS,
        ),
        other => {
            return Err(format!(
                "neuron model `{other}` has no parameter source in engine_parameters() of \
                 crates/engine/tests/docs_reference.rs: map it to its `…Params::default()` and `KEYS`"
            ));
        }
    }))
}

// --- the test ----------------------------------------------------------------------------------

struct Docs {
    pages: Vec<Page>,
    /// Every key documented in a path section, by full path.
    keys: BTreeMap<String, Row>,
    /// Path sections: prefix → (page, title).
    prefixes: BTreeMap<String, (String, String)>,
}

impl Docs {
    fn load() -> Docs {
        let pages = pages();
        let mut keys = BTreeMap::new();
        let mut prefixes = BTreeMap::new();
        for page in &pages {
            for section in &page.sections {
                if let Some(prefix) = section_prefix(&section.title) {
                    prefixes.insert(prefix.clone(), (page.name.clone(), section.title.clone()));
                    key_rows(
                        &section.tables,
                        &page.name,
                        &section.title,
                        &mut keys,
                        &prefix,
                    );
                }
            }
        }
        Docs {
            pages,
            keys,
            prefixes,
        }
    }

    fn section(&self, page: &str, title: &str) -> Option<&Section> {
        self.pages
            .iter()
            .find(|p| p.name == page)?
            .sections
            .iter()
            .find(|s| s.title == title)
    }
}

fn category(path: &str) -> Option<(&'static str, &'static str)> {
    CATEGORIES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|&(_, page, section)| (page, section))
}

fn value_section<'a>(section: &'a Section, value: &str) -> Option<&'a Section> {
    let wanted = format!("`{value}`");
    section.subsections.iter().find(|s| s.title == wanted)
}

fn problems_in_reference() -> Vec<String> {
    let mut problems = Vec::new();
    let schema = schema();
    let mut wanted = Wanted::default();
    collect(&schema, "", &mut wanted);
    let docs = Docs::load();

    // Every key of a struct has a row in its path section, and every row is a key.
    let code_keys: BTreeSet<String> = wanted.keys.iter().map(|(p, k)| join(p, k)).collect();
    for (prefix, key) in &wanted.keys {
        let path = join(prefix, key);
        if docs.keys.contains_key(&path) {
            continue;
        }
        let title = if prefix.is_empty() {
            "## Top-level keys".to_string()
        } else {
            format!("## `{prefix}`")
        };
        let place = match docs.prefixes.get(prefix) {
            Some((page, _)) => format!("the table of `{title}` in docs/reference/{page}"),
            None => {
                format!("a new section `{title}` (docs/reference/model-file.md or its kind's page)")
            }
        };
        problems.push(format!(
            "key `{path}` is not documented: add a row `| `{key}` | value | default | meaning |` to {place}"
        ));
    }
    for (path, row) in &docs.keys {
        if !code_keys.contains(path) {
            problems.push(format!(
                "docs/reference/{} (`{}`) documents `{path}`, which the model file does not take \
                 (a renamed or removed key?)",
                row.page, row.section
            ));
        }
    }

    // Every input kind has its own section on inputs.md.
    for (prefix, key) in &wanted.keys {
        if prefix == "inputs.<name>" && !INPUT_NON_KINDS.contains(&key.as_str()) {
            let title = format!("`inputs.<name>.{key}`");
            if docs.section("inputs.md", &title).is_none() {
                problems.push(format!(
                    "input kind `{key}` has no section: add `## {title}` with its equation to \
                     docs/reference/inputs.md"
                ));
            }
        }
    }

    // Every value of every kind has a `###` on its page, with its fields in a table.
    for (path, values) in &wanted.enums {
        let Some((page, title)) = category(path) else {
            problems.push(format!(
                "`{path}` takes one of {} but no page documents its values: add it to CATEGORIES in \
                 crates/engine/tests/docs_reference.rs with the page and `##` section, and write a \
                 `### `value`` there for each",
                values.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        let Some(section) = docs.section(page, title) else {
            problems.push(format!(
                "docs/reference/{page} has no section `## {title}` (it documents the values of `{path}`)"
            ));
            continue;
        };
        for (value, fields) in values {
            let Some(sub) = value_section(section, value) else {
                problems.push(format!(
                    "`{path}: {value}` is not documented: add `### `{value}`` (equations, parameters, \
                     references) under `## {title}` in docs/reference/{page}"
                ));
                continue;
            };
            let mut rows = BTreeMap::new();
            key_rows(&sub.tables, page, &sub.title, &mut rows, "");
            for field in fields {
                if !rows.contains_key(field) {
                    problems.push(format!(
                        "field `{field}` of `{path}: {value}` is not documented: add a row \
                         `| `{field}` | meaning | default |` to the table under `### `{value}`` in \
                         docs/reference/{page}"
                    ));
                }
            }
        }
        for sub in &section.subsections {
            let documented = sub.title.trim_matches('`');
            if !values.iter().any(|(v, _)| v == documented) {
                problems.push(format!(
                    "docs/reference/{page} documents `{documented}` under `## {title}`, which is not a \
                     value of `{path}` (expected one of {})",
                    values.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }

    // Neuron models: the parameter table is exactly the engine's keys with its defaults.
    if let Some((_, models)) = wanted
        .enums
        .iter()
        .find(|(p, _)| p == "populations.<name>.model")
    {
        let section = docs.section("neurons.md", "Models");
        for (model, _) in models {
            let parameters = match engine_parameters(model) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(message) => {
                    problems.push(message);
                    continue;
                }
            };
            let Some(sub) = section.and_then(|s| value_section(s, model)) else {
                continue; // reported above
            };
            let Some(table) = sub.tables.iter().find(|t| t.column("key").is_some()) else {
                problems.push(format!(
                    "`### `{model}`` in docs/reference/neurons.md has no parameter table \
                     (| key | meaning | unit | default |)"
                ));
                continue;
            };
            for column in ["meaning", "unit", "default"] {
                if table.column(column).is_none() {
                    problems.push(format!(
                        "the parameter table of `{model}` in docs/reference/neurons.md has no `{column}` column"
                    ));
                }
            }
            let (key, default) = (table.column("key").unwrap(), table.column("default"));
            let documented: BTreeMap<String, String> = table
                .rows
                .iter()
                .flat_map(|row| {
                    let d = default
                        .and_then(|d| row.get(d).cloned())
                        .unwrap_or_default();
                    names_in(&row[key]).into_iter().map(move |k| (k, d.clone()))
                })
                .collect();
            for (param, code_default) in &parameters {
                match documented.get(param) {
                    None => problems.push(format!(
                        "parameter `{param}` of `{model}` is missing from its table in \
                         docs/reference/neurons.md (engine default {code_default})"
                    )),
                    Some(cell) if !same_default(cell, code_default) => problems.push(format!(
                        "default of `{param}` of `{model}` in docs/reference/neurons.md is `{cell}`, \
                         the engine's is {code_default}"
                    )),
                    _ => {}
                }
            }
            for param in documented.keys() {
                if !parameters.iter().any(|(p, _)| p == param) {
                    problems.push(format!(
                        "docs/reference/neurons.md lists `{param}` for `{model}`, which the model does \
                         not take (it takes {})",
                        parameters
                            .iter()
                            .map(|(p, _)| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
    }

    // Defaults of the model file: the fixture, resolved, against the default cells.
    let model = ModelFile::from_yaml(FIXTURE, None, &[])
        .unwrap_or_else(|e| panic!("the fixture of docs_reference.rs is not a valid model: {e:?}"));
    let resolved = serde_json::to_value(&model.spec).unwrap();
    let given: Value = serde_json::from_str(FIXTURE).unwrap();
    let root = Node::Struct(schema.clone());
    let mut values = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    walk_values(
        &root,
        &resolved,
        Some(&given),
        "",
        None,
        &mut values,
        &mut covered,
    );
    for (path, variant, value, was_given) in &values {
        // Struct-valued defaults are checked key by key inside them.
        if *was_given || value.is_object() || value.is_array() {
            continue;
        }
        let code = json_text(value);
        let row = match variant {
            None => docs.keys.get(path).cloned(),
            Some((enum_path, name)) => category(enum_path).and_then(|(page, title)| {
                let sub = value_section(docs.section(page, title)?, name)?;
                let mut rows = BTreeMap::new();
                key_rows(&sub.tables, page, &sub.title, &mut rows, "");
                rows.remove(path.rsplit('.').next().unwrap())
            }),
        };
        let Some(row) = row else {
            continue; // its missing row is reported above
        };
        match &row.default {
            None => problems.push(format!(
                "the table of `{}` in docs/reference/{} has no `default` column (`{path}` defaults to `{code}`)",
                row.section, row.page
            )),
            Some(cell) if !same_default(cell, &code) => problems.push(format!(
                "default of `{path}` in docs/reference/{} (`{}`) is `{cell}`, the code's is `{code}`",
                row.page, row.section
            )),
            _ => {}
        }
    }
    // Required keys (no serde default) say so.
    for (path, _, _, was_given) in &values {
        if !*was_given || path.contains("[]") {
            continue;
        }
        if let Some(row) = docs.keys.get(path)
            && let Some(cell) = &row.default
            && required_in_code(&given, path)
            && !cell.contains("required")
        {
            problems.push(format!(
                "`{path}` is required (the loader reports it missing) but docs/reference/{} gives it the \
                 default `{cell}`: write `required`",
                row.page
            ));
        }
    }
    // The fixture instantiates every struct and every value with fields.
    for path in &wanted.structs {
        if path.is_empty()
            || covered.contains(path)
            || FIXTURE_EXEMPT.iter().any(|(p, _)| p == path)
        {
            continue;
        }
        problems.push(format!(
            "`{path}` is not in the FIXTURE of crates/engine/tests/docs_reference.rs: add an instance \
             giving only its required keys so that its defaults are checked"
        ));
    }
    problems
}

/// Whether removing the key at `path` (a doc path, `<name>` matching any name) from the fixture
/// makes the loader report it missing.
fn required_in_code(given: &Value, path: &str) -> bool {
    let segments: Vec<&str> = path.split('.').collect();
    let mut fixture = given.clone();
    if !remove_first(&mut fixture, &segments) {
        return false;
    }
    let key = segments.last().unwrap();
    let text = serde_json::to_string(&fixture).unwrap();
    match ModelFile::from_yaml(&text, None, &[]) {
        Ok(_) => false,
        Err(e) => {
            e.0.iter()
                .any(|e| e.message.contains(&format!("missing field `{key}`")))
        }
    }
}

fn remove_first(value: &mut Value, segments: &[&str]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    let Value::Object(map) = value else {
        return false;
    };
    if *first == "<name>" {
        return map.values_mut().any(|v| remove_first(v, rest));
    }
    if rest.is_empty() {
        return map.shift_remove(*first).is_some();
    }
    if rest.first() == Some(&"<name>") {
        return map.get_mut(*first).is_some_and(|v| remove_first(v, rest));
    }
    map.get_mut(*first).is_some_and(|v| remove_first(v, rest))
}

#[test]
fn every_key_kind_and_default_is_documented() {
    let mut problems = problems_in_reference();
    // A key met in several places of the fixture is reported once.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if !problems.is_empty() {
        let mut message = format!(
            "{} problem(s) in the model reference (docs/reference/; how to fix: \
             docs/contributing/documentation.md):\n",
            problems.len()
        );
        for p in &problems {
            let _ = writeln!(message, "  - {p}");
        }
        panic!("{message}");
    }
}

#[test]
fn the_schema_walk_finds_what_the_loader_knows() {
    // The walk itself can fail silently only by finding nothing; pin a few landmarks.
    let schema = schema();
    let mut wanted = Wanted::default();
    collect(&schema, "", &mut wanted);
    let keys: BTreeSet<String> = wanted.keys.iter().map(|(p, k)| join(p, k)).collect();
    for key in [
        "dt",
        "populations.<name>.tau",
        "populations.<name>.neuron.tau_m",
        "projections.<name>.rule",
        "inputs.<name>.noise.std",
        "monitors[].window",
    ] {
        assert!(keys.contains(key), "{key} not found by the walk: {keys:?}");
    }
    let rules = wanted
        .enums
        .iter()
        .find(|(p, _)| p == "projections.<name>.rule")
        .expect("rules found");
    let bernoulli = rules.1.iter().find(|(v, _)| v == "bernoulli").unwrap();
    assert_eq!(bernoulli.1, ["p", "k"]);
    assert!(
        wanted
            .enums
            .iter()
            .any(|(p, values)| p == "populations.<name>.model"
                && values.iter().any(|(v, _)| v == "lif_psc_delta"))
    );
}

#[test]
fn a_wrong_default_or_a_missing_row_is_caught() {
    // The comparison the test relies on.
    assert!(same_default("`15 ms`", "15 ms"));
    assert!(same_default("−70", "-70.0"));
    assert!(same_default(
        "9.36667 (281/30: g_L = 30 nS)",
        &format!("{}", 281.0 / 30.0)
    ));
    assert!(same_default("none", "-inf"));
    assert!(same_default("`exact`", "Exact"));
    assert!(!same_default("`10 ms`", "15 ms"));
    assert!(!same_default("−72", "-70.0"));
    assert!(!same_default("`true`", "false"));
    // A page without a row for a key is reported with the section to add it to.
    let mut rows = BTreeMap::new();
    let table = Table {
        header: vec!["key".into(), "default".into()],
        rows: vec![vec!["`a`, `b`".into(), "`1`".into()]],
    };
    key_rows(&[table], "p.md", "s", &mut rows, "x.<name>");
    assert_eq!(
        rows.keys().cloned().collect::<Vec<_>>(),
        ["x.<name>.a", "x.<name>.b"]
    );
}
