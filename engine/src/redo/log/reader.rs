//! Reading the redo stream back, for recovery and log mining.
//!
//! [`LogReader`] walks records from a start LSN and decides, where the valid
//! records stop, between a torn tail (the log simply ends) and damage in the
//! middle (an error), by the later-batch argument in the parent module's docs.
//!
//! Where the segments come from is a [`SegmentSource`]: the online ring of
//! one database (recovery, the normal case), or a [`LogSet`] that also knows
//! archived copies and other rings (log mining, media recovery). A reader may
//! be given a *stop* LSN: bytes at or after it count as missing, so that a
//! run of segments followed by a hole ends like a torn tail instead of making
//! the corruption scan look past the hole.
//!
//! Invariant: a record is returned only if its CRC matches, its `lsn` field is
//! its own position, its length is possible and every segment it touches
//! lives in a file whose header names that segment.
//!
//! [`LogSet`]: crate::redo::archive::LogSet

use std::sync::Arc;

use super::{
    parse_file_header, LogConfig, LogRecord, LogScan, FILE_HEADER_SIZE, NO_SEGMENT,
    RECORD_HEADER_SIZE, REC_BATCH, REC_CRC, REC_LEN, REC_LSN, REC_SCN,
};
use crate::error::{Error, Result};
use crate::ids::{Lsn, Scn};
use crate::storage::{Backend, FileHandle};

/// Why a position does not hold a valid record (not an error by itself: at
/// the tail of the log this is the normal way the log ends).
type Check<T> = std::result::Result<T, String>;

/// Segments kept in memory: the current one, the next (for a record that
/// spans two) and one spare for the forward scan.
const CACHED_SEGMENTS: usize = 3;

/// Reads every valid record from `from` to the end of the log.
pub fn read_log(backend: &dyn Backend, cfg: &LogConfig, from: Lsn) -> Result<LogScan> {
    let mut reader = LogReader::open(backend, cfg, from)?;
    let mut records = Vec::new();
    let mut max_scn = Scn(0);
    while let Some(rec) = reader.next_record()? {
        max_scn = max_scn.max(rec.scn);
        records.push(rec);
    }
    Ok(LogScan {
        records,
        end: reader.position(),
        max_scn,
    })
}

/// Where a reader finds the stream bytes of each segment.
pub trait SegmentSource: Send {
    /// Segment `k`'s `segment_capacity()` stream bytes, or (inner `Err`)
    /// what is there instead, worded to follow "segment k is missing: ",
    /// e.g. "redo02.log holds segment 7".
    fn load(&mut self, k: u64) -> Result<std::result::Result<Arc<[u8]>, String>>;
}

/// The online ring of one database: segment `k` is in file `k % files`
/// when that file's header names `k`.
pub struct Ring {
    cfg: LogConfig,
    files: Vec<Arc<dyn FileHandle>>,
}

impl Ring {
    /// Opens the ring's files (their sizes must match `cfg`).
    pub fn open(backend: &dyn Backend, cfg: &LogConfig) -> Result<Ring> {
        Ok(Ring {
            cfg: *cfg,
            files: cfg.open_files(backend)?,
        })
    }

    /// The segment each file's header names, in ring order (`None`: a
    /// fresh file, or an unreadable header).
    pub fn headers(&self) -> Result<Vec<Option<u64>>> {
        let mut out = Vec::with_capacity(self.files.len());
        for f in &self.files {
            let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
            f.read_at(&mut hdr, 0)?;
            out.push(parse_file_header(&hdr).filter(|&k| k != NO_SEGMENT));
        }
        Ok(out)
    }
}

impl SegmentSource for Ring {
    fn load(&mut self, k: u64) -> Result<std::result::Result<Arc<[u8]>, String>> {
        let file = &self.files[self.cfg.file_of_segment(k)];
        let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
        file.read_at(&mut hdr, 0)?;
        let header = parse_file_header(&hdr);
        if header != Some(k) {
            let holds = match header {
                Some(NO_SEGMENT) => "no segment yet".to_string(),
                Some(h) => format!("segment {h}"),
                None => "an unreadable header".to_string(),
            };
            return Ok(Err(format!("{} holds {holds}", file.name())));
        }
        let mut data = vec![0u8; self.cfg.segment_capacity() as usize];
        file.read_at(&mut data, FILE_HEADER_SIZE)?;
        Ok(Ok(Arc::from(data)))
    }
}

/// A streaming reader over the log, for logs too large to collect at once.
/// Also an `Iterator<Item = Result<LogRecord>>`.
pub struct LogReader {
    cfg: LogConfig,
    source: Box<dyn SegmentSource>,
    cache: Vec<Segment>,
    pos: u64,
    /// Stream bytes at or after this position count as missing.
    stop: u64,
    finished: bool,
}

struct Segment {
    k: u64,
    /// The segment's stream bytes, or what holds its place (for messages).
    data: std::result::Result<Arc<[u8]>, String>,
}

impl LogReader {
    /// Reads the online ring of `backend` from `from`.
    pub fn open(backend: &dyn Backend, cfg: &LogConfig, from: Lsn) -> Result<LogReader> {
        let ring = Ring::open(backend, cfg)?;
        Ok(LogReader::with_source(cfg, Box::new(ring), from, None))
    }

    /// Reads `source` from `from`; with `stop`, bytes at or after it are
    /// treated as missing (the log ends before the record that needs them).
    pub fn with_source(
        cfg: &LogConfig,
        source: Box<dyn SegmentSource>,
        from: Lsn,
        stop: Option<Lsn>,
    ) -> LogReader {
        LogReader {
            cfg: *cfg,
            source,
            cache: Vec::new(),
            pos: from.0,
            stop: stop.map_or(u64::MAX, |l| l.0),
            finished: false,
        }
    }

    /// Finds the first valid record starting in `[from, limit)` (where a
    /// reader that lost its place, after a hole in the available redo, can
    /// start again) and positions the reader there. A record is at most a
    /// quarter segment long, so the first record that starts in a segment
    /// starts within its first quarter.
    pub fn resync(&mut self, from: Lsn, limit: Lsn) -> Result<Option<Lsn>> {
        let end = limit.0.min(self.stop);
        for p in from.0..end {
            let mut b = [0u8; 8];
            if self.read_into(p + REC_LSN as u64, &mut b)?.is_err() {
                // Missing bytes: nothing starting here can be read either.
                continue;
            }
            if b == p.to_le_bytes() && self.parse_at(p)?.is_ok() {
                self.pos = p;
                self.finished = false;
                return Ok(Some(Lsn(p)));
            }
        }
        Ok(None)
    }

    /// The start of the next record; once `next_record` has returned
    /// `Ok(None)`, the end of the valid log.
    pub fn position(&self) -> Lsn {
        Lsn(self.pos)
    }

    /// The next record, `Ok(None)` at the end of the log, or
    /// `Error::CorruptLog` if the log is damaged before later synced batches.
    pub fn next_record(&mut self) -> Result<Option<LogRecord>> {
        if self.finished {
            return Ok(None);
        }
        let x = self.pos;
        match self.parse_at(x) {
            Ok(Ok((rec, _batch))) if rec.payload.is_empty() => {
                // A sync mark: the log ends here, and was synced up to here.
                self.finished = true;
                Ok(None)
            }
            Ok(Ok((rec, _batch))) => {
                self.pos = rec.end.0;
                Ok(Some(rec))
            }
            Ok(Err(why)) => {
                self.finished = true;
                match self.later_batch(x)? {
                    None => Ok(None), // torn tail: the log ends at x
                    Some((p, batch)) => Err(Error::CorruptLog {
                        lsn: x,
                        reason: format!(
                            "{why}; yet record {p} of a later write batch (starting at {batch}) is intact"
                        ),
                    }),
                }
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Searches the rest of the segments that carry their expected header for
    /// a valid record written in a batch that started after `x`.
    fn later_batch(&mut self, x: u64) -> Result<Option<(u64, u64)>> {
        let cap = self.cfg.segment_capacity();
        let k0 = x / cap;
        for k in k0..k0.saturating_add(self.cfg.files as u64) {
            if k.saturating_mul(cap) >= self.stop {
                break;
            }
            let Ok(seg) = self.segment(k)?.data.clone() else {
                continue;
            };
            let base = k * cap;
            let first = if k == k0 { x + 1 - base } else { 0 } as usize;
            for off in first..seg.len() {
                let p = base + off as u64;
                // Cheap filter first: a record starts with its own LSN at +8.
                let looks_like_record = match seg.get(off + REC_LSN..off + REC_BATCH) {
                    Some(b) => b == p.to_le_bytes(),
                    None => {
                        let mut b = [0u8; 8];
                        self.read_into(p + REC_LSN as u64, &mut b)?.is_ok() && b == p.to_le_bytes()
                    }
                };
                if looks_like_record {
                    if let Ok((_, batch)) = self.parse_at(p)? {
                        if batch > x {
                            return Ok(Some((p, batch)));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// Parses the record at stream position `p`.
    fn parse_at(&mut self, p: u64) -> Result<Check<(LogRecord, u64)>> {
        let mut head = [0u8; RECORD_HEADER_SIZE];
        if let Err(why) = self.read_into(p, &mut head)? {
            return Ok(Err(why));
        }
        let field = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(head[REC_CRC..REC_LEN].try_into().unwrap_or_default());
        let len =
            u32::from_le_bytes(head[REC_LEN..REC_LSN].try_into().unwrap_or_default()) as usize;
        let (lsn, batch, scn) = (field(REC_LSN), field(REC_BATCH), field(REC_SCN));
        if lsn != p {
            return Ok(Err(format!("record header at {p} claims lsn {lsn}")));
        }
        if len > self.cfg.max_payload() {
            return Ok(Err(format!(
                "record at {p} claims an impossible payload of {len} bytes"
            )));
        }
        let mut payload = vec![0u8; len];
        if let Err(why) = self.read_into(p + RECORD_HEADER_SIZE as u64, &mut payload)? {
            return Ok(Err(why));
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&head[REC_LEN..]);
        hasher.update(&payload);
        if hasher.finalize() != crc {
            return Ok(Err(format!("checksum mismatch in record at {p}")));
        }
        if batch > p {
            return Ok(Err(format!(
                "record at {p} claims a write batch starting after it ({batch})"
            )));
        }
        let end = Lsn(p + (RECORD_HEADER_SIZE + len) as u64);
        Ok(Ok((
            LogRecord {
                lsn: Lsn(p),
                scn: Scn(scn),
                end,
                payload,
            },
            batch,
        )))
    }

    /// Copies stream bytes `[p, p + out.len())`, which may span segments.
    fn read_into(&mut self, p: u64, out: &mut [u8]) -> Result<Check<()>> {
        let cap = self.cfg.segment_capacity();
        let mut done = 0;
        while done < out.len() {
            let q = p + done as u64;
            let k = q / cap;
            let off = (q - k * cap) as usize;
            let n = (cap as usize - off).min(out.len() - done);
            if q + n as u64 > self.stop {
                return Ok(Err(format!(
                    "stream byte {} is beyond the available redo (it ends at {})",
                    q.max(self.stop),
                    self.stop
                )));
            }
            let seg = self.segment(k)?;
            let data = match &seg.data {
                Ok(data) => data,
                Err(holds) => {
                    return Ok(Err(format!(
                        "stream byte {q} is in segment {k}, but {holds}"
                    )))
                }
            };
            out[done..done + n].copy_from_slice(&data[off..off + n]);
            done += n;
        }
        Ok(Ok(()))
    }

    /// Segment `k`, loaded on first use; its data only if the source holds
    /// it (a ring file may hold another lap of the ring).
    fn segment(&mut self, k: u64) -> Result<&Segment> {
        if let Some(i) = self.cache.iter().position(|s| s.k == k) {
            return Ok(&self.cache[i]);
        }
        let data = self.source.load(k)?;
        if self.cache.len() >= CACHED_SEGMENTS {
            let oldest = (0..self.cache.len())
                .min_by_key(|&i| self.cache[i].k)
                .unwrap_or(0);
            self.cache.swap_remove(oldest);
        }
        self.cache.push(Segment { k, data });
        Ok(&self.cache[self.cache.len() - 1])
    }
}

impl Iterator for LogReader {
    type Item = Result<LogRecord>;

    fn next(&mut self) -> Option<Result<LogRecord>> {
        self.next_record().transpose()
    }
}
