//! Sorts within their work area: a sort whose rows outgrow
//! `SORT_AREA_SIZE` writes sorted runs to temporary blocks and merges them
//! (`sorts (disk)`), with the same rows, in the same order, as the sort in
//! memory (`sorts (memory)`) — ORDER BY, and the SORT UNIQUE of a UNION.

use blocklab::{Config, Database, Stat};

#[test]
fn a_sort_larger_than_its_work_area_spills_runs_and_merges_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, pad TEXT)",
        // k repeats (ties keep the scan's order: the sort is stable).
        "INSERT INTO t SELECT value, value % 37, 'row ' || value FROM generate_series(1, 3000)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap();
    }
    let queries = [
        "SELECT k, id FROM t ORDER BY k DESC",
        "SELECT k, pad FROM t WHERE id <= 2000 UNION SELECT k, pad FROM t WHERE id > 1000",
    ];
    for sql in queries {
        let memory = s.execute(sql).unwrap();
        assert_eq!(memory.stats.get(Stat::SortsMemory), 1, "{sql}");
        assert_eq!(memory.stats.get(Stat::SortsDisk), 0, "{sql}");
        assert_eq!(memory.stats.get(Stat::TempWrites), 0, "{sql}");
        s.execute("ALTER SESSION SET SORT_AREA_SIZE = 8192")
            .unwrap();
        let disk = s.execute(sql).unwrap();
        s.execute("ALTER SESSION SET SORT_AREA_SIZE = 16777216")
            .unwrap();
        assert_eq!(disk.rows, memory.rows, "{sql}");
        assert_eq!(disk.stats.get(Stat::SortsMemory), 0, "{sql}");
        assert_eq!(disk.stats.get(Stat::SortsDisk), 1, "{sql}");
        assert_eq!(
            disk.stats.get(Stat::SortsRows),
            memory.stats.get(Stat::SortsRows),
            "{sql}"
        );
        // Each run is written once and read back once: at least one
        // temporary block per 8 KiB of rows, the same count both ways.
        let written = disk.stats.get(Stat::TempWrites);
        assert!(written >= 2, "{sql}: {written}");
        assert_eq!(disk.stats.get(Stat::TempReads), written, "{sql}");
    }
    let refused = s
        .execute("ALTER SESSION SET SORT_AREA_SIZE = 0")
        .unwrap_err()
        .to_string();
    assert!(refused.contains("SORT_AREA_SIZE"), "{refused}");

    // A merge join's SORT JOINs keep to the same area: the 36 rows of x
    // fit, the 3,000 of y spill; the join's rows are the same.
    let sql = "SELECT /*+ LEADING(x y) FULL(x) FULL(y) USE_MERGE(y) */ x.id, y.id \
               FROM t x JOIN t y ON y.k = x.id WHERE x.id <= 36";
    let mut memory = s.execute(sql).unwrap();
    assert_eq!(memory.stats.get(Stat::SortsMemory), 2);
    s.execute("ALTER SESSION SET SORT_AREA_SIZE = 8192")
        .unwrap();
    let mut disk = s.execute(sql).unwrap();
    assert_eq!(disk.stats.get(Stat::SortsMemory), 1);
    assert_eq!(disk.stats.get(Stat::SortsDisk), 1);
    assert!(disk.stats.get(Stat::TempWrites) > 0);
    memory.rows.sort_by_key(|r| format!("{r:?}"));
    disk.rows.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(disk.rows, memory.rows);
}
