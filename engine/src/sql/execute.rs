//! Runs a parsed statement on a session.
//!
//! A SELECT flows: source rows (the table through the chosen access path,
//! `generate_series`, or one empty row) → WHERE (already applied by the
//! access layer for tables) → GROUP BY and aggregates → HAVING → the select
//! list → DISTINCT → ORDER BY (a counted sort, unless the access path
//! delivers the order) → OFFSET/LIMIT. When no grouping, DISTINCT or sort
//! stands between the source and the LIMIT, the source itself stops after
//! OFFSET + LIMIT rows (COUNT STOPKEY): a series is not built further, a
//! table or index scan reads no further.
//!
//! Aggregation evaluates each group on an "extended row": the group's first
//! source row followed by the group's aggregate values, so a select-list
//! expression over both (`a, COUNT(*) + 1`) is an ordinary expression.
//!
//! Every change goes through the `Session` API (`insert_rows`,
//! `update_query`, `delete_query`, `insert_append`, the DDL calls), so SQL
//! and the typed API share locks, undo, redo and counters.

use std::collections::HashMap;

use super::ast::*;
use super::eval::{as_bool, to_pred, Builtin, E};
use super::explain::{Explain, PlanLine, PlanTableRow};
use super::limits::MAX_SERIES_ROWS;
use super::optimizer::{self, OrderKey, Request};
use super::SqlResult;
use crate::access::{compare, Pred};
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::ids::Scn;
use crate::session::Session;
use crate::stats::Stat;
use crate::value::{encode_row, ColType, Row, Value};

/// Runs `stmt` once with `binds`.
pub(crate) fn execute(s: &mut Session, stmt: &Statement, binds: &[Value]) -> Result<SqlResult> {
    if binds.len() != stmt.params {
        return Err(Error::Sql(format!(
            "the statement has {} bind variable(s) but {} value(s) were given",
            stmt.params,
            binds.len()
        )));
    }
    s.stats_handle().inc(Stat::ExecuteCount);
    let cx = Cx {
        binds,
        hints: &stmt.hints,
    };
    run(s, &cx, &stmt.stmt)
}

/// Runs a prepared DML statement once per bind set, as one call.
pub(crate) fn execute_array(
    s: &mut Session,
    stmt: &Statement,
    rows: &[Vec<Value>],
) -> Result<SqlResult> {
    s.stats_handle().inc(Stat::ExecuteCount);
    if let Stmt::Insert {
        table,
        columns,
        source: InsertSource::Values(values),
    } = &stmt.stmt
    {
        // The array interface proper: every bind set becomes a row of one
        // multi-row insert (one user call).
        let mut all = Vec::with_capacity(rows.len() * values.len());
        let def = table_def(s, table)?;
        for binds in rows {
            check_binds(stmt, binds)?;
            let cx = Cx {
                binds,
                hints: &stmt.hints,
            };
            all.extend(values_rows(s, &cx, &def, columns.as_deref(), values)?);
        }
        let n = insert(s, &cx_of(stmt), &def, all)?;
        return Ok(affected(n, "inserted"));
    }
    let mut total = 0;
    for binds in rows {
        check_binds(stmt, binds)?;
        let cx = Cx {
            binds,
            hints: &stmt.hints,
        };
        total += run(s, &cx, &stmt.stmt)?.affected.unwrap_or(0);
    }
    Ok(affected(total, "processed"))
}

fn cx_of(stmt: &Statement) -> Cx<'_> {
    Cx {
        binds: &[],
        hints: &stmt.hints,
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
struct Cx<'a> {
    binds: &'a [Value],
    hints: &'a Hints,
}

fn message(m: &str) -> SqlResult {
    SqlResult {
        message: Some(m.to_string()),
        ..SqlResult::default()
    }
}

fn affected(n: u64, verb: &str) -> SqlResult {
    SqlResult {
        affected: Some(n),
        message: Some(format!("{n} row{} {verb}.", if n == 1 { "" } else { "s" })),
        ..SqlResult::default()
    }
}

fn table_def(s: &Session, name: &str) -> Result<TableDef> {
    Ok(s.core().catalog.read().get(name)?.clone())
}

fn run(s: &mut Session, cx: &Cx<'_>, stmt: &Stmt) -> Result<SqlResult> {
    match stmt {
        Stmt::Select(sel) => {
            let q = select(s, cx, sel, false)?;
            let n = q.rows.len();
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
            let n = insert(s, cx, &def, rows)?;
            Ok(affected(n, "inserted"))
        }
        Stmt::Update {
            table,
            sets,
            filter,
        } => {
            let t = Target::new(s, cx, table, filter.as_ref())?;
            let mut assign = Vec::new();
            for (c, e) in sets {
                let pos = t
                    .def
                    .column_index(c)
                    .ok_or_else(|| no_column(c, &t.def.name))?;
                assign.push((pos, bind(s, cx, e, &t.names, None)?));
            }
            let choice = t.choose(s, cx);
            let f = |cur: &Row| -> Result<Row> {
                let mut new = cur.clone();
                for (c, e) in &assign {
                    new[*c] = e.eval(cur)?;
                }
                Ok(new)
            };
            let n = s.update_query(table, &t.pred, choice.access, &f)?;
            Ok(affected(n, "updated"))
        }
        Stmt::Delete { table, filter } => {
            let t = Target::new(s, cx, table, filter.as_ref())?;
            let choice = t.choose(s, cx);
            let n = s.delete_query(table, &t.pred, choice.access)?;
            Ok(affected(n, "deleted"))
        }
        Stmt::Commit => {
            s.commit()?;
            Ok(message("Commit complete."))
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
            let scn = match bind(s, cx, scn, &[], None)?.eval(&[])? {
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
        Stmt::SessionIsolation(iso) => {
            s.set_isolation(*iso)?;
            Ok(message("Session altered."))
        }
        Stmt::Analyze { table } => {
            let st = s.analyze(table)?;
            s.store_stats(&st)?;
            Ok(message("Table analyzed."))
        }
        ddl => super::ddl_statements::run(s, ddl, &mut |s, e, names| bind(s, cx, e, names, None)),
    }
}

fn no_column(c: &str, table: &str) -> Error {
    Error::Sql(format!("column {c} does not exist in table {table}"))
}

/// The positions the inserted values go to, for `n` values per row.
fn column_map(def: &TableDef, columns: Option<&[String]>, n: usize) -> Result<Vec<usize>> {
    let map: Vec<usize> = match columns {
        None => def.visible_columns().map(|(i, _)| i).collect(),
        Some(cols) => cols
            .iter()
            .map(|c| def.column_index(c).ok_or_else(|| no_column(c, &def.name)))
            .collect::<Result<_>>()?,
    };
    if map.len() != n {
        return Err(Error::Sql(format!(
            "{} values for {} columns of {}",
            n,
            map.len(),
            def.name
        )));
    }
    Ok(map)
}

fn place(def: &TableDef, map: &[usize], vals: Row) -> Row {
    let mut row = vec![Value::Null; def.columns.len()];
    for (&p, v) in map.iter().zip(vals) {
        row[p] = v;
    }
    row
}

fn values_rows(
    s: &mut Session,
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
                _ => bind(s, cx, e, &[], None)?.eval(&[]),
            })
            .collect::<Result<Row>>()?;
        rows.push(if *identity { vals } else { place(def, m, vals) });
    }
    Ok(rows)
}

fn insert(s: &mut Session, cx: &Cx<'_>, def: &TableDef, rows: Vec<Row>) -> Result<u64> {
    if cx.hints.append {
        Ok(s.insert_append(&def.name, rows)?.rows)
    } else {
        s.insert_rows(&def.name, rows)
    }
}

/// The table of an UPDATE or DELETE with its WHERE clause bound.
struct Target {
    def: TableDef,
    names: Vec<String>,
    pred: Pred,
}

impl Target {
    fn new(s: &mut Session, cx: &Cx<'_>, table: &str, filter: Option<&Expr>) -> Result<Target> {
        let def = table_def(s, table)?;
        let names = column_names(&def);
        let types: Vec<ColType> = def.columns.iter().map(|c| c.ty).collect();
        let pred = match filter {
            Some(f) => to_pred(&bind(s, cx, f, &names, None)?, &names, &types),
            None => Pred::And(Vec::new()),
        };
        Ok(Target { def, names, pred })
    }

    /// The access path of a searched UPDATE/DELETE. DML must reach the
    /// table row, so it reads "every column": never index-only.
    fn choose(&self, s: &Session, cx: &Cx<'_>) -> optimizer::Choice {
        let indexes = s.core().catalog.read().indexes_of(&self.def.name);
        let all: Vec<usize> = (0..self.def.columns.len()).collect();
        optimizer::choose(Request {
            def: &self.def,
            alias: None,
            indexes: &indexes,
            stats: s.core().sql.stats_of(&self.def.name),
            pred: &self.pred,
            hints: cx.hints,
            needed: &all,
            order: &[],
        })
    }
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AggFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

fn agg_fn(name: &str) -> Option<AggFn> {
    Some(match name {
        "count" => AggFn::Count,
        "sum" => AggFn::Sum,
        "min" => AggFn::Min,
        "max" => AggFn::Max,
        "avg" => AggFn::Avg,
        _ => return None,
    })
}

/// One aggregate of a grouped query; `arg` is None for COUNT(*).
struct Agg {
    f: AggFn,
    arg: Option<E>,
    distinct: bool,
}

/// Where aggregates go while binding a grouped query's expressions.
struct AggSink<'a> {
    aggs: &'a mut Vec<Agg>,
    /// Position of the first aggregate value in the extended row.
    base: usize,
}

/// Binds `e` against columns `names`. With `aggs`, aggregate calls become
/// references into the extended row; without, they are an error.
fn bind(
    s: &mut Session,
    cx: &Cx<'_>,
    e: &Expr,
    names: &[String],
    mut aggs: Option<&mut AggSink<'_>>,
) -> Result<E> {
    let mut b = |x: &Expr, aggs: Option<&mut AggSink<'_>>| -> Result<Box<E>> {
        Ok(Box::new(bind(s, cx, x, names, aggs)?))
    };
    Ok(match e {
        Expr::Literal(v) => E::Const(v.clone()),
        Expr::Column(c) => match names.iter().position(|n| n == c && !n.is_empty()) {
            Some(p) => E::Col(p),
            None => return Err(Error::Sql(format!("no column named {c}"))),
        },
        Expr::Param(i) => E::Const(cx.binds.get(*i).cloned().unwrap_or(Value::Null)),
        Expr::Neg(x) => E::Neg(b(x, aggs)?),
        Expr::Not(x) => E::Not(b(x, aggs)?),
        Expr::Binary { op, left, right } => {
            let l = b(left, aggs.as_deref_mut())?;
            let r = b(right, aggs)?;
            if op.is_comparison() {
                E::Bin(*op, l, r)
            } else {
                E::Chain(l, vec![(*op, *r)])
            }
        }
        Expr::Chain { first, rest } => {
            let l = b(first, aggs.as_deref_mut())?;
            let mut v = Vec::with_capacity(rest.len());
            for (op, x) in rest {
                v.push((*op, *b(x, aggs.as_deref_mut())?));
            }
            E::Chain(l, v)
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let x = b(expr, aggs.as_deref_mut())?;
            let lo = b(low, aggs.as_deref_mut())?;
            E::Between(x, lo, b(high, aggs)?, *negated)
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let x = b(expr, aggs.as_deref_mut())?;
            let mut l = Vec::with_capacity(list.len());
            for i in list {
                l.push(*b(i, aggs.as_deref_mut())?);
            }
            E::In(x, l, *negated)
        }
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => {
            let x = b(expr, aggs)?;
            let q = select(s, cx, subquery, false)?;
            if q.columns.len() != 1 {
                return Err(Error::Sql(
                    "a subquery after IN must select exactly one column".into(),
                ));
            }
            let list = q
                .rows
                .into_iter()
                .map(|mut r| E::Const(r.pop().unwrap_or(Value::Null)))
                .collect();
            E::In(x, list, *negated)
        }
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let x = b(expr, aggs.as_deref_mut())?;
            E::Like(x, b(pattern, aggs)?, *negated)
        }
        Expr::IsNull { expr, negated } => E::IsNull(b(expr, aggs)?, *negated),
        Expr::Func {
            name,
            args,
            star,
            distinct,
        } => {
            if let Some(f) = agg_fn(name) {
                let Some(sink) = aggs else {
                    return Err(Error::Sql(format!(
                        "aggregate {}() is not allowed here",
                        name.to_uppercase()
                    )));
                };
                let arg = if *star {
                    None
                } else {
                    match args.as_slice() {
                        [a] => Some(bind(s, cx, a, names, None)?),
                        _ => {
                            return Err(Error::Sql(format!(
                                "{}() takes one argument",
                                name.to_uppercase()
                            )))
                        }
                    }
                };
                if f != AggFn::Count && arg.is_none() {
                    return Err(Error::Sql(format!(
                        "{}(*) is not valid",
                        name.to_uppercase()
                    )));
                }
                sink.aggs.push(Agg {
                    f,
                    arg,
                    distinct: *distinct,
                });
                return Ok(E::Col(sink.base + sink.aggs.len() - 1));
            }
            if (name == "user" || name == "current_user") && args.is_empty() {
                return Ok(E::Const(Value::Text(s.user().to_string())));
            }
            if name == "current_scn" && args.is_empty() {
                // The SCN a statement starting now reads as of (Oracle's
                // DBMS_FLASHBACK.GET_SYSTEM_CHANGE_NUMBER), for AS OF SCN.
                return Ok(E::Const(Value::Int(s.core().visible_scn().0 as i64)));
            }
            let mut bound = Vec::with_capacity(args.len());
            for a in args {
                bound.push(*b(a, aggs.as_deref_mut())?);
            }
            if let Some(f) = s.core().sql.function(name) {
                E::User {
                    name: name.clone(),
                    f,
                    args: bound,
                    stats: s.stats_handle().clone(),
                }
            } else if let Some(f) = Builtin::lookup(name) {
                E::Builtin(f, bound)
            } else {
                return Err(Error::Sql(format!("no function named {name}")));
            }
        }
    })
}

fn has_agg(e: &Expr) -> bool {
    match e {
        Expr::Func { name, args, .. } => agg_fn(name).is_some() || args.iter().any(has_agg),
        Expr::Neg(x) | Expr::Not(x) | Expr::IsNull { expr: x, .. } => has_agg(x),
        Expr::Binary { left, right, .. } => has_agg(left) || has_agg(right),
        Expr::Chain { first, rest } => has_agg(first) || rest.iter().any(|(_, x)| has_agg(x)),
        Expr::Between {
            expr, low, high, ..
        } => has_agg(expr) || has_agg(low) || has_agg(high),
        Expr::InList { expr, list, .. } => has_agg(expr) || list.iter().any(has_agg),
        Expr::InSubquery { expr, .. } => has_agg(expr),
        Expr::Like { expr, pattern, .. } => has_agg(expr) || has_agg(pattern),
        Expr::Literal(_) | Expr::Column(_) | Expr::Param(_) => false,
    }
}

/// The text of an expression, for a column heading.
fn heading(e: &Expr) -> String {
    match e {
        Expr::Literal(Value::Text(s)) => format!("'{s}'"),
        Expr::Literal(v) => v.to_string(),
        Expr::Column(c) => c.clone(),
        Expr::Param(i) => format!(":{}", i + 1),
        Expr::Neg(x) => format!("-{}", heading(x)),
        Expr::Not(x) => format!("NOT {}", heading(x)),
        Expr::Binary { op, left, right } => {
            format!("{} {} {}", heading(left), op.symbol(), heading(right))
        }
        Expr::Chain { first, rest } => {
            let mut h = heading(first);
            for (op, x) in rest {
                h.push_str(&format!(" {} {}", op.symbol(), heading(x)));
            }
            h
        }
        Expr::Func {
            name,
            args,
            star,
            distinct,
        } => format!(
            "{name}({}{})",
            if *distinct { "DISTINCT " } else { "" },
            if *star {
                "*".to_string()
            } else {
                args.iter().map(heading).collect::<Vec<_>>().join(", ")
            }
        ),
        Expr::IsNull { expr, negated } => {
            format!(
                "{} IS {}NULL",
                heading(expr),
                if *negated { "NOT " } else { "" }
            )
        }
        _ => "expr".to_string(),
    }
}

/// A query's result and its plan.
struct Query {
    columns: Vec<String>,
    rows: Vec<Row>,
    explain: Explain,
}

/// The source of a SELECT: its column names and types, and for a table
/// its definition.
fn source_columns(
    s: &Session,
    from: &From,
) -> Result<(Vec<String>, Vec<ColType>, Option<TableDef>)> {
    Ok(match from {
        From::Table { name, .. } => {
            let def = table_def(s, name)?;
            (
                column_names(&def),
                def.columns.iter().map(|c| c.ty).collect(),
                Some(def),
            )
        }
        From::Series { .. } => (vec!["value".into()], vec![ColType::Integer], None),
        From::Dual => (Vec::new(), Vec::new(), None),
    })
}

/// One select-list item, bound.
struct Item {
    name: String,
    expr: E,
    /// The table column it is, when it is a plain column (for sort avoidance).
    column: Option<usize>,
}

/// Runs (or, with `plan_only`, only plans) a SELECT.
fn select(s: &mut Session, cx: &Cx<'_>, sel: &Select, plan_only: bool) -> Result<Query> {
    let (names, types, def) = source_columns(s, &sel.from)?;
    let grouped = !sel.group_by.is_empty()
        || sel.having.is_some()
        || sel.items.iter().any(|i| match i {
            SelectItem::Expr { expr, .. } => has_agg(expr),
            SelectItem::Wildcard => false,
        })
        || sel.order_by.iter().any(|o| has_agg(&o.expr));

    // WHERE
    let mut needed = Vec::new();
    let filter = match &sel.filter {
        Some(f) => {
            let e = bind(s, cx, f, &names, None)?;
            e.columns(&mut needed);
            Some(e)
        }
        None => None,
    };

    // Select list, GROUP BY, HAVING, ORDER BY (aggregates collected).
    let mut aggs = Vec::new();
    let base = names.len();
    let mut items = Vec::new();
    for it in &sel.items {
        match it {
            SelectItem::Wildcard => {
                for (i, n) in names.iter().enumerate().filter(|(_, n)| !n.is_empty()) {
                    items.push(Item {
                        name: n.clone(),
                        expr: E::Col(i),
                        column: Some(i),
                    });
                }
            }
            SelectItem::Expr { expr, alias } => {
                let mut sink = AggSink {
                    aggs: &mut aggs,
                    base,
                };
                let e = bind(s, cx, expr, &names, grouped.then_some(&mut sink))?;
                let column = match (&e, grouped) {
                    (E::Col(c), false) => Some(*c),
                    _ => None,
                };
                items.push(Item {
                    name: alias.clone().unwrap_or_else(|| heading(expr)),
                    expr: e,
                    column,
                });
            }
        }
    }
    let group_by = sel
        .group_by
        .iter()
        .map(|g| {
            // GROUP BY 1 and GROUP BY alias name select-list items.
            match g {
                Expr::Literal(Value::Int(k)) if *k >= 1 && (*k as usize) <= sel.items.len() => {
                    match &sel.items[*k as usize - 1] {
                        SelectItem::Expr { expr, .. } => bind(s, cx, expr, &names, None),
                        SelectItem::Wildcard => Err(Error::Sql("GROUP BY a * position".into())),
                    }
                }
                _ => bind(s, cx, g, &names, None),
            }
        })
        .collect::<Result<Vec<E>>>()?;
    let having = match &sel.having {
        Some(h) => {
            let mut sink = AggSink {
                aggs: &mut aggs,
                base,
            };
            Some(bind(s, cx, h, &names, Some(&mut sink))?)
        }
        None => None,
    };
    // ORDER BY keys: a position or alias names a select-list item;
    // anything else is an expression on the source (or extended) row.
    enum Key {
        Item(usize),
        Expr(E),
    }
    let mut keys = Vec::new();
    for o in &sel.order_by {
        let key = match &o.expr {
            Expr::Literal(Value::Int(k)) => {
                if *k < 1 || *k as usize > items.len() {
                    return Err(Error::Sql(format!(
                        "ORDER BY position {k} is not in the select list"
                    )));
                }
                Key::Item(*k as usize - 1)
            }
            Expr::Column(c) if !names.contains(c) || items.iter().any(|i| i.name == *c) => {
                match items.iter().position(|i| i.name == *c) {
                    Some(p) => Key::Item(p),
                    None => return Err(Error::Sql(format!("no column named {c}"))),
                }
            }
            e => {
                let mut sink = AggSink {
                    aggs: &mut aggs,
                    base,
                };
                Key::Expr(bind(s, cx, e, &names, grouped.then_some(&mut sink))?)
            }
        };
        keys.push((key, o.desc, o.nulls_first.unwrap_or(o.desc)));
    }

    // Columns the statement reads (for index-only access).
    items.iter().for_each(|i| {
        if !grouped {
            i.expr.columns(&mut needed)
        }
    });
    for a in &aggs {
        if let Some(e) = &a.arg {
            e.columns(&mut needed);
        }
    }
    group_by.iter().for_each(|g| g.columns(&mut needed));
    if grouped {
        // Bare columns in a grouped select list read the first row.
        items.iter().for_each(|i| {
            let mut cols = Vec::new();
            i.expr.columns(&mut cols);
            needed.extend(cols.into_iter().filter(|&c| c < base));
        });
    }
    for (k, _, _) in &keys {
        if let Key::Expr(e) = k {
            let mut cols = Vec::new();
            e.columns(&mut cols);
            needed.extend(cols.into_iter().filter(|&c| c < base));
        }
    }

    // The order wanted from the access path, as table columns.
    let order: Option<Vec<OrderKey>> = if grouped || sel.distinct {
        None
    } else {
        keys.iter()
            .map(|(k, desc, nf)| {
                let col = match k {
                    Key::Item(i) => items[*i].column,
                    Key::Expr(E::Col(c)) => Some(*c),
                    Key::Expr(_) => None,
                };
                col.map(|c| (c, *desc, *nf))
            })
            .collect()
    };

    // OFFSET and LIMIT are known before any row is read. When nothing
    // between the source and the LIMIT needs every row (no grouping, no
    // DISTINCT, no sort), the source stops after OFFSET + LIMIT rows
    // (Oracle's COUNT STOPKEY): a LIMIT 3 reads three rows' worth of
    // blocks, not the table, and never builds a billion-row series.
    let offset = match &sel.offset {
        Some(e) => count_value(bind(s, cx, e, &[], None)?.eval(&[])?)?,
        None => 0,
    };
    let limit = match &sel.limit {
        Some(e) => count_value(bind(s, cx, e, &[], None)?.eval(&[])?)?,
        None => usize::MAX,
    };
    let stop_after =
        (sel.limit.is_some() && !grouped && !sel.distinct).then(|| offset.saturating_add(limit));

    // Access.
    let mut lines: Vec<PlanLine> = Vec::new();
    let mut plan_rows = Vec::new();
    let mut notes = Vec::new();
    let mut sorted_by_access = false;
    let rows_est;
    let cost;
    let source: Vec<Row> = match (&sel.from, &def) {
        (From::Table { name, alias, as_of }, Some(def)) => {
            let pred = match &filter {
                Some(e) => to_pred(e, &names, &types),
                None => Pred::And(Vec::new()),
            };
            let indexes = s.core().catalog.read().indexes_of(&def.name);
            let want = order.clone().unwrap_or_default();
            let choice = optimizer::choose(Request {
                def,
                alias: alias.as_deref(),
                indexes: &indexes,
                stats: s.core().sql.stats_of(&def.name),
                pred: &pred,
                hints: cx.hints,
                needed: &needed,
                order: &want,
            });
            if choice.by_rules {
                notes.push(format!(
                    "no statistics on {}: the access path was chosen by rules and the costs use defaults (ANALYZE TABLE {} to cost it)",
                    def.name, def.name
                ));
            }
            sorted_by_access = choice.sorted && order.is_some();
            rows_est = choice.rows;
            cost = choice.cost;
            lines.extend(choice.lines.iter().cloned());
            plan_rows.push(choice.row.clone());
            if plan_only {
                Vec::new()
            } else {
                let scn = match as_of {
                    Some(e) => {
                        let v = bind(s, cx, e, &[], None)?.eval(&[])?;
                        match v {
                            Value::Int(n) if n >= 0 => Some(Scn(n as u64)),
                            other => {
                                return Err(Error::Sql(format!(
                                    "AS OF SCN needs a non-negative integer, got {other}"
                                )))
                            }
                        }
                    }
                    None => None,
                };
                // Rows the access delivers in the ORDER BY's order need
                // no sort, so the LIMIT still stops them.
                let stop = stop_after.filter(|_| keys.is_empty() || sorted_by_access);
                let r = s.query_at(name, &pred, choice.access, scn, stop)?;
                r.rows.into_iter().map(|(_, row)| row).collect()
            }
        }
        (From::Series { start, stop }, _) => {
            let a = bind(s, cx, start, &[], None)?.eval(&[])?;
            let b = bind(s, cx, stop, &[], None)?.eval(&[])?;
            let (Value::Int(a), Value::Int(b)) = (a, b) else {
                return Err(Error::Sql("generate_series needs two integers".into()));
            };
            // i128: `b - a + 1` overflows i64 for the widest ranges.
            let n = (i128::from(b) - i128::from(a) + 1).clamp(0, i128::from(u64::MAX)) as u64;
            rows_est = n;
            cost = 0;
            let mut l = optimizer::line("GENERATE SERIES", None, n, 0);
            l.filter = filter.as_ref().map(|e| e.render(&names));
            lines.push(l);
            if plan_only {
                Vec::new()
            } else {
                let stop = stop_after.filter(|_| keys.is_empty());
                series(a, b, n, stop, &filter)?
            }
        }
        _ => {
            rows_est = 1;
            cost = 0;
            lines.push(optimizer::line("FAST DUAL", None, 1, 0));
            if keep(&filter, &[])? {
                vec![Vec::new()]
            } else {
                Vec::new()
            }
        }
    };

    // Group and aggregate.
    let work: Vec<Row> = if grouped {
        let mut groups: Vec<(Row, Vec<Acc>)> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for row in source {
            let key: Row = group_by
                .iter()
                .map(|g| g.eval(&row))
                .collect::<Result<_>>()?;
            let k = encode_row(&key);
            let gi = match index.get(&k) {
                Some(&i) => i,
                None => {
                    index.insert(k, groups.len());
                    groups.push((row.clone(), aggs.iter().map(|_| Acc::default()).collect()));
                    groups.len() - 1
                }
            };
            for (acc, a) in groups[gi].1.iter_mut().zip(&aggs) {
                let v = match &a.arg {
                    Some(e) => Some(e.eval(&row)?),
                    None => None,
                };
                acc.add(a, v)?;
            }
        }
        if groups.is_empty() && group_by.is_empty() {
            groups.push((
                vec![Value::Null; names.len()],
                aggs.iter().map(|_| Acc::default()).collect(),
            ));
        }
        let mut out = Vec::with_capacity(groups.len());
        for (first, accs) in groups {
            let mut ext = first;
            ext.resize(base, Value::Null);
            for (acc, a) in accs.into_iter().zip(&aggs) {
                ext.push(acc.finish(a));
            }
            if let Some(h) = &having {
                if as_bool(&h.eval(&ext)?) != Some(true) {
                    continue;
                }
            }
            out.push(ext);
        }
        out
    } else {
        source
    };

    // Project, with sort keys.
    let mut out: Vec<(Row, Row)> = Vec::with_capacity(work.len());
    for row in &work {
        let vals: Row = items
            .iter()
            .map(|i| i.expr.eval(row))
            .collect::<Result<_>>()?;
        let ks: Row = keys
            .iter()
            .map(|(k, _, _)| match k {
                Key::Item(i) => Ok(vals[*i].clone()),
                Key::Expr(e) => e.eval(row),
            })
            .collect::<Result<_>>()?;
        out.push((vals, ks));
    }
    if sel.distinct {
        let mut seen = std::collections::HashSet::new();
        out.retain(|(v, _)| seen.insert(encode_row(v)));
    }
    let need_sort = !keys.is_empty() && !sorted_by_access;
    if need_sort && !plan_only {
        s.stats_handle().inc(Stat::SortsMemory);
        s.stats_handle().add(Stat::SortsRows, out.len() as u64);
        out.sort_by(|a, b| {
            for (i, (_, desc, nulls_first)) in keys.iter().enumerate() {
                let o = order_values(&a.1[i], &b.1[i], *desc, *nulls_first);
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let rows: Vec<Row> = out
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(v, _)| v)
        .collect();

    // The plan: statement line, sort/group line, access lines.
    let mut top = Vec::new();
    let est_out = if grouped && group_by.is_empty() {
        1
    } else {
        rows_est
    };
    top.push(optimizer::line("SELECT STATEMENT", None, est_out, cost));
    if grouped {
        top.push(optimizer::line(
            if group_by.is_empty() {
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
        top.push(optimizer::line("SORT ORDER BY", None, est_out, cost));
    }
    if sel.distinct {
        top.push(optimizer::line("HASH UNIQUE", None, est_out, cost));
    }
    if sel.limit.is_some() {
        top.push(optimizer::line("COUNT STOPKEY", None, est_out, cost));
    }
    let mut all = top;
    all.extend(lines);
    for (i, l) in all.iter_mut().enumerate() {
        l.id = i;
        l.depth = i;
    }
    // Siblings under an INLIST ITERATOR / TABLE ACCESS nest one deeper each;
    // the chain above is a straight line, so depth = position works.
    if let Some(r) = plan_rows.first_mut() {
        if need_sort {
            r.sortc_orderby = "Y".into();
        }
        if grouped && !group_by.is_empty() {
            r.sortc_groupby = "Y".into();
        }
        if sel.distinct {
            r.sortc_uniq = "Y".into();
        }
    }
    if need_sort || (grouped && !group_by.is_empty()) || sel.distinct {
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
    Ok(Query {
        columns: items.into_iter().map(|i| i.name).collect(),
        rows,
        explain: Explain {
            lines: all,
            plan_table: plan_rows,
            notes,
        },
    })
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

fn keep(filter: &Option<E>, row: &[Value]) -> Result<bool> {
    Ok(match filter {
        Some(e) => as_bool(&e.eval(row)?) == Some(true),
        None => true,
    })
}

fn count_value(v: Value) -> Result<usize> {
    match v {
        Value::Int(n) if n >= 0 => Ok(n as usize),
        Value::Int(_) => Ok(usize::MAX),
        other => Err(Error::Sql(format!(
            "LIMIT/OFFSET needs an integer, got {other}"
        ))),
    }
}

/// ORDER BY comparison of two values: NULLs first or last as asked, other
/// values by `compare` (numbers numerically, text by bytes; a number sorts
/// before text, as in SQLite).
fn order_values(a: &Value, b: &Value, desc: bool, nulls_first: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_null(), b.is_null()) {
        (true, true) => return Equal,
        (true, false) => return if nulls_first { Less } else { Greater },
        (false, true) => return if nulls_first { Greater } else { Less },
        _ => {}
    }
    let o = compare(a, b).unwrap_or_else(|| {
        let rank = |v: &Value| match v {
            Value::Text(_) => 1,
            _ => 0,
        };
        rank(a).cmp(&rank(b))
    });
    if desc {
        o.reverse()
    } else {
        o
    }
}

/// An aggregate's running state.
#[derive(Default)]
struct Acc {
    count: i64,
    int_sum: Option<i64>,
    real_sum: f64,
    is_real: bool,
    overflow: bool,
    best: Option<Value>,
    seen: Option<std::collections::HashSet<Vec<u8>>>,
}

impl Acc {
    fn add(&mut self, a: &Agg, v: Option<Value>) -> Result<()> {
        let Some(v) = v else {
            self.count += 1; // COUNT(*)
            return Ok(());
        };
        if v.is_null() {
            return Ok(());
        }
        if a.distinct
            && !self
                .seen
                .get_or_insert_with(Default::default)
                .insert(encode_row(std::slice::from_ref(&v)))
        {
            return Ok(());
        }
        self.count += 1;
        match a.f {
            AggFn::Count => {}
            AggFn::Sum | AggFn::Avg => match v {
                Value::Int(i) => {
                    self.real_sum += i as f64;
                    match self.int_sum.unwrap_or(0).checked_add(i) {
                        Some(s) => self.int_sum = Some(s),
                        None => self.overflow = true,
                    }
                }
                Value::Real(r) => {
                    self.is_real = true;
                    self.real_sum += r;
                }
                Value::Text(t) => {
                    return Err(Error::Sql(format!("cannot sum the text value '{t}'")))
                }
                Value::Null => {}
            },
            AggFn::Min | AggFn::Max => {
                let better = match &self.best {
                    None => true,
                    Some(b) => {
                        let o = order_values(&v, b, false, false);
                        if a.f == AggFn::Min {
                            o == std::cmp::Ordering::Less
                        } else {
                            o == std::cmp::Ordering::Greater
                        }
                    }
                };
                if better {
                    self.best = Some(v);
                }
            }
        }
        Ok(())
    }

    fn finish(self, a: &Agg) -> Value {
        match a.f {
            AggFn::Count => Value::Int(self.count),
            AggFn::Sum if self.count == 0 => Value::Null,
            AggFn::Sum if self.is_real || self.overflow => Value::Real(self.real_sum),
            AggFn::Sum => Value::Int(self.int_sum.unwrap_or(0)),
            AggFn::Avg if self.count == 0 => Value::Null,
            AggFn::Avg => Value::Real(self.real_sum / self.count as f64),
            AggFn::Min | AggFn::Max => self.best.unwrap_or(Value::Null),
        }
    }
}

/// EXPLAIN of a statement: its plan without running it.
fn explain(s: &mut Session, cx: &Cx<'_>, stmt: &Stmt) -> Result<Explain> {
    let wrap = |op: &str, obj: Option<&str>, mut inner: Explain| {
        let (rows, cost) = inner
            .lines
            .first()
            .map(|l| (l.rows, l.cost))
            .unwrap_or((0, 0));
        let mut lines = vec![
            optimizer::line(&format!("{op} STATEMENT"), None, rows, cost),
            optimizer::line(
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
        // Drop the inner SELECT STATEMENT line.
        if inner
            .lines
            .first()
            .is_some_and(|l| l.operation == "SELECT STATEMENT")
        {
            inner.lines.remove(0);
        }
        lines.extend(inner.lines);
        for (i, l) in lines.iter_mut().enumerate() {
            l.id = i;
            l.depth = i;
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
                    lines: vec![optimizer::line("VALUES", None, v.len() as u64, 0)],
                    ..Explain::default()
                },
            };
            Ok(wrap("INSERT", Some(table), inner))
        }
        Stmt::Update { table, filter, .. } | Stmt::Delete { table, filter } => {
            let t = Target::new(s, cx, table, filter.as_ref())?;
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

/// The names statements use for a table's columns, by position; a dropped
/// column has an empty name, which no reference can match.
pub(crate) fn column_names(def: &TableDef) -> Vec<String> {
    def.columns
        .iter()
        .map(|c| {
            if c.hidden {
                String::new()
            } else {
                c.name.clone()
            }
        })
        .collect()
}
