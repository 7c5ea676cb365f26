//! SELECT: a query block planned, then run as a tree of operators
//! (`operators`).
//!
//! ```text
//!  bind_select ─▶ prepare: source (access path / join plan) + EXPLAIN ─▶ Block
//!   (bind.rs)                                                              │ tree
//!                                                                          ▼
//!   leaf (a table's access, a join's tree, a series) ─▶ Aggregate ─▶ Map (project)
//!        ─▶ Distinct ─▶ Sort ─▶ Limit            (each only where the query has it)
//! ```
//!
//! * [`bind_select`](super::bind::bind_select) resolves every clause into a
//!   [`Bound`].
//! * `prepare` chooses the source: a table through the access path the
//!   optimizer chose (WHERE is applied by the access layer), a join
//!   (`join`), `generate_series` (WHERE applied here), or DUAL's one empty
//!   row; and lays out the EXPLAIN lines and the DB2 `plan_table` rows.
//!   Nothing is read yet.
//! * `Block::tree` builds the operators: the leaf, then the aggregate
//!   (grouped queries: one extended row per group, then HAVING), the
//!   projection of the select list with the ORDER BY keys after it,
//!   DISTINCT, the sort (skipped when the access path delivers the order)
//!   and OFFSET/LIMIT. Pulling the top pulls the rest: a LIMIT with nothing
//!   blocking below it stops a full scan after the block that held its last
//!   row; an index range scan is told the LIMIT (COUNT STOPKEY) and walks no
//!   further; a full scan whose rows stream to the client is read in one
//!   call resumed per fetch call (`operators::run_limited`).
//!
//! With `plan_only` (EXPLAIN) the block is prepared and never run: the
//! plan is the one a real run would choose, no table row is read and no
//! sort is counted (an `IN (subquery)` still runs once, while binding).

use super::ast::{From, Select};
use super::bind::{bind_select, constant, Bound, Key};
use super::cursor::Chosen;
use super::eval::{as_bool, to_pred, E};
use super::execute::Cx;
use super::explain::{line, number_chain, Explain, PlanLine, PlanTableRow};
use super::join::{self, Tree};
use super::limits::MAX_SERIES_ROWS;
use super::optimizer::{self, Request};
use crate::access::Pred;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ids::{Scn, Xid};
use crate::operators::{
    self as ops, drain, Access, AggCall, AggSpec, Aggregate, Distinct, FetchCalls, FullScan, Limit,
    Map, Placement, Rows, Sort, SortKey,
};
use crate::txn::Snapshot;
use crate::value::{Row, Value};

/// A query's result and its plan.
pub(super) struct Query {
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<Row>,
    pub(super) explain: Explain,
}

/// Runs (or, with `plan_only`, only plans) a SELECT.
pub(super) fn select(s: &mut Context, cx: &Cx<'_>, sel: &Select, plan_only: bool) -> Result<Query> {
    let merged;
    let sel = match super::view::expand(s, sel)? {
        Some(m) => {
            merged = m;
            &merged
        }
        None => sel,
    };
    if !sel.compound.is_empty() {
        // UNION / INTERSECT / EXCEPT: each arm comes back here alone.
        return super::compound::compound(s, cx, sel, plan_only);
    }
    let b = bind_select(s, cx, sel)?;
    run_bound(s, cx, sel, &b, plan_only)
}

/// Runs (or, with `plan_only`, plans) query block `sel` already bound as
/// `b`: a derived table is bound once and both planned and read from the
/// same binding (`join`), so its uncorrelated subqueries run once.
pub(super) fn run_bound(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &Select,
    b: &Bound,
    plan_only: bool,
) -> Result<Query> {
    let mut block = prepare(s, cx, sel, b, plan_only)?;
    let rows = if plan_only {
        Vec::new()
    } else {
        let dcx = cx.for_derived();
        let mut t = block.tree(s, cx, &dcx)?;
        drain(&mut *t, s, None)?
    };
    Ok(Query {
        columns: block.columns(),
        rows,
        explain: std::mem::take(&mut block.explain),
    })
}

/// A query block made ready to run: bound, its access path or join plan
/// chosen, its plan laid out. Nothing is read until its tree is pulled.
pub(super) struct Block<'a> {
    sel: &'a Select,
    b: &'a Bound,
    source: SourceRun,
    need_sort: bool,
    /// A join's derived tables, by relation, planned as blocks of their own.
    derived: Vec<Option<Block<'a>>>,
    pub(super) explain: Explain,
}

/// What a query block's tree starts from.
enum SourceRun {
    /// Rows already made (a series, DUAL; none for EXPLAIN).
    Rows(Vec<Row>),
    /// A table read by the access path chosen for it, in one call that
    /// stops where the LIMIT allows and resumes per fetch call.
    Table {
        name: String,
        pred: Pred,
        access: Access,
        scn: Option<Scn>,
        stop: Option<usize>,
        fetch: Option<FetchCalls>,
    },
    /// A join's plan: its tree is built under the rest.
    Join(join::JoinPlan),
}

/// Plans query block `sel`, bound as `b` (with `plan_only`, for EXPLAIN:
/// its tree then has no rows).
pub(super) fn prepare<'a>(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &'a Select,
    b: &'a Bound,
    plan_only: bool,
) -> Result<Block<'a>> {
    let Source {
        run: source,
        plan: access,
    } = source(s, cx, sel, b, plan_only)?;
    let need_sort = !b.keys.is_empty() && !access.sorted;
    let groups = group_estimate(s, b);
    let explain = plan(sel, b, access, need_sort, groups);
    let mut derived = Vec::new();
    if let (SourceRun::Join(_), Some(shape), false) = (&source, b.join.as_ref(), plan_only) {
        // A derived table does not carry its join's rowids.
        let dcx = cx.for_derived();
        for r in 0..shape.len() {
            derived.push(match shape.derived_block(r) {
                Some((dsel, db)) => Some(prepare(s, &dcx, dsel, db, false)?),
                None => None,
            });
        }
    }
    Ok(Block {
        sel,
        b,
        source,
        need_sort,
        derived,
        explain,
    })
}

impl<'a> Block<'a> {
    /// The names of the block's result columns.
    pub(super) fn columns(&self) -> Vec<String> {
        self.b.items.iter().map(|i| i.name.clone()).collect()
    }

    /// The block's operator tree (built once: it takes the rows made);
    /// `dcx` is the context its derived tables run in.
    pub(super) fn tree<'p>(
        &'p mut self,
        s: &mut Context,
        cx: &'p Cx<'p>,
        dcx: &'p Cx<'p>,
    ) -> Result<Tree<'p>>
    where
        'a: 'p,
    {
        s.check_usable()?;
        let (sel, b, need_sort): (&'p Select, &'p Bound, bool) = (self.sel, self.b, self.need_sort);
        let leaf: Tree<'p> = match &mut self.source {
            SourceRun::Rows(rows) => Box::new(Rows::new(std::mem::take(rows))),
            SourceRun::Table {
                name,
                pred,
                access,
                scn,
                stop,
                fetch,
            } => {
                let (name, pred, access) = (&*name, &*pred, &*access);
                let (scn, stop, fetch) = (*scn, *stop, *fetch);
                if *access == Access::Full && fetch.is_none() {
                    // A full scan streams, one block at a time, as far as
                    // the operators above pull it.
                    let (def, _) = s.read_defs(name, access)?;
                    let snap = match scn {
                        Some(scn) => Snapshot {
                            scn,
                            xid: Xid::NONE,
                        },
                        None => s.snapshot(),
                    };
                    let columns = def.columns.len();
                    let place = Placement {
                        offset: 0,
                        width: columns,
                        columns,
                        rowid: false,
                    };
                    return pipeline(
                        Box::new(FullScan::new(def, snap, pred, place)),
                        sel,
                        b,
                        need_sort,
                    );
                }
                // An index range scan in one call (stopping where the
                // LIMIT allows), or a full scan resumed per fetch call.
                Box::new(join::Computed::new(move |s: &mut Context| {
                    let r = s.access_rows(name, pred, access.clone(), scn, stop, fetch)?;
                    Ok(r.rows.into_iter().map(|(_, row)| row).collect())
                }))
            }
            SourceRun::Join(jp) => {
                let shape = b
                    .join
                    .as_ref()
                    .ok_or_else(|| Error::Internal("a join without its relations".into()))?;
                let mut derived = Vec::with_capacity(self.derived.len());
                for d in &mut self.derived {
                    derived.push(match d {
                        Some(block) => Some(block.tree(s, dcx, dcx)?),
                        None => None,
                    });
                }
                join::tree(s, cx, shape, jp, derived)?
            }
        };
        pipeline(leaf, sel, b, need_sort)
    }
}

/// The operator tree of a query block: its source (the rows a table's
/// access path delivered, or a join's tree), then aggregate, project,
/// DISTINCT, sort and OFFSET/LIMIT, each only where the query has it. The
/// projected rows carry their ORDER BY key values after the select list
/// until the sort has used them.
fn pipeline<'p>(
    mut t: Tree<'p>,
    sel: &'p Select,
    b: &'p Bound,
    need_sort: bool,
) -> Result<Tree<'p>> {
    if b.grouped {
        let spec = AggSpec {
            base: b.names.len(),
            group_by: b.group_by.iter().map(|e| e as &dyn ops::Expr).collect(),
            aggs: b
                .aggs
                .iter()
                .map(|a| AggCall {
                    f: a.f,
                    arg: a.arg.as_ref().map(|e| e as &dyn ops::Expr),
                    distinct: a.distinct,
                })
                .collect(),
            having: b.having.as_ref().map(|e| e as &dyn ops::Expr),
        };
        t = Box::new(Aggregate::new(t, spec));
    }
    let n = b.items.len();
    t = Box::new(Map {
        input: t,
        f: Box::new(move |row| project(&row, b)),
    });
    if sel.distinct {
        t = Box::new(Distinct::new(t, n));
    }
    if need_sort {
        let keys = b
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| SortKey {
                col: n + i,
                desc: k.desc,
                nulls_first: k.nulls_first,
            })
            .collect();
        t = Box::new(Sort::new(t, keys));
    }
    if b.offset > 0 || b.limit < usize::MAX {
        t = Box::new(Limit::new(t, b.offset, b.limit));
    }
    if !b.keys.is_empty() {
        t = Box::new(Map {
            input: t,
            f: Box::new(move |mut row| {
                row.truncate(n);
                Ok(row)
            }),
        });
    }
    Ok(t)
}

/// The rows a SELECT reads, and what its source adds to the plan.
struct Source {
    run: SourceRun,
    plan: SourcePlan,
}

/// The source's part of the plan.
struct SourcePlan {
    /// The source's plan lines, unnumbered.
    lines: Vec<PlanLine>,
    plan_table: Vec<PlanTableRow>,
    notes: Vec<String>,
    /// The rows come in the ORDER BY's order (no sort needed).
    sorted: bool,
    /// Estimated rows and cost of the source.
    rows: u64,
    cost: u64,
    /// The lines carry their own depths (a join's tree), relative to the
    /// source's top line; otherwise they are a chain, each one deeper.
    tree: bool,
}

/// The source rows of `sel` that pass its WHERE clause (none with
/// `plan_only`), stopping early where the LIMIT allows.
fn source(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &Select,
    b: &Bound,
    plan_only: bool,
) -> Result<Source> {
    let mut plan = SourcePlan {
        lines: Vec::new(),
        plan_table: Vec::new(),
        notes: Vec::new(),
        sorted: false,
        rows: 0,
        cost: 0,
        tree: false,
    };
    let run = match (&sel.from, &b.def) {
        (From::Table { name, alias, as_of }, Some(def)) => {
            let pred = match &b.filter {
                Some(e) => to_pred(e, &b.names, &b.types),
                None => Pred::And(Vec::new()),
            };
            let choose = || {
                let (indexes, unique_keys) = {
                    let cat = s.schema().catalog.read();
                    (cat.indexes_of(&def.name), cat.unique_keys_of(&def.name))
                };
                let want = b.order.clone().unwrap_or_default();
                optimizer::choose(Request {
                    def,
                    alias: alias.as_deref(),
                    indexes: &indexes,
                    unique_keys: &unique_keys,
                    stats: s.schema().stats.get(&def.name),
                    pred: &pred,
                    hints: cx.hints,
                    needed: &b.needed,
                    order: &want,
                })
            };
            // EXPLAIN optimizes afresh and shows the whole choice; a run
            // takes the access path from the statement's plan (see
            // `cursor`), optimizing only when it has none for this block.
            let chosen = if plan_only {
                let choice = choose();
                if choice.by_rules {
                    plan.notes.push(format!(
                        "no statistics on {}: the access path was chosen by rules and the costs use defaults (ANALYZE TABLE {} to cost it)",
                        def.name, def.name
                    ));
                }
                plan.rows = choice.rows;
                plan.cost = choice.cost;
                plan.lines.extend(choice.lines.iter().cloned());
                plan.plan_table.push(choice.row.clone());
                Chosen {
                    access: choice.access,
                    sorted: choice.sorted,
                }
            } else {
                cx.planner.access(s.schema(), sel.qblock, &def.name, || {
                    let choice = choose();
                    Chosen {
                        access: choice.access,
                        sorted: choice.sorted,
                    }
                })
            };
            // A kept plan's order is checked against this execution's
            // binds (`optimizer::delivers_order`); a fresh one's holds.
            plan.sorted = chosen.sorted
                && b.order.is_some()
                && (plan_only || {
                    let indexes = s.schema().catalog.read().indexes_of(&def.name);
                    let want = b.order.clone().unwrap_or_default();
                    optimizer::delivers_order(&indexes, &chosen.access, &pred, &want)
                });
            if plan_only {
                SourceRun::Rows(Vec::new())
            } else {
                let scn = match as_of {
                    Some(e) => match constant(s, cx, e)? {
                        Value::Int(n) if n >= 0 => Some(Scn(n as u64)),
                        other => {
                            return Err(Error::Sql(format!(
                                "AS OF SCN needs a non-negative integer, got {other}"
                            )))
                        }
                    },
                    None => None,
                };
                // Rows the access delivers in the ORDER BY's order need
                // no sort, so the LIMIT still stops them.
                let stop = b.stop_after.filter(|_| b.keys.is_empty() || plan.sorted);
                // A full scan whose rows stream to the client (nothing
                // that holds them — a sort, grouping or DISTINCT — in
                // between) is resumed by each fetch call, which gets its
                // block again (`operators::run_limited`).
                let streams = !b.grouped && !sel.distinct && (b.keys.is_empty() || plan.sorted);
                let fetch = (chosen.access == Access::Full && streams && cx.fetch_size > 0)
                    .then_some(FetchCalls {
                        skip: b.offset,
                        size: cx.fetch_size,
                    });
                SourceRun::Table {
                    name: name.clone(),
                    pred,
                    access: chosen.access,
                    scn,
                    stop,
                    fetch,
                }
            }
        }
        (From::Series { start, stop }, _) => {
            let a = constant(s, cx, start)?;
            let z = constant(s, cx, stop)?;
            let (Value::Int(a), Value::Int(z)) = (a, z) else {
                return Err(Error::Sql("generate_series needs two integers".into()));
            };
            // i128: `z - a + 1` overflows i64 for the widest ranges.
            let n = (i128::from(z) - i128::from(a) + 1).clamp(0, i128::from(u64::MAX)) as u64;
            plan.rows = n;
            let mut l = line("GENERATE SERIES", None, n, 0);
            l.filter = b.filter.as_ref().map(|e| e.render(&b.names));
            plan.lines.push(l);
            if plan_only {
                SourceRun::Rows(Vec::new())
            } else {
                let stop = b.stop_after.filter(|_| b.keys.is_empty());
                SourceRun::Rows(series(a, z, n, stop, &b.filter)?)
            }
        }
        (From::Join { .. } | From::Derived { .. } | From::Dictionary { .. }, _) => {
            let shape = b
                .join
                .as_ref()
                .ok_or_else(|| Error::Internal("a join without its relations".into()))?;
            let jp = join::plan(
                s,
                cx,
                shape,
                b.filter.as_ref(),
                &b.needed,
                sel.qblock,
                plan_only,
            )?;
            // A run's plan is not shown (EXPLAIN plans afresh), so only
            // EXPLAIN lays out its lines.
            if plan_only {
                let (lines, rows) = jp.explain(shape);
                plan.lines = lines;
                plan.plan_table = rows;
                plan.notes = jp.notes.clone();
            }
            plan.rows = jp.rows;
            plan.cost = jp.cost;
            plan.tree = true;
            SourceRun::Join(jp)
        }
        _ => {
            plan.rows = 1;
            plan.lines.push(line("FAST DUAL", None, 1, 0));
            SourceRun::Rows(if keep(&b.filter, &[])? {
                vec![Vec::new()]
            } else {
                Vec::new()
            })
        }
    };
    Ok(Source { run, plan })
}

/// The rows of `generate_series(a, b)` (`n` values) that pass `filter`,
/// stopping after `stop` of them. A series produces at most
/// [`MAX_SERIES_ROWS`] values: refused at once when it has more and nothing
/// stops it, refused when it reaches that many while a LIMIT is still
/// waiting (a filter that rejects nearly everything).
fn series(a: i64, b: i64, n: u64, stop: Option<usize>, filter: &Option<E>) -> Result<Vec<Row>> {
    let too_many = || {
        Error::Sql(format!(
            "generate_series({a}, {b}) would produce more than {MAX_SERIES_ROWS} rows (the limit for one series; a LIMIT that stops it sooner allows a longer range)"
        ))
    };
    if stop.is_none() && n > MAX_SERIES_ROWS as u64 {
        return Err(too_many());
    }
    let cap = stop.unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity((n as usize).min(cap).min(1 << 16));
    for (produced, v) in (a..=b).enumerate() {
        if out.len() >= cap {
            break;
        }
        if produced >= MAX_SERIES_ROWS {
            return Err(too_many());
        }
        let row = vec![Value::Int(v)];
        if keep(filter, &row)? {
            out.push(row);
        }
    }
    Ok(out)
}

/// Whether `row` passes `filter` (true, not false or NULL).
fn keep(filter: &Option<E>, row: &[Value]) -> Result<bool> {
    Ok(match filter {
        Some(e) => as_bool(&e.eval(row)?) == Some(true),
        None => true,
    })
}

/// The select list of a row, then its ORDER BY key values.
fn project(row: &[Value], b: &Bound) -> Result<Row> {
    let mut vals: Row = Vec::with_capacity(b.items.len() + b.keys.len());
    for i in &b.items {
        vals.push(i.expr.eval(row)?);
    }
    for k in &b.keys {
        let v = match &k.by {
            Key::Item(i) => vals[*i].clone(),
            Key::Expr(e) => e.eval(row)?,
        };
        vals.push(v);
    }
    Ok(vals)
}

/// The number of groups a GROUP BY of table columns makes, from the
/// gathered statistics: the product of the columns' distinct values (one
/// more for a column holding NULLs, which form a group of their own), as
/// Oracle estimates it. `None` (the input's rows are shown) when the block
/// is not grouped by table columns of one analyzed table.
fn group_estimate(s: &Context, b: &Bound) -> Option<u64> {
    if !b.grouped || b.group_by.is_empty() {
        return None;
    }
    let stats = s.schema().stats.get(&b.def.as_ref()?.name)?;
    b.group_by.iter().try_fold(1u64, |groups, e| match e {
        E::Col(p) => {
            let c = &stats.columns.get(*p)?.1;
            Some(groups.saturating_mul(c.ndv + u64::from(c.nulls > 0)))
        }
        _ => None,
    })
}

/// The plan of a SELECT: the statement line, a line per step above the
/// source (aggregate, sort, DISTINCT, STOPKEY), then the source's lines;
/// and the `plan_table` rows, with a second row for a sort. `groups` is
/// the GROUP BY's estimated groups (`group_estimate`), at most the rows
/// that reach it.
fn plan(
    sel: &Select,
    b: &Bound,
    access: SourcePlan,
    need_sort: bool,
    groups: Option<u64>,
) -> Explain {
    let SourcePlan {
        lines,
        plan_table: mut plan_rows,
        notes,
        rows: rows_est,
        cost,
        tree,
        ..
    } = access;
    let grouped = b.grouped;
    let mut top = Vec::new();
    let est_out = if grouped && b.group_by.is_empty() {
        1
    } else {
        groups.map_or(rows_est, |g| g.min(rows_est))
    };
    top.push(line("SELECT STATEMENT", None, est_out, cost));
    if grouped {
        top.push(line(
            if b.group_by.is_empty() {
                "SORT AGGREGATE"
            } else {
                "HASH GROUP BY"
            },
            None,
            est_out,
            cost,
        ));
    }
    if need_sort {
        top.push(line("SORT ORDER BY", None, est_out, cost));
    }
    if sel.distinct {
        top.push(line("HASH UNIQUE", None, est_out, cost));
    }
    if sel.limit.is_some() {
        top.push(line("COUNT STOPKEY", None, est_out, cost));
    }
    let above = top.len();
    let mut all = top;
    all.extend(lines);
    if tree {
        // The steps above the source are a chain; a join's lines keep
        // their depths below it.
        for (i, l) in all.iter_mut().enumerate() {
            l.id = i;
            l.depth = if i < above { i } else { l.depth + above };
        }
    } else {
        // Siblings under an INLIST ITERATOR / TABLE ACCESS nest one deeper
        // each; the chain above is a straight line, so depth = position
        // works.
        number_chain(&mut all);
    }
    if let Some(r) = plan_rows.first_mut() {
        if need_sort {
            r.sortc_orderby = "Y".into();
        }
        if grouped && !b.group_by.is_empty() {
            r.sortc_groupby = "Y".into();
        }
        if sel.distinct {
            r.sortc_uniq = "Y".into();
        }
    }
    if need_sort || (grouped && !b.group_by.is_empty()) || sel.distinct {
        if let Some(first) = plan_rows.first().cloned() {
            plan_rows.push(PlanTableRow {
                planno: 2,
                method: 3,
                tname: String::new(),
                accesstype: String::new(),
                matchcols: 0,
                accessname: String::new(),
                indexonly: "N".into(),
                prefetch: String::new(),
                ..first
            });
            if let Some(r) = plan_rows.first_mut() {
                r.sortc_orderby = "N".into();
                r.sortc_groupby = "N".into();
                r.sortc_uniq = "N".into();
            }
        }
    }
    Explain {
        lines: all,
        plan_table: plan_rows,
        notes,
    }
}
