//! Charts drawn as inline SVG by hand (no chart library, no script): a stacked column chart
//! of figures per period and series (filament grams per week per colour), and a ranked bar
//! chart (the products with the most on hand).
//!
//! Each chart is an `<svg role="img">` named by its `<title>` and `<desc>` (the desc says
//! the largest figures in words), each mark carries its own `<title>`, and the same figures
//! are in a table (behind "Show as a table") for screen readers and for reading exact
//! numbers. Colours come from the data (filament swatches) as SVG `fill` attributes, so the
//! Content-Security-Policy needs nothing new.

use yew::prelude::*;

/// One stacked series: a name, a colour and one value per column.
#[derive(Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// `#rrggbb`.
    pub hex: String,
    pub values: Vec<i64>,
}

#[derive(Properties, PartialEq)]
pub struct StackedColumnsProps {
    /// The chart's name (also its `<title>`).
    pub title: AttrValue,
    /// The columns' names (`16.06.`), oldest first.
    pub columns: Vec<String>,
    /// What each column is, for the table's first header (`Week of`).
    pub column_heading: AttrValue,
    pub series: Vec<Series>,
    /// How a value is written (`1 234 g`).
    pub format: Callback<i64, String>,
    /// A sentence for the `<desc>`.
    #[prop_or_default]
    pub summary: AttrValue,
    #[prop_or_default]
    pub testid: AttrValue,
}

const W: i64 = 360;
const H: i64 = 200;
const LEFT: i64 = 48;
const RIGHT: i64 = 6;
const TOP: i64 = 10;
const BOTTOM: i64 = 24;

/// Only `#` and hex digits reach the `fill` attribute.
pub fn safe_hex(hex: &str) -> String {
    let ok = (hex.len() == 7 || hex.len() == 4)
        && hex.starts_with('#')
        && hex[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok { hex.to_owned() } else { "#888888".into() }
}

/// The axis top: the maximum rounded up to 1, 2 or 5 times a power of ten.
pub fn nice_ceiling(max: i64) -> i64 {
    if max <= 0 {
        return 1;
    }
    let mut step = 1i64;
    while step.saturating_mul(10) <= max {
        step = step.saturating_mul(10);
    }
    for m in [1, 2, 5, 10] {
        let top = step.saturating_mul(m);
        if top >= max {
            return top;
        }
    }
    step.saturating_mul(10)
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[function_component(StackedColumns)]
pub fn stacked_columns(props: &StackedColumnsProps) -> Html {
    let n = props.columns.len().max(1) as i64;
    let totals: Vec<i64> = (0..props.columns.len())
        .map(|i| {
            props
                .series
                .iter()
                .filter_map(|s| s.values.get(i))
                .map(|v| (*v).max(0))
                .sum()
        })
        .collect();
    let top = nice_ceiling(totals.iter().copied().max().unwrap_or(0));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / n;
    let bar_w = (slot * 7 / 10).max(2);
    let y_of = |v: i64| TOP + plot_h - v.saturating_mul(plot_h) / top;
    let id = format!("chart-{}", slug(&props.title));
    let every = if n > 8 { 2 } else { 1 };
    let empty = props.series.is_empty();

    html! {
        <figure class="chart" data-testid={props.testid.clone()}>
            <figcaption id={format!("{id}-caption")}>{ props.title.clone() }</figcaption>
            if empty {
                <p class="hint">{ "Nothing to show yet." }</p>
            } else {
                <svg viewBox={format!("0 0 {W} {H}")} width="100%" role="img"
                    aria-labelledby={format!("{id}-title {id}-desc")} preserveAspectRatio="xMinYMin meet">
                    <title id={format!("{id}-title")}>{ props.title.clone() }</title>
                    <desc id={format!("{id}-desc")}>{ props.summary.clone() }</desc>
                    // The value axis: 0, half and the top, with grid lines.
                    { for [0, top / 2, top].into_iter().map(|v| { let y = y_of(v); html! {
                        <g class="chart-grid" aria-hidden="true">
                            <line x1={LEFT.to_string()} x2={(W - RIGHT).to_string()} y1={y.to_string()} y2={y.to_string()} />
                            <text x={(LEFT - 4).to_string()} y={(y + 4).to_string()} text-anchor="end" class="chart-axis">{ props.format.emit(v) }</text>
                        </g>
                    } }) }
                    { for props.columns.iter().enumerate().map(|(i, name)| {
                        let x = LEFT + i as i64 * slot + (slot - bar_w) / 2;
                        let mut base = 0i64;
                        html! {
                            <g class="chart-column" data-column={name.clone()} data-total={totals.get(i).copied().unwrap_or(0).to_string()}>
                                { for props.series.iter().filter_map(|s| {
                                    let v = s.values.get(i).copied().unwrap_or(0).max(0);
                                    if v == 0 { return None; }
                                    let (y0, y1) = (y_of(base), y_of(base + v));
                                    base += v;
                                    Some(html! {
                                        <rect x={x.to_string()} y={y1.to_string()} width={bar_w.to_string()}
                                            height={(y0 - y1).max(1).to_string()} fill={safe_hex(&s.hex)} class="chart-segment">
                                            <title>{ format!("{name}: {} {}", s.label, props.format.emit(v)) }</title>
                                        </rect>
                                    })
                                }) }
                                if i as i64 % every == 0 || i + 1 == props.columns.len() {
                                    <text x={(x + bar_w / 2).to_string()} y={(H - 6).to_string()} text-anchor="middle" class="chart-axis" aria-hidden="true">{ name.clone() }</text>
                                }
                            </g>
                        }
                    }) }
                </svg>
                <ul class="chart-legend" aria-label="Colours">
                    { for props.series.iter().map(|s| html! {
                        <li><svg class="legend-swatch" viewBox="0 0 10 10" width="14" height="14" aria-hidden="true"><rect width="10" height="10" rx="2" fill={safe_hex(&s.hex)} /></svg>{ s.label.clone() }</li>
                    }) }
                </ul>
                <details class="chart-table">
                    <summary>{ "Show as a table" }</summary>
                    <table>
                        <caption class="visually-hidden">{ props.title.clone() }</caption>
                        <thead>
                            <tr>
                                <th scope="col">{ props.column_heading.clone() }</th>
                                { for props.series.iter().map(|s| html! { <th scope="col">{ s.label.clone() }</th> }) }
                                <th scope="col">{ "Total" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for props.columns.iter().enumerate().map(|(i, name)| html! {
                                <tr>
                                    <th scope="row">{ name.clone() }</th>
                                    { for props.series.iter().map(|s| html! { <td>{ props.format.emit(s.values.get(i).copied().unwrap_or(0).max(0)) }</td> }) }
                                    <td>{ props.format.emit(totals.get(i).copied().unwrap_or(0)) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </details>
            }
        </figure>
    }
}

/// One ranked bar.
#[derive(Clone, PartialEq)]
pub struct RankedBar {
    pub label: String,
    pub value: i64,
    /// Drawn in the warning colour (below zero, low).
    pub warn: bool,
}

#[derive(Properties, PartialEq)]
pub struct RankedBarsProps {
    pub title: AttrValue,
    /// The table's header for the label column (`Product`).
    pub label_heading: AttrValue,
    /// The table's header for the value column (`On hand`).
    pub value_heading: AttrValue,
    pub bars: Vec<RankedBar>,
    #[prop_or_default]
    pub summary: AttrValue,
    #[prop_or_default]
    pub testid: AttrValue,
}

const ROW: i64 = 26;
const LABEL_W: i64 = 150;

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Horizontal bars, largest first as given; values below zero draw no bar (their number
/// is written in the warning colour).
#[function_component(RankedBars)]
pub fn ranked_bars(props: &RankedBarsProps) -> Html {
    let max = props.bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * props.bars.len().max(1) as i64;
    let span = W - LABEL_W - 50;
    let id = format!("chart-{}", slug(&props.title));
    html! {
        <figure class="chart" data-testid={props.testid.clone()}>
            <figcaption>{ props.title.clone() }</figcaption>
            if props.bars.is_empty() {
                <p class="hint">{ "Nothing to show yet." }</p>
            } else {
                <svg viewBox={format!("0 0 {W} {height}")} width="100%" role="img"
                    aria-labelledby={format!("{id}-title {id}-desc")} preserveAspectRatio="xMinYMin meet">
                    <title id={format!("{id}-title")}>{ props.title.clone() }</title>
                    <desc id={format!("{id}-desc")}>{ props.summary.clone() }</desc>
                    { for props.bars.iter().enumerate().map(|(i, b)| {
                        let y = i as i64 * ROW;
                        let w = (b.value.max(0) * span / max).max(if b.value > 0 { 2 } else { 0 });
                        html! {
                            <g data-testid="ranked-bar" data-value={b.value.to_string()}>
                                <title>{ format!("{}: {}", b.label, b.value) }</title>
                                <text x="0" y={(y + 17).to_string()} class="chart-label">{ clip(&b.label, 22) }</text>
                                <rect x={LABEL_W.to_string()} y={(y + 5).to_string()} width={w.to_string()} height="16" rx="3"
                                    class={classes!("chart-bar", b.warn.then_some("warn"))} />
                                <text x={(LABEL_W + w + 6).to_string()} y={(y + 17).to_string()}
                                    class={classes!("chart-value", b.warn.then_some("warn"))}>{ b.value.to_string() }</text>
                            </g>
                        }
                    }) }
                </svg>
                <details class="chart-table">
                    <summary>{ "Show as a table" }</summary>
                    <table>
                        <caption class="visually-hidden">{ props.title.clone() }</caption>
                        <thead><tr><th scope="col">{ props.label_heading.clone() }</th><th scope="col">{ props.value_heading.clone() }</th></tr></thead>
                        <tbody>
                            { for props.bars.iter().map(|b| html! {
                                <tr><th scope="row">{ b.label.clone() }</th><td>{ b.value.to_string() }</td></tr>
                            }) }
                        </tbody>
                    </table>
                </details>
            }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::{nice_ceiling, safe_hex};

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(10), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(4_200), 5_000);
        assert_eq!(nice_ceiling(52_000), 100_000);
        assert_eq!(nice_ceiling(200_000), 200_000);
    }

    #[test]
    fn only_hex_colours_reach_the_fill() {
        assert_eq!(safe_hex("#c0392b"), "#c0392b");
        assert_eq!(safe_hex("#fff"), "#fff");
        assert_eq!(safe_hex("red;x"), "#888888");
        assert_eq!(safe_hex("#12345g"), "#888888");
    }
}
