//! The function's log group: created by the deploy (with a retention period), so the function's
//! role needs no permission to create it.

use super::errors::{Call, aws_error};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Days CloudWatch keeps the function's logs.
pub const RETENTION_DAYS: i32 = 30;

impl AwsDeployer {
    /// Creates the log group when missing.
    pub(super) async fn ensure_log_group(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let group = self.settings.log_group();
        let resource = format!(
            "arn:{}:logs:{}:{}:log-group:{group}",
            self.partition(),
            self.region,
            self.account().await?
        );
        match self
            .logs
            .create_log_group()
            .log_group_name(&group)
            .send()
            .await
        {
            Ok(_) => {
                progress(format!(
                    "created log group {group} (kept {RETENTION_DAYS} days)"
                ));
                self.logs
                    .put_retention_policy()
                    .log_group_name(&group)
                    .retention_in_days(RETENTION_DAYS)
                    .send()
                    .await
                    .map_err(|e| {
                        aws_error(
                            &Call::new(
                                format!("set the retention of log group {group}"),
                                "logs:PutRetentionPolicy",
                                &resource,
                            ),
                            &e,
                        )
                    })?;
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) =>
            {
                progress(format!("log group {group} exists"));
                Ok(())
            }
            Err(e) => Err(aws_error(
                &Call::new(
                    format!("create log group {group}"),
                    "logs:CreateLogGroup",
                    &resource,
                ),
                &e,
            )),
        }
    }
}
