//! The patient page's chart: nightly worst pain (0–10) as a line over
//! sleep quality (1–5) as bars, one slot per night, drawn as inline SVG on
//! the server so the page needs no script.

use dorsal_domain::programs::NightTrend;
use maud::{Markup, html};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 290.0;
// Margins fit the axis labels at the phone-width font size too (the
// stylesheet doubles the text where the chart is drawn at half size).
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 62.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;
const PAIN: &str = "#c62828";
const SLEEP: &str = "#90b4e6";

fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// The y of `fraction` (0 at the bottom of the plot, 1 at the top).
fn y(fraction: f64) -> f64 {
    TOP + PLOT_H * (1.0 - fraction.clamp(0.0, 1.0))
}

/// Runs of consecutive nights with a pain value, as polyline points.
fn pain_runs(nights: &[NightTrend], x: impl Fn(usize) -> f64) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for (i, night) in nights.iter().enumerate() {
        match night.pain_max {
            Some(pain) => run.push(format!("{},{}", num(x(i)), num(y(pain as f64 / 10.0)))),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run).join(" ")),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run.join(" "));
    }
    runs
}

/// The chart's legend, as text beside it (it wraps at phone width, where
/// text inside the drawing would shrink with it).
pub fn legend() -> Markup {
    html! {
        p .legend {
            span .pain { "Worst night pain (0–10, left axis)" }
            span .sleep { "Sleep quality (1–5, right axis)" }
        }
    }
}

/// The chart for `nights` (oldest first).
pub fn pain_and_sleep(nights: &[NightTrend]) -> Markup {
    let slot = PLOT_W / nights.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let empty = nights
        .iter()
        .all(|n| n.pain_max.is_none() && n.sleep_quality.is_none());
    let bottom = y(0.0);
    html! {
        svg #pain-sleep-chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
            width="100%" role="img" aria-labelledby="chart-title" {
            title #chart-title { "Worst night pain and sleep quality per night" }
            // Grid and both value axes: pain 0, 2, …, 10 on the left is
            // sleep 0, 1, …, 5 on the right.
            @for step in 0..=5u8 {
                @let gy = num(y(f64::from(step) / 5.0));
                line x1=(LEFT) y1=(gy) x2=(LEFT + PLOT_W) y2=(gy) stroke="#d9e2ec" stroke-width="1" {}
                text x=(LEFT - 8.0) y=(gy) dy="4" text-anchor="end" { (step * 2) }
                text x=(LEFT + PLOT_W + 8.0) y=(gy) dy="4" { (step) }
            }
            text transform={ "translate(16 " (num(TOP + PLOT_H / 2.0)) ") rotate(-90)" } text-anchor="middle" { "Pain" }
            text transform={ "translate(" (num(WIDTH - 16.0)) " " (num(TOP + PLOT_H / 2.0)) ") rotate(90)" } text-anchor="middle" { "Sleep" }
            // Sleep bars.
            @for (i, night) in nights.iter().enumerate() {
                @if let Some(quality) = night.sleep_quality {
                    @let top = y(quality / 5.0);
                    rect .sleep x=(num(x(i) - slot * 0.3)) y=(num(top)) width=(num(slot * 0.6))
                        height=(num(bottom - top)) fill=(SLEEP) {
                        title { (night.night_of) ": sleep quality " (num(quality)) }
                    }
                }
            }
            // Pain line, broken where a night has no entry.
            @for points in pain_runs(nights, x) {
                polyline points=(points) fill="none" stroke=(PAIN) stroke-width="2.5" stroke-linejoin="round" {}
            }
            @for (i, night) in nights.iter().enumerate() {
                @if let Some(pain) = night.pain_max {
                    circle .pain cx=(num(x(i))) cy=(num(y(pain as f64 / 10.0))) r="3.5" fill=(PAIN) {
                        title { (night.night_of) ": worst night pain " (pain) }
                    }
                }
            }
            // Night axis: a label every fifth night and on the last.
            line x1=(LEFT) y1=(num(bottom)) x2=(LEFT + PLOT_W) y2=(num(bottom)) stroke="#829ab1" stroke-width="1" {}
            @for (i, night) in nights.iter().enumerate() {
                @if i % 5 == 0 || i + 1 == nights.len() {
                    line x1=(num(x(i))) y1=(num(bottom)) x2=(num(x(i))) y2=(num(bottom + 4.0)) stroke="#829ab1" {}
                    text x=(num(x(i))) y=(num(bottom + 30.0)) text-anchor="middle" {
                        (night.night_of.strftime("%b %d"))
                    }
                }
            }
            text x=(num(LEFT + PLOT_W / 2.0)) y=(num(HEIGHT - 4.0)) text-anchor="middle" { "Night of" }
            @if empty {
                text x=(num(LEFT + PLOT_W / 2.0)) y=(num(TOP + PLOT_H / 2.0)) text-anchor="middle" {
                    "No night pain or sleep logged in these nights"
                }
            }
        }
    }
}
