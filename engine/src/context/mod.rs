//! The session context below SQL: one transaction at a time, the typed
//! table API, and statement-level atomicity.
//!
//! [`Context`] is what a session is to every layer but SQL: it holds the
//! instance (`kernel::Kernel`), the dictionary (`catalog::Schema`), the
//! session's statistics and its transaction. The SQL layer (`crate::sql`)
//! runs statements on a `Context`; `crate::session::Session`, the public
//! entry, is a `Context` plus the SQL layer's shared state, and derefs to
//! its `Context`, so the typed API here is the session's typed API.
//! Files: `mod.rs` (transactions, statements, row calls), `by_key.rs` (a
//! row or a range of rows by primary key, straight through the key's
//! index: `lookup_pk`, `range_pk`), `ddl.rs` (tables, indexes, columns,
//! constraints, statistics), `set_ops.rs` (the set-oriented calls the SQL
//! layer makes).
//!
//! A `Context` is used by one thread at a time (`Send`, not shared). Every
//! call is a statement: it reads as of its own SCN (READ COMMITTED) or the
//! transaction's (SERIALIZABLE), and if it fails, its changes are rolled
//! back to the statement's start (statement-level rollback) while the
//! transaction stays open. A transaction begins at its first change. DDL
//! commits the open transaction first, then runs in a transaction of its
//! own, as in Oracle.
//!
//! A function whose body is a query runs that query in a *recursive*
//! context (`recursive.rs`): a `Context` made from its caller's, sharing
//! its statistics and reading as its transaction.

use std::sync::Arc;

use crate::access::Pred;
use crate::block::TxState;
use crate::btree::key::{encode_prefix, prefix_successor, Order};
use crate::catalog::{IndexDef, Schema, TableDef};
use crate::config::CommitMode;
use crate::constraint::{self, ConstraintDef, ConstraintSpec, Rules};
use crate::dml;
use crate::error::{Error, Result};
use crate::heap::{self, ReadPoint};
use crate::ids::{BlockNo, RowId, Scn, TableId, Uba, Xid};
use crate::kernel::{undo_header, Kernel, RecHead, CATALOG_SEG};
use crate::operators::{self, Access, QueryResult};
use crate::redo::record::RecKind;
use crate::stats::{SessionStats, Stat, StatsSnapshot};
use crate::txn::{Isolation, Snapshot, TxnCtx};
use crate::undo;
use crate::value::{decode_row, encode_row, Column, Row, Value};

mod by_key;
mod ddl;
mod recursive;
mod set_ops;
pub(crate) use set_ops::{Found, FoundChange};

pub(crate) use recursive::Caller;
pub use recursive::MAX_RECURSIVE_DEPTH;

/// A session's state below SQL: one transaction at a time, used from one
/// thread.
pub struct Context {
    core: Arc<Kernel>,
    schema: Arc<Schema>,
    stats: SessionStats,
    txn: Option<TxnCtx>,
    iso: Isolation,
    /// The session's own level, which `iso` returns to when a transaction
    /// whose level `SET TRANSACTION` chose ends.
    session_iso: Isolation,
    txn_snapshot: Option<Scn>,
    user: String,
    /// Tables this transaction loaded by direct path (ORA-12838 rule).
    direct_tables: std::collections::BTreeSet<String>,
    /// Set when a statement's rollback failed: see `Error::MustRollback`.
    doomed: Option<String>,
    /// Set while the SQL layer runs a call: it counts `user calls` itself
    /// (parse, execute and fetch calls), so the row calls it makes here on
    /// the session's behalf are not user calls.
    in_sql_call: bool,
    /// In a recursive context (`recursive.rs`): the calling session's
    /// transaction, whose changes the recursive query sees as its own.
    outer_xid: Option<Xid>,
    /// The recursive SQL level: 0 for a session, n + 1 for a statement
    /// run by a function called at level n.
    depth: u32,
    /// The work area of a hash join's build input, in bytes (Oracle's
    /// HASH_AREA_SIZE; `ALTER SESSION SET HASH_AREA_SIZE = n`): a build
    /// input larger than this spills to temporary blocks (`operators::join`).
    hash_area_size: u64,
    /// The work area of a sort, in bytes (Oracle's SORT_AREA_SIZE; `ALTER
    /// SESSION SET SORT_AREA_SIZE = n`): a sort whose rows outgrow it
    /// writes sorted runs to temporary blocks and merges them
    /// (`operators::tree`).
    sort_area_size: u64,
    /// The key and rowid buffers of `lookup_pk` and `range_pk`, kept
    /// between calls so that a call allocates only the rows it returns.
    key_buffers: by_key::KeyBuffers,
}

/// The default sort work area: 16 MiB (Oracle's SORT_AREA_SIZE defaults to
/// 64 KiB under manual work areas; with automatic PGA management a sort
/// gets a share of PGA_AGGREGATE_TARGET, megabytes; the sorts of this
/// kit's labs stay in memory, as they would there).
pub const DEFAULT_SORT_AREA_SIZE: u64 = 16 << 20;

/// The default hash join work area: 1 MiB (Oracle's own default for
/// HASH_AREA_SIZE is twice SORT_AREA_SIZE, 128 KiB; blocklab's tables are
/// small enough that a larger default keeps the usual joins in memory).
pub const DEFAULT_HASH_AREA_SIZE: u64 = 1 << 20;

impl Context {
    pub(crate) fn new(core: Arc<Kernel>, schema: Arc<Schema>) -> Context {
        Context {
            schema,
            stats: SessionStats::new(core.system.clone()),
            user: core.cfg.default_user.clone(),
            core,
            txn: None,
            iso: Isolation::ReadCommitted,
            session_iso: Isolation::ReadCommitted,
            txn_snapshot: None,
            doomed: None,
            direct_tables: Default::default(),
            in_sql_call: false,
            outer_xid: None,
            depth: 0,
            hash_area_size: DEFAULT_HASH_AREA_SIZE,
            sort_area_size: DEFAULT_SORT_AREA_SIZE,
            key_buffers: Default::default(),
        }
    }

    /// Sets the sort work area (`ALTER SESSION SET SORT_AREA_SIZE`).
    pub(crate) fn set_sort_area_size(&mut self, bytes: u64) {
        self.sort_area_size = bytes;
    }

    /// Sets the hash join work area (`ALTER SESSION SET HASH_AREA_SIZE`).
    pub(crate) fn set_hash_area_size(&mut self, bytes: u64) {
        self.hash_area_size = bytes;
    }

    pub(crate) fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    pub(crate) fn stats_handle(&self) -> &SessionStats {
        &self.stats
    }

    /// `Error::MustRollback` if a statement's rollback failed in this
    /// transaction: a query run as an operator tree checks it once, as a
    /// one-call read (`statement`) does.
    pub(crate) fn check_usable(&self) -> Result<()> {
        match &self.doomed {
            Some(why) => Err(Error::MustRollback(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the transaction as one whose statement rollback failed (for
    /// tests: the real cause is a fault while undoing).
    #[cfg(test)]
    pub(crate) fn doom_for_test(&mut self, why: &str) {
        self.doomed = Some(why.to_string());
    }

    /// Marks the start (`true`) or end of a SQL call: see `in_sql_call`.
    pub(crate) fn set_sql_call(&mut self, on: bool) {
        self.in_sql_call = on;
    }

    /// A flag that is true while this session waits for a lock (for
    /// drivers that run several sessions and must tell "blocked" from
    /// "busy").
    pub fn wait_probe(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.stats.waiting_flag()
    }

    /// The xid (`Xid.0`) of this session's transaction while it waits for
    /// a lock (valid while [`wait_probe`](Self::wait_probe) is set): what
    /// `Database::lock_wait_blocked` takes.
    pub fn waiter_probe(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.stats.waiter_cell()
    }

    /// Switches this session's statistics counting on (the default) or
    /// off, for the calls made from now on: off, no counter moves for this
    /// session's work, its own or the system's. For measuring what counting
    /// costs (the `vs_sqlite` bench's uncounted lookups); see `stats`.
    pub fn set_counting(&mut self, on: bool) {
        self.stats.set_counting(on);
    }

    /// The session's statistics so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// Sets the user name recorded in redo for this session's transactions.
    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
    }

    /// Sets the session's isolation level, for this and every later
    /// transaction (`ALTER SESSION SET ISOLATION_LEVEL`).
    pub fn set_isolation(&mut self, iso: Isolation) -> Result<()> {
        self.set_transaction_isolation(iso)?;
        self.session_iso = iso;
        Ok(())
    }

    /// Sets the isolation level of the next transaction only (`SET
    /// TRANSACTION ISOLATION LEVEL`); when it ends, the session's level
    /// applies again, as in Oracle.
    pub fn set_transaction_isolation(&mut self, iso: Isolation) -> Result<()> {
        if self.txn.is_some() || self.txn_snapshot.is_some() {
            return Err(Error::Config(
                "SET TRANSACTION must be the first statement of a transaction".into(),
            ));
        }
        self.iso = iso;
        Ok(())
    }

    /// `BEGIN` / `START TRANSACTION`: a transaction starts at its first
    /// change anyway (as in Oracle), so this only refuses to "begin" one
    /// that is already open, where a script that said BEGIN would expect
    /// a fresh transaction and get the open one's changes with it.
    pub fn begin_transaction(&mut self) -> Result<()> {
        if self.txn.is_some() || self.txn_snapshot.is_some() {
            return Err(Error::Config(
                "BEGIN inside an open transaction: COMMIT or ROLLBACK it first".into(),
            ));
        }
        Ok(())
    }

    pub fn isolation(&self) -> Isolation {
        self.iso
    }

    /// The transaction id, if a transaction has begun.
    pub fn xid(&self) -> Option<Xid> {
        self.txn.as_ref().map(|t| t.xid)
    }

    /// The SCN a statement started now would read as of.
    pub fn snapshot(&mut self) -> Snapshot {
        let scn = match self.iso {
            Isolation::ReadCommitted => self.core.visible_scn(),
            Isolation::Serializable => *self.txn_snapshot.get_or_insert(self.core.visible_scn()),
        };
        if let Some(t) = self.txn.as_mut() {
            t.read_scn = scn;
            t.serializable = self.iso == Isolation::Serializable;
        }
        Snapshot {
            scn,
            xid: self.xid().or(self.outer_xid).unwrap_or(Xid::NONE),
        }
    }

    fn table(&self, name: &str) -> Result<TableDef> {
        let def = self.schema.catalog.read().get(name).cloned()?;
        self.check_direct(&def)?;
        Ok(def)
    }

    /// Oracle's ORA-12838 rule: after a direct-path load, the loading
    /// session may neither read nor change the table until its transaction
    /// ends (the loaded blocks are not visible through the old HWM, and the
    /// new one is not published yet).
    fn check_direct(&self, def: &TableDef) -> Result<()> {
        if self.direct_tables.contains(&def.name) {
            return Err(Error::DirectPathPending {
                table: def.name.clone(),
            });
        }
        Ok(())
    }

    /// Takes `def`'s table lock for this transaction: RX for DML, X for a
    /// direct-path load.
    fn lock_table(&mut self, def: &TableDef, exclusive: bool) -> Result<()> {
        self.ensure_txn()?;
        let me = self.xid().unwrap_or(Xid::NONE);
        let core = self.core.clone();
        core.table_locks.lock(
            &core.waits,
            def.id.0,
            me,
            exclusive,
            core.cfg.lock_timeout,
            &self.stats,
        )
    }

    fn ensure_txn(&mut self) -> Result<()> {
        if self.txn.is_none() {
            self.txn = Some(crate::txn::begin(&self.core, &self.stats, &self.user)?);
        }
        Ok(())
    }

    /// Runs one statement: on error, rolls back what it changed.
    fn statement<T>(&mut self, f: impl FnOnce(&mut Context) -> Result<T>) -> Result<T> {
        if !self.in_sql_call {
            self.stats.inc(Stat::UserCalls);
        }
        if let Some(why) = &self.doomed {
            return Err(Error::MustRollback(why.clone()));
        }
        let savepoint = self.txn.as_ref().map(|t| t.last_uba).unwrap_or(Uba::NONE);
        match f(self) {
            Ok(v) => Ok(v),
            Err(e) => {
                if let Some(txn) = self.txn.as_mut() {
                    if let Err(r) = crate::txn::rollback_to(&self.core, &self.stats, txn, savepoint)
                    {
                        // Half a statement is in the transaction: it must
                        // never commit (statement atomicity).
                        self.doomed = Some(format!("{e}; then {r}"));
                    }
                }
                Err(e)
            }
        }
    }

    /// A table's definition and its indexes.
    fn target(&self, table: &str) -> Result<(TableDef, Vec<IndexDef>)> {
        let cat = self.schema.catalog.read();
        let def = cat.get(table)?.clone();
        self.check_direct(&def)?;
        let indexes = cat.indexes_of(&def.name);
        Ok((def, indexes))
    }

    /// What DML on `table` must maintain and enforce.
    fn rules(&self, table: &str) -> Result<std::sync::Arc<Rules>> {
        let rules = self.schema.catalog.rules(table)?;
        self.check_direct(&rules.def)?;
        Ok(rules)
    }

    /// The open transaction and what a DML statement needs with it.
    fn dml_parts(&mut self) -> Result<(Arc<Kernel>, ReadPoint, &mut TxnCtx, &SessionStats)> {
        self.ensure_txn()?;
        let snap = self.snapshot();
        let at = ReadPoint {
            snap,
            iso: self.iso,
        };
        let txn = self
            .txn
            .as_mut()
            .ok_or_else(|| Error::Internal("no transaction".into()))?;
        Ok((self.core.clone(), at, txn, &self.stats))
    }

    /// Inserts a row (and its index entries); returns its rowid.
    pub fn insert(&mut self, table: &str, row: Row) -> Result<RowId> {
        let rules = self.rules(table)?;
        let row = rules.def.check_row(row)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, _, txn, stats) = s.dml_parts()?;
            let r = dml::insert_row(&core, stats, txn, &rules, &row)?;
            stats.inc(Stat::RowsProcessed);
            Ok(r)
        })
    }

    /// Replaces the row at `rowid`; returns its rowid (new if it moved).
    pub fn update(&mut self, table: &str, rowid: RowId, row: Row) -> Result<RowId> {
        let rules = self.rules(table)?;
        let row = rules.def.check_row(row)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let r = dml::update_row(&core, stats, txn, at, &rules, rowid, |_| Ok(Some(row)))?;
            stats.inc(Stat::RowsProcessed);
            r.ok_or_else(|| Error::Internal("update declined".into()))
        })
    }

    /// Replaces the row at `rowid` with `f(current row)`, computed once the
    /// row is locked, so it always starts from the latest committed version
    /// (`UPDATE t SET x = x + 1 WHERE rowid = …`): read-modify-write without
    /// lost updates under READ COMMITTED. Returns the rowid (new if the row
    /// moved).
    pub fn update_with(
        &mut self,
        table: &str,
        rowid: RowId,
        f: impl FnOnce(&Row) -> Row,
    ) -> Result<RowId> {
        let rules = self.rules(table)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let r = dml::update_row(&core, stats, txn, at, &rules, rowid, |cur| Ok(Some(f(cur))))?;
            stats.inc(Stat::RowsProcessed);
            r.ok_or_else(|| Error::Internal("update declined".into()))
        })
    }

    /// Deletes the row at `rowid` (and its index entries).
    pub fn delete(&mut self, table: &str, rowid: RowId) -> Result<()> {
        let rules = self.rules(table)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            dml::delete_row(&core, stats, txn, at, &rules, rowid)?;
            stats.inc(Stat::RowsProcessed);
            Ok(())
        })
    }

    /// The row at `rowid` as this session sees it now.
    pub fn get(&mut self, table: &str, rowid: RowId) -> Result<Option<Row>> {
        self.table(table)?;
        self.statement(|s| {
            let snap = s.snapshot();
            match heap::fetch(&s.core, &s.stats, snap, rowid)? {
                Some(b) => Ok(Some(decode_row(&b).map_err(|r| {
                    Error::corrupt(s.core.file.name(), rowid.block.0 as u64, r)
                })?)),
                None => Ok(None),
            }
        })
    }

    /// Every row of the table as this session sees it now (full scan).
    pub fn scan(&mut self, table: &str) -> Result<Vec<(RowId, Row)>> {
        let snap = self.snapshot();
        self.scan_at(table, snap)
    }

    /// Every row of the table as of an older SCN (flashback query through
    /// undo; fails with `SnapshotTooOld` when the undo is gone).
    pub fn scan_as_of(&mut self, table: &str, scn: Scn) -> Result<Vec<(RowId, Row)>> {
        let snap = Snapshot {
            scn,
            xid: Xid::NONE,
        };
        self.scan_at(table, snap)
    }

    fn scan_at(&mut self, table: &str, snap: Snapshot) -> Result<Vec<(RowId, Row)>> {
        let def = self.table(table)?;
        self.statement(|s| {
            let out = heap::scan_rows(&s.core, &s.stats, snap, def.seg, |_| true)?;
            s.stats.add(Stat::RowsProcessed, out.len() as u64);
            Ok(out)
        })
    }

    /// Updates every row matching `pred` with `f` (one statement), with the
    /// write consistency of a searched UPDATE in SQL: rows are found in
    /// consistent mode as of the statement's SCN and changed in current
    /// mode once locked; a row that another transaction changed or removed
    /// in between restarts the statement on a new snapshot under READ
    /// COMMITTED (Oracle's rule, counted in `write consistency restarts`)
    /// and is ORA-08177 under SERIALIZABLE. `pred` is opaque, so unlike
    /// SQL's WHERE clause every column counts as one it reads: any change
    /// to a found row restarts the statement.
    pub fn update_where(
        &mut self,
        table: &str,
        pred: impl Fn(&Row) -> bool,
        f: impl Fn(&Row) -> Row,
    ) -> Result<usize> {
        self.change_where(table, &pred, &|core, stats, txn, at, rules, rowid, seen| {
            let r = dml::update_row(core, stats, txn, at, rules, rowid, |cur| {
                Ok((set_ops::same_on(None, seen, cur) && pred(cur)).then(|| f(cur)))
            })?;
            Ok(r.is_some())
        })
    }

    /// Deletes every row matching `pred` (one statement), with the same
    /// write consistency as [`Self::update_where`].
    pub fn delete_where(&mut self, table: &str, pred: impl Fn(&Row) -> bool) -> Result<usize> {
        self.change_where(table, &pred, &|core, stats, txn, at, rules, rowid, seen| {
            dml::delete_row_if(core, stats, txn, at, rules, rowid, |cur| {
                Ok(set_ops::same_on(None, seen, cur) && pred(cur))
            })
        })
    }

    /// Applies `change` to every row of `table` matching `pred`, found by a
    /// full scan, in one restartable statement (see `set_ops::restartable`).
    fn change_where(
        &mut self,
        table: &str,
        pred: &dyn Fn(&Row) -> bool,
        change: &set_ops::RowChange<'_>,
    ) -> Result<usize> {
        let rules = self.rules(table)?;
        let find = |core: &Kernel, stats: &SessionStats, snap: Snapshot| {
            heap::scan_rows(core, stats, snap, rules.def.seg, pred)
        };
        self.restartable(&rules, &find, change).map(|n| n as usize)
    }

    /// Direct-path insert (`INSERT /*+ APPEND */`, the book, chapter 9): takes
    /// the table's exclusive lock (other sessions' DML waits until this
    /// transaction ends; their queries go on and see the old rows), formats
    /// whole blocks above the HWM and writes them straight to the data file
    /// with no undo for the rows, logging their images if the table is
    /// LOGGING (else only a marker: NOLOGGING, see `set_table_logging`). The new HWM is published by the
    /// commit; a rollback leaves the HWM where it was and the blocks as
    /// allocated garbage. Indexes are maintained at the end of the
    /// statement. Until the transaction ends, this session may not touch
    /// the table again (`Error::DirectPathPending`). A table with a foreign
    /// key is loaded conventionally instead (`blocks` is then 0), as Oracle
    /// does.
    pub fn insert_append(&mut self, table: &str, rows: Vec<Row>) -> Result<heap::DirectLoad> {
        let rules = self.rules(table)?;
        // Each row is placed in the load's blocks while it is checked, when
        // it is in cache anyway.
        let mut plan = heap::BlockPlan::new(self.core.file.block_size(), self.core.cfg.initrans);
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|r| {
                let r = rules.def.check_row(r)?;
                plan.add(&r);
                Ok(r)
            })
            .collect::<Result<_>>()?;
        let has_fk = rules
            .own
            .iter()
            .any(|c| matches!(c.kind, constraint::ConstraintKind::ForeignKey { .. }));
        let r = self.statement(|s| {
            if has_fk {
                s.stats.inc(Stat::DirectPathFallbacks);
                s.lock_table(&rules.def, false)?;
                let (core, _, txn, stats) = s.dml_parts()?;
                for row in &rows {
                    dml::insert_row(&core, stats, txn, &rules, row)?;
                }
                return Ok(heap::DirectLoad {
                    rows: rows.len() as u64,
                    ..Default::default()
                });
            }
            s.lock_table(&rules.def, true)?;
            let (core, _, txn, stats) = s.dml_parts()?;
            for row in &rows {
                constraint::check_row(&rules, row)?;
            }
            let (load, placed) = heap::direct_insert(
                &core,
                stats,
                txn,
                rules.def.seg,
                rules.def.logging,
                &rows,
                plan,
            )?;
            if !rules.indexes.is_empty() {
                // Rowids only for index maintenance: one per row is not free.
                let rowids = placed.rowids();
                dml::add_loaded_entries(&core, stats, txn, &rules, &rows, &rowids)?;
            }
            stats.add(Stat::RowsProcessed, load.rows);
            Ok(load)
        })?;
        if r.blocks > 0 {
            self.direct_tables.insert(rules.def.name.clone());
        }
        Ok(r)
    }

    /// Runs `where_clause` on `table` through `access` (a full scan or an
    /// index range scan with matching and screening predicates, see
    /// `operators`), as this session sees the table now.
    pub fn query(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
    ) -> Result<QueryResult> {
        self.query_at(table, where_clause, access, None, None)
    }

    /// Gathers optimizer statistics for `table` and its indexes (ANALYZE,
    /// `DBMS_STATS.GATHER_TABLE_STATS`) as of one snapshot, in one statement
    /// that reads only; see `analyze`. The statistics are returned;
    /// `store_stats` stores them (SQL's `ANALYZE TABLE` does both).
    pub fn analyze(&mut self, table: &str) -> Result<crate::analyze::TableStats> {
        let (def, indexes) = self.target(table)?;
        self.statement(|s| {
            let snap = s.snapshot();
            crate::analyze::gather(&s.core, &s.stats, snap, &def, &indexes)
        })
    }

    /// Every block of index `index` as of one snapshot, as indented text or
    /// a Graphviz graph (`btree::dump`). Reads only, like `analyze`.
    pub fn dump_index(
        &mut self,
        index: &str,
        format: crate::btree::dump::DumpFormat,
    ) -> Result<String> {
        let ix = self.schema.catalog.read().index(index)?.clone();
        let def = self.table(&ix.table)?;
        self.statement(|s| {
            let snap = s.snapshot();
            crate::btree::dump::dump(
                &s.core,
                &s.stats,
                snap,
                &ix.name,
                ix.tree.root,
                &ix.key_columns(&def),
                format,
            )
        })
    }

    /// Rows whose index key lies between `lower` and `upper` (each a prefix
    /// of the index columns' values; `Bound` as in `std::ops`), in index
    /// order, as this session sees them now: one descent, a walk along the
    /// leaves, and a table fetch per entry — where consecutive rowids fall
    /// in the same table block, the block stays pinned and no new get is made
    /// (`buffer is pinned count`).
    pub fn index_scan(
        &mut self,
        index: &str,
        lower: std::ops::Bound<&[Value]>,
        upper: std::ops::Bound<&[Value]>,
    ) -> Result<Vec<(RowId, Row)>> {
        use std::ops::Bound::*;
        let ix = self.schema.catalog.read().index(index)?.clone();
        if !ix.usable {
            return Err(Error::Config(format!(
                "index {} is unusable: rebuild it first",
                ix.name
            )));
        }
        let (def, _) = self.target(&ix.table)?;
        let keycols = ix.key_columns(&def);
        let prefix = |v: &[Value]| {
            let mut k = Vec::new();
            encode_prefix(&keycols, v, &mut k);
            k
        };
        let start = match lower {
            Included(v) => prefix(v),
            Excluded(v) => prefix_successor(&prefix(v)).unwrap_or_else(|| vec![0xFF; 1]),
            Unbounded => Vec::new(),
        };
        let stop = match upper {
            Included(v) => prefix_successor(&prefix(v)),
            Excluded(v) => Some(prefix(v)),
            Unbounded => None,
        };
        self.statement(|s| {
            let snap = s.snapshot();
            let core = s.core.clone();
            let stats = &s.stats;
            let mut rowids = Vec::new();
            crate::btree::tree::scan(&core, stats, ix.tree, snap, &start, stop.as_deref(), |e| {
                rowids.push(RowId::from_u64(e.val));
                Ok(true)
            })?;
            let mut out = Vec::with_capacity(rowids.len());
            operators::RowidFetcher::default().fetch_all(
                &core,
                stats,
                snap,
                &rowids,
                false,
                |rowid, row| {
                    out.push((rowid, row));
                    Ok(())
                },
            )?;
            stats.add(Stat::RowsProcessed, out.len() as u64);
            Ok(out)
        })
    }

    /// Commits: the commit record is logged and synced (group commit);
    /// data blocks are written later (or now, with `commit_mode = force`).
    pub fn commit(&mut self) -> Result<()> {
        self.direct_tables.clear();
        if let Some(why) = self.doomed.clone() {
            self.rollback()?;
            return Err(Error::MustRollback(why));
        }
        self.txn_snapshot = None;
        self.iso = self.session_iso;
        let Some(txn) = self.txn.take() else {
            // A commit with nothing to commit is still a commit call.
            self.stats.inc(Stat::UserCommits);
            return Ok(());
        };
        let core = self.core.clone();
        let s = &self.stats;
        if txn.direct_writes {
            // Direct-path blocks reach the disk before the commit that
            // publishes them (a NOLOGGING load has nothing else to recover from).
            core.sync_data()?;
        }
        let (scn, end) = crate::txn::commit(&core, s, &txn)?;
        // The commit is durable once its record is: wait for the log
        // writer (group commit). Only then stamp the commit SCN into the
        // blocks, so no block can reach the disk claiming a commit that a
        // crash could still undo.
        if core.log.flush(end)? {
            s.inc(Stat::RedoSynchWrites);
        }
        crate::txn::itl::commit_cleanout(&core, s, &txn, scn);
        if core.cfg.commit_mode == CommitMode::Force {
            let blocks: Vec<BlockNo> = txn.blocks.iter().copied().collect();
            core.cache.write_blocks(&blocks)?;
            core.sync_data()?;
        }
        s.inc(Stat::UserCommits);
        Ok(())
    }

    /// Rolls the transaction back with undo.
    pub fn rollback(&mut self) -> Result<()> {
        self.direct_tables.clear();
        self.txn_snapshot = None;
        self.iso = self.session_iso;
        let Some(mut txn) = self.txn.take() else {
            self.doomed = None;
            self.stats.inc(Stat::UserRollbacks);
            return Ok(());
        };
        let r = crate::txn::rollback_to(&self.core, &self.stats, &mut txn, Uba::NONE)
            .and_then(|()| crate::txn::end_rollback(&self.core, &self.stats, &txn));
        if let Err(e) = r {
            // Keep the transaction (and its locks) so the rollback can be
            // retried; recovery rolls it back if the database goes down.
            self.txn = Some(txn);
            return Err(e);
        }
        self.doomed = None;
        self.stats.inc(Stat::UserRollbacks);
        Ok(())
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // An open transaction dies with its session, as on a disconnect.
        if self.txn.is_some() {
            let _ = self.rollback();
        }
    }
}

/// A session runs operator trees: their leaves read through its instance,
/// every operator counts in its statistics, a hash join's work area is its
/// `HASH_AREA_SIZE`.
impl operators::Env for Context {
    fn kernel(&self) -> &Kernel {
        &self.core
    }

    fn stats(&self) -> &SessionStats {
        &self.stats
    }

    fn work_area(&self) -> u64 {
        self.hash_area_size
    }

    fn sort_area(&self) -> u64 {
        self.sort_area_size
    }
}
