//! Constraints: each kind, the error it gives (naming the constraint), its
//! behaviour under concurrency, and what it costs in reads (claim C02).

use std::time::Duration;

use blocklab::access::{CmpOp, Pred};
use blocklab::btree::key::Order;
use blocklab::{ColType, Column, Config, ConstraintSpec, Database, Error, Stat, Value};

fn cfg() -> Config {
    Config {
        block_size: 4096,
        background_writer: false,
        lock_timeout: Duration::from_secs(10),
        ..Config::default()
    }
}

/// parent(id PK via a non-unique index), child(id, pid FK -> parent, qty CHECK qty >= 0).
fn schema(db: &Database) {
    let mut s = db.session();
    s.create_table(
        "parent",
        &[
            Column::new("id", ColType::Integer),
            Column::new("name", ColType::Text),
        ],
    )
    .unwrap();
    s.create_index("parent_id", "parent", &[("id", Order::Asc)])
        .unwrap();
    s.add_constraint(
        "parent",
        "parent_pk",
        ConstraintSpec::PrimaryKey {
            columns: &["id"],
            index: "parent_id",
        },
    )
    .unwrap();
    s.create_table(
        "child",
        &[
            Column::new("id", ColType::Integer).not_null(),
            Column::new("pid", ColType::Integer),
            Column::new("qty", ColType::Integer),
        ],
    )
    .unwrap();
    s.add_constraint(
        "child",
        "child_parent_fk",
        ConstraintSpec::ForeignKey {
            columns: &["pid"],
            parent: "parent",
            parent_index: "parent_id",
        },
    )
    .unwrap();
    s.add_constraint(
        "child",
        "qty_nonneg",
        ConstraintSpec::Check(Pred::cmp(2, CmpOp::Ge, 0i64)),
    )
    .unwrap();
}

fn p(id: i64) -> Vec<Value> {
    vec![Value::Int(id), Value::Text(format!("parent {id}"))]
}

fn c(id: i64, pid: i64, qty: i64) -> Vec<Value> {
    vec![Value::Int(id), Value::Int(pid), Value::Int(qty)]
}

#[test]
fn each_constraint_kind_rejects_a_bad_row_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    schema(&db);
    let mut s = db.session();
    s.insert("parent", p(1)).unwrap();
    s.insert("child", c(10, 1, 5)).unwrap();
    s.commit().unwrap();

    let e = s.insert("parent", p(1)).unwrap_err();
    assert!(
        matches!(&e, Error::UniqueViolation { constraint } if constraint == "parent_pk"),
        "{e}"
    );
    let e = s
        .insert("parent", vec![Value::Null, Value::Null])
        .unwrap_err();
    assert!(e.to_string().contains("parent_pk"), "{e}");
    let e = s.insert("child", c(11, 1, -1)).unwrap_err();
    assert!(
        matches!(&e, Error::CheckViolation { constraint } if constraint == "qty_nonneg"),
        "{e}"
    );
    let e = s
        .insert("child", vec![Value::Null, Value::Int(1), Value::Int(1)])
        .unwrap_err();
    assert!(
        e.to_string().contains("NOT NULL constraint on column id"),
        "{e}"
    );
    let e = s.insert("child", c(12, 99, 1)).unwrap_err();
    assert!(
        matches!(&e, Error::ForeignKeyViolation { constraint, .. } if constraint == "child_parent_fk"),
        "{e}"
    );
    // A NULL foreign key references nothing and is allowed.
    s.insert("child", vec![Value::Int(13), Value::Null, Value::Int(1)])
        .unwrap();
    // Deleting a referenced parent fails; once the child is gone it works.
    let parent_rowid = s.scan("parent").unwrap()[0].0;
    let e = s.delete("parent", parent_rowid).unwrap_err();
    assert!(
        matches!(&e, Error::ForeignKeyViolation { constraint, .. } if constraint == "child_parent_fk"),
        "{e}"
    );
    assert_eq!(
        s.delete_where("child", |r| r[1] == Value::Int(1)).unwrap(),
        1
    );
    s.delete("parent", parent_rowid).unwrap();
    // An update is checked like an insert.
    s.insert("parent", p(2)).unwrap();
    let r = s.insert("child", c(20, 2, 0)).unwrap();
    let e = s.update("child", r, c(20, 2, -5)).unwrap_err();
    assert!(matches!(e, Error::CheckViolation { .. }));
    s.commit().unwrap();

    // The constraints are in the catalog: they survive a reopen.
    drop(s);
    drop(db);
    let db = Database::open(dir.path(), cfg()).unwrap();
    let mut s = db.session();
    assert!(matches!(
        s.insert("parent", p(2)),
        Err(Error::UniqueViolation { .. })
    ));
    assert!(matches!(
        s.insert("child", c(30, 77, 1)),
        Err(Error::ForeignKeyViolation { .. })
    ));
}

#[test]
fn a_constraint_the_rows_do_not_satisfy_cannot_be_added() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    let mut s = db.session();
    s.create_table("t", &[Column::new("a", ColType::Integer)])
        .unwrap();
    s.create_index("t_a", "t", &[("a", Order::Asc)]).unwrap();
    for v in [1, 2, 2, -3] {
        s.insert("t", vec![Value::Int(v)]).unwrap();
    }
    s.commit().unwrap();
    let e = s
        .add_constraint(
            "t",
            "t_uk",
            ConstraintSpec::Unique {
                columns: &["a"],
                index: "t_a",
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::UniqueViolation { .. }), "{e}");
    let e = s
        .add_constraint(
            "t",
            "t_pos",
            ConstraintSpec::Check(Pred::cmp(0, CmpOp::Gt, 0i64)),
        )
        .unwrap_err();
    assert!(matches!(e, Error::CheckViolation { .. }), "{e}");
}

#[test]
fn an_insert_waits_for_an_uncommitted_duplicate_and_its_outcome_decides() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    schema(&db);
    for (commit, expect_violation) in [(true, true), (false, false)] {
        let id = if commit { 5 } else { 6 };
        let mut a = db.session();
        a.insert("parent", p(id)).unwrap();
        let waits_before = db.system_stats().get(Stat::LockWaits);
        let r = std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                let mut b = db.session();
                let r = b.insert("parent", p(id));
                let waits = b.stats().get(Stat::LockWaits);
                b.rollback().unwrap();
                (r.is_err(), waits)
            });
            until_someone_waits(&db, waits_before);
            if commit {
                a.commit().unwrap();
            } else {
                a.rollback().unwrap();
            }
            h.join().unwrap()
        });
        assert_eq!(r, (expect_violation, 1), "first session commits: {commit}");
    }
    // A key deleted by an uncommitted transaction is not free until it commits.
    let mut a = db.session();
    a.insert("parent", p(7)).unwrap();
    a.commit().unwrap();
    let rowid = a
        .scan("parent")
        .unwrap()
        .iter()
        .find(|(_, r)| r[0] == Value::Int(7))
        .unwrap()
        .0;
    a.delete("parent", rowid).unwrap();
    let waits_before = db.system_stats().get(Stat::LockWaits);
    let violated = std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            let mut b = db.session();
            let r = b.insert("parent", p(7));
            b.rollback().unwrap();
            r.is_err()
        });
        until_someone_waits(&db, waits_before);
        a.rollback().unwrap();
        h.join().unwrap()
    });
    assert!(
        violated,
        "the delete rolled back, so the key was taken after all"
    );
}

#[test]
fn key_and_foreign_key_constraints_cost_reads_check_and_not_null_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    schema(&db);
    let mut s = db.session();
    s.create_table(
        "plain",
        &[
            Column::new("id", ColType::Integer),
            Column::new("qty", ColType::Integer),
        ],
    )
    .unwrap();
    s.create_table(
        "checked",
        &[
            Column::new("id", ColType::Integer).not_null(),
            Column::new("qty", ColType::Integer),
        ],
    )
    .unwrap();
    s.add_constraint(
        "checked",
        "checked_qty",
        ConstraintSpec::Check(Pred::cmp(1, CmpOp::Ge, 0i64)),
    )
    .unwrap();
    for i in 0..50 {
        s.insert("parent", p(i)).unwrap();
    }
    s.commit().unwrap();
    let mut per_row = |table: &str, row: &dyn Fn(i64) -> Vec<Value>| {
        let before = s.stats();
        for i in 0..50 {
            s.insert(table, row(i)).unwrap();
        }
        s.commit().unwrap();
        let d = s.stats().diff(&before);
        (d.logical_reads(), d.get(Stat::IndexDescents))
    };
    let plain = per_row("plain", &|i| vec![Value::Int(i), Value::Int(1)]);
    let checked = per_row("checked", &|i| vec![Value::Int(i), Value::Int(1)]);
    let fk = per_row("child", &|i| c(1000 + i, i, 1));
    // NOT NULL and CHECK inspect the new row only: identical reads.
    assert_eq!(checked, plain);
    // Each child row looks its parent up: one descent of the parent's index per row.
    assert_eq!(fk.1, 50);
    assert!(
        fk.0 > plain.0 + 50,
        "FK reads {} vs plain {}",
        fk.0,
        plain.0
    );
    // A primary key probes its index before adding the entry: two descents per row.
    let before = s.stats();
    for i in 100..150 {
        s.insert("parent", p(i)).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(s.stats().diff(&before).get(Stat::IndexDescents), 100);
}

/// Waits until some session of `db` is waiting for a lock (the statistic
/// is counted as the wait begins), so a test orders its steps by what
/// happened, not by how long it slept.
fn until_someone_waits(db: &Database, before: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.system_stats().get(Stat::LockWaits) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "nobody started waiting"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_unique_index_is_an_index_with_a_constraint_of_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    let mut s = db.session();
    s.create_table(
        "u",
        &[
            Column::new("a", ColType::Integer),
            Column::new("b", ColType::Text),
        ],
    )
    .unwrap();
    s.insert("u", vec![Value::Int(1), Value::Null]).unwrap();
    s.insert("u", vec![Value::Int(1), Value::Null]).unwrap();
    s.commit().unwrap();
    // Duplicates already there: no index, no constraint.
    assert!(matches!(
        s.create_unique_index("u_a", "u", &[("a", Order::Asc)]),
        Err(Error::UniqueViolation { .. })
    ));
    assert!(s.drop_index("u_a").is_err(), "it was dropped again");
    s.delete_where("u", |_| true).unwrap();
    s.commit().unwrap();
    s.create_unique_index("u_a", "u", &[("a", Order::Asc)])
        .unwrap();
    s.insert("u", vec![Value::Int(1), Value::Null]).unwrap();
    let e = s.insert("u", vec![Value::Int(1), Value::Null]).unwrap_err();
    assert!(
        matches!(&e, Error::UniqueViolation { constraint } if constraint == "u_a"),
        "{e}"
    );
    // NULL keys are not equal to each other.
    s.insert("u", vec![Value::Null, Value::Null]).unwrap();
    s.insert("u", vec![Value::Null, Value::Null]).unwrap();
    assert!(s.drop_index("u_a").is_err(), "it enforces u_a");
}
