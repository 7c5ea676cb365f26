//! The labs: one experiment per claim of the catalogue (`blocklab labs
//! --list` prints it; the book's chapters discuss each claim), each
//! building its data with a fixed seed on a fresh database, measuring, and
//! turning what it measured into a verdict.
//!
//! ```text
//!  registry() ──▶ Lab { id, title, claim, run }
//!                         │  run(&mut LabCtx)   (fresh databases in a temp dir)
//!                         ▼
//!                 Report { evidence, params, verdict, reason }
//!                         │  render() / to_json()
//!                         ▼
//!                 terminal table, --json file
//! ```
//!
//! Rules every lab keeps:
//!
//! * **Counters first.** Evidence is mostly exact engine counters, which are
//!   deterministic for a single-session workload with the background writer
//!   off (`LabCtx::config`): running a lab twice gives identical counter
//!   evidence, and `tests/labs.rs` pins it. Timings, where a claim is about
//!   time, come second, as a median with its spread, and are never pinned.
//! * **A verdict rests on counters where a counter explains the time.**
//!   When redo bytes, undo bytes, gets, calls or syncs explain why one way
//!   is slower, the verdict is computed from them and is the same on every
//!   run; the timings are shown beside it (`Report::timing_note`) but do
//!   not decide it, and the book's transcripts carry the verdict. Only a
//!   claim about time itself (`Report::timed_verdict`) rests on timings.
//! * **Verdicts are computed.** Each lab has a `verdict` function next to
//!   its claim text that maps its evidence to `holds`, `does not hold` or
//!   `depends` plus the measured reason; the function is written from the
//!   claim, not tuned to a result, and is unit-tested on synthetic evidence
//!   for each outcome. No verdict is a literal.
//! * **Sizes.** `--quick` uses small data so the whole catalogue runs in a
//!   few minutes on two cores; the default size is what the book quotes.
//!   A verdict that rests on counters gives the same verdict at both sizes
//!   (every lab does today); one that did not would say so in its reason,
//!   with the size at which it changes.
//! * **Public API only.** This is a crate of its own (`blocklab-labs`,
//!   depending on the engine crate `blocklab`), so a lab can reach only
//!   what any program using the engine can: what it measures is what a
//!   student's own code could measure.

mod access;
mod dml;
mod index;
mod joins;
mod ops;
mod physical;
pub mod rng;

pub use access::{
    c15_verdict, c16_verdict, c17_verdict, c18_verdict, c19_verdict, c20_verdict, c21_verdict,
    c22_verdict, c23_verdict, c25_verdict, C15Case, C15Evidence, C16Evidence, C16Side, C17Evidence,
    C17Query, C18Evidence, C18Query, C19Evidence, C19Shape, C20Evidence, C20Side, C21Evidence,
    C21Form, C22Evidence, C22Run, C23Evidence, C23Form, C25Candidate, C25Evidence,
};
pub use dml::{
    c01_verdict, c02_verdict, c03_verdict, c04_verdict, c05_verdict, c09_verdict, c10_verdict,
    c11_verdict, c12_verdict, c13_verdict, c14_verdict, sep, C01Evidence, C02Evidence, C03Evidence,
    C04Evidence, C05Evidence, C09Evidence, C10Evidence, C11Evidence, C12Evidence, C13Evidence,
    C14Evidence, Sep, Timing,
};
pub use dml::{c29_timing_note, c29_verdict, C29Evidence, C29Way, C29_WAYS};
pub use dml::{c35_predicted_gets, c35_verdict, ratio_ci, C35Evidence, C35Fetch, C35_ARRAY_SIZES};
pub use index::{c24_verdict, c26_verdict, C24Evidence, C26Evidence};
pub use joins::{
    c27_timing_note, c27_verdict, c28_verdict, C27Evidence, C27Method, C27Point, C28Evidence,
    C28Form, C28Point, C27_MARGIN_PERCENT,
};
pub use ops::{
    c31_verdict, c33_verdict, c41_verdict, c42_verdict, C31Evidence, C33Evidence, C41Evidence,
    C42Evidence,
};
pub use physical::{
    c06_verdict, c07_verdict, c08_verdict, c30_verdict, c32_verdict, c34_verdict, c40_verdict,
    C06Evidence, C06Point, C07Cleanout, C07Evidence, C07Run, C08Evidence, C08Queue, C08Throughput,
    C30Evidence, C30Point, C32Evidence, C32Point, C34Evidence, C34Scan, C40Evidence, C40Scenario,
    C07_LONG_RETENTION_MS,
};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::{Stat, StatsSnapshot};

/// A lab's conclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    DoesNotHold,
    Depends,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::Depends => "depends",
        }
    }
}

/// One measured number.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// A stable name (`full_scan.consistent_gets`): the key in JSON and in
    /// the counter tests.
    pub name: String,
    pub value: f64,
    /// `count`, `blocks`, `bytes`, `ms`, `rows/s`, …
    pub unit: &'static str,
    /// For timings: (min, max) of the repetitions; `None` for counters.
    pub spread: Option<(f64, f64)>,
}

impl Evidence {
    /// An exact counter.
    pub fn counter(name: impl Into<String>, value: u64, unit: &'static str) -> Evidence {
        Evidence {
            name: name.into(),
            value: value as f64,
            unit,
            spread: None,
        }
    }

    /// A timing: the median of `samples`, with their min and max.
    pub fn timing(name: impl Into<String>, samples: &[f64], unit: &'static str) -> Evidence {
        let mut s = samples.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let median = s.get(s.len() / 2).copied().unwrap_or(0.0);
        Evidence {
            name: name.into(),
            value: median,
            unit,
            spread: Some((
                s.first().copied().unwrap_or(0.0),
                s.last().copied().unwrap_or(0.0),
            )),
        }
    }

    pub fn is_timing(&self) -> bool {
        self.spread.is_some()
    }
}

/// What a lab found.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: &'static str,
    pub title: &'static str,
    pub claim: &'static str,
    pub verdict: Verdict,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub params: Vec<(String, String)>,
    /// Extra lines of evidence worth showing as text (a plan, a listing).
    pub notes: Vec<String>,
    /// A curve worth drawing (`blocklab labs --report DIR` writes it as SVG).
    pub chart: Option<Chart>,
    /// Whether the verdict reads a timing. `report` assumes so when any
    /// evidence is a timing; a lab whose verdict rests on counters only
    /// clears it, and its verdict is then part of the deterministic
    /// transcript.
    pub timed_verdict: bool,
    /// What the timings say beside a verdict that rests on counters
    /// (shown only with the timings, since it changes from run to run).
    pub timing_note: Option<String>,
}

/// Measured series over one parameter (number of indexes, commit
/// interval, IN-list length, cluster ratio, undo size…).
///
/// A chart drawn from counters only is as deterministic as the counters:
/// the book keeps the quick-size SVGs (book/src/charts) and
/// `tests/charts.rs` redraws them and compares byte for byte. A chart with
/// a timing in it says so (`timings`) and is only checked to exist.
/// `blocklab labs --report DIR` writes one as `DIR/<ID>.svg`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    /// Whether any series plots a timing (it changes from run to run).
    pub timings: bool,
    /// (name, points)
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Powers of ten equally spaced: for parameters and counters spanning
    /// several orders of magnitude (k = 2…1000, bytes next to gets). Points
    /// at or below zero cannot be placed and are left out.
    Log,
}

impl Report {
    /// The value of a named piece of evidence.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.evidence
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value)
    }

    /// The counter evidence only (what the counter tests pin), in order.
    pub fn counters(&self) -> Vec<(String, u64)> {
        self.evidence
            .iter()
            .filter(|e| !e.is_timing())
            .map(|e| (e.name.clone(), e.value as u64))
            .collect()
    }

    /// The report as a terminal table: counters, then timings, then the
    /// verdict and its reason.
    pub fn render(&self) -> String {
        self.render_with(true)
    }

    /// The report without its timings: deterministic, so the book can
    /// quote it and CI can check the quote (`tests/labs.rs`). A verdict
    /// that rests on timings is left out too; one that rests on counters
    /// is kept, without its timing note.
    pub fn render_counters(&self) -> String {
        self.render_with(false)
    }

    fn render_with(&self, timings: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== {} {} ==", self.id, self.title);
        let _ = writeln!(out, "claim: {}", self.claim);
        if !self.params.is_empty() {
            let p: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(out, "params: {}", p.join(" "));
        }
        let w = self
            .evidence
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(8)
            .max(8);
        for e in self.evidence.iter().filter(|e| !e.is_timing()) {
            let _ = writeln!(out, "  {:w$}  {:>14}  {}", e.name, fmt_num(e.value), e.unit);
        }
        for e in self.evidence.iter().filter(|e| timings && e.is_timing()) {
            let (lo, hi) = e.spread.unwrap_or((e.value, e.value));
            let _ = writeln!(
                out,
                "  {:w$}  {:>14}  {} (min {}, max {})",
                e.name,
                fmt_num(e.value),
                e.unit,
                fmt_num(lo),
                fmt_num(hi)
            );
        }
        for n in &self.notes {
            for line in n.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
        if timings || !self.timed_verdict {
            let _ = writeln!(out, "verdict: {} — {}", self.verdict.as_str(), self.reason);
            if let (true, Some(note)) = (timings, &self.timing_note) {
                let _ = writeln!(out, "timings: {note}");
            }
        } else {
            let _ = writeln!(
                out,
                "verdict: (rests on timings: run the lab to see it and its reason)"
            );
        }
        out
    }

    /// One JSON object: `id`, `title`, `verdict`, `reason`, `evidence`
    /// (name → value; timings as {median, min, max, unit}), `params`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut ev = serde_json::Map::new();
        for e in &self.evidence {
            let v = match e.spread {
                None if e.value.fract() == 0.0 && e.value.abs() < 9.0e15 => {
                    serde_json::json!(e.value as i64)
                }
                None => serde_json::json!(e.value),
                Some((lo, hi)) => serde_json::json!({
                    "median": e.value, "min": lo, "max": hi, "unit": e.unit
                }),
            };
            ev.insert(e.name.clone(), v);
        }
        let params: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), json_scalar(v)))
            .collect();
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "claim": self.claim,
            "verdict": self.verdict.as_str(),
            "reason": self.reason,
            "verdict_rests_on": if self.timed_verdict { "timings" } else { "counters" },
            "timing_note": self.timing_note,
            "evidence": ev,
            "params": params,
        })
    }
}

/// A parameter's text as JSON: a number when it reads as one (`10`,
/// `0.5`), so `--json` consumers need not parse strings; else the text.
fn json_scalar(text: &str) -> serde_json::Value {
    if let Ok(i) = text.parse::<i64>() {
        return serde_json::json!(i);
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => serde_json::json!(f),
        _ => serde_json::Value::String(text.to_string()),
    }
}

/// The claim of each lab in a few words, for the summary table that
/// `blocklab labs` ends with (the titles are whole sentences).
pub const SHORT_CLAIMS: &[(&str, &str)] = &[
    ("C01", "indexes tax every change"),
    ("C02", "PK/FK cost more than CHECK"),
    ("C03", "DML cost follows redo"),
    ("C04", "fast commit waits for redo only"),
    ("C05", "undo: rollback, recovery, CR"),
    ("C06", "CR rolls clones back with undo"),
    ("C07", "snapshot too old"),
    ("C08", "locks serialise writers"),
    ("C09", "write-ahead logging"),
    ("C10", "commit at a sensible interval"),
    ("C11", "array processing, parse once"),
    ("C12", "unusable + load + rebuild"),
    ("C13", "direct-path insert"),
    ("C14", "appended rows, HWM"),
    ("C15", "matching vs screening"),
    ("C16", "pinned table block"),
    ("C17", "index access cost formula"),
    ("C18", "contiguous up to first range"),
    ("C19", "BETWEEN vs IN-list"),
    ("C20", "NUM_INDEX_KEYS"),
    ("C21", "BETWEEN x AND x vs LIKE 'x%'"),
    ("C22", "optional filter: OR vs UNION"),
    ("C23", "LIKE/BETWEEN rewrites wrong"),
    ("C24", "function runs once per row"),
    ("C25", "index column order"),
    ("C26", "index skips the ORDER BY sort"),
    ("C27", "nested loops vs hash join"),
    ("C28", "drive an index from a table"),
    ("C29", "one SQL beats a loop"),
    ("C30", "clustering and range scans"),
    ("C31", "plan-diff test vs production"),
    ("C32", "sorted rowids save reads"),
    ("C33", "plan regresses by join method"),
    ("C34", "a query can generate redo"),
    ("C35", "fetch array size"),
    ("C40", "open transaction grows undo"),
    ("C41", "DDL history in the redo"),
    ("C42", "recover to an SCN and replay"),
];

/// The few-words claim of lab `id` (its title when none is listed).
pub fn short_claim(id: &str, title: &'static str) -> &'static str {
    SHORT_CLAIMS
        .iter()
        .find(|(i, _)| *i == id)
        .map_or(title, |(_, s)| s)
}

impl Report {
    /// The figure that decided the verdict, for the summary table: the
    /// reason's first clause (each lab's reason starts with its deciding
    /// measurement), cut at `max` characters on a word boundary.
    pub fn figure(&self, max: usize) -> String {
        let first = self.reason.split(';').next().unwrap_or("").trim();
        if first.chars().count() <= max {
            return first.to_string();
        }
        let mut cut: String = first.chars().take(max.saturating_sub(1)).collect();
        if let Some(space) = cut.rfind(' ') {
            cut.truncate(space);
        }
        cut.push('…');
        cut
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Where a lab runs: its size, seed and scratch directory.
pub struct LabCtx {
    pub quick: bool,
    pub seed: u64,
    root: PathBuf,
    next: u32,
    progress: Box<dyn FnMut(&str) + Send>,
}

impl LabCtx {
    /// A context whose databases live under `root` (created, and removed
    /// when the context is dropped).
    pub fn new(root: &Path, quick: bool) -> Result<LabCtx> {
        std::fs::create_dir_all(root).map_err(|e| Error::Io {
            path: root.to_path_buf(),
            source: e,
        })?;
        Ok(LabCtx {
            quick,
            seed: 42,
            root: root.to_path_buf(),
            next: 0,
            progress: Box::new(|_| {}),
        })
    }

    /// Reports the steps of long labs (the binary draws a progress line).
    pub fn on_progress(&mut self, f: impl FnMut(&str) + Send + 'static) {
        self.progress = Box::new(f);
    }

    pub fn step(&mut self, what: &str) {
        (self.progress)(what);
    }

    /// `quick` or `full` size.
    pub fn size(&self, quick: u64, full: u64) -> u64 {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// The configuration labs start from: counters deterministic (no
    /// background writer), everything else default.
    pub fn config(&self) -> Config {
        Config {
            background_writer: false,
            ..Config::default()
        }
    }

    /// A fresh directory for a database (or a backup).
    pub fn dir(&mut self, name: &str) -> PathBuf {
        self.next += 1;
        let d = self.root.join(format!("{:02}-{name}", self.next));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// A fresh database with `cfg`.
    pub fn database(&mut self, name: &str, cfg: Config) -> Result<(Database, PathBuf)> {
        let d = self.dir(name);
        Ok((Database::open(&d, cfg)?, d))
    }

    /// A fresh database with `cfg` and one session on it: how most labs
    /// start. The database comes first in the pair so that, bound as
    /// `let (db, s) = ...`, the session is dropped before its database.
    pub fn open(&mut self, name: &str, cfg: Config) -> Result<(Database, Session)> {
        let (db, _) = self.database(name, cfg)?;
        let s = db.session();
        Ok((db, s))
    }
}

impl Drop for LabCtx {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One lab: a claim and the experiment that measures it.
pub struct Lab {
    pub id: &'static str,
    pub title: &'static str,
    pub claim: &'static str,
    pub run: fn(&mut LabCtx) -> Result<Report>,
}

/// Every lab, in catalogue order.
pub fn registry() -> Vec<Lab> {
    let mut v = Vec::new();
    v.extend(access::labs());
    v.extend(dml::labs());
    v.extend(index::labs());
    v.extend(joins::labs());
    v.extend(ops::labs());
    v.extend(physical::labs());
    // Catalogue order: the groups interleave (C25 is in `access`, C24 and
    // C26 in `index`), and every ID has two digits, so sorting by ID is it.
    v.sort_by_key(|l| l.id);
    v
}

/// Runs `f` `reps` times and returns the elapsed times in milliseconds.
pub fn time_ms(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// The difference of two snapshots' `stat`.
pub(crate) fn delta(after: &StatsSnapshot, before: &StatsSnapshot, stat: Stat) -> u64 {
    after.get(stat).saturating_sub(before.get(stat))
}

/// Builds a report from its parts (shared by every lab).
pub(crate) fn report(
    lab: (&'static str, &'static str, &'static str),
    (verdict, reason): (Verdict, String),
    evidence: Vec<Evidence>,
    params: Vec<(String, String)>,
    notes: Vec<String>,
) -> Report {
    let timed_verdict = evidence.iter().any(Evidence::is_timing);
    Report {
        id: lab.0,
        title: lab.1,
        claim: lab.2,
        verdict,
        reason,
        evidence,
        params,
        notes,
        chart: None,
        timed_verdict,
        timing_note: None,
    }
}

/// Draws `chart` as an SVG file (720×440). The drawing depends only on
/// the chart, so a chart of counters gives the same bytes every run.
pub fn write_svg(chart: &Chart, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    let points = || chart.series.iter().flat_map(|(_, p)| p.iter());
    let x = axis_range(points().map(|p| p.0).collect(), chart.x_scale, false);
    let y = axis_range(points().map(|p| p.1).collect(), chart.y_scale, true);
    // Each pair of scales is a different coordinate type, hence four calls
    // of one generic function.
    let drawn = match (chart.x_scale, chart.y_scale) {
        (Scale::Linear, Scale::Linear) => draw(&root, chart, x, y),
        (Scale::Linear, Scale::Log) => draw(&root, chart, x, y.log_scale()),
        (Scale::Log, Scale::Linear) => draw(&root, chart, x.log_scale(), y),
        (Scale::Log, Scale::Log) => draw(&root, chart, x.log_scale(), y.log_scale()),
    };
    drawn
        .and_then(|()| root.present().map_err(|e| e.to_string()))
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })
}

/// Whether a value can be placed on an axis of `scale`.
fn placeable(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// The range an axis shows: a linear axis spans the points (a y axis from
/// 0, with 8% headroom); a log axis spans the positive values with a
/// margin either side.
fn axis_range(values: Vec<f64>, scale: Scale, from_zero: bool) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|&v| placeable(scale, v))
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    match scale {
        Scale::Log if lo > hi => 1.0..10.0,
        Scale::Log => lo / 1.5..hi * 1.5,
        Scale::Linear if from_zero => 0.0..if hi > 0.0 { hi * 1.08 } else { 1.0 },
        Scale::Linear if lo > hi => 0.0..1.0,
        Scale::Linear if lo == hi => lo..lo + 1.0,
        Scale::Linear => lo..hi,
    }
}

/// An axis tick: whole numbers without decimals, others with three
/// significant digits.
fn tick(v: &f64) -> String {
    let v = *v;
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Line colours, dark enough to read on white, in the order of the series.
const SERIES_COLORS: [plotters::style::RGBColor; 8] = {
    use plotters::style::RGBColor as C;
    [
        C(0x4e, 0x79, 0xa7),
        C(0xf2, 0x8e, 0x2b),
        C(0xe1, 0x57, 0x59),
        C(0x59, 0xa1, 0x4f),
        C(0xb0, 0x7a, 0xa1),
        C(0x9c, 0x75, 0x5f),
        C(0x76, 0xb7, 0xb2),
        C(0x79, 0x70, 0x6e),
    ]
};

fn draw<DB, X, Y>(
    root: &plotters::drawing::DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
    x: X,
    y: Y,
) -> std::result::Result<(), String>
where
    DB: plotters::prelude::DrawingBackend,
    X: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    X::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
{
    use plotters::prelude::*;
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut xs: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let xs = xs.len();
    root.fill(&WHITE).map_err(err)?;
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        // No more ticks than measured x values: integer parameters
        // (indexes, threads) get no half-way ticks.
        .x_labels((xs + 1).clamp(6, 12))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in chart.series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()].to_rgba();
        let points: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|&(x, y)| placeable(chart.x_scale, x) && placeable(chart.y_scale, y))
            .collect();
        c.draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(err)?
        .label(name.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        c.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lab_has_a_short_claim_and_its_figure_fits() {
        for lab in registry() {
            let short = short_claim(lab.id, lab.title);
            assert!(short.len() <= 32 && short != lab.title, "{}", lab.id);
        }
        let r = report(
            ("C00", "t", "c"),
            (
                Verdict::Holds,
                "per row: gets 0.1 -> 19.0, redo 121 -> 1521 bytes; more".into(),
            ),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(
            r.figure(80),
            "per row: gets 0.1 -> 19.0, redo 121 -> 1521 bytes"
        );
        assert_eq!(r.figure(30), "per row: gets 0.1 -> 19.0,…");
    }

    #[test]
    fn a_chart_is_written_as_svg() {
        let dir = std::env::temp_dir().join(format!("blocklab-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.svg");
        let mut chart = Chart {
            title: "gets by IN-list length".into(),
            x_label: "k".into(),
            y_label: "consistent gets".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            timings: false,
            series: vec![
                (
                    "BETWEEN".into(),
                    vec![(2.0, 10.0), (10.0, 12.0), (100.0, 20.0)],
                ),
                (
                    "IN-list".into(),
                    vec![(2.0, 6.0), (10.0, 25.0), (100.0, 210.0)],
                ),
            ],
        };
        write_svg(&chart, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<svg") && text.contains("IN-list"));
        // Log axes; a point at 0 cannot be placed on one and is left out.
        chart.x_scale = Scale::Log;
        chart.y_scale = Scale::Log;
        chart.series[0].1.push((1000.0, 0.0));
        write_svg(&chart, &path).unwrap();
        let first = std::fs::read(&path).unwrap();
        write_svg(&chart, &path).unwrap();
        assert_eq!(
            first,
            std::fs::read(&path).unwrap(),
            "same chart, same bytes"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn evidence_json_keeps_counters_exact_and_timings_with_spread() {
        let r = report(
            ("C00", "t", "c"),
            (Verdict::Depends, "because".into()),
            vec![
                Evidence::counter("gets", 12, "blocks"),
                Evidence::timing("ms", &[3.0, 1.0, 2.0], "ms"),
            ],
            vec![("rows".into(), "10".into())],
            Vec::new(),
        );
        let j = r.to_json();
        assert_eq!(j["verdict"], "depends");
        // A numeric parameter is a JSON number, not the string "10".
        assert_eq!(j["params"]["rows"], 10);
        assert_eq!(j["evidence"]["gets"], 12);
        assert_eq!(j["evidence"]["ms"]["median"], 2.0);
        assert_eq!(j["evidence"]["ms"]["min"], 1.0);
        assert_eq!(r.counters(), vec![("gets".to_string(), 12)]);
    }
}
