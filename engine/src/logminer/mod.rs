//! The log miner: what the redo says happened, in order — who changed which
//! row of which table, when, and the SQL that would do it again (Oracle's
//! LogMiner and its `SQL_REDO`).
//!
//! ```text
//!  control file ─▶ ring shape, database id, checkpoint
//!  LogSet: online ring + archives ──read from LSN 0──▶ records, gaps
//!  Dictionary: data file + redo since the checkpoint ──▶ block → table, columns
//!  pass 1: per transaction: user (Begin), end (Commit/Rollback), DDL or not
//!  pass 2: each record ──▶ MinedRecord (DML rows decoded by column name)
//!  filters (SCN window, table) ──▶ SQL_REDO for committed work ──▶ Mined
//! ```
//!
//! What a redo record becomes:
//!
//! | record | listed as |
//! |---|---|
//! | `Ddl` | DDL, with the statement text |
//! | `Change` on a table's row slot | INSERT, UPDATE, DELETE (or LOCK ROW: same bytes, only the lock) |
//! | `Change` of a DDL transaction, or on the catalog | nothing: DDL internals |
//! | `Change` on an index or the segment HWM | nothing (the row change says it) |
//! | `Space` with a direct-path block image | DIRECT INSERT, one per row |
//! | `Undo` (compensation, during a rollback) | UNDO, and the change it takes back is marked `rolled_back` |
//! | `Commit`, `Rollback` | COMMIT, ROLLBACK (only for a transaction with listed records) |
//! | `Nologging` | NOLOGGING: those rows are not in the redo |
//! | `Begin`, other `Space` | nothing (the user is shown on every row) |
//!
//! Why compensation can be matched exactly: every `Change` record of a
//! transaction writes exactly one undo record, and a rollback (of the whole
//! transaction or of one statement) applies them newest first, one `Undo`
//! record each. So per transaction the changes form a stack and each `Undo`
//! record pops one.
//!
//! `SQL_REDO` is produced only for changes whose transaction committed within
//! the mined window and that no rollback took back: an INSERT with the
//! visible columns, an UPDATE of the changed columns and a DELETE, both
//! identified by the primary key if the table has one, else by every old
//! column value (so, as in Oracle without supplemental logging, duplicate
//! rows cannot be told apart); `COMMIT` after a transaction's last one; the
//! DDL text for DDL. Dropped columns are left out of `SQL_REDO`.
//!
//! An in-place UPDATE logs only the columns it changes (`Op::UpdateCols`).
//! To show the whole old row and to identify it in `SQL_REDO`, the miner
//! replays the table blocks formatted within the redo it reads, in log
//! order; an UPDATE of a row older than that has only its changed columns
//! and no `SQL_REDO` (a warning says so), as Oracle's LogMiner needs
//! supplemental logging to identify such a row.
//!
//! Time: `Begin`, `Commit`, `Rollback` and `Ddl` records carry the wall
//! clock; change records do not (it would cost a clock read per change), so
//! a change is shown with the latest time logged at or before it.
//!
//! Redo that no longer exists (a log file reused before it was archived) is
//! reported in `Mined::gaps`, never skipped silently.
//!
//! The database may be closed, or open in this process: its files are only
//! read, opened read-only (`storage::ReadOnlyBackend`, so the miner also
//! runs on a read-only file system), and a torn tail ends the listing. Simplifications: one pass over the
//! whole available history, in memory; the current dictionary for every
//! record (a table re-created under the same name shows its new columns
//! only for its new segment); no row chaining or multi-block rows exist to
//! reassemble.

mod dict;
mod render;
mod sql;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::block::{Block, Body, Op, SlotState, UndoOp};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Lsn, RowId, Scn, Xid};
use crate::redo::log::archiver::read_archive_dest;
use crate::redo::record::{decode_payload, RecKind};
use crate::redo::{History, LogConfig, LogSet};
use crate::storage::{ControlFile, ReadOnlyBackend};
use crate::value::{decode_row, Value};

pub use crate::clock::iso_time;
use dict::{Dictionary, Owner, TableInfo};
pub use render::{render_json, render_sql, render_table};

/// What to mine.
#[derive(Clone, Debug, Default)]
pub struct MineOptions {
    /// Only records with an SCN at or above this.
    pub from_scn: Option<Scn>,
    /// Only records with an SCN at or below this; a transaction counts as
    /// committed only if its commit is at or below it.
    pub to_scn: Option<Scn>,
    /// Only records about this table (its DML and DDL, and the commits of
    /// the transactions that have some).
    pub table: Option<String>,
    /// Archive directories to read besides the online logs; empty: the
    /// destination the database remembers (`Config::archive_dir`), if any.
    pub archive: Vec<PathBuf>,
}

/// What a mined record records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MinedOp {
    Insert,
    /// A row written by a direct-path (`/*+ APPEND */`) load.
    DirectInsert,
    Update,
    Delete,
    /// A row locked (SELECT FOR UPDATE): the bytes stay the same.
    LockRow,
    /// A change made by a rollback, taking back an earlier one.
    Undo,
    Ddl,
    Commit,
    Rollback,
    /// A NOLOGGING direct load: its rows are not in the redo.
    Nologging,
}

impl MinedOp {
    /// The name the listings use (Oracle's `OPERATION` column).
    pub fn name(self) -> &'static str {
        match self {
            MinedOp::Insert => "INSERT",
            MinedOp::DirectInsert => "DIRECT INSERT",
            MinedOp::Update => "UPDATE",
            MinedOp::Delete => "DELETE",
            MinedOp::LockRow => "LOCK ROW",
            MinedOp::Undo => "UNDO",
            MinedOp::Ddl => "DDL",
            MinedOp::Commit => "COMMIT",
            MinedOp::Rollback => "ROLLBACK",
            MinedOp::Nologging => "NOLOGGING",
        }
    }

    fn is_dml(self) -> bool {
        matches!(
            self,
            MinedOp::Insert | MinedOp::DirectInsert | MinedOp::Update | MinedOp::Delete
        )
    }
}

/// One column's value in a mined row.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnValue {
    /// The column's name (a dropped column's original name).
    pub name: String,
    pub value: Value,
    /// The column has been dropped since (`ALTER TABLE … DROP COLUMN`).
    pub dropped: bool,
}

/// One line of the miner's output.
#[derive(Clone, Debug, PartialEq)]
pub struct MinedRecord {
    pub scn: Scn,
    /// Where the redo record starts.
    pub lsn: Lsn,
    /// Milliseconds since the Unix epoch (see the module docs for change
    /// records); `None` if no time was logged before it in the redo read.
    pub time_ms: Option<u64>,
    pub xid: Xid,
    /// The session user, from the transaction's `Begin` record (`None` if
    /// that record is no longer available).
    pub user: Option<String>,
    pub op: MinedOp,
    pub table: Option<String>,
    pub rowid: Option<RowId>,
    /// INSERT: the row; UPDATE: the changed columns, new values; DELETE:
    /// the deleted row; UNDO: the row as restored (empty if it was removed;
    /// the restored columns when it takes back an UPDATE).
    pub values: Vec<ColumnValue>,
    /// UPDATE and DELETE: the whole row before the change (empty for an
    /// UPDATE of a row whose earlier image is not in the redo read).
    pub old_values: Vec<ColumnValue>,
    /// DDL: the statement; NOLOGGING: which blocks the redo lacks.
    pub text: Option<String>,
    /// A later rollback (of the transaction, or of one of its statements)
    /// took this change back.
    pub rolled_back: bool,
    /// A statement that does this again (see the module docs), or `None`.
    pub sql_redo: Option<String>,
}

impl MinedRecord {
    /// The time as UTC ISO 8601 (`2024-05-01T12:00:00.000Z`).
    pub fn time(&self) -> Option<String> {
        self.time_ms.map(iso_time)
    }
}

/// Everything the miner found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mined {
    pub records: Vec<MinedRecord>,
    /// Redo that no longer exists, one sentence each.
    pub gaps: Vec<String>,
    /// Things the miner could not read or place (unreadable blocks, unused
    /// archive files).
    pub warnings: Vec<String>,
}

/// Mines the redo of the database in `dir`; see the module docs.
pub fn mine(dir: &Path, opts: &MineOptions) -> Result<Mined> {
    if !dir.join(ControlFile::NAME).is_file() {
        return Err(Error::NoSuchObject {
            kind: "database",
            name: format!("{} (no control file)", dir.display()),
        });
    }
    // Read-only: the miner runs on a read-only file system, or next to a
    // running database, and changes nothing.
    let backend = ReadOnlyBackend::new(dir)?;
    let (_, control) = ControlFile::open(&backend)?;
    let cfg = LogConfig {
        file_size: control.log_file_size,
        files: control.log_files,
    };
    // A database made by recover_until has its own redo only from the
    // RESETLOGS point on; what came before is its parent's.
    let incarnation = crate::backup::read_incarnation(dir)?;
    let start = incarnation.as_ref().map_or(Lsn(0), |i| i.resetlogs_lsn);
    let archives = if opts.archive.is_empty() {
        read_archive_dest(&backend)?.into_iter().collect()
    } else {
        opts.archive.clone()
    };
    // A database open in this process may move on while its files are
    // read: a record seen half-written next to a later complete one looks
    // like damage. Reading again settles it.
    let mut attempt = 0;
    let (history, notes) = loop {
        attempt += 1;
        let mut set = LogSet::new(cfg, control.db_id);
        set.add_ring(&backend)?;
        for dir in archives.iter().filter(|d| d.is_dir()) {
            set.add_archive(Arc::new(ReadOnlyBackend::new(dir)?))?;
        }
        match set.read(start, None) {
            Err(Error::CorruptLog { .. }) if attempt < 3 => continue,
            r => break (r?, set.notes().to_vec()),
        }
    };
    let mut dict = Dictionary::build(
        dir,
        control.block_size as usize,
        Lsn(control.checkpoint_lsn),
        &history.records,
    )?;
    let mut mined = mine_history(&history, &mut dict, opts)?;
    if let Some(inc) = incarnation {
        if opts.from_scn.is_none_or(|f| f <= inc.resetlogs_scn) {
            mined.gaps.insert(
                0,
                format!(
                    "redo up to SCN {} (LSN {}) belongs to database {:016x}, which this one \
                     was recovered from (RESETLOGS): mine that database for it",
                    inc.resetlogs_scn.0, inc.resetlogs_lsn.0, inc.parent_db_id
                ),
            );
        }
    }
    mined.warnings.extend(notes);
    mined.warnings.append(&mut dict.warnings);
    if dict.unplaced > 0 {
        mined.warnings.push(format!(
            "{} row changes are on blocks of no table the data file still describes: not listed",
            dict.unplaced
        ));
    }
    Ok(mined)
}

/// Per-transaction facts from pass 1.
#[derive(Default)]
struct Txns {
    users: HashMap<Xid, String>,
    /// How and at which SCN each transaction ended.
    ends: HashMap<Xid, (MinedOp, Scn)>,
    ddl: HashSet<Xid>,
}

fn mine_history(h: &History, dict: &mut Dictionary, opts: &MineOptions) -> Result<Mined> {
    let decoded = h
        .records
        .iter()
        .map(|r| {
            decode_payload(&r.payload).map_err(|why| Error::CorruptLog {
                lsn: r.lsn.0,
                reason: format!("undecodable redo payload: {why}"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut txns = Txns::default();
    for (r, p) in h.records.iter().zip(&decoded) {
        match p.kind {
            RecKind::Begin => {
                txns.users.insert(p.xid, p.text.clone());
            }
            RecKind::Commit => {
                txns.ends.insert(p.xid, (MinedOp::Commit, r.scn));
            }
            RecKind::Rollback => {
                txns.ends.insert(p.xid, (MinedOp::Rollback, r.scn));
            }
            RecKind::Ddl => {
                txns.ddl.insert(p.xid);
            }
            _ => {}
        }
    }

    // Each listed record with the table definition its values were read by.
    let mut out: Vec<(MinedRecord, Option<Arc<TableInfo>>)> = Vec::new();
    let mut clock: Option<u64> = None;
    // Per transaction: the listed records of each change not yet undone.
    let mut stacks: HashMap<Xid, Vec<Vec<usize>>> = HashMap::new();
    // Direct-path rows waiting for the HWM change that publishes them.
    let mut direct: HashMap<Xid, Vec<usize>> = HashMap::new();
    let mut warnings = Vec::new();
    // The table blocks as the redo read so far made them (see `Rows`).
    let mut rows = Rows::default();
    for (r, p) in h.records.iter().zip(&decoded) {
        if p.time_ms > 0 {
            clock = Some(clock.map_or(p.time_ms, |c| c.max(p.time_ms)));
        }
        // A timed record shows its own clock reading, a change the latest
        // one before it (readings are taken just before the SCN, so two
        // sessions' may be a millisecond out of SCN order).
        let time_ms = if p.time_ms > 0 {
            Some(p.time_ms)
        } else {
            clock
        };
        let base = |op: MinedOp| MinedRecord {
            scn: r.scn,
            lsn: r.lsn,
            time_ms,
            xid: p.xid,
            user: txns.users.get(&p.xid).cloned(),
            op,
            table: None,
            rowid: None,
            values: Vec::new(),
            old_values: Vec::new(),
            text: None,
            rolled_back: false,
            sql_redo: None,
        };
        match p.kind {
            RecKind::Begin => {}
            RecKind::Commit => out.push((base(MinedOp::Commit), None)),
            RecKind::Rollback => out.push((base(MinedOp::Rollback), None)),
            RecKind::Ddl => {
                let rec = MinedRecord {
                    table: ddl_table(&p.text, dict),
                    text: Some(p.text.clone()),
                    ..base(MinedOp::Ddl)
                };
                out.push((rec, None));
            }
            RecKind::Nologging => {
                let info = first_block(&p.text).and_then(|b| owner_table(dict, b));
                let rec = MinedRecord {
                    table: info.map(|t| t.name.clone()),
                    text: Some(p.text.clone()),
                    ..base(MinedOp::Nologging)
                };
                out.push((rec, None));
            }
            RecKind::Change => {
                let mut listed = Vec::new();
                if !txns.ddl.contains(&p.xid) {
                    for c in row_changes(dict, &rows, r.scn, &p.changes, &mut warnings) {
                        listed.push(out.len());
                        let rec = MinedRecord {
                            table: Some(c.info.name.clone()),
                            rowid: Some(c.rowid),
                            values: c.values,
                            old_values: c.old_values,
                            ..base(c.op)
                        };
                        out.push((rec, Some(c.info)));
                    }
                }
                if p.changes
                    .iter()
                    .any(|(_, op)| matches!(op, Op::SegHwm { .. }))
                {
                    listed.extend(direct.remove(&p.xid).unwrap_or_default());
                }
                stacks.entry(p.xid).or_default().push(listed);
            }
            RecKind::Undo => {
                if let Some(undone) = stacks.get_mut(&p.xid).and_then(Vec::pop) {
                    for i in undone {
                        out[i].0.rolled_back = true;
                    }
                }
                if txns.ddl.contains(&p.xid) {
                    continue;
                }
                if let Some((no, Op::ClearSlots { slots, .. })) = p.changes.first() {
                    // A multi-row insert taken back: one line per row.
                    if let Some(info) = owner_table(dict, *no) {
                        for &slot in slots {
                            let rec = MinedRecord {
                                table: Some(info.name.clone()),
                                rowid: Some(RowId { block: *no, slot }),
                                ..base(MinedOp::Undo)
                            };
                            out.push((rec, Some(info.clone())));
                        }
                    }
                }
                if let Some((no, Op::UpdateCols { slot, cols, .. })) = p.changes.first() {
                    // An UPDATE taken back: the columns it restores.
                    if let Some(info) = owner_table(dict, *no) {
                        let rec = MinedRecord {
                            table: Some(info.name.clone()),
                            rowid: Some(RowId {
                                block: *no,
                                slot: *slot,
                            }),
                            values: column_values(&info, cols, &mut warnings),
                            ..base(MinedOp::Undo)
                        };
                        out.push((rec, Some(info)));
                    }
                }
                if let Some((no, Op::SetSlot { slot, value, .. })) = p.changes.first() {
                    if let Some(info) = owner_table(dict, *no) {
                        let values = match value.state {
                            SlotState::Live => row_values(&info, &value.data, &mut warnings),
                            _ => Vec::new(),
                        };
                        let rec = MinedRecord {
                            table: Some(info.name.clone()),
                            rowid: Some(RowId {
                                block: *no,
                                slot: *slot,
                            }),
                            values,
                            ..base(MinedOp::Undo)
                        };
                        out.push((rec, Some(info)));
                    }
                }
            }
            RecKind::Space => {
                for (no, op) in &p.changes {
                    let Op::HeapImage { slots, .. } = op else {
                        continue;
                    };
                    let Some(info) = owner_table(dict, *no) else {
                        continue;
                    };
                    for (i, s) in slots.iter().enumerate() {
                        if s.state != SlotState::Live {
                            continue;
                        }
                        direct.entry(p.xid).or_default().push(out.len());
                        let rec = MinedRecord {
                            table: Some(info.name.clone()),
                            rowid: Some(RowId {
                                block: *no,
                                slot: i as u16,
                            }),
                            values: row_values(&info, &s.data, &mut warnings),
                            ..base(MinedOp::DirectInsert)
                        };
                        out.push((rec, Some(info.clone())));
                    }
                }
            }
        }
        rows.apply(r.scn, &p.changes);
    }
    // Direct-path rows whose HWM change never came (the load failed).
    for i in direct.into_values().flatten() {
        out[i].0.rolled_back = true;
    }
    // Only the gaps that can hide records of the window asked for.
    let gaps = h
        .gaps
        .iter()
        .filter(|g| {
            let hides_from = g.scn_before.map_or(0, |s| s.0 + 1);
            let hides_to = g.scn_after.map_or(u64::MAX, |s| s.0.saturating_sub(1));
            opts.from_scn.is_none_or(|f| hides_to >= f.0)
                && opts.to_scn.is_none_or(|t| hides_from <= t.0)
        })
        .map(|g| g.describe())
        .collect();
    Ok(Mined {
        records: finish(out, &txns, opts),
        gaps,
        warnings,
    })
}

/// The table blocks formatted within the redo read, kept up to date by
/// applying their changes in log order: an UPDATE logs only the columns
/// it changes, so the row it changed (to name the columns left alone and
/// to find the row again in `SQL_REDO`) is read here. Oracle's LogMiner
/// needs supplemental logging for the same reason.
#[derive(Default)]
struct Rows {
    blocks: HashMap<BlockNo, Block>,
}

impl Rows {
    fn apply(&mut self, scn: Scn, changes: &[(BlockNo, Op)]) {
        for (no, op) in changes {
            match op {
                Op::FormatHeap { .. } | Op::HeapImage { .. } => {
                    let mut b = Block::unformatted(*no);
                    if b.apply(op, scn).is_ok() {
                        self.blocks.insert(*no, b);
                    }
                }
                Op::SetSlot { .. }
                | Op::InsertRows { .. }
                | Op::ClearSlots { .. }
                | Op::UpdateCols { .. } => {
                    if let Some(b) = self.blocks.get_mut(no) {
                        if b.apply(op, scn).is_err() {
                            // Not what the redo said it was: forget it.
                            self.blocks.remove(no);
                        }
                    }
                }
                // A block reused for something else.
                Op::IdxSet { .. } | Op::SetSegHeader(_) | Op::FormatUndo { .. } => {
                    self.blocks.remove(no);
                }
                _ => {}
            }
        }
    }

    /// The bytes of a live row, if its block was formatted within the redo.
    fn row(&self, rowid: RowId) -> Option<&[u8]> {
        match &self.blocks.get(&rowid.block)?.body {
            Body::Heap(slots) => slots
                .get(rowid.slot as usize)
                .filter(|s| s.state == SlotState::Live)
                .map(|s| &s.data[..]),
            _ => None,
        }
    }
}

/// A heap row change found in a `Change` record.
struct RowChange {
    op: MinedOp,
    info: Arc<TableInfo>,
    rowid: RowId,
    values: Vec<ColumnValue>,
    old_values: Vec<ColumnValue>,
}

/// The row changes a `Change` record makes to a table: one per row of a
/// multi-row insert, else the one `row_change` finds.
fn row_changes(
    dict: &mut Dictionary,
    before: &Rows,
    scn: Scn,
    changes: &[(BlockNo, Op)],
    warnings: &mut Vec<String>,
) -> Vec<RowChange> {
    if let Some((no, Op::UpdateCols { slot, cols, .. })) = changes.first() {
        let rowid = RowId {
            block: *no,
            slot: *slot,
        };
        return update_cols(dict, before.row(rowid), scn, rowid, cols, warnings)
            .into_iter()
            .collect();
    }
    let Some((no, Op::InsertRows { rows, .. })) = changes.first() else {
        return row_change(dict, changes, warnings).into_iter().collect();
    };
    let Some(info) = owner_table(dict, *no) else {
        return Vec::new();
    };
    rows.iter()
        .map(|(slot, data)| RowChange {
            op: MinedOp::Insert,
            info: info.clone(),
            rowid: RowId {
                block: *no,
                slot: *slot,
            },
            values: row_values(&info, data, warnings),
            old_values: Vec::new(),
        })
        .collect()
}

/// The row change a `Change` record makes, if it changes a table's row:
/// its first vector sets the slot, the undo vector holds the slot before.
fn row_change(
    dict: &mut Dictionary,
    changes: &[(BlockNo, Op)],
    warnings: &mut Vec<String>,
) -> Option<RowChange> {
    let (no, Op::SetSlot { slot, value, .. }) = changes.first()? else {
        return None;
    };
    let before = changes.iter().find_map(|(_, op)| match op {
        Op::UndoAppend(rec) => match &rec.op {
            UndoOp::Slot { before, .. } => Some(before.clone()),
            _ => None,
        },
        _ => None,
    })?;
    let info = owner_table(dict, *no)?;
    let was = before.state == SlotState::Live;
    let (op, values, old_values) = match value.state {
        SlotState::Live if !was => (
            MinedOp::Insert,
            row_values(&info, &value.data, warnings),
            Vec::new(),
        ),
        SlotState::Live if before.data == value.data => (
            MinedOp::LockRow,
            Vec::new(),
            row_values(&info, &before.data, warnings),
        ),
        SlotState::Live => {
            let old = row_values(&info, &before.data, warnings);
            let new = row_values(&info, &value.data, warnings);
            let changed = new
                .into_iter()
                .enumerate()
                .filter(|(i, v)| old.get(*i).is_none_or(|o| o.value != v.value))
                .map(|(_, v)| v)
                .collect();
            (MinedOp::Update, changed, old)
        }
        SlotState::Deleted if was => {
            let old = row_values(&info, &before.data, warnings);
            (MinedOp::Delete, old.clone(), old)
        }
        _ => return None,
    };
    Some(RowChange {
        op,
        info,
        rowid: RowId {
            block: *no,
            slot: *slot,
        },
        values,
        old_values,
    })
}

/// An in-place UPDATE (the changed columns only), with the row as it was
/// (`old`) when the redo read holds it: then the old values are the whole
/// row; otherwise only the changed columns are known, listed as new
/// values, with no old row (so no `SQL_REDO`) and a warning.
fn update_cols(
    dict: &mut Dictionary,
    old: Option<&[u8]>,
    scn: Scn,
    rowid: RowId,
    cols: &[crate::value::ColumnImage],
    warnings: &mut Vec<String>,
) -> Option<RowChange> {
    let info = owner_table(dict, rowid.block)?;
    if cols.is_empty() {
        let old_values = old.map_or(Vec::new(), |o| row_values(&info, o, warnings));
        return Some(RowChange {
            op: MinedOp::LockRow,
            info,
            rowid,
            values: Vec::new(),
            old_values,
        });
    }
    let values = column_values(&info, cols, warnings);
    let old_values = match old {
        Some(o) => row_values(&info, o, warnings),
        None => {
            warnings.push(format!(
                "UPDATE of {} row {rowid} at SCN {}: the row's earlier image is not in \
                 the redo read, so only its changed columns are known (no SQL_REDO)",
                info.name, scn.0
            ));
            Vec::new()
        }
    };
    Some(RowChange {
        op: MinedOp::Update,
        info,
        rowid,
        values,
        old_values,
    })
}

/// Named values of a column list (an UPDATE's changed columns).
fn column_values(
    info: &TableInfo,
    cols: &[crate::value::ColumnImage],
    warnings: &mut Vec<String>,
) -> Vec<ColumnValue> {
    let mut out = Vec::with_capacity(cols.len());
    for (i, bytes) in cols {
        let mut one = Vec::with_capacity(2 + bytes.len());
        one.extend_from_slice(&1u16.to_le_bytes());
        one.extend_from_slice(bytes);
        match decode_row(&one) {
            Ok(mut v) if v.len() == 1 => out.push(ColumnValue {
                name: info.display_name(*i as usize),
                value: v.remove(0),
                dropped: info.is_dropped(*i as usize),
            }),
            _ => warnings.push(format!(
                "column {i} of an UPDATE of {} does not decode",
                info.name
            )),
        }
    }
    out
}

/// The table a heap block belongs to (not the catalog); `OBJ#n`, with
/// numbered columns, for a segment the catalog has forgotten.
fn owner_table(dict: &mut Dictionary, no: BlockNo) -> Option<Arc<TableInfo>> {
    match dict.owner(no) {
        Owner::Table(t) => Some(t.clone()),
        Owner::Unknown(obj) => Some(Arc::new(TableInfo {
            name: format!("OBJ#{obj}"),
            columns: Vec::new(),
            pk: None,
            dropped: true,
        })),
        Owner::Catalog => None,
        Owner::None => {
            dict.unplaced += 1;
            None
        }
    }
}

/// Decodes a row image into named values.
fn row_values(info: &TableInfo, data: &[u8], warnings: &mut Vec<String>) -> Vec<ColumnValue> {
    match decode_row(data) {
        Ok(row) => row
            .into_iter()
            .enumerate()
            .map(|(i, value)| ColumnValue {
                name: info.display_name(i),
                value,
                dropped: info.is_dropped(i),
            })
            .collect(),
        Err(why) => {
            warnings.push(format!("a row of {} does not decode: {why}", info.name));
            Vec::new()
        }
    }
}

/// The first block a NOLOGGING record's text names ("blocks 40..=47 …").
fn first_block(text: &str) -> Option<BlockNo> {
    let rest = &text[text.find("blocks ")? + 7..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().map(BlockNo)
}

/// The table a DDL statement is about.
fn ddl_table(text: &str, dict: &Dictionary) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["create" | "drop" | "alter", "table", name, ..] => Some(name.to_string()),
        ["create", "index" | "unique", ..] => {
            let on = w.iter().position(|x| *x == "on")?;
            w.get(on + 1).map(|t| t.to_string())
        }
        ["drop" | "alter", "index", name, ..] => dict.index_tables.get(*name).cloned(),
        _ => None,
    }
}

/// Applies the window and the table filter, and writes `SQL_REDO`.
fn finish(
    out: Vec<(MinedRecord, Option<Arc<TableInfo>>)>,
    txns: &Txns,
    opts: &MineOptions,
) -> Vec<MinedRecord> {
    let (mut out, infos): (Vec<MinedRecord>, Vec<_>) = out.into_iter().unzip();
    let in_window =
        |s: Scn| opts.from_scn.is_none_or(|f| s >= f) && opts.to_scn.is_none_or(|t| s <= t);
    let committed = |x: Xid| matches!(txns.ends.get(&x), Some(&(MinedOp::Commit, s)) if opts.to_scn.is_none_or(|t| s <= t));
    let table = opts.table.as_ref().map(|t| t.to_ascii_lowercase());
    let mut keep: Vec<bool> = out
        .iter()
        .map(|r| {
            let ends = matches!(r.op, MinedOp::Commit | MinedOp::Rollback);
            in_window(r.scn)
                && (ends
                    || table
                        .as_ref()
                        .is_none_or(|t| r.table.as_deref() == Some(t.as_str())))
        })
        .collect();
    let mut with_sql: HashSet<Xid> = HashSet::new();
    let mut listed: HashSet<Xid> = HashSet::new();
    for ((r, k), info) in out.iter_mut().zip(&keep).zip(&infos) {
        if !k || matches!(r.op, MinedOp::Commit | MinedOp::Rollback) {
            continue;
        }
        listed.insert(r.xid);
        if !committed(r.xid) || r.rolled_back {
            continue;
        }
        r.sql_redo = match r.op {
            MinedOp::Ddl => r.text.clone(),
            // Not for a table whose columns are unknown (`OBJ#n`).
            op if op.is_dml() && !txns.ddl.contains(&r.xid) => info
                .as_ref()
                .filter(|t| !t.columns.is_empty())
                .and_then(|t| sql::redo(r, t)),
            _ => None,
        };
        if r.sql_redo.is_some() && r.op != MinedOp::Ddl {
            with_sql.insert(r.xid);
        }
    }
    for (r, k) in out.iter_mut().zip(keep.iter_mut()) {
        if matches!(r.op, MinedOp::Commit | MinedOp::Rollback) {
            *k = *k && listed.contains(&r.xid);
            if r.op == MinedOp::Commit && with_sql.contains(&r.xid) {
                r.sql_redo = Some("COMMIT".to_string());
            }
        }
    }
    out.into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}
