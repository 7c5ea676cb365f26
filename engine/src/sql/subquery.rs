//! Subqueries in expressions: `(SELECT …)` as a value, `EXISTS (SELECT …)`
//! and `x IN (SELECT …)`, correlated or not.
//!
//! ```text
//!  bind (outer query) meets a subquery
//!     │ probe: bind it with a Frame for the outer query's columns and no
//!     │ row; every outer column it names is recorded (Frame::used)
//!     ├─ none recorded: uncorrelated — run it once, now; the value (a
//!     │  constant, or an IN list) replaces it
//!     └─ some recorded: correlated — E::Sub(Correlated, [outer columns]);
//!        each evaluation binds the subquery again with the outer row's
//!        values as constants and runs it (a FILTER in Oracle's plans)
//! ```
//!
//! Scoping is SQL's: a name resolves in the subquery's own FROM clause
//! first, then in each enclosing query outwards (`Frame::parent`).
//!
//! A correlated subquery runs in a context made from the calling
//! session (`context::Caller`, as recursive SQL does): its gets are the
//! session's, it sees the caller's transaction. Its results are cached by
//! the outer values it reads, as Oracle caches a scalar subquery's result
//! per distinct input: an outer row with values seen before runs nothing.
//!
//! Results: a scalar subquery is NULL with no row, its column with one row,
//! and ORA-01427 with more; EXISTS is true with a row (its subquery stops
//! at the first row: it runs with LIMIT 1 when it has no LIMIT of its
//! own); `x IN (subquery)` follows IN-list semantics over the subquery's
//! column (NULL when nothing equals `x` but a NULL is in the list).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::ast::{Expr, Hints, Select};
use super::bind::bind_select;
use super::cursor::{Plan, Planner};
use super::eval::E;
use super::execute::Cx;
use super::select::select;
use super::Shared;
use crate::context::{Caller, Context};
use crate::error::{Error, Result};
use crate::value::{encode_row, Row, Value};

/// The columns of an enclosing query while a subquery inside it binds
/// (`Cx::outer` holds the frames, innermost last).
#[derive(Clone)]
pub(crate) struct Frame<'a> {
    pub(crate) names: &'a [String],
    /// The enclosing query's current row; `None` while probing whether
    /// the subquery is correlated.
    pub(crate) row: Option<&'a [Value]>,
    /// Positions of `names` the subquery read (probing only).
    pub(crate) used: RefCell<Vec<usize>>,
}

/// A cached result: a scalar or EXISTS value, or an IN subquery's list.
#[derive(Clone)]
enum Cached {
    Value(Value),
    List(Vec<Value>),
}

/// What a subquery yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Exists,
    /// `x [NOT] IN (…)`: `x` is the first argument of the `E::Sub`.
    In {
        negated: bool,
    },
    /// Column `index` of a subquery of `width` columns that sets several
    /// columns at once (`UPDATE … SET (a, b) = (SELECT x, y …)`): one
    /// subquery per column, sharing one cache (`row_items`), so the query
    /// runs once per outer row, not once per column. No row gives NULLs.
    Row {
        index: usize,
        width: usize,
    },
}

/// A correlated subquery, run per distinct outer input.
pub(crate) struct Correlated {
    kind: Kind,
    select: Select,
    /// The enclosing query's column names, and the positions it reads (in
    /// the order of the `E::Sub` arguments after IN's `x`).
    names: Vec<String>,
    refs: Vec<usize>,
    /// The frames above the enclosing query, with their rows (constants
    /// for this execution).
    parents: Vec<(Vec<String>, Row)>,
    shared: Weak<Shared>,
    caller: Caller,
    hints: Hints,
    binds: Vec<Value>,
    cache: Arc<Mutex<HashMap<Vec<u8>, Cached>>>,
    /// The plan its first run chose, followed by the runs for the other
    /// outer values of this execution (Oracle peeks at the first `:B1` the
    /// same way): optimizing again per distinct outer row was a tenth of
    /// the time of subquery-heavy scripts.
    plan: Arc<Mutex<Option<Arc<Plan>>>>,
}

/// Binds subquery `sub` of kind `kind` met in a query whose columns are
/// `names`; `x` is IN's left side, bound. Returns the expression that
/// stands for it.
pub(super) fn bind_subquery(
    s: &mut Context,
    cx: &Cx<'_>,
    sub: &Select,
    names: &[String],
    kind: Kind,
    x: Option<E>,
) -> Result<E> {
    let mut frames = cx.outer.to_vec();
    frames.push(Frame {
        names,
        row: None,
        used: RefCell::new(Vec::new()),
    });
    let probe = Cx {
        outer: &frames,
        probing: true,
        rowid_of: None,
        ..*cx
    };
    bind_select(s, &probe, sub)?;
    if cx.probing {
        // Inside another subquery's probe: nothing runs; what mattered was
        // recording the outer columns this one reads.
        return Ok(E::Const(Value::Null));
    }
    let mut refs = frames
        .pop()
        .map(|f| f.used.into_inner())
        .unwrap_or_default();
    refs.sort_unstable();
    refs.dedup();
    if refs.is_empty() && !matches!(kind, Kind::Row { .. }) {
        // Uncorrelated: once, now. (A row subquery is not: its columns
        // share a cache, so it runs once, at its first evaluation.)
        let run = limited(sub, kind);
        let q = select(
            s,
            &Cx {
                rowid_of: None,
                ..*cx
            },
            &run,
            false,
        )?;
        check_width(kind, q.columns.len())?;
        return Ok(match kind {
            Kind::Scalar => E::Const(scalar(q.rows)?),
            Kind::Exists => E::Const(Value::Int(i64::from(!q.rows.is_empty()))),
            Kind::In { negated } => {
                let list = q
                    .rows
                    .into_iter()
                    .map(|mut r| E::Const(r.pop().unwrap_or(Value::Null)))
                    .collect();
                E::In(Box::new(x.unwrap_or(E::Const(Value::Null))), list, negated)
            }
            Kind::Row { .. } => return Err(Error::Internal("a row subquery run early".into())),
        });
    }
    let parents = cx
        .outer
        .iter()
        .map(|f| {
            (
                f.names.to_vec(),
                f.row.map(<[Value]>::to_vec).unwrap_or_default(),
            )
        })
        .collect();
    let mut args: Vec<E> = x.into_iter().collect();
    args.extend(refs.iter().map(|&p| E::Col(p)));
    Ok(E::Sub(
        Arc::new(Correlated {
            kind,
            select: limited(sub, kind),
            names: names.to_vec(),
            refs,
            parents,
            shared: cx.shared.me.clone(),
            caller: s.caller(),
            hints: cx.hints.clone(),
            binds: cx.binds.to_vec(),
            cache: Arc::new(Mutex::new(HashMap::new())),
            plan: Arc::new(Mutex::new(None)),
        }),
        args,
    ))
}

/// The expressions for every column of a row subquery, given the one
/// `bind_subquery` returned for its first (`Kind::Row { index: 0, .. }`):
/// each reads the same cache, so the query runs once per outer row.
pub(super) fn row_items(first: E, width: usize) -> Vec<E> {
    let E::Sub(q, args) = &first else {
        // Probing: nothing runs.
        return vec![first; width];
    };
    let mut out = Vec::with_capacity(width);
    for index in 0..width {
        out.push(E::Sub(
            Arc::new(Correlated {
                kind: Kind::Row { index, width },
                select: q.select.clone(),
                names: q.names.clone(),
                refs: q.refs.clone(),
                parents: q.parents.clone(),
                shared: q.shared.clone(),
                caller: q.caller.clone(),
                hints: q.hints.clone(),
                binds: q.binds.clone(),
                cache: q.cache.clone(),
                plan: q.plan.clone(),
            }),
            args.clone(),
        ));
    }
    out
}

/// EXISTS needs one row: its subquery stops there unless it has a LIMIT.
fn limited(sub: &Select, kind: Kind) -> Select {
    let mut s = sub.clone();
    if kind == Kind::Exists && s.limit.is_none() && s.offset.is_none() {
        s.limit = Some(Expr::Literal(Value::Int(1)));
    }
    s
}

/// A scalar or IN subquery selects exactly one column.
fn check_width(kind: Kind, columns: usize) -> Result<()> {
    if let Kind::Row { width, .. } = kind {
        if columns != width {
            return Err(Error::ValueCount {
                table: "the SET list".into(),
                values: columns,
                columns: width,
            });
        }
        return Ok(());
    }
    if kind != Kind::Exists && columns != 1 {
        return Err(Error::Sql(format!(
            "a subquery used as a value must select exactly one column, not {columns}"
        )));
    }
    Ok(())
}

/// The value of a scalar subquery's rows (ORA-01427 for more than one).
fn scalar(rows: Vec<Row>) -> Result<Value> {
    super::single_value(rows).ok_or(Error::SubqueryRows)
}

impl Correlated {
    /// Whether it is an IN (its first argument is IN's left side).
    fn has_x(&self) -> bool {
        matches!(self.kind, Kind::In { .. })
    }

    /// EXPLAIN's text: the kind, with the outer values it is run for
    /// (`args` rendered) as Oracle shows them, binds `:B1`, `:B2`, ….
    pub(crate) fn render(&self, args: &[String]) -> String {
        let (x, rest) = if self.has_x() {
            (args.first().cloned(), args.get(1..).unwrap_or(&[]))
        } else {
            (None, args)
        };
        let binds = rest
            .iter()
            .enumerate()
            .map(|(i, a)| format!(":B{}={a}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        match (self.kind, x) {
            (Kind::In { negated }, Some(x)) => format!(
                "{x} {}IN (correlated subquery: {binds})",
                if negated { "NOT " } else { "" }
            ),
            (Kind::Exists, _) => format!("EXISTS (correlated subquery: {binds})"),
            _ => format!("(correlated subquery: {binds})"),
        }
    }

    /// The value for one outer row: `args` are IN's `x` (for IN) then the
    /// outer values of `refs`.
    pub(crate) fn eval(&self, args: &[Value]) -> Result<Value> {
        let (x, vals) = if self.has_x() {
            (args.first().cloned(), args.get(1..).unwrap_or(&[]))
        } else {
            (None, args)
        };
        let key = encode_row(vals);
        let found = self.cache.lock().get(&key).cloned();
        let result = match found {
            Some(v) => v,
            None => {
                let v = self.run(vals)?;
                self.cache.lock().insert(key, v.clone());
                v
            }
        };
        match (result, self.kind, x) {
            (Cached::List(list), Kind::In { negated }, Some(x)) => E::In(
                Box::new(E::Const(x)),
                list.into_iter().map(E::Const).collect(),
                negated,
            )
            .eval(&[]),
            (Cached::List(row), Kind::Row { index, .. }, _) => {
                Ok(row.get(index).cloned().unwrap_or(Value::Null))
            }
            (Cached::Value(v), _, _) => Ok(v),
            _ => Err(Error::Internal("a subquery's cached result".into())),
        }
    }

    /// Runs the subquery with the outer values `vals`.
    fn run(&self, vals: &[Value]) -> Result<Cached> {
        let mut row = vec![Value::Null; self.names.len()];
        for (&p, v) in self.refs.iter().zip(vals) {
            row[p] = v.clone();
        }
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Error::Internal("the database is closed".into()))?;
        let mut ctx = self.caller.context()?;
        let mut frames: Vec<Frame<'_>> = self
            .parents
            .iter()
            .map(|(names, row)| Frame {
                names,
                row: Some(row),
                used: RefCell::new(Vec::new()),
            })
            .collect();
        frames.push(Frame {
            names: &self.names,
            row: Some(&row),
            used: RefCell::new(Vec::new()),
        });
        let planner = Planner::new(self.plan.lock().clone());
        let cx = Cx {
            shared: &shared,
            binds: &self.binds,
            hints: &self.hints,
            planner: &planner,
            fetch_size: 0,
            outer: &frames,
            probing: false,
            rowid_of: None,
        };
        let q = select(&mut ctx, &cx, &self.select, false)?;
        if let Some(plan) = planner.into_plan() {
            *self.plan.lock() = Some(plan);
        }
        check_width(self.kind, q.columns.len())?;
        Ok(match self.kind {
            Kind::Scalar => Cached::Value(scalar(q.rows)?),
            Kind::Exists => Cached::Value(Value::Int(i64::from(!q.rows.is_empty()))),
            Kind::In { .. } => Cached::List(
                q.rows
                    .into_iter()
                    .map(|mut r| r.pop().unwrap_or(Value::Null))
                    .collect(),
            ),
            Kind::Row { width, .. } => match q.rows.len() {
                0 => Cached::List(vec![Value::Null; width]),
                1 => Cached::List(q.rows.into_iter().next().unwrap_or_default()),
                _ => return Err(Error::SubqueryRows),
            },
        })
    }
}
