//! Users, their membership of a shop, roles and what each role may do.

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{ShopId, UserId};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A user account (the password hash stays on the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Email, stored lower-case; unique.
    pub email: String,
    /// Name shown to other members.
    pub display_name: String,
}

/// Input to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Email.
    pub email: String,
    /// Name shown to other members.
    pub display_name: String,
    /// Password in clear (hashed by the server, never stored).
    pub password: String,
}

impl NewUser {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        validate_email("email", &self.email)?;
        v::required_text("display_name", &self.display_name, max_len::NAME)?;
        validate_password("password", &self.password)
    }
}

/// The canonical form of an email: trimmed and lower-case (emails are unique case-insensitively).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An email of the shape `local@domain.tld`.
pub fn validate_email(field: &str, email: &str) -> Valid {
    v::required_text(field, email, max_len::EMAIL)?;
    let e = email.trim();
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "is not an email address; enter one like name@example.com",
        ))
    }
}

/// A password between [`MIN_PASSWORD_CHARS`] and [`MAX_PASSWORD_CHARS`] characters.
pub fn validate_password(field: &str, password: &str) -> Valid {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            field,
            format!(
                "is too short; use at least {MIN_PASSWORD_CHARS} characters (a few words work well)"
            ),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(ValidationError::new(
            field,
            format!("is too long; use at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A user's role in a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the shop: may do everything.
    Owner,
    /// A helper at the stall or the printers.
    Seller,
}

/// A user's membership of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The user.
    pub user_id: UserId,
    /// The shop.
    pub shop_id: ShopId,
    /// Their role there.
    pub role: Role,
}

/// Something a member may try to do. The server checks every request and op with [`can`];
/// the PWA uses the same rule to hide what a member may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read anything of the shop: lists, search, details.
    LookUp,
    /// Scan a barcode, QR code or NFC tag to find a thing.
    Scan,
    /// Record a sale.
    Sell,
    /// Void a recorded sale (a correction that undoes its stock effect).
    VoidSale,
    /// Adjust or count stock; record filament use or weigh a spool.
    AdjustStock,
    /// Start, pause, resume, finish, fail or cancel a print job.
    MovePrintJob,
    /// Create or edit print jobs and their place in the queue.
    PlanPrintJobs,
    /// Create or edit models, variants, filaments, spools, products, printers, events.
    EditCatalogue,
    /// Change prices, costs or the shop's tax settings.
    EditPrices,
    /// Delete or undelete anything.
    Delete,
    /// Export data.
    Export,
    /// Invite, remove or change members.
    ManageMembers,
    /// Change the shop's settings.
    ManageShop,
}

/// Whether `role` may do `action`.
///
/// Sellers may look up, scan, sell, adjust stock and move print jobs along; they cannot
/// change the catalogue or prices, plan jobs, void sales, delete, export or manage members.
/// Voiding is owner-only because a void takes money out of the books.
pub fn can(role: Role, action: Action) -> bool {
    match role {
        Role::Owner => true,
        Role::Seller => matches!(
            action,
            Action::LookUp
                | Action::Scan
                | Action::Sell
                | Action::AdjustStock
                | Action::MovePrintJob
        ),
    }
}

/// Why a member may not do something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("a {role:?} may not {action:?}; ask the shop's owner")]
pub struct Forbidden {
    /// The member's role.
    pub role: Role,
    /// What they tried.
    pub action: Action,
}

/// [`can`] as a `Result`.
pub fn require(role: Role, action: Action) -> Result<(), Forbidden> {
    if can(role, action) {
        Ok(())
    } else {
        Err(Forbidden { role, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seller_permissions() {
        for a in [
            Action::LookUp,
            Action::Scan,
            Action::Sell,
            Action::AdjustStock,
            Action::MovePrintJob,
        ] {
            assert!(can(Role::Seller, a), "{a:?}");
        }
        for a in [
            Action::EditCatalogue,
            Action::EditPrices,
            Action::Delete,
            Action::Export,
            Action::ManageMembers,
            Action::ManageShop,
            Action::VoidSale,
            Action::PlanPrintJobs,
        ] {
            assert!(!can(Role::Seller, a), "{a:?}");
            assert!(can(Role::Owner, a), "{a:?}");
        }
        assert!(require(Role::Seller, Action::Delete).is_err());
    }

    #[test]
    fn user_checks() {
        let ok = NewUser {
            email: "a@b.de".into(),
            display_name: "Ann".into(),
            password: "correct horse".into(),
        };
        assert!(ok.validate().is_ok());
        let bad = NewUser {
            email: "a@b".into(),
            ..ok.clone()
        };
        assert_eq!(bad.validate().err().map(|e| e.field), Some("email".into()));
        let short = NewUser {
            password: "short".into(),
            ..ok
        };
        assert_eq!(
            short.validate().err().map(|e| e.field),
            Some("password".into())
        );
        assert_eq!(normalize_email(" Ann@Example.COM "), "ann@example.com");
    }
}
