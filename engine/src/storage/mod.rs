//! The storage layer: bytes on disk, and nothing else.
//!
//! It owns files and their durability: which bytes are in a file, which of
//! them survive a crash, and whether the bytes read back are the bytes written.
//! It never knows what a row, an index entry or a transaction is; the buffer
//! cache and everything above give meaning to the blocks.
//!
//! ```text
//!   engine (buffer cache, redo, recovery, verify)
//!        │                      │
//!   DataFile (blocks+CRC)   ControlFile (2 slots)
//!        └──────────┬───────────┘
//!             Backend / FileHandle  ── OsBackend (real files)
//!                                   ├─ ReadOnlyBackend (real files, O_RDONLY, offline tools)
//!                                   └─ SimBackend (in memory: crash, faults, bit rot)
//! ```
//!
//! - [`backend`]: the I/O seam, positional reads and writes, explicit syncs.
//! - [`sim`]: the crashable in-memory backend used by crash and fault tests.
//! - [`datafile`]: fixed-size blocks, each with a CRC32 in its first 4 bytes.
//! - [`doublewrite`]: the torn-write protection of blocks written from the
//!   buffer cache (each goes to a synced slot before its place).
//! - [`control`]: the control file, rewritten atomically at each checkpoint.
//! - [`owner`]: the directory lock that gives a database one owner at a time.
//! - [`readonly`]: a directory opened only for reading (`verify`, the log
//!   miner): `O_RDONLY` handles, positional reads, nothing created.
//!
//! Invariant: every byte the engine writes goes through a `FileHandle`, so a
//! `SimBackend` sees (and can fail, drop or observe) all of them.
//!
//! Nothing is memory-mapped, not even by the offline tools (an earlier
//! version mapped the data file for `verify` with `memmap2`). A mapped page
//! the kernel cannot supply kills the reading process with SIGBUS instead
//! of returning an error: a file shrunk by someone else, an I/O error, or a
//! hole of a sparse data file on a full tmpfs (where even reading a hole
//! needs a page). The tools read each file once, front to back, so a
//! positional read into a buffer costs nothing a mapping would save, and a
//! failure is a `Result` like any other. The crate forbids `unsafe` code.

pub mod backend;
pub mod control;
pub mod datafile;
pub mod doublewrite;
pub mod owner;

/// The data file of a database directory.
pub const DATA_FILE: &str = "data01.dbf";
/// The data file's torn-write protection (`doublewrite`).
pub const DOUBLEWRITE_FILE: &str = "doublewrite.dbf";
pub mod readonly;
pub mod sim;

pub use backend::{Backend, FileHandle, OsBackend};
pub use control::{ControlData, ControlFile};
pub use datafile::{check_crc, stamp_crc, DataFile, CRC_LEN};
pub use owner::{lock_dir, lock_dir_shared, DirLock, LOCK_FILE};
pub use readonly::ReadOnlyBackend;
pub use sim::{Fault, Keep, Pending, SimBackend};
