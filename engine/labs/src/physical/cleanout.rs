//! Delayed block cleanout (C34): a query that generates redo. A big
//! committed UPDATE leaves most of its blocks without its commit SCN
//! (commit cleanout stamps only blocks still in the cache, at most a tenth
//! of it); the first full scan afterwards looks each one up in the
//! transaction table, stamps it in current mode and logs that, and the
//! second scan finds every block clean. Everything here is a counter.

use super::pad;
use crate::{report, Evidence, Lab, LabCtx, Report, Verdict};
use blocklab::config::Config;
use blocklab::error::Result;
use blocklab::stats::{Stat, StatsSnapshot};

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C34.0,
        title: C34.1,
        claim: C34.2,
        run: c34,
    }]
}

const C34: (&str, &str, &str) = (
    "C34",
    "A query can generate redo: the first scan after a big update cleans out its blocks",
    "A query can generate redo: the first full scan after a big committed update cleans out its blocks (delayed block cleanout), and a later scan pays nothing.",
);

const SCAN: &str = "SELECT /*+ FULL(t) */ SUM(v) FROM t";

/// What one full scan counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct C34Scan {
    pub redo_size: u64,
    pub redo_entries: u64,
    pub cr_cleanouts: u64,
    pub cleanouts_only: u64,
    pub tx_table_lookups: u64,
}

impl C34Scan {
    fn from(s: &StatsSnapshot) -> C34Scan {
        C34Scan {
            redo_size: s.get(Stat::RedoSize),
            redo_entries: s.get(Stat::RedoEntries),
            cr_cleanouts: s.get(Stat::CrCleanouts),
            cleanouts_only: s.get(Stat::CleanoutsOnlyCrGets),
            tx_table_lookups: s.get(Stat::TxTableLookups),
        }
    }
}

/// What C34 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C34Evidence {
    pub table_blocks: u64,
    pub cache_frames: u64,
    /// Blocks the commit tried to clean out, and those it did.
    pub commit_cleanouts: u64,
    pub commit_cleanouts_completed: u64,
    pub first: C34Scan,
    pub second: C34Scan,
}

/// Holds when the first scan cleans out (and logs) exactly the blocks the
/// commit left, generating redo, and the second scan cleans out nothing,
/// looks nothing up and generates no redo.
pub fn c34_verdict(e: &C34Evidence) -> (Verdict, String) {
    let left = e.table_blocks.saturating_sub(e.commit_cleanouts_completed);
    let mut broken = Vec::new();
    if e.first.redo_size == 0 {
        broken.push("the first scan generated no redo".to_string());
    }
    if e.first.cr_cleanouts != left || e.first.redo_entries != left {
        broken.push(format!(
            "the first scan cleaned out {} blocks with {} redo entries, not the {left} the commit left",
            e.first.cr_cleanouts, e.first.redo_entries
        ));
    }
    if left == 0 {
        broken.push("the commit cleaned out every block: nothing was left to a reader".to_string());
    }
    if e.second != C34Scan::default() {
        broken.push(format!("the second scan still paid: {:?}", e.second));
    }
    if !broken.is_empty() {
        return (Verdict::DoesNotHold, broken.join("; "));
    }
    (
        Verdict::Holds,
        format!(
            "the commit cleaned out {} of {} blocks (it tried {}, a tenth of a {}-frame cache); the first scan cleaned out the other {left} — {} transaction-table lookups, {} redo entries, {} bytes of redo for a SELECT; the second scan: none",
            e.commit_cleanouts_completed,
            e.table_blocks,
            e.commit_cleanouts,
            e.cache_frames,
            e.first.tx_table_lookups,
            e.first.redo_entries,
            e.first.redo_size
        ),
    )
}

fn c34(ctx: &mut LabCtx) -> Result<Report> {
    let rows = ctx.size(5_000, 20_000);
    let cache_frames = 64;
    let cfg = Config {
        // A cache smaller than the table, so the update's early blocks
        // have left it by the time it commits.
        cache_frames,
        ..ctx.config()
    };
    let (_db, mut s) = ctx.open("c34", cfg)?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, v INTEGER, pad TEXT)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, 0, '{}' FROM generate_series(1, {rows})",
        pad(100)
    ))?;
    s.execute("COMMIT")?;
    // Clean out the load, so only the update leaves blocks to clean.
    s.execute(SCAN)?;
    let table_blocks = s.execute(SCAN)?.stats.get(Stat::TableScanBlocks);
    ctx.step("big update");
    s.execute("UPDATE t SET v = v + 1")?;
    let c = s.execute("COMMIT")?.stats;
    ctx.step("two scans");
    let first = C34Scan::from(&s.execute(SCAN)?.stats);
    let second = C34Scan::from(&s.execute(SCAN)?.stats);
    let e = C34Evidence {
        table_blocks,
        cache_frames: cache_frames as u64,
        commit_cleanouts: c.get(Stat::CommitCleanouts),
        commit_cleanouts_completed: c.get(Stat::CommitCleanoutsCompleted),
        first,
        second,
    };
    let mut evidence = vec![
        Evidence::counter("rows", rows, "rows"),
        Evidence::counter("table_blocks", table_blocks, "blocks"),
        Evidence::counter("cache_frames", e.cache_frames, "frames"),
        Evidence::counter("commit.commit_cleanouts", e.commit_cleanouts, "blocks"),
        Evidence::counter(
            "commit.commit_cleanouts_successfully_completed",
            e.commit_cleanouts_completed,
            "blocks",
        ),
    ];
    for (k, sc) in [("first_scan", &e.first), ("second_scan", &e.second)] {
        evidence.extend([
            Evidence::counter(format!("{k}.redo_size"), sc.redo_size, "bytes"),
            Evidence::counter(format!("{k}.redo_entries"), sc.redo_entries, "entries"),
            Evidence::counter(
                format!("{k}.immediate_cr_block_cleanout_applications"),
                sc.cr_cleanouts,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.cleanouts_only_consistent_read_gets"),
                sc.cleanouts_only,
                "gets",
            ),
            Evidence::counter(
                format!("{k}.transaction_table_lookups"),
                sc.tx_table_lookups,
                "lookups",
            ),
        ]);
    }
    Ok(report(
        C34,
        c34_verdict(&e),
        evidence,
        vec![
            ("rows".into(), rows.to_string()),
            ("cache_frames".into(), cache_frames.to_string()),
        ],
        vec![
            "One session: load and clean out the table, UPDATE every row, COMMIT, then two full scans. \
             The commit cleans out at most a tenth of the cache (Oracle's limit), only blocks still cached."
                .to_string(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> C34Evidence {
        C34Evidence {
            table_blocks: 84,
            cache_frames: 64,
            commit_cleanouts: 6,
            commit_cleanouts_completed: 2,
            first: C34Scan {
                redo_size: 8_000,
                redo_entries: 82,
                cr_cleanouts: 82,
                cleanouts_only: 82,
                tx_table_lookups: 82,
            },
            second: C34Scan::default(),
        }
    }

    #[test]
    fn c34_rule_on_synthetic_evidence() {
        assert_eq!(c34_verdict(&good()).0, Verdict::Holds);
        // A SELECT that logs nothing.
        let mut quiet = good();
        quiet.first.redo_size = 0;
        assert_eq!(c34_verdict(&quiet).0, Verdict::DoesNotHold);
        // The second scan cleans out again: the stamps were lost.
        let mut again = good();
        again.second.cr_cleanouts = 82;
        assert_eq!(c34_verdict(&again).0, Verdict::DoesNotHold);
        // The first scan cleaned out fewer blocks than the commit left.
        let mut short = good();
        short.first.cr_cleanouts = 40;
        assert_eq!(c34_verdict(&short).0, Verdict::DoesNotHold);
        // The commit cleaned out everything: no delayed cleanout to see.
        let mut all = good();
        all.commit_cleanouts_completed = 84;
        all.first = C34Scan::default();
        assert_eq!(c34_verdict(&all).0, Verdict::DoesNotHold);
    }
}
