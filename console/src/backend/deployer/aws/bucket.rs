//! The bucket of prediction records (and a copy of every deployed model): created private and
//! encrypted when missing, never deleted unless asked.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};

use super::errors::{Call, aws_error, call_failed};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Where deployed model artifacts are kept, by sha256.
pub fn model_key(sha256: &str) -> String {
    format!("models/{sha256}.json")
}

impl AwsDeployer {
    fn bucket_call(&self, action: &str, permission: &'static str) -> Call {
        let bucket = &self.settings.bucket;
        Call::new(
            format!("{action} S3 bucket {bucket}"),
            permission,
            format!("arn:{}:s3:::{bucket}", self.partition()),
        )
    }

    /// Creates the bucket when missing: public access blocked, SSE-S3 default encryption.
    pub(super) async fn ensure_bucket(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let bucket = &self.settings.bucket;
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => {
                progress(format!("bucket {bucket} exists"));
                return Ok(());
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                let resource = format!("arn:{}:s3:::{bucket}", self.partition());
                return Err(DeployError::Aws {
                    explanation: format!(
                        "cannot use S3 bucket {bucket}: access denied; it belongs to another account or the deploying identity lacks s3:ListBucket on {resource} (choose another aws.bucket, or attach deploy/deployer-policy.json)"
                    ),
                    action: format!("use S3 bucket {bucket}"),
                    permission: "s3:ListBucket",
                    resource,
                    code: Some("403".to_string()),
                });
            }
            Err(e) => return Err(aws_error(&self.bucket_call("read", "s3:ListBucket"), &e)),
        }
        progress(format!(
            "creating bucket {bucket} (private, SSE-S3 encrypted)"
        ));
        let mut create = self.s3.create_bucket().bucket(bucket);
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
            Err(e) => {
                return Err(aws_error(
                    &self.bucket_call("create", "s3:CreateBucket"),
                    &e,
                ));
            }
        }
        self.s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.bucket_call("block public access to", "s3:PutBucketPublicAccessBlock"),
                    &e,
                )
            })?;
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| DeployError::Build {
                what: "bucket encryption",
                reason: e.to_string(),
            })?;
        let encryption = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(by_default)
                    .build(),
            )
            .build()
            .map_err(|e| DeployError::Build {
                what: "bucket encryption",
                reason: e.to_string(),
            })?;
        self.s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.bucket_call("set default encryption of", "s3:PutEncryptionConfiguration"),
                    &e,
                )
            })?;
        Ok(())
    }

    /// Keeps a copy of the model artifact at `models/<sha256>.json` (for `status` and the console).
    pub(super) async fn store_model_copy(
        &self,
        sha256: &str,
        bytes: &[u8],
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let key = model_key(sha256);
        if self
            .s3
            .head_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        progress(format!(
            "storing the model in s3://{}/{key}",
            self.settings.bucket
        ));
        self.s3
            .put_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .content_type("application/json")
            .body(bytes.to_vec().into())
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.bucket_call(&format!("store {key} in"), "s3:PutObject"),
                    &e,
                )
            })?;
        Ok(())
    }

    /// The stored copy of a model.
    pub(super) async fn model_copy(&self, sha256: &str) -> Result<Vec<u8>, DeployError> {
        let key = model_key(sha256);
        let object = self
            .s3
            .get_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.bucket_call(&format!("read {key} from"), "s3:GetObject"),
                    &e,
                )
            })?;
        let body = object.body.collect().await.map_err(|e| {
            call_failed(
                &Call::new(
                    format!("read s3://{}/{key}", self.settings.bucket),
                    "s3:GetObject",
                    format!(
                        "arn:{}:s3:::{}/{key}",
                        self.partition(),
                        self.settings.bucket
                    ),
                ),
                e,
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }

    /// Empties and deletes the bucket.
    pub(super) async fn delete_bucket(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let bucket = &self.settings.bucket;
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(()),
            Err(e) => return Err(aws_error(&self.bucket_call("read", "s3:ListBucket"), &e)),
        }
        progress(format!("emptying and deleting bucket {bucket}"));
        let mut token: Option<String> = None;
        loop {
            let page = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| aws_error(&self.bucket_call("list", "s3:ListBucket"), &e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    self.s3
                        .delete_object()
                        .bucket(bucket)
                        .key(key)
                        .send()
                        .await
                        .map_err(|e| {
                            aws_error(
                                &self.bucket_call(&format!("delete {key} from"), "s3:DeleteObject"),
                                &e,
                            )
                        })?;
                }
            }
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        self.s3
            .delete_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| aws_error(&self.bucket_call("delete", "s3:DeleteBucket"), &e))?;
        Ok(())
    }
}
