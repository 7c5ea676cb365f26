//! Redo per change (C03): single-row INSERT, UPDATE and DELETE by row
//! width and by the number of indexes maintained, and UPDATE by the number
//! and width of the columns it changes (an UPDATE logs the changed columns,
//! not the row, as Oracle's "update row piece" does).

use std::fmt::Write as _;
use std::time::Instant;

use super::super::{report, Evidence, LabCtx, Report, Verdict};
use super::{
    counters, indexed_table, open_cached, per, rates, reps, sep, LabText, Moved, Sep, Timing,
};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::ids::RowId;
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) const C03: LabText = (
    "C03",
    "Every DML change generates redo, and redo volume drives DML cost",
    "Every DML change generates redo, and redo volume drives DML cost.",
);

/// Redo of one kind of single-row statement, summed over the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct C03Redo {
    pub bytes: u64,
    pub entries: u64,
}

/// Redo of INSERT, UPDATE and DELETE, one row per statement, for one table
/// shape. `update` changes the three integer columns and leaves the pad
/// alone; `update_pad` changes the pad only (to as many other bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct C03Ops {
    pub insert: C03Redo,
    pub update: C03Redo,
    pub update_pad: C03Redo,
    pub delete: C03Redo,
}

/// What C03 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C03Evidence {
    /// Rows per table (each changed by one statement per operation).
    pub rows: u64,
    /// Pad widths 20, 200, 1000 bytes, no index.
    pub by_width: [C03Ops; 3],
    /// Pad width 200 with 0, 1 and 3 indexes (the UPDATE changes every
    /// indexed column).
    pub by_indexes: [C03Ops; 3],
    /// Pad width 200, no index: UPDATEs changing 1, 2 and 3 integer columns.
    pub update_by_columns: [C03Redo; 3],
    /// Single-row insert rate by width.
    pub insert_rate_by_width: [Timing; 3],
}

const C03_WIDTHS: [u64; 3] = [20, 200, 1000];
const C03_INDEXES: [u64; 3] = [0, 1, 3];
/// Untouched columns may move an UPDATE's redo per row by at most this
/// share (undo block switches fall a little differently), not by the width.
const C03_FLAT: f64 = 0.05;

/// Holds when every single-row INSERT, UPDATE and DELETE generates redo
/// (at least one entry and some bytes per row), the redo per row grows
/// with the row width for INSERT and DELETE and with the number of indexes
/// maintained for all three; an UPDATE's redo grows with the number of
/// columns it changes and, for a changed column, by at least its width
/// step, but stays flat (within `C03_FLAT`) when only the columns it leaves
/// alone get wider. Those bytes are the work a change costs (every one is
/// generated, copied into the log buffer and written), so they decide; the
/// insert rates by width are shown beside them (`c03_timing_note`).
pub fn c03_verdict(e: &C03Evidence) -> (Verdict, String) {
    let n = e.rows;
    let mut wrong = Vec::new();
    let all = e.by_width.iter().chain(&e.by_indexes);
    for o in all {
        for (op, r) in [
            ("INSERT", o.insert),
            ("UPDATE", o.update),
            ("DELETE", o.delete),
        ] {
            if r.entries < n || r.bytes == 0 {
                wrong.push(format!(
                    "{op}: {} redo entries, {} bytes for {n} rows",
                    r.entries, r.bytes
                ));
            }
        }
    }
    for w in e.by_width.windows(2) {
        if w[1].insert.bytes <= w[0].insert.bytes || w[1].delete.bytes <= w[0].delete.bytes {
            wrong.push(format!(
                "redo did not grow with the row width (insert {} -> {}, delete {} -> {} bytes)",
                w[0].insert.bytes, w[1].insert.bytes, w[0].delete.bytes, w[1].delete.bytes
            ));
        }
    }
    for w in e.by_indexes.windows(2) {
        let grew = w[1].insert.bytes > w[0].insert.bytes
            && w[1].update.bytes > w[0].update.bytes
            && w[1].delete.bytes > w[0].delete.bytes;
        if !grew {
            wrong.push(format!(
                "redo did not grow with the indexes (insert {} -> {}, update {} -> {}, delete {} -> {} bytes)",
                w[0].insert.bytes,
                w[1].insert.bytes,
                w[0].update.bytes,
                w[1].update.bytes,
                w[0].delete.bytes,
                w[1].delete.bytes
            ));
        }
    }
    let w = &e.by_width;
    let (lo, hi) = w.iter().fold((u64::MAX, 0), |(lo, hi), o| {
        (lo.min(o.update.bytes), hi.max(o.update.bytes))
    });
    if hi as f64 > lo as f64 * (1.0 + C03_FLAT) {
        wrong.push(format!(
            "an UPDATE of three integer columns grew with the untouched pad ({} -> {} -> {} bytes): it logs the row, not the changed columns",
            w[0].update.bytes, w[1].update.bytes, w[2].update.bytes
        ));
    }
    for (pair, widths) in w.windows(2).zip(C03_WIDTHS.windows(2)) {
        let step = (widths[1] - widths[0]) * n;
        if pair[1].update_pad.bytes < pair[0].update_pad.bytes + step {
            wrong.push(format!(
                "an UPDATE of the pad grew by less than the pad's width step ({} -> {} bytes, step {step})",
                pair[0].update_pad.bytes, pair[1].update_pad.bytes
            ));
        }
    }
    let c = &e.update_by_columns;
    if !(c[0].bytes < c[1].bytes && c[1].bytes < c[2].bytes) {
        wrong.push(format!(
            "UPDATE redo did not grow with the changed columns ({} -> {} -> {} bytes)",
            c[0].bytes, c[1].bytes, c[2].bytes
        ));
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    let b = |r: C03Redo| per(r.bytes, n);
    let counters = format!(
        "redo bytes per row for widths 20/200/1000: INSERT {:.0}/{:.0}/{:.0}, UPDATE {:.0}/{:.0}/{:.0}, DELETE {:.0}/{:.0}/{:.0}; \
         with 0/1/3 indexes: INSERT {:.0}/{:.0}/{:.0}, UPDATE {:.0}/{:.0}/{:.0}, DELETE {:.0}/{:.0}/{:.0}",
        b(e.by_width[0].insert),
        b(e.by_width[1].insert),
        b(e.by_width[2].insert),
        b(e.by_width[0].update),
        b(e.by_width[1].update),
        b(e.by_width[2].update),
        b(e.by_width[0].delete),
        b(e.by_width[1].delete),
        b(e.by_width[2].delete),
        b(e.by_indexes[0].insert),
        b(e.by_indexes[1].insert),
        b(e.by_indexes[2].insert),
        b(e.by_indexes[0].update),
        b(e.by_indexes[1].update),
        b(e.by_indexes[2].update),
        b(e.by_indexes[0].delete),
        b(e.by_indexes[1].delete),
        b(e.by_indexes[2].delete),
    );
    let counters = format!(
        "{counters}; an UPDATE logs the columns it changes: {:.0}/{:.0}/{:.0} bytes per row for 1/2/3 integer columns, {:.0}/{:.0}/{:.0} for a changed pad of 20/200/1000 bytes (its new value in redo, its old one in undo), and flat with the untouched pad's width",
        b(c[0]),
        b(c[1]),
        b(c[2]),
        b(w[0].update_pad),
        b(w[1].update_pad),
        b(w[2].update_pad),
    );
    (Verdict::Holds, counters)
}

/// What the insert rates say beside C03's verdict: whether single-row
/// inserts got clearly slower at each width step, as their redo per row
/// grew. A step whose rates overlap is within this machine's noise (the
/// call and parse overhead of a one-row statement is the same at every
/// width, and can hide a few hundred bytes of redo).
pub fn c03_timing_note(e: &C03Evidence) -> String {
    let r = &e.insert_rate_by_width;
    let rates = format!(
        "single-row inserts {:.0}/{:.0}/{:.0} rows/s for widths 20/200/1000",
        r[0].median, r[1].median, r[2].median
    );
    let steps = [sep(&r[0], &r[1]), sep(&r[1], &r[2])];
    if steps.contains(&Sep::Below) {
        format!("{rates}: more redo per row was clearly faster at a width step on this run, against the counters")
    } else if steps.contains(&Sep::Overlap) {
        format!("{rates}: a width step's rates overlap on this run (within the noise)")
    } else {
        format!("{rates}: the rate falls as the redo grows")
    }
}

/// Inserts, updates and deletes `n` rows of a table (one row per
/// statement, typed API), committing after each phase; returns the redo
/// of each phase and the time of the inserts (without their commit).
fn c03_ops(s: &mut Session, table: &str, n: u64, width: u64, seed: u64) -> Result<(C03Ops, f64)> {
    let mut rng = Rng::splitmix64(seed);
    let pad: String = "r".repeat(width as usize);
    let rows: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            vec![
                Value::Int(i as i64),
                Value::Int(rng.below(1_000_000) as i64),
                Value::Int(rng.below(1_000_000) as i64),
                Value::Int(rng.below(1_000_000) as i64),
                Value::Text(pad.clone()),
            ]
        })
        .collect();
    let redo = |s: &Session, m: &Moved| C03Redo {
        bytes: m.get(s, Stat::RedoSize),
        entries: m.get(s, Stat::RedoEntries),
    };
    let m = Moved::start(s);
    let t = Instant::now();
    let mut rowids: Vec<RowId> = Vec::with_capacity(rows.len());
    for r in &rows {
        rowids.push(s.insert(table, r.clone())?);
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    s.commit()?;
    let insert = redo(s, &m);
    let m = Moved::start(s);
    let mut rows = rows;
    for (rowid, r) in rowids.iter_mut().zip(&mut rows) {
        for v in &mut r[1..4] {
            if let Value::Int(x) = v {
                *x += 1;
            }
        }
        *rowid = s.update(table, *rowid, r.clone())?;
    }
    s.commit()?;
    let update = redo(s, &m);
    // The pad changed, to as many other bytes, the rest left alone.
    let other: String = "s".repeat(width as usize);
    let m = Moved::start(s);
    for (rowid, r) in rowids.iter_mut().zip(&mut rows) {
        r[4] = Value::Text(other.clone());
        *rowid = s.update(table, *rowid, r.clone())?;
    }
    s.commit()?;
    let update_pad = redo(s, &m);
    let m = Moved::start(s);
    for rowid in &rowids {
        s.delete(table, *rowid)?;
    }
    s.commit()?;
    let delete = redo(s, &m);
    Ok((
        C03Ops {
            insert,
            update,
            update_pad,
            delete,
        },
        ms,
    ))
}

/// Redo of UPDATEs changing 1, 2 and 3 integer columns of `n` rows (pad
/// 200 bytes, no index), one row per statement, committing after each.
fn c03_update_columns(s: &mut Session, n: u64) -> Result<[C03Redo; 3]> {
    c03_table(s, "cols", 0)?;
    let pad = Value::Text("r".repeat(200));
    let mut rows: Vec<Vec<Value>> = (0..n as i64)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(i),
                Value::Int(i),
                Value::Int(i),
                pad.clone(),
            ]
        })
        .collect();
    let mut rowids = Vec::with_capacity(rows.len());
    for r in &rows {
        rowids.push(s.insert("cols", r.clone())?);
    }
    s.commit()?;
    let mut out = [C03Redo::default(); 3];
    for (k, o) in out.iter_mut().enumerate() {
        let m = Moved::start(s);
        for (rowid, r) in rowids.iter_mut().zip(&mut rows) {
            for v in &mut r[1..2 + k] {
                if let Value::Int(x) = v {
                    *x += 1;
                }
            }
            *rowid = s.update("cols", *rowid, r.clone())?;
        }
        s.commit()?;
        *o = C03Redo {
            bytes: m.get(s, Stat::RedoSize),
            entries: m.get(s, Stat::RedoEntries),
        };
    }
    Ok(out)
}

/// C03's table with `indexes` indexes (on a, b, c, in that order).
fn c03_table(s: &mut Session, name: &str, indexes: u64) -> Result<()> {
    indexed_table(
        s,
        name,
        "id INTEGER, a INTEGER, b INTEGER, c INTEGER, pad TEXT",
        &["a", "b", "c"][..indexes as usize],
    )
}

pub(super) fn c03(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(300, 5_000);
    let reps = reps(ctx);
    let (_db, mut s) = open_cached(ctx, "c03", 32_768)?;
    let mut by_width = [C03Ops::default(); 3];
    let mut by_indexes = [C03Ops::default(); 3];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); 3];
    ctx.step("by index count");
    for (i, &k) in C03_INDEXES.iter().enumerate() {
        let name = format!("ix{k}");
        c03_table(&mut s, &name, k)?;
        by_indexes[i] = c03_ops(&mut s, &name, n, 200, ctx.seed)?.0;
    }
    ctx.step("by changed columns");
    let update_by_columns = c03_update_columns(&mut s, n)?;
    for rep in 0..reps {
        ctx.step(&format!("by width, repetition {}/{reps}", rep + 1));
        for (i, &w) in C03_WIDTHS.iter().enumerate() {
            let name = format!("w{w}_{rep}");
            c03_table(&mut s, &name, 0)?;
            let (ops, ms) = c03_ops(&mut s, &name, n, w, ctx.seed)?;
            if rep == 0 {
                by_width[i] = ops;
            }
            samples[i].push(ms);
        }
    }
    let rate_t = |i: usize| Timing::of(&rates(n, &samples[i]));
    let e = C03Evidence {
        rows: n,
        by_width,
        by_indexes,
        update_by_columns,
        insert_rate_by_width: [rate_t(0), rate_t(1), rate_t(2)],
    };
    let mut ev = vec![Evidence::counter("rows", n, "rows")];
    let shapes = C03_WIDTHS
        .iter()
        .map(|w| format!("width{w}"))
        .zip(by_width)
        .chain(
            C03_INDEXES
                .iter()
                .map(|k| format!("width200_idx{k}"))
                .zip(by_indexes),
        );
    let mut table = String::from("shape              op      redo B/row  entries/row\n");
    for (shape, ops) in shapes {
        for (op, r) in [
            ("insert", ops.insert),
            ("update", ops.update),
            ("delete", ops.delete),
        ] {
            ev.extend(counters(
                &format!("{shape}.{op}"),
                [
                    ("redo_size", r.bytes, "bytes"),
                    ("redo_entries", r.entries, "entries"),
                ],
            ));
            let _ = writeln!(
                table,
                "{shape:<18} {op:<7} {:>10.1}  {:>11.2}",
                per(r.bytes, n),
                per(r.entries, n)
            );
        }
    }
    let _ = writeln!(table, "UPDATE by changed columns  redo B/row  entries/row");
    let changed = (1..=3)
        .map(|k| format!("changed{k}_int"))
        .zip(update_by_columns)
        .chain(
            C03_WIDTHS
                .iter()
                .map(|w| format!("changed_pad{w}"))
                .zip(by_width.iter().map(|o| o.update_pad)),
        );
    for (shape, r) in changed {
        ev.extend(counters(
            &format!("{shape}.update"),
            [
                ("redo_size", r.bytes, "bytes"),
                ("redo_entries", r.entries, "entries"),
            ],
        ));
        let _ = writeln!(
            table,
            "{shape:<26} {:>10.1}  {:>11.2}",
            per(r.bytes, n),
            per(r.entries, n)
        );
    }
    for (i, w) in C03_WIDTHS.iter().enumerate() {
        ev.push(Evidence::timing(
            format!("width{w}.insert_rate"),
            &rates(n, &samples[i]),
            "rows/s",
        ));
    }
    let timing_note = c03_timing_note(&e);
    let mut r = report(
        C03,
        c03_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("repetitions".into(), reps.to_string()),
            ("statements".into(), "one row each, typed API".into()),
        ],
        vec![table],
    );
    // Redo bytes per change explain the insert rates, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(timing_note);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(scale: u64) -> C03Ops {
        let r = |b| C03Redo {
            bytes: b * scale,
            entries: 100,
        };
        C03Ops {
            insert: r(200),
            update: r(150),
            update_pad: r(150),
            delete: r(190),
        }
    }

    /// By width: the integer UPDATE flat, the pad UPDATE 2 bytes per pad
    /// byte (new value in redo, old in undo) over a fixed 300.
    fn by_width() -> [C03Ops; 3] {
        let mut w = [ops(1), ops(2), ops(5)];
        for (o, width) in w.iter_mut().zip(C03_WIDTHS) {
            o.update.bytes = 15_000;
            o.update_pad.bytes = (300 + 2 * width) * 100;
        }
        w
    }

    #[test]
    fn c03_rule_on_synthetic_evidence() {
        let good = C03Evidence {
            rows: 100,
            by_width: by_width(),
            by_indexes: [ops(2), ops(3), ops(5)],
            update_by_columns: [25_000, 27_600, 30_200].map(|bytes| C03Redo {
                bytes,
                entries: 100,
            }),
            insert_rate_by_width: [
                Timing::exactly(9_000.0),
                Timing::exactly(7_000.0),
                Timing::exactly(3_000.0),
            ],
        };
        assert_eq!(c03_verdict(&good).0, Verdict::Holds);
        // A DELETE that logged nothing.
        let mut silent = good.clone();
        silent.by_width[1].delete = C03Redo::default();
        assert_eq!(c03_verdict(&silent).0, Verdict::DoesNotHold);
        // Redo that ignores the indexes.
        let mut flat = good.clone();
        flat.by_indexes[2] = flat.by_indexes[1];
        assert_eq!(c03_verdict(&flat).0, Verdict::DoesNotHold);
        // An UPDATE of the integers whose redo grows with the pad's width
        // (a whole-row image).
        let mut rows = good.clone();
        rows.by_width[2].update.bytes = 100_000;
        assert_eq!(c03_verdict(&rows).0, Verdict::DoesNotHold);
        // Redo that ignores how many columns change.
        let mut cols = good.clone();
        cols.update_by_columns[2] = cols.update_by_columns[1];
        assert_eq!(c03_verdict(&cols).0, Verdict::DoesNotHold);
        // A wider changed pad that adds less than its width.
        let mut pad = good.clone();
        pad.by_width[2].update_pad.bytes = pad.by_width[1].update_pad.bytes + 100;
        assert_eq!(c03_verdict(&pad).0, Verdict::DoesNotHold);
        // An INSERT with fewer redo entries than rows: some row changed
        // without redo.
        let mut few = good.clone();
        few.by_width[2].insert.entries = 99;
        assert_eq!(c03_verdict(&few).0, Verdict::DoesNotHold);
        // Rates never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.insert_rate_by_width[1] = Timing::of(&[6_000.0, 8_000.0, 9_500.0]);
        assert_eq!(c03_verdict(&noisy).0, Verdict::Holds);
        assert!(c03_timing_note(&noisy).contains("overlap"));
        let mut reversed = good.clone();
        reversed.insert_rate_by_width[2] = Timing::exactly(20_000.0);
        assert_eq!(c03_verdict(&reversed).0, Verdict::Holds);
        assert!(c03_timing_note(&reversed).contains("against the counters"));
        assert!(c03_timing_note(&good).contains("falls as the redo grows"));
    }
}
