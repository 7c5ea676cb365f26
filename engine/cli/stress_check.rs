//! `blocklab stress-check`: what a (possibly crashed) `stress` run left.
//!
//! Opening the database runs crash recovery; then the two stress tables are
//! scanned. A transaction number is *complete* when all k of its rows exist
//! (k is stored in each row) with distinct i in 0..k, and *partial*
//! otherwise — which atomicity forbids. The accounts must still be 100 rows
//! adding up to 100000 (each transfer is in the same transaction as its
//! rows). Each row's pad names its transaction's transfer, so the check
//! also recomputes every account's balance from the complete transactions
//! and names each account that differs (on stderr). The result is one
//! hand-formatted JSON line, then, with `--list`,
//! the complete transaction numbers in order, so a caller can check that
//! every `commit <n>` that `stress` printed is among them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use blocklab::{Config, Database, Session, Value};
use clap::Args;

use crate::stress::{
    parse_transfer, ACCOUNTS, ACCOUNTS_EXPECTED, ACCOUNT_COUNT, INITIAL_BALANCE, ROWS,
};
use crate::{engine, require_database, CmdResult, Failure};

#[derive(Args)]
pub(crate) struct StressCheckArgs {
    /// Database directory (must exist).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// Also print each complete transaction number, one per line, sorted.
    #[arg(long)]
    list: bool,
    /// The user the checking session runs as.
    #[arg(long, default_value_t = crate::default_user())]
    user: String,
}

/// What the rows of one transaction number look like.
#[derive(Default)]
struct TxnRows {
    /// The k the first row seen claims.
    k: Option<i64>,
    /// Another row claims a different k (never complete).
    disagree: bool,
    /// The transfer the first row's pad records.
    transfer: Option<(usize, usize)>,
    rows: u64,
    distinct: BTreeSet<i64>,
}

impl TxnRows {
    /// All k rows, with distinct i in 0..k.
    fn complete(&self) -> bool {
        match self.k {
            Some(k) if !self.disagree && k > 0 => {
                self.rows == k as u64
                    && self.distinct.len() as u64 == self.rows
                    && self.distinct.iter().all(|i| (0..k).contains(i))
            }
            _ => false,
        }
    }
}

/// What the check found; printed as the JSON line.
#[derive(Default)]
struct CheckResult {
    complete: Vec<i64>,
    partial: u64,
    max_txn: i64,
    accounts_total: i64,
    rows: u64,
    /// Balance of each account implied by the complete transactions' pads;
    /// None if some complete transaction does not record its transfer.
    implied: Option<Vec<i64>>,
    /// Every reason for exit status 1, for stderr.
    problems: Vec<String>,
}

pub(crate) fn run(a: &StressCheckArgs) -> CmdResult {
    require_database(&a.db)?;
    let db = Database::open(&a.db, Config::default())
        .map_err(engine(&format!("opening {}", a.db.display())))?;
    let names: BTreeSet<String> = db.tables().into_iter().map(|t| t.name).collect();
    let mut r = CheckResult::default();
    let mut s = db.session();
    s.set_user(&a.user);
    for table in [ROWS, ACCOUNTS] {
        if !names.contains(table) {
            r.problems.push(format!(
                "table {table} does not exist (run `blocklab stress` first)"
            ));
        }
    }
    if names.contains(ROWS) {
        check_rows(&mut s, &mut r)?;
    }
    if names.contains(ACCOUNTS) {
        check_accounts(&mut s, &mut r)?;
    }
    drop(s);
    print(&r, a.list).map_err(|e| format!("writing to stdout: {e}"))?;
    // Closing checkpoints, so that the files are consistent for `verify`.
    db.close().map_err(engine("closing the database"))?;
    if r.problems.is_empty() {
        Ok(())
    } else {
        for p in &r.problems {
            eprintln!("stress-check: {p}");
        }
        Err(Failure::Check)
    }
}

/// Groups stress_rows by transaction number: complete or partial.
fn check_rows(s: &mut Session, r: &mut CheckResult) -> Result<(), String> {
    let rows = s.scan(ROWS).map_err(engine("reading stress_rows"))?;
    r.rows = rows.len() as u64;
    let mut by_txn: BTreeMap<i64, TxnRows> = BTreeMap::new();
    let mut malformed = 0u64;
    for (_, row) in &rows {
        let int = |c: usize| row.get(c).and_then(Value::as_int);
        let (Some(txn), Some(i), Some(k)) = (int(0), int(1), int(2)) else {
            malformed += 1;
            continue;
        };
        let t = by_txn.entry(txn).or_default();
        if t.rows == 0 {
            t.transfer = match row.get(3) {
                Some(Value::Text(pad)) => parse_transfer(pad),
                _ => None,
            };
        }
        t.rows += 1;
        t.distinct.insert(i);
        match t.k {
            None => t.k = Some(k),
            Some(prev) if prev != k => t.disagree = true,
            Some(_) => {}
        }
    }
    let mut implied = Some(vec![INITIAL_BALANCE; ACCOUNT_COUNT]);
    for (&txn, t) in &by_txn {
        if t.complete() {
            r.complete.push(txn);
            match (t.transfer, implied.as_mut()) {
                (Some((from, to)), Some(b)) => {
                    b[from] -= 1;
                    b[to] += 1;
                }
                _ => implied = None,
            }
        } else {
            r.partial += 1;
        }
    }
    r.max_txn = by_txn.keys().next_back().copied().unwrap_or(0);
    r.implied = implied;
    if r.partial > 0 {
        r.problems
            .push(format!("{} partial transactions", r.partial));
    }
    if malformed > 0 {
        r.problems
            .push(format!("{malformed} stress_rows rows with NULL columns"));
    }
    Ok(())
}

/// Sums the balances; the accounts must be 0..100, once each.
fn check_accounts(s: &mut Session, r: &mut CheckResult) -> Result<(), String> {
    let rows = s
        .scan(ACCOUNTS)
        .map_err(engine("reading stress_accounts"))?;
    let mut ids = BTreeSet::new();
    for (rowid, row) in &rows {
        let int = |c: usize| row.get(c).and_then(Value::as_int);
        match (int(0), int(1)) {
            (Some(id), Some(balance)) => {
                ids.insert(id);
                r.accounts_total = r.accounts_total.saturating_add(balance);
                let want = usize::try_from(id)
                    .ok()
                    .and_then(|i| r.implied.as_ref()?.get(i).copied());
                if let Some(want) = want.filter(|&w| w != balance) {
                    r.problems.push(format!(
                        "account {id} (row {rowid}) has balance {balance}, the complete \
                         transactions imply {want}"
                    ));
                }
            }
            _ => r
                .problems
                .push(format!("stress_accounts row {rowid} has NULL columns")),
        }
    }
    let expected: BTreeSet<i64> = (0..ACCOUNT_COUNT as i64).collect();
    if rows.len() != ACCOUNT_COUNT || ids != expected {
        r.problems.push(format!(
            "stress_accounts holds {} rows, expected accounts 0..{ACCOUNT_COUNT} once each",
            rows.len()
        ));
    }
    if r.accounts_total != ACCOUNTS_EXPECTED {
        r.problems.push(format!(
            "accounts total {} differs from {ACCOUNTS_EXPECTED}",
            r.accounts_total
        ));
    }
    Ok(())
}

/// The JSON line (hand-formatted: only integers, no escaping needed), then
/// with `list` the complete transaction numbers.
fn print(r: &CheckResult, list: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{{\"txns_complete\":{},\"txns_partial\":{},\"max_txn\":{},\"accounts_total\":{},\
         \"accounts_expected\":{ACCOUNTS_EXPECTED},\"rows\":{}}}",
        r.complete.len(),
        r.partial,
        r.max_txn,
        r.accounts_total,
        r.rows
    )?;
    if list {
        for n in &r.complete {
            writeln!(out, "{n}")?;
        }
    }
    out.flush()
}
