//! Unusable indexes and bulk rebuilds (claim C12): a load with an index
//! made unusable and rebuilt afterwards writes far less redo than one that
//! maintains the index row by row, and ends with the same index.

use std::ops::Bound::Unbounded;
use std::sync::Arc;

use blocklab::btree::key::Order;
use blocklab::storage::SimBackend;
use blocklab::{ColType, Column, Config, ConstraintSpec, Database, Error, Stat, Value};

fn cfg() -> Config {
    Config {
        block_size: 4096,
        background_writer: false,
        ..Config::default()
    }
}

fn setup(db: &Database) {
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("v", ColType::Text),
        ],
    )
    .unwrap();
    // The primary key is backed by a non-unique index ...
    s.create_index("t_id", "t", &[("id", Order::Asc)]).unwrap();
    s.add_constraint(
        "t",
        "t_pk",
        ConstraintSpec::PrimaryKey {
            columns: &["id"],
            index: "t_id",
        },
    )
    .unwrap();
    // ... and there is a secondary index to load around.
    s.create_index("t_v", "t", &[("v", Order::Desc)]).unwrap();
}

fn load(db: &Database, from: i64, n: i64) -> blocklab::StatsSnapshot {
    let mut s = db.session();
    let before = s.stats();
    for i in from..from + n {
        s.insert(
            "t",
            vec![
                Value::Int(i),
                Value::Text(format!("value {:06}", (i * 7919) % 100_000)),
            ],
        )
        .unwrap();
    }
    s.commit().unwrap();
    s.stats().diff(&before)
}

#[test]
fn unusable_plus_rebuild_costs_less_redo_than_maintaining_and_gives_the_same_index() {
    let maintained = {
        let be = SimBackend::new();
        let db = Database::open_with(Arc::new(be), cfg()).unwrap();
        setup(&db);
        load(&db, 0, 3000).get(Stat::RedoSize)
    };
    let be = SimBackend::new();
    let db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
    setup(&db);
    let mut s = db.session();
    s.alter_index_unusable("t_v").unwrap();
    // The unusable index cannot be read ...
    let e = s.index_scan("t_v", Unbounded, Unbounded).unwrap_err();
    assert!(e.to_string().contains("unusable"), "{e}");
    let loaded = load(&db, 0, 3000);
    // ... and is not maintained: only the primary key's index got entries.
    assert_eq!(loaded.get(Stat::IndexKeysInserted), 3000);
    let before = s.stats();
    s.rebuild_index("t_v").unwrap();
    let rebuild = s.stats().diff(&before).get(Stat::RedoSize);
    let bulk = loaded.get(Stat::RedoSize) + rebuild;
    assert!(
        bulk < maintained,
        "unusable + rebuild wrote {bulk} bytes of redo, maintaining the index {maintained}"
    );
    // The rebuilt index holds every row, in DESC order of v.
    let via = s.index_scan("t_v", Unbounded, Unbounded).unwrap();
    assert_eq!(via.len(), 3000);
    assert!(via
        .windows(2)
        .all(|w| w[0].1[1].to_string() >= w[1].1[1].to_string()));
    // It is maintained again, and it survives a crash (its blocks are in the redo).
    load(&db, 3000, 10);
    let crashed = be.crash();
    drop(s);
    std::mem::forget(db);
    let db = Database::open_with(Arc::new(crashed), cfg()).unwrap();
    let mut s = db.session();
    assert_eq!(
        s.index_scan("t_v", Unbounded, Unbounded).unwrap().len(),
        3010
    );
}

#[test]
fn an_unusable_index_that_enforces_a_key_refuses_dml_until_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    setup(&db);
    load(&db, 0, 100);
    let mut s = db.session();
    s.alter_index_unusable("t_id").unwrap();
    let e = s
        .insert("t", vec![Value::Int(500), Value::Null])
        .unwrap_err();
    assert!(e.to_string().contains("t_pk"), "{e}");
    s.rebuild_index("t_id").unwrap();
    s.insert("t", vec![Value::Int(500), Value::Null]).unwrap();
    assert!(matches!(
        s.insert("t", vec![Value::Int(500), Value::Null]),
        Err(Error::UniqueViolation { .. })
    ));
    s.commit().unwrap();
}
