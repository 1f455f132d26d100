//! A child process whose stdout and stderr arrive line by line, as they are printed.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};

use super::Stream;
use crate::pipeline::Error;

/// Starts `command` with piped output; lines of both streams arrive on the receiver, which
/// closes once the process (and anything holding its output open) is done.
pub fn spawn(command: &mut Command) -> Result<(Child, Receiver<(Stream, String)>), Error> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
    let (sender, receiver) = channel();
    if let Some(stdout) = child.stdout.take() {
        forward(stdout, Stream::Stdout, sender.clone());
    }
    if let Some(stderr) = child.stderr.take() {
        forward(stderr, Stream::Stderr, sender);
    }
    Ok((child, receiver))
}

fn forward(pipe: impl Read + Send + 'static, stream: Stream, sender: Sender<(Stream, String)>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']).to_string();
                    if sender.send((stream, text)).is_err() {
                        break;
                    }
                }
            }
        }
    });
}
