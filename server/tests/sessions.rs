//! Sessions: each sign-in is listed with its device, creation and last use; a member ends
//! one of their own sessions, and its refresh cookie and access tokens stop working at
//! once while the others go on; nobody can end another member's session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, refresh_cookie_of, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn sign_in(base: &str, email: &str, agent: &str) -> Api {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/sign-in"))
        .header("user-agent", agent)
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    Api::from_session(base, &body, refresh)
}

async fn refresh(api: &Api) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", api.base))
        .header("cookie", format!("printstall_refresh={}", api.refresh))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn sessions_are_listed_and_ended_one_by_one(pool: PgPool) {
    let server = start_api(pool).await;
    let first = Api::register(&server.url, "owner@example.com").await;
    let phone = sign_in(&server.url, "owner@example.com", "Phone/1.0 (Android 15)").await;
    let laptop = sign_in(&server.url, "owner@example.com", "Laptop/2.0 (X11)").await;

    let (status, list) = laptop.get("/auth/sessions").await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{list}");
    let current: Vec<&Value> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Laptop/2.0 (X11)");
    let phone_session = items
        .iter()
        .find(|s| s["device"] == "Phone/1.0 (Android 15)")
        .unwrap();
    for key in ["created_at", "last_used_at", "expires_at"] {
        assert!(phone_session[key].as_str().unwrap().contains('T'), "{key}");
    }
    let phone_id = phone_session["id"].as_str().unwrap().to_owned();

    // A refresh keeps the session (and its device), moving its last use.
    assert_eq!(refresh(&phone).await, 200);

    // Another member cannot end it (404, as if it did not exist).
    let stranger = Api::register(&server.url, "stranger@example.com").await;
    let (status, _) = stranger.delete(&format!("/auth/sessions/{phone_id}")).await;
    assert_eq!(status, 404);
    let (status, _) = phone.get("/shop").await;
    assert_eq!(status, 200);

    // The laptop ends the phone's session: its token and cookie stop working at once.
    let (status, _) = laptop.delete(&format!("/auth/sessions/{phone_id}")).await;
    assert_eq!(status, 204);
    let (status, _) = phone.get("/shop").await;
    assert_eq!(status, 401);
    assert_eq!(refresh(&phone).await, 401);
    let (status, _) = laptop.delete(&format!("/auth/sessions/{phone_id}")).await;
    assert_eq!(status, 404, "already ended");

    // The others go on.
    for api in [&first, &laptop] {
        let (status, _) = api.get("/shop").await;
        assert_eq!(status, 200);
    }
    let (_, list) = laptop.get("/auth/sessions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (status, e) = laptop.delete("/auth/sessions/not-a-uuid").await;
    assert_eq!(status, 400, "{e}");
    server.stop().await;
}
