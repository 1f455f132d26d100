//! Following the predictor's CloudWatch log group: `StartLiveTail`, falling back to polling
//! `FilterLogEvents` when live tail is unavailable or ends.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::BoxError;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::{LogEvent, LogLine, LogSource};

/// How often the fallback polls.
const POLL: Duration = Duration::from_secs(2);
/// How far back the first poll reaches.
const BACKLOG: Duration = Duration::from_secs(3600);

/// Removes the `stream-` host prefix the SDK adds to live-tail requests, which only resolves on
/// AWS itself: against a custom endpoint (`AWS_ENDPOINT_URL`) the request must go to that host.
#[derive(Debug)]
pub struct StripStreamPrefix;

impl Intercept for StripStreamPrefix {
    fn name(&self) -> &'static str {
        "StripStreamPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri = request.uri().to_string();
        if let Some(fixed) = strip_stream_prefix(&uri) {
            request.set_uri(fixed.as_str())?;
        }
        Ok(())
    }
}

/// `http://stream-127.0.0.1:5000/…` → `http://127.0.0.1:5000/…`; `None` when there is no prefix.
pub fn strip_stream_prefix(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    rest.strip_prefix("stream-")
        .map(|host| format!("{scheme}://{host}"))
}

/// Why following the log group by one means failed (the follower then falls back or reports
/// it in the view; the user sees which call, on which group).
#[derive(Debug, thiserror::Error)]
enum TailError {
    /// A CloudWatch Logs call failed.
    #[error("{call} {group}: {message}")]
    Call {
        call: &'static str,
        group: String,
        message: String,
    },
    /// The group is created by Lambda on the first invocation.
    #[error("log group {0} does not exist yet (it appears after the function's first invocation)")]
    NoGroup(String),
    /// The live-tail session stopped with an error.
    #[error("live tail ended: {0}")]
    Ended(String),
}

impl TailError {
    fn call<E: std::error::Error + 'static>(call: &'static str, group: &str, error: &E) -> Self {
        TailError::Call {
            call,
            group: group.to_string(),
            message: aws_sdk_cloudwatchlogs::error::DisplayErrorContext(error).to_string(),
        }
    }
}

/// Drops lines already sent: the backlog, live tail and polling overlap at their edges.
#[derive(Debug, Default)]
struct Seen(HashSet<(Option<i64>, u64)>);

impl Seen {
    fn fresh(&mut self, lines: Vec<LogLine>) -> Vec<LogLine> {
        use std::hash::{Hash, Hasher};
        if self.0.len() > 200_000 {
            self.0.clear();
        }
        lines
            .into_iter()
            .filter(|line| {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                line.text.hash(&mut hasher);
                self.0.insert((line.timestamp_ms, hasher.finish()))
            })
            .collect()
    }
}

/// A CloudWatch Logs log group.
#[derive(Debug, Clone)]
pub struct CloudWatchLogSource {
    client: Client,
    group: String,
}

impl CloudWatchLogSource {
    /// Follows `group` with a client from the shared SDK configuration.
    pub fn new(
        config: &aws_config::SdkConfig,
        group: impl Into<String>,
        custom_endpoint: bool,
    ) -> Self {
        let mut builder = aws_sdk_cloudwatchlogs::config::Builder::from(config);
        if custom_endpoint {
            builder = builder.interceptor(StripStreamPrefix);
        }
        Self {
            client: Client::from_conf(builder.build()),
            group: group.into(),
        }
    }

    async fn group_arn(&self) -> Result<String, TailError> {
        let groups = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(&self.group)
            .send()
            .await
            .map_err(|e| TailError::call("DescribeLogGroups", &self.group, &e))?;
        groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(self.group.as_str()))
            .and_then(|g| g.arn().map(|arn| arn.trim_end_matches(":*").to_string()))
            .ok_or_else(|| TailError::NoGroup(self.group.clone()))
    }

    /// Live tail until the session ends; `Err` when it cannot start.
    async fn live_tail(
        &self,
        tx: &mpsc::Sender<LogEvent>,
        seen: &mut Seen,
    ) -> Result<(), TailError> {
        let arn = self.group_arn().await?;
        let output = self
            .client
            .start_live_tail()
            .log_group_identifiers(arn)
            .send()
            .await
            .map_err(|e| TailError::call("StartLiveTail", &self.group, &e))?;
        let _ = tx
            .send(LogEvent::Mode(format!("live tail of {}", self.group)))
            .await;
        let mut stream = output.response_stream;
        loop {
            match stream.recv().await {
                Ok(Some(StartLiveTailResponseStream::SessionUpdate(update))) => {
                    let lines = seen.fresh(
                        update
                            .session_results()
                            .iter()
                            .map(|e| LogLine {
                                timestamp_ms: e.timestamp(),
                                text: e.message().unwrap_or_default().trim_end().to_string(),
                            })
                            .collect(),
                    );
                    if !lines.is_empty() && tx.send(LogEvent::Lines(lines)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(e) => {
                    return Err(TailError::Ended(
                        aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e).to_string(),
                    ));
                }
            }
        }
    }

    /// Polls `FilterLogEvents` forever (until the receiver is gone).
    async fn poll(&self, tx: &mpsc::Sender<LogEvent>, mut since_ms: i64, seen: &mut Seen) {
        let _ = tx
            .send(LogEvent::Mode(format!(
                "polling {} every {} s",
                self.group,
                POLL.as_secs()
            )))
            .await;
        loop {
            let mut pages = self
                .client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(since_ms)
                .into_paginator()
                .send();
            let mut lines = Vec::new();
            let mut newest = since_ms;
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => {
                        for event in page.events() {
                            newest = newest.max(event.timestamp().unwrap_or(newest));
                            lines.push(LogLine {
                                timestamp_ms: event.timestamp(),
                                text: event.message().unwrap_or_default().trim_end().to_string(),
                            });
                        }
                    }
                    Err(e) => {
                        let message =
                            TailError::call("FilterLogEvents", &self.group, &e).to_string();
                        if tx.send(LogEvent::Error(message)).await.is_err() {
                            return;
                        }
                        break;
                    }
                }
            }
            let lines = seen.fresh(lines);
            if !lines.is_empty() && tx.send(LogEvent::Lines(lines)).await.is_err() {
                return;
            }
            // Events with the same millisecond may still arrive: keep the boundary, drop repeats.
            since_ms = newest;
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl LogSource for CloudWatchLogSource {
    fn follow(&self, tx: mpsc::Sender<LogEvent>) -> BoxFuture<'static, ()> {
        let source = self.clone();
        Box::pin(async move {
            let started = now_ms();
            let mut seen = Seen::default();
            // Recent history first (live tail only shows new events), then live tail.
            let backlog_from = started - BACKLOG.as_millis() as i64;
            if let Err(e) = source.backlog(&tx, backlog_from, started, &mut seen).await {
                let _ = tx.send(LogEvent::Error(e.to_string())).await;
            }
            match source.live_tail(&tx, &mut seen).await {
                Ok(()) | Err(_) if tx.is_closed() => {}
                Ok(()) => source.poll(&tx, started, &mut seen).await,
                Err(e) => {
                    let _ = tx
                        .send(LogEvent::Error(format!("{e}; falling back to polling")))
                        .await;
                    source.poll(&tx, started, &mut seen).await;
                }
            }
        })
    }

    fn describe(&self) -> String {
        format!("CloudWatch Logs {}", self.group)
    }
}

impl CloudWatchLogSource {
    async fn backlog(
        &self,
        tx: &mpsc::Sender<LogEvent>,
        from_ms: i64,
        to_ms: i64,
        seen: &mut Seen,
    ) -> Result<(), TailError> {
        let mut pages = self
            .client
            .filter_log_events()
            .log_group_name(&self.group)
            .start_time(from_ms)
            .end_time(to_ms)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| TailError::call("FilterLogEvents", &self.group, &e))?;
            let lines = seen.fresh(
                page.events()
                    .iter()
                    .map(|e| LogLine {
                        timestamp_ms: e.timestamp(),
                        text: e.message().unwrap_or_default().trim_end().to_string(),
                    })
                    .collect(),
            );
            if !lines.is_empty() && tx.send(LogEvent::Lines(lines)).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_prefix_is_removed_only_where_present() {
        assert_eq!(
            strip_stream_prefix("http://stream-127.0.0.1:5000/").as_deref(),
            Some("http://127.0.0.1:5000/")
        );
        assert_eq!(
            strip_stream_prefix("https://logs.eu-west-1.amazonaws.com/"),
            None
        );
    }
}
