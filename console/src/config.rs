//! Configuration: `amesops.toml` at the project root, then `AMESOPS_*` variables, then flags.
//!
//! The console and every command read one [`Config`]; the target (`local` or `aws`) decides
//! which backends they get, and nothing else needs to know.
//!
//! The project root is found as git finds its repository: the nearest folder at or above the
//! current one holding `amesops.toml` or `dvc.yaml`. The configuration file, the state folder
//! (`.amesops/`, with the run lock) and `deploy.json` live there, whichever subfolder a command
//! runs from.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Deserialize;

/// Where the model is served and operated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Everything on this machine under `.amesops/`: in-process server, folder store, SQLite tracker.
    Local,
    /// AWS: Lambda, API Gateway, S3, CloudWatch Logs, ECR.
    Aws,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: amesops.toml at the project root, if present).
    #[arg(long, global = true, env = "AMESOPS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Target: local (default) or aws.
    #[arg(long, global = true, value_enum)]
    pub target: Option<Target>,
    /// AWS profile (aws target).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (aws target).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Refuse every action that changes anything (deploy, rollback, retrain, pipeline runs).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// No colours (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// AWS resource names and deployment settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// Region; default from the AWS profile or environment.
    pub region: Option<String>,
    /// Profile from ~/.aws/config.
    pub profile: Option<String>,
    /// Bucket for prediction records and model artifacts.
    pub bucket: String,
    /// Lambda function name.
    pub function: String,
    /// Alias that serves traffic.
    pub alias: String,
    /// HTTP API name.
    pub api_name: String,
    /// CloudWatch log group (default `/aws/lambda/<function>`).
    pub log_group: Option<String>,
    /// ECR repository for the container image.
    pub ecr_repository: String,
    /// Execution role; created by deploy when absent.
    pub role_arn: Option<String>,
    /// The permissions boundary of the execution role deploy creates (default
    /// `arn:<partition>:iam::<account>:policy/<function>-boundary`, made once by an
    /// administrator from deploy/lambda-role-boundary.json): the deployer can only create a
    /// role under it, so it cannot grant itself more through the function.
    pub role_boundary_arn: Option<String>,
    /// Function memory, MB.
    pub memory_mb: i32,
    /// Function timeout, seconds.
    pub timeout_s: i32,
    /// `none` or `iam` (SigV4-signed prediction requests).
    pub api_auth: String,
    /// Steady-state request rate limit of the API stage.
    pub throttle_rate: f64,
    /// Burst limit of the API stage.
    pub throttle_burst: i32,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            region: None,
            profile: None,
            bucket: "amesops-predictions".to_string(),
            function: "amesops-predictor".to_string(),
            alias: "live".to_string(),
            api_name: "amesops-api".to_string(),
            log_group: None,
            ecr_repository: "amesops-predictor".to_string(),
            role_arn: None,
            role_boundary_arn: None,
            memory_mb: 512,
            timeout_s: 10,
            api_auth: "none".to_string(),
            throttle_rate: 100.0,
            throttle_burst: 200,
        }
    }
}

impl AwsConfig {
    /// The function's log group.
    pub fn log_group(&self) -> String {
        self.log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.function))
    }
}

/// What a canary watch does when it is interrupted (Ctrl-C, SIGTERM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnInterrupt {
    /// Stop the canary: all traffic back to the old version.
    Rollback,
    /// Leave the canary's share where it is, resumable with `amesops deploy --resume`.
    Resume,
}

/// `[canary]`: how `deploy --canary PCT --watch D` judges the canary.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CanaryConfig {
    /// How often the alarms are read (`15s`, `500ms`).
    pub poll: String,
    /// Requests the canary must serve during the watch to be judged; fewer: a replay of stored
    /// requests, else no promotion without `--promote-anyway`.
    pub min_requests: u64,
    /// Stored requests replayed through a canary that saw too few.
    pub replay: usize,
    /// Lambda `Errors` per period above which the canary is rolled back.
    pub max_errors: f64,
    /// Lambda `Throttles` per period above which it is rolled back.
    pub max_throttles: f64,
    /// p99 of Lambda `Duration` (ms) above which it is rolled back.
    pub max_p99_duration_ms: f64,
    /// Share of predictions not stored above which it is rolled back.
    pub max_not_stored_share: f64,
    /// Mean absolute relative shift of the predicted price against the old version above
    /// which it is rolled back.
    pub max_price_shift: f64,
    /// Alarm period, seconds (60: Lambda's standard resolution).
    pub period_s: i32,
    /// Periods that must breach before an alarm fires.
    pub evaluation_periods: i32,
    /// On Ctrl-C / SIGTERM: `rollback` (default) or `resume` (leave it for `deploy --resume`).
    pub on_interrupt: OnInterrupt,
    /// The console's canary deploy (`C` in the Deploy view): the share of traffic, percent.
    pub percent: f64,
    /// The console's canary deploy: how long the alarms are watched (`10m`).
    pub watch: String,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        Self {
            poll: "15s".to_string(),
            min_requests: 50,
            replay: 200,
            max_errors: 0.0,
            max_throttles: 0.0,
            max_p99_duration_ms: 1000.0,
            max_not_stored_share: 0.01,
            max_price_shift: 0.10,
            period_s: 60,
            evaluation_periods: 1,
            on_interrupt: OnInterrupt::Rollback,
            percent: 10.0,
            watch: "10m".to_string(),
        }
    }
}

impl CanaryConfig {
    /// The poll interval.
    pub fn poll_interval(&self) -> Result<std::time::Duration, String> {
        parse_duration(&self.poll).map_err(|e| format!("[canary] poll: {e}"))
    }
}

/// Parses `500ms`, `3s`, `10m`, `2h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with ms, s, m or h, e.g. 10m"))?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?}; use ms, s, m or h"
            ));
        }
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("{text:?}: must be more than zero"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// The file's shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    target: Option<Target>,
    state_dir: Option<PathBuf>,
    tracker: Option<String>,
    read_only: Option<bool>,
    aws: AwsConfig,
    canary: CanaryConfig,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project root (absolute): where amesops.toml, dvc.yaml and `.amesops/` are.
    pub root: PathBuf,
    /// The configuration file that was read, if any (absolute).
    pub file: Option<PathBuf>,
    /// Local or AWS.
    pub target: Target,
    /// Local state folder (`.amesops`).
    pub state_dir: PathBuf,
    /// Tracker URI (`http(s)://…` MLflow, or a SQLite path); default the local SQLite store.
    pub tracker: Option<String>,
    /// Mutating actions are refused.
    pub read_only: bool,
    /// Colours off.
    pub no_color: bool,
    /// AWS settings.
    pub aws: AwsConfig,
    /// Canary watch settings.
    pub canary: CanaryConfig,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Resolves file, environment and flags, in that order of increasing precedence.
    pub fn load(args: &GlobalArgs) -> Result<Config> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        let root = find_project_root(&cwd).unwrap_or(cwd.clone());
        let path = match &args.config {
            Some(path) => cwd.join(path),
            None => root.join(CONFIG_FILE),
        };
        let (file, read) = match std::fs::read_to_string(&path) {
            Ok(text) => (
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration in {}", path.display()))?,
                Some(path),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.config.is_none() => {
                (FileConfig::default(), None)
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read configuration {}", path.display()));
            }
        };
        let mut config = Config::resolve(file, args, root)?;
        config.file = read;
        Ok(config)
    }

    fn resolve(file: FileConfig, args: &GlobalArgs, root: PathBuf) -> Result<Config> {
        let target = match (args.target, env("AMESOPS_TARGET"), file.target) {
            (Some(t), _, _) => t,
            (None, Some(name), _) => match name.to_ascii_lowercase().as_str() {
                "local" => Target::Local,
                "aws" => Target::Aws,
                other => bail!("AMESOPS_TARGET={other:?}: use local or aws"),
            },
            (None, None, Some(t)) => t,
            (None, None, None) => Target::Local,
        };
        let mut aws = file.aws;
        if let Some(v) = env("AMESOPS_BUCKET") {
            aws.bucket = v;
        }
        if let Some(v) = env("AMESOPS_FUNCTION") {
            aws.function = v;
        }
        if let Some(v) = env("AMESOPS_LOG_GROUP") {
            aws.log_group = Some(v);
        }
        // AMESOPS_PROFILE / AMESOPS_REGION carry a parent's --profile / --region to the
        // pipeline's stage commands.
        aws.profile = args
            .profile
            .clone()
            .or(env("AMESOPS_PROFILE"))
            .or(env("AWS_PROFILE").filter(|_| aws.profile.is_none()))
            .or(aws.profile);
        aws.region = args.region.clone().or(env("AMESOPS_REGION")).or(aws.region);
        let truthy = |v: String| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes");
        let state_dir = env("AMESOPS_STATE_DIR")
            .map(PathBuf::from)
            .or(file.state_dir)
            .unwrap_or_else(|| PathBuf::from(".amesops"));
        Ok(Config {
            state_dir: root.join(state_dir),
            root,
            file: None,
            target,
            tracker: env("AMESOPS_TRACKER")
                .or(env("MLFLOW_TRACKING_URI"))
                .or(file.tracker),
            read_only: args.read_only
                || env("AMESOPS_READ_ONLY").is_some_and(truthy)
                || file.read_only.unwrap_or(false),
            no_color: args.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            aws,
            canary: file.canary,
        })
    }

    /// Short description of the target for headers: `local` or `aws:<profile>/<region>`.
    pub fn target_label(&self) -> String {
        match self.target {
            Target::Local => "local".to_string(),
            Target::Aws => format!(
                "aws:{}/{}",
                self.aws.profile.as_deref().unwrap_or("default"),
                self.aws.region.as_deref().unwrap_or("default-region")
            ),
        }
    }

    /// A path inside the local state folder.
    pub fn state_path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.state_dir.join(relative)
    }

    /// A path relative to the project root.
    pub fn root_path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.root.join(relative)
    }

    /// The variables that give a stage command (a child process: `dvc repro` runs
    /// `scripts/amesops deploy …`) exactly this configuration: target, profile, region,
    /// configuration file, state folder and tracker, whatever the flags of the parent were.
    pub fn child_env(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            (
                "AMESOPS_TARGET".to_string(),
                match self.target {
                    Target::Local => "local",
                    Target::Aws => "aws",
                }
                .to_string(),
            ),
            (
                "AMESOPS_STATE_DIR".to_string(),
                self.state_dir.display().to_string(),
            ),
            ("AMESOPS_FUNCTION".to_string(), self.aws.function.clone()),
            ("AMESOPS_BUCKET".to_string(), self.aws.bucket.clone()),
        ];
        if let Some(file) = &self.file {
            vars.push(("AMESOPS_CONFIG".to_string(), file.display().to_string()));
        }
        if let Some(profile) = &self.aws.profile {
            vars.push(("AMESOPS_PROFILE".to_string(), profile.clone()));
        }
        if let Some(region) = &self.aws.region {
            vars.push(("AMESOPS_REGION".to_string(), region.clone()));
        }
        if let Some(group) = &self.aws.log_group {
            vars.push(("AMESOPS_LOG_GROUP".to_string(), group.clone()));
        }
        if let Some(tracker) = &self.tracker {
            vars.push(("AMESOPS_TRACKER".to_string(), tracker.clone()));
        }
        if self.read_only {
            vars.push(("AMESOPS_READ_ONLY".to_string(), "1".to_string()));
        }
        vars
    }
}

/// The configuration file's name, at the project root.
pub const CONFIG_FILE: &str = "amesops.toml";

/// The project root at or above `start`: the nearest folder holding `amesops.toml` or
/// `dvc.yaml` (as git looks for `.git`).
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file() || dir.join("dvc.yaml").is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_defaults_are_local() {
        let file: FileConfig =
            toml::from_str("target = \"aws\"\n[aws]\nfunction = \"f\"\n").expect("parses");
        let args = GlobalArgs {
            target: Some(Target::Local),
            ..GlobalArgs::default()
        };
        let config = Config::resolve(file, &args, PathBuf::from("/p")).expect("resolves");
        assert_eq!(config.state_dir, PathBuf::from("/p/.amesops"));
        assert_eq!(config.target, Target::Local);
        assert_eq!(config.aws.function, "f");
        assert_eq!(config.aws.log_group(), "/aws/lambda/f");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("[aws]\nfuncion = \"f\"\n").is_err());
    }
}

#[cfg(test)]
mod root_tests {
    use super::*;

    #[test]
    fn the_root_is_the_nearest_folder_with_the_config_or_the_pipeline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("folders");
        assert_eq!(find_project_root(&deep), None);
        std::fs::write(dir.path().join("dvc.yaml"), "stages: {}\n").expect("dvc.yaml");
        assert_eq!(find_project_root(&deep).as_deref(), Some(dir.path()));
        std::fs::write(dir.path().join("a/amesops.toml"), "").expect("amesops.toml");
        assert_eq!(
            find_project_root(&deep).as_deref(),
            Some(dir.path().join("a").as_path())
        );
    }
}

/// The experiment runs go to unless told otherwise.
pub const DEFAULT_EXPERIMENT: &str = "amesops";
