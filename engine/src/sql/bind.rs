//! The binder: AST expressions to evaluable ones (`eval::E`), names to
//! positions.
//!
//! Binding resolves every column name against the columns of one source
//! (a table, `generate_series` with its one column `value`, or DUAL with
//! none), replaces bind placeholders by their values, looks functions up
//! (user-defined first, then built-in), and runs an `IN (subquery)` once, so
//! that evaluation later is name-free and repeatable row after row.
//!
//! Aggregates are the one thing binding moves: in a grouped query each
//! aggregate call is taken out of its expression into the [`AggSink`] and
//! replaced by a reference past the source's columns. Each group is then
//! evaluated on an "extended row" — the group's first source row followed
//! by the group's aggregate values — so that a select-list expression over
//! both (`a, COUNT(*) + 1`) is an ordinary expression. Outside a grouped
//! query an aggregate is an error.
//!
//! The grouping rule ([`check_grouped`]): in a grouped query every column
//! the select list, HAVING or an ORDER BY expression reads must be grouped
//! (an expression equal to a GROUP BY expression, `t.c` and `c` being one
//! column) or inside an aggregate, since a group has one value for those
//! and none for any other column; otherwise ORA-00979 (ORA-00937 without
//! GROUP BY). A column that evaluation can never reach is not read, and
//! blocklab does not count it: an argument of COALESCE or NVL after a
//! non-NULL constant (`COALESCE(1, sal)` is 1 for every row), and the
//! other operand of arithmetic, a comparison or BETWEEN that a NULL
//! constant already makes NULL (`NULL + sal`, `NULL BETWEEN sal AND 2`).
//! This is a departure: Oracle (and PostgreSQL) check the rule on the
//! statement as written, before any folding, and refuse
//! `SELECT COALESCE(1, sal) FROM emp GROUP BY deptno` with ORA-00979.
//! blocklab folds first because the answer is one value per group either
//! way, and SQLite's sqllogictest corpus expects these queries to answer.
//!
//! [`bind_select`] binds a whole SELECT, in the order the clauses are
//! written (WHERE, select list, GROUP BY, HAVING, ORDER BY, OFFSET, LIMIT),
//! into a [`Bound`]: everything `select` needs to choose an access path and
//! run, and nothing that needs a row.
//!
//! Invariant: a dropped column keeps its position with an empty name
//! ([`column_names`]), which no reference can match, so positions bound
//! here are table positions.

use super::ast::*;
use super::eval::{Builtin, E};
use super::execute::Cx;
use super::join::Shape;
use super::optimizer::OrderKey;
use super::recursive::arity;
use super::subquery::{bind_subquery, Kind};
use super::Function;
use crate::catalog::TableDef;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::operators::AggFn;
use crate::value::{ColType, Value};

/// The aggregate a function name calls, if it is one.
pub(super) fn agg_fn(name: &str) -> Option<AggFn> {
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
pub(super) struct Agg {
    pub(super) f: AggFn,
    pub(super) arg: Option<E>,
    pub(super) distinct: bool,
}

/// The catalog's definition of table `name` (a copy: the catalog lock is
/// not held while the statement runs).
pub(super) fn table_def(s: &Context, name: &str) -> Result<TableDef> {
    Ok(s.schema().catalog.read().get(name)?.clone())
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

/// `names` qualified by `qual` (`t.c`), a dropped column's empty name kept
/// empty: the names a binder resolves `t.c` and `c` against.
pub(super) fn qualify(names: &[String], qual: &str) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            if n.is_empty() {
                String::new()
            } else {
                format!("{qual}.{n}")
            }
        })
        .collect()
}

/// The types of a table's columns, by position.
pub(super) fn column_types(def: &TableDef) -> Vec<ColType> {
    def.columns.iter().map(|c| c.ty).collect()
}

/// A SELECT's source as the binder sees it: column names and types, a
/// table's definition, a join's relations.
type SourceColumns = (Vec<String>, Vec<ColType>, Option<TableDef>, Option<Shape>);

/// The source of a SELECT: its column names and types, for a table its
/// definition, and for a join or a derived table the relations it reads
/// (`join::Shape`), whose column names are qualified (`t.c`).
fn source_columns(s: &mut Context, cx: &Cx<'_>, from: &From) -> Result<SourceColumns> {
    Ok(match from {
        From::Table { name, .. } => {
            let def = table_def(s, name)?;
            (column_names(&def), column_types(&def), Some(def), None)
        }
        From::Series { .. } => (vec!["value".into()], vec![ColType::Integer], None, None),
        From::Dual => (Vec::new(), Vec::new(), None, None),
        From::Join { .. } | From::Derived { .. } | From::Dictionary { .. } => {
            let shape = Shape::of(s, cx, from)?;
            let (names, types) = shape.columns();
            (names, types, None, Some(shape))
        }
    })
}

/// A column reference: a position of this query's row, or, when this
/// query has no such column, the column of an enclosing query (a
/// correlated reference, `subquery`): its value for the enclosing row
/// being evaluated, or — while probing — NULL, the reference recorded.
fn column(cx: &Cx<'_>, names: &[String], qual: Option<&str>, col: &str) -> Result<E> {
    match find(names, qual, col) {
        Found::One(p) => Ok(E::Col(p)),
        Found::Several => resolve(names, qual, col).map(E::Col),
        Found::None => {
            for f in cx.outer.iter().rev() {
                if let Found::One(p) = find(f.names, qual, col) {
                    return Ok(match f.row {
                        Some(row) => E::Const(row.get(p).cloned().unwrap_or(Value::Null)),
                        None => {
                            f.used.borrow_mut().push(p);
                            E::Const(Value::Null)
                        }
                    });
                }
            }
            // Found nowhere: the error names this query's column.
            resolve(names, qual, col).map(E::Col)
        }
    }
}

/// The position of column `col` (of table `qual`, when qualified) among
/// `names`, whose entries are bare (`c`, one source) or qualified (`t.c`,
/// a join). A bare name must match exactly one column (ORA-00918
/// otherwise); a qualified one in a single-source scope matches by column
/// name alone, the qualifier being that source's.
pub(super) fn resolve(names: &[String], qual: Option<&str>, col: &str) -> Result<usize> {
    match find(names, qual, col) {
        Found::One(p) => Ok(p),
        Found::Several => Err(Error::AmbiguousColumn {
            column: col.to_string(),
        }),
        Found::None => Err(Error::Sql(match qual {
            Some(q) => format!("no column named {q}.{col}"),
            None => format!("no column named {col}"),
        })),
    }
}

/// What [`find`] found.
enum Found {
    One(usize),
    Several,
    None,
}

/// [`resolve`] without building an error: a correlated reference misses
/// in its own query's columns before it is found in an enclosing query's,
/// once per binding, and formatting a message it then drops showed in
/// profiles of subquery-heavy scripts.
fn find(names: &[String], qual: Option<&str>, col: &str) -> Found {
    let bare = |n: &String| n.rsplit_once('.').map_or(n.as_str(), |(_, c)| c) == col;
    let mut found = names.iter().enumerate().filter(|(_, n)| {
        !n.is_empty()
            && match qual {
                Some(q) if n.contains('.') => n.split_once('.') == Some((q, col)),
                _ => bare(n),
            }
    });
    match (found.next(), found.next()) {
        (Some((p, _)), None) => Found::One(p),
        (Some(_), Some(_)) => Found::Several,
        (None, _) => Found::None,
    }
}

/// Where aggregates go while binding a grouped query's expressions.
pub(super) struct AggSink {
    pub(super) aggs: Vec<Agg>,
    /// Position of the first aggregate value in the extended row.
    pub(super) base: usize,
}

/// The value of an expression that reads no column (a LIMIT, an AS OF SCN,
/// a VALUES item, a `generate_series` bound), evaluated once.
pub(super) fn constant(s: &mut Context, cx: &Cx<'_>, e: &Expr) -> Result<Value> {
    bind(s, cx, e, &[], None)?.eval(&[])
}

/// Binds `e` against columns `names`. With `aggs`, aggregate calls become
/// references into the extended row; without, they are an error.
pub(super) fn bind(
    s: &mut Context,
    cx: &Cx<'_>,
    e: &Expr,
    names: &[String],
    mut aggs: Option<&mut AggSink>,
) -> Result<E> {
    let mut b = |x: &Expr, aggs: Option<&mut AggSink>| -> Result<Box<E>> {
        Ok(Box::new(bind(s, cx, x, names, aggs)?))
    };
    Ok(match e {
        Expr::Literal(v) => E::Const(v.clone()),
        Expr::Column(c) => column(cx, names, None, c)?,
        Expr::Qualified(t, c) => column(cx, names, Some(t), c)?,
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
            let x = *b(expr, aggs)?;
            let kind = Kind::In { negated: *negated };
            bind_subquery(s, cx, subquery, names, kind, Some(x))?
        }
        Expr::Subquery(sub) => bind_subquery(s, cx, sub, names, Kind::Scalar, None)?,
        Expr::Exists(sub) => bind_subquery(s, cx, sub, names, Kind::Exists, None)?,
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let x = b(expr, aggs.as_deref_mut())?;
            E::Like(x, b(pattern, aggs)?, *negated)
        }
        Expr::IsNull { expr, negated } => E::IsNull(b(expr, aggs)?, *negated),
        Expr::Cast { expr, to } => E::Cast(b(expr, aggs)?, *to),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            let operand = match operand {
                Some(o) => Some(b(o, aggs.as_deref_mut())?),
                None => None,
            };
            let mut bound = Vec::with_capacity(whens.len());
            for (w, t) in whens {
                let w = *b(w, aggs.as_deref_mut())?;
                bound.push((w, *b(t, aggs.as_deref_mut())?));
            }
            let otherwise = match otherwise {
                Some(e) => Some(b(e, aggs)?),
                None => None,
            };
            E::Case {
                operand,
                whens: bound,
                otherwise,
            }
        }
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
            match cx.shared.function(name) {
                Some(Function::Rust(f)) => E::User {
                    name: name.clone(),
                    f,
                    args: bound,
                    stats: s.stats_handle().clone(),
                },
                Some(Function::Query(f)) => {
                    if bound.len() != f.params {
                        return Err(arity(&f.name, f.params, bound.len()));
                    }
                    E::Query {
                        f,
                        args: bound,
                        caller: s.caller(),
                    }
                }
                None => builtin(name, bound)?,
            }
        }
    })
}

/// A built-in function call (`func`), or the error of an unknown name.
fn builtin(name: &str, bound: Vec<E>) -> Result<E> {
    match Builtin::lookup(name) {
        Some(f) => Ok(E::Builtin(f, bound)),
        None => Err(Error::Sql(format!("no function named {name}"))),
    }
}

/// Whether `e` calls an aggregate (which makes its query grouped).
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
        // A subquery's aggregates are its own.
        Expr::Subquery(_) | Expr::Exists(_) => false,
        Expr::Like { expr, pattern, .. } => has_agg(expr) || has_agg(pattern),
        Expr::Cast { expr, .. } => has_agg(expr),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            operand.as_deref().is_some_and(has_agg)
                || whens.iter().any(|(w, t)| has_agg(w) || has_agg(t))
                || otherwise.as_deref().is_some_and(has_agg)
        }
        Expr::Literal(_) | Expr::Column(_) | Expr::Qualified(..) | Expr::Param(_) => false,
    }
}

/// What the grouping rule compares a grouped query's expressions with.
struct Grouping<'a> {
    /// The GROUP BY expressions, positions already replaced by their
    /// select-list items, column references canonical.
    group_by: Vec<&'a Expr>,
    /// ORA-00979 (a GROUP BY) or ORA-00937 (aggregates alone).
    has_group_by: bool,
    /// Whether a call of this name is the built-in COALESCE or NVL (a
    /// user-defined function of that name evaluates as it likes).
    coalesce: &'a dyn Fn(&str) -> bool,
}

/// In a grouped query, checks that every column `e` can read is inside an
/// aggregate or inside an expression equal to a GROUP BY expression: a
/// group has one value for those and none for any other column. A column
/// evaluation can never reach is not read ([`unreached`]). The error is
/// Oracle's: ORA-00937 without GROUP BY, ORA-00979 with one. (SQLite
/// answers with the value of some row of the group instead.)
fn check_grouped(e: &Expr, g: &Grouping<'_>) -> Result<()> {
    if g.group_by.contains(&e) || unreached(e) {
        return Ok(());
    }
    let check = |x: &Expr| check_grouped(x, g);
    match e {
        Expr::Column(c) | Expr::Qualified(_, c) => {
            // Named as written (`canonical` appended `#position`).
            let column = c
                .rsplit_once('#')
                .map_or(c.as_str(), |(n, _)| n)
                .to_string();
            Err(if g.has_group_by {
                Error::NotGroupByExpression { column }
            } else {
                Error::NotSingleGroup { column }
            })
        }
        Expr::Func { name, args, .. } => {
            if agg_fn(name).is_some() {
                Ok(())
            } else if (g.coalesce)(name) {
                // COALESCE stops at its first non-NULL argument: nothing
                // after a non-NULL constant is ever evaluated.
                let reached = args
                    .iter()
                    .position(|a| matches!(a, Expr::Literal(v) if !v.is_null()))
                    .map_or(args.len(), |i| i + 1);
                args[..reached].iter().try_for_each(check)
            } else {
                args.iter().try_for_each(check)
            }
        }
        Expr::Literal(_) | Expr::Param(_) => Ok(()),
        Expr::Neg(x) | Expr::Not(x) | Expr::IsNull { expr: x, .. } | Expr::Cast { expr: x, .. } => {
            check(x)
        }
        Expr::Binary { left, right, .. } => check(left).and(check(right)),
        Expr::Chain { first, rest } => {
            check(first)?;
            rest.iter().try_for_each(|(_, x)| check(x))
        }
        Expr::Between {
            expr, low, high, ..
        } => check(expr).and(check(low)).and(check(high)),
        Expr::InList { expr, list, .. } => {
            check(expr)?;
            list.iter().try_for_each(check)
        }
        // The subquery reads its own table.
        Expr::InSubquery { expr, .. } => check(expr),
        Expr::Subquery(_) | Expr::Exists(_) => Ok(()),
        Expr::Like { expr, pattern, .. } => check(expr).and(check(pattern)),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            operand.as_deref().map_or(Ok(()), check)?;
            whens.iter().try_for_each(|(w, t)| check(w).and(check(t)))?;
            otherwise.as_deref().map_or(Ok(()), check)
        }
    }
}

/// Whether `e` is NULL whatever its columns hold, by a NULL literal
/// operand alone: arithmetic or a comparison with a NULL operand
/// (`NULL + c`, `c = NULL`, `c * 2 * NULL`), and BETWEEN on a NULL value
/// or between two NULL bounds (each is `x >= lo AND x <= hi`, NULL AND
/// NULL). AND, OR, IS NULL and `||` are not: their result can still
/// depend on the other operand.
fn unreached(e: &Expr) -> bool {
    let null = |x: &Expr| matches!(x, Expr::Literal(Value::Null));
    let arithmetic = |op: &BinOp| {
        op.is_comparison()
            || matches!(
                op,
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
            )
    };
    match e {
        Expr::Binary { op, left, right } => arithmetic(op) && (null(left) || null(right)),
        Expr::Chain { first, rest } => {
            rest.iter().all(|(op, _)| arithmetic(op))
                && (null(first) || rest.iter().any(|(_, x)| null(x)))
        }
        Expr::Between {
            expr, low, high, ..
        } => null(expr) || (null(low) && null(high)),
        _ => false,
    }
}

/// The grouping rule of [`check_grouped`] over a whole grouped SELECT: its
/// select list (`*` is each of its columns), HAVING, and the ORDER BY keys
/// that are expressions rather than select-list positions or names.
fn check_grouping(cx: &Cx<'_>, sel: &Select, names: &[String], keys: &[SortKey]) -> Result<()> {
    // Compared with column references resolved: `c` and `t.c` are one
    // column.
    let c = |e: &Expr| canonical(e, names);
    let group_by: Vec<Expr> = sel
        .group_by
        .iter()
        .map(|g| match g {
            Expr::Literal(Value::Int(k)) if *k >= 1 && (*k as usize) <= sel.items.len() => {
                match &sel.items[*k as usize - 1] {
                    SelectItem::Expr { expr, .. } => c(expr),
                    SelectItem::Wildcard | SelectItem::TableWildcard(_) => c(g),
                }
            }
            _ => c(g),
        })
        .collect();
    let coalesce = |name: &str| {
        cx.shared.function(name).is_none()
            && matches!(
                Builtin::lookup(name),
                Some(Builtin::Coalesce | Builtin::IfNull)
            )
    };
    let g = Grouping {
        group_by: group_by.iter().collect(),
        has_group_by: !sel.group_by.is_empty(),
        coalesce: &coalesce,
    };
    for it in &sel.items {
        match it {
            SelectItem::Expr { expr, .. } => check_grouped(&c(expr), &g)?,
            SelectItem::Wildcard | SelectItem::TableWildcard(_) => {
                for n in names.iter().filter(|n| !n.is_empty()) {
                    let col = match n.split_once('.') {
                        Some((t, col)) => Expr::Qualified(t.into(), col.into()),
                        None => Expr::Column(n.clone()),
                    };
                    check_grouped(&c(&col), &g)?;
                }
            }
        }
    }
    if let Some(h) = &sel.having {
        check_grouped(&c(h), &g)?;
    }
    for (o, k) in sel.order_by.iter().zip(keys) {
        if let Key::Expr(_) = k.by {
            check_grouped(&c(&o.expr), &g)?;
        }
    }
    Ok(())
}

/// `e` with every column reference that resolves against `names`
/// replaced by its name and position (`c#3`), so that two spellings of one column
/// compare equal; subqueries are left as written.
fn canonical(e: &Expr, names: &[String]) -> Expr {
    let c = |x: &Expr| Box::new(canonical(x, names));
    let v = |xs: &[Expr]| xs.iter().map(|x| canonical(x, names)).collect::<Vec<_>>();
    match e {
        Expr::Column(col) => match resolve(names, None, col) {
            Ok(p) => Expr::Column(format!("{col}#{p}")),
            Err(_) => e.clone(),
        },
        Expr::Qualified(t, col) => match resolve(names, Some(t), col) {
            Ok(p) => Expr::Column(format!("{col}#{p}")),
            Err(_) => e.clone(),
        },
        Expr::Literal(_)
        | Expr::Param(_)
        | Expr::InSubquery { .. }
        | Expr::Subquery(_)
        | Expr::Exists(_) => e.clone(),
        Expr::Neg(x) => Expr::Neg(c(x)),
        Expr::Not(x) => Expr::Not(c(x)),
        Expr::Binary { op, left, right } => Expr::Binary {
            op: *op,
            left: c(left),
            right: c(right),
        },
        Expr::Chain { first, rest } => Expr::Chain {
            first: c(first),
            rest: rest
                .iter()
                .map(|(op, x)| (*op, canonical(x, names)))
                .collect(),
        },
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => Expr::Between {
            expr: c(expr),
            low: c(low),
            high: c(high),
            negated: *negated,
        },
        Expr::InList {
            expr,
            list,
            negated,
        } => Expr::InList {
            expr: c(expr),
            list: v(list),
            negated: *negated,
        },
        Expr::Like {
            expr,
            pattern,
            negated,
        } => Expr::Like {
            expr: c(expr),
            pattern: c(pattern),
            negated: *negated,
        },
        Expr::IsNull { expr, negated } => Expr::IsNull {
            expr: c(expr),
            negated: *negated,
        },
        Expr::Func {
            name,
            args,
            star,
            distinct,
        } => Expr::Func {
            name: name.clone(),
            args: v(args),
            star: *star,
            distinct: *distinct,
        },
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => Expr::Case {
            operand: operand.as_deref().map(c),
            whens: whens
                .iter()
                .map(|(w, t)| (canonical(w, names), canonical(t, names)))
                .collect(),
            otherwise: otherwise.as_deref().map(c),
        },
        Expr::Cast { expr, to } => Expr::Cast {
            expr: c(expr),
            to: *to,
        },
    }
}

/// The text of an expression, for a column heading.
pub(super) fn heading(e: &Expr) -> String {
    match e {
        Expr::Literal(Value::Text(s)) => format!("'{s}'"),
        Expr::Literal(v) => v.to_string(),
        Expr::Column(c) | Expr::Qualified(_, c) => c.clone(),
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
        Expr::Cast { expr, to } => format!("CAST({} AS {})", heading(expr), to.name()),
        _ => "expr".to_string(),
    }
}

/// One select-list item, bound.
pub(super) struct Item {
    pub(super) name: String,
    pub(super) expr: E,
    /// The table column it is, when it is a plain column (for sort avoidance).
    pub(super) column: Option<usize>,
}

/// What an ORDER BY key sorts by: a position or alias names a select-list
/// item; anything else is an expression on the source (or extended) row.
pub(super) enum Key {
    Item(usize),
    Expr(E),
}

/// One ORDER BY key, bound.
pub(super) struct SortKey {
    pub(super) by: Key,
    pub(super) desc: bool,
    pub(super) nulls_first: bool,
}

/// What binding a SELECT produced: every clause resolved against the
/// source's columns, and the numbers known before any row is read.
pub(super) struct Bound {
    /// The source's column names (empty for a dropped column) and types.
    pub(super) names: Vec<String>,
    pub(super) types: Vec<ColType>,
    /// The table's definition, when the source is a table.
    pub(super) def: Option<TableDef>,
    /// The relations of a join or derived table, with their ON
    /// conditions bound (`join`).
    pub(super) join: Option<Shape>,
    /// GROUP BY, HAVING or an aggregate anywhere: rows become groups.
    pub(super) grouped: bool,
    pub(super) filter: Option<E>,
    pub(super) items: Vec<Item>,
    /// The aggregates of a grouped query, in extended-row order.
    pub(super) aggs: Vec<Agg>,
    pub(super) group_by: Vec<E>,
    pub(super) having: Option<E>,
    pub(super) keys: Vec<SortKey>,
    /// Table columns the statement reads (for index-only access).
    pub(super) needed: Vec<usize>,
    /// The ORDER BY as table columns, when every key is one and nothing
    /// (grouping, DISTINCT) stands between the access path and the sort:
    /// the order an access path may deliver.
    pub(super) order: Option<Vec<OrderKey>>,
    pub(super) offset: usize,
    pub(super) limit: usize,
    /// OFFSET + LIMIT, when the source may stop after that many rows
    /// (no grouping or DISTINCT needs every row; the sort is checked by the
    /// source, which knows whether the access path delivers the order).
    pub(super) stop_after: Option<usize>,
}

/// Binds every clause of `sel`, in the order they are written.
pub(super) fn bind_select(s: &mut Context, cx: &Cx<'_>, sel: &Select) -> Result<Bound> {
    let (display, types, def, join) = source_columns(s, cx, &sel.from)?;
    // Names bind qualified (`t.c`, the alias or table name), so that a
    // subquery's `t.c` can tell its own table from an enclosing one; plans
    // show a single table's columns bare.
    let names: Vec<String> = match &sel.from {
        From::Table { name, alias, .. } => qualify(&display, alias.as_deref().unwrap_or(name)),
        _ => display.clone(),
    };
    let grouped = !sel.group_by.is_empty()
        || sel.having.is_some()
        || sel.items.iter().any(|i| match i {
            SelectItem::Expr { expr, .. } => has_agg(expr),
            SelectItem::Wildcard | SelectItem::TableWildcard(_) => false,
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

    // The ON conditions, over the whole joined row.
    if let Some(shape) = &join {
        shape.on_columns(&mut needed);
    }

    // Select list, GROUP BY, HAVING, ORDER BY (aggregates collected).
    let mut sink = AggSink {
        aggs: Vec::new(),
        base: names.len(),
    };
    let items = bind_items(s, cx, sel, &names, grouped.then_some(&mut sink))?;
    let group_by = bind_group_by(s, cx, sel, &names)?;
    let having = match &sel.having {
        Some(h) => Some(bind(s, cx, h, &names, Some(&mut sink))?),
        None => None,
    };
    let keys = bind_order_by(s, cx, sel, &names, &items, grouped.then_some(&mut sink))?;
    if grouped {
        check_grouping(cx, sel, &names, &keys)?;
    }
    let AggSink { aggs, base } = sink;

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
    for k in &keys {
        if let Key::Expr(e) = &k.by {
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
            .map(|k| {
                let col = match &k.by {
                    Key::Item(i) => items[*i].column,
                    Key::Expr(E::Col(c)) => Some(*c),
                    Key::Expr(_) => None,
                };
                col.map(|c| (c, k.desc, k.nulls_first))
            })
            .collect()
    };

    // OFFSET and LIMIT are known before any row is read. When nothing
    // between the source and the LIMIT needs every row (no grouping, no
    // DISTINCT, no sort), the source stops after OFFSET + LIMIT rows
    // (Oracle's COUNT STOPKEY): a LIMIT 3 reads three rows' worth of
    // blocks, not the table, and never builds a billion-row series.
    let (offset, limit) = offset_limit(s, cx, sel)?;
    let stop_after =
        (sel.limit.is_some() && !grouped && !sel.distinct).then(|| offset.saturating_add(limit));

    Ok(Bound {
        names: display,
        types,
        def,
        join,
        grouped,
        filter,
        items,
        aggs,
        group_by,
        having,
        keys,
        needed,
        order,
        offset,
        limit,
        stop_after,
    })
}

/// The select list; `*` is every visible column of the source.
fn bind_items(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &Select,
    names: &[String],
    mut sink: Option<&mut AggSink>,
) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for it in &sel.items {
        match it {
            SelectItem::Wildcard | SelectItem::TableWildcard(_) => {
                let of = match it {
                    SelectItem::TableWildcard(t) => Some(t.as_str()),
                    _ => None,
                };
                let before = items.len();
                let shown = |n: &String| !n.is_empty() && !n.ends_with(super::join::ROWID_COL);
                for (i, n) in names.iter().enumerate().filter(|(_, n)| shown(n)) {
                    let (qual, bare) = match n.split_once('.') {
                        Some((q, c)) => (Some(q), c),
                        None => (None, n.as_str()),
                    };
                    if of.is_some() && qual.is_some() && qual != of {
                        continue;
                    }
                    items.push(Item {
                        name: bare.to_string(),
                        expr: E::Col(i),
                        column: Some(i),
                    });
                }
                if let (Some(t), true) = (of, items.len() == before) {
                    return Err(Error::Sql(format!("no table named {t} in the FROM clause")));
                }
            }
            SelectItem::Expr { expr, alias } => {
                let grouped = sink.is_some();
                let e = bind(s, cx, expr, names, sink.as_deref_mut())?;
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
    Ok(items)
}

/// GROUP BY expressions; `GROUP BY 1` names a select-list item.
fn bind_group_by(s: &mut Context, cx: &Cx<'_>, sel: &Select, names: &[String]) -> Result<Vec<E>> {
    sel.group_by
        .iter()
        .map(|g| match g {
            Expr::Literal(Value::Int(k)) if *k >= 1 && (*k as usize) <= sel.items.len() => {
                match &sel.items[*k as usize - 1] {
                    SelectItem::Expr { expr, .. } => bind(s, cx, expr, names, None),
                    SelectItem::Wildcard | SelectItem::TableWildcard(_) => {
                        Err(Error::Sql("GROUP BY a * position".into()))
                    }
                }
            }
            _ => bind(s, cx, g, names, None),
        })
        .collect()
}

/// ORDER BY keys: a position or a select-list name (an alias, or a
/// heading that is no source column) sorts by that item; anything else is
/// an expression on the source (or extended) row.
fn bind_order_by(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &Select,
    names: &[String],
    items: &[Item],
    mut sink: Option<&mut AggSink>,
) -> Result<Vec<SortKey>> {
    let mut keys = Vec::new();
    for o in &sel.order_by {
        let by = match &o.expr {
            Expr::Literal(Value::Int(k)) => {
                if *k < 1 || *k as usize > items.len() {
                    return Err(Error::Sql(format!(
                        "ORDER BY position {k} is not in the select list"
                    )));
                }
                Key::Item(*k as usize - 1)
            }
            Expr::Column(c)
                if resolve(names, None, c).is_err() || items.iter().any(|i| i.name == *c) =>
            {
                match items.iter().position(|i| i.name == *c) {
                    Some(p) => Key::Item(p),
                    None => return Err(Error::Sql(format!("no column named {c}"))),
                }
            }
            e => Key::Expr(bind(s, cx, e, names, sink.as_deref_mut())?),
        };
        keys.push(SortKey {
            by,
            desc: o.desc,
            nulls_first: o.nulls_first.unwrap_or(o.desc),
        });
    }
    Ok(keys)
}

/// A query's OFFSET (0 without one) and LIMIT (no limit without one).
pub(super) fn offset_limit(s: &mut Context, cx: &Cx<'_>, sel: &Select) -> Result<(usize, usize)> {
    let offset = match &sel.offset {
        Some(e) => count_value(constant(s, cx, e)?)?,
        None => 0,
    };
    let limit = match &sel.limit {
        Some(e) => count_value(constant(s, cx, e)?)?,
        None => usize::MAX,
    };
    Ok((offset, limit))
}

/// A LIMIT or OFFSET value as a row count; a negative one counts as the
/// largest (a negative LIMIT is no limit, as in SQLite).
pub(super) fn count_value(v: Value) -> Result<usize> {
    match v {
        Value::Int(n) if n >= 0 => Ok(n as usize),
        Value::Int(_) => Ok(usize::MAX),
        other => Err(Error::Sql(format!(
            "LIMIT/OFFSET needs an integer, got {other}"
        ))),
    }
}
