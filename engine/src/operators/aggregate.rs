//! GROUP BY and aggregates (SORT AGGREGATE / HASH GROUP BY): the operator
//! between a query's source rows and its select list.
//!
//! Rows are grouped by the encoded values of their GROUP BY expressions in
//! a hash table, groups kept in order of first appearance (so that output
//! without an ORDER BY is deterministic). Each group keeps its first source
//! row and one running state ([`Acc`]) per aggregate; once the input is
//! used up the group becomes its "extended row" (first row, padded to the
//! source width, then the aggregate values), HAVING is evaluated on it, and
//! the layer above reads it like any row.
//!
//! Invariants: an aggregate query without GROUP BY yields exactly one
//! group, even over no rows (`COUNT(*)` is 0, the others NULL); NULLs are
//! skipped by every aggregate but `COUNT(*)`; SUM stays an integer until it
//! would overflow, then continues as a REAL.

use std::collections::{HashMap, HashSet};

use super::tree::{order_values, Expr, Node, Operator};
use crate::error::{Error, Result};
use crate::value::{encode_row, Row, Value};

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// One aggregate call; `arg` is None for COUNT(*).
pub(crate) struct AggCall<'p> {
    pub(crate) f: AggFn,
    pub(crate) arg: Option<&'p dyn Expr>,
    pub(crate) distinct: bool,
}

/// What an [`Aggregate`] computes.
pub(crate) struct AggSpec<'p> {
    /// The source rows' width: the extended row's aggregates start there.
    pub(crate) base: usize,
    pub(crate) group_by: Vec<&'p dyn Expr>,
    pub(crate) aggs: Vec<AggCall<'p>>,
    pub(crate) having: Option<&'p dyn Expr>,
}

/// Groups its input (read whole on the first `next`) and hands out one
/// extended row per group that HAVING keeps.
pub(crate) struct Aggregate<'p, X: ?Sized> {
    input: Node<'p, X>,
    spec: AggSpec<'p>,
    out: Option<std::vec::IntoIter<Row>>,
}

impl<'p, X: ?Sized> Aggregate<'p, X> {
    pub(crate) fn new(input: Node<'p, X>, spec: AggSpec<'p>) -> Self {
        Aggregate {
            input,
            spec,
            out: None,
        }
    }

    fn run(&mut self, x: &mut X) -> Result<Vec<Row>> {
        let spec = &self.spec;
        let base = spec.base;
        let mut groups: Vec<(Row, Vec<Acc>)> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        while let Some(row) = self.input.next(x)? {
            let key: Row = spec
                .group_by
                .iter()
                .map(|g| g.eval(&row))
                .collect::<Result<_>>()?;
            let k = encode_row(&key);
            let gi = match index.get(&k) {
                Some(&i) => i,
                None => {
                    index.insert(k, groups.len());
                    groups.push((
                        row.clone(),
                        spec.aggs.iter().map(|_| Acc::default()).collect(),
                    ));
                    groups.len() - 1
                }
            };
            for (acc, a) in groups[gi].1.iter_mut().zip(&spec.aggs) {
                let v = match a.arg {
                    Some(e) => Some(e.eval(&row)?),
                    None => None,
                };
                acc.add(a, v)?;
            }
        }
        if groups.is_empty() && spec.group_by.is_empty() {
            groups.push((
                vec![Value::Null; base],
                spec.aggs.iter().map(|_| Acc::default()).collect(),
            ));
        }
        let mut out = Vec::with_capacity(groups.len());
        for (first, accs) in groups {
            let mut ext = first;
            ext.resize(base, Value::Null);
            for (acc, a) in accs.into_iter().zip(&spec.aggs) {
                ext.push(acc.finish(a));
            }
            if let Some(h) = spec.having {
                if h.eval(&ext)?.truth() != Some(true) {
                    continue;
                }
            }
            out.push(ext);
        }
        Ok(out)
    }
}

impl<X: ?Sized> Operator<X> for Aggregate<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.out.is_none() {
            let rows = self.run(x)?;
            self.out = Some(rows.into_iter());
        }
        Ok(self.out.as_mut().and_then(Iterator::next))
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
    /// The values seen so far, for an aggregate over DISTINCT values.
    seen: Option<HashSet<Vec<u8>>>,
}

impl Acc {
    fn add(&mut self, a: &AggCall<'_>, v: Option<Value>) -> Result<()> {
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

    fn finish(self, a: &AggCall<'_>) -> Value {
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
