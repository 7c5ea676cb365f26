//! Functions whose body is a query: recursive SQL.
//!
//! `Database::register_query_function("dept_name", "SELECT dname FROM dept
//! WHERE deptno = ?")` makes `dept_name(x)` callable from any statement of
//! any session. A call runs the query in the calling session (see
//! `context::recursive` for its transaction, read consistency and depth
//! limit), the call's arguments binding its `?` in order, and returns as a
//! PL/SQL function doing `SELECT … INTO` returns:
//!
//! | the query finds | the call returns |
//! |---|---|
//! | no row | NULL (Oracle: NO_DATA_FOUND, raised in a function called from SQL, reads as NULL) |
//! | one row | its first column |
//! | more rows | `Error::TooManyRows` (ORA-01422) |
//!
//! Counting, as Oracle counts recursive SQL:
//!
//! | statistic | per call | why |
//! |---|---|---|
//! | `user function calls` | 1 | every call of a registered function (`sql::eval`) |
//! | `recursive calls` | 1 | the query's execution with the fetch of its row, one recursive call as a PL/SQL `SELECT … INTO` is |
//! | `execute count` | 1 | Oracle's execute count includes recursive executions |
//! | `parse count (total)`, `(hard)` | 1, at the first call only | the function opens its cursor once and holds it, as PL/SQL keeps its cursors; a later call is an execution only (a hard parse again only if DDL or ANALYZE invalidated the plan) |
//! | `consistent gets` … | the query's | the recursive query's gets are the session's |
//! | `user calls`, `fetch calls`, `rows processed` | 0 | the client made no call and received no row |
//!
//! The cursor is opened at the function's first call in any session and
//! held by the function: a later first call in another session does not
//! parse (a simplification: Oracle keeps one cursor per session, so each
//! session parses it once).
//!
//! Invariant: a function's query never runs while its caller holds a block
//! latch (the operators release a block before filtering its rows, and a
//! searched UPDATE or DELETE computes such values before latching the row:
//! see `operators` and `context::set_ops`), nor the lock of the statement
//! cache or of the functions map (both are released before it runs).

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::ast::Stmt;
use super::{execute, parse, Cursor, Shared};
use crate::context::Caller;
use crate::error::{Error, Result};
use crate::stats::Stat;
use crate::value::Value;

/// A function whose body is one query.
pub(crate) struct QueryFn {
    /// The name it is called by (lower case).
    pub(crate) name: String,
    sql: String,
    /// Bind placeholders of the query: the arguments a call must pass.
    pub(crate) params: usize,
    /// The database's SQL state, for the statement cache and the functions
    /// the query itself calls (weak: that state holds this function).
    shared: Weak<Shared>,
    /// The cursor, once the first call has opened it.
    cursor: Mutex<Option<Arc<Cursor>>>,
}

impl QueryFn {
    /// Checks that `sql` is one query (parsed here for the check only:
    /// the parse that counts is the first call's) and makes the function.
    pub(crate) fn new(name: &str, sql: &str, shared: Weak<Shared>) -> Result<QueryFn> {
        let stmt = parse::parse(sql)?;
        if !matches!(stmt.stmt, Stmt::Select(_)) {
            return Err(Error::Sql(format!(
                "the body of function {name} must be a query (SELECT)"
            )));
        }
        Ok(QueryFn {
            name: name.to_ascii_lowercase(),
            sql: sql.to_string(),
            params: stmt.params,
            shared,
            cursor: Mutex::new(None),
        })
    }

    /// One call: runs the query one level below `caller` with `args` as
    /// its binds (see the module doc for what it returns and counts).
    pub(crate) fn call(&self, caller: &Caller, args: &[Value]) -> Result<Value> {
        if args.len() != self.params {
            return Err(arity(&self.name, self.params, args.len()));
        }
        let mut cx = caller.context()?;
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Error::Internal("the database is closed".into()))?;
        let cursor = self.open(&shared, &cx)?;
        let rows = execute::recursive(&mut cx, &shared, &cursor, args)?;
        super::single_value(rows).ok_or_else(|| Error::TooManyRows {
            function: self.name.clone(),
        })
    }

    /// The held cursor; at the first call, a parse call that opens it (the
    /// function's lock is released before the query runs, so a query that
    /// calls this function again finds the cursor).
    fn open(&self, shared: &Shared, cx: &crate::context::Context) -> Result<Arc<Cursor>> {
        let mut held = self.cursor.lock();
        if let Some(c) = held.as_ref() {
            return Ok(c.clone());
        }
        let stats = cx.stats_handle();
        stats.inc(Stat::ParseCountTotal);
        let c = shared.lookup(&self.sql, cx.schema(), stats)?;
        *held = Some(c.clone());
        Ok(c)
    }
}

/// The error of a call with the wrong number of arguments.
pub(crate) fn arity(name: &str, params: usize, given: usize) -> Error {
    Error::Sql(format!(
        "function {name} takes {params} argument(s) but {given} were given"
    ))
}

/// Registers `name` as a function whose body is the query `sql` (a new
/// registration replaces an earlier one of either kind).
pub(crate) fn register(shared: &Arc<Shared>, name: &str, sql: &str) -> Result<()> {
    let f = QueryFn::new(name, sql, Arc::downgrade(shared))?;
    shared.register_query(name, Arc::new(f));
    Ok(())
}
