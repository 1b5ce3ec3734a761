//! Sell: the stall's till. Pick the market (the one running today unless chosen), tap
//! products, set quantities, choose the payment, record the sale in one tap: it is written
//! on the phone (never waiting for the network), carries the market's id, and is sent when
//! there is a connection. The market's running total stays in view; undoing the last sale
//! voids it (a reversing entry, never a deletion).

use printstall_core::domain::sale::{Discount, NewSale, PaymentMethod, SaleLine, totals};
use printstall_core::domain::{MarketEventId, ProductId, SaleId};
use printstall_core::money::Minor;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::SaleVoid;
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::sign_in::SignIn;
use crate::hooks::use_sell_event::{Choice, resolve, use_sell_event};
use crate::local::use_local;
use crate::store::queries::{event_rows, live_sales, sales_of_event, today, utc_offset_s};

fn now() -> time::OffsetDateTime {
    let ns = (js_sys::Date::now() as i128) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(ns).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[function_component(Sell)]
pub fn sell() -> Html {
    let local = use_local();
    let cart = use_state(Vec::<(ProductId, u32)>::new);
    let payment = use_state(|| PaymentMethod::Cash);
    let search = use_state(String::new);
    let message = use_state(|| None::<String>);
    let (choice, choose) = use_sell_event();
    let model = local.model.clone();

    if !model.ready {
        return html! { <section class="sell"><h1>{ "Sell" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="sell"><h1>{ "Sell" }</h1><SignIn /></section> };
    }

    let products = model.products();
    // The market the sale is for, and what it has taken so far (sales for it, and sales
    // for no market on its days: the report's rule).
    let events = event_rows(&model.state);
    let day = today();
    let event = resolve(choice, &events, day).cloned();
    let event_id = event.as_ref().map(|e| e.id);
    let takings = event.as_ref().map(|e| {
        let sales = sales_of_event(&live_sales(&model.state), e, utc_offset_s());
        let total = sales
            .iter()
            .filter_map(|s| s.totals().ok())
            .fold(Minor::ZERO, |a, t| a.checked_add(t.total).unwrap_or(a));
        (sales.len(), total)
    });
    // Markets to choose from: those not over for more than a week, and the chosen one.
    let choosable: Vec<_> = events
        .iter()
        .filter(|e| {
            Some(e.id) == event_id
                || e.ends_on
                    .or(e.starts_on)
                    .is_none_or(|d| (day - d).whole_days() <= 7)
        })
        .collect();
    let on_event = {
        let choose = choose.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                let v = s.value();
                choose.emit(match uuid::Uuid::parse_str(&v) {
                    Ok(id) => Choice::Event(MarketEventId(id)),
                    Err(_) => Choice::NoEvent,
                });
            }
        })
    };
    let price_of = |id: ProductId| products.iter().find(|p| p.id == id).map(|p| p.price);
    let lines: Vec<SaleLine> = cart
        .iter()
        .filter_map(|(id, q)| {
            price_of(*id).map(|unit_price| SaleLine {
                product_id: *id,
                quantity: *q,
                unit_price,
            })
        })
        .collect();
    let (tax_rate_bp, incl) = model
        .snap
        .shop
        .as_ref()
        .map_or((0, true), |s| (s.tax_rate_bp, s.prices_include_tax));
    let sale_totals = totals(&lines, Discount::None, tax_rate_bp, incl).ok();
    let total = sale_totals.map_or(Minor::ZERO, |t| t.total);

    let today = model.sales_today();
    let today_total = today
        .iter()
        .filter_map(|s| s.sale.totals().ok())
        .fold(Minor::ZERO, |a, t| a.checked_add(t.total).unwrap_or(a));
    let device = model.snap.clock.as_ref().map(|c| c.device_id);
    let last = today
        .iter()
        .filter(|s| Some(s.device_id) == device)
        .max_by_key(|s| s.sale.taken_at)
        .cloned();

    let add = |id: ProductId, delta: i64| {
        let cart = cart.clone();
        Callback::from(move |_| {
            let mut c = (*cart).clone();
            match c.iter_mut().find(|(p, _)| *p == id) {
                Some((_, q)) => *q = (i64::from(*q) + delta).clamp(0, 10_000) as u32,
                None if delta > 0 => c.push((id, delta as u32)),
                None => {}
            }
            c.retain(|(_, q)| *q > 0);
            cart.set(c);
        })
    };

    let record = {
        let local = local.clone();
        let cart = cart.clone();
        let message = message.clone();
        let payment = *payment;
        let lines = lines.clone();
        let (total_text, money) = (model.money(total), model.clone());
        Callback::from(move |_| {
            if lines.is_empty() {
                return;
            }
            let sale = NewSale {
                sale_id: SaleId(Uuid::now_v7()),
                event_id,
                lines: lines.clone(),
                discount: Discount::None,
                payment_method: payment,
                tax_rate_bp,
                prices_include_tax: incl,
                taken_at: now(),
            };
            let cart = cart.clone();
            let message = message.clone();
            let total_text = total_text.clone();
            let _ = &money;
            local.record(
                vec![OpBody::SaleRecord(sale)],
                Callback::from(move |r: Result<(), String>| match r {
                    Ok(()) => {
                        cart.set(Vec::new());
                        message.set(Some(format!("Sale of {total_text} recorded")));
                    }
                    Err(e) => message.set(Some(format!("Not recorded: {e}"))),
                }),
            );
        })
    };

    let undo = last.as_ref().map(|s| {
        let local = local.clone();
        let message = message.clone();
        let sale_id = s.sale.sale_id;
        Callback::from(move |_| {
            let message = message.clone();
            local.record(
                vec![OpBody::SaleVoid(SaleVoid {
                    sale_id,
                    reason: "undone at the till".into(),
                })],
                Callback::from(move |r: Result<(), String>| {
                    message.set(Some(match r {
                        Ok(()) => "Last sale undone".into(),
                        Err(e) => format!("Not undone: {e}"),
                    }))
                }),
            );
        })
    });

    let on_search = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                search.set(i.value());
            }
        })
    };
    let needle = search.to_lowercase();
    let shown: Vec<_> = products
        .iter()
        .filter(|p| {
            needle.is_empty()
                || p.name.to_lowercase().contains(&needle)
                || p.sku.to_lowercase().contains(&needle)
        })
        .collect();

    let pay_button = |m: PaymentMethod, label: &'static str| {
        let payment = payment.clone();
        let checked = *payment == m;
        html! {
            <label class={classes!("pay-option", checked.then_some("checked"))}>
                <input type="radio" name="payment" checked={checked}
                    onchange={Callback::from(move |_| payment.set(m))} />
                { label }
            </label>
        }
    };

    html! {
        <section class="sell">
            <div class="sell-head">
                <h1>{ "Sell" }</h1>
                <p class="today" data-testid="today-total" aria-live="polite">
                    { format!("Today: {} · {} sale{}", model.money(today_total), today.len(), if today.len() == 1 { "" } else { "s" }) }
                </p>
            </div>
            if local.needs_sign_in() {
                <SignIn />
            }
            <div class="sell-event">
                <div class="field">
                    <label for="sell-event">{ "Market" }</label>
                    <select id="sell-event" data-testid="sell-event" onchange={on_event}>
                        <option value="none" selected={event_id.is_none()}>{ "No market" }</option>
                        { for choosable.iter().map(|e| html! {
                            <option value={e.id.0.to_string()} selected={Some(e.id) == event_id}>
                                { match e.starts_on { Some(d) => format!("{} ({d})", e.name), None => e.name.clone() } }
                            </option>
                        }) }
                    </select>
                </div>
                if let (Some(e), Some((n, total))) = (event.as_ref(), takings) {
                    <p class="event-total" data-testid="event-total" data-event-id={e.id.0.to_string()} aria-live="polite">
                        <span class="event-total-name">{ e.name.clone() }</span>
                        { ": " }<strong data-testid="event-total-amount">{ model.money(total) }</strong>
                        { format!(" · {n} sale{}", if n == 1 { "" } else { "s" }) }
                    </p>
                } else {
                    <p class="event-total hint" data-testid="event-total">{ "Sales are taken for no market." }</p>
                }
            </div>
            <div class="field search">
                <label for="sell-search">{ "Search products" }</label>
                <input id="sell-search" type="search" placeholder="Name or SKU" value={(*search).clone()} oninput={on_search} />
            </div>
            if products.is_empty() {
                <p class="hint">{ "No products yet. Add them on the Stock screen." }</p>
            }
            <ul class="product-grid" aria-label="Products">
                { for shown.iter().map(|p| html! {
                    <li>
                        <button type="button" class={classes!("product-tile", p.level.negative.then_some("negative"))}
                            data-testid="sell-product" data-product-id={p.id.0.to_string()}
                            aria-label={format!("Add {} at {}", p.name, model.money(p.price))}
                            onclick={add(p.id, 1)}>
                            <span class="tile-name">{ &p.name }</span>
                            <span class="tile-price">{ model.money(p.price) }</span>
                            <span class="tile-stock" data-testid="tile-stock">{ format!("{} left", p.level.on_hand) }</span>
                        </button>
                    </li>
                }) }
            </ul>
            <section class="cart card" aria-label="Current sale">
                <h2>{ "Current sale" }</h2>
                if cart.is_empty() {
                    <p class="hint">{ "Tap a product to add it." }</p>
                }
                <ul class="cart-lines">
                    { for lines.iter().map(|l| {
                        let name = products.iter().find(|p| p.id == l.product_id).map(|p| p.name.clone()).unwrap_or_default();
                        html! {
                            <li class="cart-line" data-testid="cart-line">
                                <span class="line-name">{ &name }</span>
                                <button type="button" class="qty" aria-label={format!("One less {name}")} onclick={add(l.product_id, -1)}>{ "−" }</button>
                                <span class="line-qty" data-testid="line-qty" aria-label="Quantity">{ l.quantity }</span>
                                <button type="button" class="qty" aria-label={format!("One more {name}")} onclick={add(l.product_id, 1)}>{ "+" }</button>
                                <span class="line-amount">{ model.money(Minor(l.unit_price.0 * i64::from(l.quantity))) }</span>
                            </li>
                        }
                    }) }
                </ul>
                <fieldset class="payment">
                    <legend>{ "Payment" }</legend>
                    { pay_button(PaymentMethod::Cash, "Cash") }
                    { pay_button(PaymentMethod::Card, "Card") }
                    { pay_button(PaymentMethod::Other, "Other") }
                </fieldset>
                <p class="sale-total">
                    { "Total " }<strong data-testid="sale-total">{ model.money(total) }</strong>
                    if let Some(t) = sale_totals.filter(|t| t.tax.0 != 0) {
                        <span class="tax">{ format!(" (tax {})", model.money(t.tax)) }</span>
                    }
                </p>
                <button type="button" class="primary record" data-testid="record-sale"
                    disabled={lines.is_empty()} onclick={record}>{ "Record sale" }</button>
                if let Some(m) = &*message {
                    <p class="notice" role="status" data-testid="sell-message">{ m.clone() }</p>
                }
                if let (Some(undo), Some(s)) = (undo, last.as_ref()) {
                    <button type="button" class="undo" data-testid="undo-sale" onclick={undo}>
                        { format!("Undo last sale ({})", s.sale.totals().map(|t| model.money(t.total)).unwrap_or_default()) }
                    </button>
                }
            </section>
        </section>
    }
}
