//! The fetch stage as the pipeline runs it: `fetch.source` and `fetch.md5` come from
//! params.yaml, the md5 (any letter case) is checked against the downloaded bytes before
//! anything is written.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use support::Repo;

/// Serves `body` for every request on a local port; returns the URL of `/ames.csv`.
fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A broken connection only fails its own request.
            let _ = respond(stream, &body);
        }
    });
    format!("http://{address}/ames.csv")
}

fn respond(mut stream: TcpStream, body: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 && line.trim() != "" {
        line.clear();
    }
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

#[test]
fn the_md5_in_params_yaml_guards_a_downloaded_source() {
    let bytes = std::fs::read(support::project_root().join("datasets/ames.csv"))
        .expect("read the bundled data");
    let md5 = core_model::digest::md5_hex(&bytes);
    let url = serve(bytes);
    let repo = Repo::git();
    let params = |md5: &str| format!("fetch:\n  source: {url}\n  md5: {md5}\n");

    repo.write("params.yaml", &params(&"0".repeat(32)));
    let refused = repo.amesops(&["fetch", "--out", "data/ames.csv"]);
    assert_eq!(refused.code, Some(1), "{}", refused.report());
    assert!(refused.stderr.contains(&md5), "{}", refused.report());
    assert!(
        refused.stderr.contains("fetch.md5"),
        "says what to fix: {}",
        refused.report()
    );
    assert!(
        !repo.path().join("data/ames.csv").exists(),
        "nothing written"
    );

    repo.write("params.yaml", &params(&md5.to_uppercase()));
    repo.amesops(&["fetch", "--out", "data/ames.csv"]).ok();
    assert!(repo.path().join("data/ames.csv").is_file());
}
