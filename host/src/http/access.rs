//! Who may use the host over HTTP: the `Host` header (DNS rebinding), the `Origin` header (other
//! web pages) and the access token. One middleware ([`guard`]) applies the rules to every route:
//!
//! - `/healthz` and `/livez`: open (probes; they reveal nothing);
//! - everything else: `Host` must name this host (an IP address, `localhost`, the machine's host
//!   name, a `--tls-name`, an `--allowed-host`, or the host of an `--allowed-origin`), else 403;
//! - `/ws`, `/api/*`, `/metrics`: a browser's `Origin` must be the host's own (the same authority
//!   as `Host`, `localhost` aliases included) or listed with `--allowed-origin`, else 403; and with
//!   `--access-token`, the token (`?token=` or `Authorization: Bearer`) compared in constant time,
//!   else 401. The built frontend's static files need no token: they are the same public bytes
//!   for everyone and carry no host state; the viewer passes the page's `?token=` on.

use std::collections::BTreeSet;
use std::net::IpAddr;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::AppState;

/// The access rules, built once at start.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// SHA-256 of the token: compared digest to digest, so time depends on neither value.
    token_digest: Option<[u8; 32]>,
    /// `--allowed-origin` values, normalized (`scheme://host[:port]`, lower case, no slash).
    allowed_origins: Vec<String>,
    /// Names (lower case, no port) that `Host` may carry besides IP addresses.
    host_names: BTreeSet<String>,
}

/// Longest request path served; longer ones get 414.
const MAX_PATH_BYTES: usize = 2048;
/// Longest path segment (a file name) served; longer ones get 404 (no file can have that name).
const MAX_SEGMENT_BYTES: usize = 255;

/// Names that mean this machine's loopback interface.
const LOOPBACK_NAMES: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

impl Access {
    /// `extra_names`: `--tls-name`s and `--allowed-host`s.
    pub fn new(token: Option<&str>, allowed_origins: &[String], extra_names: &[String]) -> Self {
        let mut host_names: BTreeSet<String> = ["localhost".to_string()].into();
        if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let name = name.trim().to_ascii_lowercase();
            if !name.is_empty() {
                host_names.insert(name);
            }
        }
        host_names.extend(extra_names.iter().map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()));
        let allowed_origins: Vec<String> = allowed_origins.iter().map(|o| normalize_origin(o)).collect();
        for origin in &allowed_origins {
            if let Some((_, authority)) = origin.split_once("://") {
                host_names.insert(split_authority(authority).0.to_string());
            }
        }
        Self { token_digest: token.filter(|t| !t.is_empty()).map(digest), allowed_origins, host_names }
    }

    pub fn requires_token(&self) -> bool {
        self.token_digest.is_some()
    }

    /// The `Host` (or HTTP/2 `:authority`) names this host. A request with neither is not from a
    /// browser and passes.
    pub fn check_host(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refusal> {
        let Some(authority) = request_authority(headers, uri) else { return Ok(()) };
        let (name, _) = split_authority(&authority);
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() || self.host_names.contains(name) {
            return Ok(());
        }
        Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Host '{}' is not a name of this host (DNS rebinding protection); start the host with \
                 --allowed-host {} if it is",
                truncate(&authority, 100),
                truncate(name, 100)
            ),
        ))
    }

    /// A browser's `Origin` is the host's own or allowed. No `Origin`: not a browser page; passes.
    pub fn check_origin(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refusal> {
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = normalize_origin(origin.to_str().unwrap_or("null"));
        if self.allowed_origins.contains(&origin) || self.same_origin(&origin, headers, uri) {
            return Ok(());
        }
        Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "origin '{}' is not allowed; start the host with --allowed-origin to allow it",
                truncate(&origin, 100)
            ),
        ))
    }

    fn same_origin(&self, origin: &str, headers: &HeaderMap, uri: &Uri) -> bool {
        let Some((scheme, origin_authority)) = origin.split_once("://") else { return false };
        if scheme != "http" && scheme != "https" {
            return false;
        }
        let Some(host) = request_authority(headers, uri) else { return false };
        let default_port = if scheme == "https" { "443" } else { "80" };
        let (origin_name, origin_port) = split_authority(origin_authority);
        let (host_name, host_port) = split_authority(&host);
        let origin_port = origin_port.unwrap_or(default_port);
        // The page's port is what the browser used; `Host` carries the same one (both default
        // when absent).
        let host_port = host_port.unwrap_or(default_port);
        if origin_port != host_port {
            return false;
        }
        origin_name == host_name || (LOOPBACK_NAMES.contains(&origin_name) && LOOPBACK_NAMES.contains(&host_name))
    }

    /// The token, when one is configured: `?token=` or `Authorization: Bearer`.
    pub fn check_token(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refusal> {
        let Some(expected) = &self.token_digest else { return Ok(()) };
        let bearer =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let query = query_token(uri);
        let matches = |given: Option<&str>| given.is_some_and(|g| constant_time_eq(&digest(g), expected));
        // Both are checked whatever the first gives, so timing says nothing about which matched.
        let (by_query, by_header) = (matches(query.as_deref()), matches(bearer));
        if by_query | by_header {
            return Ok(());
        }
        Err(refuse(StatusCode::UNAUTHORIZED, "missing or wrong access token".into()))
    }
}

/// The middleware: the rules above, per route.
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/livez" {
        return next.run(request).await;
    }
    let access = &state.access;
    let (headers, uri) = (request.headers(), request.uri());
    // Long or odd paths: a clear 414/404 here rather than a file-system error (and an error log
    // line) per request further on.
    if path.len() > MAX_PATH_BYTES {
        return (StatusCode::URI_TOO_LONG, format!("the path is over {MAX_PATH_BYTES} bytes")).into_response();
    }
    // A segment's length once percent-decoded (each `%XX` is one byte).
    let decoded_len = |segment: &str| segment.len() - 2 * segment.matches('%').count().min(segment.len() / 3);
    if path.split('/').any(|segment| decoded_len(segment) > MAX_SEGMENT_BYTES || segment.contains("%00")) {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    if let Err(refusal) = access.check_host(headers, uri) {
        return refusal.into_response();
    }
    let protected = path == "/ws" || path == "/metrics" || path == "/api" || path.starts_with("/api/");
    if protected && let Err(refusal) = access.check_origin(headers, uri).and_then(|()| access.check_token(headers, uri))
    {
        return refusal.into_response();
    }
    next.run(request).await
}

/// Why a request is refused: its status and a sentence saying how to get in.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        tracing::debug!(status = %self.status, "request refused: {}", self.message);
        let mut response = (self.status, self.message).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn refuse(status: StatusCode, message: String) -> Refusal {
    Refusal { status, message }
}

fn request_authority(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.as_str().to_string()))
        .map(|a| a.trim().to_ascii_lowercase())
}

/// `name[:port]` or `[v6][:port]` → (name, port); the name keeps an IPv6 address's brackets.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (authority, None),
    }
}

/// `HTTPS://Example.COM:443/` → `https://example.com`.
fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if origin.starts_with(scheme) && origin.ends_with(port) {
            return origin[..origin.len() - port.len()].to_string();
        }
    }
    origin
}

fn query_token(uri: &Uri) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        token: Option<String>,
    }
    axum::extract::Query::<TokenQuery>::try_from_uri(uri).ok().and_then(|q| q.0.token)
}

fn digest(text: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Equal-length comparison whose time does not depend on where the bytes differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn truncate(text: &str, max: usize) -> String {
    crate::protocol::truncate_chars(text, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn host_names_ip_addresses_and_configured_names_pass_others_are_refused() {
        let access = Access::new(None, &["https://viewer.example".into()], &["studio.lan".into()]);
        let uri: Uri = "/ws".parse().unwrap();
        for ok in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "10.0.0.5", "STUDIO.lan:1", "viewer.example"] {
            assert!(access.check_host(&headers(&[("host", ok)]), &uri).is_ok(), "{ok}");
        }
        for bad in ["evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io:8080"] {
            assert!(access.check_host(&headers(&[("host", bad)]), &uri).is_err(), "{bad}");
        }
        assert!(access.check_host(&HeaderMap::new(), &uri).is_ok(), "no Host: not a browser");
    }

    #[test]
    fn origin_must_be_the_hosts_own_or_listed() {
        let access = Access::new(None, &["https://Viewer.example/".into()], &[]);
        let uri: Uri = "/ws".parse().unwrap();
        let check =
            |origin: &str, host: &str| access.check_origin(&headers(&[("origin", origin), ("host", host)]), &uri);
        assert!(check("http://127.0.0.1:8080", "127.0.0.1:8080").is_ok());
        assert!(check("http://localhost:8080", "127.0.0.1:8080").is_ok(), "loopback aliases");
        assert!(check("http://[::1]:8080", "localhost:8080").is_ok());
        assert!(check("https://viewer.example", "127.0.0.1:8080").is_ok(), "listed");
        assert!(check("https://viewer.example:443", "127.0.0.1:8080").is_ok(), "default port");
        assert!(check("https://evil.example", "127.0.0.1:8080").is_err());
        assert!(check("http://localhost:9999", "127.0.0.1:8080").is_err(), "another local port is another origin");
        assert!(check("null", "127.0.0.1:8080").is_err());
        assert!(access.check_origin(&headers(&[("host", "127.0.0.1:8080")]), &uri).is_ok(), "no Origin");
    }

    #[test]
    fn token_by_query_or_bearer() {
        let access = Access::new(Some("s3cret"), &[], &[]);
        let plain: Uri = "/api/state".parse().unwrap();
        assert!(access.check_token(&HeaderMap::new(), &plain).is_err());
        assert!(access.check_token(&HeaderMap::new(), &"/ws?token=s3cret".parse().unwrap()).is_ok());
        assert!(access.check_token(&HeaderMap::new(), &"/ws?token=s3cre".parse().unwrap()).is_err());
        assert!(access.check_token(&headers(&[("authorization", "Bearer s3cret")]), &plain).is_ok());
        assert!(access.check_token(&headers(&[("authorization", "Bearer s3cret ")]), &plain).is_err());
        assert!(Access::new(None, &[], &[]).check_token(&HeaderMap::new(), &plain).is_ok());
    }

    #[test]
    fn authorities_split_into_name_and_port() {
        assert_eq!(split_authority("a.b:80"), ("a.b", Some("80")));
        assert_eq!(split_authority("[::1]:80"), ("[::1]", Some("80")));
        assert_eq!(split_authority("[::1]"), ("[::1]", None));
        assert_eq!(split_authority("a.b"), ("a.b", None));
        assert_eq!(normalize_origin("HTTP://X:80/"), "http://x");
    }
}
