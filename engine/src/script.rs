//! The script driver: runs SQL scripts in several sessions at once and
//! prints what each statement returned. The `blocklab shell` and `blocklab
//! sql` commands and the golden tests all go through it.
//!
//! # The script language
//!
//! A script is SQL statements, each ended by `;`, and client commands, each
//! on its own line:
//!
//! ```text
//! CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
//! INSERT INTO t VALUES (1, 'one');
//! COMMIT;
//! UPDATE t SET name = 'uno' WHERE id = 1;   -- main now holds the row lock
//! \connect b
//! UPDATE t SET name = 'eins' WHERE id = 1;  -- b waits for main: pending
//! \connect main
//! COMMIT;                                   -- releases b
//! \wait b                                   -- prints b's "1 row updated."
//! ```
//!
//! * A `;` inside quotes or comments does not end a statement. Comments are
//!   kept in the statement's text (optimizer hints live in `/*+ … */`);
//!   blank lines and whole `--` lines before a statement are dropped. A last
//!   statement without `;` runs too.
//! * `\connect NAME` (or `\c NAME`) makes NAME the current session, creating
//!   it on first use. Statements go to the current session; the first one is
//!   `main`. Every session runs the user given in [`ScriptOptions::user`].
//! * `\wait NAME` waits until NAME's pending statement finishes and prints
//!   its result (nothing if none is pending).
//! * `SET AUTOTRACE ON | OFF | TRACEONLY` (optional `;`), per session, as in
//!   SQL*Plus: ON prints the rows and then the statement's statistics,
//!   TRACEONLY the statistics and the row count without the rows.
//! * `SET ARRAYSIZE n` (1 to 5000; default 15, as in SQL*Plus), per
//!   session: a query's rows come back in fetch calls of n rows
//!   (`Session::set_fetch_size`), which AUTOTRACE shows in `fetch calls`,
//!   `user calls` and the consistent gets of a full scan. Every fetch call
//!   asks for n rows; SQL*Plus' first fetch of a single row is not copied.
//! * `\echo TEXT` prints TEXT (table format only); `\quit`, `\q`, `EXIT` or
//!   `QUIT` ends the script.
//! * `WHENEVER SQLERROR EXIT [SUCCESS | FAILURE | n] [ROLLBACK]` makes the
//!   next failing statement end the script, with that exit status for the
//!   program (a bare `EXIT` is SUCCESS, 0, as in SQL*Plus; FAILURE is 1);
//!   `WHENEVER SQLERROR CONTINUE [NONE]` turns that off again (the
//!   default). Invalid client commands do not count as SQL errors, as in
//!   SQL*Plus.
//! * Every other `SET …` (`SET SESSION USER scott`, `SET TRANSACTION …`) is
//!   SQL and goes to the engine.
//!
//! # Sessions, waits and determinism
//!
//! Each session is a thread that owns a [`Session`]. To run a statement the
//! driver first finishes the session's pending statement, if any (printing
//! it), then hands the statement over and watches two things: the reply,
//! and the session's lock-wait flag (`Session::wait_probe`). A reply means
//! the statement finished: it is printed. The flag means it sleeps in a lock
//! wait: it becomes the session's *pending* statement and the script goes
//! on, typically to the session that holds the lock.
//!
//! Invariant: the outcome does not depend on timing. A statement either
//! finishes or is seen waiting for a lock, and nothing else can make it
//! wait (the other sessions are idle or themselves waiting). A pending
//! statement's result is printed at a fixed point of the script: the
//! session's next statement, a `\wait` for it, or the end of the script.
//! So when a later statement releases the lock, write `\wait NAME` before
//! anything whose output could depend on the woken statement.
//!
//! A pending statement whose lock is still held by an active transaction
//! is *blocked*: only another session's COMMIT or ROLLBACK (or the lock
//! timeout) can end it. The driver asks the engine's wait graph
//! ([`Database::lock_wait_blocked`]), not a clock, so this too is
//! independent of timing. What a statement sent to a blocked session, or
//! a `\wait` for one, does depends on who can end the wait:
//!
//! * **An interactive prompt** ([`Driver::interactive`]) never freezes:
//!   the statement is not run and prints `BLK-00100: session NAME is
//!   waiting for a lock (…)` with what to do, at once (with the shell's
//!   indefinite lock timeout, waiting could last forever).
//! * **A script** waits, as a sqlplus script would, when the lock is held
//!   by a transaction outside it: another client attached to the same
//!   owner (`blocklab serve`) will commit or roll back, and the script
//!   goes on then. When the wait-for chain
//!   ([`Database::lock_wait_holder`]) reaches one of the script's own
//!   sessions, waiting would never end (that session's next statement
//!   comes later in this very script), so the script, too, gets
//!   `BLK-00100`.
//!
//! At the end of the script every session with nothing pending
//! disconnects first (its open transaction rolls back silently), which
//! releases what the pending statements wait for; then each pending
//! statement that can finish is printed, in the order the sessions were
//! created, and its session disconnects in turn. An error
//! stops the script only under `WHENEVER SQLERROR EXIT` or
//! [`Driver::bail`]; [`Driver::finish_outcome`] tells the caller how many
//! statements failed and whether one stopped the script, which is what the
//! command line's exit status is made of.
//!
//! # Output formats
//!
//! Results are printed in the order statements finish.
//!
//! * `table`: each statement is echoed when it is dispatched, as
//!   `[session] SQL> text;` (continuation lines `[session]   2  …`); a
//!   statement seen waiting adds `[session] (waiting for a lock)`, and its
//!   result later starts with `[session] (finished) <first line>`. A query
//!   prints a header, a dashed rule and aligned rows (numbers right, text
//!   left, NULL as `NULL`), then `N rows selected.`; DML prints
//!   `N rows inserted.` and the like; EXPLAIN prints the plan
//!   ([`Explain::render`]); an error prints `ERROR: ORA-xxxxx: message`.
//!   Client commands are echoed too. A blank line ends each statement's
//!   block.
//! * `csv`: for each query (and each EXPLAIN, as plan lines), a header
//!   record and one record per row; result sets are separated by a blank
//!   line; NULL is an empty field. Nothing else is printed; errors go to
//!   the error stream ([`Driver::error_output`]) as `ERROR: …` lines.
//! * `json`: one object per finished statement per line, keys in this
//!   order:
//!
//! ```text
//! {"session": "main",                   the session that ran it
//!  "sql": "SELECT …",                   the statement's text
//!  "columns": ["id", "name"],           [] unless a query
//!  "rows": [[1, "one"], [2, null]],     INTEGER, REAL → number, TEXT → string,
//!                                       NULL → null (a REAL NaN/inf → its string)
//!  "affected": 1 | null,                rows changed by DML
//!  "message": "1 row updated." | null,
//!  "error": null | {"code": "ORA-00942", "message": "table t does not exist"},
//!  "stats": {"consistent gets": 3, …},  only with `stats`: the non-zero
//!                                       counters of the statement, errors too
//!  "plan": [{"id", "depth", "operation", "object", "matchcols", "access",
//!            "screening", "filter", "index_only", "rows", "cost"}, …],
//!  "plan_table": [{"QUERYNO": 1, …, "ACCESSTYPE": "I", …, "COST": 5}, …]}
//!                                       both only for EXPLAIN; plan_table
//!                                       has the columns of `PlanTableRow`,
//!                                       numbers as numbers
//! ```
//!
//! A client command that is not valid prints an error like a statement's
//! (`SP2-…` codes, as SQL*Plus); other client commands print nothing in csv
//! and json.
//!
//! With [`ScriptOptions::stats`], every session starts with AUTOTRACE ON in
//! the table format, json lines carry `stats`, and in csv each statement
//! is followed by a second CSV block, `statistic,value` and one record per
//! non-zero counter (blank-line separated, like result sets).
//!
//! Simplified compared with SQL*Plus: AUTOTRACE shows statistics only (use
//! `EXPLAIN` for the plan), and no command edits the statement buffer.
//!
//! [`Explain::render`]: crate::sql::Explain::render

mod describe;
mod output;
mod splitter;

use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::db::Database;
use crate::error::{Error, Result};
use crate::ids::Xid;
use crate::session::Session;
use crate::sql::SqlResult;
use crate::stats::StatsSnapshot;

pub use output::value_json;
pub use splitter::{split, Autotrace, Command, Item, OnSqlError, Splitter, HELP};

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown format {s:?} (table, csv or json)")),
        }
    }
}

/// How a script is run.
#[derive(Clone, Debug)]
pub struct ScriptOptions {
    pub format: Format,
    /// Statistics for every statement: AUTOTRACE ON for every session in
    /// the table format, a `stats` object in json.
    pub stats: bool,
    /// The user every session of the script runs as (`Session::set_user`).
    pub user: String,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        ScriptOptions {
            format: Format::Table,
            stats: false,
            user: crate::Config::default().default_user,
        }
    }
}

/// Whether the driver wants more input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The script asked to stop (`\quit`).
    Quit,
}

/// How a script went, for the caller's exit status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Statements that failed (each printed an `ERROR:` line).
    pub sql_errors: usize,
    /// Client commands that were not valid (`SP2-…`).
    pub client_errors: usize,
    /// Set when an error stopped the script (`WHENEVER SQLERROR EXIT`,
    /// [`Driver::bail`]): the exit status it asked for.
    pub exit: Option<u8>,
}

impl Outcome {
    /// Whether anything failed, SQL or client command.
    pub fn any_error(&self) -> bool {
        self.sql_errors + self.client_errors > 0
    }
}

/// Runs a whole script and waits for everything it started: the
/// non-interactive form of [`Driver`].
pub fn run_script(
    db: &Database,
    text: &str,
    opts: &ScriptOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let mut d = Driver::new(db, opts.clone(), out);
    d.feed_text(text)?;
    d.finish()
}

/// How long the driver sleeps between looks at a running statement. Only
/// latency depends on it, never the outcome.
const POLL: Duration = Duration::from_micros(200);

/// The client's own error code for a command it will not run because the
/// session is blocked in a lock wait (`BLK-001xx` are the script
/// client's; the engine's are in `Error::code`).
const SESSION_BLOCKED: &str = "BLK-00100";

/// What a session thread is asked to do.
enum Job {
    /// Run a statement, fetching a query's rows this many at a time.
    Run(String, usize),
    /// Roll back the open transaction and end the thread.
    Close,
}

/// What a session thread answers: the result, and the counters the
/// statement changed (measured around the call, so failed statements have
/// them too).
struct Reply {
    result: Result<SqlResult>,
    stats: StatsSnapshot,
}

/// One session of the script and the thread that runs it.
struct Worker {
    name: String,
    jobs: Sender<Job>,
    replies: Receiver<Reply>,
    waiting: Arc<AtomicBool>,
    /// The xid the session waits as, while `waiting` is set.
    waiter: Arc<AtomicU64>,
    /// The xid (`Xid.0`) of the session's open transaction after its last
    /// finished statement, 0 if none: what its locks are held as.
    xid: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    /// The statement seen waiting for a lock, not yet printed.
    pending: Option<String>,
    /// When the statement running or pending was handed over (`\timing`).
    started: Instant,
    autotrace: Autotrace,
    /// Rows per fetch call (`SET ARRAYSIZE`).
    arraysize: usize,
}

/// The incremental script driver: feed it items (or text), then `finish`.
pub struct Driver<'a> {
    db: &'a Database,
    opts: ScriptOptions,
    out: &'a mut dyn Write,
    err: Option<&'a mut dyn Write>,
    /// In creation order (the order of the end-of-script waits).
    sessions: Vec<Worker>,
    current: String,
    /// Result sets printed so far in csv (a blank line separates them).
    csv_sets: usize,
    /// Set by `\quit`: later items are ignored.
    quit: bool,
    /// Echo statements and commands (table format).
    echo: bool,
    /// What the next failing statement does (`WHENEVER SQLERROR`).
    on_error: OnSqlError,
    /// Stop at the first error of any kind, with status 1.
    bail: bool,
    /// Print each statement's elapsed time (`\timing on`).
    timing: bool,
    /// A person at a prompt: a statement for a blocked session is refused
    /// at once instead of waiting (see the module doc).
    interactive: bool,
    /// Scripts being run by `\i`, innermost last (a script that includes
    /// itself is refused instead of recursing).
    includes: Vec<std::path::PathBuf>,
    outcome: Outcome,
}

/// How deep `\i` scripts may nest (SQL*Plus allows 20 levels of `@`).
const MAX_INCLUDE_DEPTH: usize = 20;

impl<'a> Driver<'a> {
    pub fn new(db: &'a Database, opts: ScriptOptions, out: &'a mut dyn Write) -> Driver<'a> {
        Driver {
            db,
            opts,
            out,
            err: None,
            sessions: Vec::new(),
            current: "main".to_string(),
            csv_sets: 0,
            quit: false,
            echo: true,
            on_error: OnSqlError::Continue,
            bail: false,
            timing: false,
            interactive: false,
            includes: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    /// Stops the script at its first error, SQL or client command, with
    /// exit status 1 (sqlite3's `-bail`, psql's `ON_ERROR_STOP`). A later
    /// `WHENEVER SQLERROR` in the script decides for SQL errors after it.
    pub fn bail(mut self, on: bool) -> Driver<'a> {
        self.bail = on;
        if on {
            self.on_error = OnSqlError::Exit(1);
        }
        self
    }

    /// Whether the table format echoes each statement and command (on by
    /// default; an interactive shell turns it off, the user just typed it).
    pub fn echo(mut self, on: bool) -> Driver<'a> {
        self.echo = on;
        self
    }

    /// Whether a person types the items at a prompt (off by default: a
    /// script). A script waits for a lock another client holds; a prompt
    /// is answered at once with `BLK-00100` instead (see the module doc).
    pub fn interactive(mut self, on: bool) -> Driver<'a> {
        self.interactive = on;
        self
    }

    /// Where errors go in the csv format (by default the output itself).
    pub fn error_output(mut self, err: &'a mut dyn Write) -> Driver<'a> {
        self.err = Some(err);
        self
    }

    /// The name of the current session.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Splits `text` and runs its items; stops at `\quit`.
    pub fn feed_text(&mut self, text: &str) -> Result<Flow> {
        for item in split(text) {
            if self.feed(item)? == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        Ok(Flow::Continue)
    }

    /// Runs one item. `Err` only when the output cannot be written: SQL
    /// errors are printed, never returned. `Flow::Quit` after `\quit`, or
    /// after an error that stops the script.
    pub fn feed(&mut self, item: Item) -> Result<Flow> {
        if self.quit {
            return Ok(Flow::Quit);
        }
        let flow = match item {
            Item::Sql(sql) => {
                self.dispatch(sql)?;
                Flow::Continue
            }
            Item::Command { cmd, line } => self.command(cmd, &line)?,
        };
        self.out.flush().map_err(out_err)?;
        // An error may have stopped the script (`stop`) as well.
        self.quit |= flow == Flow::Quit;
        Ok(if self.quit { Flow::Quit } else { flow })
    }

    /// Waits for every pending statement (printing it), rolls back every
    /// open transaction and ends the session threads.
    pub fn finish(self) -> Result<()> {
        self.finish_outcome().map(|_| ())
    }

    /// `finish`, then how the script went (its pending statements'
    /// errors included).
    pub fn finish_outcome(mut self) -> Result<Outcome> {
        // Sessions with nothing pending disconnect first (their open
        // transactions roll back), which releases the locks the pending
        // ones wait for; then each pending statement that can finish is
        // printed, in creation order, and its session disconnects too.
        // Waiting for them first would wait for a transaction nobody will
        // end (forever, with the shell's indefinite lock timeout).
        for i in 0..self.sessions.len() {
            if self.sessions[i].pending.is_none() {
                self.close(i);
            }
        }
        while let Some(first) = self.sessions.iter().position(|w| w.pending.is_some()) {
            // A cycle of pending sessions is a deadlock, whose victim is
            // woken: some session is always unblocked, unless the holder
            // is a transaction no session of this script runs.
            let next = (first..self.sessions.len())
                .find(|&i| self.sessions[i].pending.is_some() && !self.blocked(i))
                .unwrap_or(first);
            self.settle(next)?;
            self.close(next);
        }
        self.close_all();
        self.out.flush().map_err(out_err)?;
        Ok(self.outcome)
    }

    /// Counts a failed statement and applies `WHENEVER SQLERROR`.
    fn sql_failed(&mut self) {
        self.outcome.sql_errors += 1;
        if let OnSqlError::Exit(status) = self.on_error {
            self.stop(status);
        }
    }

    /// Counts an invalid client command; only `bail` stops for one.
    fn client_failed(&mut self) {
        self.outcome.client_errors += 1;
        if self.bail {
            self.stop(1);
        }
    }

    /// Ends the script after the current item (the first stop wins).
    fn stop(&mut self, status: u8) {
        if !self.quit {
            self.quit = true;
            self.outcome.exit = Some(status);
        }
    }

    fn command(&mut self, cmd: Command, line: &str) -> Result<Flow> {
        if self.echoes() && !matches!(cmd, Command::Echo(_)) {
            self.echo_lines(&self.current.clone(), line)?;
        }
        match cmd {
            Command::Connect(name) => {
                self.worker(&name)?;
                self.current = name;
            }
            Command::Wait(name) => match self.sessions.iter().position(|w| w.name == name) {
                Some(i) if self.blocked(i) && !self.may_wait(i) => {
                    let msg = self.blocked_message(i, "\\wait would never return");
                    self.client_error(line, SESSION_BLOCKED, &msg)?;
                }
                Some(i) => self.settle(i)?,
                // The first session exists before its first statement.
                None if name == "main" => {}
                None => {
                    let msg = format!("no session named {name}");
                    self.client_error(line, "SP2-0306", &msg)?;
                }
            },
            Command::Autotrace(a) => {
                let i = self.worker(&self.current.clone())?;
                self.sessions[i].autotrace = a;
            }
            Command::ArraySize(n) => {
                let i = self.worker(&self.current.clone())?;
                self.sessions[i].arraysize = n;
            }
            Command::Echo(text) => {
                if self.opts.format == Format::Table {
                    writeln!(self.out, "{text}").map_err(out_err)?;
                }
            }
            Command::Quit => return Ok(Flow::Quit),
            Command::WheneverSqlError(action) => self.on_error = action,
            Command::Help => {
                if self.opts.format == Format::Table {
                    writeln!(self.out, "{HELP}").map_err(out_err)?;
                }
            }
            Command::Describe(table) => {
                match self.db.read_catalog(|cat| describe::describe(cat, &table)) {
                    Some(secs) => self.sections(line, secs)?,
                    None => self.no_such_object(line, &table)?,
                }
            }
            Command::ListTables => {
                let secs = self.db.read_catalog(describe::tables)?;
                self.sections(line, secs)?;
            }
            Command::ListIndexes(table) => {
                let t = table.as_deref();
                match self.db.read_catalog(|cat| describe::indexes(cat, t)) {
                    Some(secs) => self.sections(line, secs)?,
                    None => self.no_such_object(line, t.unwrap_or_default())?,
                }
            }
            Command::Timing(on) => self.timing = on.unwrap_or(!self.timing),
            Command::Include(path) => return self.include(&path, line),
            Command::Invalid { code, reason } => self.client_error(line, code, &reason)?,
        }
        Ok(Flow::Continue)
    }

    /// Runs the script in `path` at this point, as if its lines were here
    /// (psql's `\i`, SQL*Plus' `@`). A `\quit` in it ends everything.
    fn include(&mut self, path: &str, line: &str) -> Result<Flow> {
        let file = std::path::PathBuf::from(path);
        if self.includes.len() >= MAX_INCLUDE_DEPTH || self.includes.contains(&file) {
            let msg = format!(
                "\\i {path}: scripts nest at most {MAX_INCLUDE_DEPTH} deep and may not include themselves"
            );
            self.client_error(line, "SP2-0309", &msg)?;
            return Ok(Flow::Continue);
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                // The OS's wording of "not found" varies; the usual case is
                // said the same everywhere.
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    _ => e.to_string(),
                };
                let msg = format!("unable to open file \"{path}\": {why}");
                self.client_error(line, "SP2-0310", &msg)?;
                return Ok(Flow::Continue);
            }
        };
        self.includes.push(file);
        let flow = self.feed_text(&text);
        self.includes.pop();
        flow
    }

    /// Prints the answer of a dictionary command (`DESCRIBE`, `\dt`,
    /// `\di`): in the table format each section under its title, in csv
    /// and json like query results.
    fn sections(&mut self, line: &str, secs: Vec<describe::Section>) -> Result<()> {
        for sec in secs {
            let r = SqlResult {
                columns: sec.columns,
                rows: sec.rows,
                message: sec.title,
                ..SqlResult::default()
            };
            match self.opts.format {
                Format::Table => {
                    let mut t = r.message.map(|m| format!("{m}\n")).unwrap_or_default();
                    if r.rows.is_empty() {
                        t.push_str("no rows selected\n");
                    } else {
                        t.push_str(&output::table(&r.columns, &r.rows));
                    }
                    t.push('\n');
                    self.out.write_all(t.as_bytes()).map_err(out_err)?;
                }
                Format::Csv => self.csv(Ok(r))?,
                Format::Json => {
                    let j = output::json_line(&self.current, line, &Ok(r), None);
                    self.out.write_all(j.as_bytes()).map_err(out_err)?;
                }
            }
        }
        Ok(())
    }

    /// `DESCRIBE` or `\di` of a table that does not exist, as SQL*Plus
    /// answers it.
    fn no_such_object(&mut self, line: &str, name: &str) -> Result<()> {
        let msg = format!("object {name} does not exist");
        self.client_error(line, describe::NO_SUCH_OBJECT, &msg)
    }

    /// The index of session `name`, started on first use.
    fn worker(&mut self, name: &str) -> Result<usize> {
        if let Some(i) = self.sessions.iter().position(|w| w.name == name) {
            return Ok(i);
        }
        let mut session = self.db.session();
        session.set_user(&self.opts.user);
        let waiting = session.wait_probe();
        let waiter = session.waiter_probe();
        let xid = Arc::new(AtomicU64::new(0));
        let published = xid.clone();
        let (jobs, job_rx) = mpsc::channel();
        let (reply_tx, replies) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("session {name}"))
            // Room for the deepest statement the parser accepts even in an
            // unoptimized build (see `sql::limits`); untouched stack costs
            // no memory.
            .stack_size(16 << 20)
            .spawn(move || serve(session, job_rx, reply_tx, published))
            .map_err(|e| Error::Internal(format!("starting session {name}: {e}")))?;
        self.sessions.push(Worker {
            name: name.to_string(),
            jobs,
            replies,
            waiting,
            waiter,
            xid,
            thread: Some(thread),
            pending: None,
            started: Instant::now(),
            autotrace: if self.opts.stats {
                Autotrace::On
            } else {
                Autotrace::Off
            },
            arraysize: crate::session::DEFAULT_FETCH_SIZE,
        });
        Ok(self.sessions.len() - 1)
    }

    /// Runs `sql` in the current session: it finishes (printed now) or is
    /// seen waiting for a lock (pending).
    fn dispatch(&mut self, sql: String) -> Result<()> {
        let name = self.current.clone();
        let i = self.worker(&name)?;
        if self.blocked(i) && !self.may_wait(i) {
            // Running it would mean waiting for the pending statement,
            // which waits for a transaction only another session can end:
            // the shell would freeze (or the script wait for itself).
            // Say so at once instead.
            let msg = self.blocked_message(i, "this statement was not run");
            let line = sql.lines().next().unwrap_or("").to_string();
            if self.echoes() {
                self.echo_lines(&name, &format!("{sql};"))?;
            }
            return self.client_error(&line, SESSION_BLOCKED, &msg);
        }
        self.settle(i)?;
        if self.quit {
            // The session's earlier statement failed and that ended the
            // script: this one never runs.
            return Ok(());
        }
        if self.echoes() {
            self.echo_lines(&name, &format!("{sql};"))?;
        }
        let w = &mut self.sessions[i];
        w.started = Instant::now();
        if w.jobs.send(Job::Run(sql.clone(), w.arraysize)).is_err() {
            return self.report(i, &sql, gone(&name), false);
        }
        loop {
            match w.replies.try_recv() {
                Ok(reply) => return self.report(i, &sql, reply, false),
                Err(TryRecvError::Disconnected) => return self.report(i, &sql, gone(&name), false),
                Err(TryRecvError::Empty) => {}
            }
            if w.waiting.load(Ordering::SeqCst) {
                w.pending = Some(sql);
                if self.opts.format == Format::Table {
                    writeln!(self.out, "[{name}] (waiting for a lock)\n").map_err(out_err)?;
                }
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether session `i`'s pending statement waits for a lock whose
    /// holder is still active: it cannot finish until another session
    /// commits or rolls back (or its lock timeout expires). The engine
    /// answers from its wait graph, so the answer does not depend on how
    /// fast the threads run.
    fn blocked(&self, i: usize) -> bool {
        let w = &self.sessions[i];
        w.pending.is_some()
            && w.waiting.load(Ordering::SeqCst)
            && self
                .db
                .lock_wait_blocked(Xid(w.waiter.load(Ordering::SeqCst)))
    }

    /// Whether a statement (or `\wait`) for blocked session `i` waits for
    /// its lock rather than being refused: only in a script, and only
    /// when no session of this script is on the wait-for chain from `i`
    /// (a transaction of another client holds the lock, and that client,
    /// not this script, will end it).
    fn may_wait(&self, i: usize) -> bool {
        if self.interactive {
            return false;
        }
        // Each session's transaction: the one it waits as while a
        // statement is pending, else the one its last statement left open.
        let ours: Vec<u64> = self
            .sessions
            .iter()
            .flat_map(|w| {
                let waiting = w.pending.is_some() && w.waiting.load(Ordering::SeqCst);
                let waiter = waiting.then(|| w.waiter.load(Ordering::SeqCst));
                [Some(w.xid.load(Ordering::SeqCst)), waiter]
            })
            .flatten()
            .filter(|&x| x != Xid::NONE.0)
            .collect();
        let mut cur = Xid(self.sessions[i].waiter.load(Ordering::SeqCst));
        // A chain is at most as long as there are transactions; the bound
        // only guards against a graph that changes while it is walked.
        for _ in 0..10_000 {
            match self.db.lock_wait_holder(cur) {
                Some(holder) if ours.contains(&holder.0) => return false,
                Some(holder) => cur = holder,
                None => return true,
            }
        }
        false
    }

    /// What to do about a blocked session, for its error line.
    fn blocked_message(&self, i: usize, consequence: &str) -> String {
        let w = &self.sessions[i];
        let first = w
            .pending
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        format!(
            "session {name} is waiting for a lock ({first}), {consequence}: \\connect the \
             session that holds the lock and COMMIT or ROLLBACK there, then \\wait {name}",
            name = w.name
        )
    }

    /// Waits for session `i`'s pending statement, if any, and prints it.
    fn settle(&mut self, i: usize) -> Result<()> {
        let w = &mut self.sessions[i];
        let Some(sql) = w.pending.take() else {
            return Ok(());
        };
        let reply = w.replies.recv().unwrap_or_else(|_| gone(&w.name));
        self.report(i, &sql, reply, true)
    }

    /// Prints one finished statement.
    fn report(&mut self, i: usize, sql: &str, reply: Reply, later: bool) -> Result<()> {
        if reply.result.is_err() {
            self.sql_failed();
        }
        let w = &self.sessions[i];
        let text = match self.opts.format {
            Format::Json => {
                let stats = match &reply.result {
                    Ok(r) => &r.stats,
                    Err(_) => &reply.stats,
                };
                output::json_line(
                    &w.name,
                    sql,
                    &reply.result,
                    self.opts.stats.then_some(stats),
                )
            }
            Format::Csv => {
                let stats = match &reply.result {
                    Ok(r) => r.stats.clone(),
                    Err(_) => reply.stats.clone(),
                };
                self.csv(reply.result)?;
                return match self.opts.stats {
                    true => self.csv_stats(&stats),
                    false => Ok(()),
                };
            }
            Format::Table => {
                let mut t = String::new();
                if later {
                    let first = sql.lines().next().unwrap_or("");
                    t.push_str(&format!("[{}] (finished) {first}\n", w.name));
                }
                t.push_str(&table_block(sql, &reply.result, w.autotrace));
                if self.timing {
                    t.push_str(&elapsed_line(w.started.elapsed()));
                }
                t.push('\n');
                t
            }
        };
        self.out.write_all(text.as_bytes()).map_err(out_err)
    }

    fn csv(&mut self, result: Result<SqlResult>) -> Result<()> {
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                let line = output::error_line(e.code(), &e.to_string());
                let err = self.err.as_deref_mut().unwrap_or(&mut *self.out);
                return err.write_all(line.as_bytes()).map_err(out_err);
            }
        };
        let mut text = String::new();
        if let Some(ex) = &r.explain {
            text.push_str(&output::csv_record(output::PLAN_COLUMNS));
            for l in &ex.lines {
                let v = output::plan_values(l);
                text.push_str(&output::csv_record(v.iter().map(String::as_str)));
            }
        } else if !r.columns.is_empty() {
            text.push_str(&output::csv_record(r.columns.iter().map(String::as_str)));
            for row in &r.rows {
                let v = output::csv_values(row);
                text.push_str(&output::csv_record(v.iter().map(String::as_str)));
            }
        } else {
            return Ok(());
        }
        if self.csv_sets > 0 {
            text.insert(0, '\n');
        }
        self.csv_sets += 1;
        self.out.write_all(text.as_bytes()).map_err(out_err)
    }

    /// `--stats` in csv: the statement's non-zero counters as a result set
    /// of its own, `statistic,value`, after its rows (if any).
    fn csv_stats(&mut self, stats: &StatsSnapshot) -> Result<()> {
        let mut text = output::csv_record(["statistic", "value"]);
        for (stat, v) in stats.nonzero() {
            let v = v.to_string();
            text.push_str(&output::csv_record([stat.name(), v.as_str()]));
        }
        if self.csv_sets > 0 {
            text.insert(0, '\n');
        }
        self.csv_sets += 1;
        self.out.write_all(text.as_bytes()).map_err(out_err)
    }

    /// A client command that could not be run, printed like a statement's
    /// error.
    fn client_error(&mut self, line: &str, code: &str, msg: &str) -> Result<()> {
        self.client_failed();
        let text = match self.opts.format {
            Format::Table => format!("{}\n", output::error_line(code, msg)),
            Format::Json => {
                let e = output::Obj::new()
                    .field("code", serde_json::Value::from(code))
                    .field("message", serde_json::Value::from(msg));
                let line = output::Obj::new()
                    .field("session", serde_json::Value::from(self.current.as_str()))
                    .field("sql", serde_json::Value::from(line))
                    .field("columns", serde_json::json!([]))
                    .field("rows", serde_json::json!([]))
                    .field("affected", serde_json::Value::Null)
                    .field("message", serde_json::Value::Null)
                    .field("error", e);
                format!("{}\n", line.end())
            }
            Format::Csv => {
                let line = output::error_line(code, msg);
                let err = self.err.as_deref_mut().unwrap_or(&mut *self.out);
                return err.write_all(line.as_bytes()).map_err(out_err);
            }
        };
        self.out.write_all(text.as_bytes()).map_err(out_err)
    }

    fn echoes(&self) -> bool {
        self.echo && self.opts.format == Format::Table
    }

    /// `[name] SQL> first line`, then `[name]   2  next line`, ….
    fn echo_lines(&mut self, name: &str, text: &str) -> Result<()> {
        for (n, l) in text.lines().enumerate() {
            if n == 0 {
                writeln!(self.out, "[{name}] SQL> {l}")
            } else {
                writeln!(self.out, "[{name}] {:>3}  {l}", n + 1)
            }
            .map_err(out_err)?;
        }
        Ok(())
    }

    /// Ends session `i`'s thread (it rolls back its open transaction) and
    /// waits for it, so the locks it held are free when this returns.
    fn close(&mut self, i: usize) {
        let w = &mut self.sessions[i];
        let _ = w.jobs.send(Job::Close);
        if let Some(t) = w.thread.take() {
            let _ = t.join();
        }
    }

    /// Ends every session thread (each rolls back its open transaction).
    fn close_all(&mut self) {
        for w in &self.sessions {
            let _ = w.jobs.send(Job::Close);
        }
        for w in &mut self.sessions {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Driver<'_> {
    /// A driver dropped without `finish` (an output error, a panic) still
    /// ends its threads, so no session outlives the database borrow.
    fn drop(&mut self) {
        self.close_all();
    }
}

/// The body of a session thread: run statements until told to close (or
/// until the driver is gone), then roll back whatever is open.
fn serve(mut s: Session, jobs: Receiver<Job>, replies: Sender<Reply>, xid: Arc<AtomicU64>) {
    while let Ok(Job::Run(sql, arraysize)) = jobs.recv() {
        s.set_fetch_size(arraysize);
        let before = s.stats();
        let result = s.execute(&sql);
        let stats = s.stats().diff(&before);
        // Published before the reply, so a driver that has the reply sees
        // the transaction the statement left open.
        xid.store(s.xid().unwrap_or(Xid::NONE).0, Ordering::SeqCst);
        if replies.send(Reply { result, stats }).is_err() {
            break;
        }
    }
    if s.xid().is_some() {
        // Silently, as a disconnect: a failure here leaves the transaction
        // to the session's drop and, failing that, to recovery.
        let _ = s.rollback();
    }
}

/// The reply for a session whose thread is gone (it panicked).
fn gone(name: &str) -> Reply {
    Reply {
        result: Err(Error::Internal(format!(
            "session {name} ended unexpectedly"
        ))),
        stats: StatsSnapshot::default(),
    }
}

/// SQL*Plus' `SET TIMING ON` line, `Elapsed: 00:00:01.25` (hours,
/// minutes, seconds to the hundredth).
fn elapsed_line(d: Duration) -> String {
    let cs = d.as_millis() / 10;
    let (h, m, s, c) = (cs / 360_000, cs / 6000 % 60, cs / 100 % 60, cs % 100);
    format!("Elapsed: {h:02}:{m:02}:{s:02}.{c:02}\n")
}

fn out_err(e: std::io::Error) -> Error {
    Error::io("<script output>", e)
}

/// A finished statement in the table format (without the trailing blank
/// line).
fn table_block(sql: &str, result: &Result<SqlResult>, autotrace: Autotrace) -> String {
    let r = match result {
        Ok(r) => r,
        Err(e) => return output::error_line(e.code(), &e.to_string()),
    };
    let mut t = String::new();
    if let Some(ex) = &r.explain {
        t.push_str(&ex.render());
    } else if !r.columns.is_empty() {
        let n = r.rows.len() as u64;
        if autotrace != Autotrace::TraceOnly && n > 0 {
            t.push_str(&output::table(&r.columns, &r.rows));
            t.push('\n');
        }
        let msg = r
            .message
            .clone()
            .unwrap_or_else(|| output::rows_message(n, "selected"));
        t.push_str(&format!("{msg}\n"));
    } else if let Some(n) = r.affected {
        let msg = r
            .message
            .clone()
            .unwrap_or_else(|| output::dml_message(sql, n));
        t.push_str(&format!("{msg}\n"));
    } else if let Some(m) = &r.message {
        t.push_str(&format!("{m}\n"));
    }
    // AUTOTRACE reports on queries and DML, as in SQL*Plus.
    let traced = !r.columns.is_empty() || r.affected.is_some();
    if autotrace != Autotrace::Off && traced {
        t.push('\n');
        t.push_str(&output::statistics(&r.stats));
    }
    t
}
