//! The B+tree against a model: random inserts, updates, deletes, commits,
//! rollbacks and crashes on a table with a composite index; the index always
//! returns exactly the model's rows in key order, full and range scans
//! agree, and a snapshot taken before a burst of splits still reads its
//! own state through the index.

use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::ops::RangeBounds;
use std::sync::Arc;

use blocklab::btree::key::Order;
use blocklab::storage::SimBackend;
use blocklab::{ColType, Column, Config, Database, RowId, Stat, Value};
use proptest::prelude::*;

fn cfg() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 96,
        log_file_size: 4 << 20,
        log_files: 3,
        undo_blocks: 256,
        background_writer: false,
        ..Config::default()
    }
}

fn setup(db: &Database) {
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("a", ColType::Integer),
            Column::new("b", ColType::Text),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    s.create_index("t_ab", "t", &[("a", Order::Asc), ("b", Order::Desc)])
        .unwrap();
    // A second index, on b alone, maintained by the same statements.
    s.create_index("t_b", "t", &[("b", Order::Asc)]).unwrap();
}

/// The model's rows in `t_b` order: b, then rowid.
fn expected_b(model: &BTreeMap<RowId, (i64, String)>) -> Vec<(i64, String)> {
    let mut v: Vec<(&String, RowId, i64)> = model.iter().map(|(r, (a, b))| (b, *r, *a)).collect();
    v.sort();
    v.into_iter().map(|(b, _, a)| (a, b.clone())).collect()
}

fn via_b(s: &mut blocklab::Session) -> Vec<(i64, String)> {
    s.index_scan("t_b", Unbounded, Unbounded)
        .unwrap()
        .into_iter()
        .map(|(_, r)| (r[0].as_int().unwrap(), r[1].to_string()))
        .collect()
}

/// Checkpoints and runs `verify`'s block rules over the data file image.
fn verify(db: &Database, be: &SimBackend) -> Vec<String> {
    db.checkpoint().unwrap();
    let (_, control) = blocklab::storage::ControlFile::open(be).unwrap();
    let bytes = be.current_bytes("data01.dbf").unwrap();
    blocklab::verify::verify_bytes(&bytes, control)
        .corrupt
        .iter()
        .map(|c| format!("{c:?}"))
        .collect()
}

fn row(a: i64, b: &str) -> Vec<Value> {
    vec![
        Value::Int(a),
        Value::Text(b.to_string()),
        Value::Text("p".repeat(40)),
    ]
}

/// The model's rows in index order: a ASC, b DESC, then rowid.
fn expected(
    model: &BTreeMap<RowId, (i64, String)>,
    lo: Bound<i64>,
    hi: Bound<i64>,
) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String, RowId)> = model
        .iter()
        .filter(|(_, (a, _))| (lo, hi).contains(a))
        .map(|(r, (a, b))| (*a, b.clone(), *r))
        .collect();
    v.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
    v.into_iter().map(|(a, b, _)| (a, b)).collect()
}

fn via_index(s: &mut blocklab::Session, lo: Bound<i64>, hi: Bound<i64>) -> Vec<(i64, String)> {
    let l = lo.map(|v| vec![Value::Int(v)]);
    let h = hi.map(|v| vec![Value::Int(v)]);
    s.index_scan(
        "t_ab",
        l.as_ref().map(|v| v.as_slice()),
        h.as_ref().map(|v| v.as_slice()),
    )
    .unwrap()
    .into_iter()
    .map(|(_, r)| (r[0].as_int().unwrap(), r[1].to_string()))
    .collect()
}

#[derive(Clone, Debug)]
enum Step {
    Insert(i64, u8),
    Update(usize, i64),
    Delete(usize),
    Commit,
    Rollback,
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0i64..50, 0u8..20).prop_map(|(a, b)| Step::Insert(a, b)),
        2 => (any::<usize>(), 0i64..50).prop_map(|(i, a)| Step::Update(i, a)),
        2 => any::<usize>().prop_map(Step::Delete),
        2 => Just(Step::Commit),
        1 => Just(Step::Rollback),
        1 => Just(Step::Crash),
    ]
}

// ANCHOR: btree_model
proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_index_always_equals_the_model(steps in prop::collection::vec(step(), 1..120)) {
        let mut be = SimBackend::new();
        let mut db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
        setup(&db);
        let mut s = db.session();
        let mut committed: BTreeMap<RowId, (i64, String)> = BTreeMap::new();
        let mut current = committed.clone();
        for st in steps {
            match st {
                Step::Insert(a, b) => {
                    // Long text values make keys big, so leaves split often.
                    let b = format!("{b:02}{}", "x".repeat(60));
                    let r = s.insert("t", row(a, &b)).unwrap();
                    current.insert(r, (a, b));
                }
                Step::Update(i, a) if !current.is_empty() => {
                    let (&r, (_, b)) = current.iter().nth(i % current.len()).unwrap();
                    let b = b.clone();
                    let nr = s.update("t", r, row(a, &b)).unwrap();
                    current.remove(&r);
                    current.insert(nr, (a, b));
                }
                Step::Delete(i) if !current.is_empty() => {
                    let &r = current.keys().nth(i % current.len()).unwrap();
                    s.delete("t", r).unwrap();
                    current.remove(&r);
                }
                Step::Commit => {
                    s.commit().unwrap();
                    committed = current.clone();
                }
                Step::Rollback => {
                    s.rollback().unwrap();
                    current = committed.clone();
                }
                Step::Crash => {
                    let crashed = be.crash();
                    drop(s);
                    std::mem::forget(db);
                    be = crashed;
                    db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
                    s = db.session();
                    current = committed.clone();
                }
                _ => {}
            }
            prop_assert_eq!(via_index(&mut s, Unbounded, Unbounded), expected(&current, Unbounded, Unbounded));
            // Another session sees only committed rows, through the index too.
            let mut other = db.session();
            prop_assert_eq!(via_index(&mut other, Unbounded, Unbounded), expected(&committed, Unbounded, Unbounded));
            for (lo, hi) in [(Included(10), Excluded(20)), (Excluded(5), Included(5)), (Included(42), Unbounded)] {
                prop_assert_eq!(via_index(&mut s, lo, hi), expected(&current, lo, hi));
            }
            prop_assert_eq!(via_b(&mut s), expected_b(&current));
        }
        // Every block passes verify's structural rules at the end.
        let bad = verify(&db, &be);
        prop_assert!(bad.is_empty(), "{:?}", bad);
    }
}
// ANCHOR_END: btree_model

#[test]
fn a_snapshot_reads_its_state_through_an_index_while_others_split_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    setup(&db);
    let mut w = db.session();
    for a in 0..40 {
        w.insert("t", row(a, "before")).unwrap();
    }
    w.commit().unwrap();
    let q = db.current_scn();
    let mut reader = db.session();
    reader
        .set_isolation(blocklab::Isolation::Serializable)
        .unwrap();
    let seen = via_index(&mut reader, Unbounded, Unbounded);
    assert_eq!(seen.len(), 40);
    // Many committed inserts: leaf and branch splits under the reader.
    let splits_before = db.system_stats().get(Stat::LeafNodeSplits);
    for a in 0..600 {
        w.insert("t", row(a % 40, &format!("after{a:04}{}", "y".repeat(50))))
            .unwrap();
        if a % 50 == 49 {
            w.commit().unwrap();
        }
    }
    w.commit().unwrap();
    assert!(db.system_stats().get(Stat::LeafNodeSplits) > splits_before + 10);
    // The serializable reader still sees exactly its snapshot ...
    assert_eq!(via_index(&mut reader, Unbounded, Unbounded), seen);
    assert_eq!(via_index(&mut reader, Included(10), Excluded(12)).len(), 2);
    // ... and a new reader sees everything.
    assert_eq!(
        via_index(&mut db.session(), Unbounded, Unbounded).len(),
        640
    );
    let _ = q;
}

#[test]
fn ascending_and_descending_keys_split_without_exhausting_the_itl() {
    // Each split makes a new rightmost node; ascending keys split that node
    // again and again, so what it inherits must not pile up.
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    let mut s = db.session();
    s.create_table("seq", &[Column::new("id", ColType::Integer)])
        .unwrap();
    s.create_index("seq_id", "seq", &[("id", Order::Asc)])
        .unwrap();
    s.create_index("seq_id_desc", "seq", &[("id", Order::Desc)])
        .unwrap();
    for i in 0..20_000 {
        s.insert("seq", vec![Value::Int(i)]).unwrap();
        if i % 500 == 499 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    assert!(db.system_stats().get(Stat::LeafNodeSplits) > 100);
    let all = s.index_scan("seq_id", Unbounded, Unbounded).unwrap();
    assert_eq!(all.len(), 20_000);
    assert!(all
        .windows(2)
        .all(|w| w[0].1[0].as_int() < w[1].1[0].as_int()));
    let all = s.index_scan("seq_id_desc", Unbounded, Unbounded).unwrap();
    assert!(all
        .windows(2)
        .all(|w| w[0].1[0].as_int() > w[1].1[0].as_int()));
    // Every block of the closed database passes verify's structural rules
    // (index entries in order and within their fences among them).
    drop(s);
    drop(db);
    let report = blocklab::verify::verify_dir(dir.path()).unwrap();
    assert!(report.corrupt.is_empty(), "{:?}", report.corrupt);
}

#[test]
fn a_snapshot_does_not_see_a_transaction_whose_inserts_straddle_a_split() {
    // The writer's first keys go into a leaf, a split (its own committed
    // system transaction) moves some of them right, and more keys follow:
    // a reader from before all of it must take the block's changes back in
    // the order they were made, or the split's undo would put the writer's
    // early keys back.
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    setup(&db);
    let mut w = db.session();
    for a in 0..10 {
        w.insert("t", row(a, &format!("{a:02}{}", "k".repeat(40))))
            .unwrap();
    }
    w.commit().unwrap();
    let mut reader = db.session();
    reader
        .set_isolation(blocklab::Isolation::Serializable)
        .unwrap();
    let only = |s: &mut blocklab::Session| {
        s.query(
            "t",
            &blocklab::access::Pred::And(vec![]),
            blocklab::operators::Access::IndexOnly {
                name: "t_ab".into(),
            },
        )
        .unwrap()
        .rows
        .len()
    };
    assert_eq!(only(&mut reader), 10);
    let splits = db.system_stats().get(Stat::LeafNodeSplits);
    for a in 10..80 {
        w.insert("t", row(a % 20, &format!("{a:02}{}", "k".repeat(40))))
            .unwrap();
    }
    w.commit().unwrap();
    assert!(
        db.system_stats().get(Stat::LeafNodeSplits) > splits,
        "the writer's inserts split leaves"
    );
    assert_eq!(
        only(&mut reader),
        10,
        "the reader's snapshot holds 10 index entries"
    );
    assert_eq!(only(&mut db.session()), 80);
}
