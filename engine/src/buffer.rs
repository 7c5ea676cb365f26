//! The buffer cache: a fixed set of frames holding decoded blocks.
//!
//! ```text
//!   map: (block, CR key?) -> frame        frames: [Frame; cache_frames]
//!   ┌──────────────┐                      ┌───────────────────────────────┐
//!   │ (12, cur)  ──┼────────────────────▶ │ RwLock<FrameState> pins ref   │
//!   │ (12, cr@90)──┼──────┐               │  block, dirty, low/high LSN   │
//!   └──────────────┘      └─────────────▶ │ ...                           │
//!                                          └───────────────────────────────┘
//! ```
//!
//! A get pins a frame (pins are taken under the map mutex, so a pinned frame
//! is never chosen for eviction) and then takes the frame's latch: shared for
//! reads, exclusive for changes. The guard releases both. Frames are replaced
//! with a clock sweep over unpinned frames: a frame used since the hand last
//! passed gets a second chance, the first one that was not is the victim,
//! dirty or clean (a dirty one is written first, as Oracle's writer cleans
//! the cold end of its LRU list for reuse). Passing over cold dirty frames
//! to find a clean one would make a scan that fits the cache evict its own
//! blocks while dirty frames nobody uses stay.
//!
//! Each current frame remembers the LSN range of the redo that describes its
//! unwritten changes: `low` (start of the first record since the block was
//! last written, a lower bound) and `high` (end of the last record). The
//! frames ordered by `low` are the checkpoint queue.
//!
//! Invariant (write-ahead): a frame is written to the data file only after
//! `log.flush(high)` returned, i.e. the redo of its last change is durable.
//! Invariant: consistent-read clones (keys with a `cr` part) are never dirty
//! and never written.
//! Invariant: memory stays within the configured number of frames; a clone
//! occupies a frame like any block.
//!
//! Counting: every get is one `consistent gets` (Consistent mode) or one
//! `db block gets` (Current mode) for the session that asked; a miss adds one
//! `physical reads`. Writes are counted on the system (background) counters,
//! because the session that happens to evict a block is not the one whose
//! work made it dirty.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::block::Block;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Lsn, Scn, Xid};
use crate::redo::RedoLog;
use crate::stats::{SessionStats, Stat};
use crate::storage::DataFile;

/// How a block is gotten (the two kinds of logical read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// As of a query SCN: `consistent gets`.
    Consistent,
    /// The latest version, usually to change it: `db block gets`.
    Current,
}

/// Identifies what a frame holds: the current version of a block, or a
/// consistent-read clone of it as of `(query SCN, reading transaction)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub block: BlockNo,
    pub cr: Option<(Scn, Xid)>,
}

impl Key {
    pub fn current(block: BlockNo) -> Key {
        Key { block, cr: None }
    }
}

/// The contents of one frame.
pub struct FrameState {
    pub key: Option<Key>,
    pub block: Block,
    pub dirty: bool,
    pub low: Lsn,
    pub high: Lsn,
    /// For a clone: the SCN of the current block it was made from, so a
    /// clone made before a later change is not reused.
    pub base_scn: Scn,
}

struct Frame {
    state: RwLock<FrameState>,
    pins: AtomicU32,
    referenced: AtomicBool,
}

struct MapState {
    map: HashMap<Key, usize>,
    hand: usize,
}

/// The buffer cache.
pub struct BufferCache {
    frames: Box<[Frame]>,
    map: Mutex<MapState>,
    file: Arc<DataFile>,
    log: Arc<RedoLog>,
    system: SessionStats,
}

/// A pinned, shared-latched block. (Fields drop in order: the latch is
/// released before the pin.)
pub struct BufRead<'a> {
    guard: RwLockReadGuard<'a, FrameState>,
    pin: Pin<'a>,
}

/// A pinned, exclusively latched block.
pub struct BufWrite<'a> {
    guard: RwLockWriteGuard<'a, FrameState>,
    _pin: Pin<'a>,
}

/// One pin of a frame, released when dropped. A pin is what a get buys:
/// while it is held the frame keeps its block, whatever happens to the latch.
struct Pin<'a>(&'a AtomicU32);

impl Drop for Pin<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

impl std::ops::Deref for BufRead<'_> {
    type Target = Block;
    fn deref(&self) -> &Block {
        &self.guard.block
    }
}

impl std::ops::Deref for BufWrite<'_> {
    type Target = Block;
    fn deref(&self) -> &Block {
        &self.guard.block
    }
}

impl<'a> BufRead<'a> {
    /// SCN of the current block this clone was built from (clones only).
    pub fn base_scn(&self) -> Scn {
        self.guard.base_scn
    }

    /// Trades the shared latch for an exclusive one, keeping the pin: the
    /// same get, not a second one (an index descent that finds a leaf it
    /// must change). Between the two latches another session may change
    /// the block, so the caller looks at it again.
    pub fn latch_exclusive(self) -> BufWrite<'a> {
        let BufRead { guard, pin } = self;
        let lock = RwLockReadGuard::rwlock(&guard);
        drop(guard);
        BufWrite {
            guard: lock.write(),
            _pin: pin,
        }
    }
}

impl BufWrite<'_> {
    /// The block, for applying an op whose redo is already in the log buffer.
    pub fn block_mut(&mut self) -> &mut Block {
        &mut self.guard.block
    }

    /// Records that redo `[start, end)` describes a change now applied.
    pub fn mark_changed(&mut self, start: Lsn, end: Lsn) {
        let s = &mut *self.guard;
        if !s.dirty {
            s.dirty = true;
            s.low = start;
        }
        s.high = s.high.max(end);
    }

    /// Records a change made without redo (commit cleanout's commit SCN
    /// stamp), so the block is written before it leaves the cache and the
    /// change is not lost on eviction. `at` is the log's end when the change
    /// was made: a lower bound for the frame's checkpoint position, as for a
    /// logged change, and the redo that must be durable before the block is
    /// written (it holds the commit the stamp claims; for a user commit it
    /// already is). A crash can lose such a change; whoever needs it again
    /// finds it out from the transaction table.
    pub fn mark_dirty_unlogged(&mut self, at: Lsn) {
        let s = &mut *self.guard;
        if !s.dirty {
            s.dirty = true;
            s.low = at;
        }
        s.high = s.high.max(at);
    }
}

impl BufferCache {
    pub fn new(
        frames: usize,
        file: Arc<DataFile>,
        log: Arc<RedoLog>,
        system: SessionStats,
    ) -> Self {
        let frames = (0..frames)
            .map(|_| Frame {
                state: RwLock::new(FrameState {
                    key: None,
                    block: Block::unformatted(BlockNo(0)),
                    dirty: false,
                    low: Lsn(0),
                    high: Lsn(0),
                    base_scn: Scn(0),
                }),
                pins: AtomicU32::new(0),
                referenced: AtomicBool::new(false),
            })
            .collect();
        BufferCache {
            frames,
            map: Mutex::new(MapState {
                map: HashMap::new(),
                hand: 0,
            }),
            file,
            log,
            system,
        }
    }

    pub fn file(&self) -> &Arc<DataFile> {
        &self.file
    }

    fn count_get(stats: &SessionStats, mode: Mode) {
        stats.inc(match mode {
            Mode::Consistent => Stat::ConsistentGets,
            Mode::Current => Stat::DbBlockGets,
        });
    }

    /// Pins the frame holding `key`, loading it with `load` if absent.
    /// Returns the frame index; the pin is the caller's to release.
    fn pin(&self, key: Key, load: Load, stats: &SessionStats) -> Result<usize> {
        let mut m = self.map.lock();
        if let Some(&i) = m.map.get(&key) {
            self.frames[i].pins.fetch_add(1, Ordering::Acquire);
            self.frames[i].referenced.store(true, Ordering::Relaxed);
            return Ok(i);
        }
        if matches!(load, Load::Lookup) {
            return Err(Error::Internal("not cached".into()));
        }
        let (i, mut st) = self.victim(&mut m)?;
        let frame = &self.frames[i];
        if let Some(old) = st.key.take() {
            m.map.remove(&old);
        }
        frame.pins.fetch_add(1, Ordering::Acquire);
        frame.referenced.store(true, Ordering::Relaxed);
        m.map.insert(key, i);
        drop(m);
        // The new key is mapped and the frame exclusively latched: others
        // asking for it wait on the latch until the load below is done.
        let loaded = match load {
            Load::Read => {
                stats.inc(Stat::PhysicalReads);
                self.read_from_disk(key.block)
            }
            Load::New => Ok(Block::unformatted(key.block)),
            Load::Clone(b) => Ok(*b),
            Load::Lookup => unreachable!("returned above"),
        };
        match loaded {
            Ok(block) => {
                st.block = block;
                st.key = Some(key);
                st.dirty = false;
                st.low = Lsn(0);
                st.high = Lsn(0);
                Ok(i)
            }
            Err(e) => {
                let mut m = self.map.lock();
                m.map.remove(&key);
                st.key = None;
                frame.pins.fetch_sub(1, Ordering::Release);
                Err(e)
            }
        }
    }

    fn read_from_disk(&self, no: BlockNo) -> Result<Block> {
        let mut buf = vec![0u8; self.file.block_size()];
        self.file.read_block(no, &mut buf)?;
        Block::decode(no, &buf).map_err(|r| Error::corrupt(self.file.name(), no.0 as u64, r))
    }

    /// Picks an unpinned frame with the clock sweep and returns it latched
    /// exclusively, so nothing can take it between the choice and the reuse.
    /// The first frame not referenced since the hand last passed is taken;
    /// a dirty one is written first (its redo flushed before it). Frames
    /// latched at the moment (a checkpoint
    /// scanning the cache, say) are skipped, never waited for: the map
    /// mutex is held here. Only when every unpinned frame is latched (a
    /// writer batch holding them for its I/O) does it pause and look again.
    fn victim(&self, m: &mut MapState) -> Result<(usize, RwLockWriteGuard<'_, FrameState>)> {
        let n = self.frames.len();
        for _round in 0..100 {
            let mut dirty_candidate = None;
            let mut busy = false;
            // Two passes: the first clears the referenced bits it meets, so
            // the second finds an unreferenced frame if any is unpinned.
            for step in 0..2 * n {
                let i = m.hand;
                m.hand = (m.hand + 1) % n;
                let f = &self.frames[i];
                if f.pins.load(Ordering::Acquire) != 0 {
                    continue;
                }
                if f.referenced.swap(false, Ordering::Relaxed) && step < n {
                    continue;
                }
                let Some(st) = f.state.try_write() else {
                    busy = true;
                    continue;
                };
                if !st.dirty {
                    return Ok((i, st));
                }
                // The first cold frame is dirty: write it and take it.
                dirty_candidate = Some(i);
                drop(st);
                break;
            }
            let Some(i) = dirty_candidate else {
                if busy {
                    // Frames latched by a writer batch (see `write_indexes`)
                    // are free again once its I/O is done.
                    std::thread::sleep(std::time::Duration::from_micros(200));
                    continue;
                }
                return Err(Error::SpaceExhausted(format!(
                    "buffer cache: all {} frames are pinned",
                    self.frames.len()
                )));
            };
            if let Some(mut st) = self.frames[i].state.try_write() {
                self.write_frame(&mut st)?;
                return Ok((i, st));
            }
            std::thread::yield_now();
        }
        Err(Error::SpaceExhausted(
            "buffer cache: no frame could be latched for replacement".into(),
        ))
    }

    /// Writes one dirty current frame: redo first, then the block.
    fn write_frame(&self, st: &mut FrameState) -> Result<()> {
        self.write_frames(&mut [st]).map(|_| ())
    }

    /// Writes the dirty ones among `frames` (current frames the caller has
    /// latched exclusively) as one batch: the redo describing every change
    /// in them first, then the blocks through the data file's doublewrite
    /// area. Returns how many were dirty.
    fn write_frames(&self, frames: &mut [&mut FrameState]) -> Result<usize> {
        let mut dirty: Vec<&mut FrameState> = frames
            .iter_mut()
            .filter(|st| st.dirty)
            .map(|st| &mut **st)
            .collect();
        let Some(high) = dirty.iter().map(|st| st.high).max() else {
            return Ok(0);
        };
        debug_assert!(
            dirty
                .iter()
                .all(|st| st.key.is_some_and(|k| k.cr.is_none())),
            "a CR clone is never dirty"
        );
        // Write-ahead: the redo describing every change in these images
        // must be durable before any of them can reach the data file.
        self.log.flush(high)?;
        let bs = self.file.block_size();
        let mut bufs = vec![0u8; dirty.len() * bs];
        let mut blocks = Vec::with_capacity(dirty.len());
        for (st, buf) in dirty.iter().zip(bufs.chunks_exact_mut(bs)) {
            st.block
                .encode(buf)
                .map_err(|r| Error::corrupt(self.file.name(), st.block.no.0 as u64, r))?;
            blocks.push((st.block.no, buf));
        }
        let dw_writes = self.file.write_protected(&mut blocks)?;
        let n = dirty.len() as u64;
        self.system.add(Stat::PhysicalWrites, n);
        self.system.add(Stat::PhysicalWritesFromCache, n);
        if dw_writes > 0 {
            self.system.add(Stat::DoublewriteBlocks, n);
            self.system.add(Stat::DoublewriteWrites, dw_writes as u64);
        }
        for st in &mut dirty {
            st.dirty = false;
            st.low = Lsn(0);
            st.high = Lsn(0);
        }
        Ok(dirty.len())
    }

    /// Writes the frames `indexes` if dirty, in batches of up to a
    /// doublewrite area's worth (or a quarter of the cache). A frame
    /// latched by someone else at the moment is not waited for while the
    /// batch's latches are held (that could deadlock with a session
    /// latching two blocks); it is written on its own afterwards.
    fn write_indexes(&self, indexes: &[usize]) -> Result<usize> {
        // At most a quarter of the cache latched at once, so that sessions
        // looking for a frame to reuse meanwhile still find one.
        let batch = crate::storage::doublewrite::SLOTS
            .min(self.frames.len() / 4)
            .max(1);
        let mut written = 0;
        for chunk in indexes.chunks(batch) {
            let mut guards = Vec::with_capacity(chunk.len());
            let mut busy = Vec::new();
            for &i in chunk {
                match self.frames[i].state.try_write() {
                    Some(g) => guards.push(g),
                    None => busy.push(i),
                }
            }
            let mut latched: Vec<&mut FrameState> = guards.iter_mut().map(|g| &mut **g).collect();
            written += self.write_frames(&mut latched)?;
            drop(latched);
            drop(guards);
            for i in busy {
                let mut st = self.frames[i].state.write();
                written += self.write_frames(&mut [&mut st])?;
            }
        }
        Ok(written)
    }

    /// A shared, pinned get of the current block.
    pub fn get(&self, no: BlockNo, mode: Mode, stats: &SessionStats) -> Result<BufRead<'_>> {
        Self::count_get(stats, mode);
        let i = self.pin(Key::current(no), Load::Read, stats)?;
        let f = &self.frames[i];
        Ok(BufRead {
            guard: f.state.read(),
            pin: Pin(&f.pins),
        })
    }

    /// The current block again, shared, inside a get already counted: a
    /// consistent get that let go of the block to clean it out and now
    /// reads it (not a second `consistent gets`; a miss, if it was evicted
    /// meanwhile, still counts its physical read).
    pub fn get_again(&self, no: BlockNo, stats: &SessionStats) -> Result<BufRead<'_>> {
        let i = self.pin(Key::current(no), Load::Read, stats)?;
        let f = &self.frames[i];
        Ok(BufRead {
            guard: f.state.read(),
            pin: Pin(&f.pins),
        })
    }

    /// An exclusive, pinned get of the current block (one `db block gets`).
    pub fn get_mut(&self, no: BlockNo, stats: &SessionStats) -> Result<BufWrite<'_>> {
        Self::count_get(stats, Mode::Current);
        let i = self.pin(Key::current(no), Load::Read, stats)?;
        let f = &self.frames[i];
        Ok(BufWrite {
            guard: f.state.write(),
            _pin: Pin(&f.pins),
        })
    }

    /// An exclusive get of a block about to be (re)formatted: its old
    /// contents are not needed, so a miss costs no physical read.
    pub fn get_new(&self, no: BlockNo, stats: &SessionStats) -> Result<BufWrite<'_>> {
        Self::count_get(stats, Mode::Current);
        let i = self.pin(Key::current(no), Load::New, stats)?;
        let f = &self.frames[i];
        Ok(BufWrite {
            guard: f.state.write(),
            _pin: Pin(&f.pins),
        })
    }

    /// A cached clone of `no` for `(scn, xid)` made from current version
    /// `base`, if there is one. A hit is one consistent get.
    pub fn get_cr(
        &self,
        no: BlockNo,
        scn: Scn,
        xid: Xid,
        base: Scn,
        stats: &SessionStats,
    ) -> Option<BufRead<'_>> {
        let key = Key {
            block: no,
            cr: Some((scn, xid)),
        };
        let i = self.pin(key, Load::Lookup, stats).ok()?;
        let f = &self.frames[i];
        let g = BufRead {
            guard: f.state.read(),
            pin: Pin(&f.pins),
        };
        if g.guard.key != Some(key) || g.guard.base_scn != base {
            return None;
        }
        stats.inc(Stat::ConsistentGets);
        Some(g)
    }

    /// Stores a clone built for `(scn, xid)` from current version `base`.
    /// Clones are never dirty; they leave the cache by eviction.
    pub fn put_cr(
        &self,
        block: Block,
        scn: Scn,
        xid: Xid,
        base: Scn,
        stats: &SessionStats,
    ) -> Result<()> {
        let key = Key {
            block: block.no,
            cr: Some((scn, xid)),
        };
        {
            let m = self.map.lock();
            if let Some(&i) = m.map.get(&key) {
                // Replace a stale clone in place.
                let f = &self.frames[i];
                f.pins.fetch_add(1, Ordering::Acquire);
                drop(m);
                let mut st = f.state.write();
                st.block = block;
                st.base_scn = base;
                f.pins.fetch_sub(1, Ordering::Release);
                return Ok(());
            }
        }
        let i = self.pin(key, Load::Clone(Box::new(block)), stats)?;
        let f = &self.frames[i];
        f.state.write().base_scn = base;
        f.pins.fetch_sub(1, Ordering::Release);
        Ok(())
    }

    /// Writes up to `max` dirty frames, oldest first (the checkpoint queue
    /// order). Returns how many were written.
    pub fn write_dirty(&self, max: usize) -> Result<usize> {
        let mut queue: Vec<(Lsn, usize)> = Vec::new();
        for (i, f) in self.frames.iter().enumerate() {
            let st = f.state.read();
            if st.dirty {
                queue.push((st.low, i));
            }
        }
        queue.sort_unstable();
        let indexes: Vec<usize> = queue.into_iter().take(max).map(|(_, i)| i).collect();
        self.write_indexes(&indexes)
    }

    /// Writes the listed blocks if dirty (used by `commit_mode = force`).
    pub fn write_blocks(&self, blocks: &[BlockNo]) -> Result<usize> {
        let mut indexes = Vec::new();
        for &no in blocks {
            let m = self.map.lock();
            if let Some(&i) = m.map.get(&Key::current(no)) {
                // Pinned, so the frame keeps this block until written.
                self.frames[i].pins.fetch_add(1, Ordering::Acquire);
                indexes.push(i);
            }
        }
        let r = self.write_indexes(&indexes);
        for &i in &indexes {
            self.frames[i].pins.fetch_sub(1, Ordering::Release);
        }
        r
    }

    /// The checkpoint position: redo before it is no longer needed for
    /// recovery. That is the lowest `low` of any dirty frame, or `end` if
    /// none is dirty.
    pub fn checkpoint_lsn(&self, end: Lsn) -> Lsn {
        self.frames
            .iter()
            .filter_map(|f| {
                let st = f.state.read();
                st.dirty.then_some(st.low)
            })
            .min()
            .unwrap_or(end)
            .min(end)
    }

    pub fn dirty_count(&self) -> usize {
        self.frames.iter().filter(|f| f.state.read().dirty).count()
    }

    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// An exclusive latch on the current version of `no` if it is cached;
    /// not counted as a get (commit cleanout is the session's bookkeeping,
    /// not a read it asked for) and never a physical read.
    pub fn get_mut_if_cached(&self, no: BlockNo) -> Option<BufWrite<'_>> {
        let m = self.map.lock();
        let &i = m.map.get(&Key::current(no))?;
        let f = &self.frames[i];
        f.pins.fetch_add(1, Ordering::Acquire);
        drop(m);
        Some(BufWrite {
            guard: f.state.write(),
            _pin: Pin(&f.pins),
        })
    }

    /// Like [`get_mut_if_cached`](Self::get_mut_if_cached), but `None` also
    /// when the latch is held: for work that is worth doing only if it costs
    /// no wait (a reader's block cleanout, which may run while its caller
    /// holds latches on other blocks, so waiting could deadlock).
    pub fn try_get_mut_if_cached(&self, no: BlockNo) -> Option<BufWrite<'_>> {
        let m = self.map.lock();
        let &i = m.map.get(&Key::current(no))?;
        let f = &self.frames[i];
        f.pins.fetch_add(1, Ordering::Acquire);
        // From here the pin is owned by `pin`: dropping it on a busy latch
        // gives it back.
        let pin = Pin(&f.pins);
        drop(m);
        let guard = f.state.try_write()?;
        Some(BufWrite { guard, _pin: pin })
    }
}

enum Load {
    Read,
    New,
    Clone(Box<Block>),
    Lookup,
}
