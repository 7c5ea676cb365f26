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
    /// an unsupported form, a wrong number of bind values.
    #[error("{0}")]
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
    /// vocabulary carries over), else a `BLK-` code of our own.
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
            Error::Syntax { .. } => "ORA-00900",
            Error::Sql(_) => "ORA-00904",
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
