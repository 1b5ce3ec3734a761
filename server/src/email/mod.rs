//! Outgoing mail over SMTP (`lettre`): invitations, password resets and the owner's
//! low-stock and low-filament digest. Configured with `SMTP_HOST`, `SMTP_FROM` and friends;
//! without them email is off, the endpoints that would send mail say so, and invite codes
//! still work when handed over in person.

pub mod digest;
pub mod messages;

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::settings::{SmtpSettings, SmtpTls};

/// What the API says when a feature needs mail and there is none.
pub const EMAIL_OFF: &str =
    "email is off on this server (no SMTP server is configured: SMTP_HOST and SMTP_FROM)";

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("the SMTP settings cannot be used: {0}")]
    Config(String),
    #[error("{address:?} is not an email address")]
    Address { address: String },
    #[error("the message cannot be built: {0}")]
    Build(String),
    #[error("the SMTP server did not take the message: {0}")]
    Send(String),
}

/// Sends plain-text messages through the configured SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// How people reach this server (links in messages start with it).
    public_url: String,
    describe: String,
}

impl Mailer {
    pub fn new(smtp: &SmtpSettings, public_url: &str) -> Result<Self, EmailError> {
        let from: Mailbox = smtp.from.parse().map_err(|_| EmailError::Address {
            address: smtp.from.clone(),
        })?;
        let builder = match smtp.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| EmailError::Config(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| EmailError::Config(e.to_string()))?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let tls = match smtp.tls {
            SmtpTls::StartTls => "STARTTLS",
            SmtpTls::Tls => "TLS",
            SmtpTls::None => "no TLS",
        };
        Ok(Self {
            transport: builder.build(),
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
            describe: format!(
                "SMTP {}:{} ({tls}), from {}",
                smtp.host, smtp.port, smtp.from
            ),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Sends one plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), EmailError> {
        let to: Mailbox = to.parse().map_err(|_| EmailError::Address {
            address: to.to_owned(),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| EmailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| EmailError::Send(e.to_string()))
    }
}

/// Whether mail can reach `address` at all: the placeholder addresses of accounts made by
/// external sign-in without an email end in the reserved `.invalid` domain.
pub fn deliverable(address: &str) -> bool {
    !address.trim().to_ascii_lowercase().ends_with(".invalid")
}
