//! `blocklab plan-diff`: the access paths of the same statements in two
//! databases (a test and a production copy, say), compared the DB2 way.
//! The comparison itself is `blocklab::plandiff`; this file reads the
//! statement and impact files, opens the two databases and prints.
//!
//! Statements are split like a script (`;` ends one, outside quotes and
//! comments); client commands (`\connect`, `SET AUTOTRACE`, …) mean
//! nothing here and are skipped with a warning on stderr.
//!
//! Exit status: 0 every plan is the same; 1 a plan changed or a statement
//! could not be explained in one of the databases; 2 the command could not
//! run (a missing database, an unreadable file, a bad impact line).

use std::io::Write;
use std::path::PathBuf;

use blocklab::plandiff::{diff_databases, render_table, ImpactTable, Status};
use blocklab::script::{split, Item};
use blocklab::{Config, Database};
use clap::{Args, ValueEnum};

use crate::{engine, require_database, CmdResult, Failure};

#[derive(Args)]
pub(crate) struct PlanDiffArgs {
    /// Database A (for instance the test database).
    #[arg(long = "a", value_name = "DIR")]
    a: PathBuf,
    /// Database B (for instance a copy of production).
    #[arg(long = "b", value_name = "DIR")]
    b: PathBuf,
    /// The statements to compare, separated by `;`.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: PathBuf,
    /// Impact overrides: one `COLUMN=high|medium|low|ignore` per line.
    #[arg(long, value_name = "FILE")]
    impact: Option<PathBuf>,
    /// Also execute each SELECT in both databases (its own plan, and the
    /// other database's plan forced by a hint when they differ) and show
    /// the consistent gets, db block gets and rows of each.
    #[arg(long)]
    run: bool,
    /// table (for people) or json (one object per statement per line).
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    format: DiffFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Table,
    Json,
}

pub(crate) fn run(args: &PlanDiffArgs) -> CmdResult {
    let impact = match &args.impact {
        None => ImpactTable::default(),
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("reading the impact file {}: {e}", f.display()))?;
            ImpactTable::from_overrides(&text)
                .map_err(engine(&format!("the impact file {}", f.display())))?
        }
    };
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("reading {}: {e}", args.file.display()))?;
    let mut statements = Vec::new();
    for item in split(&text) {
        match item {
            Item::Sql(sql) => statements.push(sql),
            Item::Command { line, .. } => {
                eprintln!("plan-diff: skipping the client command {:?}", line.trim())
            }
        }
    }
    require_database(&args.a)?;
    require_database(&args.b)?;
    // One process must never open one database twice: both handles would
    // write the same files with separate caches.
    let same = match (args.a.canonicalize(), args.b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if same {
        return Err(Failure::Error(format!(
            "--a and --b are the same database ({})",
            args.a.display()
        )));
    }
    let open = |dir: &PathBuf| {
        let cfg = Config {
            background_writer: false,
            ..Config::default()
        };
        Database::open(dir, cfg).map_err(engine(&format!("opening {}", dir.display())))
    };
    let a = open(&args.a)?;
    let b = open(&args.b)?;
    let diffs = diff_databases(&a, &b, &statements, &impact, args.run)
        .map_err(engine("comparing the plans"))?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        DiffFormat::Table => {
            let header = format!(
                "plan-diff  A = {}  B = {}\n",
                args.a.display(),
                args.b.display()
            );
            out.write_all(header.as_bytes())
                .and_then(|_| out.write_all(render_table(&diffs, &impact).as_bytes()))
        }
        DiffFormat::Json => diffs
            .iter()
            .try_for_each(|d| writeln!(out, "{}", d.to_json())),
    };
    written
        .and_then(|_| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    a.close().map_err(engine("closing database A"))?;
    b.close().map_err(engine("closing database B"))?;
    if diffs.iter().all(|d| d.status() == Status::Same) {
        Ok(())
    } else {
        Err(Failure::Check)
    }
}
