//! AWS SDK clients for a test server (moto), built explicitly with the test region and
//! credentials so no process environment is involved, and the S3 calls the tests check with.

use aws_smithy_http_client::tls;

/// The region of every test client.
pub const TEST_REGION: &str = "us-east-1";
/// The access key id (and secret) moto accepts.
pub const TEST_CREDENTIAL: &str = "testing";

/// The environment that points an AWS SDK in a child process at `endpoint` with the test
/// credentials: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", TEST_CREDENTIAL.to_string()),
        ("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIAL.to_string()),
        ("AWS_REGION", TEST_REGION.to_string()),
    ]
}

/// An SDK config loader for `endpoint` with the test region and credentials set explicitly (no
/// process environment involved); add retry or timeout settings, then `.load().await`.
pub fn aws_loader(endpoint: &str) -> aws_config::ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(TEST_REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            TEST_CREDENTIAL,
            TEST_CREDENTIAL,
            None,
            None,
            "amesops-tests",
        ))
}

/// An S3 client from `config`, with path-style addressing (what moto on an IP address needs).
pub fn s3_client_from(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// An S3 client for `endpoint` (see [`aws_loader`]).
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    s3_client_from(&aws_loader(endpoint).load().await)
}

/// Creates `bucket`, panicking with the SDK's explanation on failure.
pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create bucket {bucket}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
}

/// Every key under `prefix` in `bucket`.
pub async fn list_keys(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let listing = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "list s3://{bucket}/{prefix}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    listing
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_string))
        .collect()
}

/// The body of one object.
pub async fn get_object(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "get s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    object
        .body
        .collect()
        .await
        .expect("read the object body")
        .into_bytes()
        .to_vec()
}
