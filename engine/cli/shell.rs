//! `blocklab shell` and `blocklab sql`: the SQL front ends of the binary.
//!
//! Both run scripts through `blocklab::script` (see its module doc for the
//! script language and the output formats); this file only finds the
//! script text, opens the database and, for the interactive shell, reads
//! lines with rustyline.
//!
//! - `shell` on a terminal: line editing and history
//!   (`$HOME/.blocklab_history`, else `.blocklab_history` in the database
//!   directory); a statement may span lines until its `;`; the prompt is
//!   `SQL> ` (`[NAME] SQL> ` in another session than `main`), `  2 ` on
//!   continuation lines. Ctrl-C drops the statement being typed; Ctrl-D or
//!   `\quit` leaves. With stdin not a terminal, stdin is the script.
//! - `sql` runs `-e SQL`, `-f FILE` or stdin as one script, in the chosen
//!   format.
//!
//! The engine's configuration is the default, then the script's
//! `-- blocklab: set key=value` header lines (when the whole script is known
//! up front: not in the interactive shell), then each `--set key=value`.
//!
//! Exit status ([`EXIT_STATUS`], also in `--help`): a script (`-f`, stdin,
//! the interactive shell) runs to its end and exits 0 whatever failed in
//! it, as `psql -f` does, because workshop scripts fail on purpose; `sql -e`
//! exits 1 if a statement failed, as `sqlite3 DB "SQL"` does; `--bail`
//! stops at the first error with 1; `WHENEVER SQLERROR EXIT …` stops with
//! the status it names. 2 means the command could not run (bad arguments,
//! an unreadable script, a database that does not open).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use blocklab::script::{Driver, Flow, Format, Outcome, ScriptOptions, Splitter};
use blocklab::{Config, Database};
use clap::Args;
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use crate::{engine, CmdResult, Failure};

/// The exit status contract of `sql` and `shell`, shown by `--help`.
pub(crate) const EXIT_STATUS: &str = "\
Exit status:
  0  the script ran (a script, -f or stdin, exits 0 even if statements failed)
  1  sql -e: a statement failed; --bail: the first error stopped the script;
     WHENEVER SQLERROR EXIT FAILURE stopped it
  n  WHENEVER SQLERROR EXIT n stopped the script (EXIT or EXIT SUCCESS: 0)
  2  the command could not run (bad arguments, unreadable script, a database
     that does not open or is open in another process)";

#[derive(Args)]
pub(crate) struct ShellArgs {
    /// Database directory (created if missing; refused while another
    /// process has it open).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// The user every session runs as (recorded in redo).
    #[arg(long, default_value_t = crate::default_user())]
    user: String,
    /// An engine setting, `--set undo_blocks=64` (repeatable; see `Config`).
    #[arg(long = "set", value_name = "KEY=VALUE", long_help = set_help())]
    set: Vec<String>,
    /// Stop at the first error (SQL or client command) with exit status 1.
    #[arg(long)]
    bail: bool,
}

#[derive(Args)]
pub(crate) struct SqlArgs {
    /// Database directory (created if missing; refused while another
    /// process has it open).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// The user every session runs as (recorded in redo).
    #[arg(long, default_value_t = crate::default_user())]
    user: String,
    /// An engine setting, `--set undo_blocks=64` (repeatable; see `Config`).
    /// A script's `-- blocklab: set key=value` header lines apply first.
    #[arg(long = "set", value_name = "KEY=VALUE", long_help = set_help())]
    set: Vec<String>,
    /// The script to run, as text (statements end with `;`).
    #[arg(short = 'e', long = "execute", conflicts_with = "file")]
    execute: Option<String>,
    /// The script to run, from a file (without -e or -f: stdin).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Output format: table (SQL*Plus-like), csv or json (one object per
    /// statement per line).
    #[arg(long, default_value = "table")]
    format: Format,
    /// Statistics for every statement (AUTOTRACE ON in table format, a
    /// `stats` object in json, in csv a second CSV block `statistic,value`
    /// after each statement).
    #[arg(long)]
    stats: bool,
    /// Stop at the first error (SQL or client command) with exit status 1,
    /// as sqlite3's -bail (psql: ON_ERROR_STOP).
    #[arg(long)]
    bail: bool,
}

/// The long help of `--set`: every setting with its range.
fn set_help() -> String {
    format!(
        "An engine setting, `--set undo_blocks=64` (repeatable), after a script's \
         `-- blocklab: set key=value` header lines. A value out of its range is an \
         error; block_size, log_file_size, log_files, undo_segments and undo_blocks are \
         fixed when the database is created, and giving another value later is an error \
         (the same value is accepted); the others take effect on every open.\n\n{}",
        Config::settings_help()
    )
}

/// `blocklab sql`: one script, one format.
pub(crate) fn run_sql(a: &SqlArgs) -> CmdResult {
    let text = match (&a.execute, &a.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| format!("reading the script {}: {e}", f.display()))?,
        (None, None) => read_stdin()?,
    };
    let opts = ScriptOptions {
        format: a.format,
        stats: a.stats,
        user: a.user.clone(),
    };
    let outcome = match open_or_attach(&a.db, config(Some(&text), &a.set)?, &opts, false)? {
        Opened::Owner(db) => run_text(&db, &text, opts, a.bail)?,
        Opened::Attached(mut conn) => run_attached(&mut conn, &text)?,
    };
    // -e is one command line, judged like sqlite3's: any error fails it.
    let one_liner = a.execute.is_some();
    exit_status(outcome, one_liner)
}

/// The exit status of a script that ran (see `EXIT_STATUS`).
fn exit_status(outcome: Outcome, fail_on_any_error: bool) -> CmdResult {
    match outcome.exit {
        Some(0) => Ok(()),
        Some(status) => Err(Failure::Exit(status)),
        None if fail_on_any_error && outcome.any_error() => Err(Failure::Check),
        None => Ok(()),
    }
}

/// `blocklab shell`: interactive on a terminal, else stdin as a script.
pub(crate) fn run_shell(a: &ShellArgs) -> CmdResult {
    let opts = ScriptOptions {
        format: Format::Table,
        stats: false,
        user: a.user.clone(),
    };
    if !std::io::stdin().is_terminal() {
        let text = read_stdin()?;
        let outcome = match open_or_attach(&a.db, config(Some(&text), &a.set)?, &opts, false)? {
            Opened::Owner(db) => run_text(&db, &text, opts, a.bail)?,
            Opened::Attached(mut conn) => run_attached(&mut conn, &text)?,
        };
        return exit_status(outcome, false);
    }
    let outcome = match open_or_attach(&a.db, config(None, &a.set)?, &opts, true)? {
        // The first shell on a database owns it and lets others attach.
        Opened::Owner(db) => {
            crate::serve::listen(&db, &a.db, || interactive(&db, &a.db, opts, a.bail))??
        }
        Opened::Attached(mut conn) => interactive_attached(&mut conn, &a.db)?,
    };
    exit_status(outcome, false)
}

/// A database opened by this process, or a connection to the process
/// that has it open (`serve`).
enum Opened {
    Owner(Database),
    Attached(crate::serve::Attached),
}

/// Opens `dir`; when another process owns it and listens on its socket,
/// attaches to that process instead (a new session there), as a person at
/// a prompt (`interactive`: the shell on a terminal) or as a script (`sql`
/// even when run from a terminal, a shell reading a pipe): the owner
/// echoes a script's statements and lets it wait for another client's
/// lock, as a local script would.
fn open_or_attach(
    dir: &Path,
    cfg: Config,
    opts: &ScriptOptions,
    interactive: bool,
) -> Result<Opened, String> {
    match Database::open(dir, cfg) {
        Ok(db) => Ok(Opened::Owner(db)),
        Err(e @ blocklab::Error::Locked { .. }) => {
            match crate::serve::Attached::connect(dir, opts, interactive) {
                Some(conn) => Ok(Opened::Attached(conn)),
                None => Err(engine(&format!("opening {}", dir.display()))(e)),
            }
        }
        Err(e) => Err(engine(&format!("opening {}", dir.display()))(e)),
    }
}

/// Sends a whole script to the owner and prints what it answers.
fn run_attached(conn: &mut crate::serve::Attached, text: &str) -> Result<Outcome, String> {
    let mut out = std::io::stdout().lock();
    for line in text.lines() {
        conn.send(line)?;
    }
    conn.finish();
    loop {
        if let crate::serve::Reply::End(o) = conn.reply(&mut out)? {
            let _ = out.flush();
            return Ok(o);
        }
    }
}

/// The line-editing loop of a shell attached to another process.
fn interactive_attached(conn: &mut crate::serve::Attached, dir: &Path) -> Result<Outcome, String> {
    let mut rl = DefaultEditor::new().map_err(|e| format!("starting the line editor: {e}"))?;
    println!(
        "blocklab shell attached to the process that has {} open (a new session \
         there). `help` lists the commands; \\quit leaves.",
        dir.display()
    );
    let mut out = std::io::stdout();
    let (mut session, mut continuing) = ("main".to_string(), false);
    loop {
        let prompt = match (continuing, session.as_str()) {
            (true, _) => "  > ".to_string(),
            (false, "main") => "SQL> ".to_string(),
            (false, s) => format!("[{s}] SQL> "),
        };
        let line = match rl.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        if !line.trim().is_empty() {
            let _ = rl.add_history_entry(line.as_str());
        }
        conn.send(&line)?;
        match conn.reply(&mut out)? {
            crate::serve::Reply::Ready {
                session: s,
                continuing: c,
            } => (session, continuing) = (s, c),
            crate::serve::Reply::End(o) => return Ok(o),
        }
        let _ = out.flush();
    }
    conn.finish();
    loop {
        if let crate::serve::Reply::End(o) = conn.reply(&mut out)? {
            return Ok(o);
        }
    }
}

/// `blocklab serve`'s open: the command line's settings, shell defaults.
pub(crate) fn open_for_serve(dir: &Path, sets: &[String]) -> Result<Database, String> {
    open(dir, config(None, sets)?)
}

fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the script from stdin: {e}"))?;
    Ok(text)
}

/// The default configuration, then the script's header settings, then
/// the command line's `--set`s. Unless one of them gives `lock_timeout`,
/// a lock wait lasts until the holder ends, as in Oracle: a two-session
/// exercise goes at typing speed, and a statement typed into a session
/// that waits is answered at once (see `blocklab::script`) instead of
/// freezing the shell.
fn config(script: Option<&str>, sets: &[String]) -> Result<Config, String> {
    let mut cfg = Config {
        lock_timeout: std::time::Duration::MAX,
        ..Config::default()
    };
    if let Some(text) = script {
        cfg.apply_script_header(text)
            .map_err(engine("the script's settings"))?;
    }
    for kv in sets {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--set expects KEY=VALUE, got {kv:?}"))?;
        cfg.set(k, v).map_err(engine("--set"))?;
    }
    cfg.validate().map_err(engine("--set"))?;
    Ok(cfg)
}

fn open(dir: &Path, cfg: Config) -> Result<Database, String> {
    Database::open(dir, cfg).map_err(engine(&format!("opening {}", dir.display())))
}

/// Runs a whole script; in csv, errors go to stderr so stdout stays csv.
fn run_text(db: &Database, text: &str, opts: ScriptOptions, bail: bool) -> Result<Outcome, String> {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    let mut d = Driver::new(db, opts, &mut out)
        .error_output(&mut err)
        .bail(bail);
    d.feed_text(text).map_err(engine("writing the output"))?;
    d.finish_outcome().map_err(engine("writing the output"))
}

/// The line-editing loop.
fn interactive(
    db: &Database,
    dir: &Path,
    opts: ScriptOptions,
    bail: bool,
) -> Result<Outcome, String> {
    let mut rl = DefaultEditor::new().map_err(|e| format!("starting the line editor: {e}"))?;
    let history = history_file(dir);
    // A missing history file is the normal first run.
    let _ = rl.load_history(&history);
    println!(
        "blocklab shell on {} as {}. Statements end with ';'. `help` lists the \
         commands (DESCRIBE t, SHOW TABLES, \\connect NAME, \\timing on, ...); \
         \\quit leaves.",
        dir.display(),
        opts.user
    );
    let mut out = std::io::stdout();
    let mut driver = Driver::new(db, opts, &mut out)
        .echo(false)
        .interactive(true)
        .bail(bail);
    let mut splitter = Splitter::new();
    let mut line_no = 1;
    loop {
        let prompt = if splitter.is_continuing() {
            line_no += 1;
            format!("{line_no:>3} ")
        } else {
            line_no = 1;
            match driver.current() {
                "main" => "SQL> ".to_string(),
                other => format!("[{other}] SQL> "),
            }
        };
        let line = match rl.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                splitter.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("blocklab: reading input: {e}");
                break;
            }
        };
        if !line.trim().is_empty() {
            let _ = rl.add_history_entry(line.as_str());
        }
        let mut quit = false;
        for item in splitter.push_line(&line) {
            if driver.feed(item).map_err(engine("writing the output"))? == Flow::Quit {
                quit = true;
                break;
            }
        }
        if quit {
            break;
        }
    }
    // A statement typed halfway when the user leaves is dropped, not run.
    let outcome = driver
        .finish_outcome()
        .map_err(engine("writing the output"))?;
    if let Err(e) = rl.save_history(&history) {
        eprintln!(
            "blocklab: could not save the history to {}: {e}",
            history.display()
        );
    }
    let _ = std::io::stdout().flush();
    Ok(outcome)
}

/// `$HOME/.blocklab_history`, or the database directory without a home.
fn history_file(db: &Path) -> PathBuf {
    match std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) {
        Some(home) => PathBuf::from(home).join(".blocklab_history"),
        None => db.join(".blocklab_history"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::config;

    #[test]
    fn lock_waits_are_indefinite_unless_a_timeout_is_given() {
        assert_eq!(config(None, &[]).unwrap().lock_timeout, Duration::MAX);
        let header = "-- blocklab: set lock_timeout=250\nSELECT 1;";
        assert_eq!(
            config(Some(header), &[]).unwrap().lock_timeout,
            Duration::from_millis(250)
        );
        let sets = ["lock_timeout=100".to_string()];
        assert_eq!(
            config(None, &sets).unwrap().lock_timeout,
            Duration::from_millis(100)
        );
        let sets = ["lock_timeout=wait".to_string()];
        assert_eq!(
            config(Some(header), &sets).unwrap().lock_timeout,
            Duration::MAX
        );
    }
}
