//! Direct-path append (MECHANISMS §4): whole blocks formatted in private
//! memory above the high-water mark and written past the buffer cache.

use bytes::Bytes;

use super::*;

/// What a direct-path load did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectLoad {
    pub rows: u64,
    pub blocks: u32,
    pub hwm_before: u32,
    pub hwm_after: u32,
}

/// Direct-path insert (MECHANISMS §4): formats whole blocks of `rows` in
/// private memory above the segment's HWM and writes them straight to the
/// data file, bypassing the buffer cache and the free list, with no undo
/// for the rows. With `logging`, each block image is logged (and the redo
/// made durable before the block is written: write-ahead still holds);
/// without it nothing about the rows reaches the redo, and the blocks are
/// synced at commit instead. The rows become visible when the HWM moves:
/// that change is made here, with undo, in the loading transaction, so a
/// reader older than the commit still sees the old HWM and a rollback puts
/// it back (the blocks stay allocated, as garbage above the HWM). The
/// caller holds the table's exclusive lock. Returns the rows' rowids.
pub(crate) fn direct_insert(
    core: &Core,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    seg: BlockNo,
    rows: &[Vec<u8>],
    logging: bool,
) -> Result<(DirectLoad, Vec<RowId>)> {
    let bs = core.file.block_size();
    let itls = core.cfg.initrans;
    let max = max_row_len(bs, itls);
    if let Some(r) = rows.iter().find(|r| r.len() > max) {
        return Err(Error::RowTooLarge { size: r.len(), max });
    }
    core.reserve_redo()?;
    // Pack the rows into block images.
    let empty = HEADER_LEN + itls as usize * ITL_LEN + 2;
    let mut images: Vec<Vec<Slot>> = vec![Vec::new()];
    let mut used = empty;
    for r in rows {
        let n = 4 + r.len();
        if used + n > bs && images.last().is_some_and(|b| !b.is_empty()) {
            images.push(Vec::new());
            used = empty;
        }
        used += n;
        if let Some(b) = images.last_mut() {
            b.push(Slot {
                state: SlotState::Live,
                lock: 0,
                data: Bytes::copy_from_slice(r),
            });
        }
    }
    if rows.is_empty() {
        images.clear();
    }
    // Room above the HWM: extend the segment's extents as needed (space
    // changes, never rolled back).
    let (hwm_before, blocks) = {
        let mut sb = core.cache.get_mut(seg, stats)?;
        let mut h = seg_header(core, &sb)?;
        let hwm = h.hwm;
        let mut blocks = Vec::with_capacity(images.len());
        let mut grown = false;
        for k in 0..images.len() as u32 {
            let total: u32 = h.extents.iter().map(|e| e.1).sum();
            if hwm + k >= total {
                let n = core
                    .cfg
                    .extent_blocks
                    .max(total / 4)
                    .max(images.len() as u32 - k)
                    .min(1 << 16);
                let first = alloc_extent(core, stats, n)?;
                h.extents.push((first, n));
                grown = true;
            }
            blocks.push(
                nth_block(&h, hwm + k)
                    .ok_or_else(|| Error::Internal("HWM beyond extents".into()))?,
            );
        }
        if grown {
            if sb.encoded_len() + 8 * h.extents.len() > 2 * bs {
                return Err(Error::SpaceExhausted(format!(
                    "segment {} has too many extents",
                    seg.0
                )));
            }
            core.change(stats, RecHead::space(), &mut [&mut sb], |_| {
                vec![Op::SetSegHeader(h)]
            })?;
        }
        (hwm, blocks)
    };
    // Log the images (LOGGING) and make that redo durable, then write the
    // blocks; or (NOLOGGING) a marker saying which blocks the redo cannot
    // rebuild.
    let mut scns = Vec::with_capacity(blocks.len());
    let mut last = crate::ids::Lsn(0);
    if logging {
        for (no, slots) in blocks.iter().zip(&images) {
            let op = Op::HeapImage {
                seg,
                itls,
                slots: slots.clone(),
            };
            let mut size = 0;
            let (scn, end) = core.log.append(|_, buf| {
                crate::redo::record::encode_payload(
                    buf,
                    RecKind::Space,
                    txn.xid,
                    0,
                    "",
                    &[(*no, op)],
                );
                size = buf.len();
            })?;
            stats.inc(Stat::RedoEntries);
            stats.add(Stat::RedoSize, (size + 32) as u64);
            scns.push(scn);
            last = end;
        }
        core.log.flush(last)?;
    } else if let (Some(first), Some(n)) = (blocks.first(), blocks.last()) {
        let text = format!(
            "NOLOGGING direct load: blocks {}..={} are not in the redo",
            first.0, n.0
        );
        let mut size = 0;
        let (scn, _) = core.log.append(|_, buf| {
            crate::redo::record::encode_payload(buf, RecKind::Nologging, txn.xid, 0, &text, &[]);
            size = buf.len();
        })?;
        stats.inc(Stat::RedoEntries);
        stats.add(Stat::RedoSize, (size + 32) as u64);
        scns = vec![scn; blocks.len()];
    }
    let mut rowids = Vec::with_capacity(rows.len());
    let mut buf = vec![0u8; bs];
    for ((no, slots), scn) in blocks.iter().zip(images).zip(&scns) {
        rowids.extend((0..slots.len()).map(|i| RowId {
            block: *no,
            slot: i as u16,
        }));
        let block = Block {
            no: *no,
            seg,
            scn: *scn,
            itl: vec![Itl::default(); itls as usize],
            body: Body::Heap(slots),
        };
        block
            .encode(&mut buf)
            .map_err(|r| Error::corrupt(core.file.name(), no.0 as u64, r))?;
        core.file.write_block(*no, &mut buf)?;
        stats.inc(Stat::PhysicalWritesDirect);
        stats.inc(Stat::DirectBlocksFormatted);
    }
    let hwm_after = hwm_before + blocks.len() as u32;
    if !blocks.is_empty() {
        // Publish the blocks to this transaction's commit: the HWM moves
        // with undo.
        let mut sb = core.cache.get_mut(seg, stats)?;
        let itl_idx = acquire_itl(core, stats, txn, &mut sb, 0)?
            .ok_or_else(|| Error::SpaceExhausted("no ITL entry in the segment header".into()))?;
        logged_change(
            core,
            stats,
            txn,
            &mut sb,
            itl_idx,
            UndoOp::SegHwm { hwm: hwm_before },
            |itl| Op::SegHwm {
                hwm: hwm_after,
                itl_idx,
                itl,
            },
        )?;
        txn.direct_writes = true;
    }
    Ok((
        DirectLoad {
            rows: rows.len() as u64,
            blocks: blocks.len() as u32,
            hwm_before,
            hwm_after,
        },
        rowids,
    ))
}
