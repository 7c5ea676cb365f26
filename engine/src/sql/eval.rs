//! Bound scalar expressions: evaluation with SQL's NULL rules, and the
//! translation of a WHERE clause into the access layer's predicates.
//!
//! Binding resolves column names to row positions, bind placeholders to
//! their values, and function names to built-ins or registered functions.
//! Booleans are `Int(1)` / `Int(0)`; NULL is UNKNOWN.
//!
//! Semantics chosen where SQL dialects differ (each as SQLite does, so the
//! differential test can compare results): INTEGER op INTEGER stays
//! INTEGER (division truncates; overflow becomes REAL); division or modulo
//! by zero is NULL; arithmetic with a NULL operand is NULL before any type
//! is checked (`NULL + 'x'`); `NULL || x` is NULL (Oracle would treat NULL
//! as ''). The built-in functions are in `func`.
//!
//! `to_pred` keeps every term the index layer understands (`col op const`,
//! BETWEEN, IN lists, LIKE, IS NULL, AND/OR/NOT) in its own form, so that
//! the optimizer can match and screen with it; anything else — arithmetic on
//! a column, a function call, a comparison of two columns — becomes an
//! opaque term evaluated on the table row (Oracle `filter`, DB2 stage 2).

use std::cmp::Ordering;
use std::sync::Arc;

use super::ast::{BinOp, CastType};
pub(crate) use super::func::Builtin;
use super::func::{cast, text_of};
use super::recursive::QueryFn;
use super::subquery::Correlated;
use super::UserFn;
use crate::access::{compare, like_matches, CmpOp, OpaqueFn, Pred};
use crate::context::Caller;
use crate::error::{Error, Result};
use crate::stats::{SessionStats, Stat};
use crate::value::{ColType, Value};

/// A bound expression.
#[derive(Clone)]
pub(crate) enum E {
    Const(Value),
    Col(usize),
    Neg(Box<E>),
    Not(Box<E>),
    /// A comparison (`=`, `<>`, `<`, `<=`, `>`, `>=`).
    Bin(BinOp, Box<E>, Box<E>),
    /// `first op e op e …` left to right: AND, OR, arithmetic or `||`
    /// (`ast::Expr::Chain`, or a single such operator). Kept flat so that a
    /// long chain is not a deep tree.
    /// Invariant: `rest` is not empty, and its operators are all AND, all
    /// OR, or none of them AND or OR.
    Chain(Box<E>, Vec<(BinOp, E)>),
    Between(Box<E>, Box<E>, Box<E>, bool),
    In(Box<E>, Vec<E>, bool),
    Like(Box<E>, Box<E>, bool),
    IsNull(Box<E>, bool),
    Builtin(Builtin, Vec<E>),
    /// A registered function; each call counts in `user function calls`.
    User {
        name: String,
        f: Arc<UserFn>,
        args: Vec<E>,
        stats: SessionStats,
    },
    /// `CASE`: the operand of a simple CASE (compared with each WHEN by
    /// `=`), the (WHEN, THEN) pairs, the ELSE.
    Case {
        operand: Option<Box<E>>,
        whens: Vec<(E, E)>,
        otherwise: Option<Box<E>>,
    },
    /// `CAST(e AS to)`, by the rules of `func::cast`.
    Cast(Box<E>, CastType),
    /// A function whose body is a query: each call runs it in the calling
    /// session (`caller`) and counts in `user function calls` and
    /// `recursive calls` (`sql::recursive`).
    Query {
        f: Arc<QueryFn>,
        args: Vec<E>,
        caller: Caller,
    },
    /// A correlated subquery (`sql::subquery`): its arguments are IN's
    /// left side (for IN) and the outer columns it reads.
    Sub(Arc<Correlated>, Vec<E>),
}

fn truth(b: Option<bool>) -> Value {
    match b {
        Some(b) => Value::Int(i64::from(b)),
        None => Value::Null,
    }
}

/// A bound expression is what the execution layer evaluates.
impl crate::operators::Expr for E {
    fn eval(&self, row: &[Value]) -> Result<Value> {
        E::eval(self, row)
    }
}

/// SQL truth of a value: NULL is UNKNOWN, numbers are true when non-zero.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    v.truth()
}

impl E {
    pub(crate) fn is_const(&self) -> bool {
        match self {
            E::Const(_) => true,
            E::Col(_) => false,
            // A function of constants is evaluated once per statement (the
            // value of a matching predicate, claim C24).
            E::User { args, .. } | E::Query { args, .. } => args.iter().all(E::is_const),
            E::Sub(..) => false,
            E::Neg(e) | E::Not(e) | E::IsNull(e, _) => e.is_const(),
            E::Bin(_, a, b) | E::Like(a, b, _) => a.is_const() && b.is_const(),
            E::Chain(a, rest) => a.is_const() && rest.iter().all(|(_, e)| e.is_const()),
            E::Between(a, b, c, _) => a.is_const() && b.is_const() && c.is_const(),
            E::In(a, l, _) => a.is_const() && l.iter().all(E::is_const),
            E::Builtin(_, args) => args.iter().all(E::is_const),
            E::Cast(e, _) => e.is_const(),
            E::Case { .. } => self.children().all(E::is_const),
        }
    }

    /// The operands of a CASE, in evaluation order.
    fn children(&self) -> impl Iterator<Item = &E> {
        let (operand, whens, otherwise) = match self {
            E::Case {
                operand,
                whens,
                otherwise,
            } => (operand.as_deref(), &whens[..], otherwise.as_deref()),
            _ => (None, &[][..], None),
        };
        operand
            .into_iter()
            .chain(whens.iter().flat_map(|(w, t)| [w, t]))
            .chain(otherwise)
    }

    /// The columns the expression reads, in first-use order.
    pub(crate) fn columns(&self, out: &mut Vec<usize>) {
        let mut add = |c: usize| {
            if !out.contains(&c) {
                out.push(c)
            }
        };
        match self {
            E::Const(_) => {}
            E::Col(c) => add(*c),
            E::Neg(e) | E::Not(e) | E::IsNull(e, _) => e.columns(out),
            E::Bin(_, a, b) | E::Like(a, b, _) => {
                a.columns(out);
                b.columns(out);
            }
            E::Chain(a, rest) => {
                a.columns(out);
                rest.iter().for_each(|(_, e)| e.columns(out));
            }
            E::Between(a, b, c, _) => {
                a.columns(out);
                b.columns(out);
                c.columns(out);
            }
            E::In(a, l, _) => {
                a.columns(out);
                l.iter().for_each(|e| e.columns(out));
            }
            E::Builtin(_, args)
            | E::User { args, .. }
            | E::Query { args, .. }
            | E::Sub(_, args) => args.iter().for_each(|e| e.columns(out)),
            E::Cast(e, _) => e.columns(out),
            E::Case { .. } => self.children().for_each(|e| e.columns(out)),
        }
    }

    /// Renumbers column references through `map` (old position → new).
    pub(crate) fn remap(&self, map: &dyn Fn(usize) -> usize) -> E {
        self.map_cols(&|c| E::Col(map(c)))
    }

    /// The expression with each column reference replaced by `map` of its
    /// position: a renumbered column, or a constant (a join's outer value).
    pub(crate) fn map_cols(&self, map: &dyn Fn(usize) -> E) -> E {
        let b = |e: &E| Box::new(e.map_cols(map));
        match self {
            E::Const(v) => E::Const(v.clone()),
            E::Col(c) => map(*c),
            E::Neg(e) => E::Neg(b(e)),
            E::Not(e) => E::Not(b(e)),
            E::IsNull(e, n) => E::IsNull(b(e), *n),
            E::Bin(op, x, y) => E::Bin(*op, b(x), b(y)),
            E::Chain(x, rest) => E::Chain(
                b(x),
                rest.iter().map(|(op, e)| (*op, e.map_cols(map))).collect(),
            ),
            E::Like(x, y, n) => E::Like(b(x), b(y), *n),
            E::Between(x, y, z, n) => E::Between(b(x), b(y), b(z), *n),
            E::In(x, l, n) => E::In(b(x), l.iter().map(|e| e.map_cols(map)).collect(), *n),
            E::Builtin(f, args) => E::Builtin(*f, args.iter().map(|e| e.map_cols(map)).collect()),
            E::Cast(e, to) => E::Cast(b(e), *to),
            E::Case {
                operand,
                whens,
                otherwise,
            } => E::Case {
                operand: operand.as_deref().map(b),
                whens: whens
                    .iter()
                    .map(|(w, t)| (w.map_cols(map), t.map_cols(map)))
                    .collect(),
                otherwise: otherwise.as_deref().map(b),
            },
            E::User {
                name,
                f,
                args,
                stats,
            } => E::User {
                name: name.clone(),
                f: f.clone(),
                args: args.iter().map(|e| e.map_cols(map)).collect(),
                stats: stats.clone(),
            },
            E::Query { f, args, caller } => E::Query {
                f: f.clone(),
                args: args.iter().map(|e| e.map_cols(map)).collect(),
                caller: caller.clone(),
            },
            E::Sub(q, args) => E::Sub(q.clone(), args.iter().map(|e| e.map_cols(map)).collect()),
        }
    }

    /// Whether evaluating the expression may run SQL (it calls a function
    /// whose body is a query).
    pub(crate) fn runs_sql(&self) -> bool {
        match self {
            E::Query { .. } | E::Sub(..) => true,
            E::Const(_) | E::Col(_) => false,
            E::Neg(e) | E::Not(e) | E::IsNull(e, _) => e.runs_sql(),
            E::Bin(_, a, b) | E::Like(a, b, _) => a.runs_sql() || b.runs_sql(),
            E::Chain(a, rest) => a.runs_sql() || rest.iter().any(|(_, e)| e.runs_sql()),
            E::Between(a, b, c, _) => a.runs_sql() || b.runs_sql() || c.runs_sql(),
            E::In(a, l, _) => a.runs_sql() || l.iter().any(E::runs_sql),
            E::Builtin(_, args) | E::User { args, .. } => args.iter().any(E::runs_sql),
            E::Cast(e, _) => e.runs_sql(),
            E::Case { .. } => self.children().any(E::runs_sql),
        }
    }

    pub(crate) fn eval(&self, row: &[Value]) -> Result<Value> {
        Ok(match self {
            E::Const(v) => v.clone(),
            E::Col(c) => row.get(*c).cloned().unwrap_or(Value::Null),
            E::Neg(e) => match e.eval(row)? {
                Value::Int(i) => i.checked_neg().map_or(Value::Real(-(i as f64)), Value::Int),
                Value::Real(r) => Value::Real(-r),
                Value::Null => Value::Null,
                Value::Text(_) => return Err(Error::Sql("cannot negate text".into())),
            },
            E::Not(e) => truth(as_bool(&e.eval(row)?).map(|b| !b)),
            E::Chain(first, rest) => match rest.first().map(|r| r.0) {
                // AND: FALSE as soon as one operand is FALSE (the rest is
                // not evaluated), else UNKNOWN if one was, else TRUE.
                // OR is the same with TRUE and FALSE swapped.
                Some(op @ (BinOp::And | BinOp::Or)) => {
                    let decisive = op == BinOp::Or;
                    let mut result = Some(!decisive);
                    for e in std::iter::once(&**first).chain(rest.iter().map(|r| &r.1)) {
                        match as_bool(&e.eval(row)?) {
                            Some(b) if b == decisive => return Ok(Value::Int(i64::from(b))),
                            Some(_) => {}
                            None => result = None,
                        }
                    }
                    truth(result)
                }
                _ => {
                    let mut acc = first.eval(row)?;
                    for (op, e) in rest {
                        acc = binary(*op, &acc, &e.eval(row)?)?;
                    }
                    acc
                }
            },
            E::Bin(op, a, b) => binary(*op, &a.eval(row)?, &b.eval(row)?)?,
            E::Between(e, lo, hi, neg) => {
                let v = e.eval(row)?;
                let ge = compare(&v, &lo.eval(row)?).map(|o| o != Ordering::Less);
                let le = compare(&v, &hi.eval(row)?).map(|o| o != Ordering::Greater);
                let r = match (ge, le) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                truth(r.map(|b| b != *neg))
            }
            E::In(e, list, neg) => {
                let v = e.eval(row)?;
                let mut r = Some(false);
                for x in list {
                    match compare(&v, &x.eval(row)?) {
                        Some(Ordering::Equal) => {
                            r = Some(true);
                            break;
                        }
                        Some(_) => {}
                        None => r = None,
                    }
                }
                if v.is_null() {
                    r = if list.is_empty() { Some(false) } else { None };
                }
                truth(r.map(|b| b != *neg))
            }
            E::Like(e, p, neg) => match (e.eval(row)?, p.eval(row)?) {
                (Value::Null, _) | (_, Value::Null) => Value::Null,
                (v, Value::Text(p)) => truth(Some(like_matches(&text_of(&v), &p) != *neg)),
                (v, p) => truth(Some(like_matches(&text_of(&v), &text_of(&p)) != *neg)),
            },
            E::IsNull(e, neg) => truth(Some(e.eval(row)?.is_null() != *neg)),
            E::Cast(e, to) => cast(e.eval(row)?, *to),
            E::Case {
                operand,
                whens,
                otherwise,
            } => {
                // The operand is evaluated once; a branch is taken when
                // its WHEN is TRUE (a simple CASE: when `operand = w` is,
                // so NULL matches nothing). Only the branch taken is
                // evaluated, as in SQLite and Oracle.
                let subject = operand.as_ref().map(|o| o.eval(row)).transpose()?;
                for (w, then) in whens {
                    let w = w.eval(row)?;
                    let hit = match &subject {
                        Some(x) => binary(BinOp::Eq, x, &w)?,
                        None => w,
                    };
                    if as_bool(&hit) == Some(true) {
                        return then.eval(row);
                    }
                }
                match otherwise {
                    Some(e) => e.eval(row)?,
                    None => Value::Null,
                }
            }
            E::Builtin(f, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<_>>>()?;
                f.call(&vals)?
            }
            E::User { f, args, stats, .. } => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<_>>>()?;
                stats.inc(Stat::UserFunctionCalls);
                f(&vals)?
            }
            E::Query { f, args, caller } => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<_>>>()?;
                caller.stats().inc(Stat::UserFunctionCalls);
                f.call(caller, &vals)?
            }
            E::Sub(q, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<Result<Vec<_>>>()?;
                q.eval(&vals)?
            }
        })
    }

    /// SQL text for EXPLAIN, with column names from `names`.
    pub(crate) fn render(&self, names: &[String]) -> String {
        let r = |e: &E| e.render(names);
        match self {
            E::Const(Value::Text(s)) => format!("'{}'", s.replace('\'', "''")),
            E::Const(v) => v.to_string(),
            E::Col(c) => names.get(*c).cloned().unwrap_or_else(|| format!("#{c}")),
            E::Neg(e) => format!("-{}", r(e)),
            E::Not(e) => format!("NOT ({})", r(e)),
            E::Bin(op, a, b) => format!("({} {} {})", r(a), op.symbol(), r(b)),
            // As the left-deep tree it stands for: `((a + b) + c)`.
            E::Chain(a, rest) => {
                let mut out = "(".repeat(rest.len());
                out.push_str(&r(a));
                for (op, e) in rest {
                    out.push_str(&format!(" {} {})", op.symbol(), r(e)));
                }
                out
            }
            E::Between(e, lo, hi, n) => format!(
                "{}{} BETWEEN {} AND {}",
                r(e),
                if *n { " NOT" } else { "" },
                r(lo),
                r(hi)
            ),
            E::In(e, l, n) => format!(
                "{}{} IN ({})",
                r(e),
                if *n { " NOT" } else { "" },
                l.iter().map(r).collect::<Vec<_>>().join(", ")
            ),
            E::Like(e, p, n) => format!("{}{} LIKE {}", r(e), if *n { " NOT" } else { "" }, r(p)),
            E::IsNull(e, n) => format!("{} IS {}NULL", r(e), if *n { "NOT " } else { "" }),
            E::Builtin(f, args) => format!(
                "{}({})",
                f.name(),
                args.iter().map(r).collect::<Vec<_>>().join(", ")
            ),
            E::Cast(e, to) => format!("CAST({} AS {})", r(e), to.name()),
            E::Case {
                operand,
                whens,
                otherwise,
            } => {
                let mut out = "CASE".to_string();
                if let Some(o) = operand {
                    out.push_str(&format!(" {}", r(o)));
                }
                for (w, t) in whens {
                    out.push_str(&format!(" WHEN {} THEN {}", r(w), r(t)));
                }
                if let Some(e) = otherwise {
                    out.push_str(&format!(" ELSE {}", r(e)));
                }
                out + " END"
            }
            E::User { name, args, .. } => format!(
                "{}({})",
                name.to_ascii_uppercase(),
                args.iter().map(r).collect::<Vec<_>>().join(", ")
            ),
            E::Query { f, args, .. } => format!(
                "{}({})",
                f.name.to_ascii_uppercase(),
                args.iter().map(r).collect::<Vec<_>>().join(", ")
            ),
            E::Sub(q, args) => q.render(&args.iter().map(r).collect::<Vec<_>>()),
        }
    }
}

fn num(v: &Value) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i as f64)),
        Value::Real(r) => Ok(Some(*r)),
        Value::Text(s) => Err(Error::Sql(format!("arithmetic on the text value '{s}'"))),
    }
}

pub(crate) fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    use BinOp::*;
    let cmp = |f: fn(Ordering) -> bool| truth(compare(a, b).map(f));
    Ok(match op {
        Eq => cmp(|o| o == Ordering::Equal),
        Ne => cmp(|o| o != Ordering::Equal),
        Lt => cmp(|o| o == Ordering::Less),
        Le => cmp(|o| o != Ordering::Greater),
        Gt => cmp(|o| o == Ordering::Greater),
        Ge => cmp(|o| o != Ordering::Less),
        Concat => match (a, b) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            _ => Value::Text(text_of(a) + &text_of(b)),
        },
        And | Or => unreachable_bool(op)?,
        // NULL first: `NULL + 'x'` is NULL, not a type error.
        Add | Sub | Mul | Div | Mod if a.is_null() || b.is_null() => Value::Null,
        Add | Sub | Mul | Div | Mod => {
            if let (Value::Int(x), Value::Int(y)) = (a, b) {
                let (x, y) = (*x, *y);
                let r = match op {
                    Add => x.checked_add(y),
                    Sub => x.checked_sub(y),
                    Mul => x.checked_mul(y),
                    Div | Mod if y == 0 => return Ok(Value::Null),
                    Div => x.checked_div(y),
                    _ => x.checked_rem(y),
                };
                if let Some(r) = r {
                    return Ok(Value::Int(r));
                }
            }
            let (Some(x), Some(y)) = (num(a)?, num(b)?) else {
                return Ok(Value::Null);
            };
            let r = match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div if y == 0.0 => return Ok(Value::Null),
                Div => x / y,
                Mod if y == 0.0 => return Ok(Value::Null),
                _ => x % y,
            };
            Value::Real(r)
        }
    })
}

fn unreachable_bool(op: BinOp) -> Result<Value> {
    Err(Error::Internal(format!("{op:?} is evaluated lazily")))
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

fn cmp_op(op: BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// The constant value of a constant expression.
fn const_value(e: &E) -> Option<Value> {
    if e.is_const() {
        e.eval(&[]).ok()
    } else {
        None
    }
}

/// A constant adjusted to a column's type, for use as an index bound.
enum Fit {
    Exact(Value),
    /// A non-integral REAL against an INTEGER column.
    Between(f64),
    /// A type the column's keys cannot be compared with (text vs number).
    No,
}

fn fit(v: Value, ty: ColType) -> Fit {
    match (ty, v) {
        (_, Value::Null) => Fit::Exact(Value::Null),
        (ColType::Real, Value::Int(i)) => Fit::Exact(Value::Real(i as f64)),
        (ColType::Integer, Value::Real(r)) if r.is_finite() && r.abs() < 9.0e18 => {
            if r.fract() == 0.0 {
                Fit::Exact(Value::Int(r as i64))
            } else {
                Fit::Between(r)
            }
        }
        (ColType::Integer, v @ Value::Int(_))
        | (ColType::Real, v @ Value::Real(_))
        | (ColType::Text, v @ Value::Text(_)) => Fit::Exact(v),
        _ => Fit::No,
    }
}

/// `col op v` for an INTEGER column and a non-integral `v`, as an integer
/// bound: `< 5.5` is `< 6`, `<= 5.5` is `<= 5`, `> 5.5` is `> 5`, `>= 5.5`
/// is `>= 6`. `=` and `<>` have no such form.
fn integral_bound(op: CmpOp, r: f64) -> Option<Value> {
    match op {
        CmpOp::Lt | CmpOp::Ge => Some(Value::Int(r.ceil() as i64)),
        CmpOp::Le | CmpOp::Gt => Some(Value::Int(r.floor() as i64)),
        CmpOp::Eq | CmpOp::Ne => None,
    }
}

/// Translates a bound WHERE clause into the access layer's predicate.
/// `names` and `types` describe the table's columns; constants are
/// converted to the column's type so that index bounds and keys agree.
pub(crate) fn to_pred(e: &E, names: &[String], types: &[ColType]) -> Pred {
    let ty = |c: usize| types.get(c).copied().unwrap_or(ColType::Text);
    match e {
        E::Chain(first, rest)
            if rest
                .first()
                .is_some_and(|r| matches!(r.0, BinOp::And | BinOp::Or)) =>
        {
            let and = rest.first().is_some_and(|r| r.0 == BinOp::And);
            let mut v = Vec::new();
            for e in std::iter::once(&**first).chain(rest.iter().map(|r| &r.1)) {
                match (to_pred(e, names, types), and) {
                    (Pred::And(ps), true) | (Pred::Or(ps), false) => v.extend(ps),
                    (p, _) => v.push(p),
                }
            }
            if and {
                Pred::And(v)
            } else {
                Pred::Or(v)
            }
        }
        E::Not(x) => Pred::Not(Box::new(to_pred(x, names, types))),
        E::Bin(op, a, b) if cmp_op(*op).is_some() => {
            let op = cmp_op(*op).unwrap_or(CmpOp::Eq);
            let (col, op, v) = match (&**a, &**b, const_value(a), const_value(b)) {
                (E::Col(c), _, _, Some(v)) => (*c, op, v),
                (_, E::Col(c), Some(v), _) => (*c, flip(op), v),
                _ => return opaque(e, names),
            };
            let value = match fit(v, ty(col)) {
                Fit::Exact(v) => v,
                Fit::Between(r) => match integral_bound(op, r) {
                    Some(v) => v,
                    None => return opaque(e, names),
                },
                Fit::No => return opaque(e, names),
            };
            Pred::Cmp { col, op, value }
        }
        E::Between(x, lo, hi, negated) => match (&**x, const_value(lo), const_value(hi)) {
            (E::Col(c), Some(low), Some(high)) => {
                let low = match fit(low, ty(*c)) {
                    Fit::Exact(v) => v,
                    Fit::Between(r) => Value::Int(r.ceil() as i64),
                    Fit::No => return opaque(e, names),
                };
                let high = match fit(high, ty(*c)) {
                    Fit::Exact(v) => v,
                    Fit::Between(r) => Value::Int(r.floor() as i64),
                    Fit::No => return opaque(e, names),
                };
                Pred::Between {
                    col: *c,
                    low,
                    high,
                    negated: *negated,
                }
            }
            _ => opaque(e, names),
        },
        E::In(x, list, negated) => {
            let vals: Option<Vec<Value>> = list.iter().map(const_value).collect();
            match (&**x, vals) {
                (E::Col(c), Some(values)) => {
                    let mut fitted = Vec::with_capacity(values.len());
                    for v in values {
                        match fit(v, ty(*c)) {
                            Fit::Exact(v) => fitted.push(v),
                            _ => return opaque(e, names),
                        }
                    }
                    Pred::In {
                        col: *c,
                        values: fitted,
                        negated: *negated,
                    }
                }
                _ => opaque(e, names),
            }
        }
        E::Like(x, p, negated) => match (&**x, const_value(p)) {
            (E::Col(c), Some(Value::Text(pattern))) if ty(*c) == ColType::Text => Pred::Like {
                col: *c,
                pattern,
                negated: *negated,
            },
            _ => opaque(e, names),
        },
        E::IsNull(x, negated) => match &**x {
            E::Col(c) => Pred::IsNull {
                col: *c,
                negated: *negated,
            },
            _ => opaque(e, names),
        },
        _ => opaque(e, names),
    }
}

/// An opaque term: `e` evaluated on the values of the columns it reads.
fn opaque(e: &E, names: &[String]) -> Pred {
    let mut cols = Vec::new();
    e.columns(&mut cols);
    let local = {
        let cols = cols.clone();
        e.remap(&move |c| cols.iter().position(|&x| x == c).unwrap_or(usize::MAX))
    };
    let label = e.render(names);
    // An error inside (a failing Rust function, arithmetic on text) reads
    // as UNKNOWN, as in SQLite, which the differential test compares with;
    // an expression that runs SQL ends the statement with its error
    // (ORA-01422, ORA-00036, a snapshot too old), as in Oracle.
    let fails = local.runs_sql();
    Pred::Opaque {
        cols,
        label,
        eval: OpaqueFn::fallible(move |vals| match local.eval(vals) {
            Ok(v) => Ok(as_bool(&v)),
            Err(e) if fails => Err(e),
            Err(_) => Ok(None),
        }),
    }
}
