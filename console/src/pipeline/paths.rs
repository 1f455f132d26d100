//! Paths as DVC names them: `/`-separated, relative to the project root, normalised the way
//! Python's `os.path.normpath` does (so `sub/../a.txt` is reported as `a.txt`).

/// Joins a path written in dvc.yaml to its stage's working directory and normalises it.
pub fn join(wdir: &str, path: &str) -> String {
    if path.starts_with('/') || wdir.is_empty() {
        return normalize(path);
    }
    normalize(&format!("{wdir}/{path}"))
}

/// `os.path.normpath` for `/`-separated paths.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Whether `inner` is `outer` or lies inside it (the out→dep link of DVC's graph).
pub fn overlaps(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        inner == outer
            || outer == "."
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_like_python() {
        assert_eq!(join("sub", "../a.txt"), "a.txt");
        assert_eq!(join("", "./data//x.csv"), "data/x.csv");
        assert_eq!(join("a/b", "c"), "a/b/c");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(normalize("/a/../../b"), "/b");
        assert_eq!(normalize("a/.."), ".");
    }

    #[test]
    fn a_directory_overlaps_what_it_contains_only() {
        assert!(overlaps("core-model/src", "core-model/src/lib.rs"));
        assert!(overlaps("data/train.csv", "data"));
        assert!(overlaps("x", "x"));
        assert!(!overlaps("data/train.csv", "data/train.csv.bak"));
        assert!(!overlaps("models", "models2/m.json"));
    }
}
