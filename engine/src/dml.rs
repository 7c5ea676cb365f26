//! Row changes with their index maintenance and constraint checks: what one
//! INSERT, UPDATE or DELETE of one row does to the table, to every index on
//! it, and what it must verify.
//!
//! An insert adds the row, then one entry per index — probing first, under
//! the index's lock, where the index enforces a PRIMARY KEY or UNIQUE
//! constraint — then checks its foreign keys' parents. A delete removes the
//! row and its entries, then makes sure no child row references it. An
//! update changes the row in place (or moves it, see `heap::update`); an
//! index whose key (or, after a move, rowid) changed gets a delete of the
//! old entry plus an insert of the new one, and an index whose columns did
//! not change is not touched (claim C01: every index is paid for by every
//! insert and delete, and by the updates of its columns).

use crate::btree::tree::{self, Probe};
use crate::constraint::{self, with_probe, Rules};
use crate::error::{Error, Result};
use crate::heap::{self, ReadPoint};
use crate::ids::RowId;
use crate::kernel::Kernel;
use crate::stats::SessionStats;
use crate::txn::TxnCtx;
use crate::value::{decode_row, encode_row, Row, Value};

fn bad_row(core: &Kernel, rowid: RowId) -> impl Fn(String) -> Error + '_ {
    move |r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r)
}

/// Adds `row`'s entry at `rowid` to every index (all, or only those whose
/// key differs from `old`'s), with unique probes where a constraint says so.
fn add_entries(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    row: &Row,
    rowid: RowId,
    old: Option<(&Row, RowId)>,
) -> Result<()> {
    let def = &rules.def;
    for ix in &rules.indexes {
        if !ix.usable {
            // Not maintained; but a key it enforces cannot go unchecked.
            if let Some(c) = rules.unique_on(&ix.name) {
                return Err(Error::Config(format!(
                    "index {} is unusable and enforces constraint {}: rebuild it first",
                    ix.name, c.name
                )));
            }
            continue;
        }
        let key = ix.entry_key(def, row, rowid);
        if let Some((o, orid)) = old {
            let old_key = ix.entry_key(def, o, orid);
            if old_key == key {
                continue;
            }
            tree::delete(core, stats, txn, ix.tree, &old_key)?;
        }
        let unique = rules.unique_on(&ix.name).and_then(|c| {
            let (_, cols) = c.unique_index()?;
            let vals: Vec<Value> = cols.iter().map(|&i| row[i].clone()).collect();
            // NULLs are never equal: such keys are not checked.
            (!vals.iter().any(Value::is_null)).then(|| (c.name.clone(), vals))
        });
        match unique {
            None => tree::insert(core, stats, txn, ix.tree, &key, rowid)?,
            Some((name, vals)) => with_probe(core, stats, txn, ix, def, &vals, |txn, p| match p {
                Probe::Free => tree::insert(core, stats, txn, ix.tree, &key, rowid),
                _ => Err(Error::UniqueViolation { constraint: name }),
            })?,
        }
    }
    Ok(())
}

/// Adds the index entries of rows a direct-path load put in the table, at
/// the end of the statement: per index, the new keys are sorted and merged
/// into the tree in key order (each insert then lands next to the last, so
/// the leaves it needs are in the cache). An index enforcing a key
/// constraint probes each key as any insert does; an unusable one is
/// skipped (it needs a rebuild), unless it enforces a key.
pub(crate) fn add_loaded_entries(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    rows: &[Row],
    rowids: &[RowId],
) -> Result<()> {
    let def = &rules.def;
    for ix in &rules.indexes {
        let unique = rules.unique_on(&ix.name);
        if !ix.usable && unique.is_none() {
            continue;
        }
        let mut keys: Vec<(Vec<u8>, usize)> = rows
            .iter()
            .zip(rowids)
            .enumerate()
            .map(|(i, (row, rowid))| (ix.entry_key(def, row, *rowid), i))
            .collect();
        keys.sort_unstable();
        // The probe and the unusable check live in `add_entries`.
        let one = unique.map(|_| Rules {
            indexes: vec![ix.clone()],
            ..rules.clone()
        });
        for (key, i) in keys {
            if let Some(one) = &one {
                add_entries(core, stats, txn, one, &rows[i], rowids[i], None)?;
            } else {
                tree::insert(core, stats, txn, ix.tree, &key, rowids[i])?;
            }
        }
    }
    Ok(())
}

/// Inserts `row` and its index entries; returns its rowid.
pub(crate) fn insert_row(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    row: &Row,
) -> Result<RowId> {
    constraint::check_row(rules, row)?;
    let rowid = heap::insert(core, stats, txn, rules.def.seg, &encode_row(row))?;
    add_entries(core, stats, txn, rules, row, rowid, None)?;
    constraint::check_parents(core, stats, txn, rules, row, None)?;
    Ok(rowid)
}

/// Inserts `rows` and their index entries, as one statement would row by
/// row, but with the table rows going in a block at a time
/// (`heap::insert_many`). Errors come in the same order as row by row: a
/// row failing its CHECK is reported after the rows before it went in
/// and were indexed, and every row is indexed in order (so a unique
/// violation between two rows names the later one).
pub(crate) fn insert_rows(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    rows: &[Row],
) -> Result<Vec<RowId>> {
    let mut out = Vec::with_capacity(rows.len());
    // Chunks bound the row images held at once.
    for chunk in rows.chunks(1024) {
        let mut bad = None;
        let mut images = Vec::with_capacity(chunk.len());
        for row in chunk {
            if let Err(e) = constraint::check_row(rules, row) {
                bad = Some(e);
                break;
            }
            images.push(bytes::Bytes::from(encode_row(row)));
        }
        let good = &chunk[..images.len()];
        let rowids = heap::insert_many(core, stats, txn, rules.def.seg, &images)?;
        for (row, &rowid) in good.iter().zip(&rowids) {
            add_entries(core, stats, txn, rules, row, rowid, None)?;
            constraint::check_parents(core, stats, txn, rules, row, None)?;
        }
        if let Some(e) = bad {
            return Err(e);
        }
        out.extend(rowids);
    }
    Ok(out)
}

/// Deletes the row at `rowid` and its index entries.
pub(crate) fn delete_row(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    rules: &Rules,
    rowid: RowId,
) -> Result<()> {
    delete_row_if(core, stats, txn, at, rules, rowid, |_| Ok(true)).map(|_| ())
}

/// Deletes the row at `rowid` (and its index entries) if `keep_going`
/// accepts its current version once locked; returns whether it did.
pub(crate) fn delete_row_if(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    rules: &Rules,
    rowid: RowId,
    keep_going: impl FnOnce(&Row) -> Result<bool>,
) -> Result<bool> {
    let Some(old) = heap::delete_if(core, stats, txn, at, rules.def.seg, rowid, |img| {
        keep_going(&decode_row(img).map_err(bad_row(core, rowid))?)
    })?
    else {
        return Ok(false);
    };
    if rules.indexes.is_empty() && rules.referencing.is_empty() {
        return Ok(true);
    }
    let old = decode_row(&old).map_err(bad_row(core, rowid))?;
    for ix in rules.indexes.iter().filter(|i| i.usable) {
        tree::delete(
            core,
            stats,
            txn,
            ix.tree,
            &ix.entry_key(&rules.def, &old, rowid),
        )?;
    }
    constraint::check_children(core, stats, txn, rules, &old, None)?;
    Ok(true)
}

/// Updates the row at `rowid` to `new(current row)` (computed once the row
/// is locked; `None` leaves it alone) and maintains the indexes whose keys
/// changed. Returns the row's rowid (new if it moved), or `None`.
pub(crate) fn update_row(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    rules: &Rules,
    rowid: RowId,
    new: impl FnOnce(&Row) -> Result<Option<Row>>,
) -> Result<Option<RowId>> {
    let mut rows: Option<(Row, Row)> = None;
    let moved_to = heap::update(core, stats, txn, at, rules.def.seg, rowid, |cur| {
        let old = decode_row(cur).map_err(bad_row(core, rowid))?;
        let Some(row) = new(&old)? else {
            return Ok(None);
        };
        let row = rules.def.check_row(row)?;
        constraint::check_row(rules, &row)?;
        let bytes = encode_row(&row);
        rows = Some((old, row));
        Ok(Some(bytes))
    })?;
    let (Some(new_rowid), Some((old, row))) = (moved_to, rows) else {
        return Ok(None);
    };
    add_entries(
        core,
        stats,
        txn,
        rules,
        &row,
        new_rowid,
        Some((&old, rowid)),
    )?;
    constraint::check_parents(core, stats, txn, rules, &row, Some(&old))?;
    constraint::check_children(core, stats, txn, rules, &old, Some(&row))?;
    Ok(Some(new_rowid))
}
