//! Claim C31: the same statement gets a different access path in two
//! databases whose statistics differ, and plan-diff (the DB2 method:
//! compare the plan_table rows on the columns that matter, count rows
//! compared equal, rows in B, rows in A) catches it before deployment.
//!
//! Two databases hold the same table and index:
//! `t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)`, 1000 rows with a
//! 750-byte pad, ten rows to an 8 KiB block, so 100 table blocks; the
//! primary key's index `t_pk` on `k`. Database A is loaded in key order
//! (key k lives in block k / 10: clustering factor 100, cluster ratio 1);
//! database B holds the same rows loaded in a seeded random order
//! (clustering factor near 1000). Both are ANALYZEd, and plan-diff reads
//! the statistics each stored, after a reopen.

use std::path::Path;
use std::process::Command;

use blocklab::analyze::TableStats;
use blocklab::plandiff::{compare, diff_databases, Impact, ImpactTable, Side, Status};
use blocklab::{Config, Database, Value};

const ROWS: i64 = 1000;
const PER_BLOCK: i64 = 10;
const SEED: u64 = 0x5EED_C0FF_EE00_0031;

/// 200 of the 1000 keys: past the point where the costs cross in B, far
/// from it in A (see `the_range_is_where_the_costs_cross`).
const RANGE: &str = "SELECT k, grp FROM t WHERE k BETWEEN 300 AND 499";
const LOOKUP: &str = "SELECT * FROM t WHERE k = 500";
const ORDERED: &str = "SELECT k, grp FROM t WHERE k BETWEEN 300 AND 499 ORDER BY k";
const UPDATE: &str = "UPDATE t SET grp = 0 WHERE k BETWEEN 300 AND 499";

fn open(dir: &Path) -> Database {
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    Database::open(dir, cfg).unwrap()
}

/// 0..n in a deterministic pseudo-random order (Fisher–Yates driven by
/// xorshift64), so database B is the same on every run.
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

fn in_order() -> Vec<i64> {
    (0..ROWS).collect()
}

/// Creates the table, inserts the keys in `order`, ANALYZEs, closes.
fn build(dir: &Path, order: &[i64]) {
    let db = open(dir);
    let mut s = db.session();
    s.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)")
        .unwrap();
    for &k in order {
        s.insert(
            "t",
            vec![
                Value::Int(k),
                Value::Int(k % 7),
                Value::Text("p".repeat(750)),
            ],
        )
        .unwrap();
    }
    s.commit().unwrap();
    s.execute("ANALYZE TABLE t").unwrap();
    drop(s);
    db.close().unwrap();
}

/// Builds A and B in `base/a` and `base/b` (closed).
fn build_pair(base: &Path) {
    build(&base.join("a"), &in_order());
    build(&base.join("b"), &shuffled(ROWS, SEED));
}

/// The table block gets of an index range scan over keys `lo..=hi` when
/// the i-th row inserted lives in block i / 10: one per change of block
/// walking the keys in order (the first counts), as the last table block
/// stays pinned.
fn table_visits(order: &[i64], lo: i64, hi: i64) -> u64 {
    let mut block = vec![0i64; ROWS as usize];
    for (i, &k) in order.iter().enumerate() {
        block[k as usize] = i as i64 / PER_BLOCK;
    }
    let mut visits = 0;
    let mut last = None;
    for k in lo..=hi {
        if last != Some(block[k as usize]) {
            visits += 1;
            last = Some(block[k as usize]);
        }
    }
    visits
}

/// The cost formula: BLEVEL + ceil(LEAF_BLOCKS × sel) + ceil(CF × sel), with the
/// BETWEEN selectivity (hi − lo)/(max − min) + 2/NDV.
fn index_cost(st: &TableStats, lo: i64, hi: i64) -> u64 {
    let ix = st.index("t_pk").unwrap();
    let sel = (hi - lo) as f64 / (ROWS - 1) as f64 + 2.0 / ix.distinct_keys as f64;
    u64::from(ix.blevel)
        + (ix.leaf_blocks as f64 * sel).ceil() as u64
        + (ix.clustering_factor as f64 * sel).ceil() as u64
}

/// The smallest range `300 ..= 300 + w − 1` for which the full scan wins
/// (ties go to the full scan, the earlier candidate).
fn crossing(st: &TableStats) -> i64 {
    (1..=ROWS - 300)
        .find(|w| index_cost(st, 300, 300 + w - 1) >= st.blocks)
        .unwrap_or(i64::MAX)
}

#[test]
fn the_load_order_sets_the_clustering() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let a = open(&base.path().join("a")).session().analyze("t").unwrap();
    let b = open(&base.path().join("b")).session().analyze("t").unwrap();
    assert_eq!((a.num_rows, a.blocks), (1000, 100));
    assert_eq!((b.num_rows, b.blocks), (1000, 100));
    let (ia, ib) = (a.index("t_pk").unwrap(), b.index("t_pk").unwrap());
    // In key order every block's ten rows are one run: CF = B = 100.
    assert_eq!(ia.clustering_factor, 100);
    assert_eq!(ia.cluster_ratio, 1.0);
    // Shuffled: the CF the load order implies, computed without the engine.
    assert_eq!(
        ib.clustering_factor,
        table_visits(&shuffled(ROWS, SEED), 0, ROWS - 1)
    );
    assert_eq!(ib.clustering_factor, 990);
    // (1000 − 990) / (1000 − 100)
    assert!((ib.cluster_ratio - 10.0 / 900.0).abs() < 1e-12);
}

#[test]
fn the_range_is_where_the_costs_cross() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let db_a = open(&base.path().join("a"));
    let db_b = open(&base.path().join("b"));
    let a = db_a.session().analyze("t").unwrap();
    let b = db_b.session().analyze("t").unwrap();
    // A: blevel 1, 6 leaves, CF 100; sel = 199/999 + 2/1000 = 0.2012:
    // 1 + ceil(1.21) + ceil(20.12) = 24, against a full scan of 100.
    assert_eq!(index_cost(&a, 300, 499), 24);
    // B: blevel 1, 4 leaves, CF 990: 1 + ceil(0.80) + ceil(199.19) = 202.
    assert_eq!(index_cost(&b, 300, 499), 202);
    // Where the full scan starts to win in B: 97 keys, sel = 96/999 +
    // 2/1000 = 0.0981, 1 + ceil(0.39) + ceil(97.1) = 100 = BLOCKS, and a
    // tie goes to the full scan. In A never, not even for the whole
    // 300..999 tail (1 + 5 + 71 = 77). 200 keys sit between.
    assert_eq!(crossing(&b), 97);
    assert_eq!(index_cost(&a, 300, 999), 77);
    assert_eq!(crossing(&a), i64::MAX);
    // The optimizer agrees on both sides of B's crossing.
    let access = |db: &Database, hi: i64| {
        let q = format!("EXPLAIN SELECT k, grp FROM t WHERE k BETWEEN 300 AND {hi}");
        let e = db.session().execute(&q).unwrap().explain.unwrap();
        e.plan_table[0].accesstype.clone()
    };
    assert_eq!(access(&db_b, 300 + 96 - 1), "I", "96 keys");
    assert_eq!(access(&db_b, 300 + 97 - 1), "R", "97 keys");
    assert_eq!(access(&db_a, 999), "I", "700 keys");
    // And EXPLAIN shows those very costs (from the reloaded statistics).
    for (db, cost, access) in [(&db_a, 24, "I"), (&db_b, 100, "R")] {
        let e = db
            .session()
            .execute(&format!("EXPLAIN {RANGE}"))
            .unwrap()
            .explain
            .unwrap();
        assert_eq!(e.lines[0].cost, cost);
        assert_eq!(e.plan_table[0].accesstype, access);
        assert!(e.notes.is_empty(), "{:?}", e.notes);
    }
}

/// The plan-diff of `statements` between A and B.
fn diff(base: &Path, statements: &[&str], run: bool) -> Vec<blocklab::plandiff::StatementDiff> {
    let a = open(&base.join("a"));
    let b = open(&base.join("b"));
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    diff_databases(&a, &b, &statements, &ImpactTable::default(), run).unwrap()
}

/// (column, A, B, impact) of each difference.
fn columns(d: &blocklab::plandiff::StatementDiff) -> Vec<(String, String, String, Impact)> {
    d.comparison
        .as_ref()
        .unwrap()
        .differences
        .iter()
        .map(|x| {
            (
                x.column.clone().unwrap_or_else(|| "(row)".into()),
                x.a.clone().unwrap_or_else(|| "-".into()),
                x.b.clone().unwrap_or_else(|| "-".into()),
                x.impact,
            )
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

// ANCHOR: c31_test
#[test]
fn the_range_changed_and_the_key_lookup_did_not() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let d = diff(base.path(), &[RANGE, LOOKUP, ORDERED, UPDATE], false);

    // The range: index range scan in A, full scan in B.
    assert_eq!(d[0].status(), Status::Changed);
    let c = d[0].comparison.as_ref().unwrap();
    // One row each, not equal: 0 ≠ 1 = 1.
    assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (0, 1, 1));
    assert_eq!(c.impact(), Some(Impact::High));
    assert_eq!(
        columns(&d[0]),
        [
            (s("ACCESSTYPE"), s("I"), s("R"), Impact::High),
            (s("MATCHCOLS"), s("1"), s("0"), Impact::High),
            (s("ACCESSNAME"), s("T_PK"), s(""), Impact::High),
            // Sequential prefetch for the table space scan only.
            (s("PREFETCH"), s(""), s("S"), Impact::Medium),
        ]
    );
    // Cost is shown, not compared.
    assert_eq!(d[0].costs(), (Some(24), Some(100)));

    // The primary key lookup: one index probe in both (cost 3 in both).
    assert_eq!(d[1].status(), Status::Same);
    let c = d[1].comparison.as_ref().unwrap();
    assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (1, 1, 1));
    assert!(c.differences.is_empty());

    // With ORDER BY, B's full scan needs a sort: a second plan_table row
    // (METHOD 3) that A does not have, since A's index delivers the order.
    let c = d[2].comparison.as_ref().unwrap();
    assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (0, 2, 1));
    assert_eq!(
        columns(&d[2]).last().unwrap(),
        &(
            s("(row)"),
            s("-"),
            s("METHOD=3 SORTC_ORDERBY=Y"),
            Impact::Medium
        )
    );

    // DML is explained like a query: the same change of access path.
    assert_eq!(d[3].status(), Status::Changed);
    assert_eq!(
        d[3].comparison.as_ref().unwrap().impact(),
        Some(Impact::High)
    );
}
// ANCHOR_END: c31_test

#[test]
fn run_shows_each_plan_is_cheaper_where_it_was_chosen() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let d = diff(base.path(), &[RANGE, LOOKUP, UPDATE], true);
    // (database, plan, forcing hint, rows, consistent gets, db block gets)
    let runs = |i: usize| -> Vec<(Side, Side, Option<String>, u64, u64, u64)> {
        d[i].runs
            .iter()
            .map(|r| {
                assert!(r.plan_matches && r.error.is_none(), "{r:?}");
                (
                    r.database,
                    r.plan,
                    r.hint.clone(),
                    r.rows,
                    r.consistent_gets,
                    r.db_block_gets,
                )
            })
            .collect()
    };
    let full = Some(s("/*+ FULL(t) */"));
    let index = Some(s("/*+ INDEX(t t_pk) */"));
    // The table gets of the index plan in each database, computed from the
    // load order: 20 blocks in A (keys 300..499 live in blocks 30..49),
    // 200 in B (each key of the range in another block than the last).
    assert_eq!(table_visits(&in_order(), 300, 499), 20);
    assert_eq!(table_visits(&shuffled(ROWS, SEED), 300, 499), 200);
    assert_eq!(
        runs(0),
        [
            // A's index plan: 1 root + 3 leaves + 20 table blocks.
            (Side::A, Side::A, None, 200, 24, 0),
            // B's plan forced in A: 100 table blocks + the segment header,
            // + 13 blocks got again by the fetch calls after the first
            // (200 rows, 15 a call: 14 calls).
            (Side::A, Side::B, full, 200, 114, 0),
            // B's full scan: the same 114 gets.
            (Side::B, Side::B, None, 200, 114, 0),
            // A's plan forced in B: 1 root + 2 leaves + 200 table blocks.
            (Side::B, Side::A, index, 200, 203, 0),
        ]
    );
    // The same plan in both: each runs once, root + leaf + table block.
    assert_eq!(
        runs(1),
        [
            (Side::A, Side::A, None, 1, 3, 0),
            (Side::B, Side::B, None, 1, 3, 0)
        ]
    );
    // DML is never executed.
    assert!(d[2].runs.is_empty());
    assert!(d[2].run_note.as_deref().unwrap().contains("not run"));
}

#[test]
fn a_plan_compared_with_itself_is_the_same() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let db = open(&base.path().join("b"));
    let mut s = db.session();
    let e = s
        .execute(&format!("EXPLAIN {ORDERED}"))
        .unwrap()
        .explain
        .unwrap();
    let c = compare(&e, &e, &ImpactTable::default());
    // Full scan + sort: two rows, both equal.
    assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (2, 2, 2));
    assert!(c.same());
}

fn blocklab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_blocklab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_command_reports_in_table_and_json_and_fails_on_a_change() {
    let base = tempfile::tempdir().unwrap();
    build_pair(base.path());
    let file = base.path().join("statements.sql");
    std::fs::write(
        &file,
        format!("{RANGE};\n-- the key\n{LOOKUP};\n{UPDATE};\n"),
    )
    .unwrap();
    let (a, b) = (base.path().join("a"), base.path().join("b"));
    let (a, b, f) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        file.to_str().unwrap(),
    );

    let (code, out, err) = blocklab(&["plan-diff", "--a", a, "--b", b, "-f", f, "--run"]);
    assert_eq!(code, 1, "a plan changed: {err}");
    println!("{out}");
    assert!(
        out.contains("  1  changed  impact high  rows equal 0, in B 1, in A 1  cost A 24, B 100")
    );
    assert!(out.contains("  2  same     rows equal 1, in B 1, in A 1  cost A 3, B 3"));
    assert!(out.contains("note: not run: only SELECTs are executed, this is UPDATE"));
    assert!(
        out.contains("3 statements: 1 same, 2 changed (impact high 2, medium 0, low 0), 0 errors")
    );

    // json: one object per statement.
    let (code, out, _) = blocklab(&["plan-diff", "--a", a, "--b", b, "-f", f, "--format", "json"]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["status"], "changed");
    assert_eq!(lines[0]["impact"], "high");
    assert_eq!(lines[0]["comparison"]["rows_equal"], 0);
    assert_eq!(lines[0]["plan_table_a"][0]["ACCESSTYPE"], "I");
    assert_eq!(lines[0]["plan_table_b"][0]["ACCESSTYPE"], "R");
    assert_eq!(lines[1]["status"], "same");

    // An impact file can demote the access path columns and ignore
    // PREFETCH: the same change is then low.
    let impact = base.path().join("impact.txt");
    std::fs::write(
        &impact,
        "# the access path matters little here\nACCESSTYPE=low\nACCESSNAME=low\nMATCHCOLS=low\nPREFETCH=ignore\n",
    )
    .unwrap();
    let (code, out, _) = blocklab(&[
        "plan-diff",
        "--a",
        a,
        "--b",
        b,
        "-f",
        f,
        "--impact",
        impact.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["impact"], "low");
    assert_eq!(
        first["comparison"]["differences"].as_array().unwrap().len(),
        3
    );

    // Only the key lookup: nothing changed, exit 0.
    std::fs::write(&file, format!("{LOOKUP};")).unwrap();
    let (code, _, err) = blocklab(&["plan-diff", "--a", a, "--b", b, "-f", f]);
    assert_eq!(code, 0, "{err}");

    // One database twice is refused, as is a bad impact file.
    let (code, _, err) = blocklab(&["plan-diff", "--a", a, "--b", a, "-f", f]);
    assert_eq!(code, 2);
    assert!(err.contains("same database"), "{err}");
    std::fs::write(&impact, "COST=high\n").unwrap();
    let (code, _, err) = blocklab(&[
        "plan-diff",
        "--a",
        a,
        "--b",
        b,
        "-f",
        f,
        "--impact",
        impact.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1: COST is never compared"), "{err}");
}

/// The README's walkthrough from the shell (issue 19): examples/plan_diff
/// builds the test and production databases with `blocklab sql` and
/// `run.sh` runs `plan-diff --run` on them. The range query changes plan
/// (index range scan on the well-clustered test table, full scan on the
/// scattered production one); the key lookup does not; exit status 1.
#[test]
fn the_readme_walkthrough_runs_from_the_shell() {
    let bin = env!("CARGO_BIN_EXE_blocklab");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/plan_diff/run.sh"
        ))
        .arg(dir.path())
        .env("BLOCKLAB", bin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout
            .contains("2 statements: 1 same, 1 changed (impact high 1, medium 0, low 0), 0 errors"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ACCESSNAME  T_PK     (blank)  high"),
        "{stdout}"
    );
    // The README quotes this output: it must be what the shell prints.
    let quoted = readme_plan_diff_output();
    assert!(
        stdout.contains(&quoted),
        "the README quotes\n{quoted}\nthe shell printed\n{stdout}"
    );
}

/// The output the README quotes for its plan-diff walkthrough: the
/// `text` block after the paragraph that introduces it ("as built by the
/// Rust example below").
fn readme_plan_diff_output() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let intro = readme
        .find("by the Rust example below")
        .expect("the README introduces its plan-diff output");
    let rest = &readme[intro..];
    let start = rest.find("```text\n").expect("a text block follows") + "```text\n".len();
    let len = rest[start..].find("```").expect("the text block ends");
    rest[start..start + len].to_string()
}

/// The README's Rust example, as written there (a fresh database per
/// side, `Config::default()`, the same load, ANALYZE, `diff_databases`
/// with `run`), prints what the README quotes, which is also what the
/// shell walkthrough prints (`the_readme_walkthrough_runs_from_the_shell`):
/// the same work counted the same way. The full scans' consistent gets
/// are the table's blocks plus the segment header (104 in test, 105 in
/// production, whose shuffled rows fill one block more) and one re-get
/// per fetch call that ended mid-scan: 1000 rows at the default fetch
/// size of 15 are 67 fetch calls, 66 of them followed by another.
#[test]
fn the_readme_rust_example_prints_what_the_readme_quotes() {
    use blocklab::plandiff::render_table;
    let base = tempfile::tempdir().unwrap();
    let load = |dir: &str, order: &str| -> blocklab::Result<Database> {
        let db = Database::open(base.path().join(dir), Config::default())?;
        let mut s = db.session();
        s.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, pad TEXT)")?;
        s.execute(&format!(
            "INSERT INTO t SELECT value, 'row ' || value || ' of t, padded to a hundred bytes or so \
             ..................' FROM generate_series(0, 9999) ORDER BY {order}"
        ))?;
        s.execute("COMMIT")?;
        s.execute("ANALYZE TABLE t")?;
        Ok(db)
    };
    let test = load("test", "value").unwrap();
    let prod = load("prod", "MOD(value * 7919, 10000)").unwrap();
    let statements = vec![
        "SELECT * FROM t WHERE k BETWEEN 3000 AND 3999".to_string(),
        "SELECT * FROM t WHERE k = 5000".to_string(),
    ];
    let impact = ImpactTable::default();
    let diffs = diff_databases(&test, &prod, &statements, &impact, true).unwrap();
    let printed = render_table(&diffs, &impact);
    let quoted = readme_plan_diff_output();
    assert!(
        printed.contains(&quoted),
        "the README quotes\n{quoted}\nits Rust example prints\n{printed}"
    );
}
