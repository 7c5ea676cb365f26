//! The optimizer: one table, one access path.
//!
//! In: a [`Request`] — the table, its indexes and statistics, the bound
//! WHERE clause as the access layer's predicate, the hints, the columns
//! the statement reads and the order it wants. Out: a [`Choice`] — the
//! `operators::Access` to run, its plan lines and `plan_table` row, and the
//! estimates. `select` and the searched UPDATE/DELETE of `execute` ask it;
//! nothing here reads a row.
//!
//! Candidates are a full table scan and, for every usable index of the
//! table, an index access planned by `access::plan_for_index` (matching
//! columns, screening and table terms by the DB2 rules that the book's chapter 6,
//! *The B+tree: matching, screening and table filters*, walks through).
//! An index access is index-only when the index holds every column the
//! statement reads, an IN-list iterator when an IN-list matches (one
//! descent per value), and it avoids the ORDER BY sort when it returns rows
//! in the requested order (below).
//!
//! **With statistics** (`ANALYZE TABLE`), each candidate is costed in
//! blocks and the cheapest wins:
//!
//! ```text
//! full scan   = BLOCKS (every block below the HWM)
//! index       = BLEVEL + ceil(LEAF_BLOCKS × ix_sel) + ceil(CF × ix_sel_with_filters)   (book, ch. 7)
//! index only  = BLEVEL + ceil(LEAF_BLOCKS × ix_sel)
//! + sort      = ceil(estimated rows / 100)    when the path does not deliver the ORDER BY
//! ```
//!
//! The sort term is our own choice: about one block's worth of
//! work per hundred rows sorted, enough to make sort avoidance matter in
//! the comparison without dwarfing I/O. Ties go to the earlier candidate
//! (full scan first, then indexes by name), so plans are deterministic.
//!
//! **Without statistics** the choice is by rules, like Oracle's old rule
//! optimizer: the index with the most matching equal columns, then the most
//! matching columns, wins if it matches at all; otherwise a full scan. The
//! costs shown are then computed from default statistics and EXPLAIN says so.
//!
//! **Hints** override: `FULL(t)`, `INDEX(t i)`, `NUM_INDEX_KEYS(t i n)`
//! (the index with at most `n` matching columns). A hint naming a missing
//! or unusable index is ignored, as in Oracle.
//!
//! **Sort avoidance.** An index range scan returns rows in key order. The
//! ORDER BY is delivered when its columns, in order and direction (and with
//! the default NULL placement), follow the index columns, skipping leading
//! columns fixed by an `=` matching predicate; an IN-list on a leading
//! column delivers one ordered run per value, so it cannot (claim C26).

use std::sync::Arc;

use super::ast::Hints;
use super::explain::{line, PlanLine, PlanTableRow};
use crate::access::{
    boolean_terms, describe, index_only, index_scan_cost, plan_for_index, selectivity, AccessPlan,
    CmpOp, ColumnBound, IndexStats, Pred,
};
use crate::analyze::TableStats;
use crate::btree::key::Order;
use crate::catalog::{IndexDef, TableDef};
use crate::operators::Access;

/// One ORDER BY key on a table column: (column, descending, NULLS FIRST).
pub(crate) type OrderKey = (usize, bool, bool);

/// The chosen access path and what EXPLAIN says about it.
pub(crate) struct Choice {
    pub access: Access,
    /// The table-access line(s), parents first, without ids or depths
    /// relative to the statement (the caller nests them).
    pub lines: Vec<PlanLine>,
    /// The plan_table row of the table access (queryno/qblockno filled by
    /// the caller).
    pub row: PlanTableRow,
    /// The access path returns rows in the ORDER BY order.
    pub sorted: bool,
    /// Estimated rows the access returns.
    pub rows: u64,
    /// Estimated cost of the access, without any sort.
    pub cost: u64,
    /// True when no statistics were available (rule-based choice).
    pub by_rules: bool,
}

/// Default statistics for a table that was never analyzed.
fn default_stats(def: &TableDef, indexes: &[IndexDef]) -> TableStats {
    TableStats {
        table: def.name.clone(),
        num_rows: 10_000,
        blocks: 100,
        avg_row_len: 100,
        // No column statistics: every selectivity is the default one.
        columns: Vec::new(),
        indexes: indexes
            .iter()
            .map(|ix| crate::analyze::IndexStatsRow {
                name: ix.name.clone(),
                blevel: 1,
                leaf_blocks: 25,
                distinct_keys: 100,
                num_rows: 10_000,
                clustering_factor: 800,
                cluster_ratio: 0.0,
                avg_leaf_blocks_per_key: 1.0,
                avg_data_blocks_per_key: 8.0,
            })
            .collect(),
    }
}

struct Candidate {
    access: Access,
    index: Option<IndexDef>,
    plan: Option<AccessPlan>,
    index_only: bool,
    sorted: bool,
    cost: u64,
    rows: u64,
    /// The index line's own cost (BLEVEL + leaf blocks) and the entries
    /// it passes on (after screening).
    ix_cost: u64,
    ix_rows: u64,
}

/// Whether `plan` on `ix` returns rows in `order`.
fn delivers(ix: &IndexDef, plan: &AccessPlan, order: &[OrderKey]) -> bool {
    if order.is_empty() || plan.probes > 1 {
        return order.is_empty();
    }
    let fixed = |p: usize| {
        p < plan.bounds.len() && matches!(plan.bounds[p], ColumnBound::Eq(_) | ColumnBound::IsNull)
    };
    let mut p = 0;
    for &(col, desc, nulls_first) in order {
        while p < ix.columns.len() && ix.columns[p].0 != col && fixed(p) {
            p += 1;
        }
        let Some(&(c, o)) = ix.columns.get(p) else {
            return false;
        };
        if c != col {
            return false;
        }
        let ix_desc = o == Order::Desc;
        // NULLs sort high in the key order: last ascending, first descending.
        if (ix_desc != desc || nulls_first != desc) && !fixed(p) {
            return false;
        }
        p += 1;
    }
    true
}

/// Whether `access` returns the rows of `pred` in `order` for the values
/// `pred` holds now. A plan kept by a cursor was chosen with its first
/// execution's binds, and its order may not hold for others: `a IN (?, ?)`
/// with two equal binds is one probe of an index on `(a, b)`, in `b` order,
/// with two different ones two probes, each in `b` order but not together.
pub(crate) fn delivers_order(
    indexes: &[IndexDef],
    access: &Access,
    pred: &Pred,
    order: &[OrderKey],
) -> bool {
    if order.is_empty() {
        return true;
    }
    let (name, max) = match access {
        Access::Index { name, max_matching } => (name, *max_matching),
        Access::IndexOnly { name } => (name, None),
        // A full scan has no order; a batched one returns table order.
        Access::Full | Access::IndexBatched { .. } => return false,
    };
    let Some(ix) = indexes.iter().find(|i| &i.name == name) else {
        return false;
    };
    let cols: Vec<usize> = ix.columns.iter().map(|&(c, _)| c).collect();
    let plan = plan_for_index(&boolean_terms(pred), &cols, max);
    delivers(ix, &plan, order)
}

/// What the optimizer is asked: a statement on `def` (named `alias` in
/// hints too) with WHERE clause `pred`, reading columns `needed`, wanting
/// rows in `order` (empty: any order).
pub(crate) struct Request<'a> {
    pub def: &'a TableDef,
    pub alias: Option<&'a str>,
    pub indexes: &'a [IndexDef],
    /// The column sets of the table's PRIMARY KEY and UNIQUE constraints.
    pub unique_keys: &'a [Vec<usize>],
    pub stats: Option<Arc<TableStats>>,
    pub pred: &'a Pred,
    pub hints: &'a Hints,
    pub needed: &'a [usize],
    pub order: &'a [OrderKey],
}

/// Chooses the access path for `req`.
pub(crate) fn choose(req: Request<'_>) -> Choice {
    let Request {
        def,
        alias,
        indexes,
        unique_keys,
        stats,
        pred,
        hints,
        needed,
        order,
    } = req;
    let names: Vec<String> = def.columns.iter().map(|c| c.name.clone()).collect();
    let terms = boolean_terms(pred);
    let by_rules = stats.is_none();
    let st = stats.unwrap_or_else(|| Arc::new(default_stats(def, indexes)));
    let col_stats = |c: usize| st.column_stats(c);
    let sel: f64 = terms.iter().map(|t| selectivity(t, &col_stats)).product();
    // Equalities on every column of a unique key find at most one row,
    // whatever the statistics say (or, never analyzed, do not say): the
    // estimate Oracle gives an INDEX UNIQUE SCAN.
    let equal_on = |c: usize| {
        terms.iter().any(|t| {
            matches!(t, Pred::Cmp { col, op: CmpOp::Eq, value } if *col == c && !value.is_null())
        })
    };
    let one_row = unique_keys.iter().any(|k| k.iter().all(|&c| equal_on(c)));
    let est_rows = ((st.num_rows as f64) * sel).ceil() as u64;
    let est_rows = if one_row { est_rows.min(1) } else { est_rows };
    let sort_cost = |sorted: bool| {
        if sorted || order.is_empty() {
            0
        } else {
            est_rows.div_ceil(100)
        }
    };
    let named = |t: &str| t == def.name || Some(t) == alias;

    let full = Candidate {
        access: Access::Full,
        index: None,
        plan: None,
        index_only: false,
        sorted: order.is_empty(),
        cost: st.blocks.max(1),
        rows: est_rows,
        ix_cost: 0,
        ix_rows: 0,
    };
    let index_candidate = |ix: &IndexDef, max: Option<usize>| -> Candidate {
        let cols: Vec<usize> = ix.columns.iter().map(|&(c, _)| c).collect();
        let plan = plan_for_index(&terms, &cols, max);
        let only = index_only(&cols, needed);
        let ix_stats = st
            .index(&ix.name)
            .map(|i| i.as_cost_stats())
            .unwrap_or(IndexStats {
                blevel: 1,
                leaf_blocks: 25,
                clustering_factor: st.num_rows,
                num_rows: st.num_rows,
                distinct_keys: st.num_rows,
            });
        let est = index_scan_cost(&plan, &terms, &ix_stats, &col_stats);
        // An equality on every column of a unique key through its index
        // (Oracle's INDEX UNIQUE SCAN): one descent to one entry, and one
        // table block unless the index answers alone.
        let unique_probe = one_row
            && plan.bounds.iter().all(|b| b.is_equal())
            && unique_keys
                .iter()
                .any(|k| k.len() == cols.len() && k.iter().all(|c| cols.contains(c)));
        let cost = match (unique_probe, only) {
            (true, true) => u64::from(ix_stats.blevel) + 1,
            (true, false) => u64::from(ix_stats.blevel) + 2,
            (false, true) => est.index_only_total(),
            (false, false) => est.total,
        };
        let sorted = delivers(ix, &plan, order);
        Candidate {
            access: if only {
                Access::IndexOnly {
                    name: ix.name.clone(),
                }
            } else {
                Access::Index {
                    name: ix.name.clone(),
                    max_matching: max,
                }
            },
            index: Some(ix.clone()),
            plan: Some(plan),
            index_only: only,
            sorted,
            cost: cost.max(1),
            rows: est_rows,
            ix_cost: if unique_probe {
                u64::from(ix_stats.blevel) + 1
            } else {
                est.index_only_total().max(1)
            },
            ix_rows: if unique_probe {
                1
            } else {
                ((st.num_rows as f64) * est.ix_sel_with_filters).ceil() as u64
            },
        }
    };

    let usable: Vec<&IndexDef> = indexes.iter().filter(|i| i.usable).collect();
    let hinted: Option<Candidate> = if hints.full.iter().any(|t| named(t)) {
        Some(full_clone(&full))
    } else if let Some(ix) = hints.num_index_keys.iter().find_map(|(t, i, n)| {
        usable
            .iter()
            .find(|ix| named(t) && ix.name == *i)
            .map(|ix| (*ix, *n))
    }) {
        Some(index_candidate(ix.0, Some(ix.1)))
    } else {
        hints
            .index
            .iter()
            .find_map(|(t, i)| usable.iter().find(|ix| named(t) && ix.name == *i))
            .map(|ix| index_candidate(ix, None))
    };

    let best = match hinted {
        Some(c) => c,
        None if by_rules => {
            let score = |c: &Candidate| {
                let p = c.plan.as_ref();
                let eq = p.map_or(0, |p| p.bounds.iter().filter(|b| b.is_equal()).count());
                (eq, p.map_or(0, |p| p.matching_cols))
            };
            let mut best = full_clone(&full);
            let mut best_score = (0, 0);
            for ix in &usable {
                let c = index_candidate(ix, None);
                let s = score(&c);
                if s.1 > 0 && s > best_score {
                    best_score = s;
                    best = c;
                }
            }
            best
        }
        None => {
            let mut best = full_clone(&full);
            let mut best_total = best.cost + sort_cost(best.sorted);
            for ix in &usable {
                let c = index_candidate(ix, None);
                let useful = c.plan.as_ref().is_some_and(|p| p.matching_cols > 0)
                    || c.index_only
                    || (c.sorted && !order.is_empty());
                let total = c.cost + sort_cost(c.sorted);
                if useful && total < best_total {
                    best_total = total;
                    best = c;
                }
            }
            best
        }
    };
    let mut best = best;
    if hints.batch.iter().any(|t| named(t)) {
        if let Access::Index { name, max_matching } = &best.access {
            // Each table block is visited at most once per range: the table
            // part of the cost is capped at the table's blocks; the rows come
            // back in table order, so no ORDER BY is delivered.
            best.access = Access::IndexBatched {
                name: name.clone(),
                max_matching: *max_matching,
            };
            let table_part = best.cost.saturating_sub(best.ix_cost).min(st.blocks.max(1));
            best.cost = best.ix_cost + table_part;
            best.sorted = order.is_empty();
        }
    }
    describe_choice(def, &names, &terms, best, by_rules)
}

fn full_clone(c: &Candidate) -> Candidate {
    Candidate {
        access: c.access.clone(),
        index: c.index.clone(),
        plan: c.plan.clone(),
        index_only: c.index_only,
        sorted: c.sorted,
        cost: c.cost,
        rows: c.rows,
        ix_cost: c.ix_cost,
        ix_rows: c.ix_rows,
    }
}

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn describe_choice(
    def: &TableDef,
    names: &[String],
    terms: &[Pred],
    c: Candidate,
    by_rules: bool,
) -> Choice {
    let all: Vec<usize> = (0..terms.len()).collect();
    let mut row = PlanTableRow {
        queryno: 1,
        qblockno: 1,
        planno: 1,
        method: 0,
        tname: def.name.to_uppercase(),
        accesstype: "R".into(),
        matchcols: 0,
        accessname: String::new(),
        indexonly: "N".into(),
        prefetch: "S".into(),
        sortn_join: "N".into(),
        sortc_uniq: "N".into(),
        sortc_join: "N".into(),
        sortc_orderby: "N".into(),
        sortc_groupby: "N".into(),
        cost: c.cost,
    };
    let (Some(ix), Some(plan)) = (&c.index, &c.plan) else {
        let mut l = line("TABLE ACCESS FULL", Some(&def.name), c.rows, c.cost);
        l.filter = some(describe(terms, &all, names));
        return Choice {
            access: c.access,
            lines: vec![l],
            row,
            sorted: c.sorted,
            rows: c.rows,
            cost: c.cost,
            by_rules,
        };
    };
    let range_op = if plan.matching_cols == 0 {
        "INDEX FULL SCAN"
    } else {
        "INDEX RANGE SCAN"
    };
    let (ix_rows, ix_cost) = if c.index_only {
        (c.rows, c.cost)
    } else {
        (c.ix_rows, c.ix_cost)
    };
    let mut ixl = line(range_op, Some(&ix.name), ix_rows, ix_cost);
    ixl.matchcols = Some(plan.matching_cols);
    ixl.access = some(describe(terms, &plan.matching_terms, names));
    let mut screening = plan.screening_terms.clone();
    screening.extend(plan.recheck_terms.iter().copied());
    ixl.screening = some(describe(terms, &screening, names));
    ixl.index_only = c.index_only;
    let mut lines = Vec::new();
    let inlist = plan.probes > 1;
    if inlist {
        lines.push(line("INLIST ITERATOR", None, c.rows, c.cost));
    }
    let batched = matches!(c.access, Access::IndexBatched { .. });
    if !c.index_only {
        let mut t = line(
            if batched {
                "TABLE ACCESS BY INDEX ROWID BATCHED"
            } else {
                "TABLE ACCESS BY INDEX ROWID"
            },
            Some(&def.name),
            c.rows,
            c.cost,
        );
        t.filter = some(describe(terms, &plan.table_terms, names));
        lines.push(t);
    }
    lines.push(ixl);
    row.accesstype = plan.access_type().into();
    row.matchcols = plan.matching_cols as u32;
    row.accessname = ix.name.to_uppercase();
    row.indexonly = if c.index_only { "Y" } else { "N" }.into();
    row.prefetch = if batched {
        "L"
    } else if plan.matching_cols == 0 {
        "D"
    } else {
        ""
    }
    .into();
    Choice {
        access: c.access,
        lines,
        row,
        sorted: c.sorted,
        rows: c.rows,
        cost: c.cost,
        by_rules,
    }
}
