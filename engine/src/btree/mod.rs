//! B+tree indexes (being built).
//!
//! So far this layer has only its key format: [`key`] turns the column
//! values of an index entry into a byte string whose plain byte order is the
//! index order, so the tree itself can compare keys with `memcmp` and never
//! needs to know about column types, NULLs or ASC/DESC.

pub mod key;
pub mod node;
pub mod tree;
