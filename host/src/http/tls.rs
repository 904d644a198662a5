//! HTTPS: the certificate (from PEM files, or generated at start for `--tls-self-signed`) and a
//! listener that hands axum TLS streams. Browsers expose WebCodecs only in secure contexts, so a
//! viewer opened from another machine needs HTTPS; `/ws` then becomes `wss`.
//!
//! The listener accepts TCP connections on one task and runs each handshake on its own task, so a
//! slow or silent client never holds up the others. A client speaking plain HTTP to the TLS port
//! gets a plain-text `400` that says to use `https://` instead of a handshake failure.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake (or the first byte of one) must arrive within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// PEM files: the certificate chain (leaf first) and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Generated at start for these DNS names and IP addresses.
    SelfSigned { names: Vec<String> },
}

/// A ready server configuration and the leaf certificate's SHA-256 fingerprint.
#[derive(Clone)]
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    /// Upper-case hex pairs joined by `:` (the form browsers show).
    pub fingerprint: String,
    /// The names a generated certificate is valid for (empty for files).
    pub names: Vec<String>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup").field("fingerprint", &self.fingerprint).field("names", &self.names).finish()
    }
}

impl TlsSetup {
    pub fn load(source: &TlsSource) -> Result<Self, String> {
        let (chain, key, names) = match source {
            TlsSource::Files { cert, key } => (read_chain(cert)?, read_key(key)?, Vec::new()),
            TlsSource::SelfSigned { names } => {
                let generated = rcgen::generate_simple_self_signed(names.clone())
                    .map_err(|e| format!("cannot generate a self-signed certificate for {names:?}: {e}"))?;
                let cert = generated.cert.der().clone();
                let key = PrivateKeyDer::Pkcs8(generated.signing_key.serialize_der().into());
                (vec![cert], key, names.clone())
            }
        };
        let Some(leaf) = chain.first() else {
            return Err("the certificate file holds no certificate".into());
        };
        let fingerprint = fingerprint(leaf.as_ref());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the TLS certificate and key do not go together: {e}"))?;
        // HTTP/1.1 only: WebSocket upgrades are HTTP/1.1.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { config: Arc::new(config), fingerprint, names })
    }
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("--tls-cert {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--tls-cert {}: not a PEM certificate chain: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no CERTIFICATE block in the file", path.display()));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("--tls-key {}: not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}", path.display()))
}

/// SHA-256 of a DER certificate as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The names a self-signed certificate covers: `localhost`, the loopback addresses, the machine's
/// host name, the bound address (every interface address when bound to all), `--public-ip`, and
/// each `--tls-name`.
pub fn self_signed_names(bind: IpAddr, public_ip: Option<IpAddr>, extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        // Only a name a certificate can carry (letters, digits, '-', '.').
        if !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            names.push(host.to_string());
        }
    }
    if bind.is_unspecified() {
        if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
            for ifaddr in addrs {
                let ip = ifaddr.address.as_ref().and_then(|a| {
                    a.as_sockaddr_in()
                        .map(|v4| IpAddr::V4(v4.ip()))
                        .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
                });
                // Link-local IPv6 needs a zone, which certificates cannot name.
                if let Some(ip) = ip.filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)) {
                    names.push(ip.to_string());
                }
            }
        }
    } else {
        names.push(bind.to_string());
    }
    names.extend(public_ip.map(|ip| ip.to_string()));
    names.extend(extra.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// Accepted, handshaken TLS connections for `axum::serve`.
pub struct TlsListener {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `listener` (on the current tokio runtime).
    /// At most `max_pending` handshakes run at once (`--max-connections`); a socket beyond is
    /// closed on accept, so slow handshakes cannot pile up tasks before the connection cap.
    pub fn new(listener: TcpListener, setup: &TlsSetup, max_pending: usize) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(setup.config.clone());
        let (tx, connections) = mpsc::channel(64);
        let pending = std::sync::Arc::new(tokio::sync::Semaphore::new(max_pending));
        let mut last_refusal_log: Option<std::time::Instant> = None;
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let Ok(slot) = pending.clone().try_acquire_owned() else {
                    drop(tcp);
                    if last_refusal_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(
                            "connection closed on accept: {max_pending} TLS handshakes are in progress (--max-connections {max_pending})"
                        );
                        last_refusal_log = Some(std::time::Instant::now());
                    }
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let _slot = slot;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(acceptor, tcp, local)).await {
                        Ok(Ok(Some(stream))) => {
                            let _ = tx.send((stream, peer)).await;
                        }
                        Ok(Ok(None)) => tracing::info!(%peer, "plain HTTP on the HTTPS port; answered 400"),
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { connections, local })
    }
}

/// `None` when the client spoke something other than TLS (answered with a 400 and closed).
async fn handshake(
    acceptor: TlsAcceptor,
    mut tcp: TcpStream,
    local: SocketAddr,
) -> std::io::Result<Option<TlsStream<TcpStream>>> {
    // See `http::serve` for why TCP_NODELAY.
    let _ = tcp.set_nodelay(true);
    let mut first = [0u8; 1];
    let n = tcp.peek(&mut first).await?;
    if n == 1 && first[0] != TLS_HANDSHAKE_RECORD {
        let body =
            format!("This port serves HTTPS only. Open https://{local}/ (or the host's name) instead of http://.\n");
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await?;
        return Ok(None);
    }
    acceptor.accept(tcp).await.map(Some)
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accept task ended (its listener failed for good): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_colon_separated_upper_hex_sha256() {
        // SHA-256 of the empty string.
        assert_eq!(
            fingerprint(b""),
            "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        );
    }

    #[test]
    fn self_signed_names_cover_loopback_bind_and_extras() {
        let names = self_signed_names("192.0.2.7".parse().unwrap(), None, &["viewer.lan".into(), "localhost".into()]);
        for expected in ["localhost", "127.0.0.1", "::1", "192.0.2.7", "viewer.lan"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        assert_eq!(names.iter().filter(|n| *n == "localhost").count(), 1);
    }

    #[test]
    fn missing_or_bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = TlsSetup::load(&TlsSource::Files { cert: cert.clone(), key: key.clone() }).unwrap_err();
        assert!(e.contains("--tls-cert") && e.contains("cert.pem"), "{e}");
        std::fs::write(&cert, "not pem").unwrap();
        let e = TlsSetup::load(&TlsSource::Files { cert: cert.clone(), key: key.clone() }).unwrap_err();
        assert!(e.contains("no CERTIFICATE"), "{e}");
    }

    #[test]
    fn generated_certificate_loads_and_files_round_trip() {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        let setup = TlsSetup::load(&TlsSource::Files { cert, key }).unwrap();
        assert_eq!(setup.fingerprint, fingerprint(generated.cert.der()));
    }
}
