//! Prediction records in S3, listed with pagination (newest partition first).

use futures_util::future::BoxFuture;

use super::{ObjectStore, PREDICTIONS_PREFIX, StoreError};

/// A bucket and key prefix.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ObjectStore {
    /// Reads from `bucket` with an S3 client built from the shared SDK config.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    fn error(&self, what: &str, e: impl std::error::Error) -> StoreError {
        StoreError(format!(
            "S3 {what} on bucket {}: {}",
            self.bucket,
            aws_sdk_s3::error::DisplayErrorContext(e)
        ))
    }
}

impl ObjectStore for S3ObjectStore {
    fn partitions(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut partitions = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(PREDICTIONS_PREFIX)
                .delimiter("/")
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("ListObjectsV2", e))?;
                partitions.extend(
                    page.common_prefixes()
                        .iter()
                        .filter_map(|p| p.prefix().map(str::to_string)),
                );
            }
            partitions.sort();
            partitions.reverse();
            Ok(partitions)
        })
    }

    fn keys_in(&self, partition: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let partition = partition.to_string();
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
                        .filter_map(|o| o.key().map(str::to_string)),
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
                .key(key)
                .send()
                .await
                .map_err(|e| self.error("GetObject", e))?;
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| StoreError(format!("reading s3://{}/{key}: {e}", self.bucket)))?;
            Ok(bytes.into_bytes().to_vec())
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}
