//! Lock tables and lock waits: the enqueues every transactional layer
//! takes, kept below them so that none of those layers owns them.
//!
//! - [`Waits`]: who is active and who waits for whom. A row-lock holder is
//!   named by the ITL entry the row's lock byte points at (see `txn`); a
//!   writer that meets an active holder waits here until the holder ends,
//!   after walking the wait-for chain to detect a deadlock.
//!
//! **The deadlock victim, as Oracle chooses it.** Oracle does not fail the
//! session whose request closes the cycle. Each waiter checks for a
//! deadlock when its own wait times out (about 3 seconds), so the session
//! that detects it, and gets ORA-00060, is in practice the one that has
//! been waiting longest. Only its current statement is rolled back; its
//! transaction stays open and keeps its locks, so the other session waits
//! on until the victim commits or rolls back (Oracle Database Concepts,
//! "Deadlocks"; Oracle error reference, ORA-00060; Kyte, *Expert Oracle
//! Database Architecture*, "Deadlocks"). blocklab applies that rule
//! without the timer, so that tests do not depend on timing: when a wait
//! closes a cycle, the waiter in the cycle whose wait began first is
//! woken with `Deadlock` (and counts `enqueue deadlocks`), and the
//! session that closed the cycle goes on waiting.
//! - [`TableLocks`]: TM locks, row-exclusive (RX) for conventional DML and
//!   exclusive (X) for a direct-path load; their waits go through `Waits`,
//!   so a deadlock that mixes table and row locks is found the same way.
//! - [`IndexLocks`]: one mutex per index root, serialising the splits of an
//!   index (and, in a second map, the probe-then-insert of a constraint).
//!
//! Invariants: a transaction registers in `Waits` when it begins and
//! finishes exactly once (commit or rollback), which wakes its waiters and
//! releases its table locks; a waiter never holds a block latch while it
//! waits (callers drop their latches first).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::ids::{BlockNo, Xid};
use crate::stats::{SessionStats, Stat};

/// Row-lock waits and deadlock detection.
#[derive(Default)]
pub struct Waits {
    state: Mutex<WaitState>,
    cv: Condvar,
}

#[derive(Default)]
struct WaitState {
    active: HashSet<Xid>,
    /// Each waiter: whom it waits for, and when its wait began (a counter,
    /// so "first" does not depend on the clock).
    waits_for: HashMap<Xid, (Xid, u64)>,
    /// Waits begun so far (the next wait's start).
    started: u64,
    /// Waiters chosen as deadlock victims, not yet woken.
    victims: HashSet<Xid>,
}

impl Waits {
    pub(crate) fn register(&self, xid: Xid) {
        self.state.lock().active.insert(xid);
    }

    /// The transaction ended: wake everyone waiting for it.
    pub(crate) fn finish(&self, xid: Xid) {
        self.state.lock().active.remove(&xid);
        self.cv.notify_all();
    }

    /// Whether `waiter`'s lock wait can end only when its holder's
    /// transaction ends (or by timeout): it waits for a transaction that
    /// is still active and is not a deadlock victim about to be woken.
    /// A script driver asks this to tell a session that will finish on its
    /// own from one that needs another session to commit or roll back;
    /// unlike a clock, the answer does not depend on thread scheduling.
    pub fn is_blocked(&self, waiter: Xid) -> bool {
        let st = self.state.lock();
        st.waits_for
            .get(&waiter)
            .is_some_and(|(holder, _)| st.active.contains(holder))
            && !st.victims.contains(&waiter)
    }

    /// The transaction `waiter` waits for, while it waits for a lock. A
    /// script driver follows this chain to tell a wait that another
    /// client can end from one that only its own sessions can.
    pub fn holder_of(&self, waiter: Xid) -> Option<Xid> {
        self.state
            .lock()
            .waits_for
            .get(&waiter)
            .map(|&(holder, _)| holder)
    }

    /// Waits until `holder` ends. If `holder` is (transitively) waiting
    /// for `me`, this wait closes a cycle: the waiter of the cycle whose
    /// wait began first fails with `Deadlock` (see the module doc) and this
    /// one waits on. Fails with `Deadlock` when chosen so itself, or with
    /// `LockTimeout` after `timeout`.
    pub(crate) fn wait_for(
        &self,
        me: Xid,
        holder: Xid,
        timeout: Duration,
        stats: &SessionStats,
    ) -> Result<()> {
        let mut st = self.state.lock();
        if !st.active.contains(&holder) {
            return Ok(());
        }
        // Walk the chain from the holder; reaching `me` closes a cycle,
        // whose earliest waiter is the victim.
        let mut cur = holder;
        let mut first: Option<(u64, Xid)> = None;
        let mut hops = 0;
        while let Some(&(next, since)) = st.waits_for.get(&cur) {
            if first.is_none_or(|(s, _)| since < s) {
                first = Some((since, cur));
            }
            if next == me {
                break;
            }
            if hops > 10_000 {
                // Not a cycle through `me` (the graph is corrupt): refuse.
                stats.inc(Stat::Deadlocks);
                return Err(Error::Deadlock {
                    holder: holder.to_string(),
                });
            }
            cur = next;
            hops += 1;
        }
        let closes_cycle = st.waits_for.get(&cur).is_some_and(|&(n, _)| n == me);
        stats.inc(Stat::LockWaits);
        let since = st.started;
        st.started += 1;
        st.waits_for.insert(me, (holder, since));
        if let (true, Some((_, victim))) = (closes_cycle, first) {
            st.victims.insert(victim);
            self.cv.notify_all();
        }
        stats.set_waiter(me.0);
        stats.set_waiting(true);
        // A timeout too long to add to the clock (`Duration::MAX`, the
        // shell's default) waits until the holder ends, as Oracle does.
        let deadline = Instant::now().checked_add(timeout);
        while st.active.contains(&holder) {
            if st.victims.remove(&me) {
                st.waits_for.remove(&me);
                stats.set_waiting(false);
                stats.inc(Stat::Deadlocks);
                return Err(Error::Deadlock {
                    holder: holder.to_string(),
                });
            }
            let timed_out = match deadline {
                Some(d) => self.cv.wait_until(&mut st, d).timed_out(),
                None => {
                    self.cv.wait(&mut st);
                    false
                }
            };
            if timed_out && st.active.contains(&holder) && !st.victims.contains(&me) {
                st.waits_for.remove(&me);
                stats.set_waiting(false);
                stats.inc(Stat::LockTimeouts);
                return Err(Error::LockTimeout {
                    holder: holder.to_string(),
                    millis: timeout.as_millis() as u64,
                });
            }
        }
        st.waits_for.remove(&me);
        // Chosen as a victim just as its holder ended: the wait is over
        // anyway, and the cycle with it.
        st.victims.remove(&me);
        stats.set_waiting(false);
        Ok(())
    }
}

/// Table locks: row-exclusive (RX) for conventional DML, which many
/// transactions hold at once, and exclusive (X) for a direct-path load,
/// which excludes all other DML on the table until the loader ends
/// (queries are not affected: they take no table lock). Held until the
/// transaction ends; waits go through [`Waits`], so deadlocks involving
/// table locks are detected like row-lock ones.
#[derive(Default)]
pub struct TableLocks {
    m: Mutex<HashMap<u32, TableLock>>,
}

#[derive(Default)]
struct TableLock {
    exclusive: Option<Xid>,
    shared: HashSet<Xid>,
}

impl TableLocks {
    /// Takes `table`'s lock for `me` (X if `exclusive`, else RX), waiting
    /// for incompatible holders.
    pub(crate) fn lock(
        &self,
        waits: &Waits,
        table: u32,
        me: Xid,
        exclusive: bool,
        timeout: Duration,
        stats: &SessionStats,
    ) -> Result<()> {
        loop {
            let holder = {
                let mut m = self.m.lock();
                let l = m.entry(table).or_default();
                let blocker = match l.exclusive {
                    Some(x) if x != me => Some(x),
                    _ if exclusive => l.shared.iter().find(|&&x| x != me).copied(),
                    _ => None,
                };
                match blocker {
                    None => {
                        if exclusive {
                            l.exclusive = Some(me);
                        } else {
                            l.shared.insert(me);
                        }
                        return Ok(());
                    }
                    Some(x) => x,
                }
            };
            waits.wait_for(me, holder, timeout, stats)?;
        }
    }

    /// Releases every table lock of a transaction that ended, and forgets
    /// the tables nobody holds any more: otherwise the map keeps an entry
    /// for every table ever locked (dropped ones included), and every
    /// commit walks them all. A waiter re-creates its entry when it retries.
    pub(crate) fn release(&self, me: Xid) {
        let mut m = self.m.lock();
        m.retain(|_, l| {
            if l.exclusive == Some(me) {
                l.exclusive = None;
            }
            l.shared.remove(&me);
            l.exclusive.is_some() || !l.shared.is_empty()
        });
    }
}

/// Per-index locks (one map for splits, one for unique probes).
#[derive(Default)]
pub struct IndexLocks {
    locks: Mutex<HashMap<BlockNo, Arc<Mutex<()>>>>,
}

impl IndexLocks {
    pub(crate) fn get(&self, root: BlockNo) -> Arc<Mutex<()>> {
        self.locks.lock().entry(root).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Counters;

    #[test]
    fn a_release_forgets_the_tables_nobody_holds() {
        let waits = Waits::default();
        let locks = TableLocks::default();
        let stats = SessionStats::new(Arc::new(Counters::default()));
        let (a, b) = (Xid::new(1, 0, 1), Xid::new(1, 1, 1));
        let t = Duration::from_secs(1);
        for x in [a, b] {
            waits.register(x);
        }
        locks.lock(&waits, 7, a, false, t, &stats).unwrap();
        locks.lock(&waits, 7, b, false, t, &stats).unwrap();
        locks.lock(&waits, 8, a, true, t, &stats).unwrap();
        locks.release(a);
        // Table 7 is still held by b; table 8 is held by nobody.
        assert_eq!(locks.m.lock().keys().copied().collect::<Vec<_>>(), [7]);
        locks.release(b);
        assert!(locks.m.lock().is_empty());
        // A forgotten table can be locked again, exclusively.
        locks.lock(&waits, 8, b, true, t, &stats).unwrap();
        assert_eq!(locks.m.lock()[&8].exclusive, Some(b));
    }
}
