//! The "DML and logging" labs (C01–C05, C09–C14, C29, C35): what a row change costs
//! (index maintenance, constraints, redo), what a commit waits for, what
//! undo is for, how the write-ahead rule is kept, commit intervals, array
//! processing, fetch arrays, bulk loads and direct-path inserts.
//!
//! ```text
//!  cost.rs      C01 indexes, C02 constraints: what each row change pays
//!  redo.rs      C03 redo per INSERT/UPDATE/DELETE by width and indexes
//!  commit.rs    C04 fast vs force commit, group commit
//!  undo.rs      C05 rollback, crash recovery, read consistency
//!  wal.rs       C09 the write-ahead rule checked on every block write
//!  interval.rs  C10 commit interval: log syncs, undo held, undo exhausted
//!  calls.rs     C11 array processing and parsing, C12 unusable indexes + rebuild
//!  fetch.rs     C35 fetch calls and gets by array size
//!  one_sql.rs   C29 one SQL statement vs a loop: correlated UPDATE, join view, MERGE
//!  direct.rs    C13 direct-path insert, C14 its visibility and HWM
//! ```
//!
//! Each lab keeps the shape of the index labs: the claim text, an
//! `XxEvidence` struct, a pure `xx_verdict` written from the claim (and
//! unit-tested on synthetic evidence for each outcome), and `run`.
//!
//! Timings. Where a claim is about time, the lab times each alternative a
//! few times, interleaved (repetition i of every alternative runs side by
//! side), and its timing note compares them repetition by repetition
//! ([`Timing`], [`sep`]): one is *clearly* faster only when the 95%
//! confidence interval of the paired ratio ([`ratio_ci`], Student's t on
//! the log ratios) excludes 1; otherwise the note says the difference is
//! within this machine's noise at this size, and which comparison was
//! unclear. (The repetitions are a fixed number per size; repeating until
//! the interval is clear is not done.)
//! The verdict itself rests on the counters that explain the time (redo
//! and undo bytes, gets, calls, parses, syncs), so it is the same on every
//! run; a counter that contradicts the claim makes it `does not hold`
//! whatever the clock says.

mod calls;
mod commit;
mod cost;
mod direct;
mod fetch;
mod interval;
mod one_sql;
mod redo;
mod undo;
mod wal;

pub use calls::{c11_verdict, c12_verdict, C11Evidence, C12Evidence};
pub use commit::{c04_verdict, C04Evidence};
pub use cost::{c01_verdict, c02_verdict, C01Evidence, C02Evidence};
pub use direct::{c13_verdict, c14_verdict, C13Evidence, C14Evidence};
pub use fetch::{c35_predicted_gets, c35_verdict, C35Evidence, C35Fetch, C35_ARRAY_SIZES};
pub use interval::{c10_verdict, C10Evidence};
pub use one_sql::{c29_timing_note, c29_verdict, C29Evidence, C29Way, C29_WAYS};
pub use redo::{c03_verdict, C03Evidence};
pub use undo::{c05_verdict, C05Evidence};
pub use wal::{c09_verdict, C09Evidence};

use std::time::Instant;

use super::{delta, Evidence, Lab, LabCtx, Report};
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::stats::{Stat, StatsSnapshot};
use blocklab::value::Value;

/// The labs of this group, in catalogue order.
pub(super) fn labs() -> Vec<Lab> {
    vec![
        lab(cost::C01, cost::c01),
        lab(cost::C02, cost::c02),
        lab(redo::C03, redo::c03),
        lab(commit::C04, commit::c04),
        lab(undo::C05, undo::c05),
        lab(wal::C09, wal::c09),
        lab(interval::C10, interval::c10),
        lab(calls::C11, calls::c11),
        lab(calls::C12, calls::c12),
        lab(direct::C13, direct::c13),
        lab(direct::C14, direct::c14),
        lab(fetch::C35, fetch::c35),
        lab(one_sql::C29, one_sql::c29),
    ]
}

type LabText = (&'static str, &'static str, &'static str);

fn lab(text: LabText, run: fn(&mut LabCtx) -> Result<Report>) -> Lab {
    Lab {
        id: text.0,
        title: text.1,
        claim: text.2,
        run,
    }
}

/// A timed measurement: its samples, one per repetition in the order run,
/// with their median (the one `Evidence::timing` shows) and spread.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub samples: Vec<f64>,
}

impl Timing {
    pub fn of(samples: &[f64]) -> Timing {
        let e = Evidence::timing("", samples, "");
        let (min, max) = e.spread.unwrap_or((e.value, e.value));
        Timing {
            median: e.value,
            min,
            max,
            samples: samples.to_vec(),
        }
    }

    /// One sample (for synthetic evidence in tests).
    pub fn exactly(v: f64) -> Timing {
        Timing::of(&[v])
    }
}

/// How two timed values lie relative to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sep {
    /// Clearly above.
    Above,
    /// Clearly below.
    Below,
    /// Neither: the difference is within the noise.
    Overlap,
}

/// The 95% confidence interval of the ratio `a / b` from paired samples
/// (repetition i of each ran side by side): the mean of the log ratios
/// plus or minus Student's t times their standard error, back through
/// `exp`. `None` with fewer than three pairs, or a sample that is not
/// positive. A ratio whose interval excludes 1 is a difference this
/// machine's noise does not explain.
pub fn ratio_ci(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    if a.len() != b.len() || a.len() < 3 || a.iter().chain(b).any(|&v| v <= 0.0) {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // Two-sided 97.5% quantiles of Student's t for 2..=9 degrees of
    // freedom, then about 2.2 (and 2.0 from 30 on).
    const T: [f64; 8] = [4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];
    let df = d.len() - 1;
    let t = match df {
        2..=9 => T[df - 2],
        10..=29 => 2.2,
        _ => 2.0,
    };
    let half = t * (var / n).sqrt();
    Some(((mean - half).exp(), (mean + half).exp()))
}

/// Where `a` lies relative to `b`. The labs interleave their alternatives
/// (repetition i of each runs side by side, so a burst of load on the
/// machine hits both), so with as many samples on each side the comparison
/// is paired: from three pairs on, `a` is clearly above `b` when the 95%
/// confidence interval of the ratio a/b ([`ratio_ci`]) lies above 1 (and
/// below when it lies below 1), which is stricter than "above in every
/// repetition" when the repetitions scatter; with fewer pairs, when it was
/// above in every one. Unpaired samples: clearly above only when every
/// sample of `a` is above every sample of `b`.
pub fn sep(a: &Timing, b: &Timing) -> Sep {
    let (above, below) = if let Some((lo, hi)) = ratio_ci(&a.samples, &b.samples) {
        (lo > 1.0, hi < 1.0)
    } else if a.samples.len() == b.samples.len() && !a.samples.is_empty() {
        let pairs = || a.samples.iter().zip(&b.samples);
        (pairs().all(|(x, y)| x > y), pairs().all(|(x, y)| x < y))
    } else {
        (a.min > b.max, a.max < b.min)
    };
    if above {
        Sep::Above
    } else if below {
        Sep::Below
    } else {
        Sep::Overlap
    }
}

/// Repetitions of each timed step: a median and a spread need at least
/// three.
fn reps(ctx: &LabCtx) -> usize {
    ctx.size(3, 5) as usize
}

/// A fresh database for a lab that loads the same rows several times, and
/// a session on it. The cache holds `cache_frames` frames, enough for
/// every repetition's tables to stay cached: the timings compare the work
/// a claim is about, not evictions.
fn open_cached(ctx: &mut LabCtx, name: &str, cache_frames: usize) -> Result<(Database, Session)> {
    let cfg = Config {
        cache_frames,
        ..ctx.config()
    };
    ctx.open(name, cfg)
}

/// `CREATE TABLE name (columns)`, then one index `name_col` on each of
/// `indexed`, in that order (the order the index numbers in the evidence
/// count them).
fn indexed_table(s: &mut Session, name: &str, columns: &str, indexed: &[&str]) -> Result<()> {
    s.execute(&format!("CREATE TABLE {name} ({columns})"))?;
    for col in indexed {
        s.execute(&format!("CREATE INDEX {name}_{col} ON {name} ({col})"))?;
    }
    Ok(())
}

/// The counters a step moved in one session: a snapshot taken at
/// [`Moved::start`], compared with the session's counters when read. Only
/// the session's own work moves them, so reading several counters one
/// after the other gives the same numbers as one snapshot would.
struct Moved {
    before: StatsSnapshot,
}

impl Moved {
    fn start(s: &Session) -> Moved {
        Moved { before: s.stats() }
    }

    fn get(&self, s: &Session, stat: Stat) -> u64 {
        delta(&s.stats(), &self.before, stat)
    }

    /// Consistent gets plus db block gets: every logical read, whatever
    /// its mode.
    fn logical_reads(&self, s: &Session) -> u64 {
        self.get(s, Stat::ConsistentGets) + self.get(s, Stat::DbBlockGets)
    }
}

/// The counter evidence of one measured step: `prefix.name` for each
/// `(name, value, unit)`, in the order given. Every DML lab names its
/// evidence this way (`idx3.insert.redo_size`, `append.undo_bytes`), and
/// the pins (tests/labs_pins/dml.rs) depend on that order.
fn counters<const N: usize>(prefix: &str, lines: [(&str, u64, &'static str); N]) -> Vec<Evidence> {
    lines
        .into_iter()
        .map(|(name, value, unit)| Evidence::counter(format!("{prefix}.{name}"), value, unit))
        .collect()
}

/// Inserts `rows` into `table` in arrays of 100 bind sets, then commits;
/// returns the time of the inserts in milliseconds (the commit, one log
/// sync whatever the load, is claim C04's business).
fn load_array(s: &mut Session, table: &str, rows: &[Vec<Value>]) -> Result<f64> {
    let marks = vec!["?"; rows.first().map_or(0, |r| r.len())].join(", ");
    let ins = s.prepare(&format!("INSERT INTO {table} VALUES ({marks})"))?;
    let t = Instant::now();
    for chunk in rows.chunks(100) {
        s.execute_array(&ins, chunk)?;
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    s.commit()?;
    Ok(ms)
}

/// Rows per second for each run of `rows` rows timed in milliseconds.
fn rates(rows: u64, ms: &[f64]) -> Vec<f64> {
    ms.iter()
        .map(|&t| rows as f64 * 1000.0 / t.max(1e-6))
        .collect()
}

/// `part / whole` for reason texts (0 when `whole` is 0).
fn per(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_clear_only_when_its_confidence_interval_excludes_one() {
        let t = Timing::of;
        assert_eq!(sep(&t(&[5.0, 9.0, 6.0]), &t(&[4.0, 7.5, 5.0])), Sep::Above);
        assert_eq!(sep(&t(&[4.0, 7.5, 5.0]), &t(&[5.0, 9.0, 6.0])), Sep::Below);
        // Above in every repetition, but by 1.25x, 1.1x and 6x: the ratios
        // scatter too much for three pairs to exclude 1 (95% interval of
        // about 0.2 to 21): within this machine's noise.
        assert_eq!(
            sep(&t(&[5.0, 9.0, 6.0]), &t(&[4.0, 8.0, 1.0])),
            Sep::Overlap
        );
        let (lo, hi) = ratio_ci(&[5.0, 9.0, 6.0], &[4.0, 8.0, 1.0]).unwrap();
        assert!(lo < 1.0 && hi > 1.0, "{lo} {hi}");
        // Fewer than three pairs, or a zero: no interval.
        assert_eq!(ratio_ci(&[2.0, 2.0], &[1.0, 1.0]), None);
        assert_eq!(ratio_ci(&[2.0, 2.0, 0.0], &[1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn paired_repetitions_must_all_agree() {
        let t = Timing::of;
        // The spreads overlap, but each repetition agrees: a burst of load
        // slowed both sides of repetition 2.
        assert_eq!(
            sep(&t(&[10.0, 4.0, 10.0]), &t(&[8.0, 3.0, 8.0])),
            Sep::Above
        );
        // One repetition disagrees: noise.
        assert_eq!(
            sep(&t(&[10.0, 7.0, 10.0]), &t(&[8.0, 8.0, 8.0])),
            Sep::Overlap
        );
        // Unpaired: the whole spreads must be apart.
        assert_eq!(sep(&t(&[5.0, 6.0]), &t(&[1.0, 2.0, 4.9])), Sep::Above);
        assert_eq!(sep(&t(&[4.0, 6.0]), &t(&[1.0, 2.0, 4.5])), Sep::Overlap);
        assert_eq!(t(&[3.0, 1.0, 2.0]).median, 2.0);
        assert_eq!(
            (t(&[3.0, 1.0, 2.0]).min, t(&[3.0, 1.0, 2.0]).max),
            (1.0, 3.0)
        );
    }
}
