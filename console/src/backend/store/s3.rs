//! Prediction records (and sales, day summaries) in S3, listed with pagination (newest partition
//! first). Keys given to and returned by the trait are relative to the store's prefix.

use aws_sdk_s3::primitives::ByteStream;
use futures_util::future::BoxFuture;

use super::{ObjectStore, StoreError};

/// A bucket and key prefix.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3ObjectStore {
    /// Reads from `bucket` with an S3 client built from the shared SDK config.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: String::new(),
        }
    }

    /// Keys live under `prefix/` in the bucket (`s3://bucket/prefix`).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        self.prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        self
    }

    fn error(&self, what: &str, e: impl std::error::Error) -> StoreError {
        StoreError::S3 {
            call: what.to_string(),
            bucket: self.bucket.clone(),
            reason: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
        }
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn relative(&self, key: &str) -> String {
        key.strip_prefix(&self.prefix).unwrap_or(key).to_string()
    }
}

impl ObjectStore for S3ObjectStore {
    fn partitions_of<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut partitions = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.full(prefix))
                .delimiter("/")
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("ListObjectsV2", e))?;
                partitions.extend(
                    page.common_prefixes()
                        .iter()
                        .filter_map(|p| p.prefix().map(|p| self.relative(p))),
                );
            }
            partitions.sort();
            partitions.reverse();
            Ok(partitions)
        })
    }

    fn keys_in(&self, partition: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let partition = self.full(partition);
        Box::pin(async move {
            let mut keys = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&partition)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("ListObjectsV2", e))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(|k| self.relative(k))),
                );
            }
            keys.sort();
            Ok(keys)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, StoreError>> {
        Box::pin(async move {
            let object = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.full(key))
                .send()
                .await
                .map_err(|e| self.error("GetObject", e))?;
            let bytes = object.body.collect().await.map_err(|e| StoreError::Body {
                url: format!("s3://{}/{key}", self.bucket),
                reason: e.to_string(),
            })?;
            Ok(bytes.into_bytes().to_vec())
        })
    }

    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(self.full(key))
                .content_type("application/json")
                .body(ByteStream::from(body))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("PutObject", e))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(self.full(key))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.error("DeleteObject", e))
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}
