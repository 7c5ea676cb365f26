//! The payload of a redo record: what happened, to which blocks.
//!
//! ```text
//!  kind u8 | xid u64 | time_ms u64 | text (u32 len + UTF-8) |
//!  change count u16 | (block u32 | op)*
//! ```
//! `kind` tells the log miner what a record means; recovery only needs the
//! change vectors (block + op, see `block::Op`) and, for rollback, the
//! transaction table they rebuild. `text` carries the session user for
//! `Begin` and the statement for `Ddl`. The record's SCN and LSN are in the
//! log framing (`redo::log`).

use crate::block::{decode_op, encode_op, Op};
use crate::encoding::{Dec, DecResult, Enc};
use crate::ids::{BlockNo, Xid};

/// What a redo record records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecKind {
    /// A transactional change (undo + data + transaction-table vectors).
    Change = 1,
    /// A transaction's commit: the transaction-table slot marked committed.
    Commit = 2,
    /// The end of a rollback.
    Rollback = 3,
    /// A transaction began (carries the session user).
    Begin = 4,
    /// A DDL statement (carries its text); its catalog changes follow as
    /// `Change` records of the same transaction.
    Ddl = 5,
    /// Space management (extents, HWM, block formatting, undo ring) and a
    /// reader's block cleanout (a commit SCN stamped into an ITL entry):
    /// not part of any transaction, never rolled back.
    Space = 6,
    /// A change made while rolling back (compensation).
    Undo = 7,
    /// A NOLOGGING direct-path load wrote blocks the redo cannot rebuild.
    Nologging = 8,
}

impl RecKind {
    fn from_u8(v: u8) -> DecResult<RecKind> {
        Ok(match v {
            1 => RecKind::Change,
            2 => RecKind::Commit,
            3 => RecKind::Rollback,
            4 => RecKind::Begin,
            5 => RecKind::Ddl,
            6 => RecKind::Space,
            7 => RecKind::Undo,
            8 => RecKind::Nologging,
            _ => return Err(format!("unknown redo record kind {v}")),
        })
    }
}

/// A decoded redo payload.
#[derive(Clone, Debug, PartialEq)]
pub struct RedoPayload {
    pub kind: RecKind,
    pub xid: Xid,
    pub time_ms: u64,
    pub text: String,
    pub changes: Vec<(BlockNo, Op)>,
}

/// Encodes a payload into `v`.
pub fn encode_payload(
    v: &mut Vec<u8>,
    kind: RecKind,
    xid: Xid,
    time_ms: u64,
    text: &str,
    changes: &[(BlockNo, Op)],
) {
    v.put_u8(kind as u8);
    v.put_u64(xid.0);
    v.put_u64(time_ms);
    v.put_bytes(text.as_bytes());
    v.put_u16(changes.len() as u16);
    for (b, op) in changes {
        v.put_u32(b.0);
        encode_op(v, op);
    }
}

/// Decodes a payload.
pub fn decode_payload(buf: &[u8]) -> DecResult<RedoPayload> {
    let mut d = Dec::new(buf);
    let kind = RecKind::from_u8(d.u8()?)?;
    let xid = Xid(d.u64()?);
    let time_ms = d.u64()?;
    let text =
        String::from_utf8(d.bytes()?.to_vec()).map_err(|e| format!("bad text in redo: {e}"))?;
    let n = d.u16()? as usize;
    let mut changes = Vec::with_capacity(n);
    for _ in 0..n {
        let b = BlockNo(d.u32()?);
        changes.push((b, decode_op(&mut d)?));
    }
    Ok(RedoPayload {
        kind,
        xid,
        time_ms,
        text,
        changes,
    })
}
