//! External sign-in: tokens of an OpenID Connect provider, signed with RSA (RS256) and P-256
//! (ES256) keys the test makes itself with `openssl`, and a JWK set served by a small HTTP
//! server in the test or read from a file. Good tokens sign in (the first one makes the
//! account and its shop); wrong issuer, audience, expiry, unknown key, `alg: none` and HS256
//! with the public key as the secret are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{Api, settings_with, spawn_server};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, Storage};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::RwLock;

const ISSUER: &str = "https://id.example.test/";
const AUDIENCE: &str = "https://printstall.example.test/api";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed for this test (scripts/setup --for-tests installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A signing key made by `openssl`, with its public JWK.
struct TestKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// The public key as PEM text (for the HS256 confusion attempt).
    public_pem: Vec<u8>,
}

impl TestKey {
    fn rsa(kid: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ],
        );
        openssl(
            d,
            &[
                "rsa",
                "-in",
                "key.pem",
                "-traditional",
                "-outform",
                "DER",
                "-out",
                "key.der",
            ],
        );
        openssl(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
        let modulus = Command::new("openssl")
            .current_dir(d)
            .args(["rsa", "-in", "key.pem", "-noout", "-modulus"])
            .output()
            .unwrap();
        let text = String::from_utf8(modulus.stdout).unwrap();
        let n = hex::decode(text.trim().trim_start_matches("Modulus=")).unwrap();
        let der = std::fs::read(d.join("key.der")).unwrap();
        Self {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(&der),
            jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                        "n": B64.encode(n), "e": "AQAB"}),
            public_pem: std::fs::read(d.join("pub.pem")).unwrap(),
        }
    }

    fn ec(kid: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "key.pem",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out",
                "key.der",
            ],
        );
        openssl(
            d,
            &[
                "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
            ],
        );
        openssl(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
        let spki = std::fs::read(d.join("pub.der")).unwrap();
        // The SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y.
        let point = &spki[spki.len() - 65..];
        assert_eq!(point[0], 4);
        let der = std::fs::read(d.join("key.der")).unwrap();
        Self {
            kid: kid.into(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(&der),
            jwk: json!({"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
                        "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..])}),
            public_pem: std::fs::read(d.join("pub.pem")).unwrap(),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims of a good token for `sub`, to be changed per case.
fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": [AUDIENCE, "https://other.example.test"], "sub": sub,
           "iat": now(), "exp": now() + 600})
}

fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

/// A tiny provider: serves the current JWK set at `/jwks.json` and counts the fetches.
struct Provider {
    url: String,
    set: Arc<RwLock<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn provider(initial: Value) -> Provider {
    let set = Arc::new(RwLock::new(initial));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (s, f) = (set.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                axum::Json(s.read().await.clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Provider { url, set, fetches }
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

/// The real server with external sign-in configured by `extra`.
async fn start(pool: PgPool, extra: &[(&str, &str)]) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files = std::env::temp_dir().join(format!("printstall-oidc-test-{}", uuid::Uuid::now_v7()));
    let storage = Storage::Local(LocalStore::new(
        files.clone(),
        url.clone(),
        UrlSigner::new(Secret::new("test-signing-key")),
    ));
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_DATA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_JWT_SECRET", common::TEST_JWT_SECRET),
        ("OIDC_ISSUER", ISSUER),
        ("OIDC_AUDIENCE", AUDIENCE),
        ("OIDC_JWKS_MIN_REFRESH_SECONDS", "0"),
    ];
    pairs.extend_from_slice(extra);
    let settings = settings_with(&pairs);
    let state = AppState::new(pool, storage, settings).unwrap();
    let (shutdown, task) = spawn_server(listener, state);
    Running {
        url,
        shutdown,
        task,
    }
}

async fn get_with(base: &str, token: &str, path: &str) -> (u16, Value, Option<String>) {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body, challenge)
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn provider_tokens_sign_in_and_the_first_one_makes_the_account(pool: PgPool) {
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::ec("ec-1");
    let idp = provider(jwks(&[&rsa, &ec])).await;
    let server = start(pool.clone(), &[("OIDC_JWKS_URL", &idp.url)]).await;

    let mut c = claims("auth0|alice");
    c["email"] = json!("Alice@Example.com");
    c["name"] = json!("Alice Maker");
    let (status, shop, _) = get_with(&server.url, &rsa.sign(&c), "/shop").await;
    assert_eq!(status, 200, "{shop}");
    assert_eq!(shop["name"], "Alice Maker's stall");
    assert_eq!(
        (shop["role"].as_str(), shop["currency"].as_str()),
        (Some("owner"), Some("EUR"))
    );

    // The same person again (a new token): the same shop, no second account.
    let mut again = claims("auth0|alice");
    again["iat"] = json!(now() - 5);
    let token = rsa.sign(&again);
    let (status, shop2, _) = get_with(&server.url, &token, "/shop").await;
    assert_eq!((status, &shop2["id"]), (200, &shop["id"]));
    let email: String = sqlx::query_scalar(
        "select u.email from app_user u join external_identity e on e.user_id = u.id where e.subject = 'auth0|alice'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(email, "alice@example.com");

    // The external member works like any other: writes under row-level security.
    let api = Api {
        base: server.url.clone(),
        http: reqwest::Client::new(),
        token: token.clone(),
        user_id: String::new(),
        shop_id: shop["id"].as_str().unwrap().to_owned(),
        refresh: String::new(),
    };
    let (status, p) = api
        .post(
            "/products",
            json!({"sku": "REX", "name": "Flexi Rex", "price": 1500}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let (_, list) = api.get("/products").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // An ES256 token of another person without an email claim: their own shop, and an
    // address that can receive no mail.
    let (status, bob_shop, _) = get_with(&server.url, &ec.sign(&claims("user_bob")), "/shop").await;
    assert_eq!(status, 200, "{bob_shop}");
    assert_ne!(bob_shop["id"], shop["id"]);
    assert_eq!(bob_shop["name"], "Member's stall");
    let (_, bob_products, _) =
        get_with(&server.url, &ec.sign(&claims("user_bob")), "/products").await;
    assert_eq!(bob_products["items"], json!([]));
    let bob_email: String = sqlx::query_scalar(
        "select u.email from app_user u join external_identity e on e.user_id = u.id where e.subject = 'user_bob'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(bob_email.ends_with(".invalid"), "{bob_email}");
    assert_eq!(
        (
            count(&pool, "app_user").await,
            count(&pool, "external_identity").await
        ),
        (2, 2)
    );

    // An email already used by a built-in account is not linked to it.
    let built_in = Api::register(&server.url, "carol@example.com").await;
    let mut carol = claims("kc-carol");
    carol["email"] = json!("carol@example.com");
    let (status, carol_shop, _) = get_with(&server.url, &rsa.sign(&carol), "/shop").await;
    assert_eq!(status, 200);
    assert_ne!(carol_shop["id"].as_str(), Some(built_in.shop_id.as_str()));
    // Built-in tokens still work beside external ones.
    let (status, _) = built_in.get("/shop").await;
    assert_eq!(status, 200);
    // External accounts have no password here.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", server.url))
        .json(&json!({"email": "alice@example.com", "password": "!external"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The key set was fetched once and kept.
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn bad_tokens_are_refused_and_make_nothing(pool: PgPool) {
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::ec("ec-1");
    let stranger = TestKey::rsa("rsa-stranger");
    let idp = provider(jwks(&[&rsa, &ec])).await;
    let server = start(pool.clone(), &[("OIDC_JWKS_URL", &idp.url)]).await;

    let mut wrong_issuer = claims("mallory");
    wrong_issuer["iss"] = json!("https://evil.example.test/");
    let mut wrong_audience = claims("mallory");
    wrong_audience["aud"] = json!("https://other.example.test");
    let mut expired = claims("mallory");
    expired["iat"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    let mut not_yet = claims("mallory");
    not_yet["nbf"] = json!(now() + 3600);
    let mut no_sub = claims("mallory");
    no_sub.as_object_mut().unwrap().remove("sub");

    let header_b64 = |h: Value| B64.encode(h.to_string());
    let payload_b64 = B64.encode(claims("mallory").to_string());
    let alg_none = format!(
        "{}.{payload_b64}.",
        header_b64(json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"}))
    );
    let alg_none_upper = format!(
        "{}.{payload_b64}.",
        header_b64(json!({"alg": "None", "kid": "rsa-1"}))
    );
    let hs256 = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("rsa-1".into());
        jsonwebtoken::encode(&h, &claims("mallory"), &EncodingKey::from_secret(secret)).unwrap()
    };
    let hs256_pem = hs256(&rsa.public_pem);
    let hs256_ec_pem = hs256(&ec.public_pem);
    let hs256_jwk = hs256(rsa.jwk.to_string().as_bytes());
    // A good token whose payload was changed after signing.
    let good = rsa.sign(&claims("mallory"));
    let parts: Vec<&str> = good.split('.').collect();
    let mut evil = claims("mallory");
    evil["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], B64.encode(evil.to_string()), parts[2]);
    // The EC key's kid with the RSA algorithm, and an RSA signature under the EC kid.
    let mut mixed = Header::new(Algorithm::RS256);
    mixed.kid = Some("ec-1".into());
    let kid_confusion = jsonwebtoken::encode(&mixed, &claims("mallory"), &rsa.encoding).unwrap();

    let cases: Vec<(&str, String)> = vec![
        ("wrong issuer", rsa.sign(&wrong_issuer)),
        ("wrong audience", rsa.sign(&wrong_audience)),
        ("expired", ec.sign(&expired)),
        ("not yet valid", rsa.sign(&not_yet)),
        ("no sub", rsa.sign(&no_sub)),
        ("unknown key", stranger.sign(&claims("mallory"))),
        ("alg none", alg_none),
        ("alg None", alg_none_upper),
        ("HS256 with the RSA public key", hs256_pem),
        ("HS256 with the EC public key", hs256_ec_pem),
        ("HS256 with the JWK", hs256_jwk),
        ("tampered payload", tampered),
        ("RS256 under the EC key's kid", kid_confusion),
        ("not a JWT", "not-a-token".into()),
    ];
    for (name, token) in &cases {
        let (status, body, challenge) = get_with(&server.url, token, "/shop").await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{name}");
        assert_eq!(body["error"]["code"], "unauthorized", "{name}");
    }
    assert_eq!(
        count(&pool, "app_user").await,
        0,
        "a refused token made an account"
    );
    assert_eq!(count(&pool, "shop").await, 0);

    // The unknown kid made the server read the key set again; once the provider publishes
    // the key, the same token is accepted (key rotation).
    let before = idp.fetches.load(Ordering::SeqCst);
    let rotated = stranger.sign(&claims("rotated"));
    let (status, _, _) = get_with(&server.url, &rotated, "/shop").await;
    assert_eq!(status, 401);
    assert!(idp.fetches.load(Ordering::SeqCst) > before);
    *idp.set.write().await = jwks(&[&rsa, &ec, &stranger]);
    let (status, body, _) = get_with(&server.url, &rotated, "/shop").await;
    assert_eq!(status, 200, "{body}");
    // A key the provider removed stops working once the set is read again.
    *idp.set.write().await = jwks(&[&stranger]);
    let stranger_again = stranger.sign(&claims("rotated"));
    let mut probe = Header::new(Algorithm::RS256);
    probe.kid = Some("not-published".into());
    let unknown = jsonwebtoken::encode(&probe, &claims("x"), &rsa.encoding).unwrap();
    assert_eq!(get_with(&server.url, &unknown, "/shop").await.0, 401);
    assert_eq!(
        get_with(&server.url, &rsa.sign(&claims("auth0|new")), "/shop")
            .await
            .0,
        401
    );
    assert_eq!(get_with(&server.url, &stranger_again, "/shop").await.0, 200);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn keys_from_a_file_are_read_again_for_an_unknown_kid(pool: PgPool) {
    let first = TestKey::ec("file-ec-1");
    let second = TestKey::rsa("file-rsa-2");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(&[&first]).to_string()).unwrap();
    let server = start(pool.clone(), &[("OIDC_JWKS_FILE", path.to_str().unwrap())]).await;

    let (status, body, _) = get_with(&server.url, &first.sign(&claims("file-user")), "/shop").await;
    assert_eq!(status, 200, "{body}");
    let token2 = second.sign(&claims("file-user"));
    assert_eq!(get_with(&server.url, &token2, "/shop").await.0, 401);
    std::fs::write(&path, jwks(&[&first, &second]).to_string()).unwrap();
    let (status, body2, _) = get_with(&server.url, &token2, "/shop").await;
    assert_eq!((status, &body2["id"]), (200, &body["id"]));
    // Sync's event stream takes the external token too (as ?access_token=).
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/sync/events?access_token={token2}",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    server.stop().await;
}
