//! Access tokens (JWT, HS256, 15 minutes), refresh tokens (random, stored as SHA-256,
//! 30 days), password hashes (argon2id) and invite codes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use printstall_core::domain::member::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::secret::Secret;

pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;
pub const INVITE_TTL_DAYS: i64 = 7;

/// The keys that sign and check access tokens.
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl AuthKeys {
    pub fn new(secret: &Secret) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
        }
    }

    /// An access token of `session` (the refresh-token family it was issued from).
    pub fn issue(
        &self,
        user_id: Uuid,
        shop_id: Uuid,
        role: Role,
        session: Uuid,
    ) -> Result<String, String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: user_id,
            shop: shop_id,
            role,
            iat: now,
            exp: now + ACCESS_TTL_SECONDS,
            typ: "access".into(),
            sid: Some(session),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    pub fn check(&self, token: &str) -> Option<Claims> {
        // Only HS256 with this key: `alg: none` and other algorithms are refused, and so are
        // tokens without an expiry.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == "access").then_some(data.claims)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub shop: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub typ: String,
    /// The session (refresh-token family); revoking it refuses its access tokens at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// A new random token (256 bits, URL-safe) and the hash stored for it.
pub fn new_refresh_token() -> (String, String) {
    use base64::Engine;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = sha256_hex(&token);
    (token, hash)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A one-time invite code: 12 characters without look-alikes (about 60 bits), shown as
/// `XXXX-XXXX-XXXX`. Only its hash is stored.
pub fn new_invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = rand::random::<[u8; 12]>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a code as typed: upper-case, dashes and spaces ignored.
pub fn invite_code_hash(code: &str) -> String {
    let canonical: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(&canonical)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes); runs on a blocking thread.
pub async fn hash_password(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let salt =
            SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn access_tokens_round_trip_and_reject_other_keys() {
        let keys = AuthKeys::new(&Secret::new("k1"));
        let user = Uuid::now_v7();
        let shop = Uuid::now_v7();
        let token = keys
            .issue(user, shop, Role::Seller, Uuid::now_v7())
            .unwrap();
        let claims = keys.check(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.shop, claims.role),
            (user, shop, Role::Seller)
        );
        assert!(AuthKeys::new(&Secret::new("k2")).check(&token).is_none());
    }

    #[test]
    fn invite_codes_hash_as_typed() {
        let code = new_invite_code();
        assert_eq!(code.len(), 14);
        assert_eq!(
            invite_code_hash(&code),
            invite_code_hash(&code.to_lowercase().replace('-', " "))
        );
    }
}
