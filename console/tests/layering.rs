//! The console's layers depend one way: `main → cli | tui → operations → backend | pipeline →
//! core-model`. This test reads every source file and fails when one names a module of a layer
//! above its own, so the rule holds as the code grows.

use std::path::{Path, PathBuf};

/// A layer: the top-level modules of `console/src` in it, and the modules it must not name.
struct Layer {
    name: &'static str,
    modules: &'static [&'static str],
    forbidden: &'static [&'static str],
}

/// The modules that open and drive the user interface (the top of the picture).
const INTERFACE: &[&str] = &["cli", "tui", "launch"];

const LAYERS: &[Layer] = &[
    Layer {
        name: "interface (cli)",
        modules: &["cli"],
        // The CLI opens the console through `launch`, never through the TUI's own types.
        forbidden: &["tui"],
    },
    Layer {
        name: "interface (tui)",
        modules: &["tui"],
        forbidden: &["cli", "launch"],
    },
    Layer {
        name: "operations",
        modules: &["operations", "project"],
        forbidden: INTERFACE,
    },
    Layer {
        name: "backend",
        modules: &["backend"],
        forbidden: &["cli", "tui", "launch", "operations", "project"],
    },
    Layer {
        name: "pipeline",
        modules: &["pipeline"],
        forbidden: &["cli", "tui", "launch", "operations", "project", "backend"],
    },
    Layer {
        name: "shared leaves",
        modules: &[
            "bundled",
            "config",
            "files",
            "params",
            "code_digest",
            "data_quality",
            "provenance",
        ],
        forbidden: &["cli", "tui", "launch", "operations", "project", "backend"],
    },
];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src` belongs to (`tui/views/logs.rs` → `tui`).
fn top_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("file under src");
    let first = relative
        .components()
        .next()
        .expect("a component")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` a file names, with its line number; comments are skipped.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b::c}` names several modules at once.
        if let Some(at) = code.find("crate::{") {
            let group = &code[at + "crate::{".len()..];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push((number + 1, name));
                }
            }
        }
    }
    found
}

#[test]
fn no_module_names_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let module = top_module(&src, file);
        let Some(layer) = LAYERS.iter().find(|l| l.modules.contains(&module.as_str())) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read source");
        for (line, name) in crate_paths(&text) {
            if layer.forbidden.contains(&name.as_str()) {
                violations.push(format!(
                    "{}:{line}: the {} layer names crate::{name}, a layer above it",
                    file.strip_prefix(&src).expect("under src").display(),
                    layer.name
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files were checked: is the layout still src/<module>?"
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edge = ["main", "lib"];
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("entry").path();
        let module = top_module(&src, &path);
        let known = edge.contains(&module.as_str())
            || module == "launch"
            || LAYERS.iter().any(|l| l.modules.contains(&module.as_str()));
        if !known {
            missing.push(module);
        }
    }
    assert!(
        missing.is_empty(),
        "new top-level modules need a layer in tests/layering.rs: {missing:?}"
    );
}

#[test]
fn the_scanner_sees_single_and_grouped_paths() {
    let text = "use crate::cli::x;\nuse crate::{tui, backend::y};\n// crate::launch in a comment\nlet a = crate::config::load();";
    let names: Vec<String> = crate_paths(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["cli", "tui", "backend", "config"]);
}
