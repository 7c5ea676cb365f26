//! The typed primary-key calls: a row by its primary key
//! ([`Context::lookup_pk`]) and the rows of a primary-key range
//! ([`Context::range_pk`]), read straight through the table's PRIMARY KEY
//! index, with no SQL text, no parse and no optimizer — what a key-value
//! store offers, on the same blocks and counters as SQL.
//!
//! ```text
//!  key values ──check types──▶ encode into the session's key buffer
//!                               │ (the index's key format, `btree::key`)
//!                               ▼
//!  PRIMARY KEY index: one descent (root, branches, leaf: consistent gets)
//!                               │ rowids of the entries in [start, stop)
//!                               ▼
//!  table blocks by rowid: one consistent get per block, rows decoded
//! ```
//!
//! Each call does exactly the work of the same access through SQL — the
//! index range scan that `SELECT * FROM t WHERE pk = :1` (or `pk BETWEEN
//! :1 AND :2`) runs, an INDEX UNIQUE SCAN or INDEX RANGE SCAN followed by
//! TABLE ACCESS BY INDEX ROWID — and counts it in the same statistics:
//! `index descents`, `index root/branch/leaf block gets`, `consistent
//! gets`, `index entries examined`, `table blocks visited by rowid`,
//! `table fetch by rowid`, `buffer is pinned count`, `rows processed`.
//! What SQL adds on top is its own calls: a parse call, an execute call and
//! a fetch call (three `user calls`, an `execute count`, a `fetch calls`);
//! a typed call is one `user calls` and nothing else.
//!
//! Like the rest of the typed API, a row comes back whole, as stored (every
//! column, a dropped column's included), not projected as `SELECT *`
//! would.
//!
//! Key values must match the key columns' types (an INTEGER is accepted for
//! a REAL column, as in an INSERT); a NULL is refused, since a primary key
//! column never holds one. A table without a primary key, a key of the
//! wrong length or type, or an unusable key index is an error, never a
//! panic.
//!
//! The hot path allocates only what it returns: the key bytes go into a
//! buffer the session keeps between calls, the rowids of a range into
//! another, and the definition comes from the catalog's cached DML rules
//! (an `Arc`, no copy of the table definition).

use std::ops::Bound;

use super::Context;
use crate::btree::key::{encode_prefix, KeyColumn};
use crate::catalog::{IndexDef, TableDef};
use crate::constraint::{ConstraintKind, Rules};
use crate::error::{Error, Result};
use crate::ids::RowId;
use crate::operators::RowidFetcher;
use crate::stats::Stat;
use crate::value::{ColType, Row, Value};

/// Buffers a session keeps for its key calls, so that a call allocates
/// only the rows it returns.
#[derive(Default)]
pub(super) struct KeyBuffers {
    /// The encoded start key of the scan.
    start: Vec<u8>,
    /// The encoded stop key (exclusive), when the range has an end.
    stop: Vec<u8>,
    /// The rowids a range scan found, in key order.
    rowids: Vec<RowId>,
}

impl Context {
    /// The row whose primary key is `key` (one value per key column, in
    /// the key's column order), as this session sees it now; `None` if
    /// there is none.
    ///
    /// One descent of the PRIMARY KEY index and one consistent get of the
    /// row's table block: exactly the gets of `SELECT * FROM t WHERE pk =
    /// :1` through the index (see the module doc).
    ///
    /// ```
    /// # use blocklab::{Database, Config, Value};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = Database::open(dir.path(), Config::default()).unwrap();
    /// let mut s = db.session();
    /// s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").unwrap();
    /// s.execute("INSERT INTO t VALUES (7, 'seven')").unwrap();
    /// let row = s.lookup_pk("t", &[Value::Int(7)]).unwrap();
    /// assert_eq!(row, Some(vec![Value::Int(7), Value::Text("seven".into())]));
    /// assert_eq!(s.lookup_pk("t", &[Value::Int(8)]).unwrap(), None);
    /// ```
    pub fn lookup_pk(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>> {
        let rules = self.rules(table)?;
        let (ix, n) = primary_key(&rules)?;
        if key.len() != n {
            return Err(Error::ValueCount {
                table: rules.def.name.clone(),
                values: key.len(),
                columns: n,
            });
        }
        let mut buf = std::mem::take(&mut self.key_buffers);
        buf.start.clear();
        encode_checked(&rules.def, ix, key, &mut buf.start)?;
        buf.stop.clear();
        buf.stop.extend_from_slice(&buf.start);
        // Encoded keys never end in 0xFF bytes only (no tag is 0xFF), so
        // the successor exists; every entry with the key lies in
        // [start, stop).
        let bounded = successor_in_place(&mut buf.stop);
        let r = self.statement(|s| {
            let snap = s.snapshot();
            let mut found: Option<RowId> = None;
            let stop = bounded.then_some(buf.stop.as_slice());
            crate::btree::tree::scan(&s.core, &s.stats, ix.tree, snap, &buf.start, stop, |e| {
                // A unique key: at most one entry is visible at a snapshot.
                // The walk still runs to the stop key, as SQL's does.
                found.get_or_insert(RowId::from_u64(e.val));
                Ok(true)
            })?;
            let Some(rowid) = found else {
                return Ok(None);
            };
            let mut row = None;
            RowidFetcher::default().fetch_all(
                &s.core,
                &s.stats,
                snap,
                &[rowid],
                false,
                |_, r| {
                    row = Some(r);
                    Ok(())
                },
            )?;
            if row.is_some() {
                s.stats.inc(Stat::RowsProcessed);
            }
            Ok(row)
        });
        self.key_buffers = buf;
        r
    }

    /// The rows whose primary key lies between `lower` and `upper`, in
    /// primary-key order, as this session sees them now.
    ///
    /// Each bound is `std::ops::Bound` over a *prefix* of the key (one to
    /// all of its columns' values, in the key's column order):
    /// `Included(&[5])` starts at the first key whose first column is 5,
    /// `Excluded(&[5])` after the last one; `Unbounded` is the index's
    /// start or end. So on a one-column key, `range_pk(t, Included(&[lo]),
    /// Excluded(&[hi]))` is `lo <= pk < hi`, and on a key (a, b),
    /// `Included(&[1])`..`Included(&[1])` is every row with `a = 1`. The
    /// order is the index's: on a DESC key column, "lower" is the larger
    /// value.
    ///
    /// One descent, a walk along the leaves, a consistent get per table
    /// block (a run of rowids in one block costs one get, `buffer is pinned
    /// count` for the others): the work of the same range through SQL.
    pub fn range_pk(
        &mut self,
        table: &str,
        lower: Bound<&[Value]>,
        upper: Bound<&[Value]>,
    ) -> Result<Vec<Row>> {
        let rules = self.rules(table)?;
        let (ix, n) = primary_key(&rules)?;
        for b in [&lower, &upper] {
            if let Bound::Included(v) | Bound::Excluded(v) = b {
                if v.is_empty() || v.len() > n {
                    return Err(Error::ValueCount {
                        table: rules.def.name.clone(),
                        values: v.len(),
                        columns: n,
                    });
                }
            }
        }
        let mut buf = std::mem::take(&mut self.key_buffers);
        buf.start.clear();
        buf.stop.clear();
        let r = (|| {
            match lower {
                Bound::Included(v) => encode_checked(&rules.def, ix, v, &mut buf.start)?,
                Bound::Excluded(v) => {
                    encode_checked(&rules.def, ix, v, &mut buf.start)?;
                    if !successor_in_place(&mut buf.start) {
                        // Cannot happen for encoded keys (see lookup_pk);
                        // an impossible start makes the range empty.
                        buf.start.clear();
                        buf.start.push(0xFF);
                    }
                }
                Bound::Unbounded => {}
            }
            let bounded = match upper {
                Bound::Included(v) => {
                    encode_checked(&rules.def, ix, v, &mut buf.stop)?;
                    successor_in_place(&mut buf.stop)
                }
                Bound::Excluded(v) => {
                    encode_checked(&rules.def, ix, v, &mut buf.stop)?;
                    true
                }
                Bound::Unbounded => false,
            };
            buf.rowids.clear();
            self.statement(|s| {
                let snap = s.snapshot();
                let stop = bounded.then_some(buf.stop.as_slice());
                let rowids = &mut buf.rowids;
                crate::btree::tree::scan(
                    &s.core,
                    &s.stats,
                    ix.tree,
                    snap,
                    &buf.start,
                    stop,
                    |e| {
                        rowids.push(RowId::from_u64(e.val));
                        Ok(true)
                    },
                )?;
                let mut out = Vec::with_capacity(rowids.len());
                RowidFetcher::default().fetch_all(
                    &s.core,
                    &s.stats,
                    snap,
                    rowids,
                    false,
                    |_, row| {
                        out.push(row);
                        Ok(())
                    },
                )?;
                s.stats.add(Stat::RowsProcessed, out.len() as u64);
                Ok(out)
            })
        })();
        self.key_buffers = buf;
        r
    }
}

/// The usable index that enforces the table's primary key, and how many
/// columns the key has.
fn primary_key(rules: &Rules) -> Result<(&IndexDef, usize)> {
    let (name, n) = rules
        .own
        .iter()
        .find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, index } => Some((index.as_str(), columns.len())),
            _ => None,
        })
        .ok_or_else(|| Error::NoSuchObject {
            kind: "primary key on table",
            name: rules.def.name.clone(),
        })?;
    let ix = rules
        .indexes
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| {
            Error::Internal(format!("primary key index {name} is not in the catalog"))
        })?;
    if !ix.usable {
        return Err(Error::Config(format!(
            "index {} is unusable: rebuild it first",
            ix.name
        )));
    }
    Ok((ix, n))
}

/// Checks `vals` against the index's leading columns' types and appends
/// their key encoding to `out`, one column at a time (no `Vec` of key
/// columns is built). The constraint's columns are the index's leading
/// ones (`constraint::define` checks it), so `vals[i]` belongs to index
/// column `i`.
fn encode_checked(def: &TableDef, ix: &IndexDef, vals: &[Value], out: &mut Vec<u8>) -> Result<()> {
    for (v, &(c, order)) in vals.iter().zip(&ix.columns) {
        let col = &def.columns[c];
        let ok = matches!(
            (col.ty, v),
            (ColType::Integer, Value::Int(_))
                | (ColType::Real, Value::Real(_) | Value::Int(_))
                | (ColType::Text, Value::Text(_))
        );
        if !ok {
            return Err(Error::InvalidRow {
                table: def.name.clone(),
                reason: format!(
                    "primary key column {} is {} NOT NULL, got the key value {v:?}",
                    col.name,
                    col.ty.name()
                ),
            });
        }
        let kc = KeyColumn { ty: col.ty, order };
        encode_prefix(std::slice::from_ref(&kc), std::slice::from_ref(v), out);
    }
    Ok(())
}

/// Turns `key` into the smallest byte string greater than every string
/// that starts with it (`btree::key::prefix_successor`, without a new
/// `Vec`); false if there is none (`key` was empty or all 0xFF).
fn successor_in_place(key: &mut Vec<u8>) -> bool {
    while key.last() == Some(&0xFF) {
        key.pop();
    }
    match key.last_mut() {
        Some(last) => {
            *last += 1;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
