//! Tests of the key format against a reference model: plain SQL
//! comparison of the values, written without bytes (`compare_values`).
//!
//! Property tests draw columns (type, ASC/DESC) and values, with the edge
//! cases (integer extremes, `-0.0`, NaNs, infinities, NUL characters, empty
//! text) drawn often, and check the invariants of the parent module's doc:
//! keys order like their values, decoding gives back the values as stored,
//! prefixes and `prefix_successor` bound exactly the matching entries, and
//! damaged bytes are rejected with a reason, never a panic. Worked examples
//! pin the bytes the module doc shows and its table of range recipes.

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
