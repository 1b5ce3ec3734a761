//! Logs and error reports: `tracing` to stderr as text or JSON (`PRINTSTALL_LOG_FORMAT=json`;
//! each request's span carries its `request_id`, and `user_id` once signed in), and, when
//! `SENTRY_DSN` is set, errors and panics reported to Sentry with the member's user id and
//! nothing else about them: no emails, addresses, cookies, tokens or request bodies.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::secret::Secret;

/// Sets up logging (and the Sentry layer, inert without a client). Call once, first.
pub fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,aws=warn,hyper=warn"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        fmt.boxed()
    };
    // Errors become Sentry events, the info and warnings before them breadcrumbs (both are
    // inert while no Sentry client is bound).
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(sentry::integrations::tracing::ErrorLayer::new().with_filter(LevelFilter::ERROR))
        .with(sentry::integrations::tracing::BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
        .try_init();
}

/// Starts the Sentry client when a DSN is configured; keep the guard until exit (it
/// flushes the reports still queued).
pub fn init_sentry(dsn: Option<&Secret>) -> Option<sentry::ClientInitGuard> {
    let dsn = dsn?;
    // reqwest's TLS uses the process's rustls provider: ring, as sqlx does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dsn = match dsn.expose().parse::<sentry::types::Dsn>() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "SENTRY_DSN is not a valid DSN; errors are not reported");
            return None;
        }
    };
    // `send_default_pii` stays false (the default): no addresses, cookies or headers.
    let mut options = sentry::ClientOptions::new()
        .maybe_release(sentry::release_name!())
        .before_send(|event| Some(scrub(event)));
    options.dsn = Some(dsn);
    let guard = sentry::init(options);
    tracing::info!("errors are reported to Sentry");
    Some(guard)
}

/// Keeps only the user's id, and drops request headers, cookies and bodies.
pub fn scrub(mut event: sentry::protocol::Event<'static>) -> sentry::protocol::Event<'static> {
    if let Some(user) = &mut event.user {
        *user = sentry::User {
            id: user.id.take(),
            ..Default::default()
        };
    }
    if let Some(request) = &mut event.request {
        request.headers.clear();
        request.cookies = None;
        request.data = None;
        request.env.clear();
        if let Some(url) = &mut request.url {
            url.set_query(None);
        }
        request.query_string = None;
    }
    event.server_name = None;
    event
}

/// Names the member in the reports of this request (its Sentry hub is the request's own).
pub fn set_user(user_id: uuid::Uuid) {
    sentry::configure_scope(|scope| {
        scope.set_user(Some(sentry::User {
            id: Some(user_id.to_string()),
            ..Default::default()
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_keep_the_user_id_and_nothing_secret() {
        let mut event = sentry::protocol::Event {
            user: Some(sentry::User {
                id: Some("u1".into()),
                email: Some("a@example.com".into()),
                ip_address: Some(sentry::protocol::IpAddress::Auto),
                ..Default::default()
            }),
            request: Some(sentry::protocol::Request {
                headers: [("Authorization".to_owned(), "Bearer secret".to_owned())]
                    .into_iter()
                    .collect(),
                cookies: Some("printstall_refresh=secret".into()),
                query_string: Some("access_token=secret".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.server_name = Some("host".into());
        let clean = scrub(event);
        let text = format!("{clean:?}");
        assert!(
            !text.contains("secret") && !text.contains("a@example.com"),
            "{text}"
        );
        assert_eq!(clean.user.and_then(|u| u.id).as_deref(), Some("u1"));
    }
}
