//! An index design exercise (C25): one query mix, four candidate column
//! orders for one index, each measured on its own copy of the table (built,
//! measured and dropped in turn, in one database) — gets per query, space,
//! clustering, and what keeping the index costs every insert — against the
//! same table with no index at all.
//!
//! The mix, on `orders(id, cust, status, created, amount, pad)`:
//!
//! ```text
//! Q1  cust = :c AND status = :s                    -- the order list of a status
//! Q2  cust = :c AND status = :s AND created >= :d  -- … recent ones only
//! Q3  cust = :c                                    -- everything of a customer
//! ```
//!
//! `cust` is in every query, always with `=`; `status` comes with `=` in two
//! of three; `created` only ever as a range. The claim's rule therefore
//! gives (cust, status, created): the candidate named `RULE`.

use super::super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use super::{lab_config, load, run};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C25.0,
        title: C25.1,
        claim: C25.2,
        run: c25,
    }]
}

const C25: (&str, &str, &str) = (
    "C25",
    "Index design: always-used = columns first; weigh clustering, DML and space",
    "Index design: put columns that are always used, and used with `=`, first; weigh clustering, DML load and space.",
);

/// The candidate the claim's rule picks for the mix (see the module docs).
pub const RULE: &str = "cust_status_created";

/// One candidate index (or none), on its own copy of the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C25Candidate {
    pub name: &'static str,
    /// The index columns, in order (empty: no index).
    pub columns: &'static str,
    /// Consistent gets of Q1, Q2, Q3 (each summed over the same binds).
    pub q_gets: [u64; 3],
    pub leaf_blocks: u64,
    pub clustering_factor: u64,
    /// Summed over the same single-row inserts.
    pub ins_db_block_gets: u64,
    pub ins_redo_bytes: u64,
    pub ins_logical_reads: u64,
}

impl C25Candidate {
    pub fn total_gets(&self) -> u64 {
        self.q_gets.iter().sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C25Evidence {
    pub inserts: u64,
    /// `none` (no index: full scans) first, then the indexed candidates.
    pub candidates: Vec<C25Candidate>,
}

/// Holds when the rule's candidate reads the fewest blocks over the mix
/// (ties allowed) and every index makes inserts cost more current-mode
/// gets and redo than the bare table (the DML load the claim says to
/// weigh). Depends when another column order reads fewer blocks for this
/// mix; does not hold when an index is free to maintain.
pub fn c25_verdict(e: &C25Evidence) -> (Verdict, String) {
    let Some(base) = e.candidates.iter().find(|c| c.name == "none") else {
        return (Verdict::DoesNotHold, "no baseline without an index".into());
    };
    let indexed: Vec<&C25Candidate> = e.candidates.iter().filter(|c| c.name != "none").collect();
    if let Some(free) = indexed.iter().find(|c| {
        c.ins_db_block_gets <= base.ins_db_block_gets || c.ins_redo_bytes <= base.ins_redo_bytes
    }) {
        return (
            Verdict::DoesNotHold,
            format!(
                "index {} cost {} db block gets and {} redo bytes for {} inserts, the bare table {} and {}",
                free.name,
                free.ins_db_block_gets,
                free.ins_redo_bytes,
                e.inserts,
                base.ins_db_block_gets,
                base.ins_redo_bytes
            ),
        );
    }
    let Some(rule) = indexed.iter().find(|c| c.name == RULE) else {
        return (Verdict::DoesNotHold, format!("no candidate {RULE}"));
    };
    let best = indexed
        .iter()
        .min_by_key(|c| (c.total_gets(), c.name != RULE))
        .copied()
        .unwrap_or(rule);
    let table: Vec<String> = e
        .candidates
        .iter()
        .map(|c| {
            format!(
                "{}: Q1/Q2/Q3 {}/{}/{} gets, CF {}, {} leaf blocks, {:.1} db block gets and {:.0} redo bytes per insert",
                c.name,
                c.q_gets[0],
                c.q_gets[1],
                c.q_gets[2],
                c.clustering_factor,
                c.leaf_blocks,
                c.ins_db_block_gets as f64 / e.inserts.max(1) as f64,
                c.ins_redo_bytes as f64 / e.inserts.max(1) as f64
            )
        })
        .collect();
    let table = table.join("; ");
    let lead = |c: &C25Candidate| c.columns.split(", ").next().unwrap_or("");
    if best.total_gets() >= rule.total_gets() {
        (
            Verdict::Holds,
            format!(
                "the rule's ({RULE}) reads the fewest blocks over the mix ({} gets); every index costs inserts extra gets and redo; {table}",
                rule.total_gets()
            ),
        )
    } else {
        (
            Verdict::Depends,
            format!(
                "for this mix {} ({} gets) beats the rule's {RULE} ({} gets){}{}; {table}",
                best.name,
                best.total_gets(),
                rule.total_gets(),
                if lead(best) == lead(rule) {
                    format!(
                        "; both lead with the always-used = column {}, so the rule's first step was right",
                        lead(rule)
                    )
                } else {
                    String::new()
                },
                if best.clustering_factor < rule.clustering_factor {
                    format!(
                        "; what separates them is clustering: CF {} against {} (its entries follow the table's row order more closely, so consecutive rowids share blocks)",
                        best.clustering_factor, rule.clustering_factor
                    )
                } else {
                    String::new()
                }
            ),
        )
    }
}

fn c25(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 60_000);
    let custs = ctx.size(20, 60);
    let inserts = ctx.size(50, 200);
    let candidates: [(&'static str, Option<&str>); 5] = [
        ("none", None),
        (RULE, Some("cust, status, created")),
        ("cust_created_status", Some("cust, created, status")),
        ("status_cust_created", Some("status, cust, created")),
        ("created_cust_status", Some("created, cust, status")),
    ];
    let statuses = ["OPEN", "SHIPPED", "CLOSED"];
    // Rows: cust random, status OPEN 10 % / SHIPPED 30 % / CLOSED 60 %,
    // created = id (rows arrive in time order).
    let row = |rng: &mut Rng, id: u64| -> Vec<Value> {
        let p = rng.below(10);
        let status = if p == 0 {
            statuses[0]
        } else if p < 4 {
            statuses[1]
        } else {
            statuses[2]
        };
        vec![
            Value::Int(id as i64),
            Value::Int(rng.below(custs) as i64),
            Value::Text(status.into()),
            Value::Int(id as i64),
            Value::Int(rng.below(10_000) as i64),
            Value::Text(format!("{id:040}")),
        ]
    };
    let mut rng = Rng::splitmix64(ctx.seed);
    let rows: Vec<Vec<Value>> = (0..n).map(|i| row(&mut rng, i)).collect();
    let extra: Vec<Vec<Value>> = (n..n + inserts).map(|i| row(&mut rng, i)).collect();
    let queries = [
        "cust = :c AND status = :s",
        "cust = :c AND status = :s AND created >= :d",
        "cust = :c",
    ];
    let binds: Vec<[Value; 3]> = [3, 7, 11]
        .iter()
        .map(|c| {
            [
                Value::Int((c % custs) as i64),
                Value::Text("OPEN".into()),
                Value::Int((n * 9 / 10) as i64),
            ]
        })
        .collect();
    // One database; each candidate gets its own copy of the table, dropped
    // before the next is built.
    let (_db, mut s) = ctx.open("c25", lab_config(ctx))?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (name, cols) in candidates {
        ctx.step(name);
        s.execute("CREATE TABLE orders (id INTEGER, cust INTEGER, status TEXT, created INTEGER, amount INTEGER, pad TEXT)")?;
        if let Some(cols) = cols {
            s.execute(&format!("CREATE INDEX ix ON orders ({cols})"))?;
        }
        load(
            &mut s,
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            &rows,
        )?;
        s.execute("ANALYZE TABLE orders")?;
        let ix = match cols {
            Some(_) => Some(super::index_stats(&mut s, "orders", "ix")?),
            None => None,
        };
        let hint = if cols.is_some() {
            "/*+ INDEX(orders ix) */"
        } else {
            "/*+ FULL(orders) */"
        };
        let mut q_gets = [0u64; 3];
        for (qi, q) in queries.iter().enumerate() {
            let sql = format!("SELECT {hint} amount FROM orders WHERE {q}");
            for b in &binds {
                // Each query binds a prefix of (:c, :s, :d).
                let used = match qi {
                    0 => &b[..2],
                    1 => &b[..3],
                    _ => &b[..1],
                };
                q_gets[qi] += run(&mut s, &sql, used)?.consistent_gets;
            }
            if qi == 0 || cols.is_some() {
                let plan = super::explain(&mut s, &sql, &binds[0][..[2, 3, 1][qi]])?;
                notes.push(format!(
                    "{name:20} Q{}: matchcols {}, screening {}",
                    qi + 1,
                    plan.matchcols.unwrap_or(0),
                    plan.screening
                ));
            }
        }
        // What keeping the index costs: single-row inserts, one call each.
        let p = s.prepare("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)")?;
        let before = s.stats();
        for r in &extra {
            s.execute_prepared(&p, r)?;
        }
        let d = s.stats().diff(&before);
        s.execute("COMMIT")?;
        s.execute("DROP TABLE orders")?;
        out.push(C25Candidate {
            name,
            columns: cols.unwrap_or(""),
            q_gets,
            leaf_blocks: ix.as_ref().map_or(0, |i| i.leaf_blocks),
            clustering_factor: ix.as_ref().map_or(0, |i| i.clustering_factor),
            ins_db_block_gets: d.get(Stat::DbBlockGets),
            ins_redo_bytes: d.get(Stat::RedoSize),
            ins_logical_reads: d.logical_reads(),
        });
    }
    let e = C25Evidence {
        inserts,
        candidates: out,
    };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("inserts", inserts, "rows"),
    ];
    for c in &e.candidates {
        let p = c.name;
        evidence.extend([
            Evidence::counter(format!("{p}.q1_gets"), c.q_gets[0], "gets"),
            Evidence::counter(format!("{p}.q2_gets"), c.q_gets[1], "gets"),
            Evidence::counter(format!("{p}.q3_gets"), c.q_gets[2], "gets"),
            Evidence::counter(format!("{p}.total_gets"), c.total_gets(), "gets"),
            Evidence::counter(format!("{p}.leaf_blocks"), c.leaf_blocks, "blocks"),
            Evidence::counter(
                format!("{p}.clustering_factor"),
                c.clustering_factor,
                "blocks",
            ),
            Evidence::counter(
                format!("{p}.insert_db_block_gets"),
                c.ins_db_block_gets,
                "gets",
            ),
            Evidence::counter(format!("{p}.insert_redo_size"), c.ins_redo_bytes, "bytes"),
            Evidence::counter(
                format!("{p}.insert_logical_reads"),
                c.ins_logical_reads,
                "gets",
            ),
        ]);
    }
    notes.insert(
        0,
        "Q1 cust = :c AND status = :s; Q2 … AND created >= :d; Q3 cust = :c — each over 3 customers, status 'OPEN', d = the last 10 % of ids".into(),
    );
    Ok(report(
        C25,
        c25_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("customers".into(), custs.to_string()),
            ("inserts".into(), inserts.to_string()),
        ],
        vec![notes.join("\n")],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &'static str, q: [u64; 3], ins: u64) -> C25Candidate {
        C25Candidate {
            name,
            columns: "",
            q_gets: q,
            leaf_blocks: 10,
            clustering_factor: 100,
            ins_db_block_gets: ins,
            ins_redo_bytes: ins * 100,
            ins_logical_reads: ins * 2,
        }
    }

    #[test]
    fn c25_rule_on_synthetic_evidence() {
        let good = C25Evidence {
            inserts: 10,
            candidates: vec![
                cand("none", [300, 300, 300], 20),
                cand(RULE, [50, 10, 300], 60),
                cand("cust_created_status", [120, 20, 300], 60),
                cand("status_cust_created", [50, 10, 900], 60),
            ],
        };
        assert_eq!(c25_verdict(&good).0, Verdict::Holds);
        let beaten = C25Evidence {
            candidates: vec![
                cand("none", [300, 300, 300], 20),
                cand(RULE, [50, 10, 300], 60),
                cand("cust_created_status", [40, 10, 300], 60),
            ],
            ..good.clone()
        };
        assert_eq!(c25_verdict(&beaten).0, Verdict::Depends);
        let free = C25Evidence {
            candidates: vec![
                cand("none", [300, 300, 300], 20),
                cand(RULE, [50, 10, 300], 20),
            ],
            ..good
        };
        assert_eq!(c25_verdict(&free).0, Verdict::DoesNotHold);
    }
}
