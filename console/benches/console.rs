//! Console responsiveness: a frame with 100,000 log lines buffered, key handling while every
//! backend request is pending, and the memory of streaming 1,000,000 log lines through the
//! bounded buffer (peak resident size printed).

use std::time::Instant;

use console::backend::logs::{LogEvent, LogLine};
use console::tui::action::{Loaded, ViewId};
use console::tui::fixtures;
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn line(i: usize) -> LogLine {
    LogLine {
        timestamp_ms: None,
        text: format!(
            r#"{{"timestamp":"2026-11-27T10:00:00.{i:06}Z","level":"INFO","message":"request served","request_id":"req-{i}","path":"/predict","status":200,"latency_us":41,"model_id":"3f9a1c2b7d10","price":{}}}"#,
            150_000 + i % 90_000
        ),
    }
}

fn app_with_lines(n: usize) -> console::tui::app::App {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, fixtures::State::Empty, now);
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let lines = chunk.iter().map(|&i| line(i)).collect();
        let _ = app.on_loaded(Loaded::Logs(LogEvent::Lines(lines)), now);
    }
    app
}

fn frame_with_100k_lines(c: &mut Criterion) {
    let mut app = app_with_lines(100_000);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap_or_else(|e| match e {});
    let now = Instant::now();
    c.bench_function("draw logs view, 100k lines buffered", |b| {
        b.iter(|| terminal.draw(|frame| app.draw(frame, now)).map(|_| ()))
    });
    // Scrolled far up with a level filter: the walk back is the worst case.
    for _ in 0..500 {
        let _ = app.on_key(KeyEvent::from(KeyCode::PageUp), now);
    }
    let _ = app.on_key(KeyEvent::from(KeyCode::Char('f')), now);
    c.bench_function(
        "draw logs view, 100k lines, scrolled up and filtered",
        |b| b.iter(|| terminal.draw(|frame| app.draw(frame, now)).map(|_| ())),
    );
}

fn keys_while_requests_hang(c: &mut Criterion) {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    // Every view has asked for data that never arrives.
    for view in ['1', '2', '3', '4', '5', '6'] {
        let _ = app.on_key(KeyEvent::from(KeyCode::Char(view)), now);
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap_or_else(|e| match e {});
    let keys = [
        KeyCode::Char('1'),
        KeyCode::Char('3'),
        KeyCode::Tab,
        KeyCode::Char('?'),
        KeyCode::Esc,
    ];
    c.bench_function("key + redraw while every request hangs", |b| {
        let mut i = 0;
        b.iter(|| {
            let _ = app.on_key(KeyEvent::from(keys[i % keys.len()]), now);
            i += 1;
            terminal.draw(|frame| app.draw(frame, now)).map(|_| ())
        })
    });
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn million_lines_memory(_: &mut Criterion) {
    let before = peak_rss_kib();
    let started = Instant::now();
    let app = app_with_lines(1_000_000);
    let elapsed = started.elapsed();
    let after = peak_rss_kib();
    println!(
        "streamed 1,000,000 log lines in {:.2} s: buffer holds {} lines, dropped {}; peak RSS {} MiB (was {} MiB before)",
        elapsed.as_secs_f64(),
        app.logs.len(),
        app.logs.dropped,
        after.unwrap_or(0) / 1024,
        before.unwrap_or(0) / 1024
    );
}

criterion_group!(
    benches,
    frame_with_100k_lines,
    keys_while_requests_hang,
    million_lines_memory
);
criterion_main!(benches);
