//! Security headers on every answer: a strict Content-Security-Policy that still lets the
//! WebAssembly app run (`script-src 'self' 'wasm-unsafe-eval'`; no `unsafe-eval`, no
//! `unsafe-inline`), `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old
//! browsers), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and HSTS
//! when the server is reached over TLS (`PRINTSTALL_HSTS`, on by default when
//! `PRINTSTALL_PUBLIC_URL` is https).
//!
//! The file store's signed URLs may be on another origin (S3): the app uploads to them
//! (`connect-src`) and shows thumbnails from them (`img-src`), so that origin is allowed too.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::settings::{Settings, StorageSettings};

/// The header values, computed once from the settings.
#[derive(Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    hsts: bool,
}

/// `scheme://host[:port]` of a URL, or `None`.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains(['\'', ';', ' ', ',']) {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

/// The origins of the file store's signed URLs, when they are not the server's own.
fn storage_origins(settings: &Settings) -> Vec<String> {
    match &settings.storage {
        StorageSettings::Local { .. } => settings
            .public_url
            .as_deref()
            .and_then(origin)
            .into_iter()
            .collect(),
        StorageSettings::S3(s3) => {
            let mut out: Vec<String> = origin(&s3.endpoint).into_iter().collect();
            if !s3.path_style
                && let Some((scheme, host)) = s3.endpoint.split_once("://")
                && let Some(v) = origin(&format!("{scheme}://{}.{host}", s3.bucket))
            {
                out.push(v);
            }
            out
        }
    }
}

/// The Content-Security-Policy for `settings`.
pub fn content_security_policy(settings: &Settings) -> String {
    let extra = storage_origins(settings).join(" ");
    let with = |base: &str| {
        if extra.is_empty() {
            base.to_owned()
        } else {
            format!("{base} {extra}")
        }
    };
    [
        "default-src 'self'".to_owned(),
        "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
        "style-src 'self'".to_owned(),
        // Style attributes only (a bar's width, a swatch's colour): they cannot run code.
        // <style> elements and style sheets from elsewhere stay refused.
        "style-src-attr 'unsafe-inline'".to_owned(),
        with("img-src 'self' data: blob:"),
        with("connect-src 'self'"),
        "font-src 'self'".to_owned(),
        "worker-src 'self'".to_owned(),
        "manifest-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

impl SecurityHeaders {
    pub fn new(settings: &Settings) -> Arc<Self> {
        let csp = HeaderValue::from_str(&content_security_policy(settings)).unwrap_or_else(|_| {
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
        });
        Arc::new(Self {
            csp,
            hsts: settings.hsts,
        })
    }
}

/// Middleware: adds the headers to every answer that does not set them itself.
pub async fn add(
    State(headers): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: HeaderValue| {
        if !h.contains_key(&name) {
            h.insert(name, value);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, headers.csp.clone());
    set(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if headers.hsts {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let values: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_values(&values).unwrap()
    }

    #[test]
    fn the_policy_allows_wasm_but_no_inline_or_eval() {
        let csp = content_security_policy(&settings(&[]));
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        // Inline code never; inline style attributes only (`style-src-attr`).
        let without_attr = csp.replace("style-src-attr 'unsafe-inline'", "");
        assert!(
            !csp.contains("'unsafe-eval'") && !without_attr.contains("'unsafe-inline'"),
            "{csp}"
        );
        assert!(csp.contains("style-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }

    #[test]
    fn the_file_store_origin_is_allowed_for_uploads_and_thumbnails() {
        let csp = content_security_policy(&settings(&[
            ("S3_ENDPOINT", "https://s3.eu-west-1.amazonaws.com"),
            ("S3_BUCKET", "stall-files"),
            ("S3_ACCESS_KEY_ID", "AK"),
            ("S3_SECRET_ACCESS_KEY", "SK"),
        ]));
        assert!(
            csp.contains("connect-src 'self' https://s3.eu-west-1.amazonaws.com https://stall-files.s3.eu-west-1.amazonaws.com"),
            "{csp}"
        );
        assert!(
            csp.contains("img-src 'self' data: blob: https://s3"),
            "{csp}"
        );
    }
}
