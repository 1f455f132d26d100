//! Records as S3 objects.

use aws_sdk_s3::primitives::ByteStream;
use futures_util::future::BoxFuture;

use super::{PredictionStore, StoreError};

/// An S3 bucket (and optional key prefix).
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3Store {
    /// Stores into `bucket`, keys prefixed with `prefix` (may be empty).
    pub fn new(config: &aws_config::SdkConfig, bucket: &str, prefix: &str) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(crate::aws::custom_endpoint())
            .build();
        Self::from_client(aws_sdk_s3::Client::from_conf(s3_config), bucket, prefix)
    }

    /// Stores through an already configured client (e.g. one pointed at a test endpoint).
    pub fn from_client(client: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client,
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }
}

impl PredictionStore for S3Store {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let key = format!("{}{key}", self.prefix);
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type("application/json")
                .body(ByteStream::from(body))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    StoreError(format!(
                        "s3://{}/{key}: {}",
                        self.bucket,
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    ))
                })
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}
