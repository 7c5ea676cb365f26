//! What undo is for (C05): rolling a transaction back, rolling back the
//! transactions a crash left open, and giving a query the image of its
//! start.

use std::sync::Arc;

use super::super::{delta, report, Evidence, LabCtx, Report, Verdict};
use super::LabText;
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::storage::SimBackend;
use blocklab::value::{Row, Value};

pub(super) const C05: LabText = (
    "C05",
    "Undo serves rollback, crash recovery and read consistency",
    "Undo serves three purposes: rollback, transaction recovery after a crash, and read consistency.",
);

/// What C05 measures, one part per use of undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C05Evidence {
    // Rollback.
    /// Rows the transaction updated, deleted or inserted.
    pub rb_rows_changed: u64,
    pub rb_undo_records_written: u64,
    /// `rollback changes - undo records applied` of the ROLLBACK.
    pub rb_undo_records_applied: u64,
    /// Index block splits during the transaction: each runs as a recursive
    /// transaction that commits on its own (its undo is not the user
    /// transaction's, and a split stays after a rollback, as in Oracle).
    pub rb_index_splits: u64,
    /// Rows that differ from the committed image after the rollback.
    pub rb_rows_differing: u64,

    // Crash recovery.
    /// Rows the open transaction had changed when the power went.
    pub crash_rows_changed: u64,
    /// Blocks a checkpoint wrote while they held uncommitted changes.
    pub crash_uncommitted_blocks_written: u64,
    pub rec_changes_applied: u64,
    pub rec_transactions_rolled_back: u64,
    pub rec_undo_records_applied: u64,
    /// After reopening: rows carrying an uncommitted value, rows in the
    /// table, and whether a transaction committed just before the crash
    /// survived.
    pub rec_uncommitted_rows_seen: u64,
    pub rec_rows: u64,
    pub rec_committed_rows_expected: u64,
    pub rec_committed_survived: bool,

    // Read consistency.
    pub rc_rows_changed: u64,
    /// Rows the earlier-started query still saw with their old value.
    pub rc_old_values_seen: u64,
    pub rc_cr_blocks_created: u64,
    pub rc_undo_records_applied: u64,
    /// A query started after the change sees the new values with no
    /// undo applied.
    pub rc_new_query_new_values: u64,
    pub rc_new_query_undo_applied: u64,
}

/// Holds when each use shows in the counters: the ROLLBACK applies at
/// least one undo record per row changed (no more than were written) and
/// leaves no row different from its committed image; after a crash with an open transaction (part of its
/// changes already in the data file), recovery rolls that transaction
/// back with undo, no uncommitted value remains and the committed rows are
/// all there; and a query that started before a committed change still
/// sees every old value, by building CR clones and applying at least one
/// undo record per changed row, while a new query sees the new values
/// with no undo.
pub fn c05_verdict(e: &C05Evidence) -> (Verdict, String) {
    let rollback = e.rb_rows_changed > 0
        && e.rb_undo_records_applied >= e.rb_rows_changed
        && e.rb_undo_records_applied <= e.rb_undo_records_written
        && e.rb_rows_differing == 0;
    let unapplied =
        e.rb_undo_records_written - e.rb_undo_records_applied.min(e.rb_undo_records_written);
    let splits = if unapplied > 0 {
        format!(
            " (the other {unapplied} belong to the {} index splits, recursive transactions that committed on their own)",
            e.rb_index_splits
        )
    } else {
        String::new()
    };
    let recovery = e.crash_rows_changed > 0
        && e.rec_transactions_rolled_back >= 1
        && e.rec_undo_records_applied >= e.crash_rows_changed
        && e.rec_uncommitted_rows_seen == 0
        && e.rec_rows == e.rec_committed_rows_expected
        && e.rec_committed_survived;
    let read = e.rc_rows_changed > 0
        && e.rc_old_values_seen == e.rc_rows_changed
        && e.rc_cr_blocks_created > 0
        && e.rc_undo_records_applied >= e.rc_rows_changed
        && e.rc_new_query_new_values == e.rc_rows_changed
        && e.rc_new_query_undo_applied == 0;
    let text = format!(
        "rollback: {} rows changed, {} of {} undo records applied{splits}, {} rows differ afterwards; \
         crash: {} rows changed by an open transaction ({} blocks with uncommitted changes in the data file), recovery applied {} redo changes, rolled back {} transaction(s) with {} undo records, {} uncommitted values remain, {} of {} committed rows, last commit survived: {}; \
         read consistency: {} rows changed and committed after the query began, it saw {} old values through {} CR clones and {} undo records, a new query saw {} new values with {} undo records",
        e.rb_rows_changed,
        e.rb_undo_records_applied,
        e.rb_undo_records_written,
        e.rb_rows_differing,
        e.crash_rows_changed,
        e.crash_uncommitted_blocks_written,
        e.rec_changes_applied,
        e.rec_transactions_rolled_back,
        e.rec_undo_records_applied,
        e.rec_uncommitted_rows_seen,
        e.rec_rows,
        e.rec_committed_rows_expected,
        e.rec_committed_survived,
        e.rc_rows_changed,
        e.rc_old_values_seen,
        e.rc_cr_blocks_created,
        e.rc_undo_records_applied,
        e.rc_new_query_new_values,
        e.rc_new_query_undo_applied,
    );
    let failed: Vec<&str> = [
        (rollback, "rollback"),
        (recovery, "crash recovery"),
        (read, "read consistency"),
    ]
    .iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, w)| *w)
    .collect();
    if failed.is_empty() {
        (Verdict::Holds, text)
    } else {
        (
            Verdict::DoesNotHold,
            format!("not shown for {}: {text}", failed.join(", ")),
        )
    }
}

/// `name(id, v, pad)` with ids 1..=n, v = 0, committed.
fn table(s: &mut Session, name: &str, n: u64) -> Result<()> {
    s.execute(&format!(
        "CREATE TABLE {name} (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)"
    ))?;
    s.execute(&format!(
        "INSERT INTO {name} SELECT value, 0, 'row ' || value FROM generate_series(1, {n})"
    ))?;
    s.commit()
}

fn rows(s: &mut Session, sql: &str) -> Result<Vec<Row>> {
    Ok(s.execute(sql)?.rows)
}

fn count(s: &mut Session, sql: &str) -> Result<u64> {
    let r = s.execute(sql)?;
    Ok(r.rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0) as u64)
}

pub(super) fn c05(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 50_000);
    // Small redo logs at the quick size (quicker to create; its redo fits).
    let cfg = Config {
        log_file_size: ctx.size(4 << 20, Config::default().log_file_size),
        ..ctx.config()
    };

    // 1. Rollback: the transaction's undo, applied newest first, puts back
    // every before-image.
    ctx.step("rollback");
    let (db, mut s) = ctx.open("c05-rollback", cfg.clone())?;
    table(&mut s, "t", n)?;
    let before = rows(&mut s, "SELECT * FROM t ORDER BY id")?;
    let st0 = s.stats();
    let mut changed = 0;
    changed += s
        .execute("UPDATE t SET v = v + 1, pad = 'changed'")?
        .affected
        .unwrap_or(0);
    changed += s
        .execute("DELETE FROM t WHERE id % 10 = 0")?
        .affected
        .unwrap_or(0);
    changed += s
        .execute(&format!(
            "INSERT INTO t SELECT value, 9, 'new' FROM generate_series({}, {})",
            n + 1,
            n + n / 10
        ))?
        .affected
        .unwrap_or(0);
    let st1 = s.stats();
    s.rollback()?;
    let st2 = s.stats();
    let after = rows(&mut s, "SELECT * FROM t ORDER BY id")?;
    let differing = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .count()
        .max(before.len().abs_diff(after.len())) as u64;
    let rb = (
        changed,
        delta(&st1, &st0, Stat::UndoRecordsWritten),
        delta(&st2, &st1, Stat::RollbackUndoApplied),
        differing,
        delta(&st1, &st0, Stat::LeafNodeSplits) + delta(&st1, &st0, Stat::BranchNodeSplits),
    );
    drop(s);
    drop(db);

    // 2. Crash recovery: an open transaction, part of it already in the
    // data file (a checkpoint wrote its blocks), the rest only in the
    // redo; the power goes; reopening rolls the redo forward, then the
    // open transaction back with the undo the redo rebuilt.
    ctx.step("crash recovery");
    let be = SimBackend::new();
    let db = Database::open_with(Arc::new(be.clone()), cfg.clone())?;
    let mut s = db.session();
    let mut other = db.session();
    table(&mut s, "t", n)?;
    other.execute("CREATE TABLE done (id INTEGER)")?;
    let mut crash_changed = s
        .execute(&format!("UPDATE t SET v = -1 WHERE id <= {}", n / 2))?
        .affected
        .unwrap_or(0);
    let w0 = db.system_stats();
    db.checkpoint()?;
    let uncommitted_written = delta(&db.system_stats(), &w0, Stat::PhysicalWrites);
    crash_changed += s
        .execute(&format!("UPDATE t SET v = -1 WHERE id > {}", n / 2))?
        .affected
        .unwrap_or(0);
    crash_changed += s
        .execute(&format!(
            "INSERT INTO t SELECT value, -1, 'uncommitted' FROM generate_series({}, {})",
            n + 1,
            n + n / 10
        ))?
        .affected
        .unwrap_or(0);
    // Another session commits: its log sync makes everything appended
    // before it durable, the open transaction's redo included.
    other.execute("INSERT INTO done VALUES (1)")?;
    other.commit()?;
    let crashed = be.crash();
    // The old instance goes down against the old backend; nothing it does
    // now reaches `crashed`.
    drop(s);
    drop(other);
    drop(db);
    let (db, rec) = Database::open_report(Arc::new(crashed), cfg.clone())?;
    let rec_undo = db.system_stats().get(Stat::RollbackUndoApplied);
    let mut s = db.session();
    let uncommitted_seen = count(&mut s, "SELECT COUNT(*) FROM t WHERE v = -1")?;
    let rec_rows = count(&mut s, "SELECT COUNT(*) FROM t")?;
    let survived = count(&mut s, "SELECT COUNT(*) FROM done")? == 1;
    drop(s);
    drop(db);

    // 3. Read consistency: a SERIALIZABLE transaction's queries read as of
    // its first query; another session changes every row and commits in
    // between.
    ctx.step("read consistency");
    let (db, mut reader) = ctx.open("c05-read", cfg)?;
    let mut writer = db.session();
    table(&mut writer, "t", n)?;
    reader.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
    count(&mut reader, "SELECT COUNT(*) FROM t WHERE v = 0")?;
    let rc_changed = writer
        .execute("UPDATE t SET v = v + 1")?
        .affected
        .unwrap_or(0);
    writer.commit()?;
    let r = reader.execute("SELECT COUNT(*) FROM t WHERE v = 0")?;
    let old_seen = r
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0) as u64;
    let (cr, applied) = (
        r.stats.get(Stat::CrBlocksCreated),
        r.stats.get(Stat::UndoRecordsAppliedCr),
    );
    reader.commit()?;
    let r = reader.execute("SELECT COUNT(*) FROM t WHERE v = 1")?;
    let new_seen = r
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0) as u64;
    let new_applied = r.stats.get(Stat::UndoRecordsAppliedCr);

    let e = C05Evidence {
        rb_rows_changed: rb.0,
        rb_undo_records_written: rb.1,
        rb_undo_records_applied: rb.2,
        rb_rows_differing: rb.3,
        rb_index_splits: rb.4,
        crash_rows_changed: crash_changed,
        crash_uncommitted_blocks_written: uncommitted_written,
        rec_changes_applied: rec.changes_applied as u64,
        rec_transactions_rolled_back: rec.transactions_rolled_back as u64,
        rec_undo_records_applied: rec_undo,
        rec_uncommitted_rows_seen: uncommitted_seen,
        rec_rows,
        rec_committed_rows_expected: n,
        rec_committed_survived: survived,
        rc_rows_changed: rc_changed,
        rc_old_values_seen: old_seen,
        rc_cr_blocks_created: cr,
        rc_undo_records_applied: applied,
        rc_new_query_new_values: new_seen,
        rc_new_query_undo_applied: new_applied,
    };
    if rec.transactions_rolled_back == 0 && uncommitted_seen > 0 {
        // Not a verdict: the lab itself went wrong if the crash image had
        // no open transaction yet still shows its values.
        return Err(Error::Internal(
            "the crash image shows uncommitted rows but recovery found no open transaction".into(),
        ));
    }
    Ok(report(
        C05,
        c05_verdict(&e),
        vec![
            Evidence::counter("rows", n, "rows"),
            Evidence::counter("rollback.rows_changed", e.rb_rows_changed, "rows"),
            Evidence::counter(
                "rollback.undo_records_written",
                e.rb_undo_records_written,
                "records",
            ),
            Evidence::counter(
                "rollback.undo_records_applied",
                e.rb_undo_records_applied,
                "records",
            ),
            Evidence::counter("rollback.index_splits", e.rb_index_splits, "splits"),
            Evidence::counter("rollback.rows_differing", e.rb_rows_differing, "rows"),
            Evidence::counter(
                "crash.rows_changed_uncommitted",
                e.crash_rows_changed,
                "rows",
            ),
            Evidence::counter(
                "crash.uncommitted_blocks_in_datafile",
                e.crash_uncommitted_blocks_written,
                "blocks",
            ),
            Evidence::counter("recovery.records_read", rec.records_read as u64, "records"),
            Evidence::counter("recovery.changes_applied", e.rec_changes_applied, "changes"),
            Evidence::counter(
                "recovery.changes_skipped",
                rec.changes_skipped as u64,
                "changes",
            ),
            Evidence::counter(
                "recovery.transactions_rolled_back",
                e.rec_transactions_rolled_back,
                "txns",
            ),
            Evidence::counter(
                "recovery.undo_records_applied",
                e.rec_undo_records_applied,
                "records",
            ),
            Evidence::counter(
                "recovery.uncommitted_rows_seen",
                e.rec_uncommitted_rows_seen,
                "rows",
            ),
            Evidence::counter("recovery.rows", e.rec_rows, "rows"),
            Evidence::counter(
                "recovery.last_commit_survived",
                u64::from(e.rec_committed_survived),
                "bool",
            ),
            Evidence::counter("read.rows_changed_after_start", e.rc_rows_changed, "rows"),
            Evidence::counter("read.old_values_seen", e.rc_old_values_seen, "rows"),
            Evidence::counter("read.cr_blocks_created", e.rc_cr_blocks_created, "blocks"),
            Evidence::counter(
                "read.undo_records_applied",
                e.rc_undo_records_applied,
                "records",
            ),
            Evidence::counter(
                "read.new_query_new_values",
                e.rc_new_query_new_values,
                "rows",
            ),
            Evidence::counter(
                "read.new_query_undo_records_applied",
                e.rc_new_query_undo_applied,
                "records",
            ),
        ],
        vec![("rows".into(), n.to_string())],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> C05Evidence {
        C05Evidence {
            rb_rows_changed: 1200,
            rb_undo_records_written: 1400,
            rb_undo_records_applied: 1391,
            rb_index_splits: 3,
            rb_rows_differing: 0,
            crash_rows_changed: 1100,
            crash_uncommitted_blocks_written: 12,
            rec_changes_applied: 900,
            rec_transactions_rolled_back: 1,
            rec_undo_records_applied: 1300,
            rec_uncommitted_rows_seen: 0,
            rec_rows: 1000,
            rec_committed_rows_expected: 1000,
            rec_committed_survived: true,
            rc_rows_changed: 1000,
            rc_old_values_seen: 1000,
            rc_cr_blocks_created: 12,
            rc_undo_records_applied: 1000,
            rc_new_query_new_values: 1000,
            rc_new_query_undo_applied: 0,
        }
    }

    #[test]
    fn c05_rule_on_synthetic_evidence() {
        assert_eq!(c05_verdict(&good()).0, Verdict::Holds);
        let partial_rollback = C05Evidence {
            rb_undo_records_applied: 1000,
            rb_rows_differing: 200,
            ..good()
        };
        let (v, why) = c05_verdict(&partial_rollback);
        assert_eq!(v, Verdict::DoesNotHold);
        assert!(why.starts_with("not shown for rollback:"), "{why}");
        let lost_image = C05Evidence {
            rb_rows_differing: 1,
            ..good()
        };
        assert_eq!(c05_verdict(&lost_image).0, Verdict::DoesNotHold);
        let left_open = C05Evidence {
            rec_transactions_rolled_back: 0,
            rec_uncommitted_rows_seen: 1100,
            ..good()
        };
        assert_eq!(c05_verdict(&left_open).0, Verdict::DoesNotHold);
        let lost_commit = C05Evidence {
            rec_committed_survived: false,
            ..good()
        };
        assert_eq!(c05_verdict(&lost_commit).0, Verdict::DoesNotHold);
        let dirty_read = C05Evidence {
            rc_old_values_seen: 0,
            ..good()
        };
        assert_eq!(c05_verdict(&dirty_read).0, Verdict::DoesNotHold);
    }
}
