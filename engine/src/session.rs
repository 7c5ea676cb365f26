//! `Session`: the one public entry to a database, for SQL and for the
//! typed Rust API alike.
//!
//! A session is a [`Context`] (its transaction, statistics and the typed
//! table API, in `crate::context`) plus the SQL layer's shared state (the
//! statement cache and the registered functions). It derefs to its
//! `Context`, so `session.insert(..)`, `session.commit()` and the rest of
//! the typed API are called on it directly; the SQL calls are here:
//! `execute` parses through the statement cache (a soft parse on a hit)
//! and runs the statement; `prepare` parses once for `execute_prepared`
//! and `execute_array`. Every SQL call reports the statistics it moved in
//! its result (`SqlResult::stats`).
//!
//! Data flow: SQL text → `sql::Shared::parse_cached` → `sql::execute` on
//! the `Context` → operators → access methods. Nothing below this module
//! names it.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::context::Context;
use crate::error::Result;
use crate::sql::{execute, Prepared, Shared, SqlResult};
use crate::value::Value;

/// A connection: one transaction at a time, used from one thread.
pub struct Session {
    cx: Context,
    sql: Arc<Shared>,
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
        Session { cx, sql }
    }

    /// Parses (through the statement cache) and runs one SQL statement.
    pub fn execute(&mut self, sql: &str) -> Result<SqlResult> {
        self.execute_with(sql, &[])
    }

    /// Like `execute`, with values for the statement's bind placeholders
    /// (`?` and `:name`, numbered in order of appearance).
    pub fn execute_with(&mut self, sql: &str, binds: &[Value]) -> Result<SqlResult> {
        self.measured(|cx, shared| {
            let stmt = shared.parse_cached(sql, cx.stats_handle())?;
            execute::execute(cx, shared, &stmt, binds)
        })
    }

    /// Parses a statement once (a hard or soft parse) for repeated execution.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        let stmt = self.sql.parse_cached(sql, self.cx.stats_handle())?;
        Ok(Prepared {
            params: stmt.params,
            stmt,
        })
    }

    /// Runs a prepared statement with one set of bind values.
    pub fn execute_prepared(&mut self, p: &Prepared, binds: &[Value]) -> Result<SqlResult> {
        self.measured(|cx, shared| execute::execute(cx, shared, &p.stmt, binds))
    }

    /// Array execution: runs a prepared DML statement once per set of bind
    /// values, as one call (one `user calls`, one `execute count`) — the
    /// array interface of claim C11. `affected` is the total.
    pub fn execute_array(&mut self, p: &Prepared, rows: &[Vec<Value>]) -> Result<SqlResult> {
        self.measured(|cx, shared| execute::execute_array(cx, shared, &p.stmt, rows))
    }

    /// Runs one SQL call and puts the statistics it moved into its result.
    fn measured(
        &mut self,
        call: impl FnOnce(&mut Context, &Shared) -> Result<SqlResult>,
    ) -> Result<SqlResult> {
        let before = self.cx.stats();
        let mut r = call(&mut self.cx, &self.sql)?;
        r.stats = self.cx.stats().diff(&before);
        Ok(r)
    }
}
