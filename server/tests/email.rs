//! Email against a real SMTP server on loopback: Python's aiosmtpd, started by the test,
//! writes each message it receives (decoded) as a JSON file; the test reads what arrived.
//! Invitations, password reset (works once, not twice, not after expiry; no account
//! enumeration) and the low-stock and low-filament digest; without SMTP every feature says
//! that email is off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::fixtures::{filament, spool};
use common::{Api, settings_with, spawn_server};
use printstall_server::app::AppState;
use printstall_server::email::Mailer;
use printstall_server::email::digest::send_digests;
use printstall_server::secret::Secret;
use printstall_server::settings::{SmtpSettings, SmtpTls};
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, Storage};
use serde_json::{Value, json};
use sqlx::PgPool;

const PUBLIC_URL: &str = "https://stall.example.test";

/// An SMTP server that writes `{from, to, subject, body}` per message into a folder.
const SMTP_SINK: &str = r#"
import asyncio, email, email.policy, json, os, sys, uuid
from aiosmtpd.smtp import SMTP

out = sys.argv[1]

class Sink:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                  "subject": str(msg["subject"]), "body": part.get_content() if part else ""}
        name = uuid.uuid4().hex
        with open(os.path.join(out, name + ".tmp"), "w") as f:
            json.dump(record, f)
        os.rename(os.path.join(out, name + ".tmp"), os.path.join(out, name + ".json"))
        return "250 Message accepted for delivery"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink()), host="127.0.0.1", port=0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// A Python that has aiosmtpd: `PRINTSTALL_TEST_PYTHON`, Debian's (python3-aiosmtpd), the
/// venv scripts/setup may make, or the first `python3` on the PATH.
fn python() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = [
        std::env::var("PRINTSTALL_TEST_PYTHON").unwrap_or_default(),
        "/usr/bin/python3".into(),
        format!("{home}/.cache/printstall/venv/bin/python"),
        "python3".into(),
    ];
    for c in candidates.iter().filter(|c| !c.is_empty()) {
        let ok = Command::new(c)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return c.clone();
        }
    }
    panic!(
        "no Python with aiosmtpd found: run scripts/setup --for-tests (installs python3-aiosmtpd)"
    );
}

struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("sink.py");
        std::fs::write(&script, SMTP_SINK).unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let mut child = Command::new(python())
            .arg(&script)
            .arg(&inbox)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the SMTP sink did not start: {line:?}")
        });
        Self { child, port, dir }
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "PrintStall <stall@example.test>".into(),
        }
    }

    /// Every message received so far.
    fn messages(&self) -> Vec<Value> {
        read_inbox(&self.inbox())
    }

    /// Waits (a bounded number of times) until a message to `to` has arrived, and returns
    /// every message to `to`.
    async fn wait_for(&self, to: &str, at_least: usize) -> Vec<Value> {
        for _ in 0..300 {
            let found: Vec<Value> = self
                .messages()
                .into_iter()
                .filter(|m| m["to"].as_array().unwrap().iter().any(|t| t == to))
                .collect();
            if found.len() >= at_least {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no message to {to} arrived; inbox: {:?}", self.messages());
    }
}

fn read_inbox(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

trait Put {
    async fn put_json(&self, path: &str, body: Value) -> (u16, Value);
}

impl Put for Api {
    async fn put_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
}

struct Running {
    url: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// The real server, sending mail to `sink` (or with email off).
async fn start(pool: PgPool, sink: Option<&SmtpSink>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files =
        std::env::temp_dir().join(format!("printstall-email-test-{}", uuid::Uuid::now_v7()));
    let storage = Storage::Local(LocalStore::new(
        files.clone(),
        url.clone(),
        UrlSigner::new(Secret::new("test-signing-key")),
    ));
    let port = sink.map(|s| s.port.to_string()).unwrap_or_default();
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_DATA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_JWT_SECRET", common::TEST_JWT_SECRET),
        ("PRINTSTALL_PUBLIC_URL", PUBLIC_URL),
    ];
    if sink.is_some() {
        pairs.extend_from_slice(&[
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", port.as_str()),
            ("SMTP_TLS", "none"),
            ("SMTP_FROM", "PrintStall <stall@example.test>"),
        ]);
    }
    let settings = settings_with(&pairs);
    let state = AppState::new(pool, storage, settings).unwrap();
    let (shutdown, task) = spawn_server(listener, state);
    Running {
        url,
        shutdown,
        task,
    }
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The text after `marker` up to the end of its line (or the next whitespace).
fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {text}"))
        + marker.len();
    text[start..].split_whitespace().next().unwrap()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn an_invitation_is_mailed_and_its_code_lets_the_helper_join(pool: PgPool) {
    let sink = SmtpSink::start();
    let server = start(pool, Some(&sink)).await;
    let owner = Api::register(&server.url, "owner@example.com").await;

    let (status, invite) = owner
        .post("/auth/invites", json!({"email": "Helper@Example.com"}))
        .await;
    assert_eq!(status, 201, "{invite}");
    assert_eq!(invite["emailed"], true);
    let mail = sink.wait_for("helper@example.com", 1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["from"], "stall@example.test");
    assert_eq!(
        mail[0]["subject"],
        "Test Person invites you to Test stall on PrintStall"
    );
    let body = mail[0]["body"].as_str().unwrap();
    assert!(body.contains(PUBLIC_URL), "{body}");
    let code = after(body, "Your invite code: ");
    assert_eq!(code, invite["code"].as_str().unwrap());

    let (status, joined) = post(
        &server.url,
        "/auth/join",
        json!({"code": code, "email": "helper@example.com", "password": "helper password", "display_name": "Helper"}),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["shop_id"].as_str(), Some(owner.shop_id.as_str()));

    // Without an address, the code is only answered (as before); a bad address changes nothing.
    let (status, plain) = owner.post("/auth/invites", json!({})).await;
    assert_eq!((status, &plain["emailed"]), (201, &json!(false)));
    assert!(plain.get("email_note").is_none());
    let (status, err) = owner
        .post("/auth/invites", json!({"email": "not an address"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(sink.messages().len(), 1);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_reset_link_works_once_and_not_after_it_expires(pool: PgPool) {
    let sink = SmtpSink::start();
    let server = start(pool.clone(), Some(&sink)).await;
    let user = Api::register(&server.url, "maker@example.com").await;

    // The answer is the same whether or not an account uses the address.
    let unknown = post(
        &server.url,
        "/auth/password-reset/request",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    let known = post(
        &server.url,
        "/auth/password-reset/request",
        json!({"email": " Maker@Example.com "}),
    )
    .await;
    assert_eq!(known.0, 202, "{}", known.1);
    assert_eq!(unknown, known);

    let mail = sink.wait_for("maker@example.com", 1).await;
    assert_eq!(mail[0]["subject"], "Set a new PrintStall password");
    let body = mail[0]["body"].as_str().unwrap();
    let link = after(body, "https://");
    assert!(
        link.starts_with("stall.example.test/reset-password#token="),
        "{link}"
    );
    let token = after(body, "#token=").to_owned();
    assert!(
        sink.messages()
            .iter()
            .all(|m| m["to"] != json!(["nobody@example.com"])),
        "a message went to an address without an account"
    );
    // Only the hash is stored.
    let stored: Vec<String> = sqlx::query_scalar("select token_hash from password_reset")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    // A too-short password is refused and uses nothing up.
    let (status, _) = post(
        &server.url,
        "/auth/password-reset",
        json!({"token": token, "new_password": "short"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, out) = post(
        &server.url,
        "/auth/password-reset",
        json!({"token": token, "new_password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(status, 204, "{out}");

    // Every session ended; the new password signs in, the old one does not.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", server.url))
        .header("cookie", format!("printstall_refresh={}", user.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let sign_in = |password: &'static str| {
        post(
            &server.url,
            "/auth/sign-in",
            json!({"email": "maker@example.com", "password": password}),
        )
    };
    assert_eq!(sign_in("a brand new passphrase").await.0, 200);
    assert_eq!(sign_in("correct horse battery").await.0, 401);

    // Not twice.
    let (status, err) = post(
        &server.url,
        "/auth/password-reset",
        json!({"token": token, "new_password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("reset_link_invalid")),
        "{err}"
    );

    // Not after it expires.
    let (status, _) = post(
        &server.url,
        "/auth/password-reset/request",
        json!({"email": "maker@example.com"}),
    )
    .await;
    assert_eq!(status, 202);
    let mail = sink.wait_for("maker@example.com", 2).await;
    let second = mail
        .iter()
        .map(|m| after(m["body"].as_str().unwrap(), "#token=").to_owned())
        .find(|t| *t != token)
        .unwrap();
    sqlx::query(
        "update password_reset set expires_at = now() - interval '1 second' where used_at is null",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (status, err) = post(
        &server.url,
        "/auth/password-reset",
        json!({"token": second, "new_password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("reset_link_invalid"))
    );
    assert_eq!(sign_in("a brand new passphrase").await.0, 200);

    // A made-up token, and a malformed request, change nothing either.
    let (status, _) = post(
        &server.url,
        "/auth/password-reset",
        json!({"token": "made-up", "new_password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &server.url,
        "/auth/password-reset/request",
        json!({"email": "not an email"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(sign_in("a brand new passphrase").await.0, 200);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_digest_lists_what_is_low_to_owners_who_asked(pool: PgPool) {
    let sink = SmtpSink::start();
    let server = start(pool.clone(), Some(&sink)).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let quiet = Api::register(&server.url, "quiet@example.com").await;

    // Products: one at its alert level, one above it, one without a level.
    for (sku, threshold, stock) in [
        ("REX-L", Some(3), 2),
        ("REX-S", Some(1), 5),
        ("CAT", None, 0),
    ] {
        let (status, p) = owner
            .post(
                "/products",
                json!({"sku": sku, "name": format!("Flexi {sku}"), "price": 1500, "low_stock_threshold": threshold}),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let id = p["id"].as_str().unwrap();
        if stock > 0 {
            let (status, out) = owner
                .post(
                    &format!("/products/{id}/adjust"),
                    json!({"quantity": stock, "reason": "produced"}),
                )
                .await;
            assert_eq!(status, 200, "{out}");
        }
    }
    // Filaments: 120 g left of one (low under the 250 g default), 1 kg of the other.
    let black = filament(&owner, "Galaxy Black").await;
    spool(&owner, &black, 120).await;
    let blue = filament(&owner, "Ocean Blue").await;
    spool(&owner, &blue, 1000).await;
    // The other shop has low things too but did not ask for the digest.
    let q = filament(&quiet, "Quiet Grey").await;
    spool(&quiet, &q, 10).await;

    let (status, setting) = owner.get("/shop/digest").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            &setting["enabled"],
            &setting["email"],
            &setting["low_filament_cg"]
        ),
        (&json!(false), &json!("on"), &json!(25000))
    );
    let (status, setting) = owner
        .put_json("/shop/digest", json!({"enabled": true}))
        .await;
    assert_eq!(
        (status, &setting["enabled"]),
        (200, &json!(true)),
        "{setting}"
    );

    let mailer = Mailer::new(&sink.settings(), PUBLIC_URL).unwrap();
    let report = send_digests(&pool, &mailer, None).await.unwrap();
    assert_eq!(
        (report.shops, report.sent, report.failed),
        (1, 1, 0),
        "{report:?}"
    );
    let mail = sink.wait_for("owner@example.com", 1).await;
    assert_eq!(
        mail[0]["subject"],
        "PrintStall: 1 product and 1 filament running low at Test stall"
    );
    let body = mail[0]["body"].as_str().unwrap();
    assert!(
        body.contains("REX-L Flexi REX-L: 2 on hand (alert at 3)"),
        "{body}"
    );
    assert!(
        body.contains("Prusament PLA Galaxy Black: 120 g left on 1 spool"),
        "{body}"
    );
    for absent in ["REX-S", "CAT", "Ocean Blue", "Quiet Grey"] {
        assert!(!body.contains(absent), "{absent} is not low: {body}");
    }
    assert_eq!(
        sink.messages().len(),
        1,
        "only the shop that asked gets a digest"
    );
    let (_, setting) = owner.get("/shop/digest").await;
    assert!(setting["last_sent_at"].is_string(), "{setting}");

    // A higher filament threshold makes the blue one low too; switched off, nothing is sent.
    let (status, _) = owner
        .put_json(
            "/shop/digest",
            json!({"enabled": true, "low_filament_cg": 150000}),
        )
        .await;
    assert_eq!(status, 200);
    let shop_id: uuid::Uuid = owner.shop_id.parse().unwrap();
    let report = send_digests(&pool, &mailer, Some(shop_id)).await.unwrap();
    assert_eq!(report.sent, 1);
    let mail = sink.wait_for("owner@example.com", 2).await;
    assert!(
        mail.iter()
            .any(|m| m["body"].as_str().unwrap().contains("Ocean Blue"))
    );
    let (status, _) = owner
        .put_json("/shop/digest", json!({"enabled": false}))
        .await;
    assert_eq!(status, 200);
    let report = send_digests(&pool, &mailer, None).await.unwrap();
    assert_eq!((report.shops, report.sent), (0, 0));

    // Sellers may not change it; bad values change nothing.
    let seller = common::fixtures::seller_of(&owner).await;
    let (status, _) = seller
        .put_json("/shop/digest", json!({"enabled": true}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = owner
        .put_json(
            "/shop/digest",
            json!({"enabled": true, "low_filament_cg": -1}),
        )
        .await;
    assert_eq!(status, 422);
    let (_, setting) = owner.get("/shop/digest").await;
    assert_eq!(
        (&setting["enabled"], &setting["low_filament_cg"]),
        (&json!(false), &json!(150000))
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn without_smtp_every_mail_feature_says_it_is_off(pool: PgPool) {
    let server = start(pool.clone(), None).await;
    let owner = Api::register(&server.url, "owner@example.com").await;

    let (status, err) = post(
        &server.url,
        "/auth/password-reset/request",
        json!({"email": "owner@example.com"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("email_off"))
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("email is off")
    );

    let (status, invite) = owner
        .post("/auth/invites", json!({"email": "helper@example.com"}))
        .await;
    assert_eq!((status, &invite["emailed"]), (201, &json!(false)));
    assert!(
        invite["email_note"]
            .as_str()
            .unwrap()
            .contains("email is off"),
        "{invite}"
    );
    assert!(
        invite["code"].is_string(),
        "the code still works when handed over"
    );

    let (_, setting) = owner.get("/shop/digest").await;
    assert_eq!(setting["email"], "off");
    let (status, err) = owner
        .put_json("/shop/digest", json!({"enabled": true}))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("email_off"))
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from shop_digest")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    server.stop().await;
}

#[test]
fn the_digest_command_says_when_email_is_off() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("digest")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PRINTSTALL_DATA_DIR", data.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("printstall: email is off"), "{stderr}");
}
