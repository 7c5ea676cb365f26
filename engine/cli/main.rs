//! `blocklab`: the command-line front end of the teaching engine.
//!
//! Each subcommand is one variant of [`Command`]; later tools (`shell`,
//! `sql`, `labs`, …) are added as further variants with their own argument
//! struct and `run_*` function, so `main` stays a dispatcher.
//!
//! - `stress` runs concurrent transactions against a database and prints
//!   `commit <n>` for each transaction the engine reported committed.
//! - `stress-check` opens the database (running crash recovery) and checks
//!   that every transaction `stress` wrote is all there or not there at all,
//!   and that the account balances still add up.
//! - `shell` is the interactive SQL shell (SQL*Plus-like, several sessions
//!   in one script), `sql` runs one script in the table, csv or json format;
//!   both are `blocklab::script` underneath.
//! - `verify` reads every block of a closed database's data file and
//!   reports each one that fails its checksum or structural checks, then
//!   compares every index with its table (each entry names a live row with
//!   its key, each row has an entry).
//! - `logminer` lists what the redo says happened (who, when, which rows,
//!   the SQL to redo it); `backup` takes a cold backup; `recover` restores
//!   a backup and recovers it to an SCN through the archived and online redo.
//! - `plan-diff` EXPLAINs the statements of a file in two databases and
//!   compares the plan_table rows column by column (claim C31), optionally
//!   running each SELECT in both to show its gets.
//!
//! Together they are a crash test a student can run by hand:
//!
//! ```text
//!   blocklab stress --db /tmp/x > commits.txt &  sleep 2; kill -9 $!
//!   blocklab stress-check --db /tmp/x --list     # every line of commits.txt
//!                                                # is listed, none is partial
//!   blocklab verify --db /tmp/x
//! ```
//!
//! The stress workload keeps no state outside the database that matters
//! after a crash: the run counter, the accounts and the inserted rows are all
//! in tables, and a `commit <n>` line is printed only after `commit()`
//! returned, i.e. after the commit record is durable. So whatever instant the
//! process is killed at, every printed number must survive recovery.
//!
//! A database directory has one owner at a time (`blocklab::storage::owner`):
//! `stress`, `stress-check`, `shell`, `sql`, `verify`, `backup` and
//! `plan-diff` are refused with exit status 2 while another process has it open, and
//! the message names the directory and that process's pid, except that
//! `shell` and `sql` attach as a new session to an owner that listens
//! (`serve`, or an interactive `shell`; see `serve`). `logminer` only reads
//! the redo and works on a database open elsewhere.
//!
//! Every command that opens a database takes `--user NAME` (default: the OS
//! user), the user its sessions record in redo.
//!
//! Exit status: 0 success; 1 a check found a problem (partial transaction,
//! wrong total, corrupt block, a changed plan) or, for `sql`/`shell`, a SQL
//! error that counts (`sql -e` with a failed statement, `--bail`,
//! `WHENEVER SQLERROR EXIT FAILURE`; a script run with `-f` or from stdin
//! exits 0 whatever failed in it; see `shell::EXIT_STATUS`); 2 the command
//! could not run (bad directory, unreadable database, a database open in
//! another process, a failed engine call). Bad input never panics.

// The subcommands live next to this file in engine/cli/, one module each.
mod backup;
mod labs;
mod logminer;
mod plan_diff;
mod serve;
mod shell;
mod stress;
mod stress_check;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use blocklab::storage::{lock_dir_shared, ControlFile};
use blocklab::verify::{verify_dir, IndexCheck};
use blocklab::Error;
use clap::{Args, Parser, Subcommand};

use plan_diff::PlanDiffArgs;
use shell::{ShellArgs, SqlArgs};
use stress::StressArgs;
use stress_check::StressCheckArgs;

#[derive(Parser)]
#[command(
    name = "blocklab",
    version,
    about = "A block-based teaching storage engine: query it, stress it, crash it, check it, verify it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the claim labs: each builds its data on a fresh database,
    /// measures, and prints its evidence and a computed verdict.
    Labs(labs::LabsArgs),
    /// The interactive SQL shell (line editing, history, several sessions).
    ///
    /// Statements end with `;`; `\connect NAME` opens or switches to a
    /// session, `\wait NAME` waits for its statement blocked on a lock,
    /// `SET AUTOTRACE ON|OFF|TRACEONLY` prints each statement's counters,
    /// `WHENEVER SQLERROR EXIT [SUCCESS|FAILURE|n]|CONTINUE` decides what a
    /// failing statement does, `\quit` leaves. When stdin is not a
    /// terminal it is read as a script.
    #[command(after_long_help = shell::EXIT_STATUS, after_help = shell::EXIT_STATUS)]
    Shell(ShellArgs),
    /// Run one SQL script (-e, -f or stdin) and print the results as a
    /// table, csv or json.
    ///
    /// A script runs to its end even when statements fail (they print
    /// `ERROR: …`); `--bail` or `WHENEVER SQLERROR EXIT` in the script stop
    /// it at an error.
    #[command(after_long_help = shell::EXIT_STATUS, after_help = shell::EXIT_STATUS)]
    Sql(SqlArgs),
    /// Run concurrent transactions (row inserts plus a transfer between two
    /// accounts) and print `commit <n>` for each committed one.
    ///
    /// Creates the tables stress_meta, stress_accounts (100 accounts of
    /// balance 1000) and stress_rows if missing. Each run takes a new run
    /// number, so transaction numbers are unique across runs. The process may
    /// be killed at any moment: every printed number is durable. A summary
    /// (commits/s, redo log syncs, commits per sync) goes to stderr.
    Stress(StressArgs),
    /// Open a database (running crash recovery) and check what `stress` left.
    ///
    /// Prints one JSON line: complete and partial transactions, the highest
    /// transaction number, the accounts total and the row count. A
    /// transaction is complete when all k of its rows exist. Exits 1 if any
    /// transaction is partial or the accounts do not add up to 100000.
    StressCheck(StressCheckArgs),
    /// Check every block of a closed database's data file.
    ///
    /// Checksum, block decoding (including the block's own address) and
    /// structural rules; then every index against its table. Prints
    /// `corrupt block <file> <block>: <reason>` for each bad block (saying
    /// when a torn block's copy in the doublewrite area lets the next open
    /// repair it), what earlier opens repaired (`alert log: ...`), and a
    /// summary. Exits 1 if any block is corrupt; exits 2, reading nothing,
    /// while another process has the database open.
    Verify(VerifyArgs),
    /// List the redo: SCN, time, transaction, user, and each DDL statement
    /// or row change by column name; or the SQL that redoes the committed
    /// changes (`--format sql`).
    ///
    /// Reads the online logs and the archives. Redo that is gone (a log
    /// file reused before it was archived) is reported, never skipped.
    Logminer(logminer::LogminerArgs),
    /// Take a cold backup: open and close the database (a checkpoint), copy
    /// its files, write a manifest with the backup's SCN.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new directory and recover it to an SCN with
    /// the archived and online redo: exactly the transactions committed at
    /// or before it remain.
    Recover(backup::RecoverArgs),
    /// Compare the access paths of the same statements in two databases.
    ///
    /// EXPLAINs every statement of the file in A and in B (each with its own
    /// stored statistics) and compares the plan_table rows on the columns
    /// that matter for performance, each with an impact level. COST is shown
    /// but not compared. Exits 1 if any plan changed or failed.
    PlanDiff(PlanDiffArgs),
    /// Own a database and serve attached sessions: a `blocklab shell` or
    /// `blocklab sql` on the same directory attaches over the Unix socket
    /// DIR/blocklab.sock (owner-only) as a new session in this process.
    /// Runs until its standard input ends; removes the socket then.
    Serve(serve::ServeArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// Database directory of a closed database (refused while another
    /// process has it open).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
}

/// The embedded default database used when `--db` is not given: a
/// directory in the system temp directory, so the first run needs no setup.
pub(crate) fn default_db() -> PathBuf {
    std::env::temp_dir().join("blocklab-db")
}

/// The default `--user`: the OS user ($USER, or $USERNAME on Windows),
/// else `blocklab`.
pub(crate) fn default_user() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "blocklab".to_string())
}

/// Why a command stopped: a check failed (1), it could not run (2), or a
/// script asked for its own exit status (`WHENEVER SQLERROR EXIT n`).
pub(crate) enum Failure {
    Check,
    Error(String),
    Exit(u8),
}

pub(crate) type CmdResult = Result<(), Failure>;

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Error(s)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Shell(a) => shell::run_shell(&a),
        Command::Sql(a) => shell::run_sql(&a),
        Command::Stress(a) => stress::run(&a),
        Command::StressCheck(a) => stress_check::run(&a),
        Command::Verify(a) => run_verify(&a),
        Command::Logminer(a) => logminer::run(&a),
        Command::Backup(a) => backup::run_backup(&a),
        Command::Recover(a) => backup::run_recover(&a),
        Command::Labs(a) => labs::run(a),
        Command::PlanDiff(a) => plan_diff::run(&a),
        Command::Serve(a) => serve::run_serve(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check) => ExitCode::from(1),
        Err(Failure::Exit(status)) => ExitCode::from(status),
        Err(Failure::Error(msg)) => {
            eprintln!("blocklab: error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Turns an engine error into a message that says what was being done.
pub(crate) fn engine(what: &str) -> impl Fn(Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Refuses to treat a directory without a control file as a database
/// (`Database::open` would create one there).
pub(crate) fn require_database(dir: &Path) -> Result<(), String> {
    if dir.join(ControlFile::NAME).is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} is not a blocklab database (no {} file)",
            dir.display(),
            ControlFile::NAME
        ))
    }
}

/// `blocklab verify`: the checks themselves are `blocklab::verify`; this
/// prints one line per corrupt block, one per index problem, and the
/// summaries (the blocks' last).
fn run_verify(a: &VerifyArgs) -> CmdResult {
    require_database(&a.db)?;
    // A database open in another process has blocks still in its cache and
    // changing on disk: what verify would read is no state of it. The
    // shared lock also keeps a writer from starting while verify reads.
    let _reader =
        lock_dir_shared(&a.db).map_err(engine(&format!("verifying {}", a.db.display())))?;
    let report = verify_dir(&a.db).map_err(engine(&format!("verifying {}", a.db.display())))?;
    if !report.control.clean_shutdown {
        eprintln!(
            "verify: note: the control file does not record a clean shutdown; blocks \
             may be stale until the database is opened (recovery) and closed"
        );
    }
    let mut out = std::io::stdout().lock();
    let mut write = || -> std::io::Result<()> {
        if let Some(lost) = &report.control_lost_slot {
            writeln!(out, "control file {}: {lost}", ControlFile::NAME)?;
        }
        // What earlier opens repaired: never silent (the newest 20).
        let shown = report.alert.len().saturating_sub(20);
        if shown > 0 {
            writeln!(out, "alert log: {shown} older events not shown")?;
        }
        for line in &report.alert[shown..] {
            writeln!(out, "alert log: {line}")?;
        }
        for c in &report.corrupt {
            writeln!(
                out,
                "corrupt block {} {}: {}",
                report.file, c.block, c.reason
            )?;
        }
        match &report.indexes {
            IndexCheck::Checked {
                indexes,
                unusable,
                entries,
                problems,
                unlisted,
            } => {
                for p in problems {
                    writeln!(out, "index {} on {}: {}", p.index, p.table, p.what)?;
                }
                if *unlisted > 0 {
                    writeln!(out, "... {unlisted} more index problems not listed")?;
                }
                let skipped = match unusable {
                    0 => String::new(),
                    n => format!(" ({n} unusable, not checked)"),
                };
                writeln!(
                    out,
                    "checked {indexes} indexes against their tables{skipped}: {entries} entries, {} problems",
                    report.indexes.problem_count()
                )?;
            }
            IndexCheck::Skipped(why) => writeln!(out, "indexes not checked: {why}")?,
        }
        writeln!(
            out,
            "verified {} blocks, {} corrupt",
            report.blocks,
            report.corrupt.len()
        )?;
        out.flush()
    };
    write().map_err(|e| format!("writing to stdout: {e}"))?;
    if report.is_clean() {
        Ok(())
    } else {
        Err(Failure::Check)
    }
}
