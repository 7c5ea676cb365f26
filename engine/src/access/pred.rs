//! Predicates over the columns of one table, their three-valued evaluation,
//! LIKE matching, and their EXPLAIN text.
//!
//! Evaluation follows SQL: `None` is UNKNOWN. A comparison involving NULL is
//! UNKNOWN; `AND` is FALSE if any operand is FALSE, `OR` is TRUE if any operand
//! is TRUE, otherwise UNKNOWN wins over the remaining value; `NOT UNKNOWN` is
//! UNKNOWN. A WHERE clause keeps a row only when it evaluates to TRUE.
//!
//! Comparison rules ([`compare`]): integers and reals compare numerically
//! (exactly, even beyond 2^53); text compares by UTF-8 bytes (so `'B' < 'a'`);
//! text against a number is UNKNOWN, like a comparison with NULL. A real NaN
//! compares UNKNOWN with everything.
//!
//! An opaque term's function may fail (a function whose query found two
//! rows): [`try_eval`] returns that error so the statement ends with it;
//! [`eval`] and [`eval_partial`] read it as UNKNOWN.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::error::Result as DbResult;
use crate::value::Value;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether `column op constant` holds when the column compares `ord` to
    /// the constant.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
        }
    }
}

/// The function behind an opaque predicate. It receives the values of the
/// predicate's `cols`, in that order, and may capture state (an expression
/// tree, a call counter).
#[derive(Clone)]
pub struct OpaqueFn(pub Arc<OpaqueEval>);

/// The signature of an opaque predicate's function: UNKNOWN is `Ok(None)`;
/// an error ends the statement that evaluates it with [`try_eval`].
pub type OpaqueEval = dyn Fn(&[Value]) -> DbResult<Option<bool>> + Send + Sync;

impl OpaqueFn {
    /// A function that cannot fail.
    pub fn new(f: impl Fn(&[Value]) -> Option<bool> + Send + Sync + 'static) -> OpaqueFn {
        OpaqueFn(Arc::new(move |v: &[Value]| Ok(f(v))))
    }

    /// A function that can fail (one that runs SQL).
    pub fn fallible(
        f: impl Fn(&[Value]) -> DbResult<Option<bool>> + Send + Sync + 'static,
    ) -> OpaqueFn {
        OpaqueFn(Arc::new(f))
    }
}

impl fmt::Debug for OpaqueFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueFn(..)")
    }
}

/// An expression tree over the columns of one table (by position in the row)
/// and constants.
#[derive(Clone, Debug)]
pub enum Pred {
    /// `col op value`.
    Cmp {
        col: usize,
        op: CmpOp,
        value: Value,
    },
    /// `col [NOT] BETWEEN low AND high` (both ends inclusive).
    Between {
        col: usize,
        low: Value,
        high: Value,
        negated: bool,
    },
    /// `col [NOT] IN (values)`.
    In {
        col: usize,
        values: Vec<Value>,
        negated: bool,
    },
    /// `col [NOT] LIKE pattern`: `%` matches any run of characters, `_`
    /// exactly one character; there is no escape character.
    Like {
        col: usize,
        pattern: String,
        negated: bool,
    },
    /// `col IS [NOT] NULL`.
    IsNull {
        col: usize,
        negated: bool,
    },
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    /// A predicate the index cannot use at all (a function of a column, a
    /// user-defined function): evaluated on the table row only. `label` is its
    /// EXPLAIN text; `eval` gets the values of `cols` in order.
    Opaque {
        cols: Vec<usize>,
        label: String,
        eval: OpaqueFn,
    },
}

impl Pred {
    /// `col op value`.
    pub fn cmp(col: usize, op: CmpOp, value: impl Into<Value>) -> Pred {
        Pred::Cmp {
            col,
            op,
            value: value.into(),
        }
    }

    /// The columns the predicate reads, sorted, without duplicates.
    pub fn columns(&self) -> Vec<usize> {
        fn walk(p: &Pred, out: &mut Vec<usize>) {
            match p {
                Pred::Cmp { col, .. }
                | Pred::Between { col, .. }
                | Pred::In { col, .. }
                | Pred::Like { col, .. }
                | Pred::IsNull { col, .. } => out.push(*col),
                Pred::And(ps) | Pred::Or(ps) => ps.iter().for_each(|p| walk(p, out)),
                Pred::Not(p) => walk(p, out),
                Pred::Opaque { cols, .. } => out.extend(cols),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether an [`Pred::Opaque`] occurs anywhere in the tree.
    pub fn contains_opaque(&self) -> bool {
        match self {
            Pred::Opaque { .. } => true,
            Pred::And(ps) | Pred::Or(ps) => ps.iter().any(Pred::contains_opaque),
            Pred::Not(p) => p.contains_opaque(),
            _ => false,
        }
    }
}

/// SQL comparison of two values; `None` (UNKNOWN) if either is NULL or the
/// types cannot be compared (text against a number, NaN).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Real(y)) => cmp_int_real(*x, *y),
        (Value::Real(x), Value::Int(y)) => cmp_int_real(*y, *x).map(Ordering::reverse),
        (Value::Text(x), Value::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

/// Exact integer-vs-real comparison: `i as f64` would round above 2^53.
fn cmp_int_real(i: i64, f: f64) -> Option<Ordering> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return None;
    }
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // Now trunc(f) fits in an i64 exactly; the fraction breaks ties.
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(f - whole)),
        other => Some(other),
    }
}

/// The column a predicate needs is not available (not in the index entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAvailable {
    pub col: usize,
}

impl fmt::Display for NotAvailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column #{} is not available", self.col)
    }
}

/// Three-valued evaluation on a full row (`None` = UNKNOWN). A column past the
/// end of the row reads as UNKNOWN rather than panicking; the planner is
/// expected to have checked column positions against the table.
pub fn eval(pred: &Pred, row: &[Value]) -> Option<bool> {
    try_eval(pred, row).unwrap_or(None)
}

/// [`eval`] that returns the error of an opaque term's function instead of
/// reading it as UNKNOWN: what a query's filters use, so that a failing
/// function ends the statement.
pub fn try_eval(pred: &Pred, row: &[Value]) -> DbResult<Option<bool>> {
    eval_available(pred, &|c| row.get(c))
}

/// Evaluation when only some columns are available (an index entry): `get`
/// returns `None` for a column that is not. A predicate that reads any
/// unavailable column is `Err(NotAvailable)` — decided before evaluating, so
/// the answer does not depend on short-circuiting.
pub fn eval_partial<'v>(
    pred: &Pred,
    get: &dyn Fn(usize) -> Option<&'v Value>,
) -> Result<Option<bool>, NotAvailable> {
    if let Some(col) = pred.columns().into_iter().find(|&c| get(c).is_none()) {
        return Err(NotAvailable { col });
    }
    Ok(eval_available(pred, get).unwrap_or(None))
}

/// Evaluation once every needed column is known to be available.
/// AND/OR stop at the first deciding operand, so an opaque function is not
/// called when an earlier operand already decided the result.
fn eval_available<'v>(
    pred: &Pred,
    get: &dyn Fn(usize) -> Option<&'v Value>,
) -> DbResult<Option<bool>> {
    static NULL: Value = Value::Null;
    let val = |col: usize| get(col).unwrap_or(&NULL);
    let negate_if = |t: Option<bool>, negated: bool| t.map(|b| b != negated);
    Ok(match pred {
        Pred::Cmp { col, op, value } => compare(val(*col), value).map(|o| op.holds(o)),
        Pred::Between {
            col,
            low,
            high,
            negated,
        } => {
            let v = val(*col);
            let above = compare(v, low).map(|o| o != Ordering::Less);
            let below = compare(v, high).map(|o| o != Ordering::Greater);
            negate_if(and3(above, below), *negated)
        }
        Pred::In {
            col,
            values,
            negated,
        } => negate_if(in_list(val(*col), values), *negated),
        Pred::Like {
            col,
            pattern,
            negated,
        } => match val(*col) {
            Value::Text(s) => Some(like_matches(s, pattern) != *negated),
            _ => None, // NULL, or LIKE on a number: UNKNOWN
        },
        Pred::IsNull { col, negated } => Some(val(*col).is_null() != *negated),
        Pred::And(ps) => {
            let mut result = Some(true);
            for p in ps {
                match eval_available(p, get)? {
                    Some(false) => return Ok(Some(false)),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Pred::Or(ps) => {
            let mut result = Some(false);
            for p in ps {
                match eval_available(p, get)? {
                    Some(true) => return Ok(Some(true)),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Pred::Not(p) => eval_available(p, get)?.map(|b| !b),
        Pred::Opaque { cols, eval, .. } => {
            let args: Vec<Value> = cols.iter().map(|&c| val(c).clone()).collect();
            (eval.0)(&args)?
        }
    })
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// `v IN (list)`: TRUE if some element equals `v`; otherwise UNKNOWN if some
/// comparison was UNKNOWN (a NULL element, or `v` NULL); otherwise FALSE.
fn in_list(v: &Value, list: &[Value]) -> Option<bool> {
    let mut result = Some(false);
    for item in list {
        match compare(v, item) {
            Some(Ordering::Equal) => return Some(true),
            None => result = None,
            Some(_) => {}
        }
    }
    result
}

/// Whether `text` matches the LIKE `pattern` (`%` any run, `_` one character,
/// case-sensitive, no escape character). Works on characters, not bytes.
///
/// Greedy two-pointer match that remembers only the most recent `%`: when a
/// later character fails, that `%` absorbs one more character and matching
/// resumes after it. Backtracking to an earlier `%` is never needed (the
/// later one can absorb anything the earlier one could), so the cost is
/// O(len(text) × len(pattern)) at worst, never exponential.
pub fn like_matches(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    // (pattern position after the last `%`, text position it resumes from)
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '%' {
            pi += 1;
            star = Some((pi, ti));
        } else if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((after_star, from)) = star {
            pi = after_star;
            ti = from + 1;
            star = Some((after_star, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

/// The constant prefix of a LIKE pattern before its first wildcard (`""` if
/// the pattern starts with `%` or `_`). `LIKE 'WIN%D'` → `"WIN"`.
pub fn like_prefix(pattern: &str) -> &str {
    let end = pattern.find(['%', '_']).unwrap_or(pattern.len());
    &pattern[..end]
}

/// EXPLAIN text of one predicate, with column names from `names` (a position
/// without a name prints as `#n`). Text constants are quoted SQL-style.
pub fn render(pred: &Pred, names: &[String]) -> String {
    let mut out = String::new();
    write_pred(&mut out, pred, names, false);
    out
}

/// `"C1=1 AND C2>0"`: the terms at positions `which`, joined with AND, for an
/// `access(…)` or `filter(…)` line (the caller adds that wrapper). An OR term
/// is parenthesised when joined with others. Empty `which` gives `""`.
pub fn describe(terms: &[Pred], which: &[usize], names: &[String]) -> String {
    let nested = which.len() > 1;
    let mut out = String::new();
    for (n, term) in which.iter().filter_map(|&i| terms.get(i)).enumerate() {
        if n > 0 {
            out.push_str(" AND ");
        }
        write_pred(&mut out, term, names, nested);
    }
    out
}

fn write_pred(out: &mut String, pred: &Pred, names: &[String], nested: bool) {
    let name = |col: &usize| names.get(*col).cloned().unwrap_or(format!("#{col}"));
    let not = |negated: &bool| if *negated { "NOT " } else { "" };
    match pred {
        Pred::Cmp { col, op, value } => {
            out.push_str(&format!("{}{}{}", name(col), op.symbol(), literal(value)))
        }
        Pred::Between {
            col,
            low,
            high,
            negated,
        } => out.push_str(&format!(
            "{} {}BETWEEN {} AND {}",
            name(col),
            not(negated),
            literal(low),
            literal(high)
        )),
        Pred::In {
            col,
            values,
            negated,
        } => {
            let list: Vec<String> = values.iter().map(literal).collect();
            out.push_str(&format!(
                "{} {}IN ({})",
                name(col),
                not(negated),
                list.join(",")
            ))
        }
        Pred::Like {
            col,
            pattern,
            negated,
        } => out.push_str(&format!(
            "{} {}LIKE {}",
            name(col),
            not(negated),
            literal(&Value::Text(pattern.clone()))
        )),
        Pred::IsNull { col, negated } => {
            out.push_str(&format!("{} IS {}NULL", name(col), not(negated)))
        }
        Pred::And(ps) | Pred::Or(ps) => {
            let sep = if matches!(pred, Pred::And(_)) {
                " AND "
            } else {
                " OR "
            };
            if nested {
                out.push('(');
            }
            for (n, p) in ps.iter().enumerate() {
                if n > 0 {
                    out.push_str(sep);
                }
                write_pred(out, p, names, true);
            }
            if nested {
                out.push(')');
            }
        }
        Pred::Not(p) => {
            out.push_str("NOT (");
            write_pred(out, p, names, false);
            out.push(')');
        }
        Pred::Opaque { label, .. } => out.push_str(label),
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}
