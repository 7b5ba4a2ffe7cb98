//! Name lookups for requests to addresses that users gave us: the SSRF
//! guard checks each answer, and the connection goes to exactly the
//! addresses it checked, never to those of a second lookup.

use std::net::SocketAddr;
use std::sync::Arc;

use dorsal_domain::webhooks::is_public;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The system's resolver (`getaddrinfo`, off the async threads), as the
/// HTTP client would use by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Why the guard refused a name's answer.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum Refused {
    /// The name has no address.
    #[error("the host resolves to no address")]
    NoAddress,
    /// One of its addresses is not globally reachable.
    #[error("the host resolves to an address that is not public")]
    NotPublic,
}

/// Answers what `inner` answers when every address is public, and refuses
/// the name whole otherwise (a name with one private answer is not one a
/// webhook should trust with the others).
pub(crate) struct PublicOnly {
    pub(crate) inner: Arc<dyn Resolve>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let answer = self.inner.resolve(name);
        Box::pin(async move {
            let found: Vec<SocketAddr> = answer.await?.collect();
            if found.is_empty() {
                return Err(Refused::NoAddress.into());
            }
            if found.iter().any(|addr| !is_public(addr.ip())) {
                return Err(Refused::NotPublic.into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// The guard's refusal somewhere in `err`'s chain of causes.
pub(crate) fn refusal(err: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(*refused);
        }
        cause = err.source();
    }
    None
}
