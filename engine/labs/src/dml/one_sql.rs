//! C29: one SQL statement against a loop, for "update every order's
//! status from a reference table": a loop of single-row SELECT + UPDATE
//! calls, the same with arrays (as C11 sends rows), a traditional
//! correlated UPDATE (the reference table probed in WHERE EXISTS and again
//! in SET), an UPDATE through a join view (the join once) and MERGE; and
//! the key-preservation rule (ORA-01779) that the join view depends on.

use std::collections::HashMap;
use std::time::Instant;

use super::super::{report, Evidence, LabCtx, Report, Verdict};
use super::{counters, load_array, open_cached, reps, sep, LabText, Moved, Sep, Timing};
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) const C29: LabText = (
    "C29",
    "One SQL statement beats a loop; arrays get most of the way",
    "One SQL statement beats a loop of single-row calls; arrays get most of the way without it. A traditional correlated UPDATE visits the reference table twice (SET and WHERE EXISTS); an updatable join view visits it once, but only on a key-preserved table (else ORA-01779); MERGE updates matched rows and inserts the rest in one pass.",
);

/// The five ways, in the order measured.
pub const C29_WAYS: [&str; 5] = ["loop", "arrays", "correlated", "join_view", "merge"];

/// One way of updating the orders.
#[derive(Clone, Debug, PartialEq)]
pub struct C29Way {
    pub name: &'static str,
    pub user_calls: u64,
    /// Consistent gets plus db block gets.
    pub gets: u64,
    /// B-tree descents: the reference table's primary key probes (and, in
    /// the loop and arrays, the orders' own primary key, one per UPDATE).
    pub index_descents: u64,
    pub redo_size: u64,
    pub rows_updated: u64,
    pub ms: Timing,
}

/// What C29 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C29Evidence {
    pub orders: u64,
    /// Orders that have a reference row (the rows every way must update).
    pub referenced: u64,
    pub ways: Vec<C29Way>,
    /// The error code of the same join view UPDATE over a reference table
    /// without a key (empty when it was not refused).
    pub non_key_preserved: String,
}

impl C29Evidence {
    fn way(&self, name: &str) -> Option<&C29Way> {
        self.ways.iter().find(|w| w.name == name)
    }
}

/// Holds when: every way updates the same rows; the loop makes a user
/// call per statement and arrays cut that at least tenfold (most of the
/// way), while each single statement is one parse and one execute call;
/// the correlated UPDATE probes the reference table twice per updated row
/// (its descents are at least twice the rows) and reads more blocks than
/// the join view, which joins once (at most one descent per order); and
/// the join view over a reference table without a key is refused with
/// ORA-01779. The counters explain the time, so they decide; the timings
/// are shown beside them ([`c29_timing_note`]).
pub fn c29_verdict(e: &C29Evidence) -> (Verdict, String) {
    let (Some(lp), Some(ar), Some(co), Some(jv), Some(mg)) = (
        e.way("loop"),
        e.way("arrays"),
        e.way("correlated"),
        e.way("join_view"),
        e.way("merge"),
    ) else {
        return (Verdict::DoesNotHold, "a way was not measured".into());
    };
    let mut wrong = Vec::new();
    if let Some(w) = e.ways.iter().find(|w| w.rows_updated != e.referenced) {
        wrong.push(format!(
            "{} updated {} rows, not the {} orders with a reference row",
            w.name, w.rows_updated, e.referenced
        ));
    }
    if ar.user_calls * 10 > lp.user_calls {
        wrong.push(format!(
            "arrays made {} user calls against the loop's {}: not a tenfold cut",
            ar.user_calls, lp.user_calls
        ));
    }
    for w in [co, jv, mg] {
        if w.user_calls > 2 || w.user_calls >= ar.user_calls {
            wrong.push(format!("{} made {} user calls", w.name, w.user_calls));
        }
    }
    if co.index_descents < 2 * e.referenced {
        wrong.push(format!(
            "the correlated UPDATE made {} descents for {} rows: not two probes a row",
            co.index_descents, e.referenced
        ));
    }
    if jv.index_descents > e.orders || co.gets <= jv.gets {
        wrong.push(format!(
            "the join view made {} descents and {} gets (correlated: {} gets)",
            jv.index_descents, jv.gets, co.gets
        ));
    }
    if e.non_key_preserved != "ORA-01779" {
        wrong.push(format!(
            "the join view over a keyless reference table answered {:?}, not ORA-01779",
            e.non_key_preserved
        ));
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    (
        Verdict::Holds,
        format!(
            "user calls: loop {}, arrays {}, one statement {}; the correlated UPDATE made {} descents into ref for {} rows ({} gets), the join view {} ({} gets, ref read once), MERGE {} ({} gets); redo {} bytes by the loop, {} by the join view (the same row changes); a keyless reference table is ORA-01779",
            lp.user_calls,
            ar.user_calls,
            jv.user_calls,
            co.index_descents,
            e.referenced,
            co.gets,
            jv.index_descents,
            jv.gets,
            mg.index_descents,
            mg.gets,
            lp.redo_size,
            jv.redo_size,
        ),
    )
}

/// What the timings say: whether the loop was clearly slower than the
/// arrays, and the arrays than the join view.
pub fn c29_timing_note(e: &C29Evidence) -> String {
    let t = |n: &str| e.way(n).map(|w| &w.ms);
    let (Some(lp), Some(ar), Some(jv)) = (t("loop"), t("arrays"), t("join_view")) else {
        return "not measured".into();
    };
    let say = |a: &Timing, b: &Timing, what: &str| match sep(a, b) {
        Sep::Above => format!(
            "{what}: clearly slower ({:.1} vs {:.1} ms)",
            a.median, b.median
        ),
        _ => format!(
            "{what}: within this machine's noise ({:.1} vs {:.1} ms)",
            a.median, b.median
        ),
    };
    format!(
        "{}; {}",
        say(lp, ar, "loop vs arrays"),
        say(ar, jv, "arrays vs join view")
    )
}

/// Order `i` (1-based) points at reference row `i`; every tenth has none.
fn orders(n: u64) -> Vec<Vec<Value>> {
    (1..=n)
        .map(|i| {
            vec![
                Value::Int(i as i64),
                Value::Int(i as i64),
                Value::Text("new".into()),
                Value::Text(format!("{i:040}")),
            ]
        })
        .collect()
}

fn run_way(s: &mut Session, way: &str, t: &str) -> Result<u64> {
    let one =
        |s: &mut Session, sql: &str| -> Result<u64> { Ok(s.execute(sql)?.affected.unwrap_or(0)) };
    match way {
        "loop" => {
            let ids = s.execute(&format!("SELECT id, ref_id FROM {t}"))?.rows;
            let get = s.prepare("SELECT new_status FROM ref WHERE id = ?")?;
            let upd = s.prepare(&format!("UPDATE {t} SET status = ? WHERE id = ?"))?;
            let mut n = 0;
            for r in ids {
                let found = s.execute_prepared(&get, &r[1..2])?.rows;
                if let Some(v) = found.into_iter().next().and_then(|r| r.into_iter().next()) {
                    n += s
                        .execute_prepared(&upd, &[v, r[0].clone()])?
                        .affected
                        .unwrap_or(0);
                }
            }
            Ok(n)
        }
        "arrays" => {
            let refs: HashMap<String, Value> = s
                .execute("SELECT id, new_status FROM ref")?
                .rows
                .into_iter()
                .map(|r| (r[0].to_string(), r[1].clone()))
                .collect();
            let binds: Vec<Vec<Value>> = s
                .execute(&format!("SELECT id, ref_id FROM {t}"))?
                .rows
                .into_iter()
                .filter_map(|r| Some(vec![refs.get(&r[1].to_string())?.clone(), r[0].clone()]))
                .collect();
            let upd = s.prepare(&format!("UPDATE {t} SET status = ? WHERE id = ?"))?;
            let mut n = 0;
            for chunk in binds.chunks(100) {
                n += s.execute_array(&upd, chunk)?.affected.unwrap_or(0);
            }
            Ok(n)
        }
        "correlated" => one(
            s,
            &format!(
                "UPDATE {t} o SET status = (SELECT r.new_status FROM ref r WHERE r.id = o.ref_id) \
                 WHERE EXISTS (SELECT 1 FROM ref r WHERE r.id = o.ref_id)"
            ),
        ),
        "join_view" => one(
            s,
            &format!(
                "UPDATE (SELECT o.status, r.new_status FROM {t} o JOIN ref r ON r.id = o.ref_id) \
                 SET status = new_status"
            ),
        ),
        _ => one(
            s,
            &format!(
                "MERGE INTO {t} o USING ref r ON (o.ref_id = r.id) \
                 WHEN MATCHED THEN UPDATE SET o.status = r.new_status"
            ),
        ),
    }
}

pub(super) fn c29(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 10_000);
    let reps = reps(ctx);
    let (_db, mut s) = open_cached(ctx, "c29", 32_768)?;
    s.execute("CREATE TABLE ref (id INTEGER PRIMARY KEY, new_status TEXT)")?;
    s.execute("CREATE TABLE ref_nokey (id INTEGER, new_status TEXT)")?;
    let refs: Vec<Vec<Value>> = (1..=n)
        .filter(|i| i % 10 != 0)
        .map(|i| vec![Value::Int(i as i64), Value::Text(format!("s{}", i % 7))])
        .collect();
    let referenced = refs.len() as u64;
    load_array(&mut s, "ref", &refs)?;
    load_array(&mut s, "ref_nokey", &refs)?;
    let rows = orders(n);
    let mut ways: Vec<C29Way> = Vec::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); C29_WAYS.len()];
    for rep in 0..reps {
        ctx.step(&format!("five ways, repetition {}/{reps}", rep + 1));
        for (i, way) in C29_WAYS.iter().enumerate() {
            let t = format!("orders_{way}_{rep}");
            s.execute(&format!(
                "CREATE TABLE {t} (id INTEGER PRIMARY KEY, ref_id INTEGER, status TEXT, pad TEXT)"
            ))?;
            load_array(&mut s, &t, &rows)?;
            let m = Moved::start(&s);
            let clock = Instant::now();
            let updated = run_way(&mut s, way, &t)?;
            samples[i].push(clock.elapsed().as_secs_f64() * 1000.0);
            if rep == 0 {
                ways.push(C29Way {
                    name: way,
                    user_calls: m.get(&s, Stat::UserCalls),
                    gets: m.logical_reads(&s),
                    index_descents: m.get(&s, Stat::IndexDescents),
                    redo_size: m.get(&s, Stat::RedoSize),
                    rows_updated: updated,
                    ms: Timing::exactly(0.0),
                });
            }
            s.commit()?;
        }
    }
    for (w, ms) in ways.iter_mut().zip(&samples) {
        w.ms = Timing::of(ms);
    }
    let refused = s.execute(
        "UPDATE (SELECT o.status, r.new_status FROM orders_loop_0 o JOIN ref_nokey r \
         ON r.id = o.ref_id) SET status = new_status",
    );
    let (code, note) = match refused {
        Ok(_) => (
            String::new(),
            "the keyless join view was not refused".to_string(),
        ),
        Err(e) => (e.code().to_string(), format!("{}: {e}", e.code())),
    };
    let e = C29Evidence {
        orders: n,
        referenced,
        ways,
        non_key_preserved: code,
    };
    let mut ev = vec![
        Evidence::counter("orders", n, "rows"),
        Evidence::counter("referenced", referenced, "rows"),
    ];
    for w in &e.ways {
        ev.extend(counters(
            w.name,
            [
                ("user_calls", w.user_calls, "calls"),
                ("gets", w.gets, "gets"),
                ("index_descents", w.index_descents, "descents"),
                ("redo_size", w.redo_size, "bytes"),
                ("rows_updated", w.rows_updated, "rows"),
            ],
        ));
    }
    for w in &e.ways {
        ev.push(Evidence::timing(
            format!("{}.time", w.name),
            &w.ms.samples,
            "ms",
        ));
    }
    let mut r = report(
        C29,
        c29_verdict(&e),
        ev,
        vec![
            ("orders".into(), n.to_string()),
            ("repetitions".into(), reps.to_string()),
        ],
        vec![format!("join view over ref_nokey (no key): {note}")],
    );
    // Calls, gets and descents explain the times, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(c29_timing_note(&e));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn way(name: &'static str, user_calls: u64, gets: u64, index_descents: u64) -> C29Way {
        C29Way {
            name,
            user_calls,
            gets,
            index_descents,
            redo_size: 1000,
            rows_updated: 90,
            ms: Timing::exactly(1.0),
        }
    }

    fn evidence() -> C29Evidence {
        C29Evidence {
            orders: 100,
            referenced: 90,
            ways: vec![
                way("loop", 300, 700, 190),
                way("arrays", 10, 400, 90),
                way("correlated", 2, 500, 190),
                way("join_view", 2, 300, 100),
                way("merge", 2, 300, 100),
            ],
            non_key_preserved: "ORA-01779".into(),
        }
    }

    #[test]
    fn holds_when_the_counters_fall_as_claimed() {
        assert_eq!(c29_verdict(&evidence()).0, Verdict::Holds);
    }

    #[test]
    fn does_not_hold_when_arrays_do_not_cut_the_calls() {
        let mut e = evidence();
        e.ways[1].user_calls = 100;
        assert_eq!(c29_verdict(&e).0, Verdict::DoesNotHold);
    }

    #[test]
    fn does_not_hold_when_the_correlated_update_probes_once() {
        let mut e = evidence();
        e.ways[2].index_descents = 90;
        assert_eq!(c29_verdict(&e).0, Verdict::DoesNotHold);
    }

    #[test]
    fn does_not_hold_when_the_join_view_reads_more_than_the_correlated_update() {
        let mut e = evidence();
        e.ways[3].gets = 600;
        assert_eq!(c29_verdict(&e).0, Verdict::DoesNotHold);
    }

    #[test]
    fn does_not_hold_without_ora_01779() {
        let mut e = evidence();
        e.non_key_preserved = String::new();
        assert_eq!(c29_verdict(&e).0, Verdict::DoesNotHold);
    }

    #[test]
    fn does_not_hold_when_a_way_updates_other_rows() {
        let mut e = evidence();
        e.ways[4].rows_updated = 89;
        assert_eq!(c29_verdict(&e).0, Verdict::DoesNotHold);
    }
}
