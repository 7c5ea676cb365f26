//! One SQL statement instead of a loop: an UPDATE or DELETE through a
//! join view, and MERGE. Each finds its rows with one join query and
//! changes them through the same current-mode path as a searched UPDATE
//! (`Context::change_found`: row locks, undo, redo, write consistency).
//!
//! ```text
//!  UPDATE (SELECT o.status, r.new_status FROM orders o JOIN ref r ON r.id = o.ref_id)
//!     SET status = new_status
//!        │ key preservation: every other table is joined through the
//!        │ equalities covering one of its PRIMARY KEY / UNIQUE keys
//!        │ (else ORA-01779)
//!        ▼
//!  SELECT o.<rowid>, o.*, <view items> FROM orders o JOIN ref r ON …   (one join)
//!        │ per row: the SET values, computed from the joined row
//!        ▼
//!  change_found(orders): lock, compare, change each row in current mode
//! ```
//!
//! The join carries the target's rowid in a hidden column of that
//! relation (`join::ROWID_COL`, asked for with `Cx::rowid_of`). A view
//! stored in the catalog is its query, taken the same way.
//!
//! Key preservation (Oracle, *Database Administrator's Guide*, "Updating
//! a Join View"): a table is key-preserved when each row of it appears at
//! most once in the join, which holds when each other table is joined by
//! equalities (to another table's column or to a constant) covering one of
//! its PRIMARY KEY or UNIQUE constraints: then no row of the other table
//! can pair twice with one row of this one. Only such a table's columns
//! may be set (ORA-01779 otherwise), and a DELETE deletes from the first
//! key-preserved table of the FROM clause. This is checked on the
//! constraints, not on the data: a join that happens to be one-to-one
//! today is still refused.
//!
//! MERGE (Oracle, *SQL Language Reference*, "MERGE") runs `source LEFT
//! JOIN target ON cond` once: a source row with a target row is matched
//! (updated when the WHEN MATCHED branch's WHERE holds, then deleted when
//! its DELETE WHERE holds on the new values), one without is inserted
//! (when WHEN NOT MATCHED's WHERE holds). A target row matched by two
//! source rows is ORA-30926; a SET of a column the ON clause reads is
//! ORA-38104. Rows processed: the rows updated, deleted and inserted.
//!
//! Simplifications: the write-consistency check compares every visible
//! column of the target (Oracle compares those the statement reads), so
//! a concurrent change to any column restarts the statement; the view's
//! select list must name columns (no `*`), and the view is one query
//! block (no GROUP BY, DISTINCT or compound).

use std::collections::HashSet;

use super::ast::{Assign, BinOp, Expr, From, JoinKind, Merge, Select, SelectItem};
use super::bind::{bind, table_def};
use super::eval::{as_bool, E};
use super::execute::{column_map, place, Cx};
use super::join::ROWID_COL;
use super::select::select;
use super::subquery::{bind_subquery, row_items, Kind};
use crate::catalog::TableDef;
use crate::context::{Context, Found, FoundChange};
use crate::error::{Error, Result};
use crate::ids::RowId;
use crate::value::{Row, Value};

/// One relation of a view's FROM clause, as the key-preservation rule
/// sees it.
struct ViewRel {
    qual: String,
    /// The table; `None` for a derived table or another source (never
    /// key-preserved, never a key).
    def: Option<TableDef>,
    /// The optional side of a LEFT JOIN (its rows may be NULLs).
    outer: bool,
}

/// The relations of `from`, left to right, and the conditions that join
/// them (inner ON conditions).
fn view_rels(s: &Context, from: &From, rels: &mut Vec<ViewRel>, on: &mut Vec<Expr>) -> Result<()> {
    match from {
        From::Table { name, alias, .. } => rels.push(ViewRel {
            qual: alias.clone().unwrap_or_else(|| name.clone()),
            def: Some(table_def(s, name)?),
            outer: false,
        }),
        From::Join {
            left,
            right,
            kind,
            on: cond,
        } => {
            view_rels(s, left, rels, on)?;
            let first = rels.len();
            view_rels(s, right, rels, on)?;
            match kind {
                JoinKind::Inner => on.extend(cond.iter().cloned()),
                JoinKind::Left => rels[first..].iter_mut().for_each(|r| r.outer = true),
            }
        }
        From::Derived { alias, .. } => rels.push(ViewRel {
            qual: alias.clone().unwrap_or_default(),
            def: None,
            outer: false,
        }),
        From::Series { .. } | From::Dual | From::Dictionary { .. } => rels.push(ViewRel {
            qual: String::new(),
            def: None,
            outer: false,
        }),
    }
    Ok(())
}

/// The terms of an AND chain.
fn and_terms<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary {
            op: BinOp::And,
            left,
            right,
        } => {
            and_terms(left, out);
            and_terms(right, out);
        }
        Expr::Chain { first, rest } if rest.iter().all(|(op, _)| *op == BinOp::And) => {
            and_terms(first, out);
            rest.iter().for_each(|(_, x)| and_terms(x, out));
        }
        other => out.push(other),
    }
}

/// The (relation, column position) a column reference names.
fn column_of(rels: &[ViewRel], e: &Expr) -> Option<(usize, usize)> {
    match e {
        Expr::Qualified(q, c) => rels.iter().enumerate().find_map(|(i, r)| {
            (r.qual == *q)
                .then(|| r.def.as_ref()?.column_index(c))
                .flatten()
                .map(|p| (i, p))
        }),
        Expr::Column(c) => {
            let mut found = rels
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i, r.def.as_ref()?.column_index(c)?)));
            match (found.next(), found.next()) {
                (Some(f), None) => Some(f),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Which relations of a join are key-preserved (see the module docs):
/// relation `t` is when every other relation `o` has a PRIMARY KEY or
/// UNIQUE constraint whose columns are all equated, by the join's
/// conditions, to a column of another relation or to a constant.
fn key_preserved(s: &Context, rels: &[ViewRel], conds: &[&Expr]) -> Vec<bool> {
    // The columns of each relation fixed by an equality.
    let mut fixed: Vec<HashSet<usize>> = vec![HashSet::new(); rels.len()];
    for c in conds {
        let Expr::Binary {
            op: BinOp::Eq,
            left,
            right,
        } = c
        else {
            continue;
        };
        let (l, r) = (column_of(rels, left), column_of(rels, right));
        let constant = |e: &Expr| matches!(e, Expr::Literal(_) | Expr::Param(_));
        match (l, r) {
            (Some((a, ca)), Some((b, cb))) if a != b => {
                fixed[a].insert(ca);
                fixed[b].insert(cb);
            }
            (Some((a, ca)), None) if constant(right) => {
                fixed[a].insert(ca);
            }
            (None, Some((b, cb))) if constant(left) => {
                fixed[b].insert(cb);
            }
            _ => {}
        }
    }
    let keyed: Vec<bool> = rels
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.def.as_ref().is_some_and(|d| {
                s.schema()
                    .catalog
                    .read()
                    .unique_keys_of(&d.name)
                    .iter()
                    .any(|k| !k.is_empty() && k.iter().all(|c| fixed[i].contains(c)))
            })
        })
        .collect();
    (0..rels.len())
        .map(|t| {
            rels[t].def.is_some() && !rels[t].outer && (0..rels.len()).all(|o| o == t || keyed[o])
        })
        .collect()
}

/// A join view's query checked for DML: its relations, which are
/// key-preserved, and the underlying (relation, column) of each select
/// item (`None` for an expression).
struct View {
    rels: Vec<ViewRel>,
    preserved: Vec<bool>,
    items: Vec<(String, Option<(usize, usize)>)>,
}

fn view_of(s: &mut Context, cx: &Cx<'_>, view: &Select) -> Result<View> {
    if !view.compound.is_empty()
        || !view.group_by.is_empty()
        || view.having.is_some()
        || view.distinct
    {
        return Err(Error::Sql(
            "ORA-01732: data manipulation operation not legal on this view (a compound, grouped or DISTINCT query)".into(),
        ));
    }
    let mut rels = Vec::new();
    let mut on = Vec::new();
    view_rels(s, &view.from, &mut rels, &mut on)?;
    let mut conds = Vec::new();
    for e in on.iter().chain(&view.filter) {
        and_terms(e, &mut conds);
    }
    let preserved = key_preserved(s, &rels, &conds);
    let names = select(s, cx, view, true)?.columns;
    let mut items = Vec::new();
    for (it, name) in view.items.iter().zip(names) {
        match it {
            SelectItem::Expr { expr, .. } => items.push((name, column_of(&rels, expr))),
            _ => {
                return Err(Error::Sql(
                    "a view changed by DML must name its columns (no *)".into(),
                ))
            }
        }
    }
    Ok(View {
        rels,
        preserved,
        items,
    })
}

/// The query that finds a DML statement's rows: `from` (and `filter`)
/// selecting the rowid and every column of relation `qual` (of table
/// `def`), then `rest`. Its rows are `[rowid, target columns…, rest…]`.
fn finder_query(base: &Select, qual: &str, def: &TableDef, rest: Vec<SelectItem>) -> Select {
    let mut q = base.clone();
    let col = |c: Expr| SelectItem::Expr {
        expr: c,
        alias: None,
    };
    let mut items = vec![col(Expr::Qualified(qual.into(), ROWID_COL.into()))];
    for c in &def.columns {
        items.push(col(if c.hidden {
            Expr::Literal(Value::Null)
        } else {
            Expr::Qualified(qual.into(), c.name.clone())
        }));
    }
    items.extend(rest);
    q.items = items;
    q.order_by.clear();
    q
}

/// The visible columns of `def`: what the write-consistency check compares.
fn visible(def: &TableDef) -> Vec<usize> {
    (0..def.columns.len())
        .filter(|&c| !def.columns[c].hidden)
        .collect()
}

/// Binds a SET list against `names`: (target column position, value).
fn bind_sets(
    s: &mut Context,
    cx: &Cx<'_>,
    sets: &[Assign],
    names: &[String],
    target: &dyn Fn(&str) -> Result<usize>,
) -> Result<Vec<(usize, E)>> {
    let mut out = Vec::new();
    for a in sets {
        match a {
            Assign::Column(c, e) => out.push((target(c)?, bind(s, cx, e, names, None)?)),
            Assign::Row(cols, sel) => {
                let kind = Kind::Row {
                    index: 0,
                    width: cols.len(),
                };
                let first = bind_subquery(s, cx, sel, names, kind, None)?;
                for (c, e) in cols.iter().zip(row_items(first, cols.len())) {
                    out.push((target(c)?, e));
                }
            }
        }
    }
    Ok(out)
}

fn truth(e: Option<&E>, row: &[Value]) -> Result<bool> {
    match e {
        Some(e) => Ok(as_bool(&e.eval(row)?) == Some(true)),
        None => Ok(true),
    }
}

fn rowid_at(row: &[Value]) -> Option<RowId> {
    match row.first() {
        Some(Value::Int(n)) => Some(RowId::from_u64(*n as u64)),
        _ => None,
    }
}

/// Runs `q` in a context of its own (its own statement snapshot): the
/// calling context is inside the statement that changes the rows.
fn run_query(
    caller: &crate::context::Caller,
    cx: &Cx<'_>,
    q: &Select,
    qual: &str,
) -> Result<Vec<Row>> {
    let mut ctx = caller.context()?;
    let cx = Cx {
        rowid_of: Some(qual),
        fetch_size: 0,
        ..*cx
    };
    // Only the join layer carries rowids: a view of one table goes
    // through it joined with DUAL (one row of no columns, so the join is
    // the table itself).
    let mut q = q.clone();
    if matches!(q.from, From::Table { .. }) {
        q.from = From::Join {
            left: Box::new(q.from),
            right: Box::new(From::Dual),
            kind: JoinKind::Inner,
            on: None,
        };
    }
    Ok(select(&mut ctx, &cx, &q, false)?.rows)
}

/// `UPDATE (view) SET … [WHERE …]` (`delete`: false) or `DELETE FROM
/// (view) [WHERE …]`: the rows changed.
pub(super) fn view_dml(
    s: &mut Context,
    cx: &Cx<'_>,
    view: &Select,
    sets: &[Assign],
    filter: Option<&Expr>,
    delete: bool,
) -> Result<u64> {
    let v = view_of(s, cx, view)?;
    let t = if delete {
        v.preserved.iter().position(|&p| p).ok_or_else(|| {
            Error::Sql(
                "ORA-01752: cannot delete from view without exactly one key-preserved table".into(),
            )
        })?
    } else {
        let mut target = None;
        for a in sets {
            for c in a.columns() {
                let item = v.items.iter().find(|(n, _)| n == c);
                let (r, _) = match item {
                    Some((_, Some(rc))) => *rc,
                    Some((_, None)) => {
                        return Err(Error::Sql(format!(
                            "ORA-01733: virtual column not allowed here: {c}"
                        )))
                    }
                    None => return Err(Error::Sql(format!("no column named {c}"))),
                };
                if target.is_some_and(|t| t != r) {
                    return Err(Error::Sql(
                        "ORA-01776: cannot modify more than one base table through a join view"
                            .into(),
                    ));
                }
                if !v.preserved[r] {
                    return Err(Error::NonKeyPreserved {
                        column: c.to_string(),
                    });
                }
                target = Some(r);
            }
        }
        target.ok_or_else(|| Error::Sql("an UPDATE sets at least one column".into()))?
    };
    let rel = &v.rels[t];
    let def = rel
        .def
        .clone()
        .ok_or_else(|| Error::Internal("a key-preserved relation without a table".into()))?;
    let width = def.columns.len();
    let q = finder_query(view, &rel.qual, &def, view.items.clone());
    // The user's SET and WHERE name the view's columns, after the hidden
    // rowid and target columns.
    let mut names = vec![String::new(); 1 + width];
    names.extend(v.items.iter().map(|(n, _)| n.clone()));
    let target_col = |c: &str| -> Result<usize> {
        v.items
            .iter()
            .find(|(n, _)| n == c)
            .and_then(|(_, rc)| rc.map(|(_, p)| p))
            .ok_or_else(|| Error::Sql(format!("no column named {c}")))
    };
    let assign = bind_sets(s, cx, sets, &names, &target_col)?;
    let filter = match filter {
        Some(f) => Some(bind(s, cx, f, &names, None)?),
        None => None,
    };
    let caller = s.caller();
    let find = || -> Result<(Vec<Found>, Vec<Row>)> {
        let mut found = Vec::new();
        for row in run_query(&caller, cx, &q, &rel.qual)? {
            if !truth(filter.as_ref(), &row)? {
                continue;
            }
            let Some(rowid) = rowid_at(&row) else {
                continue;
            };
            let change = if delete {
                FoundChange::Delete
            } else {
                let mut vals = Vec::with_capacity(assign.len());
                for (c, e) in &assign {
                    vals.push((*c, e.eval(&row)?));
                }
                FoundChange::Update(vals)
            };
            found.push(Found {
                rowid,
                seen: row[1..=width].to_vec(),
                change,
            });
        }
        Ok((found, Vec::new()))
    };
    s.change_found(&def.name, &visible(&def), &find)
}

/// The columns of the target a MERGE's ON clause reads.
fn on_columns(on: &Expr, qual: &str, def: &TableDef, source: &[String], out: &mut Vec<String>) {
    match on {
        Expr::Qualified(q, c) if q == qual => out.push(c.clone()),
        Expr::Column(c) if def.column_index(c).is_some() && !source.contains(c) => {
            out.push(c.clone())
        }
        Expr::Binary { left, right, .. } => {
            on_columns(left, qual, def, source, out);
            on_columns(right, qual, def, source, out);
        }
        Expr::Chain { first, rest } => {
            on_columns(first, qual, def, source, out);
            rest.iter()
                .for_each(|(_, x)| on_columns(x, qual, def, source, out));
        }
        Expr::Not(x) | Expr::Neg(x) => on_columns(x, qual, def, source, out),
        _ => {}
    }
}

/// `MERGE INTO … USING … ON … WHEN …`: the rows updated, deleted and
/// inserted.
pub(super) fn merge(s: &mut Context, cx: &Cx<'_>, m: &Merge) -> Result<u64> {
    let def = table_def(s, &m.target)?;
    let tq = m.target_alias.clone().unwrap_or_else(|| m.target.clone());
    let width = def.columns.len();
    let (sq, source_cols) = match &m.source {
        From::Table { name, alias, .. } => {
            let sd = table_def(s, name)?;
            (
                alias.clone().unwrap_or_else(|| name.clone()),
                sd.columns
                    .iter()
                    .filter(|c| !c.hidden)
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>(),
            )
        }
        From::Derived { select: sub, alias } => (
            alias.clone().unwrap_or_default(),
            select(s, cx, sub, true)?.columns,
        ),
        _ => return Err(Error::Sql("MERGE USING takes a table or a subquery".into())),
    };
    // ORA-38104: the ON clause decides which rows match; setting one of
    // its columns could make a row match differently mid-statement.
    let mut on_cols = Vec::new();
    on_columns(&m.on, &tq, &def, &source_cols, &mut on_cols);
    if let Some(u) = &m.matched {
        for a in &u.sets {
            if let Some(c) = a
                .columns()
                .into_iter()
                .find(|c| on_cols.iter().any(|o| o == c))
            {
                return Err(Error::MergeOnColumn {
                    column: c.to_string(),
                });
            }
        }
    }
    // source LEFT JOIN target ON cond: [rowid, target…, source…].
    let base = Select {
        from: From::Join {
            left: Box::new(m.source.clone()),
            right: Box::new(From::Table {
                name: m.target.clone(),
                alias: m.target_alias.clone(),
                as_of: None,
            }),
            kind: JoinKind::Left,
            on: Some(m.on.clone()),
        },
        ..empty_select()
    };
    let rest = source_cols
        .iter()
        .map(|c| SelectItem::Expr {
            expr: Expr::Qualified(sq.clone(), c.clone()),
            alias: None,
        })
        .collect();
    let q = finder_query(&base, &tq, &def, rest);
    let mut names = vec![String::new()];
    names.extend(def.columns.iter().map(|c| {
        if c.hidden {
            String::new()
        } else {
            format!("{tq}.{}", c.name)
        }
    }));
    names.extend(source_cols.iter().map(|c| format!("{sq}.{c}")));
    let target_col = |c: &str| {
        def.column_index(c)
            .ok_or_else(|| Error::Sql(format!("column {c} does not exist in table {}", def.name)))
    };
    let bound = |e: &Option<Expr>, s: &mut Context| -> Result<Option<E>> {
        e.as_ref().map(|e| bind(s, cx, e, &names, None)).transpose()
    };
    let (assign, up_filter, del_filter) = match &m.matched {
        Some(u) => (
            Some(bind_sets(s, cx, &u.sets, &names, &target_col)?),
            bound(&u.filter, s)?,
            bound(&u.delete, s)?,
        ),
        None => (None, None, None),
    };
    let insert = match &m.not_matched {
        Some(i) => {
            let map = column_map(&def, i.columns.as_deref(), i.values.len())?;
            let values = i
                .values
                .iter()
                .map(|e| bind(s, cx, e, &names, None))
                .collect::<Result<Vec<_>>>()?;
            Some((map, values, bound(&i.filter, s)?))
        }
        None => None,
    };
    let caller = s.caller();
    let find = || -> Result<(Vec<Found>, Vec<Row>)> {
        let (mut found, mut inserts) = (Vec::new(), Vec::new());
        let mut matched = HashSet::new();
        for row in run_query(&caller, cx, &q, &tq)? {
            match rowid_at(&row) {
                Some(rowid) => {
                    let Some(assign) = &assign else { continue };
                    if !matched.insert(rowid) {
                        return Err(Error::UnstableMerge {
                            rowid: rowid.to_string(),
                        });
                    }
                    if !truth(up_filter.as_ref(), &row)? {
                        continue;
                    }
                    let mut vals = Vec::with_capacity(assign.len());
                    for (c, e) in assign {
                        vals.push((*c, e.eval(&row)?));
                    }
                    // DELETE WHERE sees the row as updated.
                    let mut after = row.clone();
                    for (c, v) in &vals {
                        after[1 + c] = v.clone();
                    }
                    let change = if del_filter.is_some() && truth(del_filter.as_ref(), &after)? {
                        FoundChange::Delete
                    } else {
                        FoundChange::Update(vals)
                    };
                    found.push(Found {
                        rowid,
                        seen: row[1..=width].to_vec(),
                        change,
                    });
                }
                None => {
                    let Some((map, values, filter)) = &insert else {
                        continue;
                    };
                    if !truth(filter.as_ref(), &row)? {
                        continue;
                    }
                    let vals = values
                        .iter()
                        .map(|e| e.eval(&row))
                        .collect::<Result<Row>>()?;
                    inserts.push(place(&def, map, vals));
                }
            }
        }
        Ok((found, inserts))
    };
    s.change_found(&def.name, &visible(&def), &find)
}

/// A SELECT with nothing in it, to fill in.
fn empty_select() -> Select {
    Select {
        // The statement's own query block (as an UPDATE's table access).
        qblock: 0,
        distinct: false,
        items: Vec::new(),
        from: From::Dual,
        filter: None,
        group_by: Vec::new(),
        having: None,
        order_by: Vec::new(),
        limit: None,
        offset: None,
        compound: Vec::new(),
    }
}
