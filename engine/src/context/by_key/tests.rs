//! `lookup_pk` and `range_pk` against SQL on the same rows (same rows,
//! same block work) and against a `BTreeMap` model.

use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::stats::{Stat, StatsSnapshot};
use crate::storage::SimBackend;
use crate::value::Value;
use crate::{Config, Database, Error, Session};

fn db() -> Database {
    Database::open_with(Arc::new(SimBackend::new()), Config::default()).unwrap()
}

/// `n` rows (id, id * 10, 'row<id>') in a table with a primary key on id,
/// committed, then read once whole through the index so that every block
/// is cleaned out and cached: what is measured afterwards is the access
/// alone, with no delayed cleanout in it.
fn keyed_table(s: &mut Session, n: i64) {
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, v TEXT)")
        .unwrap();
    let p = s.prepare("INSERT INTO t VALUES (?, ?, ?)").unwrap();
    let rows: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(i * 10),
                Value::Text(format!("row{i}")),
            ]
        })
        .collect();
    s.execute_array(&p, &rows).unwrap();
    s.commit().unwrap();
    assert_eq!(
        s.range_pk("t", Unbounded, Unbounded).unwrap().len(),
        n as usize
    );
    s.execute("SELECT * FROM t").unwrap();
}

/// The statistics of the access itself: what a typed call and the same
/// query through SQL must both count, exactly.
const ACCESS: [Stat; 11] = [
    Stat::ConsistentGets,
    Stat::DbBlockGets,
    Stat::IndexDescents,
    Stat::IndexRootGets,
    Stat::IndexBranchGets,
    Stat::IndexLeafGets,
    Stat::IndexEntriesExamined,
    Stat::TableBlockGetsByRowid,
    Stat::TableFetchByRowid,
    Stat::BufferIsPinned,
    Stat::RowsProcessed,
];

fn access(d: &StatsSnapshot) -> Vec<(&'static str, u64)> {
    ACCESS.iter().map(|&s| (s.name(), d.get(s))).collect()
}

/// Runs `f` and returns what it did to the session's statistics.
fn measured<T>(s: &mut Session, f: impl FnOnce(&mut Session) -> T) -> (T, StatsSnapshot) {
    let before = s.stats();
    let r = f(s);
    (r, s.stats().diff(&before))
}

#[test]
fn lookup_by_primary_key_finds_the_row_sql_finds_with_the_same_gets() {
    let db = db();
    let mut s = db.session();
    // 3,000 rows: the key's index has a root branch over its leaves.
    keyed_table(&mut s, 3000);
    let sql = s.prepare("SELECT * FROM t WHERE id = :1").unwrap();
    for k in [0i64, 1234, 2999] {
        let (typed, t) = measured(&mut s, |s| s.lookup_pk("t", &[Value::Int(k)]).unwrap());
        let (by_sql, q) = measured(&mut s, |s| {
            s.execute_prepared(&sql, &[Value::Int(k)]).unwrap()
        });
        assert_eq!(typed.as_ref(), by_sql.rows.first(), "key {k}");
        assert_eq!(by_sql.rows.len(), 1);
        assert_eq!(access(&t), access(&q), "key {k}");
        // 1 root (a branch) + 1 leaf + 1 table block; one entry examined.
        assert_eq!(t.get(Stat::ConsistentGets), 3, "key {k}");
        assert_eq!(t.get(Stat::IndexRootGets), 1);
        assert_eq!(t.get(Stat::IndexLeafGets), 1);
        assert_eq!(t.get(Stat::IndexEntriesExamined), 1);
        assert_eq!(t.get(Stat::TableBlockGetsByRowid), 1);
        // The typed call is one user call and no SQL call: no parse, no
        // execute, no fetch.
        assert_eq!(t.get(Stat::UserCalls), 1);
        assert_eq!(t.get(Stat::ExecuteCount), 0);
        assert_eq!(t.get(Stat::FetchCalls), 0);
        assert_eq!(t.get(Stat::ParseCountTotal), 0);
    }
    // A key that is not there: the same descent, no table visit.
    let (none, t) = measured(&mut s, |s| s.lookup_pk("t", &[Value::Int(5000)]).unwrap());
    let (by_sql, q) = measured(&mut s, |s| {
        s.execute_prepared(&sql, &[Value::Int(5000)]).unwrap()
    });
    assert_eq!(none, None);
    assert!(by_sql.rows.is_empty());
    assert_eq!(access(&t), access(&q));
    assert_eq!(
        t.get(Stat::ConsistentGets),
        2,
        "root + leaf, no table block"
    );
}

#[test]
fn a_primary_key_range_finds_the_rows_sql_finds_with_the_same_gets() {
    let db = db();
    let mut s = db.session();
    keyed_table(&mut s, 3000);
    let sql = s
        .prepare("SELECT * FROM t WHERE id >= :1 AND id < :2")
        .unwrap();
    let (typed, t) = measured(&mut s, |s| {
        s.range_pk(
            "t",
            Included(&[Value::Int(1000)]),
            Excluded(&[Value::Int(2000)]),
        )
        .unwrap()
    });
    let (by_sql, q) = measured(&mut s, |s| {
        s.execute_prepared(&sql, &[Value::Int(1000), Value::Int(2000)])
            .unwrap()
    });
    assert_eq!(typed.len(), 1000);
    assert_eq!(typed, by_sql.rows);
    assert_eq!(typed[0][0], Value::Int(1000));
    assert_eq!(access(&t), access(&q));
    // One descent; every row fetched by rowid, a new table block costing a
    // get and the rows after it in the same block pinned.
    assert_eq!(t.get(Stat::IndexDescents), 1);
    assert_eq!(t.get(Stat::IndexEntriesExamined), 1000);
    assert_eq!(t.get(Stat::TableFetchByRowid), 1000);
    assert_eq!(
        t.get(Stat::TableBlockGetsByRowid) + t.get(Stat::BufferIsPinned),
        1000
    );
    assert_eq!(
        t.get(Stat::ConsistentGets),
        t.get(Stat::IndexRootGets)
            + t.get(Stat::IndexBranchGets)
            + t.get(Stat::IndexLeafGets)
            + t.get(Stat::TableBlockGetsByRowid)
    );
    assert_eq!(t.get(Stat::UserCalls), 1);
    assert_eq!(t.get(Stat::RowsProcessed), 1000);
}

#[test]
fn bounds_are_key_prefixes_inclusive_or_exclusive() {
    let db = db();
    let mut s = db.session();
    s.execute("CREATE TABLE c (a INTEGER, b TEXT, x REAL, PRIMARY KEY (a, b))")
        .unwrap();
    for (a, b) in [(1, "x"), (1, "y"), (2, "x"), (2, "z"), (3, "a")] {
        s.execute_with(
            "INSERT INTO c VALUES (?, ?, 0.5)",
            &[Value::Int(a), Value::Text(b.into())],
        )
        .unwrap();
    }
    let keys = |rows: Vec<Vec<Value>>| -> Vec<(i64, String)> {
        rows.into_iter()
            .map(|r| match (&r[0], &r[1]) {
                (Value::Int(a), Value::Text(b)) => (*a, b.clone()),
                _ => panic!("{r:?}"),
            })
            .collect()
    };
    let one = [Value::Int(1)];
    let two = [Value::Int(2)];
    let two_x = [Value::Int(2), Value::Text("x".into())];
    let mut range =
        |lo: Bound<&[Value]>, hi: Bound<&[Value]>| keys(s.range_pk("c", lo, hi).unwrap());
    // Every row with a = 2: the prefix (2) included at both ends.
    assert_eq!(
        range(Included(&two), Included(&two)),
        [(2, "x".into()), (2, "z".into())]
    );
    // After every a = 1 up to, not including, (2, 'x').
    assert_eq!(range(Excluded(&one), Excluded(&two_x)), []);
    assert_eq!(range(Excluded(&one), Included(&two_x)), [(2, "x".into())]);
    assert_eq!(range(Unbounded, Excluded(&two)).len(), 2);
    assert_eq!(range(Excluded(&two), Unbounded), [(3, "a".into())]);
    assert_eq!(
        s.lookup_pk("c", &[Value::Int(2), Value::Text("z".into())])
            .unwrap(),
        Some(vec![
            Value::Int(2),
            Value::Text("z".into()),
            Value::Real(0.5)
        ])
    );
    // A lookup names the whole key.
    assert!(matches!(
        s.lookup_pk("c", &[Value::Int(2)]),
        Err(Error::ValueCount {
            values: 1,
            columns: 2,
            ..
        })
    ));
}

#[test]
fn wrong_keys_and_tables_without_a_primary_key_are_errors() {
    let db = db();
    let mut s = db.session();
    s.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, r REAL)")
        .unwrap();
    s.execute("CREATE TABLE r (id REAL PRIMARY KEY)").unwrap();
    s.execute("CREATE TABLE h (id INTEGER)").unwrap();
    s.execute("CREATE INDEX h_id ON h (id)").unwrap();
    s.execute("INSERT INTO r VALUES (2)").unwrap();
    let e = s.lookup_pk("h", &[Value::Int(1)]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NoSuchObject {
                kind: "primary key on table",
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(
        s.range_pk("h", Unbounded, Unbounded),
        Err(Error::NoSuchObject { .. })
    ));
    assert!(matches!(
        s.lookup_pk("nope", &[Value::Int(1)]),
        Err(Error::NoSuchObject { kind: "table", .. })
    ));
    assert!(matches!(
        s.lookup_pk("k", &[]),
        Err(Error::ValueCount {
            values: 0,
            columns: 1,
            ..
        })
    ));
    assert!(matches!(
        s.lookup_pk("k", &[Value::Int(1), Value::Int(2)]),
        Err(Error::ValueCount {
            values: 2,
            columns: 1,
            ..
        })
    ));
    assert!(matches!(
        s.range_pk("k", Included(&[Value::Int(1), Value::Int(2)]), Unbounded),
        Err(Error::ValueCount { values: 2, .. })
    ));
    assert!(matches!(
        s.range_pk("k", Unbounded, Excluded(&[])),
        Err(Error::ValueCount { values: 0, .. })
    ));
    for bad in [Value::Text("1".into()), Value::Real(1.0), Value::Null] {
        let e = s.lookup_pk("k", std::slice::from_ref(&bad)).unwrap_err();
        assert!(matches!(e, Error::InvalidRow { .. }), "{bad:?}: {e}");
        let e = s
            .range_pk("k", Unbounded, Included(std::slice::from_ref(&bad)))
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRow { .. }), "{bad:?}: {e}");
    }
    // An INTEGER for a REAL key finds the REAL it equals, as SQL's would.
    assert_eq!(
        s.lookup_pk("r", &[Value::Int(2)]).unwrap(),
        Some(vec![Value::Real(2.0)])
    );
    // Errors leave the session usable and count as calls, not as rows.
    assert_eq!(s.lookup_pk("k", &[Value::Int(1)]).unwrap(), None);
}

#[test]
fn a_session_sees_its_own_uncommitted_rows_and_not_others() {
    let db = db();
    let mut s = db.session();
    let mut other = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    s.execute("INSERT INTO t VALUES (1, 'one')").unwrap();
    assert!(s.lookup_pk("t", &[Value::Int(1)]).unwrap().is_some());
    assert!(other.lookup_pk("t", &[Value::Int(1)]).unwrap().is_none());
    s.commit().unwrap();
    s.execute("DELETE FROM t WHERE id = 1").unwrap();
    assert!(s.lookup_pk("t", &[Value::Int(1)]).unwrap().is_none());
    assert_eq!(other.range_pk("t", Unbounded, Unbounded).unwrap().len(), 1);
}

#[derive(Clone, Debug)]
enum Op {
    Insert(i64),
    Delete(i64),
    Commit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..400).prop_map(Op::Insert),
        2 => (0i64..400).prop_map(Op::Delete),
        1 => Just(Op::Commit),
    ]
}

fn bound() -> impl Strategy<Value = Bound<i64>> {
    prop_oneof![
        1 => Just(Unbounded),
        3 => (-5i64..405).prop_map(Included),
        3 => (-5i64..405).prop_map(Excluded),
    ]
}

fn as_values(b: &Bound<i64>) -> Bound<Vec<Value>> {
    match b {
        Included(k) => Included(vec![Value::Int(*k)]),
        Excluded(k) => Excluded(vec![Value::Int(*k)]),
        Unbounded => Unbounded,
    }
}

fn borrowed(b: &Bound<Vec<Value>>) -> Bound<&[Value]> {
    match b {
        Included(v) => Included(v.as_slice()),
        Excluded(v) => Excluded(v.as_slice()),
        Unbounded => Unbounded,
    }
}

/// After any mix of inserts, deletes and commits (some changes still
/// uncommitted, which the session sees as its own), every range and every
/// lookup returns what a `BTreeMap` of the same keys holds. One database
/// for every case (opening one costs more than a case), a new table each;
/// 2 KiB blocks so that 400 keys take several leaves under a root branch.
#[test]
fn range_pk_agrees_with_a_btreemap() {
    let cfg = Config {
        block_size: 2048,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).unwrap();
    let s = std::cell::RefCell::new(db.session());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    });
    let strategy = (
        proptest::collection::vec(op(), 1..300),
        proptest::collection::vec((bound(), bound()), 1..8),
    );
    runner
        .run(&strategy, |(ops, ranges)| {
            let s = &mut *s.borrow_mut();
            s.execute("CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT)")
                .unwrap();
            let r = model_case(s, &ops, &ranges);
            s.rollback().unwrap();
            s.execute("DROP TABLE m").unwrap();
            r
        })
        .unwrap();
}

fn model_case(
    s: &mut Session,
    ops: &[Op],
    ranges: &[(Bound<i64>, Bound<i64>)],
) -> Result<(), TestCaseError> {
    let mut model: BTreeMap<i64, String> = BTreeMap::new();
    for op in ops {
        match *op {
            Op::Insert(k) => {
                let v = format!("v{k}");
                let r = s.insert("m", vec![Value::Int(k), Value::Text(v.clone())]);
                match model.entry(k) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        let unique = matches!(r, Err(Error::UniqueViolation { .. }));
                        prop_assert!(unique, "duplicate key {} inserted", k);
                    }
                    std::collections::btree_map::Entry::Vacant(e) => {
                        r.unwrap();
                        e.insert(v);
                    }
                }
            }
            Op::Delete(k) => {
                let n = s
                    .execute_with("DELETE FROM m WHERE k = ?", &[Value::Int(k)])
                    .unwrap()
                    .affected;
                prop_assert_eq!(n, Some(model.remove(&k).is_some() as u64));
            }
            Op::Commit => s.commit().unwrap(),
        }
    }
    for (lo, hi) in ranges {
        let (lv, hv) = (as_values(lo), as_values(hi));
        let got = s.range_pk("m", borrowed(&lv), borrowed(&hv)).unwrap();
        // BTreeMap::range panics on an inverted range (or an empty one
        // excluded at both ends); the typed call returns no rows.
        let inverted = match (lo, hi) {
            (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a >= b,
            _ => false,
        };
        let row = |(k, v): (&i64, &String)| vec![Value::Int(*k), Value::Text(v.clone())];
        let want: Vec<Vec<Value>> = match (lo, hi) {
            // lo == hi, both included, is the one key.
            (Included(a), Included(b)) if a == b => {
                model.get_key_value(a).map(row).into_iter().collect()
            }
            _ if inverted => Vec::new(),
            _ => model.range((*lo, *hi)).map(row).collect(),
        };
        prop_assert_eq!(got, want, "range {:?}..{:?}", lo, hi);
        if let Included(k) | Excluded(k) = lo {
            let row = s.lookup_pk("m", &[Value::Int(*k)]).unwrap();
            prop_assert_eq!(
                row.map(|r| r[1].clone()),
                model.get(k).map(|v| Value::Text(v.clone()))
            );
        }
    }
    Ok(())
}
