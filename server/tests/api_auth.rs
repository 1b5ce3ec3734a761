//! Sign-in over HTTP against a fresh database: register, sign in, refresh with rotation and
//! reuse detection, sign out, change password, invite and join, rate limits, bad inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, refresh_cookie_of, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn post_raw(base: &str, path: &str, body: Value, cookie: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/v1{path}"))
        .json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("printstall_refresh={c}"));
    }
    req.send().await.unwrap()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn register_sign_in_refresh_rotate_and_reuse(pool: PgPool) {
    let server = start_api(pool).await;
    let base = server.url.clone();
    let owner = Api::register(&base, "Owner@Example.com").await;
    let (status, shop) = owner.get("/shop").await;
    assert_eq!(status, 200, "{shop}");
    assert_eq!(shop["role"], "owner");
    assert_eq!(shop["currency"], "EUR");

    // The same email in another case is taken.
    let r = post_raw(
        &base,
        "/auth/register",
        json!({
            "email": "owner@EXAMPLE.com", "display_name": "B", "password": "another long password",
            "shop": {"name": "B", "currency": "EUR", "time_zone": "UTC"}
        }),
        None,
    )
    .await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");

    // Sign in; the cookie has the flags the browser needs.
    let r = post_raw(
        &base,
        "/auth/sign-in",
        json!({"email": "owner@example.com", "password": "correct horse battery"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let first = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);

    // Refresh rotates.
    let r = post_raw(&base, "/auth/refresh", json!({}), Some(&first)).await;
    assert_eq!(r.status(), 200);
    let second = refresh_cookie_of(&r).unwrap();
    assert_ne!(first, second);
    let body: Value = r.json().await.unwrap();
    let fresh = Api::from_session(&base, &body, second.clone());
    assert_eq!(fresh.get("/shop").await.0, 200);

    // Reusing the rotated token revokes the family: the newer one stops working too.
    let r = post_raw(&base, "/auth/refresh", json!({}), Some(&first)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
    let r = post_raw(&base, "/auth/refresh", json!({}), Some(&second)).await;
    assert_eq!(r.status(), 401);

    // Sign out revokes; no cookie at all is 401 on refresh.
    let r = post_raw(&base, "/auth/sign-out", json!({}), Some(&owner.refresh)).await;
    assert_eq!(r.status(), 204);
    let r = post_raw(&base, "/auth/refresh", json!({}), Some(&owner.refresh)).await;
    assert_eq!(r.status(), 401);
    let r = post_raw(&base, "/auth/refresh", json!({}), None).await;
    assert_eq!(r.status(), 401);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn bad_tokens_and_bad_inputs(pool: PgPool) {
    let server = start_api(pool).await;
    let base = server.url.clone();
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/api/v1/shop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let r = client
        .get(format!("{base}/api/v1/shop"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    for (body, status, field) in [
        (json!({"email": "x@example.com"}), 422, None),
        (
            json!({"email": "nope", "display_name": "A", "password": "long enough password", "shop": {"name": "S", "currency": "EUR", "time_zone": "UTC"}}),
            422,
            Some("email"),
        ),
        (
            json!({"email": "a@example.com", "display_name": "A", "password": "short", "shop": {"name": "S", "currency": "EUR", "time_zone": "UTC"}}),
            422,
            Some("password"),
        ),
        (
            json!({"email": "a@example.com", "display_name": "A", "password": "long enough password", "shop": {"name": "S", "currency": "EURO", "time_zone": "UTC"}}),
            422,
            None,
        ),
        (
            json!({"email": "a@example.com", "display_name": "x".repeat(121), "password": "long enough password", "shop": {"name": "S", "currency": "EUR", "time_zone": "UTC"}}),
            422,
            Some("display_name"),
        ),
        (
            json!({"email": "a@example.com", "display_name": "A", "password": "long enough password", "shop": {"name": "S", "currency": "EUR", "time_zone": "+02:00"}}),
            422,
            Some("time_zone"),
        ),
        // The right shape, but no zone PostgreSQL (and so the event reports) knows.
        (
            json!({"email": "a@example.com", "display_name": "A", "password": "long enough password", "shop": {"name": "S", "currency": "EUR", "time_zone": "Mars/Olympus"}}),
            422,
            Some("time_zone"),
        ),
        (
            json!({"email": 5, "display_name": "A", "password": "long enough password", "shop": {"name": "S", "currency": "EUR", "time_zone": "UTC"}}),
            422,
            None,
        ),
    ] {
        let r = post_raw(&base, "/auth/register", body.clone(), None).await;
        assert_eq!(r.status().as_u16(), status, "{body}");
        let err: Value = r.json().await.unwrap();
        assert!(err["error"]["message"].is_string(), "{err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{err}");
        }
    }
    let r = client
        .post(format!("{base}/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "bad_json");
    // Unknown API paths are JSON 404s, not the web app.
    let r = client
        .get(format!("{base}/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "not_found");
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn sign_in_is_rate_limited_per_account(pool: PgPool) {
    let server = start_api(pool).await;
    let base = server.url.clone();
    Api::register(&base, "victim@example.com").await;
    for _ in 0..printstall_server::auth::rate_limit::PER_ACCOUNT {
        let r = post_raw(
            &base,
            "/auth/sign-in",
            json!({"email": "victim@example.com", "password": "wrong password!"}),
            None,
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    // Now even the right password waits.
    let r = post_raw(
        &base,
        "/auth/sign-in",
        json!({"email": "VICTIM@example.com", "password": "correct horse battery"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    server.stop().await;
}

/// Many accounts tried from one address: after `PER_ADDRESS` failures the address waits,
/// whichever account it names next, the right password included, and on join too. The
/// address is the connection's peer: an `X-Forwarded-For` header (which any client can
/// send) neither spreads the count nor escapes it.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn sign_in_is_rate_limited_per_address(pool: PgPool) {
    let server = start_api(pool).await;
    let base = server.url.clone();
    let owner = Api::register(&base, "real@example.com").await;
    let (_, invite) = owner.post("/auth/invites", json!({})).await;
    let client = reqwest::Client::new();
    let sign_in = |email: String, password: &'static str, forwarded: Option<String>| {
        let mut req = client
            .post(format!("{base}/api/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": password}));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        async move { req.send().await.unwrap() }
    };
    let limit = printstall_server::auth::rate_limit::PER_ADDRESS;
    assert!(limit > printstall_server::auth::rate_limit::PER_ACCOUNT);
    for i in 0..limit {
        // A different account each time (a password spray): no account reaches its own
        // limit, and half claim another address.
        let forwarded = (i % 2 == 0).then(|| format!("203.0.113.{}", i % 250));
        let r = sign_in(format!("sprayed-{i}@example.com"), "Winter2026!", forwarded).await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    for (email, password, forwarded) in [
        ("real@example.com", "correct horse battery", None),
        (
            "real@example.com",
            "correct horse battery",
            Some("198.51.100.7".to_owned()),
        ),
        ("never-tried@example.com", "Winter2026!", None),
    ] {
        let r = sign_in(email.to_owned(), password, forwarded.clone()).await;
        assert_eq!(r.status(), 429, "{email} {forwarded:?}");
        assert!(r.headers().get("retry-after").is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }
    let r = post_raw(
        &base,
        "/auth/join",
        json!({"code": invite["code"], "email": "helper@example.com", "password": "helper password", "display_name": "Helper"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 429);
    // The account itself was never locked: its own count is untouched, and it is still
    // signed in where it already was.
    assert_eq!(owner.get("/shop").await.0, 200);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn change_password_invite_and_join_as_seller(pool: PgPool) {
    let server = start_api(pool).await;
    let base = server.url.clone();
    let owner = Api::register(&base, "owner@example.com").await;

    let (status, err) = owner
        .post(
            "/auth/password",
            json!({"current_password": "wrong one!!", "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    let (status, _) = owner
        .post(
            "/auth/password",
            json!({"current_password": "correct horse battery", "new_password": "short"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = owner.post("/auth/password", json!({"current_password": "correct horse battery", "new_password": "a brand new password"})).await;
    assert_eq!(status, 200);
    // The old sessions' refresh tokens are revoked; the new password signs in.
    let r = post_raw(&base, "/auth/refresh", json!({}), Some(&owner.refresh)).await;
    assert_eq!(r.status(), 401);
    let r = post_raw(
        &base,
        "/auth/sign-in",
        json!({"email": "owner@example.com", "password": "a brand new password"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);

    let (status, invite) = owner.post("/auth/invites", json!({})).await;
    assert_eq!(status, 201, "{invite}");
    let code = invite["code"].as_str().unwrap().to_owned();

    let r = post_raw(&base, "/auth/join", json!({"code": "AAAA-BBBB-CCCC", "email": "helper@example.com", "password": "helper password 1", "display_name": "Helper"}), None).await;
    assert_eq!(r.status(), 404);
    let r = post_raw(&base, "/auth/join", json!({"code": code.to_lowercase(), "email": "helper@example.com", "password": "helper password 1", "display_name": "Helper"}), None).await;
    assert_eq!(r.status(), 201);
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["role"], "seller");
    assert_eq!(body["shop_id"].as_str().unwrap(), owner.shop_id);
    let seller = Api::from_session(&base, &body, refresh);
    // One-time: the code is used.
    let r = post_raw(&base, "/auth/join", json!({"code": code, "email": "other@example.com", "password": "other password 1", "display_name": "O"}), None).await;
    assert_eq!(r.status(), 404);

    // A seller cannot invite.
    let (status, err) = seller.post("/auth/invites", json!({})).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "forbidden");
    let (status, shop) = seller.get("/shop").await;
    assert_eq!((status, shop["role"].as_str()), (200, Some("seller")));
    server.stop().await;
}
