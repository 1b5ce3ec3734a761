//! External sign-in: access tokens of an OpenID Connect provider (Auth0, Clerk, Keycloak…)
//! are accepted as `Authorization: Bearer` beside the built-in tokens, when configured.
//!
//! A token is accepted only when it is signed with RS256 or ES256 by a key of the
//! provider's JWK set (by `kid`; a token without `kid` only when the set holds exactly one
//! key of its kind), its `iss` is the configured issuer exactly, its `aud` contains the
//! configured audience, and it has not expired (`exp`, `nbf`, with 60 s of clock leeway).
//! `alg: none`, HMAC algorithms (such as HS256 with the public key as the secret), symmetric
//! keys in the set, and a key of one kind used for the other algorithm are refused.
//!
//! The key set comes from a URL or a file and is kept in memory; it is read again when a
//! token names a `kid` it does not hold (at most once per `OIDC_JWKS_MIN_REFRESH_SECONDS`)
//! and when it is older than an hour.
//!
//! People are found by `(iss, sub)` in `external_identity`. The first time a `sub` is seen,
//! an account, its shop and the owner membership are made, as registration does; the
//! `email` claim becomes the account's email when present, not marked unverified, and not
//! used by another account (accounts are never linked by email).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use printstall_core::domain::member;
use serde::Deserialize;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::AuthUser;
use crate::api::ApiState;
use crate::api::common::db;
use crate::error::ApiError;
use crate::settings::{JwksSource, OidcSettings};
use crate::tenancy;

/// Re-read the key set when it is older than this, even if every `kid` is known.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
/// A key set larger than this is refused.
const JWKS_MAX_BYTES: usize = 1024 * 1024;
/// Clock leeway for `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;
/// Stored instead of a password hash for accounts made by external sign-in: never verifies.
pub const NO_PASSWORD: &str = "!external";

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0} is not accepted (only RS256 and ES256)")]
    Algorithm(String),
    #[error("no key of the provider has the token's kid {0:?}")]
    UnknownKey(Option<String>),
    #[error("the token was refused: {0}")]
    Invalid(String),
    #[error("the provider's keys cannot be read from {source_name}: {detail}")]
    Jwks { source_name: String, detail: String },
}

/// The claims PrintStall reads from a provider's token (signature, `iss`, `aud`, `exp`
/// and `nbf` are checked by the verifier).
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
}

#[derive(Clone)]
struct Key {
    alg: Algorithm,
    decoding: DecodingKey,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Key>,
    /// Keys without a `kid`.
    anonymous: Vec<Key>,
    loaded_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl Cache {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Key> {
        match kid {
            Some(kid) => self.keys.get(kid).filter(|k| k.alg == alg).cloned(),
            None => {
                let mut all = self
                    .keys
                    .values()
                    .chain(self.anonymous.iter())
                    .filter(|k| k.alg == alg);
                match (all.next(), all.next()) {
                    (Some(k), None) => Some(k.clone()),
                    _ => None,
                }
            }
        }
    }
}

/// Checks provider tokens against the configured issuer, audience and key set.
pub struct OidcVerifier {
    settings: OidcSettings,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl OidcVerifier {
    pub fn new(settings: &OidcSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            settings: settings.clone(),
            http,
            cache: Mutex::new(Cache::default()),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    pub fn describe(&self) -> String {
        let source = match &self.settings.jwks {
            JwksSource::Url(u) => u.clone(),
            JwksSource::File(p) => p.display().to_string(),
        };
        format!(
            "OpenID Connect tokens of {} for {} (keys from {source})",
            self.settings.issuer, self.settings.audience
        )
    }

    /// Reads the key set now (used at start to fail early on a bad file or URL).
    pub async fn load(&self) -> Result<usize, OidcError> {
        let mut cache = self.cache.lock().await;
        self.reload(&mut cache).await?;
        Ok(cache.keys.len() + cache.anonymous.len())
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<ExternalClaims, OidcError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| OidcError::Malformed(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(OidcError::Algorithm(format!("{:?}", header.alg)));
        }
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(key.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<ExternalClaims>(token, &key.decoding, &validation)
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() || claims.sub.len() > 255 {
            return Err(OidcError::Invalid(
                "the sub claim is empty or too long".into(),
            ));
        }
        Ok(claims)
    }

    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Key, OidcError> {
        let mut cache = self.cache.lock().await;
        let stale = cache.loaded_at.is_none_or(|t| t.elapsed() >= JWKS_MAX_AGE);
        if !stale && let Some(key) = cache.find(kid, alg) {
            return Ok(key);
        }
        // Unknown kid or old set: read it again, unless that was tried very recently.
        let min = Duration::from_secs(self.settings.jwks_min_refresh_seconds);
        let may_refresh = cache.last_attempt.is_none_or(|t| t.elapsed() >= min);
        if may_refresh && let Err(e) = self.reload(&mut cache).await {
            tracing::warn!(error = %e, "could not refresh the sign-in provider's keys");
            if cache.loaded_at.is_none() {
                return Err(e);
            }
        }
        cache
            .find(kid, alg)
            .ok_or_else(|| OidcError::UnknownKey(kid.map(str::to_owned)))
    }

    async fn reload(&self, cache: &mut Cache) -> Result<(), OidcError> {
        cache.last_attempt = Some(Instant::now());
        let text = match &self.settings.jwks {
            JwksSource::Url(url) => self.fetch(url).await,
            JwksSource::File(path) => read_file(path.clone()).await,
        }?;
        let (keys, anonymous) = parse_jwks(&text).map_err(|detail| self.jwks_error(detail))?;
        cache.keys = keys;
        cache.anonymous = anonymous;
        cache.loaded_at = Some(Instant::now());
        Ok(())
    }

    fn jwks_error(&self, detail: String) -> OidcError {
        let source_name = match &self.settings.jwks {
            JwksSource::Url(u) => u.clone(),
            JwksSource::File(p) => p.display().to_string(),
        };
        OidcError::Jwks {
            source_name,
            detail,
        }
    }

    async fn fetch(&self, url: &str) -> Result<String, OidcError> {
        let fail = |detail: String| self.jwks_error(detail);
        let mut response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
            body.extend_from_slice(&chunk);
            if body.len() > JWKS_MAX_BYTES {
                return Err(fail("the key set is larger than 1 MiB".into()));
            }
        }
        String::from_utf8(body).map_err(|_| fail("the key set is not UTF-8 text".into()))
    }
}

async fn read_file(path: PathBuf) -> Result<String, OidcError> {
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| OidcError::Jwks {
            source_name: path.display().to_string(),
            detail: e.to_string(),
        })?;
    if text.len() > JWKS_MAX_BYTES {
        return Err(OidcError::Jwks {
            source_name: path.display().to_string(),
            detail: "the key set is larger than 1 MiB".into(),
        });
    }
    Ok(text)
}

/// The signing keys of a JWK set that PrintStall accepts: RSA keys for RS256 and P-256 keys
/// for ES256. Keys for encryption, of other kinds or algorithms, or unreadable, are skipped.
type Keys = (HashMap<String, Key>, Vec<Key>);

fn parse_jwks(text: &str) -> Result<Keys, String> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_str(text)
        .map_err(|e| format!("not a JWK set (a JSON object with \"keys\"): {e}"))?;
    let mut keys = HashMap::new();
    let mut anonymous = Vec::new();
    for value in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        match jwk.common.key_algorithm {
            None => {}
            Some(KeyAlgorithm::RS256) if alg == Algorithm::RS256 => {}
            Some(KeyAlgorithm::ES256) if alg == Algorithm::ES256 => {}
            Some(_) => continue,
        }
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let key = Key { alg, decoding };
        match jwk.common.key_id {
            Some(kid) => {
                keys.insert(kid, key);
            }
            None => anonymous.push(key),
        }
    }
    Ok((keys, anonymous))
}

/// The member a provider's token stands for: verifies it, then finds (or, the first time,
/// creates) the account, its shop and membership. Any verification failure is 401.
pub async fn authenticate(
    state: &ApiState,
    verifier: &OidcVerifier,
    token: &str,
) -> Result<AuthUser, ApiError> {
    let claims = match verifier.verify(token).await {
        Ok(c) => c,
        Err(e @ OidcError::Jwks { .. }) => {
            tracing::error!(error = %e, "external sign-in is configured but its keys cannot be read");
            return Err(ApiError::Unauthorized);
        }
        Err(e) => {
            tracing::debug!(error = %e, "external token refused");
            return Err(ApiError::Unauthorized);
        }
    };
    let user_id = match find_identity(state, &claims).await? {
        Some(id) => id,
        None => match create_account(state, verifier, &claims).await? {
            Some(id) => id,
            // Someone else's request made it at the same moment.
            None => find_identity(state, &claims)
                .await?
                .ok_or(ApiError::Unauthorized)?,
        },
    };
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_tenant(&mut tx, None, Some(user_id))
        .await
        .map_err(db)?;
    let membership = super::membership_of(&mut tx, user_id, None).await?;
    tx.commit().await.map_err(db)?;
    let Some((shop_id, role)) = membership else {
        return Err(ApiError::Forbidden(
            "this account is not a member of any shop; ask a shop's owner for an invite code"
                .into(),
        ));
    };
    Ok(AuthUser {
        user_id,
        shop_id,
        role,
        // External sessions live at the provider; there is no session row here to end.
        session_id: None,
    })
}

async fn find_identity(state: &ApiState, c: &ExternalClaims) -> Result<Option<Uuid>, ApiError> {
    sqlx::query_scalar(
        r#"select user_id from external_identity where issuer = $1 and subject = $2"#,
    )
    .bind(&c.iss)
    .bind(&c.sub)
    .fetch_optional(&state.owner)
    .await
    .map_err(db)
}

fn clip(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The name shown for a new account: `name`, else `preferred_username`, else `nickname`,
/// else the email's local part, else "Member".
fn display_name(c: &ExternalClaims) -> String {
    [&c.name, &c.preferred_username, &c.nickname]
        .into_iter()
        .flatten()
        .map(|s| clip(s, 120))
        .find(|s| !s.is_empty())
        .or_else(|| {
            c.email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(|s| clip(s, 120))
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "Member".into())
}

/// A unique address that can never receive mail (`.invalid` is reserved), for accounts
/// whose provider gave no usable email.
fn placeholder_email(c: &ExternalClaims) -> String {
    let digest = super::tokens::sha256_hex(&format!("{}\n{}", c.iss, c.sub));
    format!("external-{}@sign-in.invalid", &digest[..24])
}

/// Makes the account, its shop, the owner membership and the identity in one transaction.
/// `None` when the identity was made at the same moment by another request.
async fn create_account(
    state: &ApiState,
    verifier: &OidcVerifier,
    c: &ExternalClaims,
) -> Result<Option<Uuid>, ApiError> {
    let usable_email = c
        .email
        .as_deref()
        .filter(|_| c.email_verified != Some(false))
        .map(member::normalize_email)
        .filter(|e| member::validate_email("email", e).is_ok());
    let email = match usable_email {
        Some(e) => {
            let taken: bool = sqlx::query_scalar(
                r#"select exists (select from app_user where lower(email) = $1)"#,
            )
            .bind(&e)
            .fetch_one(&state.owner)
            .await
            .map_err(db)?;
            if taken {
                tracing::info!(
                    "external sign-in: the email of a new identity belongs to another account; not linked"
                );
                placeholder_email(c)
            } else {
                e
            }
        }
        None => placeholder_email(c),
    };
    let name = display_name(c);
    let shop_name = clip(&format!("{name}'s stall"), 120);
    let user_id = Uuid::now_v7();
    let shop_id = Uuid::now_v7();
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    tenancy::set_tenant(&mut tx, Some(shop_id), Some(user_id))
        .await
        .map_err(db)?;
    sqlx::query(
        r#"insert into app_user (id, email, display_name, password_hash) values ($1, $2, $3, $4)"#,
    )
    .bind(user_id)
    .bind(&email)
    .bind(&name)
    .bind(NO_PASSWORD)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        r#"insert into shop (id, name, currency, time_zone, tax_rate_bp, prices_include_tax)
           values ($1, $2, $3, $4, 0, true)"#,
    )
    .bind(shop_id)
    .bind(&shop_name)
    .bind(&verifier.settings.new_shop_currency)
    .bind(&verifier.settings.new_shop_time_zone)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(r#"insert into membership (shop_id, user_id, role) values ($1, $2, 'owner')"#)
        .bind(shop_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let made: Option<Uuid> = sqlx::query_scalar(
        r#"insert into external_identity (issuer, subject, user_id) values ($1, $2, $3)
           on conflict (issuer, subject) do nothing
           returning user_id"#,
    )
    .bind(&c.iss)
    .bind(&c.sub)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if made.is_none() {
        tx.rollback().await.map_err(db)?;
        return Ok(None);
    }
    tx.commit().await.map_err(db)?;
    tracing::info!(%user_id, %shop_id, issuer = %c.iss, "external sign-in: new account and shop");
    Ok(Some(user_id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(json: serde_json::Value) -> ExternalClaims {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn names_come_from_the_best_claim_available() {
        let c = claims(
            serde_json::json!({"iss": "i", "sub": "s", "name": "  Ada  ", "nickname": "ada"}),
        );
        assert_eq!(display_name(&c), "Ada");
        let c = claims(serde_json::json!({"iss": "i", "sub": "s", "email": "bo@example.com"}));
        assert_eq!(display_name(&c), "bo");
        let c = claims(serde_json::json!({"iss": "i", "sub": "s"}));
        assert_eq!(display_name(&c), "Member");
        let e = placeholder_email(&c);
        assert!(member::validate_email("email", &e).is_ok(), "{e}");
    }

    #[test]
    fn only_signing_keys_of_accepted_kinds_are_kept() {
        let text = r#"{"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "rsa", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
            {"kty": "weird", "kid": "x"}
        ]}"#;
        let (keys, anonymous) = parse_jwks(text).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["rsa"]);
        assert!(anonymous.is_empty());
        assert!(parse_jwks("[]").is_err());
    }
}
