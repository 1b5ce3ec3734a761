//! Filament used per week over the last weeks, per material and colour, as a stacked column
//! chart with a table alternative. Reads the local state, so it works offline.

use printstall_core::domain::Centigrams;
use printstall_core::domain::usage::weekly_filament_use;
use yew::prelude::*;

use crate::components::charts::{Series, StackedColumns};
use crate::components::grams_bar::grams;
use crate::local::use_local;
use crate::store::queries::{Catalog, today, utc_offset_s};
use crate::store::usage::filament_use_entries;

/// Weeks shown.
pub const WEEKS: usize = 8;

#[function_component(FilamentUse)]
pub fn filament_use() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let c = Catalog::from_state(&model.state);
    let w = weekly_filament_use(
        &filament_use_entries(&model.state),
        &c.filament_infos(),
        today(),
        WEEKS,
        utc_offset_s(),
    );
    let columns: Vec<String> = w
        .weeks
        .iter()
        .map(|d| format!("{:02}.{:02}.", d.day(), u8::from(d.month())))
        .collect();
    let series: Vec<Series> = w
        .series
        .iter()
        .map(|s| Series {
            label: s.label(),
            hex: s.hex.clone(),
            values: s.grams.iter().map(|g| g.0).collect(),
        })
        .collect();
    let total = Centigrams(w.totals.iter().map(|g| g.0).sum());
    let summary = match w.series.first() {
        Some(top) => format!(
            "{} used in the last {WEEKS} weeks, {} this week. Most used: {} ({}).",
            grams(total),
            grams(w.totals.last().copied().unwrap_or(Centigrams::ZERO)),
            top.label(),
            grams(top.total)
        ),
        None => format!("No filament used in the last {WEEKS} weeks."),
    };
    html! {
        <div class="filament-use" data-testid="filament-use" data-total-cg={total.0.to_string()}>
            <StackedColumns title="Filament used per week" column_heading="Week of"
                columns={columns} series={series} summary={summary.clone()}
                format={Callback::from(|cg: i64| grams(Centigrams(cg)))} testid="filament-use-chart" />
            <p class="hint">{ summary }</p>
        </div>
    }
}
