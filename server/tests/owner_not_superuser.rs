//! The server works when its owner connection is not a superuser (a managed PostgreSQL's
//! owner role), where forced row-level security binds it too: every sign-in flow that looks
//! a row up before any shop is known (refresh, sign out, join with an invite code, a
//! printer's token, the session check of every request) names the row it looks for
//! (migration 0430), and the flows that touch a person's own rows name the person.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, refresh_cookie_of, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

const OWNER: &str = "printstall_test_plain_owner";

/// Gives every table and function of the test database (but the extensions' own) to a
/// login role that is neither a superuser nor exempt from row-level security, and answers
/// a pool connecting as it.
async fn plain_owner_pool(pool: &PgPool) -> PgPool {
    sqlx::query(&format!(
        r#"do $$ begin
             if not exists (select from pg_roles where rolname = '{OWNER}') then
               begin
                 create role {OWNER} login nosuperuser nobypassrls;
               exception when duplicate_object or unique_violation then null;
               end;
             end if;
           end $$"#
    ))
    .execute(pool)
    .await
    .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        r#"select quote_ident(c.relname) from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'S')
             and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in tables {
        sqlx::query(&format!("alter table {t} owner to {OWNER}"))
            .execute(pool)
            .await
            .unwrap();
    }
    let functions: Vec<String> = sqlx::query_scalar(
        r#"select p.oid::regprocedure::text from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = current_schema()
             and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for f in functions {
        sqlx::query(&format!("alter function {f} owner to {OWNER}"))
            .execute(pool)
            .await
            .unwrap();
    }
    let options = pool.connect_options().as_ref().clone().username(OWNER);
    let owner = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(options)
        .await
        .unwrap();
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert!(!superuser && !bypass);
    owner
}

async fn post_cookie(base: &str, path: &str, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1{path}"))
        .header("cookie", format!("printstall_refresh={cookie}"))
        .send()
        .await
        .unwrap()
}

async fn sign_in(base: &str, email: &str, password: &str) -> Api {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign in {email}");
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    Api::from_session(base, &body, refresh)
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn sign_in_flows_work_with_an_owner_that_is_not_a_superuser(pool: PgPool) {
    let owner_pool = plain_owner_pool(&pool).await;
    let server = start_api(owner_pool).await;
    let base = server.url.clone();

    // Register, use, refresh (a lookup by the cookie's hash), sign out.
    let owner = Api::register(&base, "o@example.com").await;
    let (status, shop) = owner.get("/shop").await;
    assert_eq!(status, 200, "{shop}");
    let r = post_cookie(&base, "/auth/refresh", &owner.refresh).await;
    assert_eq!(r.status(), 200);
    let rotated = refresh_cookie_of(&r).unwrap();
    // The rotated-away cookie again: its family is revoked, and its access token ends.
    let r = post_cookie(&base, "/auth/refresh", &owner.refresh).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        post_cookie(&base, "/auth/refresh", &rotated).await.status(),
        401
    );
    assert_eq!(owner.get("/shop").await.0, 401);

    let owner = sign_in(&base, "o@example.com", "correct horse battery").await;
    let second = sign_in(&base, "o@example.com", "correct horse battery").await;
    let (status, sessions) = owner.get("/auth/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2, "{sessions}");
    let other = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        owner.delete(&format!("/auth/sessions/{other}")).await.0,
        204
    );
    assert_eq!(second.get("/shop").await.0, 401);
    let r = post_cookie(&base, "/auth/sign-out", &owner.refresh).await;
    assert_eq!(r.status(), 204);
    assert_eq!(owner.get("/shop").await.0, 401);
    assert_eq!(
        post_cookie(&base, "/auth/refresh", &owner.refresh)
            .await
            .status(),
        401
    );

    // Invite and join (a lookup by the code's hash), then the owner removes the helper.
    let owner = sign_in(&base, "o@example.com", "correct horse battery").await;
    let (status, invite) = owner.post("/auth/invites", json!({})).await;
    assert_eq!(status, 201, "{invite}");
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/join"))
        .json(&json!({"code": invite["code"], "email": "h@example.com", "password": "helper password", "display_name": "Helper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let helper_refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    let helper = Api::from_session(&base, &body, helper_refresh);
    assert_eq!(helper.get("/shop").await.0, 200);
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/join"))
        .json(&json!({"code": invite["code"], "email": "x@example.com", "password": "helper password", "display_name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "an invite code works once");
    assert_eq!(
        owner
            .delete(&format!("/shop/members/{}", helper.user_id))
            .await
            .0,
        204
    );
    assert_eq!(helper.get("/shop").await.0, 401);
    assert_eq!(
        post_cookie(&base, "/auth/refresh", &helper.refresh)
            .await
            .status(),
        401
    );

    // A printer's token (a lookup by its hash) reads the Spoolman API.
    let (status, t) = owner.post("/printer-tokens", json!({"name": "MK4S"})).await;
    assert_eq!(status, 201, "{t}");
    let r = reqwest::get(format!(
        "{base}/spoolman/api/v1/spool?token={}",
        t["token"].as_str().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(format!("{base}/spoolman/api/v1/spool?token=pst_wrong"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The export lists the person's sessions; a password change ends the others.
    let r = owner
        .http
        .get(format!("{base}/api/v1/export"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let zip = r.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("account/sessions.json").unwrap(),
        &mut text,
    )
    .unwrap();
    let sessions: Value = serde_json::from_str(&text).unwrap();
    assert!(sessions.as_array().unwrap().len() >= 4, "{sessions}");
    let other = sign_in(&base, "o@example.com", "correct horse battery").await;
    let (status, out) = owner
        .post(
            "/auth/password",
            json!({"current_password": "correct horse battery", "new_password": "a new long password"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(other.get("/shop").await.0, 401);
    assert_eq!(owner.get("/shop").await.0, 200);
    sign_in(&base, "o@example.com", "a new long password").await;
    server.stop().await;
}
