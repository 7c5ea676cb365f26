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
mod tests {
    use std::cmp::Ordering;

    use proptest::prelude::*;
    use proptest::sample::{select, Index};
    use proptest::test_runner::Config;

    use super::*;

    use ColType::{Integer, Real, Text};

    fn key(cols: &[KeyColumn], vals: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key(cols, vals, &mut out);
        out
    }

    fn prefix(cols: &[KeyColumn], vals: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_prefix(cols, vals, &mut out);
        out
    }

    fn in_range(k: &[u8], start: &[u8], stop: &Option<Vec<u8>>) -> bool {
        k >= start && stop.as_ref().is_none_or(|s| k < s.as_slice())
    }

    fn rid(block: u32, slot: u16) -> RowId {
        RowId {
            block: BlockNo(block),
            slot,
        }
    }

    // ---- the reference model: plain SQL comparison, written without bytes ----

    /// The value as a column of this type holds it (an Int in a REAL column
    /// is a REAL; -0.0 is 0.0).
    fn as_stored(col: &KeyColumn, v: &Value) -> Value {
        match v {
            Value::Int(i) if col.ty == Real => Value::Real(*i as f64),
            Value::Real(f) if *f == 0.0 => Value::Real(0.0),
            other => other.clone(),
        }
    }

    fn kind_rank(v: &Value) -> u8 {
        match v {
            Value::Int(_) => 0,
            Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Null => 3,
        }
    }

    /// Numeric order, with all NaNs equal to each other and above +inf.
    fn cmp_real(a: f64, b: f64) -> Ordering {
        match (a.is_nan(), b.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        }
    }

    fn compare_column(col: &KeyColumn, a: &Value, b: &Value) -> Ordering {
        let (a, b) = (as_stored(col, a), as_stored(col, b));
        let asc = match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            (Value::Real(x), Value::Real(y)) => cmp_real(*x, *y),
            (Value::Text(x), Value::Text(y)) => x.cmp(y),
            _ => kind_rank(&a).cmp(&kind_rank(&b)), // NULL last
        };
        match col.order {
            Order::Asc => asc,
            Order::Desc => asc.reverse(),
        }
    }

    fn compare_values(cols: &[KeyColumn], a: &[Value], b: &[Value]) -> Ordering {
        cols.iter()
            .zip(a.iter().zip(b))
            .map(|(c, (x, y))| compare_column(c, x, y))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Equality that tells 0.0 from -0.0 and accepts NaN == NaN.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Real(x), Value::Real(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            _ => a == b,
        }
    }

    // ---- strategies ----

    #[rustfmt::skip]
    const EDGE_INTS: [i64; 7] = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    #[rustfmt::skip]
    const EDGE_REALS: [f64; 12] = [
        0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN,
        f64::from_bits(0x7FF0_0000_0000_0001), // a signalling NaN
        f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::MIN,
    ];
    /// NUL, a control char, shared-prefix letters and high UTF-8 bytes.
    const ALPHABET: [char; 8] = [
        '\0',
        '\u{1}',
        'a',
        'b',
        '\u{7f}',
        '\u{ff}',
        'é',
        '\u{10FFFF}',
    ];

    fn col_strategy() -> impl Strategy<Value = KeyColumn> {
        let ty = prop_oneof![Just(Integer), Just(Real), Just(Text)];
        (ty, order_strategy()).prop_map(|(ty, order)| KeyColumn { ty, order })
    }

    fn order_strategy() -> impl Strategy<Value = Order> {
        prop_oneof![Just(Order::Asc), Just(Order::Desc)]
    }

    fn int_strategy() -> BoxedStrategy<i64> {
        prop_oneof![select(&EDGE_INTS[..]), -3i64..=3, any::<i64>()].boxed()
    }

    fn real_strategy() -> BoxedStrategy<f64> {
        let halves = (-6i64..=6).prop_map(|i| i as f64 / 2.0);
        prop_oneof![select(&EDGE_REALS[..]), halves, any::<f64>()].boxed()
    }

    /// Short strings over a small alphabet, so shared prefixes are common.
    fn text_strategy() -> BoxedStrategy<String> {
        prop::collection::vec(select(&ALPHABET[..]), 0..5)
            .prop_map(|cs| cs.into_iter().collect())
            .boxed()
    }

    /// Mostly values of the column's type, some NULLs, a few of another kind.
    fn value_for(ty: ColType) -> BoxedStrategy<Value> {
        let typed = match ty {
            Integer => int_strategy().prop_map(Value::Int).boxed(),
            Real => real_strategy().prop_map(Value::Real).boxed(),
            Text => text_strategy().prop_map(Value::Text).boxed(),
        };
        let any_kind = prop_oneof![
            int_strategy().prop_map(Value::Int),
            real_strategy().prop_map(Value::Real),
            text_strategy().prop_map(Value::Text),
        ];
        prop_oneof![2 => Just(Value::Null), 12 => typed, 1 => any_kind].boxed()
    }

    fn values_for(cols: &[KeyColumn]) -> Vec<BoxedStrategy<Value>> {
        cols.iter().map(|c| value_for(c.ty)).collect()
    }

    /// 1–4 columns and two value vectors that share a random number of
    /// leading values, so that ties and later columns get exercised.
    fn pair_strategy() -> impl Strategy<Value = (Vec<KeyColumn>, Vec<Value>, Vec<Value>)> {
        prop::collection::vec(col_strategy(), 1..=4)
            .prop_flat_map(|cols| {
                let n = cols.len();
                (values_for(&cols), values_for(&cols), 0..=n, Just(cols))
            })
            .prop_map(|(a, mut b, shared, cols)| {
                b[..shared].clone_from_slice(&a[..shared]);
                (cols, a, b)
            })
    }

    /// Columns with a TEXT column at position `i` (random columns before
    /// and after it), values `a` (the first `i` are the equality values)
    /// and a candidate entry `b`.
    fn like_strategy() -> impl Strategy<Value = (Vec<KeyColumn>, usize, Vec<Value>, Vec<Value>)> {
        let before = prop::collection::vec(col_strategy(), 0..3);
        let after = prop::collection::vec(col_strategy(), 0..2);
        (before, order_strategy(), after).prop_flat_map(|(mut cols, order, after)| {
            let i = cols.len();
            cols.push(KeyColumn { ty: Text, order });
            cols.extend(after);
            (
                Just(cols.clone()),
                Just(i),
                values_for(&cols),
                values_for(&cols),
            )
        })
    }

    fn config() -> Config {
        Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn keys_compare_like_their_values_column_by_column((cols, a, b) in pair_strategy()) {
            prop_assert_eq!(key(&cols, &a).cmp(&key(&cols, &b)), compare_values(&cols, &a, &b));
        }

        #[test]
        fn decode_returns_the_values_as_stored((cols, a, _b) in pair_strategy()) {
            let k = key(&cols, &a);
            let back = decode_key(&cols, &k).map_err(TestCaseError::fail)?;
            prop_assert_eq!(back.len(), a.len());
            for ((col, got), orig) in cols.iter().zip(&back).zip(&a) {
                prop_assert!(same(got, &as_stored(col, orig)), "{got:?} from {orig:?}");
            }
            prop_assert_eq!(key(&cols, &back), k);
        }

        #[test]
        fn equal_keys_are_ordered_by_rowid(
            (cols, a, b) in pair_strategy(),
            (b1, s1, b2, s2) in (any::<u32>(), any::<u16>(), any::<u32>(), any::<u16>()),
        ) {
            let (r1, r2) = (rid(b1, s1), rid(b2, s2));
            let (mut e1, mut e2) = (key(&cols, &a), key(&cols, &b));
            append_rowid(&mut e1, r1);
            append_rowid(&mut e2, r2);
            prop_assert_eq!(e1.cmp(&e2), compare_values(&cols, &a, &b).then(r1.cmp(&r2)));
            let (k1, got) = split_rowid(&e1).ok_or_else(|| TestCaseError::fail("short entry"))?;
            prop_assert_eq!(got, r1);
            prop_assert_eq!(k1.to_vec(), key(&cols, &a));
        }

        #[test]
        fn prefix_successor_bounds_exactly_the_strings_with_that_prefix(
            p in prop::collection::vec(prop_oneof![Just(0xFFu8), Just(0xFE), any::<u8>()], 0..4),
            suffix in prop::collection::vec(prop_oneof![Just(0xFFu8), Just(0), any::<u8>()], 0..4),
            other in prop::collection::vec(prop_oneof![Just(0xFFu8), Just(0), any::<u8>()], 0..6),
            extend in any::<bool>(),
        ) {
            let s = if extend { [p.as_slice(), &suffix].concat() } else { other };
            let succ = prefix_successor(&p);
            prop_assert_eq!(in_range(&s, &p, &succ), s.starts_with(&p));
            if let Some(succ) = &succ {
                prop_assert!(!succ.starts_with(&p));
            }
        }

        #[test]
        fn a_key_prefix_selects_exactly_the_entries_with_those_leading_values(
            (cols, a, b) in pair_strategy(),
            k in any::<Index>(),
        ) {
            let k = k.index(cols.len() + 1);
            let p = prefix(&cols, &a[..k]);
            let succ = prefix_successor(&p);
            prop_assert!(k == 0 || succ.is_some()); // no key starts with 0xFF
            let equal = compare_values(&cols[..k], &a[..k], &b[..k]).is_eq();
            prop_assert_eq!(in_range(&key(&cols, &b), &p, &succ), equal);
        }

        #[test]
        fn like_prefix_range_holds_exactly_the_texts_starting_with_the_prefix(
            (cols, i, a, mut b) in like_strategy(),
            (p, suffix) in (text_strategy(), text_strategy()),
            (share, starts) in (any::<bool>(), any::<bool>()),
        ) {
            if share {
                b[..i].clone_from_slice(&a[..i]);
            }
            if starts {
                b[i] = Value::Text(format!("{p}{suffix}"));
            }
            let (start, stop) = like_prefix_range(&cols, &a[..i], &p);
            let expected = compare_values(&cols[..i], &a[..i], &b[..i]).is_eq()
                && matches!(&b[i], Value::Text(t) if t.starts_with(p.as_str()));
            prop_assert_eq!(in_range(&key(&cols, &b), &start, &stop), expected);
        }

        #[test]
        fn decode_never_panics_on_damaged_keys_and_accepts_only_canonical_ones(
            (cols, a, _b) in pair_strategy(),
            damage in prop::collection::vec((any::<Index>(), any::<u8>()), 0..3),
            cut in prop::option::of(any::<Index>()),
            tail in prop::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut k = key(&cols, &a); // never empty: at least one column
            for (at, byte) in damage {
                let at = at.index(k.len());
                k[at] = byte;
            }
            if let Some(cut) = cut {
                k.truncate(cut.index(k.len() + 1));
            }
            k.extend(tail);
            if let Ok(vals) = decode_key(&cols, &k) {
                prop_assert_eq!(&key(&cols, &vals), &k);
            }
            let _ = split_rowid(&k);
        }

        #[test]
        fn decode_never_panics_on_random_bytes(
            cols in prop::collection::vec(col_strategy(), 0..4),
            k in prop::collection::vec(
                prop_oneof![select(vec![0x00u8, 0x01, 0x10, 0x20, 0x30, 0xF0, 0xFF]), any::<u8>()],
                0..40,
            ),
        ) {
            if let Ok(vals) = decode_key(&cols, &k) {
                prop_assert_eq!(&key(&cols, &vals), &k);
            }
        }
    }

    #[test]
    fn the_module_doc_example_encodes_to_the_documented_bytes() {
        let cols = [KeyColumn::asc(Integer), KeyColumn::desc(Text)];
        let k = key(&cols, &[Value::Int(42), Value::from("ab")]);
        #[rustfmt::skip]
        let expected = [
            0x10, 0x80, 0, 0, 0, 0, 0, 0, 0x2A, // 42: sign bit flipped
            0xCF, 0x9E, 0x9D, 0xFF, 0xFE,       // !(30 61 62 00 01)
        ];
        assert_eq!(k, expected);
    }

    #[test]
    fn worked_examples_sort_in_the_documented_order() {
        use Value::{Int, Null, Real as R};
        let t = Value::from;
        // Each list is strictly ascending in ASC order, including a value of
        // the wrong kind; DESC must give exactly the reverse.
        #[rustfmt::skip]
        let chains = [
            (Integer, vec![Int(i64::MIN), Int(-1), Int(0), Int(i64::MAX), R(-1.0), t(""), Null]),
            (Real, vec![R(f64::NEG_INFINITY), R(-1.5), Int(-1), R(0.0), R(5e-324),
                        R(f64::INFINITY), R(f64::NAN), Null]),
            (Text, vec![Int(0), R(0.0), t(""), t("\0"), t("a"), t("a\0"), t("ab"), t("ÿ"),
                        t("\u{10FFFF}"), Null]),
        ];
        for (ty, vals) in chains {
            for (order, want) in [
                (Order::Asc, Ordering::Less),
                (Order::Desc, Ordering::Greater),
            ] {
                let col = [KeyColumn { ty, order }];
                let keys: Vec<_> = vals
                    .iter()
                    .map(|v| key(&col, std::slice::from_ref(v)))
                    .collect();
                for (w, v) in keys.windows(2).zip(vals.windows(2)) {
                    assert_eq!(w[0].cmp(&w[1]), want, "{v:?} {order:?}");
                }
            }
        }
        // Values SQL calls equal get equal keys.
        let real = [KeyColumn::asc(Real)];
        assert_eq!(key(&real, &[R(-0.0)]), key(&real, &[R(0.0)]));
        assert_eq!(key(&real, &[R(-f64::NAN)]), key(&real, &[R(f64::NAN)]));
        assert_eq!(key(&real, &[Int(3)]), key(&real, &[R(3.0)]));
    }

    #[test]
    fn missing_values_encode_as_null_and_extra_values_are_ignored() {
        let cols = [KeyColumn::asc(Integer), KeyColumn::desc(Text)];
        let one = [Value::Int(1)];
        assert_eq!(key(&cols, &one), key(&cols, &[Value::Int(1), Value::Null]));
        let three = [Value::Int(1), Value::from("x"), Value::Int(9)];
        assert_eq!(key(&cols, &three), key(&cols, &three[..2]));
        assert_eq!(prefix(&cols, &three), key(&cols, &three[..2]));
    }

    #[test]
    fn decode_rejects_bytes_encode_cannot_produce_with_a_reason() {
        let int = [KeyColumn::asc(Integer)];
        let real = [KeyColumn::asc(Real)];
        let text = [KeyColumn::asc(Text)];
        let seven = key(&int, &[Value::Int(7)]);
        let real_key = |ordered: u64| [&[TAG_REAL][..], &ordered.to_be_bytes()].concat();
        #[rustfmt::skip]
        let cases: [(&[KeyColumn], Vec<u8>, &str); 9] = [
            (&int, seven[..5].to_vec(), "truncated"),
            (&int, [&seven[..], &[0]].concat(), "after the last key column"),
            (&int, vec![], "truncated"),
            (&int, vec![0x11], "bad tag"),
            (&real, seven.clone(), "INTEGER tag in a REAL column"),
            (&real, real_key(!SIGN_BIT), "-0.0"),
            (&real, real_key(0x7FF0_0000_0000_0001 | SIGN_BIT), "non-canonical NaN"),
            (&text, vec![TAG_TEXT, b'a', 0x00, 0x02], "bad TEXT escape"),
            (&text, vec![TAG_TEXT, 0xC3, 0x00, 0x01], "bad UTF-8"),
        ];
        for (cols, bytes, reason) in cases {
            let err = decode_key(cols, &bytes).unwrap_err();
            assert!(err.contains(reason), "{bytes:02X?}: {err}");
        }
    }

    #[test]
    fn prefix_successor_drops_trailing_ff_and_increments() {
        assert_eq!(prefix_successor(&[1, 2, 0xFF]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xFE]), Some(vec![1, 0xFF]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_successor(&[]), None); // every string starts with []
    }

    #[test]
    fn split_rowid_needs_six_bytes_and_reads_big_endian() {
        assert_eq!(split_rowid(&[1, 2, 3, 4, 5]), None);
        let mut e = vec![0xAA];
        append_rowid(&mut e, rid(0x0102_0304, 0x0506));
        assert_eq!(e, [0xAA, 1, 2, 3, 4, 5, 6]);
        assert_eq!(
            split_rowid(&e),
            Some((&[0xAA][..], rid(0x0102_0304, 0x0506)))
        );
    }

    #[test]
    fn like_prefix_range_past_the_last_column_is_empty() {
        let cols = [KeyColumn::asc(Text)];
        let (start, stop) = like_prefix_range(&cols, &["a".into()], "b");
        assert_eq!(Some(start), stop);
    }

    /// A predicate on the second column, after `c1 = 5`.
    #[derive(Clone, Copy, Debug)]
    enum Pred {
        Eq(i64),
        Gt(i64),
        Ge(i64),
        Lt(i64),
        Le(i64),
        Between(i64, i64),
        IsNull,
        IsNotNull,
    }

    impl Pred {
        fn matches(self, v: Option<i64>) -> bool {
            match (self, v) {
                (Pred::IsNull, v) => v.is_none(),
                (Pred::IsNotNull, v) => v.is_some(),
                (_, None) => false, // every comparison with NULL is unknown
                (Pred::Eq(a), Some(v)) => v == a,
                (Pred::Gt(a), Some(v)) => v > a,
                (Pred::Ge(a), Some(v)) => v >= a,
                (Pred::Lt(a), Some(v)) => v < a,
                (Pred::Le(a), Some(v)) => v <= a,
                (Pred::Between(a, b), Some(v)) => a <= v && v <= b,
            }
        }

        /// The module doc's range table, transcribed.
        fn range(self, cols: &[KeyColumn], eq: &[Value]) -> (Vec<u8>, Option<Vec<u8>>) {
            let p = |v: Value| prefix(cols, &[eq, &[v]].concat());
            let pi = |a: i64| p(Value::Int(a));
            let succ = |k: Vec<u8>| prefix_successor(&k);
            let (e, null) = (prefix(cols, eq), || p(Value::Null));
            let asc = cols[eq.len()].order == Order::Asc;
            match (self, asc) {
                (Pred::Eq(a), _) => (pi(a), succ(pi(a))),
                (Pred::Gt(a), true) => (succ(pi(a)).unwrap(), Some(null())),
                (Pred::Gt(a), false) => (succ(null()).unwrap(), Some(pi(a))),
                (Pred::Ge(a), true) => (pi(a), Some(null())),
                (Pred::Ge(a), false) => (succ(null()).unwrap(), succ(pi(a))),
                (Pred::Lt(a), true) => (e, Some(pi(a))),
                (Pred::Lt(a), false) => (succ(pi(a)).unwrap(), succ(e)),
                (Pred::Le(a), true) => (e, succ(pi(a))),
                (Pred::Le(a), false) => (pi(a), succ(e)),
                (Pred::Between(a, b), true) => (pi(a), succ(pi(b))),
                (Pred::Between(a, b), false) => (pi(b), succ(pi(a))),
                (Pred::IsNull, _) => (null(), succ(null())),
                (Pred::IsNotNull, true) => (e, Some(null())),
                (Pred::IsNotNull, false) => (succ(null()).unwrap(), succ(e)),
            }
        }
    }

    #[test]
    fn the_documented_range_recipes_select_exactly_the_matching_rows() {
        use Pred::*;
        #[rustfmt::skip]
        let preds = [Eq(7), Gt(7), Ge(7), Lt(7), Le(7), Between(6, 7), IsNull, IsNotNull];
        let domain = [None, Some(6), Some(7), Some(8)];
        let to_value = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        for (o1, o2) in [Order::Asc, Order::Desc]
            .into_iter()
            .flat_map(|o| [(o, Order::Asc), (o, Order::Desc)])
        {
            let cols = [o1, o2].map(|order| KeyColumn { ty: Integer, order });
            // A non-unique index on (c1, c2): every pair twice, with rowids.
            let mut index = std::collections::BTreeMap::new();
            for (n, c1) in [None, Some(4), Some(5), Some(6)].into_iter().enumerate() {
                for (m, c2) in domain.into_iter().enumerate() {
                    for copy in 0..2 {
                        let mut e = key(&cols, &[to_value(c1), to_value(c2)]);
                        append_rowid(&mut e, rid(1, (n * 8 + m * 2 + copy) as u16));
                        index.insert(e, (c1, c2));
                    }
                }
            }
            for pred in preds {
                let (start, stop) = pred.range(&cols, &[Value::Int(5)]);
                let scanned: Vec<_> = index
                    .iter()
                    .filter(|(e, _)| in_range(e, &start, &stop))
                    .map(|(_, row)| *row)
                    .collect();
                let mut expected: Vec<_> = domain
                    .into_iter()
                    .filter(|c2| pred.matches(*c2))
                    .flat_map(|c2| [(Some(5), c2); 2])
                    .collect();
                // A scan returns them in index order.
                expected.sort_by(|x, y| compare_column(&cols[1], &to_value(x.1), &to_value(y.1)));
                assert_eq!(scanned, expected, "{pred:?} c1 {o1:?} c2 {o2:?}");
            }
        }
    }
}
