//! `SimBackend`: an in-memory [`Backend`] that can lose power.
//!
//! It models a file system the way crash-consistency arguments need it:
//!
//! ```text
//!   directory:  current names ──sync_dir()──► durable names      (name → inode)
//!   inode:      current image ──sync()──────► durable image
//!               pending: [write | set_len, ...]   (unsynced, in order)
//! ```
//!
//! Names point at inodes, as on Unix, so a handle keeps working after its file
//! is renamed or removed. [`SimBackend::crash`] builds a *new* backend from the
//! durable names and durable images: unsynced writes vanish, a file created
//! but not dir-synced vanishes, an unsynced rename reverts.
//! [`SimBackend::crash_keeping`] also replays a chosen subset of the pending
//! operations, modelling a disk that wrote some unsynced data before the power
//! went out (possibly out of order: the subset need not be a prefix).
//!
//! Fault injection counts *mutating-or-sync* operations (`write_at`, `sync`,
//! `set_len`, `sync_dir`, `rename`, `remove`); reads, `open` and `len` are not
//! counted. A failing operation has no effect and returns an `io::Error`:
//! with [`Fault::Eio`] of kind `Other` and the message `"injected fault"`,
//! with [`Fault::Enospc`] the operating system's own ENOSPC ("No space left
//! on device"), as a full disk reports it.
//!
//! [`SimBackend::crash_tearing`] also tears writes: of one unsynced write
//! only the first or the last bytes reach the disk, as when the power fails
//! while a multi-sector write is under way (disks write whole 512-byte
//! sectors, so tests tear at sector boundaries; nothing here enforces that).
//!
//! Invariant: a crash never yields bytes that were not written: every byte of
//! a new backend is from a durable image or a pending operation that `keep`
//! chose.
//! Invariant: crashing does not change the old backend; stale handles keep
//! writing into the old one, invisible to the new one.
//!
//! The directory lock ([`Backend::lock`]) is a flag of the backend's state:
//! a second lock of the same backend fails while the first guard lives, and
//! a crashed copy starts unlocked (its owner died with the power).
//!
//! Simplifications: one global lock (tests, not speed); a write is torn only
//! when a crash says so, never by itself.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use super::backend::{check_name, Backend, FileHandle};
use super::owner::DirLock;
use crate::error::{Error, Result};

/// Called with (file, offset, bytes) before a write is applied.
pub type WriteObserver = Arc<dyn Fn(&str, u64, &[u8]) + Send + Sync>;

/// An in-memory, crashable backend; clones share the same state.
#[derive(Clone, Default)]
pub struct SimBackend {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    names: BTreeMap<String, u64>,
    durable_names: BTreeMap<String, u64>,
    inodes: HashMap<u64, Inode>,
    next_ino: u64,
    ops: u64,
    /// Absolute op number that fails, whether every later op fails too,
    /// and how.
    fail_at: Option<(u64, bool, Fault)>,
    writes: u64,
    syncs: u64,
    /// Successful syncs per file name.
    file_syncs: HashMap<String, u64>,
    observer: Option<WriteObserver>,
    /// A `DirLock` of this backend is alive.
    locked: bool,
}

/// How an injected fault fails an operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// An I/O error (`EIO`-like, kind `Other`).
    #[default]
    Eio,
    /// The disk is full (`ENOSPC`).
    Enospc,
}

/// What a torn crash keeps of one unsynced operation (see
/// [`SimBackend::crash_tearing`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: the operation never reached the disk.
    Nothing,
    /// All of it.
    All,
    /// Of a write, only its first `n` bytes (the rest of the range keeps
    /// its old bytes).
    Head(usize),
    /// Of a write, only its last `n` bytes.
    Tail(usize),
}

/// One unsynced operation, as [`SimBackend::pending`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The file's durable name.
    pub file: String,
    /// The operation's number (as counted by `op_count`, from 1).
    pub op: u64,
    /// For a write: its offset and length; `None` for a `set_len`.
    pub write: Option<(u64, usize)>,
}

/// Invariant: `durable` with every operation of `pending` applied in order
/// is `current`, unless `rotted_under_pending` says a [`SimBackend::corrupt`]
/// changed both images while operations were pending (a pending write over
/// the rotted byte would then undo the rot on replay).
#[derive(Default)]
struct Inode {
    current: Vec<u8>,
    durable: Vec<u8>,
    /// Unsynced operations with their op numbers, in order.
    pending: Vec<(u64, Op)>,
    /// A corruption landed while operations were pending: the next sync
    /// copies the current image instead of replaying them.
    rotted_under_pending: bool,
}

impl Inode {
    /// A file whose contents are all durable.
    fn settled(image: Vec<u8>) -> Inode {
        let current = image.clone();
        Inode {
            current,
            durable: image,
            pending: Vec::new(),
            rotted_under_pending: false,
        }
    }
}

#[derive(Clone)]
enum Op {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

impl Op {
    fn describe(&self, file: &str, op: u64) -> Pending {
        Pending {
            file: file.to_string(),
            op,
            write: match self {
                Op::Write(offset, data) => Some((*offset, data.len())),
                Op::SetLen(_) => None,
            },
        }
    }

    /// Applies what `keep` lets reach the disk.
    fn apply_kept(&self, image: &mut Vec<u8>, keep: Keep) {
        match (keep, self) {
            (Keep::Nothing, _) => {}
            (Keep::All, _) | (_, Op::SetLen(_)) => self.apply(image),
            (Keep::Head(n), Op::Write(offset, data)) => {
                let n = n.min(data.len());
                Op::Write(*offset, data[..n].to_vec()).apply(image);
            }
            (Keep::Tail(n), Op::Write(offset, data)) => {
                let n = n.min(data.len());
                let skip = data.len() - n;
                Op::Write(offset + skip as u64, data[skip..].to_vec()).apply(image);
            }
        }
    }

    fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Op::Write(offset, data) => {
                let (start, end) = (*offset as usize, *offset as usize + data.len());
                if image.len() < end {
                    image.resize(end, 0);
                }
                image[start..end].copy_from_slice(data);
            }
            Op::SetLen(len) => image.resize(*len as usize, 0),
        }
    }
}

fn sim_err(name: &str, kind: io::ErrorKind, msg: &str) -> Error {
    Error::io(format!("sim:{name}"), io::Error::new(kind, msg.to_string()))
}

impl State {
    fn new_inode(&mut self, inode: Inode) -> u64 {
        self.next_ino += 1;
        self.inodes.insert(self.next_ino, inode);
        self.next_ino
    }

    /// Counts one mutating-or-sync operation and decides whether it fails.
    fn count_op(&mut self, name: &str) -> Result<()> {
        self.ops += 1;
        match self.fail_at {
            Some((at, persistent, fault)) if self.ops == at || (persistent && self.ops > at) => {
                if !persistent {
                    self.fail_at = None;
                }
                Err(match fault {
                    Fault::Eio => sim_err(name, io::ErrorKind::Other, "injected fault"),
                    // 28 is ENOSPC on Linux and the BSDs: the message and
                    // kind are the operating system's own.
                    Fault::Enospc => {
                        Error::io(format!("sim:{name}"), io::Error::from_raw_os_error(28))
                    }
                })
            }
            _ => Ok(()),
        }
    }

    /// Inodes are never freed while the backend lives, so a miss is a bug in
    /// this module, reported rather than panicked on.
    fn inode(&mut self, ino: u64) -> Result<&mut Inode> {
        let missing = || Error::Internal(format!("sim inode {ino} is missing"));
        self.inodes.get_mut(&ino).ok_or_else(missing)
    }

    fn lookup(&self, name: &str) -> Result<u64> {
        let ino = self.names.get(name).copied();
        ino.ok_or_else(|| sim_err(name, io::ErrorKind::NotFound, "no such file"))
    }
}

impl SimBackend {
    pub fn new() -> SimBackend {
        SimBackend::default()
    }

    /// Power loss: a new backend holding only what was durable.
    pub fn crash(&self) -> SimBackend {
        self.crash_keeping(&mut |_, _| false)
    }

    /// Power loss where some unsynced operations reached the disk anyway:
    /// `keep(file, i)` decides for the i-th operation since that file's last
    /// sync (`file` is its durable name). The new backend has no faults, no
    /// observer and zero counters.
    pub fn crash_keeping(&self, keep: &mut dyn FnMut(&str, usize) -> bool) -> SimBackend {
        self.crash_with(&mut |name, i, _| {
            if keep(name, i) {
                Keep::All
            } else {
                Keep::Nothing
            }
        })
    }

    /// Power loss with torn writes: `keep` decides, for each unsynced
    /// operation, how much of it reached the disk (all, none, or only the
    /// head or tail of a write). Like `crash_keeping` otherwise.
    pub fn crash_tearing(&self, keep: &mut dyn FnMut(&Pending) -> Keep) -> SimBackend {
        self.crash_with(&mut |_, _, p| keep(p))
    }

    /// The one crash: `keep(file, i, op)` for the i-th unsynced operation
    /// of `file`.
    fn crash_with(&self, keep: &mut dyn FnMut(&str, usize, &Pending) -> Keep) -> SimBackend {
        let old = self.state.lock();
        let mut new = State::default();
        for (name, ino) in &old.durable_names {
            let Some(inode) = old.inodes.get(ino) else {
                continue;
            };
            let mut image = inode.durable.clone();
            for (i, (no, op)) in inode.pending.iter().enumerate() {
                op.apply_kept(&mut image, keep(name, i, &op.describe(name, *no)));
            }
            let ino = new.new_inode(Inode::settled(image));
            new.names.insert(name.clone(), ino);
        }
        new.durable_names = new.names.clone();
        SimBackend {
            state: Arc::new(Mutex::new(new)),
        }
    }

    /// Makes the `n`-th operation from now fail (`n == 1` is the next one);
    /// with `persistent`, every operation after it fails too.
    pub fn fail_op(&self, n: u64, persistent: bool) {
        self.fail_op_with(n, persistent, Fault::Eio);
    }

    /// `fail_op` with the given kind of failure (a full disk: `Enospc`).
    pub fn fail_op_with(&self, n: u64, persistent: bool, fault: Fault) {
        let mut s = self.state.lock();
        s.fail_at = Some((s.ops + n, persistent, fault));
    }

    /// Every unsynced operation of every durably named file, in op order.
    pub fn pending(&self) -> Vec<Pending> {
        let s = self.state.lock();
        let mut out: Vec<Pending> = s
            .durable_names
            .iter()
            .filter_map(|(name, ino)| Some((name, s.inodes.get(ino)?)))
            .flat_map(|(name, inode)| inode.pending.iter().map(|(no, op)| op.describe(name, *no)))
            .collect();
        out.sort_by_key(|p| p.op);
        out
    }

    pub fn clear_faults(&self) {
        self.state.lock().fail_at = None;
    }

    /// Mutating-or-sync operations so far, failed ones included.
    pub fn op_count(&self) -> u64 {
        self.state.lock().ops
    }

    /// Successful `write_at` calls so far.
    pub fn writes(&self) -> u64 {
        self.state.lock().writes
    }

    /// Successful file `sync` calls so far (directory syncs not included).
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Successful `sync` calls on files named `name` so far.
    pub fn syncs_of(&self, name: &str) -> u64 {
        self.state.lock().file_syncs.get(name).copied().unwrap_or(0)
    }

    /// XORs the byte at `offset` of `name` in both images, as if the medium
    /// had rotted. Bytes beyond an image's end are left alone.
    pub fn corrupt(&self, name: &str, offset: u64, xor: u8) -> Result<()> {
        let mut s = self.state.lock();
        let ino = s.lookup(name)?;
        let inode = s.inode(ino)?;
        for image in [&mut inode.current, &mut inode.durable] {
            if let Some(b) = image.get_mut(offset as usize) {
                *b ^= xor;
            }
        }
        inode.rotted_under_pending |= !inode.pending.is_empty();
        Ok(())
    }

    /// What a crash right now would leave under `name` (ignoring pending writes).
    pub fn durable_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.state.lock();
        let ino = s.durable_names.get(name)?;
        s.inodes.get(ino).map(|i| i.durable.clone())
    }

    /// The current contents of `name`.
    pub fn current_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.state.lock();
        let ino = s.names.get(name)?;
        s.inodes.get(ino).map(|i| i.current.clone())
    }

    /// Replaces the contents of `name` durably (creating it, with a durable
    /// directory entry, if missing) and drops its pending operations.
    pub fn set_bytes(&self, name: &str, bytes: &[u8]) {
        let mut s = self.state.lock();
        let inode = Inode::settled(bytes.to_vec());
        let ino = match s.names.get(name).copied() {
            Some(ino) => {
                s.inodes.insert(ino, inode);
                ino
            }
            None => s.new_inode(inode),
        };
        s.names.insert(name.to_string(), ino);
        s.durable_names.insert(name.to_string(), ino);
    }

    /// The current file names, sorted.
    pub fn file_names(&self) -> Vec<String> {
        self.state.lock().names.keys().cloned().collect()
    }

    /// Installs (or removes) a hook called on every `write_at` before it is
    /// applied. It runs without the backend's lock held, so it may inspect the
    /// backend (e.g. `durable_bytes` of the redo log, to check write-ahead order).
    pub fn set_write_observer(&self, observer: Option<WriteObserver>) {
        self.state.lock().observer = observer;
    }
}

impl Backend for SimBackend {
    fn open(&self, name: &str, create: bool) -> Result<Arc<dyn FileHandle>> {
        check_name(name).map_err(|e| Error::io(self.describe(name), e))?;
        let mut s = self.state.lock();
        let ino = match s.names.get(name) {
            Some(&ino) => ino,
            None if create => {
                let ino = s.new_inode(Inode::default());
                s.names.insert(name.to_string(), ino);
                ino
            }
            None => return Err(sim_err(name, io::ErrorKind::NotFound, "no such file")),
        };
        Ok(Arc::new(SimFile {
            name: name.to_string(),
            ino,
            state: Arc::clone(&self.state),
        }))
    }

    fn exists(&self, name: &str) -> bool {
        self.state.lock().names.contains_key(name)
    }

    fn remove(&self, name: &str) -> Result<()> {
        let mut s = self.state.lock();
        s.count_op(name)?;
        s.lookup(name)?;
        s.names.remove(name);
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_name(to).map_err(|e| Error::io(self.describe(to), e))?;
        let mut s = self.state.lock();
        s.count_op(from)?;
        let ino = s.lookup(from)?;
        s.names.remove(from);
        s.names.insert(to.to_string(), ino);
        Ok(())
    }

    fn sync_dir(&self) -> Result<()> {
        let mut s = self.state.lock();
        s.count_op(".")?;
        s.durable_names = s.names.clone();
        Ok(())
    }

    fn describe(&self, name: &str) -> String {
        format!("sim:{name}")
    }

    fn list(&self) -> Result<Vec<String>> {
        Ok(self.file_names())
    }

    fn lock(&self) -> Result<DirLock> {
        let mut s = self.state.lock();
        if s.locked {
            return Err(Error::Locked {
                dir: self.describe(""),
                pid: Some(std::process::id()),
            });
        }
        s.locked = true;
        Ok(DirLock::new(SimLock(Arc::clone(&self.state))))
    }
}

/// Holds a `SimBackend`'s directory lock; dropping it releases the lock.
struct SimLock(Arc<Mutex<State>>);

impl Drop for SimLock {
    fn drop(&mut self) {
        self.0.lock().locked = false;
    }
}

/// A handle on one inode of a `SimBackend`.
struct SimFile {
    name: String,
    ino: u64,
    state: Arc<Mutex<State>>,
}

impl SimFile {
    /// Counts the operation, then applies it to the current image and
    /// remembers it as pending until the next sync.
    fn mutate(&self, op: Op) -> Result<()> {
        let mut s = self.state.lock();
        s.count_op(&self.name)?;
        if matches!(op, Op::Write(..)) {
            s.writes += 1;
        }
        let no = s.ops;
        let inode = s.inode(self.ino)?;
        op.apply(&mut inode.current);
        inode.pending.push((no, op));
        Ok(())
    }
}

impl FileHandle for SimFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let mut s = self.state.lock();
        let image = &s.inode(self.ino)?.current;
        let start = offset as usize;
        let Some(src) = image.get(start..start.saturating_add(buf.len())) else {
            return Err(sim_err(
                &self.name,
                io::ErrorKind::UnexpectedEof,
                "read past end of file",
            ));
        };
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        // The observer runs unlocked so it can look at the backend; it sees
        // every write (even one about to fail) before any byte of it lands.
        let observer = self.state.lock().observer.clone();
        if let Some(observe) = observer {
            observe(&self.name, offset, buf);
        }
        self.mutate(Op::Write(offset, buf.to_vec()))
    }

    fn sync(&self) -> Result<()> {
        let mut s = self.state.lock();
        s.count_op(&self.name)?;
        s.syncs += 1;
        *s.file_syncs.entry(self.name.clone()).or_default() += 1;
        let inode = s.inode(self.ino)?;
        // Replaying the pending operations costs what they wrote; copying
        // the current image would cost the whole file on every sync, which
        // for a data file of tens of megabytes synced at every checkpoint
        // was most of the time of a sqllogictest run.
        if inode.rotted_under_pending {
            inode.durable.clone_from(&inode.current);
            inode.rotted_under_pending = false;
        } else {
            for (_, op) in &inode.pending {
                op.apply(&mut inode.durable);
            }
        }
        debug_assert!(inode.durable == inode.current);
        inode.pending.clear();
        Ok(())
    }

    fn len(&self) -> Result<u64> {
        Ok(self.state.lock().inode(self.ino)?.current.len() as u64)
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.mutate(Op::SetLen(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend with file "f" holding durable "AAAA" and unsynced "B" at 0, "C" at 1.
    fn with_pending_writes() -> SimBackend {
        let b = SimBackend::new();
        let f = b.open("f", true).unwrap();
        b.sync_dir().unwrap();
        f.write_at(b"AAAA", 0).unwrap();
        f.sync().unwrap();
        f.write_at(b"B", 0).unwrap();
        f.write_at(b"C", 1).unwrap();
        b
    }

    #[test]
    fn unsynced_writes_vanish_and_synced_survive_a_crash() {
        let b = with_pending_writes();
        assert_eq!(b.current_bytes("f").unwrap(), b"BCAA");
        assert_eq!(b.crash().current_bytes("f").unwrap(), b"AAAA");
        assert_eq!(
            b.current_bytes("f").unwrap(),
            b"BCAA",
            "the old backend is unchanged"
        );
    }

    #[test]
    fn a_sync_makes_the_durable_image_the_current_one() {
        let b = with_pending_writes();
        let f = b.open("f", false).unwrap();
        f.set_len(3).unwrap();
        f.write_at(b"DE", 4).unwrap();
        // Rot under a pending write: the current image keeps the rot, and
        // so must the durable one once synced.
        b.corrupt("f", 1, 0x01).unwrap();
        let current = b.current_bytes("f").unwrap();
        assert_eq!(current, b"BBA\0DE");
        f.sync().unwrap();
        assert_eq!(b.durable_bytes("f").unwrap(), current);
        assert_eq!(b.crash().current_bytes("f").unwrap(), current);
    }

    #[test]
    fn crash_keeping_applies_only_the_chosen_writes() {
        let b = with_pending_writes();
        let after = b.crash_keeping(&mut |name, i| name == "f" && i == 1);
        assert_eq!(after.current_bytes("f").unwrap(), b"ACAA"); // write 1 ("C") only
    }

    #[test]
    fn crash_tearing_keeps_the_head_or_the_tail_of_a_write() {
        let b = SimBackend::new();
        let f = b.open("f", true).unwrap();
        b.sync_dir().unwrap();
        f.write_at(b"AAAAAAAA", 0).unwrap();
        f.sync().unwrap();
        f.write_at(b"BBBBBBBB", 0).unwrap();
        let last = b.pending().pop().unwrap();
        assert_eq!(last.write, Some((0, 8)));
        assert_eq!(last.op, b.op_count(), "the newest operation");
        let head = b.crash_tearing(&mut |p| {
            if p.op == last.op {
                Keep::Head(3)
            } else {
                Keep::All
            }
        });
        assert_eq!(head.current_bytes("f").unwrap(), b"BBBAAAAA");
        let tail = b.crash_tearing(&mut |_| Keep::Tail(2));
        assert_eq!(tail.current_bytes("f").unwrap(), b"AAAAAABB");
        assert!(b.crash_tearing(&mut |_| Keep::All).pending().is_empty());
    }

    #[test]
    fn an_enospc_fault_says_no_space_left() {
        let b = SimBackend::new();
        let f = b.open("f", true).unwrap();
        b.fail_op_with(1, true, Fault::Enospc);
        let err = f.write_at(b"x", 0).unwrap_err();
        match &err {
            Error::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(28)),
            other => panic!("expected an I/O error, got {other}"),
        }
        assert!(f.sync().is_err(), "a full disk stays full");
        b.clear_faults();
        f.write_at(b"x", 0).unwrap();
    }

    #[test]
    fn directory_changes_need_sync_dir() {
        let b = SimBackend::new();
        let f = b.open("new", true).unwrap();
        f.write_at(b"x", 0).unwrap();
        f.sync().unwrap();
        assert_eq!(
            b.crash().file_names(),
            Vec::<String>::new(),
            "created, not dir-synced"
        );
        b.sync_dir().unwrap();
        b.rename("new", "renamed").unwrap();
        let after = b.crash();
        assert_eq!(
            after.file_names(),
            vec!["new".to_string()],
            "the rename reverts"
        );
        assert_eq!(after.current_bytes("new").unwrap(), b"x");
    }

    #[test]
    fn stale_handles_do_not_reach_the_crashed_backend() {
        let b = with_pending_writes();
        let stale = b.open("f", false).unwrap();
        let after = b.crash();
        stale.write_at(b"ZZZZ", 0).unwrap();
        stale.sync().unwrap();
        assert_eq!(after.current_bytes("f").unwrap(), b"AAAA");
    }

    #[test]
    fn fail_op_fails_the_nth_operation_once_or_persistently() {
        let b = SimBackend::new();
        let f = b.open("f", true).unwrap();
        b.fail_op(2, false);
        f.write_at(b"a", 0).unwrap();
        let err = f.sync().unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err}");
        f.sync().unwrap();
        assert_eq!(b.op_count(), 3); // write, failed sync, sync
        assert_eq!((b.writes(), b.syncs()), (1, 1));

        b.fail_op(1, true);
        assert!(f.write_at(b"b", 0).is_err());
        assert!(b.sync_dir().is_err());
        assert_eq!(
            b.current_bytes("f").unwrap(),
            b"a",
            "failed writes have no effect"
        );
        b.clear_faults();
        f.write_at(b"b", 0).unwrap();
    }

    #[test]
    fn observer_sees_writes_before_they_land() {
        let b = SimBackend::new();
        let f = b.open("f", true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (inner, sim) = (Arc::clone(&seen), b.clone());
        b.set_write_observer(Some(Arc::new(move |name: &str, off: u64, data: &[u8]| {
            let before = sim.current_bytes(name).unwrap();
            inner.lock().push((off, data.to_vec(), before));
        })));
        f.write_at(b"hi", 1).unwrap();
        assert_eq!(*seen.lock(), vec![(1, b"hi".to_vec(), Vec::new())]);
    }
}
