//! PostgreSQL's `LISTEN`/`NOTIFY` between handles with the cache on, in this process or
//! another: each handle tells the channel what its writes touched, after they committed, and
//! applies what the others tell it.
//!
//! Two tasks per handle, each on a connection of its own outside the pool: one sends, one
//! listens. A listener that lost its connection reconnects and then forgets everything held,
//! since it may have missed notices; while it is away, and for a notice lost with the sender's
//! connection, the time to live bounds what is served.

use std::future::Future;
use std::pin::pin;
use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use sqlx::Connection;
use tokio::sync::{mpsc, watch};

use super::{CacheStore, Touch};

/// The channel's name.
const CHANNEL: &str = "repo_cache";

/// Longest payload sent in one notice (PostgreSQL refuses 8,000 bytes and more).
const MOST_BYTES: usize = 7_000;

/// How long a task waits before connecting again.
const RECONNECT: Duration = Duration::from_millis(250);

/// Tells notices from this handle apart from the others'.
static HANDLES: AtomicU64 = AtomicU64::new(0);

/// A handle's end of the channel: dropped with its cache, which stops both tasks.
pub(super) struct Channel {
    origin: String,
    outgoing: mpsc::UnboundedSender<String>,
    _stop: watch::Sender<()>,
}

impl Channel {
    /// Starts the sender and the listener of the database at `url`, for `store`; `ready` is
    /// told once the listener's first attempt to listen ended.
    pub(super) fn open(
        store: Weak<CacheStore>,
        url: String,
        ready: tokio::sync::oneshot::Sender<()>,
    ) -> Channel {
        let origin = format!(
            "{:x}.{:x}",
            std::process::id(),
            HANDLES.fetch_add(1, Ordering::Relaxed)
        );
        let (outgoing, queued) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(());
        // The handle is opened on Tokio (sqlx runs there); without a runtime there is no
        // channel, and the time to live alone bounds what other handles' writes leave.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(send(url.clone(), queued));
                runtime.spawn(listen(url, origin.clone(), store, stopped, ready));
            }
            Err(_) => tracing::warn!("cache channel not started: no Tokio runtime"),
        }
        Channel {
            origin,
            outgoing,
            _stop: stop,
        }
    }

    /// Queues the notice of a change to `table`.
    pub(super) fn publish(&self, table: &str, change: Touch) {
        let kind = match change {
            Touch::Row(stripe) => stripe.to_string(),
            Touch::Table => String::from("*"),
            Touch::New => String::from("+"),
        };
        // The sender ends only with this channel: the notice cannot be refused.
        let _ = self
            .outgoing
            .send(format!("{} {table} {kind}", self.origin));
    }
}

/// A notice's line: its origin, table and change.
fn parse(line: &str) -> Option<(&str, &str, Touch)> {
    let mut parts = line.split(' ');
    let (origin, table, kind) = (parts.next()?, parts.next()?, parts.next()?);
    let change = match kind {
        "*" => Touch::Table,
        "+" => Touch::New,
        stripe => Touch::Row(stripe.parse().ok()?),
    };
    Some((origin, table, change))
}

/// Sends the queued notices, those queued together in one, until the handle is gone.
async fn send(url: String, mut queued: mpsc::UnboundedReceiver<String>) {
    let mut connection: Option<sqlx::PgConnection> = None;
    while let Some(first) = queued.recv().await {
        let mut lines = vec![first];
        while let Ok(line) = queued.try_recv() {
            lines.push(line);
        }
        for payload in payloads(&lines) {
            // Once more on a new connection if the first fails; a notice lost then leaves
            // the other handles to the time to live.
            for _ in 0..2 {
                if connection.is_none() {
                    connection = sqlx::PgConnection::connect(&url).await.ok();
                }
                let Some(open) = connection.as_mut() else {
                    tokio::time::sleep(RECONNECT).await;
                    continue;
                };
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(&payload)
                    .execute(&mut *open)
                    .await;
                match sent {
                    Ok(_) => break,
                    Err(error) => {
                        tracing::debug!(%error, "cache notice not sent");
                        connection = None;
                    }
                }
            }
        }
    }
}

/// `lines` joined into payloads under [`MOST_BYTES`].
fn payloads(lines: &[String]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for line in lines {
        if !current.is_empty() && current.len() + 1 + line.len() > MOST_BYTES {
            payloads.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

/// Listens until the handle is gone, applying the other handles' notices to `store`.
async fn listen(
    url: String,
    origin: String,
    store: Weak<CacheStore>,
    mut stopped: watch::Receiver<()>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    // Until the first attempt ends the handle is not open yet: nothing held, nothing missed.
    let mut ready = Some(ready);
    loop {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let attempt = until_stopped(&mut stopped, connected).await;
        let first = match ready.take() {
            Some(ready) => {
                let _ = ready.send(());
                true
            }
            None => false,
        };
        let mut listener = match attempt {
            None => return,
            Some(Ok(listener)) => listener,
            Some(Err(error)) => {
                tracing::warn!(%error, "cache channel: cannot listen; retrying");
                if until_stopped(&mut stopped, tokio::time::sleep(RECONNECT))
                    .await
                    .is_none()
                {
                    return;
                }
                continue;
            }
        };
        // Listening again after a gap: notices may have been missed.
        match store.upgrade() {
            Some(store) if !first => store.clear(),
            Some(_) => {}
            None => return,
        }
        loop {
            let Some(received) = until_stopped(&mut stopped, listener.try_recv()).await else {
                return;
            };
            let Some(store) = store.upgrade() else {
                return;
            };
            match received {
                Ok(Some(notice)) => {
                    for line in notice.payload().lines() {
                        match parse(line) {
                            Some((from, table, change)) if from != origin => {
                                store.apply(table, change);
                            }
                            Some(_) => {}
                            None => store.clear(),
                        }
                    }
                }
                // Reconnected: what came meanwhile is lost.
                Ok(None) => store.clear(),
                Err(error) => {
                    tracing::debug!(%error, "cache channel: connection lost");
                    store.clear();
                    break;
                }
            }
        }
    }
}

/// `work`'s output, or `None` once the handle is gone.
async fn until_stopped<T>(
    stopped: &mut watch::Receiver<()>,
    work: impl Future<Output = T>,
) -> Option<T> {
    let mut work = pin!(work);
    let mut stop = pin!(stopped.changed());
    std::future::poll_fn(|cx| {
        // The sender never sends: `changed` completes only when it is dropped.
        if stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_back_as_written_and_split_under_the_limit() {
        assert_eq!(
            parse("1.2 users 17"),
            Some(("1.2", "users", Touch::Row(17)))
        );
        assert_eq!(parse("1.2 users *"), Some(("1.2", "users", Touch::Table)));
        assert_eq!(parse("1.2 users +"), Some(("1.2", "users", Touch::New)));
        assert_eq!(parse("1.2 users"), None);
        let lines: Vec<String> = (0..2_000).map(|n| format!("ab.c users {n}")).collect();
        let payloads = payloads(&lines);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|payload| payload.len() <= MOST_BYTES));
        let back: Vec<&str> = payloads.iter().flat_map(|p| p.lines()).collect();
        assert_eq!(back.len(), lines.len());
    }
}
