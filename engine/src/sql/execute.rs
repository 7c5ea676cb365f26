//! Runs a parsed statement on a session: the dispatch of every statement
//! kind, and the DML statements themselves.
//!
//! ```text
//!  Statement ─▶ execute / execute_array ─▶ run ─┬─ SELECT ─────────▶ select::select
//!                                              ├─ INSERT / UPDATE / DELETE (here)
//!                                              ├─ EXPLAIN ─────────▶ explain (here)
//!                                              ├─ COMMIT, SET …, FLASHBACK, ANALYZE
//!                                              └─ DDL ─────────────▶ ddl_statements
//! ```
//!
//! A [`Cx`] carries what every part of one execution needs (the bind values,
//! the hints and the plan being used or built, see `cursor`); it lives for
//! one execution, so a prepared statement runs again with other binds and
//! no new parse.
//!
//! Every change goes through the `Session` API (`insert_rows`,
//! `update_query`, `delete_query`, `insert_append`, the DDL calls), so SQL
//! and the typed API share locks, undo, redo and counters. A searched
//! UPDATE or DELETE binds its WHERE clause into the access layer's
//! predicate and lets the optimizer choose its access path, like a SELECT
//! (never index-only: DML must reach the row).

use super::ast::*;
use super::bind::{bind, column_names, column_types, constant, qualify, table_def};
use super::cursor::{Chosen, Cursor, PlanState, Planner};
use super::ddl_statements;
use super::eval::to_pred;
use super::explain::{line, number_chain, Explain};
use super::optimizer::{self, Request};
use super::select::select;
use super::subquery::{bind_subquery, row_items, Kind};
use super::SqlResult;
use crate::access::Pred;
use crate::catalog::TableDef;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ids::Scn;
use crate::stats::Stat;
use crate::value::{Row, Value};

/// Runs `cursor`'s statement once with `binds`: with its cached plan when
/// that is valid; otherwise optimizing, which counts a hard parse when a
/// valid plan was invalidated since (a reload), and keeping the new plan
/// in the cursor.
pub(crate) fn execute(
    s: &mut Context,
    shared: &super::Shared,
    cursor: &Cursor,
    binds: &[Value],
    fetch_size: usize,
) -> Result<SqlResult> {
    let stmt = &cursor.stmt;
    if binds.len() != stmt.params {
        return Err(Error::Sql(format!(
            "the statement has {} bind variable(s) but {} value(s) were given",
            stmt.params,
            binds.len()
        )));
    }
    s.stats_handle().inc(Stat::ExecuteCount);
    s.stats_handle().inc(Stat::UserCalls);
    let planner = planner(s, cursor);
    let mut cx = cx_of(shared, stmt, binds, &planner);
    cx.fetch_size = fetch_size;
    let r = run(s, &cx, &stmt.stmt)?;
    planner.finish(cursor);
    Ok(r)
}

/// One execution of a function's query in a recursive context (see
/// `sql::recursive`): one `execute count` and one `recursive calls`, no
/// user call, no fetch call, no `rows processed`; the rows come back to
/// the function, not to a client.
pub(crate) fn recursive(
    s: &mut Context,
    shared: &super::Shared,
    cursor: &Cursor,
    binds: &[Value],
) -> Result<Vec<Row>> {
    let stmt = &cursor.stmt;
    let Stmt::Select(sel) = &stmt.stmt else {
        return Err(Error::Internal("a function's body is not a query".into()));
    };
    check_binds(stmt, binds)?;
    s.stats_handle().inc(Stat::ExecuteCount);
    s.stats_handle().inc(Stat::RecursiveCalls);
    let planner = planner(s, cursor);
    let cx = cx_of(shared, stmt, binds, &planner);
    let q = select(s, &cx, sel, false)?;
    planner.finish(cursor);
    Ok(q.rows)
}

/// The plan an execution of `cursor` starts from (see [`execute`]).
fn planner(s: &Context, cursor: &Cursor) -> Planner {
    match cursor.plan(s.schema()) {
        PlanState::Valid(p) => Planner::new(Some(p)),
        PlanState::Missing => Planner::new(None),
        PlanState::Invalidated => {
            s.stats_handle().inc(Stat::ParseCountHard);
            Planner::new(None)
        }
    }
}

/// Runs a prepared DML statement once per bind set, as one call.
pub(crate) fn execute_array(
    s: &mut Context,
    shared: &super::Shared,
    cursor: &Cursor,
    rows: &[Vec<Value>],
) -> Result<SqlResult> {
    let stmt = &cursor.stmt;
    s.stats_handle().inc(Stat::ExecuteCount);
    s.stats_handle().inc(Stat::UserCalls);
    let planner = planner(s, cursor);
    if let Stmt::Insert {
        table,
        columns,
        source: InsertSource::Values(values),
        conflict: OnConflict::Abort,
    } = &stmt.stmt
    {
        // The array interface proper: every bind set becomes a row of one
        // multi-row insert (one user call).
        let mut all = Vec::with_capacity(rows.len() * values.len());
        let def = table_def(s, table)?;
        for binds in rows {
            check_binds(stmt, binds)?;
            let cx = cx_of(shared, stmt, binds, &planner);
            all.extend(values_rows(s, &cx, &def, columns.as_deref(), values)?);
        }
        let n = insert(s, &cx_of(shared, stmt, &[], &planner), &def, all)?;
        planner.finish(cursor);
        return Ok(affected(n, "inserted"));
    }
    let mut total = 0;
    for binds in rows {
        check_binds(stmt, binds)?;
        let cx = cx_of(shared, stmt, binds, &planner);
        total += run(s, &cx, &stmt.stmt)?.affected.unwrap_or(0);
    }
    planner.finish(cursor);
    Ok(affected(total, "processed"))
}

/// The context one execution of `stmt` with `binds` runs in.
fn cx_of<'a>(
    shared: &'a super::Shared,
    stmt: &'a Statement,
    binds: &'a [Value],
    planner: &'a Planner,
) -> Cx<'a> {
    Cx {
        shared,
        binds,
        hints: &stmt.hints,
        planner,
        fetch_size: 0,
        outer: &[],
        probing: false,
        rowid_of: None,
    }
}

fn check_binds(stmt: &Statement, binds: &[Value]) -> Result<()> {
    if binds.len() != stmt.params {
        return Err(Error::Sql(format!(
            "the statement has {} bind variable(s) but a row of {} value(s) was given",
            stmt.params,
            binds.len()
        )));
    }
    Ok(())
}

/// What every part of one execution needs.
#[derive(Clone, Copy)]
pub(super) struct Cx<'a> {
    /// The statement cache and the registered functions.
    pub(super) shared: &'a super::Shared,
    pub(super) binds: &'a [Value],
    pub(super) hints: &'a Hints,
    /// The statement's plan: cached access paths, and those chosen now.
    pub(super) planner: &'a Planner,
    /// Rows per fetch call when the statement is a query the client
    /// fetches (ARRAYSIZE); 0 inside a statement (a subquery, the SELECT of
    /// an INSERT), whose rows never reach the client.
    pub(super) fetch_size: usize,
    /// The enclosing queries' columns (and rows) while a subquery binds,
    /// innermost last (`subquery`).
    pub(super) outer: &'a [super::subquery::Frame<'a>],
    /// Binding only to find which outer columns a subquery reads: run no
    /// subquery.
    pub(super) probing: bool,
    /// The relation (by alias or table name) of this query block's join
    /// whose rowid the rows carry, in a hidden last column of that
    /// relation (`join::ROWID_COL`): DML through a join (`one_sql`) finds
    /// its rows with a query. Not inherited by subqueries or derived tables.
    pub(super) rowid_of: Option<&'a str>,
}

impl<'a> Cx<'a> {
    /// The context a derived table (or a view merged as one) runs in: its
    /// rows go to the query around it, not to the client, so no fetch call
    /// resumes its scan, and it does not carry that query's rowids.
    pub(super) fn for_derived(&self) -> Cx<'a> {
        Cx {
            rowid_of: None,
            fetch_size: 0,
            ..*self
        }
    }
}

/// A result with only an acknowledgement ("Commit complete.").
pub(super) fn message(m: &str) -> SqlResult {
    SqlResult {
        message: Some(m.to_string()),
        ..SqlResult::default()
    }
}

pub(super) fn affected(n: u64, verb: &str) -> SqlResult {
    SqlResult {
        affected: Some(n),
        message: Some(format!("{n} row{} {verb}.", if n == 1 { "" } else { "s" })),
        ..SqlResult::default()
    }
}

fn run(s: &mut Context, cx: &Cx<'_>, stmt: &Stmt) -> Result<SqlResult> {
    match stmt {
        Stmt::Select(sel) => {
            let q = select(s, cx, sel, false)?;
            fetch(s, cx.fetch_size, &q)?;
            let n = q.rows.len();
            // AUTOTRACE's `rows processed` for a query: the rows returned
            // to the client (one for `SELECT COUNT(*)`), not the rows read.
            s.stats_handle().add(Stat::RowsProcessed, n as u64);
            Ok(SqlResult {
                columns: q.columns,
                rows: q.rows,
                message: Some(format!(
                    "{n} row{} selected.",
                    if n == 1 { "" } else { "s" }
                )),
                ..SqlResult::default()
            })
        }
        Stmt::Explain(inner) => {
            let explain = explain(s, cx, inner)?;
            Ok(SqlResult {
                explain: Some(explain),
                message: Some("Explained.".into()),
                ..SqlResult::default()
            })
        }
        Stmt::Insert {
            table,
            columns,
            source,
            conflict,
        } => {
            let def = table_def(s, table)?;
            let rows = match source {
                InsertSource::Values(values) => {
                    values_rows(s, cx, &def, columns.as_deref(), values)?
                }
                InsertSource::Select(sel) => {
                    let q = select(s, cx, sel, false)?;
                    let map = column_map(&def, columns.as_deref(), q.columns.len())?;
                    q.rows.into_iter().map(|r| place(&def, &map, r)).collect()
                }
            };
            let n = match conflict {
                OnConflict::Abort => insert(s, cx, &def, rows)?,
                _ => insert_resolving(s, cx, &def, rows, *conflict)?,
            };
            Ok(affected(n, "inserted"))
        }
        Stmt::Update {
            table,
            alias,
            sets,
            filter,
        } => {
            if let Some(view) = super::view::stored_query(s, table)? {
                let n = super::one_sql::view_dml(s, cx, &view, sets, filter.as_ref(), false)?;
                return Ok(affected(n, "updated"));
            }
            let t = Target::new(s, cx, table, alias.as_deref(), filter.as_ref())?;
            let mut assign = Vec::new();
            let pos = |c: &str| {
                t.def
                    .column_index(c)
                    .ok_or_else(|| no_column(c, &t.def.name))
            };
            for a in sets {
                match a {
                    Assign::Column(c, e) => assign.push((pos(c)?, bind(s, cx, e, &t.names, None)?)),
                    Assign::Row(cols, sel) => {
                        // One subquery for the row: it runs once per
                        // updated row, its columns sharing the result.
                        let kind = Kind::Row {
                            index: 0,
                            width: cols.len(),
                        };
                        let first = bind_subquery(s, cx, sel, &t.names, kind, None)?;
                        for (c, e) in cols.iter().zip(row_items(first, cols.len())) {
                            assign.push((pos(c)?, e));
                        }
                    }
                }
            }
            let access = t.access(s, cx);
            let f = |cur: &Row| -> Result<Row> {
                let mut new = cur.clone();
                for (c, e) in &assign {
                    new[*c] = e.eval(cur)?;
                }
                Ok(new)
            };
            // New values that run SQL are computed before the row is
            // latched (`Context::update_query_unlatched`): recursive SQL
            // must not run under a block latch.
            let n = if assign.iter().any(|(_, e)| e.runs_sql()) {
                let mut reads = Vec::new();
                assign.iter().for_each(|(_, e)| e.columns(&mut reads));
                s.update_query_unlatched(table, &t.pred, access, &f, &reads)?
            } else {
                s.update_query(table, &t.pred, access, &f)?
            };
            Ok(affected(n, "updated"))
        }
        Stmt::Delete {
            table,
            alias,
            filter,
        } => {
            if let Some(view) = super::view::stored_query(s, table)? {
                let n = super::one_sql::view_dml(s, cx, &view, &[], filter.as_ref(), true)?;
                return Ok(affected(n, "deleted"));
            }
            let t = Target::new(s, cx, table, alias.as_deref(), filter.as_ref())?;
            let access = t.access(s, cx);
            let n = s.delete_query(table, &t.pred, access)?;
            Ok(affected(n, "deleted"))
        }
        Stmt::UpdateView { view, sets, filter } => {
            let n = super::one_sql::view_dml(s, cx, view, sets, filter.as_ref(), false)?;
            Ok(affected(n, "updated"))
        }
        Stmt::DeleteView { view, filter } => {
            let n = super::one_sql::view_dml(s, cx, view, &[], filter.as_ref(), true)?;
            Ok(affected(n, "deleted"))
        }
        Stmt::Merge(m) => {
            let n = super::one_sql::merge(s, cx, m)?;
            Ok(affected(n, "merged"))
        }
        Stmt::Commit => {
            s.commit()?;
            Ok(message("Commit complete."))
        }
        Stmt::Begin => {
            s.begin_transaction()?;
            Ok(message("Transaction started."))
        }
        Stmt::Rollback => {
            s.rollback()?;
            Ok(message("Rollback complete."))
        }
        Stmt::SetIsolation(iso) => {
            s.set_transaction_isolation(*iso)?;
            Ok(message("Transaction set."))
        }
        Stmt::Flashback { table, scn } => {
            let scn = match constant(s, cx, scn)? {
                Value::Int(n) if n >= 0 => Scn(n as u64),
                other => {
                    return Err(Error::Sql(format!(
                        "FLASHBACK TABLE needs a non-negative SCN, got {other}"
                    )))
                }
            };
            let (ins, upd, del) = s.flashback_table(table, scn)?;
            Ok(SqlResult {
                affected: Some(ins + upd + del),
                message: Some(format!(
                    "Flashback complete: {ins} rows inserted, {upd} updated, {del} deleted."
                )),
                ..SqlResult::default()
            })
        }
        Stmt::SetUser(name) => {
            s.set_user(name);
            Ok(message("Session altered."))
        }
        Stmt::SetHashAreaSize(n) => {
            s.set_hash_area_size(*n);
            Ok(message("Session altered."))
        }
        Stmt::SetSortAreaSize(n) => {
            s.set_sort_area_size(*n);
            Ok(message("Session altered."))
        }
        Stmt::SessionIsolation(iso) => {
            s.set_isolation(*iso)?;
            Ok(message("Session altered."))
        }
        Stmt::Analyze { table } => {
            let st = s.analyze(table)?;
            s.store_stats(&st)?;
            Ok(message("Table analyzed."))
        }
        Stmt::CreateView {
            name,
            columns,
            query,
            text,
            replace,
        } => {
            // A view is created only if its query binds now (Oracle's
            // CREATE VIEW without FORCE).
            let q = select(s, cx, query, true)?;
            if columns.as_ref().is_some_and(|c| c.len() != q.columns.len()) {
                return Err(Error::ViewColumns { view: name.clone() });
            }
            s.create_view(name, text, columns.clone(), *replace)?;
            Ok(message("View created."))
        }
        Stmt::DropView { name, if_exists } => {
            let exists = s.schema().catalog.read().views.contains_key(name);
            if exists || !*if_exists {
                s.drop_view(name)?;
            }
            Ok(message("View dropped."))
        }
        ddl => ddl_statements::run(s, ddl, &mut |s, e, names| bind(s, cx, e, names, None)),
    }
}

/// The fetch calls that bring a query's rows to the client, `size` rows
/// each (`fetch calls`, and a `user calls` each): the client fetches until a
/// call returns fewer rows than it asked for, so `rows / size + 1` calls
/// (one empty call when `size` divides the rows). Unlike SQL*Plus, whose
/// first fetch returns a single row, every call asks for `size` rows.
///
/// When the rows stream from a full scan, each call after the first gets
/// again the block the previous one stopped in (a consistent get, at the
/// query's snapshot): a scan of N blocks returning R rows costs about
/// N + R / size gets, the classic SQL*Plus ARRAYSIZE demonstration. The
/// scan makes those re-gets in their place, between its blocks, since it
/// knows the fetch size (`operators::FetchCalls`); rows that wait in a
/// sort or an aggregate are handed out from memory, with no gets.
fn fetch(s: &mut Context, size: usize, q: &super::select::Query) -> Result<()> {
    if size == 0 {
        return Ok(());
    }
    let calls = q.rows.len() / size + 1;
    s.stats_handle().add(Stat::FetchCalls, calls as u64);
    s.stats_handle().add(Stat::UserCalls, calls as u64);
    Ok(())
}

fn no_column(c: &str, table: &str) -> Error {
    Error::Sql(format!("column {c} does not exist in table {table}"))
}

/// The positions the inserted values go to, for `n` values per row.
pub(super) fn column_map(
    def: &TableDef,
    columns: Option<&[String]>,
    n: usize,
) -> Result<Vec<usize>> {
    let map: Vec<usize> = match columns {
        None => def.visible_columns().map(|(i, _)| i).collect(),
        Some(cols) => cols
            .iter()
            .map(|c| def.column_index(c).ok_or_else(|| no_column(c, &def.name)))
            .collect::<Result<_>>()?,
    };
    if map.len() != n {
        return Err(Error::ValueCount {
            table: def.name.clone(),
            values: n,
            columns: map.len(),
        });
    }
    Ok(map)
}

pub(super) fn place(def: &TableDef, map: &[usize], vals: Row) -> Row {
    let mut row = vec![Value::Null; def.columns.len()];
    for (&p, v) in map.iter().zip(vals) {
        row[p] = v;
    }
    row
}

fn values_rows(
    s: &mut Context,
    cx: &Cx<'_>,
    def: &TableDef,
    columns: Option<&[String]>,
    values: &[Vec<Expr>],
) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(values.len());
    // The column map depends only on the list's length: work it out once
    // per length, not once per row (an array insert runs this per bind set).
    let mut map: Option<(usize, Vec<usize>, bool)> = None;
    for exprs in values {
        let (_, m, identity) = match map.take() {
            Some(m) if m.0 == exprs.len() => map.insert(m),
            _ => {
                let m = column_map(def, columns, exprs.len())?;
                let identity =
                    m.len() == def.columns.len() && m.iter().enumerate().all(|(i, &p)| i == p);
                map.insert((exprs.len(), m, identity))
            }
        };
        // A bind value or a literal is the value itself: no expression to
        // bind and evaluate (the common case of an array insert).
        let vals = exprs
            .iter()
            .map(|e| match e {
                Expr::Param(i) if *i < cx.binds.len() => Ok(cx.binds[*i].clone()),
                Expr::Literal(v) => Ok(v.clone()),
                _ => constant(s, cx, e),
            })
            .collect::<Result<Row>>()?;
        rows.push(if *identity { vals } else { place(def, m, vals) });
    }
    Ok(rows)
}

fn insert(s: &mut Context, cx: &Cx<'_>, def: &TableDef, rows: Vec<Row>) -> Result<u64> {
    if cx.hints.append {
        Ok(s.insert_append(&def.name, rows)?.rows)
    } else {
        s.insert_rows(&def.name, rows)
    }
}

/// `INSERT OR REPLACE` / `REPLACE INTO` / `INSERT OR IGNORE`: one row at a
/// time, so a row may replace one inserted earlier by the same statement
/// (as SQLite does). For each PRIMARY KEY or UNIQUE key of the table whose
/// values in the new row are all non-NULL (a NULL never conflicts), the
/// rows holding those values are found through the optimizer's access
/// path for `k1 = v1 AND …` (the key's own index, normally) and deleted
/// (REPLACE), or the new row is skipped (IGNORE). The deletes are ordinary
/// row deletes: undo, redo, index maintenance and foreign-key checks as for
/// a DELETE. A direct-path (APPEND) insert cannot delete, so the hint is
/// ignored here. Returns the rows inserted.
fn insert_resolving(
    s: &mut Context,
    cx: &Cx<'_>,
    def: &TableDef,
    rows: Vec<Row>,
    conflict: OnConflict,
) -> Result<u64> {
    let keys = s.schema().catalog.read().unique_keys_of(&def.name);
    let mut inserted = 0;
    'rows: for row in rows {
        let row = def.check_row(row)?;
        for key in &keys {
            if key.iter().any(|&c| row[c].is_null()) {
                continue;
            }
            let filter = key
                .iter()
                .map(|&c| Expr::Binary {
                    op: BinOp::Eq,
                    left: Box::new(Expr::Column(def.columns[c].name.clone())),
                    right: Box::new(Expr::Literal(row[c].clone())),
                })
                .reduce(|a, b| Expr::Binary {
                    op: BinOp::And,
                    left: Box::new(a),
                    right: Box::new(b),
                })
                .expect("a unique key has a column");
            let t = Target::new(s, cx, &def.name, None, Some(&filter))?;
            // Not the cursor's cached access path: that one is keyed by
            // query block, and each key here is a different predicate.
            let access = t.choose(s, cx).access;
            match conflict {
                OnConflict::Replace => {
                    s.delete_query(&def.name, &t.pred, access)?;
                }
                _ => {
                    let found = s.access_rows(&def.name, &t.pred, access, None, Some(1), None)?;
                    if !found.rows.is_empty() {
                        continue 'rows;
                    }
                }
            }
        }
        inserted += s.insert_rows(&def.name, vec![row])?;
    }
    Ok(inserted)
}

/// The table of an UPDATE or DELETE with its WHERE clause bound.
struct Target {
    def: TableDef,
    /// Its column names qualified by the alias (else the table name), as
    /// a SELECT's are: a correlated subquery's `o.k` then reads the row
    /// being changed, not a column `k` of its own table.
    names: Vec<String>,
    pred: Pred,
}

impl Target {
    fn new(
        s: &mut Context,
        cx: &Cx<'_>,
        table: &str,
        alias: Option<&str>,
        filter: Option<&Expr>,
    ) -> Result<Target> {
        let def = table_def(s, table)?;
        let bare = column_names(&def);
        let names = qualify(&bare, alias.unwrap_or(table));
        let types = column_types(&def);
        // Plans show the columns bare, as a single-table SELECT's.
        let pred = match filter {
            Some(f) => to_pred(&bind(s, cx, f, &names, None)?, &bare, &types),
            None => Pred::And(Vec::new()),
        };
        Ok(Target { def, names, pred })
    }

    /// The access path of a searched UPDATE/DELETE to run: the cached one
    /// (query block 0), or the optimizer's.
    fn access(&self, s: &Context, cx: &Cx<'_>) -> crate::operators::Access {
        cx.planner
            .access(s.schema(), 0, &self.def.name, || {
                let c = self.choose(s, cx);
                Chosen {
                    access: c.access,
                    sorted: c.sorted,
                }
            })
            .access
    }

    /// The optimizer's access path for a searched UPDATE/DELETE. DML must
    /// reach the table row, so it reads "every column": never index-only.
    fn choose(&self, s: &Context, cx: &Cx<'_>) -> optimizer::Choice {
        let (indexes, unique_keys) = {
            let cat = s.schema().catalog.read();
            (
                cat.indexes_of(&self.def.name),
                cat.unique_keys_of(&self.def.name),
            )
        };
        let all: Vec<usize> = (0..self.def.columns.len()).collect();
        optimizer::choose(Request {
            def: &self.def,
            alias: None,
            indexes: &indexes,
            unique_keys: &unique_keys,
            stats: s.schema().stats.get(&self.def.name),
            pred: &self.pred,
            hints: cx.hints,
            needed: &all,
            order: &[],
        })
    }
}

/// EXPLAIN of a statement: its plan without running it.
fn explain(s: &mut Context, cx: &Cx<'_>, stmt: &Stmt) -> Result<Explain> {
    let wrap = |op: &str, obj: Option<&str>, mut inner: Explain| {
        let (rows, cost) = inner
            .lines
            .first()
            .map(|l| (l.rows, l.cost))
            .unwrap_or((0, 0));
        let mut lines = vec![
            line(&format!("{op} STATEMENT"), None, rows, cost),
            line(
                &if op == "INSERT" {
                    if cx.hints.append {
                        "LOAD AS SELECT".to_string()
                    } else {
                        "LOAD TABLE CONVENTIONAL".to_string()
                    }
                } else {
                    op.to_string()
                },
                obj,
                rows,
                cost,
            ),
        ];
        // Drop the inner SELECT STATEMENT line. A query's plan is already
        // nested (a compound's arms are siblings, not a chain): it moves
        // one level down, under the LOAD line; a table access's lines are
        // unnumbered and form a chain.
        let query = inner
            .lines
            .first()
            .is_some_and(|l| l.operation == "SELECT STATEMENT");
        if query {
            inner.lines.remove(0);
            lines[1].depth = 1;
            lines.extend(inner.lines.into_iter().map(|mut l| {
                l.depth += 1;
                l
            }));
            for (i, l) in lines.iter_mut().enumerate() {
                l.id = i;
            }
        } else {
            lines.extend(inner.lines);
            number_chain(&mut lines);
        }
        Explain {
            lines,
            plan_table: inner.plan_table,
            notes: inner.notes,
        }
    };
    match stmt {
        Stmt::Select(sel) => Ok(select(s, cx, sel, true)?.explain),
        Stmt::Insert { table, source, .. } => {
            let inner = match source {
                InsertSource::Select(sel) => select(s, cx, sel, true)?.explain,
                InsertSource::Values(v) => Explain {
                    lines: vec![line("VALUES", None, v.len() as u64, 0)],
                    ..Explain::default()
                },
            };
            Ok(wrap("INSERT", Some(table), inner))
        }
        Stmt::Update {
            table,
            alias,
            filter,
            ..
        }
        | Stmt::Delete {
            table,
            alias,
            filter,
        } => {
            let t = Target::new(s, cx, table, alias.as_deref(), filter.as_ref())?;
            let choice = t.choose(s, cx);
            let op = if matches!(stmt, Stmt::Update { .. }) {
                "UPDATE"
            } else {
                "DELETE"
            };
            let mut notes = Vec::new();
            if choice.by_rules {
                notes.push(format!(
                    "no statistics on {}: the access path was chosen by rules",
                    t.def.name
                ));
            }
            let inner = Explain {
                lines: choice.lines,
                plan_table: vec![choice.row],
                notes,
            };
            Ok(wrap(op, Some(table), inner))
        }
        _ => Err(Error::Sql(
            "EXPLAIN takes SELECT, INSERT, UPDATE or DELETE".into(),
        )),
    }
}
