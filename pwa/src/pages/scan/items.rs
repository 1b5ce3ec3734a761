//! Products and spools as the Scan and Labels screens show them, read from the local state.

use printstall_core::codes;
use printstall_core::domain::{Centigrams, ProductId, SpoolId};
use printstall_core::labels::LabelItem;
use printstall_core::sync::EntityKind;
use serde_json::Value;
use uuid::Uuid;

use crate::local::Model;

/// A spool with its filament's description.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolRow {
    pub id: SpoolId,
    /// Brand, material and colour name.
    pub name: String,
    pub colour_hex: Option<String>,
    pub left_cg: Centigrams,
    /// The spool's own empty weight, else its filament's.
    pub empty_spool_cg: Option<Centigrams>,
    pub barcode: Option<String>,
    pub location: Option<String>,
    pub lot_number: Option<String>,
    pub archived: bool,
}

fn text(fields: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// One spool, if it is known and not deleted.
pub fn spool(model: &Model, id: SpoolId) -> Option<SpoolRow> {
    let view = model.state.entity(EntityKind::Spool, id.0)?;
    if view.deleted {
        return None;
    }
    let f = &view.fields;
    let filament = f
        .get("filament_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .and_then(|fid| model.state.entity(EntityKind::Filament, fid));
    let ff = filament.map(|v| v.fields).unwrap_or_default();
    let colour = ff.get("colour").cloned().unwrap_or(Value::Null);
    let colour_name = colour
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let colour_hex = colour.get("hex").and_then(Value::as_str).map(str::to_owned);
    let brand = text(&ff, "brand").unwrap_or_else(|| "Spool".into());
    let material = text(&ff, "material").unwrap_or_default().to_uppercase();
    let name = [brand, material, colour_name]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let empty = f
        .get("empty_spool_cg")
        .and_then(Value::as_i64)
        .or_else(|| ff.get("empty_spool_cg").and_then(Value::as_i64))
        .map(Centigrams);
    Some(SpoolRow {
        id,
        name,
        colour_hex,
        left_cg: model.state.spool_level(id).left_cg,
        empty_spool_cg: empty,
        barcode: text(f, "barcode"),
        location: text(f, "location"),
        lot_number: text(f, "lot_number"),
        archived: f.get("archived").and_then(Value::as_bool) == Some(true),
    })
}

/// Every spool that is not deleted, by name.
pub fn spools(model: &Model) -> Vec<SpoolRow> {
    let mut out: Vec<SpoolRow> = model
        .state
        .entities
        .get(&EntityKind::Spool)
        .into_iter()
        .flatten()
        .filter_map(|(id, _)| spool(model, SpoolId(*id)))
        .collect();
    out.sort_by(|a, b| {
        (a.archived, a.name.to_lowercase()).cmp(&(b.archived, b.name.to_lowercase()))
    });
    out
}

/// A product's barcode, when it has one.
pub fn product_barcode(model: &Model, id: ProductId) -> Option<String> {
    model
        .state
        .entity(EntityKind::Product, id.0)
        .and_then(|v| text(&v.fields, "barcode"))
}

/// Grams with one decimal when needed: `740 g`, `12.5 g`.
pub fn grams(cg: Centigrams) -> String {
    let sign = if cg.0 < 0 { "-" } else { "" };
    let a = cg.0.unsigned_abs();
    if a.is_multiple_of(100) {
        format!("{sign}{} g", a / 100)
    } else {
        let frac = format!("{:02}", a % 100);
        format!("{sign}{}.{} g", a / 100, frac.trim_end_matches('0'))
    }
}

/// The label of a product.
pub fn product_label(model: &Model, id: ProductId) -> Option<LabelItem> {
    let p = model.products().into_iter().find(|p| p.id == id)?;
    let barcode = product_barcode(model, id);
    Some(LabelItem {
        payload: codes::product_payload(id),
        code_text: match &barcode {
            Some(b) => format!("{} · {b}", p.sku),
            None => p.sku.clone(),
        },
        name: p.name,
        detail: None,
        price: Some(model.money(p.price)),
        swatch: None,
    })
}

/// The label of a spool.
pub fn spool_label(model: &Model, id: SpoolId) -> Option<LabelItem> {
    let s = spool(model, id)?;
    let mut detail = vec![format!("{} left", grams(s.left_cg))];
    if let Some(l) = &s.location {
        detail.push(l.clone());
    }
    if let Some(l) = &s.lot_number {
        detail.push(format!("lot {l}"));
    }
    let short = id.0.simple().to_string();
    Some(LabelItem {
        payload: codes::spool_payload(id),
        code_text: s
            .barcode
            .clone()
            .unwrap_or_else(|| format!("spool {}", &short[short.len() - 8..])),
        name: s.name,
        detail: Some(detail.join(" · ")),
        price: None,
        swatch: s.colour_hex,
    })
}
