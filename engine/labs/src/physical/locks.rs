//! Locks serialise writers (C08). Two kinds of evidence:
//!
//! * **Counters** (deterministic, pinned): whether a second session had to
//!   wait (`enqueue waits`) behind a first one that holds a row lock, or a
//!   direct-path load's exclusive table lock, until it committed. The
//!   waiting session runs on its own thread; the lab sees it wait through
//!   `Session::wait_probe`, never by sleeping and hoping.
//! * **Time** (not pinned): commits per second of writers that hold a row
//!   lock for a while before committing, all on one hot row or each on a
//!   row of its own. This part is about time, so it is measured in time
//!   and read with a tolerance; the machine's load shows in it.

use std::sync::atomic::Ordering;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::{report, Chart, Evidence, Lab, LabCtx, Report, Scale, Verdict};
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C08.0,
        title: C08.1,
        claim: C08.2,
        run: c08,
    }]
}

const C08: (&str, &str, &str) = (
    "C08",
    "Locks serialise writers: longer holds, stronger locks",
    "Locks slow DML: holding row locks longer, or taking a stronger lock (a table-exclusive lock), serialises writers.",
);

/// Writers' throughput at one lock hold time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct C08Throughput {
    pub hold_ms: u64,
    /// Every writer updates the same row.
    pub hot_txn_per_s: f64,
    /// Each writer updates a row of its own.
    pub own_txn_per_s: f64,
    /// Enqueue waits in the hot-row runs (they vary from run to run, so
    /// they are told in the reason, not pinned as evidence).
    pub hot_waits: u64,
}

/// What C08 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C08Evidence {
    /// Enqueue waits of a session updating a row another session holds.
    pub same_row_waits: u64,
    /// … updating another row of the same table.
    pub other_row_waits: u64,
    /// … updating a row of a table another session direct-path loaded.
    pub append_dml_waits: u64,
    /// … updating a row of a table another session inserted into
    /// conventionally.
    pub conventional_dml_waits: u64,
    /// … querying a table another session direct-path loaded.
    pub append_query_waits: u64,
    pub threads: u64,
    pub throughput: Vec<C08Throughput>,
}

/// Reading the clock with a tolerance. By Little's law, commits per second
/// × hold time = the average number of writers holding their lock at once.
/// On one hot row that can never exceed 1 if the lock serialises them;
/// measured above `SERIAL_SLACK` it did not.
const SERIAL_SLACK: f64 = 1.25;
/// Writers on rows of their own must hold their locks at the same time:
/// more than `OVERLAP` of them at once on average, at the longest hold
/// (at short holds the commit's log sync, not the lock, dominates each
/// transaction, so neither kind holds its lock much of the time).
const OVERLAP: f64 = 1.0;

/// Holds when a second writer waits for a held row lock but not for another
/// row, a direct-path load's table lock makes other DML wait while a
/// conventional insert does not, and, in time, writers on one hot row never
/// hold their lock more than one at a time (so their throughput is capped
/// at 1 / hold, falling as the hold grows) while writers on their own rows,
/// at the longest hold, do hold theirs at the same time. When the lock
/// counters show serialisation but the own-row writers did not overlap, it
/// depends (on what else limits a transaction on this machine — the reason
/// gives the numbers); when the counters do not, or the hot row had more
/// than one holder, the claim does not hold.
pub fn c08_verdict(e: &C08Evidence) -> (Verdict, String) {
    let locks_ok = e.same_row_waits >= 1
        && e.other_row_waits == 0
        && e.append_dml_waits >= 1
        && e.conventional_dml_waits == 0;
    let locks = format!(
        "enqueue waits: same row {}, other row {}, DML after a direct-path load {}, after a conventional insert {}, query after a direct-path load {}",
        e.same_row_waits,
        e.other_row_waits,
        e.append_dml_waits,
        e.conventional_dml_waits,
        e.append_query_waits
    );
    if !locks_ok {
        return (Verdict::DoesNotHold, locks);
    }
    let mut pts = e.throughput.clone();
    pts.sort_by_key(|p| p.hold_ms);
    let at_once = |tps: f64, hold_ms: u64| tps * hold_ms as f64 / 1000.0;
    let curve: Vec<String> = pts
        .iter()
        .map(|p| {
            format!(
                "{} ms: {:.0}/s hot ({:.2} holding at once, {} enqueue waits) vs {:.0}/s own rows ({:.2})",
                p.hold_ms,
                p.hot_txn_per_s,
                at_once(p.hot_txn_per_s, p.hold_ms),
                p.hot_waits,
                p.own_txn_per_s,
                at_once(p.own_txn_per_s, p.hold_ms)
            )
        })
        .collect();
    let timed = format!(
        "{} writers' commits per second (time-based): {}",
        e.threads,
        curve.join(", ")
    );
    if let Some(p) = pts
        .iter()
        .find(|p| p.hold_ms > 0 && at_once(p.hot_txn_per_s, p.hold_ms) > SERIAL_SLACK)
    {
        return (
            Verdict::DoesNotHold,
            format!(
                "{locks}; but at {} ms hold the hot row had {:.2} holders at once — {timed}",
                p.hold_ms,
                at_once(p.hot_txn_per_s, p.hold_ms)
            ),
        );
    }
    let Some(longest) = pts.last().filter(|p| p.hold_ms > 0) else {
        return (
            Verdict::Depends,
            format!("{locks}; no hold time was measured — {timed}"),
        );
    };
    if at_once(longest.own_txn_per_s, longest.hold_ms) > OVERLAP {
        (Verdict::Holds, format!("{locks}; {timed}"))
    } else {
        (
            Verdict::Depends,
            format!(
                "the locks serialise ({locks}), but even on rows of their own the writers did not hold their locks at the same time here, so something else (the commit's log sync) limited them as much as the lock — {timed}"
            ),
        )
    }
}

fn load(s: &mut Session, rows: u64) -> Result<()> {
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, 0 FROM generate_series(1, {rows})"
    ))?;
    s.execute("COMMIT")?;
    Ok(())
}

/// What happened to session B's statement while session A held its
/// transaction open.
struct Blocking {
    /// B waited for a lock (seen through its wait probe) before A ended.
    waited: bool,
    /// B's `enqueue waits` for its statement.
    lock_waits: u64,
}

/// Runs `a_sql` in a session A and leaves its transaction open; runs
/// `b_sql` in a session B on another thread; commits A as soon as B is
/// seen waiting for a lock or has finished; then commits B.
fn blocking(db: &Database, a_sql: &str, b_sql: &str) -> Result<Blocking> {
    let mut a = db.session();
    a.execute(a_sql)?;
    let b = db.session();
    let probe = b.wait_probe();
    let before = b.stats();
    std::thread::scope(|sc| {
        let h = sc.spawn(move || -> Result<Session> {
            let mut b = b;
            b.execute(b_sql)?;
            Ok(b)
        });
        // B either starts waiting (the probe goes up and stays up until A
        // ends) or finishes without waiting: poll for whichever comes.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut waited = false;
        while !h.is_finished() {
            if probe.load(Ordering::SeqCst) {
                waited = true;
                break;
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let commit_a = a.execute("COMMIT");
        let mut b = h
            .join()
            .map_err(|_| Error::Internal("C08: session B panicked".into()))??;
        commit_a?;
        let lock_waits = b.stats().diff(&before).get(Stat::LockWaits);
        b.execute("COMMIT")?;
        Ok(Blocking { waited, lock_waits })
    })
}

/// `threads` writers, each committing `txns` single-row UPDATEs and holding
/// the row lock `hold` before each commit; all on row 1 (`hot`) or each on
/// its own row. Returns commits per second and the enqueue waits.
fn throughput(
    db: &Database,
    threads: u64,
    txns: u64,
    hold: Duration,
    hot: bool,
) -> Result<(f64, u64)> {
    let start = Barrier::new(threads as usize + 1);
    let waits0 = db.system_stats().get(Stat::LockWaits);
    let elapsed = std::thread::scope(|sc| -> Result<f64> {
        let hs: Vec<_> = (0..threads)
            .map(|i| {
                let start = &start;
                sc.spawn(move || -> Result<()> {
                    let mut s = db.session();
                    let upd = s.prepare("UPDATE t SET v = v + 1 WHERE id = ?")?;
                    let id = if hot { 1 } else { 2 + i as i64 };
                    start.wait();
                    for _ in 0..txns {
                        s.execute_prepared(&upd, &[Value::Int(id)])?;
                        if !hold.is_zero() {
                            std::thread::sleep(hold);
                        }
                        s.commit()?;
                    }
                    Ok(())
                })
            })
            .collect();
        start.wait();
        let t = Instant::now();
        for h in hs {
            h.join()
                .map_err(|_| Error::Internal("C08: a writer panicked".into()))??;
        }
        Ok(t.elapsed().as_secs_f64())
    })?;
    let waits = db.system_stats().get(Stat::LockWaits) - waits0;
    Ok(((threads * txns) as f64 / elapsed.max(1e-9), waits))
}

fn c08(ctx: &mut LabCtx) -> Result<Report> {
    let (db, mut s) = ctx.open("c08", ctx.config())?;
    load(&mut s, 100)?;
    ctx.step("row locks");
    let upd1 = "UPDATE t SET v = v + 1 WHERE id = 1";
    let upd2 = "UPDATE t SET v = v + 1 WHERE id = 2";
    let same = blocking(&db, upd1, upd1)?;
    let other = blocking(&db, upd1, upd2)?;
    ctx.step("table locks");
    let append = blocking(
        &db,
        "INSERT /*+ APPEND */ INTO t SELECT value, 0 FROM generate_series(1001, 1100)",
        upd2,
    )?;
    let conventional = blocking(
        &db,
        "INSERT INTO t SELECT value, 0 FROM generate_series(1101, 1200)",
        upd2,
    )?;
    let append_query = blocking(
        &db,
        "INSERT /*+ APPEND */ INTO t SELECT value, 0 FROM generate_series(1201, 1300)",
        "SELECT COUNT(*) FROM t",
    )?;

    // Writers mostly sleep while holding their lock, so more of them than
    // cores is fine.
    let threads = 8;
    let holds: Vec<u64> = if ctx.quick {
        vec![0, 10]
    } else {
        vec![0, 1, 2, 5, 10]
    };
    let txns = ctx.size(5, 20);
    let reps = ctx.size(1, 3);
    let mut tput = Vec::new();
    let mut timings = Vec::new();
    for &h in &holds {
        ctx.step(&format!("writers holding {h} ms"));
        let hold = Duration::from_millis(h);
        let (mut hot, mut own) = (Vec::new(), Vec::new());
        let mut hot_waits = 0;
        for _ in 0..reps {
            let (x, w) = throughput(&db, threads, txns, hold, true)?;
            hot.push(x);
            hot_waits += w;
            let (x, _) = throughput(&db, threads, txns, hold, false)?;
            own.push(x);
        }
        let hot_ev = Evidence::timing(format!("hold_{h}ms.hot_row"), &hot, "txn/s");
        let own_ev = Evidence::timing(format!("hold_{h}ms.own_rows"), &own, "txn/s");
        tput.push(C08Throughput {
            hold_ms: h,
            hot_txn_per_s: hot_ev.value,
            own_txn_per_s: own_ev.value,
            hot_waits,
        });
        timings.extend([hot_ev, own_ev]);
    }
    let e = C08Evidence {
        same_row_waits: same.lock_waits,
        other_row_waits: other.lock_waits,
        append_dml_waits: append.lock_waits,
        conventional_dml_waits: conventional.lock_waits,
        append_query_waits: append_query.lock_waits,
        threads,
        throughput: tput,
    };
    let mut evidence = vec![
        Evidence::counter("same_row.waited", u64::from(same.waited), "bool"),
        Evidence::counter("same_row.enqueue_waits", e.same_row_waits, "waits"),
        Evidence::counter("other_row.waited", u64::from(other.waited), "bool"),
        Evidence::counter("other_row.enqueue_waits", e.other_row_waits, "waits"),
        Evidence::counter("dml_after_append.waited", u64::from(append.waited), "bool"),
        Evidence::counter(
            "dml_after_append.enqueue_waits",
            e.append_dml_waits,
            "waits",
        ),
        Evidence::counter(
            "dml_after_conventional_insert.waited",
            u64::from(conventional.waited),
            "bool",
        ),
        Evidence::counter(
            "dml_after_conventional_insert.enqueue_waits",
            e.conventional_dml_waits,
            "waits",
        ),
        Evidence::counter(
            "query_after_append.waited",
            u64::from(append_query.waited),
            "bool",
        ),
        Evidence::counter(
            "query_after_append.enqueue_waits",
            e.append_query_waits,
            "waits",
        ),
    ];
    evidence.extend(timings);
    let chart = Chart {
        title: format!("C08: {threads} writers' commits per second by lock hold time"),
        x_label: "row lock held before commit (ms)".into(),
        y_label: "commits per second".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: true,
        series: vec![
            (
                "one hot row".into(),
                e.throughput
                    .iter()
                    .map(|p| (p.hold_ms as f64, p.hot_txn_per_s))
                    .collect(),
            ),
            (
                "a row each".into(),
                e.throughput
                    .iter()
                    .map(|p| (p.hold_ms as f64, p.own_txn_per_s))
                    .collect(),
            ),
        ],
    };
    let mut r = report(
        C08,
        c08_verdict(&e),
        evidence,
        vec![
            ("threads".into(), threads.to_string()),
            ("transactions_per_thread".into(), txns.to_string()),
            ("repetitions".into(), reps.to_string()),
        ],
        Vec::new(),
    );
    r.chart = Some(chart);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> C08Evidence {
        C08Evidence {
            same_row_waits: 1,
            other_row_waits: 0,
            append_dml_waits: 1,
            conventional_dml_waits: 0,
            append_query_waits: 0,
            threads: 8,
            throughput: vec![
                C08Throughput {
                    hold_ms: 0,
                    hot_txn_per_s: 900.0,
                    own_txn_per_s: 1000.0,
                    hot_waits: 0,
                },
                C08Throughput {
                    hold_ms: 10,
                    hot_txn_per_s: 90.0,
                    own_txn_per_s: 400.0,
                    hot_waits: 70,
                },
            ],
        }
    }

    #[test]
    fn c08_rule_on_synthetic_evidence() {
        assert_eq!(c08_verdict(&good()).0, Verdict::Holds);
        // No wait behind a direct-path load: the table lock does nothing.
        let no_x = C08Evidence {
            append_dml_waits: 0,
            ..good()
        };
        assert_eq!(c08_verdict(&no_x).0, Verdict::DoesNotHold);
        // Waiting on another row: row locks that lock more than the row.
        let coarse = C08Evidence {
            other_row_waits: 1,
            ..good()
        };
        assert_eq!(c08_verdict(&coarse).0, Verdict::DoesNotHold);
        // Two holders of one row at once (200/s × 10 ms = 2).
        let mut shared = good();
        shared.throughput[1].hot_txn_per_s = 200.0;
        assert_eq!(c08_verdict(&shared).0, Verdict::DoesNotHold);
        // Own-row writers that never overlapped: something else limits them.
        let mut slow = good();
        slow.throughput[1].own_txn_per_s = 95.0;
        assert_eq!(c08_verdict(&slow).0, Verdict::Depends);
    }
}
