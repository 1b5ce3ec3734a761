//! A caller that goes away while its transaction's `BEGIN` is in flight (a client that
//! disconnects mid-request) must not leave the pooled connection inside that transaction:
//! the next borrower's statements would run in it (`printstall_server::db::begin`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Whether the statement runs inside a transaction that began well before it (the cancelled
/// begin sleeps 300 ms): in a transaction of its own, the two starts are microseconds apart.
async fn inside_an_older_transaction(pool: &PgPool) -> bool {
    sqlx::query_scalar("select now() < statement_timestamp() - interval '100 ms'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_begin_cancelled_in_flight_leaves_no_transaction_open(pool: PgPool) {
    // One connection, so the check below gets the very connection the cancelled begin had.
    let one = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    assert!(!inside_an_older_transaction(&one).await);
    for _ in 0..3 {
        let slow = "begin; select pg_sleep(0.3)".to_owned();
        let cancelled = tokio::time::timeout(
            Duration::from_millis(50),
            printstall_server::db::begin_with(&one, slow),
        )
        .await;
        assert!(cancelled.is_err(), "the begin was still in flight");
        assert!(
            !inside_an_older_transaction(&one).await,
            "the connection came back inside the cancelled transaction"
        );
    }
    // The plain begin too, and a begun transaction still commits.
    let tx = printstall_server::db::begin(&one).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!inside_an_older_transaction(&one).await);
}
