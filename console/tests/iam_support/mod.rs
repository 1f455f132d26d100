//! IAM, checked against what really happens: the requests moto's recorder saw, each turned into
//! the IAM action (and resource, and condition keys) it needs, and an evaluator of the
//! project's policy files (Allow / Deny, `*` and `?` wildcards, StringEquals / StringLike
//! conditions). moto's own IAM enforcement disagrees with the Rust SDK on CreateRole (see
//! INTERFACES.md), so the calls are recorded and evaluated here instead.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

/// One AWS call as IAM sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `service:Action`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// Condition keys the request sets (`iam:PermissionsBoundary`, `s3:prefix`, …).
    pub context: HashMap<String, String>,
    /// `METHOD /path`, for messages.
    pub request: String,
}

/// Placeholders of the policy files and their values in the test.
pub struct Names {
    /// Partition.
    pub partition: String,
    /// Region.
    pub region: String,
    /// Account.
    pub account: String,
    /// Function.
    pub function: String,
    /// Alias.
    pub alias: String,
    /// Bucket.
    pub bucket: String,
    /// Log group.
    pub log_group: String,
    /// ECR repository.
    pub ecr_repository: String,
}

impl Names {
    fn fill(&self, text: &str) -> String {
        text.replace("${Partition}", &self.partition)
            .replace("${Region}", &self.region)
            .replace("${Account}", &self.account)
            .replace("${Function}", &self.function)
            .replace("${Alias}", &self.alias)
            .replace("${Bucket}", &self.bucket)
            .replace("${LogGroup}", &self.log_group)
            .replace("${EcrRepository}", &self.ecr_repository)
    }
}

/// A policy file with its placeholders filled in.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file, for messages.
    pub file: String,
    /// Its statements.
    pub statements: Vec<Value>,
}

impl Policy {
    /// Reads `path`, filling the placeholders.
    pub fn read(path: &Path, names: &Names) -> Policy {
        let text = std::fs::read_to_string(path).unwrap();
        let document: Value = serde_json::from_str(&names.fill(&text)).unwrap();
        Policy {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            statements: document["Statement"].as_array().unwrap().clone(),
        }
    }

    /// A policy from a document (unit tests).
    pub fn from_value(file: &str, document: Value) -> Policy {
        Policy {
            file: file.to_string(),
            statements: document["Statement"].as_array().unwrap().clone(),
        }
    }

    /// The policy without statement `index`.
    pub fn without(&self, index: usize) -> Policy {
        let mut statements = self.statements.clone();
        statements.remove(index);
        Policy {
            file: self.file.clone(),
            statements,
        }
    }

    /// The statement's Sid (or its index).
    pub fn sid(&self, index: usize) -> String {
        self.statements[index]["Sid"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{index}"))
    }
}

/// What the policy says about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An Allow matches and no Deny does.
    Allowed,
    /// Nothing allows it.
    ImplicitDeny,
    /// A Deny matches.
    ExplicitDeny,
}

/// `*` and `?` wildcards, as IAM matches actions (case-insensitively) and resources.
pub fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    // Iterative glob match with backtracking on the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn conditions_hold(statement: &Value, call: &Call) -> bool {
    let Some(conditions) = statement.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    conditions.iter().all(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, wanted)| {
            let Some(actual) = call.context.get(key) else {
                // A condition on a key the request does not carry does not hold.
                return false;
            };
            let wanted = strings(wanted);
            match operator.as_str() {
                "StringEquals" | "ArnEquals" => wanted.iter().any(|w| w == actual),
                "StringLike" | "ArnLike" => wanted.iter().any(|w| wildcard(w, actual, false)),
                // Operators this evaluator does not know never hold: fail closed.
                _ => false,
            }
        })
    })
}

fn statement_matches(statement: &Value, call: &Call) -> bool {
    let actions = strings(&statement["Action"]);
    let resources = strings(&statement["Resource"]);
    actions.iter().any(|a| wildcard(a, &call.action, true))
        && resources.iter().any(|r| wildcard(r, &call.resource, false))
        && conditions_hold(statement, call)
}

/// Evaluates one call.
pub fn evaluate(policy: &Policy, call: &Call) -> Decision {
    let matching: Vec<&Value> = policy
        .statements
        .iter()
        .filter(|s| statement_matches(s, call))
        .collect();
    if matching.iter().any(|s| s["Effect"] == "Deny") {
        Decision::ExplicitDeny
    } else if matching.iter().any(|s| s["Effect"] == "Allow") {
        Decision::Allowed
    } else {
        Decision::ImplicitDeny
    }
}

/// Every call allowed, or one line naming the first one that is not.
pub fn check(policy: &Policy, calls: &[Call]) -> Result<(), String> {
    for call in calls {
        match evaluate(policy, call) {
            Decision::Allowed => {}
            denied => {
                return Err(format!(
                    "{} does not allow {} on {} ({}; {:?})",
                    policy.file, call.action, call.resource, call.request, denied
                ));
            }
        }
    }
    Ok(())
}

/// What moto's recorder wrote: one JSON object per line.
pub fn calls_from_recording(recording: &str, names: &Names) -> Result<Vec<Call>, String> {
    let mut boundaries: HashMap<String, String> = HashMap::new();
    let mut calls = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let url = entry["url"].as_str().unwrap_or_default();
        let (path, query) = split_url(url);
        if path.starts_with("/moto-api/") {
            continue; // the test's own control calls
        }
        let method = entry["method"].as_str().unwrap_or_default().to_string();
        let headers: HashMap<String, String> = entry["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| {
                        (
                            k.to_ascii_lowercase(),
                            v.as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = body_of(&entry);
        let request = format!("{method} {path}");
        let service = headers
            .get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(3))
            .map(str::to_string)
            .ok_or_else(|| format!("unsigned request, no service: {request}"))?;
        let parsed = Request {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
            request: &request,
            names,
        };
        let mut found = match service.as_str() {
            "lambda" => parsed.lambda()?,
            "s3" => parsed.s3()?,
            "iam" | "sts" => parsed.query_protocol(&service, &mut boundaries)?,
            "logs" | "ecr" => parsed.json_protocol(&service)?,
            "apigateway" => vec![parsed.api_gateway()],
            other => return Err(format!("no IAM mapping for service {other}: {request}")),
        };
        calls.append(&mut found);
    }
    Ok(calls)
}

fn split_url(url: &str) -> (String, HashMap<String, String>) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_and_query = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    (path.to_string(), form(query))
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn body_of(entry: &Value) -> String {
    let body = entry["body"].as_str().unwrap_or_default();
    if entry["body_encoded"].as_bool() == Some(true) {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        body.to_string()
    }
}

struct Request<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a HashMap<String, String>,
    headers: &'a HashMap<String, String>,
    body: &'a str,
    request: &'a str,
    names: &'a Names,
}

impl Request<'_> {
    fn call(&self, action: &str, resource: String) -> Call {
        Call {
            action: action.to_string(),
            resource,
            context: HashMap::new(),
            request: self.request.to_string(),
        }
    }

    fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{rest}",
            self.names.partition, self.names.region, self.names.account
        )
    }

    fn unknown(&self) -> String {
        format!("no IAM mapping for {}", self.request)
    }

    fn lambda(&self) -> Result<Vec<Call>, String> {
        let segments: Vec<String> = self
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let json: Value = serde_json::from_str(self.body).unwrap_or(Value::Null);
        let function = |name: &str| {
            let qualifier = self.query.get("Qualifier").cloned();
            match qualifier {
                Some(q) => self.arn("lambda", &format!("function:{name}:{q}")),
                None => self.arn("lambda", &format!("function:{name}")),
            }
        };
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let mut calls = Vec::new();
        let (action, resource) = match (self.method, segs.as_slice()) {
            ("POST", [_, "functions"]) => {
                let name = json["FunctionName"].as_str().unwrap_or_default();
                ("lambda:CreateFunction", function(name))
            }
            ("GET", [_, "functions", name]) => ("lambda:GetFunction", function(name)),
            ("DELETE", [_, "functions", name]) => ("lambda:DeleteFunction", function(name)),
            ("GET", [_, "functions", name, "configuration"]) => {
                ("lambda:GetFunctionConfiguration", function(name))
            }
            ("PUT", [_, "functions", name, "configuration"]) => {
                ("lambda:UpdateFunctionConfiguration", function(name))
            }
            ("PUT", [_, "functions", name, "code"]) => {
                ("lambda:UpdateFunctionCode", function(name))
            }
            ("POST", [_, "functions", name, "versions"]) => {
                ("lambda:PublishVersion", function(name))
            }
            ("GET", [_, "functions", name, "versions"]) => {
                ("lambda:ListVersionsByFunction", function(name))
            }
            ("POST", [_, "functions", name, "aliases"]) => ("lambda:CreateAlias", function(name)),
            ("GET", [_, "functions", name, "aliases"]) => ("lambda:ListAliases", function(name)),
            ("GET", [_, "functions", name, "aliases", alias]) => (
                "lambda:GetAlias",
                self.arn("lambda", &format!("function:{name}:{alias}")),
            ),
            ("PUT", [_, "functions", name, "aliases", alias]) => (
                "lambda:UpdateAlias",
                self.arn("lambda", &format!("function:{name}:{alias}")),
            ),
            ("DELETE", [_, "functions", name, "aliases", alias]) => (
                "lambda:DeleteAlias",
                self.arn("lambda", &format!("function:{name}:{alias}")),
            ),
            ("POST", [_, "functions", name, "policy"]) => ("lambda:AddPermission", function(name)),
            ("GET", [_, "functions", name, "policy"]) => ("lambda:GetPolicy", function(name)),
            ("DELETE", [_, "functions", name, "policy", _]) => {
                ("lambda:RemovePermission", function(name))
            }
            ("POST", [_, "functions", name, "invocations"]) => {
                ("lambda:InvokeFunction", function(name))
            }
            ("POST", [_, "tags", arn]) => ("lambda:TagResource", arn.to_string()),
            ("GET", [_, "tags", arn]) => ("lambda:ListTags", arn.to_string()),
            ("DELETE", [_, "tags", arn]) => ("lambda:UntagResource", arn.to_string()),
            _ => return Err(self.unknown()),
        };
        // Giving a function a role is passing that role to Lambda.
        if let Some(role) = json["Role"].as_str()
            && matches!(
                action,
                "lambda:CreateFunction" | "lambda:UpdateFunctionConfiguration"
            )
        {
            let mut pass = self.call("iam:PassRole", role.to_string());
            pass.context.insert(
                "iam:PassedToService".to_string(),
                "lambda.amazonaws.com".to_string(),
            );
            calls.push(pass);
        }
        calls.insert(0, self.call(action, resource));
        Ok(calls)
    }

    fn s3(&self) -> Result<Vec<Call>, String> {
        let trimmed = self.path.trim_start_matches('/');
        let (bucket, key) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let bucket_arn = format!("arn:{}:s3:::{bucket}", self.names.partition);
        let key = decode(key);
        let object = format!("{bucket_arn}/{key}");
        let has = |name: &str| self.query.contains_key(name);
        let mut call = match (self.method, key.is_empty()) {
            ("HEAD", true) => self.call("s3:ListBucket", bucket_arn),
            ("GET", true) if has("location") => self.call("s3:GetBucketLocation", bucket_arn),
            ("GET", true) => {
                let mut call = self.call("s3:ListBucket", bucket_arn);
                if let Some(prefix) = self.query.get("prefix") {
                    call.context.insert("s3:prefix".to_string(), prefix.clone());
                }
                call
            }
            ("PUT", true) if has("publicAccessBlock") => {
                self.call("s3:PutBucketPublicAccessBlock", bucket_arn)
            }
            ("PUT", true) if has("encryption") => {
                self.call("s3:PutEncryptionConfiguration", bucket_arn)
            }
            ("PUT", true) if has("tagging") => self.call("s3:PutBucketTagging", bucket_arn),
            ("PUT", true) if self.query.is_empty() => self.call("s3:CreateBucket", bucket_arn),
            ("DELETE", true) if self.query.is_empty() => self.call("s3:DeleteBucket", bucket_arn),
            ("POST", true) if has("delete") => {
                // DeleteObjects: one s3:DeleteObject per key in the body.
                let keys: Vec<Call> = self
                    .body
                    .split("<Key>")
                    .skip(1)
                    .filter_map(|part| part.split("</Key>").next())
                    .map(|k| self.call("s3:DeleteObject", format!("{bucket_arn}/{k}")))
                    .collect();
                return Ok(keys);
            }
            ("GET" | "HEAD", false) => self.call("s3:GetObject", object),
            ("PUT", false) => self.call("s3:PutObject", object),
            ("DELETE", false) => self.call("s3:DeleteObject", object),
            _ => return Err(self.unknown()),
        };
        call.request = self.request.to_string();
        Ok(vec![call])
    }

    fn query_protocol(
        &self,
        service: &str,
        boundaries: &mut HashMap<String, String>,
    ) -> Result<Vec<Call>, String> {
        let mut params = form(self.body);
        params.extend(self.query.clone());
        let action = params
            .get("Action")
            .cloned()
            .ok_or_else(|| self.unknown())?;
        let name = format!("{service}:{action}");
        if service == "sts" {
            return Ok(vec![self.call(&name, "*".to_string())]);
        }
        let role = params.get("RoleName").map(|r| {
            format!(
                "arn:{}:iam::{}:role/{r}",
                self.names.partition, self.names.account
            )
        });
        let resource = role
            .clone()
            .or_else(|| params.get("PolicyArn").cloned())
            .unwrap_or_else(|| "*".to_string());
        let mut call = self.call(&name, resource);
        // iam:PermissionsBoundary: the boundary a new role gets, or the one the role has.
        let boundary = match action.as_str() {
            "CreateRole" => params.get("PermissionsBoundary").cloned(),
            _ => role.as_ref().and_then(|r| boundaries.get(r).cloned()),
        };
        if let (Some(role), "CreateRole", Some(b)) = (&role, action.as_str(), &boundary) {
            boundaries.insert(role.clone(), b.clone());
        }
        if let Some(boundary) = boundary {
            call.context
                .insert("iam:PermissionsBoundary".to_string(), boundary);
        }
        Ok(vec![call])
    }

    fn json_protocol(&self, service: &str) -> Result<Vec<Call>, String> {
        let target = self
            .headers
            .get("x-amz-target")
            .cloned()
            .ok_or_else(|| self.unknown())?;
        let action = target.rsplit('.').next().unwrap_or_default().to_string();
        let json: Value = serde_json::from_str(self.body).unwrap_or(Value::Null);
        let name = format!("{service}:{action}");
        if service == "ecr" {
            let resource = json["repositoryName"]
                .as_str()
                .map(str::to_string)
                .or_else(|| json["repositoryNames"][0].as_str().map(str::to_string))
                .map(|r| self.arn("ecr", &format!("repository/{r}")))
                .unwrap_or_else(|| "*".to_string());
            return Ok(vec![self.call(&name, resource)]);
        }
        let group = |name: &str| self.arn("logs", &format!("log-group:{name}"));
        let resources: Vec<String> = match action.as_str() {
            "DescribeLogGroups" => vec![self.arn("logs", "log-group:*")],
            "StartLiveTail" => json["logGroupIdentifiers"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(|id| {
                            if id.starts_with("arn:") {
                                id.trim_end_matches(":*").to_string()
                            } else {
                                group(id)
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => {
                let named = json["logGroupName"]
                    .as_str()
                    .or_else(|| json["logGroupIdentifier"].as_str())
                    .ok_or_else(|| self.unknown())?;
                vec![if named.starts_with("arn:") {
                    named.trim_end_matches(":*").to_string()
                } else {
                    group(named)
                }]
            }
        };
        Ok(resources.into_iter().map(|r| self.call(&name, r)).collect())
    }

    fn api_gateway(&self) -> Call {
        let path = self.path.trim_start_matches("/v2");
        self.call(
            &format!("apigateway:{}", self.method),
            format!(
                "arn:{}:apigateway:{}::{}",
                self.names.partition,
                self.names.region,
                decode(path)
            ),
        )
    }
}
