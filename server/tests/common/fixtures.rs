//! Catalogue fixtures for the API tests: a seller of a shop, filaments, spools, models,
//! variants, printers, products and events made over HTTP.

use serde_json::{Value, json};

use super::{Api, refresh_cookie_of};

/// A seller who joined `owner`'s shop with an invite code.
pub async fn seller_of(owner: &Api) -> Api {
    let (_, invite) = owner.post("/auth/invites", json!({})).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/join", owner.base))
        .json(&json!({"code": invite["code"], "email": format!("seller-{}@example.com", owner.shop_id), "password": "seller password", "display_name": "Seller"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    Api::from_session(&owner.base, &body, refresh)
}

/// The `id` of a 201 answer to `POST path`.
pub async fn create(api: &Api, path: &str, body: Value) -> String {
    let (status, v) = api.post(path, body).await;
    assert_eq!(status, 201, "POST {path}: {v}");
    v["id"].as_str().unwrap().to_owned()
}

/// A 1 kg PLA filament with a 200 g empty spool.
pub async fn filament(api: &Api, colour: &str) -> String {
    create(
        api,
        "/filaments",
        json!({"brand": "Prusament", "material": "pla", "colour": {"name": colour, "hex": "#1c1c1e"},
               "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000,
               "empty_spool_cg": 20000, "price_per_spool": 2499, "ean": "4006381333931"}),
    )
    .await
}

/// A spool of `filament` with `grams` on it.
pub async fn spool(api: &Api, filament: &str, grams: i64) -> String {
    create(
        api,
        "/spools",
        json!({"filament_id": filament, "initial_net_cg": grams * 100, "barcode": format!("SP-{filament}-{grams}")}),
    )
    .await
}

pub async fn model(api: &Api, name: &str) -> String {
    create(
        api,
        "/models",
        json!({"name": name, "source_site": "printables", "licence": {"name": "CC-BY-4.0", "allows_selling": true}}),
    )
    .await
}

/// A variant of `model` needing 12.5 g of `filament` per unit, 4 per plate.
pub async fn variant(api: &Api, model: &str, filament: &str) -> String {
    create(
        api,
        "/variants",
        json!({"model_id": model, "name": "Large", "parts_per_plate": 4, "print_time_s": 3600,
               "slicer_settings": {"layer_height": "0.2", "infill": "15%"},
               "filament_needs": [{"filament_id": filament, "per_unit_cg": 1250}]}),
    )
    .await
}

pub async fn printer(api: &Api, name: &str) -> String {
    create(
        api,
        "/printers",
        json!({"name": name, "model": "Prusa MK4S", "nozzle_um": 400, "build_volume": {"x_mm": 250, "y_mm": 210, "z_mm": 220}}),
    )
    .await
}

pub async fn product(api: &Api, sku: &str, variant: Option<&str>) -> String {
    create(
        api,
        "/products",
        json!({"sku": sku, "name": format!("Rex {sku}"), "price": 1500, "variant_id": variant}),
    )
    .await
}

pub async fn event(api: &Api, name: &str) -> String {
    create(
        api,
        "/events",
        json!({"name": name, "starts_on": "2026-12-01", "ends_on": "2026-12-03", "booth_fee": 4500}),
    )
    .await
}
