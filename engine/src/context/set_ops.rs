//! The set-oriented calls the SQL layer makes: many rows in one statement,
//! searched UPDATE/DELETE through a chosen access path, queries as of an
//! SCN, and column DDL.
//!
//! A searched UPDATE or DELETE finds its rows in consistent mode as of the
//! statement's SCN, through the access path the optimizer chose (so an
//! index range scan costs what EXPLAIN says), then changes each row in
//! current mode after locking it. Oracle's rule decides what the locked
//! version may differ in (Kyte, *Expert Oracle Database Architecture*,
//! "Write Consistency"): the columns the WHERE clause reads are compared
//! between the version the search found (consistent read) and the version
//! locked (current); if any of them differs — even when the row would still
//! match — or the row was removed or moved, the statement is restarted on a
//! new snapshot under READ COMMITTED (`write consistency restarts`) and
//! fails with ORA-08177 under SERIALIZABLE. A change to other columns does
//! not restart it: the UPDATE applies to the current version, so it never
//! overwrites a committed change it did not see. (PostgreSQL instead
//! re-evaluates the WHERE clause on the new version and never restarts.)
//! The typed `update_where` / `delete_where` take an opaque Rust
//! predicate, so for them every column counts as read. Collecting the rowids before changing anything also
//! gives Halloween protection: a row the statement moves is never visited
//! twice.
//!
//! Nothing that may run SQL is evaluated under the row's latch: the
//! current-mode recheck does not evaluate an opaque WHERE term again (its
//! columns are compared instead), and new values that call a function
//! whose body is a query are computed from the version found before the
//! row is latched (`update_query_unlatched`), a change since to a column
//! they read restarting the statement.

use std::cell::RefCell;
use std::collections::HashMap;

use super::*;
use crate::access::eval;

impl Context {
    pub(crate) fn core(&self) -> &Arc<Kernel> {
        &self.core
    }

    /// Runs `where_clause` on `table` through `access`, as this session
    /// sees the table now or, with `as_of`, as of that SCN (flashback query
    /// through undo; `SnapshotTooOld` when the undo is gone). With `limit`,
    /// the access stops once that many rows qualified (`operators::run_limited`).
    pub fn query_at(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        as_of: Option<Scn>,
        limit: Option<usize>,
    ) -> Result<QueryResult> {
        let r = self.access_rows(table, where_clause, access, as_of, limit, None)?;
        // Every row the call returns goes to the caller (AUTOTRACE's
        // `rows processed`).
        self.stats.add(Stat::RowsProcessed, r.rows.len() as u64);
        Ok(r)
    }

    /// [`Self::query_at`] without counting `rows processed`: for the SQL
    /// layer, whose statement returns what it makes of these rows (one row
    /// for a `COUNT(*)`), and counts those.
    pub(crate) fn access_rows(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        as_of: Option<Scn>,
        limit: Option<usize>,
        fetch: Option<operators::FetchCalls>,
    ) -> Result<QueryResult> {
        let (def, _) = self.target(table)?;
        let index = self.usable_index(&def, &access)?;
        self.statement(|s| {
            let snap = match as_of {
                Some(scn) => Snapshot {
                    scn,
                    xid: Xid::NONE,
                },
                None => s.snapshot(),
            };
            operators::run_limited(
                &s.core,
                &s.stats,
                snap,
                &def,
                index.as_ref(),
                where_clause,
                &access,
                limit,
                fetch,
            )
        })
    }
    /// The table `table` and the index `access` names, checked as a query
    /// reading them needs (the table readable by a query, the index usable
    /// and on that table): what an operator tree's leaf reads through.
    pub(crate) fn read_defs(
        &self,
        table: &str,
        access: &Access,
    ) -> Result<(TableDef, Option<IndexDef>)> {
        let (def, _) = self.target(table)?;
        let index = self.usable_index(&def, access)?;
        Ok((def, index))
    }

    /// The index an access path names, checked to be usable and on `def`.
    pub(super) fn usable_index(&self, def: &TableDef, access: &Access) -> Result<Option<IndexDef>> {
        let (Access::Index { name, .. }
        | Access::IndexBatched { name, .. }
        | Access::IndexOnly { name }) = access
        else {
            return Ok(None);
        };
        let ix = self.schema.catalog.read().index(name)?.clone();
        if !ix.usable {
            return Err(Error::Config(format!(
                "index {} is unusable: rebuild it first",
                ix.name
            )));
        }
        if ix.table != def.name {
            return Err(Error::Config(format!(
                "index {} is not on table {}",
                ix.name, def.name
            )));
        }
        Ok(Some(ix))
    }

    /// Inserts many rows as one statement (one user call; all or none).
    pub fn insert_rows(&mut self, table: &str, rows: Vec<Row>) -> Result<u64> {
        self.insert_array(table, rows).map(|r| r.len() as u64)
    }

    /// Array insert: many rows as one statement (one user call; all or
    /// none), the table rows going in a block at a time (one redo record
    /// and one undo record per block, see `heap::insert_many`). Returns
    /// the rows' rowids, in order.
    pub fn insert_array(&mut self, table: &str, rows: Vec<Row>) -> Result<Vec<RowId>> {
        let rules = self.rules(table)?;
        let rows = rows
            .into_iter()
            .map(|r| rules.def.check_row(r))
            .collect::<Result<Vec<_>>>()?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, _, txn, stats) = s.dml_parts()?;
            let rowids = dml::insert_rows(&core, stats, txn, &rules, &rows)?;
            stats.add(Stat::RowsProcessed, rows.len() as u64);
            Ok(rowids)
        })
    }

    /// Searched UPDATE: rows matching `where_clause`, found through
    /// `access`, become `f(current row)` (see the module docs).
    pub fn update_query(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        f: &dyn Fn(&Row) -> Result<Row>,
    ) -> Result<u64> {
        self.update_searched(table, where_clause, access, f, None)
    }

    /// [`Self::update_query`] for new values that must not be computed
    /// under the row's block latch (they call a function that runs SQL):
    /// `f` runs on the version the search found, before the row is
    /// latched, and `reads` (the columns `f` reads) join the columns the
    /// write-consistency check compares, so a row whose `reads` changed
    /// since restarts the statement rather than take values computed from
    /// an old version.
    pub(crate) fn update_query_unlatched(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        f: &dyn Fn(&Row) -> Result<Row>,
        reads: &[usize],
    ) -> Result<u64> {
        self.update_searched(table, where_clause, access, f, Some(reads))
    }

    fn update_searched(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        f: &dyn Fn(&Row) -> Result<Row>,
        early: Option<&[usize]>,
    ) -> Result<u64> {
        let mut watched = where_clause.columns();
        if let Some(reads) = early {
            watched.extend_from_slice(reads);
            watched.sort_unstable();
            watched.dedup();
        }
        self.searched(
            table,
            where_clause,
            access,
            &|core, stats, txn, at, rules, rowid, seen| {
                let computed = match early {
                    Some(_) => Some(f(seen)?),
                    None => None,
                };
                let r = dml::update_row(core, stats, txn, at, rules, rowid, |cur| {
                    if !same_on(Some(&watched), seen, cur) || !still_matches(where_clause, cur) {
                        return Ok(None);
                    }
                    let new = match computed {
                        Some(row) => row,
                        None => f(cur)?,
                    };
                    Ok(Some(rules.def.check_row(new)?))
                })?;
                Ok(r.is_some())
            },
        )
    }

    /// Searched DELETE: rows matching `where_clause`, found through
    /// `access` (see the module docs).
    pub fn delete_query(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
    ) -> Result<u64> {
        let watched = where_clause.columns();
        self.searched(
            table,
            where_clause,
            access,
            &|core, stats, txn, at, rules, rowid, seen| {
                dml::delete_row_if(core, stats, txn, at, rules, rowid, |cur| {
                    Ok(same_on(Some(&watched), seen, cur) && still_matches(where_clause, cur))
                })
            },
        )
    }

    /// The statement behind a searched UPDATE or DELETE: find the rows as
    /// of the statement's snapshot, then `change` each one in current mode
    /// (it returns false when a column the WHERE clause reads differs from
    /// the version found, or the locked row no longer matches).
    ///
    /// When a row found in the snapshot has since been changed by another
    /// transaction in a column the WHERE clause reads, or is gone (deleted, or
    /// moved to a new rowid by an update that did not fit): under READ
    /// COMMITTED the statement is restarted, as Oracle does — its changes
    /// are rolled back to the statement's start and it runs again on a new
    /// snapshot (the rows it already locked stay locked by this transaction
    /// only through the changes it redoes); under SERIALIZABLE a vanished
    /// row is ORA-08177 (a row changed after the snapshot already is, in
    /// `heap::lock_row`).
    fn searched(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        change: &RowChange<'_>,
    ) -> Result<u64> {
        let rules = self.rules(table)?;
        let index = self.usable_index(&rules.def, &access)?;
        let find = |core: &Kernel, stats: &SessionStats, snap: Snapshot| {
            let found = operators::run(
                core,
                stats,
                snap,
                &rules.def,
                index.as_ref(),
                where_clause,
                &access,
            )?;
            Ok(found.rows)
        };
        self.restartable(&rules, &find, change)
    }

    /// The write-consistency loop of [`Self::searched`], for any way of
    /// finding the rows: `find` lists them as of a snapshot, `change`
    /// changes one in current mode given the version found (false when the
    /// locked version differs from it where it must not, or no longer
    /// matches, which restarts the statement under READ COMMITTED).
    pub(super) fn restartable(
        &mut self,
        rules: &Rules,
        find: &RowFinder<'_>,
        change: &RowChange<'_>,
    ) -> Result<u64> {
        /// Restarts before the statement gives up (each one means another
        /// transaction committed a conflicting change in between).
        const MAX_RESTARTS: u32 = 100;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let mut restarts = 0;
            'attempt: loop {
                let (core, at, txn, stats) = s.dml_parts()?;
                let savepoint = txn.last_uba;
                let found = find(&core, stats, at.snap)?;
                let mut n = 0;
                for (rowid, seen) in found {
                    let moved_on = match change(&core, stats, txn, at, rules, rowid, &seen) {
                        Ok(true) => {
                            n += 1;
                            false
                        }
                        Ok(false) => true,
                        Err(Error::NoSuchRow(_)) if at.iso == Isolation::Serializable => {
                            return Err(Error::CannotSerialize {
                                rowid: rowid.to_string(),
                            })
                        }
                        Err(Error::NoSuchRow(_)) => true,
                        Err(e) => return Err(e),
                    };
                    if moved_on && at.iso == Isolation::ReadCommitted {
                        restarts += 1;
                        if restarts > MAX_RESTARTS {
                            return Err(Error::Sql(format!(
                                "statement restarted {MAX_RESTARTS} times: rows keep changing under it"
                            )));
                        }
                        stats.inc(Stat::StatementRestarts);
                        crate::txn::rollback_to(&core, stats, txn, savepoint)?;
                        continue 'attempt;
                    }
                }
                stats.add(Stat::RowsProcessed, n);
                return Ok(n);
            }
        })
    }
}

/// What a statement that finds its rows with a query does to one of them.
#[derive(Clone, Debug)]
pub(crate) enum FoundChange {
    /// Set these column positions to these values (computed from the
    /// query's row, applied to the locked current version).
    Update(Vec<(usize, Value)>),
    Delete,
}

/// A row a query found for a statement to change.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) rowid: RowId,
    /// The version the query saw (the write-consistency comparison).
    pub(crate) seen: Row,
    pub(crate) change: FoundChange,
}

/// The query behind [`Context::change_found`]: the rows to change, and
/// the rows to insert.
pub(crate) type FoundFinder<'a> = dyn Fn() -> Result<(Vec<Found>, Vec<Row>)> + 'a;

impl Context {
    /// A DML statement whose rows a query finds: an UPDATE or DELETE
    /// through a join view, a MERGE (`sql::one_sql`). `find` runs the
    /// query (a join, on a fresh statement snapshot each time it is
    /// called) and says what to do to each row of `table` it found, and
    /// which rows to insert. Each found row is then changed in current
    /// mode after its lock, by the same write-consistency loop as a
    /// searched UPDATE ([`Self::restartable`]): a row whose `watched`
    /// columns differ from the version found restarts the statement, and
    /// the query runs again. The inserts come last, in the same statement
    /// (one undo/redo stream; all or nothing). Returns the rows changed,
    /// deleted and inserted.
    pub(crate) fn change_found(
        &mut self,
        table: &str,
        watched: &[usize],
        find: &FoundFinder<'_>,
    ) -> Result<u64> {
        let rules = self.rules(table)?;
        let pending: RefCell<HashMap<RowId, FoundChange>> = RefCell::new(HashMap::new());
        let inserts: RefCell<Vec<Row>> = RefCell::new(Vec::new());
        let finder = |_: &Kernel, _: &SessionStats, _: Snapshot| {
            let (found, ins) = find()?;
            let mut p = pending.borrow_mut();
            p.clear();
            let mut out = Vec::with_capacity(found.len());
            for f in found {
                p.insert(f.rowid, f.change);
                out.push((f.rowid, f.seen));
            }
            *inserts.borrow_mut() = ins;
            Ok(out)
        };
        let change = |core: &Kernel,
                      stats: &SessionStats,
                      txn: &mut TxnCtx,
                      at: ReadPoint,
                      rules: &Rules,
                      rowid: RowId,
                      seen: &Row|
         -> Result<bool> {
            let what = pending.borrow().get(&rowid).cloned();
            match what {
                Some(FoundChange::Update(sets)) => {
                    let r = dml::update_row(core, stats, txn, at, rules, rowid, |cur| {
                        if !same_on(Some(watched), seen, cur) {
                            return Ok(None);
                        }
                        let mut new = cur.clone();
                        for (c, v) in &sets {
                            if let Some(slot) = new.get_mut(*c) {
                                *slot = v.clone();
                            }
                        }
                        Ok(Some(rules.def.check_row(new)?))
                    })?;
                    Ok(r.is_some())
                }
                Some(FoundChange::Delete) => {
                    dml::delete_row_if(core, stats, txn, at, rules, rowid, |cur| {
                        Ok(same_on(Some(watched), seen, cur))
                    })
                }
                None => Err(Error::Internal("a found row without its change".into())),
            }
        };
        self.statement(|s| {
            let n = s.restartable(&rules, &finder, &change)?;
            let rows = inserts.take();
            if rows.is_empty() {
                return Ok(n);
            }
            let rows = rows
                .into_iter()
                .map(|r| rules.def.check_row(r))
                .collect::<Result<Vec<_>>>()?;
            let (core, _, txn, stats) = s.dml_parts()?;
            dml::insert_rows(&core, stats, txn, &rules, &rows)?;
            stats.add(Stat::RowsProcessed, rows.len() as u64);
            Ok(n + rows.len() as u64)
        })
    }
}

/// Lists the rows a searched statement changes, as of a snapshot: each
/// rowid with the version found there.
pub(super) type RowFinder<'a> =
    dyn Fn(&Kernel, &SessionStats, Snapshot) -> Result<Vec<(RowId, Row)>> + 'a;

/// One row change of a searched statement, given the version the search
/// found: true if the row was changed.
pub(super) type RowChange<'a> = dyn Fn(&Kernel, &SessionStats, &mut TxnCtx, ReadPoint, &Rules, RowId, &Row) -> Result<bool>
    + 'a;

/// Whether the version a search found (`seen`) and the version locked
/// (`cur`) agree on `cols` (every column when `None`): the write-consistency
/// test. An index-only search fills only index columns, and its WHERE
/// clause reads index columns only, so `cols` never names a column it left
/// out.
/// Whether the current version `cur` of a row the search found, whose
/// columns read by `where_clause` are those of the version found, still
/// matches. A clause with an opaque term is not evaluated again: `cur` is
/// latched in current mode here, and an opaque term may call a function
/// that runs a query (recursive SQL, which must not run under a latch);
/// its columns being unchanged, it gives the answer it gave at the search.
fn still_matches(where_clause: &Pred, cur: &Row) -> bool {
    where_clause.contains_opaque() || eval(where_clause, cur) == Some(true)
}

pub(super) fn same_on(cols: Option<&[usize]>, seen: &Row, cur: &Row) -> bool {
    match cols {
        Some(cols) => cols.iter().all(|&c| seen.get(c) == cur.get(c)),
        None => seen == cur,
    }
}

impl Context {
    /// `FLASHBACK TABLE t TO SCN n`: puts the table's rows back as they were
    /// at `scn`, read through undo (so it fails with `SnapshotTooOld` once
    /// the undo is gone). Like DDL, it commits the open transaction first
    /// and commits itself. Rows are compared by rowid: a row changed since
    /// is updated back, a row inserted since is deleted, a row deleted since
    /// is inserted again (with a new rowid, as Oracle's row movement does).
    /// Refused when the table's definition changed after `scn` (ORA-01466's
    /// rule): undo cannot rewind DDL — that takes recovery to an SCN.
    /// Returns (rows inserted, updated, deleted).
    pub fn flashback_table(&mut self, table: &str, scn: Scn) -> Result<(u64, u64, u64)> {
        self.commit()?;
        let rules = self.rules(table)?;
        let then = Snapshot {
            scn,
            xid: Xid::NONE,
        };
        let r = self.statement(|s| {
            s.lock_table(&rules.def, true)?;
            let core = s.core.clone();
            let stats = &s.stats;
            // The table's catalog row as of `scn` must be today's.
            let def_then = heap::scan_rows(&core, stats, then, CATALOG_SEG, |_| true)?
                .into_iter()
                .find(|(rid, _)| *rid == rules.def.catalog_rowid)
                .map(|(rid, row)| crate::catalog::TableDef::from_row(&row, rid));
            match def_then {
                Some(Ok(d)) if d.columns == rules.def.columns => {}
                _ => {
                    return Err(Error::Sql(format!(
                        "ORA-01466: the definition of {} changed after SCN {}: flashback cannot cross DDL (recover to the SCN instead)",
                        rules.def.name, scn.0
                    )))
                }
            }
            let old: std::collections::HashMap<RowId, Row> =
                heap::scan_rows(&core, stats, then, rules.def.seg, |_| true)?
                    .into_iter()
                    .collect();
            let (core, at, txn, stats) = s.dml_parts()?;
            let now = heap::scan_rows(&core, stats, at.snap, rules.def.seg, |_| true)?;
            let (mut ins, mut upd, mut del) = (0, 0, 0);
            let mut kept = std::collections::HashSet::new();
            for (rowid, row) in now {
                match old.get(&rowid) {
                    Some(was) if *was == row => {
                        kept.insert(rowid);
                    }
                    Some(was) => {
                        let was = was.clone();
                        dml::update_row(&core, stats, txn, at, &rules, rowid, |_| Ok(Some(was)))?;
                        kept.insert(rowid);
                        upd += 1;
                    }
                    None => {
                        dml::delete_row(&core, stats, txn, at, &rules, rowid)?;
                        del += 1;
                    }
                }
            }
            let mut missing: Vec<(&RowId, &Row)> =
                old.iter().filter(|(r, _)| !kept.contains(*r)).collect();
            missing.sort_by_key(|(r, _)| (r.block.0, r.slot));
            for (_, row) in missing {
                dml::insert_row(&core, stats, txn, &rules, row)?;
                ins += 1;
            }
            stats.add(Stat::RowsProcessed, ins + upd + del);
            Ok((ins, upd, del))
        });
        match r {
            Ok(counts) => {
                self.commit()?;
                Ok(counts)
            }
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }
}
