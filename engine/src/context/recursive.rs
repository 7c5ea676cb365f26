//! Recursive contexts: where the query of a function called from SQL runs.
//!
//! Oracle calls the SQL a PL/SQL function runs *recursive SQL*: it runs in
//! the calling session, at one level deeper than its caller, and is counted
//! in `recursive calls`. Here a [`Caller`] is taken from the session's
//! context when a statement binds a call of such a function, and each call
//! makes a fresh [`Context`] from it with [`Caller::context`]:
//!
//! * the same statistics (the recursive query's gets are the session's);
//! * the caller's transaction as its own: it reads with the caller's
//!   transaction id, so it sees the caller's uncommitted changes. A
//!   statement that begins the transaction binds before it has one, so
//!   its functions do not see that statement's own changes (Oracle forbids
//!   a function called from DML to read the table being changed:
//!   ORA-04091, "table is mutating");
//! * read consistency as Oracle's recursive SQL: under READ COMMITTED each
//!   execution reads as of its own start (a new SCN per call, so a long
//!   scan calling the function can see rows committed while it runs);
//!   under SERIALIZABLE as of the transaction's SCN, like every statement
//!   of that transaction;
//! * a depth one more than the caller's: past [`MAX_RECURSIVE_DEPTH`] the
//!   call fails with `Error::RecursionLimit` (ORA-00036) instead of
//!   overflowing the thread's stack.
//!
//! A recursive context never begins a transaction: a function's body is a
//! query (checked when it is registered), so it changes nothing.

use super::*;

/// How many levels of recursive SQL may nest (Oracle's limit, ORA-00036).
pub const MAX_RECURSIVE_DEPTH: u32 = 50;

/// What a recursive statement needs of the session that called it, taken
/// when the calling statement binds the function call.
#[derive(Clone)]
pub(crate) struct Caller {
    core: Arc<Kernel>,
    schema: Arc<Schema>,
    stats: SessionStats,
    user: String,
    xid: Option<Xid>,
    iso: Isolation,
    txn_snapshot: Option<Scn>,
    direct_tables: std::collections::BTreeSet<String>,
    depth: u32,
    hash_area_size: u64,
    sort_area_size: u64,
}

impl Context {
    /// This context as the caller of a function that runs SQL. Under
    /// SERIALIZABLE the transaction's snapshot is fixed now if it was not
    /// yet, so the function reads as of the same SCN as its caller.
    pub(crate) fn caller(&mut self) -> Caller {
        if self.iso == Isolation::Serializable && self.txn_snapshot.is_none() {
            self.txn_snapshot = Some(self.core.visible_scn());
        }
        Caller {
            core: self.core.clone(),
            schema: self.schema.clone(),
            stats: self.stats.clone(),
            user: self.user.clone(),
            xid: self.xid().or(self.outer_xid),
            iso: self.iso,
            txn_snapshot: self.txn_snapshot,
            direct_tables: self.direct_tables.clone(),
            depth: self.depth,
            hash_area_size: self.hash_area_size,
            sort_area_size: self.sort_area_size,
        }
    }
}

impl Caller {
    /// The statistics of the calling session.
    pub(crate) fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// A context one level below the caller, for one execution of a
    /// function's query; `Error::RecursionLimit` past
    /// [`MAX_RECURSIVE_DEPTH`] levels.
    pub(crate) fn context(&self) -> Result<Context> {
        if self.depth >= MAX_RECURSIVE_DEPTH {
            return Err(Error::RecursionLimit {
                levels: MAX_RECURSIVE_DEPTH,
            });
        }
        Ok(Context {
            core: self.core.clone(),
            schema: self.schema.clone(),
            stats: self.stats.clone(),
            user: self.user.clone(),
            txn: None,
            iso: self.iso,
            session_iso: self.iso,
            txn_snapshot: self.txn_snapshot,
            direct_tables: self.direct_tables.clone(),
            doomed: None,
            // Its row calls are not user calls: the client made none.
            in_sql_call: true,
            outer_xid: self.xid,
            depth: self.depth + 1,
            hash_area_size: self.hash_area_size,
            sort_area_size: self.sort_area_size,
            key_buffers: Default::default(),
        })
    }
}
