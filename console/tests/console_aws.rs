//! The console's AWS backends against a real moto server: prediction records listed newest
//! first from S3 with paging across more than 1,000 objects, and CloudWatch log events shown in
//! the Logs view.
//!
//! Needs `moto_server` on PATH (scripts/test provides it); without it the tests fail.

#![cfg(feature = "aws")]

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::aws::{aws_loader, create_bucket, s3_client_from};
use crate::support::servers::MotoServer;
use console::backend::logs::{CloudWatchLogSource, LogEvent, LogSource};
use console::backend::store::{ObjectStore, S3ObjectStore, newest_keys};
use console::tui::action::{Loaded, ViewId};
use console::tui::fixtures;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

fn key(day: u32, i: usize) -> String {
    format!(
        "predictions/dt=2026-11-{day:02}/202611{day:02}T{:02}{:02}{:02}.000000Z-{i:05}.json",
        i / 3600 % 24,
        i / 60 % 60,
        i % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictions_are_listed_newest_first_across_pages_beyond_1000_objects() {
    let moto = MotoServer::start();
    let config = aws_loader(&moto.endpoint()).load().await;
    let s3 = s3_client_from(&config);
    create_bucket(&s3, "records").await;
    let mut expected = Vec::new();
    // 1,150 records on one day (more than one S3 list page) and 60 on the next.
    for (day, count) in [(26, 1_150), (27, 60)] {
        let keys: Vec<String> = (0..count).map(|i| key(day, i)).collect();
        futures_util::future::join_all(keys.iter().map(|k| {
            s3.put_object()
                .bucket("records")
                .key(k)
                .body(
                    format!("{{\"price\":{}}}", 100_000 + k.len())
                        .into_bytes()
                        .into(),
                )
                .send()
        }))
        .await
        .into_iter()
        .for_each(|r| {
            r.expect("put a record");
        });
        expected.extend(keys);
    }
    expected.sort();
    expected.reverse();

    let store = S3ObjectStore::new(s3, "records");
    assert_eq!(
        store.partitions().await.expect("partitions"),
        ["predictions/dt=2026-11-27/", "predictions/dt=2026-11-26/"]
    );
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = newest_keys(&store, cursor.as_deref(), 100)
            .await
            .expect("a page");
        pages += 1;
        listed.extend(page.keys.iter().cloned());
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 13, "1,210 records in pages of 100");
    assert_eq!(listed.len(), expected.len());
    assert_eq!(listed, expected, "every record once, newest first");
    let body = store.get(&listed[0]).await.expect("read the newest record");
    assert!(String::from_utf8_lossy(&body).contains("price"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_log_events_appear_in_the_logs_view() {
    let moto = MotoServer::start();
    let config = aws_loader(&moto.endpoint()).load().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = "/aws/lambda/amesops-console-test";
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("create the log group");
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("s1")
        .send()
        .await
        .expect("create a stream");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let events = (0..5).map(|i| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now_ms - 1_000 + i)
            .message(format!(r#"{{"timestamp":"t{i}","level":"INFO","message":"request served","path":"/predict","price":{}}}"#, 150_000 + i))
            .build()
            .expect("an event")
    });
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name("s1")
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .expect("put events");

    let source = CloudWatchLogSource::new(&config, group, true);
    let (tx, mut rx) = mpsc::channel(64);
    let follower = tokio::spawn(source.follow(tx));
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, fixtures::State::Empty, now);
    let mut seen = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < 5 {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("log events within 30 s")
            .expect("the follower keeps going");
        if let LogEvent::Lines(lines) = &event {
            seen.extend(lines.iter().map(|l| l.text.clone()));
        }
        let _ = app.on_loaded(Loaded::Logs(event), now);
    }
    follower.abort();
    let mut terminal = Terminal::new(TestBackend::new(140, 30)).expect("a test terminal");
    terminal.draw(|frame| app.draw(frame, now)).expect("draw");
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("path=/predict price=150004 request served"),
        "{screen}"
    );
    assert_eq!(
        app.logs.len(),
        5,
        "each event once, even when live tail and polling overlap"
    );
}
