//! Records which `core-model/src` this binary is built from, so the pipeline's train stage
//! (whose dvc.yaml dependency is that folder) can refuse to train with other code than the one
//! it will be recorded for.

#[path = "src/code_digest.rs"]
mod code_digest;

fn main() {
    let source = std::path::Path::new("../core-model/src");
    println!("cargo:rerun-if-changed=../core-model/src");
    println!("cargo:rerun-if-changed=src/code_digest.rs");
    let digest = code_digest::tree_digest(source).unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=AMESOPS_CORE_MODEL_DIGEST={digest}");
}
