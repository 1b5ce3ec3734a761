//! Spoolman's websocket change feed: a client opens a websocket on `/spool`, `/spool/{id}`,
//! `/filament`, `/filament/{id}`, `/vendor` or the API root and receives
//! `{"type": "updated", "resource": "spool", "date", "payload": <Spool>}` whenever one
//! changes (Moonraker follows `/spool` to learn that its active spool was deleted). A text
//! message from the client is answered `{"status": "healthy"}`, as Spoolman does.
//!
//! Changes are found from the sync cells: every write that goes through the sync rules
//! (the app's pushes, REST changes made as ops, printers' reports) bumps the shop's version
//! and pokes through PostgreSQL `NOTIFY` ([`crate::sync::events`]); the feed then reads the
//! spool and filament cells changed since the last version it sent.

use std::sync::OnceLock;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{Printer, SmResult, SpoolmanState, ids, model};

/// Which changes a feed sends.
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    All,
    Spools(Option<i64>),
    Filaments(Option<i64>),
    Vendors,
}

impl Filter {
    fn wants(self, resource: &str, num: i64) -> bool {
        match self {
            Filter::All => true,
            Filter::Spools(one) => resource == "spool" && one.is_none_or(|n| n == num),
            Filter::Filaments(one) => resource == "filament" && one.is_none_or(|n| n == num),
            Filter::Vendors => false,
        }
    }
}

/// Answers the upgrade and runs the feed until the client leaves or the server stops. The
/// feed listens before the upgrade is answered, so no change after the client's handshake
/// is missed.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    st: SpoolmanState,
    p: Printer,
    filter: Filter,
) -> SmResult<Response> {
    let rx = st.hub.subscribe().await;
    let mut tx = crate::tenancy::begin(&st.api.app, p.user.shop_id, p.user.user_id).await?;
    let last: i64 = sqlx::query_scalar(
        r#"select coalesce((select version from shop_sync where shop_id = $1), 0)"#,
    )
    .bind(p.user.shop_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ws.on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, st, p, filter, rx, last).await {
            tracing::debug!(reason = %e.message, "spoolman feed ended");
        }
    }))
}

/// Set on SIGTERM or Ctrl-C: open feeds close, so a graceful shutdown (which waits for
/// every connection) is not held up by printers listening. They reconnect.
fn stopping() -> watch::Receiver<bool> {
    static STOP: OnceLock<watch::Sender<bool>> = OnceLock::new();
    STOP.get_or_init(|| {
        let tx = watch::Sender::new(false);
        let signal = tx.clone();
        tokio::spawn(async move {
            crate::app::shutdown_signal().await;
            signal.send_replace(true);
        });
        tx
    })
    .subscribe()
}

async fn run(
    mut socket: WebSocket,
    st: SpoolmanState,
    p: Printer,
    filter: Filter,
    mut rx: broadcast::Receiver<crate::sync::events::Poke>,
    mut last: i64,
) -> SmResult<()> {
    let shop = p.user.shop_id;
    let mut stop = stopping();
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(Message::Text(_))) => {
                    let healthy = json!({"status": "healthy"}).to_string();
                    if socket.send(Message::Text(healthy.into())).await.is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
            },
            got = rx.recv() => {
                match got {
                    // Another shop's, or a change already sent.
                    Ok(poke) if poke.shop_id != shop || poke.version <= last => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                }
                // One read for every poke already waiting (a CSV import pokes per row).
                while rx.try_recv().is_ok() {}
                let (events, seen) = changes(&st, &p, last, filter).await?;
                last = seen;
                for e in events {
                    if socket.send(Message::Text(e.to_string().into())).await.is_err() {
                        return Ok(());
                    }
                }
            }
            _ = stop.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}

/// The events for the cells changed after version `after`, and the last version read.
async fn changes(
    st: &SpoolmanState,
    p: &Printer,
    after: i64,
    filter: Filter,
) -> SmResult<(Vec<Value>, i64)> {
    let mut tx = crate::tenancy::begin(&st.api.app, p.user.shop_id, p.user.user_id).await?;
    ids::ensure(&mut tx, p.user.shop_id).await?;
    let rows = sqlx::query(
        r#"select c.kind, i.num, c.version from sync_cell c
           join spoolman_id i on i.kind = c.kind and i.ref_id = c.id
           where c.version > $1 and c.kind in ('spool', 'filament')
           order by c.version, c.kind, i.num"#,
    )
    .bind(after)
    .fetch_all(&mut *tx)
    .await?;
    let mut seen = after;
    let mut events = Vec::new();
    let date = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
        .replace("+00:00", "Z");
    let mut sent: Vec<(String, i64)> = Vec::new();
    for r in &rows {
        let kind: String = r.get("kind");
        let num = i64::from(r.get::<i32, _>("num"));
        seen = seen.max(r.get::<i64, _>("version"));
        if !filter.wants(&kind, num) || sent.contains(&(kind.clone(), num)) {
            continue;
        }
        sent.push((kind.clone(), num));
        let payload = if kind == "spool" {
            model::load_spools(&mut tx, Some(num))
                .await?
                .into_iter()
                .next()
                .and_then(|s| serde_json::to_value(s).ok())
        } else {
            model::load_filaments(&mut tx, Some(num))
                .await?
                .into_iter()
                .next()
                .and_then(|f| serde_json::to_value(f).ok())
        };
        let (kind_of_event, payload) = match payload {
            Some(v) => ("updated", v),
            None => ("deleted", json!({ "id": num })),
        };
        events.push(json!({
            "type": kind_of_event,
            "resource": kind,
            "date": date,
            "payload": payload,
        }));
    }
    tx.commit().await?;
    Ok((events, seen))
}

/// The Spoolman number of a spool, for tests and tools.
pub async fn spool_number(
    conn: &mut sqlx::PgConnection,
    spool_id: Uuid,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(r#"select num from spoolman_id where kind = 'spool' and ref_id = $1"#)
        .bind(spool_id)
        .fetch_optional(&mut *conn)
        .await
}
