//! The after-event report (core's [`event_report`] rules): units and revenue per product,
//! the payment split, the fee, the cost of goods, the margin and what goes back home.
//!
//! [`event_report`]: printstall_core::domain::event_report::event_report

use printstall_core::domain::event_report::EventReport;
use printstall_core::domain::sale::PaymentMethod;
use printstall_core::money::Minor;
use yew::prelude::*;

use crate::components::bar_chart::{Bar, BarChart};
use crate::local::use_local;
use crate::store::queries::Catalog;

#[derive(Properties, PartialEq)]
pub struct EventReportProps {
    pub report: EventReport,
    pub catalog: std::rc::Rc<Catalog>,
}

fn method(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "Cash",
        PaymentMethod::Card => "Card",
        PaymentMethod::Other => "Other",
    }
}

#[function_component(EventReportView)]
pub fn event_report_view(props: &EventReportProps) -> Html {
    let local = use_local();
    let model = &local.model;
    let r = &props.report;
    let c = &props.catalog;
    let money = |m: Minor| model.money(m);
    let row = |label: &'static str, value: String, testid: &'static str| {
        html! { <tr><th scope="row">{ label }</th><td data-testid={testid}>{ value }</td></tr> }
    };
    let pay_bars: Vec<Bar> = r
        .payments
        .iter()
        .map(|(m, a)| Bar {
            label: method(*m).into(),
            value: a.0,
            text: money(*a),
            warn: false,
        })
        .collect();
    html! {
        <section class="event-report" aria-labelledby="report-title" data-testid="event-report">
            <h3 id="report-title">{ "Report" }</h3>
            <table class="totals">
                <tbody>
                    { row("Sales", r.sales.to_string(), "report-sales") }
                    { row("Units sold", r.units.to_string(), "report-units") }
                    { row("Taken", money(r.gross), "report-gross") }
                    if r.discount.0 != 0 { { row("Discounts", money(r.discount), "report-discount") } }
                    { row("Tax in it", money(r.tax), "report-tax") }
                    { row("Booth fee", money(r.fee), "report-fee") }
                    { row("Cost of goods", money(r.cost_of_goods), "report-cogs") }
                    <tr class="margin-row"><th scope="row">{ "Margin" }</th>
                        <td data-testid="report-margin" class={classes!((r.margin.0 < 0).then_some("negative"))}>{ money(r.margin) }</td></tr>
                    { row("Units to bring home", r.left_units.to_string(), "report-left") }
                </tbody>
            </table>
            if r.uncosted_units > 0 {
                <p class="hint">{ format!("{} unit{} sold have no cost (no sliced grams or prices): not in the cost of goods.", r.uncosted_units, if r.uncosted_units == 1 { "" } else { "s" }) }</p>
            }
            <BarChart title="Payment split" bars={pay_bars} testid="payment-chart" />
            <div class="table-scroll">
            <table class="report-lines">
                <caption>{ "Per product" }</caption>
                <thead><tr><th scope="col">{ "Product" }</th><th scope="col">{ "Sold" }</th><th scope="col">{ "Revenue" }</th><th scope="col">{ "Cost" }</th><th scope="col">{ "Home" }</th></tr></thead>
                <tbody>
                    { for r.lines.iter().map(|l| html! {
                        <tr data-testid="report-line" data-product-id={l.product_id.0.to_string()}>
                            <th scope="row">{ c.product_name(l.product_id) }</th>
                            <td data-testid="line-units">{ l.units }</td>
                            <td>{ money(l.revenue) }</td>
                            <td>{ l.cost.map_or_else(|| "—".into(), money) }</td>
                            <td data-testid="line-left">{ l.left }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            </div>
        </section>
    }
}
