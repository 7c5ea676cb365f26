//! The access paths a leaf of the operator tree reads a table by: a full
//! scan, or an index range scan driven by an [`AccessPlan`] (the book,
//! chapter 6).
//!
//! ```text
//!  WHERE terms ──plan_for_index──▶ matching bounds ─▶ start/stop keys (one
//!                                                     pair per IN-list probe)
//!                                  screening terms ─▶ checked on each index
//!                                                     entry's decoded key
//!                                  table terms ─────▶ checked on the fetched row
//! ```
//!
//! For each probe the scan descends once and walks the leaves from the
//! start key to the stop key (`index entries examined`); an entry whose key
//! fails a screening term is dropped without visiting the table (`index
//! entries screened out`); the others are fetched by rowid (`table fetch by
//! rowid`), keeping the last table block pinned: a rowid in the same block as
//! the previous one costs no get (`buffer is pinned count`), another block
//! costs one consistent get (`table blocks visited by rowid`). Screening
//! predicates never change the leaf range, only the table visits.
//!
//! Invariant: no predicate is evaluated while a block latch is held. A
//! table term may call a function that runs a query of its own (recursive
//! SQL, `sql::recursive`); that query gets blocks, perhaps the very block
//! being read, and a latch is not re-entrant once a writer waits for it.
//! So a full scan takes a block's rows and releases the block before
//! filtering them (`heap::scan_while`), a rowid fetch decodes the rows of
//! a block before checking them, and an index-only scan whose remaining
//! terms hold such a term checks them after the leaf walk.

use crate::access::{
    boolean_terms, eval_partial, plan_for_index, try_eval, AccessPlan, ColumnBound, Pred,
};
use crate::block::{Block, Body, SlotState};
use crate::btree::key::{
    decode_key, encode_prefix, like_prefix_range, prefix_successor, split_rowid, KeyColumn, Order,
};
use crate::catalog::{IndexDef, TableDef};
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::RowId;
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};
use crate::txn::{read_consistent, Snapshot};
use crate::value::{decode_row, Row, Value};

/// How to reach a table's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read every block below the HWM.
    Full,
    /// Range scan of an index; `max_matching` limits the matching columns
    /// (the NUM_INDEX_KEYS hint).
    Index {
        name: String,
        max_matching: Option<usize>,
    },
    /// Index range scan whose rowids are sorted by table block before the
    /// table is visited (DB2 list prefetch, Oracle's TABLE ACCESS BY INDEX
    /// ROWID BATCHED): each table block is visited once per range scan
    /// however poorly the index is clustered, but rows come back in table
    /// order, not key order (claim C32).
    IndexBatched {
        name: String,
        max_matching: Option<usize>,
    },
    /// Index-only scan: the rows are built from the index keys and the
    /// table is never visited. Only the index's columns are filled in (the
    /// others are NULL); every predicate must be on index columns.
    IndexOnly { name: String },
}

/// The rows a query found, and the plan it used for an index access.
pub struct QueryResult {
    pub rows: Vec<(RowId, Row)>,
    pub plan: Option<AccessPlan>,
    /// The boolean terms the plan's term indices refer to.
    pub terms: Vec<Pred>,
}

/// The fetch calls a client makes for a query's rows: `size` rows a call,
/// after `skip` rows that an OFFSET drops. A full scan that streams to the
/// client stops at the end of each call and the next call gets again the
/// block it resumes in (see [`run_limited`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FetchCalls {
    pub(crate) skip: usize,
    pub(crate) size: usize,
}

impl FetchCalls {
    /// Whether the `n`th qualifying row (from 1) is the last of a fetch
    /// call, so that the next call resumes in its block.
    fn ends_call(&self, n: usize) -> bool {
        self.size > 0 && n > self.skip && (n - self.skip).is_multiple_of(self.size)
    }
}

/// Runs `where_clause` against `def` by `access` (whose index, if any, the
/// caller has looked up as `index`), as of `snap`.
pub(crate) fn run(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    def: &TableDef,
    index: Option<&IndexDef>,
    where_clause: &Pred,
    access: &Access,
) -> Result<QueryResult> {
    run_limited(
        core,
        stats,
        snap,
        def,
        index,
        where_clause,
        access,
        None,
        None,
    )
}

/// [`run`] that stops once `limit` rows have qualified (a LIMIT with
/// nothing between it and the access that needs every row: Oracle's COUNT
/// STOPKEY). A full scan reads no block after the last row it needs; an
/// index scan walks the leaves for as many entries as rows are still
/// missing, fetches them, and walks on from the last entry (one more
/// descent) only if table terms or deleted rows left it short. A batched
/// scan (list prefetch) sorts all of a probe's rowids first, so it ignores
/// the limit.
///
/// With `fetch`, a full scan whose rows stream to the client gets again,
/// after each fetch call's last row, the block that row came from: the
/// next call resumes there (a consistent get at the same snapshot, the
/// classic SQL*Plus ARRAYSIZE demonstration). The re-get is made in its
/// place in the scan, between that block and the next, so the block is
/// still cached as it would be in Oracle, not after the whole scan has
/// passed through a small cache.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_limited(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    def: &TableDef,
    index: Option<&IndexDef>,
    where_clause: &Pred,
    access: &Access,
    limit: Option<usize>,
    fetch: Option<FetchCalls>,
) -> Result<QueryResult> {
    let terms = boolean_terms(where_clause);
    let (max_matching, index_only) = match access {
        Access::Index { max_matching, .. } | Access::IndexBatched { max_matching, .. } => {
            (*max_matching, false)
        }
        Access::IndexOnly { .. } => (None, true),
        Access::Full => (None, false),
    };
    let never = crate::access::never_true(&terms);
    let Some(ix) = index else {
        let mut rows = Vec::new();
        if limit != Some(0) && !never {
            heap::scan_while(core, stats, snap, def.seg, |rowid, bytes| {
                let row = decode_row(bytes)
                    .map_err(|r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r))?;
                if holds(&terms, &row)? {
                    rows.push((rowid, row));
                    if fetch.is_some_and(|f| f.ends_call(rows.len())) {
                        crate::txn::read_consistent(core, stats, rowid.block, snap)?;
                    }
                }
                Ok(limit.is_none_or(|l| rows.len() < l))
            })?;
        }
        return Ok(QueryResult {
            rows,
            plan: None,
            terms,
        });
    };
    let cols: Vec<usize> = ix.columns.iter().map(|&(c, _)| c).collect();
    let plan = plan_for_index(&terms, &cols, max_matching);
    let keycols = ix.key_columns(def);
    let screen: Vec<&Pred> = plan
        .screening_terms
        .iter()
        .chain(&plan.recheck_terms)
        .map(|&i| &terms[i])
        .collect();
    let table_terms: Vec<&Pred> = plan.table_terms.iter().map(|&i| &terms[i]).collect();
    // An index-only scan checks the remaining terms (those the index
    // cannot screen, such as `c0 = c1` or a function) on the row it builds
    // from the key, which is possible only if they read index columns alone.
    if index_only
        && table_terms
            .iter()
            .any(|t| t.columns().iter().any(|c| !cols.contains(c)))
    {
        return Err(Error::Config(format!(
            "an index-only scan of {} cannot check predicates on columns outside the index",
            ix.name
        )));
    }
    let batched = matches!(access, Access::IndexBatched { .. });
    // An index-only scan checks its remaining terms on the rows it builds
    // from the keys; one that may call a function is checked after the
    // walk, with the leaf latch released (see the module doc), so the walk
    // cannot stop at the LIMIT.
    let defer = index_only && table_terms.iter().any(|t| t.contains_opaque());
    let mut built: Vec<(RowId, Row)> = Vec::new();
    let limit = if batched || defer { None } else { limit };
    let mut rows = Vec::new();
    let mut fetcher = RowidFetcher::default();
    let ranges = if never {
        Vec::new()
    } else {
        key_ranges(&plan, &keycols)
    };
    let count = ranges.len();
    'probes: for (n, (start, stop)) in ranges.into_iter().enumerate() {
        let mut from = start;
        loop {
            // Rows still wanted: the walk stops after as many entries.
            let want = limit.map(|l| l.saturating_sub(rows.len()));
            if want == Some(0) {
                break 'probes;
            }
            let mut hits: Vec<RowId> = Vec::new();
            // The last entry walked, when the walk stopped for the limit.
            let mut stopped_at: Option<Vec<u8>> = None;
            crate::btree::tree::scan(core, stats, ix.tree, snap, &from, stop.as_deref(), |e| {
                let (key, rowid) = split_rowid(e.key()).ok_or_else(|| {
                    Error::corrupt(core.file.name(), 0, "index entry without a rowid")
                })?;
                if screen.is_empty() && !index_only {
                    hits.push(rowid);
                } else {
                    let vals = decode_key(&keycols, key)
                        .map_err(|r| Error::corrupt(core.file.name(), 0, r))?;
                    let get = |c: usize| cols.iter().position(|&x| x == c).map(|p| &vals[p]);
                    if !screen
                        .iter()
                        .all(|t| matches!(eval_partial(t, &get), Ok(Some(true))))
                    {
                        stats.inc(Stat::IndexEntriesScreenedOut);
                    } else if index_only {
                        // The row as far as the index knows it: no table visit.
                        let mut row = vec![Value::Null; def.columns.len()];
                        for (p, &c) in cols.iter().enumerate() {
                            row[c] = vals[p].clone();
                        }
                        if defer {
                            built.push((rowid, row));
                        } else if holds(&table_terms, &row)? {
                            rows.push((rowid, row));
                        }
                    } else {
                        hits.push(rowid);
                    }
                }
                let enough = match (limit, want) {
                    (Some(l), _) if index_only => rows.len() >= l,
                    (_, Some(w)) => hits.len() >= w,
                    _ => false,
                };
                if enough {
                    stopped_at = Some(e.key().to_vec());
                    return Ok(false);
                }
                Ok(true)
            })?;
            if batched {
                // List prefetch: visit each table block once, in block order.
                hits.sort_by_key(|r| (r.block.0, r.slot));
            }
            let more = n + 1 < count || stopped_at.is_some();
            for (rowid, row) in built.drain(..) {
                if holds(&table_terms, &row)? {
                    rows.push((rowid, row));
                }
            }
            fetcher.fetch_all(core, stats, snap, &hits, more, |rowid, row| {
                if holds(&table_terms, &row)? {
                    rows.push((rowid, row));
                }
                Ok(())
            })?;
            match stopped_at {
                // Walk on from just after that entry (entries are unique:
                // the key ends with the rowid).
                Some(mut key) => {
                    key.push(0);
                    from = key;
                }
                None => break,
            }
        }
    }
    Ok(QueryResult {
        rows,
        plan: Some(plan),
        terms,
    })
}

/// Whether every term is TRUE for `row` (AND of the terms, in order, the
/// first that is not TRUE deciding); a function's error ends the query.
pub(super) fn holds<P: std::borrow::Borrow<Pred>>(terms: &[P], row: &[Value]) -> Result<bool> {
    for t in terms {
        if try_eval(t.borrow(), row)? != Some(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Table fetches by rowid that keep the last table block pinned: a rowid
/// in the same block as the previous one costs no get (`buffer is pinned
/// count`), another block one consistent get (`table blocks visited by
/// rowid`) — the book's chapter 2.
#[derive(Default)]
pub(crate) struct RowidFetcher {
    pinned: Option<Block>,
}

impl RowidFetcher {
    /// Fetches the live rows at `rowids` as of `snap`, in order, calling
    /// `each` with each one. Consecutive rowids in one table block are read
    /// from one consistent get, decoded under that block's read latch (no
    /// copy of the block) and handed to `each` once it is released. With `more` (another range of the same statement
    /// follows: an IN-list), the last block stays pinned (as a copy) for
    /// the next call, so a range that continues in that block costs no get.
    pub(crate) fn fetch_all(
        &mut self,
        core: &Kernel,
        stats: &SessionStats,
        snap: Snapshot,
        rowids: &[RowId],
        more: bool,
        mut each: impl FnMut(RowId, Row) -> Result<()>,
    ) -> Result<()> {
        let mut i = 0;
        while i < rowids.len() {
            let block = rowids[i].block;
            let mut j = i + 1;
            while j < rowids.len() && rowids[j].block == block {
                j += 1;
            }
            let group = &rowids[i..j];
            if let Some(b) = self.pinned.as_ref().filter(|b| b.no == block) {
                for &r in group {
                    stats.inc(Stat::TableFetchByRowid);
                    stats.inc(Stat::BufferIsPinned);
                    if let Some(row) = slot_row(core, b, r)? {
                        each(r, row)?;
                    }
                }
            } else {
                stats.inc(Stat::TableBlockGetsByRowid);
                // The group's rows are decoded under the latch and checked
                // (by `each`) after it is released: see the module doc.
                let mut found = Vec::with_capacity(group.len());
                {
                    let view = read_consistent(core, stats, block, snap)?;
                    for (k, &r) in group.iter().enumerate() {
                        stats.inc(Stat::TableFetchByRowid);
                        if k > 0 {
                            stats.inc(Stat::BufferIsPinned);
                        }
                        if let Some(row) = slot_row(core, &view, r)? {
                            found.push((r, row));
                        }
                    }
                    self.pinned = (more && j == rowids.len()).then(|| (*view).clone());
                }
                for (r, row) in found {
                    each(r, row)?;
                }
            }
            i = j;
        }
        Ok(())
    }
}

/// The live row in slot `rowid.slot` of table block `b`.
fn slot_row(core: &Kernel, b: &Block, rowid: RowId) -> Result<Option<Row>> {
    let Body::Heap(slots) = &b.body else {
        return Err(Error::corrupt(
            core.file.name(),
            rowid.block.0 as u64,
            "index points at a non-table block",
        ));
    };
    let Some(slot) = slots
        .get(rowid.slot as usize)
        .filter(|s| s.state == SlotState::Live)
    else {
        return Ok(None);
    };
    decode_row(&slot.data)
        .map(Some)
        .map_err(|r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r))
}

/// The (start, stop) key range of each probe: the matching bounds encoded
/// as key prefixes, one range per combination of IN-list values, in index
/// order (by start key: ascending values on an ASC column, descending on a
/// DESC one), so that consecutive probes visit neighbouring leaves and the
/// rows come back in the index's order, as Oracle's INLIST ITERATOR does.
fn key_ranges(plan: &AccessPlan, keycols: &[KeyColumn]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut ranges = probe_ranges(plan, keycols);
    ranges.sort_by(|a, b| a.0.cmp(&b.0));
    ranges
}

fn probe_ranges(plan: &AccessPlan, keycols: &[KeyColumn]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    // Equal prefixes, expanded over the IN-list values.
    let mut prefixes: Vec<Vec<Value>> = vec![Vec::new()];
    let mut last = None;
    for b in &plan.bounds {
        match b {
            ColumnBound::Eq(v) => prefixes.iter_mut().for_each(|p| p.push(v.clone())),
            ColumnBound::IsNull => prefixes.iter_mut().for_each(|p| p.push(Value::Null)),
            ColumnBound::In(vs) => {
                prefixes = prefixes
                    .iter()
                    .flat_map(|p| {
                        vs.iter().map(move |v| {
                            let mut q = p.clone();
                            q.push(v.clone());
                            q
                        })
                    })
                    .collect();
            }
            other => {
                last = Some(other.clone());
                break;
            }
        }
    }
    let enc = |vals: &[Value]| {
        let mut k = Vec::new();
        encode_prefix(keycols, vals, &mut k);
        k
    };
    let with = |p: &[Value], v: Value| {
        let mut q = p.to_vec();
        q.push(v);
        q
    };
    prefixes
        .iter()
        .map(|p| match &last {
            None => {
                let s = enc(p);
                let e = prefix_successor(&s);
                (s, e)
            }
            Some(ColumnBound::LikePrefix(text)) => like_prefix_range(keycols, p, text),
            Some(ColumnBound::Range { low, high }) => {
                let order = keycols.get(p.len()).map_or(Order::Asc, |c| c.order);
                // Key bytes at which values >= v (or > v) begin, ascending.
                let at_or_after = |v: &Value, incl: bool| {
                    let k = enc(&with(p, v.clone()));
                    if incl {
                        k
                    } else {
                        prefix_successor(&k).unwrap_or(k)
                    }
                };
                let null = enc(&with(p, Value::Null));
                match order {
                    Order::Asc => {
                        let s = low
                            .as_ref()
                            .map_or_else(|| enc(p), |l| at_or_after(&l.value, l.inclusive));
                        // NULLs sort last: an open high end stops before them.
                        let e = high
                            .as_ref()
                            .map_or(null, |h| at_or_after(&h.value, !h.inclusive));
                        (s, Some(e))
                    }
                    Order::Desc => {
                        // Larger values come first; NULLs sort first.
                        let s = high.as_ref().map_or_else(
                            || prefix_successor(&null).unwrap_or(null.clone()),
                            |h| at_or_after(&h.value, h.inclusive),
                        );
                        // Without a low end: to the end of the equal prefix
                        // (`None`, the end of the index, when there is none).
                        let e = match low {
                            Some(l) => Some(at_or_after(&l.value, !l.inclusive)),
                            None => prefix_successor(&enc(p)),
                        };
                        (s, e)
                    }
                }
            }
            Some(_) => {
                let s = enc(p);
                let e = prefix_successor(&s);
                (s, e)
            }
        })
        .collect()
}
