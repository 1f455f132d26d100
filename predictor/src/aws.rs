//! AWS SDK configuration shared by every AWS client of the project.

use aws_smithy_http_client::tls;

/// Whether `AWS_ENDPOINT_URL` points the SDK at a non-AWS endpoint (then S3 needs path style).
pub fn custom_endpoint() -> bool {
    std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}

/// Loads the standard credential chain, region, profile and endpoint settings, with a rustls/ring
/// HTTPS client (no C toolchain needed to build).
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_with(None, None).await
}

/// Like [`sdk_config`], with an explicit profile and region.
pub async fn sdk_config_with(profile: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client);
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    loader.load().await
}
