//! `amesops destroy`: removes what deploys created — API (with its routes, integration, stage),
//! the function with its versions, alias and permission, and the managed role. The bucket and
//! the log group hold records and logs: they stay unless asked for.

use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// What else to delete.
#[derive(Debug, Clone, Copy, Default)]
pub struct DestroyOptions {
    /// Also empty and delete the bucket (prediction records, model copies).
    pub delete_bucket: bool,
    /// Also delete the log group.
    pub delete_logs: bool,
}

impl AwsDeployer {
    /// Deletes the deployment.
    pub async fn destroy(
        &self,
        options: DestroyOptions,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        self.delete_api(progress).await?;
        self.delete_function(progress).await?;
        self.delete_managed_role(progress).await?;
        if options.delete_logs {
            let group = self.settings.log_group();
            match self
                .logs
                .delete_log_group()
                .log_group_name(&group)
                .send()
                .await
            {
                Ok(_) => progress(format!("deleted log group {group}")),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) => {}
                Err(e) => {
                    return Err(super::errors::aws_error(
                        &super::errors::Call::new(
                            format!("delete log group {group}"),
                            "logs:DeleteLogGroup",
                            &group,
                        ),
                        &e,
                    ));
                }
            }
        } else {
            progress(format!(
                "keeping log group {} (--delete-logs removes it)",
                self.settings.log_group()
            ));
        }
        if options.delete_bucket {
            self.delete_bucket(progress).await?;
        } else {
            progress(format!(
                "keeping bucket {} and its records (--delete-bucket removes it)",
                self.settings.bucket
            ));
        }
        let record = self.record_path();
        if record.exists() {
            std::fs::remove_file(&record).map_err(|e| DeployError::file("remove", &record, e))?;
            progress(format!("removed {}", record.display()));
        }
        Ok(())
    }
}
