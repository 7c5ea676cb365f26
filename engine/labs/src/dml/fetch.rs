//! Fetching in arrays (C35): fetch calls, user calls and consistent gets
//! of one full scan read with ARRAYSIZE 1 … 1000.
//!
//! The scan of a table of N blocks gets each block once; a fetch call
//! that stops inside a block releases it, and the next call gets it
//! again. So R rows fetched A at a time cost R / A + 1 fetch calls
//! (the last one comes back short) and about N + R / A consistent gets —
//! the classic SQL*Plus ARRAYSIZE demonstration that Tom Kyte made
//! famous. The lab predicts the gets from the table's block count
//! (as ANALYZE counts it) and compares.
//!
//! The claim's second sentence: a function whose body is a query
//! (`Database::register_query_function`) runs that query at every call,
//! one recursive call each, in the calling session. The lab calls one in
//! the select list of a 1,000-row query and counts.

use super::super::{report, Evidence, LabCtx, Report, Verdict};
use super::{open_cached, LabText};
use blocklab::error::Result;
use blocklab::stats::Stat;

pub(super) const C35: LabText = (
    "C35",
    "Larger fetch arrays cut fetch calls and logical reads",
    "Fetching in larger arrays cuts fetch calls and logical reads: each fetch call gets again the block it resumes in. A function that runs SQL makes recursive calls for every row it is called on.",
);

/// The array sizes the lab fetches with.
pub const C35_ARRAY_SIZES: [u64; 7] = [1, 2, 10, 15, 100, 500, 1000];

/// One array size's counters.
#[derive(Clone, Debug, PartialEq)]
pub struct C35Fetch {
    pub arraysize: u64,
    pub fetch_calls: u64,
    pub user_calls: u64,
    pub consistent_gets: u64,
}

/// What C35 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C35Evidence {
    pub rows: u64,
    /// The table's blocks below the HWM, as ANALYZE counts them.
    pub table_blocks: u64,
    /// One full scan per array size, in increasing array size.
    pub fetches: Vec<C35Fetch>,
    /// The query that calls a function that runs SQL on each of its rows.
    pub recursive: C35Recursive,
}

/// A query calling a function whose body is a query on each row it
/// returns, and what its execution counted.
#[derive(Clone, Debug, PartialEq)]
pub struct C35Recursive {
    /// Rows the function is called on (the rows returned).
    pub rows: u64,
    pub function_calls: u64,
    pub recursive_calls: u64,
    pub execute_count: u64,
    pub fetch_calls: u64,
    pub user_calls: u64,
}

/// The gets predicted for fetching `rows` rows `a` at a time from a table
/// of `blocks` blocks: every block once, plus one get again for each fetch
/// call after the first (each resumes in a block the previous one released).
pub fn c35_predicted_gets(blocks: u64, rows: u64, a: u64) -> u64 {
    blocks + rows / a.max(1)
}

/// Holds when, for every array size A, the fetch calls are rows / A + 1,
/// the user calls are those plus the parse and execute calls, the gets
/// never rise as A grows, and measured gets minus the prediction
/// (`c35_predicted_gets`) is one constant for all A — the scan's fixed
/// gets besides the table's blocks (its segment header) — of at most 2.
/// And the function that runs SQL made one call and one recursive call
/// (one more execution) per row it was called on, while the user calls
/// stayed the client's parse, execute and fetch calls.
pub fn c35_verdict(e: &C35Evidence) -> (Verdict, String) {
    let mut wrong = Vec::new();
    if e.fetches.is_empty() {
        return (Verdict::DoesNotHold, "nothing was fetched".into());
    }
    let r = &e.recursive;
    if r.rows == 0
        || r.function_calls != r.rows
        || r.recursive_calls != r.rows
        || r.execute_count != r.rows + 1
        || r.user_calls != r.fetch_calls + 2
    {
        wrong.push(format!(
            "a function that runs SQL called on {} rows: {} calls, {} recursive calls, {} executions, {} user calls for {} fetch calls (expected {} calls and recursive calls, {} executions, {} user calls)",
            r.rows,
            r.function_calls,
            r.recursive_calls,
            r.execute_count,
            r.user_calls,
            r.fetch_calls,
            r.rows,
            r.rows + 1,
            r.fetch_calls + 2
        ));
    }
    for f in &e.fetches {
        let calls = e.rows / f.arraysize.max(1) + 1;
        if f.fetch_calls != calls || f.user_calls != calls + 2 {
            wrong.push(format!(
                "arraysize {}: {} fetch calls and {} user calls (expected {calls} and {})",
                f.arraysize,
                f.fetch_calls,
                f.user_calls,
                calls + 2
            ));
        }
    }
    for w in e.fetches.windows(2) {
        if w[1].consistent_gets > w[0].consistent_gets {
            wrong.push(format!(
                "arraysize {} read more ({} gets) than arraysize {} ({})",
                w[1].arraysize, w[1].consistent_gets, w[0].arraysize, w[0].consistent_gets
            ));
        }
    }
    let extra: Vec<i64> = e
        .fetches
        .iter()
        .map(|f| {
            f.consistent_gets as i64
                - c35_predicted_gets(e.table_blocks, e.rows, f.arraysize) as i64
        })
        .collect();
    if extra.iter().any(|x| *x != extra[0]) || !(0..=2).contains(&extra[0]) {
        wrong.push(format!(
            "measured minus predicted gets (blocks + rows / arraysize) is not one small constant: {extra:?}"
        ));
    }
    let line: Vec<String> = e
        .fetches
        .iter()
        .map(|f| {
            format!(
                "{}: {} fetch calls, {} gets",
                f.arraysize, f.fetch_calls, f.consistent_gets
            )
        })
        .collect();
    let facts = format!(
        "{} rows in {} blocks; by arraysize {}; gets = blocks + rows / arraysize + {}; a function that runs SQL, called on {} rows, made {} recursive calls",
        e.rows,
        e.table_blocks,
        line.join(", "),
        extra[0],
        r.rows,
        r.recursive_calls
    );
    if wrong.is_empty() {
        (Verdict::Holds, facts)
    } else {
        (
            Verdict::DoesNotHold,
            format!("{facts}; {}", wrong.join("; ")),
        )
    }
}

pub(super) fn c35(ctx: &mut LabCtx) -> Result<Report> {
    let n = 10_000u64;
    let (db, mut s) = open_cached(ctx, "c35", 4096)?;
    s.execute("CREATE TABLE t (id INTEGER, v INTEGER, pad TEXT)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, value % 97, 'row ' || value || ' of the C35 table' FROM generate_series(1, {n})"
    ))?;
    s.execute("COMMIT")?;
    let table_blocks = s.analyze("t")?.blocks;
    // Once untimed, so every measured scan finds the same blocks cached
    // and cleaned out.
    s.execute("SELECT * FROM t")?;
    let mut fetches = Vec::new();
    for a in C35_ARRAY_SIZES {
        ctx.step(&format!("full scan with arraysize {a}"));
        s.set_fetch_size(a as usize);
        let r = s.execute("SELECT * FROM t")?;
        fetches.push(C35Fetch {
            arraysize: a,
            fetch_calls: r.stats.get(Stat::FetchCalls),
            user_calls: r.stats.get(Stat::UserCalls),
            consistent_gets: r.stats.get(Stat::ConsistentGets),
        });
    }
    ctx.step("a function that runs SQL, per row");
    s.execute("CREATE TABLE names (k INTEGER PRIMARY KEY, name TEXT)")?;
    s.execute("INSERT INTO names SELECT value, 'name ' || value FROM generate_series(0, 96)")?;
    s.execute("COMMIT")?;
    db.register_query_function("name_of", "SELECT name FROM names WHERE k = ?")?;
    s.set_fetch_size(100);
    let st = s
        .execute("SELECT id, name_of(v) FROM t WHERE id <= 1000")?
        .stats;
    let recursive = C35Recursive {
        rows: st.get(Stat::RowsProcessed),
        function_calls: st.get(Stat::UserFunctionCalls),
        recursive_calls: st.get(Stat::RecursiveCalls),
        execute_count: st.get(Stat::ExecuteCount),
        fetch_calls: st.get(Stat::FetchCalls),
        user_calls: st.get(Stat::UserCalls),
    };
    let e = C35Evidence {
        rows: n,
        table_blocks,
        fetches,
        recursive,
    };
    let mut ev = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("table_blocks", table_blocks, "blocks"),
    ];
    for f in &e.fetches {
        let p = format!("arraysize{}", f.arraysize);
        ev.push(Evidence::counter(
            format!("{p}.fetch_calls"),
            f.fetch_calls,
            "calls",
        ));
        ev.push(Evidence::counter(
            format!("{p}.user_calls"),
            f.user_calls,
            "calls",
        ));
        ev.push(Evidence::counter(
            format!("{p}.consistent_gets"),
            f.consistent_gets,
            "gets",
        ));
        ev.push(Evidence::counter(
            format!("{p}.predicted_gets"),
            c35_predicted_gets(table_blocks, n, f.arraysize),
            "gets",
        ));
    }
    let r = &e.recursive;
    for (name, v) in [
        ("rows", r.rows),
        ("function_calls", r.function_calls),
        ("recursive_calls", r.recursive_calls),
        ("execute_count", r.execute_count),
        ("fetch_calls", r.fetch_calls),
        ("user_calls", r.user_calls),
    ] {
        ev.push(Evidence::counter(
            format!("query_function.{name}"),
            v,
            if name == "rows" { "rows" } else { "calls" },
        ));
    }
    Ok(report(
        C35,
        c35_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("query".into(), "SELECT * FROM t (full scan)".into()),
            (
                "recursive".into(),
                "SELECT id, name_of(v) FROM t WHERE id <= 1000, name_of = SELECT name FROM names WHERE k = ?, arraysize 100".into(),
            ),
        ],
        vec![
            "every fetch call asks for ARRAYSIZE rows; SQL*Plus' first fetch returns one row, which adds a call".into(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> C35Evidence {
        let (rows, blocks) = (10_000, 200);
        C35Evidence {
            rows,
            table_blocks: blocks,
            fetches: C35_ARRAY_SIZES
                .iter()
                .map(|&a| C35Fetch {
                    arraysize: a,
                    fetch_calls: rows / a + 1,
                    user_calls: rows / a + 3,
                    consistent_gets: c35_predicted_gets(blocks, rows, a) + 1,
                })
                .collect(),
            recursive: C35Recursive {
                rows: 1000,
                function_calls: 1000,
                recursive_calls: 1000,
                execute_count: 1001,
                fetch_calls: 11,
                user_calls: 13,
            },
        }
    }

    #[test]
    fn c35_rule_on_synthetic_evidence() {
        let e = good();
        assert_eq!(c35_verdict(&e).0, Verdict::Holds, "{}", c35_verdict(&e).1);
        // Gets that do not fall with the array: the pin is kept between
        // fetch calls, or every row is a get.
        let mut flat = good();
        for f in &mut flat.fetches {
            f.consistent_gets = 201;
        }
        assert_eq!(c35_verdict(&flat).0, Verdict::DoesNotHold);
        let mut per_row = good();
        per_row.fetches[3].user_calls = 10_002;
        assert_eq!(c35_verdict(&per_row).0, Verdict::DoesNotHold);
        let mut rising = good();
        rising.fetches[6].consistent_gets = 100_000;
        let (v, why) = c35_verdict(&rising);
        assert_eq!(v, Verdict::DoesNotHold);
        assert!(why.contains("read more"), "{why}");
        // A function whose query ran once for the statement, not per row.
        let mut once = good();
        once.recursive.recursive_calls = 1;
        once.recursive.execute_count = 2;
        assert_eq!(c35_verdict(&once).0, Verdict::DoesNotHold);
        // Recursive work counted as the client's calls.
        let mut as_user = good();
        as_user.recursive.user_calls = 1013;
        let (v, why) = c35_verdict(&as_user);
        assert_eq!(v, Verdict::DoesNotHold);
        assert!(why.contains("runs SQL"), "{why}");
    }
}
