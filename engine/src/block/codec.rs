//! The byte format of block bodies, ITL entries, undo records and redo
//! ops (see the layout table in the parent module's doc). Every decoder is
//! bounds-checked through `codec::Dec` and reports a reason, never panics.

use bytes::Bytes;

use super::*;
use crate::block::index::{get_entry, put_entry, IdxEntry, IndexBody};
use crate::encoding::{Dec, DecResult, Enc};

pub(super) fn put_itl(v: &mut Vec<u8>, i: &Itl) {
    v.put_u64(i.xid.0);
    v.put_u64(i.uba.0);
    v.put_u64(i.commit_scn.0);
    v.put_u16(i.lock_count);
    v.extend_from_slice(&[0; 6]);
}

pub(super) fn get_itl(d: &mut Dec) -> DecResult<Itl> {
    let itl = Itl {
        xid: Xid(d.u64()?),
        uba: Uba(d.u64()?),
        commit_scn: Scn(d.u64()?),
        lock_count: d.u16()?,
    };
    d.take(6)?;
    Ok(itl)
}

pub(crate) fn put_slot(v: &mut Vec<u8>, s: &Slot) {
    v.put_u8(s.state as u8);
    v.put_u8(s.lock);
    v.put_u16(s.data.len() as u16);
    v.extend_from_slice(&s.data);
}

pub(crate) fn get_slot(d: &mut Dec) -> DecResult<Slot> {
    let state = match d.u8()? {
        0 => SlotState::Unused,
        1 => SlotState::Live,
        2 => SlotState::Deleted,
        s => return Err(format!("bad slot state {s}")),
    };
    let lock = d.u8()?;
    let n = d.u16()? as usize;
    let data = Bytes::copy_from_slice(d.take(n)?);
    Ok(Slot { state, lock, data })
}

fn put_extents(v: &mut Vec<u8>, e: &[(u32, u32)]) {
    v.put_u16(e.len() as u16);
    for (a, b) in e {
        v.put_u32(*a);
        v.put_u32(*b);
    }
}

fn get_extents(d: &mut Dec) -> DecResult<Vec<(u32, u32)>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| Ok((d.u32()?, d.u32()?))).collect()
}

pub(crate) fn put_tx_slot(v: &mut Vec<u8>, s: &TxSlot) {
    v.put_u32(s.wrap);
    v.put_u8(s.state as u8);
    v.extend_from_slice(&[0; 3]);
    v.put_u64(s.scn.0);
    v.put_u64(s.last_uba.0);
    v.put_u64(s.time_ms);
}

pub(crate) fn get_tx_slot(d: &mut Dec) -> DecResult<TxSlot> {
    let wrap = d.u32()?;
    let state = match d.u8()? {
        0 => TxState::Free,
        1 => TxState::Active,
        2 => TxState::Committed,
        3 => TxState::RolledBack,
        s => return Err(format!("bad transaction state {s}")),
    };
    d.take(3)?;
    Ok(TxSlot {
        wrap,
        state,
        scn: Scn(d.u64()?),
        last_uba: Uba(d.u64()?),
        time_ms: d.u64()?,
    })
}

pub(crate) fn put_undo_rec(v: &mut Vec<u8>, r: &UndoRec) {
    v.put_u64(r.xid.0);
    v.put_u64(r.prev_txn.0);
    v.put_u32(r.block.0);
    v.put_u8(r.itl_idx);
    put_itl(v, &r.prev_itl);
    v.put_u64(r.scn.0);
    match &r.op {
        UndoOp::Slot { slot, before } => {
            v.put_u8(1);
            v.put_u16(*slot);
            put_slot(v, before);
        }
        UndoOp::IdxIns { key, level } => {
            v.put_u8(2);
            v.put_u8(*level);
            put_key(v, key);
        }
        UndoOp::IdxDel { entry, level } => {
            v.put_u8(3);
            v.put_u8(*level);
            put_entry(v, entry);
        }
        UndoOp::Unformat => v.put_u8(4),
        UndoOp::SplitFrom { moved, high, next } => {
            v.put_u8(5);
            put_entries(v, moved);
            put_opt_key(v, high);
            v.put_u32(*next);
        }
        UndoOp::RootFrom { level, moved } => {
            v.put_u8(6);
            v.put_u8(*level);
            put_entries(v, moved);
        }
        UndoOp::SegHwm { hwm } => {
            v.put_u8(7);
            v.put_u32(*hwm);
        }
        UndoOp::NewRows { slots } => {
            v.put_u8(8);
            put_slot_list(v, slots);
        }
        UndoOp::Cols { slot, lock, cols } => {
            v.put_u8(9);
            v.put_u16(*slot);
            v.put_u8(*lock);
            put_columns(v, cols);
        }
    }
}

/// A column list: count u16, then (column u16, value length u16, value).
fn put_columns(v: &mut Vec<u8>, cols: &[ColumnImage]) {
    v.put_u16(cols.len() as u16);
    for (i, val) in cols {
        v.put_u16(*i);
        put_key(v, val);
    }
}

fn get_columns(d: &mut Dec) -> DecResult<Vec<ColumnImage>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| Ok((d.u16()?, get_key(d)?))).collect()
}

fn put_slot_list(v: &mut Vec<u8>, slots: &[u16]) {
    v.put_u16(slots.len() as u16);
    for s in slots {
        v.put_u16(*s);
    }
}

fn get_slot_list(d: &mut Dec) -> DecResult<Vec<u16>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| d.u16()).collect()
}

fn put_key(v: &mut Vec<u8>, k: &[u8]) {
    v.put_u16(k.len() as u16);
    v.extend_from_slice(k);
}

fn get_key(d: &mut Dec) -> DecResult<Bytes> {
    let n = d.u16()? as usize;
    Ok(Bytes::copy_from_slice(d.take(n)?))
}

fn put_opt_key(v: &mut Vec<u8>, k: &Option<Bytes>) {
    match k {
        None => v.put_u8(0),
        Some(k) => {
            v.put_u8(1);
            put_key(v, k);
        }
    }
}

fn get_opt_key(d: &mut Dec) -> DecResult<Option<Bytes>> {
    Ok(match d.u8()? {
        0 => None,
        _ => Some(get_key(d)?),
    })
}

fn put_entries(v: &mut Vec<u8>, e: &[IdxEntry]) {
    v.put_u16(e.len() as u16);
    for x in e {
        put_entry(v, x);
    }
}

fn get_entries(d: &mut Dec) -> DecResult<Vec<IdxEntry>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| get_entry(d)).collect()
}

fn put_itls(v: &mut Vec<u8>, itl: &[Itl]) {
    v.put_u8(itl.len() as u8);
    for i in itl {
        put_itl(v, i);
    }
}

fn get_itls(d: &mut Dec) -> DecResult<Vec<Itl>> {
    let n = d.u8()? as usize;
    (0..n).map(|_| get_itl(d)).collect()
}

pub(crate) fn get_undo_rec(d: &mut Dec) -> DecResult<UndoRec> {
    Ok(UndoRec {
        xid: Xid(d.u64()?),
        prev_txn: Uba(d.u64()?),
        block: BlockNo(d.u32()?),
        itl_idx: d.u8()?,
        prev_itl: get_itl(d)?,
        scn: Scn(d.u64()?),
        op: match d.u8()? {
            1 => UndoOp::Slot {
                slot: d.u16()?,
                before: get_slot(d)?,
            },
            2 => UndoOp::IdxIns {
                level: d.u8()?,
                key: get_key(d)?,
            },
            3 => UndoOp::IdxDel {
                level: d.u8()?,
                entry: get_entry(d)?,
            },
            4 => UndoOp::Unformat,
            5 => UndoOp::SplitFrom {
                moved: get_entries(d)?,
                high: get_opt_key(d)?,
                next: d.u32()?,
            },
            6 => UndoOp::RootFrom {
                level: d.u8()?,
                moved: get_entries(d)?,
            },
            7 => UndoOp::SegHwm { hwm: d.u32()? },
            8 => UndoOp::NewRows {
                slots: get_slot_list(d)?,
            },
            9 => UndoOp::Cols {
                slot: d.u16()?,
                lock: d.u8()?,
                cols: get_columns(d)?,
            },
            t => return Err(format!("bad undo op {t}")),
        },
    })
}

pub(super) fn body_len(body: &Body) -> usize {
    match body {
        Body::Unformatted => 0,
        Body::FileHeader(_) => 8 + 4 + 4 + 4 + 4 + 4,
        Body::SegHeader(h) => 4 + 2 + 8 * h.extents.len() + 4 + 2 + 4 * h.free.len(),
        Body::Heap(slots) => 2 + slots.iter().map(Slot::encoded_len).sum::<usize>(),
        Body::UndoHeader(h) => {
            2 + TX_SLOT_LEN * h.slots.len() + 2 + 8 * h.extents.len() + 4 + 8 + 8
        }
        Body::Undo(u) => 2 + 8 + 2 + u.records.iter().map(UndoRec::encoded_len).sum::<usize>(),
        Body::Index(n) => n.encoded_len(),
    }
}

pub(super) fn encode_body(v: &mut Vec<u8>, body: &Body) {
    match body {
        Body::Unformatted => {}
        Body::FileHeader(h) => {
            v.put_u64(h.db_id);
            v.put_u32(h.block_size);
            v.put_u32(h.allocated);
            v.put_u32(h.catalog_seg.0);
            v.put_u32(h.undo_header.0);
            v.put_u32(h.undo_segments);
        }
        Body::SegHeader(h) => {
            v.put_u32(h.object);
            put_extents(v, &h.extents);
            v.put_u32(h.hwm);
            v.put_u16(h.free.len() as u16);
            for f in &h.free {
                v.put_u32(*f);
            }
        }
        Body::Heap(slots) => {
            v.put_u16(slots.len() as u16);
            for s in slots {
                put_slot(v, s);
            }
        }
        Body::UndoHeader(h) => {
            v.put_u16(h.slots.len() as u16);
            for s in &h.slots {
                put_tx_slot(v, s);
            }
            put_extents(v, &h.extents);
            v.put_u32(h.next);
            v.put_u64(h.control_scn.0);
            v.put_u64(h.control_time_ms);
        }
        Body::Undo(u) => {
            v.put_u16(u.wrap);
            v.put_u64(u.owner.0);
            v.put_u16(u.records.len() as u16);
            for r in &u.records {
                put_undo_rec(v, r);
            }
        }
        Body::Index(n) => n.encode(v),
    }
}

pub(super) fn decode_body(kind: BlockKind, d: &mut Dec) -> DecResult<Body> {
    Ok(match kind {
        BlockKind::Unformatted => Body::Unformatted,
        BlockKind::FileHeader => Body::FileHeader(FileHeader {
            db_id: d.u64()?,
            block_size: d.u32()?,
            allocated: d.u32()?,
            catalog_seg: BlockNo(d.u32()?),
            undo_header: BlockNo(d.u32()?),
            undo_segments: d.u32()?,
        }),
        BlockKind::SegHeader => {
            let object = d.u32()?;
            let extents = get_extents(d)?;
            let hwm = d.u32()?;
            let n = d.u16()? as usize;
            let free = (0..n).map(|_| d.u32()).collect::<DecResult<_>>()?;
            Body::SegHeader(SegHeader {
                object,
                extents,
                hwm,
                free,
            })
        }
        BlockKind::Heap => {
            let n = d.u16()? as usize;
            Body::Heap((0..n).map(|_| get_slot(d)).collect::<DecResult<_>>()?)
        }
        BlockKind::UndoHeader => {
            let n = d.u16()? as usize;
            let slots = (0..n).map(|_| get_tx_slot(d)).collect::<DecResult<_>>()?;
            let extents = get_extents(d)?;
            Body::UndoHeader(UndoHeader {
                slots,
                extents,
                next: d.u32()?,
                control_scn: Scn(d.u64()?),
                control_time_ms: d.u64()?,
            })
        }
        BlockKind::Undo => {
            let wrap = d.u16()?;
            let owner = Xid(d.u64()?);
            let n = d.u16()? as usize;
            let records = (0..n).map(|_| get_undo_rec(d)).collect::<DecResult<_>>()?;
            Body::Undo(UndoBody {
                wrap,
                owner,
                records,
            })
        }
        BlockKind::Index => Body::Index(IndexBody::decode(d)?),
    })
}

/// Encodes an op for redo.
pub fn encode_op(v: &mut Vec<u8>, op: &Op) {
    match op {
        Op::FormatHeap { seg, itls } => {
            v.put_u8(1);
            v.put_u32(seg.0);
            v.put_u8(*itls);
        }
        Op::SetSlot {
            slot,
            value,
            itl_idx,
            itl,
        } => {
            v.put_u8(2);
            v.put_u16(*slot);
            put_slot(v, value);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::SetFileHeader(h) => {
            v.put_u8(3);
            encode_body(v, &Body::FileHeader(h.clone()));
        }
        Op::SetSegHeader(h) => {
            v.put_u8(4);
            encode_body(v, &Body::SegHeader(h.clone()));
        }
        Op::FormatUndo { wrap, owner } => {
            v.put_u8(5);
            v.put_u16(*wrap);
            v.put_u64(owner.0);
        }
        Op::UndoAppend(r) => {
            v.put_u8(6);
            put_undo_rec(v, r);
        }
        Op::TxSlot { idx, slot } => {
            v.put_u8(7);
            v.put_u16(*idx);
            put_tx_slot(v, slot);
        }
        Op::UndoRing {
            extents,
            next,
            control_scn,
            slots,
        } => {
            v.put_u8(8);
            put_extents(v, extents);
            v.put_u32(*next);
            v.put_u64(control_scn.0);
            v.put_u16(*slots);
        }
        Op::SetItl { itl_idx, itl } => {
            v.put_u8(9);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxSet { seg, itl, body } => {
            v.put_u8(10);
            v.put_u32(seg.0);
            put_itls(v, itl);
            match body {
                None => v.put_u8(0),
                Some(b) => {
                    v.put_u8(1);
                    b.encode(v);
                }
            }
        }
        Op::IdxInsert {
            entry,
            itl_idx,
            itl,
        } => {
            v.put_u8(11);
            put_entry(v, entry);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxDelete { key, itl_idx, itl } => {
            v.put_u8(12);
            put_key(v, key);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxSplitFrom {
            sep,
            next,
            itl_idx,
            itl,
        } => {
            v.put_u8(13);
            put_key(v, sep);
            v.put_u32(*next);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxRoot {
            level,
            entries,
            itl_idx,
            itl,
        } => {
            v.put_u8(14);
            v.put_u8(*level);
            put_entries(v, entries);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::SegHwm { hwm, itl_idx, itl } => {
            v.put_u8(15);
            v.put_u32(*hwm);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::InsertRows { rows, itl_idx, itl } => {
            v.put_u8(17);
            v.put_u16(rows.len() as u16);
            for (slot, r) in rows {
                v.put_u16(*slot);
                put_key(v, r);
            }
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::ClearSlots {
            slots,
            itl_idx,
            itl,
        } => {
            v.put_u8(18);
            put_slot_list(v, slots);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::UpdateCols {
            slot,
            lock,
            cols,
            itl_idx,
            itl,
        } => {
            v.put_u8(19);
            v.put_u16(*slot);
            v.put_u8(*lock);
            put_columns(v, cols);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::HeapImage { seg, itls, slots } => {
            v.put_u8(16);
            v.put_u32(seg.0);
            v.put_u8(*itls);
            v.put_u16(slots.len() as u16);
            for x in slots {
                put_slot(v, x);
            }
        }
    }
}

/// Decodes an op from redo.
pub fn decode_op(d: &mut Dec) -> DecResult<Op> {
    Ok(match d.u8()? {
        1 => Op::FormatHeap {
            seg: BlockNo(d.u32()?),
            itls: d.u8()?,
        },
        2 => Op::SetSlot {
            slot: d.u16()?,
            value: get_slot(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        3 => match decode_body(BlockKind::FileHeader, d)? {
            Body::FileHeader(h) => Op::SetFileHeader(h),
            _ => return Err("file header op".into()),
        },
        4 => match decode_body(BlockKind::SegHeader, d)? {
            Body::SegHeader(h) => Op::SetSegHeader(h),
            _ => return Err("segment header op".into()),
        },
        5 => Op::FormatUndo {
            wrap: d.u16()?,
            owner: Xid(d.u64()?),
        },
        6 => Op::UndoAppend(get_undo_rec(d)?),
        7 => Op::TxSlot {
            idx: d.u16()?,
            slot: get_tx_slot(d)?,
        },
        8 => Op::UndoRing {
            extents: get_extents(d)?,
            next: d.u32()?,
            control_scn: Scn(d.u64()?),
            slots: d.u16()?,
        },
        9 => Op::SetItl {
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        10 => Op::IdxSet {
            seg: BlockNo(d.u32()?),
            itl: get_itls(d)?,
            body: match d.u8()? {
                0 => None,
                _ => Some(IndexBody::decode(d)?),
            },
        },
        11 => Op::IdxInsert {
            entry: get_entry(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        12 => Op::IdxDelete {
            key: get_key(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        13 => Op::IdxSplitFrom {
            sep: get_key(d)?,
            next: d.u32()?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        14 => Op::IdxRoot {
            level: d.u8()?,
            entries: get_entries(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        15 => Op::SegHwm {
            hwm: d.u32()?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        16 => {
            let seg = BlockNo(d.u32()?);
            let itls = d.u8()?;
            let n = d.u16()? as usize;
            let slots = (0..n).map(|_| get_slot(d)).collect::<DecResult<_>>()?;
            Op::HeapImage { seg, itls, slots }
        }
        17 => {
            let n = d.u16()? as usize;
            let rows = (0..n)
                .map(|_| Ok((d.u16()?, get_key(d)?)))
                .collect::<DecResult<_>>()?;
            Op::InsertRows {
                rows,
                itl_idx: d.u8()?,
                itl: get_itl(d)?,
            }
        }
        18 => Op::ClearSlots {
            slots: get_slot_list(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        19 => Op::UpdateCols {
            slot: d.u16()?,
            lock: d.u8()?,
            cols: get_columns(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        t => return Err(format!("unknown redo op {t}")),
    })
}
