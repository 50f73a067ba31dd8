//! Hardening that is not about one route (SECURITY.md S2, S12, S18): a panic becomes a logged
//! 500, the client address behind a trusted proxy, and who may read `/metrics`.

use crate::error::AppError;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// `tower_http::catch_panic` handler: the panic is logged (inside the request's span, so with its
/// request id) and the client gets the ordinary 500 body — never the panic text or a backtrace.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = if let Some(s) = err.downcast_ref::<String>() {
        s.as_str()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        s
    } else {
        "unknown panic"
    };
    tracing::error!(panic = %what, "request handler panicked");
    metrics::counter!("http_panics_total").increment(1);
    AppError::Internal(anyhow::anyhow!("panic")).into_response()
}

/// The client's address: the peer, or — when the peer is one of `trusted_proxies` — the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy. Without trusted
/// proxies the header is never believed (anyone can send it).
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        let Ok(v) = v.to_str() else {
            return Some(peer);
        };
        for part in v.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                // A malformed list is not believed at all.
                Err(_) => return Some(peer),
            }
        }
    }
    Some(
        hops.into_iter()
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .unwrap_or(peer),
    )
}

/// `/metrics` answers an allowed address (default: loopback) or a bearer token equal to the
/// configured metrics token (compared in constant time).
pub fn metrics_allowed(
    allow: &[IpAddr],
    token: Option<&str>,
    client: Option<IpAddr>,
    headers: &HeaderMap,
) -> bool {
    if let Some(expected) = token.filter(|t| !t.is_empty()) {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        if given.is_some_and(|g| crate::security::constant_time_eq(g, expected)) {
            return true;
        }
    }
    client.is_some_and(|ip| allow.contains(&ip))
}

/// A comma-separated list of addresses (`PEIXUN_TRUSTED_PROXIES`, `PEIXUN_METRICS_ALLOW`);
/// an entry that is not an address is an error naming it.
pub fn parse_ip_list(var: &str, s: &str) -> anyhow::Result<Vec<IpAddr>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<IpAddr>()
                .map_err(|_| anyhow::anyhow!("{var}: “{p}” is not an IP address"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(v));
        h
    }

    #[test]
    fn xff_is_believed_only_from_a_trusted_proxy() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let h = xff("198.51.100.7");
        // No trusted proxy: the header is ignored.
        assert_eq!(client_ip(Some(peer), &h, &[]), Some(peer));
        // From a peer that is not the proxy: ignored.
        assert_eq!(client_ip(Some(peer), &h, &[proxy]), Some(peer));
        // From the proxy: the client it saw.
        assert_eq!(
            client_ip(Some(proxy), &h, &[proxy]),
            Some("198.51.100.7".parse().unwrap())
        );
        // A client cannot smuggle an address in front: the right-most untrusted hop wins.
        let h = xff("127.0.0.1, 198.51.100.7");
        assert_eq!(
            client_ip(Some(proxy), &h, &[proxy]),
            Some("198.51.100.7".parse().unwrap())
        );
        // Garbage: the proxy itself.
        assert_eq!(
            client_ip(Some(proxy), &xff("not-an-ip"), &[proxy]),
            Some(proxy)
        );
    }

    #[test]
    fn metrics_need_an_allowed_address_or_the_token() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let out: IpAddr = "203.0.113.9".parse().unwrap();
        let none = HeaderMap::new();
        assert!(metrics_allowed(&[lo], None, Some(lo), &none));
        assert!(!metrics_allowed(&[lo], None, Some(out), &none));
        assert!(!metrics_allowed(&[lo], None, None, &none));
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        assert!(metrics_allowed(&[lo], Some("s3cret"), Some(out), &bearer));
        assert!(!metrics_allowed(&[lo], Some("other"), Some(out), &bearer));
        // An empty token never matches.
        let mut empty = HeaderMap::new();
        empty.insert("authorization", HeaderValue::from_static("Bearer "));
        assert!(!metrics_allowed(&[lo], Some(""), Some(out), &empty));
    }

    #[test]
    fn ip_lists_parse_and_name_bad_entries() {
        assert_eq!(
            parse_ip_list("X", "127.0.0.1, ::1").unwrap(),
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(
            parse_ip_list("X", "10.0.0.0/8")
                .unwrap_err()
                .to_string()
                .contains("10.0.0.0/8")
        );
    }
}
