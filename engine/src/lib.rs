//! blocklab: a small, real, block-based storage engine for teaching.
//!
//! ## Layers
//!
//! The modules form layers, and each layer names only the layers below it
//! (`tests/layers.rs` checks every `use` line and inline `crate::` path
//! against this table, and that no modules name each other in a cycle).
//! Read bottom-up: each layer can be understood without the ones above.
//!
//! | Layer | Modules |
//! |---|---|
//! | 1 foundation | `ids`, `error`, `config`, `clock`, `stats`, `encoding`, `value`, `lock` |
//! | 2 access rules | `access` |
//! | 3 storage | `storage`, `block`, `redo`, `buffer` |
//! | 4 kernel | `kernel`, `space` |
//! | 5 transactions | `undo`, `txn`, `recovery` |
//! | 6 access methods | `heap`, `btree` |
//! | 7 dictionary | `catalog`, `constraint`, `dml`, `analyze` |
//! | 8 execution | `operators` |
//! | 9 SQL | `context`, `sql`, `session` |
//! | 10 database and tools | `db`, `alert`, `backup`, `verify`, `logminer`, `plandiff`, `script` |
//!
//! `access` holds pure functions over values (predicates, matching and
//! screening, the cost formula) and sits low on purpose: the dictionary
//! stores CHECK predicates and optimizer statistics in its types, and
//! constraint enforcement evaluates them, so placing it beside the
//! operators (which run its plans) would make the dictionary name a layer
//! above it.
//!
//! A `kernel::Kernel` is one instance: its buffer cache, its redo log and
//! log writer, its undo segments and transaction table state. The data file
//! and the control file (`storage`) are shared by reference, so a second
//! instance over the same files is a second `Kernel` value. `db::Database`
//! holds one instance today, plus the dictionary (`catalog::Schema`) and
//! the SQL layer's shared state (`sql::Shared`) above it.
//!
//! The README below is compiled as a doctest, so its example cannot drift.
#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]

pub mod access;
pub mod alert;
pub mod analyze;
pub mod backup;
pub mod block;
pub mod btree;
pub mod buffer;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod constraint;
pub mod context;
pub mod db;
mod dml;
mod encoding;
pub mod error;
pub mod heap;
pub mod ids;
mod kernel;
pub mod lock;
pub mod logminer;
pub mod operators;
pub mod plandiff;
pub mod recovery;
pub mod redo;
pub mod script;
pub mod session;
pub mod space;
pub mod sql;
pub mod stats;
pub mod storage;
pub mod txn;
pub mod undo;
pub mod value;
pub mod verify;

pub use config::{CommitMode, Config};
pub use constraint::ConstraintSpec;
pub use db::{Database, RecoveryReport};
pub use error::{Error, Result};
pub use ids::{BlockNo, Lsn, RowId, Scn, TableId, Uba, Xid};
pub use session::Session;
pub use sql::{Prepared, SqlResult};
pub use stats::{Stat, StatsSnapshot};
pub use txn::{Isolation, Snapshot};
pub use value::{ColType, Column, Row, Value};
