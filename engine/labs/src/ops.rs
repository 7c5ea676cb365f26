//! Plan stability and operations labs: plans that change between test and
//! production (C31), by join method too (C33, `join_regression`); who
//! changed the schema, read back from the redo (C41); getting the data
//! back after a damaging change (C42).

mod join_regression;

pub use join_regression::{c33_verdict, C33Evidence};

use super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use blocklab::db::Database;
use blocklab::error::Result;
use blocklab::plandiff::{diff_databases, ImpactTable, Side, Status};
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C31.0,
            title: C31.1,
            claim: C31.2,
            run: c31,
        },
        Lab {
            id: join_regression::C33.0,
            title: join_regression::C33.1,
            claim: join_regression::C33.2,
            run: join_regression::c33,
        },
        Lab {
            id: C41.0,
            title: C41.1,
            claim: C41.2,
            run: c41,
        },
        Lab {
            id: C42.0,
            title: C42.1,
            claim: C42.2,
            run: c42,
        },
    ]
}

const C31: (&str, &str, &str) = (
    "C31",
    "Plans change between test and production; plan-diff catches it",
    "The same statement can get a different access path in production than in test because the statistics differ (row counts, distinct keys, clustering). Comparing the two plans column by column — only the columns that matter for performance — before deployment catches it. Two plans are the same only when rows-compared-equal = rows-in-new-plan = rows-in-old-plan.",
);

/// Rows per table block in the C31 tables (750-byte rows in 8 KiB blocks).
const PER_BLOCK: usize = 10;

/// A deterministic xorshift64 generator.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// The cluster ratio of an index on the key when the i-th inserted row
/// lives in block i / PER_BLOCK: (N − CF) / (N − B), CF counting block
/// changes walking the keys in order (the book, chapter 7).
fn cluster_ratio(order: &[usize]) -> f64 {
    let n = order.len();
    let mut block = vec![0usize; n];
    for (i, &k) in order.iter().enumerate() {
        block[k] = i / PER_BLOCK;
    }
    let cf = 1 + block.windows(2).filter(|w| w[0] != w[1]).count();
    let b = n.div_ceil(PER_BLOCK);
    (n - cf) as f64 / (n - b).max(1) as f64
}

/// Keys 0..n in load order: swaps random pairs (fixed seed) until the
/// cluster ratio is at or below `target`.
fn order_with_ratio(n: usize, target: f64, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut x = seed;
    while cluster_ratio(&v) > target {
        let i = (next(&mut x) % n as u64) as usize;
        let j = (next(&mut x) % n as u64) as usize;
        v.swap(i, j);
    }
    v
}

fn load(db: &Database, order: &[usize]) -> Result<()> {
    let mut s = db.session();
    s.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)")?;
    let p = s.prepare("INSERT INTO t VALUES (?, ?, ?)")?;
    let pad = Value::Text("p".repeat(750));
    let rows: Vec<Vec<Value>> = order
        .iter()
        .map(|&k| vec![Value::Int(k as i64), Value::Int(k as i64 % 7), pad.clone()])
        .collect();
    for chunk in rows.chunks(500) {
        s.execute_array(&p, chunk)?;
    }
    s.commit()?;
    s.execute("ANALYZE TABLE t")?;
    Ok(())
}

/// What C31 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C31Evidence {
    /// Statements compared, and how many plan-diff reported changed.
    pub statements: u64,
    pub changed: u64,
    /// The range query: the method's three counts and the number of
    /// high-impact column differences.
    pub range_rows_equal: u64,
    pub range_rows_b: u64,
    pub range_rows_a: u64,
    pub range_high_diffs: u64,
    /// The point lookup: the three counts.
    pub lookup_rows_equal: u64,
    pub lookup_rows_b: u64,
    pub lookup_rows_a: u64,
    /// Consistent gets in production (B): its own plan, and the test
    /// plan forced there.
    pub prod_own_gets: u64,
    pub prod_test_plan_gets: u64,
}

/// Holds when plan-diff reports the range query as changed with at least
/// one high-impact column (the counts not all equal), the lookup as the
/// same (all three counts equal), and the comparison was worth making:
/// production's own plan reads fewer blocks there than the test plan
/// would. Does not hold if the plans did not change, or plan-diff missed
/// or invented a change.
pub fn c31_verdict(e: &C31Evidence) -> (Verdict, String) {
    let range_changed = !(e.range_rows_equal == e.range_rows_b && e.range_rows_b == e.range_rows_a);
    let lookup_same = e.lookup_rows_equal == e.lookup_rows_b && e.lookup_rows_b == e.lookup_rows_a;
    if range_changed && e.range_high_diffs > 0 && lookup_same {
        let worth = if e.prod_own_gets < e.prod_test_plan_gets {
            format!(
                "in production its own plan reads {} blocks where the test plan would read {}",
                e.prod_own_gets, e.prod_test_plan_gets
            )
        } else {
            format!(
                "although in production the test plan would have read no more ({} vs {})",
                e.prod_test_plan_gets, e.prod_own_gets
            )
        };
        (
            Verdict::Holds,
            format!(
                "the range query's plan changed (rows equal {}, in B {}, in A {}; {} high-impact columns) and plan-diff flagged it, the lookup's did not (counts {}/{}/{}); {worth}",
                e.range_rows_equal,
                e.range_rows_b,
                e.range_rows_a,
                e.range_high_diffs,
                e.lookup_rows_equal,
                e.lookup_rows_b,
                e.lookup_rows_a
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "range counts {}/{}/{} with {} high-impact differences, lookup counts {}/{}/{}",
                e.range_rows_equal,
                e.range_rows_b,
                e.range_rows_a,
                e.range_high_diffs,
                e.lookup_rows_equal,
                e.lookup_rows_b,
                e.lookup_rows_a
            ),
        )
    }
}

fn c31(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 20_000) as usize;
    let target = 0.67;
    ctx.step("building the test database (key order)");
    let (a, _) = ctx.database("c31-test", ctx.config())?;
    let test_order: Vec<usize> = (0..n).collect();
    load(&a, &test_order)?;
    ctx.step("building the production database (shuffled)");
    let (b, _) = ctx.database("c31-prod", ctx.config())?;
    let prod_order = order_with_ratio(n, target, ctx.seed);
    load(&b, &prod_order)?;
    let ratio_b = cluster_ratio(&prod_order);

    // The narrowest range (in steps of n/100 keys) whose plans differ:
    // where the estimated costs cross for production's clustering and not for
    // the test's.
    ctx.step("finding where the costs cross");
    let impact = ImpactTable::default();
    let lo = n / 4;
    let mut width = n / 100;
    let range = loop {
        let sql = format!(
            "SELECT k, grp FROM t WHERE k BETWEEN {lo} AND {}",
            lo + width - 1
        );
        let d = diff_databases(&a, &b, std::slice::from_ref(&sql), &impact, false)?;
        if d[0].status() == Status::Changed || width >= n / 2 {
            break sql;
        }
        width += n / 100;
    };
    let lookup = format!("SELECT * FROM t WHERE k = {}", n / 2);
    ctx.step("comparing and running the plans");
    let diffs = diff_databases(&a, &b, &[range.clone(), lookup.clone()], &impact, true)?;
    let cmp = |i: usize| diffs[i].comparison.clone();
    let rc = cmp(0).unwrap_or_default();
    let lc = cmp(1).unwrap_or_default();
    let gets = |database: Side, plan: Side| {
        diffs[0]
            .runs
            .iter()
            .find(|r| r.database == database && r.plan == plan)
            .map_or(0, |r| r.consistent_gets)
    };
    let e = C31Evidence {
        statements: diffs.len() as u64,
        changed: diffs
            .iter()
            .filter(|d| d.status() == Status::Changed)
            .count() as u64,
        range_rows_equal: rc.rows_equal as u64,
        range_rows_b: rc.rows_b as u64,
        range_rows_a: rc.rows_a as u64,
        range_high_diffs: rc
            .differences
            .iter()
            .filter(|d| d.impact == blocklab::plandiff::Impact::High)
            .count() as u64,
        lookup_rows_equal: lc.rows_equal as u64,
        lookup_rows_b: lc.rows_b as u64,
        lookup_rows_a: lc.rows_a as u64,
        prod_own_gets: gets(Side::B, Side::B),
        prod_test_plan_gets: gets(Side::B, Side::A),
    };
    let evidence = vec![
        Evidence::counter("rows", n as u64, "rows"),
        Evidence::counter(
            "prod.cluster_ratio_pct",
            (ratio_b * 100.0).round() as u64,
            "%",
        ),
        Evidence::counter("range.width", width as u64, "keys"),
        Evidence::counter("statements", e.statements, "count"),
        Evidence::counter("changed", e.changed, "count"),
        Evidence::counter("range.rows_equal", e.range_rows_equal, "rows"),
        Evidence::counter("range.rows_in_b", e.range_rows_b, "rows"),
        Evidence::counter("range.rows_in_a", e.range_rows_a, "rows"),
        Evidence::counter("range.high_impact_columns", e.range_high_diffs, "count"),
        Evidence::counter("lookup.rows_equal", e.lookup_rows_equal, "rows"),
        Evidence::counter("lookup.rows_in_b", e.lookup_rows_b, "rows"),
        Evidence::counter("lookup.rows_in_a", e.lookup_rows_a, "rows"),
        Evidence::counter("test.own_plan_gets", gets(Side::A, Side::A), "blocks"),
        Evidence::counter("test.prod_plan_gets", gets(Side::A, Side::B), "blocks"),
        Evidence::counter("prod.own_plan_gets", e.prod_own_gets, "blocks"),
        Evidence::counter("prod.test_plan_gets", e.prod_test_plan_gets, "blocks"),
    ];
    let notes = vec![blocklab::plandiff::render_table(&diffs, &impact)];
    Ok(report(
        C31,
        c31_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("target_cluster_ratio".into(), format!("{target}")),
        ],
        notes,
    ))
}

const C41: (&str, &str, &str) = (
    "C41",
    "Who changed the schema, and when, is in the redo",
    "Who changed the schema, and when, can be read back from the redo log: every DDL and DML is recorded with its SCN, time, transaction and session user.",
);

const C42: (&str, &str, &str) = (
    "C42",
    "After a damaging change, recover to the SCN before it and replay the rest",
    "After a damaging change, the table can be brought back to its state just before it (flashback to an SCN using undo, or restore + roll forward to an SCN), and the changes made after it can be replayed or listed so that nothing is lost.",
);

/// The incident of C41 and C42, on a database in archive mode: `alice`
/// creates `t` and inserts `before` rows with a note each; a backup is
/// taken (closed database); `alice` inserts `between` more; `partner`
/// drops the note column; `alice` inserts `after` more. Returns the
/// database and backup directories.
struct Incident {
    db: std::path::PathBuf,
    archive: std::path::PathBuf,
    backup: std::path::PathBuf,
    before: u64,
    between: u64,
    after: u64,
}

fn incident(ctx: &mut LabCtx) -> Result<Incident> {
    let (before, between, after) = (ctx.size(20, 500), ctx.size(10, 200), ctx.size(5, 100));
    let archive = ctx.dir("archive");
    let db_dir = ctx.dir("production");
    let cfg = blocklab::config::Config {
        archive_dir: Some(archive.clone()),
        log_file_size: 1 << 20,
        log_files: 3,
        ..ctx.config()
    };
    let insert =
        |s: &mut blocklab::session::Session, from: u64, to: u64, note: bool| -> Result<()> {
            for i in from..to {
                if note {
                    s.execute(&format!(
                        "INSERT INTO t VALUES ({i}, 'name {i}', 'note {i}')"
                    ))?;
                } else {
                    s.execute(&format!("INSERT INTO t VALUES ({i}, 'name {i}')"))?;
                }
            }
            s.execute("COMMIT")?;
            Ok(())
        };
    {
        let db = Database::open(&db_dir, cfg.clone())?;
        let mut alice = db.session();
        alice.set_user("alice");
        alice.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")?;
        insert(&mut alice, 0, before, true)?;
        drop(alice);
        db.close()?;
    }
    let backup = ctx.dir("backup");
    blocklab::backup::backup(&db_dir, &backup)?;
    {
        let db = Database::open(&db_dir, cfg)?;
        let mut alice = db.session();
        alice.set_user("alice");
        insert(&mut alice, before, before + between, true)?;
        let mut partner = db.session();
        partner.set_user("partner");
        partner.execute("ALTER TABLE t DROP COLUMN note")?;
        insert(
            &mut alice,
            before + between,
            before + between + after,
            false,
        )?;
        drop((alice, partner));
        db.close()?;
    }
    Ok(Incident {
        db: db_dir,
        archive,
        backup,
        before,
        between,
        after,
    })
}

/// What C41 measures from the miner's listing of table t.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C41Evidence {
    pub inserts_made: u64,
    pub inserts_mined: u64,
    pub inserts_by_alice: u64,
    pub ddl_mined: u64,
    /// The DROP COLUMN: found, with user partner, an SCN and a time.
    pub drop_found: bool,
    pub drop_user_is_partner: bool,
    pub drop_has_time: bool,
    pub drop_scn: u64,
    pub gaps: u64,
}

/// Holds when the listing names the DROP COLUMN with its user (partner),
/// SCN and time, and every insert with its user, with no gap in the redo.
pub fn c41_verdict(e: &C41Evidence) -> (Verdict, String) {
    let all_dml = e.inserts_mined == e.inserts_made && e.inserts_by_alice == e.inserts_made;
    if e.drop_found && e.drop_user_is_partner && e.drop_has_time && all_dml && e.gaps == 0 {
        (
            Verdict::Holds,
            format!(
                "the redo names the DROP COLUMN's user (partner), SCN {} and time, and all {} inserts with their user (alice)",
                e.drop_scn, e.inserts_made
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "drop found {}, by partner {}, with time {}; inserts mined {} of {} ({} by alice); gaps {}",
                e.drop_found,
                e.drop_user_is_partner,
                e.drop_has_time,
                e.inserts_mined,
                e.inserts_made,
                e.inserts_by_alice,
                e.gaps
            ),
        )
    }
}

fn c41(ctx: &mut LabCtx) -> Result<Report> {
    ctx.step("replaying the incident");
    let inc = incident(ctx)?;
    ctx.step("mining the redo");
    let m = blocklab::logminer::mine(
        &inc.db,
        &blocklab::logminer::MineOptions {
            table: Some("t".into()),
            archive: vec![inc.archive.clone()],
            ..Default::default()
        },
    )?;
    use blocklab::logminer::MinedOp;
    let inserts: Vec<_> = m
        .records
        .iter()
        .filter(|r| r.op == MinedOp::Insert)
        .collect();
    let drop = m.records.iter().find(|r| {
        r.op == MinedOp::Ddl && r.text.as_deref().is_some_and(|t| t.contains("DROP COLUMN"))
    });
    let e = C41Evidence {
        inserts_made: inc.before + inc.between + inc.after,
        inserts_mined: inserts.len() as u64,
        inserts_by_alice: inserts
            .iter()
            .filter(|r| r.user.as_deref() == Some("alice"))
            .count() as u64,
        ddl_mined: m.records.iter().filter(|r| r.op == MinedOp::Ddl).count() as u64,
        drop_found: drop.is_some(),
        drop_user_is_partner: drop.is_some_and(|r| r.user.as_deref() == Some("partner")),
        drop_has_time: drop.is_some_and(|r| r.time_ms.is_some()),
        drop_scn: drop.map_or(0, |r| r.scn.0),
        gaps: m.gaps.len() as u64,
    };
    let listing: Vec<String> = m
        .records
        .iter()
        .filter(|r| r.op == MinedOp::Ddl)
        .map(|r| {
            format!(
                "SCN {}  xid {}  user {}  {}",
                r.scn.0,
                r.xid,
                r.user.as_deref().unwrap_or("?"),
                r.text.as_deref().unwrap_or("")
            )
        })
        .collect();
    Ok(report(
        C41,
        c41_verdict(&e),
        vec![
            Evidence::counter("inserts.made", e.inserts_made, "rows"),
            Evidence::counter("inserts.mined", e.inserts_mined, "rows"),
            Evidence::counter("inserts.user_alice", e.inserts_by_alice, "rows"),
            Evidence::counter("ddl.mined", e.ddl_mined, "statements"),
            Evidence::counter("drop.found", u64::from(e.drop_found), "bool"),
            Evidence::counter(
                "drop.user_partner",
                u64::from(e.drop_user_is_partner),
                "bool",
            ),
            Evidence::counter("drop.has_time", u64::from(e.drop_has_time), "bool"),
            Evidence::counter("drop.scn", e.drop_scn, "scn"),
            Evidence::counter("redo.gaps", e.gaps, "count"),
        ],
        vec![("archive".into(), "on".into())],
        // The times differ per run; the DDL lines without them repeat.
        vec![format!("DDL on t, from the redo:\n{}", listing.join("\n"))],
    ))
}

/// What C42 measures: rows (and rows with their note) at each stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C42Evidence {
    pub rows_before_drop: u64,
    pub rows_at_end: u64,
    pub flashback_refused: bool,
    pub rows_recovered: u64,
    pub notes_recovered: u64,
    pub statements_replayed: u64,
    pub rows_after_replay: u64,
    pub notes_after_replay: u64,
}

/// Holds when recovery to the SCN before the drop gives back every row
/// that existed then with its note, and replaying the later inserts from
/// the redo gives back every row — nothing lost. (Flashback by undo is
/// shown refusing to cross the DDL, which is why recovery is needed here.)
pub fn c42_verdict(e: &C42Evidence) -> (Verdict, String) {
    let recovered =
        e.rows_recovered == e.rows_before_drop && e.notes_recovered == e.rows_before_drop;
    let complete =
        e.rows_after_replay == e.rows_at_end && e.notes_after_replay == e.rows_before_drop;
    if recovered && complete {
        (
            Verdict::Holds,
            format!(
                "recovery to the SCN before the drop brought back {} rows with their notes; replaying {} statements from the redo gave all {} rows{}",
                e.rows_recovered,
                e.statements_replayed,
                e.rows_after_replay,
                if e.flashback_refused {
                    " (flashback by undo refused to cross the DDL, as it should)"
                } else {
                    ""
                }
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "recovered {} rows ({} notes) of {}; after replay {} rows ({} notes) of {}",
                e.rows_recovered,
                e.notes_recovered,
                e.rows_before_drop,
                e.rows_after_replay,
                e.notes_after_replay,
                e.rows_at_end
            ),
        )
    }
}

fn count(s: &mut blocklab::session::Session, sql: &str) -> Result<u64> {
    Ok(s.execute(sql)?.rows[0][0].as_int().unwrap_or(0) as u64)
}

fn c42(ctx: &mut LabCtx) -> Result<Report> {
    ctx.step("replaying the incident");
    let inc = incident(ctx)?;
    use blocklab::logminer::{mine, MineOptions, MinedOp};
    let opts = |from: Option<blocklab::ids::Scn>| MineOptions {
        table: Some("t".into()),
        archive: vec![inc.archive.clone()],
        from_scn: from,
        ..Default::default()
    };
    let m = mine(&inc.db, &opts(None))?;
    let drop_scn = m
        .records
        .iter()
        .find(|r| {
            r.op == MinedOp::Ddl && r.text.as_deref().is_some_and(|t| t.contains("DROP COLUMN"))
        })
        .map(|r| r.scn)
        .ok_or_else(|| blocklab::error::Error::Internal("the drop is not in the redo".into()))?;
    // Flashback by undo cannot cross the DDL.
    let flashback_refused = {
        let db = Database::open(&inc.db, ctx.config())?;
        let mut s = db.session();
        let r = s.flashback_table("t", blocklab::ids::Scn(drop_scn.0 - 1));
        drop(s);
        db.close()?;
        r.is_err()
    };
    ctx.step("recovering the backup to the SCN before the drop");
    let rec = ctx.dir("recovered");
    blocklab::backup::recover_until(
        &inc.backup,
        &rec,
        blocklab::ids::Scn(drop_scn.0 - 1),
        std::slice::from_ref(&inc.archive),
        Some(&inc.db),
    )?;
    let rdb = Database::open(&rec, ctx.config())?;
    let mut s = rdb.session();
    let rows_recovered = count(&mut s, "SELECT COUNT(*) FROM t")?;
    let notes_recovered = count(&mut s, "SELECT COUNT(note) FROM t")?;
    ctx.step("replaying the later inserts from the redo");
    let later = mine(&inc.db, &opts(Some(blocklab::ids::Scn(drop_scn.0 + 1))))?;
    let mut replayed = 0;
    for r in later.records.iter().filter(|r| r.sql_redo.is_some()) {
        if let Some(sql) = &r.sql_redo {
            s.execute(sql)?;
            replayed += 1;
        }
    }
    s.execute("COMMIT")?;
    let e = C42Evidence {
        rows_before_drop: inc.before + inc.between,
        rows_at_end: inc.before + inc.between + inc.after,
        flashback_refused,
        rows_recovered,
        notes_recovered,
        statements_replayed: replayed,
        rows_after_replay: count(&mut s, "SELECT COUNT(*) FROM t")?,
        notes_after_replay: count(&mut s, "SELECT COUNT(note) FROM t")?,
    };
    drop(s);
    rdb.close()?;
    Ok(report(
        C42,
        c42_verdict(&e),
        vec![
            Evidence::counter("rows.before_drop", e.rows_before_drop, "rows"),
            Evidence::counter("rows.at_end", e.rows_at_end, "rows"),
            Evidence::counter("drop.scn", drop_scn.0, "scn"),
            Evidence::counter("flashback.refused", u64::from(e.flashback_refused), "bool"),
            Evidence::counter("recovered.rows", e.rows_recovered, "rows"),
            Evidence::counter("recovered.notes", e.notes_recovered, "rows"),
            Evidence::counter("replayed.statements", e.statements_replayed, "statements"),
            Evidence::counter("after_replay.rows", e.rows_after_replay, "rows"),
            Evidence::counter("after_replay.notes", e.notes_after_replay, "rows"),
        ],
        vec![
            ("backup".into(), "cold, before the incident".into()),
            ("archive".into(), "on".into()),
        ],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c31_rule_on_synthetic_evidence() {
        let good = C31Evidence {
            statements: 2,
            changed: 1,
            range_rows_equal: 0,
            range_rows_b: 1,
            range_rows_a: 1,
            range_high_diffs: 3,
            lookup_rows_equal: 1,
            lookup_rows_b: 1,
            lookup_rows_a: 1,
            prod_own_gets: 100,
            prod_test_plan_gets: 160,
        };
        assert_eq!(c31_verdict(&good).0, Verdict::Holds);
        let unchanged = C31Evidence {
            range_rows_equal: 1,
            range_high_diffs: 0,
            changed: 0,
            ..good
        };
        assert_eq!(c31_verdict(&unchanged).0, Verdict::DoesNotHold);
        let false_alarm = C31Evidence {
            lookup_rows_equal: 0,
            ..good
        };
        assert_eq!(c31_verdict(&false_alarm).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c41_and_c42_rules_on_synthetic_evidence() {
        let good = C41Evidence {
            inserts_made: 10,
            inserts_mined: 10,
            inserts_by_alice: 10,
            ddl_mined: 2,
            drop_found: true,
            drop_user_is_partner: true,
            drop_has_time: true,
            drop_scn: 99,
            gaps: 0,
        };
        assert_eq!(c41_verdict(&good).0, Verdict::Holds);
        let anonymous = C41Evidence {
            drop_user_is_partner: false,
            ..good
        };
        assert_eq!(c41_verdict(&anonymous).0, Verdict::DoesNotHold);
        let recycled = C41Evidence { gaps: 1, ..good };
        assert_eq!(c41_verdict(&recycled).0, Verdict::DoesNotHold);
        let ok = C42Evidence {
            rows_before_drop: 30,
            rows_at_end: 35,
            flashback_refused: true,
            rows_recovered: 30,
            notes_recovered: 30,
            statements_replayed: 6,
            rows_after_replay: 35,
            notes_after_replay: 30,
        };
        assert_eq!(c42_verdict(&ok).0, Verdict::Holds);
        let lost = C42Evidence {
            rows_after_replay: 30,
            ..ok
        };
        assert_eq!(c42_verdict(&lost).0, Verdict::DoesNotHold);
        let no_notes = C42Evidence {
            notes_recovered: 0,
            ..ok
        };
        assert_eq!(c42_verdict(&no_notes).0, Verdict::DoesNotHold);
    }

    #[test]
    fn the_shuffle_reaches_its_target_ratio() {
        let o = order_with_ratio(1000, 0.67, 42);
        let r = cluster_ratio(&o);
        assert!(r <= 0.67 && r > 0.6, "{r}");
        assert_eq!(cluster_ratio(&(0..1000).collect::<Vec<_>>()), 1.0);
    }
}
