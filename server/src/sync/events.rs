//! `GET /api/v1/sync/events`: server-sent events telling a shop's devices to pull.
//!
//! A push sends `pg_notify('printstall_sync', '<shop>:<version>')` inside its transaction,
//! so PostgreSQL delivers it on commit to every server process that listens: devices
//! connected to any process hear of pushes made through any other. Each process keeps one
//! listening connection (started with the first subscriber) and fans the notifications out
//! to its subscribers through a broadcast channel.
//!
//! Events: `hello` (`{"version": n}`) when the stream opens (pull now), then `poke`
//! (`{"version": n}`) after each push to the shop that changed something. A subscriber that
//! falls behind gets one `poke` for the missed ones. Browsers' `EventSource` cannot send
//! headers, so the access token may come as `?access_token=`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, broadcast};
use uuid::Uuid;

use super::{SyncError, SyncResult, SyncState};
use crate::error::ApiError;

/// The channel pushes notify on.
pub const CHANNEL: &str = "printstall_sync";

/// A push that committed: the shop and its new version.
#[derive(Debug, Clone, Copy)]
pub struct Poke {
    pub shop_id: Uuid,
    pub version: i64,
}

/// This process's listener and its subscribers.
pub struct Hub {
    owner: PgPool,
    tx: broadcast::Sender<Poke>,
    started: OnceCell<()>,
    /// Set on SIGTERM or Ctrl-C: open streams end, so a graceful shutdown (which waits for
    /// every connection) is not held up by devices listening for pokes. They reconnect to
    /// another process, or to this one when it is back.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Hub {
    pub fn new(owner: PgPool) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            owner,
            tx,
            started: OnceCell::new(),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Subscribes to every shop's pokes; starts the listener first if needed, and waits
    /// (a few seconds at most) until it listens, so no poke after this returns is missed.
    pub async fn subscribe(&self) -> broadcast::Receiver<Poke> {
        let rx = self.tx.subscribe();
        self.started
            .get_or_init(|| async {
                let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                tokio::spawn(listen(self.owner.clone(), self.tx.clone(), ready_tx));
                let stopping = self.stopping.clone();
                tokio::spawn(async move {
                    stop_signal().await;
                    stopping.send_replace(true);
                });
                let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
            })
            .await;
        rx
    }
}

async fn listen(
    pool: PgPool,
    tx: broadcast::Sender<Poke>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "sync events: cannot listen; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "sync events: LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        loop {
            match listener.recv().await {
                Ok(n) => {
                    if let Some(p) = parse(n.payload()) {
                        // No subscriber is not an error.
                        let _ = tx.send(p);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sync events: listener lost; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

fn parse(payload: &str) -> Option<Poke> {
    let (shop, version) = payload.split_once(':')?;
    Some(Poke {
        shop_id: Uuid::parse_str(shop).ok()?,
        version: version.parse().ok()?,
    })
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    pub access_token: Option<String>,
}

pub async fn handler(
    State(st): State<SyncState>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> SyncResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    let token = from_header
        .or(q.access_token.as_deref())
        .ok_or(SyncError::Api(ApiError::Unauthorized))?;
    let member = crate::auth::authenticate(&st.api, token)
        .await
        .map_err(SyncError::Api)?;
    let shop = member.shop_id;
    let rx = st.hub.subscribe().await;
    let stopping = st.hub.stopping.subscribe();
    let mut tx = crate::tenancy::begin(&st.api.app, shop, member.user_id).await?;
    let version: i64 = sqlx::query_scalar(
        r#"select coalesce((select version from shop_sync where shop_id = $1), 0)"#,
    )
    .bind(shop)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let hello = Event::default()
        .event("hello")
        .retry(Duration::from_secs(2))
        .data(json!({ "version": version }).to_string());
    let stream = futures_util::stream::unfold(
        (Some(hello), rx, stopping),
        move |(first, mut rx, mut stopping)| async move {
            if let Some(e) = first {
                return Some((Ok(e), (None, rx, stopping)));
            }
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let got = tokio::select! {
                    got = rx.recv() => got,
                    _ = stopping.changed() => return None,
                };
                let version = match got {
                    Ok(p) if p.shop_id == shop => json!(p.version),
                    Ok(_) => continue,
                    // Missed some: one poke for all of them.
                    Err(broadcast::error::RecvError::Lagged(_)) => json!(null),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                let e = Event::default()
                    .event("poke")
                    .data(json!({ "version": version }).to_string());
                return Some((Ok(e), (None, rx, stopping)));
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
