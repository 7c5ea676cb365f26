//! Joins: a FROM clause of several relations (tables, derived tables,
//! `generate_series`, DUAL), its join order and methods, and the operator
//! tree that runs it (the operators themselves are the execution layer's,
//! `operators::join`).
//!
//! ```text
//!  FROM a, b JOIN c ON … LEFT JOIN d ON …      (ast::From tree)
//!        │ Shape::of: flatten left to right
//!        ▼
//!  rels [a b c d], each with its columns at an offset of the joined row,
//!  d marked outer (its ON kept apart)
//!        │ plan: WHERE + inner ON split into conjuncts, each applied where
//!        │ the last relation it reads joins; one-relation conjuncts pushed
//!        ▼ down to that relation's access path (the optimizer's Choice)
//!  order and methods: dynamic programming over left-deep orders (≤ 6
//!  relations), greedy above; LEADING / ORDERED / USE_NL / USE_HASH /
//!  USE_MERGE hints constrain it
//!        │ tree
//!        ▼
//!  leaf of the first relation ─▶ join 1 ─▶ join 2 ─▶ … (each join takes
//!  the tree so far as its outer input and one relation as its inner)
//! ```
//!
//! A joined row has every relation's columns at fixed offsets, in FROM
//! order, whatever the join order; a relation not joined yet (or the
//! missing side of a LEFT JOIN) is NULLs. So the select list, GROUP BY and
//! ORDER BY are bound once against the whole row (`bind`), and the
//! operators above the join (`select`'s pipeline) do not know there was a
//! join.
//!
//! What each method reads and counts (nested loops probing the inner
//! table per outer row with the join predicates' outer side as constants;
//! hash join with its build size and one-pass spill past `ALTER SESSION
//! SET HASH_AREA_SIZE = n`, 1 MiB by default; sort-merge with both sorts
//! counted; merge join cartesian buffering the inner relation) is the
//! operators' module doc. Here: the leaves — a table by the access path
//! the optimizer chose for it alone (a full scan streams one block at a
//! time; an index range scan is one call), a nested-loops probe that
//! rebuilds the inner predicate from each outer row, and the relations the
//! SQL layer computes (a derived table's query, a dictionary view, a
//! series, DUAL) — and the choice of the hash join's build input: Oracle
//! builds on the smaller input, so a hash join builds on the rows joined
//! so far when they are estimated fewer than the relation's, else on the
//! relation.
//!
//! The order, the methods, the build sides and each relation's access
//! path are chosen at a statement's first execution and kept in its
//! cursor (`cursor`, `Decided`): later executions follow them with their
//! own binds and cost nothing (`follow`), until DDL or ANALYZE on one of
//! the joined tables invalidates the plan. EXPLAIN always optimizes
//! afresh.
//!
//! A whole query reads as of one snapshot, taken when its tree is built,
//! so every nested-loops probe sees the same data (statement-level read
//! consistency), whatever commits meanwhile.
//!
//! Departures, said where they matter: a LEFT JOIN keeps the FROM clause's
//! order (the preserved side first), and its right side must be one
//! relation, not a parenthesized join; a relation the SQL layer computes
//! is held in memory whole; a spilled hash join's temporary blocks are
//! counted but kept in memory (see `operators::join`).

use std::cell::OnceCell;
use std::collections::HashMap;

use super::ast::{BinOp, Expr, From, Hints, JoinKind, Select};
use super::bind::{
    bind, bind_select, column_names, column_types, constant, qualify, table_def, Bound,
};
use super::eval::{as_bool, to_pred, E};
use super::execute::Cx;
use super::explain::{line, PlanLine, PlanTableRow};
use super::optimizer::{self, Choice, Request};
use super::select::{run_bound, select};
use crate::access::Pred;
use crate::catalog::TableDef;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ids::{Scn, Xid};
use crate::operators::{
    self as ops, all_true, Access, Cartesian, Env, Filter, FullScan, HashJoin, JoinSpec, Map,
    MergeJoin, NestedLoops, Node, Once, Operator, Placement, Probe, Rows, TableRead,
};
use crate::txn::Snapshot;
use crate::value::{ColType, Row, Value};

/// The name of the hidden column that carries a table relation's rowid
/// (as an INTEGER, `RowId::to_u64`) when `Cx::rowid_of` names it: no SQL
/// identifier can spell it, and `*` skips it.
pub(crate) const ROWID_COL: &str = "\u{0}rowid";

/// Relations in one FROM clause at most: a join order is a bit set of
/// them.
const MAX_RELS: usize = 64;

/// Exhaustive (dynamic programming) join ordering up to this many
/// relations; greedy above.
const DP_LIMIT: usize = 6;

/// One relation of a FROM clause.
pub(crate) struct Rel {
    /// The name its columns are qualified with: the alias, else the table
    /// name (empty for a derived table without an alias).
    pub(crate) qual: String,
    kind: RelKind,
    /// Column names (empty for a dropped column) and types.
    names: Vec<String>,
    types: Vec<ColType>,
    /// Position of its first column in the joined row.
    offset: usize,
    /// The optional side of a LEFT JOIN.
    outer: bool,
    /// Its rows carry their rowid in a last, hidden column (`ROWID_COL`).
    rowid: bool,
}

enum RelKind {
    Table {
        name: String,
        def: TableDef,
        as_of: Option<Expr>,
    },
    /// A derived table, bound once (`Derived`).
    Derived(Box<Derived>),
    /// A dictionary view's rows, read from the catalog when the query
    /// binds.
    Dictionary(Vec<Row>),
    Series {
        start: Expr,
        stop: Expr,
    },
    Dual,
}

/// A derived table's query (its views merged), its binding — one per
/// execution, so planning it and reading it run its uncorrelated
/// subqueries once — and the plan shown under its VIEW line. A compound
/// query binds arm by arm when it runs, so it has no binding here.
///
/// The plan is made when first asked for: by EXPLAIN, or by an execution
/// that optimizes the join (its estimates weigh this relation). An
/// execution that follows a kept plan never asks, so the query block is
/// planned once, by its own run (`select::prepare`), not twice.
struct Derived {
    sel: Select,
    bound: Option<Bound>,
    explain: OnceCell<super::explain::Explain>,
}

impl Derived {
    /// The plan shown under its VIEW line (made on the first call).
    fn explain(&self, s: &mut Context, cx: &Cx<'_>) -> Result<&super::explain::Explain> {
        if let Some(e) = self.explain.get() {
            return Ok(e);
        }
        let dcx = cx.for_derived();
        let q = match &self.bound {
            Some(b) => run_bound(s, &dcx, &self.sel, b, true)?,
            None => select(s, &dcx, &self.sel, true)?,
        };
        Ok(self.explain.get_or_init(|| q.explain))
    }
}

/// The relations of a FROM clause and its join conditions.
pub(crate) struct Shape {
    rels: Vec<Rel>,
    /// The ON condition of each LEFT JOIN, by the index of its right
    /// relation, bound against the joined row.
    outer_on: Vec<(usize, E)>,
    /// The ON conditions of inner joins, bound: WHERE conditions in all
    /// but name.
    inner_on: Vec<E>,
}

/// The ON conditions as written, while the FROM clause is flattened (they
/// bind once every relation's offset is known).
#[derive(Default)]
struct Written {
    outer_on: Vec<(usize, Expr)>,
    inner_on: Vec<Expr>,
}

impl Shape {
    /// Flattens `from` into its relations, left to right, and binds its ON
    /// conditions against the joined row.
    pub(crate) fn of(s: &mut Context, cx: &Cx<'_>, from: &From) -> Result<Shape> {
        let mut shape = Shape {
            rels: Vec::new(),
            outer_on: Vec::new(),
            inner_on: Vec::new(),
        };
        let mut written = Written::default();
        shape.flatten(s, cx, from, &mut written)?;
        if shape.rels.len() > MAX_RELS {
            return Err(Error::Sql(format!(
                "a FROM clause joins at most {MAX_RELS} relations"
            )));
        }
        let mut offset = 0;
        for r in &mut shape.rels {
            r.offset = offset;
            offset += r.names.len();
        }
        let names = shape.columns().0;
        for (r, e) in written.outer_on {
            shape.outer_on.push((r, bind(s, cx, &e, &names, None)?));
        }
        for e in written.inner_on {
            shape.inner_on.push(bind(s, cx, &e, &names, None)?);
        }
        Ok(shape)
    }

    fn flatten(
        &mut self,
        s: &mut Context,
        cx: &Cx<'_>,
        from: &From,
        written: &mut Written,
    ) -> Result<()> {
        let rel = |qual: String, kind, names: Vec<String>, types| Rel {
            qual,
            kind,
            names,
            types,
            offset: 0,
            outer: false,
            rowid: false,
        };
        match from {
            From::Join {
                left,
                right,
                kind,
                on,
            } => {
                self.flatten(s, cx, left, written)?;
                let first = self.rels.len();
                self.flatten(s, cx, right, written)?;
                match kind {
                    JoinKind::Inner => written.inner_on.extend(on.iter().cloned()),
                    JoinKind::Left => {
                        if self.rels.len() != first + 1 {
                            return Err(Error::Sql(
                                "the right side of a LEFT JOIN must be one table or subquery, not a parenthesized join".into(),
                            ));
                        }
                        self.rels[first].outer = true;
                        if let Some(on) = on {
                            written.outer_on.push((first, on.clone()));
                        }
                    }
                }
            }
            From::Table { name, alias, as_of } => {
                let def = table_def(s, name)?;
                let qual = alias.clone().unwrap_or_else(|| name.clone());
                let (mut names, mut types) = (column_names(&def), column_types(&def));
                let rowid = cx.rowid_of == Some(qual.as_str());
                if rowid {
                    names.push(ROWID_COL.to_string());
                    types.push(ColType::Integer);
                }
                let mut r = rel(
                    qual,
                    RelKind::Table {
                        name: name.clone(),
                        as_of: as_of.clone(),
                        def: def.clone(),
                    },
                    names,
                    types,
                );
                r.rowid = rowid;
                self.rels.push(r);
            }
            From::Derived { select: sub, alias } => {
                // Bound now, for its column names; read with the same
                // binding when the join runs. A compound query is planned
                // now too: its arms bind only then.
                let dcx = cx.for_derived();
                let sel = super::view::expand(s, sub)?.unwrap_or_else(|| (**sub).clone());
                let explain = OnceCell::new();
                let (bound, columns) = if sel.compound.is_empty() {
                    let b = bind_select(s, &dcx, &sel)?;
                    let columns = b.items.iter().map(|i| i.name.clone()).collect();
                    (Some(b), columns)
                } else {
                    let q = select(s, &dcx, &sel, true)?;
                    let _ = explain.set(q.explain);
                    (None, q.columns)
                };
                let types = vec![ColType::Text; columns.len()];
                let derived = Derived {
                    sel,
                    bound,
                    explain,
                };
                self.rels.push(rel(
                    alias.clone().unwrap_or_default(),
                    RelKind::Derived(Box::new(derived)),
                    columns,
                    types,
                ));
            }
            From::Dictionary { name, alias } => {
                let v = crate::catalog::views::view(&s.schema().catalog.read(), name)?.ok_or_else(
                    || Error::NoSuchObject {
                        kind: "table",
                        name: name.clone(),
                    },
                )?;
                let names: Vec<String> = v.columns.iter().map(|c| c.to_ascii_lowercase()).collect();
                // A column's type is its first non-NULL value's.
                let types = (0..names.len())
                    .map(
                        |c| match v.rows.iter().map(|r| &r[c]).find(|x| !x.is_null()) {
                            Some(Value::Int(_)) => ColType::Integer,
                            Some(Value::Real(_)) => ColType::Real,
                            _ => ColType::Text,
                        },
                    )
                    .collect();
                self.rels.push(rel(
                    alias.clone().unwrap_or_else(|| name.clone()),
                    RelKind::Dictionary(v.rows),
                    names,
                    types,
                ));
            }
            From::Series { start, stop } => self.rels.push(rel(
                "generate_series".into(),
                RelKind::Series {
                    start: start.clone(),
                    stop: stop.clone(),
                },
                vec!["value".into()],
                vec![ColType::Integer],
            )),
            From::Dual => self
                .rels
                .push(rel("dual".into(), RelKind::Dual, Vec::new(), Vec::new())),
        }
        Ok(())
    }

    /// The joined row's column names, qualified (`t.c`), and types.
    pub(crate) fn columns(&self) -> (Vec<String>, Vec<ColType>) {
        let mut names = Vec::new();
        let mut types = Vec::new();
        for r in &self.rels {
            names.extend(qualify(&r.names, &r.qual));
            types.extend(&r.types);
        }
        (names, types)
    }

    /// Adds the joined-row columns the ON conditions read to `needed`.
    pub(crate) fn on_columns(&self, needed: &mut Vec<usize>) {
        self.outer_on.iter().for_each(|(_, e)| e.columns(needed));
        self.inner_on.iter().for_each(|e| e.columns(needed));
    }

    /// The query block and binding of relation `r` when it is a derived
    /// table bound here (a compound one binds arm by arm when it runs).
    pub(super) fn derived_block(&self, r: usize) -> Option<(&Select, &Bound)> {
        match &self.rels[r].kind {
            RelKind::Derived(d) => d.bound.as_ref().map(|b| (&d.sel, b)),
            _ => None,
        }
    }

    /// The number of relations.
    pub(super) fn len(&self) -> usize {
        self.rels.len()
    }

    fn width(&self) -> usize {
        self.rels.last().map_or(0, |r| r.offset + r.names.len())
    }

    /// The relation holding joined-row position `col`.
    fn rel_of(&self, col: usize) -> usize {
        self.rels.iter().rposition(|r| r.offset <= col).unwrap_or(0)
    }

    /// The relations `e` reads, as a bit set.
    fn rels_of(&self, e: &E) -> u64 {
        let mut cols = Vec::new();
        e.columns(&mut cols);
        cols.iter().fold(0, |m, &c| m | 1 << self.rel_of(c))
    }
}

/// The terms of an AND chain (the expression itself when it is no AND).
fn conjuncts(e: &E, out: &mut Vec<E>) {
    match e {
        E::Chain(first, rest) if rest.first().is_some_and(|r| r.0 == BinOp::And) => {
            conjuncts(first, out);
            for (_, x) in rest {
                conjuncts(x, out);
            }
        }
        _ => out.push(e.clone()),
    }
}

/// How a step joins its relation to the rows before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    NestedLoops,
    Hash,
    Merge,
    Cartesian,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::NestedLoops => "NESTED LOOPS",
            Method::Hash => "HASH JOIN",
            Method::Merge => "MERGE JOIN",
            Method::Cartesian => "MERGE JOIN CARTESIAN",
        }
    }

    /// The DB2 `plan_table` METHOD: 1 nested loop, 2 merge scan (a
    /// cartesian product is a merge scan with no join columns). DB2 has
    /// no hash join (4 is its hybrid join), so blocklab gives hash join 5.
    fn db2(self) -> u32 {
        match self {
            Method::NestedLoops => 1,
            Method::Merge | Method::Cartesian => 2,
            Method::Hash => 5,
        }
    }
}

/// A conjunct with the relations it reads.
#[derive(Clone)]
struct Conj {
    e: E,
    rels: u64,
    /// From a LEFT JOIN's ON: part of its match condition.
    on_of: Option<usize>,
}

/// One equality join key: the outer side (reads only relations joined
/// before) and the inner side (reads only the relation being joined).
#[derive(Clone)]
struct Key {
    outer: E,
    inner: E,
}

/// How one relation is read on its own (its pushed-down conjuncts).
struct Leaf {
    access: Option<Access>,
    pred: Pred,
    /// Its conjuncts, over the joined row (for non-table relations).
    local: Vec<E>,
    lines: Vec<PlanLine>,
    row: Option<PlanTableRow>,
    rows: u64,
    cost: u64,
    by_rules: bool,
}

/// One join step of the chosen plan.
struct Step {
    rel: usize,
    method: Method,
    keys: Vec<Key>,
    /// Join conjuncts checked on each joined pair (match condition).
    check: Vec<E>,
    /// WHERE conjuncts on a LEFT JOIN's optional side, checked on each
    /// row the step emits (after NULL extension).
    post: Vec<E>,
    /// Nested loops: the conjuncts a probe passes to the inner access
    /// with their outer side as constants (the rest stay in `check`).
    probe: Vec<E>,
    probe_access: Option<Access>,
    probe_lines: Vec<PlanLine>,
    probe_row: Option<PlanTableRow>,
    /// Hash join: the build input is the rows joined so far (the smaller
    /// input by the estimates), not the relation being joined.
    build_outer: bool,
    /// Merge join: the outer input arrives in join-key order (the first
    /// relation read by an index on the key), so it is not sorted.
    outer_sorted: bool,
    rows: u64,
    cost: u64,
    note: Option<String>,
}

/// The plan of a join.
pub(crate) struct JoinPlan {
    first: usize,
    steps: Vec<Step>,
    leaves: Vec<Leaf>,
    /// Conjuncts of no relation: checked once before anything is read.
    constant: Vec<E>,
    pub(crate) rows: u64,
    pub(crate) cost: u64,
    pub(crate) notes: Vec<String>,
}

/// What `plan` decided for one join query block: the join order, each
/// step's method, nested-loops probe access and hash build side, each
/// relation's own access path, and the estimates they were chosen by.
/// The statement's plan keeps it (`cursor::Planner::join`), so that later
/// executions follow it without costing anything (`follow`), whatever
/// their binds, until DDL or ANALYZE on one of its tables invalidates it.
#[derive(Debug)]
pub(crate) struct Decided {
    /// The relations it was decided for, by kind: a table's name, a
    /// derived table's query block (a view's number changes with its
    /// definition), or neither. A shape that no longer fits (a view
    /// redefined) is optimized again.
    rels: Vec<RelId>,
    first: usize,
    /// By relation: its access path read on its own (tables), rows, cost.
    leaves: Vec<(Option<Access>, u64, u64)>,
    steps: Vec<StepDecided>,
    rows: u64,
    cost: u64,
}

/// What a kept plan knows of one relation (`Decided::rels`).
#[derive(Debug, PartialEq, Eq)]
enum RelId {
    Table(String),
    Derived(usize),
    Other,
}

impl RelId {
    fn of(r: &Rel) -> RelId {
        match &r.kind {
            RelKind::Table { name, .. } => RelId::Table(name.clone()),
            RelKind::Derived(d) => RelId::Derived(d.sel.qblock),
            _ => RelId::Other,
        }
    }
}

/// One join step as decided (`Step`, without its conjuncts, which are
/// bound again with each execution's binds).
#[derive(Debug)]
struct StepDecided {
    rel: usize,
    method: Method,
    probe_access: Option<Access>,
    build_outer: bool,
    outer_sorted: bool,
    rows: u64,
    cost: u64,
}

impl Decided {
    fn of(jp: &JoinPlan, shape: &Shape) -> Decided {
        Decided {
            rels: shape.rels.iter().map(RelId::of).collect(),
            first: jp.first,
            leaves: jp
                .leaves
                .iter()
                .map(|l| (l.access.clone(), l.rows, l.cost))
                .collect(),
            steps: jp
                .steps
                .iter()
                .map(|st| StepDecided {
                    rel: st.rel,
                    method: st.method,
                    probe_access: st.probe_access.clone(),
                    build_outer: st.build_outer,
                    outer_sorted: st.outer_sorted,
                    rows: st.rows,
                    cost: st.cost,
                })
                .collect(),
            rows: jp.rows,
            cost: jp.cost,
        }
    }

    /// Whether the decisions were made for the relations of `shape`.
    fn fits(&self, shape: &Shape) -> bool {
        self.rels.len() == shape.rels.len()
            && self
                .rels
                .iter()
                .zip(&shape.rels)
                .all(|(id, r)| match (&r.kind, id) {
                    (RelKind::Table { name, .. }, RelId::Table(n)) => n == name,
                    (RelKind::Table { .. }, _) => false,
                    _ => *id == RelId::of(r),
                })
    }
}

/// The plan of the join of `shape` as `d` decided it, the conjuncts of
/// `split` (bound with this execution's binds) placed where its steps put
/// them; `None` if they do not fit (a hash or merge step without its
/// equality keys). Nothing is costed: the estimates are those `d` was
/// chosen by, and the plan has no lines (EXPLAIN optimizes afresh).
fn follow(shape: &Shape, split: &Split, d: &Decided) -> Option<JoinPlan> {
    let Split {
        constant,
        local,
        joining,
        ..
    } = split;
    let mut leaves = Vec::with_capacity(shape.rels.len());
    for (i, (r, conjs)) in shape.rels.iter().zip(local.iter()).enumerate() {
        let (access, rows, cost) = d.leaves[i].clone();
        let one = match &r.kind {
            RelKind::Table { .. } => {
                let terms: Vec<E> = conjs.iter().map(|e| e.remap(&|c| c - r.offset)).collect();
                Leaf {
                    access,
                    pred: and_pred(&terms, &r.names, &r.types),
                    local: conjs.clone(),
                    lines: Vec::new(),
                    row: None,
                    rows,
                    cost,
                    by_rules: false,
                }
            }
            // Read in memory: nothing to choose (and a derived table's
            // plan not asked for).
            _ => in_memory(Vec::new(), rows, cost, conjs, shape).0,
        };
        leaves.push(one);
    }
    let mut steps = Vec::with_capacity(d.steps.len());
    let mut joined: u64 = 1 << d.first;
    for sd in &d.steps {
        let r = sd.rel;
        let here: Vec<Conj> = joining
            .iter()
            .filter(|c| c.rels & (1 << r) != 0 && c.rels & !(joined | 1 << r) == 0)
            .cloned()
            .collect();
        let mut st = Terms::of(shape, r, joined, &here).step(shape, r, sd.method);
        if matches!(sd.method, Method::Hash | Method::Merge) && st.keys.is_empty() {
            return None;
        }
        st.probe_access = sd.probe_access.clone();
        st.build_outer = sd.build_outer;
        st.outer_sorted = sd.outer_sorted;
        (st.rows, st.cost) = (sd.rows, sd.cost);
        joined |= 1 << r;
        steps.push(st);
    }
    Some(JoinPlan {
        first: d.first,
        steps,
        leaves,
        constant: constant.clone(),
        rows: d.rows,
        cost: d.cost,
        notes: Vec::new(),
    })
}

/// What the optimizer knows of a relation for costing joins.
struct RelInfo {
    rows: u64,
    cost: u64,
    /// Distinct values per joined-row column of this relation (`None`
    /// without statistics).
    ndv: HashMap<usize, u64>,
}

/// The conjuncts of a join's WHERE clause and ON conditions, sorted by
/// where they apply.
struct Split {
    /// Conjuncts of no relation: checked once before anything is read.
    constant: Vec<E>,
    /// Each relation's own conjuncts, pushed down to its access path.
    local: Vec<Vec<E>>,
    /// The conjuncts of several relations, applied by the join step that
    /// adds the last of them.
    joining: Vec<Conj>,
    /// The optional sides of LEFT JOINs, as a bit set.
    outer_mask: u64,
}

/// Plans the join of `shape` (query block `qblock`) with the WHERE clause
/// `filter`; `needed` are the joined-row columns the statement reads.
///
/// With `fresh` (EXPLAIN) the optimizer chooses, and nothing is kept. A
/// run follows the decisions the statement's plan keeps for the block
/// (`cursor::Planner::join`): no order, method or access path is costed
/// again; without them it chooses, and keeps what it chose.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    s: &mut Context,
    cx: &Cx<'_>,
    shape: &Shape,
    filter: Option<&E>,
    needed: &[usize],
    qblock: usize,
    fresh: bool,
) -> Result<JoinPlan> {
    let split = split(shape, filter);
    let areas = (s.work_area(), s.sort_area());
    if fresh {
        return optimize(s, cx, shape, split, needed, true);
    }
    if let Some(d) = cx.planner.join(qblock, areas).filter(|d| d.fits(shape)) {
        if let Some(jp) = follow(shape, &split, &d) {
            return Ok(jp);
        }
    }
    // The versions as read before choosing: DDL racing the choice leaves
    // them old, so the plan is simply invalid next time.
    let depends: Vec<(String, u64)> = shape
        .rels
        .iter()
        .filter_map(|r| match &r.kind {
            RelKind::Table { name, .. } => Some((name.clone(), s.schema().version(name))),
            _ => None,
        })
        .collect();
    let jp = optimize(s, cx, shape, split, needed, false)?;
    cx.planner
        .keep_join(qblock, areas, depends, Decided::of(&jp, shape));
    Ok(jp)
}

/// Sorts the conjuncts of `filter` and of the ON conditions by the
/// relations they read.
fn split(shape: &Shape, filter: Option<&E>) -> Split {
    let n = shape.rels.len();
    // Every conjunct, with the relations it reads.
    let mut conjs: Vec<Conj> = Vec::new();
    let mut all = Vec::new();
    if let Some(f) = filter {
        conjuncts(f, &mut all);
    }
    for e in &shape.inner_on {
        conjuncts(e, &mut all);
    }
    for e in all {
        let rels = shape.rels_of(&e);
        conjs.push(Conj {
            e,
            rels,
            on_of: None,
        });
    }
    for (r, e) in &shape.outer_on {
        let mut v = Vec::new();
        conjuncts(e, &mut v);
        for e in v {
            // Part of the match condition of the join that adds `r`,
            // even when it reads no column of `r` (`ON 1 = 0`).
            let rels = shape.rels_of(&e) | 1 << r;
            conjs.push(Conj {
                e,
                rels,
                on_of: Some(*r),
            });
        }
    }
    let outer_mask: u64 = shape
        .rels
        .iter()
        .enumerate()
        .filter(|(_, r)| r.outer)
        .fold(0, |m, (i, _)| m | 1 << i);

    // Pushed down: a conjunct of one relation, unless it is a WHERE
    // condition on the optional side of a LEFT JOIN (that one must see the
    // NULLs the join adds).
    let mut constant = Vec::new();
    let mut local: Vec<Vec<E>> = vec![Vec::new(); n];
    let mut joining: Vec<Conj> = Vec::new();
    for c in conjs {
        match (c.rels.count_ones(), c.on_of) {
            (0, None) => constant.push(c.e),
            (1, Some(r)) if c.rels == 1 << r => local[r].push(c.e),
            (1, None) if c.rels & outer_mask == 0 => {
                local[c.rels.trailing_zeros() as usize].push(c.e)
            }
            _ => joining.push(c),
        }
    }

    Split {
        constant,
        local,
        joining,
        outer_mask,
    }
}

/// Chooses the join order, each step's method and build side, and each
/// relation's access path by cost (`lines`: with the plan lines EXPLAIN
/// shows).
fn optimize(
    s: &mut Context,
    cx: &Cx<'_>,
    shape: &Shape,
    split: Split,
    needed: &[usize],
    lines: bool,
) -> Result<JoinPlan> {
    let n = shape.rels.len();
    let Split {
        constant,
        local,
        joining,
        outer_mask,
    } = split;

    // Each relation on its own.
    let mut leaves = Vec::with_capacity(n);
    let mut info = Vec::with_capacity(n);
    for (i, conjs) in local.iter().enumerate() {
        let (leaf, ri) = leaf(s, cx, shape, i, conjs, needed, &[])?;
        leaves.push(leaf);
        info.push(ri);
    }

    let mut notes = Vec::new();
    for (i, l) in leaves.iter().enumerate() {
        if l.by_rules {
            if let RelKind::Table { name, .. } = &shape.rels[i].kind {
                notes.push(format!(
                    "no statistics on {name}: its access path was chosen by rules and the costs use defaults (ANALYZE TABLE {name} to cost it)"
                ));
            }
        }
    }

    // The order: fixed by a LEFT JOIN or ORDERED, led by LEADING, else by
    // cost.
    let hints = cx.hints;
    let fixed = outer_mask != 0 || hints.ordered;
    let leading: Vec<usize> = hints
        .leading
        .iter()
        .filter_map(|t| shape.rels.iter().position(|r| r.qual == *t))
        .collect();
    if outer_mask != 0 && (hints.ordered || !hints.leading.is_empty()) {
        notes
            .push("LEADING/ORDERED ignored: a LEFT JOIN keeps the order of the FROM clause".into());
    }
    let order: Vec<usize> = if fixed {
        (0..n).collect()
    } else {
        choose_order(s, cx, shape, &info, &joining, &local, needed, &leading)?
    };

    // The steps along the order, each with its method.
    let mut steps = Vec::new();
    let mut joined: u64 = 1 << order[0];
    let mut rows = info[order[0]].rows;
    let mut cost = info[order[0]].cost;
    for &r in &order[1..] {
        let here: Vec<Conj> = joining
            .iter()
            .filter(|c| c.rels & (1 << r) != 0 && c.rels & !(joined | 1 << r) == 0)
            .cloned()
            .collect();
        let st = step(
            s, cx, shape, r, joined, rows, cost, &here, &info, &local[r], needed, lines,
        )?;
        if let Some(n) = &st.note {
            notes.push(n.clone());
        }
        rows = st.rows;
        cost = st.cost;
        joined |= 1 << r;
        steps.push(st);
    }
    // Oracle skips the first input's SORT JOIN when the rows arrive in
    // join-key order from an index: here the first relation's.
    // Every step's cost includes the one before it, so the sort not done
    // comes off them all.
    if let Some(st) = steps.first_mut().filter(|st| st.method == Method::Merge) {
        st.outer_sorted = in_key_order(s, shape, &leaves[order[0]], order[0], &st.keys);
        if st.outer_sorted {
            let saved = cpu(info[order[0]].rows);
            for st in &mut steps {
                st.cost = st.cost.saturating_sub(saved);
            }
            cost = cost.saturating_sub(saved);
        }
    }
    Ok(JoinPlan {
        first: order[0],
        steps,
        leaves,
        constant,
        rows,
        cost,
        notes,
    })
}

/// Whether relation `r`, read as `leaf` says, delivers its rows in the
/// order of the outer sides of `keys` (each a column of `r`).
fn in_key_order(s: &Context, shape: &Shape, leaf: &Leaf, r: usize, keys: &[Key]) -> bool {
    let rel = &shape.rels[r];
    let (RelKind::Table { def, .. }, Some(access)) = (&rel.kind, &leaf.access) else {
        return false;
    };
    let mut order = Vec::with_capacity(keys.len());
    for k in keys {
        match k.outer {
            E::Col(c) if c >= rel.offset && c < rel.offset + rel.names.len() => {
                order.push((c - rel.offset, false, false));
            }
            _ => return false,
        }
    }
    let indexes = s.schema().catalog.read().indexes_of(&def.name);
    !order.is_empty() && optimizer::delivers_order(&indexes, access, &leaf.pred, &order)
}

/// A relation read on its own with conjuncts `local` (over the joined
/// row) plus `probe` (nested-loops join predicates whose outer side is a
/// placeholder): its access path and estimates.
fn leaf(
    s: &mut Context,
    cx: &Cx<'_>,
    shape: &Shape,
    i: usize,
    local: &[E],
    needed: &[usize],
    probe: &[E],
) -> Result<(Leaf, RelInfo)> {
    let r = &shape.rels[i];
    let to_local = |e: &E| e.remap(&|c| c - r.offset);
    match &r.kind {
        RelKind::Table { def, .. } => {
            let terms: Vec<E> = local.iter().chain(probe).map(to_local).collect();
            let pred = and_pred(&terms, &r.names, &r.types);
            let mut needed_here: Vec<usize> = needed
                .iter()
                .filter(|&&c| c >= r.offset && c < r.offset + r.names.len())
                .map(|c| c - r.offset)
                .collect();
            if r.rowid {
                // A row to change is reached in its table, never only in
                // an index.
                needed_here = (0..def.columns.len()).collect();
            }
            let (indexes, unique_keys) = {
                let cat = s.schema().catalog.read();
                (cat.indexes_of(&def.name), cat.unique_keys_of(&def.name))
            };
            let stats = s.schema().stats.get(&def.name);
            let ndv = match &stats {
                Some(st) => (0..r.names.len())
                    .filter_map(|c| st.column_stats(c).map(|cs| (r.offset + c, cs.ndv.max(1))))
                    .collect(),
                None => HashMap::new(),
            };
            let choice: Choice = optimizer::choose(Request {
                def,
                alias: Some(&r.qual),
                indexes: &indexes,
                unique_keys: &unique_keys,
                stats,
                pred: &pred,
                hints: cx.hints,
                needed: &needed_here,
                order: &[],
            });
            let info = RelInfo {
                rows: choice.rows.max(1),
                cost: choice.cost.max(1),
                ndv,
            };
            Ok((
                Leaf {
                    access: Some(choice.access),
                    pred,
                    local: local.to_vec(),
                    lines: chain(choice.lines),
                    row: Some(choice.row),
                    rows: choice.rows,
                    cost: choice.cost,
                    by_rules: choice.by_rules,
                },
                info,
            ))
        }
        // A relation read in memory: its plan lines, its rows and cost.
        RelKind::Derived(d) => {
            let explain = d.explain(s, cx)?;
            let top = explain.lines.first();
            let (rows, cost) = top.map_or((1, 1), |l| (l.rows, l.cost));
            let mut lines = vec![line("VIEW", Some(&r.qual), rows, cost)];
            for l in explain.lines.iter().skip(1) {
                let mut l = l.clone();
                l.depth = l.depth.saturating_sub(1) + 1;
                lines.push(l);
            }
            Ok(in_memory(lines, rows, cost, local, shape))
        }
        RelKind::Dictionary(rows) => {
            let n = rows.len() as u64;
            let l = line("FIXED TABLE FULL", Some(&r.qual), n, 0);
            Ok(in_memory(vec![l], n, 0, local, shape))
        }
        RelKind::Series { start, stop } => {
            let n = match (constant(s, cx, start)?, constant(s, cx, stop)?) {
                (Value::Int(a), Value::Int(z)) => {
                    (i128::from(z) - i128::from(a) + 1).clamp(0, i128::from(u64::MAX)) as u64
                }
                _ => return Err(Error::Sql("generate_series needs two integers".into())),
            };
            let l = line("GENERATE SERIES", None, n, 0);
            Ok(in_memory(vec![l], n, 0, local, shape))
        }
        RelKind::Dual => Ok(in_memory(
            vec![line("FAST DUAL", None, 1, 0)],
            1,
            0,
            local,
            shape,
        )),
    }
}

/// A relation that is not a table (a derived table, a dictionary view,
/// `generate_series`, DUAL): no access path, its rows held in memory and
/// its pushed-down conjuncts `local` checked on each, shown as the filter
/// of its first plan line.
fn in_memory(
    mut lines: Vec<PlanLine>,
    rows: u64,
    cost: u64,
    local: &[E],
    shape: &Shape,
) -> (Leaf, RelInfo) {
    if let Some(first) = lines.first_mut() {
        first.filter = render_all(local, &shape.columns().0);
    }
    (
        Leaf {
            access: None,
            pred: Pred::And(Vec::new()),
            local: local.to_vec(),
            lines,
            row: None,
            rows,
            cost,
            by_rules: false,
        },
        RelInfo {
            rows: rows.max(1),
            cost: cost.max(1),
            ndv: HashMap::new(),
        },
    )
}

/// Plan lines of one access, each one deeper than the one before (the
/// optimizer's lines are a chain).
fn chain(mut lines: Vec<PlanLine>) -> Vec<PlanLine> {
    for (i, l) in lines.iter_mut().enumerate() {
        l.depth = i;
    }
    lines
}

/// The predicate of an AND of `terms` (over a table's own columns).
fn and_pred(terms: &[E], names: &[String], types: &[ColType]) -> Pred {
    match terms {
        [] => Pred::And(Vec::new()),
        [t] => to_pred(t, names, types),
        _ => Pred::And(terms.iter().map(|t| to_pred(t, names, types)).collect()),
    }
}

fn render_all(terms: &[E], names: &[String]) -> Option<String> {
    (!terms.is_empty()).then(|| {
        terms
            .iter()
            .map(|t| t.render(names))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// The equality keys among `conjs` for joining relation `r` to the
/// relations `before`: `outer = inner` where each side reads only its own.
fn keys_of(shape: &Shape, conjs: &[Conj], r: usize, before: u64) -> (Vec<Key>, Vec<E>) {
    let mut keys = Vec::new();
    let mut rest = Vec::new();
    for c in conjs {
        if let E::Bin(BinOp::Eq, a, b) = &c.e {
            let (ra, rb) = (shape.rels_of(a), shape.rels_of(b));
            let inner = 1u64 << r;
            if ra == inner && rb != 0 && rb & !before == 0 {
                keys.push(Key {
                    outer: (**b).clone(),
                    inner: (**a).clone(),
                });
                continue;
            }
            if rb == inner && ra != 0 && ra & !before == 0 {
                keys.push(Key {
                    outer: (**a).clone(),
                    inner: (**b).clone(),
                });
                continue;
            }
        }
        rest.push(c.e.clone());
    }
    (keys, rest)
}

/// A placeholder value for outer column `col` in a nested-loops probe
/// predicate at plan time: a value of the column's type that no row is
/// likely to hold (the plan is costed as if for a bind variable), and one
/// of its own per column, so that EXPLAIN can show each as the column it
/// stands for (`rename_placeholders`).
fn placeholder(col: usize, ty: ColType) -> Value {
    match ty {
        ColType::Integer => Value::Int(i64::MIN + 7 + col as i64),
        ColType::Real => Value::Real(-1.0e300 / (col as f64 + 1.0)),
        ColType::Text => Value::Text(format!("\u{1}:outer{col}")),
    }
}

/// The selectivity of one join conjunct: an equality between columns is
/// 1 / max(NDV) (each side's NDV from ANALYZE, else the relation's rows);
/// anything else 1/20.
fn join_selectivity(c: &E, shape: &Shape, info: &[RelInfo]) -> f64 {
    if let E::Bin(BinOp::Eq, a, b) = c {
        if let (E::Col(x), E::Col(y)) = (&**a, &**b) {
            let ndv = |col: usize| {
                let r = shape.rel_of(col);
                info[r].ndv.get(&col).copied().unwrap_or(info[r].rows)
            };
            return 1.0 / ndv(*x).max(ndv(*y)).max(1) as f64;
        }
        return 0.01;
    }
    0.05
}

/// The estimated encoded size of a joined row in which the relations of
/// `set` are filled (9 bytes a column, as a number is encoded) and the
/// others NULL (1 byte a column): what a hash build or a sort holds.
fn joined_row_bytes(shape: &Shape, set: u64) -> u64 {
    let cols: u64 = shape
        .rels
        .iter()
        .enumerate()
        .map(|(i, rel)| rel.names.len() as u64 * if set & (1 << i) != 0 { 9 } else { 1 })
        .sum();
    2 + cols
}

/// Temporary blocks holding `bytes` (8 KiB each, as the operators write
/// them).
fn temp_blocks(bytes: u64) -> u64 {
    bytes.div_ceil(8192)
}

/// Rows sorted or hashed per cost unit: the optimizer's ORDER BY term.
fn cpu(rows: u64) -> u64 {
    rows.div_ceil(100)
}

/// The cheapest way to join relation `r` to the rows of `before`
/// (estimated `rows` at `cost`), honouring the USE_* hints.
#[allow(clippy::too_many_arguments)]
fn step(
    s: &mut Context,
    cx: &Cx<'_>,
    shape: &Shape,
    r: usize,
    before: u64,
    rows: u64,
    cost: u64,
    conjs: &[Conj],
    info: &[RelInfo],
    local: &[E],
    needed: &[usize],
    with_lines: bool,
) -> Result<Step> {
    let rel = &shape.rels[r];
    let outer_join = rel.outer;
    let terms = Terms::of(shape, r, before, conjs);
    let (matching, keys) = (&terms.matching, &terms.keys);
    let sel: f64 = matching
        .iter()
        .map(|c| join_selectivity(&c.e, shape, info))
        .product();
    let out_rows = ((rows as f64) * (info[r].rows as f64) * sel)
        .ceil()
        .max(1.0) as u64;
    let out_rows = if outer_join {
        out_rows.max(rows)
    } else {
        out_rows
    };

    // Nested loops: the join conjuncts become the inner access's
    // predicate, their outer columns placeholders.
    let is_table = matches!(rel.kind, RelKind::Table { .. });
    let (nl_cost, probe_leaf) = if is_table {
        let types = shape.columns().1;
        let placeheld: Vec<E> = matching
            .iter()
            .map(|c| {
                c.e.map_cols(&|c| {
                    if c >= rel.offset && c < rel.offset + rel.names.len() {
                        E::Col(c)
                    } else {
                        E::Const(placeholder(c, types[c]))
                    }
                })
            })
            .collect();
        let (pl, pi) = leaf(s, cx, shape, r, local, needed, &placeheld)?;
        (
            cost.saturating_add(rows.saturating_mul(pi.cost.max(1))),
            Some(pl),
        )
    } else {
        (
            cost.saturating_add(rows.saturating_mul(info[r].cost.max(1))),
            None,
        )
    };
    let inner_cost = info[r].cost;
    // The work areas: a hash build (on the smaller input) or a sort larger
    // than its area is written to temporary blocks and read back once, one
    // cost unit per block each way.
    let inner = 1u64 << r;
    let (build, probed) = if rows < info[r].rows {
        ((rows, before), (info[r].rows, inner))
    } else {
        ((info[r].rows, inner), (rows, before))
    };
    let bytes = |(n, set): (u64, u64)| n.saturating_mul(joined_row_bytes(shape, set));
    let hash_spill = if bytes(build) > s.work_area() {
        2 * (temp_blocks(bytes(build)) + temp_blocks(bytes(probed)))
    } else {
        0
    };
    let sort_spill = |input: (u64, u64)| {
        if bytes(input) > s.sort_area() {
            2 * temp_blocks(bytes(input))
        } else {
            0
        }
    };
    let hash_cost = cost + inner_cost + cpu(rows + info[r].rows) + hash_spill;
    let merge_cost = cost
        + inner_cost
        + cpu(rows)
        + cpu(info[r].rows)
        + cpu(rows + info[r].rows)
        + sort_spill((rows, before))
        + sort_spill((info[r].rows, inner));
    let cart_cost = cost + inner_cost + cpu(info[r].rows) + cpu(rows.saturating_mul(info[r].rows));

    let mut candidates: Vec<(Method, u64)> = vec![(Method::NestedLoops, nl_cost)];
    if !keys.is_empty() {
        candidates.push((Method::Hash, hash_cost));
        if !outer_join {
            candidates.push((Method::Merge, merge_cost));
        }
    } else {
        candidates.push((Method::Cartesian, cart_cost));
    }
    let hinted = |list: &[String]| list.contains(&rel.qual);
    let hints: &Hints = cx.hints;
    let wanted = if hinted(&hints.use_nl) {
        Some((Method::NestedLoops, "USE_NL"))
    } else if hinted(&hints.use_hash) {
        Some((Method::Hash, "USE_HASH"))
    } else if hinted(&hints.use_merge) {
        Some((Method::Merge, "USE_MERGE"))
    } else {
        None
    };
    let mut note = None;
    let chosen = match wanted {
        Some((m, name)) => match candidates.iter().find(|c| c.0 == m) {
            Some(c) => *c,
            None => {
                note = Some(format!(
                    "{name}({}) ignored: {}",
                    rel.qual,
                    if outer_join && m == Method::Merge {
                        "a LEFT JOIN is not run as a merge join here"
                    } else {
                        "no equality join predicate to join on"
                    }
                ));
                cheapest(&candidates)
            }
        },
        None => cheapest(&candidates),
    };
    let (method, step_cost) = chosen;
    let mut st = terms.step(shape, r, method);
    if let (Method::NestedLoops, Some(pl)) = (method, probe_leaf) {
        st.probe_lines = if with_lines {
            rename_placeholders(pl.lines, shape, &st.probe, rel)
        } else {
            Vec::new()
        };
        st.probe_access = pl.access;
        st.probe_row = pl.row;
    }
    // Oracle builds on the smaller input: here the rows so far when they
    // are estimated fewer than the relation's, unless a
    // [NO_]SWAP_JOIN_INPUTS hint says which.
    st.build_outer = method == Method::Hash
        && !hinted(&hints.swap_join_inputs)
        && (hinted(&hints.no_swap_join_inputs) || rows < info[r].rows);
    st.rows = out_rows;
    st.cost = step_cost;
    st.note = note;
    Ok(st)
}

/// The conjuncts of a step that joins relation `r` to the relations
/// `before`, sorted by the part they play.
struct Terms {
    /// The match condition (for a LEFT JOIN: its ON conjuncts).
    matching: Vec<Conj>,
    /// WHERE conjuncts on a LEFT JOIN's optional side: they apply after
    /// NULL extension.
    post: Vec<E>,
    /// The equality keys among `matching`, and the rest of it.
    keys: Vec<Key>,
    rest: Vec<E>,
}

impl Terms {
    fn of(shape: &Shape, r: usize, before: u64, conjs: &[Conj]) -> Terms {
        let outer_join = shape.rels[r].outer;
        let (matching, post): (Vec<Conj>, Vec<Conj>) = conjs
            .iter()
            .cloned()
            .partition(|c| !outer_join || c.on_of == Some(r));
        let (keys, rest) = keys_of(shape, &matching, r, before);
        Terms {
            matching,
            post: post.into_iter().map(|c| c.e).collect(),
            keys,
            rest,
        }
    }

    /// The step joining relation `r` by `method`: where each conjunct
    /// goes. Its estimates, its nested-loops probe access and its hash
    /// build side are the caller's to fill in.
    fn step(self, shape: &Shape, r: usize, method: Method) -> Step {
        let is_table = matches!(shape.rels[r].kind, RelKind::Table { .. });
        let matching = || self.matching.iter().map(|c| c.e.clone()).collect();
        let (check, probe) = match method {
            // A table probed per outer row takes the whole match condition
            // into its predicate; a relation read again per outer row has it
            // checked on each pair.
            Method::NestedLoops if is_table => (Vec::new(), matching()),
            Method::NestedLoops => (matching(), Vec::new()),
            _ => (self.rest, Vec::new()),
        };
        Step {
            rel: r,
            method,
            keys: if matches!(method, Method::Hash | Method::Merge) {
                self.keys
            } else {
                Vec::new()
            },
            check,
            post: self.post,
            probe,
            probe_access: None,
            probe_lines: Vec::new(),
            probe_row: None,
            build_outer: false,
            outer_sorted: false,
            rows: 0,
            cost: 0,
            note: None,
        }
    }
}

fn cheapest(c: &[(Method, u64)]) -> (Method, u64) {
    let mut best = c[0];
    for x in &c[1..] {
        if x.1 < best.1 {
            best = *x;
        }
    }
    best
}

/// The nested-loops inner access lines with each placeholder shown as the
/// outer column it stands for.
fn rename_placeholders(
    lines: Vec<PlanLine>,
    shape: &Shape,
    probe: &[E],
    rel: &Rel,
) -> Vec<PlanLine> {
    let (names, types) = shape.columns();
    let mut outer_cols = Vec::new();
    for e in probe {
        let mut cols = Vec::new();
        e.columns(&mut cols);
        outer_cols.extend(
            cols.into_iter()
                .filter(|&c| c < rel.offset || c >= rel.offset + rel.names.len()),
        );
    }
    // Each outer column has a placeholder of its own; the longest text is
    // replaced first, so that no placeholder is taken for part of another.
    outer_cols.sort_unstable();
    outer_cols.dedup();
    let mut shown: Vec<(String, &String)> = outer_cols
        .iter()
        .map(|&c| {
            let text = match placeholder(c, types[c]) {
                Value::Text(x) => format!("'{x}'"),
                v => v.to_string(),
            };
            (text, &names[c])
        })
        .collect();
    shown.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
    let fix = |t: &mut Option<String>| {
        if let Some(text) = t {
            for (placeholder, name) in &shown {
                *text = text.replace(placeholder.as_str(), name);
            }
        }
    };
    lines
        .into_iter()
        .map(|mut l| {
            fix(&mut l.access);
            fix(&mut l.screening);
            fix(&mut l.filter);
            l
        })
        .collect()
}

/// The join order by cost: dynamic programming over left-deep orders up
/// to [`DP_LIMIT`] relations, greedy above; `leading` relations first.
#[allow(clippy::too_many_arguments)]
fn choose_order(
    s: &mut Context,
    cx: &Cx<'_>,
    shape: &Shape,
    info: &[RelInfo],
    joining: &[Conj],
    local: &[Vec<E>],
    needed: &[usize],
    leading: &[usize],
) -> Result<Vec<usize>> {
    let n = shape.rels.len();
    if n == 1 {
        return Ok(vec![0]);
    }
    // (cost, rows, order) of the best left-deep order of each set.
    let extend =
        |s: &mut Context, set: u64, rows: u64, cost: u64, r: usize| -> Result<(u64, u64)> {
            let here: Vec<Conj> = joining
                .iter()
                .filter(|c| c.rels & (1 << r) != 0 && c.rels & !(set | 1 << r) == 0)
                .cloned()
                .collect();
            let st = step(
                s, cx, shape, r, set, rows, cost, &here, info, &local[r], needed, false,
            )?;
            Ok((st.cost, st.rows))
        };
    let allowed = |len: usize, r: usize| match leading.get(len) {
        Some(&l) => l == r,
        None => !leading.contains(&r),
    };
    if n <= DP_LIMIT {
        let mut best: HashMap<u64, (u64, u64, Vec<usize>)> = HashMap::new();
        for (r, i) in info.iter().enumerate() {
            if allowed(0, r) {
                best.insert(1 << r, (i.cost, i.rows, vec![r]));
            }
        }
        for size in 1..n {
            let mut sets: Vec<u64> = best
                .keys()
                .copied()
                .filter(|k| k.count_ones() as usize == size)
                .collect();
            sets.sort_unstable();
            for set in sets {
                let (cost, rows, order) = best[&set].clone();
                for r in 0..n {
                    if set & (1 << r) != 0 || !allowed(size, r) {
                        continue;
                    }
                    let (c, rw) = extend(s, set, rows, cost, r)?;
                    let key = set | 1 << r;
                    let better = best.get(&key).is_none_or(|b| c < b.0);
                    if better {
                        let mut o = order.clone();
                        o.push(r);
                        best.insert(key, (c, rw, o));
                    }
                }
            }
        }
        let full = (1u64 << n) - 1;
        return best
            .remove(&full)
            .map(|b| b.2)
            .ok_or_else(|| Error::Internal("no join order".into()));
    }
    // Greedy: the cheapest relation first, then the cheapest extension.
    let mut order = Vec::with_capacity(n);
    let first = (0..n)
        .filter(|&r| allowed(0, r))
        .min_by_key(|&r| (info[r].cost, info[r].rows))
        .unwrap_or(0);
    order.push(first);
    let (mut set, mut rows, mut cost) = (1u64 << first, info[first].rows, info[first].cost);
    while order.len() < n {
        let mut pick: Option<(u64, u64, usize)> = None;
        for r in 0..n {
            if set & (1 << r) != 0 || !allowed(order.len(), r) {
                continue;
            }
            let (c, rw) = extend(s, set, rows, cost, r)?;
            if pick.is_none_or(|p| c < p.0) {
                pick = Some((c, rw, r));
            }
        }
        let (c, rw, r) = pick.ok_or_else(|| Error::Internal("no join order".into()))?;
        order.push(r);
        set |= 1 << r;
        rows = rw;
        cost = c;
    }
    Ok(order)
}

impl JoinPlan {
    /// The plan's lines, parents first, depths relative to the join's top
    /// line, and its `plan_table` rows in join order.
    pub(crate) fn explain(&self, shape: &Shape) -> (Vec<PlanLine>, Vec<PlanTableRow>) {
        let names = shape.columns().0;
        let mut lines = Vec::new();
        self.lines_of(self.steps.len(), 0, shape, &names, &mut lines);
        let mut rows = Vec::new();
        let order = std::iter::once(self.first).chain(self.steps.iter().map(|s| s.rel));
        for (i, r) in order.enumerate() {
            let step = i.checked_sub(1).map(|k| &self.steps[k]);
            let base = step
                .and_then(|st| st.probe_row.clone())
                .or_else(|| self.leaves[r].row.clone());
            let mut row = base.unwrap_or_else(|| PlanTableRow {
                queryno: 1,
                qblockno: 1,
                planno: 0,
                method: 0,
                tname: shape.rels[r].qual.to_uppercase(),
                accesstype: "R".into(),
                matchcols: 0,
                accessname: String::new(),
                indexonly: "N".into(),
                prefetch: String::new(),
                sortn_join: "N".into(),
                sortc_uniq: "N".into(),
                sortc_join: "N".into(),
                sortc_orderby: "N".into(),
                sortc_groupby: "N".into(),
                cost: self.leaves[r].cost,
            });
            row.planno = i as u32 + 1;
            row.method = step.map_or(0, |st| st.method.db2());
            let sorted =
                step.is_some_and(|st| matches!(st.method, Method::Merge | Method::Cartesian));
            row.sortn_join = if sorted { "Y" } else { "N" }.into();
            row.sortc_join =
                if step.is_some_and(|st| st.method == Method::Merge && !st.outer_sorted) {
                    "Y"
                } else {
                    "N"
                }
                .into();
            rows.push(row);
        }
        (lines, rows)
    }

    /// Lines of the join of the first relation and steps `..k`, at `depth`.
    fn lines_of(
        &self,
        k: usize,
        depth: usize,
        shape: &Shape,
        names: &[String],
        out: &mut Vec<PlanLine>,
    ) {
        let leaf_lines = |r: usize, depth: usize, out: &mut Vec<PlanLine>| {
            for l in &self.leaves[r].lines {
                let mut l = l.clone();
                l.depth += depth;
                out.push(l);
            }
        };
        if k == 0 {
            leaf_lines(self.first, depth, out);
            return;
        }
        let st = &self.steps[k - 1];
        let outer = shape.rels[st.rel].outer;
        // A hash join built on a LEFT JOIN's optional side is Oracle's
        // HASH JOIN RIGHT OUTER; built on the preserved side, HASH JOIN
        // OUTER.
        let suffix = match (outer, st.method == Method::Hash && !st.build_outer) {
            (false, _) => "",
            (true, true) => " RIGHT OUTER",
            (true, false) => " OUTER",
        };
        let mut top = line(
            &format!("{}{}", st.method.name(), suffix),
            None,
            st.rows,
            st.cost,
        );
        top.depth = depth;
        let keys = st
            .keys
            .iter()
            .map(|k| format!("{} = {}", k.outer.render(names), k.inner.render(names)))
            .collect::<Vec<_>>();
        let mut filters: Vec<String> = st.check.iter().map(|e| e.render(names)).collect();
        filters.extend(st.post.iter().map(|e| e.render(names)));
        match st.method {
            Method::Hash => {
                top.access = (!keys.is_empty()).then(|| keys.join(" AND "));
                top.filter = (!filters.is_empty()).then(|| filters.join(" AND "));
                out.push(top);
                // Oracle lists the build input first.
                if st.build_outer {
                    self.lines_of(k - 1, depth + 1, shape, names, out);
                    leaf_lines(st.rel, depth + 1, out);
                } else {
                    leaf_lines(st.rel, depth + 1, out);
                    self.lines_of(k - 1, depth + 1, shape, names, out);
                }
            }
            Method::NestedLoops => {
                top.filter = (!filters.is_empty()).then(|| filters.join(" AND "));
                out.push(top);
                self.lines_of(k - 1, depth + 1, shape, names, out);
                let inner = if st.probe_lines.is_empty() {
                    &self.leaves[st.rel].lines
                } else {
                    &st.probe_lines
                };
                for l in inner {
                    let mut l = l.clone();
                    l.depth += depth + 1;
                    out.push(l);
                }
            }
            Method::Merge => {
                top.filter = (!filters.is_empty()).then(|| filters.join(" AND "));
                out.push(top);
                // Each SORT JOIN shows its own input, read and sorted (the
                // terms of the merge cost in `step`), not the join's
                // estimate: the outer rows so far, then the inner table.
                let (outer_rows, outer_cost) = match k {
                    1 => (self.leaves[self.first].rows, self.leaves[self.first].cost),
                    _ => (self.steps[k - 2].rows, self.steps[k - 2].cost),
                };
                if st.outer_sorted {
                    // In key order from its index: no SORT JOIN.
                    self.lines_of(k - 1, depth + 1, shape, names, out);
                } else {
                    let mut sj = line("SORT JOIN", None, outer_rows, outer_cost + cpu(outer_rows));
                    sj.depth = depth + 1;
                    out.push(sj);
                    self.lines_of(k - 1, depth + 2, shape, names, out);
                }
                let inner = &self.leaves[st.rel];
                let mut sj = line("SORT JOIN", None, inner.rows, inner.cost + cpu(inner.rows));
                sj.depth = depth + 1;
                sj.access = Some(keys.join(" AND "));
                out.push(sj);
                leaf_lines(st.rel, depth + 2, out);
            }
            Method::Cartesian => {
                top.filter = (!filters.is_empty()).then(|| filters.join(" AND "));
                out.push(top);
                self.lines_of(k - 1, depth + 1, shape, names, out);
                let mut b = line("BUFFER SORT", None, self.leaves[st.rel].rows, st.cost);
                b.depth = depth + 1;
                out.push(b);
                leaf_lines(st.rel, depth + 2, out);
            }
        }
    }
}

/// An operator tree of the SQL layer: it runs on a session.
pub(crate) type Tree<'p> = Node<'p, Context>;

/// A join key is a pair that matches when its sides are equal by SQL
/// comparison (a hash table or a sort only brought them together).
impl ops::Expr for Key {
    fn eval(&self, row: &[Value]) -> Result<Value> {
        super::eval::binary(BinOp::Eq, &self.outer.eval(row)?, &self.inner.eval(row)?)
    }
}

/// A leaf whose rows the SQL layer computes when first asked (a derived
/// table's query, a dictionary view, a series, DUAL); also the inner side
/// of a nested-loops join over such a relation, computed again per outer
/// row as a correlated source would be.
/// How a [`Computed`] leaf makes its rows.
type Compute<'p> = Box<dyn FnMut(&mut Context) -> Result<Vec<Row>> + 'p>;

pub(super) struct Computed<'p> {
    f: Compute<'p>,
    rows: Option<std::vec::IntoIter<Row>>,
}

impl<'p> Computed<'p> {
    pub(super) fn new(f: impl FnMut(&mut Context) -> Result<Vec<Row>> + 'p) -> Self {
        Computed {
            f: Box::new(f),
            rows: None,
        }
    }
}

impl Operator<Context> for Computed<'_> {
    fn next(&mut self, s: &mut Context) -> Result<Option<Row>> {
        if self.rows.is_none() {
            self.rows = Some((self.f)(s)?.into_iter());
        }
        Ok(self.rows.as_mut().and_then(Iterator::next))
    }
}

impl Probe<Context> for Computed<'_> {
    fn rows(&mut self, s: &mut Context, _outer: &Row) -> Result<Vec<Row>> {
        (self.f)(s)
    }
}

/// Builds the operator tree of the join of `plan`: the first relation's
/// leaf, then one join operator per step, each taking the tree so far as
/// its outer input. Every table is read as of one snapshot, taken now.
///
/// `derived` holds, by relation, the trees of the derived tables the
/// caller planned as query blocks of their own: such a relation read as a
/// leaf streams its rows from that tree; read again per outer row (the
/// inner side of nested loops) it is computed afresh each time.
pub(crate) fn tree<'p>(
    s: &mut Context,
    cx: &'p Cx<'p>,
    shape: &'p Shape,
    plan: &'p JoinPlan,
    mut derived: Vec<Option<Tree<'p>>>,
) -> Result<Tree<'p>> {
    for c in &plan.constant {
        if as_bool(&c.eval(&[])?) != Some(true) {
            return Ok(Box::new(Rows::new(Vec::new())));
        }
    }
    let snap = s.snapshot();
    let b = Builder {
        cx,
        shape,
        plan,
        snap,
        width: shape.width(),
    };
    let mut node = b.leaf(s, plan.first, &mut derived)?;
    for st in &plan.steps {
        let rel = &shape.rels[st.rel];
        let spec = JoinSpec {
            offset: rel.offset,
            len: rel.names.len(),
            outer: rel.outer,
            keys: st
                .keys
                .iter()
                .map(|k| (&k.outer as &dyn ops::Expr, &k.inner as &dyn ops::Expr))
                .collect(),
            check: st
                .keys
                .iter()
                .map(|k| k as &dyn ops::Expr)
                .chain(st.check.iter().map(|e| e as &dyn ops::Expr))
                .collect(),
            post: st.post.iter().map(|e| e as &dyn ops::Expr).collect(),
        };
        node = match st.method {
            Method::NestedLoops => Box::new(NestedLoops::new(node, b.probe(s, st)?, spec)),
            Method::Hash => Box::new(HashJoin::new(
                node,
                b.leaf(s, st.rel, &mut derived)?,
                spec,
                st.build_outer,
            )),
            Method::Merge => Box::new(MergeJoin::new(
                node,
                b.leaf(s, st.rel, &mut derived)?,
                spec,
                st.outer_sorted,
            )),
            Method::Cartesian => {
                Box::new(Cartesian::new(node, b.leaf(s, st.rel, &mut derived)?, spec))
            }
        };
    }
    Ok(node)
}

/// What the leaves of one join's tree share.
struct Builder<'p> {
    cx: &'p Cx<'p>,
    shape: &'p Shape,
    plan: &'p JoinPlan,
    snap: Snapshot,
    width: usize,
}

impl<'p> Builder<'p> {
    /// Where relation `r`'s table columns go in the joined row.
    fn placement(&self, r: usize) -> Placement {
        let rel = &self.shape.rels[r];
        Placement {
            offset: rel.offset,
            width: self.width,
            columns: rel.names.len(),
            rowid: rel.rowid,
        }
    }

    /// The snapshot relation `r` reads as of: the join's, or its AS OF SCN.
    fn snapshot(&self, s: &mut Context, r: usize) -> Result<Snapshot> {
        let RelKind::Table { as_of: Some(e), .. } = &self.shape.rels[r].kind else {
            return Ok(self.snap);
        };
        match constant(s, self.cx, e)? {
            Value::Int(n) if n >= 0 => Ok(Snapshot {
                scn: Scn(n as u64),
                xid: Xid::NONE,
            }),
            other => Err(Error::Sql(format!(
                "AS OF SCN needs a non-negative integer, got {other}"
            ))),
        }
    }

    /// A read of table relation `r` by `access`, the predicate of each
    /// read made by `pred_of` from the outer row.
    fn table_read(
        &self,
        s: &mut Context,
        r: usize,
        access: Access,
        pred_of: Box<dyn Fn(&Row) -> Pred + 'p>,
    ) -> Result<TableRead<'p>> {
        let RelKind::Table { name, .. } = &self.shape.rels[r].kind else {
            return Err(Error::Internal(
                "a table read of a relation that is not a table".into(),
            ));
        };
        let (def, index) = s.read_defs(name, &access)?;
        Ok(TableRead {
            def,
            index,
            access,
            snap: self.snapshot(s, r)?,
            place: self.placement(r),
            pred_of,
        })
    }

    /// Relation `r` read on its own (its pushed-down conjuncts applied):
    /// a table by its access path — a full scan one block at a time, an
    /// index range scan in one call — or the rows the SQL layer computes.
    fn leaf(
        &self,
        s: &mut Context,
        r: usize,
        derived: &mut [Option<Tree<'p>>],
    ) -> Result<Tree<'p>> {
        let leaf = &self.plan.leaves[r];
        let rel = &self.shape.rels[r];
        if let Some(t) = derived.get_mut(r).and_then(Option::take) {
            // A derived table's own tree: its rows placed in joined rows,
            // then its pushed-down conjuncts.
            let place = self.placement(r);
            let placed: Tree<'p> = Box::new(Map {
                input: t,
                f: Box::new(move |vals: Row| Ok(place.spread(vals))),
            });
            return Ok(Box::new(Filter {
                input: placed,
                terms: leaf.local.iter().map(|e| e as &dyn ops::Expr).collect(),
            }));
        }
        if !matches!(rel.kind, RelKind::Table { .. }) {
            return Ok(Box::new(self.computed(r)));
        }
        let access = leaf.access.clone().unwrap_or(Access::Full);
        let read = self.table_read(s, r, access, Box::new(move |_| leaf.pred.clone()))?;
        if read.access == Access::Full {
            return Ok(Box::new(FullScan::new(
                read.def, read.snap, &leaf.pred, read.place,
            )));
        }
        Ok(Box::new(Once::new(Box::new(read), self.width)))
    }

    /// The inner side of nested-loops step `st`: the table probed with the
    /// join predicates' outer side as constants (a bind per probe), or the
    /// relation read again per outer row.
    fn probe(&self, s: &mut Context, st: &'p Step) -> Result<Box<dyn Probe<Context> + 'p>> {
        let rel = &self.shape.rels[st.rel];
        if !matches!(rel.kind, RelKind::Table { .. }) {
            return Ok(Box::new(self.computed(st.rel)));
        }
        let leaf = &self.plan.leaves[st.rel];
        if st.probe.is_empty() && st.probe_access.is_none() {
            let access = leaf.access.clone().unwrap_or(Access::Full);
            let read = self.table_read(s, st.rel, access, Box::new(move |_| leaf.pred.clone()))?;
            return Ok(Box::new(read));
        }
        let (off, len) = (rel.offset, rel.names.len());
        // The relation's own conjuncts over its own columns; the probe
        // conjuncts get the outer row's values per probe.
        let local: Vec<E> = leaf.local.iter().map(|e| e.remap(&|c| c - off)).collect();
        let pred_of = move |left: &Row| {
            let mut terms = local.clone();
            for e in &st.probe {
                terms.push(e.map_cols(&|c| {
                    if c >= off && c < off + len {
                        E::Col(c - off)
                    } else {
                        E::Const(left[c].clone())
                    }
                }));
            }
            and_pred(&terms, &rel.names, &rel.types)
        };
        let access = st.probe_access.clone().unwrap_or(Access::Full);
        Ok(Box::new(self.table_read(
            s,
            st.rel,
            access,
            Box::new(pred_of),
        )?))
    }

    /// The rows of relation `r`, not a table, computed when asked, each
    /// placed in a joined row and kept if its pushed-down conjuncts hold.
    fn computed(&self, r: usize) -> Computed<'p> {
        let (cx, shape, plan, place) = (self.cx, self.shape, self.plan, self.placement(r));
        let rel = &shape.rels[r];
        let f = move |s: &mut Context| -> Result<Vec<Row>> {
            let raw: Vec<Row> = match &rel.kind {
                RelKind::Table { .. } => {
                    return Err(Error::Internal("a table computed as rows".into()))
                }
                RelKind::Derived(d) => {
                    let dcx = cx.for_derived();
                    match &d.bound {
                        Some(b) => run_bound(s, &dcx, &d.sel, b, false)?.rows,
                        None => select(s, &dcx, &d.sel, false)?.rows,
                    }
                }
                RelKind::Dictionary(rows) => rows.clone(),
                RelKind::Series { start, stop } => {
                    let (Value::Int(a), Value::Int(z)) =
                        (constant(s, cx, start)?, constant(s, cx, stop)?)
                    else {
                        return Err(Error::Sql("generate_series needs two integers".into()));
                    };
                    if (i128::from(z) - i128::from(a)) >= super::limits::MAX_SERIES_ROWS as i128 {
                        return Err(Error::Sql(format!(
                            "generate_series({a}, {z}) would produce more than {} rows",
                            super::limits::MAX_SERIES_ROWS
                        )));
                    }
                    (a..=z).map(|v| vec![Value::Int(v)]).collect()
                }
                RelKind::Dual => vec![Vec::new()],
            };
            let local: Vec<&dyn ops::Expr> = plan.leaves[r]
                .local
                .iter()
                .map(|e| e as &dyn ops::Expr)
                .collect();
            let mut out = Vec::with_capacity(raw.len());
            for vals in raw {
                let row = place.spread(vals);
                if all_true(&local, &row)? {
                    out.push(row);
                }
            }
            Ok(out)
        };
        Computed::new(f)
    }
}
