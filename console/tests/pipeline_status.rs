//! `amesops pipeline status --json` gives the same answer as `dvc status --json` (DVC 3.67.1),
//! in small temporary git + DVC repositories, for each way a stage can change; and our hashes of
//! files and directories are the ones DVC writes in dvc.lock.
//!
//! Needs `dvc` and `git` on PATH (scripts/test provides them); without them the tests fail.

mod support;

use serde_json::{Value as Json, json};
use support::Repo;

const PARAMS: &str = "a:\n  b: 1\n  c: [1, 2]\ntop: 3\nnames: [x, y]\n";

const PIPELINE: &str = r#"stages:
  copy:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    params: [a.b, top]
    outs: [b.txt]
  dir:
    cmd: mkdir -p d && cp -r src/* d/
    deps: [src]
    params: [a]
    outs: [d]
  after:
    cmd: cat b.txt d/x > c.txt
    deps: [b.txt, d]
    outs:
      - c.txt:
          cache: false
"#;

/// Three stages (file, directory, downstream) with their inputs, not yet run.
fn fixture() -> Repo {
    let repo = Repo::dvc_init();
    repo.write("a.txt", "hello\n");
    repo.write("src/x", "x\n");
    repo.write("src/y", "y\r\nwith CRLF\r\n");
    repo.write("src/sub/z", "z\n");
    repo.write("src/sub/é x \"q\".txt", "unicode name\n");
    repo.write("params.yaml", PARAMS);
    repo.write("dvc.yaml", PIPELINE);
    repo
}

/// The fixture after `dvc repro`.
fn reproduced() -> Repo {
    let repo = fixture();
    repo.dvc(&["repro", "-q"]).ok();
    repo
}

/// The stages of the verbose view by name: (status, stale_upstream).
fn states(verbose: &Json) -> Vec<(String, String, Json)> {
    verbose["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("name").to_string(),
                s["status"].as_str().expect("status").to_string(),
                s["stale_upstream"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_reproduced_pipeline_is_up_to_date_for_both() {
    let repo = reproduced();
    assert_eq!(repo.assert_same_status(), json!({}));
    let verbose = repo.amesops_verbose();
    assert_eq!(verbose["dvc"], json!({}));
    let names: Vec<String> = states(&verbose).into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["copy", "dir", "after"], "DAG order");
    assert!(
        states(&verbose).iter().all(|s| s.1 == "up to date"),
        "{verbose:#}"
    );
    let table = repo.amesops(&["pipeline", "status"]).ok().stdout;
    assert!(table.contains("up to date"), "{table}");
}

#[test]
fn a_pipeline_that_never_ran_is_reported_like_dvc() {
    let repo = fixture();
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed deps": {"a.txt": "modified", "params.yaml": "new"}},
               {"changed outs": {"b.txt": "deleted"}}])
    );
    let verbose = repo.amesops_verbose();
    assert!(
        states(&verbose).iter().all(|s| s.1 == "never run"),
        "{verbose:#}"
    );
}

#[test]
fn a_modified_dependency_changes_its_stage_and_stales_the_downstream_one() {
    let repo = reproduced();
    repo.append("a.txt", "more\n");
    let status = repo.assert_same_status();
    assert_eq!(
        status,
        json!({"copy": [{"changed deps": {"a.txt": "modified"}}]})
    );
    let verbose = repo.amesops_verbose();
    assert_eq!(
        states(&verbose),
        [
            ("copy".to_string(), "changed".to_string(), json!([])),
            ("dir".to_string(), "up to date".to_string(), json!([])),
            (
                "after".to_string(),
                "stale upstream".to_string(),
                json!(["copy"])
            ),
        ]
    );
}

#[test]
fn a_modified_parameter_is_named_per_key_or_section() {
    let repo = reproduced();
    repo.replace("params.yaml", "b: 1", "b: 2");
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed deps": {"params.yaml": {"a.b": "modified"}}}])
    );
    assert_eq!(
        status["dir"],
        json!([{"changed deps": {"params.yaml": {"a": "modified"}}}])
    );

    // An equal value written differently (1.0 for 1) is not a change, as in Python.
    repo.replace("params.yaml", "b: 2", "b: 1.0");
    assert_eq!(repo.assert_same_status(), json!({}));

    repo.replace("params.yaml", "top: 3\n", "");
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed deps": {"params.yaml": {"top": "deleted"}}}])
    );
}

#[test]
fn a_deleted_output_is_reported_for_its_stage_and_as_a_dependency_downstream() {
    let repo = reproduced();
    repo.remove("b.txt");
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed outs": {"b.txt": "deleted"}}])
    );
    assert_eq!(
        status["after"],
        json!([{"changed deps": {"b.txt": "deleted"}}])
    );
}

#[test]
fn a_new_stage_has_never_run() {
    let repo = reproduced();
    repo.append(
        "dvc.yaml",
        "  new:\n    cmd: cp a.txt n.txt\n    deps: [a.txt]\n    outs: [n.txt]\n",
    );
    let status = repo.assert_same_status();
    assert_eq!(
        status,
        json!({"new": [{"changed deps": {"a.txt": "modified"}}, {"changed outs": {"n.txt": "deleted"}}]})
    );
    let verbose = repo.amesops_verbose();
    assert!(
        states(&verbose).contains(&("new".to_string(), "never run".to_string(), json!([]))),
        "{verbose:#}"
    );
}

#[test]
fn a_frozen_stage_reports_outputs_but_not_dependencies() {
    let repo = reproduced();
    repo.replace(
        "dvc.yaml",
        "    outs: [b.txt]\n",
        "    outs: [b.txt]\n    frozen: true\n",
    );
    repo.append("a.txt", "more\n");
    assert_eq!(repo.assert_same_status(), json!({}));
    let verbose = repo.amesops_verbose();
    assert_eq!(states(&verbose)[0].1, "frozen");
    assert_eq!(
        states(&verbose)[2].1,
        "up to date",
        "a frozen stage never reruns"
    );

    repo.remove("b.txt");
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed outs": {"b.txt": "deleted"}}])
    );
}

#[test]
fn a_directory_output_and_dependency_change_with_any_file_inside() {
    let repo = reproduced();
    repo.write("d/new", "new file\n");
    let status = repo.assert_same_status();
    assert_eq!(status["dir"], json!([{"changed outs": {"d": "modified"}}]));
    assert_eq!(
        status["after"],
        json!([{"changed deps": {"d": "modified"}}])
    );

    repo.remove("d/new");
    repo.remove("src/sub/z");
    let status = repo.assert_same_status();
    assert_eq!(
        status,
        json!({"dir": [{"changed deps": {"src": "modified"}}]})
    );
}

#[test]
fn a_changed_command_a_missing_cache_and_always_changed_are_reported() {
    let repo = reproduced();
    repo.replace("dvc.yaml", "cp a.txt b.txt", "cp  a.txt b.txt");
    repo.replace(
        "dvc.yaml",
        "    outs:\n      - c.txt:",
        "    always_changed: true\n    outs:\n      - c.txt:",
    );
    let status = repo.assert_same_status();
    assert_eq!(status["copy"], json!(["changed command"]));
    assert_eq!(status["after"], json!(["always changed"]));

    repo.remove(".dvc/cache");
    let status = repo.assert_same_status();
    assert_eq!(
        status["copy"],
        json!([{"changed outs": {"b.txt": "not in cache"}}, "changed command"])
    );
    assert_eq!(
        status["dir"],
        json!([{"changed outs": {"d": "not in cache"}}])
    );
}

const TEMPLATED: &str = r#"vars:
  - extra: {greeting: hi}
stages:
  each:
    foreach: ${names}
    do:
      cmd: echo ${item} ${a.b} ${extra.greeting} > each-${item}.txt
      outs: ["each-${item}.txt"]
  grid:
    matrix:
      m: [1, 2]
      n: [{k: v}, {k: w}]
    cmd: echo ${item.m} ${item.n.k} ${key} > grid-${key}.txt
    outs: ["grid-${key}.txt"]
  opts:
    foreach:
      one: {v: 1}
      two: {v: 2.50}
    do:
      cmd: echo ${key} ${item.v} ${a} > opts-${key}.txt
      outs:
        - "opts-${key}.txt":
            cache: false
  sub:
    wdir: sub
    cmd: cp in.txt out.txt
    deps: [in.txt, ../a.txt]
    params:
      - ../params.yaml: [top]
    outs: [out.txt]
"#;

#[test]
fn foreach_matrix_vars_and_wdir_stages_resolve_like_dvc() {
    let repo = Repo::dvc_init();
    repo.write("a.txt", "hello\n");
    repo.write("sub/in.txt", "in\n");
    repo.write("params.yaml", PARAMS);
    repo.write("dvc.yaml", TEMPLATED);
    let never_run = repo.assert_same_status();
    for name in [
        "each@x",
        "each@y",
        "grid@1-n0",
        "grid@2-n1",
        "opts@one",
        "sub",
    ] {
        assert!(
            never_run.get(name).is_some(),
            "{name} missing: {never_run:#}"
        );
    }
    repo.dvc(&["repro", "-q"]).ok();
    assert_eq!(repo.assert_same_status(), json!({}));

    // Interpolated values live in the commands: a parameter change is a command change.
    repo.replace("params.yaml", "b: 1", "b: 2");
    let status = repo.assert_same_status();
    assert_eq!(status["each@x"], json!(["changed command"]));
    assert_eq!(status["opts@two"], json!(["changed command"]));
    assert!(status.get("grid@1-n0").is_none(), "{status:#}");

    repo.replace("params.yaml", "top: 3", "top: 4");
    repo.append("sub/in.txt", "more\n");
    let status = repo.assert_same_status();
    assert_eq!(
        status["sub"],
        json!([{"changed deps": {"sub/in.txt": "modified", "params.yaml": {"top": "modified"}}}])
    );
}

#[test]
fn file_and_directory_hashes_are_the_ones_in_dvc_lock() {
    let repo = reproduced();
    let lock: serde_yaml::Value =
        serde_yaml::from_slice(&repo.read("dvc.lock")).expect("dvc.lock is YAML");
    let verbose = repo.amesops_verbose();
    let mut checked = 0;
    for stage in verbose["stages"].as_array().expect("stages") {
        let name = stage["name"].as_str().expect("name");
        for file in stage["files"].as_array().expect("files") {
            let section = if file["role"] == "out" {
                "outs"
            } else {
                "deps"
            };
            let path = file["path"].as_str().expect("path");
            let entry = lock["stages"][name][section]
                .as_sequence()
                .and_then(|entries| entries.iter().find(|e| e["path"].as_str() == Some(path)))
                .unwrap_or_else(|| panic!("dvc.lock has no {section} {path} for {name}"));
            assert_eq!(file["md5"].as_str(), entry["md5"].as_str(), "md5 of {path}");
            assert_eq!(file["recorded_md5"], file["md5"], "{path}");
            assert_eq!(
                file["size"].as_u64(),
                entry["size"].as_u64(),
                "size of {path}"
            );
            assert_eq!(
                file["nfiles"].as_u64(),
                entry["nfiles"].as_u64(),
                "nfiles of {path}"
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked, 7,
        "every dependency and output was compared: {verbose:#}"
    );
    let src = &verbose["stages"][1]["files"][0];
    assert!(
        src["md5"].as_str().is_some_and(|m| m.ends_with(".dir")) && src["nfiles"] == 4,
        "{src}"
    );
}
