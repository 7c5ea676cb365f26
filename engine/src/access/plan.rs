//! Splitting a WHERE clause into matching, screening and table terms for one
//! index (the book's chapter 6, Db2's MATCHCOLS rules, implemented literally).

use std::cmp::Ordering;

use super::pred::{compare, like_prefix, CmpOp, Pred};
use crate::value::Value;

/// One end of a range bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub value: Value,
    pub inclusive: bool,
}

/// What the matching predicates say about one index column.
///
/// None of the bounds admits NULL except [`ColumnBound::IsNull`]: a range
/// scan must skip NULL keys even when a side is unbounded (`Range { low:
/// None, .. }` means "every non-NULL value up to `high`").
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnBound {
    /// `col = v` (also `IN (v)` and `BETWEEN v AND v`).
    Eq(Value),
    /// An IN-list acting as a matching equal (ACCESSTYPE 'N'): one probe per
    /// value. Values are distinct, non-NULL and not NaN, in ascending
    /// [`probe_order`] ([`probe_values`] makes such a list).
    In(Vec<Value>),
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`, or several of them combined.
    Range {
        low: Option<Endpoint>,
        high: Option<Endpoint>,
    },
    /// `LIKE 'prefix…'`: every text value that starts with `prefix` (start
    /// key `prefix`, stop at the first key that does not start with it). The
    /// LIKE itself is in `recheck_terms`.
    LikePrefix(String),
    /// `col IS NULL`.
    IsNull,
}

impl ColumnBound {
    /// Whether an equal-type bound: matching may continue on the next column.
    pub fn is_equal(&self) -> bool {
        matches!(
            self,
            ColumnBound::Eq(_) | ColumnBound::In(_) | ColumnBound::IsNull
        )
    }

    /// Whether a key column value lies inside the bound (for an IN-list:
    /// inside one of its probes).
    pub fn admits(&self, v: &Value) -> bool {
        let is = |target: &Value, ord: Ordering| compare(v, target) == Some(ord);
        match self {
            ColumnBound::Eq(x) => is(x, Ordering::Equal),
            ColumnBound::In(xs) => xs
                .binary_search_by(|x| probe_order(x, v))
                .is_ok_and(|i| is(&xs[i], Ordering::Equal)),
            ColumnBound::Range { low, high } => {
                // Inside an end unless v compares `outside` to it (or equal
                // to an exclusive end, or not at all).
                let within = |end: &Option<Endpoint>, outside: Ordering| {
                    end.as_ref().is_none_or(|e| match compare(v, &e.value) {
                        Some(Ordering::Equal) => e.inclusive,
                        Some(o) => o != outside,
                        None => false,
                    })
                };
                // An open side still rejects NULL and NaN.
                compare(v, v).is_some()
                    && within(low, Ordering::Less)
                    && within(high, Ordering::Greater)
            }
            ColumnBound::LikePrefix(p) => matches!(v, Value::Text(s) if s.starts_with(p.as_str())),
            ColumnBound::IsNull => v.is_null(),
        }
    }
}

/// The split of a WHERE clause's boolean terms for one index. All `*_terms`
/// fields are positions in the term list given to [`plan_for_index`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessPlan {
    /// The index's columns (table column positions, index order);
    /// `bounds[i]` constrains `index_cols[i]`.
    pub index_cols: Vec<usize>,
    /// MATCHCOLS: number of leading index columns with matching predicates.
    pub matching_cols: usize,
    /// One bound per matching column (`bounds.len() == matching_cols`).
    pub bounds: Vec<ColumnBound>,
    /// Terms used as matching predicates, in index-column order.
    pub matching_terms: Vec<usize>,
    /// Terms checked on index entries in the range (all their columns are
    /// index columns): Db2 index screening, Oracle `filter` on the INDEX line.
    pub screening_terms: Vec<usize>,
    /// Matching terms whose bound only approximates them (a LIKE with a
    /// prefix), re-checked on index entries like screening terms. Oracle shows
    /// them both as `access` and as `filter`. A subset of `matching_terms`.
    pub recheck_terms: Vec<usize>,
    /// Terms that need the table row (Oracle `filter` on TABLE ACCESS).
    pub table_terms: Vec<usize>,
    /// Root-to-leaf descents: the IN-list length if one matches, else 1.
    pub probes: usize,
}

impl AccessPlan {
    /// Db2 ACCESSTYPE: `N` when an IN-list matches, else `I`.
    pub fn access_type(&self) -> &'static str {
        if self.bounds.iter().any(|b| matches!(b, ColumnBound::In(_))) {
            "N"
        } else {
            "I"
        }
    }
}

/// The order of IN-list probe values: numbers (integers and reals
/// compared exactly, as [`compare`] does) before text (by bytes). Total on
/// values that are neither NULL nor NaN.
pub fn probe_order(a: &Value, b: &Value) -> Ordering {
    compare(a, b).unwrap_or_else(|| {
        let rank = |v: &Value| u8::from(matches!(v, Value::Text(_)));
        rank(a).cmp(&rank(b))
    })
}

/// The probe values of `col IN (values)`: NULL and NaN dropped (they never
/// equal anything), duplicates dropped (a second probe would return its
/// rows twice), the rest sorted by [`probe_order`].
///
/// Sorting first makes the duplicates neighbours, so this is O(n log n)
/// comparisons; it was a quadratic scan of the kept list, and planning a
/// 100,000-value list took most of a minute.
pub fn probe_values(values: &[Value]) -> Vec<Value> {
    probe_values_by(values, probe_order)
}

/// [`probe_values`] with the comparison given, so that a test can count
/// the comparisons it makes.
pub fn probe_values_by(
    values: &[Value],
    mut cmp: impl FnMut(&Value, &Value) -> Ordering,
) -> Vec<Value> {
    let mut list: Vec<Value> = values
        .iter()
        .filter(|v| compare(v, v).is_some())
        .cloned()
        .collect();
    list.sort_by(&mut cmp);
    list.dedup_by(|a, b| cmp(a, b) == Ordering::Equal);
    list
}

/// Splits a WHERE clause into its top-level AND terms, flattening nested
/// ANDs. An OR or NOT stays one term (it is not a boolean term of its parts).
pub fn boolean_terms(where_clause: &Pred) -> Vec<Pred> {
    fn walk(p: &Pred, out: &mut Vec<Pred>) {
        match p {
            Pred::And(ps) => ps.iter().for_each(|p| walk(p, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    walk(where_clause, &mut out);
    out
}

/// Whether one of `terms` (a WHERE clause's boolean terms) is a comparison
/// with NULL, which is never TRUE, so no row can qualify and an access
/// path need read nothing. Oracle adds a `NULL IS NOT NULL` filter above
/// such an access for the same reason. It matters most to a kept plan: a
/// correlated subquery's or a prepared statement's index probe run with a
/// NULL value would otherwise match no key column and walk the whole
/// index.
pub fn never_true(terms: &[Pred]) -> bool {
    terms
        .iter()
        .any(|t| matches!(t, Pred::Cmp { value, .. } if value.is_null()))
}

/// Whether the index holds every column the query needs (index-only access,
/// Db2 INDEXONLY = 'Y').
pub fn index_only(index_cols: &[usize], needed_cols: &[usize]) -> bool {
    needed_cols.iter().all(|c| index_cols.contains(c))
}

/// What one term can contribute as a matching predicate on its column.
#[derive(Clone)]
pub(super) enum Usable {
    /// An equal predicate (rule 4): `=`, IS NULL, IN (one value), BETWEEN x AND x.
    Equal(ColumnBound),
    /// An IN-list of several values (rule 5).
    InList(Vec<Value>),
    /// A range predicate (rule 3).
    Range(Option<Endpoint>, Option<Endpoint>),
    /// A LIKE with a constant prefix (rule 3, range-typed).
    Like(String),
}

impl Usable {
    pub(super) fn into_bound(self) -> ColumnBound {
        match self {
            Usable::Equal(b) => b,
            Usable::InList(vs) => ColumnBound::In(vs),
            Usable::Range(low, high) => ColumnBound::Range { low, high },
            Usable::Like(p) => ColumnBound::LikePrefix(p),
        }
    }
}

/// The indexable form of a term, with its column, or `None` if it can never
/// match (rule 7: `<>`, NOT BETWEEN, NOT IN, NOT LIKE, LIKE without a prefix,
/// IS NOT NULL; rule 8: OR; and NOT, opaque predicates, comparisons with a
/// NULL constant, which are never TRUE).
pub(super) fn usable(term: &Pred) -> Option<(usize, Usable)> {
    let end = |v: &Value, inclusive| {
        Some(Endpoint {
            value: v.clone(),
            inclusive,
        })
    };
    match term {
        Pred::Cmp { col, op, value } if !value.is_null() => {
            let u = match op {
                CmpOp::Eq => Usable::Equal(ColumnBound::Eq(value.clone())),
                CmpOp::Ne => return None,
                CmpOp::Lt => Usable::Range(None, end(value, false)),
                CmpOp::Le => Usable::Range(None, end(value, true)),
                CmpOp::Gt => Usable::Range(end(value, false), None),
                CmpOp::Ge => Usable::Range(end(value, true), None),
            };
            Some((*col, u))
        }
        Pred::Between {
            col,
            low,
            high,
            negated: false,
        } if !low.is_null() && !high.is_null() => {
            let u = if compare(low, high) == Some(Ordering::Equal) {
                Usable::Equal(ColumnBound::Eq(low.clone()))
            } else {
                Usable::Range(end(low, true), end(high, true))
            };
            Some((*col, u))
        }
        Pred::In {
            col,
            values,
            negated: false,
        } => {
            let mut list = probe_values(values);
            match list.len() {
                0 => None,
                1 => Some((*col, Usable::Equal(ColumnBound::Eq(list.remove(0))))),
                _ => Some((*col, Usable::InList(list))),
            }
        }
        Pred::Like {
            col,
            pattern,
            negated: false,
        } => {
            let prefix = like_prefix(pattern);
            (!prefix.is_empty()).then(|| (*col, Usable::Like(prefix.to_string())))
        }
        Pred::IsNull {
            col,
            negated: false,
        } => Some((*col, Usable::Equal(ColumnBound::IsNull))),
        _ => None,
    }
}

/// Evaluation order within a stage (rule 10): equal predicates, then ranges
/// and IS NOT NULL, then everything else.
fn stage_rank(term: &Pred) -> u8 {
    match usable(term) {
        Some((_, Usable::Equal(_))) => 0,
        Some((_, Usable::Range(..) | Usable::Like(_))) => 1,
        _ if matches!(term, Pred::IsNull { negated: true, .. }) => 1,
        _ => 2,
    }
}

/// Narrows `acc` to also satisfy the range `(low, high)`. Returns false, and
/// leaves `acc` alone, if an end cannot be compared (different types).
fn fold_range(
    acc: &mut (Option<Endpoint>, Option<Endpoint>),
    low: Option<Endpoint>,
    high: Option<Endpoint>,
) -> bool {
    /// The tighter of two ends: the one that compares `tighter` to the other.
    fn pick(
        a: &Option<Endpoint>,
        b: Option<Endpoint>,
        tighter: Ordering,
    ) -> Option<Option<Endpoint>> {
        match (a, b) {
            (None, b) => Some(b),
            (a, None) => Some(a.clone()),
            (Some(a), Some(b)) => Some(Some(match compare(&a.value, &b.value)? {
                Ordering::Equal => Endpoint {
                    value: a.value.clone(),
                    inclusive: a.inclusive && b.inclusive,
                },
                o if o == tighter => a.clone(),
                _ => b,
            })),
        }
    }
    match (
        pick(&acc.0, low, Ordering::Greater),
        pick(&acc.1, high, Ordering::Less),
    ) {
        (Some(l), Some(h)) => {
            *acc = (l, h);
            true
        }
        _ => false,
    }
}

/// Computes the access plan for an index on `index_cols` (table column
/// positions, in index order), following the book's chapter 6:
///
/// 1. Walk the index columns from leading to trailing, at most
///    `max_matching` of them (the NUM_INDEX_KEYS hint).
/// 2. A column is matching if an indexable boolean term on it exists; the
///    first column without one stops the walk.
/// 3. Choice on one column: an equal predicate (`=`, IS NULL, IN with one
///    value, BETWEEN x AND x) wins; else an IN-list of several values, if no
///    earlier column used one (only one IN-list may match; it sets `probes`);
///    else all range predicates (`<`, `<=`, `>`, `>=`, BETWEEN) combined into
///    one range; else a LIKE with a constant prefix. A range or LIKE makes
///    this column the last matching one. Other predicates on the column that
///    lost (a range next to an `=`, a second `=`) become screening.
/// 4. Every other term screens if all its columns are index columns and it
///    is not opaque; otherwise it is a table term. Both lists are ordered
///    equal → range/IS NOT NULL → others (rule 10), then by term position.
pub fn plan_for_index(
    terms: &[Pred],
    index_cols: &[usize],
    max_matching: Option<usize>,
) -> AccessPlan {
    let usable: Vec<Option<(usize, Usable)>> = terms.iter().map(usable).collect();
    let limit = max_matching.map_or(index_cols.len(), |n| n.min(index_cols.len()));
    let mut plan = AccessPlan {
        index_cols: index_cols.to_vec(),
        probes: 1,
        ..AccessPlan::default()
    };
    let mut used = vec![false; terms.len()];
    let mut in_list_used = false;

    for &col in &index_cols[..limit] {
        // The unused indexable terms on this column, of one kind.
        let on_col = |want: fn(&Usable) -> bool| -> Vec<(usize, &Usable)> {
            (0..terms.len())
                .filter(|&i| !used[i])
                .filter_map(|i| match &usable[i] {
                    Some((c, u)) if *c == col && want(u) => Some((i, u)),
                    _ => None,
                })
                .collect()
        };
        let equal = on_col(|u| matches!(u, Usable::Equal(_)));
        let in_lists = on_col(|u| matches!(u, Usable::InList(_)));
        let ranges = on_col(|u| matches!(u, Usable::Range(..)));
        let likes = on_col(|u| matches!(u, Usable::Like(_)));

        let (bound, chosen, last) = if let Some(&(i, u)) = equal.first() {
            (u.clone().into_bound(), vec![i], false)
        } else if let (Some(&(i, Usable::InList(vs))), false) = (in_lists.first(), in_list_used) {
            in_list_used = true;
            plan.probes = vs.len();
            (ColumnBound::In(vs.clone()), vec![i], false)
        } else if !ranges.is_empty() {
            let mut acc = (None, None);
            let mut chosen = Vec::new();
            for &(i, u) in &ranges {
                if let Usable::Range(low, high) = u {
                    if fold_range(&mut acc, low.clone(), high.clone()) {
                        chosen.push(i);
                    }
                }
            }
            let (low, high) = acc;
            (ColumnBound::Range { low, high }, chosen, true)
        } else if let Some(&(i, u)) = likes.first() {
            plan.recheck_terms.push(i);
            (u.clone().into_bound(), vec![i], true)
        } else {
            break; // rule 2: no matching predicate on this column
        };

        for &i in &chosen {
            used[i] = true;
        }
        plan.matching_terms.extend(chosen);
        plan.bounds.push(bound);
        plan.matching_cols += 1;
        if last {
            break; // rule 3: a range ends the matching columns
        }
    }

    for (i, term) in terms.iter().enumerate().filter(|(i, _)| !used[*i]) {
        let in_index = term.columns().iter().all(|c| index_cols.contains(c));
        if in_index && !term.contains_opaque() {
            plan.screening_terms.push(i);
        } else {
            plan.table_terms.push(i);
        }
    }
    // Cached: a rank looks at the term's IN list, once per term.
    plan.screening_terms
        .sort_by_cached_key(|&i| (stage_rank(&terms[i]), i));
    plan.table_terms
        .sort_by_cached_key(|&i| (stage_rank(&terms[i]), i));
    plan
}
