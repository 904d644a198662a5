//! The accept loop: one HTTP/1.1 connection task per socket, with the limits `axum::serve` does
//! not offer. A connection cap (`--max-connections`): over it a socket is closed as soon as it is
//! accepted, and the connections already open (video clients among them) keep running; a header
//! read timeout (`--header-read-timeout-s`): a client that sends its request head too slowly, or
//! leaves a keep-alive connection idle that long, is disconnected (slowloris). A WebSocket keeps
//! its connection slot until it closes. Graceful shutdown as in `axum::serve`: stop accepting,
//! let requests in flight finish.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// How often at most the "connection refused: cap reached" warning is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests.
pub async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Dropping `stop_rx` (when `shutdown` resolves) tells the loop and every connection to stop.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    // Each connection task holds a receiver; `done_tx.closed()` resolves when all have ended.
    let (done_tx, done_rx) = watch::channel(());
    let mut refusals = Refusals::default();
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop_tx.closed() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: no task, no buffer, nothing read.
            drop(io);
            refusals.count(limits.max_connections);
            continue;
        };
        tracing::trace!(?peer, "connection accepted");
        let io = TokioIo::new(Slotted { io, _slot: slot });
        let service = TowerToHyperService::new(app.clone());
        let (stop_tx, done_rx) = (stop_tx.clone(), done_rx.clone());
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let mut connection = pin!(builder.serve_connection(io, service).with_upgrades());
            let mut stopping = pin!(stop_tx.closed());
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            // Header timeouts, resets, malformed requests: the client's doing.
                            tracing::debug!(?peer, "connection ended: {e}");
                        }
                        break;
                    }
                    () = &mut stopping => connection.as_mut().graceful_shutdown(),
                }
            }
            drop(done_rx);
        });
    }
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
    Ok(())
}

/// Counts sockets closed at the cap and logs them at most every [`REFUSAL_LOG_EVERY`].
#[derive(Default)]
struct Refusals {
    since_log: u64,
    last_log: Option<Instant>,
}

impl Refusals {
    fn count(&mut self, max: usize) {
        self.since_log += 1;
        if self.last_log.is_none_or(|t| t.elapsed() >= REFUSAL_LOG_EVERY) {
            tracing::warn!(
                refused = self.since_log,
                "connection closed on accept: {max} connections are open (--max-connections {max})"
            );
            self.since_log = 0;
            self.last_log = Some(Instant::now());
        }
    }
}

/// A socket that holds one connection slot until it is dropped (after a WebSocket upgrade, the
/// socket lives on inside the WebSocket and so does its slot).
struct Slotted<I> {
    io: I,
    _slot: OwnedSemaphorePermit,
}

impl<I: AsyncRead + Unpin> AsyncRead for Slotted<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Slotted<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
