//! No SQL text panics the engine: arbitrary bytes, SQL-looking strings and
//! mutations of real statements (the transcripts in tests/scripts and
//! sqllogictest-style queries) are parsed and executed against a small
//! database, and every one must end in a result or an `Error`.
//!
//! A mutation inserts, deletes, duplicates or swaps tokens, replaces a
//! literal by an extreme one, or wraps a stretch of tokens in parentheses,
//! NOT, unary minus or a function call many levels deep. Each statement
//! runs under `catch_unwind` only to report which input panicked: a panic
//! fails the test with that input.
//!
//! Bounded so that it runs in a few seconds: 64 cases of each kind by
//! default; `PROPTEST_CASES=10000 cargo test --release --test fuzz_sql`
//! runs longer. The coverage-guided fuzzer for the same target is
//! tests/fuzz (`cargo fuzz run --fuzz-dir tests/fuzz sql_parse`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The transcripts whose statements seed the mutations.
const SCRIPTS: &[&str] = &[
    include_str!("scripts/statements.sql"),
    include_str!("scripts/basics.sql"),
    include_str!("scripts/explain_paths.sql"),
    include_str!("scripts/ch02_logical_reads.sql"),
    include_str!("scripts/locks.sql"),
];

/// sqllogictest-style statements on the fuzz database's tables.
const SLT_STYLE: &[&str] = &[
    "SELECT a, b * 2 FROM t1 WHERE a BETWEEN 1 AND 5 ORDER BY 1 DESC",
    "SELECT COUNT(*), SUM(b), MIN(c), MAX(c), AVG(b) FROM t1 WHERE c LIKE 'x%' GROUP BY a % 3 HAVING COUNT(*) > 1",
    "SELECT DISTINCT b FROM t1 WHERE a IN (1, 3, 5, NULL) OR NOT (b IS NULL) LIMIT 4 OFFSET 1",
    "SELECT a FROM t1 WHERE a IN (SELECT b FROM t1 WHERE c <> 'x3') AND -a < 0",
    "SELECT ABS(-a), LENGTH(c), UPPER(c), SUBSTR(c, -2, 1), ROUND(b / 3.0, 2), COALESCE(NULL, c), MOD(a, 3) FROM t1",
    "INSERT INTO t1 VALUES (100, 7, 'new'), (101, NULL, NULL)",
    "UPDATE t1 SET b = b + 1, c = c || '!' WHERE a > 3 AND a < 8",
    "DELETE FROM t1 WHERE b = 2 OR c IS NULL",
    "SELECT value FROM generate_series(1, 20) WHERE value % 7 = 0",
    "EXPLAIN PLAN FOR SELECT /*+ INDEX(t1 t1_b) */ a FROM t1 WHERE b = 3 AND c > 'x'",
    "SELECT * FROM t1 AS OF SCN 1",
    "CREATE TABLE t2 (x INTEGER PRIMARY KEY, y TEXT UNIQUE, CHECK (x > 0))",
    "ALTER TABLE t1 ADD COLUMN d REAL",
    "CREATE INDEX t1_bc ON t1 (b DESC, c)",
    "ANALYZE TABLE t1",
    "ROLLBACK",
    "COMMIT",
];

/// Tokens a mutation may insert.
const POOL: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "LIKE",
    "(",
    ")",
    ",",
    "*",
    "+",
    "-",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "<",
    ">=",
    "a",
    "b",
    "c",
    "t1",
    "1",
    "0",
    "-1",
    "2.5",
    "'x'",
    "''",
    "?",
    ":v",
    "COUNT(*)",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "DISTINCT",
    "generate_series(1, 3)",
    "SUBSTR(",
    "ROUND(",
    "/*+ FULL(t1) */",
    ";",
    "AS OF SCN",
    "EXPLAIN",
];

/// Literals a mutation may put in place of another literal.
const EXTREMES: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "1e308",
    "-1e-308",
    "0.0",
    "''",
    "'日本語😀'",
    "NULL",
    "1000000000000",
];

/// Statements of the seed scripts: `;`-terminated, comments and
/// `\connect` lines dropped.
fn seeds() -> Vec<String> {
    let mut out: Vec<String> = SLT_STYLE.iter().map(|s| s.to_string()).collect();
    for script in SCRIPTS {
        let text: String = script
            .lines()
            .filter(|l| !l.trim_start().starts_with("--") && !l.starts_with('\\'))
            .collect::<Vec<_>>()
            .join("\n");
        out.extend(
            text.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// Splits SQL into rough tokens: quoted strings, words, numbers, and
/// single symbols.
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            let mut t = String::from(chars.next().unwrap_or('\''));
            for d in chars.by_ref() {
                t.push(d);
                if d == '\'' {
                    break;
                }
            }
            out.push(t);
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let mut t = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '.' {
                    t.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(t);
        } else {
            out.push(chars.next().map(String::from).unwrap_or_default());
        }
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, usize),
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Extreme(usize, usize),
    /// Wrap tokens [at, at + len) `depth` times in one of the wrappers.
    Wrap {
        at: usize,
        len: usize,
        depth: usize,
        wrapper: usize,
    },
}

const WRAPPERS: &[(&str, &str)] = &[
    ("(", ")"),
    ("NOT (", ")"),
    ("-(", ")"),
    ("ABS(", ")"),
    ("(1 IN (", "))"),
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = 0usize..64;
    prop_oneof![
        (i.clone(), 0..POOL.len()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        i.clone().prop_map(Mutation::Delete),
        i.clone().prop_map(Mutation::Duplicate),
        (i.clone(), i.clone()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (i.clone(), 0..EXTREMES.len()).prop_map(|(a, b)| Mutation::Extreme(a, b)),
        (
            i,
            1usize..6,
            prop_oneof![1usize..4, 200usize..300],
            0..WRAPPERS.len()
        )
            .prop_map(|(at, len, depth, wrapper)| Mutation::Wrap {
                at,
                len,
                depth,
                wrapper
            }),
    ]
}

fn apply(seed: &str, mutations: &[Mutation]) -> String {
    let mut t = tokens(seed);
    for m in mutations {
        let n = t.len().max(1);
        match *m {
            Mutation::Insert(at, p) => t.insert(at % (t.len() + 1), POOL[p].to_string()),
            Mutation::Delete(at) if !t.is_empty() => {
                t.remove(at % n);
            }
            Mutation::Duplicate(at) if !t.is_empty() => {
                let x = t[at % n].clone();
                t.insert(at % n, x);
            }
            Mutation::Swap(a, b) if !t.is_empty() => t.swap(a % n, b % n),
            Mutation::Extreme(at, e) => {
                // The first literal at or after `at`.
                let lit = (0..t.len()).map(|k| (at + k) % n).find(|&k| {
                    t[k].starts_with('\'')
                        || t[k].chars().next().is_some_and(|c| c.is_ascii_digit())
                });
                if let Some(k) = lit {
                    t[k] = EXTREMES[e].to_string();
                }
            }
            Mutation::Wrap {
                at,
                len,
                depth,
                wrapper,
            } if !t.is_empty() => {
                let start = at % n;
                let end = (start + len).min(t.len());
                let (open, close) = WRAPPERS[wrapper];
                t.insert(end, close.repeat(depth));
                t.insert(start, open.repeat(depth));
            }
            _ => {}
        }
    }
    t.join(" ")
}

fn database() -> (Database, Session) {
    let cfg = Config {
        block_size: 2048,
        cache_frames: 64,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 32,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t1 (a INTEGER PRIMARY KEY, b INTEGER, c TEXT)",
        "INSERT INTO t1 SELECT value, value % 4, 'x' || value FROM generate_series(1, 12)",
        "CREATE INDEX t1_b ON t1 (b)",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)",
        "CREATE TABLE dept (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "CREATE TABLE emp (id INTEGER PRIMARY KEY, dept_id INTEGER, name TEXT, salary REAL, bonus FLOAT)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

/// Runs each statement; a panic fails the case, naming the statement.
fn run_all(sqls: &[String]) -> Result<(), TestCaseError> {
    let (_db, mut s) = database();
    for sql in sqls {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = s.prepare(sql);
            let _ = s.execute(sql);
        }));
        if r.is_err() {
            let shown: String = sql.chars().take(2000).collect();
            return Err(TestCaseError::fail(format!("panicked on: {shown}")));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        run_all(&[String::from_utf8_lossy(&bytes).into_owned()])?;
    }

    #[test]
    fn sql_looking_text_never_panics(
        texts in prop::collection::vec("[a-zA-Z0-9 (),.*+/%<>=!|'\"?:;_\\-\\[\\]`]{0,120}", 1..4)
    ) {
        run_all(&texts)?;
    }

    #[test]
    fn mutated_statements_never_panic(
        picks in prop::collection::vec((any::<prop::sample::Index>(), prop::collection::vec(mutation(), 0..6)), 1..6)
    ) {
        let seeds = seeds();
        let sqls: Vec<String> = picks
            .iter()
            .map(|(i, ms)| apply(&seeds[i.index(seeds.len())], ms))
            .collect();
        run_all(&sqls)?;
    }
}

/// Inputs that once broke a pass, kept as regression cases.
#[test]
fn known_hostile_inputs_end_in_an_error_or_a_result() {
    let deep = |open: &str, close: &str, n: usize| {
        format!("SELECT {}1{}", open.repeat(n), close.repeat(n))
    };
    run_all(&[
        deep("(", ")", 5_000),
        deep("NOT ", "", 10_000),
        format!("SELECT {}", vec!["1"; 100_000].join(" + ")),
        "EXPLAIN EXPLAIN EXPLAIN SELECT 1".to_string(),
        "SELECT value FROM generate_series(1, 1000000000000) LIMIT 3".to_string(),
    ])
    .expect("no panic");
}
