//! Every mounted route that needs a signed-in member refuses forged and stale access tokens
//! with 401: none at all, a tampered payload, an expired token, one signed with another
//! key, `alg: none`, another HMAC algorithm with the right key, a token without an expiry,
//! a refresh-type token, and the token of a session that was ended. The route list is the
//! router's own (`mounted_routes`), so a new route is walked without editing this file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Api, TEST_JWT_SECRET, start_api};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Routes anyone may call (signing in, the document itself).
fn public(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/auth/register"
            | "/api/v1/auth/sign-in"
            | "/api/v1/auth/refresh"
            | "/api/v1/auth/sign-out"
            | "/api/v1/auth/join"
            // Authenticated by a reset token or a password, not by an access token.
            | "/api/v1/auth/password-reset/request"
            | "/api/v1/auth/password-reset"
            | "/api/v1/account/delete"
            | "/api/v1/openapi.json"
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn sign(claims: &Value, alg: Algorithm, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The forged tokens, named, for the member `api` (whose own token is valid).
fn forgeries(api: &Api, ended_session_token: &str) -> Vec<(&'static str, Option<String>)> {
    let claims = |exp: Option<i64>, typ: &str| {
        let mut c = json!({
            "sub": api.user_id, "shop": api.shop_id, "role": "owner",
            "iat": now() - 60, "typ": typ,
        });
        if let Some(exp) = exp {
            c["exp"] = json!(exp);
        }
        c
    };
    let valid = claims(Some(now() + 600), "access");
    // A real token with its payload changed (a seller made owner of another shop), the
    // signature kept.
    let parts: Vec<&str> = api.token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["shop"] = json!(uuid::Uuid::now_v7());
    payload["role"] = json!("owner");
    let tampered = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    let mut bad_signature = api.token.clone();
    let last = bad_signature.pop().unwrap();
    bad_signature.push(if last == 'A' { 'B' } else { 'A' });
    vec![
        ("no token", None),
        ("empty bearer", Some(String::new())),
        ("not a JWT", Some("not-a-token".into())),
        ("tampered payload", Some(tampered)),
        ("bad signature", Some(bad_signature)),
        (
            "expired",
            Some(sign(
                &claims(Some(now() - 3600), "access"),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            )),
        ),
        (
            "another key",
            Some(sign(&valid, Algorithm::HS256, "some-other-secret")),
        ),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&valid)
            )),
        ),
        (
            "alg none, upper case",
            Some(format!(
                "{}.{}.",
                b64(&json!({"alg": "NONE", "typ": "JWT"})),
                b64(&valid)
            )),
        ),
        (
            "HS512 with the right key",
            Some(sign(&valid, Algorithm::HS512, TEST_JWT_SECRET)),
        ),
        (
            "no expiry",
            Some(sign(
                &claims(None, "access"),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            )),
        ),
        (
            "refresh type",
            Some(sign(
                &claims(Some(now() + 600), "refresh"),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            )),
        ),
        ("ended session", Some(ended_session_token.to_owned())),
    ]
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn every_route_refuses_forged_and_stale_tokens(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let api = Api::register(&server.url, "owner@example.com").await;

    // A second session of the same member, then ended: its access token must stop working.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", server.url))
        .json(&json!({"email": "owner@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    let ended = second["access_token"].as_str().unwrap().to_owned();
    let (status, _) = api.get("/shop").await;
    assert_eq!(status, 200, "the control token works");
    let (_, sessions) = api.get("/auth/sessions").await;
    let other = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = api.delete(&format!("/auth/sessions/{other}")).await;
    assert_eq!(status, 204);

    let tokens = forgeries(&api, &ended);
    let client = reqwest::Client::new();
    let mut walked = 0;
    for (method, path) in printstall_server::api::mounted_routes() {
        if public(&path) {
            continue;
        }
        let url = format!(
            "{}{}",
            server.url,
            path.replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{file_id}", &uuid::Uuid::now_v7().to_string())
        );
        for (name, token) in &tokens {
            let mut req = client
                .request(method.parse().unwrap(), &url)
                .json(&json!({}));
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with {name}");
            assert_eq!(
                r.headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                Some("Bearer"),
                "{method} {path} with {name}"
            );
        }
        walked += 1;
    }
    assert!(walked > 60, "only {walked} routes walked");

    // The event stream also takes the token in the query string.
    for (name, token) in &tokens {
        let Some(t) = token else { continue };
        let r = client
            .get(format!("{}/api/v1/sync/events", server.url))
            .query(&[("access_token", t)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "events with {name}");
    }
    server.stop().await;
}
