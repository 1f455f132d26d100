//! `.dvc/config` and `.dvc/config.local`: where the cache lives, the remotes, and the
//! `parsing` options that change how a dictionary is written into a command.

use std::path::{Path, PathBuf};

use super::Error;

/// The repository's DVC configuration; config.local overrides config.
#[derive(Debug, Clone, Default)]
pub struct DvcConfig {
    /// `(section, key, value)` in file order, local entries last.
    entries: Vec<(String, String, String)>,
}

/// The `[parsing]` options of `${dict}` interpolation in commands.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParsingConfig {
    /// `parsing.bool = boolean_optional`: false becomes `--no-name`.
    pub boolean_optional: bool,
    /// `parsing.list = append`: every list item gets its own `--name`.
    pub list_append: bool,
}

impl DvcConfig {
    /// Reads `.dvc/config` and `.dvc/config.local` (both optional).
    pub fn load(root: &Path) -> Result<DvcConfig, Error> {
        let mut config = DvcConfig::default();
        for name in ["config", "config.local"] {
            let path = root.join(".dvc").join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => config.parse(&text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        Ok(config)
    }

    fn parse(&mut self, text: &str) {
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = unquote(name.trim()).to_string();
            } else if let Some((key, value)) = line.split_once('=') {
                self.entries.push((
                    section.clone(),
                    key.trim().to_string(),
                    unquote(value.trim()).to_string(),
                ));
            }
        }
    }

    /// The last value of `key` in `section` (`core`, `cache`, `remote "storage"`, …).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
    }

    /// The object cache: `cache.dir` (relative to .dvc/) or `.dvc/cache`.
    pub fn cache_dir(&self, root: &Path) -> PathBuf {
        let dvc_dir = root.join(".dvc");
        match self.get("cache", "dir") {
            Some(dir) => dvc_dir.join(dir),
            None => dvc_dir.join("cache"),
        }
    }

    /// The default remote (`core.remote`).
    pub fn default_remote(&self) -> Option<&str> {
        self.get("core", "remote")
    }

    /// The URL of a named remote.
    pub fn remote_url(&self, name: &str) -> Option<&str> {
        self.get(&format!("remote \"{name}\""), "url")
    }

    /// How `${dict}` expands in commands.
    pub fn parsing(&self) -> ParsingConfig {
        ParsingConfig {
            boolean_optional: self.get("parsing", "bool") == Some("boolean_optional"),
            list_append: self.get("parsing", "list") == Some("append"),
        }
    }
}

fn unquote(s: &str) -> &str {
    for quote in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(quote).and_then(|s| s.strip_suffix(quote)) {
            return inner;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sections_dvc_writes() {
        let mut config = DvcConfig::default();
        config.parse(
            "[core]\n    remote = storage\n    autostage = true\n['remote \"storage\"']\n    url = s3://amesops-data/dvc\n",
        );
        config.parse("['remote \"storage\"']\n    endpointurl = http://127.0.0.1:5000\n[cache]\n    dir = ../cache2\n");
        assert_eq!(config.default_remote(), Some("storage"));
        assert_eq!(config.remote_url("storage"), Some("s3://amesops-data/dvc"));
        assert_eq!(
            config.get("remote \"storage\"", "endpointurl"),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            config.cache_dir(Path::new("/p")),
            Path::new("/p/.dvc/../cache2")
        );
    }
}
