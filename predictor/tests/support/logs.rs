//! Log capture: the JSON lines the code under test logs, in the production format.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Log lines written while its guard is alive on this thread, in the production JSON format.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

thread_local! {
    static CURRENT_CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Ends a thread's capture when dropped.
#[derive(Debug)]
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CURRENT_CAPTURE.with(|current| *current.borrow_mut() = None);
    }
}

/// Sends each line to the capture of the thread that logs it (or nowhere).
#[derive(Debug, Clone, Copy)]
struct RoutedWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RoutedWriter {
    type Writer = RoutedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RoutedLine(CURRENT_CAPTURE.with(|current| current.borrow().clone()))
    }
}

/// One line on its way to a thread's capture.
#[derive(Debug)]
struct RoutedLine(Option<Arc<Mutex<Vec<u8>>>>);

impl Write for RoutedLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(buffer) = &self.0 {
            match buffer.lock() {
                Ok(mut buffer) => buffer.extend_from_slice(bytes),
                Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One write into a [`LogCapture`].
#[derive(Debug)]
pub struct CaptureWriter {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.buffer.lock() {
            Ok(mut buffer) => buffer.extend_from_slice(bytes),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter {
            buffer: self.buffer.clone(),
        }
    }
}

impl LogCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Captures this thread's events (INFO and above, JSON lines with the fields at the top
    /// level, like `predictor::logging::LogSettings`) until the guard is dropped. A
    /// current-thread runtime (`#[tokio::test]`'s default) runs the router on this thread.
    ///
    /// One global subscriber routes each thread's lines to its capture: scoped subscribers
    /// lose events when tests run in parallel (callsite interest is cached process-wide).
    pub fn set_default(&self) -> CaptureGuard {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(RoutedWriter)
                .try_init();
        });
        CURRENT_CAPTURE.with(|current| *current.borrow_mut() = Some(self.buffer.clone()));
        CaptureGuard
    }

    /// Everything captured, as text.
    pub fn text(&self) -> String {
        let bytes = match self.buffer.lock() {
            Ok(buffer) => buffer.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every captured line, parsed (panics on a line that is not JSON).
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
            })
            .collect()
    }
}
