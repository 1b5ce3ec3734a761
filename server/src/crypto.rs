//! Encryption at rest in the application (issue 7): the shop's legal name, tax id, legal
//! address and payment notes are sealed with XChaCha20-Poly1305 before they reach the
//! database, so a dump alone does not reveal them.
//!
//! - A sealed value is `enc:v1:<key id>:<base64url(24-byte nonce | ciphertext and tag)>`.
//!   The associated data binds it to its key id and its place (`shop/<id>/<column>`), so a
//!   value copied into another shop's row or another column does not open.
//! - The key ring comes from `PRINTSTALL_ENCRYPTION_KEYS` (`id:key,id:key`, each key 32
//!   bytes as 64 hex digits or base64); the **last** key seals, every key opens. To rotate:
//!   add a new key at the end, restart (the server re-seals every value under the newest key
//!   at start), or run `printstall rotate-keys`; drop an old key only after that.
//! - With no key configured (the embedded default) one is generated once into
//!   `$PRINTSTALL_DATA_DIR/encryption.keys` (same format, one key a line) and the server says
//!   so at start: back that file up apart from the database dumps.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::settings::Settings;

/// Every sealed value starts with this.
pub const PREFIX: &str = "enc:v1:";
/// The name of the generated key file in the data folder.
pub const KEY_FILE: &str = "encryption.keys";
/// The shop columns that hold sealed values.
pub const SHOP_SEALED_COLUMNS: [&str; 4] = ["legal_name", "tax_id", "address", "payment_notes"];

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "PRINTSTALL_ENCRYPTION_KEYS is not valid: {0}; write it as id:key pairs separated by commas, each key 32 bytes as 64 hex digits or base64 (e.g. `2026-01:<64 hex digits>`)"
    )]
    BadKeyList(String),
    #[error("cannot read or write the key file {path}: {detail}")]
    KeyFile { path: String, detail: String },
    #[error(
        "a stored value is sealed with the key `{0}`, which is not in the key ring; add that key back to PRINTSTALL_ENCRYPTION_KEYS (or the key file)"
    )]
    UnknownKey(String),
    #[error("a stored value is not a sealed value or was changed ({0})")]
    Corrupt(&'static str),
    #[error("database error while re-sealing: {0}")]
    Db(#[from] sqlx::Error),
}

/// Where the key ring came from, for the start-up message.
#[derive(Debug, Clone)]
pub enum KeySource {
    Configured,
    Generated(PathBuf),
    File(PathBuf),
}

#[derive(Clone)]
pub struct KeyRing {
    /// Oldest first; the last one seals.
    keys: Vec<(String, Key)>,
    source: KeySource,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("ids", &self.ids())
            .field("source", &self.source)
            .finish()
    }
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()?
    } else {
        STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .ok()?
    };
    bytes.try_into().ok()
}

impl KeyRing {
    /// Reads `id:key` pairs separated by commas or new lines (blank lines and `#` comments
    /// are skipped).
    pub fn parse(spec: &str, source: KeySource) -> Result<Self, CryptoError> {
        let mut keys: Vec<(String, Key)> = Vec::new();
        for item in spec.split([',', '\n']) {
            let item = item.trim();
            if item.is_empty() || item.starts_with('#') {
                continue;
            }
            let Some((id, key)) = item.split_once(':') else {
                return Err(CryptoError::BadKeyList(
                    "an entry has no `:` between its id and its key".into(),
                ));
            };
            let id = id.trim();
            if !valid_id(id) {
                return Err(CryptoError::BadKeyList(format!(
                    "the key id {id:?} must be 1 to 32 letters, digits, '-', '_' or '.'"
                )));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(CryptoError::BadKeyList(format!(
                    "the key id {id:?} is listed twice"
                )));
            }
            let Some(bytes) = decode_key(key.trim()) else {
                return Err(CryptoError::BadKeyList(format!(
                    "the key of {id:?} is not 32 bytes of hex or base64"
                )));
            };
            keys.push((id.to_owned(), Key::from(bytes)));
        }
        if keys.is_empty() {
            return Err(CryptoError::BadKeyList("it lists no key".into()));
        }
        Ok(Self { keys, source })
    }

    /// The configured ring, or the one kept in the data folder (made the first time).
    pub fn load(settings: &Settings) -> Result<Self, CryptoError> {
        match &settings.encryption_keys {
            Some(spec) => Self::parse(spec.expose(), KeySource::Configured),
            None => Self::load_or_create_file(&settings.data_dir.join(KEY_FILE)),
        }
    }

    fn load_or_create_file(path: &Path) -> Result<Self, CryptoError> {
        let fail = |e: std::io::Error| CryptoError::KeyFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => {
                return Self::parse(&text, KeySource::File(path.to_owned()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let id = format!("local-{}", &hex::encode(rand::random::<[u8; 4]>()));
        let line = format!("{id}:{}\n", hex::encode(rand::random::<[u8; 32]>()));
        write_private(path, &line).map_err(fail)?;
        Self::parse(&line, KeySource::Generated(path.to_owned()))
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> &str {
        self.keys.last().map_or("", |(id, _)| id.as_str())
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// One line for the start-up message.
    pub fn describe(&self) -> String {
        let n = self.keys.len();
        let current = self.current_id();
        match &self.source {
            KeySource::Configured => {
                format!("key `{current}` seals ({n} key(s) from PRINTSTALL_ENCRYPTION_KEYS)")
            }
            KeySource::Generated(p) => format!(
                "no PRINTSTALL_ENCRYPTION_KEYS set: generated key `{current}` into {}; back it up apart from the database",
                p.display()
            ),
            KeySource::File(p) => format!(
                "key `{current}` from {} (no PRINTSTALL_ENCRYPTION_KEYS set; back the file up apart from the database)",
                p.display()
            ),
        }
    }

    fn key(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, key)| key)
    }

    fn aad(id: &str, context: &str) -> Vec<u8> {
        format!("printstall/v1/{id}/{context}").into_bytes()
    }

    /// Seals `plaintext` under the newest key for the place `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let Some((id, key)) = self.keys.last() else {
            // `parse` refuses an empty ring, so this cannot happen.
            return String::new();
        };
        let nonce: [u8; NONCE_LEN] = rand::random();
        let cipher = XChaCha20Poly1305::new(key);
        let aad = Self::aad(id, context);
        // Encryption with a valid key and nonce length cannot fail for in-memory data.
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{id}:{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed for `context` by any key of the ring.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        let (id, body) = split_sealed(sealed).ok_or(CryptoError::Corrupt("no enc:v1 prefix"))?;
        let key = self
            .key(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Corrupt("not base64"))?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Corrupt("too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = Self::aad(id, context);
        let plain = XChaCha20Poly1305::new(key)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Corrupt("authentication failed"))?;
        String::from_utf8(plain).map_err(|_| CryptoError::Corrupt("not UTF-8"))
    }

    /// Whether a stored value should be sealed again under the newest key (an older key, or
    /// plaintext written before sealing existed).
    pub fn needs_reseal(&self, stored: &str) -> bool {
        match split_sealed(stored) {
            Some((id, _)) => id != self.current_id(),
            None => true,
        }
    }

    /// A stored value as plaintext: opened when sealed; returned as it is when it is
    /// plaintext from before sealing existed (the start-up re-seal removes those).
    pub fn open_stored(&self, stored: &str, context: &str) -> Result<String, CryptoError> {
        if stored.starts_with(PREFIX) {
            self.open(stored, context)
        } else {
            Ok(stored.to_owned())
        }
    }
}

fn split_sealed(value: &str) -> Option<(&str, &str)> {
    value.strip_prefix(PREFIX)?.split_once(':')
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text)
    }
}

/// Refuses a sync op that would store the shop's business details: the op log and the
/// merge cells keep op bodies as they came, in plaintext, so those details are set only
/// through `PUT /api/v1/shop/business`, which seals them.
pub fn refuse_plain_business(
    body: &printstall_core::sync::OpBody,
) -> Result<(), printstall_core::sync::Rejection> {
    use printstall_core::sync::{EntityKind, OpBody, RejectCode, Rejection};
    match body {
        OpBody::EntitySet(set)
            if set.entity == EntityKind::Shop
                && set.fields.keys().any(|k| k == "business" || k == "payment_notes") =>
        {
            Err(Rejection {
                code: RejectCode::Invalid,
                message: "the shop's business details are stored encrypted and cannot be set by sync; set them with PUT /api/v1/shop/business".into(),
                field: Some("business".into()),
            })
        }
        _ => Ok(()),
    }
}

/// Where a shop column's sealed value belongs (its associated data).
pub fn shop_context(shop_id: Uuid, column: &str) -> String {
    format!("shop/{shop_id}/{column}")
}

/// What [`reseal_all`] did.
#[derive(Debug, Default)]
pub struct Resealed {
    /// Values sealed again under the newest key.
    pub values: u64,
    /// Shops whose values could not be opened (a key missing from the ring, or a changed
    /// value), with the reason; their values are left as they were.
    pub failed: Vec<(Uuid, String)>,
}

/// Seals every shop business detail that is plaintext or sealed under an older key again
/// under the newest key, one shop per transaction (its row locked). A shop whose values do
/// not open is reported and skipped. Safe to run from several processes at once.
pub async fn reseal_all(pool: &PgPool, ring: &KeyRing) -> Result<Resealed, CryptoError> {
    let current = format!("{PREFIX}{}:%", ring.current_id());
    let ids: Vec<Uuid> = sqlx::query_scalar(
        r#"select id from shop
           where (legal_name is not null and legal_name not like $1)
              or (tax_id is not null and tax_id not like $1)
              or (address is not null and address not like $1)
              or (payment_notes is not null and payment_notes not like $1)"#,
    )
    .bind(&current)
    .fetch_all(pool)
    .await?;
    let mut done = Resealed::default();
    for shop_id in ids {
        match reseal_shop(pool, ring, shop_id).await {
            Ok(n) => done.values += n,
            Err(CryptoError::Db(e)) => return Err(CryptoError::Db(e)),
            Err(e) => {
                tracing::error!(shop = %shop_id, error = %e, "a shop's business details cannot be sealed again");
                done.failed.push((shop_id, e.to_string()));
            }
        }
    }
    Ok(done)
}

async fn reseal_shop(pool: &PgPool, ring: &KeyRing, shop_id: Uuid) -> Result<u64, CryptoError> {
    let mut tx = crate::db::begin(pool).await?;
    // Forced row-level security binds the owner connection too unless it is a superuser.
    crate::tenancy::set_tenant(&mut tx, Some(shop_id), None).await?;
    let row = sqlx::query(
        r#"select legal_name, tax_id, address, payment_notes from shop where id = $1 for update"#,
    )
    .bind(shop_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(0) };
    let mut changed = 0;
    let mut values: Vec<Option<String>> = Vec::with_capacity(4);
    for column in SHOP_SEALED_COLUMNS {
        let stored: Option<String> = row.get(column);
        let value = match stored {
            Some(s) if ring.needs_reseal(&s) => {
                let context = shop_context(shop_id, column);
                let plain = ring.open_stored(&s, &context)?;
                changed += 1;
                Some(ring.seal(&plain, &context))
            }
            other => other,
        };
        values.push(value);
    }
    sqlx::query(
        r#"update shop set legal_name = $2, tax_id = $3, address = $4, payment_notes = $5
           where id = $1"#,
    )
    .bind(shop_id)
    .bind(&values[0])
    .bind(&values[1])
    .bind(&values[2])
    .bind(&values[3])
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const A: &str = "0000000000000000000000000000000000000000000000000000000000000001";
    const B: &str = "0000000000000000000000000000000000000000000000000000000000000002";

    fn ring(spec: &str) -> KeyRing {
        KeyRing::parse(spec, KeySource::Configured).unwrap()
    }

    #[test]
    fn seals_and_opens_with_the_newest_key() {
        let r = ring(&format!("old:{A},new:{B}"));
        let sealed = r.seal("DE123456789", "shop/x/tax_id");
        assert!(sealed.starts_with("enc:v1:new:"), "{sealed}");
        assert!(!sealed.contains("DE123456789"));
        assert_eq!(r.open(&sealed, "shop/x/tax_id").unwrap(), "DE123456789");
        // Another place does not open it.
        assert!(r.open(&sealed, "shop/y/tax_id").is_err());
        assert!(r.open(&sealed, "shop/x/address").is_err());
    }

    #[test]
    fn old_keys_open_and_are_resealed() {
        let old = ring(&format!("old:{A}"));
        let sealed = old.seal("Hauptstr. 1", "c");
        let both = ring(&format!("old:{A},new:{B}"));
        assert!(both.needs_reseal(&sealed));
        assert_eq!(both.open(&sealed, "c").unwrap(), "Hauptstr. 1");
        let new_only = ring(&format!("new:{B}"));
        assert!(matches!(
            new_only.open(&sealed, "c"),
            Err(CryptoError::UnknownKey(id)) if id == "old"
        ));
        assert!(!both.needs_reseal(&both.seal("x", "c")));
        assert!(both.needs_reseal("plaintext from before"));
    }

    #[test]
    fn a_changed_value_does_not_open() {
        let r = ring(&format!("k:{A}"));
        let sealed = r.seal("secret", "c");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(r.open(&tampered, "c").is_err());
        // The key id is bound too: relabelling the value does not open it.
        let relabelled = sealed.replacen("enc:v1:k:", "enc:v1:j:", 1);
        let two = ring(&format!("k:{A},j:{A}"));
        assert!(two.open(&relabelled, "c").is_err());
    }

    #[test]
    fn refuses_bad_key_lists_with_a_clear_message() {
        for bad in [
            "",
            "nokey",
            "a:short",
            &format!("a:{A},a:{B}"),
            &format!("bad id:{A}"),
        ] {
            let e = KeyRing::parse(bad, KeySource::Configured).unwrap_err();
            assert!(
                e.to_string().contains("PRINTSTALL_ENCRYPTION_KEYS"),
                "{bad:?}: {e}"
            );
        }
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(ring(&format!("b:{b64}")).current_id(), "b");
    }

    #[test]
    fn generates_a_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE);
        let first = KeyRing::load_or_create_file(&path).unwrap();
        assert!(matches!(first.source(), KeySource::Generated(_)));
        let again = KeyRing::load_or_create_file(&path).unwrap();
        assert!(matches!(again.source(), KeySource::File(_)));
        assert_eq!(first.current_id(), again.current_id());
        let sealed = first.seal("x", "c");
        assert_eq!(again.open(&sealed, "c").unwrap(), "x");
    }
}
