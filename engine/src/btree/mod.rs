//! B+tree indexes.
//!
//! - [`key`]: the order-preserving key format. Column values become a byte
//!   string whose plain byte order is the index order (each column ASC or
//!   DESC, NULLs last in ASC), so the tree compares keys with `memcmp` and
//!   never needs to know about column types.
//! - the body of an index block (level, fences, next pointer, entries) is
//!   a block format, in [`crate::block::index`].
//! - [`tree`]: descent, insert, delete, consistent range scans and probes;
//!   `split` makes room in a full node (in a system transaction, logged
//!   and undoable).
//!
//! Which predicates bound a scan and which only screen its entries is
//! decided in `access`; `operators` runs the scan.

pub mod dump;
pub mod key;
mod split;
pub mod tree;
