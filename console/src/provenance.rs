//! What the pipeline's stages really use is what dvc.yaml says they depend on: `fetch
//! --source bundled` reads the project's `datasets/ames.csv` (the declared dependency), and
//! `train` refuses to run when this binary was built from another `core-model/src` than the
//! project's (the train stage's declared code dependency).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// The bundled dataset inside a project.
pub const DATASET: &str = "datasets/ames.csv";

/// The digest of the `core-model/src` this binary was built from.
pub const BUILT_FROM: &str = env!("AMESOPS_CORE_MODEL_DIGEST");

fn project_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    crate::config::find_project_root(&cwd)
}

/// The bytes of the bundled dataset: the project's `datasets/ames.csv`; outside any project
/// (no dvc.yaml or amesops.toml above), the copy built into this binary.
pub fn bundled_dataset() -> Result<Vec<u8>> {
    let Some(root) = project_root() else {
        eprintln!(
            "note: not inside a project (no dvc.yaml or amesops.toml here or above): using the snapshot built into amesops"
        );
        return Ok(crate::bundled::DATA.to_vec());
    };
    let path = root.join(DATASET);
    if !path.is_file() && !root.join("dvc.yaml").is_file() {
        return Ok(crate::bundled::DATA.to_vec());
    }
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (the pipeline's declared data dependency; `git checkout {DATASET}` restores it)",
            path.display()
        )
    })
}

/// Refuses to train when the project's `core-model/src` differs from the sources this binary
/// was built from: dvc would record the project's code for a model the binary's code trained.
pub fn check_training_code() -> Result<()> {
    let Some(root) = project_root() else {
        return Ok(());
    };
    let source = root.join("core-model/src");
    if !source.is_dir() || BUILT_FROM == "unknown" {
        return Ok(());
    }
    let found = crate::code_digest::tree_digest(&source)
        .with_context(|| format!("cannot read {}", source.display()))?;
    if found != BUILT_FROM {
        bail!(
            "this amesops binary was built from other core-model sources than {} (built from {BUILT_FROM}, the project has {found}): the train stage would be recorded for code that did not train the model. Rebuild first (`cargo build --release -p console`; scripts/amesops rebuilds by itself when AMESOPS_BIN is unset)",
            source.display()
        );
    }
    Ok(())
}
