//! Device-push channels behind one trait: a signed webhook to the org's push
//! gateway, and FCM HTTP v1 (a service-account JWT exchanged for an OAuth
//! token, then `messages:send`), both with configurable base URLs.
//!
//! A push carries no health details, not even which kind of notification
//! is waiting: a fixed title and body (in the patient's language), and the push's own opaque id as the
//! collapse key, so a push repeated after a crash replaces the first on the
//! device instead of stacking. The app pulls to see what is new.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use dorsal_service::config::DevicePushConfig;
use dorsal_service::device_push::Device;
use dorsal_service::outbox::Attempt;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::WorkerError;
use crate::delivery::HttpSender;

/// What a push says: only that something is waiting, in the patient's
/// language when it was queued.
#[derive(Debug, Clone)]
pub struct DevicePushMessage {
    /// The outbox row's id, stable across attempts: the collapse key, and
    /// the gateway's `webhook-id`.
    pub delivery_id: uuid::Uuid,
    /// The title shown, from the catalogs.
    pub title: String,
    /// The body shown, from the catalogs.
    pub body: String,
}

impl DevicePushMessage {
    /// The push of delivery `delivery_id`, worded in `language` (English
    /// where the language lacks the words). `None` only if no catalog has
    /// them, which a test rules out.
    pub fn new(delivery_id: uuid::Uuid, language: &str) -> Option<Self> {
        let text = dorsal_domain::locale::device_push(language)?;
        Some(DevicePushMessage {
            delivery_id,
            title: text.title,
            body: text.body,
        })
    }

    /// The collapse key: the same for every attempt of one push.
    pub fn collapse_key(&self) -> String {
        self.delivery_id.simple().to_string()
    }
}

/// An org's push gateway with its signing secret decrypted.
#[derive(Debug)]
pub struct GatewayTarget {
    /// Where pushes are POSTed.
    pub url: String,
    /// The secret they are signed with.
    pub secret: SecretString,
}

/// The future a provider's send returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Attempt> + Send + 'a>>;

/// A way to reach a device.
pub trait DevicePushProvider: Send + Sync + Debug {
    /// Sends `message` to `device` at `now`.
    fn send<'a>(
        &'a self,
        device: &'a Device,
        gateway: Option<&'a GatewayTarget>,
        message: &'a DevicePushMessage,
        now: Timestamp,
    ) -> SendFuture<'a>;
}

/// The org's push gateway: a Standard Webhooks POST, signed with the
/// gateway's secret. A 410 answer means the device token is gone.
#[derive(Debug, Clone)]
pub struct GatewayProvider {
    http: HttpSender,
}

impl GatewayProvider {
    /// Over `http` (its SSRF guard and timeouts apply).
    pub fn new(http: HttpSender) -> Self {
        Self { http }
    }
}

impl DevicePushProvider for GatewayProvider {
    fn send<'a>(
        &'a self,
        device: &'a Device,
        gateway: Option<&'a GatewayTarget>,
        message: &'a DevicePushMessage,
        now: Timestamp,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let Some(gateway) = gateway else {
                return Attempt::NoEndpoint;
            };
            let body = json!({
                "type": "push.send",
                "timestamp": now.to_string(),
                "data": {
                    "device_token": device.token,
                    "platform": device.platform,
                    "collapse_key": message.collapse_key(),
                    "title": message.title,
                    "body": message.body,
                },
            })
            .to_string();
            let msg_id = format!("push_{}", message.delivery_id.simple());
            self.http
                .send(
                    &gateway.url,
                    gateway.secret.expose_secret(),
                    &msg_id,
                    &body,
                    now.as_second(),
                )
                .await
        })
    }
}

/// The parts of a service-account key file FCM needs.
#[derive(Debug, Deserialize)]
struct ServiceAccount {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    token_uri: String,
}

/// The OAuth scope for sending.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// FCM HTTP v1.
pub struct FcmProvider {
    client: reqwest::Client,
    send_url: String,
    account: ServiceAccount,
    key: EncodingKey,
    token: Mutex<Option<(String, Timestamp)>>,
}

impl Debug for FcmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmProvider")
            .field("send_url", &self.send_url)
            .field("client_email", &self.account.client_email)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

impl FcmProvider {
    /// From the `[push]` settings; `None` when FCM is off.
    pub fn from_config(config: &DevicePushConfig) -> Result<Option<FcmProvider>, WorkerError> {
        if config.fcm_project_id.is_empty() {
            return Ok(None);
        }
        let bad = |what: String| WorkerError::DevicePush(what);
        let text = std::fs::read_to_string(&config.fcm_credentials_file).map_err(|err| {
            bad(format!(
                "cannot read push.fcm_credentials_file {}: {err}",
                config.fcm_credentials_file
            ))
        })?;
        let account: ServiceAccount = serde_json::from_str(&text).map_err(|err| {
            bad(format!(
                "the FCM credentials file is not a service-account key: {err}"
            ))
        })?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|err| bad(format!("the FCM private key does not load: {err}")))?;
        crate::delivery::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|err| WorkerError::Http(err.to_string()))?;
        let base = config.fcm_base_url.trim_end_matches('/');
        Ok(Some(FcmProvider {
            client,
            send_url: format!("{base}/v1/projects/{}/messages:send", config.fcm_project_id),
            account,
            key,
            token: Mutex::new(None),
        }))
    }

    /// A signed assertion for the token exchange (RFC 7523).
    fn assertion(&self, now: Timestamp) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let iat = now.as_second();
        let claims = json!({
            "iss": self.account.client_email,
            "scope": FCM_SCOPE,
            "aud": self.account.token_uri,
            "iat": iat,
            "exp": iat + 3600,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|err| err.to_string())
    }

    /// A cached OAuth token, or a new one from the token endpoint.
    async fn access_token(&self, now: Timestamp) -> Result<String, Attempt> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && now.as_second() + 60 < until.as_second()
        {
            return Ok(token.clone());
        }
        let failed = |status: Option<u16>, error: String| Attempt::Failed {
            status,
            error,
            retry_after: None,
        };
        let assertion = self
            .assertion(now)
            .map_err(|err| failed(None, format!("cannot sign the FCM assertion: {err}")))?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let response = self
            .client
            .post(&self.account.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|_| failed(None, "FCM token endpoint unreachable".into()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(
                Some(status.as_u16()),
                format!("FCM token exchange answered {status}"),
            ));
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|_| failed(None, "FCM token answer unreadable".into()))?;
        let until = Timestamp::from_second(now.as_second() + answer.expires_in.unwrap_or(3600))
            .unwrap_or(now);
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }

    async fn send_one(
        &self,
        device: &Device,
        message: &DevicePushMessage,
        now: Timestamp,
    ) -> Attempt {
        let token = match self.access_token(now).await {
            Ok(token) => token,
            Err(attempt) => return attempt,
        };
        let body = json!({
            "message": {
                "token": device.token,
                "notification": {"title": message.title, "body": message.body},
                "data": {"action": "sync"},
                "android": {"collapse_key": message.collapse_key()},
                "apns": {"headers": {"apns-collapse-id": message.collapse_key()}},
            }
        });
        let response = match self
            .client
            .post(&self.send_url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => {
                return Attempt::Failed {
                    status: None,
                    error: if err.is_timeout() {
                        "FCM timed out".into()
                    } else {
                        "FCM unreachable".into()
                    },
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered {
                status: status.as_u16(),
            };
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The token was revoked or expired early: get a new one next time.
            *self.token.lock().await = None;
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let code = fcm_error_code(&answer);
        // The token is gone, or belongs to another sender: no retry will
        // ever reach this device.
        if matches!(code.as_deref(), Some("UNREGISTERED" | "SENDER_ID_MISMATCH")) {
            return Attempt::Gone;
        }
        Attempt::Failed {
            status: Some(status.as_u16()),
            error: format!("FCM answered {status} {}", code.unwrap_or_default()),
            retry_after,
        }
    }
}

/// The FCM error code of an error answer (`details[].errorCode`, else the
/// top-level `status`).
fn fcm_error_code(answer: &Value) -> Option<String> {
    let error = answer.get("error")?;
    error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|d| d.get("errorCode").and_then(Value::as_str))
        .or_else(|| error.get("status").and_then(Value::as_str))
        .map(str::to_owned)
}

impl DevicePushProvider for FcmProvider {
    fn send<'a>(
        &'a self,
        device: &'a Device,
        _gateway: Option<&'a GatewayTarget>,
        message: &'a DevicePushMessage,
        now: Timestamp,
    ) -> SendFuture<'a> {
        Box::pin(self.send_one(device, message, now))
    }
}

/// Every configured provider, chosen per device.
#[derive(Debug)]
pub struct Providers {
    /// The org push gateway (always available; an org without one gets
    /// nothing sent to its `gateway` devices).
    pub gateway: GatewayProvider,
    /// FCM, when configured.
    pub fcm: Option<FcmProvider>,
}

impl Providers {
    /// The provider for `device`, if it is configured.
    pub fn for_device(&self, device: &Device) -> Option<&dyn DevicePushProvider> {
        match device.provider.as_str() {
            "gateway" => Some(&self.gateway),
            "fcm" => self.fcm.as_ref().map(|p| p as &dyn DevicePushProvider),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcm_error_codes() {
        let unregistered = json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
        ]}});
        assert_eq!(
            fcm_error_code(&unregistered).as_deref(),
            Some("UNREGISTERED")
        );
        let plain = json!({"error": {"code": 503, "status": "UNAVAILABLE"}});
        assert_eq!(fcm_error_code(&plain).as_deref(), Some("UNAVAILABLE"));
        assert_eq!(fcm_error_code(&json!({"name": "x"})), None);
    }
}
