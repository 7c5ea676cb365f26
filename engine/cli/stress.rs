//! `blocklab stress`: concurrent transactions that a crash must not tear.
//!
//! Schema (created if missing; every step is idempotent across crashes):
//!
//! ```text
//!   stress_meta(k, v)                  one row (k = 0): the run counter
//!   stress_accounts(id, balance)       accounts 0..100, 1000 each at the start
//!   stress_rows(txn, i, k, pad)        k rows per transaction, i = 0..k;
//!                                      pad = "<from>><to>:" + filler x's
//! ```
//!
//! Each transaction inserts its k rows and moves one unit between two
//! random accounts, then commits; only after `commit()` returned does the
//! worker print `commit <txn>`. Transaction numbers are
//! `run * 1e9 + thread * 1e7 + seq`, with a new run number per invocation,
//! so they never repeat across runs. A statement that fails (deadlock, lock
//! timeout, serialization failure) rolls the transaction back and the same
//! number is retried.
//!
//! The pad records the transaction's transfer, so that `stress-check` can
//! recompute every account's balance from the committed transactions and
//! name the account (and so the transactions) a lost or torn update hit.
//!
//! Invariant: a number is printed at most once and only after its commit is
//! durable; the total of all balances is 100000 after every commit.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use blocklab::{ColType, Column, Config, Database, Error, RowId, Session, Value};
use blocklab_labs::rng::Rng;
use clap::Args;

use crate::{engine, CmdResult};

#[derive(Args)]
pub(crate) struct StressArgs {
    /// Database directory (created if missing; refused while another
    /// process has it open).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// Worker threads, one session each.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS as i64))]
    threads: u32,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rows inserted by each transaction.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rows_per_txn: u32,
    /// Seed of the workers' random choices (accounts, padding).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The user every session runs as (recorded in redo).
    #[arg(long, default_value_t = crate::default_user())]
    user: String,
}

// The schema.

pub(crate) const META: &str = "stress_meta";
pub(crate) const ACCOUNTS: &str = "stress_accounts";
pub(crate) const ROWS: &str = "stress_rows";
/// The stress_meta key of the run counter row.
const RUN_KEY: i64 = 0;
pub(crate) const ACCOUNT_COUNT: usize = 100;
pub(crate) const INITIAL_BALANCE: i64 = 1000;
/// 100 accounts of 1000: transfers move units around, never create them.
pub(crate) const ACCOUNTS_EXPECTED: i64 = ACCOUNT_COUNT as i64 * INITIAL_BALANCE;
/// Transaction number = run * RUN_STRIDE + thread * THREAD_STRIDE + seq:
/// unique across runs and threads as long as a thread commits fewer than
/// THREAD_STRIDE transactions per run, which `stress` enforces.
const RUN_STRIDE: i64 = 1_000_000_000;
const THREAD_STRIDE: i64 = 10_000_000;
const MAX_THREADS: u32 = (RUN_STRIDE / THREAD_STRIDE) as u32 - 1;

fn tables() -> [(&'static str, Vec<Column>); 3] {
    let int = |n| Column::new(n, ColType::Integer);
    [
        (META, vec![int("k"), int("v")]),
        (ACCOUNTS, vec![int("id"), int("balance")]),
        (
            ROWS,
            vec![
                int("txn"),
                int("i"),
                int("k"),
                Column::new("pad", ColType::Text),
            ],
        ),
    ]
}

pub(crate) fn run(a: &StressArgs) -> CmdResult {
    let db = Database::open(&a.db, Config::default())
        .map_err(engine(&format!("opening {}", a.db.display())))?;
    let run = {
        let mut s = db.session();
        s.set_user(&a.user);
        create_tables(&db, &mut s)?;
        fill_accounts(&mut s)?;
        next_run(&mut s)?
    };
    let base = run
        .checked_mul(RUN_STRIDE)
        .ok_or_else(|| format!("run counter {run} is too large for transaction numbers"))?;
    let syncs_before = db.log_stats().log_syncs;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let outcomes: Vec<Result<Tally, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..a.threads)
            .map(|t| {
                let w = Worker {
                    db: &db,
                    user: &a.user,
                    first_txn: base + t as i64 * THREAD_STRIDE,
                    rows_per_txn: a.rows_per_txn as i64,
                    deadline,
                    // Distinct, well-separated streams per thread and seed.
                    rng: Rng::splitmix64(a.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ t as u64),
                };
                scope.spawn(move || w.run())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a worker thread panicked".to_string()))
            })
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let syncs = db.log_stats().log_syncs.saturating_sub(syncs_before);
    let mut total = Tally::default();
    let mut errors = Vec::new();
    for o in outcomes {
        match o {
            Ok(t) => {
                total.commits += t.commits;
                total.retries += t.retries;
            }
            Err(e) => errors.push(e),
        }
    }
    eprintln!(
        "stress: run {run}, {} threads, {elapsed:.1} s: {} commits, {:.1} commits/s, \
         {} retries; {syncs} log syncs, {:.2} commits per sync",
        a.threads,
        total.commits,
        total.commits as f64 / elapsed,
        total.retries,
        total.commits as f64 / syncs.max(1) as f64,
    );
    let closed = db.close().map_err(engine("closing the database"));
    if let Some(first) = errors.first() {
        for e in &errors[1..] {
            eprintln!("blocklab: error: {e}");
        }
        return Err(first.clone().into());
    }
    closed?;
    Ok(())
}

fn create_tables(db: &Database, s: &mut Session) -> Result<(), String> {
    let existing: BTreeSet<String> = db.tables().into_iter().map(|t| t.name).collect();
    for (name, cols) in tables() {
        if existing.contains(name) {
            continue;
        }
        // DDL commits by itself: a crash after this leaves the table empty,
        // which the steps below handle.
        match s.create_table(name, &cols) {
            Ok(()) | Err(Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(format!("creating {name}: {e}")),
        }
    }
    Ok(())
}

/// Makes stress_accounts hold accounts 0..100. The missing ones are inserted
/// in one transaction, so after any crash the table holds either none of
/// them or all of them (a pre-existing partial set is completed, not reset).
fn fill_accounts(s: &mut Session) -> Result<(), String> {
    let rows = s
        .scan(ACCOUNTS)
        .map_err(engine("reading stress_accounts"))?;
    let mut present = BTreeSet::new();
    for (rowid, row) in &rows {
        match row.first().and_then(Value::as_int) {
            Some(id) if (0..ACCOUNT_COUNT as i64).contains(&id) && present.insert(id) => {}
            _ => {
                return Err(format!(
                    "stress_accounts row {rowid} is not one of accounts 0..{ACCOUNT_COUNT} \
                     (or a duplicate); use a fresh --db"
                ))
            }
        }
    }
    for id in (0..ACCOUNT_COUNT as i64).filter(|id| !present.contains(id)) {
        s.insert(ACCOUNTS, vec![Value::Int(id), Value::Int(INITIAL_BALANCE)])
            .map_err(engine("filling stress_accounts"))?;
    }
    s.commit().map_err(engine("committing stress_accounts"))
}

/// Increments and commits the run counter; returns the new run number.
fn next_run(s: &mut Session) -> Result<i64, String> {
    let rows = s.scan(META).map_err(engine("reading stress_meta"))?;
    let counter = rows
        .iter()
        .find(|(_, r)| r.first().and_then(Value::as_int) == Some(RUN_KEY));
    let run = match counter {
        None => {
            s.insert(META, vec![Value::Int(RUN_KEY), Value::Int(1)])
                .map_err(engine("creating the run counter"))?;
            1
        }
        Some((rowid, row)) => {
            let run = row
                .get(1)
                .and_then(Value::as_int)
                .and_then(|v| v.checked_add(1))
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("stress_meta run counter row {rowid} is not a number"))?;
            s.update(META, *rowid, vec![Value::Int(RUN_KEY), Value::Int(run)])
                .map_err(engine("updating the run counter"))?;
            run
        }
    };
    s.commit().map_err(engine("committing the run counter"))?;
    Ok(run)
}

#[derive(Default)]
struct Tally {
    commits: u64,
    retries: u64,
}

/// One worker thread: its own session, its own numbers and random stream.
struct Worker<'a> {
    db: &'a Database,
    user: &'a str,
    first_txn: i64,
    rows_per_txn: i64,
    deadline: Instant,
    rng: Rng,
}

/// Why one attempt at a transaction failed.
enum Attempt {
    /// An engine error from a statement; the transaction is rolled back.
    Engine(Error),
    /// An account's rowid no longer holds that account (it moved), or its
    /// row is not what `stress` writes.
    Stale(String),
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        Attempt::Engine(e)
    }
}

impl Attempt {
    /// None for the failures that concurrency causes and a plain retry
    /// cures (the transaction lost a race); otherwise what went wrong.
    fn unless_contention(self) -> Option<String> {
        match self {
            Attempt::Engine(
                Error::Deadlock { .. } | Error::LockTimeout { .. } | Error::CannotSerialize { .. },
            ) => None,
            Attempt::Engine(e) => Some(e.to_string()),
            Attempt::Stale(why) => Some(why),
        }
    }
}

/// Failures other than contention tolerated for one transaction before the
/// worker gives up: a persistent one would otherwise spin forever, and a
/// moved row is cured by the first lookup.
const MAX_OTHER_FAILURES: u32 = 3;

impl Worker<'_> {
    fn run(mut self) -> Result<Tally, String> {
        let mut s = self.db.session();
        s.set_user(self.user);
        // READ COMMITTED: each balance change is computed from the row once
        // it is locked (`update_with`), so concurrent transfers never lose
        // an update and never need to retry for a serialization failure.
        let mut rowids = account_rowids(&mut s)?;
        let mut tally = Tally::default();
        // seq stays below THREAD_STRIDE: the next number is the next thread's.
        for seq in 1..THREAD_STRIDE {
            if Instant::now() >= self.deadline {
                break;
            }
            let txn = self.first_txn + seq;
            let from = self.rng.below(ACCOUNT_COUNT as u64) as usize;
            let to = (from + 1 + self.rng.below(ACCOUNT_COUNT as u64 - 1) as usize) % ACCOUNT_COUNT;
            let pad = transfer_pad(from, to, 16 + self.rng.below(48) as usize);
            if !self.commit_one(&mut s, &mut rowids, &mut tally, txn, (from, to), &pad)? {
                break;
            }
            let mut out = std::io::stdout().lock();
            writeln!(out, "commit {txn}")
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing to stdout: {e}"))?;
            tally.commits += 1;
        }
        Ok(tally)
    }

    /// Runs transaction `txn`, retrying it under the same number, until it
    /// commits (true) or the deadline passes (false).
    fn commit_one(
        &self,
        s: &mut Session,
        rowids: &mut Vec<RowId>,
        tally: &mut Tally,
        txn: i64,
        (from, to): (usize, usize),
        pad: &str,
    ) -> Result<bool, String> {
        let mut other = 0;
        loop {
            let failure = match self.attempt(s, rowids, txn, from, to, pad) {
                // Once commit has returned Ok the transaction is durable.
                // MustRollback means the engine rolled it back instead, so
                // the number is free to retry; any other commit error leaves
                // its fate unknown, so the number must not be used again.
                Ok(moved) => match s.commit() {
                    Ok(()) => {
                        for (acct, rowid) in moved {
                            rowids[acct] = rowid;
                        }
                        return Ok(true);
                    }
                    Err(Error::MustRollback(why)) => Some(why),
                    Err(e) => return Err(format!("commit of transaction {txn}: {e}")),
                },
                Err(why) => {
                    s.rollback()
                        .map_err(engine(&format!("rollback of transaction {txn}")))?;
                    why.unless_contention()
                }
            };
            tally.retries += 1;
            // Contention is cured by trying again. Anything else (a moved
            // row, an unexpected error) gets a fresh lookup of the accounts,
            // and only a few more tries.
            if let Some(e) = failure {
                other += 1;
                if other > MAX_OTHER_FAILURES {
                    return Err(format!("transaction {txn}: {e}"));
                }
                *rowids = account_rowids(s)?;
            }
            if Instant::now() >= self.deadline {
                return Ok(false);
            }
        }
    }

    /// Inserts the transaction's rows and moves one unit `from` → `to`.
    /// Returns the accounts' new rowids (an update may move a row), to be
    /// adopted only once the commit succeeds.
    fn attempt(
        &self,
        s: &mut Session,
        rowids: &[RowId],
        txn: i64,
        from: usize,
        to: usize,
        pad: &str,
    ) -> Result<Vec<(usize, RowId)>, Attempt> {
        let k = self.rows_per_txn;
        for i in 0..k {
            s.insert(
                ROWS,
                vec![
                    Value::Int(txn),
                    Value::Int(i),
                    Value::Int(k),
                    Value::Text(pad.to_string()),
                ],
            )?;
        }
        // Locking the lower account first means two transfers never wait
        // for each other in a cycle (deadlocks are still handled if the
        // engine reports one).
        let mut changes = [(from, -1i64), (to, 1i64)];
        changes.sort_by_key(|c| c.0);
        let mut moved = Vec::with_capacity(2);
        for (acct, delta) in changes {
            let rowid = rowids[acct];
            let mut bad = None;
            let new = s.update_with(ACCOUNTS, rowid, |row| {
                let balance = row
                    .get(1)
                    .and_then(Value::as_int)
                    .and_then(|b| b.checked_add(delta));
                match (row.first().and_then(Value::as_int), balance) {
                    (Some(id), Some(b)) if id == acct as i64 => vec![Value::Int(id), Value::Int(b)],
                    _ => {
                        // Leave the row as it is; the transaction retries.
                        bad = Some(format!("account {acct} is not a usable row: {row:?}"));
                        row.clone()
                    }
                }
            })?;
            if let Some(why) = bad {
                return Err(Attempt::Stale(format!("{why} (at rowid {rowid})")));
            }
            moved.push((acct, new));
        }
        Ok(moved)
    }
}

/// The pad of a transaction's rows: its transfer, then `filler` x's.
fn transfer_pad(from: usize, to: usize, filler: usize) -> String {
    format!("{from}>{to}:{}", "x".repeat(filler))
}

/// The transfer recorded in a pad by [`transfer_pad`]: (from, to).
pub(crate) fn parse_transfer(pad: &str) -> Option<(usize, usize)> {
    let (code, _) = pad.split_once(':')?;
    let (from, to) = code.split_once('>')?;
    let (from, to) = (from.parse().ok()?, to.parse().ok()?);
    (from < ACCOUNT_COUNT && to < ACCOUNT_COUNT && from != to).then_some((from, to))
}

/// Rowid of each account, indexed by account id.
fn account_rowids(s: &mut Session) -> Result<Vec<RowId>, String> {
    let rows = s.scan(ACCOUNTS).map_err(engine("reading stress_accounts"));
    // Under SERIALIZABLE this scan fixed a snapshot for the next
    // transaction; ending the (empty) transaction forgets it.
    s.rollback().map_err(engine("ending the account scan"))?;
    let mut ids: Vec<Option<RowId>> = vec![None; ACCOUNT_COUNT];
    for (rowid, row) in rows? {
        if let Some(slot) = row
            .first()
            .and_then(Value::as_int)
            .and_then(|id| usize::try_from(id).ok())
            .and_then(|id| ids.get_mut(id))
        {
            *slot = Some(rowid);
        }
    }
    ids.into_iter()
        .enumerate()
        .map(|(id, r)| r.ok_or_else(|| format!("account {id} is missing from stress_accounts")))
        .collect()
}
