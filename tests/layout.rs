//! The shape of the source: every `crate::` path in src/ points down the data's direction
//! (README, "Where things are"), so no module imports one that imports it or sits above it.
//! Tests (`#[cfg(test)]` modules) and comments are left out: a test may build what it needs.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of src/ and its floor: a module may use its own floor's modules (without
/// a circle) and every floor below. The data goes runner → events → fanout (sink) → filter → format
/// → dest; the ground floor is data and system calls only.
const FLOORS: &[(&str, u8)] = &[
    ("main", 10),
    ("lib", 10),
    ("app", 9),
    ("replay", 8),
    ("ship", 8),
    ("verify", 8),
    ("keygen", 8),
    ("completions", 8),
    ("cli", 7),
    ("preset", 6),
    ("runner", 5),
    ("sink", 4),
    ("filter", 3),
    ("mask", 3),
    ("format", 2),
    ("dest", 1),
    ("seal", 1),
    ("event", 0),
    ("signal", 0),
    ("sys", 0),
    ("error", 0),
    ("paths", 0),
];

/// The top-level module each file of src/ belongs to, and the top-level modules its code (not its
/// tests or comments) names with `crate::`.
fn imports() -> BTreeMap<String, Vec<(String, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap()
                .trim_end_matches(".rs")
                .to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for line in code.lines() {
                let line = line.split("//").next().unwrap();
                for used in crate_paths(line) {
                    if used != top {
                        edges
                            .entry(top.clone())
                            .or_default()
                            .push((used, relative.display().to_string()));
                    }
                }
            }
        }
    }
    edges
}

/// The first name after each `crate::` on `line`, and each name of a `crate::{a, b::c}` group.
fn crate_paths(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let rest = &line[at + "crate::".len()..];
        let group = rest
            .strip_prefix('{')
            .map(|g| g.split('}').next().unwrap_or(g));
        match group {
            Some(group) => names.extend(group.split(',').filter_map(|item| word(item.trim()))),
            None => names.extend(word(rest)),
        }
    }
    names
}

fn word(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name.chars().next().unwrap().is_ascii_lowercase()).then_some(name)
}

fn floor(module: &str) -> u8 {
    FLOORS
        .iter()
        .find(|(name, _)| *name == module)
        .unwrap_or_else(|| panic!("src/{module}: give it a floor in tests/layout.rs"))
        .1
}

fn every_import_points_down_the_datas_direction() {
    let mut upward = Vec::new();
    for (from, uses) in imports() {
        for (to, file) in uses {
            if floor(&to) > floor(&from) {
                upward.push(format!(
                    "src/{file} ({from}) uses crate::{to}, a floor above"
                ));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "{}", upward.join("\n"));
}

fn no_module_imports_one_that_imports_it() {
    let edges: BTreeMap<String, Vec<String>> = imports()
        .into_iter()
        .map(|(from, uses)| (from, uses.into_iter().map(|(to, _)| to).collect()))
        .collect();
    // A depth-first walk from each module; a path back to where it started is a circle.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap();
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    circles.push(format!("{} -> {start}", path.join(" -> ")));
                } else if !path.contains(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

fn crate_paths_finds_single_names_and_groups() {
    assert_eq!(crate_paths("use crate::format::Out;"), ["format"]);
    assert_eq!(
        crate_paths("use crate::{Outcome, redact, runner::Spec};"),
        ["redact", "runner"]
    );
    assert_eq!(
        crate_paths("let a = crate::sys::x(); crate::event::Stream::Stdout"),
        ["sys", "event"]
    );
    assert!(crate_paths("no paths here").is_empty());
}

crate::trials![
    every_import_points_down_the_datas_direction,
    no_module_imports_one_that_imports_it,
    crate_paths_finds_single_names_and_groups,
];
