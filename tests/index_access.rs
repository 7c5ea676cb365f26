//! Index range scans with matching and screening predicates (claim C15):
//! exact counters on a known shape, and index scans that always return what
//! a full scan with the same filter returns.

use std::collections::BTreeSet;

use blocklab::access::{CmpOp, Pred};
use blocklab::btree::key::Order;
use blocklab::operators::Access;
use blocklab::{ColType, Column, Config, Database, Stat, StatsSnapshot, Value};
use proptest::prelude::*;

fn index(name: &str, max_matching: Option<usize>) -> Access {
    Access::Index {
        name: name.into(),
        max_matching,
    }
}

fn eq(col: usize, v: i64) -> Pred {
    Pred::cmp(col, CmpOp::Eq, v)
}

fn between(col: usize, lo: i64, hi: i64) -> Pred {
    Pred::Between {
        col,
        low: Value::Int(lo),
        high: Value::Int(hi),
        negated: false,
    }
}

/// 100 rows (c1, c2) = (0..10) x (0..10), inserted in key order, ten rows
/// to a table block (the pad is sized for it: a block holds 90 bytes of
/// header and ITL plus ten rows of 4 + 773 bytes, not eleven), so the rows
/// with c1 = k fill table block k. Index (c1, c2): 100 entries of 35 bytes
/// fit in one leaf, which is the root.
fn known_shape() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        block_size: 8192,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg).unwrap();
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("c1", ColType::Integer),
            Column::new("c2", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    for c1 in 0..10 {
        for c2 in 0..10 {
            s.insert(
                "t",
                vec![Value::Int(c1), Value::Int(c2), Value::Text("p".repeat(750))],
            )
            .unwrap();
        }
    }
    s.commit().unwrap();
    s.create_index("t_c1_c2", "t", &[("c1", Order::Asc), ("c2", Order::Asc)])
        .unwrap();
    assert_eq!(
        db.segment_info("t").unwrap().1,
        11,
        "header + 10 table blocks"
    );
    (dir, db)
}

struct Measured {
    rows: usize,
    matching: usize,
    screening: usize,
    d: StatsSnapshot,
}

fn measure(db: &Database, pred: &Pred, access: Access) -> Measured {
    let mut s = db.session();
    let before = s.stats();
    let r = s.query("t", pred, access).unwrap();
    let d = s.stats().diff(&before);
    let plan = r.plan.unwrap();
    Measured {
        rows: r.rows.len(),
        matching: plan.matching_cols,
        screening: plan.screening_terms.len(),
        d,
    }
}

// ANCHOR: c15_cases
#[test]
fn the_five_c15_cases_read_exactly_what_matching_and_screening_predict() {
    let (_dir, db) = known_shape();
    let ix = || index("t_c1_c2", None);
    // (predicate, rows, matching cols, screening terms, entries examined,
    //  screened out, table fetches, table block gets, buffer pinned)
    let cases: Vec<(&str, Pred, [u64; 8])> = vec![
        // C1=3 AND C2=4: both matching; the range is the single entry (3,4).
        (
            "c1= c2=",
            Pred::And(vec![eq(0, 3), eq(1, 4)]),
            [1, 2, 0, 1, 0, 1, 1, 0],
        ),
        // C1=3 AND C2 BETWEEN 2 AND 5: both matching, the range is (3,2)..(3,5):
        // 4 entries, 4 fetches from table block 3: 1 get, then 3 pinned.
        (
            "c1= c2 range",
            Pred::And(vec![eq(0, 3), between(1, 2, 5)]),
            [4, 2, 0, 4, 0, 4, 1, 3],
        ),
        // C1 BETWEEN 3 AND 5 AND C2=4: c1 is the last matching column (a range);
        // the range is all 30 entries of c1 in 3..5, C2=4 screens out 27 of them;
        // the 3 survivors live in table blocks 3, 4, 5.
        (
            "c1 range c2=",
            Pred::And(vec![between(0, 3, 5), eq(1, 4)]),
            [3, 1, 1, 30, 27, 3, 3, 0],
        ),
        // C2=4 alone: no matching column, the whole leaf level (100 entries)
        // is walked, 90 screened out, 10 fetched from 10 different blocks.
        ("c2= only", eq(1, 4), [10, 0, 1, 100, 90, 10, 10, 0]),
        // C1=3 alone: one matching column, 10 entries, all in table block 3.
        ("c1= only", eq(0, 3), [10, 1, 0, 10, 0, 10, 1, 9]),
    ];
    for (name, pred, want) in cases {
        let m = measure(&db, &pred, ix());
        let got = [
            m.rows as u64,
            m.matching as u64,
            m.screening as u64,
            m.d.get(Stat::IndexEntriesExamined),
            m.d.get(Stat::IndexEntriesScreenedOut),
            m.d.get(Stat::TableFetchByRowid),
            m.d.get(Stat::TableBlockGetsByRowid),
            m.d.get(Stat::BufferIsPinned),
        ];
        assert_eq!(got, want, "case {name}");
        // One descent into a one-block index: the root is the leaf.
        assert_eq!(m.d.get(Stat::IndexDescents), 1, "case {name}");
        assert_eq!(m.d.get(Stat::IndexRootGets), 1, "case {name}");
        // Logical reads: the index block plus the table blocks visited.
        assert_eq!(m.d.get(Stat::ConsistentGets), 1 + want[6], "case {name}");
    }
    // NUM_INDEX_KEYS(1): C2=4 moves from matching to screening.
    let m = measure(
        &db,
        &Pred::And(vec![eq(0, 3), eq(1, 4)]),
        index("t_c1_c2", Some(1)),
    );
    assert_eq!((m.matching, m.screening), (1, 1));
    assert_eq!(m.d.get(Stat::IndexEntriesExamined), 10);
    assert_eq!(m.d.get(Stat::IndexEntriesScreenedOut), 9);
}
// ANCHOR_END: c15_cases

#[test]
fn an_index_only_scan_never_visits_the_table() {
    let (_dir, db) = known_shape();
    let mut s = db.session();
    let before = s.stats();
    let r = s
        .query(
            "t",
            &eq(0, 3),
            Access::IndexOnly {
                name: "t_c1_c2".into(),
            },
        )
        .unwrap();
    let d = s.stats().diff(&before);
    assert_eq!(r.rows.len(), 10);
    // The index columns come from the keys; the pad column is not there.
    assert!(r
        .rows
        .iter()
        .all(|(_, row)| row[0] == Value::Int(3) && row[2] == Value::Null));
    // The rows come back in index order: c2 ascending (no sort needed).
    let c2: Vec<i64> = r
        .rows
        .iter()
        .map(|(_, row)| row[1].as_int().unwrap())
        .collect();
    assert_eq!(c2, (0..10).collect::<Vec<_>>());
    assert_eq!(d.get(Stat::TableFetchByRowid), 0);
    assert_eq!(d.get(Stat::ConsistentGets), 1, "the one index block");
    // A predicate on a column outside the index cannot be checked there.
    let pad = Pred::cmp(2, CmpOp::Eq, "x");
    assert!(s
        .query(
            "t",
            &pad,
            Access::IndexOnly {
                name: "t_c1_c2".into()
            }
        )
        .is_err());
}

#[test]
fn an_in_list_descends_once_per_value() {
    let (_dir, db) = known_shape();
    let pred = Pred::And(vec![
        Pred::In {
            col: 0,
            values: vec![Value::Int(2), Value::Int(7), Value::Int(4)],
            negated: false,
        },
        eq(1, 5),
    ]);
    let m = measure(&db, &pred, index("t_c1_c2", None));
    assert_eq!((m.rows, m.matching), (3, 2));
    assert_eq!(m.d.get(Stat::IndexDescents), 3);
    assert_eq!(m.d.get(Stat::IndexEntriesExamined), 3);
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 6 => (0i64..8).prop_map(Value::Int)]
}

fn term() -> impl Strategy<Value = Pred> {
    let col = 0usize..3;
    prop_oneof![
        (col.clone(), 0usize..6, 0i64..8).prop_map(|(c, op, v)| {
            let op = [
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ][op];
            Pred::cmp(c, op, v)
        }),
        (col.clone(), 0i64..8, 0i64..8).prop_map(|(c, a, b)| between(c, a.min(b), a.max(b))),
        (col.clone(), prop::collection::vec(0i64..8, 1..4)).prop_map(|(c, vs)| Pred::In {
            col: c,
            values: vs.into_iter().map(Value::Int).collect(),
            negated: false,
        }),
        (col.clone(), any::<bool>()).prop_map(|(c, n)| Pred::IsNull { col: c, negated: n }),
        (col, 0i64..8, 0i64..8).prop_map(|(c, a, b)| Pred::Or(vec![eq(c, a), eq((c + 1) % 3, b)])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the predicates and the index's column order and directions,
    /// an index access returns exactly the rows a full scan returns.
    #[test]
    fn index_scans_return_exactly_what_a_full_scan_returns(
        rows in prop::collection::vec((value(), value(), value()), 0..150),
        orders in prop::collection::vec(any::<bool>(), 3),
        perm in 0usize..6,
        queries in prop::collection::vec(prop::collection::vec(term(), 1..4), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config { block_size: 2048, background_writer: false, ..Config::default() };
        let db = Database::open(dir.path(), cfg).unwrap();
        let mut s = db.session();
        s.create_table("t", &[
            Column::new("a", ColType::Integer),
            Column::new("b", ColType::Integer),
            Column::new("c", ColType::Integer),
        ]).unwrap();
        for (a, b, c) in &rows {
            s.insert("t", vec![a.clone(), b.clone(), c.clone()]).unwrap();
        }
        s.commit().unwrap();
        let names = ["a", "b", "c"];
        let order = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]][perm];
        let cols: Vec<(&str, Order)> = order
            .iter()
            .zip(&orders)
            .map(|(&c, &desc)| (names[c], if desc { Order::Desc } else { Order::Asc }))
            .collect();
        s.create_index("ix", "t", &cols).unwrap();
        for q in queries {
            let pred = Pred::And(q);
            let full: BTreeSet<_> = s.query("t", &pred, Access::Full).unwrap().rows.into_iter().map(|(r, _)| r).collect();
            // Every column is in the index, so index-only returns whole rows.
            let full_rows: Vec<_> = s.query("t", &pred, Access::Full).unwrap().rows;
            let mut only = s.query("t", &pred, Access::IndexOnly { name: "ix".into() }).unwrap().rows;
            only.sort_by_key(|(r, _)| *r);
            prop_assert_eq!(&only, &full_rows);
            for max in [None, Some(1)] {
                let via: Vec<_> = s.query("t", &pred, index("ix", max)).unwrap().rows.into_iter().map(|(r, _)| r).collect();
                let set: BTreeSet<_> = via.iter().copied().collect();
                prop_assert_eq!(set.len(), via.len(), "a row came back twice");
                prop_assert_eq!(&set, &full, "{:?} max {:?}", pred, max);
            }
        }
    }
}

fn text_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        6 => prop::sample::select(vec!["", "a", "ab", "abc", "abd", "b", "ba", "a%b", "\u{0}x"])
            .prop_map(|t| Value::Text(t.to_string())),
    ]
}

fn text_term() -> impl Strategy<Value = Pred> {
    prop_oneof![
        prop::sample::select(vec!["a%", "ab%", "%b", "a_", "b%", "", "%", "a%b%", "ab"]).prop_map(
            |p| Pred::Like {
                col: 0,
                pattern: p.to_string(),
                negated: false,
            }
        ),
        (0usize..6, text_value()).prop_map(|(op, v)| Pred::Cmp {
            col: 0,
            op: [
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge
            ][op],
            value: v,
        }),
        (text_value(), text_value()).prop_map(|(l, h)| Pred::Between {
            col: 0,
            low: l,
            high: h,
            negated: false,
        }),
        (0i64..4).prop_map(|v| eq(1, v)),
        (0i64..4, 0i64..4).prop_map(|(a, b)| between(1, a.min(b), a.max(b))),
        any::<bool>().prop_map(|n| Pred::IsNull { col: 0, negated: n }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same for TEXT keys with LIKE prefixes, ranges and BETWEEN, in
    /// either direction.
    #[test]
    fn text_and_like_predicates_through_an_index_match_a_full_scan(
        rows in prop::collection::vec((text_value(), prop_oneof![Just(Value::Null), (0i64..4).prop_map(Value::Int)]), 0..120),
        desc in any::<(bool, bool)>(),
        queries in prop::collection::vec(prop::collection::vec(text_term(), 1..3), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config { block_size: 2048, background_writer: false, ..Config::default() };
        let db = Database::open(dir.path(), cfg).unwrap();
        let mut s = db.session();
        s.create_table("t", &[Column::new("d", ColType::Text), Column::new("e", ColType::Integer)]).unwrap();
        for (d, e) in &rows {
            s.insert("t", vec![d.clone(), e.clone()]).unwrap();
        }
        s.commit().unwrap();
        let ord = |d: bool| if d { Order::Desc } else { Order::Asc };
        s.create_index("ix", "t", &[("d", ord(desc.0)), ("e", ord(desc.1))]).unwrap();
        for q in queries {
            let pred = Pred::And(q);
            let full: BTreeSet<_> = s.query("t", &pred, Access::Full).unwrap().rows.into_iter().map(|(r, _)| r).collect();
            for max in [None, Some(1)] {
                let via: Vec<_> = s.query("t", &pred, index("ix", max)).unwrap().rows.into_iter().map(|(r, _)| r).collect();
                let set: BTreeSet<_> = via.iter().copied().collect();
                prop_assert_eq!(set.len(), via.len(), "a row came back twice");
                prop_assert_eq!(&set, &full, "{:?} max {:?}", pred, max);
            }
        }
    }
}
