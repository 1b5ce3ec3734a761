//! The text of every message PrintStall sends: plain text, short, saying what to do next.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// A message: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc2822).unwrap_or_else(|_| t.to_string())
}

/// An invitation to join `shop` as a seller with `code`.
pub fn invitation(
    public_url: &str,
    shop: &str,
    inviter: &str,
    code: &str,
    expires_at: OffsetDateTime,
) -> Text {
    Text {
        subject: format!("{inviter} invites you to {shop} on PrintStall"),
        body: format!(
            "Hello,\n\n\
             {inviter} invites you to help at {shop} as a seller on PrintStall.\n\n\
             Your invite code: {code}\n\n\
             Open {public_url}/ , choose \"Join a shop\" and type the code with your email and\n\
             a password of your choice (or the password of the PrintStall account you already have).\n\
             The code works once, until {}.\n\n\
             If you did not expect this, ignore this message.\n",
            when(expires_at)
        ),
    }
}

/// A link to set a new password; `token` is the single-use secret.
pub fn password_reset(public_url: &str, token: &str, valid_minutes: i64) -> Text {
    Text {
        subject: "Set a new PrintStall password".into(),
        body: format!(
            "Hello,\n\n\
             Someone (hopefully you) asked to set a new password for this PrintStall account.\n\
             Open this link within {valid_minutes} minutes to choose one; it works once:\n\n\
             {public_url}/reset-password#token={token}\n\n\
             Setting a new password signs out every device. If you did not ask for this,\n\
             ignore this message: your password stays as it is.\n"
        ),
    }
}

/// A product at or below its alert level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowProduct {
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    pub threshold: i64,
}

/// A filament whose spools hold less than the shop's digest threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowFilament {
    pub label: String,
    pub left_cg: i64,
    pub spools: i64,
}

fn grams(cg: i64) -> String {
    let g = cg / 100;
    let rest = (cg % 100).abs();
    if rest == 0 {
        format!("{g} g")
    } else {
        format!("{g}.{rest:02} g")
    }
}

/// The digest of what is running low at `shop`.
pub fn digest(
    public_url: &str,
    shop: &str,
    products: &[LowProduct],
    filaments: &[LowFilament],
    low_filament_cg: i64,
) -> Text {
    let mut body = format!("What is running low at {shop}:\n\n");
    if !products.is_empty() {
        body.push_str(&format!(
            "Products at or below their alert level ({}):\n",
            products.len()
        ));
        for p in products {
            body.push_str(&format!(
                "  - {} {}: {} on hand (alert at {})\n",
                p.sku, p.name, p.on_hand, p.threshold
            ));
        }
        body.push('\n');
    }
    if !filaments.is_empty() {
        body.push_str(&format!(
            "Filaments with less than {} left ({}):\n",
            grams(low_filament_cg),
            filaments.len()
        ));
        for f in filaments {
            body.push_str(&format!(
                "  - {}: {} left on {} spool{}\n",
                f.label,
                grams(f.left_cg),
                f.spools,
                if f.spools == 1 { "" } else { "s" }
            ));
        }
        body.push('\n');
    }
    body.push_str(&format!(
        "Open {public_url}/ to plan prints or restock. The shop's owner can switch this digest\n\
         off in the shop's settings (PUT /api/v1/shop/digest).\n"
    ));
    Text {
        subject: format!(
            "PrintStall: {} product{} and {} filament{} running low at {shop}",
            products.len(),
            if products.len() == 1 { "" } else { "s" },
            filaments.len(),
            if filaments.len() == 1 { "" } else { "s" },
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_lists_each_low_thing() {
        let t = digest(
            "https://stall.example",
            "Rex & Co",
            &[LowProduct {
                sku: "REX-L".into(),
                name: "Flexi Rex L".into(),
                on_hand: 1,
                threshold: 3,
            }],
            &[LowFilament {
                label: "Prusament PLA Galaxy Black".into(),
                left_cg: 12050,
                spools: 1,
            }],
            25000,
        );
        assert_eq!(
            t.subject,
            "PrintStall: 1 product and 1 filament running low at Rex & Co"
        );
        assert!(
            t.body.contains("REX-L Flexi Rex L: 1 on hand (alert at 3)"),
            "{}",
            t.body
        );
        assert!(
            t.body
                .contains("Prusament PLA Galaxy Black: 120.50 g left on 1 spool"),
            "{}",
            t.body
        );
        assert!(t.body.contains("less than 250 g left"), "{}", t.body);
    }

    #[test]
    fn the_reset_link_carries_the_token_in_the_fragment() {
        let t = password_reset("https://stall.example", "abc", 60);
        assert!(
            t.body
                .contains("https://stall.example/reset-password#token=abc")
        );
    }
}
