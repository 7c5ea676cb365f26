//! The control file: the database's identity and its last checkpoint, which
//! is where recovery starts.
//!
//! The file holds two fixed 512-byte slots. A write goes to the slot that does
//! *not* hold the newest copy and is then synced, so a crash in the middle of
//! a write can damage only the copy being replaced:
//!
//! ```text
//!   offset 0            512           1024
//!          | slot 0      | slot 1      |
//!
//!   slot (all integers little-endian):
//!     0    8  magic  "BLKCTL01"   (format version in the last two bytes)
//!     8    8  seq              +1 on every write; the highest valid one wins
//!    16    8  db_id
//!    24    4  block_size
//!    28    4  log_files
//!    32    8  log_file_size
//!    40    8  created_ms
//!    48    8  checkpoint_lsn   recovery starts reading redo here
//!    56    8  checkpoint_scn
//!    64    8  next_scn_floor   SCNs handed out after open are above this
//!    72    1  clean_shutdown   0 or 1
//!    73  435  zero
//!   508    4  crc32 of bytes [0..508]
//! ```
//!
//! Invariant: at most one slot is being written at any time, and never the
//! one holding the newest valid copy; so after any crash at least one slot is
//! valid, and the highest valid `seq` is either the old or the new contents.
//! Invariant: `write` returns Ok only after the slot is synced.
//!
//! **One slot lost.** If one slot is damaged (not merely never written: an
//! all-zero slot 1 of a new database is not damage), `open` uses the other
//! and says so ([`ControlFile::lost_slot`]). That copy may be the older
//! one, whose checkpoint is the one before the last: recovering from it
//! replays more redo than needed, which is harmless (a change is applied
//! only to a block older than it) while that redo is still in the online
//! log, and loses committed work once the log has been reused past it. The
//! database open checks which it is (`db`), and refuses with
//! `Error::CorruptControl`, naming this file and the damaged slot, rather
//! than let the redo reader take the missing segment for a torn tail or
//! for damage in the log.
//!
//! Simplification: Oracle keeps several control file copies on different
//! disks; we keep two copies in one file, which protects against torn writes
//! but not against losing the disk.

use std::sync::Arc;

use parking_lot::Mutex;

use super::backend::{Backend, FileHandle};
use crate::error::{Error, Result};

/// What the control file records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlData {
    pub db_id: u64,
    pub block_size: u32,
    pub log_file_size: u64,
    pub log_files: u32,
    pub created_ms: u64,
    /// Recovery starts reading redo here.
    pub checkpoint_lsn: u64,
    pub checkpoint_scn: u64,
    /// SCNs handed out after open are above this.
    pub next_scn_floor: u64,
    pub clean_shutdown: bool,
}

const MAGIC: &[u8; 8] = b"BLKCTL01";
const SLOT_SIZE: usize = 512;
const SLOTS: usize = 2;
const OFF_MAGIC: usize = 0;
const OFF_SEQ: usize = OFF_MAGIC + 8;
const OFF_DB_ID: usize = OFF_SEQ + 8;
const OFF_BLOCK_SIZE: usize = OFF_DB_ID + 8;
const OFF_LOG_FILES: usize = OFF_BLOCK_SIZE + 4;
const OFF_LOG_FILE_SIZE: usize = OFF_LOG_FILES + 4;
const OFF_CREATED_MS: usize = OFF_LOG_FILE_SIZE + 8;
const OFF_CKPT_LSN: usize = OFF_CREATED_MS + 8;
const OFF_CKPT_SCN: usize = OFF_CKPT_LSN + 8;
const OFF_SCN_FLOOR: usize = OFF_CKPT_SCN + 8;
const OFF_CLEAN: usize = OFF_SCN_FLOOR + 8;
const OFF_CRC: usize = SLOT_SIZE - 4;

fn put(slot: &mut [u8], off: usize, bytes: &[u8]) {
    slot[off..off + bytes.len()].copy_from_slice(bytes);
}

fn get<const N: usize>(slot: &[u8], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&slot[off..off + N]);
    out
}

fn encode(seq: u64, d: &ControlData) -> [u8; SLOT_SIZE] {
    let mut s = [0u8; SLOT_SIZE];
    put(&mut s, OFF_MAGIC, MAGIC);
    put(&mut s, OFF_SEQ, &seq.to_le_bytes());
    put(&mut s, OFF_DB_ID, &d.db_id.to_le_bytes());
    put(&mut s, OFF_BLOCK_SIZE, &d.block_size.to_le_bytes());
    put(&mut s, OFF_LOG_FILES, &d.log_files.to_le_bytes());
    put(&mut s, OFF_LOG_FILE_SIZE, &d.log_file_size.to_le_bytes());
    put(&mut s, OFF_CREATED_MS, &d.created_ms.to_le_bytes());
    put(&mut s, OFF_CKPT_LSN, &d.checkpoint_lsn.to_le_bytes());
    put(&mut s, OFF_CKPT_SCN, &d.checkpoint_scn.to_le_bytes());
    put(&mut s, OFF_SCN_FLOOR, &d.next_scn_floor.to_le_bytes());
    s[OFF_CLEAN] = d.clean_shutdown as u8;
    let crc = crc32fast::hash(&s[..OFF_CRC]);
    put(&mut s, OFF_CRC, &crc.to_le_bytes());
    s
}

/// Decodes one slot into (seq, data), or says why it is not valid.
fn decode(s: &[u8]) -> std::result::Result<(u64, ControlData), String> {
    if s.len() != SLOT_SIZE {
        return Err("missing (file too short)".into());
    }
    let stored = u32::from_le_bytes(get(s, OFF_CRC));
    let computed = crc32fast::hash(&s[..OFF_CRC]);
    if stored != computed {
        return Err(format!(
            "checksum mismatch: stored {stored:#010x} computed {computed:#010x}"
        ));
    }
    if &get::<8>(s, OFF_MAGIC) != MAGIC {
        return Err("bad magic".into());
    }
    let clean_shutdown = match s[OFF_CLEAN] {
        0 => false,
        1 => true,
        b => return Err(format!("clean_shutdown byte is {b}, not 0 or 1")),
    };
    let u64_at = |off| u64::from_le_bytes(get(s, off));
    let u32_at = |off| u32::from_le_bytes(get(s, off));
    let data = ControlData {
        db_id: u64_at(OFF_DB_ID),
        block_size: u32_at(OFF_BLOCK_SIZE),
        log_file_size: u64_at(OFF_LOG_FILE_SIZE),
        log_files: u32_at(OFF_LOG_FILES),
        created_ms: u64_at(OFF_CREATED_MS),
        checkpoint_lsn: u64_at(OFF_CKPT_LSN),
        checkpoint_scn: u64_at(OFF_CKPT_SCN),
        next_scn_floor: u64_at(OFF_SCN_FLOOR),
        clean_shutdown,
    };
    Ok((u64_at(OFF_SEQ), data))
}

/// The newest valid copy: its sequence number and the slot holding it.
#[derive(Clone, Copy)]
struct Newest {
    seq: u64,
    slot: usize,
}

/// The open control file.
pub struct ControlFile {
    file: Arc<dyn FileHandle>,
    /// Held for the whole of `write`, so two writers cannot both pick the
    /// same "older" slot.
    newest: Mutex<Newest>,
    /// Set by `open` when one slot was damaged and the other was used.
    lost: Option<String>,
}

impl ControlFile {
    pub const NAME: &'static str = "control";

    /// Creates the control file with `data` in slot 0 (slot 1 stays zero,
    /// hence invalid, until the first `write`), synced together with its
    /// directory entry.
    pub fn create(backend: &dyn Backend, data: &ControlData) -> Result<ControlFile> {
        if backend.exists(Self::NAME) {
            let name = backend.describe(Self::NAME);
            return Err(Error::AlreadyExists {
                kind: "control file",
                name,
            });
        }
        let file = backend.open(Self::NAME, true)?;
        file.set_len((SLOTS * SLOT_SIZE) as u64)?;
        file.write_at(&encode(1, data), 0)?;
        file.sync()?;
        backend.sync_dir()?;
        Ok(ControlFile {
            file,
            newest: Mutex::new(Newest { seq: 1, slot: 0 }),
            lost: None,
        })
    }

    /// Opens the control file and returns the newest valid copy.
    pub fn open(backend: &dyn Backend) -> Result<(ControlFile, ControlData)> {
        let file = backend.open(Self::NAME, false)?;
        // A short file is read as far as it goes; a missing slot is invalid.
        let len = file.len()?.min((SLOTS * SLOT_SIZE) as u64) as usize;
        let mut bytes = vec![0u8; len];
        file.read_at(&mut bytes, 0)?;
        let mut best: Option<(Newest, ControlData)> = None;
        let (mut problems, mut damaged) = (Vec::new(), Vec::new());
        for slot in 0..SLOTS {
            let raw = bytes
                .get(slot * SLOT_SIZE..(slot + 1) * SLOT_SIZE)
                .unwrap_or(&[]);
            match decode(raw) {
                Ok((seq, data)) if best.as_ref().is_none_or(|(b, _)| seq > b.seq) => {
                    best = Some((Newest { seq, slot }, data));
                }
                Ok(_) => {}
                // Never written (slot 1 until the first `write`): not damage.
                Err(_) if raw.len() == SLOT_SIZE && raw.iter().all(|&b| b == 0) => {
                    problems.push(format!("slot {slot}: never written"));
                }
                Err(reason) => {
                    problems.push(format!("slot {slot}: {reason}"));
                    damaged.push(format!("slot {slot} is damaged ({reason})"));
                }
            }
        }
        let Some((newest, data)) = best else {
            return Err(Error::CorruptControl {
                path: backend.describe(Self::NAME).into(),
                reason: format!("no valid copy: {}", problems.join("; ")),
            });
        };
        let lost = damaged.pop().map(|d| {
            format!(
                "{d}; using slot {} (sequence {}, checkpoint at LSN {}), which may be \
                 the older copy",
                newest.slot, newest.seq, data.checkpoint_lsn
            )
        });
        let newest = Mutex::new(newest);
        Ok((ControlFile { file, newest, lost }, data))
    }

    /// When `open` found one slot damaged and used the other: what was lost
    /// and which copy is in use. That copy may be the older one (see the
    /// module docs).
    pub fn lost_slot(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    /// Durably replaces the contents. After Ok, a crash yields `data`; a
    /// crash (or error) during it yields the old or the new data, never garbage.
    pub fn write(&self, data: &ControlData) -> Result<()> {
        let mut newest = self.newest.lock();
        let next = Newest {
            seq: newest.seq + 1,
            slot: 1 - newest.slot,
        };
        self.file
            .write_at(&encode(next.seq, data), (next.slot * SLOT_SIZE) as u64)?;
        self.file.sync()?;
        // Only a synced slot becomes the newest: after a failed write or sync
        // the next attempt overwrites the same (possibly torn) slot again and
        // the newest good copy stays untouched.
        *newest = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SimBackend;

    fn data(checkpoint_lsn: u64) -> ControlData {
        ControlData {
            db_id: 42,
            block_size: 8192,
            log_file_size: 1 << 20,
            log_files: 3,
            created_ms: 1_700_000_000_000,
            checkpoint_lsn,
            checkpoint_scn: checkpoint_lsn * 2,
            next_scn_floor: checkpoint_lsn * 3,
            clean_shutdown: checkpoint_lsn.is_multiple_of(2),
        }
    }

    #[test]
    fn writes_round_trip_through_a_crash() {
        let sim = SimBackend::new();
        let cf = ControlFile::create(&sim, &data(1)).unwrap();
        assert_eq!(ControlFile::open(&sim.crash()).unwrap().1, data(1));
        for lsn in 2..6 {
            cf.write(&data(lsn)).unwrap();
            assert_eq!(ControlFile::open(&sim.crash()).unwrap().1, data(lsn));
        }
    }

    #[test]
    fn a_crash_during_write_yields_old_or_new_data() {
        let sim = SimBackend::new();
        let cf = ControlFile::create(&sim, &data(1)).unwrap();
        cf.write(&data(2)).unwrap();
        // write_at and sync are the two operations of a write; fail each one.
        for n in 1..=2 {
            sim.fail_op(n, false);
            assert!(cf.write(&data(3)).is_err());
            // The unsynced slot write may or may not have reached the disk.
            for keep in [false, true] {
                let after = sim.crash_keeping(&mut |_, _| keep);
                let got = ControlFile::open(&after).unwrap().1;
                assert!(got == data(2) || got == data(3), "got {got:?}");
            }
        }
        // A later successful write wins, even though it reuses the slot.
        cf.write(&data(4)).unwrap();
        assert_eq!(ControlFile::open(&sim.crash()).unwrap().1, data(4));
    }

    #[test]
    fn a_torn_slot_falls_back_to_the_other_copy() {
        let sim = SimBackend::new();
        let cf = ControlFile::create(&sim, &data(1)).unwrap();
        cf.write(&data(2)).unwrap(); // seq 2 in slot 1; slot 0 holds seq 1
        sim.corrupt(ControlFile::NAME, (SLOT_SIZE + OFF_CKPT_LSN) as u64, 0xff)
            .unwrap();
        let (cf, got) = ControlFile::open(&sim).unwrap();
        assert_eq!(got, data(1));
        let lost = cf.lost_slot().unwrap_or_default();
        assert!(
            lost.starts_with("slot 1 is damaged (checksum mismatch")
                && lost.contains("using slot 0 (sequence 1, checkpoint at LSN 1)"),
            "{lost}"
        );
        // The next write must replace the damaged slot, not the good one.
        cf.write(&data(3)).unwrap();
        sim.corrupt(ControlFile::NAME, OFF_DB_ID as u64, 0xff)
            .unwrap();
        assert_eq!(ControlFile::open(&sim).unwrap().1, data(3));
    }

    #[test]
    fn a_slot_never_written_is_not_a_lost_slot() {
        let sim = SimBackend::new();
        ControlFile::create(&sim, &data(1)).unwrap();
        let (cf, got) = ControlFile::open(&sim).unwrap();
        assert_eq!((got, cf.lost_slot()), (data(1), None));
    }

    #[test]
    fn both_slots_corrupt_is_corrupt_control() {
        let sim = SimBackend::new();
        let cf = ControlFile::create(&sim, &data(1)).unwrap();
        cf.write(&data(2)).unwrap();
        sim.corrupt(ControlFile::NAME, 3, 1).unwrap();
        sim.corrupt(ControlFile::NAME, SLOT_SIZE as u64 + 3, 1)
            .unwrap();
        let err = ControlFile::open(&sim).err().unwrap();
        assert!(
            matches!(&err, Error::CorruptControl { reason, .. }
            if reason.contains("slot 0") && reason.contains("slot 1")),
            "{err}"
        );
    }
}
