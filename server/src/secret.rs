//! A string that never shows itself in logs or `Debug` output.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"****\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A URL with every password replaced by `****`, for printing: the one in `user:password@`
/// and any query parameter whose name ends in `password` (`?password=...`, libpq's
/// `sslpassword`), in any case. Over-masks rather than leaks: an `@` anywhere makes what
/// stands before the last one the user information.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return mask_query_passwords(url);
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return format!("{scheme}://{}", mask_query_passwords(rest));
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:****"),
        None => userinfo.to_owned(),
    };
    format!("{scheme}://{user}@{}", mask_query_passwords(host))
}

/// `path?a=1&password=x` -> `path?a=1&password=****`.
fn mask_query_passwords(text: &str) -> String {
    let Some((path, query)) = text.split_once('?') else {
        return text.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().ends_with("password") => {
                format!("{key}=****")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "\"****\"");
    }

    #[test]
    fn masks_passwords_in_urls() {
        assert_eq!(
            mask_url_password("postgres://me:pw@db:5432/x"),
            "postgres://me:****@db:5432/x"
        );
        assert_eq!(
            mask_url_password("postgres://me@/x?host=/tmp"),
            "postgres://me@/x?host=/tmp"
        );
    }

    #[test]
    fn masks_passwords_in_the_query_string() {
        assert_eq!(
            mask_url_password("postgres://me@db/x?password=hunter2&sslmode=require"),
            "postgres://me@db/x?password=****&sslmode=require"
        );
        assert_eq!(
            mask_url_password("postgres://db/x?user=me&PASSWORD=hunter2"),
            "postgres://db/x?user=me&PASSWORD=****"
        );
        assert_eq!(
            mask_url_password("postgresql:///x?host=/tmp&sslpassword=hunter2"),
            "postgresql:///x?host=/tmp&sslpassword=****"
        );
        // Both at once, and a password holding `@`, `?` and `&`.
        let both = mask_url_password("postgres://me:p@ss?w&rd@db:5432/x?password=hunter2");
        assert_eq!(both, "postgres://me:****@db:5432/x?password=****");
        for url in [
            "postgres://me@db/x?password=hunter2",
            "postgres://me:hunter2@db/x?password=hunter2",
            "postgres://me:hunter2@db/x?application_name=a&password=hunter2#frag",
            "postgres://db/x?password=hunter2",
            "db/x?password=hunter2",
        ] {
            assert!(!mask_url_password(url).contains("hunter2"), "{url}");
        }
        // Parameters that only look alike are kept.
        assert_eq!(
            mask_url_password("postgres://me@db/x?passwordless=1&user=password"),
            "postgres://me@db/x?passwordless=1&user=password"
        );
    }
}
