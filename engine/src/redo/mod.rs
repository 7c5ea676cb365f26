//! Redo: the write-ahead log that makes changes durable.
//!
//! Every change to a block (data, index, undo) is first described by a redo
//! record appended to the log; a commit is durable exactly when its commit
//! record has been synced ("fast commit": the changed blocks themselves are
//! written later). After a crash, recovery replays the redo from the last
//! checkpoint onto the data files.
//!
//! ```text
//!   session ──append──► log buffer ──log writer──► redo01.log redo02.log ... (ring)
//!      └──flush(commit end)── waits for the shared sync (group commit)
//! ```
//!
//! This module owns the byte stream only: [`log`] frames opaque payloads,
//! hands out SCNs, writes and syncs them, and reads them back, telling a torn
//! tail from a corrupt middle. What a payload *means* is decided elsewhere.
//!
//! Invariant: a block is written to a data file only after the redo of its
//! last change is durable (`RedoLog::durable_lsn` covers it); the buffer cache
//! enforces this with `RedoLog::flush`.

pub mod log;
pub mod record;

pub use log::{
    create_log_files, read_log, LogConfig, LogReader, LogRecord, LogScan, LogStats, RedoLog,
};
