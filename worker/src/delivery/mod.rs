//! Sending one webhook message: Standard Webhooks headers, no redirects,
//! timeouts, and the SSRF guard applied to literal addresses and to the
//! addresses a name resolves to, which are the ones the connection uses.

mod resolve;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use dorsal_domain::webhooks::{is_public, secret_key, sign};
use dorsal_service::webhooks::Attempt;
use reqwest::dns::Resolve;
use reqwest::redirect::Policy;

pub use self::resolve::{Refused, SystemResolver};
use crate::WorkerError;

/// Installs the process's TLS crypto provider (ring, already in the tree
/// through sqlx). Any HTTP client of the process needs it; calling it
/// again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP side of webhook delivery (and of the push gateway).
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
        Self::with_resolver(allow_private, timeout, Arc::new(SystemResolver), None)
    }

    /// As [`HttpSender::with_timeout`], looking names up with `resolver`
    /// and, if given, making connections from `local_address` (tests use
    /// 127.0.0.1, from which nothing can reach another machine).
    ///
    /// Unless `allow_private`, a name is refused when any address it
    /// resolves to is not public, and the connection is made to the
    /// addresses that were checked. Proxies from the environment are not
    /// used: a proxy would look the name up again, past the guard.
    pub fn with_resolver(
        allow_private: bool,
        timeout: Duration,
        resolver: Arc<dyn Resolve>,
        local_address: Option<IpAddr>,
    ) -> Result<HttpSender, WorkerError> {
        install_crypto_provider();
        let resolver: Arc<dyn Resolve> = if allow_private {
            resolver
        } else {
            Arc::new(resolve::PublicOnly { inner: resolver })
        };
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .dns_resolver(resolver)
            .local_address(local_address)
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

    /// The guarded client (no redirects, no proxies, the SSRF guard on
    /// every name it resolves), for other requests to user-given URLs.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Whether private and loopback targets are allowed (tests, local setups).
    pub(crate) fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// A literal address in the URL is never looked up, so the guard
    /// checks it here; names are checked as they resolve.
    pub(crate) fn literal_allowed(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url.host_str().ok_or("no host")?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) if !self.allow_private && !is_public(ip) => {
                Err("the address is not public".into())
            }
            _ => Ok(()),
        }
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
        if let Err(error) = self.literal_allowed(&url) {
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
            Err(err) => failed(failure(&err)),
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

/// Why a request to a user-given URL failed, in words that never repeat
/// the URL (reqwest's own messages do).
pub(crate) fn failure(err: &reqwest::Error) -> String {
    if let Some(refused) = resolve::refusal(err) {
        refused.to_string()
    } else if err.is_timeout() {
        "timed out".into()
    } else if err.is_dns() {
        "cannot resolve the host".into()
    } else {
        "connection failed".into()
    }
}
