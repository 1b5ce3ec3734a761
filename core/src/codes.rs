//! What a scanned or typed code means: which product or spool it names.
//!
//! Codes come from the camera (QR, EAN-13, UPC-A, Code 128) or a keyboard and are
//! resolved the same way, here, so the app and any future server lookup agree:
//! - our own labels: `PS1:P:<uuid>` (a product) and `PS1:S:<uuid>` (a spool), see
//!   [`product_payload`] and [`spool_payload`];
//! - Spoolman's labels: `WEB+SPOOLMAN:S-<id>` and `http(s)://host[/base]/spool/show/<id>`.
//!   `<id>` is matched against a spool's `spoolman_id` (set by an import from Spoolman);
//!   when no spool carries that id and `<id>` is a UUID, it is matched against our own
//!   spool id (our labels can use Spoolman's form, which Spoolman-aware tools understand);
//! - a bare UUID: a product's or spool's id;
//! - anything else: a product's barcode or SKU, or a spool's barcode or NFC tag id.
//!   Barcodes compare digit-exactly, except that a UPC-A (12 digits) equals the EAN-13
//!   with a leading 0; SKUs compare without regard to case.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{ProductId, SpoolId};
use crate::sync::{EntityKind, State};

/// Prefix of the payload of our own labels.
pub const PAYLOAD_PREFIX: &str = "PS1:";

/// The QR payload of a product's label.
/// (Upper case, so the QR code uses its compact alphanumeric mode.)
pub fn product_payload(id: ProductId) -> String {
    format!("{PAYLOAD_PREFIX}P:{}", upper(id.0))
}

fn upper(id: Uuid) -> String {
    id.hyphenated()
        .encode_upper(&mut Uuid::encode_buffer())
        .to_owned()
}

/// The QR payload of a spool's label.
pub fn spool_payload(id: SpoolId) -> String {
    format!("{PAYLOAD_PREFIX}S:{}", upper(id.0))
}

/// What a code says, before it is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Our product label.
    Product(ProductId),
    /// Our spool label.
    Spool(SpoolId),
    /// A Spoolman spool label, with Spoolman's id as written (a number for a real Spoolman).
    Spoolman(String),
    /// A UUID with no kind: a product or a spool.
    Id(Uuid),
    /// A barcode, SKU or tag id.
    Text(String),
}

/// Why a code could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing but spaces.
    #[error("the code is empty; scan again or type it")]
    Empty,
    /// Longer than any label carries.
    #[error("the code is {0} characters long; no label of ours or Spoolman's is that long")]
    TooLong(usize),
    /// One of our payloads with a broken id.
    #[error("`{0}` looks like a PrintStall label but its id is damaged; print the label again")]
    BadOurs(String),
    /// A Spoolman payload without an id.
    #[error("`{0}` looks like a Spoolman label but has no spool id")]
    BadSpoolman(String),
}

/// Longest code accepted (a URL on a label is well below this).
pub const MAX_CODE_LEN: usize = 512;

/// Reads a code.
pub fn parse(raw: &str) -> Result<Parsed, CodeError> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(CodeError::Empty);
    }
    if code.chars().count() > MAX_CODE_LEN {
        return Err(CodeError::TooLong(code.chars().count()));
    }
    if let Some(rest) = strip_prefix_ci(code, PAYLOAD_PREFIX) {
        let bad = || CodeError::BadOurs(code.to_owned());
        let (kind, id) = rest.split_once(':').ok_or_else(bad)?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| bad())?;
        return match kind {
            "P" | "p" => Ok(Parsed::Product(ProductId(id))),
            "S" | "s" => Ok(Parsed::Spool(SpoolId(id))),
            _ => Err(bad()),
        };
    }
    if let Some(rest) = strip_prefix_ci(code, "WEB+SPOOLMAN:") {
        let id = strip_prefix_ci(rest.trim(), "S-")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CodeError::BadSpoolman(code.to_owned()))?;
        return Ok(Parsed::Spoolman(id.to_owned()));
    }
    if let Some(id) = spoolman_url_id(code) {
        return Ok(Parsed::Spoolman(id.to_owned()));
    }
    if let Ok(id) = Uuid::parse_str(code) {
        return Ok(Parsed::Id(id));
    }
    Ok(Parsed::Text(code.to_owned()))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then_some(&s[prefix.len()..])
}

/// The id in `http(s)://host[:port][/base]/spool/show/<id>[?…|#…|/]`.
fn spoolman_url_id(code: &str) -> Option<&str> {
    let rest = strip_prefix_ci(code, "https://").or_else(|| strip_prefix_ci(code, "http://"))?;
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let at = path.rfind("/spool/show/")?;
    let id = path[at + "/spool/show/".len()..].trim_end_matches('/');
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// Something a code can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// A product.
    Product(ProductId),
    /// A spool.
    Spool(SpoolId),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Product(p) => write!(f, "product {p}"),
            Target::Spool(s) => write!(f, "spool {s}"),
        }
    }
}

/// A product or spool with the codes it answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Which row.
    pub target: Target,
    /// The product's SKU.
    pub sku: Option<String>,
    /// The barcode or QR payload stuck on it.
    pub barcode: Option<String>,
    /// A spool's NFC tag id.
    pub nfc_tag_id: Option<String>,
    /// A spool's id in the Spoolman it was imported from.
    pub spoolman_id: Option<String>,
}

/// The answer of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// One row.
    Found(Target),
    /// Nothing matched; the message says what was looked for.
    NotFound(String),
    /// More than one row carries this code (e.g. a barcode used twice).
    Ambiguous(Vec<Target>),
}

/// Digits of a retail barcode, with a UPC-A turned into its EAN-13 (leading 0).
fn retail_digits(s: &str) -> Option<String> {
    let s = s.trim();
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        12 => Some(format!("0{s}")),
        8 | 13 | 14 => Some(s.to_owned()),
        _ => None,
    }
}

fn same_barcode(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    matches!((retail_digits(a), retail_digits(b)), (Some(x), Some(y)) if x == y)
}

/// Looks a code up among `candidates`.
pub fn resolve<'a>(
    raw: &str,
    candidates: impl IntoIterator<Item = &'a Candidate>,
) -> Result<Resolution, CodeError> {
    let parsed = parse(raw)?;
    let candidates: Vec<&Candidate> = candidates.into_iter().collect();
    let pick = |hits: Vec<Target>, what: String| match hits.len() {
        0 => Resolution::NotFound(what),
        1 => Resolution::Found(hits[0]),
        _ => Resolution::Ambiguous(hits),
    };
    let targets = |f: &dyn Fn(&Candidate) -> bool| -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        for c in candidates.iter().filter(|c| f(c)) {
            if !out.contains(&c.target) {
                out.push(c.target);
            }
        }
        out
    };
    Ok(match parsed {
        Parsed::Product(id) => pick(
            targets(&|c| c.target == Target::Product(id)),
            format!("no product with the id {id} on this device (sync, or it was deleted)"),
        ),
        Parsed::Spool(id) => pick(
            targets(&|c| c.target == Target::Spool(id)),
            format!("no spool with the id {id} on this device (sync, or it was deleted)"),
        ),
        Parsed::Spoolman(sid) => {
            let by_import = targets(&|c| {
                matches!(c.target, Target::Spool(_))
                    && c.spoolman_id.as_deref() == Some(sid.as_str())
            });
            if by_import.is_empty()
                && let Ok(u) = Uuid::parse_str(&sid)
            {
                pick(
                    targets(&|c| c.target == Target::Spool(SpoolId(u))),
                    format!("no spool with the id {u}"),
                )
            } else {
                pick(
                    by_import,
                    format!(
                        "no spool imported from Spoolman with the id {sid}; import your Spoolman spools first"
                    ),
                )
            }
        }
        Parsed::Id(u) => pick(
            targets(&|c| match c.target {
                Target::Product(p) => p.0 == u,
                Target::Spool(s) => s.0 == u,
            }),
            format!("no product or spool with the id {u}"),
        ),
        Parsed::Text(t) => {
            let by_barcode =
                targets(&|c| c.barcode.as_deref().is_some_and(|b| same_barcode(b, &t)));
            if !by_barcode.is_empty() {
                pick(by_barcode, String::new())
            } else {
                let by_sku = targets(&|c| {
                    c.sku
                        .as_deref()
                        .is_some_and(|s| s.trim().eq_ignore_ascii_case(&t))
                });
                if !by_sku.is_empty() {
                    pick(by_sku, String::new())
                } else {
                    pick(
                        targets(&|c| {
                            c.nfc_tag_id
                                .as_deref()
                                .is_some_and(|n| n.trim().eq_ignore_ascii_case(&t))
                        }),
                        format!(
                            "no product or spool has the code `{t}` as its barcode, SKU or tag"
                        ),
                    )
                }
            }
        }
    })
}

fn text_field(cell: &crate::sync::cells::EntityCell, name: &str) -> Option<String> {
    match cell.value(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The products and spools of a merged state that are not deleted, as candidates.
/// A spool's Spoolman id is read from its `spoolman_id` field, where an import set one.
pub fn candidates(state: &State) -> Vec<Candidate> {
    let mut out = Vec::new();
    for kind in [EntityKind::Product, EntityKind::Spool] {
        for (id, cell) in state.entities.get(&kind).into_iter().flatten() {
            if cell.is_deleted() {
                continue;
            }
            let f = cell;
            out.push(Candidate {
                target: if kind == EntityKind::Product {
                    Target::Product(ProductId(*id))
                } else {
                    Target::Spool(SpoolId(*id))
                },
                sku: text_field(f, "sku"),
                barcode: text_field(f, "barcode"),
                nfc_tag_id: text_field(f, "nfc_tag_id"),
                spoolman_id: text_field(f, "spoolman_id"),
            });
        }
    }
    out
}

/// Looks a code up in a merged state (the app's local state).
pub fn resolve_in(raw: &str, state: &State) -> Result<Resolution, CodeError> {
    let c = candidates(state);
    resolve(raw, &c)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn u(n: u128) -> Uuid {
        Uuid::from_u128(0x0190_f5d2_0000_7000_8000_0000_0000_0000 | n)
    }

    fn product(n: u128, sku: &str, barcode: Option<&str>) -> Candidate {
        Candidate {
            target: Target::Product(ProductId(u(n))),
            sku: Some(sku.into()),
            barcode: barcode.map(Into::into),
            nfc_tag_id: None,
            spoolman_id: None,
        }
    }

    fn spool(n: u128, spoolman: Option<&str>, barcode: Option<&str>) -> Candidate {
        Candidate {
            target: Target::Spool(SpoolId(u(n))),
            sku: None,
            barcode: barcode.map(Into::into),
            nfc_tag_id: Some(format!("04:A2:{n:02}")),
            spoolman_id: spoolman.map(Into::into),
        }
    }

    fn shop() -> Vec<Candidate> {
        vec![
            product(1, "REX-L-RED", Some("4006381333931")),
            product(2, "OCTO-S", Some("036000291452")),
            product(3, "DRAGON", None),
            spool(10, Some("7"), Some("SPOOL-0010")),
            spool(11, None, None),
        ]
    }

    fn found(raw: &str) -> Target {
        match resolve(raw, &shop()).unwrap() {
            Resolution::Found(t) => t,
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn our_payloads_round_trip() {
        let p = ProductId(u(3));
        assert_eq!(parse(&product_payload(p)).unwrap(), Parsed::Product(p));
        assert_eq!(found(&product_payload(p)), Target::Product(p));
        let s = SpoolId(u(11));
        assert_eq!(found(&spool_payload(s)), Target::Spool(s));
        assert_eq!(found(&format!("  ps1:s:{}\n", s.0)), Target::Spool(s));
        assert!(matches!(
            resolve(&product_payload(ProductId(u(99))), &shop()).unwrap(),
            Resolution::NotFound(_)
        ));
        assert_eq!(
            parse("PS1:P:not-a-uuid"),
            Err(CodeError::BadOurs("PS1:P:not-a-uuid".into()))
        );
        assert!(parse("PS1:X:0190f5d2-0000-7000-8000-000000000001").is_err());
    }

    #[test]
    fn spoolman_labels() {
        assert_eq!(
            parse("WEB+SPOOLMAN:S-7").unwrap(),
            Parsed::Spoolman("7".into())
        );
        assert_eq!(
            parse("web+spoolman:s-7").unwrap(),
            Parsed::Spoolman("7".into())
        );
        assert_eq!(found("WEB+SPOOLMAN:S-7"), Target::Spool(SpoolId(u(10))));
        assert_eq!(
            found("http://spoolman.local:7912/spool/show/7"),
            Target::Spool(SpoolId(u(10)))
        );
        assert_eq!(
            found("https://example.org/spoolman/spool/show/7/?x=1#top"),
            Target::Spool(SpoolId(u(10)))
        );
        // Not imported: said so.
        match resolve("WEB+SPOOLMAN:S-8", &shop()).unwrap() {
            Resolution::NotFound(m) => assert!(m.contains("Spoolman"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Our own id in Spoolman's form.
        assert_eq!(
            found(&format!("WEB+SPOOLMAN:S-{}", u(11))),
            Target::Spool(SpoolId(u(11)))
        );
        assert_eq!(
            parse("WEB+SPOOLMAN:"),
            Err(CodeError::BadSpoolman("WEB+SPOOLMAN:".into()))
        );
        // Another path is just text.
        assert!(matches!(
            parse("https://example.org/spool/7").unwrap(),
            Parsed::Text(_)
        ));
    }

    #[test]
    fn barcodes_skus_and_tags() {
        assert_eq!(found("4006381333931"), Target::Product(ProductId(u(1))));
        // UPC-A on the product, scanned as EAN-13 (and the other way round).
        assert_eq!(found("0036000291452"), Target::Product(ProductId(u(2))));
        assert_eq!(found("036000291452"), Target::Product(ProductId(u(2))));
        assert_eq!(found("rex-l-red"), Target::Product(ProductId(u(1))));
        assert_eq!(found(" DRAGON "), Target::Product(ProductId(u(3))));
        assert_eq!(found("SPOOL-0010"), Target::Spool(SpoolId(u(10))));
        assert_eq!(found("04:a2:11"), Target::Spool(SpoolId(u(11))));
        assert_eq!(found(&u(2).to_string()), Target::Product(ProductId(u(2))));
        match resolve("NOPE", &shop()).unwrap() {
            Resolution::NotFound(m) => assert!(m.contains("NOPE")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicates_are_ambiguous_and_bad_input_is_refused() {
        let mut c = shop();
        c.push(product(4, "OTHER", Some("4006381333931")));
        assert!(matches!(
            resolve("4006381333931", &c).unwrap(),
            Resolution::Ambiguous(v) if v.len() == 2
        ));
        assert_eq!(resolve("   ", &c), Err(CodeError::Empty));
        assert_eq!(resolve(&"x".repeat(600), &c), Err(CodeError::TooLong(600)));
    }

    #[test]
    fn from_a_merged_state() {
        use crate::domain::DeviceId;
        use crate::sync::op::{EntitySet, EntityTarget};
        use crate::sync::{Hlc, Op, OpBody, apply};
        let dev = DeviceId(u(500));
        let mut hlc = Hlc::zero(dev);
        let mut state = State::new();
        let mut seq = 0;
        let mut push = |state: &mut State, body: OpBody| {
            seq += 1;
            let op = Op {
                op_id: u(1000 + seq),
                device_id: dev,
                client_seq: seq as u64,
                hlc: hlc.tick(1_700_000_000_000 + seq as u64),
                body,
            };
            apply(state, &op).unwrap();
        };
        let set = |kind, id, fields: serde_json::Value| {
            OpBody::EntitySet(EntitySet {
                entity: kind,
                id,
                fields: fields.as_object().unwrap().clone(),
            })
        };
        push(
            &mut state,
            set(
                EntityKind::Product,
                u(1),
                serde_json::json!({"sku": "REX", "name": "Rex", "price": 1200, "barcode": "4006381333931"}),
            ),
        );
        push(
            &mut state,
            set(
                EntityKind::Product,
                u(2),
                serde_json::json!({"sku": "GONE", "name": "Gone", "price": 100}),
            ),
        );
        push(
            &mut state,
            OpBody::EntityDelete(EntityTarget {
                entity: EntityKind::Product,
                id: u(2),
            }),
        );
        assert_eq!(
            resolve_in("4006381333931", &state).unwrap(),
            Resolution::Found(Target::Product(ProductId(u(1))))
        );
        assert!(matches!(
            resolve_in("GONE", &state).unwrap(),
            Resolution::NotFound(_)
        ));
    }
}
