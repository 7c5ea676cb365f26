//! The csv and json contracts of the script driver (the table format has
//! its golden transcripts in `golden.rs`), and what the end of a script does.

use blocklab::script::{run_script, Driver, Format, ScriptOptions};
use blocklab::{Config, Database};
use serde_json::Value as Json;

fn run(db: &Database, format: Format, stats: bool, script: &str) -> String {
    let opts = ScriptOptions {
        format,
        stats,
        user: "tester".into(),
    };
    let mut out = Vec::new();
    run_script(db, script, &opts, &mut out).expect("output is written");
    String::from_utf8(out).unwrap()
}

fn fresh() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    (dir, db)
}

const SETUP: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'a, \"b\"'), (2, NULL);
COMMIT;
";

#[test]
fn json_prints_one_object_per_statement_in_finishing_order() {
    let (_dir, db) = fresh();
    let script = format!(
        "{SETUP}UPDATE t SET name = 'x' WHERE id = 1;
\\connect b
UPDATE t SET name = 'y' WHERE id = 1;
\\connect main
COMMIT;
\\wait b
SELECT * FROM nope;
"
    );
    let out = run(&db, Format::Json, true, &script);
    let lines: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    let order: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["session"].as_str().unwrap().to_string(),
                l["sql"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // b's update waits for main's lock, so it finishes after main's COMMIT:
    // 3 setup statements, main's UPDATE and COMMIT, then b's UPDATE, then
    // the failing SELECT.
    assert_eq!(lines.len(), 7);
    assert_eq!(order[4], ("main".into(), "COMMIT".into()));
    assert_eq!(
        order[5],
        ("b".into(), "UPDATE t SET name = 'y' WHERE id = 1".into())
    );
    assert_eq!(lines[5]["affected"], 1);
    assert!(lines[5]["stats"]["enqueue waits"].as_u64() == Some(1));
    assert_eq!(lines[6]["error"]["code"], "ORA-00942");
    assert!(
        lines[6]["stats"].is_object(),
        "failed statements have stats too"
    );
}

#[test]
fn json_rows_keep_their_types() {
    let (_dir, db) = fresh();
    let out = run(
        &db,
        Format::Json,
        false,
        "SELECT 1 AS i, 2.5 AS r, 'x' AS s, NULL AS n;",
    );
    let l: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(l["columns"], serde_json::json!(["i", "r", "s", "n"]));
    assert_eq!(l["rows"], serde_json::json!([[1, 2.5, "x", null]]));
    assert!(l.get("stats").is_none(), "no stats without the flag");
}

#[test]
fn csv_prints_only_result_sets_and_sends_errors_elsewhere() {
    let (_dir, db) = fresh();
    let opts = ScriptOptions {
        format: Format::Csv,
        ..ScriptOptions::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut d = Driver::new(&db, opts, &mut out).error_output(&mut err);
    d.feed_text(&format!(
        "{SETUP}SELECT * FROM t ORDER BY id;\nSELECT * FROM nope;\nSELECT COUNT(*) AS n FROM t;"
    ))
    .unwrap();
    d.finish().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "id,name\n1,\"a, \"\"b\"\"\"\n2,\n\nn\n2\n"
    );
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "ERROR: ORA-00942: table nope does not exist\n"
    );
}

#[test]
fn open_transactions_are_rolled_back_at_the_end_of_the_script() {
    let (_dir, db) = fresh();
    run(
        &db,
        Format::Table,
        false,
        &format!("{SETUP}\\connect b\nDELETE FROM t;\n"),
    );
    // b's DELETE was never committed: the end of the script rolled it back.
    let out = run(&db, Format::Json, false, "SELECT COUNT(*) FROM t;");
    let l: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(l["rows"], serde_json::json!([[2]]));
}

#[test]
fn quit_ends_the_script() {
    let (_dir, db) = fresh();
    let out = run(
        &db,
        Format::Table,
        false,
        "SELECT 1 AS a;\n\\quit\nSELECT 2 AS b;\n",
    );
    assert!(out.contains("SELECT 1 AS a"));
    assert!(!out.contains("SELECT 2"), "{out}");
}

#[test]
fn csv_with_stats_adds_a_statistics_block_after_each_statement() {
    // Issue 19: `--format csv --stats` printed no statistics at all. Each
    // statement's non-zero counters follow it as a second CSV block
    // (header `statistic,value`), blank-line separated like result sets.
    let (_dir, db) = fresh();
    run(&db, Format::Table, false, SETUP);
    let out = run(&db, Format::Csv, true, "SELECT id FROM t WHERE id = 1;");
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{out}");
    assert_eq!(blocks[0], "id\n1");
    let stats: Vec<&str> = blocks[1].lines().collect();
    assert_eq!(stats[0], "statistic,value", "{out}");
    // An index-only primary-key probe: the root, which is the only leaf.
    assert!(stats.contains(&"consistent gets,1"), "{out}");
    assert!(stats.contains(&"index descents,1"), "{out}");
    // Without --stats, csv is only the result set.
    assert_eq!(
        run(&db, Format::Csv, false, "SELECT id FROM t WHERE id = 1;"),
        "id\n1\n"
    );
}
