//! Optimizer statistics (`Session::analyze`) and claim C17: the estimated cost
//! of an index range scan, computed from the gathered statistics, predicts
//! the gets the same query really makes.
//!
//! The main shape: 1000 rows `(k, grp, pad)` with a 750-byte pad, ten rows
//! to an 8 KiB table block (a block holds 90 bytes of header, ITL and slot
//! count, plus rows of 4 + 773 bytes — 4 + 765 when `grp` is NULL: ten fit
//! in 8192, eleven never do), so 100 table blocks. Table `inorder` is
//! loaded in key order, so key k lives in block k / 10; table `shuffled`
//! holds the same rows loaded in a seeded random order. Each has an index
//! on `k`.

use blocklab::access::{index_scan_cost, CmpOp, Pred};
use blocklab::analyze::TableStats;
use blocklab::btree::key::Order;
use blocklab::operators::Access;
use blocklab::StatsSnapshot;
use blocklab::{ColType, Column, Config, Database, Stat, Value};

const ROWS: i64 = 1000;
const PER_BLOCK: i64 = 10;
const SEED: u64 = 0x5EED_C0FF_EE00_0017;

fn open(dir: &std::path::Path, block_size: usize) -> Database {
    let cfg = Config {
        block_size,
        background_writer: false,
        ..Config::default()
    };
    Database::open(dir, cfg).unwrap()
}

/// `grp` is k mod 7, NULL for every 50th key: 7 distinct values, 20 NULLs.
fn row(k: i64) -> Vec<Value> {
    let grp = if k % 50 == 0 {
        Value::Null
    } else {
        Value::Int(k % 7)
    };
    vec![Value::Int(k), grp, Value::Text("p".repeat(750))]
}

/// Creates `table`, inserts the keys of `order` in that order, then builds
/// the index `<table>_k` on `k`.
fn load(db: &Database, table: &str, order: &[i64]) {
    let mut s = db.session();
    s.create_table(
        table,
        &[
            Column::new("k", ColType::Integer),
            Column::new("grp", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    for &k in order {
        s.insert(table, row(k)).unwrap();
    }
    s.commit().unwrap();
    s.create_index(&format!("{table}_k"), table, &[("k", Order::Asc)])
        .unwrap();
}

/// 0..n in a deterministic pseudo-random order (Fisher–Yates driven by
/// xorshift64), so the shuffled table is the same on every run.
fn shuffled(n: i64, seed: u64) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n).collect();
    let mut x = seed;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

/// The clustering factor the load order implies, computed without the
/// engine: the i-th row inserted lands in the (i / 10)-th table block, and
/// CF counts the block changes walking the keys in order (the first counts).
fn model_cf(order: &[i64]) -> u64 {
    let mut block_of = vec![0i64; order.len()];
    for (i, &k) in order.iter().enumerate() {
        block_of[k as usize] = i as i64 / PER_BLOCK;
    }
    1 + block_of.windows(2).filter(|w| w[0] != w[1]).count() as u64
}

fn both_tables() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), 8192);
    load(&db, "inorder", &(0..ROWS).collect::<Vec<_>>());
    load(&db, "shuffled", &shuffled(ROWS, SEED));
    (dir, db)
}

fn ix_range(lo: i64, hi: i64) -> Pred {
    Pred::Between {
        col: 0,
        low: Value::Int(lo),
        high: Value::Int(hi),
        negated: false,
    }
}

#[test]
fn analyze_counts_rows_blocks_and_column_values() {
    let (_dir, db) = both_tables();
    let mut s = db.session();
    for table in ["inorder", "shuffled"] {
        let t = s.analyze(table).unwrap();
        println!("{t}");
        assert_eq!(t.num_rows, 1000);
        assert_eq!(
            t.blocks, 100,
            "1000 rows / 10 a block; the header is not counted"
        );
        // 980 rows of 773 bytes, 20 of 765 (NULL grp): 772.84, rounded.
        assert_eq!(t.avg_row_len, 773);
        let k = t.column("k").unwrap();
        assert_eq!((k.ndv, k.nulls), (1000, 0));
        assert_eq!(
            (k.low.clone(), k.high.clone()),
            (Some(Value::Int(0)), Some(Value::Int(999)))
        );
        let grp = t.column("grp").unwrap();
        assert_eq!(
            (grp.ndv, grp.nulls),
            (7, 20),
            "k mod 7; NULL for k = 0, 50, ..., 950"
        );
        assert_eq!(
            (grp.low.clone(), grp.high.clone()),
            (Some(Value::Int(0)), Some(Value::Int(6)))
        );
        assert_eq!(t.column("pad").unwrap().ndv, 1);
        let ix = &t.indexes[0];
        assert_eq!(
            (ix.num_rows, ix.distinct_keys),
            (1000, 1000),
            "one entry per row, k unique"
        );
    }
}

#[test]
fn clustering_factor_is_the_block_count_in_key_order_and_near_the_row_count_shuffled() {
    let (_dir, db) = both_tables();
    let mut s = db.session();

    let inorder = s.analyze("inorder").unwrap();
    let ix = inorder.index("inorder_k").unwrap();
    // Keys 10b..10b+9 all live in block b: walking the index changes block
    // only when k crosses a multiple of 10, so CF = B = 100, its minimum.
    assert_eq!(ix.clustering_factor, 100);
    assert_eq!(ix.cluster_ratio, 1.0);
    assert_eq!(ix.avg_data_blocks_per_key, 0.1, "100 blocks / 1000 keys");

    let order = shuffled(ROWS, SEED);
    let shuf = s.analyze("shuffled").unwrap();
    let ix = shuf.index("shuffled_k").unwrap();
    // Neighbouring keys share a block only by chance: each of the 999
    // pairs (k − 1, k) does with probability 9/999, so on average 9 pairs
    // do and CF ≈ 1000 − 9 = 991 — just under N = 1000, far above B = 100.
    // This seed gives 990 (10 pairs), which the load order alone predicts:
    // 1 + the number of k whose block differs from k − 1's.
    assert_eq!(model_cf(&order), 990);
    assert_eq!(ix.clustering_factor, 990);
    assert!(100 < ix.clustering_factor && ix.clustering_factor < 1000);
    // (N − CF) / (N − B) = (1000 − 990) / (1000 − 100) = 10 / 900
    assert!((ix.cluster_ratio - 10.0 / 900.0).abs() < 1e-12);
    assert_eq!(ix.avg_data_blocks_per_key, 0.99);
}

/// A text key of 100 characters makes 120-byte index entries: about 15 to
/// a 2 KiB leaf, so 1000 rows need a tree of several levels.
fn tall_tree() -> (tempfile::TempDir, Database, u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), 2048);
    let mut s = db.session();
    s.create_table(
        "names",
        &[
            Column::new("name", ColType::Text),
            Column::new("n", ColType::Integer),
        ],
    )
    .unwrap();
    for k in shuffled(ROWS, SEED) {
        s.insert(
            "names",
            vec![Value::Text(format!("{k:0100}")), Value::Int(k)],
        )
        .unwrap();
    }
    s.commit().unwrap();
    let before = s.stats();
    s.create_index("names_name", "names", &[("name", Order::Asc)])
        .unwrap();
    let splits = s.stats().diff(&before).get(Stat::LeafNodeSplits);
    (dir, db, splits)
}

#[test]
fn blevel_and_leaf_blocks_agree_with_the_splits_and_with_a_full_index_scan() {
    let (_dir, db, leaf_splits) = tall_tree();
    let mut s = db.session();
    let t = s.analyze("names").unwrap();
    let ix = t.index("names_name").unwrap();
    println!("{t}leaf splits while building: {leaf_splits}");
    // The root starts as the only leaf; its first split (a root split)
    // leaves two leaves, and every later leaf split adds one.
    assert_eq!(ix.leaf_blocks, 1 + leaf_splits);
    // At most 16 entries of 120 bytes fit in a 2048-byte block (17 × 120 +
    // the 24-byte header > 2048), so 1000 entries need more than 62 leaves
    // (98 with the current split policy). More than 16 leaves are more than
    // a root can point at: one level of branches sits between, BLEVEL 2.
    assert!(ix.leaf_blocks > 1000 / 16);
    assert_eq!(ix.blevel, 2);
    // A full index scan (no terms: the whole key range) descends once —
    // the root, then one branch per level between it and the leaves — and
    // then reads every leaf once.
    let before = s.stats();
    let r = s
        .query(
            "names",
            &Pred::And(vec![]),
            Access::Index {
                name: "names_name".into(),
                max_matching: None,
            },
        )
        .unwrap();
    let d = s.stats().diff(&before);
    assert_eq!(r.rows.len(), 1000);
    assert_eq!(d.get(Stat::IndexDescents), 1);
    assert_eq!(d.get(Stat::IndexRootGets), 1);
    assert_eq!(d.get(Stat::IndexBranchGets), u64::from(ix.blevel) - 1);
    assert_eq!(d.get(Stat::IndexLeafGets), ix.leaf_blocks);
}

struct Row17 {
    name: &'static str,
    what: String,
    rows: usize,
    /// (estimated, measured): root + branch, leaf, table blocks.
    upper: (u64, u64),
    leaf: (u64, u64),
    table: (u64, u64),
}

/// Runs `pred` through the index on `k` and prices the plan it used with
/// the statistics `t`.
fn estimate_and_measure(db: &Database, t: &TableStats, what: &str, pred: Pred) -> Row17 {
    let mut s = db.session();
    let ix = &t.indexes[0];
    let before: StatsSnapshot = s.stats();
    let r = s
        .query(
            &t.table,
            &pred,
            Access::Index {
                name: ix.name.clone(),
                max_matching: None,
            },
        )
        .unwrap();
    let d = s.stats().diff(&before);
    let plan = r.plan.as_ref().unwrap();
    let est = index_scan_cost(plan, &r.terms, &ix.as_cost_stats(), &|c| t.column_stats(c));
    Row17 {
        name: if t.table == "inorder" {
            "inorder"
        } else {
            "shuffled"
        },
        what: what.to_string(),
        rows: r.rows.len(),
        upper: (
            est.branch_blocks,
            d.get(Stat::IndexRootGets) + d.get(Stat::IndexBranchGets),
        ),
        leaf: (est.leaf_blocks, d.get(Stat::IndexLeafGets)),
        table: (est.table_blocks, d.get(Stat::TableBlockGetsByRowid)),
    }
}

#[test]
fn c17_the_cost_formula_predicts_the_gets_of_range_scans() {
    let (_dir, db) = both_tables();
    let mut s = db.session();
    let queries = || {
        vec![
            ("k = 500", Pred::cmp(0, CmpOp::Eq, 500)),
            ("k BETWEEN 0 AND 9", ix_range(0, 9)),
            ("k BETWEEN 5 AND 24", ix_range(5, 24)),
            ("k < 50", Pred::cmp(0, CmpOp::Lt, 50)),
            ("k BETWEEN 100 AND 299", ix_range(100, 299)),
            ("k >= 900", Pred::cmp(0, CmpOp::Ge, 900)),
            ("k BETWEEN 250 AND 749", ix_range(250, 749)),
            ("k BETWEEN 0 AND 999", ix_range(0, 999)),
            (
                "k IN (10, 500, 990)",
                Pred::In {
                    col: 0,
                    values: vec![Value::Int(10), Value::Int(500), Value::Int(990)],
                    negated: false,
                },
            ),
        ]
    };
    let mut out = Vec::new();
    for table in ["inorder", "shuffled"] {
        let t = s.analyze(table).unwrap();
        for (what, pred) in queries() {
            out.push(estimate_and_measure(&db, &t, what, pred));
        }
    }
    println!(
        "{:<9} {:<22} {:>5}  {:>13} {:>13} {:>13}",
        "table", "predicate", "rows", "root+branch", "leaf", "table"
    );
    println!(
        "{:<9} {:<22} {:>5}  {:>13} {:>13} {:>13}",
        "", "", "", "est / meas", "est / meas", "est / meas"
    );
    for r in &out {
        let p = |(e, m): (u64, u64)| format!("{e:>5} / {m:<5}");
        println!(
            "{:<9} {:<22} {:>5}  {} {} {}",
            r.name,
            r.what,
            r.rows,
            p(r.upper),
            p(r.leaf),
            p(r.table)
        );
    }
    for r in &out {
        let at = format!("{} {}", r.name, r.what);
        // BLEVEL per probe is exact: every descent reads the root and each
        // branch level once (one descent per IN-list value).
        assert_eq!(r.upper.0, r.upper.1, "{at}: root + branch");
        // Leaves: the formula assumes entries spread evenly over the leaves;
        // a range that straddles a leaf boundary reads one more leaf than
        // LEAF_BLOCKS × sel (shuffled 100..299: estimate 1, read 2).
        assert!(
            r.leaf.0.abs_diff(r.leaf.1) <= 1,
            "{at}: leaf blocks {:?}",
            r.leaf
        );
        // Table: CF × sel. The ceiling and the 1/NDV added per inclusive
        // end (100 × 2/1000 = 0.2 of a block) make the estimate a block
        // high on the clustered table (0..9: estimate 2, read 1). On the
        // shuffled table, where the same range visits ~10× the blocks
        // (250..749: 494 against 50), the estimate stays within 2%.
        let m = r.table.1;
        let tolerance = if r.name == "inorder" {
            1
        } else {
            1.max(m / 50)
        };
        assert!(
            r.table.0.abs_diff(m) <= tolerance,
            "{at}: table blocks {:?}, tolerance {tolerance}",
            r.table
        );
    }
    // The full range reads every leaf and exactly CF table blocks (the
    // definition of CF under pin retention, the book, chapter 2).
    let full: Vec<&Row17> = out
        .iter()
        .filter(|r| r.what == "k BETWEEN 0 AND 999")
        .collect();
    assert_eq!(
        (full[0].leaf.1, full[0].table.1),
        (6, 100),
        "inorder: 6 leaves, CF 100"
    );
    assert_eq!(
        (full[1].leaf.1, full[1].table.1),
        (4, 990),
        "shuffled: 4 leaves, CF 990"
    );
}

#[test]
fn analyze_of_an_empty_table_is_all_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), 8192);
    load(&db, "empty", &[]);
    let mut s = db.session();
    let t = s.analyze("empty").unwrap();
    println!("{t}");
    // The HWM is still 1 (only the segment header is formatted).
    assert_eq!((t.num_rows, t.blocks, t.avg_row_len), (0, 0, 0));
    for (_, c) in &t.columns {
        assert_eq!((c.ndv, c.nulls, &c.low, &c.high), (0, 0, &None, &None));
    }
    let ix = &t.indexes[0];
    // The root is an empty leaf: no branch levels, no leaf holding entries.
    assert_eq!(
        (
            ix.blevel,
            ix.leaf_blocks,
            ix.distinct_keys,
            ix.num_rows,
            ix.clustering_factor
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(ix.cluster_ratio, 1.0, "N == B == 0: defined as 1");
    assert_eq!(
        (ix.avg_leaf_blocks_per_key, ix.avg_data_blocks_per_key),
        (0.0, 0.0)
    );
    assert!(matches!(
        s.analyze("missing"),
        Err(blocklab::Error::NoSuchObject { kind: "table", .. })
    ));
}

#[test]
fn cluster_ratio_is_one_when_every_row_has_a_block_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), 8192);
    let mut s = db.session();
    s.create_table(
        "wide",
        &[
            Column::new("k", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    // 5000-byte rows: one to an 8 KiB block. Loaded as 2, 0, 1, so key
    // order visits blocks 2nd, 3rd, 1st: every entry changes block.
    for k in [2, 0, 1] {
        s.insert("wide", vec![Value::Int(k), Value::Text("w".repeat(5000))])
            .unwrap();
    }
    s.commit().unwrap();
    s.create_index("wide_k", "wide", &[("k", Order::Asc)])
        .unwrap();
    let t = s.analyze("wide").unwrap();
    let ix = &t.indexes[0];
    assert_eq!(t.blocks, 3);
    assert_eq!((ix.num_rows, ix.clustering_factor), (3, 3), "CF = N = B");
    // (N − CF) / (N − B) is 0/0; no order could do better, so 1.
    assert_eq!(ix.cluster_ratio, 1.0);
    assert_eq!(
        (ix.blevel, ix.leaf_blocks),
        (0, 1),
        "the root is the only leaf"
    );
}

#[test]
fn analyze_reads_one_snapshot_and_changes_nothing() {
    let (_dir, db) = both_tables();
    let mut a = db.session();
    a.set_isolation(blocklab::Isolation::Serializable).unwrap();
    let before = a.stats();
    let first = a.analyze("inorder").unwrap();
    let d = a.stats().diff(&before);
    assert!(a.xid().is_none(), "no transaction was started");
    for stat in [
        Stat::DbBlockGets,
        Stat::DbBlockChanges,
        Stat::RedoEntries,
        Stat::RedoSize,
    ] {
        assert_eq!(d.get(stat), 0, "{}", stat.name());
    }
    // Consistent gets: the segment header twice (once for the HWM, once by
    // the scan), 100 table blocks, the index root and its 6 leaves — plus
    // one undo segment header per transaction-table lookup: the index
    // splits ran in system transactions that commit without cleanout, so
    // their ITL entries in the index blocks carry no commit SCN and every
    // consistent read has to look the transaction up again.
    let lookups = d.get(Stat::TxTableLookups);
    assert_eq!(d.get(Stat::ConsistentGets), 2 + 100 + 1 + 6 + lookups);

    // Another session adds 50 rows (5 blocks) and commits.
    let mut b = db.session();
    for k in ROWS..ROWS + 50 {
        b.insert("inorder", row(k)).unwrap();
    }
    b.commit().unwrap();

    // The serializable transaction still sees 1000 rows, in the table and
    // in the index (the new entries are rolled back in a CR copy of the
    // last leaf). Only `blocks` moves: it is the HWM of the segment header,
    // which is not versioned — Oracle's BLOCKS is read the same way.
    let again = a.analyze("inorder").unwrap();
    assert_eq!(again.num_rows, 1000);
    assert_eq!(again.indexes, first.indexes);
    assert_eq!(again.columns, first.columns);
    assert_eq!(again.blocks, 105);
    a.commit().unwrap();
    let now = a.analyze("inorder").unwrap();
    assert_eq!((now.num_rows, now.indexes[0].num_rows), (1050, 1050));
    assert_eq!(now.indexes[0].clustering_factor, 105);
}

#[test]
fn leaves_emptied_by_deletes_are_read_by_scans_but_not_counted() {
    let (_dir, db, _) = tall_tree();
    let mut s = db.session();
    let full = s.analyze("names").unwrap();
    let deleted = s
        .delete_where(
            "names",
            |r| matches!(r[1], Value::Int(n) if (200..600).contains(&n)),
        )
        .unwrap();
    s.commit().unwrap();
    assert_eq!(deleted, 400);
    let t = s.analyze("names").unwrap();
    let ix = t.index("names_name").unwrap();
    println!("{t}");
    assert_eq!(t.num_rows, 600);
    assert_eq!(t.blocks, full.blocks, "deletes do not lower the HWM");
    assert_eq!(ix.num_rows, 600);
    // Nodes are never merged: the leaves that held only keys 200..599 are
    // still in the chain, empty, and a full scan still reads all of them;
    // LEAF_BLOCKS counts only the leaves with entries (as DBMS_STATS does).
    let before = s.stats();
    s.query(
        "names",
        &Pred::And(vec![]),
        Access::Index {
            name: "names_name".into(),
            max_matching: None,
        },
    )
    .unwrap();
    let read = s.stats().diff(&before).get(Stat::IndexLeafGets);
    assert_eq!(
        read, full.indexes[0].leaf_blocks,
        "every leaf, empty or not"
    );
    assert!(ix.leaf_blocks < read);
    println!(
        "leaf blocks with entries {} of {read} in the chain",
        ix.leaf_blocks
    );
}
