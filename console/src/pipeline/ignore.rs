//! What DVC leaves out of a directory's hash: `.git`, `.hg` and `.dvc` folders, and the
//! gitignore-style patterns of the root `.dvcignore`.

use std::path::Path;

use super::Error;

/// Patterns DVC always applies, before `.dvcignore`.
const DEFAULTS: [&str; 4] = [".hg/", ".git/", ".git", ".dvc/"];

/// One gitignore pattern.
#[derive(Debug, Clone)]
struct Rule {
    glob: String,
    negated: bool,
    dir_only: bool,
    /// Contains a `/`: matched against the whole path, not just the name.
    anchored: bool,
}

/// The ignore rules of a repository.
#[derive(Debug, Clone)]
pub struct Ignore {
    rules: Vec<Rule>,
}

impl Default for Ignore {
    fn default() -> Self {
        Ignore {
            rules: DEFAULTS.iter().filter_map(|line| parse(line)).collect(),
        }
    }
}

impl Ignore {
    /// The default rules plus `<root>/.dvcignore`, if present.
    pub fn load(root: &Path) -> Result<Ignore, Error> {
        let mut ignore = Ignore::default();
        let path = root.join(".dvcignore");
        match std::fs::read_to_string(&path) {
            Ok(text) => ignore.rules.extend(text.lines().filter_map(parse)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path, source }),
        }
        Ok(ignore)
    }

    /// Whether a path (relative to the root, `/`-separated) is ignored. Callers walk from the
    /// top, so a path inside an ignored folder is never asked about.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for rule in &self.rules {
            if rule.dir_only && !is_dir {
                continue;
            }
            let subject = if rule.anchored { path } else { name };
            if glob(rule.glob.as_bytes(), subject.as_bytes()) {
                ignored = !rule.negated;
            }
        }
        ignored
    }
}

fn parse(line: &str) -> Option<Rule> {
    let line = line.trim_end();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (negated, pattern) = match line.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, line.strip_prefix('\\').unwrap_or(line)),
    };
    let (dir_only, pattern) = match pattern.strip_suffix('/') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let anchored = pattern.contains('/');
    let glob = pattern.strip_prefix('/').unwrap_or(pattern).to_string();
    Some(Rule {
        glob,
        negated,
        dir_only,
        anchored,
    })
}

/// gitignore globbing: `*` and `?` stay within a path segment, `**` crosses them.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    if let Some(rest) = pattern.strip_prefix(b"**/") {
        return (0..=text.len())
            .filter(|&i| i == 0 || text[i - 1] == b'/')
            .any(|i| glob(rest, &text[i..]));
    }
    if let Some(rest) = pattern.strip_prefix(b"**") {
        return (0..=text.len()).any(|i| glob(rest, &text[i..]));
    }
    let Some((&first, rest)) = pattern.split_first() else {
        return text.is_empty();
    };
    match first {
        b'*' => (0..=text.len())
            .take_while(|&i| i == 0 || text[i - 1] != b'/')
            .any(|i| glob(rest, &text[i..])),
        b'?' => text.first().is_some_and(|&c| c != b'/') && glob(rest, &text[1..]),
        b'[' => match class(rest, text.first().copied()) {
            Some((true, after)) => glob(after, &text[1..]),
            Some((false, _)) => false,
            None => text.first() == Some(&b'[') && glob(rest, &text[1..]),
        },
        b'\\' if !rest.is_empty() => text.first() == Some(&rest[0]) && glob(&rest[1..], &text[1..]),
        c => text.first() == Some(&c) && glob(rest, &text[1..]),
    }
}

/// Matches a `[...]` class (after the `[`): whether `c` is in it, and the pattern after `]`.
fn class(pattern: &[u8], c: Option<u8>) -> Option<(bool, &[u8])> {
    let close = pattern.iter().skip(1).position(|&b| b == b']')? + 1;
    let (body, after) = (&pattern[..close], &pattern[close + 1..]);
    let Some(c) = c.filter(|&c| c != b'/') else {
        return Some((false, after));
    };
    let (negated, body) = match body.first() {
        Some(b'!' | b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            found |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= body[i] == c;
            i += 1;
        }
    }
    Some((found != negated, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &str) -> Ignore {
        let mut ignore = Ignore::default();
        ignore.rules.extend(lines.lines().filter_map(parse));
        ignore
    }

    #[test]
    fn dvc_and_git_folders_are_always_ignored() {
        let ignore = Ignore::default();
        assert!(ignore.is_ignored("data/.git", true));
        assert!(ignore.is_ignored("data/.git", false));
        assert!(ignore.is_ignored("x/.dvc", true));
        assert!(!ignore.is_ignored("x/.dvc", false));
        assert!(!ignore.is_ignored("x/.gitignore", false));
    }

    #[test]
    fn gitignore_patterns_match_names_paths_and_negations() {
        let ignore = rules("*.tmp\n!keep.tmp\n/data/raw/\nlogs/**/debug-?.txt\n[Tt]humbs.db\n");
        assert!(ignore.is_ignored("a/b/x.tmp", false));
        assert!(!ignore.is_ignored("a/keep.tmp", false));
        assert!(ignore.is_ignored("data/raw", true));
        assert!(!ignore.is_ignored("data/raw", false));
        assert!(!ignore.is_ignored("x/data/raw", true));
        assert!(ignore.is_ignored("logs/debug-1.txt", false));
        assert!(ignore.is_ignored("logs/a/b/debug-2.txt", false));
        assert!(!ignore.is_ignored("logs/a/debug-10.txt", false));
        assert!(ignore.is_ignored("pics/Thumbs.db", false));
    }
}
