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
//! tail from a corrupt middle; in archive mode its archiver copies each
//! filled log file away before the ring reuses it ([`log::archiver`]).
//! [`logset`] reads the whole surviving history (rings plus archives) for
//! the log miner and media recovery, naming the holes. What a payload
//! *means* is decided elsewhere ([`record`]).
//!
//! Invariant: a block is written to a data file only after the redo of its
//! last change is durable (`RedoLog::durable_lsn` covers it); the buffer cache
//! enforces this with `RedoLog::flush`.

pub mod log;
pub mod logset;
pub mod record;

pub use log::archiver::{archive_file_name, parse_archive_file_name};
pub use log::{
    create_log_files, read_log, LogConfig, LogReader, LogRecord, LogScan, LogStats, RedoLog, Ring,
    SegmentSource,
};
pub use logset::{Gap, History, LogSet};
