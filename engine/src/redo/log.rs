//! The redo log: an endless byte stream kept in a ring of preallocated files,
//! written by one log writer thread with group commit.
//!
//! # The stream and the ring
//!
//! An [`Lsn`] is a byte position in one endless logical stream. The stream is
//! cut into *segments* of `cap = file_size - 512` bytes; segment `k` holds
//! stream bytes `[k*cap, (k+1)*cap)` and lives in file `k % files`:
//!
//! ```text
//!  LSN 0        cap         2cap        3cap        4cap
//!      | seg 0     | seg 1     | seg 2     | seg 3     | seg 4 ...
//!        redo01.log  redo02.log  redo03.log  redo01.log  redo02.log
//!                                            (reused once the checkpoint has
//!                                             passed the end of seg 0)
//!
//!  one file, file_size bytes:
//!  +--------------------+------------------------------------------------+
//!  | header (512 bytes) | stream bytes [k*cap, (k+1)*cap)                 |
//!  +--------------------+------------------------------------------------+
//!  header: 0..8 magic "BLREDO01" | 8..16 segment k (u64 LE)
//!          | 16..20 crc32 of bytes 0..16 | zeros up to 512
//! ```
//!
//! Stream byte `lsn` of segment `k` is at file offset `512 + (lsn - k*cap)`.
//! A fresh file's header names no segment (`u64::MAX`). The writer rewrites
//! the header with `k` when it first enters segment `k`, so a reader can tell
//! the current segment from stale bytes left by an earlier lap of the ring.
//!
//! The files are preallocated at full size and synced (file, then directory)
//! by [`create_log_files`], so that a later write + sync never has to make a
//! change of file size durable: on this machine an append + fsync costs about
//! twice an overwrite + fsync, and every commit pays for one.
//!
//! # Record framing
//!
//! ```text
//!  0       4          8             16             24            32
//!  +-------+----------+-------------+--------------+-------------+----------
//!  | crc32 | payload  | lsn (u64)   | batch (u64)  | scn (u64)   | payload
//!  |       | len (u32)| own start   | start of its | allocated   | (len bytes)
//!  |       |          |             | write batch  | with it     |
//!  +-------+----------+-------------+--------------+-------------+----------
//!  crc32 covers bytes 4 .. 32+len.  All integers little-endian.
//! ```
//!
//! A record may span two segments (two files); a record is at most a quarter
//! of a segment ([`LogConfig::max_payload`]), so never three. The appending
//! session fills `lsn`, `scn` and the payload; the log writer fills `batch`
//! and the CRC just before writing, so checksumming happens off the sessions'
//! critical path and `batch` is known.
//!
//! # Torn tail versus corruption
//!
//! The writer writes one *batch* (a contiguous run of records) at a time and
//! syncs it before it writes the next. So if any record of batch B2 reached
//! the disk, every batch before B2 was synced in full. A reader parses records
//! from a start LSN until one fails at position `x` (bad CRC, impossible
//! length, a header `lsn` that is not `x`, or a segment whose file header does
//! not carry the expected `k`). Then it scans forward, byte by byte, through
//! the following segments whose headers do carry their expected `k`, looking
//! for a valid record whose `batch > x` (the filter "the u64 at `p+8` equals
//! `p`" runs before any CRC):
//!
//! - found: that later batch was written after the batch holding `x` had been
//!   synced, so `x` is damage in the middle of the log: [`Error::CorruptLog`].
//!   Recovery refuses to guess, because skipping `x` would lose committed work.
//! - not found: `x` is a torn tail, the log ends at `x`. Valid-looking records
//!   after `x` with `batch <= x` belong to the same unsynced batch (or to one
//!   torn before an earlier restart) and are discarded: nobody was told they
//!   were durable.
//!
//! That argument alone cannot protect the *last* synced batch: nothing is
//! written after it, so damage in it would look like a torn tail, and the
//! commits it acknowledged would vanish silently. So right after each sync
//! the writer writes a **sync mark** just past the batch: a record header
//! with an empty payload (no real record is empty) and `batch` = its own
//! position. A reader that meets a valid mark stops there (the log ends
//! cleanly); one that meets damage before a mark finds the mark as the
//! "later batch" witness and reports corruption. The next batch overwrites
//! the mark.
//!
//! ```text
//!   | batch B1 (synced) | batch B2 (synced) |mark|   stale bytes ...
//!                        ^ a flipped bit here: the mark (batch = its
//!                          position > x) proves B2 was synced: CorruptLog
//! ```
//!
//! What can still be mistaken for a torn tail, and why:
//! - damage in the last synced batch when its mark did not reach the disk:
//!   the mark is written but not synced (a second sync per commit would
//!   double the commit's cost), so after a *power cut* it may be missing;
//!   after a killed process it is always there (the page cache keeps it);
//! - damage in a batch that ended within one record header of the end of
//!   a segment (no room for a mark there: it must not touch the next file,
//!   which may still hold redo the checkpoint needs);
//! - a mark or a whole batch replaced by older bytes of the same file (a
//!   lost or misdirected write), which no checksum can see.
//!
//! # Writing: group commit
//!
//! ```text
//!  session: append ──► [ log buffer ] ──swap──► log writer: stamp batch+crc,
//!           (SCN, framing,   ▲ appenders keep      write file(s), sync each,
//!            under mutex)    │ filling a fresh     durable = batch end,
//!  session: flush(upto) ─────┘ buffer meanwhile    notify_all ──► waiters return
//! ```
//!
//! A flusher ([`RedoLog::flush`]) that finds no batch being written
//! *leads*: it takes the buffer as the next batch and writes and syncs it
//! on its own thread (leader-follower group commit, as InnoDB and
//! PostgreSQL do). A flusher that finds a batch in flight *follows*: it
//! waits for that sync, and if its own record came after the batch, the
//! first follower to wake leads the next one, carrying every record
//! appended meanwhile. So a lone committer pays one write and one sync and
//! no thread hand-off, and under load `log_syncs` is still far below the
//! number of flushes: while one sync runs, the next commits gather in the
//! fresh buffer. The log writer thread writes what nobody waits for: when
//! the buffer holds more than 1 MiB (or a third of a segment), and at
//! shutdown.
//!
//! A failed write or sync poisons the log: the failing flush and every later
//! append or flush return [`Error::Poisoned`]. A failed fsync is never retried,
//! because the kernel may already have dropped the dirty pages it failed on.
//!
//! Invariant: `durable_lsn() <= end_lsn()`, and `flush(l)` returns Ok only
//! after a sync covering every byte before `l`.
//! Invariant: SCNs increase strictly with LSN: one SCN per record, allocated
//! under the same mutex that places the record in the buffer.
//! Invariant: batches reach the disk in LSN order, each synced before the next
//! is written, and every record's `batch <= lsn`.
//! Invariant: the stream never extends past `(checkpoint/cap + files) * cap`,
//! so segment `k` overwrites segment `k - files` only after the checkpoint has
//! passed it: recovery from the checkpoint always finds its redo.
//!
//! # Space
//!
//! The log writer itself never waits for space: the checkpoint that would free
//! a segment may be waiting for this very writer to sync redo. So sessions
//! reserve space *before* they take any block latch, with
//! [`RedoLog::wait_for_space`], which blocks while
//! `end - checkpoint > (files-1)*cap - headroom` (headroom: a quarter segment,
//! the largest record). If concurrent sessions still overrun the headroom,
//! `append` refuses with `SpaceExhausted` rather than overwrite needed redo.
//!
//! # Archive mode
//!
//! Without archiving, a segment's redo is gone once its file is reused: fine
//! for crash recovery (which needs only the redo after the checkpoint), fatal
//! for media recovery from a backup and for the log miner. In archive mode
//! ([`RedoLog::start_archiving`], module [`archiver`]) an archiver thread
//! copies every *filled* segment (the stream has passed its end and that is
//! durable) to the archive destination, and the ring may reuse a file only
//! once its segment is both checkpointed and archived:
//!
//! ```text
//!  reusable = min(checkpoint, archived * cap)      (archived: segments < it are copied)
//!  append refuses past (reusable/cap + files) * cap; wait_for_space waits on `reusable`
//! ```
//!
//! So a slow or failing archiver makes sessions wait for log space ("archiver
//! stuck"), exactly as a slow checkpoint does, and never loses a segment.
//!
//! Invariant: in archive mode, segment `k` is overwritten only after its
//! archived copy has been synced and renamed into place.
//!
//! Simplifications compared with a production engine: no timed (every 3 s)
//! write, no multiplexed members or archive destinations, no log switch on
//! demand (the current segment is archived when it fills), recovery reads
//! whole segments into memory, and a payload that happens to embed a
//! well-formed record at its own LSN could fool the corruption scan
//! (practically: never).

#[cfg(test)]
mod archive_tests;
pub mod archiver;
mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use reader::{read_log, LogReader, Ring, SegmentSource};
use writer::{log_writer, write_next_batch, write_trigger, WriterIo};

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::ids::{Lsn, Scn};
use crate::storage::{Backend, FileHandle};

/// Bytes reserved at the start of every log file for its header.
pub const FILE_HEADER_SIZE: u64 = 512;
/// Bytes of framing before each record's payload.
pub const RECORD_HEADER_SIZE: usize = 32;

const FILE_MAGIC: [u8; 8] = *b"BLREDO01";
const HDR_SEGMENT: usize = 8;
const HDR_CRC: usize = 16;
/// Header segment number of a file that has never held stream bytes.
pub(crate) const NO_SEGMENT: u64 = u64::MAX;

const REC_CRC: usize = 0;
const REC_LEN: usize = 4;
const REC_LSN: usize = 8;
const REC_BATCH: usize = 16;
const REC_SCN: usize = 24;

/// Shape of the log ring. Must match the files on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Size of each log file, header included.
    pub file_size: u64,
    /// Number of files in the ring.
    pub files: u32,
}

impl LogConfig {
    /// Checks that the ring can hold at least one record of useful size.
    pub fn validate(&self) -> Result<()> {
        if self.files < 2 {
            return Err(Error::Config(format!(
                "the redo ring needs at least 2 files, got {}",
                self.files
            )));
        }
        if self.file_size < 4 * FILE_HEADER_SIZE {
            return Err(Error::Config(format!(
                "redo log files must be at least {} bytes, got {}",
                4 * FILE_HEADER_SIZE,
                self.file_size
            )));
        }
        Ok(())
    }

    /// Stream bytes per segment (`cap`): the file minus its header.
    pub fn segment_capacity(&self) -> u64 {
        self.file_size.saturating_sub(FILE_HEADER_SIZE)
    }

    /// Largest payload one record may carry: a record is at most a quarter
    /// segment, which is also the headroom `wait_for_space` keeps free.
    pub fn max_payload(&self) -> usize {
        (self.max_record() as usize).saturating_sub(RECORD_HEADER_SIZE)
    }

    fn max_record(&self) -> u64 {
        self.segment_capacity() / 4
    }

    /// File name of ring position `index` (0-based): `redo01.log`, ….
    pub fn file_name(index: u32) -> String {
        format!("redo{:02}.log", index + 1)
    }

    fn file_of_segment(&self, k: u64) -> usize {
        (k % self.files as u64) as usize
    }

    pub(crate) fn open_files(&self, backend: &dyn Backend) -> Result<Vec<Arc<dyn FileHandle>>> {
        self.validate()?;
        let mut files = Vec::with_capacity(self.files as usize);
        for i in 0..self.files {
            let file = backend.open(&Self::file_name(i), false)?;
            let len = file.len()?;
            if len != self.file_size {
                return Err(Error::Config(format!(
                    "redo log file {} is {len} bytes but log_file_size is {}",
                    backend.describe(file.name()),
                    self.file_size
                )));
            }
            files.push(file);
        }
        Ok(files)
    }
}

/// One record read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Where the record starts.
    pub lsn: Lsn,
    pub scn: Scn,
    /// Where the next record starts.
    pub end: Lsn,
    pub payload: Vec<u8>,
}

/// Everything [`read_log`] found.
#[derive(Clone, Debug)]
pub struct LogScan {
    pub records: Vec<LogRecord>,
    /// Where the valid log ends: the next record goes here.
    pub end: Lsn,
    /// The largest SCN among `records`, `Scn(0)` if there are none.
    pub max_scn: Scn,
}

/// Log writer counters (V$SYSSTAT names in parentheses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Write batches written (`redo writes`).
    pub redo_writes: u64,
    /// File syncs issued; a batch spanning two files costs two.
    pub log_syncs: u64,
    /// Stream bytes written (`redo size` as written, headers excluded).
    pub bytes_written: u64,
    /// Records appended (`redo entries`).
    pub records: u64,
    /// Segments copied to the archive destination by this instance.
    pub archived: u64,
}

pub(crate) fn file_header(k: u64) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER_SIZE as usize];
    h[..HDR_SEGMENT].copy_from_slice(&FILE_MAGIC);
    h[HDR_SEGMENT..HDR_CRC].copy_from_slice(&k.to_le_bytes());
    let crc = crc32fast::hash(&h[..HDR_CRC]);
    h[HDR_CRC..HDR_CRC + 4].copy_from_slice(&crc.to_le_bytes());
    h
}

/// The segment a file header names, or None if it is not a valid header.
pub(crate) fn parse_file_header(h: &[u8]) -> Option<u64> {
    let magic = h.get(..HDR_SEGMENT)?;
    let k = u64::from_le_bytes(h.get(HDR_SEGMENT..HDR_CRC)?.try_into().ok()?);
    let crc = u32::from_le_bytes(h.get(HDR_CRC..HDR_CRC + 4)?.try_into().ok()?);
    (magic == FILE_MAGIC && crc == crc32fast::hash(&h[..HDR_CRC])).then_some(k)
}

/// Creates fresh preallocated log files (error if any exists).
pub fn create_log_files(backend: &dyn Backend, cfg: &LogConfig) -> Result<()> {
    cfg.validate()?;
    for i in 0..cfg.files {
        let name = LogConfig::file_name(i);
        if backend.exists(&name) {
            return Err(Error::AlreadyExists {
                kind: "redo log file",
                name: backend.describe(&name),
            });
        }
    }
    let zeros = vec![0u8; cfg.file_size.min(1 << 20) as usize];
    for i in 0..cfg.files {
        let file = backend.open(&LogConfig::file_name(i), true)?;
        // Real zero bytes, not a sparse set_len: the blocks get allocated now,
        // so no later redo write has to allocate (and journal) any.
        let mut off = 0;
        while off < cfg.file_size {
            let n = (cfg.file_size - off).min(zeros.len() as u64) as usize;
            file.write_at(&zeros[..n], off)?;
            off += n as u64;
        }
        file.write_at(&file_header(NO_SEGMENT), 0)?;
        file.sync()?;
    }
    // The files' directory entries must survive a crash too.
    backend.sync_dir()
}

/// The redo log while the engine runs; share it as `Arc<RedoLog>`.
pub struct RedoLog {
    shared: Arc<Shared>,
    /// Where the ring lives (the archiver opens its own handles on it).
    backend: Arc<dyn Backend>,
    writer: Mutex<Option<JoinHandle<()>>>,
    archiver: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    cfg: LogConfig,
    state: Mutex<State>,
    /// The files, written by whoever writes a batch: the log writer thread
    /// or a committing session that leads (see "Writing: group commit").
    /// Only the holder of `State::writing` locks it, so it never waits.
    io: Mutex<WriterIo>,
    /// The log writer waits here for work.
    work: Condvar,
    /// Flushers wait here for `durable` to advance (or for poison).
    done: Condvar,
    /// `wait_for_space` waits here for the checkpoint to advance.
    space: Condvar,
}

struct State {
    /// Framed records not yet handed to the writer; `buf[0]` is at `buf_start`.
    buf: Vec<u8>,
    buf_start: u64,
    end: u64,
    scn: u64,
    durable: u64,
    checkpoint: u64,
    /// The largest LSN any flusher is waiting for.
    requested: u64,
    /// A batch is being written and synced (by the writer thread or by a
    /// leading flusher): nobody else may start one until it is durable.
    writing: bool,
    /// The empty buffer swapped in for the next batch while one is written.
    spare: Vec<u8>,
    poisoned: Option<String>,
    shutdown: bool,
    /// Archive mode: every segment below this one is archived (or was
    /// reused before archive mode began). `None`: not in archive mode.
    archived: Option<u64>,
    /// The archiver's last failure while it retries; sessions that give up
    /// waiting for log space report it ("archiver stuck").
    archive_error: Option<String>,
    /// Reused payload vector for `append` (see there).
    scratch: Vec<u8>,
    stats: LogStats,
}

impl State {
    /// Stream bytes before this position may be overwritten: they are
    /// checkpointed and, in archive mode, archived.
    fn reusable(&self, cap: u64) -> u64 {
        match self.archived {
            Some(a) => self.checkpoint.min(a.saturating_mul(cap)),
            None => self.checkpoint,
        }
    }

    /// What keeps the oldest needed segment from being reused, for the
    /// "redo log full" message.
    fn space_holder(&self, cap: u64) -> String {
        match &self.archive_error {
            Some(e) => format!("archiver stuck: {e}"),
            None if self.reusable(cap) < self.checkpoint => "waiting for the archiver".into(),
            None => "checkpoint not complete".into(),
        }
    }

    fn check_usable(&self) -> Result<()> {
        if let Some(why) = &self.poisoned {
            return Err(Error::Poisoned(why.clone()));
        }
        if self.shutdown {
            return Err(Error::Internal("redo log used after shutdown".into()));
        }
        Ok(())
    }
}

impl RedoLog {
    /// Starts writing at `end` (from [`read_log`]) with the given checkpoint.
    /// Every SCN handed out is strictly greater than `last_scn` (pass the
    /// largest SCN already used, e.g. `LogScan::max_scn`). Spawns the log writer.
    pub fn start(
        backend: Arc<dyn Backend>,
        cfg: LogConfig,
        end: Lsn,
        checkpoint: Lsn,
        last_scn: Scn,
    ) -> Result<Arc<RedoLog>> {
        let files = cfg.open_files(backend.as_ref())?;
        if checkpoint > end {
            return Err(Error::Config(format!(
                "redo checkpoint {} is beyond the end of the log {}",
                checkpoint.0, end.0
            )));
        }
        // If the end lies inside a segment whose header is already on disk,
        // the writer must not rewrite it; otherwise it writes it on entry.
        let k = end.0 / cfg.segment_capacity();
        let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
        files[cfg.file_of_segment(k)].read_at(&mut hdr, 0)?;
        let header_seg = parse_file_header(&hdr).filter(|&h| h == k);

        let io = WriterIo {
            cfg,
            files,
            header_seg,
        };
        let shared = Arc::new(Shared {
            cfg,
            io: Mutex::new(io),
            state: Mutex::new(State {
                buf: Vec::new(),
                buf_start: end.0,
                end: end.0,
                scn: last_scn.0,
                durable: end.0,
                checkpoint: checkpoint.0,
                requested: end.0,
                writing: false,
                spare: Vec::new(),
                poisoned: None,
                shutdown: false,
                archived: None,
                archive_error: None,
                scratch: Vec::new(),
                stats: LogStats::default(),
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            space: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let ring_backend = backend.clone();
        let handle = std::thread::Builder::new()
            .name("blocklab-logwriter".into())
            .spawn(move || log_writer(thread_shared))
            .map_err(|e| Error::Internal(format!("cannot start the log writer thread: {e}")))?;
        Ok(Arc::new(RedoLog {
            shared,
            backend: ring_backend,
            writer: Mutex::new(Some(handle)),
            archiver: Mutex::new(None),
        }))
    }

    /// Appends one record to the log buffer; does not wait for the disk.
    /// Under the buffer mutex it allocates the next SCN, calls
    /// `build(scn, &mut payload)` to encode the payload, and frames it.
    /// Returns the record's SCN and its end LSN (what to `flush` up to).
    pub fn append(&self, build: impl FnOnce(Scn, &mut Vec<u8>)) -> Result<(Scn, Lsn)> {
        let cfg = self.shared.cfg;
        let mut st = self.shared.state.lock();
        st.check_usable()?;
        let scn = st.scn + 1;
        // `build` writes into a separate vector, not the log buffer, so that
        // no encoder bug can damage records already framed.
        let mut payload = std::mem::take(&mut st.scratch);
        payload.clear();
        build(Scn(scn), &mut payload);
        let start = st.end;
        let rec_len = (RECORD_HEADER_SIZE + payload.len()) as u64;
        let cap = cfg.segment_capacity();
        // Segment `reusable/cap + files` would land in the file still
        // holding the checkpoint's (or the oldest unarchived) segment: the
        // stream must stop short.
        let limit = (st.reusable(cap) / cap + cfg.files as u64) * cap;
        let refusal = if payload.is_empty() {
            // An empty payload is how a sync mark looks (see "Torn tail
            // versus corruption"); no real record is ever empty.
            Some(Error::Internal("an empty redo record".into()))
        } else if payload.len() > cfg.max_payload() {
            Some(Error::SpaceExhausted(format!(
                "redo record of {} bytes exceeds the maximum of {} (a quarter of a log file)",
                payload.len(),
                cfg.max_payload()
            )))
        } else if start + rec_len > limit {
            Some(Error::SpaceExhausted(format!(
                "redo log full: {}",
                st.space_holder(cap)
            )))
        } else {
            None
        };
        if let Some(err) = refusal {
            st.scratch = payload;
            return Err(err); // the SCN was not consumed
        }
        let mut head = [0u8; RECORD_HEADER_SIZE];
        head[REC_LEN..REC_LSN].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        head[REC_LSN..REC_BATCH].copy_from_slice(&start.to_le_bytes());
        head[REC_SCN..].copy_from_slice(&scn.to_le_bytes());
        st.buf.extend_from_slice(&head);
        st.buf.extend_from_slice(&payload);
        st.scratch = payload;
        st.scn = scn;
        st.end = start + rec_len;
        st.stats.records += 1;
        if st.buf.len() >= write_trigger(&cfg) {
            self.shared.work.notify_one();
        }
        Ok((Scn(scn), Lsn(st.end)))
    }

    /// Waits until every byte before `upto` is written and synced (`upto` is
    /// clamped to the end of the log). Returns true if this call had to wait
    /// for a sync (the `redo synch writes` statistic). Concurrent callers
    /// share one sync: that is group commit.
    pub fn flush(&self, upto: Lsn) -> Result<bool> {
        let mut st = self.shared.state.lock();
        if let Some(why) = &st.poisoned {
            return Err(Error::Poisoned(why.clone()));
        }
        let upto = upto.0.min(st.end);
        if upto <= st.durable {
            return Ok(false);
        }
        st.check_usable()?;
        st.requested = st.requested.max(upto);
        loop {
            if let Some(why) = &st.poisoned {
                return Err(Error::Poisoned(why.clone()));
            }
            if st.durable >= upto {
                return Ok(true);
            }
            if !st.writing {
                // Nobody is writing: lead, and write the buffer (which holds
                // `upto`: it starts at `durable` when no batch is in flight)
                // on this thread, with no hand-off to the log writer and
                // back. Whoever appends meanwhile waits for this sync and
                // then leads the next batch: group commit.
                write_next_batch(&self.shared, &mut st);
                continue;
            }
            self.shared.done.wait(&mut st);
        }
    }

    /// Everything before this LSN is on disk and synced.
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().durable)
    }

    /// End of the last appended record.
    pub fn end_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().end)
    }

    /// The last SCN handed out.
    pub fn current_scn(&self) -> Scn {
        Scn(self.shared.state.lock().scn)
    }

    /// Tells the log that everything before `lsn` is checkpointed (in the data
    /// files): segments wholly before it may be reused. Never moves backwards,
    /// and never past `end_lsn` (there is no redo beyond it to checkpoint).
    pub fn set_checkpoint(&self, lsn: Lsn) {
        let mut st = self.shared.state.lock();
        st.checkpoint = st.checkpoint.max(lsn.0.min(st.end));
        self.shared.space.notify_all();
    }

    pub fn checkpoint_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().checkpoint)
    }

    /// True when more than half of the ring holds redo newer than the
    /// checkpoint: the engine should checkpoint now, long before sessions
    /// have to wait in `wait_for_space`.
    pub fn wants_checkpoint(&self) -> bool {
        let cfg = self.shared.cfg;
        let st = self.shared.state.lock();
        st.end - st.checkpoint > cfg.segment_capacity() * cfg.files as u64 / 2
    }

    /// Call BEFORE taking any block latch for a change: blocks while the ring
    /// is too full to guarantee that the redo of one more change fits, waking
    /// when `set_checkpoint` frees space. Gives up after `timeout` with
    /// `SpaceExhausted`. (The checkpoint that frees space may need latches the
    /// caller would otherwise hold, hence "before".)
    pub fn wait_for_space(&self, timeout: Duration) -> Result<()> {
        let cfg = self.shared.cfg;
        let cap = cfg.segment_capacity();
        let limit = (cfg.files as u64 - 1) * cap - cfg.max_record();
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock();
        loop {
            st.check_usable()?;
            if st.end - st.reusable(cap) <= limit {
                return Ok(());
            }
            if self.shared.space.wait_until(&mut st, deadline).timed_out()
                && st.end - st.reusable(cap) > limit
            {
                return Err(Error::SpaceExhausted(format!(
                    "redo log full: {}",
                    st.space_holder(cap)
                )));
            }
        }
    }

    pub fn stats(&self) -> LogStats {
        self.shared.state.lock().stats
    }

    /// Flushes everything, stops the writer thread and joins it. Later
    /// appends and flushes fail.
    /// In archive mode, also waits until every filled segment is archived
    /// (unless the archiver is failing: the next start archives what is
    /// still in the ring).
    pub fn shutdown(&self) -> Result<()> {
        let flushed = self.flush(Lsn(u64::MAX));
        self.wait_for_archiver();
        self.stop();
        flushed.map(|_| ())
    }

    fn stop(&self) {
        self.shared.state.lock().shutdown = true;
        self.shared.work.notify_one();
        // The archiver waits on `done`.
        self.shared.done.notify_all();
        for thread in [&self.writer, &self.archiver] {
            if let Some(handle) = thread.lock().take() {
                // Neither thread panics; if one somehow did, there is nothing
                // left to clean up here, and Drop must not panic in turn.
                let _ = handle.join();
            }
        }
    }
}

impl Drop for RedoLog {
    fn drop(&mut self) {
        self.stop();
    }
}
