//! Row changes with their index maintenance: what one INSERT, UPDATE or
//! DELETE of one row does to the table and to every index on it.
//!
//! An insert adds the row, then one entry per index. A delete removes the
//! row, then its entry from every index. An update changes the row in place
//! (or moves it, see `heap::update`); an index whose key (or, after a move,
//! rowid) changed gets a delete of the old entry plus an insert of the new
//! one, and an index whose columns did not change is not touched (claim
//! C01: every index is paid for by every insert and delete, and by the
//! updates of its columns).

use crate::catalog::{IndexDef, TableDef};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::heap::{self, ReadPoint};
use crate::ids::RowId;
use crate::stats::SessionStats;
use crate::txn::TxnCtx;
use crate::value::{decode_row, encode_row, Row};

fn bad_row(core: &Core, rowid: RowId) -> impl Fn(String) -> Error + '_ {
    move |r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r)
}

/// Inserts `row` and its index entries; returns its rowid.
pub(crate) fn insert_row(
    core: &Core,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    def: &TableDef,
    indexes: &[IndexDef],
    row: &Row,
) -> Result<RowId> {
    let rowid = heap::insert(core, stats, txn, def.seg, &encode_row(row))?;
    for ix in indexes {
        crate::btree::tree::insert(
            core,
            stats,
            txn,
            ix.tree,
            &ix.entry_key(def, row, rowid),
            rowid,
        )?;
    }
    Ok(rowid)
}

/// Deletes the row at `rowid` and its index entries.
pub(crate) fn delete_row(
    core: &Core,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    def: &TableDef,
    indexes: &[IndexDef],
    rowid: RowId,
) -> Result<()> {
    let old = heap::delete(core, stats, txn, at, def.seg, rowid)?;
    if !indexes.is_empty() {
        let old = decode_row(&old).map_err(bad_row(core, rowid))?;
        for ix in indexes {
            crate::btree::tree::delete(core, stats, txn, ix.tree, &ix.entry_key(def, &old, rowid))?;
        }
    }
    Ok(())
}

/// Updates the row at `rowid` to `new(current row)` (computed once the row
/// is locked; `None` leaves it alone) and maintains the indexes whose keys
/// changed. Returns the row's rowid (new if it moved), or `None`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn update_row(
    core: &Core,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    def: &TableDef,
    indexes: &[IndexDef],
    rowid: RowId,
    new: impl FnOnce(&Row) -> Result<Option<Row>>,
) -> Result<Option<RowId>> {
    let mut rows: Option<(Row, Row)> = None;
    let moved_to = heap::update(core, stats, txn, at, def.seg, rowid, |cur| {
        let old = decode_row(cur).map_err(bad_row(core, rowid))?;
        let Some(row) = new(&old)? else {
            return Ok(None);
        };
        let row = def.check_row(row)?;
        let bytes = encode_row(&row);
        rows = Some((old, row));
        Ok(Some(bytes))
    })?;
    let (Some(new_rowid), Some((old, row))) = (moved_to, rows) else {
        return Ok(None);
    };
    for ix in indexes {
        let old_key = ix.entry_key(def, &old, rowid);
        let new_key = ix.entry_key(def, &row, new_rowid);
        if old_key != new_key {
            crate::btree::tree::delete(core, stats, txn, ix.tree, &old_key)?;
            crate::btree::tree::insert(core, stats, txn, ix.tree, &new_key, new_rowid)?;
        }
    }
    Ok(Some(new_rowid))
}
