//! Named, exact counters per session and per system (what AUTOTRACE prints).
//!
//! Every counter has the familiar Oracle spelling (`consistent gets`,
//! `db block gets`, `redo size`, ...). A session increments its own
//! [`SessionStats`], which forwards each increment to the system-wide
//! [`Counters`]; a [`StatsSnapshot`] is a plain copy that can be diffed, so a
//! lab or test measures one statement as `after.diff(&before)`.
//!
//! Invariant: counters count work, never time. The same single-session
//! workload from the same starting state gives the same numbers on every run
//! and machine; that is what tests assert. Times live in `Timer`s, which
//! benches and labs read but tests never compare.
//!
//! What a count costs: an increment is two relaxed atomic adds, one to the
//! session's counters and one to the system's (shared by every session, so
//! its cache line moves between cores when sessions run at once). A point
//! lookup makes about a dozen. To measure that cost, a session can switch
//! counting off ([`SessionStats::set_counting`], `Session::set_counting`):
//! each increment then stops at one test of a plain `bool` in the
//! session's own struct, no atomic and no shared line touched. Counting is
//! on by default and everywhere that reads counters (tests, labs,
//! AUTOTRACE); with it off the counters simply do not move, so a switched
//! off session's numbers are not numbers at all.
//!
//! This module only counts; it never decides anything.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

macro_rules! stats {
    ($($variant:ident => $name:literal,)*) => {
        /// One statistic. `Stat::ALL` lists them in display order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Stat { $($variant,)* }

        impl Stat {
            /// Every statistic, in display order.
            pub const ALL: &'static [Stat] = &[$(Stat::$variant,)*];

            /// The statistic's name as AUTOTRACE and the labs print it.
            pub fn name(self) -> &'static str {
                match self { $(Stat::$variant => $name,)* }
            }
        }
    };
}

stats! {
    UserCalls => "user calls",
    ConsistentGets => "consistent gets",
    DbBlockGets => "db block gets",
    PhysicalReads => "physical reads",
    PhysicalWrites => "physical writes",
    PhysicalWritesFromCache => "physical writes from cache",
    PhysicalWritesDirect => "physical writes direct",
    DoublewriteBlocks => "doublewrite blocks written",
    DoublewriteWrites => "doublewrite writes",
    DbBlockChanges => "db block changes",
    RedoEntries => "redo entries",
    RedoSize => "redo size",
    RedoWrites => "redo writes",
    RedoSynchWrites => "redo synch writes",
    LogSyncs => "log syncs",
    UndoChangeBytes => "undo change vector size",
    UndoRecordsWritten => "undo records written",
    UndoBlocksAllocated => "undo blocks allocated",
    UndoExtends => "undo segment extends",
    UndoUnexpiredStolen => "undo unexpired blocks stolen",
    UndoSpaceErrors => "undo space errors",
    CrBlocksCreated => "CR blocks created",
    UndoRecordsAppliedCr => "data blocks consistent reads - undo records applied",
    TxTableLookups => "transaction table lookups",
    CommitCleanouts => "commit cleanouts",
    CommitCleanoutsCompleted => "commit cleanouts successfully completed",
    CleanoutsOnlyCrGets => "cleanouts only - consistent read gets",
    CrCleanouts => "immediate (CR) block cleanout applications",
    UserCommits => "user commits",
    UserRollbacks => "user rollbacks",
    RollbackUndoApplied => "rollback changes - undo records applied",
    SnapshotTooOld => "snapshot too old errors",
    LockWaits => "enqueue waits",
    LockTimeouts => "enqueue timeouts",
    Deadlocks => "enqueue deadlocks",
    SerializeFailures => "serializable conflicts",
    TableScanBlocks => "table scan blocks gotten",
    TableScanRows => "table scan rows gotten",
    TableFetchByRowid => "table fetch by rowid",
    TableBlockGetsByRowid => "table blocks visited by rowid",
    IndexRootGets => "index root block gets",
    IndexBranchGets => "index branch block gets",
    IndexLeafGets => "index leaf block gets",
    IndexDescents => "index descents",
    IndexEntriesExamined => "index entries examined",
    IndexEntriesScreenedOut => "index entries screened out",
    IndexKeysInserted => "index keys inserted",
    IndexKeysDeleted => "index keys deleted",
    LeafNodeSplits => "leaf node splits",
    BranchNodeSplits => "branch node splits",
    BufferIsPinned => "buffer is pinned count",
    RowMigrations => "rows moved by update",
    DirectBlocksFormatted => "direct-path blocks formatted",
    DirectPathFallbacks => "direct-path loads done conventionally",
    Checkpoints => "checkpoints",
    RowsProcessed => "rows processed",
    ParseCountTotal => "parse count (total)",
    ParseCountHard => "parse count (hard)",
    ExecuteCount => "execute count",
    RecursiveCalls => "recursive calls",
    SessionCursorCacheHits => "session cursor cache hits",
    FetchCalls => "fetch calls",
    SortsMemory => "sorts (memory)",
    SortsDisk => "sorts (disk)",
    SortsRows => "sorts (rows)",
    HashJoinBuildRows => "hash join build rows",
    HashJoinBuildBytes => "hash join build bytes",
    WorkareaOptimal => "workarea executions - optimal",
    WorkareaOnepass => "workarea executions - onepass",
    TempWrites => "physical writes direct temporary tablespace",
    TempReads => "physical reads direct temporary tablespace",
    UserFunctionCalls => "user function calls",
    StatementRestarts => "write consistency restarts",
}

const N: usize = Stat::ALL.len();

/// A set of counters that many threads may add to.
pub struct Counters {
    vals: [AtomicU64; N],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            vals: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Counters {
    pub fn add(&self, stat: Stat, n: u64) {
        self.vals[stat as usize].fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self, stat: Stat) -> u64 {
        self.vals[stat as usize].load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            vals: std::array::from_fn(|i| self.vals[i].load(Ordering::Relaxed)),
        }
    }
}

/// A session's counters; every increment also goes to the system's.
#[derive(Clone)]
pub struct SessionStats {
    own: Arc<Counters>,
    system: Arc<Counters>,
    /// True while the session sleeps in a lock wait: lets a script runner
    /// that drives several sessions tell "blocked" from "still working"
    /// without timing guesses.
    waiting: Arc<std::sync::atomic::AtomicBool>,
    /// The transaction (its xid) that waits, stored before `waiting` is
    /// set: with it a driver can ask whether the wait can still end by
    /// itself (`Waits::is_blocked`).
    waiter: Arc<std::sync::atomic::AtomicU64>,
    /// Whether increments count (see the module doc). A plain `bool`, not
    /// shared: a clone (a recursive statement's, a function's) takes the
    /// value of the moment it is made.
    counting: bool,
}

impl SessionStats {
    pub fn new(system: Arc<Counters>) -> Self {
        SessionStats {
            own: Arc::default(),
            system,
            waiting: Arc::default(),
            waiter: Arc::default(),
            counting: true,
        }
    }

    /// Switches counting on or off for this handle (and the clones made
    /// from it afterwards): off, `add` and `inc` do nothing. For measuring
    /// what counting costs; see the module doc.
    pub fn set_counting(&mut self, on: bool) {
        self.counting = on;
    }

    /// Whether this handle counts.
    pub fn counting(&self) -> bool {
        self.counting
    }

    /// Counters that belong to no session (background work: the writer,
    /// recovery, checkpoints). They still reach the system totals.
    pub fn background(system: Arc<Counters>) -> Self {
        Self::new(system)
    }

    #[inline]
    pub fn add(&self, stat: Stat, n: u64) {
        if !self.counting {
            return;
        }
        self.own.add(stat, n);
        self.system.add(stat, n);
    }

    /// The flag that is set while this session waits for a lock.
    pub fn waiting_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.waiting.clone()
    }

    /// The xid of the transaction that waits, valid while the
    /// [`waiting_flag`](Self::waiting_flag) is set.
    pub fn waiter_cell(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.waiter.clone()
    }

    /// Records which transaction is about to wait (before `set_waiting`).
    pub(crate) fn set_waiter(&self, xid: u64) {
        self.waiter.store(xid, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn set_waiting(&self, on: bool) {
        self.waiting.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    #[inline]
    pub fn inc(&self, stat: Stat) {
        self.add(stat, 1);
    }

    pub fn get(&self, stat: Stat) -> u64 {
        self.own.get(stat)
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.own.snapshot()
    }
}

/// A copy of counter values at one moment.
#[derive(Clone, PartialEq, Eq)]
pub struct StatsSnapshot {
    vals: [u64; N],
}

impl Default for StatsSnapshot {
    fn default() -> Self {
        StatsSnapshot { vals: [0; N] }
    }
}

impl StatsSnapshot {
    pub fn get(&self, stat: Stat) -> u64 {
        self.vals[stat as usize]
    }

    /// Overrides one value (for counts kept outside the counters, such as
    /// the log writer's).
    pub fn set(&mut self, stat: Stat, v: u64) {
        self.vals[stat as usize] = v;
    }

    /// `session logical reads` = db block gets + consistent gets.
    pub fn logical_reads(&self) -> u64 {
        self.get(Stat::ConsistentGets) + self.get(Stat::DbBlockGets)
    }

    /// The work done between `earlier` and `self`.
    pub fn diff(&self, earlier: &StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            vals: std::array::from_fn(|i| self.vals[i].saturating_sub(earlier.vals[i])),
        }
    }

    /// Non-zero statistics in display order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Stat, u64)> + '_ {
        Stat::ALL
            .iter()
            .map(|&s| (s, self.get(s)))
            .filter(|&(_, v)| v != 0)
    }
}

impl fmt::Debug for StatsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.nonzero().map(|(s, v)| (s.name(), v)))
            .finish()
    }
}

impl fmt::Display for StatsSnapshot {
    /// The AUTOTRACE "Statistics" block: one right-aligned value per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (s, v) in self.nonzero() {
            writeln!(f, "{v:>12}  {}", s.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_increments_reach_the_system_and_diff_isolates_work() {
        let system = Arc::new(Counters::default());
        let a = SessionStats::new(system.clone());
        let b = SessionStats::new(system.clone());
        a.add(Stat::ConsistentGets, 3);
        let before = a.snapshot();
        a.inc(Stat::DbBlockGets);
        b.add(Stat::ConsistentGets, 5);
        let d = a.snapshot().diff(&before);
        assert_eq!(d.logical_reads(), 1);
        assert_eq!(system.get(Stat::ConsistentGets), 8);
    }

    #[test]
    fn a_session_that_does_not_count_moves_no_counter() {
        let system = Arc::new(Counters::default());
        let mut a = SessionStats::new(system.clone());
        a.inc(Stat::ConsistentGets);
        a.set_counting(false);
        let quiet = a.clone();
        a.add(Stat::ConsistentGets, 5);
        quiet.inc(Stat::DbBlockGets);
        a.set_counting(true);
        a.inc(Stat::ConsistentGets);
        // 1 before and 1 after; nothing while off, the clone made then included.
        assert_eq!(a.get(Stat::ConsistentGets), 2);
        assert_eq!(a.get(Stat::DbBlockGets), 0);
        assert_eq!(system.get(Stat::ConsistentGets), 2);
    }
}
