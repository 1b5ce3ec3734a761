//! Stock: products with what is on hand (the server's count with this phone's pending
//! changes replayed by core's rules), negative stock flagged, and a form to add a product
//! (written as ops, so it works offline).

use printstall_core::domain::ProductId;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet, StockCount};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::sign_in::SignIn;
use crate::components::stock_tabs::StockTabs;
use crate::local::use_local;

/// Reads a price like `12`, `12.5` or `12,50` into minor units (`exponent` decimals).
pub fn parse_amount(text: &str, exponent: u8) -> Option<i64> {
    let t = text.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > usize::from(exponent)
    {
        return None;
    }
    let scale = 10i64.checked_pow(u32::from(exponent))?;
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..usize::from(exponent) {
        f *= 10;
    }
    w.checked_mul(scale)?.checked_add(f)
}

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

#[function_component(Stock)]
pub fn stock() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let name = use_node_ref();
    let sku = use_node_ref();
    let price = use_node_ref();
    let start = use_node_ref();
    let message = use_state(|| None::<String>);

    if !model.ready {
        return html! { <section class="stock"><h1>{ "Stock" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="stock"><h1>{ "Stock" }</h1><SignIn /></section> };
    }
    let products = model.products();
    let exponent = model.currency().exponent();

    let onsubmit = {
        let (name, sku, price, start) = (name.clone(), sku.clone(), price.clone(), start.clone());
        let local = local.clone();
        let message = message.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(amount) = parse_amount(&value(&price), exponent) else {
                message.set(Some("Price: enter an amount like 12.50".into()));
                return;
            };
            let on_hand = value(&start).trim().parse::<i64>().unwrap_or(0);
            let id = Uuid::now_v7();
            let mut fields = Map::new();
            fields.insert("name".into(), Value::String(value(&name).trim().to_owned()));
            fields.insert("sku".into(), Value::String(value(&sku).trim().to_owned()));
            fields.insert("price".into(), json!(amount));
            fields.insert("active".into(), Value::Bool(true));
            let mut ops = vec![OpBody::EntitySet(EntitySet {
                entity: EntityKind::Product,
                id,
                fields,
            })];
            if on_hand != 0 {
                ops.push(OpBody::StockCount(StockCount {
                    product_id: ProductId(id),
                    counted: on_hand,
                    event_id: None,
                    note: Some("starting stock".into()),
                }));
            }
            let message = message.clone();
            let refs = [name.clone(), sku.clone(), price.clone(), start.clone()];
            local.record(
                ops,
                Callback::from(move |r: Result<(), String>| match r {
                    Ok(()) => {
                        for r in &refs {
                            if let Some(i) = r.cast::<HtmlInputElement>() {
                                i.set_value("");
                            }
                        }
                        message.set(Some("Product added".into()));
                    }
                    Err(e) => message.set(Some(format!("Not added: {e}"))),
                }),
            );
        })
    };

    html! {
        <section class="stock">
            <StockTabs />
            <h1>{ "Stock" }</h1>
            if local.needs_sign_in() {
                <SignIn />
            }
            if products.is_empty() {
                <p class="hint">{ "No products yet: add the first one below." }</p>
            }
            <ul class="stock-list" aria-label="Products and stock on hand">
                { for products.iter().map(|p| html! {
                    <li class={classes!("stock-row", p.level.negative.then_some("negative"), p.level.low.then_some("low"))}
                        data-testid="stock-row" data-product-id={p.id.0.to_string()}>
                        <span class="stock-name">{ &p.name }<small>{ format!(" {}", p.sku) }</small></span>
                        <span class="stock-price">{ model.money(p.price) }</span>
                        <span class="on-hand" data-testid="on-hand" aria-label={format!("{} on hand", p.level.on_hand)}>{ p.level.on_hand }</span>
                        if p.level.negative {
                            <span class="flag negative-flag" role="note">{ "Below zero: count it" }</span>
                        } else if p.level.low {
                            <span class="flag low-flag" role="note">{ "Low" }</span>
                        }
                    </li>
                }) }
            </ul>
            <form class="card add-product" {onsubmit} aria-labelledby="add-product-title">
                <h2 id="add-product-title">{ "Add a product" }</h2>
                <div class="field">
                    <label for="np-name">{ "Name" }</label>
                    <input id="np-name" ref={name} type="text" required=true />
                </div>
                <div class="field">
                    <label for="np-sku">{ "SKU" }</label>
                    <input id="np-sku" ref={sku} type="text" required=true placeholder="REX-L-RED" />
                </div>
                <div class="field">
                    <label for="np-price">{ "Price" }</label>
                    <input id="np-price" ref={price} type="text" inputmode="decimal" required=true placeholder="12.50" />
                </div>
                <div class="field">
                    <label for="np-stock">{ "Starting stock" }</label>
                    <input id="np-stock" ref={start} type="number" inputmode="numeric" min="0" value="0" />
                </div>
                if let Some(m) = &*message {
                    <p class="notice" role="status">{ m.clone() }</p>
                }
                <button type="submit" class="primary">{ "Add product" }</button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_amount;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12", 2), Some(1200));
        assert_eq!(parse_amount("12.5", 2), Some(1250));
        assert_eq!(parse_amount("12,05", 2), Some(1205));
        assert_eq!(parse_amount(".5", 2), Some(50));
        assert_eq!(parse_amount("1.234", 2), None);
        assert_eq!(parse_amount("", 2), None);
        assert_eq!(parse_amount("-3", 2), None);
        assert_eq!(parse_amount("500", 0), Some(500));
    }
}
