//! Regression: an index node filled to the last byte by user changes could
//! not be split, because the split's system transaction found no ITL entry
//! free in it and no room to add one ("space exhausted: no ITL entry for an
//! index split"). Found by `tests/sql_differential.rs` (about one run in
//! ten); this is its case, shrunk by proptest. User changes now leave one
//! ITL entry's worth of space in every index node (`SPLIT_RESERVE` in
//! `btree::tree`).

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database};

// ANCHOR: split_itl_case
/// Autocommit, as the differential test runs it.
const SCRIPT: &[&str] = &[
    "CREATE TABLE t (id INTEGER PRIMARY KEY, c0 INTEGER, c1 TEXT)",
    "CREATE UNIQUE INDEX t_i0 ON t (c0 DESC, c1, id)",
    "INSERT INTO t VALUES (0, NULL, NULL), (1, 0, NULL), (2, 0, NULL), (3, -8, 'dd'), (4, 6, 'd'), (5, -8, 'ca'), (6, 17, 'ba'), (7, -16, NULL), (8, -17, 'c'), (9, NULL, 'abd'), (10, NULL, 'd'), (11, 5, NULL), (12, 16, 'bad'), (13, -14, 'abd'), (14, -10, 'cc'), (15, -20, 'ba'), (16, 14, 'a'), (17, -9, 'bad'), (18, 8, NULL), (19, -20, 'abd'), (20, -3, 'dd'), (21, 14, 'ca'), (22, 1, 'ba'), (23, 12, 'ca'), (24, -4, 'ca'), (25, -2, NULL), (26, -3, 'ca'), (27, -2, 'bca'), (28, 8, 'dd'), (29, 10, 'abd'), (30, -7, 'a'), (31, -1, NULL), (32, -12, 'bca'), (33, 17, 'c'), (34, 16, 'cc'), (35, -8, 'dd'), (36, NULL, 'ba'), (37, 7, 'cab'), (38, NULL, 'd'), (39, 16, 'ba'), (40, 14, 'd'), (41, 12, NULL), (42, 15, 'bb'), (43, NULL, 'a'), (44, NULL, NULL), (45, 9, NULL), (46, 3, 'd'), (47, 5, NULL), (48, -10, 'ab'), (49, -12, 'a')",
    "INSERT INTO t VALUES (50, 13, 'ab'), (51, -13, NULL), (52, 6, 'd'), (53, -17, 'abd'), (54, -11, 'c'), (55, 4, NULL), (56, 12, 'bad'), (57, 8, 'ca'), (58, -6, 'abd'), (59, 10, 'bad'), (60, 12, 'b'), (61, 15, 'abd'), (62, 18, NULL), (63, -3, NULL), (64, -9, 'ca'), (65, -2, 'd'), (66, 17, 'cab'), (67, -5, 'a'), (68, 7, 'bca'), (69, -11, 'bad'), (70, -2, 'abd'), (71, 8, 'bad'), (72, -2, 'dd'), (73, -17, NULL), (74, -12, 'bad'), (75, -2, 'ba'), (76, 6, 'ca'), (77, 14, 'ba'), (78, NULL, NULL), (79, -18, 'bb'), (80, -14, NULL), (81, 2, NULL), (82, 5, 'ab'), (83, NULL, NULL), (84, 14, 'd'), (85, NULL, 'c'), (86, NULL, NULL), (87, NULL, 'ac'), (88, 19, 'bad'), (89, -12, 'abd'), (90, NULL, 'dd'), (91, 7, 'cc'), (92, NULL, 'd'), (93, -11, 'ca'), (94, -6, 'a'), (95, 19, 'abd'), (96, -5, 'bca'), (97, NULL, NULL), (98, -14, 'bb'), (99, NULL, 'abd')",
    "INSERT INTO t VALUES (100, -7, 'cc')",
    "UPDATE t SET c0 = c0 + -3 WHERE (((c0 IN (15, 11, -14) OR c0 NOT BETWEEN 1 AND -4) OR (c1 = 'dd' AND c1 IS NULL)) OR (c1 BETWEEN 'b' AND 'ab' AND c0 NOT BETWEEN -8 AND 17))",
    "UPDATE t SET c0 = -7, c1 = 'cab' WHERE ((c0 BETWEEN -6 AND 0 OR (c0 >= -11 OR c0 IN (4))) AND (c1 IS NOT NULL OR c0 NOT IN (20, 9, -10)))",
    "UPDATE t SET c0 = c0 + -2 WHERE ((c0 <> -18 OR (c0 + -1) = 9) OR (c1 <= 'ba' AND c0 = -10))",
];
// ANCHOR_END: split_itl_case

#[test]
fn a_full_index_leaf_can_always_be_split() {
    let cfg = Config {
        block_size: 2048,
        cache_frames: 256,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).unwrap();
    let mut s = db.session();
    for sql in SCRIPT {
        let r = s.execute(sql).unwrap_or_else(|e| panic!("{e}\n  {sql}"));
        if r.affected.is_some() {
            s.commit().unwrap();
        }
    }
    let n = s.execute("SELECT COUNT(*) FROM t").unwrap().rows[0][0].clone();
    assert_eq!(n, blocklab::Value::Int(101));
}
