//! `blocklab backup` and `blocklab recover`: a cold backup, and recovery of
//! a backup to an SCN (`blocklab::backup` does the work).
//!
//! ```text
//!   blocklab backup  --db DIR --to BACKUP
//!   blocklab logminer --db DIR --table t            # find the SCN of the mistake
//!   blocklab recover --backup BACKUP --to NEW --until-scn 4711 --db DIR
//! ```

use std::path::PathBuf;

use blocklab::backup::{backup, recover_until};
use blocklab::logminer::iso_time;
use blocklab::Scn;
use clap::Args;

use crate::{engine, CmdResult};

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// Database directory (it is opened and closed: refused while another
    /// process has it open).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// Where the backup goes (a new or empty directory).
    #[arg(long)]
    to: PathBuf,
}

#[derive(Args)]
pub(crate) struct RecoverArgs {
    /// A directory written by `blocklab backup`.
    #[arg(long)]
    backup: PathBuf,
    /// Where the recovered database goes (a new or empty directory).
    #[arg(long)]
    to: PathBuf,
    /// Keep exactly the transactions committed at or before this SCN.
    #[arg(long)]
    until_scn: u64,
    /// Archive directory with the redo since the backup (repeatable;
    /// default: the one the database, or the backup, was configured with).
    #[arg(long)]
    archive: Vec<PathBuf>,
    /// The live database, whose online logs hold the newest redo.
    #[arg(long)]
    db: Option<PathBuf>,
}

pub(crate) fn run_backup(a: &BackupArgs) -> CmdResult {
    let info = backup(&a.db, &a.to).map_err(engine(&format!("backing up {}", a.db.display())))?;
    let bytes: u64 = info.files.iter().map(|f| f.size).sum();
    println!(
        "backup of database {:016x} in {}: SCN {}, checkpoint LSN {}, {} files, {bytes} bytes, taken {}",
        info.db_id,
        info.dir.display(),
        info.scn.0,
        info.checkpoint_lsn.0,
        info.files.len(),
        iso_time(info.time_ms)
    );
    Ok(())
}

pub(crate) fn run_recover(a: &RecoverArgs) -> CmdResult {
    let r = recover_until(
        &a.backup,
        &a.to,
        Scn(a.until_scn),
        &a.archive,
        a.db.as_deref(),
    )
    .map_err(engine(&format!(
        "recovering {} to SCN {}",
        a.backup.display(),
        a.until_scn
    )))?;
    println!(
        "recovered {} to SCN {} in {}: backup at SCN {}, redo LSN {}..{} applied up to SCN {} \
         ({} records, {} archived and {} online log segments), {} rolled back; \
         new database id {:016x}",
        a.backup.display(),
        r.until.0,
        a.to.display(),
        r.backup_scn.0,
        r.from_lsn.0,
        r.to_lsn.0,
        r.last_applied_scn.0,
        r.recovery.records_read,
        r.segments_archived,
        r.segments_online,
        plural(r.recovery.transactions_rolled_back, "transaction"),
        r.new_db_id
    );
    for w in &r.warnings {
        eprintln!("recover: warning: {w}");
    }
    Ok(())
}

/// `1 transaction`, `2 transactions`.
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
