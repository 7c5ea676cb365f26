//! The operators of a compound query: UNION-ALL (its inputs one after
//! the other), SORT UNIQUE (duplicate removal by sorting, as Oracle's),
//! and INTERSECTION / MINUS over inputs that come out sorted and unique.
//!
//! Rows are equal for duplicate removal when every column compares equal,
//! NULL equal to NULL (unlike `=`), and `1` equal to `1.0`: the whole-row
//! order below, ascending with NULLs last, puts equal rows side by side.

use std::cmp::Ordering;

use super::tree::{drain, order_values, sort_all, Env, Node, Operator, SortKey};
use crate::error::Result;
use crate::value::{Row, Value};

/// Two rows column by column, ascending, NULLs last and equal to each
/// other.
pub(crate) fn whole_row(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| order_values(x, y, false, false))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// Two rows by `keys`, then by every column: equal rows end up next to
/// each other whatever the keys.
pub(crate) fn by_keys(a: &[Value], b: &[Value], keys: &[SortKey]) -> Ordering {
    keys.iter()
        .map(|k| order_values(&a[k.col], &b[k.col], k.desc, k.nulls_first))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or_else(|| whole_row(a, b))
}

/// UNION-ALL: every row of each input in turn, each input asked only once
/// the one before it is used up.
pub(crate) struct Concat<'p, X: ?Sized> {
    inputs: std::collections::VecDeque<Node<'p, X>>,
}

impl<'p, X: ?Sized> Concat<'p, X> {
    pub(crate) fn new(inputs: Vec<Node<'p, X>>) -> Self {
        Concat {
            inputs: inputs.into(),
        }
    }
}

impl<X: ?Sized> Operator<X> for Concat<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        while let Some(input) = self.inputs.front_mut() {
            if let Some(row) = input.next(x)? {
                return Ok(Some(row));
            }
            self.inputs.pop_front();
        }
        Ok(None)
    }
}

/// SORT UNIQUE (or, with `unique` false, a SORT ORDER BY that breaks ties
/// by the whole row): reads its input whole, counts one sort, sorts by
/// `keys` then every column (stable: the first of equal rows stays first)
/// and, when unique, keeps one of each.
pub(crate) struct SortUnique<'p, X: ?Sized> {
    input: Node<'p, X>,
    keys: Vec<SortKey>,
    unique: bool,
    sorted: Option<std::vec::IntoIter<Row>>,
}

impl<'p, X: ?Sized> SortUnique<'p, X> {
    pub(crate) fn new(input: Node<'p, X>, keys: Vec<SortKey>, unique: bool) -> Self {
        SortUnique {
            input,
            keys,
            unique,
            sorted: None,
        }
    }
}

impl<X: Env + ?Sized> Operator<X> for SortUnique<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.sorted.is_none() {
            let keys = &self.keys;
            let mut rows = sort_all(&mut *self.input, x, &|a: &Row, b: &Row| by_keys(a, b, keys))?;
            if self.unique {
                rows.dedup_by(|later, kept| whole_row(later, kept) == Ordering::Equal);
            }
            self.sorted = Some(rows.into_iter());
        }
        Ok(self.sorted.as_mut().and_then(Iterator::next))
    }
}

/// INTERSECTION (`keep_found`) or MINUS: the rows of the first input
/// found in every other input, or in none. Every input comes sorted and
/// unique; the others are read whole first (each sorted by the whole row,
/// so a row is found by binary search), then the first streams through.
pub(crate) struct SetFilter<'p, X: ?Sized> {
    first: Node<'p, X>,
    others: Vec<Node<'p, X>>,
    keep_found: bool,
    read: Option<Vec<Vec<Row>>>,
}

impl<'p, X: ?Sized> SetFilter<'p, X> {
    pub(crate) fn new(first: Node<'p, X>, others: Vec<Node<'p, X>>, keep_found: bool) -> Self {
        SetFilter {
            first,
            others,
            keep_found,
            read: None,
        }
    }
}

impl<X: ?Sized> Operator<X> for SetFilter<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.read.is_none() {
            let mut read = Vec::with_capacity(self.others.len());
            for o in &mut self.others {
                read.push(drain(&mut **o, x, None)?);
            }
            self.read = Some(read);
        }
        let others = self.read.as_deref().unwrap_or_default();
        while let Some(row) = self.first.next(x)? {
            let keep = others
                .iter()
                .all(|o| o.binary_search_by(|r| whole_row(r, &row)).is_ok() == self.keep_found);
            if keep {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}
