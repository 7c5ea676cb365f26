//! `blocklab logminer`: the redo of a database as a listing, JSON or
//! re-executable SQL (`blocklab::logminer` does the work).
//!
//! ```text
//!   blocklab logminer --db DIR --table t                 # who did what to t, when
//!   blocklab logminer --db DIR --from-scn 120 --format sql > replay.sql
//! ```
//!
//! Redo that no longer exists is reported first (`-- redo before … is no
//! longer available: log recycled, not archived`); that is information, not
//! a failure, so the exit status stays 0.

use std::io::Write;
use std::path::PathBuf;

use blocklab::logminer::{mine, render_json, render_sql, render_table, MineOptions};
use blocklab::Scn;
use clap::{Args, ValueEnum};

use crate::{engine, require_database, CmdResult};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MineFormat {
    /// One line per record: SCN, time (UTC), transaction, user, operation,
    /// table, rowid, details.
    Table,
    /// One JSON object with the gaps, warnings and records.
    Json,
    /// SQL_REDO: statements that redo the committed changes, with COMMITs.
    Sql,
}

#[derive(Args)]
pub(crate) struct LogminerArgs {
    /// Database directory (closed, or open in another process: only read).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// Only records with this SCN or a later one.
    #[arg(long)]
    from_scn: Option<u64>,
    /// Only records up to this SCN (transactions committed after it count
    /// as not committed).
    #[arg(long)]
    to_scn: Option<u64>,
    /// Only records about this table (and their transactions' commits).
    #[arg(long)]
    table: Option<String>,
    /// Archive directory to read as well (repeatable; default: the one the
    /// database was configured with).
    #[arg(long)]
    archive: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: MineFormat,
}

pub(crate) fn run(a: &LogminerArgs) -> CmdResult {
    require_database(&a.db)?;
    let opts = MineOptions {
        from_scn: a.from_scn.map(Scn),
        to_scn: a.to_scn.map(Scn),
        table: a.table.clone(),
        archive: a.archive.clone(),
    };
    let mined = mine(&a.db, &opts).map_err(engine(&format!("mining {}", a.db.display())))?;
    let text = match a.format {
        MineFormat::Table => render_table(&mined),
        MineFormat::Json => render_json(&mined) + "\n",
        MineFormat::Sql => render_sql(&mined),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    Ok(())
}
