//! Sending one webhook message: Standard Webhooks headers, no redirects,
//! timeouts, and the SSRF guard applied to the addresses a name resolves to.

use std::net::IpAddr;
use std::time::Duration;

use dorsal_domain::webhooks::{is_public, secret_key, sign};
use dorsal_service::webhooks::Attempt;
use reqwest::redirect::Policy;

use crate::scheduler::WorkerError;

/// Installs the process's TLS crypto provider (ring, already in the tree
/// through sqlx). Any HTTP client of the process needs it; calling it
/// again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP side of webhook delivery.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpSender {
    /// A client that follows no redirects and gives up after 10 s.
    pub fn new(allow_private: bool) -> Result<HttpSender, WorkerError> {
        Self::with_timeout(allow_private, Duration::from_secs(10))
    }

    /// A client that follows no redirects and gives up on a request after
    /// `timeout` (connecting: after 5 s at most).
    pub fn with_timeout(allow_private: bool, timeout: Duration) -> Result<HttpSender, WorkerError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent("dorsal-webhooks/1")
            .build()
            .map_err(|err| WorkerError::Http(err.to_string()))?;
        Ok(HttpSender {
            client,
            allow_private,
        })
    }

    async fn target_allowed(&self, url: &reqwest::Url) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        let host = url.host_str().ok_or("no host")?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|err| format!("cannot resolve the host: {err}"))?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() || addresses.iter().any(|ip| !is_public(*ip)) {
            return Err("the host resolves to a private or loopback address".into());
        }
        Ok(())
    }

    /// POSTs `payload` to `url`, signed with `secret` for `msg_id` at
    /// `now_seconds`.
    pub async fn send(
        &self,
        url: &str,
        secret: &str,
        msg_id: &str,
        payload: &str,
        now_seconds: i64,
    ) -> Attempt {
        let failed = |error: String| Attempt::Failed {
            status: None,
            error,
            retry_after: None,
        };
        let Ok(url) = reqwest::Url::parse(url) else {
            return failed("the URL does not parse".into());
        };
        if let Err(error) = self.target_allowed(&url).await {
            return failed(error);
        }
        let Ok(key) = secret_key(secret) else {
            return failed("the endpoint secret is damaged".into());
        };
        let signature = sign(&key, msg_id, now_seconds, payload.as_bytes());
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", now_seconds.to_string())
            .header("webhook-signature", signature)
            .body(payload.to_owned())
            .send()
            .await;
        match response {
            Err(err) => failed(if err.is_timeout() {
                "timed out".into()
            } else {
                "connection failed".into()
            }),
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                if status.is_success() {
                    Attempt::Delivered {
                        status: status.as_u16(),
                    }
                } else if status == reqwest::StatusCode::GONE {
                    Attempt::Gone
                } else {
                    Attempt::Failed {
                        status: Some(status.as_u16()),
                        error: format!("HTTP {status}"),
                        retry_after,
                    }
                }
            }
        }
    }
}
