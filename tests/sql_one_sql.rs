//! One SQL statement instead of a loop (issue 15 item 5): UPDATE and
//! DELETE with correlated subqueries (`o.k` reads the row being changed;
//! `SET (a, b) = (SELECT x, y …)`), UPDATE and DELETE through a join view
//! (only a key-preserved table, else ORA-01779), and MERGE (ORA-30926 for a
//! target row matched twice, ORA-38104 for a SET of an ON column).
//!
//! The counters asserted are the reference table's visits: the
//! traditional correlated UPDATE probes `ref` once for its WHERE EXISTS
//! and once more for its SET, the join view and MERGE read it once.

use std::sync::Arc;

use blocklab::stats::Stat;
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error, Session, Value};

use Value::{Int, Null};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).rows
}

/// `orders` (6 rows) and the reference table `ref` (4 rows, PRIMARY KEY
/// id); order 5 points at no reference row, order 6 at none (NULL):
///
/// | orders.id | ref_id | status |    | ref.id | new_status | note |
/// |-----------|--------|--------|    |--------|------------|------|
/// | 1         | 4      | new    |    | 1      | open       | a    |
/// | 2         | 3      | new    |    | 2      | paid       | b    |
/// | 3         | 2      | new    |    | 3      | sent       | c    |
/// | 4         | 1      | new    |    | 4      | done       | d    |
/// | 5         | 9      | new    |
/// | 6         | NULL   | new    |
fn db() -> (Database, Session) {
    let cfg = Config {
        log_file_size: 1 << 22,
        log_files: 3,
        undo_blocks: 256,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, ref_id INTEGER, status TEXT, note TEXT)",
        "CREATE TABLE ref (id INTEGER PRIMARY KEY, new_status TEXT, note TEXT)",
        "CREATE TABLE ref_nokey (id INTEGER, new_status TEXT)",
        "INSERT INTO orders VALUES (1, 4, 'new', NULL), (2, 3, 'new', NULL), (3, 2, 'new', NULL), \
         (4, 1, 'new', NULL), (5, 9, 'new', NULL), (6, NULL, 'new', NULL)",
        "INSERT INTO ref VALUES (1, 'open', 'a'), (2, 'paid', 'b'), (3, 'sent', 'c'), (4, 'done', 'd')",
        "INSERT INTO ref_nokey SELECT id, new_status FROM ref",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    s.commit().unwrap();
    (db, s)
}

/// The orders after an update from `ref`: 1-4 take their reference
/// row's status, 5 and 6 (no reference row) keep theirs.
fn updated() -> Vec<Vec<Value>> {
    vec![
        vec![Int(1), text("done")],
        vec![Int(2), text("sent")],
        vec![Int(3), text("paid")],
        vec![Int(4), text("open")],
        vec![Int(5), text("new")],
        vec![Int(6), text("new")],
    ]
}

fn statuses(s: &mut Session) -> Vec<Vec<Value>> {
    rows(s, "SELECT id, status FROM orders ORDER BY id")
}

#[test]
fn a_correlated_update_reads_the_row_being_updated_through_its_alias() {
    let (_db, mut s) = db();
    let r = s
        .execute(
            "UPDATE orders o SET status = (SELECT r.new_status FROM ref r WHERE r.id = o.ref_id) \
             WHERE EXISTS (SELECT 1 FROM ref r WHERE r.id = o.ref_id)",
        )
        .unwrap();
    assert_eq!(r.affected, Some(4));
    assert_eq!(statuses(&mut s), updated());
    // The reference table is visited twice per order: one PRIMARY KEY
    // descent for WHERE EXISTS on each of the 5 orders with a ref_id (a
    // NULL ref_id matches nothing and probes nothing), then one more for
    // the SET of each of the 4 rows that exist.
    assert_eq!(r.stats.get(Stat::IndexDescents), 5 + 4, "{:?}", r.stats);
}

#[test]
fn an_alias_qualified_column_is_the_target_s_even_when_the_subquery_table_has_one_of_that_name() {
    let (_db, mut s) = db();
    // o.id is orders.id, not ref.id: order n takes ref n's status.
    s.execute(
        "UPDATE orders o SET status = (SELECT r.new_status FROM ref r WHERE r.id = o.id) \
         WHERE o.id <= 4",
    )
    .unwrap();
    assert_eq!(
        rows(
            &mut s,
            "SELECT status FROM orders WHERE id <= 4 ORDER BY id"
        ),
        vec![
            vec![text("open")],
            vec![text("paid")],
            vec![text("sent")],
            vec![text("done")]
        ]
    );
}

#[test]
fn set_a_column_list_from_one_subquery_runs_it_once_per_row() {
    let (_db, mut s) = db();
    let r = s
        .execute(
            "UPDATE orders o SET (status, note) = (SELECT r.new_status, r.note FROM ref r \
             WHERE r.id = o.ref_id) WHERE o.id IN (1, 2)",
        )
        .unwrap();
    assert_eq!(r.affected, Some(2));
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, status, note FROM orders WHERE id <= 3 ORDER BY id"
        ),
        vec![
            vec![Int(1), text("done"), text("d")],
            vec![Int(2), text("sent"), text("c")],
            vec![Int(3), text("new"), Null],
        ]
    );
    // One PRIMARY KEY descent of ref per updated row, not one per column.
    let probes = r.stats.get(Stat::IndexDescents);
    assert_eq!(probes, 2 + 2, "{:?}", r.stats); // 2 for orders' IN list, 2 for ref
                                                // With no row, the columns become NULL (Oracle's rule).
    s.execute(
        "UPDATE orders o SET (status, note) = (SELECT r.new_status, r.note FROM ref r \
         WHERE r.id = o.ref_id) WHERE o.id = 5",
    )
    .unwrap();
    assert_eq!(
        rows(&mut s, "SELECT status, note FROM orders WHERE id = 5"),
        vec![vec![Null, Null]]
    );
}

#[test]
fn a_correlated_delete_removes_the_orders_without_a_reference_row() {
    let (_db, mut s) = db();
    let r = s
        .execute(
            "DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM ref r WHERE r.id = o.ref_id)",
        )
        .unwrap();
    assert_eq!(r.affected, Some(2));
    assert_eq!(
        rows(&mut s, "SELECT id FROM orders ORDER BY id"),
        vec![vec![Int(1)], vec![Int(2)], vec![Int(3)], vec![Int(4)]]
    );
}

const VIEW: &str = "(SELECT o.status, r.new_status FROM orders o JOIN ref r ON r.id = o.ref_id)";

#[test]
fn an_update_through_a_join_view_changes_the_key_preserved_table_in_one_join() {
    let (_db, mut s) = db();
    let r = s
        .execute(&format!("UPDATE {VIEW} SET status = new_status"))
        .unwrap();
    assert_eq!(r.affected, Some(4));
    assert_eq!(r.stats.get(Stat::RowsProcessed), 4);
    assert_eq!(statuses(&mut s), updated());
    // ref is read once: at most one descent per order (nested loops), none
    // with a hash join; never the correlated UPDATE's two.
    assert!(r.stats.get(Stat::IndexDescents) <= 6, "{:?}", r.stats);
    // The change is a transaction's like any other.
    s.rollback().unwrap();
    assert!(statuses(&mut s).iter().all(|r| r[1] == text("new")));
}

#[test]
fn a_join_view_s_where_clause_names_the_view_s_columns() {
    let (_db, mut s) = db();
    let r = s
        .execute(&format!(
            "UPDATE {VIEW} v SET status = new_status WHERE new_status IN ('open', 'done')"
        ))
        .unwrap();
    assert_eq!(r.affected, Some(2));
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM orders WHERE status <> 'new' ORDER BY id"
        ),
        vec![vec![Int(1)], vec![Int(4)]]
    );
}

#[test]
fn a_column_of_a_table_joined_through_a_non_key_is_ora_01779() {
    let (_db, mut s) = db();
    // ref_nokey.id is no key: an order could pair with two of its rows.
    let e = s
        .execute(
            "UPDATE (SELECT o.status, r.new_status FROM orders o JOIN ref_nokey r \
             ON r.id = o.ref_id) SET status = new_status",
        )
        .unwrap_err();
    assert!(matches!(e, Error::NonKeyPreserved { .. }), "{e}");
    assert_eq!(e.code(), "ORA-01779");
    // ref itself is not key-preserved: orders is not joined by its key.
    let e = s
        .execute(&format!("UPDATE {VIEW} SET new_status = status"))
        .unwrap_err();
    assert_eq!(e.code(), "ORA-01779", "{e}");
    assert!(statuses(&mut s).iter().all(|r| r[1] == text("new")));
}

#[test]
fn a_delete_through_a_join_view_deletes_from_the_key_preserved_table() {
    let (_db, mut s) = db();
    let r = s
        .execute(&format!("DELETE FROM {VIEW} WHERE new_status = 'paid'"))
        .unwrap();
    assert_eq!(r.affected, Some(1));
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM orders"),
        vec![vec![Int(5)]]
    );
    assert_eq!(rows(&mut s, "SELECT COUNT(*) FROM ref"), vec![vec![Int(4)]]);
    assert!(rows(&mut s, "SELECT id FROM orders WHERE id = 3").is_empty());
}

const MERGE: &str = "MERGE INTO orders o USING ref r ON (o.id = r.id) \
     WHEN MATCHED THEN UPDATE SET o.status = r.new_status \
     WHEN NOT MATCHED THEN INSERT (id, ref_id, status) VALUES (r.id + 100, r.id, r.new_status)";

#[test]
fn merge_updates_the_matched_rows_and_inserts_the_rest_in_one_statement() {
    let (_db, mut s) = db();
    s.execute("DELETE FROM orders WHERE id IN (3, 4)").unwrap();
    s.commit().unwrap();
    let r = s.execute(MERGE).unwrap();
    // 2 matched (orders 1, 2), 2 inserted (ref 3, 4): rows processed = rows merged.
    assert_eq!(r.affected, Some(4));
    assert_eq!(r.stats.get(Stat::RowsProcessed), 4);
    // One parse call and one execute call, as any statement sent alone.
    assert_eq!(r.stats.get(Stat::UserCalls), 2);
    assert_eq!(
        rows(&mut s, "SELECT id, ref_id, status FROM orders ORDER BY id"),
        vec![
            vec![Int(1), Int(4), text("open")],
            vec![Int(2), Int(3), text("paid")],
            vec![Int(5), Int(9), text("new")],
            vec![Int(6), Null, text("new")],
            vec![Int(103), Int(3), text("sent")],
            vec![Int(104), Int(4), text("done")],
        ]
    );
    // One statement: a rollback takes all of it back.
    s.rollback().unwrap();
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM orders"),
        vec![vec![Int(4)]]
    );
}

#[test]
fn merge_from_a_subquery_with_where_and_delete_where() {
    let (_db, mut s) = db();
    let r = s
        .execute(
            "MERGE INTO orders o USING (SELECT id, new_status FROM ref WHERE id >= 2) x \
             ON (o.id = x.id) \
             WHEN MATCHED THEN UPDATE SET status = x.new_status WHERE x.id <> 3 \
             DELETE WHERE o.status = 'done' \
             WHEN NOT MATCHED THEN INSERT (id, status) VALUES (x.id, x.new_status)",
        )
        .unwrap();
    // Orders 2 and 4 matched and pass the WHERE (3 does not); 4 becomes
    // 'done' and is deleted. Nothing unmatched.
    assert_eq!(r.affected, Some(2));
    assert_eq!(
        statuses(&mut s),
        vec![
            vec![Int(1), text("new")],
            vec![Int(2), text("paid")],
            vec![Int(3), text("new")],
            vec![Int(5), text("new")],
            vec![Int(6), text("new")],
        ]
    );
}

#[test]
fn a_target_row_matched_twice_is_ora_30926_and_changes_nothing() {
    let (_db, mut s) = db();
    let e = s
        .execute(
            "MERGE INTO orders o USING ref_nokey r ON (o.ref_id = r.id OR o.id = 1) \
             WHEN MATCHED THEN UPDATE SET status = r.new_status",
        )
        .unwrap_err();
    assert!(matches!(e, Error::UnstableMerge { .. }), "{e}");
    assert_eq!(e.code(), "ORA-30926");
    assert!(statuses(&mut s).iter().all(|r| r[1] == text("new")));
}

#[test]
fn a_set_of_a_column_the_on_clause_reads_is_ora_38104() {
    let (_db, mut s) = db();
    let e = s
        .execute(
            "MERGE INTO orders o USING ref r ON (o.ref_id = r.id) \
             WHEN MATCHED THEN UPDATE SET ref_id = r.id + 1",
        )
        .unwrap_err();
    assert!(matches!(e, Error::MergeOnColumn { .. }), "{e}");
    assert_eq!(e.code(), "ORA-38104");
}
