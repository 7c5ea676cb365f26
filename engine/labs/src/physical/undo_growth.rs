//! One long open transaction pins the undo ring (C40).
//!
//! The undo ring (see `blocklab::undo`) hands out its blocks in order; a block
//! whose owner is still active can never be reused. With `undo_retention`
//! at 0, committed undo is reusable at once, so the only thing that can
//! stop reuse here is a transaction left open:
//!
//! ```text
//!  ring:  [0][1][2][3][4][5][6][7]       2 holds the open transaction's undo
//!                ^ next: active → autoextend on:  add an extent, go on there
//!                                  autoextend off: the writer fails (ORA-30036)
//! ```
//!
//! The lab runs one write workload (single-row committed UPDATEs, one undo
//! block each) four times — autoextend on/off × with/without another
//! session holding a transaction open — and samples the undo size.

use std::time::Duration;

use crate::rng::Rng;
use crate::{report, Chart, Evidence, Lab, LabCtx, Report, Scale, Verdict};
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C40.0,
        title: C40.1,
        claim: C40.2,
        run: c40,
    }]
}

const C40: (&str, &str, &str) = (
    "C40",
    "A long open transaction stops undo reuse: undo grows, or writers fail",
    "One long-running open transaction stops old undo from being reused, so the undo space grows (or, when it is fixed, other work fails).",
);

/// One run of the workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C40Scenario {
    pub autoextend: bool,
    pub open_txn: bool,
    pub undo_blocks_start: u32,
    pub undo_blocks_end: u32,
    /// Writer transactions that failed with `UndoExhausted` (ORA-30036).
    pub writer_failures: u64,
    /// The writer transaction (1-based) that failed first; 0: none did.
    pub first_failure_at: u64,
    pub committed: u64,
    /// `undo segment extends` during the workload.
    pub undo_extends: u64,
    /// (writer transactions so far, undo blocks)
    pub samples: Vec<(u64, u32)>,
}

impl C40Scenario {
    fn name(&self) -> String {
        format!(
            "{}.{}",
            if self.autoextend {
                "autoextend"
            } else {
                "fixed"
            },
            if self.open_txn {
                "open_txn"
            } else {
                "no_open_txn"
            }
        )
    }

    fn growth(&self) -> u32 {
        self.undo_blocks_end.saturating_sub(self.undo_blocks_start)
    }
}

/// What C40 measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C40Evidence {
    pub scenarios: Vec<C40Scenario>,
    /// Undo blocks added by the same workload once the long transaction
    /// (autoextend on) had committed.
    pub growth_after_commit: u32,
}

/// With autoextend on, the claim's first half holds when the undo grows
/// more with the open transaction than without; with it off, the second
/// half holds when writers fail with the open transaction and none fail
/// without. Both: holds; one: depends (the reason says which); neither:
/// does not hold.
pub fn c40_verdict(e: &C40Evidence) -> (Verdict, String) {
    let find = |auto: bool, open: bool| {
        e.scenarios
            .iter()
            .find(|s| s.autoextend == auto && s.open_txn == open)
    };
    let (Some(an), Some(ao), Some(fnone), Some(fo)) = (
        find(true, false),
        find(true, true),
        find(false, false),
        find(false, true),
    ) else {
        return (
            Verdict::DoesNotHold,
            "the four runs (autoextend on/off × with/without an open transaction) were not all measured"
                .to_string(),
        );
    };
    let grows = ao.growth() > an.growth();
    let fails = fo.writer_failures > 0 && fnone.writer_failures == 0;
    let growth = format!(
        "autoextend: undo went {} → {} blocks with the open transaction, {} → {} without (then +{} once it committed)",
        ao.undo_blocks_start,
        ao.undo_blocks_end,
        an.undo_blocks_start,
        an.undo_blocks_end,
        e.growth_after_commit
    );
    let failing = format!(
        "fixed {} blocks: {} of {} writer transactions failed with ORA-30036 with the open transaction (first at #{}), {} without",
        fo.undo_blocks_start,
        fo.writer_failures,
        fo.writer_failures + fo.committed,
        fo.first_failure_at,
        fnone.writer_failures
    );
    match (grows, fails) {
        (true, true) => (Verdict::Holds, format!("{growth}; {failing}")),
        (false, false) => (Verdict::DoesNotHold, format!("{growth}; {failing}")),
        (true, false) => (
            Verdict::Depends,
            format!("undo grows but fixed undo does not make writers fail: {growth}; {failing}"),
        ),
        (false, true) => (
            Verdict::Depends,
            format!("fixed undo makes writers fail but autoextend undo does not grow: {growth}; {failing}"),
        ),
    }
}

fn setup(db: &Database, rows: u64) -> Result<()> {
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, 0 FROM generate_series(1, {rows})"
    ))?;
    s.execute("CREATE TABLE other (id INTEGER, v INTEGER)")?;
    s.execute("INSERT INTO other VALUES (1, 0)")?;
    s.execute("COMMIT")?;
    Ok(())
}

/// `txns` writer transactions on `db`, sampling the undo size every
/// `every`; a transaction that fails for undo space is rolled back and
/// counted.
fn workload(
    db: &Database,
    rng: &mut Rng,
    rows: u64,
    txns: u64,
    every: u64,
    sc: &mut C40Scenario,
    x0: u64,
) -> Result<()> {
    let mut w = db.session();
    let upd = w.prepare("UPDATE t SET v = v + 1 WHERE id = ?")?;
    for i in 1..=txns {
        let id = 1 + rng.below(rows) as i64;
        match w.execute_prepared(&upd, &[Value::Int(id)]) {
            Ok(_) => {
                w.commit()?;
                sc.committed += 1;
            }
            Err(Error::UndoExhausted { .. }) => {
                w.rollback()?;
                sc.writer_failures += 1;
                if sc.first_failure_at == 0 {
                    sc.first_failure_at = x0 + i;
                }
            }
            Err(e) => return Err(e),
        }
        if i % every == 0 {
            sc.samples.push((x0 + i, db.undo_blocks()?));
        }
    }
    Ok(())
}

fn c40(ctx: &mut LabCtx) -> Result<Report> {
    let rows = 200;
    let undo_blocks = ctx.size(8, 64) as u32;
    let txns = ctx.size(60, 1_000);
    let every = txns / 20;
    let mut scenarios = Vec::new();
    let mut growth_after_commit = 0;
    for autoextend in [true, false] {
        for open_txn in [false, true] {
            ctx.step(&format!(
                "autoextend {autoextend}, open transaction {open_txn}"
            ));
            let cfg = Config {
                // One ring to follow; committed undo is reusable at once, so
                // only an open transaction can hold undo.
                undo_segments: 1,
                undo_blocks,
                undo_autoextend: autoextend,
                undo_max_blocks: 1 << 16,
                undo_retention: Duration::ZERO,
                // Little redo: small log files make creating the databases quick.
                log_file_size: 1 << 20,
                ..ctx.config()
            };
            let (db, _) = ctx.database("c40", cfg)?;
            setup(&db, rows)?;
            let mut sc = C40Scenario {
                autoextend,
                open_txn,
                undo_blocks_start: db.undo_blocks()?,
                undo_blocks_end: 0,
                writer_failures: 0,
                first_failure_at: 0,
                committed: 0,
                undo_extends: 0,
                samples: Vec::new(),
            };
            sc.samples.push((0, sc.undo_blocks_start));
            // The long transaction: one changed row, never committed while
            // the workload runs.
            let mut long = db.session();
            if open_txn {
                long.execute("UPDATE other SET v = v + 1 WHERE id = 1")?;
            }
            let mut rng = Rng::xorshift64(ctx.seed);
            let extends0 = db.system_stats().get(Stat::UndoExtends);
            workload(&db, &mut rng, rows, txns, every, &mut sc, 0)?;
            sc.undo_blocks_end = db.undo_blocks()?;
            sc.undo_extends = db.system_stats().get(Stat::UndoExtends) - extends0;
            long.execute("COMMIT")?;
            if autoextend && open_txn {
                // Once it commits, half as much work again: the ring is
                // reusable all round and stops growing.
                let mut after = sc.clone();
                workload(&db, &mut rng, rows, txns / 2, every, &mut after, txns)?;
                growth_after_commit = db.undo_blocks()? - sc.undo_blocks_end;
                sc.samples = after.samples;
            }
            scenarios.push(sc);
        }
    }
    let e = C40Evidence {
        scenarios,
        growth_after_commit,
    };
    let mut evidence = vec![
        Evidence::counter("writer_transactions", txns, "txns"),
        Evidence::counter("undo_blocks_at_start", undo_blocks as u64, "blocks"),
    ];
    for s in &e.scenarios {
        let k = s.name();
        evidence.extend([
            Evidence::counter(
                format!("{k}.undo_blocks_end"),
                s.undo_blocks_end as u64,
                "blocks",
            ),
            Evidence::counter(format!("{k}.undo_extends"), s.undo_extends, "extents"),
            Evidence::counter(format!("{k}.committed"), s.committed, "txns"),
            Evidence::counter(format!("{k}.writer_failures"), s.writer_failures, "txns"),
            Evidence::counter(
                format!("{k}.first_failure_at"),
                s.first_failure_at,
                "txn # (0: none)",
            ),
        ]);
    }
    evidence.push(Evidence::counter(
        "autoextend.open_txn.growth_after_commit",
        e.growth_after_commit as u64,
        "blocks",
    ));
    let chart = Chart {
        title: "C40: undo size during a write workload".into(),
        x_label: "writer transactions".into(),
        y_label: "undo blocks".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: false,
        series: e
            .scenarios
            .iter()
            .map(|s| {
                (
                    s.name().replace('.', ", ").replace('_', " "),
                    s.samples
                        .iter()
                        .map(|&(x, y)| (x as f64, y as f64))
                        .collect(),
                )
            })
            .collect(),
    };
    let mut r = report(
        C40,
        c40_verdict(&e),
        evidence,
        vec![
            ("undo_segments".into(), "1".into()),
            ("undo_retention_ms".into(), "0".into()),
            ("rows".into(), rows.to_string()),
        ],
        vec![format!(
            "With autoextend and the open transaction, the chart goes on for {} more writer transactions after it commits.",
            txns / 2
        )],
    );
    r.chart = Some(chart);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(auto: bool, open: bool, end: u32, failures: u64) -> C40Scenario {
        C40Scenario {
            autoextend: auto,
            open_txn: open,
            undo_blocks_start: 64,
            undo_blocks_end: end,
            writer_failures: failures,
            first_failure_at: if failures > 0 { 70 } else { 0 },
            committed: 100 - failures,
            undo_extends: u64::from(end > 64),
            samples: Vec::new(),
        }
    }

    fn ev(grow: u32, fail: u64, fail_without: u64) -> C40Evidence {
        C40Evidence {
            scenarios: vec![
                sc(true, false, 64, 0),
                sc(true, true, 64 + grow, 0),
                sc(false, false, 64, fail_without),
                sc(false, true, 64, fail),
            ],
            growth_after_commit: 0,
        }
    }

    #[test]
    fn c40_rule_on_synthetic_evidence() {
        assert_eq!(c40_verdict(&ev(48, 30, 0)).0, Verdict::Holds);
        assert_eq!(c40_verdict(&ev(0, 30, 0)).0, Verdict::Depends);
        assert_eq!(c40_verdict(&ev(48, 0, 0)).0, Verdict::Depends);
        assert_eq!(c40_verdict(&ev(0, 0, 0)).0, Verdict::DoesNotHold);
        // Writers failing without the open transaction: not its doing.
        assert_eq!(c40_verdict(&ev(48, 30, 30)).0, Verdict::Depends);
        let missing = C40Evidence {
            scenarios: vec![sc(true, true, 100, 0)],
            growth_after_commit: 0,
        };
        assert_eq!(c40_verdict(&missing).0, Verdict::DoesNotHold);
    }
}
