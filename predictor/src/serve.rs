//! The local HTTP server: the same router under `axum::serve`.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::api::{Caller, router};
use crate::state::AppState;

async fn caller_from_socket(mut request: Request, next: Next) -> Response {
    let source_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    request.extensions_mut().insert(Caller {
        request_id: uuid::Uuid::new_v4().to_string(),
        source_ip,
        source: crate::record::Source::Api,
        baseline_price: None,
    });
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).layer(middleware::from_fn(caller_from_socket));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
