//! Index keys: column values encoded so that byte order is index order.
//!
//! A B+tree compares keys millions of times per second and should not need
//! to know about column types, NULLs or ASC/DESC. So every index entry is
//! encoded once, here, into a byte string whose plain lexicographic order
//! (`memcmp`, `Vec<u8>: Ord`) is exactly the order of its values compared
//! column by column. The tree then only ever compares bytes.
//!
//! ```text
//!  key    = column*                   one per index column, in index order
//!  entry  = key | rowid               non-unique indexes only (see below)
//!  rowid  = block u32 BE | slot u16 BE                         (6 bytes)
//!
//!  column (written as for ASC; a DESC column inverts every byte of it,
//!          tag and terminator included)
//!    10 | i64 BE, sign bit flipped               INTEGER       9 bytes
//!    20 | f64 bits, order-mapped, BE             REAL          9 bytes
//!    30 | UTF-8 bytes, 00 escaped as 00 FF | 00 01   TEXT    len+3 ..= 2*len+3
//!    F0                                          NULL          1 byte
//!
//!  example: (42 ASC, 'ab' DESC)
//!    10 80 00 00 00 00 00 00 2A    INTEGER 42 (0x2A), sign bit flipped
//!    CF 9E 9D FF FE                TEXT 'ab' = 30 61 62 00 01, inverted
//! ```
//!
//! Why each piece is there:
//!
//! - **INTEGER**: flipping the sign bit maps `i64::MIN..=i64::MAX` onto
//!   `0..=u64::MAX` in order; big-endian puts the most significant byte first.
//! - **REAL**: IEEE 754 bits already order positive numbers; flipping the
//!   sign bit lifts them above the negatives, and inverting all bits of a
//!   negative number reverses its (magnitude) order. `-0.0` is stored as
//!   `0.0`, so the two compare equal as SQL says. Every NaN is stored as one
//!   canonical quiet NaN, which lands after `+inf` (and before NULL).
//! - **TEXT**: the terminator `00 01` sorts below every continuation (a
//!   non-zero byte, or an escaped `00 FF`), so `"a" < "a\0" < "ab"` and a
//!   string sorts before every longer string it is a prefix of — exactly
//!   Rust's `str` order, i.e. Unicode code point order (no collation).
//! - **NULL**: like Oracle, NULL sorts after every value in an ASC column,
//!   and hence first in a DESC column.
//! - **tags** separate value kinds, so a value whose kind does not match its
//!   column still has a fixed place: INTEGER < REAL < TEXT < NULL (ASC).
//!   Callers coerce values to the column type first; the one coercion done
//!   here is an `Int` in a REAL column, which is stored (and decoded) as
//!   `Real(i as f64)`. A `Real` in an INTEGER column sorts after every
//!   integer: a range scan must turn `c > 2.5` into `c >= 3` itself.
//! - **DESC** inverts bytes. That reverses order only because no column
//!   encoding is a proper prefix of another: two different encodings first
//!   differ at a byte both of them have, and inverting flips that byte's
//!   comparison. (With a bare length-less string, "a" < "ab" would stay
//!   "a" < "ab" after inversion, which is wrong for DESC.)
//!
//! Invariant: for values `a`, `b` and the same columns, `encode_key(a)` and
//! `encode_key(b)` compare as bytes exactly as `a` and `b` compare column by
//! column (NULL last for ASC, everything reversed for DESC).
//! Invariant: a column's encoding is never a proper prefix of another
//! column's encoding, so keys compare column by column and a key prefix
//! selects exactly the entries with those leading values.
//! Invariant: no key starts with 0xFF (tags are 10 20 30 F0, inverted EF DF
//! CF 0F), so `prefix_successor` of a non-empty key prefix is never `None`.
//! Invariant: `decode_key` accepts exactly the byte strings `encode_key`
//! produces: `encode_key(decode_key(k)?) == k`.
//!
//! ## Range scans
//!
//! With `P(..)` = [`encode_prefix`] of the leading equality values followed
//! by the bound, `succ` = [`prefix_successor`], `E` = `P` of the equality
//! values alone, the entries for a predicate on the next column `c` are
//! `[start, stop)`:
//!
//! ```text
//!  predicate       c ASC                           c DESC
//!                  start        stop               start           stop
//!  c = a           P(a)         succ(P(a))         P(a)            succ(P(a))
//!  c > a           succ(P(a))   P(NULL)            succ(P(NULL))   P(a)
//!  c >= a          P(a)         P(NULL)            succ(P(NULL))   succ(P(a))
//!  c < a           E            P(a)               succ(P(a))      succ(E)
//!  c <= a          E            succ(P(a))         P(a)            succ(E)
//!  c BETWEEN a, b  P(a)         succ(P(b))         P(b)            succ(P(a))
//!  c IS NULL       P(NULL)      succ(P(NULL))      P(NULL)         succ(P(NULL))
//!  c IS NOT NULL   E            P(NULL)            succ(P(NULL))   succ(E)
//! ```
//! e.g. `c1 = 5 AND c2 > 7` on `(c1, c2)` both ASC scans from
//! `succ(P(5, 7))` to `P(5, NULL)`: NULLs sort last, and `c2 > 7` must not
//! return them. A `stop` of `None` (only `succ` of an empty `E`) means the
//! end of the index. Rowids appended to entries do not change any of this:
//! an entry with key `k` starts with `k`.
//!
//! Simplifications compared with a production engine: text compares by code
//! point (no collations, no case folding); INTEGER and REAL values are not
//! merged into one numeric order (SQLite 4's key format uses a decimal
//! encoding for that); keys are not prefix-compressed; and all-NULL keys are
//! indexed (Oracle leaves them out of B-tree indexes, so `IS NULL` cannot use
//! one there). Key length is not bounded here: a TEXT column can take up to
//! `2 * len + 3` bytes, and the tree must refuse keys too large for a block.

use crate::encoding::DecResult;
use crate::ids::{BlockNo, RowId};
use crate::value::{ColType, Value};

/// Sort direction of one index column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    /// XOR mask applied to every byte of a column: DESC inverts.
    fn mask(self) -> u8 {
        match self {
            Order::Asc => 0x00,
            Order::Desc => 0xFF,
        }
    }
}

/// One column of an index key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyColumn {
    pub ty: ColType,
    pub order: Order,
}

impl KeyColumn {
    pub fn asc(ty: ColType) -> KeyColumn {
        KeyColumn {
            ty,
            order: Order::Asc,
        }
    }
    pub fn desc(ty: ColType) -> KeyColumn {
        KeyColumn {
            ty,
            order: Order::Desc,
        }
    }
}

/// Tags, in their ASC order: INTEGER < REAL < TEXT < NULL. Spaced out so a
/// student can read them in a hex dump; neither 0x00 nor 0xFF is used, so
/// no key starts with 0xFF in either order (see `prefix_successor`).
const TAG_INT: u8 = 0x10;
const TAG_REAL: u8 = 0x20;
const TAG_TEXT: u8 = 0x30;
const TAG_NULL: u8 = 0xF0;

/// Inside TEXT, a 0x00 byte introduces a two-byte token: `00 FF` is a NUL
/// character of the string, `00 01` ends the string. The terminator's second
/// byte is below the escape's, and 0x00 is below every other byte, so the
/// end of a string sorts before any continuation of it.
const TEXT_ESCAPE: u8 = 0x00;
const TEXT_NUL: u8 = 0xFF;
const TEXT_END: u8 = 0x01;

const SIGN_BIT: u64 = 1 << 63;
/// The one NaN stored in keys (positive quiet NaN), so every NaN encodes to
/// the same bytes, after `+inf`.
const CANONICAL_NAN_BITS: u64 = 0x7FF8_0000_0000_0000;
const NEGATIVE_ZERO_BITS: u64 = SIGN_BIT;

/// Length of the rowid suffix of a non-unique index entry.
pub const ROWID_LEN: usize = 6;

/// Encodes the values of one index entry so that comparing the byte strings
/// (memcmp / `Vec<u8>: Ord`) orders entries exactly like comparing the values
/// column by column, each column ASC or DESC. Appends to `out`.
///
/// Every column of `cols` is encoded. A missing value (`vals` shorter than
/// `cols`) is encoded as NULL, which is what a row written before an
/// `ADD COLUMN` reads as; values beyond `cols.len()` are ignored.
pub fn encode_key(cols: &[KeyColumn], vals: &[Value], out: &mut Vec<u8>) {
    for (i, col) in cols.iter().enumerate() {
        encode_column(col, vals.get(i).unwrap_or(&Value::Null), out);
    }
}

/// Encodes only the first `vals.len()` columns (at most `cols.len()`): the
/// basis of start and stop keys for range scans (see the module docs).
pub fn encode_prefix(cols: &[KeyColumn], vals: &[Value], out: &mut Vec<u8>) {
    for (col, val) in cols.iter().zip(vals) {
        encode_column(col, val, out);
    }
}

fn encode_column(col: &KeyColumn, val: &Value, out: &mut Vec<u8>) {
    let start = out.len();
    match val {
        Value::Null => out.push(TAG_NULL),
        // The one coercion done here: a REAL column holds REALs, so an
        // integer in it must sort among them, not in a tag range of its own.
        Value::Int(i) if col.ty == ColType::Real => encode_real(*i as f64, out),
        Value::Int(i) => {
            out.push(TAG_INT);
            out.extend_from_slice(&((*i as u64) ^ SIGN_BIT).to_be_bytes());
        }
        Value::Real(f) => encode_real(*f, out),
        Value::Text(s) => {
            out.push(TAG_TEXT);
            escape_text(s.as_bytes(), out);
            out.extend_from_slice(&[TEXT_ESCAPE, TEXT_END]);
        }
    }
    invert_if_desc(col.order, &mut out[start..]);
}

fn encode_real(f: f64, out: &mut Vec<u8>) {
    let bits = if f.is_nan() {
        CANONICAL_NAN_BITS
    } else if f == 0.0 {
        0 // -0.0 == 0.0, so both get the bytes of +0.0
    } else {
        f.to_bits()
    };
    let ordered = if bits & SIGN_BIT != 0 {
        !bits
    } else {
        bits | SIGN_BIT
    };
    out.push(TAG_REAL);
    out.extend_from_slice(&ordered.to_be_bytes());
}

fn escape_text(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b == TEXT_ESCAPE {
            out.extend_from_slice(&[TEXT_ESCAPE, TEXT_NUL]);
        } else {
            out.push(b);
        }
    }
}

fn invert_if_desc(order: Order, bytes: &mut [u8]) {
    let mask = order.mask();
    for b in bytes {
        *b ^= mask;
    }
}

/// Decodes a key (without rowid: see [`split_rowid`]) back into one value
/// per column, for index-only scans. Values come back as stored: `-0.0` as
/// `0.0`, any NaN as one NaN, an `Int` of a REAL column as `Real`.
///
/// Bytes that `encode_key` cannot have produced (truncated, trailing bytes,
/// unknown tag, bad escape, bad UTF-8, `-0.0`, a non-canonical NaN) are an
/// error naming the column, never a panic.
pub fn decode_key(cols: &[KeyColumn], key: &[u8]) -> DecResult<Vec<Value>> {
    let mut r = KeyReader {
        key,
        pos: 0,
        mask: 0,
    };
    let mut vals = Vec::with_capacity(cols.len());
    for (i, col) in cols.iter().enumerate() {
        r.mask = col.order.mask();
        vals.push(decode_column(&mut r, col).map_err(|e| format!("key column {i}: {e}"))?);
    }
    if r.pos != key.len() {
        return Err(format!(
            "{} bytes after the last key column (rowid not split off?)",
            key.len() - r.pos
        ));
    }
    Ok(vals)
}

/// A cursor that un-inverts DESC bytes as it reads them.
struct KeyReader<'a> {
    key: &'a [u8],
    pos: usize,
    mask: u8,
}

impl KeyReader<'_> {
    fn byte(&mut self) -> DecResult<u8> {
        let b = self
            .key
            .get(self.pos)
            .ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        self.pos += 1;
        Ok(b ^ self.mask)
    }

    fn u64_be(&mut self) -> DecResult<u64> {
        let bytes = self
            .key
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| format!("truncated number at byte {}", self.pos))?;
        let mut be = [0u8; 8];
        for (dst, src) in be.iter_mut().zip(bytes) {
            *dst = src ^ self.mask;
        }
        self.pos += 8;
        Ok(u64::from_be_bytes(be))
    }
}

fn decode_column(r: &mut KeyReader<'_>, col: &KeyColumn) -> DecResult<Value> {
    match r.byte()? {
        TAG_NULL => Ok(Value::Null),
        // encode_column turns an Int of a REAL column into a REAL.
        TAG_INT if col.ty == ColType::Real => Err("INTEGER tag in a REAL column".into()),
        TAG_INT => Ok(Value::Int((r.u64_be()? ^ SIGN_BIT) as i64)),
        TAG_REAL => decode_real(r.u64_be()?).map(Value::Real),
        TAG_TEXT => {
            let mut bytes = Vec::new();
            loop {
                match r.byte()? {
                    TEXT_ESCAPE => match r.byte()? {
                        TEXT_NUL => bytes.push(0),
                        TEXT_END => break,
                        b => return Err(format!("bad TEXT escape 00 {b:02X}")),
                    },
                    b => bytes.push(b),
                }
            }
            String::from_utf8(bytes)
                .map(Value::Text)
                .map_err(|e| format!("bad UTF-8 in TEXT: {e}"))
        }
        t => Err(format!("bad tag {t:#04x}")),
    }
}

fn decode_real(ordered: u64) -> DecResult<f64> {
    let bits = if ordered & SIGN_BIT != 0 {
        ordered & !SIGN_BIT
    } else {
        !ordered
    };
    let f = f64::from_bits(bits);
    if bits == NEGATIVE_ZERO_BITS {
        Err("-0.0 in a key (stored as 0.0)".into())
    } else if f.is_nan() && bits != CANONICAL_NAN_BITS {
        Err(format!("non-canonical NaN {bits:#018x}"))
    } else {
        Ok(f)
    }
}

/// Appends a rowid to a key: for a non-unique index, so that every entry is
/// unique and entries with equal keys are in rowid order (big-endian, block
/// before slot, which is `RowId`'s own order).
pub fn append_rowid(key: &mut Vec<u8>, rowid: RowId) {
    key.extend_from_slice(&rowid.block.0.to_be_bytes());
    key.extend_from_slice(&rowid.slot.to_be_bytes());
}

/// Splits an entry made by [`append_rowid`] into key and rowid (the last
/// [`ROWID_LEN`] bytes). `None` if the entry is too short.
pub fn split_rowid(entry: &[u8]) -> Option<(&[u8], RowId)> {
    let cut = entry.len().checked_sub(ROWID_LEN)?;
    let (key, tail) = entry.split_at(cut);
    let block: [u8; 4] = tail.get(..4)?.try_into().ok()?;
    let slot: [u8; 2] = tail.get(4..)?.try_into().ok()?;
    Some((
        key,
        RowId {
            block: BlockNo(u32::from_be_bytes(block)),
            slot: u16::from_be_bytes(slot),
        },
    ))
}

/// The smallest byte string greater than every string that starts with
/// `prefix`: drop trailing 0xFF bytes, then add one to the last byte. So
/// `[prefix, prefix_successor(prefix))` is exactly the strings starting with
/// `prefix`. `None` if there is no such string (`prefix` is empty or all
/// 0xFF); for a non-empty key prefix that never happens (no key starts with
/// 0xFF), and for the empty prefix `None` means "the end of the index".
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut succ = prefix.to_vec();
    while succ.last() == Some(&0xFF) {
        succ.pop();
    }
    let last = succ.last_mut()?;
    *last += 1;
    Some(succ)
}

/// The range `[start, stop)` of entries whose column `i = earlier.len()`
/// is a TEXT starting with `text_prefix` and whose earlier columns equal
/// `earlier`: the scan for `LIKE 'abc%'` (the caller passes the literal text
/// before the first wildcard, unescaped, and still filters each entry if the
/// pattern continues after it). `stop` is `None` for the end of the index.
///
/// The range is simply the entries starting with the column's encoding
/// without its terminator: `30 | escaped prefix`, inverted for a DESC
/// column. That works in both orders because such a prefix can only be
/// followed by more text or the terminator — in DESC order these entries
/// are contiguous too, just with the longer strings first. NULLs and
/// non-TEXT values never match, as SQL's `LIKE` says.
///
/// If there is no column `i` (too many `earlier` values) the range is empty
/// (`start == stop`).
pub fn like_prefix_range(
    cols: &[KeyColumn],
    earlier: &[Value],
    text_prefix: &str,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut start = Vec::new();
    encode_prefix(cols, earlier, &mut start);
    let Some(col) = cols.get(earlier.len()) else {
        let stop = start.clone();
        return (start, Some(stop));
    };
    let from = start.len();
    start.push(TAG_TEXT);
    escape_text(text_prefix.as_bytes(), &mut start);
    invert_if_desc(col.order, &mut start[from..]);
    let stop = prefix_successor(&start);
    (start, stop)
}

#[cfg(test)]
mod tests;
