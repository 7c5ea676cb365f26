//! `Session`: the one public entry to a database, for SQL and for the
//! typed Rust API alike.
//!
//! A session is a [`Context`] (its transaction, statistics and the typed
//! table API, in `crate::context`) plus the SQL layer's shared state (the
//! statement cache and the registered functions) and the session's own
//! cursor cache. It derefs to its `Context`, so `session.insert(..)`,
//! `session.commit()` and the rest of the typed API are called on it
//! directly; the SQL calls are here. Every SQL call reports the statistics
//! it moved in its result (`SqlResult::stats`).
//!
//! Parse calls and executions, as Oracle counts them:
//!
//! | call | `parse count (total)` | `parse count (hard)` | `session cursor cache hits` | `execute count` |
//! |---|---|---|---|---|
//! | `execute` of a new text (or one whose plan was invalidated) | 1 | 1 | | 1 |
//! | `execute` of a cached text: soft parse | 1 | | | 1 |
//! | `execute` of a text this session parsed 3 times already | 1 | | 1 | 1 |
//! | `prepare` | 1 | as above | as above | |
//! | `execute_prepared`, `execute_array` | | 1 if the plan was invalidated | | 1 |
//!
//! `user calls` counts the calls a client makes, as Oracle does: each parse
//! call, each execution, and each fetch call of a query (a query's rows
//! come back [`fetch_size`](Session::fetch_size) rows a call; see
//! `sql::execute`). The row calls a SQL statement makes below are not user
//! calls; a call of the typed API (`insert`, `query`, …) is one.
//!
//! A function whose body is a query (`Database::register_query_function`)
//! runs it inside the calling statement: each run is a `recursive calls`
//! and an `execute count`, never a user call (`sql::recursive`).
//!
//! The session cursor cache is Oracle's `session_cached_cursors`: a text
//! parsed [`CURSOR_CACHE_AFTER`] times in this session is kept here with
//! its cursor (at most [`SESSION_CACHED_CURSORS`] of them, the least
//! recently used going first), and a later parse call of it is served
//! without looking in the shared statement cache. Whether that parse is
//! hard still depends on the cursor's plan being valid.
//!
//! Data flow: SQL text → cursor cache / `sql::Shared::lookup` → `sql::execute`
//! on the `Context` → operators → access methods. Nothing below this module
//! names it.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::context::Context;
use crate::error::Result;
use crate::sql::{execute, revalidate, Cursor, Prepared, Shared, SqlResult};
use crate::stats::Stat;
use crate::value::Value;

/// How many parse calls of one text put its cursor in the session cursor
/// cache (Oracle caches a cursor after its third parse call; the fourth is
/// the first hit).
pub const CURSOR_CACHE_AFTER: u32 = 3;

/// How many cursors a session caches (Oracle's `session_cached_cursors`
/// default).
pub const SESSION_CACHED_CURSORS: usize = 50;

/// Rows per fetch call until `set_fetch_size` says otherwise: SQL*Plus'
/// default ARRAYSIZE.
pub const DEFAULT_FETCH_SIZE: usize = 15;

/// A connection: one transaction at a time, used from one thread.
pub struct Session {
    cx: Context,
    sql: Arc<Shared>,
    cursors: CursorCache,
    /// Rows per fetch call of a query (ARRAYSIZE).
    fetch_size: usize,
}

impl Deref for Session {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.cx
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Context {
        &mut self.cx
    }
}

impl Session {
    pub(crate) fn new(cx: Context, sql: Arc<Shared>) -> Session {
        Session {
            cx,
            sql,
            cursors: CursorCache::default(),
            fetch_size: DEFAULT_FETCH_SIZE,
        }
    }

    /// Sets how many rows each fetch call of a query returns (SQL*Plus'
    /// `SET ARRAYSIZE`, JDBC's `setFetchSize`); at least 1.
    pub fn set_fetch_size(&mut self, rows: usize) {
        self.fetch_size = rows.max(1);
    }

    /// Rows per fetch call of a query.
    pub fn fetch_size(&self) -> usize {
        self.fetch_size
    }

    /// Parses (one parse call) and runs one SQL statement.
    pub fn execute(&mut self, sql: &str) -> Result<SqlResult> {
        self.execute_with(sql, &[])
    }

    /// Like `execute`, with values for the statement's bind placeholders
    /// (`?` and `:name`, numbered in order of appearance).
    pub fn execute_with(&mut self, sql: &str, binds: &[Value]) -> Result<SqlResult> {
        self.measured(|me| {
            let cursor = me.parse_call(sql)?;
            execute::execute(&mut me.cx, &me.sql, &cursor, binds, me.fetch_size)
        })
    }

    /// One parse call (a hard or soft parse, or a session cursor cache
    /// hit); the statement can then be executed any number of times with
    /// no parse call at all.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        self.cx.set_sql_call(true);
        let cursor = self.parse_call(sql);
        self.cx.set_sql_call(false);
        let cursor = cursor?;
        Ok(Prepared {
            params: cursor.stmt.params,
            cursor,
        })
    }

    /// Runs a prepared statement with one set of bind values: an execution,
    /// no parse call.
    pub fn execute_prepared(&mut self, p: &Prepared, binds: &[Value]) -> Result<SqlResult> {
        self.measured(|me| execute::execute(&mut me.cx, &me.sql, &p.cursor, binds, me.fetch_size))
    }

    /// Array execution: runs a prepared DML statement once per set of bind
    /// values, as one call (one `user calls`, one `execute count`) — the
    /// array interface of claim C11. `affected` is the total.
    pub fn execute_array(&mut self, p: &Prepared, rows: &[Vec<Value>]) -> Result<SqlResult> {
        self.measured(|me| execute::execute_array(&mut me.cx, &me.sql, &p.cursor, rows))
    }

    /// A parse call: the session cursor cache first, then the statement
    /// cache (see the module doc for what each counts).
    fn parse_call(&mut self, sql: &str) -> Result<Arc<Cursor>> {
        let stats = self.cx.stats_handle();
        stats.inc(Stat::ParseCountTotal);
        stats.inc(Stat::UserCalls);
        if let Some(c) = self.cursors.hit(sql) {
            stats.inc(Stat::SessionCursorCacheHits);
            revalidate(&c, self.cx.schema(), stats);
            return Ok(c);
        }
        let c = self.sql.lookup(sql, self.cx.schema(), stats)?;
        self.cursors.parsed(sql, &c);
        Ok(c)
    }

    /// Runs one SQL call and puts the statistics it moved into its result.
    fn measured(
        &mut self,
        call: impl FnOnce(&mut Session) -> Result<SqlResult>,
    ) -> Result<SqlResult> {
        let before = self.cx.stats();
        self.cx.set_sql_call(true);
        let r = call(self);
        self.cx.set_sql_call(false);
        let mut r = r?;
        r.stats = self.cx.stats().diff(&before);
        Ok(r)
    }
}

/// The session cursor cache: parse calls per text, and the cursors of the
/// texts parsed often enough, by last use.
#[derive(Default)]
struct CursorCache {
    /// Parse calls per text not (yet) cached. Bounded like the statement
    /// cache: when it grows past its limit it starts over.
    parses: HashMap<String, u32>,
    /// Cached cursors with the tick of their last use.
    cached: HashMap<String, (Arc<Cursor>, u64)>,
    tick: u64,
}

impl CursorCache {
    /// The cached cursor of `sql`, if any (marked used).
    fn hit(&mut self, sql: &str) -> Option<Arc<Cursor>> {
        self.tick += 1;
        let tick = self.tick;
        self.cached.get_mut(sql).map(|(c, used)| {
            *used = tick;
            c.clone()
        })
    }

    /// Notes a parse call of `sql` that the cache did not serve; the
    /// [`CURSOR_CACHE_AFTER`]th one caches its cursor, evicting the least
    /// recently used one when the cache is full.
    fn parsed(&mut self, sql: &str, cursor: &Arc<Cursor>) {
        if self.parses.len() >= 4096 && !self.parses.contains_key(sql) {
            self.parses.clear();
        }
        let n = self.parses.entry(sql.to_string()).or_insert(0);
        *n += 1;
        if *n < CURSOR_CACHE_AFTER {
            return;
        }
        self.parses.remove(sql);
        if self.cached.len() >= SESSION_CACHED_CURSORS {
            if let Some(oldest) = self
                .cached
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                self.cached.remove(&oldest);
            }
        }
        self.cached
            .insert(sql.to_string(), (cursor.clone(), self.tick));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::storage::SimBackend;
    use crate::{Config, Database};

    /// A transaction whose statement rollback failed refuses every query
    /// until it is rolled back, whether the query reads in one call or
    /// streams through an operator tree (a full scan, a join).
    #[test]
    fn a_doomed_transaction_refuses_queries_until_rolled_back() {
        let db = Database::open_with(Arc::new(SimBackend::new()), Config::default()).unwrap();
        let mut s = db.session();
        s.execute("CREATE TABLE t (a INTEGER)").unwrap();
        s.execute("INSERT INTO t VALUES (1)").unwrap();
        s.doom_for_test("a failed undo");
        for sql in [
            "SELECT a FROM t",
            "SELECT x.a FROM t x, t y WHERE x.a = y.a",
        ] {
            let e = s.execute(sql).unwrap_err();
            assert_eq!(e.code(), "BLK-00006", "{sql}: {e}");
        }
        s.execute("ROLLBACK").unwrap();
        assert!(s.execute("SELECT a FROM t").unwrap().rows.is_empty());
    }
}
