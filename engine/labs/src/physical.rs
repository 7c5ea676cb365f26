//! Labs on the physical mechanisms under the SQL: consistent reads and
//! snapshot too old (C06, C07), locks (C08), clustering and batched rowid
//! access (C30, C32), delayed block cleanout (C34), and undo growth behind
//! a long transaction (C40).
//!
//! | lab | file | what it varies | what it counts |
//! |---|---|---|---|
//! | C06 | `read_consistency.rs` | committed changes since a query's snapshot | CR blocks created, undo records applied |
//! | C07 | `read_consistency.rs` | undo size × retention × autoextend × change; a reused slot of an uncleaned block | queries failing with ORA-01555 |
//! | C08 | `locks.rs` | lock hold time; row vs table-exclusive lock | enqueue waits; writer throughput (time) |
//! | C30 | `clustering.rs` | cluster ratio of the same rows and index | table blocks visited by rowid |
//! | C32 | `clustering.rs` | cluster ratio; rowids sorted or not | table blocks visited, physical reads |
//! | C34 | `cleanout.rs` | first vs second full scan after a big update | cleanouts, redo size of a SELECT |
//! | C40 | `undo_growth.rs` | a long open transaction; autoextend | undo size, writers failing with ORA-30036 |
//!
//! Every lab here starts from `LabCtx::config()` (no background writer),
//! drives its sessions from one thread wherever the claim allows it, and
//! draws its data from [`Rng::xorshift64`](crate::rng::Rng::xorshift64) seeded with `LabCtx::seed`, so its counters
//! repeat exactly. C08's throughput is the only evidence that needs
//! threads; it is a timing and is never pinned.

mod cleanout;
mod clustering;
mod locks;
mod read_consistency;
mod undo_growth;

pub use cleanout::{c34_verdict, C34Evidence, C34Scan};
pub use clustering::{c30_verdict, c32_verdict, C30Evidence, C30Point, C32Evidence, C32Point};
pub use locks::{c08_verdict, C08Evidence, C08Queue, C08Throughput};
pub use read_consistency::{
    c06_verdict, c07_verdict, C06Evidence, C06Point, C07Cleanout, C07Evidence, C07Run,
    C07_LONG_RETENTION_MS,
};
pub use undo_growth::{c40_verdict, C40Evidence, C40Scenario};

use super::Lab;

pub(super) fn labs() -> Vec<Lab> {
    let mut v = Vec::new();
    v.extend(read_consistency::labs());
    v.extend(locks::labs());
    v.extend(clustering::labs());
    v.extend(cleanout::labs());
    v.extend(undo_growth::labs());
    v
}

/// A text of exactly `len` characters, so every row has the same width and
/// a block holds the same number of rows.
pub(crate) fn pad(len: usize) -> String {
    "x".repeat(len)
}
