//! Signatures for the local store's URLs: HMAC-SHA256 over method, key and expiry.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("this link has expired; ask the app for a new one")]
    Expired,
    #[error("this link is not valid for this file")]
    Invalid,
}

#[derive(Debug, Clone)]
pub struct UrlSigner {
    key: Secret,
}

impl UrlSigner {
    pub fn new(key: Secret) -> Self {
        Self { key }
    }

    fn mac(&self, method: &str, key: &str, expires_unix: i64) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(self.key.expose().as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable_mac(),
        };
        mac.update(method.as_bytes());
        mac.update(b"\n");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires_unix.to_string().as_bytes());
        mac
    }

    pub fn sign(&self, method: &str, key: &str, expires_unix: i64) -> String {
        hex::encode(self.mac(method, key, expires_unix).finalize().into_bytes())
    }

    pub fn verify(
        &self,
        method: &str,
        key: &str,
        expires_unix: i64,
        signature_hex: &str,
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let signature = hex::decode(signature_hex).map_err(|_| SignatureError::Invalid)?;
        self.mac(method, key, expires_unix)
            .verify_slice(&signature)
            .map_err(|_| SignatureError::Invalid)?;
        if now_unix > expires_unix {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

fn unreachable_mac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size keys, which SHA-256 HMAC does not have.
    panic!("HMAC-SHA256 accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_its_own_signature_until_expiry() {
        let s = UrlSigner::new(Secret::new("k"));
        let sig = s.sign("GET", "shops/a/f", 100);
        assert_eq!(s.verify("GET", "shops/a/f", 100, &sig, 99), Ok(()));
        assert_eq!(
            s.verify("GET", "shops/a/f", 100, &sig, 101),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn refuses_any_tampering() {
        let s = UrlSigner::new(Secret::new("k"));
        let sig = s.sign("GET", "shops/a/f", 100);
        let bad = SignatureError::Invalid;
        assert_eq!(s.verify("PUT", "shops/a/f", 100, &sig, 0), Err(bad.clone()));
        assert_eq!(s.verify("GET", "shops/b/f", 100, &sig, 0), Err(bad.clone()));
        assert_eq!(
            s.verify("GET", "shops/a/f", 1000, &sig, 0),
            Err(bad.clone())
        );
        assert_eq!(s.verify("GET", "shops/a/f", 100, "zz", 0), Err(bad.clone()));
        let other = UrlSigner::new(Secret::new("other"));
        assert_eq!(other.verify("GET", "shops/a/f", 100, &sig, 0), Err(bad));
    }
}
