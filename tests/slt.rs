//! sqllogictest: SQLite's corpus of queries with known answers, run against
//! blocklab's SQL layer.
//!
//! The files under `tests/slt/index/` (gzip-compressed; `tests/slt/README.md`
//! says where they come from) each build a few small tables that differ only
//! in their indexes (none, composite, DESC, UNIQUE) and then ask thousands of
//! single-table queries whose answers must not depend on the access path.
//! Each file is its own `#[test]` on a fresh in-memory database, so cargo
//! runs them in parallel.
//!
//! The format (<https://www.sqlite.org/sqllogictest/doc/trunk/about.wiki>):
//! records are separated by blank lines.
//!
//! ```text
//!  hash-threshold 8            results with more values are compared by MD5
//!
//!  skipif blocklab             conditions on the next record (they stack):
//!  onlyif sqlite               this one is skipped here on either count
//!  statement ok                the statement must succeed (`error`: must fail)
//!  CREATE TABLE t1(a INTEGER, b TEXT)
//!
//!  query IT rowsort label-7    one type letter per column, sort mode, label
//!  SELECT a, b FROM t1
//!  ----
//!  1                           one value per line, after sorting
//!  (empty)
//!
//!  halt                        stop reading the file
//! ```
//!
//! Values are printed per the column's type letter, as SQLite's harness
//! prints them: `I` as an integer (a REAL is truncated toward zero), `R`
//! with three decimals, `T` as text, with `(empty)` for the empty string and
//! `@` for each byte outside printable ASCII; NULL is `NULL` in any column.
//! `rowsort` sorts the rows by their printed values (column by column, as
//! byte strings), `valuesort` sorts all the values, `nosort` keeps the
//! engine's order. A result with more values than the hash threshold is
//! written `N values hashing to <md5>`, the MD5 of each value followed by a
//! newline. Queries with the same label must give the same hash: within a
//! file, a label names one answer however the query reaches it.
//!
//! `BLOCKLAB_SLT_DIR=/some/dir` also runs every plain `*.test` file under
//! that directory (test `slt_dir`); `BLOCKLAB_SLT_SHOW=n` lists up to `n`
//! failing records instead of 20. `BLOCKLAB_SLT_REPORT=1` makes a run a
//! measurement: it prints each file's counts, the causes of its failures and
//! a total pass rate, and does not fail the test; it also runs the same
//! records on SQLite (rusqlite, in memory, in the same thread right after
//! blocklab) and prints a table of records, passes, both engines' times and
//! their ratio, per file and in total.
//!
//! Simplification: each file runs in one session in autocommit mode, as the
//! corpus expects; nothing here exercises concurrency or recovery.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Value};

/// The engine name that `skipif` and `onlyif` conditions are tested against.
const ENGINE: &str = "blocklab";

/// How many failing records a failed test lists unless `BLOCKLAB_SLT_SHOW`
/// says otherwise.
const SHOWN_FAILURES: usize = 20;

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    No,
    Rows,
    Values,
}

#[derive(Debug)]
enum Kind<'a> {
    Statement {
        sql: String,
        ok: bool,
    },
    Query {
        sql: String,
        types: &'a str,
        sort: Sort,
        label: Option<&'a str>,
        /// The lines after `----`; `None` when the record has no `----`
        /// (then only success is checked).
        expected: Option<Vec<&'a str>>,
    },
    HashThreshold(usize),
    Halt,
}

#[derive(Debug)]
struct Record<'a> {
    /// 1-based line of the `statement` / `query` / directive line.
    line: usize,
    /// A `skipif` / `onlyif` condition excludes this engine.
    skip: bool,
    /// The corpus marks the record `skipif postgresql` because PostgreSQL
    /// enforces the standard's GROUP BY rule (a column outside every
    /// aggregate must be grouped), which SQLite does not. Oracle, and so
    /// blocklab, enforce it too (ORA-00937 / ORA-00979): such a record
    /// failing with that error is an expected difference, counted apart.
    strict_group_by: bool,
    /// The corpus marks the record `skipif mssql # this is allowed`: a
    /// statement SQLite refuses and SQL Server runs (DML through a
    /// one-table view). Oracle, and so blocklab, run it too: such a
    /// statement succeeding where the corpus expects an error is an
    /// expected difference, counted apart.
    allowed_elsewhere: bool,
    kind: Kind<'a>,
}

/// Splits a file into records. A malformed record is an error naming its
/// line: a corpus we cannot read must not pass by running less of it.
fn parse(text: &str) -> Result<Vec<Record<'_>>, String> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut records = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].is_empty() || lines[i].starts_with('#') {
            i += 1;
            continue;
        }
        let mut skip = false;
        let mut strict_group_by = false;
        let mut allowed_elsewhere = false;
        let mut tokens: Vec<&str> = lines[i].split_whitespace().collect();
        while let ["skipif" | "onlyif", engine, ..] = tokens[..] {
            skip |= (tokens[0] == "skipif") == (engine == ENGINE);
            strict_group_by |=
                tokens[0] == "skipif" && engine == "postgresql" && lines[i].contains("GROUP BY");
            allowed_elsewhere |=
                tokens[0] == "skipif" && engine == "mssql" && lines[i].contains("this is allowed");
            i += 1;
            tokens = lines.get(i).unwrap_or(&"").split_whitespace().collect();
        }
        let line = i + 1;
        let bad = |what: &str| format!("line {line}: {what}: {:?}", lines.get(line - 1));
        i += 1;
        // The SQL runs to a blank line or, in a query, to `----`.
        let sql_start = i;
        while i < lines.len() && !lines[i].is_empty() && lines[i] != "----" {
            i += 1;
        }
        let sql = lines[sql_start..i].join("\n");
        let kind = match tokens[..] {
            ["hash-threshold", n] => Kind::HashThreshold(n.parse().map_err(|_| bad("bad N"))?),
            ["halt"] => Kind::Halt,
            ["statement", mode, ..] => Kind::Statement {
                ok: match mode {
                    "ok" => true,
                    "error" => false,
                    _ => return Err(bad("statement mode is neither ok nor error")),
                },
                sql,
            },
            ["query", types, ref rest @ ..] => {
                let sort = match rest.first() {
                    None | Some(&"nosort") => Sort::No,
                    Some(&"rowsort") => Sort::Rows,
                    Some(&"valuesort") => Sort::Values,
                    Some(_) => return Err(bad("unknown sort mode")),
                };
                let expected = if lines.get(i) == Some(&"----") {
                    i += 1;
                    let start = i;
                    while i < lines.len() && !lines[i].is_empty() {
                        i += 1;
                    }
                    Some(lines[start..i].to_vec())
                } else {
                    None
                };
                Kind::Query {
                    sql,
                    types,
                    sort,
                    label: rest.get(1).copied(),
                    expected,
                }
            }
            _ => return Err(bad("unknown record")),
        };
        if matches!(&kind, Kind::Statement { sql, .. } | Kind::Query { sql, .. } if sql.is_empty())
        {
            return Err(bad("record without SQL"));
        }
        records.push(Record {
            line,
            skip,
            strict_group_by,
            allowed_elsewhere,
            kind,
        });
    }
    Ok(records)
}

// ---------------------------------------------------------------------------
// Printing values the way SQLite's harness does
// ---------------------------------------------------------------------------

/// One value as the harness prints it in a column of type letter `ty`.
fn format_value(v: &Value, ty: u8) -> String {
    match (v, ty) {
        (Value::Null, _) => "NULL".to_string(),
        (Value::Int(i), b'R') => format!("{:.3}", *i as f64),
        (Value::Int(i), _) => i.to_string(),
        // `sqlite3_column_int64` of a REAL: truncation toward zero
        // (saturating, as Rust's `as` is).
        (Value::Real(r), b'I') => (r.trunc() as i64).to_string(),
        (Value::Real(r), b'R') => format!("{r:.3}"),
        (Value::Real(r), _) => real_as_text(*r),
        (Value::Text(s), b'I') => (numeric_prefix(s).trunc() as i64).to_string(),
        (Value::Text(s), b'R') => format!("{:.3}", numeric_prefix(s)),
        (Value::Text(s), _) if s.is_empty() => "(empty)".to_string(),
        (Value::Text(s), _) => s
            .bytes()
            .map(|b| {
                if (0x20..=0x7e).contains(&b) {
                    b as char
                } else {
                    '@'
                }
            })
            .collect(),
    }
}

/// The number a text starts with, as SQLite reads one (0 when none).
fn numeric_prefix(s: &str) -> f64 {
    let s = s.trim_start();
    let len = s
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(s.len());
    (1..=len)
        .rev()
        .find_map(|k| s[..k].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// SQLite's text for a REAL (`%!.15g`): 15 significant digits, at least one
/// decimal, exponent form outside 1e-4 ..< 1e15.
fn real_as_text(r: f64) -> String {
    if !r.is_finite() {
        return if r.is_nan() {
            "NaN"
        } else if r > 0.0 {
            "Inf"
        } else {
            "-Inf"
        }
        .to_string();
    }
    let sci = format!("{r:.14e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let keep_one_decimal = |s: &str| {
        let t = s.trim_end_matches('0');
        if t.ends_with('.') {
            format!("{t}0")
        } else {
            t.to_string()
        }
    };
    if (-4..15).contains(&exp) {
        let decimals = (14 - exp) as usize;
        keep_one_decimal(&format!("{r:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", keep_one_decimal(mantissa), exp.abs())
    }
}

/// `N values hashing to <md5>`, the MD5 of each value followed by `\n`.
fn hash_line(values: &[String]) -> String {
    let mut md5 = md5::Context::new();
    for v in values {
        md5.consume(v.as_bytes());
        md5.consume(b"\n");
    }
    format!("{} values hashing to {:x}", values.len(), md5.finalize())
}

// ---------------------------------------------------------------------------
// Running a file
// ---------------------------------------------------------------------------

/// A record whose outcome differs from the file's.
struct Failure {
    line: usize,
    sql: String,
    expected: String,
    got: String,
    /// Record kind, statement keyword and what went wrong, for grouping.
    category: String,
    /// The engine refused the query by the standard's GROUP BY rule.
    grouping_error: bool,
}

/// What running one file did.
struct Report {
    name: String,
    statements: usize,
    statements_passed: usize,
    queries: usize,
    queries_passed: usize,
    skipped: usize,
    /// Records refused by the GROUP BY rule that the corpus marks as
    /// PostgreSQL's difference from SQLite (see `Record::strict_group_by`),
    /// and statements run that the corpus marks as allowed elsewhere
    /// (`Record::allowed_elsewhere`): counted here, neither passed nor
    /// failed.
    expected_differences: usize,
    seconds: f64,
    failures: Vec<Failure>,
    /// The same file run on SQLite, in a measurement run.
    sqlite: Option<Box<Report>>,
}

impl Report {
    fn records(&self) -> usize {
        self.statements + self.queries
    }

    fn passed(&self) -> usize {
        self.statements_passed + self.queries_passed
    }
}

/// The database a runner sends its records to: blocklab, or (for the
/// report's comparison) SQLite itself through rusqlite.
enum Engine {
    /// Boxed: a session and its database are much larger than a SQLite
    /// connection handle.
    Blocklab(Box<Blocklab>),
    Sqlite(rusqlite::Connection),
}

/// A blocklab session on its own database.
struct Blocklab {
    session: Session,
    /// Dropped after the session.
    _db: Database,
}

/// A statement or query that failed, as the runner reports it.
struct EngineError {
    message: String,
    /// The message with its numbers blanked (see `error_category`).
    category: String,
    /// blocklab refused the query by the standard's GROUP BY rule.
    grouping: bool,
}

impl From<blocklab::Error> for EngineError {
    fn from(e: blocklab::Error) -> EngineError {
        EngineError {
            message: e.to_string(),
            category: error_category(&e.to_string()),
            grouping: matches!(
                e,
                blocklab::Error::NotSingleGroup { .. }
                    | blocklab::Error::NotGroupByExpression { .. }
            ),
        }
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> EngineError {
        EngineError {
            message: e.to_string(),
            category: error_category(&format!("sqlite: {e}")),
            grouping: false,
        }
    }
}

impl Engine {
    /// Runs a statement in autocommit mode, as SQLite's harness does.
    fn statement(&mut self, sql: &str) -> Result<(), EngineError> {
        match self {
            Engine::Blocklab(b) => {
                let session = &mut b.session;
                // A DML statement that succeeded is committed (DDL commits
                // by itself).
                if session.execute(sql)?.affected.is_some() {
                    session.commit()?;
                }
            }
            Engine::Sqlite(conn) => conn.execute_batch(sql)?,
        }
        Ok(())
    }

    /// Runs a query and returns its rows.
    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, EngineError> {
        match self {
            Engine::Blocklab(b) => Ok(b.session.execute(sql)?.rows),
            Engine::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql)?;
                let n = stmt.column_count();
                let rows = stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                                rusqlite::types::Value::Null => Value::Null,
                                rusqlite::types::Value::Integer(v) => Value::Int(v),
                                rusqlite::types::Value::Real(v) => Value::Real(v),
                                rusqlite::types::Value::Text(t) => Value::Text(t),
                                rusqlite::types::Value::Blob(b) => {
                                    Value::Text(String::from_utf8_lossy(&b).into_owned())
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<Value>>>()
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
        }
    }
}

struct Runner {
    engine: Engine,
    hash_threshold: usize,
    /// label → hash line of its first answer.
    labels: HashMap<String, String>,
}

/// A fresh in-memory database, configured for a corpus of tiny tables
/// created and dropped by the thousand:
///
/// * `SimBackend` makes a sync cost no I/O, but it copies the whole file
///   image; 1 MB redo files (not 16 MB) keep the per-commit copy small.
/// * Space is a high-water mark (a dropped segment's extents are not
///   reused), and the `delete` files create about 2,400 segments each: with
///   16-block extents the data file grows to 320 MB and every checkpoint
///   copies it; 2-block extents keep it near 48 MB.
///
/// With both, the 20 files take seconds instead of minutes.
fn fresh_database() -> Database {
    let cfg = Config {
        log_file_size: 1 << 20,
        log_files: 3,
        extent_blocks: 2,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    };
    Database::open_with(Arc::new(SimBackend::new()), cfg).expect("create an in-memory database")
}

/// `CREATE TABLE`, `INSERT`, …: the words that name a statement's kind.
fn keyword(sql: &str) -> String {
    let mut words = sql.split_whitespace().map(str::to_ascii_uppercase);
    let first = words.next().unwrap_or_default();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" => {
            let mut kw = first;
            for w in words.by_ref() {
                kw.push(' ');
                kw.push_str(&w);
                if w != "UNIQUE" {
                    break;
                }
            }
            kw
        }
        _ => first,
    }
}

/// An error message with its numbers blanked, so that one cause is one
/// category.
fn error_category(e: &str) -> String {
    let msg: String = e
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    msg.chars().take(100).collect()
}

impl Runner {
    fn new(engine: Engine) -> Runner {
        Runner {
            engine,
            hash_threshold: 0,
            labels: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &str, ok: bool) -> Result<(), Failure> {
        let fail = |expected: &str, got: String, category: String| Failure {
            line: 0,
            sql: sql.to_string(),
            expected: expected.to_string(),
            got,
            category,
            grouping_error: false,
        };
        match (self.engine.statement(sql), ok) {
            (Ok(_), true) | (Err(_), false) => Ok(()),
            (Err(e), true) => Err(fail(
                "ok",
                format!("error: {}", e.message),
                format!("statement {}: error: {}", keyword(sql), e.category),
            )),
            (Ok(_), false) => Err(fail(
                "an error",
                "ok".to_string(),
                format!("statement {}: succeeded, should fail", keyword(sql)),
            )),
        }
    }

    fn query(
        &mut self,
        sql: &str,
        types: &str,
        sort: Sort,
        label: Option<&str>,
        expected: Option<&[&str]>,
    ) -> Result<(), Failure> {
        let expected_text = || expected.map_or("(not checked)".to_string(), |e| e.join(" "));
        let fail = |got: String, category: String| Failure {
            line: 0,
            sql: sql.to_string(),
            expected: expected_text(),
            got,
            category,
            grouping_error: false,
        };
        let result = match self.engine.query(sql) {
            Ok(r) => r,
            Err(e) => {
                return Err(Failure {
                    grouping_error: e.grouping,
                    ..fail(
                        format!("error: {}", e.message),
                        format!("query: error: {}", e.category),
                    )
                })
            }
        };
        let types = types.as_bytes();
        if let Some(row) = result.iter().find(|r| r.len() != types.len()) {
            return Err(fail(
                format!("a row of {} values: {row:?}", row.len()),
                format!("query: {} columns, expected {}", row.len(), types.len()),
            ));
        }
        let mut rows: Vec<Vec<String>> = result
            .iter()
            .map(|r| {
                r.iter()
                    .zip(types)
                    .map(|(v, &t)| format_value(v, t))
                    .collect()
            })
            .collect();
        if sort == Sort::Rows {
            rows.sort();
        }
        let mut values: Vec<String> = rows.into_iter().flatten().collect();
        if sort == Sort::Values {
            values.sort();
        }
        let hash = hash_line(&values);
        let threshold = self.hash_threshold;
        let got = || {
            if values.len() > threshold {
                hash.clone()
            } else {
                values.join(" ")
            }
        };
        if let Some(expected) = expected {
            // The file gives either the values or their hash line; either
            // way the answer is the same list of printed values.
            let matches = match expected {
                [line] if line.contains(" values hashing to ") => *line == hash,
                _ => {
                    expected.len() == values.len()
                        && expected.iter().zip(&values).all(|(e, v)| e == v)
                }
            };
            if !matches {
                return Err(fail(got(), "query: wrong result".to_string()));
            }
        }
        if let Some(label) = label {
            let first = self
                .labels
                .entry(label.to_string())
                .or_insert_with(|| hash.clone());
            if *first != hash {
                let first = first.clone();
                return Err(Failure {
                    expected: format!("{first} (the first answer labelled {label})"),
                    ..fail(got(), "query: label mismatch".to_string())
                });
            }
        }
        Ok(())
    }
}

/// Whether this run is a measurement (`BLOCKLAB_SLT_REPORT`).
fn reporting() -> bool {
    std::env::var_os("BLOCKLAB_SLT_REPORT").is_some()
}

/// Runs every record of one file on a fresh blocklab database and, in a
/// measurement run, then on a fresh in-memory SQLite database, timing both.
fn run_file(name: &str, text: &str) -> Report {
    let records = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let start = Instant::now();
    let db = fresh_database();
    let engine = Engine::Blocklab(Box::new(Blocklab {
        session: db.session(),
        _db: db,
    }));
    let mut report = run_records(name, &records, engine, start);
    if reporting() {
        // The same records (blocklab's `skipif` / `onlyif` choice), so the
        // two times are for the same work.
        let start = Instant::now();
        let conn = rusqlite::Connection::open_in_memory().expect("an in-memory SQLite database");
        report.sqlite = Some(Box::new(run_records(
            name,
            &records,
            Engine::Sqlite(conn),
            start,
        )));
    }
    report
}

/// Runs `records` on `engine`; the time is counted from `start`.
fn run_records(name: &str, records: &[Record<'_>], engine: Engine, start: Instant) -> Report {
    let mut runner = Runner::new(engine);
    let mut report = Report {
        name: name.to_string(),
        statements: 0,
        statements_passed: 0,
        queries: 0,
        queries_passed: 0,
        skipped: 0,
        expected_differences: 0,
        seconds: 0.0,
        failures: Vec::new(),
        sqlite: None,
    };
    for rec in records {
        if rec.skip {
            report.skipped += 1;
            continue;
        }
        let outcome = match &rec.kind {
            Kind::HashThreshold(n) => {
                runner.hash_threshold = *n;
                continue;
            }
            Kind::Halt => break,
            Kind::Statement { sql, ok } => {
                report.statements += 1;
                let r = runner.statement(sql, *ok);
                report.statements_passed += r.is_ok() as usize;
                r
            }
            Kind::Query {
                sql,
                types,
                sort,
                label,
                expected,
            } => {
                report.queries += 1;
                let r = runner.query(sql, types, *sort, *label, expected.as_deref());
                report.queries_passed += r.is_ok() as usize;
                r
            }
        };
        if let Err(f) = outcome {
            let ran_where_refused =
                rec.allowed_elsewhere && matches!(rec.kind, Kind::Statement { ok: false, .. });
            if (rec.strict_group_by && f.grouping_error) || ran_where_refused {
                report.expected_differences += 1;
                continue;
            }
            report.failures.push(Failure {
                line: rec.line,
                ..f
            });
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report
}

/// Prints a file's counts and fails the test with the first failing
/// records, grouped causes first.
fn check(reports: &[Report]) {
    let mut failed = 0;
    let mut listing = String::new();
    let shown: usize = std::env::var("BLOCKLAB_SLT_SHOW")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SHOWN_FAILURES);
    for r in reports {
        println!(
            "slt {}: {}/{} statements and {}/{} queries passed, {} skipped, \
             {} expected differences (the standard GROUP BY rule; DML through a view), in {:.1} s",
            r.name,
            r.statements_passed,
            r.statements,
            r.queries_passed,
            r.queries,
            r.skipped,
            r.expected_differences,
            r.seconds
        );
        if r.failures.is_empty() {
            continue;
        }
        failed += r.failures.len();
        let mut categories: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &r.failures {
            *categories.entry(&f.category).or_default() += 1;
        }
        let mut categories: Vec<_> = categories.into_iter().collect();
        categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        listing.push_str(&format!(
            "\n{}: {} failing records\n  by cause:\n",
            r.name,
            r.failures.len()
        ));
        for (category, n) in categories {
            listing.push_str(&format!("    {n:>6}  {category}\n"));
        }
        for f in r.failures.iter().take(shown) {
            listing.push_str(&format!(
                "  {}:{}\n    sql:      {}\n    expected: {}\n    got:      {}\n",
                r.name,
                f.line,
                f.sql.replace('\n', " "),
                f.expected,
                f.got
            ));
        }
    }
    if reporting() {
        // A measurement run: the pass rate is the answer, not a verdict.
        let total: usize = reports.iter().map(Report::records).sum();
        let passed: usize = reports.iter().map(Report::passed).sum();
        println!("{listing}");
        print_comparison(reports);
        let expected: usize = reports.iter().map(|r| r.expected_differences).sum();
        println!(
            "slt total: {passed}/{total} records passed ({:.1}%), {failed} failed, \
             {expected} expected differences (refused by the standard GROUP BY rule, or DML \
             through a view run as Oracle runs it)",
            100.0 * passed as f64 / total.max(1) as f64
        );
        return;
    }
    if failed > 0 {
        panic!("{failed} sqllogictest records failed:{listing}");
    }
}

/// The measurement's table: per file and in total, the records, how many
/// passed on blocklab and on SQLite, each engine's time and their ratio.
fn print_comparison(reports: &[Report]) {
    let w = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(5);
    println!(
        "{:w$}  {:>8}  {:>8}  {:>10}  {:>8}  {:>10}  {:>6}",
        "file", "records", "blocklab", "blocklab s", "SQLite", "SQLite s", "ratio"
    );
    let row = |name: &str, records: usize, passed: usize, secs: f64, sq: Option<(usize, f64)>| {
        let (sq_passed, sq_secs, ratio) = match sq {
            Some((p, t)) => (
                p.to_string(),
                format!("{t:.2}"),
                format!("{:.1}", secs / t.max(1e-9)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{name:w$}  {records:>8}  {passed:>8}  {secs:>10.2}  {sq_passed:>8}  {sq_secs:>10}  {ratio:>6}"
        );
    };
    let (mut records, mut passed, mut secs) = (0, 0, 0.0);
    let (mut sq_passed, mut sq_secs, mut all_sq) = (0, 0.0, true);
    for r in reports {
        let sq = r.sqlite.as_ref().map(|q| (q.passed(), q.seconds));
        row(&r.name, r.records(), r.passed(), r.seconds, sq);
        records += r.records();
        passed += r.passed();
        secs += r.seconds;
        match sq {
            Some((p, t)) => {
                sq_passed += p;
                sq_secs += t;
            }
            None => all_sq = false,
        }
    }
    row(
        "total",
        records,
        passed,
        secs,
        all_sq.then_some((sq_passed, sq_secs)),
    );
}

// ---------------------------------------------------------------------------
// The vendored corpus: one test per file
// ---------------------------------------------------------------------------

fn slt_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt")
}

fn run_vendored(file: &str) {
    let mut text = String::new();
    let gz = std::fs::File::open(slt_root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    check(&[run_file(file.trim_end_matches(".gz"), &text)]);
}

macro_rules! vendored {
    ($($test:ident: $file:literal,)*) => {
        /// Every vendored file, relative to `tests/slt`.
        const VENDORED: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                run_vendored($file);
            }
        )*
    };
}

vendored! {
    between_1_good_0: "index/between/1/slt_good_0.test.gz",
    between_10_good_1: "index/between/10/slt_good_1.test.gz",
    between_10_good_2: "index/between/10/slt_good_2.test.gz",
    between_10_good_4: "index/between/10/slt_good_4.test.gz",
    between_10_good_5: "index/between/10/slt_good_5.test.gz",
    commute_10_good_0: "index/commute/10/slt_good_0.test.gz",
    commute_10_good_1: "index/commute/10/slt_good_1.test.gz",
    commute_10_good_2: "index/commute/10/slt_good_2.test.gz",
    commute_10_good_3: "index/commute/10/slt_good_3.test.gz",
    commute_10_good_4: "index/commute/10/slt_good_4.test.gz",
    delete_10_good_0: "index/delete/10/slt_good_0.test.gz",
    delete_10_good_1: "index/delete/10/slt_good_1.test.gz",
    delete_10_good_2: "index/delete/10/slt_good_2.test.gz",
    delete_10_good_3: "index/delete/10/slt_good_3.test.gz",
    delete_10_good_4: "index/delete/10/slt_good_4.test.gz",
    delete_10_good_5: "index/delete/10/slt_good_5.test.gz",
    orderby_10_good_0: "index/orderby/10/slt_good_0.test.gz",
    orderby_10_good_1: "index/orderby/10/slt_good_1.test.gz",
    orderby_10_good_2: "index/orderby/10/slt_good_2.test.gz",
    orderby_10_good_3: "index/orderby/10/slt_good_3.test.gz",
}

/// Every `*.test` (or `*.test.gz`) file under `dir`, sorted.
fn test_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_vendored_file_has_a_test() {
    let root = slt_root();
    let on_disk: Vec<String> = test_files(&root, ".test.gz")
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let mut listed: Vec<String> = VENDORED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/slt and the vendored! list differ");
}

/// Runs the plain `*.test` files under `BLOCKLAB_SLT_DIR`, one database per
/// file, on as many threads as there are cores.
#[test]
fn slt_dir() {
    let Some(dir) = std::env::var_os("BLOCKLAB_SLT_DIR") else {
        println!("BLOCKLAB_SLT_DIR is not set: no extra sqllogictest files to run");
        return;
    };
    let dir = PathBuf::from(dir);
    let files = test_files(&dir, ".test");
    assert!(!files.is_empty(), "no *.test files under {}", dir.display());
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads.min(files.len()) {
            s.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let text = std::fs::read_to_string(path)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    let name = path
                        .strip_prefix(&dir)
                        .unwrap_or(path)
                        .display()
                        .to_string();
                    let report = run_file(&name, &text);
                    reports.lock().unwrap().push(report);
                }
            });
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    check(&reports);
}

// ---------------------------------------------------------------------------
// The runner's own rules
// ---------------------------------------------------------------------------

#[test]
fn values_print_per_type_letter() {
    assert_eq!(format_value(&Value::Null, b'I'), "NULL");
    assert_eq!(
        format_value(&Value::Real(-7.9), b'I'),
        "-7",
        "truncated toward zero"
    );
    assert_eq!(format_value(&Value::Int(3), b'R'), "3.000");
    assert_eq!(format_value(&Value::Real(85.5549), b'R'), "85.555");
    assert_eq!(format_value(&Value::Text(String::new()), b'T'), "(empty)");
    assert_eq!(format_value(&Value::Text("a\tb".into()), b'T'), "a@b");
    assert_eq!(format_value(&Value::Real(5.6), b'T'), "5.6");
    assert_eq!(format_value(&Value::Real(2.0), b'T'), "2.0");
    assert_eq!(format_value(&Value::Real(1e20), b'T'), "1.0e+20");
    assert_eq!(format_value(&Value::Text("12abc".into()), b'I'), "12");
}

#[test]
fn hash_is_md5_of_values_each_followed_by_newline() {
    // md5("1\n2\n")
    let want = format!("2 values hashing to {:x}", md5::compute(b"1\n2\n"));
    assert_eq!(hash_line(&["1".to_string(), "2".to_string()]), want);
}

#[test]
fn records_parse_with_conditions_results_and_halt() {
    let text = "hash-threshold 8\n\nskipif blocklab\nstatement ok\nCREATE TABLE t(a INTEGER)\n\n\
                onlyif sqlite\nstatement error\nSELECT\n\nonlyif blocklab\nquery I rowsort label-1\n\
                SELECT a\nFROM t\n----\n1\n2\n\nquery T nosort\nSELECT 'x'\n\nhalt\n";
    let records = parse(text).unwrap();
    assert_eq!(records.len(), 6);
    assert!(matches!(records[0].kind, Kind::HashThreshold(8)));
    assert!(records[1].skip, "skipif blocklab skips");
    assert!(records[2].skip, "onlyif another engine skips");
    assert!(!records[3].skip, "onlyif blocklab runs");
    match &records[3].kind {
        Kind::Query {
            sql,
            sort,
            label,
            expected,
            ..
        } => {
            assert_eq!(sql, "SELECT a\nFROM t");
            assert_eq!(*sort, Sort::Rows);
            assert_eq!(*label, Some("label-1"));
            assert_eq!(expected.as_deref(), Some(&["1", "2"][..]));
        }
        k => panic!("not a query: {k:?}"),
    }
    assert!(matches!(
        &records[4].kind,
        Kind::Query { expected: None, .. }
    ));
    assert_eq!(records[3].line, 12);
    assert!(matches!(records[5].kind, Kind::Halt));
}

/// A record the corpus marks as PostgreSQL's strict GROUP BY difference,
/// refused here by the same rule, is an expected difference; the same
/// query unmarked is a failure, and a marked record that fails for any
/// other reason still fails.
#[test]
fn strict_group_by_records_are_expected_differences_only_when_marked() {
    let text = "statement ok\nCREATE TABLE t(a INTEGER, b INTEGER)\n\n\
                statement ok\nINSERT INTO t VALUES (1, 2)\n\n\
                skipif postgresql # PostgreSQL has strict column usage for GROUP BY clauses\n\
                query I rowsort\nSELECT COALESCE(b, 3) FROM t GROUP BY a\n----\n2\n\n\
                query I rowsort\nSELECT COALESCE(b, 3) FROM t GROUP BY a\n----\n2\n\n\
                skipif postgresql # PostgreSQL has strict column usage for GROUP BY clauses\n\
                query I rowsort\nSELECT a FROM t GROUP BY a\n----\n7\n";
    let r = run_file("strict", text);
    assert_eq!(r.expected_differences, 1);
    let lines: Vec<usize> = r.failures.iter().map(|f| f.line).collect();
    assert_eq!(
        lines,
        vec![13, 19],
        "the unmarked refusal and the wrong answer"
    );
}

/// A statement the corpus expects to fail here but marks as allowed on
/// SQL Server (DML through a one-table view) is an expected difference
/// when blocklab runs it, as Oracle does; the same statement unmarked is a
/// failure.
#[test]
fn dml_through_a_view_is_an_expected_difference_only_when_marked() {
    let text = "statement ok\nCREATE TABLE t(x INTEGER)\n\n\
                statement ok\nINSERT INTO t VALUES (1)\n\n\
                statement ok\nCREATE VIEW v AS SELECT x FROM t WHERE x > 0\n\n\
                skipif mssql  # this is allowed\n\
                statement error\nUPDATE v SET x = 2\n\n\
                statement error\nDELETE FROM v WHERE x > 0\n";
    let r = run_file("views", text);
    assert_eq!(r.expected_differences, 1);
    let lines: Vec<usize> = r.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![14]);
}
