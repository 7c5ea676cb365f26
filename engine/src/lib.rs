//! blocklab: a small, real, block-based storage engine for teaching.
//!
//! The README below is compiled as a doctest, so its example cannot drift.
#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod ids;
pub mod redo;
pub mod stats;
pub mod storage;

pub mod access;
pub mod alert;
pub mod backup;
pub mod block;
pub mod btree;
pub mod clock;
pub mod buffer;
pub mod catalog;
mod encoding;
pub mod constraint;
mod core;
pub mod db;
mod dml;
pub mod exec;
pub mod heap;
pub mod lock;
pub mod logminer;
pub mod optstats;
pub mod plandiff;
pub mod recovery;
pub mod script;
pub mod session;
pub mod space;
pub mod sql;
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
