//! What index maintenance (C01) and constraint checks (C02) add to every
//! row an INSERT, UPDATE or DELETE changes, measured through SQL.

use std::fmt::Write as _;

use super::super::{report, Chart, Evidence, LabCtx, Report, Scale, Verdict};
use super::{
    counters, indexed_table, load_array, open_cached, per, rates, reps, sep, LabText, Moved, Sep,
    Timing,
};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) const C01: LabText = (
    "C01",
    "Every index is paid for by every insert and delete, and by updates of its columns",
    "Every index on a table is paid for by every INSERT and DELETE; an UPDATE of an indexed column is a delete plus an insert in that index. Dropping one index from a hot table raises its DML throughput.",
);

/// The index counts C01 compares.
const C01_INDEXES: [u64; 5] = [0, 1, 2, 3, 5];

/// One load of C01: `rows` rows into a table with `indexes` secondary
/// indexes, then a DELETE of them all.
#[derive(Clone, Debug, PartialEq)]
pub struct C01Load {
    pub indexes: u64,
    pub insert_db_block_gets: u64,
    pub insert_redo_bytes: u64,
    pub insert_undo_bytes: u64,
    pub insert_keys_inserted: u64,
    pub delete_redo_bytes: u64,
    pub delete_keys_deleted: u64,
    /// Insert throughput over the repetitions.
    pub insert_rows_per_s: Timing,
}

/// What C01 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C01Evidence {
    pub rows: u64,
    /// In increasing order of `indexes`.
    pub loads: Vec<C01Load>,
    /// UPDATE of one indexed column (of a table with 5 indexes), every row.
    pub indexed_update_rows: u64,
    pub indexed_update_keys_deleted: u64,
    pub indexed_update_keys_inserted: u64,
    /// UPDATE of a column no index covers, every row of the same table.
    pub plain_update_keys_deleted: u64,
    pub plain_update_keys_inserted: u64,
}

/// Holds when every added index raises the db block gets and the redo per
/// inserted row and the redo per deleted row, each insert adds one entry
/// per index and each delete removes one, an UPDATE of an indexed column deletes and inserts exactly
/// one entry of that index per row while an UPDATE of a non-indexed column
/// touches no index — and the insert throughput is clearly higher with one
/// index fewer at every step (0/1/2/3/5). Overlapping timings make it
/// `depends`; a step where fewer indexes is clearly slower, or any counter
/// out of line, makes it `does not hold`.
pub fn c01_verdict(e: &C01Evidence) -> (Verdict, String) {
    let n = e.rows;
    let mut wrong = Vec::new();
    for w in e.loads.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if b.insert_db_block_gets <= a.insert_db_block_gets {
            wrong.push(format!(
                "db block gets did not rise from {} to {} indexes ({} -> {})",
                a.indexes, b.indexes, a.insert_db_block_gets, b.insert_db_block_gets
            ));
        }
        if b.insert_redo_bytes <= a.insert_redo_bytes {
            wrong.push(format!(
                "insert redo did not rise from {} to {} indexes ({} -> {} bytes)",
                a.indexes, b.indexes, a.insert_redo_bytes, b.insert_redo_bytes
            ));
        }
        if b.delete_redo_bytes <= a.delete_redo_bytes {
            wrong.push(format!(
                "delete redo did not rise from {} to {} indexes ({} -> {} bytes)",
                a.indexes, b.indexes, a.delete_redo_bytes, b.delete_redo_bytes
            ));
        }
    }
    for l in &e.loads {
        if l.insert_keys_inserted != l.indexes * n || l.delete_keys_deleted != l.indexes * n {
            wrong.push(format!(
                "{} indexes: {} keys inserted and {} deleted for {n} rows (expected {} each)",
                l.indexes,
                l.insert_keys_inserted,
                l.delete_keys_deleted,
                l.indexes * n
            ));
        }
    }
    let m = e.indexed_update_rows;
    if m == 0 || e.indexed_update_keys_deleted != m || e.indexed_update_keys_inserted != m {
        wrong.push(format!(
            "UPDATE of an indexed column: {} keys deleted, {} inserted for {m} rows",
            e.indexed_update_keys_deleted, e.indexed_update_keys_inserted
        ));
    }
    if e.plain_update_keys_deleted != 0 || e.plain_update_keys_inserted != 0 {
        wrong.push(format!(
            "UPDATE of a non-indexed column touched indexes: {} keys deleted, {} inserted",
            e.plain_update_keys_deleted, e.plain_update_keys_inserted
        ));
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    let (first, last) = match (e.loads.first(), e.loads.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return (Verdict::DoesNotHold, "no loads measured".into()),
    };
    let counters = format!(
        "per inserted row, {} -> {} indexes: db block gets {:.1} -> {:.1}, redo {:.0} -> {:.0} bytes, undo {:.0} -> {:.0} bytes; \
         per deleted row: redo {:.0} -> {:.0} bytes; an indexed-column UPDATE deletes + inserts 1 entry per row, a non-indexed one touches no index",
        first.indexes,
        last.indexes,
        per(first.insert_db_block_gets, n),
        per(last.insert_db_block_gets, n),
        per(first.insert_redo_bytes, n),
        per(last.insert_redo_bytes, n),
        per(first.insert_undo_bytes, n),
        per(last.insert_undo_bytes, n),
        per(first.delete_redo_bytes, n),
        per(last.delete_redo_bytes, n),
    );
    (Verdict::Holds, counters)
}

/// What the insert rates say beside C01's verdict, which rests on the
/// counters that explain them (gets, redo and undo per row): whether each
/// index dropped was clearly faster on this run.
pub fn c01_timing_note(e: &C01Evidence) -> String {
    let mut unclear = Vec::new();
    let mut reversed = Vec::new();
    for w in e.loads.windows(2) {
        let (fewer, more) = (&w[0], &w[1]);
        let what = format!(
            "{} vs {} indexes ({:.0} vs {:.0} rows/s)",
            fewer.indexes,
            more.indexes,
            fewer.insert_rows_per_s.median,
            more.insert_rows_per_s.median
        );
        match sep(&fewer.insert_rows_per_s, &more.insert_rows_per_s) {
            Sep::Above => {}
            Sep::Overlap => unclear.push(what),
            Sep::Below => reversed.push(what),
        }
    }
    let (Some(first), Some(last)) = (e.loads.first(), e.loads.last()) else {
        return "no loads measured".into();
    };
    let rates = format!(
        "insert rate {:.0} rows/s with {} indexes, {:.0} with {}",
        first.insert_rows_per_s.median, first.indexes, last.insert_rows_per_s.median, last.indexes
    );
    if !reversed.is_empty() {
        format!(
            "{rates}; the time did not follow the counters on this run: fewer indexes were clearly slower at {}",
            reversed.join(", ")
        )
    } else if !unclear.is_empty() {
        format!(
            "{rates}; one index fewer was not clearly faster (spreads overlap) at {}",
            unclear.join(", ")
        )
    } else {
        format!("{rates}: each index dropped was clearly faster")
    }
}

/// C01's table with `k` secondary indexes (on c1…ck), named `name`.
fn c01_table(s: &mut Session, name: &str, k: u64) -> Result<()> {
    indexed_table(
        s,
        name,
        "id INTEGER, c1 INTEGER, c2 INTEGER, c3 INTEGER, c4 INTEGER, c5 INTEGER, v INTEGER, pad TEXT",
        &["c1", "c2", "c3", "c4", "c5"][..k as usize],
    )
}

/// `n` rows with random index keys: every index insert lands at a random
/// leaf, as on a hot table.
fn c01_rows(seed: u64, n: u64) -> Vec<Vec<Value>> {
    let mut rng = Rng::splitmix64(seed);
    (0..n)
        .map(|i| {
            let mut r = vec![Value::Int(i as i64)];
            r.extend((0..5).map(|_| Value::Int(rng.below(1_000_000) as i64)));
            r.push(Value::Int(0));
            r.push(Value::Text(format!("{:040}", rng.below(1 << 40))));
            r
        })
        .collect()
}

pub(super) fn c01(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 15_000);
    let reps = reps(ctx);
    let (_db, mut s) = open_cached(ctx, "c01", 32_768)?;
    let rows = c01_rows(ctx.seed, n);
    let mut loads: Vec<C01Load> = Vec::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); C01_INDEXES.len()];
    // Repetitions interleave the index counts, so that a burst of load on
    // the machine hits them all alike. The first repetition's counters are
    // the evidence.
    for rep in 0..reps {
        ctx.step(&format!("loading, repetition {}/{reps}", rep + 1));
        for (i, &k) in C01_INDEXES.iter().enumerate() {
            let name = format!("t{k}_{rep}");
            c01_table(&mut s, &name, k)?;
            let m = Moved::start(&s);
            samples[i].push(load_array(&mut s, &name, &rows)?);
            if rep == 0 {
                loads.push(C01Load {
                    indexes: k,
                    insert_db_block_gets: m.get(&s, Stat::DbBlockGets),
                    insert_redo_bytes: m.get(&s, Stat::RedoSize),
                    insert_undo_bytes: m.get(&s, Stat::UndoChangeBytes),
                    insert_keys_inserted: m.get(&s, Stat::IndexKeysInserted),
                    delete_redo_bytes: 0,
                    delete_keys_deleted: 0,
                    insert_rows_per_s: Timing::exactly(0.0),
                });
            }
        }
    }
    for (l, ms) in loads.iter_mut().zip(&samples) {
        l.insert_rows_per_s = Timing::of(&rates(n, ms));
    }
    ctx.step("updating");
    let m = Moved::start(&s);
    let upd = s
        .execute("UPDATE t5_0 SET c1 = c1 + 1")?
        .affected
        .unwrap_or(0);
    s.commit()?;
    let (ix_del, ix_ins, moved_a) = (
        m.get(&s, Stat::IndexKeysDeleted),
        m.get(&s, Stat::IndexKeysInserted),
        m.get(&s, Stat::RowMigrations),
    );
    let m = Moved::start(&s);
    s.execute("UPDATE t5_0 SET v = v + 1")?;
    s.commit()?;
    let (pl_del, pl_ins, moved_b) = (
        m.get(&s, Stat::IndexKeysDeleted),
        m.get(&s, Stat::IndexKeysInserted),
        m.get(&s, Stat::RowMigrations),
    );
    ctx.step("deleting");
    for l in &mut loads {
        let m = Moved::start(&s);
        s.execute(&format!("DELETE FROM t{}_0", l.indexes))?;
        s.commit()?;
        l.delete_redo_bytes = m.get(&s, Stat::RedoSize);
        l.delete_keys_deleted = m.get(&s, Stat::IndexKeysDeleted);
    }
    let e = C01Evidence {
        rows: n,
        loads,
        indexed_update_rows: upd,
        indexed_update_keys_deleted: ix_del,
        indexed_update_keys_inserted: ix_ins,
        plain_update_keys_deleted: pl_del,
        plain_update_keys_inserted: pl_ins,
    };
    let mut ev = vec![Evidence::counter("rows", n, "rows")];
    for l in &e.loads {
        ev.extend(counters(
            &format!("idx{}", l.indexes),
            [
                ("insert.db_block_gets", l.insert_db_block_gets, "gets"),
                ("insert.redo_size", l.insert_redo_bytes, "bytes"),
                ("insert.undo_bytes", l.insert_undo_bytes, "bytes"),
                ("insert.index_keys_inserted", l.insert_keys_inserted, "keys"),
                ("delete.redo_size", l.delete_redo_bytes, "bytes"),
                ("delete.index_keys_deleted", l.delete_keys_deleted, "keys"),
            ],
        ));
    }
    ev.extend([
        Evidence::counter("update_indexed_col.rows", upd, "rows"),
        Evidence::counter("update_indexed_col.index_keys_deleted", ix_del, "keys"),
        Evidence::counter("update_indexed_col.index_keys_inserted", ix_ins, "keys"),
        Evidence::counter("update_plain_col.index_keys_deleted", pl_del, "keys"),
        Evidence::counter("update_plain_col.index_keys_inserted", pl_ins, "keys"),
        Evidence::counter("updates.rows_moved", moved_a + moved_b, "rows"),
    ]);
    for (l, ms) in e.loads.iter().zip(&samples) {
        ev.push(Evidence::timing(
            format!("idx{}.insert_rate", l.indexes),
            &rates(n, ms),
            "rows/s",
        ));
    }
    let mut table = String::from("indexes  gets/row  redo B/row  undo B/row  delete redo B/row\n");
    // Counters only: the notes are part of the deterministic transcript.
    for l in &e.loads {
        let _ = writeln!(
            table,
            "{:>7}  {:>8.2}  {:>10.1}  {:>10.1}  {:>17.1}",
            l.indexes,
            per(l.insert_db_block_gets, n),
            per(l.insert_redo_bytes, n),
            per(l.insert_undo_bytes, n),
            per(l.delete_redo_bytes, n),
        );
    }
    let timing_note = c01_timing_note(&e);
    let mut r = report(
        C01,
        c01_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("repetitions".into(), reps.to_string()),
            ("insert".into(), "arrays of 100, one commit".into()),
        ],
        vec![table],
    );
    // Gets, redo and undo per row explain the insert rate, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(timing_note);
    r.chart = Some(c01_chart(&e));
    Ok(r)
}

/// The notes' table as curves: gets and bytes per row share a log axis
/// (gets are tens, bytes hundreds to thousands), each rising with every
/// index. Counters only; the insert rates are in the evidence.
fn c01_chart(e: &C01Evidence) -> Chart {
    let curve = |f: fn(&C01Load) -> u64| -> Vec<(f64, f64)> {
        e.loads
            .iter()
            .map(|l| (l.indexes as f64, per(f(l), e.rows)))
            .collect()
    };
    Chart {
        title: format!("C01: cost per row of {} rows by number of indexes", e.rows),
        x_label: "secondary indexes on the table".into(),
        y_label: "per row (log scale)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        timings: false,
        series: vec![
            (
                "insert: db block gets".into(),
                curve(|l| l.insert_db_block_gets),
            ),
            ("insert: redo bytes".into(), curve(|l| l.insert_redo_bytes)),
            ("insert: undo bytes".into(), curve(|l| l.insert_undo_bytes)),
            ("delete: redo bytes".into(), curve(|l| l.delete_redo_bytes)),
        ],
    }
}

// ---------------------------------------------------------------- C02

pub(super) const C02: LabText = (
    "C02",
    "PRIMARY KEY and FOREIGN KEY cost more than CHECK and NOT NULL",
    "PRIMARY KEY and FOREIGN KEY constraints cost more than CHECK and NOT NULL, because they must read data (a unique probe, a parent lookup) while CHECK/NOT NULL only inspect the new row.",
);

/// One constrained load of C02.
#[derive(Clone, Debug, PartialEq)]
pub struct C02Load {
    pub consistent_gets: u64,
    pub db_block_gets: u64,
    /// Index descents: probes (PK) and parent lookups (FK) plus the
    /// descents of index maintenance.
    pub index_descents: u64,
    pub rows_per_s: Timing,
}

/// What C02 measures: the same rows inserted under four sets of
/// constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct C02Evidence {
    pub rows: u64,
    pub none: C02Load,
    /// NOT NULL on two columns and a CHECK.
    pub check: C02Load,
    pub pk: C02Load,
    pub pk_fk: C02Load,
}

/// Logical reads (consistent + current) of a load.
fn reads(l: &C02Load) -> u64 {
    l.consistent_gets + l.db_block_gets
}

/// Holds when NOT NULL + CHECK add no logical read to an unconstrained
/// insert (they look at the new row only), a PRIMARY KEY adds reads (the
/// probe of its index, and the index itself) and a FOREIGN KEY adds reads
/// again (the parent lookup). Those reads are what make a constraint
/// cost time, so they decide; the insert rates are shown beside them
/// (`c02_timing_note`).
pub fn c02_verdict(e: &C02Evidence) -> (Verdict, String) {
    let n = e.rows;
    let (r0, rc, rp, rf) = (
        reads(&e.none),
        reads(&e.check),
        reads(&e.pk),
        reads(&e.pk_fk),
    );
    let gets = format!(
        "logical reads per row: none {:.2}, NOT NULL+CHECK {:.2}, PK {:.2}, PK+FK {:.2}; index descents per row {:.2} / {:.2} / {:.2} / {:.2}",
        per(r0, n),
        per(rc, n),
        per(rp, n),
        per(rf, n),
        per(e.none.index_descents, n),
        per(e.check.index_descents, n),
        per(e.pk.index_descents, n),
        per(e.pk_fk.index_descents, n),
    );
    if rc != r0 || rp <= rc || rf <= rp || e.pk_fk.consistent_gets <= e.pk.consistent_gets {
        return (
            Verdict::DoesNotHold,
            format!("expected CHECK = none < PK < PK+FK in reads; {gets}"),
        );
    }
    (Verdict::Holds, gets)
}

/// What the insert rates say beside C02's verdict: whether each
/// read-checking constraint was clearly slower on this run.
pub fn c02_timing_note(e: &C02Evidence) -> String {
    let rate = |l: &C02Load| l.rows_per_s.median;
    let rates = format!(
        "rows/s: none {:.0}, NOT NULL+CHECK {:.0}, PK {:.0}, PK+FK {:.0}",
        rate(&e.none),
        rate(&e.check),
        rate(&e.pk),
        rate(&e.pk_fk)
    );
    let steps = [
        ("CHECK vs PK", sep(&e.check.rows_per_s, &e.pk.rows_per_s)),
        ("PK vs PK+FK", sep(&e.pk.rows_per_s, &e.pk_fk.rows_per_s)),
    ];
    if let Some((what, _)) = steps.iter().find(|(_, s)| *s == Sep::Below) {
        return format!("{rates}; against the counters, {what}: the constrained insert was clearly faster on this run");
    }
    let unclear: Vec<&str> = steps
        .iter()
        .filter(|(_, s)| *s == Sep::Overlap)
        .map(|(w, _)| *w)
        .collect();
    if unclear.is_empty() {
        format!("{rates}: each read-checking constraint clearly slower")
    } else {
        format!(
            "{rates}; the time difference is within the noise for {}",
            unclear.join(", ")
        )
    }
}

pub(super) fn c02(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 20_000);
    let parents = ctx.size(200, 2_000);
    let reps = reps(ctx);
    let (_db, mut s) = open_cached(ctx, "c02", 32_768)?;
    ctx.step("loading the parent");
    s.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)")?;
    s.execute(&format!(
        "INSERT INTO p SELECT value, 'parent ' || value FROM generate_series(1, {parents})"
    ))?;
    s.commit()?;
    let mut rng = Rng::splitmix64(ctx.seed);
    let rows: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            vec![
                // Keys in random order, so the PK probes land anywhere.
                Value::Int(((i * 7_919) % n) as i64 + 1),
                Value::Int(rng.below(parents) as i64 + 1),
                Value::Int(rng.below(1000) as i64),
                Value::Text(format!("{:030}", rng.below(1 << 40))),
            ]
        })
        .collect();
    let kinds: [(&str, &str); 4] = [
        ("none", "id INTEGER, pid INTEGER, v INTEGER, pad TEXT"),
        (
            "check",
            "id INTEGER NOT NULL, pid INTEGER NOT NULL, v INTEGER CHECK (v >= 0), pad TEXT",
        ),
        (
            "pk",
            "id INTEGER PRIMARY KEY, pid INTEGER, v INTEGER, pad TEXT",
        ),
        (
            "pk_fk",
            "id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id), v INTEGER, pad TEXT",
        ),
    ];
    let mut loads = Vec::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    for rep in 0..reps {
        ctx.step(&format!("loading, repetition {}/{reps}", rep + 1));
        for (i, (kind, cols)) in kinds.iter().enumerate() {
            let name = format!("c_{kind}_{rep}");
            s.execute(&format!("CREATE TABLE {name} ({cols})"))?;
            let m = Moved::start(&s);
            samples[i].push(load_array(&mut s, &name, &rows)?);
            if rep == 0 {
                loads.push(C02Load {
                    consistent_gets: m.get(&s, Stat::ConsistentGets),
                    db_block_gets: m.get(&s, Stat::DbBlockGets),
                    index_descents: m.get(&s, Stat::IndexDescents),
                    rows_per_s: Timing::exactly(0.0),
                });
            }
        }
    }
    for (l, ms) in loads.iter_mut().zip(&samples) {
        l.rows_per_s = Timing::of(&rates(n, ms));
    }
    let e = C02Evidence {
        rows: n,
        none: loads[0].clone(),
        check: loads[1].clone(),
        pk: loads[2].clone(),
        pk_fk: loads[3].clone(),
    };
    let mut ev = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("parent_rows", parents, "rows"),
    ];
    for ((kind, _), l) in kinds.iter().zip(&loads) {
        ev.extend(counters(
            kind,
            [
                ("consistent_gets", l.consistent_gets, "gets"),
                ("db_block_gets", l.db_block_gets, "gets"),
                ("index_descents", l.index_descents, "descents"),
            ],
        ));
    }
    for ((kind, _), ms) in kinds.iter().zip(&samples) {
        ev.push(Evidence::timing(
            format!("{kind}.insert_rate"),
            &rates(n, ms),
            "rows/s",
        ));
    }
    let mut r = report(
        C02,
        c02_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("parent_rows".into(), parents.to_string()),
            ("repetitions".into(), reps.to_string()),
        ],
        Vec::new(),
    );
    // The reads each constraint adds explain the rate, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(c02_timing_note(&e));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(k: u64, rate: f64) -> C01Load {
        C01Load {
            indexes: k,
            insert_db_block_gets: 100 + 300 * k,
            insert_redo_bytes: 10_000 + 5_000 * k,
            insert_undo_bytes: 2_000 + 1_000 * k,
            insert_keys_inserted: 100 * k,
            delete_redo_bytes: 9_000 + 5_000 * k,
            delete_keys_deleted: 100 * k,
            insert_rows_per_s: Timing::of(&[rate * 0.95, rate, rate * 1.05]),
        }
    }

    fn c01_good() -> C01Evidence {
        C01Evidence {
            rows: 100,
            loads: vec![
                load(0, 10_000.0),
                load(1, 7_000.0),
                load(2, 5_000.0),
                load(3, 4_000.0),
                load(5, 2_500.0),
            ],
            indexed_update_rows: 100,
            indexed_update_keys_deleted: 100,
            indexed_update_keys_inserted: 100,
            plain_update_keys_deleted: 0,
            plain_update_keys_inserted: 0,
        }
    }

    #[test]
    fn c01_rule_on_synthetic_evidence() {
        let good = c01_good();
        assert_eq!(c01_verdict(&good).0, Verdict::Holds);
        // An index that costs nothing on insert.
        let mut free = good.clone();
        free.loads[2].insert_redo_bytes = free.loads[1].insert_redo_bytes;
        assert_eq!(c01_verdict(&free).0, Verdict::DoesNotHold);
        // A non-indexed update that touched an index.
        let touched = C01Evidence {
            plain_update_keys_inserted: 3,
            ..good.clone()
        };
        assert_eq!(c01_verdict(&touched).0, Verdict::DoesNotHold);
        // An indexed update done as an in-place change of the entry.
        let in_place = C01Evidence {
            indexed_update_keys_deleted: 0,
            ..good.clone()
        };
        assert_eq!(c01_verdict(&in_place).0, Verdict::DoesNotHold);
        // Timings never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.loads[3].insert_rows_per_s = Timing::of(&[4_000.0, 5_100.0, 5_000.0]);
        assert_eq!(c01_verdict(&noisy).0, Verdict::Holds);
        let note = c01_timing_note(&noisy);
        assert!(
            note.contains("not clearly faster") && note.contains("2 vs 3 indexes"),
            "{note}"
        );
        let mut reversed = good.clone();
        reversed.loads[0].insert_rows_per_s = Timing::exactly(1_000.0);
        assert_eq!(c01_verdict(&reversed).0, Verdict::Holds);
        assert!(c01_timing_note(&reversed).contains("did not follow"));
        assert!(c01_timing_note(&good).contains("clearly faster"));
    }

    fn c02_load(cr: u64, cur: u64, rate: f64) -> C02Load {
        C02Load {
            consistent_gets: cr,
            db_block_gets: cur,
            index_descents: cr / 3,
            rows_per_s: Timing::of(&[rate * 0.95, rate, rate * 1.05]),
        }
    }

    #[test]
    fn c02_rule_on_synthetic_evidence() {
        let good = C02Evidence {
            rows: 100,
            none: c02_load(0, 110, 10_000.0),
            check: c02_load(0, 110, 10_000.0),
            pk: c02_load(300, 400, 6_000.0),
            pk_fk: c02_load(600, 400, 4_000.0),
        };
        assert_eq!(c02_verdict(&good).0, Verdict::Holds);
        // CHECK that reads.
        let check_reads = C02Evidence {
            check: c02_load(100, 110, 9_000.0),
            ..good.clone()
        };
        assert_eq!(c02_verdict(&check_reads).0, Verdict::DoesNotHold);
        // An FK that reads nothing more than the PK.
        let free_fk = C02Evidence {
            pk_fk: c02_load(300, 400, 4_000.0),
            ..good.clone()
        };
        assert_eq!(c02_verdict(&free_fk).0, Verdict::DoesNotHold);
        // Rates never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.pk_fk.rows_per_s = Timing::of(&[5_900.0, 5_800.0, 6_000.0]);
        assert_eq!(c02_verdict(&noisy).0, Verdict::Holds);
        assert!(c02_timing_note(&noisy).contains("within the noise for PK vs PK+FK"));
        let reversed = C02Evidence {
            pk: c02_load(300, 400, 20_000.0),
            pk_fk: c02_load(600, 400, 15_000.0),
            ..good.clone()
        };
        assert_eq!(c02_verdict(&reversed).0, Verdict::Holds);
        assert!(c02_timing_note(&reversed).contains("against the counters"));
        assert!(c02_timing_note(&good).contains("clearly slower"));
    }
}
