//! The labs: one experiment per claim of the catalogue (CLAIMS.md), each
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
//! * **Verdicts are computed.** Each lab has a `verdict` function next to
//!   its claim text that maps its evidence to `holds`, `does not hold` or
//!   `depends` plus the measured reason; the function is written from the
//!   claim, not tuned to a result, and is unit-tested on synthetic evidence
//!   for each outcome. No verdict is a literal.
//! * **Sizes.** `--quick` uses small data so the whole catalogue runs in a
//!   few minutes on two cores; the default size is what the book quotes.

mod dml;
mod index;

pub use dml::{
    c01_verdict, c02_verdict, c03_verdict, c04_verdict, c05_verdict, c09_verdict, c10_verdict,
    c11_verdict, c12_verdict, c13_verdict, c14_verdict, sep, C01Evidence, C02Evidence, C03Evidence,
    C04Evidence, C05Evidence, C09Evidence, C10Evidence, C11Evidence, C12Evidence, C13Evidence,
    C14Evidence, Sep, Timing,
};
pub use index::{c24_verdict, c26_verdict, C24Evidence, C26Evidence};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Config;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::stats::{Stat, StatsSnapshot};

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
        for e in self.evidence.iter().filter(|e| e.is_timing()) {
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
        let _ = writeln!(out, "verdict: {} — {}", self.verdict.as_str(), self.reason);
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
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "claim": self.claim,
            "verdict": self.verdict.as_str(),
            "reason": self.reason,
            "evidence": ev,
            "params": params,
        })
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
    v.extend(dml::labs());
    v.extend(index::labs());
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
    Report {
        id: lab.0,
        title: lab.1,
        claim: lab.2,
        verdict,
        reason,
        evidence,
        params,
        notes,
    }
}
