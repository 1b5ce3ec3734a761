//! Stock: products with what is on hand (the server's count with this phone's pending
//! changes replayed by core's rules), negative stock flagged, a search over them, the
//! products with the most on hand as a chart, and a form to add a product (written as ops,
//! so it works offline).
//!
//! Made for shops of thousands of products: the products are indexed once per read of the
//! local store ([`ProductIndex`]), a keystroke filters that index in memory, and the list is
//! virtualised (fixed-height rows; only those in view and a few either side are drawn).

use std::rc::Rc;

use printstall_core::domain::ProductId;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet, StockCount};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::charts::{RankedBar, RankedBars};
use crate::components::sign_in::SignIn;
use crate::components::stock_tabs::StockTabs;
use crate::local::use_local;
use crate::store::search::{ProductIndex, SameModel};

/// Height of one row of the product list, in CSS pixels (fixed, so the list can show only
/// the rows in view and nothing moves as they are swapped).
pub const ROW_PX: usize = 60;
/// Rows the list's window shows at once.
pub const VIEW_ROWS: usize = 9;
/// Rows drawn above and below the window, so a fast flick never shows a gap.
pub const OVERSCAN: usize = 6;
/// Products in the chart.
const TOP_PRODUCTS: usize = 10;

/// The rows to draw for a scroll offset: `[first, end)` of `count`.
pub fn window(scroll_px: f64, count: usize) -> (usize, usize) {
    let top = if scroll_px.is_finite() && scroll_px > 0.0 {
        (scroll_px as usize) / ROW_PX
    } else {
        0
    };
    let first = top.saturating_sub(OVERSCAN).min(count);
    let end = (top + VIEW_ROWS + OVERSCAN).min(count);
    (first, end)
}

/// The products with the most on hand (those below zero flagged).
fn top_on_hand(index: &ProductIndex, n: usize) -> Vec<RankedBar> {
    let mut rows: Vec<&crate::local::ProductRow> = index.rows.iter().collect();
    rows.sort_by_key(|p| std::cmp::Reverse(p.level.on_hand));
    rows.into_iter()
        .take(n)
        .map(|p| RankedBar {
            label: p.name.clone(),
            value: p.level.on_hand,
            warn: p.level.negative || p.level.low,
        })
        .collect()
}

#[derive(Properties)]
pub struct ProductListProps {
    pub index: Rc<ProductIndex>,
    /// Positions in `index.rows` to list.
    pub matches: Rc<Vec<usize>>,
    /// The search (a new one scrolls back to the top; a sync does not).
    pub query: AttrValue,
}

impl PartialEq for ProductListProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.index, &other.index)
            && Rc::ptr_eq(&self.matches, &other.matches)
            && self.query == other.query
    }
}

/// The product list, virtualised: a window of fixed-height rows over a list as tall as all
/// of them; only the rows in view (and a few either side) are in the page.
#[function_component(ProductList)]
pub fn product_list(props: &ProductListProps) -> Html {
    let scroll = use_state(|| 0.0f64);
    let viewport = use_node_ref();
    // A new search starts at the top.
    {
        let viewport = viewport.clone();
        let scroll = scroll.clone();
        use_effect_with(props.query.clone(), move |_| {
            if let Some(el) = viewport.cast::<web_sys::Element>() {
                el.set_scroll_top(0);
            }
            scroll.set(0.0);
        });
    }
    let onscroll = {
        let scroll = scroll.clone();
        let viewport = viewport.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = viewport.cast::<web_sys::Element>() {
                let top = f64::from(el.scroll_top());
                // Redraw only when the first row in view changes.
                if (top as usize) / ROW_PX != (*scroll as usize) / ROW_PX {
                    scroll.set(top);
                }
            }
        })
    };
    let count = props.matches.len();
    let (first, end) = window(*scroll, count);
    let shown = count.min(VIEW_ROWS);
    html! {
        <div class="vlist" ref={viewport} {onscroll} tabindex="0" data-testid="stock-viewport"
            style={format!("height:{}px", shown.max(1) * ROW_PX)}>
            <ul id="stock-list" class="stock-list" aria-label="Products and stock on hand" data-testid="stock-list"
                data-count={count.to_string()} style={format!("height:{}px", count * ROW_PX)}>
                { for (first..end).filter_map(|n| {
                    let i = *props.matches.get(n)?;
                    let p = props.index.rows.get(i)?;
                    let price = props.index.prices.get(i).cloned().unwrap_or_default();
                    Some(html! {
                        <li key={p.id.0.to_string()}
                            class={classes!("stock-row", p.level.negative.then_some("negative"), p.level.low.then_some("low"))}
                            style={format!("transform:translateY({}px)", n * ROW_PX)}
                            aria-setsize={count.to_string()} aria-posinset={(n + 1).to_string()}
                            data-testid="stock-row" data-product-id={p.id.0.to_string()}>
                            <span class="stock-name">{ &p.name }<small>{ format!(" {}", p.sku) }</small>
                                if p.level.negative {
                                    <span class="flag negative-flag" role="note">{ "Below zero: count it" }</span>
                                } else if p.level.low {
                                    <span class="flag low-flag" role="note">{ "Low" }</span>
                                }
                            </span>
                            <span class="stock-price">{ price }</span>
                            <span class="on-hand" data-testid="on-hand" aria-label={format!("{} on hand", p.level.on_hand)}>{ p.level.on_hand }</span>
                        </li>
                    })
                }) }
            </ul>
        </div>
    }
}

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
    let query = use_state(String::new);
    // Built once per read of the store; a keystroke only filters it in memory.
    let index = use_memo(SameModel(model.clone()), |m| ProductIndex::build(&m.0));
    let matches = use_memo(((*query).clone(), SameModel(model.clone())), {
        let index = index.clone();
        move |(q, _)| index.search(q)
    });
    let top = use_memo(SameModel(model.clone()), {
        let index = index.clone();
        move |_| top_on_hand(&index, TOP_PRODUCTS)
    });

    if !model.ready {
        return html! { <section class="stock"><h1>{ "Stock" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="stock"><h1>{ "Stock" }</h1><SignIn /></section> };
    }
    let exponent = model.currency().exponent();
    let products = &index.rows;
    let on_search = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                query.set(i.value());
            }
        })
    };
    let top_summary = match top.first() {
        Some(b) => format!("{} has the most on hand: {}.", b.label, b.value),
        None => String::new(),
    };

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
            <div class="field search-field">
                <label for="stock-search">{ "Search products" }</label>
                <input id="stock-search" type="search" autocomplete="off" placeholder="Name or SKU"
                    aria-controls="stock-list" value={(*query).clone()} oninput={on_search} data-testid="stock-search" />
            </div>
            <p class="hint" role="status" data-testid="stock-matches" data-query={(*query).clone()} data-count={matches.len().to_string()}>
                { if query.trim().is_empty() {
                    format!("{} product{}", matches.len(), if matches.len() == 1 { "" } else { "s" })
                } else {
                    format!("{} of {} products match", matches.len(), index.rows.len())
                } }
            </p>
            <ProductList index={index.clone()} matches={matches.clone()} query={(*query).clone()} />
            <section class="card" aria-label="Stock chart">
                <RankedBars title="Most on hand" label_heading="Product" value_heading="On hand"
                    bars={(*top).clone()} summary={top_summary} testid="stock-chart" />
            </section>
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
    use super::{OVERSCAN, ROW_PX, VIEW_ROWS, parse_amount, window};

    #[test]
    fn the_window_covers_the_rows_in_view_and_the_overscan() {
        assert_eq!(window(0.0, 5000), (0, VIEW_ROWS + OVERSCAN));
        assert_eq!(window(0.0, 3), (0, 3));
        let at = (100 * ROW_PX) as f64 + 10.0;
        assert_eq!(
            window(at, 5000),
            (100 - OVERSCAN, 100 + VIEW_ROWS + OVERSCAN)
        );
        assert_eq!(window(1e9, 5000), (5000, 5000));
        assert_eq!(window(f64::NAN, 10), (0, 10));
    }

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
