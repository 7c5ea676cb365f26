//! The B+tree node: the body of an index block.
//!
//! ```text
//!  level u8 (0 = leaf) | next u32 (right sibling, 0 = none)
//!  low fence  (u8 present | u16 len | key)   entries hold keys in [low, high)
//!  high fence (u8 present | u16 len | key)
//!  entry count u16 | entry* (u16 key len | key | val u64 | lock u8)
//! ```
//!
//! A leaf entry's `val` is a rowid (`RowId::to_u64`); a branch entry's is a
//! child block, and its key is the lowest key that child may hold (the first
//! entry of a branch carries the branch's own low fence, or is empty).
//!
//! Fences make the tree a B-link tree: a split moves the upper half of a
//! node to a new right sibling and lowers the node's high fence, so a
//! descent that arrives at a node after it split sees that its key is at or
//! above the high fence and moves right along `next`. They also tell undo
//! which keys belong here (see `Block::undo_op`): an index entry that a
//! split moved keeps its transaction's undo in the old node's chain, and is
//! found again by its key.
//!
//! Invariant: entries are strictly increasing by key, and every key lies in
//! `[low, high)`.

use bytes::Bytes;

use crate::encoding::{Dec, DecResult, Enc};

/// One index entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxEntry {
    pub key: Bytes,
    /// Rowid (leaf) or child block number (branch).
    pub val: u64,
    /// ITL index + 1 of the transaction that last changed the entry.
    pub lock: u8,
}

impl IdxEntry {
    pub fn encoded_len(&self) -> usize {
        2 + self.key.len() + 8 + 1
    }
}

/// The body of an index block.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IndexBody {
    pub level: u8,
    pub next: u32,
    pub low: Option<Bytes>,
    pub high: Option<Bytes>,
    pub entries: Vec<IdxEntry>,
}

fn fence_len(f: &Option<Bytes>) -> usize {
    1 + f.as_ref().map_or(0, |k| 2 + k.len())
}

fn put_fence(v: &mut Vec<u8>, f: &Option<Bytes>) {
    match f {
        None => v.put_u8(0),
        Some(k) => {
            v.put_u8(1);
            v.put_u16(k.len() as u16);
            v.extend_from_slice(k);
        }
    }
}

fn get_fence(d: &mut Dec) -> DecResult<Option<Bytes>> {
    Ok(match d.u8()? {
        0 => None,
        1 => {
            let n = d.u16()? as usize;
            Some(Bytes::copy_from_slice(d.take(n)?))
        }
        f => return Err(format!("bad fence flag {f}")),
    })
}

pub(crate) fn put_entry(v: &mut Vec<u8>, e: &IdxEntry) {
    v.put_u16(e.key.len() as u16);
    v.extend_from_slice(&e.key);
    v.put_u64(e.val);
    v.put_u8(e.lock);
}

pub(crate) fn get_entry(d: &mut Dec) -> DecResult<IdxEntry> {
    let n = d.u16()? as usize;
    let key = Bytes::copy_from_slice(d.take(n)?);
    Ok(IdxEntry {
        key,
        val: d.u64()?,
        lock: d.u8()?,
    })
}

impl IndexBody {
    pub fn leaf() -> IndexBody {
        IndexBody::default()
    }

    pub fn is_leaf(&self) -> bool {
        self.level == 0
    }

    pub fn encoded_len(&self) -> usize {
        1 + 4
            + fence_len(&self.low)
            + fence_len(&self.high)
            + 2
            + self
                .entries
                .iter()
                .map(IdxEntry::encoded_len)
                .sum::<usize>()
    }

    pub fn encode(&self, v: &mut Vec<u8>) {
        v.put_u8(self.level);
        v.put_u32(self.next);
        put_fence(v, &self.low);
        put_fence(v, &self.high);
        v.put_u16(self.entries.len() as u16);
        for e in &self.entries {
            put_entry(v, e);
        }
    }

    pub fn decode(d: &mut Dec) -> DecResult<IndexBody> {
        let level = d.u8()?;
        let next = d.u32()?;
        let low = get_fence(d)?;
        let high = get_fence(d)?;
        let n = d.u16()? as usize;
        let entries: Vec<IdxEntry> = (0..n).map(|_| get_entry(d)).collect::<DecResult<_>>()?;
        Ok(IndexBody {
            level,
            next,
            low,
            high,
            entries,
        })
    }

    /// Position of `key` (Ok) or where it would go (Err).
    pub fn search(&self, key: &[u8]) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.key.as_ref().cmp(key))
    }

    /// Whether `key` belongs in this node's range `[low, high)`.
    pub fn covers(&self, key: &[u8]) -> bool {
        self.low.as_ref().is_none_or(|l| l.as_ref() <= key)
            && self.high.as_ref().is_none_or(|h| key < h.as_ref())
    }

    /// Whether `key` lies at or beyond the high fence (move right).
    pub fn beyond(&self, key: &[u8]) -> bool {
        self.high.as_ref().is_some_and(|h| key >= h.as_ref())
    }

    /// Branch: the child whose range holds `key`.
    pub fn child_for(&self, key: &[u8]) -> Option<u32> {
        let i = self.entries.partition_point(|e| e.key.as_ref() <= key);
        self.entries.get(i.saturating_sub(1)).map(|e| e.val as u32)
    }

    /// Inserts an entry in key order (replacing an equal key).
    pub fn put(&mut self, e: IdxEntry) {
        match self.search(&e.key) {
            Ok(i) => self.entries[i] = e,
            Err(i) => self.entries.insert(i, e),
        }
    }

    /// Removes the entry with `key`, if present.
    pub fn take(&mut self, key: &[u8]) -> Option<IdxEntry> {
        self.search(key).ok().map(|i| self.entries.remove(i))
    }

    /// Checks the ordering invariant (for `verify`).
    pub fn check(&self) -> Result<(), String> {
        for w in self.entries.windows(2) {
            if w[0].key >= w[1].key {
                return Err("index entries out of order".into());
            }
        }
        let skip = usize::from(self.level > 0);
        for e in self.entries.iter().skip(skip) {
            if !self.covers(&e.key) {
                return Err("index entry outside the block's fences".into());
            }
        }
        Ok(())
    }
}
