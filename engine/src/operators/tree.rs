//! The operator trait and the operators that are not joins: leaves (rows
//! in memory, a full scan one block at a time) and the steps above them
//! (filter, map, sort, distinct, limit).
//!
//! Every operator answers `next`: the next row, or `None` when it has no
//! more. Rows flow up one at a time; an operator asks its input for a row
//! only when its own caller asks it for one, so a [`Limit`] that has its
//! rows stops the whole subtree below it, however deep. A blocking
//! operator ([`Sort`]) reads its input whole on its first `next` and then
//! hands out what it holds.
//!
//! Invariant: once an operator has answered `None` it keeps answering
//! `None` without asking its input again (a join's inner side may be
//! asked after it ended).

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};

use bytes::Bytes;

use super::temp;
use crate::access::{boolean_terms, compare, Pred};
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{BlockNo, RowId};
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};
use crate::txn::Snapshot;
use crate::value::{decode_row, encode_row, encoded_row_len, Row, Value};

/// What an operator needs of the session that runs it.
pub(crate) trait Env {
    /// The instance the leaves read blocks from.
    fn kernel(&self) -> &Kernel;
    /// The statistics every operator counts its work in.
    fn stats(&self) -> &SessionStats;
    /// The work area of a hash join's build input, in bytes
    /// (`HASH_AREA_SIZE`).
    fn work_area(&self) -> u64;
    /// The work area of a sort, in bytes (`SORT_AREA_SIZE`).
    fn sort_area(&self) -> u64;
}

/// An expression over a row, as the layer above bound it: the execution
/// layer evaluates expressions but does not know how they were written.
pub(crate) trait Expr {
    fn eval(&self, row: &[Value]) -> Result<Value>;
}

/// A node of the operator tree, run on a session `X`.
pub(crate) trait Operator<X: ?Sized> {
    /// The next row, or `None` when there are no more.
    fn next(&mut self, x: &mut X) -> Result<Option<Row>>;
}

/// An operator in its tree, borrowing from the plan that built it.
pub(crate) type Node<'p, X> = Box<dyn Operator<X> + 'p>;

/// Pulls every row of `op` (at most `cap`).
pub(crate) fn drain<X: ?Sized>(
    op: &mut dyn Operator<X>,
    x: &mut X,
    cap: Option<usize>,
) -> Result<Vec<Row>> {
    let cap = cap.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    while out.len() < cap {
        match op.next(x)? {
            Some(r) => out.push(r),
            None => break,
        }
    }
    Ok(out)
}

/// Whether every term is TRUE on `row` (not FALSE, not UNKNOWN).
pub(crate) fn all_true(terms: &[&dyn Expr], row: &[Value]) -> Result<bool> {
    for t in terms {
        if t.eval(row)?.truth() != Some(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// ORDER BY comparison of two values: NULLs first or last as asked, other
/// values by `compare` (numbers numerically, text by bytes; a number sorts
/// before text, as in SQLite).
pub(crate) fn order_values(a: &Value, b: &Value, desc: bool, nulls_first: bool) -> Ordering {
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

/// Ascending comparison of two key lists, NULLs last.
pub(crate) fn cmp_keys(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = order_values(x, y, false, false);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Rows already in memory: a derived table's result, a buffered input,
/// DUAL's one row.
pub(crate) struct Rows {
    rows: std::vec::IntoIter<Row>,
}

impl Rows {
    pub(crate) fn new(rows: Vec<Row>) -> Rows {
        Rows {
            rows: rows.into_iter(),
        }
    }
}

impl<X: ?Sized> Operator<X> for Rows {
    fn next(&mut self, _: &mut X) -> Result<Option<Row>> {
        Ok(self.rows.next())
    }
}

/// Where a leaf puts a table's columns in the rows it produces: a joined
/// row has every relation's columns at an offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    /// The relation's first column in the produced row.
    pub(crate) offset: usize,
    /// The produced row's width.
    pub(crate) width: usize,
    /// The table's columns, the hidden rowid column included.
    pub(crate) columns: usize,
    /// The last of `columns` carries the row's rowid (as an INTEGER).
    pub(crate) rowid: bool,
}

impl Placement {
    /// `vals`, a table row, placed in a row of NULLs.
    pub(crate) fn place(&self, rowid: RowId, mut vals: Row) -> Row {
        if self.rowid {
            vals.resize(self.columns - 1, Value::Null);
            vals.push(Value::Int(rowid.to_u64() as i64));
        }
        self.spread(vals)
    }

    /// `vals`, a relation's values, placed in a row of NULLs (no rowid).
    pub(crate) fn spread(&self, vals: Row) -> Row {
        let mut row = vec![Value::Null; self.width];
        for (i, v) in vals.into_iter().enumerate().take(self.columns) {
            row[self.offset + i] = v;
        }
        row
    }
}

/// A full scan read one block per step: the segment's block list is taken
/// on the first `next`, then each block is got (one consistent get,
/// `table scan blocks gotten`) only when the rows of the one before are
/// used up, so a scan whose consumer stops reads no further block. The
/// rows a block holds are checked against the scan's terms after its
/// latch is released (see `heap::scan_block`). Counts as the one-call full
/// scan of `scan.rs` does, block for block.
pub(crate) struct FullScan {
    def: TableDef,
    snap: Snapshot,
    terms: Vec<Pred>,
    place: Placement,
    blocks: Option<VecDeque<BlockNo>>,
    block: BlockNo,
    current: VecDeque<(u16, Bytes)>,
}

impl FullScan {
    pub(crate) fn new(def: TableDef, snap: Snapshot, pred: &Pred, place: Placement) -> FullScan {
        FullScan {
            def,
            snap,
            terms: boolean_terms(pred),
            place,
            blocks: None,
            block: BlockNo(0),
            current: VecDeque::new(),
        }
    }
}

impl<X: Env + ?Sized> Operator<X> for FullScan {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        let (core, stats) = (x.kernel(), x.stats());
        if self.blocks.is_none() {
            // A term never TRUE (`c = NULL`): no block can hold a row.
            let list = if crate::access::never_true(&self.terms) {
                Vec::new()
            } else {
                heap::segment_blocks(core, stats, self.def.seg, Some(self.snap))?
            };
            self.blocks = Some(list.into());
        }
        loop {
            while let Some((slot, data)) = self.current.pop_front() {
                stats.inc(Stat::TableScanRows);
                let rowid = RowId {
                    block: self.block,
                    slot,
                };
                let row = decode_row(&data)
                    .map_err(|r| Error::corrupt(core.file.name(), self.block.0 as u64, r))?;
                if super::scan::holds(&self.terms, &row)? {
                    return Ok(Some(self.place.place(rowid, row)));
                }
            }
            let Some(no) = self.blocks.as_mut().and_then(VecDeque::pop_front) else {
                return Ok(None);
            };
            self.block = no;
            self.current = heap::scan_block(core, stats, no, self.snap)?.into();
        }
    }
}

/// Keeps the rows of its input on which every term is TRUE.
pub(crate) struct Filter<'p, X: ?Sized> {
    pub(crate) input: Node<'p, X>,
    pub(crate) terms: Vec<&'p dyn Expr>,
}

impl<X: ?Sized> Operator<X> for Filter<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        while let Some(row) = self.input.next(x)? {
            if all_true(&self.terms, &row)? {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

/// One ORDER BY key: a column of the rows being sorted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SortKey {
    pub(crate) col: usize,
    pub(crate) desc: bool,
    pub(crate) nulls_first: bool,
}

/// An in-memory sort (SORT ORDER BY): reads its input whole on the first
/// `next`, counts `sorts (memory)` and `sorts (rows)`, and sorts stably,
/// so rows with equal keys keep their input order.
pub(crate) struct Sort<'p, X: ?Sized> {
    input: Node<'p, X>,
    keys: Vec<SortKey>,
    sorted: Option<std::vec::IntoIter<Row>>,
}

impl<'p, X: ?Sized> Sort<'p, X> {
    pub(crate) fn new(input: Node<'p, X>, keys: Vec<SortKey>) -> Self {
        Sort {
            input,
            keys,
            sorted: None,
        }
    }
}

impl<X: Env + ?Sized> Operator<X> for Sort<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.sorted.is_none() {
            let keys = &self.keys;
            let rows = sort_all(&mut *self.input, x, &|a: &Row, b: &Row| {
                for k in keys {
                    let o = order_values(&a[k.col], &b[k.col], k.desc, k.nulls_first);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            })?;
            self.sorted = Some(rows.into_iter());
        }
        Ok(self.sorted.as_mut().and_then(Iterator::next))
    }
}

/// The bytes a row takes in a sort's work area: its encoded size, as a
/// hash join's build counts it.
fn row_bytes(row: &[Value]) -> u64 {
    encoded_row_len(row) as u64
}

/// Reads `input` whole and sorts it by `cmp`, stably, within the session's
/// sort work area: counted `sorts (rows)`, and `sorts (memory)` when the
/// rows fit; otherwise every time they fill the area they are sorted and
/// written out as a run (temporary writes), and at the end the runs are
/// read back (temporary reads) and merged, counted `sorts (disk)`.
pub(crate) fn sort_all<X: Env + ?Sized>(
    input: &mut dyn Operator<X>,
    x: &mut X,
    cmp: &dyn Fn(&Row, &Row) -> Ordering,
) -> Result<Vec<Row>> {
    let area = x.sort_area();
    let mut runs: Vec<Vec<u8>> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let (mut bytes, mut total) = (0u64, 0u64);
    while let Some(row) = input.next(x)? {
        let n = row_bytes(&row);
        if bytes + n > area && !rows.is_empty() {
            runs.push(write_run(x, &mut rows, cmp));
            bytes = 0;
        }
        bytes += n;
        total += 1;
        rows.push(row);
    }
    let stats = x.stats();
    stats.add(Stat::SortsRows, total);
    if runs.is_empty() {
        stats.inc(Stat::SortsMemory);
        rows.sort_by(|a, b| cmp(a, b));
        return Ok(rows);
    }
    stats.inc(Stat::SortsDisk);
    if !rows.is_empty() {
        runs.push(write_run(x, &mut rows, cmp));
    }
    // One merge pass: every run read back once, then merged pairwise
    // (earlier run first on ties, so the sort stays stable).
    let mut sorted: Vec<Vec<Row>> = Vec::with_capacity(runs.len());
    for run in &runs {
        x.stats().add(Stat::TempReads, temp::blocks(run.len()));
        sorted.push(temp::rows_of(run)?);
    }
    while sorted.len() > 1 {
        let mut next = Vec::with_capacity(sorted.len().div_ceil(2));
        let mut it = sorted.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => merge_two(a, b, cmp),
                None => a,
            });
        }
        sorted = next;
    }
    Ok(sorted.pop().unwrap_or_default())
}

/// Sorts `rows`, writes them out as one run and empties them.
fn write_run<X: Env + ?Sized>(
    x: &X,
    rows: &mut Vec<Row>,
    cmp: &dyn Fn(&Row, &Row) -> Ordering,
) -> Vec<u8> {
    rows.sort_by(|a, b| cmp(a, b));
    let mut run = Vec::new();
    for r in rows.drain(..) {
        temp::put(&mut run, &r);
    }
    x.stats().add(Stat::TempWrites, temp::blocks(run.len()));
    run
}

/// Merges two sorted runs; on ties the row of `a` comes first.
fn merge_two(a: Vec<Row>, b: Vec<Row>, cmp: &dyn Fn(&Row, &Row) -> Ordering) -> Vec<Row> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => cmp(y, x) != Ordering::Less,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next);
    }
    out
}

/// DISTINCT (HASH UNIQUE): passes the first row of each distinct value of
/// its first `width` columns, as it comes (it remembers what it has passed,
/// not its input).
pub(crate) struct Distinct<'p, X: ?Sized> {
    input: Node<'p, X>,
    width: usize,
    seen: HashSet<Vec<u8>>,
}

impl<'p, X: ?Sized> Distinct<'p, X> {
    pub(crate) fn new(input: Node<'p, X>, width: usize) -> Self {
        Distinct {
            input,
            width,
            seen: HashSet::new(),
        }
    }
}

impl<X: ?Sized> Operator<X> for Distinct<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        while let Some(row) = self.input.next(x)? {
            if self
                .seen
                .insert(encode_row(&row[..self.width.min(row.len())]))
            {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

/// OFFSET / LIMIT (COUNT STOPKEY): drops `offset` rows, passes `limit`,
/// then answers `None` without asking its input for another row.
pub(crate) struct Limit<'p, X: ?Sized> {
    input: Node<'p, X>,
    offset: usize,
    left: usize,
}

impl<'p, X: ?Sized> Limit<'p, X> {
    pub(crate) fn new(input: Node<'p, X>, offset: usize, limit: usize) -> Self {
        Limit {
            input,
            offset,
            left: limit,
        }
    }
}

impl<X: ?Sized> Operator<X> for Limit<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        while self.offset > 0 {
            if self.input.next(x)?.is_none() {
                self.left = 0;
                return Ok(None);
            }
            self.offset -= 1;
        }
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let row = self.input.next(x)?;
        if row.is_none() {
            self.left = 0;
        }
        Ok(row)
    }
}

/// A row-by-row step the layer above writes (a projection: the select
/// list evaluated on each row).
pub(crate) struct Map<'p, X: ?Sized> {
    pub(crate) input: Node<'p, X>,
    pub(crate) f: Box<dyn FnMut(Row) -> Result<Row> + 'p>,
}

impl<X: ?Sized> Operator<X> for Map<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        match self.input.next(x)? {
            Some(r) => (self.f)(r).map(Some),
            None => Ok(None),
        }
    }
}
