//! Direct-path insert: what it saves and what it costs (C13), and when its
//! rows appear (C14).

use std::time::{Duration, Instant};

use super::super::{report, Evidence, LabCtx, Report, Verdict};
use super::{counters, open_cached, per, reps, sep, LabText, Moved, Sep, Timing};
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

/// The row source every load of these labs inserts: ids `from..=to`, a
/// 60-character pad.
fn source(from: u64, to: u64) -> String {
    format!(
        "SELECT value, '{}' FROM generate_series({from}, {to})",
        "d".repeat(60)
    )
}

fn count(s: &mut Session, table: &str) -> Result<u64> {
    let r = s.execute(&format!("SELECT COUNT(*) FROM {table}"))?;
    Ok(r.rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0) as u64)
}

// ---------------------------------------------------------------- C13

pub(super) const C13: LabText = (
    "C13",
    "Direct-path insert skips the cache, undo and (NOLOGGING) redo, at the price of a table lock and unreused space",
    "Direct-path insert (APPEND) is fast because it skips the free-space search, formats new blocks above the high-water mark, bypasses the buffer cache, writes no undo for the rows, and can skip redo (NOLOGGING). Its costs: an exclusive table lock, and free space below the HWM is not reused.",
);

/// One way of loading the same rows into an index-free table.
#[derive(Clone, Debug, PartialEq)]
pub struct C13Load {
    pub redo_bytes: u64,
    pub undo_bytes: u64,
    pub logical_reads: u64,
    pub direct_writes: u64,
    pub blocks_formatted: u64,
    pub total_ms: Timing,
}

/// What C13 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C13Evidence {
    pub rows: u64,
    pub conventional: C13Load,
    pub append: C13Load,
    pub append_nologging: C13Load,
    /// HWM after the first (conventional) load, then after DELETE of every
    /// row + APPEND of as many, and after DELETE + conventional insert.
    pub hwm_first_load: u64,
    pub hwm_delete_append: u64,
    /// Blocks the APPEND after the DELETE formatted.
    pub reload_append_blocks: u64,
    pub hwm_delete_conventional: u64,
    pub segment_blocks_delete_append: u64,
    pub segment_blocks_delete_conventional: u64,
    /// While a load was open: another session's query went on and saw the
    /// old rows; its INSERT waited for the loader's commit.
    pub other_query_rows: u64,
    pub old_rows: u64,
    pub other_insert_waits: u64,
    pub other_insert_done_after_commit: bool,
    /// The loading session's own query before its commit failed with
    /// ORA-12838.
    pub loader_read_refused: bool,
}

/// Holds when APPEND writes less than one byte of undo per row (no undo
/// for the rows), makes fewer logical reads than it formats blocks (no
/// buffer gets for the data), and with NOLOGGING less than one byte of
/// redo per row; when, after a DELETE of every row, an APPEND puts all
/// its blocks above the old HWM while a conventional insert of the same
/// rows reuses freed space below it (its HWM grows less); when another session's INSERT
/// waits for the load's commit while its query goes on with the old rows,
/// and the loader cannot read its table before committing. Those counters
/// are what make APPEND cheaper, so they decide; the load times are shown
/// beside them (`c13_timing_note`).
pub fn c13_verdict(e: &C13Evidence) -> (Verdict, String) {
    let n = e.rows;
    let (c, a, x) = (&e.conventional, &e.append, &e.append_nologging);
    let mut wrong = Vec::new();
    for (name, l) in [("APPEND", a), ("APPEND NOLOGGING", x)] {
        if l.undo_bytes >= n {
            wrong.push(format!(
                "{name} wrote {} undo bytes for {n} rows",
                l.undo_bytes
            ));
        }
        if l.blocks_formatted == 0 || l.logical_reads >= l.blocks_formatted {
            wrong.push(format!(
                "{name} made {} logical reads for {} blocks formatted",
                l.logical_reads, l.blocks_formatted
            ));
        }
    }
    if x.redo_bytes >= n {
        wrong.push(format!(
            "APPEND NOLOGGING wrote {} redo bytes for {n} rows",
            x.redo_bytes
        ));
    }
    let append_growth = e.hwm_delete_append.saturating_sub(e.hwm_first_load);
    let conv_growth = e.hwm_delete_conventional.saturating_sub(e.hwm_first_load);
    if e.reload_append_blocks == 0
        || append_growth < e.reload_append_blocks
        || conv_growth >= append_growth
    {
        wrong.push(format!(
            "HWM {} after the first load, {} after DELETE + APPEND of {} blocks, {} after DELETE + conventional insert",
            e.hwm_first_load, e.hwm_delete_append, e.reload_append_blocks, e.hwm_delete_conventional
        ));
    }
    if e.other_query_rows != e.old_rows
        || e.other_insert_waits == 0
        || !e.other_insert_done_after_commit
    {
        wrong.push(format!(
            "during a load another session's query saw {} rows (old: {}), its INSERT waited {} times and finished after the commit: {}",
            e.other_query_rows, e.old_rows, e.other_insert_waits, e.other_insert_done_after_commit
        ));
    }
    if !e.loader_read_refused {
        wrong.push("the loader could read its table before committing".into());
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    let facts = format!(
        "per row: conventional {:.0} redo / {:.0} undo bytes / {:.2} gets, APPEND {:.0} / {:.2} / {:.3}, APPEND NOLOGGING {:.2} / {:.2} / {:.3} ({} blocks written direct); \
         after a load and a DELETE of every row: APPEND moved the HWM {} -> {} (all {} blocks above it), a conventional insert {} -> {} (reused {} of the {} freed blocks); \
         during a load another session's INSERT waited ({} enqueue wait) while its query saw the {} old rows; the loader's own read: ORA-12838",
        per(c.redo_bytes, n),
        per(c.undo_bytes, n),
        per(c.logical_reads, n),
        per(a.redo_bytes, n),
        per(a.undo_bytes, n),
        per(a.logical_reads, n),
        per(x.redo_bytes, n),
        per(x.undo_bytes, n),
        per(x.logical_reads, n),
        a.direct_writes,
        e.hwm_first_load,
        e.hwm_delete_append,
        e.reload_append_blocks,
        e.hwm_first_load,
        e.hwm_delete_conventional,
        e.hwm_first_load.saturating_sub(1).saturating_sub(conv_growth),
        e.hwm_first_load.saturating_sub(1),
        e.other_insert_waits,
        e.old_rows,
    );
    (Verdict::Holds, facts)
}

/// What the load times say beside C13's verdict: whether APPEND was
/// clearly faster than a conventional insert on this run. At the quick
/// size (2,000 rows) it often is not: a direct-path commit also syncs
/// every block it wrote, a fixed cost that a small load does not earn
/// back; at the book's size the saved undo, redo and gets dominate.
pub fn c13_timing_note(e: &C13Evidence) -> String {
    let (c, a, x) = (&e.conventional, &e.append, &e.append_nologging);
    let times = format!(
        "conventional {:.0} ms, APPEND {:.0} ms, APPEND NOLOGGING {:.0} ms for {} rows",
        c.total_ms.median, a.total_ms.median, x.total_ms.median, e.rows
    );
    match sep(&a.total_ms, &c.total_ms) {
        Sep::Below => format!("{times}: APPEND clearly faster"),
        Sep::Overlap => format!("{times}: APPEND's time overlaps the conventional load's (within the noise)"),
        Sep::Above => format!(
            "{times}: APPEND clearly slower on this run — its commit also syncs every block it wrote, a fixed cost that a load this small does not earn back"
        ),
    }
}

/// Loads `n` rows into a new table `table` (conventionally, by APPEND,
/// or by APPEND into a NOLOGGING table) and commits; returns the counters
/// and the time of the insert and its commit (a direct-path commit also
/// syncs the blocks it wrote).
fn c13_load(s: &mut Session, table: &str, n: u64, how: u8) -> Result<(C13Load, f64)> {
    s.execute(&format!("CREATE TABLE {table} (id INTEGER, pad TEXT)"))?;
    if how == 2 {
        s.execute(&format!("ALTER TABLE {table} NOLOGGING"))?;
    }
    let hint = if how == 0 { "" } else { "/*+ APPEND */ " };
    let m = Moved::start(s);
    let t = Instant::now();
    s.execute(&format!("INSERT {hint}INTO {table} {}", source(1, n)))?;
    s.commit()?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    Ok((
        C13Load {
            redo_bytes: m.get(s, Stat::RedoSize),
            undo_bytes: m.get(s, Stat::UndoChangeBytes),
            logical_reads: m.logical_reads(s),
            direct_writes: m.get(s, Stat::PhysicalWritesDirect),
            blocks_formatted: m.get(s, Stat::DirectBlocksFormatted),
            total_ms: Timing::exactly(0.0),
        },
        ms,
    ))
}

/// HWM and size of `table` after load, DELETE of every row, and a reload
/// of as many rows by APPEND (`append`) or conventionally: (HWM after the
/// first load, HWM and segment size after the reload, blocks the reload
/// formatted by direct path).
fn c13_reload(
    db: &Database,
    s: &mut Session,
    table: &str,
    n: u64,
    append: bool,
) -> Result<(u64, u64, u64, u64)> {
    s.execute(&format!("CREATE TABLE {table} (id INTEGER, pad TEXT)"))?;
    s.execute(&format!("INSERT INTO {table} {}", source(1, n)))?;
    s.commit()?;
    let first = db.segment_info(table)?.1 as u64;
    s.execute(&format!("DELETE FROM {table}"))?;
    s.commit()?;
    let hint = if append { "/*+ APPEND */ " } else { "" };
    let r = s.execute(&format!(
        "INSERT {hint}INTO {table} {}",
        source(n + 1, 2 * n)
    ))?;
    s.commit()?;
    let (size, hwm) = db.segment_info(table)?;
    Ok((
        first,
        hwm as u64,
        size as u64,
        r.stats.get(Stat::DirectBlocksFormatted),
    ))
}

/// The lock and ORA-12838 part: returns (rows the other session's query
/// saw, its enqueue waits, whether its insert finished after the commit,
/// whether the loader's own read was refused).
fn c13_lock(db: &Database, old_rows: u64) -> Result<(u64, u64, bool, bool)> {
    let mut s = db.session();
    s.execute("CREATE TABLE lk (id INTEGER, pad TEXT)")?;
    s.execute(&format!("INSERT INTO lk {}", source(1, old_rows)))?;
    s.commit()?;
    s.execute(&format!(
        "INSERT /*+ APPEND */ INTO lk {}",
        source(old_rows + 1, 2 * old_rows)
    ))?;
    let mut other = db.session();
    let probe = other.wait_probe();
    let seen = count(&mut other, "lk")?;
    let waits0 = other.stats().get(Stat::LockWaits);
    let committed = std::sync::atomic::AtomicBool::new(false);
    let (refused, other_result) = std::thread::scope(|sc| {
        let committed = &committed;
        let h = sc.spawn(move || -> Result<(u64, bool)> {
            other.execute("INSERT INTO lk VALUES (-1, 'waited')")?;
            let after_commit = committed.load(std::sync::atomic::Ordering::SeqCst);
            other.commit()?;
            Ok((other.stats().get(Stat::LockWaits) - waits0, after_commit))
        });
        // The INSERT is seen waiting for the table lock (no sleep guesses).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !probe.load(std::sync::atomic::Ordering::SeqCst) && !h.is_finished() {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let refused = matches!(
            s.execute("SELECT COUNT(*) FROM lk"),
            Err(Error::DirectPathPending { .. })
        );
        committed.store(true, std::sync::atomic::Ordering::SeqCst);
        let done = s.commit();
        let r = h
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the waiting session panicked".into())));
        (done.map(|()| refused), r)
    });
    let refused = refused?;
    let (waits, after_commit) = other_result?;
    Ok((seen, waits, after_commit, refused))
}

pub(super) fn c13(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(2_000, 100_000);
    let reps = reps(ctx);
    let (db, mut s) = open_cached(ctx, "c13", 65_536)?;
    let mut loads: Vec<C13Load> = Vec::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for rep in 0..reps {
        ctx.step(&format!("loading, repetition {}/{reps}", rep + 1));
        for (i, name) in ["conv", "append", "nolog"].iter().enumerate() {
            let (l, ms) = c13_load(&mut s, &format!("{name}_{rep}"), n, i as u8)?;
            samples[i].push(ms);
            if rep == 0 {
                loads.push(l);
            }
        }
    }
    for (l, ms) in loads.iter_mut().zip(&samples) {
        l.total_ms = Timing::of(ms);
    }
    ctx.step("free space below the HWM");
    let (first, hwm_app, size_app, reload_blocks) = c13_reload(&db, &mut s, "h_append", n, true)?;
    let (_, hwm_conv, size_conv, _) = c13_reload(&db, &mut s, "h_conv", n, false)?;
    ctx.step("the table lock");
    let old_rows = 10;
    let (seen, waits, after_commit, refused) = c13_lock(&db, old_rows)?;
    let e = C13Evidence {
        rows: n,
        conventional: loads[0].clone(),
        append: loads[1].clone(),
        append_nologging: loads[2].clone(),
        hwm_first_load: first,
        hwm_delete_append: hwm_app,
        reload_append_blocks: reload_blocks,
        hwm_delete_conventional: hwm_conv,
        segment_blocks_delete_append: size_app,
        segment_blocks_delete_conventional: size_conv,
        other_query_rows: seen,
        old_rows,
        other_insert_waits: waits,
        other_insert_done_after_commit: after_commit,
        loader_read_refused: refused,
    };
    let mut ev = vec![Evidence::counter("rows", n, "rows")];
    for (name, l) in [
        ("conventional", &e.conventional),
        ("append", &e.append),
        ("append_nologging", &e.append_nologging),
    ] {
        ev.extend(counters(
            name,
            [
                ("redo_size", l.redo_bytes, "bytes"),
                ("undo_bytes", l.undo_bytes, "bytes"),
                ("logical_reads", l.logical_reads, "gets"),
                ("physical_writes_direct", l.direct_writes, "blocks"),
            ],
        ));
    }
    ev.extend([
        Evidence::counter("hwm.after_first_load", first, "blocks"),
        Evidence::counter("hwm.after_delete_append", hwm_app, "blocks"),
        Evidence::counter(
            "hwm.reload_append_blocks_formatted",
            reload_blocks,
            "blocks",
        ),
        Evidence::counter("hwm.after_delete_conventional", hwm_conv, "blocks"),
        Evidence::counter("segment.after_delete_append", size_app, "blocks"),
        Evidence::counter("segment.after_delete_conventional", size_conv, "blocks"),
        Evidence::counter("lock.other_query_rows", seen, "rows"),
        Evidence::counter("lock.other_insert_enqueue_waits", waits, "waits"),
        Evidence::counter(
            "lock.other_insert_done_after_commit",
            u64::from(after_commit),
            "bool",
        ),
        Evidence::counter("loader_read_refused_ora12838", u64::from(refused), "bool"),
    ]);
    for (name, ms) in ["conventional", "append", "append_nologging"]
        .iter()
        .zip(&samples)
    {
        ev.push(Evidence::timing(format!("{name}.total_time"), ms, "ms"));
    }
    let mut notes = Vec::new();
    if hwm_conv > first {
        notes.push(format!(
            "the conventional reload raised the HWM by {} blocks: blocklab's segment header lists at most 64 blocks with free space (Oracle's free lists and ASSM bitmaps track them all), so only that many freed blocks were found again",
            hwm_conv - first
        ));
    }
    let timing_note = c13_timing_note(&e);
    let mut r = report(
        C13,
        c13_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("repetitions".into(), reps.to_string()),
            ("table".into(), "no index".into()),
            (
                "time".into(),
                "INSERT + COMMIT as the loader waits for them (a conventional load's dirty blocks are written later, by the writer)".into(),
            ),
        ],
        notes,
    );
    // Undo, redo and gets per row explain the load time, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(timing_note);
    Ok(r)
}

// ---------------------------------------------------------------- C14

pub(super) const C14: LabText = (
    "C14",
    "Appended rows are invisible until commit; a rollback leaves the HWM",
    "Rows appended by a direct-path insert are invisible to everyone until commit; a rollback simply leaves the HWM where it was.",
);

/// What C14 measures. "Seen" numbers are another session's: the rows its
/// `COUNT(*)` returns and the blocks its full scan reads (every block below
/// the HWM it sees, so a moved HWM shows as more blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C14Evidence {
    pub rows_before: u64,
    pub rows_loaded: u64,
    pub seen_rows_before: u64,
    pub seen_blocks_before: u64,
    pub hwm_before: u64,
    /// While the load is uncommitted.
    pub seen_rows_during: u64,
    pub seen_blocks_during: u64,
    /// The segment header's current HWM during the load: the loading
    /// transaction's own, not yet committed, change.
    pub header_hwm_during: u64,
    pub seen_rows_after_commit: u64,
    pub seen_blocks_after_commit: u64,
    pub hwm_after_commit: u64,
    /// A second load, rolled back.
    pub header_hwm_during_rolled_back: u64,
    pub seen_rows_after_rollback: u64,
    pub seen_blocks_after_rollback: u64,
    pub hwm_after_rollback: u64,
    pub segment_blocks_before_rollback: u64,
    pub segment_blocks_after_rollback: u64,
}

/// Holds when, before the commit, another session sees neither the rows
/// nor the blocks they fill (its scan stops at the old HWM); after the
/// commit it sees both; and a rolled-back load leaves the rows, the blocks
/// a scan reads and the HWM exactly as they were (the space it allocated
/// may stay).
pub fn c14_verdict(e: &C14Evidence) -> (Verdict, String) {
    let invisible =
        e.seen_rows_during == e.seen_rows_before && e.seen_blocks_during == e.seen_blocks_before;
    let published = e.seen_rows_after_commit == e.seen_rows_before + e.rows_loaded
        && e.seen_blocks_after_commit > e.seen_blocks_before
        && e.hwm_after_commit > e.hwm_before;
    let rolled_back = e.seen_rows_after_rollback == e.seen_rows_after_commit
        && e.seen_blocks_after_rollback == e.seen_blocks_after_commit
        && e.hwm_after_rollback == e.hwm_after_commit;
    let facts = format!(
        "another session saw {} rows in {} blocks before the load, {} rows in {} blocks during it (the header's uncommitted HWM was already {}, the committed one {}), {} rows in {} blocks after the commit (HWM {}); \
         a second load rolled back (its uncommitted HWM {}): {} rows in {} blocks, HWM {} (segment {} -> {} blocks: the space it took stays allocated)",
        e.seen_rows_before,
        e.seen_blocks_before,
        e.seen_rows_during,
        e.seen_blocks_during,
        e.header_hwm_during,
        e.hwm_before,
        e.seen_rows_after_commit,
        e.seen_blocks_after_commit,
        e.hwm_after_commit,
        e.header_hwm_during_rolled_back,
        e.seen_rows_after_rollback,
        e.seen_blocks_after_rollback,
        e.hwm_after_rollback,
        e.segment_blocks_before_rollback,
        e.segment_blocks_after_rollback
    );
    if invisible && published && rolled_back {
        (Verdict::Holds, facts)
    } else {
        (Verdict::DoesNotHold, facts)
    }
}

/// Rows another session counts in `v`, and the blocks its scan read.
fn seen(s: &mut Session) -> Result<(u64, u64)> {
    let r = s.execute("SELECT /*+ FULL(v) */ COUNT(*) FROM v")?;
    let rows = r
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0) as u64;
    Ok((rows, r.stats.get(Stat::TableScanBlocks)))
}

pub(super) fn c14(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(2_000, 100_000);
    let before_rows = 100;
    let (db, mut loader) = ctx.open("c14", ctx.config())?;
    let mut other = db.session();
    ctx.step("loading");
    loader.execute("CREATE TABLE v (id INTEGER, pad TEXT)")?;
    loader.execute(&format!("INSERT INTO v {}", source(1, before_rows)))?;
    loader.commit()?;
    let hwm_before = db.segment_info("v")?.1 as u64;
    let (rows0, blocks0) = seen(&mut other)?;
    loader.execute(&format!(
        "INSERT /*+ APPEND */ INTO v {}",
        source(before_rows + 1, before_rows + n)
    ))?;
    let (rows1, blocks1) = seen(&mut other)?;
    let header_during = db.segment_info("v")?.1 as u64;
    loader.commit()?;
    let (rows2, blocks2) = seen(&mut other)?;
    let hwm_after_commit = db.segment_info("v")?.1 as u64;
    ctx.step("rolling back a load");
    let seg_before = db.segment_info("v")?.0 as u64;
    loader.execute(&format!(
        "INSERT /*+ APPEND */ INTO v {}",
        source(before_rows + n + 1, before_rows + 2 * n)
    ))?;
    let header_during_rb = db.segment_info("v")?.1 as u64;
    loader.rollback()?;
    let (rows3, blocks3) = seen(&mut other)?;
    let (seg_after, hwm_after_rollback) = db.segment_info("v")?;
    let e = C14Evidence {
        rows_before: before_rows,
        rows_loaded: n,
        seen_rows_before: rows0,
        seen_blocks_before: blocks0,
        hwm_before,
        seen_rows_during: rows1,
        seen_blocks_during: blocks1,
        header_hwm_during: header_during,
        seen_rows_after_commit: rows2,
        seen_blocks_after_commit: blocks2,
        hwm_after_commit,
        header_hwm_during_rolled_back: header_during_rb,
        seen_rows_after_rollback: rows3,
        seen_blocks_after_rollback: blocks3,
        hwm_after_rollback: hwm_after_rollback as u64,
        segment_blocks_before_rollback: seg_before,
        segment_blocks_after_rollback: seg_after as u64,
    };
    Ok(report(
        C14,
        c14_verdict(&e),
        vec![
            Evidence::counter("rows_before", e.rows_before, "rows"),
            Evidence::counter("rows_loaded", e.rows_loaded, "rows"),
            Evidence::counter("before.seen_rows", e.seen_rows_before, "rows"),
            Evidence::counter("before.seen_scan_blocks", e.seen_blocks_before, "blocks"),
            Evidence::counter("before.hwm", e.hwm_before, "blocks"),
            Evidence::counter("during_load.seen_rows", e.seen_rows_during, "rows"),
            Evidence::counter(
                "during_load.seen_scan_blocks",
                e.seen_blocks_during,
                "blocks",
            ),
            Evidence::counter(
                "during_load.header_hwm_uncommitted",
                e.header_hwm_during,
                "blocks",
            ),
            Evidence::counter("after_commit.seen_rows", e.seen_rows_after_commit, "rows"),
            Evidence::counter(
                "after_commit.seen_scan_blocks",
                e.seen_blocks_after_commit,
                "blocks",
            ),
            Evidence::counter("after_commit.hwm", e.hwm_after_commit, "blocks"),
            Evidence::counter(
                "rolled_back_load.header_hwm_uncommitted",
                e.header_hwm_during_rolled_back,
                "blocks",
            ),
            Evidence::counter(
                "after_rollback.seen_rows",
                e.seen_rows_after_rollback,
                "rows",
            ),
            Evidence::counter(
                "after_rollback.seen_scan_blocks",
                e.seen_blocks_after_rollback,
                "blocks",
            ),
            Evidence::counter("after_rollback.hwm", e.hwm_after_rollback, "blocks"),
            Evidence::counter(
                "segment_blocks.before_rolled_back_load",
                e.segment_blocks_before_rollback,
                "blocks",
            ),
            Evidence::counter(
                "segment_blocks.after_rollback",
                e.segment_blocks_after_rollback,
                "blocks",
            ),
        ],
        vec![("rows".into(), n.to_string())],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(redo: u64, undo: u64, reads: u64, blocks: u64, ms: f64) -> C13Load {
        C13Load {
            redo_bytes: redo,
            undo_bytes: undo,
            logical_reads: reads,
            direct_writes: blocks,
            blocks_formatted: blocks,
            total_ms: Timing::of(&[ms * 0.9, ms, ms * 1.1]),
        }
    }

    fn c13_good() -> C13Evidence {
        C13Evidence {
            rows: 1000,
            conventional: l(300_000, 70_000, 4_000, 0, 50.0),
            append: l(90_000, 60, 6, 12, 20.0),
            append_nologging: l(300, 60, 6, 12, 15.0),
            hwm_first_load: 13,
            hwm_delete_append: 25,
            reload_append_blocks: 12,
            hwm_delete_conventional: 13,
            segment_blocks_delete_append: 32,
            segment_blocks_delete_conventional: 16,
            other_query_rows: 10,
            old_rows: 10,
            other_insert_waits: 1,
            other_insert_done_after_commit: true,
            loader_read_refused: true,
        }
    }

    #[test]
    fn c13_rule_on_synthetic_evidence() {
        let good = c13_good();
        assert_eq!(c13_verdict(&good).0, Verdict::Holds);
        let undo_per_row = C13Evidence {
            append: l(90_000, 5_000, 6, 12, 20.0),
            ..good.clone()
        };
        assert_eq!(c13_verdict(&undo_per_row).0, Verdict::DoesNotHold);
        let logged = C13Evidence {
            append_nologging: l(90_000, 60, 6, 12, 15.0),
            ..good.clone()
        };
        assert_eq!(c13_verdict(&logged).0, Verdict::DoesNotHold);
        let reused = C13Evidence {
            hwm_delete_append: 13,
            ..good.clone()
        };
        assert_eq!(c13_verdict(&reused).0, Verdict::DoesNotHold);
        let no_lock = C13Evidence {
            other_insert_waits: 0,
            ..good.clone()
        };
        assert_eq!(c13_verdict(&no_lock).0, Verdict::DoesNotHold);
        // Times never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.append.total_ms = Timing::of(&[48.0, 40.0, 52.0]);
        assert_eq!(c13_verdict(&noisy).0, Verdict::Holds);
        assert!(c13_timing_note(&noisy).contains("within the noise"));
        assert!(c13_timing_note(&good).contains("clearly faster"));
    }

    #[test]
    fn c14_rule_on_synthetic_evidence() {
        let good = C14Evidence {
            rows_before: 100,
            rows_loaded: 1000,
            seen_rows_before: 100,
            seen_blocks_before: 1,
            hwm_before: 2,
            seen_rows_during: 100,
            seen_blocks_during: 1,
            header_hwm_during: 15,
            seen_rows_after_commit: 1100,
            seen_blocks_after_commit: 14,
            hwm_after_commit: 15,
            header_hwm_during_rolled_back: 27,
            seen_rows_after_rollback: 1100,
            seen_blocks_after_rollback: 14,
            hwm_after_rollback: 15,
            segment_blocks_before_rollback: 16,
            segment_blocks_after_rollback: 32,
        };
        assert_eq!(c14_verdict(&good).0, Verdict::Holds);
        for bad in [
            C14Evidence {
                seen_rows_during: 1100,
                ..good
            },
            C14Evidence {
                seen_blocks_during: 14,
                ..good
            },
            C14Evidence {
                hwm_after_rollback: 27,
                ..good
            },
            C14Evidence {
                seen_rows_after_commit: 100,
                ..good
            },
        ] {
            assert_eq!(c14_verdict(&bad).0, Verdict::DoesNotHold, "{bad:?}");
        }
    }
}
