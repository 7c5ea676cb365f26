//! The set-oriented calls the SQL layer makes: many rows in one statement,
//! searched UPDATE/DELETE through a chosen access path, queries as of an
//! SCN, and column DDL.
//!
//! A searched UPDATE or DELETE finds its rows in consistent mode as of the
//! statement's SCN, through the access path the optimizer chose (so an
//! index range scan costs what EXPLAIN says), then changes each row in
//! current mode after locking it, re-checking the WHERE clause on the
//! version it locked (if a concurrent transaction changed the row in
//! between, the row is judged by its committed current contents — the
//! PostgreSQL rule; Oracle would restart the statement). Collecting the
//! rowids before changing anything also gives Halloween protection: a row
//! the statement moves is never visited twice.

use super::*;
use crate::access::eval;

impl Session {
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Runs `where_clause` on `table` through `access`, as this session
    /// sees the table now or, with `as_of`, as of that SCN (flashback query
    /// through undo; `SnapshotTooOld` when the undo is gone).
    pub fn query_at(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
        as_of: Option<Scn>,
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
            let r = exec::run(
                &s.core,
                &s.stats,
                snap,
                &def,
                index.as_ref(),
                where_clause,
                &access,
            )?;
            s.stats.add(Stat::RowsProcessed, r.rows.len() as u64);
            Ok(r)
        })
    }

    /// The index an access path names, checked to be usable and on `def`.
    pub(super) fn usable_index(&self, def: &TableDef, access: &Access) -> Result<Option<IndexDef>> {
        let (Access::Index { name, .. } | Access::IndexOnly { name }) = access else {
            return Ok(None);
        };
        let ix = self.core.catalog.read().index(name)?.clone();
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
        let rules = self.rules(table)?;
        let rows = rows
            .into_iter()
            .map(|r| rules.def.check_row(r))
            .collect::<Result<Vec<_>>>()?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, _, txn, stats) = s.dml_parts()?;
            for row in &rows {
                dml::insert_row(&core, stats, txn, &rules, row)?;
            }
            stats.add(Stat::RowsProcessed, rows.len() as u64);
            Ok(rows.len() as u64)
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
        let rules = self.rules(table)?;
        let index = self.usable_index(&rules.def, &access)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let found = exec::run(
                &core,
                stats,
                at.snap,
                &rules.def,
                index.as_ref(),
                where_clause,
                &access,
            )?;
            let mut n = 0;
            for (rowid, _) in found.rows {
                let r = dml::update_row(&core, stats, txn, at, &rules, rowid, |cur| {
                    if eval(where_clause, cur) != Some(true) {
                        return Ok(None);
                    }
                    Ok(Some(rules.def.check_row(f(cur)?)?))
                });
                match r {
                    Ok(Some(_)) => n += 1,
                    Ok(None) | Err(Error::NoSuchRow(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            stats.add(Stat::RowsProcessed, n);
            Ok(n)
        })
    }

    /// Searched DELETE: rows matching `where_clause`, found through
    /// `access` (see the module docs).
    pub fn delete_query(
        &mut self,
        table: &str,
        where_clause: &Pred,
        access: Access,
    ) -> Result<u64> {
        let rules = self.rules(table)?;
        let index = self.usable_index(&rules.def, &access)?;
        self.statement(|s| {
            s.lock_table(&rules.def, false)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let found = exec::run(
                &core,
                stats,
                at.snap,
                &rules.def,
                index.as_ref(),
                where_clause,
                &access,
            )?;
            let mut n = 0;
            for (rowid, _) in found.rows {
                let r = dml::delete_row_if(&core, stats, txn, at, &rules, rowid, |cur| {
                    Ok(eval(where_clause, cur) == Some(true))
                });
                match r {
                    Ok(true) => n += 1,
                    Ok(false) | Err(Error::NoSuchRow(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            stats.add(Stat::RowsProcessed, n);
            Ok(n)
        })
    }
}
