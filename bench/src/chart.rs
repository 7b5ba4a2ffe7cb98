//! `figures.png`: each figure beside its reference or target, as grouped
//! bars (plotters, bitmap backend). Text is drawn with the system's DejaVu
//! Sans (Debian package `fonts-dejavu-core`), read at run time.

use std::path::Path;

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{
    ALERT_P95_TARGET, IDLE_TARGET_KIB, LOAD_P99_TARGET, PULL_TARGET, PUSH_TARGET, Results,
    TICK_TARGET, push_has_target,
};

const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1560;
const FONTS: [(&str, FontStyle); 2] = [
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        FontStyle::Normal,
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        FontStyle::Bold,
    ),
];
const DORSAL: RGBColor = RGBColor(31, 119, 180);
const REFERENCE: RGBColor = RGBColor(150, 150, 150);
const LOW: RGBColor = RGBColor(120, 180, 225);
const HIGH: RGBColor = RGBColor(230, 130, 30);
const TARGET: RGBColor = RGBColor(200, 30, 30);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// One panel of grouped bars.
struct Panel {
    title: String,
    unit: &'static str,
    /// Label lines under each group.
    groups: Vec<[String; 2]>,
    series: Vec<(&'static str, RGBColor)>,
    /// `[group][series]`.
    values: Vec<Vec<f64>>,
    /// A target per group, drawn as a red line across it.
    targets: Vec<Option<f64>>,
    target_label: &'static str,
    format: fn(f64) -> String,
}

fn register_fonts() -> anyhow::Result<()> {
    for (path, style) in FONTS {
        let bytes = std::fs::read(path).with_context(|| {
            format!("reading the chart's font {path} (Debian: apt-get install fonts-dejavu-core)")
        })?;
        // plotters keeps fonts for the life of the process.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        if plotters::style::register_font("sans-serif", style, bytes).is_err() {
            bail!("{path} is not a font plotters can read");
        }
    }
    Ok(())
}

fn draw_panel(root: &Area, area: &Area, panel: &Panel) -> anyhow::Result<()> {
    if panel.groups.is_empty() {
        return Ok(());
    }
    let top = panel
        .values
        .iter()
        .flatten()
        .copied()
        .chain(panel.targets.iter().flatten().copied())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        // Room above the bars for their values and the legend.
        * 1.4;
    let n = panel.groups.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            &panel.title,
            ("sans-serif", 21).into_font().style(FontStyle::Bold),
        )
        .margin(12)
        .margin_bottom(8)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)?;
    let format = panel.format;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_desc(panel.unit)
        .y_label_formatter(&|v| format(*v))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;

    if panel.targets.iter().any(Option::is_some) {
        let target = TARGET.stroke_width(3);
        chart
            .draw_series(panel.targets.iter().enumerate().filter_map(|(g, t)| {
                let t = (*t)?;
                Some(PathElement::new(
                    vec![(g as f64 - 0.47, t), (g as f64 + 0.47, t)],
                    target,
                ))
            }))?
            .label(panel.target_label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], target));
    }
    let k = panel.series.len() as f64;
    let width = 0.8 / k;
    let value_style = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    for (s, (name, color)) in panel.series.iter().enumerate() {
        let left = |g: usize| g as f64 - 0.4 + s as f64 * width;
        chart
            .draw_series(panel.values.iter().enumerate().map(|(g, values)| {
                let x = left(g);
                Rectangle::new(
                    [(x + 0.02, 0.0), (x + width - 0.02, values[s])],
                    color.filled(),
                )
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        chart.draw_series(panel.values.iter().enumerate().map(|(g, values)| {
            Text::new(
                format(values[s]),
                (left(g) + width / 2.0, values[s]),
                value_style.clone(),
            )
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()?;

    let label_style = ("sans-serif", 15)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (g, lines) in panel.groups.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64, 0.0));
        for (i, line) in lines.iter().enumerate() {
            root.draw(&Text::new(
                line.as_str(),
                (x, y + 8 + 19 * i as i32),
                label_style.clone(),
            ))?;
        }
    }
    Ok(())
}

fn thousands_k(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn millis(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn ratio(v: f64) -> String {
    format!("{v:.2}")
}

fn panels(results: &Results) -> Vec<Panel> {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let mut throughput = Panel {
        title: "Sync throughput (higher is better)".into(),
        unit: "rows/s",
        groups: Vec::new(),
        series: vec![
            ("dorsal over HTTP", DORSAL),
            ("raw SQL, same run", REFERENCE),
        ],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "",
        format: thousands_k,
    };
    let mut ratios = Panel {
        title: "dorsal ÷ raw SQL, against SPEC targets".into(),
        unit: "ratio",
        groups: Vec::new(),
        series: vec![("dorsal ÷ raw SQL", DORSAL)],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "target (at least)",
        format: ratio,
    };
    for (verb, reference) in [("push", "vs INSERT"), ("pull", "vs JSON SELECT")] {
        for (database, f) in &results.sync {
            let (ours, raw, target) = match verb {
                "push" => (
                    f.push,
                    f.raw_insert,
                    push_has_target(database).then_some(PUSH_TARGET),
                ),
                _ => (f.pull, f.raw_select, Some(PULL_TARGET)),
            };
            throughput
                .groups
                .push([format!("{verb}, {database}"), reference.to_owned()]);
            throughput.values.push(vec![ours, raw]);
            throughput.targets.push(None);
            ratios
                .groups
                .push([format!("{verb}, {database}"), reference.to_owned()]);
            ratios.values.push(vec![ours / raw]);
            ratios.targets.push(target);
        }
    }

    let errors: Vec<String> = results
        .load
        .iter()
        .map(|(database, f)| {
            let errors: usize = f
                .endpoints
                .iter()
                .filter(|e| e.endpoint.is_endpoint())
                .map(|e| e.errors)
                .sum();
            format!("{database} {errors}")
        })
        .collect();
    let mut load = Panel {
        title: format!(
            "{} devices × {} s: latency per request (errors: {})",
            crate::load::DEVICES,
            crate::load::SECONDS,
            errors.join(", ")
        ),
        unit: "ms",
        groups: Vec::new(),
        series: vec![("p50", LOW), ("p99", HIGH)],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "p99 target",
        format: millis,
    };
    for (database, f) in &results.load {
        for e in &f.endpoints {
            let name = match e.endpoint {
                crate::load::Endpoint::Pull => "pull",
                crate::load::Endpoint::Push => "push",
                crate::load::Endpoint::RedFlagPush => "red-flag pushes",
            };
            load.groups.push([name.to_owned(), database.to_string()]);
            load.values.push(vec![ms(e.p50), ms(e.p99)]);
            load.targets
                .push(e.endpoint.is_endpoint().then(|| ms(LOAD_P99_TARGET)));
        }
    }

    let mut alerts = Panel {
        title: format!(
            "Red-flag push → webhook (target p95 ≤ {:.0} ms)",
            ms(ALERT_P95_TARGET)
        ),
        unit: "ms",
        groups: Vec::new(),
        series: vec![("p50", LOW), ("p95", HIGH)],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "aim, 50 ms",
        format: millis,
    };
    for (database, f) in &results.latency {
        alerts
            .groups
            .push([database.to_string(), "one at a time".into()]);
        alerts.values.push(vec![ms(f.p50), ms(f.p95)]);
        alerts.targets.push(Some(50.0));
    }
    for (database, f) in &results.load {
        alerts.groups.push([
            database.to_string(),
            format!("under load, {}/{}", f.delivered, f.red_flags),
        ]);
        alerts.values.push(vec![ms(f.alert_p50), ms(f.alert_p95)]);
        alerts.targets.push(Some(50.0));
    }

    let mut tick = Panel {
        title: "Reminder tick, 100,000 patients, 1,000 due".into(),
        unit: "ms",
        groups: Vec::new(),
        series: vec![("dorsal tick", DORSAL), ("raw SQL, same run", REFERENCE)],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "target (at most)",
        format: millis,
    };
    for (database, f) in &results.reminders {
        tick.groups.push([
            database.to_string(),
            format!(
                "RSS {:.0} → {:.0} MiB",
                f.rss_first_kib as f64 / 1024.0,
                f.rss_last_kib as f64 / 1024.0
            ),
        ]);
        tick.values.push(vec![ms(f.tick), ms(f.raw)]);
        tick.targets.push(Some(ms(TICK_TARGET)));
    }

    let mut idle = Panel {
        title: "dorsal serve resident memory".into(),
        unit: "MiB",
        groups: Vec::new(),
        series: vec![("at rest", DORSAL), ("peak (startup)", REFERENCE)],
        values: Vec::new(),
        targets: Vec::new(),
        target_label: "target at rest (at most)",
        format: millis,
    };
    for (database, f) in &results.idle {
        idle.groups.push([database.to_string(), String::new()]);
        idle.values
            .push(vec![f.rss_kib as f64 / 1024.0, f.peak_kib as f64 / 1024.0]);
        idle.targets.push(Some(IDLE_TARGET_KIB as f64 / 1024.0));
    }
    vec![throughput, ratios, load, alerts, tick, idle]
}

/// Draws the figures in `results` to `path` (PNG).
pub fn draw(results: &Results, path: &Path) -> anyhow::Result<()> {
    register_fonts()?;
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(
        "dorsal benchmark: each figure beside its reference, same run (bench/report/REPORT.md)",
        ("sans-serif", 26).into_font().style(FontStyle::Bold),
    )?;
    let panels = panels(results);
    let areas = body.split_evenly((3, 2));
    for (area, panel) in areas.iter().zip(&panels) {
        draw_panel(&root, area, panel)?;
    }
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
