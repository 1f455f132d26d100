//! How long `amesops pipeline status` takes on the project's own pipeline, after a full
//! `dvc repro` in a temporary copy: dvc.yaml, dvc.lock and params.yaml read, every dependency
//! and output hashed, every cached output verified. The budget is 50 ms.
//!
//! Needs `dvc` on PATH (scripts/test's venv) to produce dvc.lock and the cache.

use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

use console::pipeline;

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("create a folder");
        for entry in std::fs::read_dir(from).expect("list a folder") {
            let entry = entry.expect("folder entry");
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).expect("create a folder");
        }
        std::fs::copy(from, to).expect("copy a file");
    }
}

/// A copy of the project with the whole pipeline run by dvc.
fn reproduced_project() -> tempfile::TempDir {
    let dvc = pipeline::tool::find_dvc().unwrap_or_else(|| {
        panic!("`dvc` is not on PATH: run scripts/test once, then put ~/.cache/amesops/venv-*/bin on PATH")
    });
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().expect("a temporary folder");
    for item in [
        "dvc.yaml",
        "params.yaml",
        "datasets",
        "core-model/src",
        "scripts/amesops",
        ".dvc/config",
    ] {
        copy(&source.join(item), &dir.path().join(item));
    }
    for (program, args) in [
        (Path::new("git"), &["init", "-q"][..]),
        (dvc.as_path(), &["repro", "-q"][..]),
    ] {
        let status = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .env("AMESOPS_BIN", env!("CARGO_BIN_EXE_amesops"))
            .env("DVC_NO_ANALYTICS", "1")
            .status()
            .expect("start a setup command");
        assert!(status.success(), "{} {args:?} failed", program.display());
    }
    dir
}

fn status(c: &mut Criterion) {
    let project = reproduced_project();
    let root = project.path();
    let first = pipeline::Project::load(root)
        .and_then(|p| p.status())
        .expect("status of the reproduced project");
    assert!(
        first.stages.iter().all(|s| !s.reported_by_dvc()),
        "the reproduced project is up to date: {first:?}"
    );
    c.bench_function("pipeline status (project, up to date)", |b| {
        b.iter(|| {
            pipeline::Project::load(root)
                .and_then(|p| p.status())
                .expect("status")
        })
    });
}

criterion_group!(benches, status);
criterion_main!(benches);
