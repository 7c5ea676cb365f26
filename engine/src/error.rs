//! One error type for the whole engine.
//!
//! Errors are data: tests match on the variants (`Error::SnapshotTooOld { .. }`,
//! `Error::Corrupt { .. }`, `Error::Deadlock { .. }`), and every message names
//! what a user needs to act on (the file and block, the table, the setting).
//! Nothing read from disk or typed by a user may panic the engine; it becomes
//! one of these.

use std::path::PathBuf;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in blocklab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with the file it happened on.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A block failed its checksum or structural checks.
    #[error("corrupt block {block} in {file}: {reason}")]
    Corrupt {
        file: String,
        block: u64,
        reason: String,
    },
    /// A redo record in the middle of the log is damaged while later records
    /// are intact: this is not a torn tail, so recovery refuses to guess.
    #[error("corrupt redo log at byte {lsn} (later records are intact): {reason}")]
    CorruptLog { lsn: u64, reason: String },
    /// Redo needed for media recovery (or asked of the log miner) exists
    /// in no online log and no archive: its log file was reused before it
    /// was archived, or the archive was lost. `to: None` means "to the end".
    #[error("redo from LSN {from} to {} is not available: {reason}", .to.map_or("the end".to_string(), |t| format!("LSN {t}")))]
    RedoMissing {
        from: u64,
        to: Option<u64>,
        reason: String,
    },
    /// The database directory is open in another process (or already in
    /// this one): a database has one owner at a time. `pid` is the holder's,
    /// when its lock file names it.
    #[error("{}", locked_message(dir, *pid))]
    Locked { dir: String, pid: Option<u32> },
    /// A directory holds data files or redo logs but no control file (and no
    /// sign of a creation cut short): it was a database, and opening it as
    /// a new one would destroy what is left. `present` names those files.
    #[error(
        "{dir} is not a complete blocklab database: control file missing; data files present \
         ({}). Restore the database from a backup, or remove the directory to start a new one",
        .present.join(", ")
    )]
    IncompleteDatabase { dir: String, present: Vec<String> },
    /// The control file is unreadable.
    #[error("corrupt control file {path}: {reason}")]
    CorruptControl { path: PathBuf, reason: String },
    /// A consistent read needed undo that has been overwritten (ORA-01555).
    #[error(
        "snapshot too old: block {block} needs undo {uba} that was overwritten \
         (query SCN {query_scn}); enlarge the undo or raise undo_retention"
    )]
    SnapshotTooOld {
        block: u32,
        uba: String,
        query_scn: u64,
    },
    /// The undo is full of active undo and cannot grow (ORA-30036);
    /// `cause` says why not and what to do.
    #[error("undo space exhausted: {blocks} undo blocks all hold active undo; {cause}")]
    UndoExhausted { blocks: u32, cause: String },
    /// This transaction was chosen as the victim of a deadlock.
    #[error(
        "deadlock detected while waiting for transaction {holder}; this statement was rolled back"
    )]
    Deadlock { holder: String },
    /// A row lock wait exceeded `lock_timeout`.
    #[error("lock wait timeout after {millis} ms waiting for transaction {holder}")]
    LockTimeout { holder: String, millis: u64 },
    /// SERIALIZABLE transaction tried to change a row changed after its snapshot.
    #[error("cannot serialize access for this transaction: row {rowid} was changed after the transaction began")]
    CannotSerialize { rowid: String },
    /// A configuration value is out of range.
    #[error("bad configuration: {0}")]
    Config(String),
    /// A table, column or other object does not exist.
    #[error("{kind} {name} does not exist")]
    NoSuchObject { kind: &'static str, name: String },
    /// A table or other object already exists.
    #[error("{kind} {name} already exists")]
    AlreadyExists { kind: &'static str, name: String },
    /// A row does not match the table definition.
    #[error("invalid row for table {table}: {reason}")]
    InvalidRow { table: String, reason: String },
    /// A row is larger than what fits in one block.
    #[error("row of {size} bytes does not fit in a block ({max} bytes available)")]
    RowTooLarge { size: usize, max: usize },
    /// A rowid that does not point at a live row.
    #[error("no row at rowid {0}")]
    NoSuchRow(String),
    /// The database refused a write after an earlier failed sync or write:
    /// the in-memory state can no longer be trusted to match the disk.
    #[error("database is read-only after an earlier I/O failure ({0}); reopen it to recover")]
    Poisoned(String),
    /// The data file or log is full or too small for the request.
    #[error("space exhausted: {0}")]
    SpaceExhausted(String),
    /// A PRIMARY KEY or UNIQUE constraint would be violated.
    #[error("unique constraint {constraint} violated: the key already exists")]
    UniqueViolation { constraint: String },
    /// A CHECK constraint is false for the row.
    #[error("check constraint {constraint} violated")]
    CheckViolation { constraint: String },
    /// A FOREIGN KEY constraint would be violated.
    #[error("foreign key constraint {constraint} violated: {reason}")]
    ForeignKeyViolation { constraint: String, reason: String },
    /// The table was loaded by direct path in this transaction (ORA-12838).
    #[error("cannot read or modify {table} after a direct-path load in the same transaction: commit or roll back first")]
    DirectPathPending { table: String },
    /// A statement of this transaction failed and its statement-level
    /// rollback failed too, so the transaction holds part of a statement:
    /// it can only be rolled back.
    #[error("transaction must be rolled back: a failed statement could not be undone ({0})")]
    MustRollback(String),
    /// An internal invariant failed; reported instead of panicking.
    #[error("internal error: {0}")]
    Internal(String),
    /// SQL text that does not parse; `line` and `column` are 1-based.
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax {
        message: String,
        line: u64,
        column: u64,
    },
    /// SQL that parses but cannot run: an unknown column, a type mismatch,
    /// an unsupported form, a wrong number of bind values. Its code is
    /// read from the message ([`Error::code`], `sql_code`); a message may
    /// name its Oracle code itself as a leading `ORA-nnnnn: `, which the
    /// code takes and the text leaves out.
    #[error("{}", without_code(.0))]
    Sql(String),
    /// `CAST(x AS name)` where `name` is no type (Oracle's ORA-00902
    /// "invalid datatype").
    #[error("invalid datatype: {name} is not a type CAST converts to (INTEGER, REAL, TEXT, NUMERIC or a synonym)")]
    InvalidDatatype { name: String },
    /// A column that is neither aggregated nor grouped beside an aggregate,
    /// in a query without GROUP BY (Oracle's ORA-00937 "not a single-group
    /// group function"): one result row, and no single value for it.
    #[error("not a single-group group function: column {column} is not inside an aggregate, and the query has no GROUP BY")]
    NotSingleGroup { column: String },
    /// A column that is neither aggregated nor part of a GROUP BY
    /// expression, in a grouped query (Oracle's ORA-00979 "not a GROUP BY
    /// expression"): a group has no single value for it.
    #[error(
        "not a GROUP BY expression: column {column} is neither grouped nor inside an aggregate"
    )]
    NotGroupByExpression { column: String },
    /// A bare column name that more than one table of the FROM clause has
    /// (Oracle's ORA-00918 "column ambiguously defined"): qualify it.
    #[error("column ambiguously defined: {column} is a column of more than one table in the FROM clause (write t.{column})")]
    AmbiguousColumn { column: String },
    /// A view's column list does not name each column of its query
    /// (Oracle's ORA-01730 "invalid number of column names specified").
    #[error("invalid number of column names specified for view {view}: one name per column of its query")]
    ViewColumns { view: String },
    /// A subquery used as a value found more than one row (Oracle's
    /// ORA-01427 "single-row subquery returns more than one row").
    #[error("single-row subquery returns more than one row")]
    SubqueryRows,
    /// A function whose body is a query found more than one row (Oracle's
    /// ORA-01422 "exact fetch returns more than requested number of rows",
    /// which a PL/SQL `SELECT … INTO` raises).
    #[error("exact fetch returns more than requested number of rows: the query of function {function} found more than one row")]
    TooManyRows { function: String },
    /// Recursive SQL nested deeper than `levels`: a function whose query
    /// calls a function whose query … (Oracle's ORA-00036 "maximum number
    /// of recursive SQL levels exceeded"); a depth limit instead of a stack
    /// overflow.
    #[error("maximum number of recursive SQL levels ({levels}) exceeded")]
    RecursionLimit { levels: u32 },
    /// An INSERT gives each row another number of values than it names
    /// columns: Oracle's ORA-00947 "not enough values" or ORA-00913 "too
    /// many values", by which side is short.
    #[error("{} values: {values} values for {columns} columns of {table}", if values < columns { "not enough" } else { "too many" })]
    ValueCount {
        table: String,
        values: usize,
        columns: usize,
    },
    /// An UPDATE or DELETE through a join view changes a column of a table
    /// that is not key-preserved: some other table of the join is not
    /// joined through one of its PRIMARY KEY or UNIQUE keys, so a row of
    /// this table may appear more than once in the view (Oracle's
    /// ORA-01779 "cannot modify a column which maps to a non key-preserved
    /// table").
    #[error("cannot modify a column which maps to a non key-preserved table: {column}")]
    NonKeyPreserved { column: String },
    /// A MERGE matched one target row with more than one source row
    /// (Oracle's ORA-30926 "unable to get a stable set of rows in the
    /// source tables"): which source row's values it would take is
    /// undefined.
    #[error("unable to get a stable set of rows in the source tables: target row {rowid} is matched by more than one source row")]
    UnstableMerge { rowid: String },
    /// A MERGE's UPDATE SET names a column its ON clause reads (Oracle's
    /// ORA-38104 "Columns referenced in the ON Clause cannot be updated").
    #[error("columns referenced in the ON clause cannot be updated: {column}")]
    MergeOnColumn { column: String },
    /// An arm of a compound SELECT (`UNION`, `INTERSECT`, `EXCEPT`) has
    /// another number of result columns than the first (Oracle's ORA-01789
    /// "query block has incorrect number of result columns"); `arm` counts
    /// from 1.
    #[error("query block has incorrect number of result columns: arm {arm} of the compound SELECT has {columns}, the first has {first}")]
    CompoundColumns {
        arm: usize,
        columns: usize,
        first: usize,
    },
    /// An ORDER BY key of a compound SELECT that is neither the position
    /// nor the name of a result column (Oracle's ORA-01785 "ORDER BY item
    /// must be the number of a SELECT-list expression"): the sort applies
    /// to the whole result, which has only its columns.
    #[error("ORDER BY item must be the number of a SELECT-list expression: {item} is no column of the compound SELECT's result ({columns} columns)")]
    CompoundOrderBy { item: String, columns: usize },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds a corrupt-block error.
    pub fn corrupt(file: impl Into<String>, block: u64, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            file: file.into(),
            block,
            reason: reason.into(),
        }
    }
}

/// The message of `Error::Locked`: who holds the directory, and what to do.
fn locked_message(dir: &str, pid: Option<u32>) -> String {
    let holder = match pid {
        Some(p) if p == std::process::id() => format!("this process (pid {p})"),
        Some(p) => format!("another process (pid {p})"),
        None => "another process".to_string(),
    };
    format!(
        "database {dir} is already open in {holder}; a database has one owner at a time: \
         close it there first, or use another directory"
    )
}

impl Error {
    /// A short, stable code for scripts and JSON output: the Oracle error
    /// number where Oracle has the same condition (so the course's
    /// vocabulary carries over), else a `BLK-` code of our own. `Sql` and
    /// `Syntax` carry only a message, built in many places of the SQL
    /// layer; their codes are read from it by the tables `SQL_CODES` and
    /// `SYNTAX_CODES` below, one place for the whole mapping.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "BLK-00001",
            Error::Corrupt { .. } => "ORA-01578",
            Error::CorruptLog { .. } => "ORA-00354",
            Error::CorruptControl { .. } => "ORA-00227",
            Error::Locked { .. } => "ORA-01102",
            Error::IncompleteDatabase { .. } => "ORA-00205",
            Error::RedoMissing { .. } => "ORA-00308",
            Error::SnapshotTooOld { .. } => "ORA-01555",
            Error::UndoExhausted { .. } => "ORA-30036",
            Error::Deadlock { .. } => "ORA-00060",
            Error::LockTimeout { .. } => "ORA-30006",
            Error::CannotSerialize { .. } => "ORA-08177",
            Error::Config(_) => "BLK-00002",
            Error::NoSuchObject { .. } => "ORA-00942",
            Error::AlreadyExists { .. } => "ORA-00955",
            Error::InvalidRow { .. } => "ORA-01400",
            Error::RowTooLarge { .. } => "BLK-00003",
            Error::NoSuchRow(_) => "BLK-00004",
            Error::Poisoned(_) => "BLK-00005",
            Error::SpaceExhausted(_) => "ORA-01653",
            Error::UniqueViolation { .. } => "ORA-00001",
            Error::CheckViolation { .. } => "ORA-02290",
            Error::ForeignKeyViolation { .. } => "ORA-02291",
            Error::DirectPathPending { .. } => "ORA-12838",
            Error::MustRollback(_) => "BLK-00006",
            Error::Internal(_) => "ORA-00600",
            Error::Syntax { message, .. } => syntax_code(message),
            Error::Sql(message) => sql_code(message),
            Error::TooManyRows { .. } => "ORA-01422",
            Error::InvalidDatatype { .. } => "ORA-00902",
            Error::NotSingleGroup { .. } => "ORA-00937",
            Error::NotGroupByExpression { .. } => "ORA-00979",
            Error::AmbiguousColumn { .. } => "ORA-00918",
            Error::SubqueryRows => "ORA-01427",
            Error::ViewColumns { .. } => "ORA-01730",
            Error::NonKeyPreserved { .. } => "ORA-01779",
            Error::UnstableMerge { .. } => "ORA-30926",
            Error::MergeOnColumn { .. } => "ORA-38104",
            Error::RecursionLimit { .. } => "ORA-00036",
            Error::CompoundColumns { .. } => "ORA-01789",
            Error::CompoundOrderBy { .. } => "ORA-01785",
            Error::ValueCount {
                values, columns, ..
            } => {
                if values < columns {
                    "ORA-00947"
                } else {
                    "ORA-00913"
                }
            }
        }
    }
}

/// How a message is recognised in the tables below.
enum Fragment {
    /// The message starts with this text.
    Starts(&'static str),
    /// The message contains this text.
    Has(&'static str),
}

impl Fragment {
    fn matches(&self, message: &str) -> bool {
        match self {
            Fragment::Starts(f) => message.starts_with(f),
            Fragment::Has(f) => message.contains(f),
        }
    }
}

use Fragment::{Has, Starts};

/// The code of a SQL statement blocklab cannot run where Oracle has no
/// error of its own: an engine limit (relations in a FROM clause, rows of
/// a series, a definition larger than a catalog block), or a rule of
/// blocklab's simplified SQL.
pub const NO_ORACLE_CODE: &str = "BLK-00007";

/// The `Error::Sql` messages by Oracle error, first match wins (Oracle
/// Database Error Messages, the ORA-00000 to ORA-65535 chapters). Each
/// fragment is the fixed part of a message built in `sql::` or `catalog`;
/// `error::tests` pins one message of each. A message found in none is
/// [`NO_ORACLE_CODE`].
const SQL_CODES: &[(Fragment, &str)] = &[
    // Messages that name their code (the text printed leaves it out):
    // ORA-01466 unable to read data - table definition has changed,
    // ORA-01732 data manipulation operation not legal on this view,
    // ORA-01733 virtual column not allowed here, ORA-01752 cannot delete
    // from view without exactly one key-preserved table, ORA-01776 cannot
    // modify more than one base table through a join view.
    (Starts("ORA-01466: "), "ORA-01466"),
    (Starts("ORA-01732: "), "ORA-01732"),
    (Starts("ORA-01733: "), "ORA-01733"),
    (Starts("ORA-01752: "), "ORA-01752"),
    (Starts("ORA-01776: "), "ORA-01776"),
    // ORA-00904 invalid identifier: an unknown column, and as in Oracle an
    // unknown function name or `t.*` qualifier.
    (Starts("no column named "), "ORA-00904"),
    (Has(" does not exist in table "), "ORA-00904"),
    (Starts("no function named "), "ORA-00904"),
    (Starts("no table named "), "ORA-00904"),
    // ORA-01722 invalid number: text where a number is needed.
    (Has(" needs a number, got the text "), "ORA-01722"),
    (Starts("cannot sum the text value "), "ORA-01722"),
    (Starts("arithmetic on the text value "), "ORA-01722"),
    (Starts("cannot negate text"), "ORA-01722"),
    (Starts("LIMIT/OFFSET needs an integer"), "ORA-01722"),
    (Starts("generate_series needs two integers"), "ORA-01722"),
    // ORA-01426 numeric overflow.
    (Starts("integer overflow in "), "ORA-01426"),
    // ORA-08181 specified number is not a valid system change number.
    (
        Starts("AS OF SCN needs a non-negative integer"),
        "ORA-08181",
    ),
    (
        Starts("FLASHBACK TABLE needs a non-negative SCN"),
        "ORA-08181",
    ),
    // ORA-00909 invalid number of arguments (a built-in function);
    // ORA-06553 PLS-306 wrong number or types of arguments in call (a
    // function the user registered).
    (Starts("wrong number of arguments to "), "ORA-00909"),
    (Has("() takes one argument"), "ORA-00909"),
    (Has(" argument(s) but "), "ORA-06553"),
    // ORA-00934 group function is not allowed here.
    (Has(" is not allowed here"), "ORA-00934"),
    // ORA-00936 missing expression: SUM(*) and the like.
    (Has("(*) is not valid"), "ORA-00936"),
    // ORA-01785 ORDER BY item must be the number of a SELECT-list expression.
    (Starts("ORDER BY position "), "ORA-01785"),
    // ORA-00913 too many values: a scalar subquery of several columns.
    (
        Starts("a subquery used as a value must select exactly one column"),
        "ORA-00913",
    ),
    // Names and definitions: ORA-00972 identifier is too long, ORA-01741
    // illegal zero-length identifier, ORA-01792 maximum number of columns
    // in a table or view is 1000.
    (Has(" characters long (limit "), "ORA-00972"),
    (Has(" name cannot be empty"), "ORA-01741"),
    (Has(" columns (limit "), "ORA-01792"),
    // Constraints and DDL: ORA-02270 no matching unique or primary key for
    // this column-list, ORA-02449 unique/primary keys in table referenced
    // by foreign keys, ORA-01758 table must be empty to add mandatory (NOT
    // NULL) column, ORA-12983 cannot drop all columns in a table.
    (
        Has("has no primary key or unique constraint on the referenced columns"),
        "ORA-02270",
    ),
    (Has(" is referenced by foreign key "), "ORA-02449"),
    (Starts("cannot add NOT NULL column "), "ORA-01758"),
    (Starts("cannot drop the only column of "), "ORA-12983"),
    // ORA-03001 unimplemented feature: forms Oracle runs and blocklab
    // does not.
    (
        Starts("the right side of a LEFT JOIN must be one table or subquery"),
        "ORA-03001",
    ),
    (Starts("AS OF SCN applies to tables"), "ORA-03001"),
    (
        Starts("a view changed by DML must name its columns"),
        "ORA-03001",
    ),
    (
        Starts("MERGE USING takes a table or a subquery"),
        "ORA-03001",
    ),
    (
        Starts("ADD COLUMN takes a name, a type and NULL/NOT NULL only"),
        "ORA-03001",
    ),
    (
        Has(") is not supported: a check compares columns"),
        "ORA-03001",
    ),
    (
        Starts("EXPLAIN takes SELECT, INSERT, UPDATE or DELETE"),
        "ORA-03001",
    ),
];

/// The `Error::Syntax` messages by Oracle error, first match wins; a
/// message found in none keeps ORA-00900 (invalid SQL statement), the
/// code of every syntax error before. A parser message has its `(found
/// …)` after the fragment.
const SYNTAX_CODES: &[(Fragment, &str)] = &[
    (Starts("expected a statement"), "ORA-00900"),
    (
        Starts("expected SELECT, INSERT, UPDATE or DELETE"),
        "ORA-00900",
    ),
    // ORA-00933 SQL command not properly ended.
    (
        Starts("unexpected text after the end of the statement"),
        "ORA-00933",
    ),
    // ORA-00936 missing expression.
    (Starts("expected an expression"), "ORA-00936"),
    // Missing punctuation: ORA-00906 left parenthesis, ORA-00907 right
    // parenthesis, ORA-00917 comma, ORA-00927 equal sign.
    (Starts("expected '('"), "ORA-00906"),
    (Starts("expected ')'"), "ORA-00907"),
    (Starts("expected ','"), "ORA-00917"),
    (Starts("expected '='"), "ORA-00927"),
    // Missing keywords with a code of their own: ORA-00923 FROM keyword
    // not found where expected, ORA-00924 missing BY, ORA-00925 missing
    // INTO, ORA-00926 missing VALUES, ORA-00971 missing SET.
    (Starts("expected FROM "), "ORA-00923"),
    (Starts("expected BY "), "ORA-00924"),
    (Starts("expected INTO "), "ORA-00925"),
    (Starts("expected VALUES "), "ORA-00926"),
    (Starts("expected SET "), "ORA-00971"),
    // ORA-00901 invalid CREATE command; ORA-01735 invalid ALTER TABLE
    // option; ORA-00902 invalid datatype.
    (Starts("expected VIEW after CREATE OR REPLACE"), "ORA-00901"),
    (Starts("expected INDEX after CREATE UNIQUE"), "ORA-00901"),
    (
        Starts("expected ADD, DROP, LOGGING or NOLOGGING"),
        "ORA-01735",
    ),
    (Starts("expected a column type"), "ORA-00902"),
    (
        Starts("expected INTEGER, REAL/FLOAT or TEXT/VARCHAR"),
        "ORA-00902",
    ),
    (Starts("expected a type name after AS"), "ORA-00902"),
    // ORA-00905 missing keyword.
    (Starts("CASE needs at least one WHEN"), "ORA-00905"),
    (
        Starts("expected WHEN MATCHED or WHEN NOT MATCHED"),
        "ORA-00905",
    ),
    // The lexer: ORA-01756 quoted string not properly terminated, ORA-01740
    // missing double quote in identifier, ORA-00911 invalid character,
    // ORA-00972 identifier is too long.
    (Starts("unterminated string literal"), "ORA-01756"),
    (Starts("unterminated quoted identifier"), "ORA-01740"),
    (Starts("unexpected character "), "ORA-00911"),
    (Has(" characters long (limit "), "ORA-00972"),
    // ORA-03001 unimplemented feature.
    (Has(" joins are not supported"), "ORA-03001"),
    (Has(" USING is not supported"), "ORA-03001"),
];

/// A message's leading `ORA-nnnnn: ` code, if it has one.
fn leading_code(message: &str) -> Option<&str> {
    let code = message.get(..9)?;
    let digits = code.strip_prefix("ORA-")?;
    (digits.bytes().all(|b| b.is_ascii_digit()) && message[9..].starts_with(": ")).then_some(code)
}

/// An `Error::Sql` message without its leading code (the code is printed
/// beside it).
fn without_code(message: &str) -> &str {
    match leading_code(message) {
        Some(_) => &message[11..],
        None => message,
    }
}

/// The code of an `Error::Sql` message: a wrong number of bind values by
/// which side is short (ORA-01008 not all variables bound, ORA-01006 bind
/// variable does not exist), else the first of [`SQL_CODES`] that
/// matches, else [`NO_ORACLE_CODE`].
fn sql_code(message: &str) -> &'static str {
    if let Some(rest) = message.strip_prefix("the statement has ") {
        // "… has P bind variable(s) but N value(s) were given" / "but a
        // row of N value(s) was given".
        let numbers: Vec<u64> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [params, values] = numbers[..] {
            return if values < params {
                "ORA-01008"
            } else {
                "ORA-01006"
            };
        }
    }
    SQL_CODES
        .iter()
        .find(|(f, _)| f.matches(message))
        .map_or(NO_ORACLE_CODE, |&(_, code)| code)
}

/// The code of an `Error::Syntax` message (see [`SYNTAX_CODES`]).
fn syntax_code(message: &str) -> &'static str {
    SYNTAX_CODES
        .iter()
        .find(|(f, _)| f.matches(message))
        .map_or("ORA-00900", |&(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(message: &str) -> Error {
        Error::Sql(message.to_string())
    }

    fn syntax(message: &str) -> Error {
        Error::Syntax {
            message: message.to_string(),
            line: 1,
            column: 1,
        }
    }

    /// One message of each form `sql::` and `catalog` build, with the code
    /// Oracle gives the same condition (before: ORA-00904 for all).
    #[test]
    fn each_sql_error_has_oracles_code_where_oracle_has_one() {
        for (message, code) in [
            ("no column named nope", "ORA-00904"),
            ("no column named t.nope", "ORA-00904"),
            ("column c does not exist in table t", "ORA-00904"),
            ("no function named frob", "ORA-00904"),
            ("no table named x in the FROM clause", "ORA-00904"),
            ("ABS() needs a number, got the text abc", "ORA-01722"),
            ("cannot sum the text value 'x'", "ORA-01722"),
            ("arithmetic on the text value 'x'", "ORA-01722"),
            ("cannot negate text", "ORA-01722"),
            ("LIMIT/OFFSET needs an integer, got 'x'", "ORA-01722"),
            ("generate_series needs two integers", "ORA-01722"),
            ("integer overflow in ABS()", "ORA-01426"),
            ("AS OF SCN needs a non-negative integer, got -1", "ORA-08181"),
            ("FLASHBACK TABLE needs a non-negative SCN, got -1", "ORA-08181"),
            ("wrong number of arguments to substr(): 4", "ORA-00909"),
            ("COUNT() takes one argument", "ORA-00909"),
            ("function f takes 1 argument(s) but 2 were given", "ORA-06553"),
            ("aggregate SUM() is not allowed here", "ORA-00934"),
            ("SUM(*) is not valid", "ORA-00936"),
            ("ORDER BY position 3 is not in the select list", "ORA-01785"),
            (
                "a subquery used as a value must select exactly one column, not 2",
                "ORA-00913",
            ),
            ("table name abc… is 200 characters long (limit 128)", "ORA-00972"),
            ("a column name cannot be empty", "ORA-01741"),
            ("table t would have 1001 columns (limit 1000)", "ORA-01792"),
            (
                "table p has no primary key or unique constraint on the referenced columns",
                "ORA-02270",
            ),
            (
                "table dept is referenced by foreign key emp_fk1 of table emp",
                "ORA-02449",
            ),
            (
                "cannot add NOT NULL column c to t: existing rows would have NULL",
                "ORA-01758",
            ),
            ("cannot drop the only column of t", "ORA-12983"),
            (
                "the statement has 2 bind variable(s) but 1 value(s) were given",
                "ORA-01008",
            ),
            (
                "the statement has 1 bind variable(s) but a row of 3 value(s) was given",
                "ORA-01006",
            ),
            (
                "the right side of a LEFT JOIN must be one table or subquery, not a parenthesized join",
                "ORA-03001",
            ),
            ("AS OF SCN applies to tables, and v is a view", "ORA-03001"),
            ("a view changed by DML must name its columns (no *)", "ORA-03001"),
            ("MERGE USING takes a table or a subquery", "ORA-03001"),
            (
                "ADD COLUMN takes a name, a type and NULL/NOT NULL only; add constraints separately",
                "ORA-03001",
            ),
            (
                "CHECK (a + b > 0) is not supported: a check compares columns with constants",
                "ORA-03001",
            ),
            ("EXPLAIN takes SELECT, INSERT, UPDATE or DELETE", "ORA-03001"),
            (
                "ORA-01732: data manipulation operation not legal on this view (a compound, grouped or DISTINCT query)",
                "ORA-01732",
            ),
            ("ORA-01733: virtual column not allowed here: c", "ORA-01733"),
            (
                "ORA-01752: cannot delete from view without exactly one key-preserved table",
                "ORA-01752",
            ),
            (
                "ORA-01776: cannot modify more than one base table through a join view",
                "ORA-01776",
            ),
            (
                "ORA-01466: the definition of t changed after SCN 5: flashback cannot cross DDL",
                "ORA-01466",
            ),
            // No Oracle equivalent: blocklab's limits and rules.
            ("a FROM clause joins at most 64 relations", NO_ORACLE_CODE),
            ("generate_series(1, 99999999999) would produce more than 100000000 rows", NO_ORACLE_CODE),
            ("expression nested too deeply (limit 200)", NO_ORACLE_CODE),
            ("statement restarted 100 times: rows keep changing under it", NO_ORACLE_CODE),
            ("the body of function f must be a query (SELECT)", NO_ORACLE_CODE),
            ("GROUP BY a * position", NO_ORACLE_CODE),
            ("an UPDATE sets at least one column", NO_ORACLE_CODE),
            (
                "column c is used by constraint t_ck: drop the constraint first",
                NO_ORACLE_CODE,
            ),
            (
                "the definition of view v is too long to store in one block",
                NO_ORACLE_CODE,
            ),
        ] {
            assert_eq!(sql(message).code(), code, "{message}");
        }
    }

    #[test]
    fn a_code_the_message_names_is_not_printed_twice() {
        let e = sql("ORA-01733: virtual column not allowed here: c");
        assert_eq!(e.to_string(), "virtual column not allowed here: c");
        // Text that only looks like a code is kept.
        assert_eq!(sql("ORA-1: x").to_string(), "ORA-1: x");
        assert_eq!(sql("no column named x").to_string(), "no column named x");
    }

    #[test]
    fn each_syntax_error_has_oracles_code_where_oracle_has_one() {
        for (message, code) in [
            ("expected a statement (found 'selec')", "ORA-00900"),
            ("unexpected text after the end of the statement (found 'x')", "ORA-00933"),
            ("expected an expression (found 'from')", "ORA-00936"),
            ("expected '(' (found 'x')", "ORA-00906"),
            ("expected ')' (found end of statement)", "ORA-00907"),
            ("expected ',' (found 'x')", "ORA-00917"),
            ("expected '=' (found 'x')", "ORA-00927"),
            ("expected FROM (found 'x')", "ORA-00923"),
            ("expected BY (found 'x')", "ORA-00924"),
            ("expected INTO (found 'x')", "ORA-00925"),
            ("expected VALUES (found 'x')", "ORA-00926"),
            ("expected SET (found 'x')", "ORA-00971"),
            ("expected VIEW after CREATE OR REPLACE (found 'x')", "ORA-00901"),
            ("expected ADD, DROP, LOGGING or NOLOGGING (found 'x')", "ORA-01735"),
            ("expected a column type (found end of statement)", "ORA-00902"),
            ("CASE needs at least one WHEN (found 'end')", "ORA-00905"),
            ("unterminated string literal", "ORA-01756"),
            ("unterminated quoted identifier", "ORA-01740"),
            ("unexpected character '$'", "ORA-00911"),
            ("identifier abc… is 200 characters long (limit 128)", "ORA-00972"),
            (
                "RIGHT, FULL and NATURAL joins are not supported (write the join as a LEFT or INNER JOIN … ON) (found 'right')",
                "ORA-03001",
            ),
            // Where the code depends on context Oracle knows and the
            // message does not (ORA-00903 after FROM, ORA-00904 in a
            // column list): the generic code, as before.
            ("expected a name (found 'where')", "ORA-00900"),
            ("expected TRANSACTION (found 'autotrace')", "ORA-00900"),
        ] {
            assert_eq!(syntax(message).code(), code, "{message}");
        }
    }
}
