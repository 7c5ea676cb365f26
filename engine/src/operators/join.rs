//! The join operators and the leaves a join reads its relations through.
//!
//! Rows are joined rows: every relation of the FROM clause has its columns
//! at a fixed offset of one row, NULL until its relation is joined. A join
//! operator takes rows of the relations joined so far from its outer
//! input and pairs each with candidate rows of one more relation (the
//! inner relation, at [`JoinSpec`]'s offset):
//!
//! * [`NestedLoops`]: for each outer row, the inner relation is read
//!   through a [`Probe`] given that row, so its join predicates act as
//!   constants on the inner access (an index on the inner join column
//!   makes each probe one descent, counted as any index range scan);
//! * [`HashJoin`]: the inner relation (the build input) is read whole
//!   into a hash table on its equality keys (`hash join build rows`,
//!   `bytes`); a build larger than the work area is written out in
//!   partitions (`workarea executions - onepass`, temporary writes), the
//!   probe input likewise, and each pair of partitions read back and
//!   joined (temporary reads); in memory it is `- optimal`;
//! * [`MergeJoin`]: both inputs read whole and sorted on the keys (each
//!   sort counted in `sorts (memory)`/`sorts (rows)`), then merged;
//! * [`Cartesian`]: no equality key: the inner relation is read once and
//!   buffered (BUFFER SORT, counted as a sort), and every outer row paired
//!   with every buffered row.
//!
//! Every method pairs through [`JoinSpec::pair`]: a hash table or a sort
//! only brings candidates together, the pair is a match when the keys are
//! equal by SQL comparison and every join check holds, and a LEFT JOIN's
//! outer row with no match comes out NULL-extended. So the methods cannot
//! disagree on the rows of a join; they differ in what they read and count.
//!
//! Departures: a spilled hash join's temporary blocks are counted as a
//! one-pass hash join writes and reads them, but kept in memory; and the
//! build input is read whole before it is partitioned.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use super::scan;
use super::temp::{blocks, put, rows_of};
use super::tree::{
    all_true, cmp_keys, drain, sort_all, Env, Expr, Node, Operator, Placement, Rows,
};
use crate::access::Pred;
use crate::catalog::{IndexDef, TableDef};
use crate::error::{Error, Result};
use crate::stats::Stat;
use crate::txn::Snapshot;
use crate::value::{encode_row, encoded_row_len, Row, Value};

/// What makes an outer row and an inner row a pair.
pub(crate) struct JoinSpec<'p> {
    /// The inner relation's columns in the joined row.
    pub(crate) offset: usize,
    pub(crate) len: usize,
    /// A LEFT JOIN's optional side: an outer row with no match is kept,
    /// its inner columns NULL.
    pub(crate) outer: bool,
    /// The equality keys, outer side and inner side; a hash or merge join
    /// brings candidates together on them.
    pub(crate) keys: Vec<(&'p dyn Expr, &'p dyn Expr)>,
    /// Checked on each candidate pair: the keys' equality by SQL
    /// comparison, and the other join conjuncts.
    pub(crate) check: Vec<&'p dyn Expr>,
    /// Checked on each row the join emits (WHERE terms on a LEFT JOIN's
    /// optional side, true only after NULL extension is decided).
    pub(crate) post: Vec<&'p dyn Expr>,
}

impl JoinSpec<'_> {
    /// Pairs `left` with each candidate: a candidate's inner columns are
    /// copied into a copy of `left`; a pair that passes the checks is a
    /// match and goes to `out` through the post filter; a LEFT JOIN row
    /// with no match at all goes NULL-extended.
    fn pair<'r>(
        &self,
        left: Row,
        rights: impl IntoIterator<Item = &'r Row>,
        out: &mut VecDeque<Row>,
    ) -> Result<()> {
        let (off, len) = (self.offset, self.len);
        let mut matched = false;
        for right in rights {
            let mut row = left.clone();
            row[off..off + len].clone_from_slice(&right[off..off + len]);
            if all_true(&self.check, &row)? {
                matched = true;
                if all_true(&self.post, &row)? {
                    out.push_back(row);
                }
            }
        }
        if !matched && self.outer && all_true(&self.post, &left)? {
            out.push_back(left);
        }
        Ok(())
    }

    /// The hash key of `row` on one side of the keys; `None` when a key
    /// is NULL (NULL equals nothing). Numbers are keyed by value, so 1
    /// and 1.0 meet.
    fn hash_key(&self, row: &[Value], outer: bool) -> Result<Option<Vec<u8>>> {
        let mut vals = Vec::with_capacity(self.keys.len());
        for (o, i) in &self.keys {
            let v = if outer { o.eval(row)? } else { i.eval(row)? };
            let v = match v {
                Value::Null => return Ok(None),
                Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Value::Int(r as i64),
                v => v,
            };
            vals.push(v);
        }
        Ok(Some(encode_row(&vals)))
    }

    /// The sort key of `row` on one side; `None` when a key is NULL.
    fn sort_key(&self, row: &[Value], outer: bool) -> Result<Option<Row>> {
        let mut vals = Vec::with_capacity(self.keys.len());
        for (o, i) in &self.keys {
            let v = if outer { o.eval(row)? } else { i.eval(row)? };
            if v.is_null() {
                return Ok(None);
            }
            vals.push(v);
        }
        Ok(Some(vals))
    }
}

/// The inner side of a nested-loops join: its rows for one outer row.
pub(crate) trait Probe<X: ?Sized> {
    fn rows(&mut self, x: &mut X, outer: &Row) -> Result<Vec<Row>>;
}

/// A table read by one access path (an index range scan, or a full scan
/// that is read whole, as a nested-loops probe reads it): each read is one
/// call of the scan, as many gets as it makes.
pub(crate) struct TableRead<'p> {
    pub(crate) def: TableDef,
    pub(crate) index: Option<IndexDef>,
    pub(crate) access: super::Access,
    pub(crate) snap: Snapshot,
    pub(crate) place: Placement,
    /// The predicate a read passes to the access, given the outer row
    /// (the join predicates with the outer side's values as constants).
    pub(crate) pred_of: Box<dyn Fn(&Row) -> Pred + 'p>,
}

impl<X: Env + ?Sized> Probe<X> for TableRead<'_> {
    fn rows(&mut self, x: &mut X, outer: &Row) -> Result<Vec<Row>> {
        let pred = (self.pred_of)(outer);
        let q = scan::run(
            x.kernel(),
            x.stats(),
            self.snap,
            &self.def,
            self.index.as_ref(),
            &pred,
            &self.access,
        )?;
        Ok(q.rows
            .into_iter()
            .map(|(id, v)| self.place.place(id, v))
            .collect())
    }
}

/// A [`Probe`] read once, as a leaf: the rows of one read of the table
/// (an index range scan's rows are produced by one call of the scan).
pub(crate) struct Once<'p, X: ?Sized> {
    probe: Box<dyn Probe<X> + 'p>,
    rows: Option<std::vec::IntoIter<Row>>,
    width: usize,
}

impl<'p, X: ?Sized> Once<'p, X> {
    pub(crate) fn new(probe: Box<dyn Probe<X> + 'p>, width: usize) -> Self {
        Once {
            probe,
            rows: None,
            width,
        }
    }
}

impl<X: ?Sized> Operator<X> for Once<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.rows.is_none() {
            let none = vec![Value::Null; self.width];
            self.rows = Some(self.probe.rows(x, &none)?.into_iter());
        }
        Ok(self.rows.as_mut().and_then(Iterator::next))
    }
}

/// NESTED LOOPS: the inner side probed once per outer row.
pub(crate) struct NestedLoops<'p, X: ?Sized> {
    outer: Node<'p, X>,
    inner: Box<dyn Probe<X> + 'p>,
    spec: JoinSpec<'p>,
    pending: VecDeque<Row>,
}

impl<'p, X: ?Sized> NestedLoops<'p, X> {
    pub(crate) fn new(
        outer: Node<'p, X>,
        inner: Box<dyn Probe<X> + 'p>,
        spec: JoinSpec<'p>,
    ) -> Self {
        NestedLoops {
            outer,
            inner,
            spec,
            pending: VecDeque::new(),
        }
    }
}

impl<X: ?Sized> Operator<X> for NestedLoops<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            let Some(left) = self.outer.next(x)? else {
                return Ok(None);
            };
            let inner = self.inner.rows(x, &left)?;
            self.spec.pair(left, &inner, &mut self.pending)?;
        }
    }
}

/// MERGE JOIN CARTESIAN with its BUFFER SORT: the inner input read once.
pub(crate) struct Cartesian<'p, X: ?Sized> {
    outer: Node<'p, X>,
    inner: Node<'p, X>,
    spec: JoinSpec<'p>,
    buffered: Option<Vec<Row>>,
    pending: VecDeque<Row>,
}

impl<'p, X: ?Sized> Cartesian<'p, X> {
    pub(crate) fn new(outer: Node<'p, X>, inner: Node<'p, X>, spec: JoinSpec<'p>) -> Self {
        Cartesian {
            outer,
            inner,
            spec,
            buffered: None,
            pending: VecDeque::new(),
        }
    }
}

impl<X: Env + ?Sized> Operator<X> for Cartesian<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.buffered.is_none() {
            let rows = drain(&mut *self.inner, x, None)?;
            x.stats().inc(Stat::SortsMemory);
            x.stats().add(Stat::SortsRows, rows.len() as u64);
            self.buffered = Some(rows);
        }
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            let Some(left) = self.outer.next(x)? else {
                return Ok(None);
            };
            let rights = self.buffered.as_deref().unwrap_or_default();
            self.spec.pair(left, rights, &mut self.pending)?;
        }
    }
}

/// The most partitions a spilled hash join writes.
const MAX_FANOUT: u64 = 1024;

/// The partition of a join key.
fn partition_of(key: &[u8], fanout: usize) -> usize {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same partitions on every run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % fanout as u64) as usize
}

/// A hash join's build input in memory: its rows, whether each has met a
/// probe row (a build on the preserved side of a LEFT JOIN keeps the
/// others for the end), and the rows by key.
#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    matched: Vec<bool>,
    index: HashMap<Vec<u8>, Vec<usize>>,
}

impl Table {
    fn insert(&mut self, key: Vec<u8>, row: Row) {
        self.index.entry(key).or_default().push(self.rows.len());
        self.rows.push(row);
        self.matched.push(false);
    }
}

/// Where a hash join is.
enum HashState {
    /// The build input is not read yet.
    Start,
    /// The build fitted the work area: probe rows are looked up one by one.
    InMemory(Table),
    /// Spilled: the pairs of partitions (build, probe) still to join.
    Spilled(VecDeque<(Vec<u8>, Vec<u8>)>),
    /// The probe input is used up.
    Done,
}

/// HASH JOIN: one input read whole into a hash table on its keys (the
/// build input), the other streamed through it (the probe input). The
/// build input is the inner relation, or — `build_outer`, the optimizer's
/// choice when the rows joined so far are the smaller input — the outer
/// input; a LEFT JOIN built on its preserved side emits the build rows
/// that met no probe row at the end (Oracle's HASH JOIN OUTER; built on
/// the optional side it is HASH JOIN RIGHT OUTER).
pub(crate) struct HashJoin<'p, X: ?Sized> {
    outer: Node<'p, X>,
    inner: Node<'p, X>,
    spec: JoinSpec<'p>,
    build_outer: bool,
    state: HashState,
    pending: VecDeque<Row>,
}

impl<'p, X: ?Sized> HashJoin<'p, X> {
    pub(crate) fn new(
        outer: Node<'p, X>,
        inner: Node<'p, X>,
        spec: JoinSpec<'p>,
        build_outer: bool,
    ) -> Self {
        HashJoin {
            outer,
            inner,
            spec,
            build_outer,
            state: HashState::Start,
            pending: VecDeque::new(),
        }
    }

    /// The next row of the build (`build`) or probe input.
    fn pull(&mut self, x: &mut X, build: bool) -> Result<Option<Row>> {
        if build == self.build_outer {
            self.outer.next(x)
        } else {
            self.inner.next(x)
        }
    }

    /// Joins one probe row with its candidates among `table`'s rows.
    fn probe(
        spec: &JoinSpec<'_>,
        build_outer: bool,
        table: &mut Table,
        row: Row,
        pending: &mut VecDeque<Row>,
    ) -> Result<()> {
        let key = spec.hash_key(&row, !build_outer)?;
        let hits: &[usize] = key
            .and_then(|k| table.index.get(&k))
            .map_or(&[], Vec::as_slice);
        if !build_outer {
            return spec.pair(row, hits.iter().map(|&i| &table.rows[i]), pending);
        }
        // The probe row is the inner relation's: each candidate is an
        // outer row it may complete.
        let (off, len) = (spec.offset, spec.len);
        for &i in hits {
            let mut joined = table.rows[i].clone();
            joined[off..off + len].clone_from_slice(&row[off..off + len]);
            if all_true(&spec.check, &joined)? {
                table.matched[i] = true;
                if all_true(&spec.post, &joined)? {
                    pending.push_back(joined);
                }
            }
        }
        Ok(())
    }

    /// After the probe input (of the whole join or of one partition): a
    /// LEFT JOIN built on its preserved side keeps the build rows no probe
    /// row matched, NULL-extended.
    fn unmatched(
        spec: &JoinSpec<'_>,
        build_outer: bool,
        table: Table,
        pending: &mut VecDeque<Row>,
    ) -> Result<()> {
        if !spec.outer || !build_outer {
            return Ok(());
        }
        for (row, matched) in table.rows.into_iter().zip(table.matched) {
            if !matched {
                spec.pair(row, &[], pending)?;
            }
        }
        Ok(())
    }

    /// Reads the build input; in memory when it fits the work area,
    /// otherwise partitions of both inputs written out (one pass).
    fn start(&mut self, x: &mut X) -> Result<()>
    where
        X: Env,
    {
        let area = x.work_area();
        let mut keyed = Vec::new();
        let mut bytes = 0u64;
        while let Some(row) = self.pull(x, true)? {
            match self.spec.hash_key(&row, self.build_outer)? {
                Some(k) => {
                    bytes += encoded_row_len(&row) as u64;
                    keyed.push((k, row));
                }
                // A NULL key joins nothing; a LEFT JOIN keeps its
                // preserved row.
                None if self.build_outer => self.spec.pair(row, &[], &mut self.pending)?,
                None => {}
            }
        }
        let stats = x.stats();
        stats.add(Stat::HashJoinBuildRows, keyed.len() as u64);
        stats.add(Stat::HashJoinBuildBytes, bytes);
        if bytes <= area {
            stats.inc(Stat::WorkareaOptimal);
            let mut table = Table::default();
            for (k, row) in keyed {
                table.insert(k, row);
            }
            self.state = HashState::InMemory(table);
            return Ok(());
        }
        // One pass: partitions small enough to fit the work area each.
        stats.inc(Stat::WorkareaOnepass);
        let fanout = (bytes.div_ceil(area.max(1)) + 1).min(MAX_FANOUT) as usize;
        let mut build = vec![Vec::new(); fanout];
        for (k, row) in &keyed {
            put(&mut build[partition_of(k, fanout)], row);
        }
        stats.add(
            Stat::TempWrites,
            build.iter().map(|p| blocks(p.len())).sum(),
        );
        drop(keyed);
        // The probe input is partitioned the same way; a probe row with a
        // NULL key joins nothing (a LEFT JOIN keeps a preserved one, at
        // once).
        let mut probe = vec![Vec::new(); fanout];
        while let Some(row) = self.pull(x, false)? {
            match self.spec.hash_key(&row, !self.build_outer)? {
                Some(key) => put(&mut probe[partition_of(&key, fanout)], &row),
                None if !self.build_outer => self.spec.pair(row, &[], &mut self.pending)?,
                None => {}
            }
        }
        x.stats().add(
            Stat::TempWrites,
            probe.iter().map(|p| blocks(p.len())).sum(),
        );
        self.state = HashState::Spilled(build.into_iter().zip(probe).collect());
        Ok(())
    }
}

impl<X: Env + ?Sized> Operator<X> for HashJoin<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if matches!(self.state, HashState::Start) {
            self.start(x)?;
        }
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            match std::mem::replace(&mut self.state, HashState::Done) {
                HashState::Start => return Err(Error::Internal("a hash join not started".into())),
                HashState::Done => return Ok(None),
                HashState::InMemory(mut table) => match self.pull(x, false)? {
                    Some(row) => {
                        Self::probe(
                            &self.spec,
                            self.build_outer,
                            &mut table,
                            row,
                            &mut self.pending,
                        )?;
                        self.state = HashState::InMemory(table);
                    }
                    None => {
                        Self::unmatched(&self.spec, self.build_outer, table, &mut self.pending)?
                    }
                },
                HashState::Spilled(mut parts) => {
                    // The next pair of partitions, read back and joined.
                    let Some((build, probe)) = parts.pop_front() else {
                        continue;
                    };
                    self.state = HashState::Spilled(parts);
                    x.stats()
                        .add(Stat::TempReads, blocks(build.len()) + blocks(probe.len()));
                    let mut table = Table::default();
                    for row in rows_of(&build)? {
                        if let Some(key) = self.spec.hash_key(&row, self.build_outer)? {
                            table.insert(key, row);
                        }
                    }
                    for row in rows_of(&probe)? {
                        Self::probe(
                            &self.spec,
                            self.build_outer,
                            &mut table,
                            row,
                            &mut self.pending,
                        )?;
                    }
                    Self::unmatched(&self.spec, self.build_outer, table, &mut self.pending)?;
                }
            }
        }
    }
}

/// Counts and performs a sort of keyed rows (a merge join input).
/// Like every sort, within the sort work area (`tree::sort_all`): each
/// row travels with its key values appended, which the sort compares.
fn sort_keyed<X: Env + ?Sized>(x: &mut X, rows: Vec<(Row, Row)>) -> Result<Vec<(Row, Row)>> {
    let width = rows.first().map_or(0, |(r, _)| r.len());
    let joined: Vec<Row> = rows
        .into_iter()
        .map(|(mut r, k)| {
            r.extend(k);
            r
        })
        .collect();
    let sorted = sort_all(&mut Rows::new(joined), x, &|a: &Row, b: &Row| {
        cmp_keys(&a[width..], &b[width..])
    })?;
    Ok(sorted
        .into_iter()
        .map(|mut r| {
            let k = r.split_off(width);
            (r, k)
        })
        .collect())
}

/// MERGE JOIN: the inner input read whole and sorted on the keys (SORT
/// JOIN), the outer input likewise — unless it arrives in key order
/// already (`outer_sorted`: read from an index on the join key, as Oracle
/// skips that sort), when its rows stream through one at a time — then
/// merged. Reads the inner input first.
pub(crate) struct MergeJoin<'p, X: ?Sized> {
    outer: Node<'p, X>,
    inner: Node<'p, X>,
    spec: JoinSpec<'p>,
    outer_sorted: bool,
    /// The sorted inner rows with their keys, once read.
    rights: Option<Vec<(Row, Row)>>,
    /// The sorted outer rows to go (`None` while the outer input streams).
    lefts: Option<std::vec::IntoIter<(Row, Row)>>,
    /// The first inner row not below the last outer key, and that key.
    j: usize,
    last: Option<Row>,
    pending: VecDeque<Row>,
}

impl<'p, X: ?Sized> MergeJoin<'p, X> {
    pub(crate) fn new(
        outer: Node<'p, X>,
        inner: Node<'p, X>,
        spec: JoinSpec<'p>,
        outer_sorted: bool,
    ) -> Self {
        MergeJoin {
            outer,
            inner,
            spec,
            outer_sorted,
            rights: None,
            lefts: None,
            j: 0,
            last: None,
            pending: VecDeque::new(),
        }
    }

    /// The rows of one input with their keys (rows whose key is NULL
    /// match nothing: dropped, or kept NULL-extended for a LEFT JOIN).
    fn keyed(&mut self, x: &mut X, outer: bool) -> Result<Vec<(Row, Row)>> {
        let mut out = Vec::new();
        loop {
            let row = if outer {
                self.outer.next(x)?
            } else {
                self.inner.next(x)?
            };
            let Some(row) = row else { break };
            match self.spec.sort_key(&row, outer)? {
                Some(k) => out.push((row, k)),
                None if outer => self.spec.pair(row, &[], &mut self.pending)?,
                None => {}
            }
        }
        Ok(out)
    }

    /// The next outer row with its key, from the sorted rows or the
    /// stream (whose NULL-key rows are settled as they come).
    fn next_left(&mut self, x: &mut X) -> Result<Option<(Row, Row)>> {
        if let Some(lefts) = self.lefts.as_mut() {
            return Ok(lefts.next());
        }
        while let Some(row) = self.outer.next(x)? {
            match self.spec.sort_key(&row, true)? {
                Some(k) => return Ok(Some((row, k))),
                None => self.spec.pair(row, &[], &mut self.pending)?,
            }
        }
        Ok(None)
    }
}

impl<X: Env + ?Sized> Operator<X> for MergeJoin<'_, X> {
    fn next(&mut self, x: &mut X) -> Result<Option<Row>> {
        if self.rights.is_none() {
            let rights = self.keyed(x, false)?;
            self.rights = Some(sort_keyed(x, rights)?);
            if !self.outer_sorted {
                let lefts = self.keyed(x, true)?;
                self.lefts = Some(sort_keyed(x, lefts)?.into_iter());
            }
        }
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            let Some((left, lk)) = self.next_left(x)? else {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                continue;
            };
            // Keys come ascending; should one not (an index whose order
            // differs from SQL comparison), the merge starts over.
            if self
                .last
                .as_ref()
                .is_some_and(|l| cmp_keys(&lk, l) == Ordering::Less)
            {
                self.j = 0;
            }
            let rights = self.rights.as_deref().unwrap_or_default();
            while self.j < rights.len() && cmp_keys(&rights[self.j].1, &lk) == Ordering::Less {
                self.j += 1;
            }
            let run = rights[self.j..]
                .iter()
                .take_while(|r| cmp_keys(&r.1, &lk) == Ordering::Equal)
                .map(|r| &r.0);
            self.spec.pair(left, run, &mut self.pending)?;
            self.last = Some(lk);
        }
    }
}
