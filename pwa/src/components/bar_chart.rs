//! A horizontal bar chart drawn as inline SVG (no chart library): one labelled bar per
//! item, the value written at its end. Screen readers get the caption and a list.

use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    /// The value as shown (`€120.00`).
    pub text: String,
    /// Drawn in the warning colour.
    pub warn: bool,
}

#[derive(Properties, PartialEq)]
pub struct BarChartProps {
    pub title: AttrValue,
    pub bars: Vec<Bar>,
    #[prop_or_default]
    pub testid: AttrValue,
}

const ROW: i64 = 30;
const WIDTH: i64 = 360;
const LABEL_W: i64 = 130;
const VALUE_W: i64 = 80;

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[function_component(BarChart)]
pub fn bar_chart(props: &BarChartProps) -> Html {
    let max = props.bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * props.bars.len().max(1) as i64;
    let span = WIDTH - LABEL_W - VALUE_W;
    html! {
        <figure class="chart" data-testid={props.testid.clone()}>
            <figcaption>{ props.title.clone() }</figcaption>
            if props.bars.is_empty() {
                <p class="hint">{ "Nothing to show yet." }</p>
            } else {
                <svg viewBox={format!("0 0 {WIDTH} {height}")} width="100%" role="img"
                    aria-label={props.title.clone()} preserveAspectRatio="xMinYMin meet">
                    { for props.bars.iter().enumerate().map(|(i, b)| {
                        let y = i as i64 * ROW;
                        let w = (b.value.max(0) * span / max).max(if b.value > 0 { 2 } else { 0 });
                        html! {
                            <g>
                                <text x="0" y={(y + 19).to_string()} class="chart-label">{ clip(&b.label, 18) }</text>
                                <rect x={LABEL_W.to_string()} y={(y + 6).to_string()} width={w.to_string()} height="18" rx="3"
                                    class={classes!("chart-bar", b.warn.then_some("warn"))} />
                                <text x={(LABEL_W + w + 6).to_string()} y={(y + 19).to_string()} class="chart-value">{ &b.text }</text>
                            </g>
                        }
                    }) }
                </svg>
                <ul class="visually-hidden">
                    { for props.bars.iter().map(|b| html! { <li>{ format!("{}: {}", b.label, b.text) }</li> }) }
                </ul>
            }
        </figure>
    }
}
