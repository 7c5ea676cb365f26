//! Locks serialise writers (C08). Two kinds of evidence:
//!
//! * **Counters** (deterministic, pinned, and what the verdict rests on):
//!   whether a second session had to wait (`enqueue waits`) behind a first
//!   one that holds a row lock, or a direct-path load's exclusive table
//!   lock, until it committed; and a queue of writers driven by the lab
//!   (the lab decides when each holder commits), all on one hot row or each
//!   on a row of its own: how many held their lock at once, and how many
//!   waits that took. On the hot row one holds at a time and every other
//!   writer waits for each holder in turn, which is what makes a longer
//!   hold cost every writer behind it. The waiting sessions run on their
//!   own threads; the lab sees them wait through `Session::wait_probe` and
//!   the `enqueue waits` counter, never by sleeping and hoping.
//! * **Time** (not pinned, shown beside the verdict): commits per second
//!   of writers that hold a row lock for a while before committing, all on
//!   one hot row or each on a row of its own. The engine counts waits, not
//!   the time waited (counters never count time), so the throughput curve
//!   is read with Little's law in the timing note; the machine's load shows
//!   in it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
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

/// A queue of writers driven by the lab: each updates its row and holds
/// the lock until the lab tells it to commit, which the lab does only when
/// every writer not yet committed either holds its row or waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct C08Queue {
    pub writers: u64,
    pub commits: u64,
    /// The most writers holding their row lock at the same moment.
    pub max_holders: u64,
    /// Enqueue waits of all the writers. On one hot row, each commit wakes
    /// every waiter; one takes the row and the others wait again, so
    /// writers w wait (w-1) + (w-2) + … + 1 times.
    pub enqueue_waits: u64,
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
    /// The driven queue on one hot row…
    pub hot_queue: C08Queue,
    /// … and on a row each.
    pub own_queue: C08Queue,
    pub threads: u64,
    pub throughput: Vec<C08Throughput>,
}

/// Reading the clock with a tolerance (in the timing note only). By
/// Little's law, commits per second × hold time = the average number of
/// writers holding their lock at once. On one hot row that can never
/// exceed 1 if the lock serialises them; measured above `SERIAL_SLACK` it
/// did not.
const SERIAL_SLACK: f64 = 1.25;
/// Writers on rows of their own should hold their locks at the same time:
/// more than `OVERLAP` of them at once on average, at the longest hold
/// (at short holds the commit's log sync, not the lock, dominates each
/// transaction, so neither kind holds its lock much of the time).
const OVERLAP: f64 = 1.0;

/// Holds when a second writer waits for a held row lock but not for another
/// row, a direct-path load's table lock makes other DML wait while a
/// conventional insert does not; and, in the driven queues, writers on one
/// hot row held it one at a time, every writer after the first waited, and
/// all committed, while writers on rows of their own all held their locks
/// at once without a wait. One holder at a time, everyone else waiting, is
/// what caps a hot row's throughput at 1 / hold and makes a longer hold
/// cost every writer behind it, so those counters decide; the timed
/// throughput by hold time is shown beside them (`c08_timing_note`).
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
    let (h, o) = (&e.hot_queue, &e.own_queue);
    let queues = format!(
        "{} writers on one hot row: at most {} holding at once, {} enqueue waits, {} commits; on a row each: {} holding at once, {} enqueue waits, {} commits",
        h.writers,
        h.max_holders,
        h.enqueue_waits,
        h.commits,
        o.max_holders,
        o.enqueue_waits,
        o.commits
    );
    let hot_ok = h.writers >= 2
        && h.max_holders == 1
        && h.enqueue_waits + 1 >= h.writers
        && h.commits == h.writers;
    let own_ok = o.writers >= 2
        && o.max_holders == o.writers
        && o.enqueue_waits == 0
        && o.commits == o.writers;
    if !locks_ok || !hot_ok || !own_ok {
        return (Verdict::DoesNotHold, format!("{locks}; {queues}"));
    }
    (Verdict::Holds, format!("{locks}; {queues}"))
}

/// What the timed throughput says beside C08's verdict, read with Little's
/// law: how many writers held their lock at once on average, on the hot row
/// (at most 1 if the lock serialises them) and on rows of their own (more
/// than 1 at the longest hold, unless something else, such as the commit's
/// log sync, limited them as much as the lock).
pub fn c08_timing_note(e: &C08Evidence) -> String {
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
        "{} writers' commits per second by hold time: {}",
        e.threads,
        curve.join(", ")
    );
    if let Some(p) = pts
        .iter()
        .find(|p| p.hold_ms > 0 && at_once(p.hot_txn_per_s, p.hold_ms) > SERIAL_SLACK)
    {
        return format!(
            "{timed}: at {} ms hold the hot row had {:.2} holders at once on this run, against the counters",
            p.hold_ms,
            at_once(p.hot_txn_per_s, p.hold_ms)
        );
    }
    match pts.last().filter(|p| p.hold_ms > 0) {
        None => format!("{timed}: no hold time was measured"),
        Some(l) if at_once(l.own_txn_per_s, l.hold_ms) > OVERLAP => format!(
            "{timed}: the hot row capped at one holder, own rows overlapping"
        ),
        Some(_) => format!(
            "{timed}: even on rows of their own the writers did not hold their locks at the same time on this run, so something else (the commit's log sync) limited them as much as the lock"
        ),
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

/// How long the driven queue waits for its writers to hold or wait before
/// it gives up on the engine (a writer stuck neither holding nor waiting).
const QUEUE_PATIENCE: Duration = Duration::from_secs(30);

/// The driven queue of [`C08Queue`]: `writers` sessions on their own
/// threads each run a single-row UPDATE (of row 1 for all when `hot`, else
/// of a row each) and hold it until the lab tells them to commit. The lab
/// waits until every writer not yet committed holds its row or waits for
/// it, counts the holders, and commits them; then again, until all have
/// committed. "Waits" is read from the writers' wait probes and, after a
/// commit, from the `enqueue waits` counter: every writer still waiting
/// waited for the one holder just committed (on a hot row there is only
/// one), so each must begin a new wait — a stale probe of a writer that has
/// not yet woken would otherwise look like a wait.
fn queue(db: &Database, writers: u64, hot: bool) -> Result<C08Queue> {
    let lock_waits = || db.system_stats().get(Stat::LockWaits);
    let waits0 = lock_waits();
    let (held_tx, held_rx) = mpsc::channel::<usize>();
    let mut probes: Vec<Arc<AtomicBool>> = Vec::new();
    let mut go: Vec<mpsc::Sender<()>> = Vec::new();
    std::thread::scope(|sc| -> Result<C08Queue> {
        let mut handles = Vec::new();
        for i in 0..writers as usize {
            let s = db.session();
            probes.push(s.wait_probe());
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push(go_tx);
            let held_tx = held_tx.clone();
            handles.push(sc.spawn(move || -> Result<()> {
                let mut s = s;
                let id = if hot { 1 } else { 2 + i as i64 };
                s.execute(&format!("UPDATE t SET v = v + 1 WHERE id = {id}"))?;
                let _ = held_tx.send(i);
                // Hold the row until the lab says so (or has given up).
                let _ = go_rx.recv();
                s.commit()
            }));
        }
        drop(held_tx);
        let mut q = C08Queue {
            writers,
            ..C08Queue::default()
        };
        let mut committed = vec![false; writers as usize];
        let mut holding: Vec<usize> = Vec::new();
        // Waits counted when the last holders were told to commit.
        let mut mark = waits0;
        while q.commits < writers {
            let remaining = writers - q.commits;
            let deadline = Instant::now() + QUEUE_PATIENCE;
            loop {
                while let Ok(i) = held_rx.try_recv() {
                    holding.push(i);
                }
                let others = remaining - holding.len() as u64;
                let waiting = (0..writers as usize)
                    .filter(|&i| !committed[i] && !holding.contains(&i))
                    .filter(|&i| probes[i].load(Ordering::SeqCst))
                    .count() as u64;
                let settled = waiting == others && lock_waits() - mark >= others;
                if (settled && !holding.is_empty()) || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            if holding.is_empty() {
                // Stuck: let every writer go, so the threads end.
                go.clear();
                return Err(Error::Internal(
                    "C08: no writer of the queue got its row".into(),
                ));
            }
            q.max_holders = q.max_holders.max(holding.len() as u64);
            mark = lock_waits();
            for i in holding.drain(..) {
                committed[i] = true;
                q.commits += 1;
                let _ = go[i].send(());
            }
        }
        for h in handles {
            h.join()
                .map_err(|_| Error::Internal("C08: a queued writer panicked".into()))??;
        }
        q.enqueue_waits = lock_waits() - waits0;
        Ok(q)
    })
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

    // Writers mostly sleep (or wait) while holding their lock, so more of
    // them than cores is fine.
    let threads = 8;
    ctx.step("a queue of writers");
    let hot_queue = queue(&db, threads, true)?;
    let own_queue = queue(&db, threads, false)?;
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
        hot_queue,
        own_queue,
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
    for (name, q) in [
        ("hot_row_queue", &e.hot_queue),
        ("own_rows_queue", &e.own_queue),
    ] {
        evidence.extend([
            Evidence::counter(format!("{name}.writers"), q.writers, "sessions"),
            Evidence::counter(format!("{name}.max_holders"), q.max_holders, "sessions"),
            Evidence::counter(format!("{name}.enqueue_waits"), q.enqueue_waits, "waits"),
            Evidence::counter(format!("{name}.commits"), q.commits, "commits"),
        ]);
    }
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
    // One holder at a time and the waits behind it explain the throughput.
    r.timed_verdict = false;
    r.timing_note = Some(c08_timing_note(&e));
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
            // 8 writers: 7 + 6 + … + 1 waits on the hot row.
            hot_queue: C08Queue {
                writers: 8,
                commits: 8,
                max_holders: 1,
                enqueue_waits: 28,
            },
            own_queue: C08Queue {
                writers: 8,
                commits: 8,
                max_holders: 8,
                enqueue_waits: 0,
            },
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
        // A conventional insert that blocks other DML.
        let strong_rx = C08Evidence {
            conventional_dml_waits: 1,
            ..good()
        };
        assert_eq!(c08_verdict(&strong_rx).0, Verdict::DoesNotHold);
        // No wait for a held row.
        let no_row_lock = C08Evidence {
            same_row_waits: 0,
            ..good()
        };
        assert_eq!(c08_verdict(&no_row_lock).0, Verdict::DoesNotHold);
        // Waiting on another row: row locks that lock more than the row.
        let coarse = C08Evidence {
            other_row_waits: 1,
            ..good()
        };
        assert_eq!(c08_verdict(&coarse).0, Verdict::DoesNotHold);
        // Two holders of the hot row at once.
        let mut shared = good();
        shared.hot_queue.max_holders = 2;
        assert_eq!(c08_verdict(&shared).0, Verdict::DoesNotHold);
        // Writers of the hot row that got it without waiting.
        let mut unqueued = good();
        unqueued.hot_queue.enqueue_waits = 3;
        assert_eq!(c08_verdict(&unqueued).0, Verdict::DoesNotHold);
        // A hot-row writer that never committed.
        let mut lost = good();
        lost.hot_queue.commits = 7;
        assert_eq!(c08_verdict(&lost).0, Verdict::DoesNotHold);
        // Writers on rows of their own serialised anyway.
        let mut own_serial = good();
        own_serial.own_queue.max_holders = 1;
        own_serial.own_queue.enqueue_waits = 28;
        assert_eq!(c08_verdict(&own_serial).0, Verdict::DoesNotHold);
        // Throughput never changes the verdict; the note says what it shows.
        // Two holders of one row at once (200/s × 10 ms = 2).
        let mut fast_hot = good();
        fast_hot.throughput[1].hot_txn_per_s = 200.0;
        assert_eq!(c08_verdict(&fast_hot).0, Verdict::Holds);
        assert!(c08_timing_note(&fast_hot).contains("against the counters"));
        // Own-row writers that never overlapped: something else limits them.
        let mut slow = good();
        slow.throughput[1].own_txn_per_s = 95.0;
        assert_eq!(c08_verdict(&slow).0, Verdict::Holds);
        assert!(c08_timing_note(&slow).contains("something else"));
        assert!(c08_timing_note(&good()).contains("own rows overlapping"));
    }
}
