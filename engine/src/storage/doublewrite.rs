//! Torn-write protection for data blocks: the doublewrite area.
//!
//! A data block is 8 KiB; a disk writes 512-byte or 4 KiB sectors. If the
//! power fails (or the disk fills) while a block is being overwritten, the
//! block can be left half new, half old: its CRC fails and, without a
//! copy, the committed rows in it are gone, because redo describes
//! *changes* to a block and cannot rebuild one it cannot read.
//!
//! blocklab copies every block it writes from the buffer cache into a
//! small ring of slots in its own file (`doublewrite.dbf`) first, syncs
//! that, and only then writes the blocks in place (InnoDB's doublewrite
//! buffer; PostgreSQL's full-page writes solve the same problem by logging
//! a block's whole image in the redo on its first change after a
//! checkpoint). On open, before any redo is applied, every slot holding a
//! valid image of a block whose copy in the data file fails its CRC puts
//! that image back (`DataFile::open_protected`); roll-forward then
//! applies the changes made after it.
//!
//! ```text
//!   batch of n blocks (n <= SLOTS)
//!     1. write n slots ──► sync doublewrite.dbf      (a tear here leaves
//!                                                     the data file untouched)
//!     2. write the n blocks in place                 (a tear here is repaired
//!                                                     from step 1 at open)
//!     3. the slots are reused only after the data file is synced
//!
//!   doublewrite.dbf: SLOTS slots of SLOT_HEADER + block_size bytes
//!   slot:  0  4 magic "BLDW" | 4  4 block number | 8  8 sequence
//!         16  4 crc32 of bytes 0..16 and the image | 20 12 zero | image
//! ```
//!
//! Why a doublewrite area and not full-page images in the redo: the redo
//! is what the labs measure (`redo size` per row, per commit, NOLOGGING),
//! and Oracle's redo holds no full images; a page image after every
//! checkpoint would make every redo figure depend on checkpoint timing.
//! The doublewrite area costs data-file writes instead: every block
//! written from the cache is written twice, and every batch costs one
//! more sync (counted as `doublewrite blocks written` and `doublewrite
//! writes`). It covers every change that dirties a block, whether or not
//! the change wrote redo of its own (a commit cleanout stamping an ITL
//! entry writes none), because it protects the write, not the change.
//!
//! Invariant: a block is written in place only after its image is durable
//! in a slot, and a slot is overwritten only after the data file was
//! synced following the in-place write of the image it held.
//! Invariant: a valid slot for block `b` holds the newest image of `b`
//! ever written to the data file: a write that bypasses the area (direct
//! path) first clears, durably, any slot holding `b` (`Doublewrite::forget`).
//! So putting a slot back is right whatever damaged the block, a torn
//! write or a flipped bit.
//! Invariant: after a failed write or sync the area refuses every later
//! write until the database is opened again (whose repair step then
//! trusts only what is durable).
//!
//! What it does not cover: direct-path writes, which bypass the buffer
//! cache. They go to blocks above the high-water mark that nothing
//! committed points to until the load commits; a NOLOGGING load syncs
//! them before its commit record, and a LOGGING load's redo holds their
//! whole images, which roll-forward writes over whatever it finds.

use std::sync::Arc;

use parking_lot::Mutex;

use super::backend::{Backend, FileHandle};
use super::datafile::check_crc;
use crate::error::{Error, Result};
use crate::ids::BlockNo;

/// Slots in the area: the largest batch written with one extra sync.
pub const SLOTS: usize = 64;
/// Bytes before each slot's image.
pub const SLOT_HEADER: usize = 32;

const MAGIC: &[u8; 4] = b"BLDW";
const AT_BLOCK: usize = 4;
const AT_SEQ: usize = 8;
const AT_CRC: usize = 16;

/// The doublewrite file of one data file.
pub(crate) struct Doublewrite {
    file: Arc<dyn FileHandle>,
    block_size: usize,
    state: Mutex<State>,
}

struct State {
    /// The slot the next batch starts at (if it fits before the end).
    next: usize,
    /// Slots written since the data file was last synced: these may hold
    /// the only intact copy of a block and must not be overwritten yet.
    unsynced: usize,
    /// Sequence number of the next slot written (newest copy wins at repair).
    seq: u64,
    /// Why writes are refused, after a failed write or sync.
    broken: Option<String>,
    /// The block each slot holds a valid image of, as far as this area
    /// knows (from `repair` at open, then from every batch written).
    holds: Vec<Option<BlockNo>>,
}

/// One slot read back at open.
struct SlotImage {
    slot: usize,
    block: BlockNo,
    seq: u64,
    image: Vec<u8>,
}

impl Doublewrite {
    fn slot_size(&self) -> usize {
        SLOT_HEADER + self.block_size
    }

    /// Opens the area `name` in `backend`. If it is missing: with
    /// `create`, creates it (with real zero bytes, so that no later write
    /// has to allocate space); without, returns `None`.
    pub(crate) fn open(
        backend: &dyn Backend,
        name: &str,
        block_size: usize,
        create: bool,
    ) -> Result<Option<Self>> {
        let size = (SLOTS * (SLOT_HEADER + block_size)) as u64;
        let file = if backend.exists(name) {
            backend.open(name, false)?
        } else if !create {
            return Ok(None);
        } else {
            let file = backend.open(name, true)?;
            file.write_at(&vec![0u8; size as usize], 0)?;
            file.sync()?;
            backend.sync_dir()?;
            file
        };
        let len = file.len()?;
        if len != size {
            return Err(Error::corrupt(
                name,
                0,
                format!("doublewrite file is {len} bytes, expected {size}"),
            ));
        }
        Ok(Some(Doublewrite {
            file,
            block_size,
            state: Mutex::new(State {
                next: 0,
                unsynced: 0,
                seq: 1,
                broken: None,
                holds: vec![None; SLOTS],
            }),
        }))
    }

    /// The valid slot images (with their slot numbers), newest first per
    /// block.
    fn read_slots(&self) -> Result<Vec<SlotImage>> {
        let mut bytes = vec![0u8; SLOTS * self.slot_size()];
        self.file.read_at(&mut bytes, 0)?;
        let mut out: Vec<SlotImage> = bytes
            .chunks_exact(self.slot_size())
            .enumerate()
            .filter_map(|(i, slot)| parse_slot(i, slot))
            .collect();
        out.sort_by(|a, b| (a.block, b.seq).cmp(&(b.block, a.seq)));
        Ok(out)
    }

    /// Puts back every block of `data` that fails its CRC and has an
    /// intact copy here (the newest, if several); returns those blocks.
    /// Runs at open, before anything reads a data block.
    pub(crate) fn repair(&self, data: &dyn FileHandle, blocks: u32) -> Result<Vec<BlockNo>> {
        let slots = self.read_slots()?;
        let mut repaired = Vec::new();
        let mut current = vec![0u8; self.block_size];
        let mut newest_seq = 0;
        let mut last_block = None;
        for s in &slots {
            newest_seq = newest_seq.max(s.seq);
            if last_block == Some(s.block) || s.block.0 >= blocks {
                continue; // an older copy, or a block the file never grew to
            }
            last_block = Some(s.block);
            let offset = s.block.0 as u64 * self.block_size as u64;
            data.read_at(&mut current, offset)?;
            if check_crc(&current).is_err() {
                data.write_at(&s.image, offset)?;
                repaired.push(s.block);
            }
        }
        if !repaired.is_empty() {
            data.sync()?;
        }
        let mut st = self.state.lock();
        st.seq = newest_seq + 1;
        for s in &slots {
            st.holds[s.slot] = Some(s.block);
        }
        Ok(repaired)
    }

    /// Called before `data` blocks `first..first + n` are written *without*
    /// this area (a direct-path load): a slot still holding an older image
    /// of one of them must not be put back over the new contents at the
    /// next open, so it is cleared, durably, first. Costs nothing unless
    /// such a slot exists (a block freed and loaded again soon after it
    /// was written from the cache).
    pub(crate) fn forget(&self, first: BlockNo, n: u32) -> Result<()> {
        let mut st = self.state.lock();
        if let Some(why) = &st.broken {
            return Err(Error::Poisoned(why.clone()));
        }
        let range = first.0..first.0.saturating_add(n);
        let stale: Vec<usize> = (0..SLOTS)
            .filter(|&i| st.holds[i].is_some_and(|b| range.contains(&b.0)))
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        let cleared = [0u8; SLOT_HEADER];
        let r = stale
            .iter()
            .try_for_each(|&i| self.file.write_at(&cleared, (i * self.slot_size()) as u64))
            .and_then(|()| self.file.sync());
        if let Err(e) = &r {
            st.broken = Some(format!("clearing a doublewrite slot failed: {e}"));
        }
        r?;
        for i in stale {
            st.holds[i] = None;
        }
        Ok(())
    }

    /// What `repair` would put back, without writing anything: the blocks
    /// of `data` that fail their CRC and have an intact copy here.
    pub(crate) fn repairable(&self, data: &dyn FileHandle, blocks: u32) -> Result<Vec<BlockNo>> {
        let mut out = Vec::new();
        let mut current = vec![0u8; self.block_size];
        for s in self.read_slots()? {
            if out.last() == Some(&s.block) || s.block.0 >= blocks {
                continue;
            }
            data.read_at(&mut current, s.block.0 as u64 * self.block_size as u64)?;
            if check_crc(&current).is_err() {
                out.push(s.block);
            }
        }
        out.dedup();
        Ok(out)
    }

    /// Writes `blocks` (CRCs already stamped) to `data` through the area;
    /// see the module docs for the order. Returns the number of
    /// doublewrite writes (batches of at most `SLOTS` blocks).
    pub(crate) fn write(&self, data: &dyn FileHandle, blocks: &[(BlockNo, &[u8])]) -> Result<u32> {
        let mut st = self.state.lock();
        if let Some(why) = &st.broken {
            return Err(Error::Poisoned(why.clone()));
        }
        let mut batches = 0;
        for batch in blocks.chunks(SLOTS) {
            let r = self.write_batch(&mut st, data, batch);
            if let Err(e) = &r {
                st.broken = Some(format!(
                    "a data block write failed ({e}); reopen the database to repair and recover"
                ));
            }
            r?;
            batches += 1;
        }
        Ok(batches)
    }

    fn write_batch(
        &self,
        st: &mut State,
        data: &dyn FileHandle,
        batch: &[(BlockNo, &[u8])],
    ) -> Result<()> {
        let n = batch.len();
        if st.unsynced + n > SLOTS {
            // The slots about to be reused may hold the only intact copy
            // of a block written in place since the last sync.
            data.sync()?;
            st.unsynced = 0;
        }
        let start = if st.next + n <= SLOTS { st.next } else { 0 };
        let size = self.slot_size();
        let mut bytes = vec![0u8; n * size];
        for ((no, image), slot) in batch.iter().zip(bytes.chunks_exact_mut(size)) {
            slot[..AT_BLOCK].copy_from_slice(MAGIC);
            slot[AT_BLOCK..AT_SEQ].copy_from_slice(&no.0.to_le_bytes());
            slot[AT_SEQ..AT_CRC].copy_from_slice(&st.seq.to_le_bytes());
            slot[SLOT_HEADER..].copy_from_slice(image);
            let crc = slot_crc(slot);
            slot[AT_CRC..AT_CRC + 4].copy_from_slice(&crc.to_le_bytes());
            st.seq += 1;
        }
        self.file.write_at(&bytes, (start * size) as u64)?;
        self.file.sync()?;
        for (i, (no, _)) in batch.iter().enumerate() {
            st.holds[start + i] = Some(*no);
        }
        for (no, image) in batch {
            data.write_at(image, no.0 as u64 * self.block_size as u64)?;
        }
        st.unsynced += n;
        st.next = start + n;
        Ok(())
    }

    /// Runs `sync` (the data file's) with no batch in flight, and frees
    /// every slot once it succeeded. A failed sync breaks the area.
    pub(crate) fn synced(&self, sync: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut st = self.state.lock();
        if let Err(e) = sync() {
            st.broken = Some(format!("data file sync failed: {e}"));
            return Err(e);
        }
        st.unsynced = 0;
        Ok(())
    }
}

fn slot_crc(slot: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&slot[..AT_CRC]);
    h.update(&slot[SLOT_HEADER..]);
    h.finalize()
}

fn parse_slot(i: usize, slot: &[u8]) -> Option<SlotImage> {
    if &slot[..AT_BLOCK] != MAGIC {
        return None;
    }
    let stored = u32::from_le_bytes(slot[AT_CRC..AT_CRC + 4].try_into().ok()?);
    if stored != slot_crc(slot) || check_crc(&slot[SLOT_HEADER..]).is_err() {
        return None;
    }
    Some(SlotImage {
        slot: i,
        block: BlockNo(u32::from_le_bytes(slot[AT_BLOCK..AT_SEQ].try_into().ok()?)),
        seq: u64::from_le_bytes(slot[AT_SEQ..AT_CRC].try_into().ok()?),
        image: slot[SLOT_HEADER..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::datafile::DataFile;
    use crate::storage::sim::{Keep, SimBackend};

    const BS: usize = 512;

    fn file(sim: &SimBackend, blocks: u32) -> DataFile {
        DataFile::create(sim, "data", BS).unwrap();
        let (df, repaired) = DataFile::open_protected(sim, "data", "dw", BS).unwrap();
        assert!(repaired.is_empty());
        df.extend_to(blocks).unwrap();
        df
    }

    fn write(df: &DataFile, no: u32, fill: u8) {
        let mut b = vec![fill; BS];
        df.write_protected(&mut [(BlockNo(no), &mut b[..])])
            .unwrap();
    }

    fn block(sim: &SimBackend, no: u32) -> Vec<u8> {
        sim.current_bytes("data").unwrap()[no as usize * BS..(no as usize + 1) * BS].to_vec()
    }

    #[test]
    fn a_torn_in_place_write_is_repaired_from_the_newest_copy() {
        let sim = SimBackend::new();
        let df = file(&sim, 4);
        write(&df, 2, 1);
        write(&df, 2, 2); // a newer copy of the same block
        let last = sim.pending().pop().unwrap(); // block 2's in-place write
        assert_eq!(last.write, Some((2 * BS as u64, BS)));
        let torn = sim.crash_tearing(&mut |p| {
            if p.op == last.op {
                Keep::Head(100)
            } else {
                Keep::All
            }
        });
        assert!(
            check_crc(&block(&torn, 2)).is_err(),
            "the tear broke the block"
        );
        let (_, repaired) = DataFile::open_protected(&torn, "data", "dw", BS).unwrap();
        assert_eq!(repaired, vec![BlockNo(2)]);
        assert_eq!(
            &block(&torn, 2)[CRC_AT..],
            &[2u8; BS][CRC_AT..],
            "the newer image"
        );
        let (_, again) = DataFile::open_protected(&torn, "data", "dw", BS).unwrap();
        assert!(again.is_empty(), "repairing is done once");
    }

    const CRC_AT: usize = crate::storage::CRC_LEN;

    #[test]
    fn an_intact_block_is_left_alone_even_if_its_copy_differs() {
        let sim = SimBackend::new();
        let df = file(&sim, 4);
        write(&df, 1, 7);
        df.sync().unwrap();
        // The copy in the area is now older than a later, intact write
        // made without it (as a direct-path load writes).
        let mut newer = vec![9u8; BS];
        crate::storage::stamp_crc(&mut newer);
        sim.open("data", false)
            .unwrap()
            .write_at(&newer, BS as u64)
            .unwrap();
        let (_, repaired) = DataFile::open_protected(&sim, "data", "dw", BS).unwrap();
        assert!(repaired.is_empty());
        assert_eq!(block(&sim, 1), newer);
    }

    #[test]
    fn slots_are_reused_only_after_the_data_file_is_synced() {
        let sim = SimBackend::new();
        let df = file(&sim, SLOTS as u32 + 2);
        let syncs = sim.syncs();
        for no in 0..SLOTS as u32 {
            write(&df, no, no as u8);
        }
        assert_eq!(sim.syncs() - syncs, SLOTS as u64, "one area sync per write");
        // Every slot now holds the only guaranteed copy of an unsynced
        // block: the next write must sync the data file first.
        write(&df, SLOTS as u32, 1);
        assert_eq!(
            sim.syncs() - syncs,
            SLOTS as u64 + 2,
            "data sync, then area sync"
        );
    }

    #[test]
    fn a_failed_write_refuses_every_later_one() {
        let sim = SimBackend::new();
        let df = file(&sim, 4);
        sim.fail_op(1, false); // the area's write
        let mut b = vec![1u8; BS];
        assert!(df.write_protected(&mut [(BlockNo(1), &mut b[..])]).is_err());
        let err = df
            .write_protected(&mut [(BlockNo(1), &mut b[..])])
            .unwrap_err();
        assert!(matches!(err, Error::Poisoned(_)), "{err}");
    }

    #[test]
    fn a_write_past_the_area_clears_its_stale_copy_first() {
        let sim = SimBackend::new();
        let df = file(&sim, 4);
        write(&df, 2, 1); // block 2's image is now in a slot
        let mut run = vec![6u8; 2 * BS];
        df.write_blocks(BlockNo(1), &mut run).unwrap(); // blocks 1 and 2, direct
        df.sync().unwrap();
        sim.corrupt("data", (2 * BS + 10) as u64, 0xff).unwrap();
        let (_, repaired) = DataFile::open_protected(&sim, "data", "dw", BS).unwrap();
        assert!(
            repaired.is_empty(),
            "the old image of block 2 is not put back"
        );
    }

    #[test]
    fn a_damaged_slot_is_ignored() {
        let sim = SimBackend::new();
        let df = file(&sim, 4);
        write(&df, 3, 5);
        sim.corrupt("dw", (SLOT_HEADER + 10) as u64, 0xff).unwrap();
        sim.corrupt("data", (3 * BS + 10) as u64, 0xff).unwrap();
        let (_, repaired) = DataFile::open_protected(&sim, "data", "dw", BS).unwrap();
        assert!(
            repaired.is_empty(),
            "no intact copy: nothing to repair with"
        );
    }
}
