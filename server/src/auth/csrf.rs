//! Cross-site request forgery: only `/auth/refresh` and `/auth/sign-out` authenticate by
//! cookie (the refresh cookie, `SameSite=Strict`, scoped to `/api/v1/auth`); every other
//! endpoint needs the bearer token, which a forged request cannot carry. As a second line
//! behind `SameSite`, those two refuse a browser request that says it comes from another
//! site: `Sec-Fetch-Site: cross-site`, or an `Origin` whose host is not the one asked
//! (`Host`, or `X-Forwarded-Host` behind a proxy). Clients that send neither header (not
//! browsers) are not a forgery risk and pass.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

fn refused() -> ApiError {
    ApiError::Forbidden(
        "this request came from another site; open PrintStall itself to sign in again".into(),
    )
}

pub fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Err(refused());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| refused())?;
    // `scheme://host[:port]`; "null" (sandboxed frames, file:) has no host.
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .ok_or_else(refused)?;
    let asked = [text("x-forwarded-host"), text(header::HOST.as_str())];
    if asked.into_iter().flatten().any(|h| {
        h.split(',')
            .any(|h| h.trim().eq_ignore_ascii_case(origin_host))
    }) {
        Ok(())
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_site_requests_pass_and_cross_site_ones_are_refused() {
        assert!(same_origin(&headers(&[])).is_ok());
        assert!(
            same_origin(&headers(&[
                ("host", "stall.example:8080"),
                ("origin", "https://stall.example:8080")
            ]))
            .is_ok()
        );
        assert!(
            same_origin(&headers(&[
                ("host", "stall.example"),
                ("origin", "https://evil.example")
            ]))
            .is_err()
        );
        assert!(same_origin(&headers(&[("host", "stall.example"), ("origin", "null")])).is_err());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(
            same_origin(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("x-forwarded-host", "stall.example"),
                ("origin", "https://stall.example")
            ]))
            .is_ok()
        );
    }
}
