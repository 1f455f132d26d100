//! The blocking HTTP client of the test support, which the readiness checks of every server
//! started by the tests rely on.

mod support;

use crate::support::servers::parse_http_reply;

#[test]
fn parses_plain_and_chunked_replies() {
    let (status, body) =
        parse_http_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").expect("parsed");
    assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
    let (status, body) = parse_http_reply(
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    .expect("parsed");
    assert_eq!((status, body.as_slice()), (404, b"abcde".as_slice()));
}
