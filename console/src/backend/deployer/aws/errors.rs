//! Every AWS failure as one line that names the resource and says what to do.
//!
//! The SDK's own errors are long chains ("dispatch failure: io error: …"); an operator needs
//! to know which call failed on which resource, and the fix: which permission is missing, which
//! credentials or region to set. [`explain`] turns the parts of any SDK error into that line; it
//! is a pure function over strings so the rules are unit-tested without AWS. `AMESOPS_DEBUG=1`
//! appends the SDK's whole error chain.

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::backend::deployer::DeployError;

/// The AWS call that failed: what it did, on what, with which IAM action.
#[derive(Debug, Clone)]
pub struct Call {
    /// What was being done, e.g. `create Lambda function amesops-predictor`.
    pub action: String,
    /// The IAM action it needs, e.g. `lambda:CreateFunction`.
    pub permission: &'static str,
    /// The resource (ARN or name) the permission must cover.
    pub resource: String,
}

impl Call {
    /// A call description.
    pub fn new(
        action: impl Into<String>,
        permission: &'static str,
        resource: impl Into<String>,
    ) -> Self {
        Self {
            action: action.into(),
            permission,
            resource: resource.into(),
        }
    }
}

/// How the SDK classified the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The request could not be built (often: no credentials or no region).
    Construction,
    /// The request never got an answer (DNS, connection, TLS, bad endpoint).
    Dispatch,
    /// No answer in time.
    Timeout,
    /// An answer that could not be read.
    Response,
    /// AWS answered with an error code.
    Service,
}

/// The parts of a failure the rules look at.
#[derive(Debug, Clone)]
pub struct Failure {
    /// SDK classification.
    pub stage: Stage,
    /// AWS error code (`AccessDeniedException`, …), when AWS answered.
    pub code: Option<String>,
    /// AWS error message, when AWS answered.
    pub message: Option<String>,
    /// The whole error chain, flattened.
    pub detail: String,
}

impl Failure {
    /// Reads the parts of an SDK error.
    pub fn from_sdk<E, R>(error: &SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let stage = match error {
            SdkError::ConstructionFailure(_) => Stage::Construction,
            SdkError::DispatchFailure(_) => Stage::Dispatch,
            SdkError::TimeoutError(_) => Stage::Timeout,
            SdkError::ResponseError(_) => Stage::Response,
            _ => Stage::Service,
        };
        Failure {
            stage,
            code: error.code().map(str::to_string),
            message: error.message().map(str::to_string),
            detail: DisplayErrorContext(error).to_string(),
        }
    }

    /// The AWS error code, or "".
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    fn text(&self) -> String {
        self.message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| self.detail.clone())
    }
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "Forbidden",
];

const BAD_CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
];

const THROTTLED: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

/// One line: what failed, on what, why, and what to do.
pub fn explain(call: &Call, failure: &Failure) -> String {
    let code = failure.code();
    let text = failure.text();
    let lower = failure.detail.to_ascii_lowercase();
    let head = format!("cannot {}", call.action);
    let line = if ACCESS_DENIED.contains(&code) || text.contains("not authorized to perform") {
        format!(
            "{head}: access denied; the deploying identity needs {} on {} (attach deploy/deployer-policy.json to your IAM user or role)",
            call.permission, call.resource
        )
    } else if BAD_CREDENTIALS.contains(&code) {
        format!(
            "{head}: AWS rejected the credentials ({code}); refresh them (`aws sso login`, or new access keys) or choose another profile with --profile / AWS_PROFILE"
        )
    } else if lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("credential provider")
        || lower.contains("failed to load credentials")
        || lower.contains("loading credentials")
        || lower.contains("no providers in chain")
    {
        format!(
            "{head}: no AWS credentials found; run `aws configure` (or `aws sso login --profile NAME` and pass --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    } else if lower.contains("region")
        && (lower.contains("missing") || lower.contains("no region") || lower.contains("not set"))
        && failure.stage != Stage::Service
    {
        format!(
            "{head}: no AWS region is set; set aws.region in amesops.toml, AWS_REGION, or pass --region"
        )
    } else if THROTTLED.contains(&code) {
        format!(
            "{head}: AWS is throttling requests ({code}); wait a minute and run the command again"
        )
    } else if matches!(failure.stage, Stage::Dispatch | Stage::Timeout) {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|v| !v.is_empty());
        let hint = match endpoint {
            Some(url) => format!("AWS_ENDPOINT_URL is {url}: is that server running?"),
            None => {
                "check the region (--region, AWS_REGION or aws.region) and your network or proxy"
                    .to_string()
            }
        };
        format!(
            "{head}: the AWS endpoint did not answer ({}); {hint}",
            first_cause(&failure.detail)
        )
    } else if code == "InvalidParameterValueException"
        && text.contains("cannot be assumed by Lambda")
    {
        format!(
            "{head}: Lambda cannot assume the execution role {} yet (new roles take a few seconds to propagate, or its trust policy does not name lambda.amazonaws.com); run the deploy again in a minute",
            call.resource
        )
    } else if code == "ResourceConflictException" {
        format!(
            "{head}: {} is being changed by another operation ({text}); wait for it to finish and run the command again",
            call.resource
        )
    } else if code == "CodeStorageExceededException" {
        format!(
            "{head}: the account's Lambda code storage is full; delete old versions of {} (amesops destroy, or the console)",
            call.resource
        )
    } else if code == "RequestEntityTooLargeException" {
        format!(
            "{head}: the package is too large for a direct upload (50 MB zipped); build with the lambda profile (amesops package) or deploy the container image (--image)"
        )
    } else if matches!(
        code,
        "ResourceNotFoundException"
            | "NoSuchEntity"
            | "NoSuchBucket"
            | "NotFoundException"
            | "RepositoryNotFoundException"
    ) {
        format!(
            "{head}: {} does not exist ({text}); check the names in amesops.toml and the region, or run amesops deploy to create it",
            call.resource
        )
    } else if code == "InvalidLocationConstraint"
        || code == "IllegalLocationConstraintException"
        || code == "AuthorizationHeaderMalformed"
    {
        format!(
            "{head}: {} lives in another region ({text}); set aws.region (or --region) to the bucket's region",
            call.resource
        )
    } else if code == "BucketAlreadyExists" {
        format!(
            "{head}: the bucket name {} is taken by another AWS account; choose another aws.bucket in amesops.toml",
            call.resource
        )
    } else if !code.is_empty() {
        format!("{head}: {code}: {text}")
    } else {
        format!("{head}: {}", first_cause(&failure.detail))
    };
    if std::env::var_os("AMESOPS_DEBUG").is_some_and(|v| !v.is_empty()) {
        return one_line(&format!("{line} [SDK error: {}]", failure.detail));
    }
    one_line(&line)
}

/// The SDK error as a [`DeployError`] with the one-line explanation.
pub fn aws_error<E, R>(call: &Call, error: &SdkError<E, R>) -> DeployError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let failure = Failure::from_sdk(error);
    DeployError::Aws {
        action: call.action.clone(),
        permission: call.permission,
        resource: call.resource.clone(),
        code: failure.code.clone(),
        explanation: explain(call, &failure),
    }
}

/// A failure of `call` outside the SDK's own errors (a body that does not arrive, a token that
/// does not decode), said as `cannot <action>: <reason>`.
pub fn call_failed(call: &Call, reason: impl std::fmt::Display) -> DeployError {
    DeployError::Aws {
        action: call.action.clone(),
        permission: call.permission,
        resource: call.resource.clone(),
        code: None,
        explanation: one_line(&format!("cannot {}: {reason}", call.action)),
    }
}

/// The innermost readable cause of a flattened chain ("a: b: c (Debug…)" → "c"), without the
/// SDK's trailing debug dump, at most 200 characters.
fn first_cause(detail: &str) -> String {
    let readable = strip_debug(detail);
    let cause = readable
        .rsplit(": ")
        .find(|part| !part.trim().is_empty())
        .unwrap_or(readable)
        .trim();
    let cause: String = cause.chars().take(200).collect();
    if cause.is_empty() {
        "no detail".to_string()
    } else {
        cause
    }
}

/// `DisplayErrorContext` ends with ` (TypeName(…))` or ` (TypeName { … })`: drop that part.
fn strip_debug(detail: &str) -> &str {
    let mut search = 0;
    while let Some(found) = detail[search..].find(" (") {
        let start = search + found;
        let rest = &detail[start + 2..];
        let name_len = rest.chars().take_while(char::is_ascii_alphanumeric).count();
        let after = &rest[name_len..];
        let type_name = rest.starts_with(|c: char| c.is_ascii_uppercase());
        if type_name && (after.starts_with('(') || after.starts_with(" {")) {
            return &detail[..start];
        }
        search = start + 2;
    }
    detail
}

/// Collapses whitespace, including newlines, so the message is one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call::new(
            "create Lambda function amesops-predictor",
            "lambda:CreateFunction",
            "arn:aws:lambda:eu-west-1:123456789012:function:amesops-predictor",
        )
    }

    fn service(code: &str, message: &str) -> Failure {
        Failure {
            stage: Stage::Service,
            code: Some(code.to_string()),
            message: Some(message.to_string()),
            detail: format!("service error: {code}: {message}"),
        }
    }

    fn local(stage: Stage, detail: &str) -> Failure {
        Failure {
            stage,
            code: None,
            message: None,
            detail: detail.to_string(),
        }
    }

    #[test]
    fn access_denied_names_the_permission_and_the_resource() {
        let line = explain(
            &call(),
            &service(
                "AccessDeniedException",
                "User: arn:aws:iam::1:user/x is not authorized to perform: lambda:CreateFunction",
            ),
        );
        assert!(line.contains("lambda:CreateFunction"), "{line}");
        assert!(line.contains("function:amesops-predictor"), "{line}");
        assert!(line.contains("deploy/deployer-policy.json"), "{line}");
        let line = explain(&call(), &service("AccessDenied", "Access Denied"));
        assert!(line.contains("lambda:CreateFunction"), "{line}");
    }

    #[test]
    fn missing_credentials_say_how_to_configure_them() {
        let line = explain(
            &call(),
            &local(
                Stage::Dispatch,
                "dispatch failure: other: an error occurred while loading credentials: no providers in chain provided credentials",
            ),
        );
        assert!(line.contains("no AWS credentials"), "{line}");
        assert!(line.contains("aws configure"), "{line}");
        assert!(line.contains("--profile"), "{line}");
    }

    #[test]
    fn rejected_credentials_suggest_refreshing_them() {
        let line = explain(
            &call(),
            &service(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
        );
        assert!(line.contains("rejected the credentials"), "{line}");
        assert!(line.contains("aws sso login"), "{line}");
    }

    #[test]
    fn a_missing_region_says_where_to_set_one() {
        let line = explain(
            &call(),
            &local(
                Stage::Construction,
                "failed to construct request: No region was set: region is missing",
            ),
        );
        assert!(line.contains("no AWS region"), "{line}");
        assert!(line.contains("AWS_REGION"), "{line}");
    }

    #[test]
    fn an_unreachable_endpoint_points_at_region_or_endpoint() {
        let line = explain(
            &call(),
            &local(
                Stage::Dispatch,
                "dispatch failure: io error: error trying to connect: tcp connect error: Connection refused (os error 111)",
            ),
        );
        assert!(line.contains("did not answer"), "{line}");
        assert!(line.contains("Connection refused"), "{line}");
        assert!(
            line.contains("region") || line.contains("AWS_ENDPOINT_URL"),
            "{line}"
        );
    }

    #[test]
    fn the_cause_drops_the_sdk_debug_dump() {
        let detail = "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111) (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io } }))";
        assert_eq!(first_cause(detail), "Connection refused (os error 111)");
        let line = explain(
            &call(),
            &local(
                Stage::Dispatch,
                "dispatch failure: other: an error occurred while loading credentials: failed to load IMDS session token (DispatchFailure(X))",
            ),
        );
        assert!(line.contains("no AWS credentials"), "{line}");
    }

    #[test]
    fn a_role_not_yet_assumable_says_to_retry() {
        let line = explain(
            &call(),
            &service(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            ),
        );
        assert!(line.contains("execution role"), "{line}");
        assert!(line.contains("again"), "{line}");
    }

    #[test]
    fn other_service_errors_keep_code_and_message() {
        let line = explain(
            &call(),
            &service(
                "ValidationException",
                "1 validation error detected:\nValue at 'memorySize' failed",
            ),
        );
        assert!(
            line.starts_with(
                "cannot create Lambda function amesops-predictor: ValidationException"
            ),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn every_line_is_a_single_line() {
        for failure in [
            service("AccessDenied", "a\nb"),
            service("ThrottlingException", "slow\ndown"),
            local(Stage::Timeout, "timeout:\n after 30s"),
            local(Stage::Response, "response error:\nunexpected EOF"),
        ] {
            let line = explain(&call(), &failure);
            assert!(
                !line.contains('\n') && line.starts_with("cannot "),
                "{line}"
            );
        }
    }
}
