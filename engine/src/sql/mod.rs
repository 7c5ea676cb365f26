//! The SQL front door: text in, rows, plans and counters out.
//!
//! A statement goes through a pipeline, one file a step:
//!
//! ```text
//!  text ─▶ lexer ─▶ parser ─▶ AST ──(statement cache: hard / soft parse)──┐
//!         lexer.rs  parse.rs  ast.rs                                      │
//!                   parse/                                                ▼
//!  SqlResult ◀── operators / EXPLAIN ◀── optimizer ◀── binder ◀── dispatch
//!                select.rs               optimizer.rs  bind.rs    execute.rs
//!                aggregate.rs                          eval.rs
//!                explain.rs
//! ```
//!
//! * `lexer` splits the text into tokens with their line and column, and
//!   reads the optimizer hints (`/*+ … */`) from comments.
//! * `parse` (with `parse/expr.rs` for expressions and `parse/schema.rs`
//!   for CREATE / DROP / ALTER) is a hand-written recursive-descent parser
//!   that builds our own small AST (`ast`), `AS OF SCN n` included.
//! * `limits` holds the size limits a statement must respect, each named in
//!   its error: an expression may nest at most [`MAX_EXPR_DEPTH`] (250)
//!   levels deep (parentheses, NOT, unary minus, function calls, operators
//!   and subqueries nest; a long run of `AND`, `OR`, `+` or `||` is one
//!   level), so that no statement text can overflow a thread's stack; a
//!   `generate_series` produces at most [`MAX_SERIES_ROWS`] (10,000,000)
//!   rows, unless a LIMIT stops it sooner.
//! * `execute` dispatches a parsed statement: SELECT to `select`, DML and
//!   EXPLAIN there, DDL to `ddl_statements` (each a `Context` DDL call).
//! * `bind` is the binder: names to column positions, binds to values,
//!   functions looked up (`func` holds the built-ins), aggregates set
//!   aside; `eval` evaluates bound expressions and turns a WHERE clause
//!   into the access layer's predicates.
//! * `optimizer` costs a full scan and every usable index with the formula
//!   of the book's chapter 7 (*Cost, clustering, sorts and functions*),
//!   honours hints, and says whether the access path delivers the ORDER BY.
//! * `select` runs a query as its operators — source (the chosen access
//!   path), `aggregate`, project, DISTINCT, sort, OFFSET/LIMIT — and lays
//!   out its plan; `compound` runs a compound SELECT (UNION, UNION ALL,
//!   INTERSECT, EXCEPT/MINUS) arm by arm through `select` and removes
//!   duplicates with a counted SORT UNIQUE; `explain` holds the plan types and renders them as
//!   Oracle-style lines with predicate information and as DB2 `plan_table`
//!   rows.
//!
//! Every block visit goes through the `Context` API (`crate::context`),
//! so it is counted by the same counters as the typed API.
//!
//! A statement's text is the key of a database-wide statement cache
//! (`cursor`): the first parse of a text is a hard parse (`parse count
//! (hard)`: parsed, then optimized at its first execution), a later one is
//! soft (the cursor and its plan are found, nothing is optimized) until DDL
//! or ANALYZE on a table the plan uses invalidates it. Bind variables (`?`,
//! `:name`) let one text serve many values. The session keeps the cursors
//! it parses often in its own cursor cache (`crate::session`), and a
//! [`Prepared`] statement holds its cursor, so executing it is no parse call.
//!
//! A function registered with a query as its body (`recursive`) runs that
//! query in the calling session at each call: recursive SQL, counted in
//! `recursive calls`.
//!
//! Invariant: every number a `SqlResult` carries comes from the engine's
//! counters or the catalog; nothing is estimated after the fact.

pub mod ast;
mod bind;
mod compound;
mod cursor;
mod ddl_statements;
mod eval;
pub(crate) mod execute;
pub mod explain;
mod func;
mod join;
mod lexer;
mod limits;
mod one_sql;
mod optimizer;
mod parse;
mod recursive;
mod select;
mod subquery;
mod view;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::Result;
use crate::stats::{Stat, StatsSnapshot};
use crate::value::{Row, Value};

pub use crate::context::MAX_RECURSIVE_DEPTH;
pub(crate) use cursor::Cursor;
pub use explain::{Explain, PlanLine, PlanTableRow};
pub use limits::{MAX_EXPR_DEPTH, MAX_SERIES_ROWS};

/// What one statement returned.
#[derive(Clone, Debug, Default)]
pub struct SqlResult {
    /// Column names of a query (empty for other statements).
    pub columns: Vec<String>,
    /// The rows of a query, in order.
    pub rows: Vec<Row>,
    /// Rows inserted, updated or deleted by DML (`None` for other statements).
    pub affected: Option<u64>,
    /// The plan, for `EXPLAIN`.
    pub explain: Option<Explain>,
    /// A short acknowledgement for statements without rows
    /// ("Table created.", "Commit complete.").
    pub message: Option<String>,
    /// The counters this statement changed in its session (what AUTOTRACE
    /// prints), exact.
    pub stats: StatsSnapshot,
}

/// The value of a query that may find at most one row, as a scalar
/// subquery or a function's `SELECT … INTO` returns it: NULL for no row,
/// the first column of the one row; `None` for more than one row (the
/// caller names the error: ORA-01427 or ORA-01422).
pub(crate) fn single_value(mut rows: Vec<Row>) -> Option<Value> {
    match rows.len() {
        0 => Some(Value::Null),
        1 => Some(
            rows.swap_remove(0)
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
        ),
        _ => None,
    }
}

/// A parsed statement that can be executed many times with different bind
/// values: no parse call at all, only executions (it holds its cursor, as
/// a client holds an open cursor).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(crate) cursor: Arc<Cursor>,
    /// Number of bind placeholders, in order of appearance.
    pub params: usize,
}

/// A user-defined SQL function registered from Rust.
pub type UserFn = dyn Fn(&[Value]) -> Result<Value> + Send + Sync;

pub(crate) use recursive::register as register_query_function;

/// A registered function: Rust code, or a query run as recursive SQL
/// (`recursive`).
#[derive(Clone)]
pub(crate) enum Function {
    Rust(Arc<UserFn>),
    Query(Arc<recursive::QueryFn>),
}

/// State shared by every session of a database: the statement cache and
/// the registered functions.
#[derive(Default)]
pub struct Shared {
    /// This state itself, for what outlives a statement but must not keep
    /// the database alive (a correlated subquery's evaluator).
    me: std::sync::Weak<Shared>,
    cache: Mutex<HashMap<String, Arc<Cursor>>>,
    functions: parking_lot::RwLock<HashMap<String, Function>>,
}

impl Shared {
    /// A new shared state that knows its own `Arc`.
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            ..Shared::default()
        })
    }

    pub(crate) fn register(&self, name: &str, f: Arc<UserFn>) {
        self.functions
            .write()
            .insert(name.to_ascii_lowercase(), Function::Rust(f));
    }

    fn register_query(&self, name: &str, f: Arc<recursive::QueryFn>) {
        self.functions
            .write()
            .insert(name.to_ascii_lowercase(), Function::Query(f));
    }

    /// The function registered as `name` (a clone: the map's lock is
    /// released before the function runs, so its query may look up others).
    pub(crate) fn function(&self, name: &str) -> Option<Function> {
        self.functions
            .read()
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// The statement-cache half of a parse call (the caller counts the
    /// call itself): the cached cursor of `sql` when its plan is still
    /// valid (a soft parse); otherwise a hard parse (`parse count (hard)`)
    /// — the text is parsed into a new cursor, or the invalidated plan is
    /// dropped so that the next execution optimizes again.
    pub(crate) fn lookup(
        &self,
        sql: &str,
        schema: &crate::catalog::Schema,
        stats: &crate::stats::SessionStats,
    ) -> Result<Arc<Cursor>> {
        let found = self.cache.lock().get(sql).cloned();
        if let Some(c) = found {
            revalidate(&c, schema, stats);
            return Ok(c);
        }
        stats.inc(Stat::ParseCountHard);
        let c = Arc::new(Cursor::new(parse::parse(sql)?));
        let mut cache = self.cache.lock();
        // A bounded cache: when full, start over (the shared pool "flush").
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(sql.to_string(), c.clone());
        Ok(c)
    }
}

/// A parse call that found `cursor` (in the session's cursor cache or the
/// statement cache) is hard when its plan was invalidated.
pub(crate) fn revalidate(
    cursor: &Cursor,
    schema: &crate::catalog::Schema,
    stats: &crate::stats::SessionStats,
) {
    if matches!(cursor.plan(schema), cursor::PlanState::Invalidated) {
        stats.inc(Stat::ParseCountHard);
    }
}
