//! The listener of `kyso serve`: the accept loop, the cap on open connections, the timeouts a
//! connection lives under between requests, and graceful shutdown. HTTP/1.1 only, through
//! hyper's connection API (RFC 9112), with [`super::app`] as the service of every connection.
//!
//! Why not `axum::serve`: it sets no timer, so hyper's header timeout never runs, and it has no
//! connection cap; a client sending one header byte every few seconds, or a thousand clients
//! opening connections and sending nothing, held a connection each for as long as they liked.
//!
//! What a connection is allowed (Go's `net/http` server draws the same lines):
//! - **a request head within `header_read_timeout`**: counted from the connection's accept for
//!   its first request, from the first byte of each later one;
//! - **`idle_timeout` between requests** on a kept-alive connection;
//! - **while a request is handled, no limit here**: the per-request time limit in
//!   [`super::app`]'s middleware bounds the handler (and the reading of the body it does), and
//!   a response the client stops reading is cut once no byte could be written for
//!   `idle_timeout`.
//!
//! At `max_connections` the loop stops accepting: new connections wait in the kernel's accept
//! queue (and past it, their SYNs are dropped and retried by the client's TCP) instead of being
//! accepted and closed. A burst is served late rather than failed, a load balancer's retry to
//! another node happens by its own connect timeout, and the timeouts above free a slot held
//! without a request within seconds.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use super::metrics::Metrics;
use super::problem::ApiError;

/// Largest request head hyper takes (request line and headers): 64 KiB, 8 times the URI limit
/// of [`super::MAX_URI_BYTES`], so that every URI the middleware refuses reaches it whole. A
/// head over this is refused by hyper itself (431; a URI over 64 KiB, 414), with a problem
/// document put in place of its empty answer ([`Watched::replace_automatic`]).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Pause after an accept error other than a connection's own (EMFILE: out of file
/// descriptors), so that the loop does not spin until some close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(200);

/// How long a connection may spend between requests.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// The slots of open connections: one permit each.
#[derive(Debug)]
pub struct Connections {
    slots: Arc<Semaphore>,
    capacity: usize,
}

impl Connections {
    pub fn new(capacity: usize) -> Connections {
        Connections {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// (open now, capacity), for `/metrics`.
    pub fn usage(&self) -> (usize, usize) {
        (
            self.capacity - self.slots.available_permits(),
            self.capacity,
        )
    }
}

/// Serves `app` on `listener` until `stopping` turns true, then stops accepting, asks every
/// connection to finish its request in flight and close, and returns once all are closed.
pub async fn run(
    listener: TcpListener,
    app: Router,
    connections: &Connections,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        // A slot first: at the cap, the loop waits here and the kernel queues new connections.
        let slot = tokio::select! {
            slot = Arc::clone(&connections.slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stopping.wait_for(|s| *s) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(&e).await;
                    continue;
                }
            },
            _ = stopping.wait_for(|s| *s) => break,
        };
        let connection = Connection {
            app: app.clone(),
            peer,
            timeouts,
            metrics: Arc::clone(&metrics),
        };
        tokio::spawn(connection.serve(stream, slot, stopping.clone()));
    }
    drop(listener);
    // Every connection gives its slot back when it ends: holding them all means all ended.
    let all = u32::try_from(connections.capacity).unwrap_or(u32::MAX);
    let _all = connections.slots.acquire_many(all).await;
    Ok(())
}

/// Errors of a connection that came and went (reset before it was accepted) are not the
/// listener's; anything else (out of file descriptors) is logged and waited out.
async fn accept_error(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; pausing");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

struct Connection {
    app: Router,
    peer: SocketAddr,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
}

impl Connection {
    async fn serve(
        self,
        stream: TcpStream,
        _slot: OwnedSemaphorePermit,
        mut stopping: watch::Receiver<bool>,
    ) {
        let activity = Arc::new(Activity::new(Instant::now()));
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: Arc::clone(&activity),
            peer: self.peer,
            metrics: Arc::clone(&self.metrics),
            replacement: None,
        });
        let (app, peer, service_activity) = (self.app, self.peer, Arc::clone(&activity));
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let guard = Request::started(Arc::clone(&service_activity));
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move {
                // Router's poll_ready is always ready (axum documents it), so call it directly.
                let response = tower_service::Service::call(&mut app, request).await;
                response.map(|response| {
                    response.map(|body| {
                        Body::new(Tracked {
                            body,
                            _guard: guard,
                        })
                    })
                })
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The timeouts are the watchdog's below; hyper's own header timer would also run
        // between requests and so cut an idle connection at the header timeout.
        builder
            .header_read_timeout(None)
            .keep_alive(true)
            .max_buf_size(MAX_HEAD_BYTES)
            .max_header_size(MAX_HEAD_BYTES);
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let mut shutting_down = false;
        loop {
            let deadline = activity.deadline(&self.timeouts);
            let expired = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = activity.changed.notified() => {}
                () = expired => {
                    if let Some(reason) = activity.expired(&self.timeouts, Instant::now()) {
                        self.metrics.connection_closed(reason);
                        tracing::info!(peer = %self.peer, reason, "connection closed");
                        // Dropping the connection closes the socket: nothing is in flight (a
                        // request being handled has no deadline here).
                        return;
                    }
                }
                _ = stopping.wait_for(|s| *s), if !shutting_down => {
                    // Finishes the request in flight, then closes; an idle connection closes now.
                    connection.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
            }
        }
    }
}

/// Where a connection is, for its watchdog.
struct Activity {
    state: Mutex<State>,
    /// Woken when the deadline may have moved (a phase changed, a write blocked).
    changed: Notify,
}

#[derive(Clone, Copy, Debug)]
struct State {
    /// Requests being handled or having their responses written (hyper serves one at a time;
    /// counted, so that the order of one ending and the next starting does not matter).
    in_flight: usize,
    /// Without a request in flight: waiting for a head since the instant given (the accept, or
    /// the first byte of a later request), or idle since the last response ended.
    waiting: Waiting,
    /// When writing last stopped for want of room in the socket, while it still does.
    write_blocked_since: Option<Instant>,
    /// The awaited head's request line: bytes so far, and whether its line feed came. When
    /// hyper refuses a head as too large, a long request line says the target was.
    request_line: usize,
    request_line_ended: bool,
}

#[derive(Clone, Copy, Debug)]
enum Waiting {
    Head(Instant),
    Idle(Instant),
}

impl Activity {
    fn new(accepted: Instant) -> Activity {
        Activity {
            state: Mutex::new(State {
                in_flight: 0,
                waiting: Waiting::Head(accepted),
                write_blocked_since: None,
                request_line: 0,
                request_line_ended: false,
            }),
            changed: Notify::new(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// `bytes` arrived: the first of a head ends the idle wait.
    fn read(&self, bytes: &[u8], now: Instant) {
        let started_head = self.with(|s| {
            if s.in_flight > 0 {
                return false;
            }
            let started = matches!(s.waiting, Waiting::Idle(_));
            if started {
                s.waiting = Waiting::Head(now);
            }
            if !s.request_line_ended {
                match bytes.iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        s.request_line += end;
                        s.request_line_ended = true;
                    }
                    None => s.request_line += bytes.len(),
                }
            }
            started
        });
        if started_head {
            self.changed.notify_one();
        }
    }

    fn wrote(&self, blocked: bool, now: Instant) {
        let newly_blocked = self.with(|s| match (blocked, s.write_blocked_since) {
            (true, None) => {
                s.write_blocked_since = Some(now);
                true
            }
            (true, Some(_)) => false,
            (false, _) => {
                s.write_blocked_since = None;
                false
            }
        });
        if newly_blocked {
            self.changed.notify_one();
        }
    }

    fn request_started(&self) {
        self.with(|s| s.in_flight += 1);
        self.changed.notify_one();
    }

    fn request_finished(&self, now: Instant) {
        self.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight == 0 {
                s.waiting = Waiting::Idle(now);
                s.request_line = 0;
                s.request_line_ended = false;
            }
        });
        self.changed.notify_one();
    }

    /// Whether the connection waits for a request head (no request in flight, and not idle
    /// after one): hyper writes nothing then, except its own answer to a head it could not
    /// parse.
    fn awaiting_head(&self) -> bool {
        self.with(|s| s.in_flight == 0 && matches!(s.waiting, Waiting::Head(_)))
    }

    /// Whether the awaited head's request line is over `limit` bytes, or has not ended.
    fn request_line_over(&self, limit: usize) -> bool {
        self.with(|s| !s.request_line_ended || s.request_line > limit)
    }

    /// When the connection is to be closed unless something happens first.
    fn deadline(&self, timeouts: &Timeouts) -> Option<Instant> {
        self.with(|s| {
            if s.in_flight > 0 {
                return s.write_blocked_since.map(|at| at + timeouts.idle);
            }
            Some(match s.waiting {
                Waiting::Head(since) => since + timeouts.header_read,
                Waiting::Idle(since) => since + timeouts.idle,
            })
        })
    }

    /// Why the connection is to be closed now, if it is.
    fn expired(&self, timeouts: &Timeouts, now: Instant) -> Option<&'static str> {
        self.with(|s| {
            if s.in_flight > 0 {
                return s
                    .write_blocked_since
                    .filter(|at| now >= *at + timeouts.idle)
                    .map(|_| "write_stalled");
            }
            match s.waiting {
                Waiting::Head(since) if now >= since + timeouts.header_read => {
                    Some("header_timeout")
                }
                Waiting::Idle(since) if now >= since + timeouts.idle => Some("idle_timeout"),
                _ => None,
            }
        })
    }
}

/// A request in flight, from the service's call to its response body's end (or drop).
struct Request(Arc<Activity>);

impl Request {
    fn started(activity: Arc<Activity>) -> Request {
        activity.request_started();
        Request(activity)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.0.request_finished(Instant::now());
    }
}

/// A response body that ends its request when hyper has taken all of it (or dropped it).
struct Tracked {
    body: Body,
    _guard: Request,
}

impl HttpBody for Tracked {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, telling the watchdog when bytes come in and when writes block, and putting a
/// problem document in place of hyper's empty answer to a head it could not parse.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    peer: SocketAddr,
    metrics: Arc<Metrics>,
    replacement: Option<Replacement>,
}

/// The answer written instead of hyper's, and how much of it is written.
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
}

impl Replacement {
    /// A whole HTTP/1.1 response carrying `error`'s problem document; the connection closes
    /// after it (hyper closes it after its own answer too).
    fn of(error: &ApiError, request_id: &str) -> Replacement {
        let status = error.status();
        let body = serde_json::to_vec(&error.problem(request_id)).unwrap_or_default();
        let mut bytes = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        Replacement { bytes, written: 0 }
    }
}

impl Watched {
    /// hyper answers a request head it cannot parse (not HTTP/1.1; a URI over its 64 KiB; a
    /// head over [`MAX_HEAD_BYTES`]) by itself, with the status alone and an empty body, before
    /// the service sees a request: such answers escaped the problem documents every other
    /// refusal gets. It is the only thing hyper writes while the connection awaits a head (a
    /// response is written once the service was called; the end of one after it returned,
    /// while the connection is idle), so it is recognised there, by its status line, and
    /// replaced by the problem document of the same status. hyper's bytes are reported written
    /// and dropped. `None`: an ordinary write.
    fn replace_automatic(
        &mut self,
        cx: &mut Context<'_>,
        first: &[u8],
        total: usize,
    ) -> Option<Poll<std::io::Result<usize>>> {
        if self.replacement.is_none() {
            // Every response of the service carries the request id the middleware gives it;
            // hyper's own does not.
            let automatic = first.starts_with(b"HTTP/1.1 4")
                && !first
                    .windows(b"x-request-id:".len())
                    .any(|w| w.eq_ignore_ascii_case(b"x-request-id:"));
            if !automatic || !self.activity.awaiting_head() {
                return None;
            }
            let status = first
                .get(9..12)
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.parse::<u16>().ok());
            // A head too large with a request line longer than any target kyso takes: the
            // target is what was too long.
            let uri_too_long = status == Some(414)
                || (status == Some(431) && self.activity.request_line_over(super::MAX_URI_BYTES));
            let error = match status {
                _ if uri_too_long => ApiError::UriTooLong {
                    limit: super::MAX_URI_BYTES,
                },
                Some(431) => ApiError::HeadTooLarge {
                    limit: MAX_HEAD_BYTES,
                },
                _ => ApiError::BadRequest {
                    reason: "the request could not be read as HTTP/1.1".to_owned(),
                },
            };
            let id = super::new_request_id();
            let status = error.status().as_u16();
            self.metrics.request("unparsed", status, Duration::ZERO);
            tracing::info!(request_id = %id, peer = %self.peer, status, error = %error, "request refused before routing");
            self.replacement = Some(Replacement::of(&error, &id));
        }
        let replacement = self.replacement.as_mut()?;
        while replacement.written < replacement.bytes.len() {
            match Pin::new(&mut self.inner)
                .poll_write(cx, &replacement.bytes[replacement.written..])
            {
                Poll::Ready(Ok(0)) => {
                    return Some(Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => replacement.written += n,
                Poll::Ready(Err(e)) => return Some(Poll::Ready(Err(e))),
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        Some(Poll::Ready(Ok(total)))
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read(&buf.filled()[before..], Instant::now());
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(replaced) = self.replace_automatic(cx, buf, buf.len()) {
            return replaced;
        }
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.activity.wrote(result.is_pending(), Instant::now());
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        let total = bufs.iter().map(|b| b.len()).sum();
        if let Some(replaced) = self.replace_automatic(cx, first, total) {
            return replaced;
        }
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.activity.wrote(result.is_pending(), Instant::now());
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> Timeouts {
        Timeouts {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(30),
        }
    }

    #[test]
    fn a_connection_moves_between_head_busy_and_idle() {
        let t = timeouts();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let activity = Arc::new(Activity::new(start));
        assert_eq!(activity.deadline(&t), Some(start + t.header_read));
        assert_eq!(activity.expired(&t, at(9)), None);
        assert_eq!(activity.expired(&t, at(10)), Some("header_timeout"));
        activity.request_started();
        assert_eq!(activity.deadline(&t), None, "a request in flight");
        activity.read(b"body", at(1));
        assert_eq!(activity.deadline(&t), None, "body bytes change nothing");
        activity.wrote(true, at(2));
        assert_eq!(activity.deadline(&t), Some(at(32)), "a blocked write");
        activity.wrote(true, at(3));
        assert_eq!(activity.expired(&t, at(32)), Some("write_stalled"));
        activity.wrote(false, at(4));
        assert_eq!(activity.expired(&t, at(40)), None);
        activity.request_finished(at(5));
        assert_eq!(activity.deadline(&t), Some(at(35)), "idle");
        assert_eq!(activity.expired(&t, at(35)), Some("idle_timeout"));
        assert!(activity.request_line_over(8), "nothing of it yet");
        activity.read(b"GET /", at(20));
        assert!(activity.request_line_over(8), "not ended");
        assert_eq!(
            activity.deadline(&t),
            Some(at(30)),
            "the next head's first byte starts the header timeout"
        );
        activity.read(b"v1/units HTTP/1.1\r\n", at(25));
        assert_eq!(activity.deadline(&t), Some(at(30)), "later bytes do not");
        // "GET /v1/units HTTP/1.1\r" is 23 bytes.
        assert!(!activity.request_line_over(23));
        assert!(activity.request_line_over(22));
    }

    #[test]
    fn a_response_body_ends_its_request_when_dropped() {
        let activity = Arc::new(Activity::new(Instant::now()));
        let body = Tracked {
            body: Body::from("x"),
            _guard: Request::started(Arc::clone(&activity)),
        };
        assert_eq!(body.size_hint().exact(), Some(1), "the length goes through");
        assert_eq!(activity.deadline(&timeouts()), None);
        drop(body);
        assert!(activity.deadline(&timeouts()).is_some());
    }
}
