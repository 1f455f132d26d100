//! Why a deployment action failed: one variant per kind of failure, each carrying what an
//! operator (or a caller deciding what to do) needs: the resource, the value, the fix.
//!
//! Every message is one line that names the resource and says what to do; the fields carry the
//! same facts for code. No variant exposes a `source()`: each message already includes its
//! cause, and `{:#}` at the binary's edge would print it twice.

use std::path::PathBuf;

/// Why a deployment action failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An AWS call failed (or answered something unusable); `explanation` is the one line of
    /// `aws::errors::explain`, which names the call, the resource and the fix.
    #[error("{explanation}")]
    Aws {
        /// What was being done, e.g. `create Lambda function amesops-predictor`.
        action: String,
        /// The IAM action it needs, e.g. `lambda:CreateFunction`.
        permission: &'static str,
        /// The resource (ARN or name) the permission must cover.
        resource: String,
        /// AWS's error code, when AWS answered with one.
        code: Option<String>,
        /// The whole message.
        explanation: String,
    },
    /// An AWS call succeeded but its answer lacks what it must hold.
    #[error("{call} returned no {missing}")]
    Incomplete {
        /// The call (`PublishVersion`, `ECR`, …).
        call: String,
        /// What is missing (`version number`, …).
        missing: String,
    },
    /// No AWS region is configured.
    #[error("no AWS region is set: set aws.region in amesops.toml, AWS_REGION, or pass --region")]
    NoRegion,
    /// A setting of amesops.toml has a value the deployer cannot use.
    #[error("{key} = {value:?} in amesops.toml: {fix}")]
    Setting {
        /// The key, e.g. `aws.api_auth`.
        key: &'static str,
        /// The value found.
        value: String,
        /// The values it takes.
        fix: &'static str,
    },
    /// `--canary` outside (0, 100).
    #[error("--canary {percent}: give a percentage strictly between 0 and 100")]
    CanaryPercent {
        /// The percentage given.
        percent: f64,
    },
    /// A container image was asked of a target that only serves model files.
    #[error("container images deploy to the aws target only (--target aws)")]
    ImageNeedsAws,
    /// `--canary` was asked of a target that serves one version.
    #[error("--canary needs the aws target: the local predictor serves one version")]
    CanaryNeedsAws,
    /// A canary watch was asked of a deployer without a traffic split.
    #[error("this target has no canary (traffic split): use --target aws")]
    NoTrafficSplit,
    /// The smoke test could not be set up (before anything was invoked).
    #[error("cannot prepare the smoke test: {reason}")]
    SmokeSetup {
        /// Why.
        reason: String,
    },
    /// The smoke test of a candidate failed: it got no traffic.
    #[error("smoke test{} failed: {failure}", of_version(version))]
    Smoke {
        /// The version tested (`None` on the local target, which tests before publishing).
        version: Option<String>,
        /// What it answered instead.
        failure: SmokeFailure,
    },
    /// A step before the alias moved failed: the alias serves what it served.
    #[error("{error}; the alias {alias} was not moved")]
    AliasKept {
        /// The alias.
        alias: String,
        /// What failed.
        error: Box<DeployError>,
    },
    /// A file cannot be read, created, written or removed.
    #[error("cannot {action} {}: {io}{}", path.display(), then(fix))]
    File {
        /// `read`, `create`, `write`, `remove`, `read the package`, …
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        io: std::io::Error,
        /// What to do about it, when there is something to do.
        fix: Option<&'static str>,
    },
    /// A record file is there but does not parse.
    #[error("{} is not {kind} ({reason}); {fix}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// `a deploy record`, `an image record`.
        kind: &'static str,
        /// The parser's reason.
        reason: String,
        /// What to do about it.
        fix: &'static str,
    },
    /// A package, image record or model file cannot be used as it is.
    #[error("{}: {problem}{}", path.display(), then(fix))]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// What to do about it.
        fix: Option<&'static str>,
    },
    /// A version's model artifact does not load.
    #[error("{0}")]
    Model(core_model::artifact::ArtifactError),
    /// What would ship is not the model asked for.
    #[error("{holder} holds model {holds}, but {} is model {is}: {fix}", model.display())]
    Mismatch {
        /// The package or image (`dist/predictor.zip`, `the image …`).
        holder: String,
        /// The model id inside it.
        holds: String,
        /// The model file asked for.
        model: PathBuf,
        /// Its model id.
        is: String,
        /// How to make them agree.
        fix: &'static str,
    },
    /// The candidate is no longer the model the gate judged: nothing was deployed.
    #[error(
        "{origin} changed since the gate checked it (now model {model_id}): nothing deployed; run the deploy again"
    )]
    CandidateChanged {
        /// Where the candidate comes from.
        origin: String,
        /// The model it holds now.
        model_id: String,
    },
    /// Production was asked for and nothing is deployed.
    #[error("nothing is deployed yet")]
    NothingDeployed,
    /// A rollback without a target, from the first version.
    #[error("version {version} is the first one; there is nothing to roll back to")]
    NothingToRollBack {
        /// The live (first) version.
        version: String,
    },
    /// The function has no alias to act on.
    #[error("nothing to {nothing}: Lambda function {function} has no alias {alias} (deploy first)")]
    NoAlias {
        /// The function.
        function: String,
        /// The alias.
        alias: String,
        /// What could not be done: `roll back`, `promote`.
        nothing: &'static str,
    },
    /// A version label that is not a version number.
    #[error("{value:?} is not a version number (see amesops status)")]
    NotAVersion {
        /// The label given.
        value: String,
    },
    /// A version that does not exist.
    #[error("there is no version {version}")]
    NoSuchVersion {
        /// The version asked for.
        version: String,
    },
    /// The alias moved since a rollback was planned: nothing was rolled back.
    #[error(
        "alias {alias} no longer serves version {version} (another deploy ran): nothing rolled back; look again and retry"
    )]
    AliasMoved {
        /// The alias.
        alias: String,
        /// The version it served when the plan was made.
        version: String,
    },
    /// The alias changed during a deploy.
    #[error("the alias disappeared during the deploy; run it again")]
    AliasGone,
    /// What production serves cannot be proven (the deployer's records and what is there
    /// disagree, or a version was not deployed by amesops).
    #[error("{reason}")]
    Unverifiable {
        /// What disagrees.
        reason: String,
    },
    /// An artifact whose sha256 is not the one recorded for it.
    #[error("{what} has sha256 {found}, but {recorded}: it was altered")]
    Altered {
        /// The artifact (`the live version 3's artifact …`).
        what: String,
        /// Its sha256.
        found: String,
        /// What records another (`deploy.json records model …`).
        recorded: String,
    },
    /// The Lambda function is in a state the deploy cannot continue from.
    #[error("Lambda function {function} {problem}")]
    Lambda {
        /// The function.
        function: String,
        /// Its state, and what to do.
        problem: String,
    },
    /// The execution role lacks the permissions boundary the deploy requires.
    #[error(
        "execution role {role} has {} instead of the permissions boundary {boundary}: an administrator must set it (aws iam put-role-permissions-boundary --role-name {role} --permissions-boundary {boundary}, see deploy/README.md), or set aws.role_arn to a role you manage",
        found.as_ref().map_or_else(|| "no permissions boundary".to_string(), |b| format!("the boundary {b}"))
    )]
    RoleBoundary {
        /// The role.
        role: String,
        /// The boundary it has.
        found: Option<String>,
        /// The boundary it needs.
        boundary: String,
    },
    /// Several HTTP APIs carry the configured name and none is tagged as ours.
    #[error(
        "{count} HTTP APIs are named {name}; tag the one to use with {tag}={function}, or set another aws.api_name"
    )]
    AmbiguousApi {
        /// The API name.
        name: String,
        /// How many APIs have it.
        count: usize,
        /// The tag that picks one.
        tag: &'static str,
        /// The function it must name.
        function: String,
    },
    /// A container image step failed.
    #[error("{}", image_message(image, *step, reason))]
    Image {
        /// The image reference.
        image: String,
        /// The step.
        step: ImageStep,
        /// Why.
        reason: String,
    },
    /// The alias does not route the canary share a canary step needs: nothing was changed.
    #[error("{}", canary_message(version, step))]
    CanaryRouting {
        /// The canary's version.
        version: String,
        /// The step refused, and what was found.
        step: CanaryStep,
    },
    /// `deploy --resume` without a watch to resume.
    #[error("no canary watch to resume ({} does not exist)", path.display())]
    NoWatch {
        /// The watch's state file.
        path: PathBuf,
    },
    /// `deploy --resume` of a watch that ended.
    #[error(
        "the last canary watch (version {version}) is {phase}{}: nothing to resume",
        reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    WatchOver {
        /// Its version.
        version: String,
        /// How it ended (`promoted`, `rolled back`, …).
        phase: String,
        /// Why, when recorded.
        reason: Option<String>,
    },
    /// A document the deployer writes could not be encoded.
    #[error("cannot encode {what}: {error}")]
    Encode {
        /// What (`the deploy record`, …).
        what: &'static str,
        /// The encoder's reason.
        error: serde_json::Error,
    },
    /// An SDK request could not be built.
    #[error("{what}: {reason}")]
    Build {
        /// What was being built (`bucket encryption`, `role tag`).
        what: &'static str,
        /// The SDK's reason.
        reason: String,
    },
    /// A failure of its own kind, said in full.
    #[error("{0}")]
    Other(String),
}

/// What a candidate answered in its smoke test instead of the expected replies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SmokeFailure {
    /// The artifact does not load (local: the candidate is loaded in process).
    #[error("the artifact does not load: {0}")]
    Load(String),
    /// The in-process harness failed (local: the router or a request could not be made).
    #[error("{0}")]
    Harness(String),
    /// The function raised an error instead of answering.
    #[error("the function raised {error}: {payload}")]
    Raised {
        /// Lambda's `FunctionError`.
        error: String,
        /// The start of what it returned.
        payload: String,
    },
    /// The answer is not JSON.
    #[error("the function's answer is not JSON: {shown}")]
    NotJson {
        /// The start of the answer.
        shown: String,
    },
    /// The answer is not an API Gateway response document.
    #[error("the function did not answer with an API Gateway response (no statusCode): {shown}")]
    NotGateway {
        /// The start of the answer.
        shown: String,
    },
    /// A base64 body that does not decode.
    #[error("the body is not base64 ({reason})")]
    NotBase64 {
        /// The decoder's reason.
        reason: String,
    },
    /// `GET /health` did not answer 200 naming the candidate.
    #[error("GET /health answered {status} {answer}, expected 200 naming model {expected}")]
    Health {
        /// HTTP status.
        status: u64,
        /// What it said (`naming model …`, or the body).
        answer: String,
        /// The candidate's model id.
        expected: String,
    },
    /// `POST /predict` did not answer 200.
    #[error("POST /predict answered {status}: {body}")]
    PredictStatus {
        /// HTTP status.
        status: u64,
        /// The start of the body.
        body: String,
    },
    /// `POST /predict` priced the house differently from core-model here.
    #[error("POST /predict priced the first bundled house at {price}, core-model says {expected}")]
    Price {
        /// The candidate's price.
        price: f64,
        /// core-model's price.
        expected: f64,
    },
    /// `POST /predict` answered 200 without a price.
    #[error("POST /predict answered without a price: {body}")]
    NoPrice {
        /// The start of the body.
        body: String,
    },
}

/// A step of building and pushing a container image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStep {
    /// Parsing the reference.
    Reference,
    /// Pulling the base image.
    Pull,
    /// Reading the base image's config.
    BaseConfig,
    /// Pushing.
    Push,
    /// Reading the pushed digest back.
    Digest,
}

/// The canary step a routing change refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanaryStep {
    /// Starting the watch after a canary deploy; `routed` is the version that has the share.
    Watch {
        /// The version the alias routes its canary share to, when it splits at all.
        routed: Option<String>,
    },
    /// Resuming a watch.
    Resume,
    /// Sending all traffic to the canary.
    Promote {
        /// The alias.
        alias: String,
    },
    /// Rolling back because of `because` (an alarm, the operator).
    RollBack {
        /// Why the rollback was due.
        because: String,
    },
}

fn of_version(version: &Option<String>) -> String {
    version
        .as_ref()
        .map(|v| format!(" of version {v}"))
        .unwrap_or_default()
}

fn then(fix: &Option<&'static str>) -> String {
    fix.map(|f| format!("; {f}")).unwrap_or_default()
}

fn image_message(image: &str, step: ImageStep, reason: &str) -> String {
    match step {
        ImageStep::Reference => format!("{image} is not an image reference: {reason}"),
        ImageStep::Pull => format!(
            "cannot pull the base image {image}: {reason}; check the network, or use --base scratch for a registry test"
        ),
        ImageStep::BaseConfig => {
            format!("the base image {image}'s config is not JSON: {reason}")
        }
        ImageStep::Push => format!(
            "cannot push {image}: {reason}; check the registry address and the login (ecr:GetAuthorizationToken, ecr:*Upload*, ecr:PutImage)"
        ),
        ImageStep::Digest => {
            format!("pushed {image} but cannot read its digest back: {reason}")
        }
    }
}

fn canary_message(version: &str, step: &CanaryStep) -> String {
    match step {
        CanaryStep::Watch { routed: None } => {
            format!(
                "the alias does not route a canary share to version {version}: nothing to watch"
            )
        }
        CanaryStep::Watch {
            routed: Some(routed),
        } => format!(
            "the alias routes its canary share to version {routed}, not {version}: another deploy ran"
        ),
        CanaryStep::Resume => {
            format!("the alias no longer routes a share to version {version}: nothing to resume")
        }
        CanaryStep::Promote { alias } => format!(
            "alias {alias} no longer routes to version {version} (another deploy or a rollback ran): nothing promoted"
        ),
        CanaryStep::RollBack { because } => format!(
            "{because}, but the alias no longer routes a share to version {version} (another deploy or rollback ran): nothing rolled back"
        ),
    }
}

impl DeployError {
    /// An AWS call whose answer lacks `missing`.
    pub fn incomplete(call: &str, missing: &str) -> Self {
        DeployError::Incomplete {
            call: call.to_string(),
            missing: missing.to_string(),
        }
    }

    /// A file that cannot be accessed, without a fix to suggest.
    pub fn file(action: &'static str, path: impl Into<PathBuf>, io: std::io::Error) -> Self {
        DeployError::File {
            action,
            path: path.into(),
            io,
            fix: None,
        }
    }

    /// The same failure, reported with the alias it left in place.
    pub fn alias_kept(self, alias: &str) -> Self {
        DeployError::AliasKept {
            alias: alias.to_string(),
            error: Box::new(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_resource_and_the_fix() {
        let missing = DeployError::File {
            action: "read the package",
            path: PathBuf::from("dist/predictor.zip"),
            io: std::io::Error::from(std::io::ErrorKind::NotFound),
            fix: Some("build it with `amesops --target aws package`"),
        };
        assert_eq!(
            missing.to_string(),
            "cannot read the package dist/predictor.zip: entity not found; build it with `amesops --target aws package`"
        );
        let smoke = DeployError::Smoke {
            version: Some("2".to_string()),
            failure: SmokeFailure::Price {
                price: 1.0,
                expected: 2.0,
            },
        }
        .alias_kept("live");
        assert_eq!(
            smoke.to_string(),
            "smoke test of version 2 failed: POST /predict priced the first bundled house at 1, core-model says 2; the alias live was not moved"
        );
        let local = DeployError::Smoke {
            version: None,
            failure: SmokeFailure::Load("bad".to_string()),
        };
        assert_eq!(
            local.to_string(),
            "smoke test failed: the artifact does not load: bad"
        );
        assert!(std::error::Error::source(&missing).is_none());
    }

    #[test]
    fn canary_refusals_say_what_was_not_done() {
        let watch = DeployError::CanaryRouting {
            version: "3".to_string(),
            step: CanaryStep::Watch {
                routed: Some("4".to_string()),
            },
        };
        assert_eq!(
            watch.to_string(),
            "the alias routes its canary share to version 4, not 3: another deploy ran"
        );
        let over = DeployError::WatchOver {
            version: "3".to_string(),
            phase: "rolled back".to_string(),
            reason: Some("alarm x".to_string()),
        };
        assert_eq!(
            over.to_string(),
            "the last canary watch (version 3) is rolled back (alarm x): nothing to resume"
        );
    }
}
