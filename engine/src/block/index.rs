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
//!
//! Each entry keeps the first sixteen bytes of its key inline as a
//! big-endian `u128` (an abbreviated key, zero-padded: an INTEGER column
//! and a rowid fit whole). A node's keys are separate
//! allocations, so a binary search that compared whole keys would follow a
//! pointer, and usually miss the CPU cache, at every probe; comparing the
//! inline prefixes first decides most probes inside the entry array itself.
//! Unequal prefixes order two keys exactly as their bytes do (the first
//! difference lies in the prefix; a key that ended there is a prefix of the
//! other, and smaller); only equal prefixes compare the whole keys.

use bytes::Bytes;

use crate::encoding::{Dec, DecResult, Enc};

/// One index entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxEntry {
    key: Bytes,
    /// The key's first sixteen bytes (see the module doc); always
    /// `prefix_of(&key)`, which is why `key` is reached through methods.
    prefix: u128,
    /// Rowid (leaf) or child block number (branch).
    pub val: u64,
    /// ITL index + 1 of the transaction that last changed the entry.
    pub lock: u8,
}

/// A key's first sixteen bytes as a big-endian number, zero-padded.
#[inline]
pub fn prefix_of(key: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = key.len().min(16);
    b[..n].copy_from_slice(&key[..n]);
    u128::from_be_bytes(b)
}

impl IdxEntry {
    pub fn new(key: Bytes, val: u64, lock: u8) -> IdxEntry {
        IdxEntry {
            prefix: prefix_of(&key),
            key,
            val,
            lock,
        }
    }

    /// The entry's key.
    #[inline]
    pub fn key(&self) -> &Bytes {
        &self.key
    }

    /// The entry's key compared with `key`, whose prefix is `prefix`
    /// (`prefix_of(key)`, computed once per search).
    #[inline]
    pub fn cmp_key(&self, key: &[u8], prefix: u128) -> std::cmp::Ordering {
        match self.prefix.cmp(&prefix) {
            std::cmp::Ordering::Equal => self.key.as_ref().cmp(key),
            unequal => unequal,
        }
    }

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
    /// Private so that `entry_bytes` stays their encoded length: a split's
    /// fit test runs for every insert, and summing a full leaf's entries
    /// each time showed as a tenth of a bulk load's time.
    entries: Vec<IdxEntry>,
    /// Σ `IdxEntry::encoded_len` of `entries`.
    entry_bytes: usize,
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
    Ok(IdxEntry::new(key, d.u64()?, d.u8()?))
}

impl IndexBody {
    pub fn leaf() -> IndexBody {
        IndexBody::default()
    }

    pub fn new(
        level: u8,
        next: u32,
        low: Option<Bytes>,
        high: Option<Bytes>,
        entries: Vec<IdxEntry>,
    ) -> IndexBody {
        let entry_bytes = entries.iter().map(IdxEntry::encoded_len).sum();
        IndexBody {
            level,
            next,
            low,
            high,
            entries,
            entry_bytes,
        }
    }

    /// The entries, in key order.
    pub fn entries(&self) -> &[IdxEntry] {
        &self.entries
    }

    /// The entries, to change their values or ITL locks in place. A
    /// caller must not replace an entry by one with a key of another
    /// length (use `put`, `take`, `truncate` or `set_entries`).
    pub fn entries_mut(&mut self) -> &mut [IdxEntry] {
        &mut self.entries
    }

    /// Keeps the first `keep` entries.
    pub fn truncate(&mut self, keep: usize) {
        self.entries.truncate(keep);
        self.entry_bytes = self.entries.iter().map(IdxEntry::encoded_len).sum();
    }

    /// Replaces every entry.
    pub fn set_entries(&mut self, entries: Vec<IdxEntry>) {
        self.entry_bytes = entries.iter().map(IdxEntry::encoded_len).sum();
        self.entries = entries;
    }

    pub fn is_leaf(&self) -> bool {
        self.level == 0
    }

    pub fn encoded_len(&self) -> usize {
        1 + 4 + fence_len(&self.low) + fence_len(&self.high) + 2 + self.entry_bytes
    }

    pub fn encode(&self, v: &mut Vec<u8>) {
        debug_assert_eq!(
            self.entry_bytes,
            self.entries
                .iter()
                .map(IdxEntry::encoded_len)
                .sum::<usize>(),
            "an index node's cached entry length"
        );
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
        Ok(IndexBody::new(level, next, low, high, entries))
    }

    /// Position of `key` (Ok) or where it would go (Err).
    pub fn search(&self, key: &[u8]) -> Result<usize, usize> {
        let prefix = prefix_of(key);
        self.entries.binary_search_by(|e| e.cmp_key(key, prefix))
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
        let prefix = prefix_of(key);
        let i = self
            .entries
            .partition_point(|e| e.cmp_key(key, prefix).is_le());
        self.entries.get(i.saturating_sub(1)).map(|e| e.val as u32)
    }

    /// Inserts an entry in key order (replacing an equal key).
    pub fn put(&mut self, e: IdxEntry) {
        self.entry_bytes += e.encoded_len();
        match self.search(&e.key) {
            Ok(i) => {
                let old = std::mem::replace(&mut self.entries[i], e);
                self.entry_bytes -= old.encoded_len();
            }
            Err(i) => self.entries.insert(i, e),
        }
    }

    /// Removes the entry with `key`, if present.
    pub fn take(&mut self, key: &[u8]) -> Option<IdxEntry> {
        let e = self.search(key).ok().map(|i| self.entries.remove(i))?;
        self.entry_bytes -= e.encoded_len();
        Some(e)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys() -> impl Strategy<Value = Vec<u8>> {
        // Short keys over few byte values, so that prefixes are often
        // equal, one key is often a prefix of another, and zero bytes
        // (the padding's value) are common.
        prop::collection::vec(prop::sample::select(vec![0u8, 1, 0x7f, 0xff]), 0..24)
    }

    proptest! {
        /// The abbreviated comparison orders keys exactly as their bytes.
        #[test]
        fn cmp_key_is_byte_order(a in keys(), b in keys()) {
            let e = IdxEntry::new(Bytes::from(a.clone()), 0, 0);
            prop_assert_eq!(e.cmp_key(&b, prefix_of(&b)), a.as_slice().cmp(b.as_slice()));
        }

        /// `put` and `take` keep the node sorted and its cached length
        /// equal to the sum over its entries.
        #[test]
        fn put_and_take_keep_the_cached_length(ops in prop::collection::vec((any::<bool>(), keys()), 0..60)) {
            let mut n = IndexBody::leaf();
            let mut model = std::collections::BTreeSet::new();
            for (put, k) in ops {
                if put {
                    n.put(IdxEntry::new(Bytes::from(k.clone()), 1, 0));
                    model.insert(k);
                } else {
                    prop_assert_eq!(n.take(&k).is_some(), model.remove(&k));
                }
                let keys: Vec<Vec<u8>> = n.entries().iter().map(|e| e.key().to_vec()).collect();
                prop_assert_eq!(&keys, &model.iter().cloned().collect::<Vec<_>>());
                let mut v = Vec::new();
                n.encode(&mut v);
                prop_assert_eq!(v.len(), n.encoded_len());
            }
        }
    }
}
