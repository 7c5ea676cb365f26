//! The redo history as far as it still exists: the segments of one or more
//! online rings and of the archive destinations, read as one stream, with
//! the holes in it named instead of skipped.
//!
//! Crash recovery reads one ring from its checkpoint and never needs more.
//! The log miner wants everything since the database was created, and media
//! recovery everything from a backup's checkpoint to a target SCN; both read
//! a [`LogSet`]:
//!
//! ```text
//!  segment:     0    1    2    3    4    5    6    7    8
//!  archive:     -    -    a    a    a    -    a    -    -      (archive mode on at 2,
//!  online ring:                          -    o    o    o       files for 5 deleted)
//!  runs:                  [2 .. 4]            [6 ......  8]
//!  stream:   ── gap ──▶ records ──▶ ── gap ──▶ records ──▶ end of the log
//! ```
//!
//! Each run of consecutive segments is read with its own [`LogReader`],
//! stopped at the run's end so that a hole after it ends the run like a torn
//! tail; after a hole the next run is entered at its first record, found by
//! [`LogReader::resync`]. Only the last run, which holds the end of the log,
//! may end anywhere (the torn-tail rules of `redo::log`).
//!
//! Which copy of a segment is read: an archived copy if there is one (it is
//! complete and never changes), else the ring added last (for media recovery
//! the live database's ring is added after the backup's, whose copy of its
//! then-current segment is shorter). A ring's newest segment may be partly
//! written, so it always ends a run: if the stream goes on in another file,
//! whatever lies between is a gap, never mistaken for corruption.
//!
//! Invariant: the records of a [`History`] are in LSN order, each starting
//! where the previous one ended unless a [`Gap`] between them says otherwise.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::log::archiver::parse_archive_file_name;
use super::log::{parse_file_header, FILE_HEADER_SIZE, NO_SEGMENT};
use super::{LogConfig, LogReader, LogRecord, SegmentSource};
use crate::error::Result;
use crate::ids::{Lsn, Scn};
use crate::storage::{Backend, FileHandle};

/// Where one segment can be read.
#[derive(Clone)]
enum Place {
    /// File `index` of ring `ring`; `newest`: the ring's highest segment,
    /// perhaps partly written.
    Ring {
        ring: usize,
        index: usize,
        newest: bool,
    },
    /// An archived copy.
    Archive {
        dest: Arc<dyn Backend>,
        name: String,
    },
}

/// The segments available to a reader; see the module docs.
#[derive(Clone)]
pub struct LogSet {
    cfg: LogConfig,
    db_id: u64,
    rings: Vec<Vec<Arc<dyn FileHandle>>>,
    segments: BTreeMap<u64, Place>,
    /// Files that looked like archives of this database but were not used.
    notes: Vec<String>,
}

/// A hole in the available redo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The first missing stream byte.
    pub from: Lsn,
    /// Where reading resumed (the first record after the hole).
    pub to: Lsn,
    /// SCN of the last record before the hole (`None`: the hole is at the
    /// start of what was asked for).
    pub scn_before: Option<Scn>,
    /// SCN of the first record after it.
    pub scn_after: Option<Scn>,
}

impl Gap {
    /// The miner's wording: the redo is gone because a log file was reused
    /// before anyone copied it.
    pub fn describe(&self) -> String {
        let after = self
            .scn_after
            .map_or(String::new(), |s| format!("SCN {} ", s.0));
        match self.scn_before {
            None => format!(
                "redo before {after}(LSN {}) is no longer available: log recycled, not archived",
                self.to.0
            ),
            Some(b) => format!(
                "redo after SCN {} and before {after}(LSN {} to {}) is no longer available: \
                 log recycled, not archived",
                b.0, self.from.0, self.to.0
            ),
        }
    }
}

/// What [`LogSet::read`] found.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub records: Vec<LogRecord>,
    pub gaps: Vec<Gap>,
    /// Where the readable stream ends (the end of the log, or the start of
    /// the first record beyond the SCN limit).
    pub end: Lsn,
    /// The SCN of the first record beyond the limit, when reading stopped
    /// there (so everything up to the limit was read).
    pub beyond: Option<Scn>,
}

impl LogSet {
    /// An empty set for database `db_id` with ring shape `cfg`.
    pub fn new(cfg: LogConfig, db_id: u64) -> LogSet {
        LogSet {
            cfg,
            db_id,
            rings: Vec::new(),
            segments: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Adds the online ring in `backend`: each file whose header names a
    /// segment offers it (unless an archived copy is already known).
    pub fn add_ring(&mut self, backend: &dyn Backend) -> Result<()> {
        let files = LogConfig::open_files(&self.cfg, backend)?;
        let ring = self.rings.len();
        let mut held = Vec::new();
        for (index, f) in files.iter().enumerate() {
            let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
            f.read_at(&mut hdr, 0)?;
            if let Some(k) = parse_file_header(&hdr).filter(|&k| k != NO_SEGMENT) {
                held.push((k, index));
            }
        }
        let newest = held.iter().map(|&(k, _)| k).max();
        for (k, index) in held {
            if !matches!(self.segments.get(&k), Some(Place::Archive { .. })) {
                let newest = Some(k) == newest;
                self.segments.insert(
                    k,
                    Place::Ring {
                        ring,
                        index,
                        newest,
                    },
                );
            }
        }
        self.rings.push(files);
        Ok(())
    }

    /// Adds every archived segment of this database in `dest`. Returns how
    /// many were added.
    pub fn add_archive(&mut self, dest: Arc<dyn Backend>) -> Result<usize> {
        let mut n = 0;
        for name in dest.list()? {
            let Some((db, k)) = parse_archive_file_name(&name) else {
                continue;
            };
            if db != self.db_id {
                continue;
            }
            let f = dest.open(&name, false)?;
            let len = f.len()?;
            let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
            if len != self.cfg.file_size {
                self.notes.push(format!(
                    "{} is {len} bytes, not {}: not used",
                    dest.describe(&name),
                    self.cfg.file_size
                ));
                continue;
            }
            f.read_at(&mut hdr, 0)?;
            if parse_file_header(&hdr) != Some(k) {
                self.notes.push(format!(
                    "{}: its header does not name segment {k}: not used",
                    dest.describe(&name)
                ));
                continue;
            }
            self.segments.insert(
                k,
                Place::Archive {
                    dest: dest.clone(),
                    name,
                },
            );
            n += 1;
        }
        Ok(n)
    }

    /// The segments available, in order.
    pub fn segments(&self) -> Vec<u64> {
        self.segments.keys().copied().collect()
    }

    /// Whether segment `k` comes from an archive (else from a ring).
    pub fn is_archived(&self, k: u64) -> bool {
        matches!(self.segments.get(&k), Some(Place::Archive { .. }))
    }

    /// Archive files that were found but not used, and why.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Reads every available record from `from` on, stopping before the
    /// first record whose SCN exceeds `until`.
    pub fn read(&self, from: Lsn, until: Option<Scn>) -> Result<History> {
        let cap = self.cfg.segment_capacity();
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut closed = false;
        for (&k, place) in &self.segments {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == k && !closed => *end = k,
                _ => runs.push((k, k)),
            }
            closed = matches!(place, Place::Ring { newest: true, .. });
        }
        runs.retain(|&(_, end)| (end + 1) * cap > from.0);
        let mut h = History {
            end: from,
            ..History::default()
        };
        let mut pos = from.0;
        let mut last_scn = None;
        let n = runs.len();
        for (i, &(first, last)) in runs.iter().enumerate() {
            let run_start = first * cap;
            let stop = (i + 1 < n).then_some(Lsn((last + 1) * cap));
            let source = Box::new(SetSource(self.clone()));
            let mut reader =
                LogReader::with_source(&self.cfg, source, Lsn(pos.max(run_start)), stop);
            let mut open_gap = None;
            if pos < run_start {
                // A record is at most a quarter segment: the first one that
                // starts in this run starts in its first quarter.
                let limit = Lsn(run_start + cap / 4 + 1);
                let Some(p) = reader.resync(Lsn(run_start), limit)? else {
                    continue; // nothing readable here: the hole goes on
                };
                h.gaps.push(Gap {
                    from: Lsn(pos),
                    to: p,
                    scn_before: last_scn,
                    scn_after: None,
                });
                open_gap = Some(h.gaps.len() - 1);
            }
            while let Some(rec) = reader.next_record()? {
                if until.is_some_and(|u| rec.scn > u) {
                    h.end = rec.lsn;
                    h.beyond = Some(rec.scn);
                    return Ok(h);
                }
                if let Some(g) = open_gap.take() {
                    h.gaps[g].scn_after = Some(rec.scn);
                }
                last_scn = Some(rec.scn);
                h.records.push(rec);
            }
            pos = reader.position().0;
        }
        h.end = Lsn(pos);
        Ok(h)
    }
}

/// A `LogSet` as a reader's segment source.
struct SetSource(LogSet);

impl SegmentSource for SetSource {
    fn load(&mut self, k: u64) -> Result<std::result::Result<Arc<[u8]>, String>> {
        let set = &self.0;
        let mut data = vec![0u8; set.cfg.segment_capacity() as usize];
        let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
        let file = match set.segments.get(&k) {
            None => return Ok(Err("no online or archived log holds it".to_string())),
            Some(Place::Ring { ring, index, .. }) => set.rings[*ring][*index].clone(),
            Some(Place::Archive { dest, name }) => dest.open(name, false)?,
        };
        file.read_at(&mut hdr, 0)?;
        // A ring file may have moved on to a later lap since it was listed.
        match parse_file_header(&hdr) {
            Some(h) if h == k => {}
            other => {
                return Ok(Err(format!(
                    "{} now holds {}",
                    file.name(),
                    other.map_or("an unreadable header".to_string(), |h| format!(
                        "segment {h}"
                    ))
                )))
            }
        }
        file.read_at(&mut data, FILE_HEADER_SIZE)?;
        Ok(Ok(Arc::from(data)))
    }
}
