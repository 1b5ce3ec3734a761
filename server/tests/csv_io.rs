//! CSV export and import: a round trip of filaments, spools, products, sales and stock into a
//! fresh shop; previews that change nothing; and files that are refused whole with an
//! error per row or per request: wrong columns, bad numbers, duplicate SKUs, 100,000 rows,
//! an invalid encoding, a missing reference.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::fixtures::{filament, product, seller_of};
use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn export(api: &Api, kind: &str) -> String {
    let r = api
        .http
        .get(format!("{}/api/v1/csv/{kind}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "export {kind}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    r.text().await.unwrap()
}

async fn import(api: &Api, kind: &str, body: Value) -> (u16, Value) {
    api.post(&format!("/csv/{kind}"), body).await
}

/// Drops the first column (spool ids are the shop's own).
fn without_first_column(csv: &str) -> Vec<String> {
    let mut lines: Vec<String> = csv
        .lines()
        .map(|l| {
            l.split_once(',')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default()
        })
        .collect();
    lines.sort();
    lines
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn round_trip_into_a_fresh_shop(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let black = filament(&a, "Galaxy Black").await;
    let (status, _) = a
        .post("/filaments", json!({"brand": "Extrudr", "material": "petg", "colour": {"name": "Silk Rainbow", "hex": "#ff0000", "multi_hexes": ["#00ff00", "#0000ff"]}, "diameter": "2.85", "density_mg_cm3": 1270, "net_weight_cg": 75000}))
        .await;
    assert_eq!(status, 201);
    let (_, sp) = a
        .post("/spools", json!({"filament_id": black, "initial_net_cg": 100000, "location": "Shelf A", "lot_number": "L-1", "price_paid": 2499, "purchase_date": "2025-06-14", "barcode": "SP-1"}))
        .await;
    let sp = sp["id"].as_str().unwrap().to_owned();
    a.post(
        &format!("/spools/{sp}/use"),
        json!({"used_cg": 12345, "reason": "print"}),
    )
    .await;
    a.post(
        "/spools",
        json!({"filament_id": black, "initial_net_cg": 50000}),
    )
    .await;
    let rex = product(&a, "REX-L", None).await;
    product(&a, "REX-S", None).await;
    let (status, _) = a
        .post(
            &format!("/products/{rex}/adjust"),
            json!({"quantity": 7, "reason": "produced"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, sale) = a
        .post("/sales", json!({"lines": [{"product_id": rex, "quantity": 2, "unit_price": 1500}], "payment_method": "cash"}))
        .await;
    assert_eq!(status, 201, "{sale}");

    // In the order a fresh shop needs them: sales before the stock count that follows them.
    let files: Vec<(&str, String)> = vec![
        ("filaments", export(&a, "filaments").await),
        ("spools", export(&a, "spools").await),
        ("products", export(&a, "products").await),
        ("sales", export(&a, "sales").await),
        ("stock", export(&a, "stock").await),
    ];
    assert!(files[4].1.contains("REX-L,Rex REX-L,5"), "{}", files[4].1);
    let sales = &files[3].1;
    assert!(
        sales
            .lines()
            .nth(1)
            .unwrap()
            .contains(",cash,false,0,REX-L,Rex REX-L,2,15.00,30.00,"),
        "{sales}"
    );

    let b = Api::register(&server.url, "b@example.com").await;
    // Another shop's export holds none of A's rows.
    for kind in ["filaments", "spools", "products", "stock", "sales"] {
        assert_eq!(export(&b, kind).await.lines().count(), 1, "{kind}");
    }
    // A preview says what would happen and changes nothing.
    let (status, report) =
        import(&b, "filaments", json!({"csv": files[0].1, "dry_run": true})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["created"].as_i64(), report["dry_run"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(export(&b, "filaments").await.lines().count(), 1);
    for (kind, csv) in &files {
        let (status, report) = import(&b, kind, json!({"csv": csv})).await;
        assert_eq!(status, 200, "{kind}: {report}");
        assert!(report["rejected"].as_array().unwrap().is_empty());
    }
    for (kind, csv) in &files {
        let again = export(&b, kind).await;
        if *kind == "spools" || *kind == "sales" {
            assert_eq!(without_first_column(&again), without_first_column(csv));
        } else {
            assert_eq!(&again, csv, "{kind}");
        }
    }
    // Importing a shop's own export again changes nothing (spools are found by id).
    for (kind, _) in &files {
        let own = export(&b, kind).await;
        let (status, report) = import(&b, kind, json!({"csv": own})).await;
        assert_eq!(status, 200, "{kind}: {report}");
        assert_eq!(
            (report["created"].as_i64(), report["updated"].as_i64()),
            (Some(0), Some(0)),
            "{kind}: {report}"
        );
    }
    // B's stock came through the sync rules: devices pull it.
    let (_, pulled) = b.get("/sync/pull").await;
    assert!(pulled.to_string().contains("REX-L"), "{pulled}");
    // So did the filaments and spools, written as `entity.set.v1` ops.
    assert!(pulled.to_string().contains("Silk Rainbow"), "{pulled}");
    assert!(pulled.to_string().contains("SP-1"), "{pulled}");
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn bad_files_are_refused_whole(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let count = |api: &Api| {
        let api = api.clone();
        async move { export(&api, "products").await.lines().count() - 1 }
    };

    // A semicolon file with a byte-order mark and decimal commas, as spreadsheets save.
    let ok = "\u{feff}sku;name;price;tags\nREX-L;Rex large;12,50;dino|kids\nREX-S;\"Rex; small\";8,00;\n";
    let (status, report) = import(&a, "products", json!({"csv": ok})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 2);
    let (_, page) = a.get("/products?q=REX-S").await;
    assert_eq!(
        (
            page["items"][0]["price"].as_i64(),
            page["items"][0]["name"].as_str()
        ),
        (Some(800), Some("Rex; small"))
    );

    // Wrong columns: one error for the request, naming what is wrong and what is expected.
    let (status, err) = import(&a, "products", json!({"csv": "sku,title,price\nA,B,1\n"})).await;
    assert_eq!(status, 422, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("missing columns: name") && message.contains("unknown columns: title"),
        "{message}"
    );

    // Bad numbers, a duplicate SKU, a short row: one error per row, nothing imported.
    let bad = "sku,name,price,low_stock_threshold\nNEW-1,Fine,1.00,\nNEW-2,Bad price,12.5.0,\nNEW-1,Again,2.00,\nNEW-3,Bad threshold,1.00,many\nNEW-4,Short\n";
    let (status, err) = import(&a, "products", json!({"csv": bad})).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "invalid_rows");
    let rejected = err["report"]["rejected"].as_array().unwrap();
    let lines: Vec<i64> = rejected
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6], "{rejected:?}");
    assert_eq!(rejected[0]["column"], "price");
    assert!(rejected[1]["message"].as_str().unwrap().contains("line 2"));
    assert_eq!(rejected[2]["column"], "low_stock_threshold");
    assert_eq!(count(&a).await, 2, "nothing of the bad file was imported");

    // A stock level for a SKU the shop does not have: refused, the good row not applied.
    let (status, err) = import(
        &a,
        "stock",
        json!({"csv": "sku,on_hand\nREX-L,4\nNOPE,3\n"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["report"]["rejected"][0]["line"], 3);
    let (_, page) = a.get("/products?q=REX-L").await;
    assert_eq!(page["items"][0]["stock"]["on_hand"], 0);

    // 100,000 rows: refused with the limit, without reading past it.
    let mut big = String::from("sku,name,price\n");
    for i in 0..100_000 {
        big.push_str(&format!("BULK-{i},Bulk {i},1.00\n"));
    }
    let (status, err) = import(&a, "products", json!({"csv": big})).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 10000 rows"),
        "{err}"
    );
    assert_eq!(count(&a).await, 2);

    // Not UTF-8 (a Latin-1 file): the line is named.
    let latin1: Vec<u8> = b"sku,name,price\nCAF-1,Caf\xe9,1.00\n".to_vec();
    let (status, err) = import(
        &a,
        "products",
        json!({"csv_base64": base64::engine::general_purpose::STANDARD.encode(latin1)}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2 is not UTF-8"),
        "{err}"
    );

    // Spools need their filament; sales are exported only; sellers may not import prices.
    let fil = filament(&a, "Galaxy Black").await;
    let _ = fil;
    let (status, err) = import(
        &a,
        "spools",
        json!({"csv": "filament_brand,filament_material,filament_colour,filament_diameter,initial_g\nNoname,pla,Red,1.75,1000\nPrusament,pla,galaxy black,1.75,1000\n"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["report"]["rejected"].as_array().unwrap().len(), 1);
    assert_eq!(err["report"]["rejected"][0]["line"], 2);
    assert_eq!(
        import(&a, "sales", json!({"csv": "sale_id\n"})).await.0,
        422
    );
    // A sale whose total does not add up is refused; a sale of an unknown SKU too.
    let (status, err) = import(
        &a,
        "sales",
        json!({"csv": "sale_id,taken_at,payment_method,sku,quantity,unit_price,sale_total\nS1,2025-06-14T10:00:00Z,cash,REX-L,2,12.50,99.00\nS2,2025-06-14T10:05:00Z,card,NOPE,1,1.00,\n"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let rejected = err["report"]["rejected"].as_array().unwrap();
    assert_eq!(
        (
            rejected[0]["column"].as_str(),
            rejected[1]["column"].as_str()
        ),
        (Some("sale_total"), Some("sku")),
        "{rejected:?}"
    );
    assert_eq!(
        export(&a, "sales").await.lines().count(),
        1,
        "no sale was recorded"
    );
    assert_eq!(import(&a, "nonsense", json!({"csv": "a\n"})).await.0, 404);
    let seller = seller_of(&a).await;
    assert_eq!(import(&seller, "products", json!({"csv": ok})).await.0, 403);
    let (status, _) = import(&seller, "stock", json!({"csv": "sku,on_hand\nREX-L,4\n"})).await;
    assert_eq!(status, 403, "stock import is the catalogue's too");
    server.stop().await;
}
