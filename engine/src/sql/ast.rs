//! blocklab's own SQL syntax tree: the subset the engine runs, independent
//! of the parser crate's types (which change between its releases).
//!
//! Names are lower-cased when the tree is built (SQL identifiers are
//! case-insensitive here). A column reference keeps its table qualifier
//! (`t.c` is [`Expr::Qualified`]) for the binder to resolve against the
//! tables of the FROM clause. A compound SELECT is its first arm with the
//! others in `Select::compound`.

use crate::txn::Isolation;
use crate::value::{ColType, Value};

/// One parsed statement, with what the parser found in its comments.
#[derive(Clone, Debug)]
pub struct Statement {
    pub stmt: Stmt,
    /// Number of distinct bind placeholders (`?` are each new; a repeated
    /// `:name` is the same one).
    pub params: usize,
    pub hints: Hints,
}

/// Optimizer hints from `/*+ … */` comments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// `FULL(t)`: tables to read by full scan.
    pub full: Vec<String>,
    /// `INDEX(t idx)`: (table, index).
    pub index: Vec<(String, String)>,
    /// `NUM_INDEX_KEYS(t idx n)`: (table, index, n).
    pub num_index_keys: Vec<(String, String, usize)>,
    /// `APPEND`: direct-path insert.
    pub append: bool,
    /// `BATCH_TABLE_ACCESS_BY_ROWID(t)`: sort an index range's rowids by
    /// table block before visiting the table (list prefetch).
    pub batch: Vec<String>,
    /// `LEADING(t1 t2 …)`: the join order starts with these tables.
    pub leading: Vec<String>,
    /// `ORDERED`: join in the order of the FROM clause.
    pub ordered: bool,
    /// `USE_NL(t)`, `USE_HASH(t)`, `USE_MERGE(t)`: the method that joins
    /// `t` to the tables before it.
    pub use_nl: Vec<String>,
    pub use_hash: Vec<String>,
    pub use_merge: Vec<String>,
    /// `SWAP_JOIN_INPUTS(t)`: a hash join of `t` builds on `t`;
    /// `NO_SWAP_JOIN_INPUTS(t)`: on the rows joined before `t`. Without
    /// either, on the input estimated smaller.
    pub swap_join_inputs: Vec<String>,
    pub no_swap_join_inputs: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    CreateTable {
        name: String,
        columns: Vec<ColumnSpec>,
        constraints: Vec<TableConstraint>,
        logging: bool,
    },
    CreateIndex {
        name: String,
        table: String,
        /// (column, descending)
        columns: Vec<(String, bool)>,
        unique: bool,
    },
    DropTable {
        name: String,
        if_exists: bool,
    },
    DropIndex {
        name: String,
        if_exists: bool,
    },
    /// `CREATE [OR REPLACE] VIEW name [(columns)] AS SELECT …`: `text` is
    /// the query as written (what the catalog keeps), `query` its parse.
    CreateView {
        name: String,
        columns: Option<Vec<String>>,
        query: Box<Select>,
        text: String,
        replace: bool,
    },
    /// `DROP VIEW [IF EXISTS] name`
    DropView {
        name: String,
        if_exists: bool,
    },
    AddColumn {
        table: String,
        column: ColumnSpec,
    },
    DropColumn {
        table: String,
        column: String,
    },
    /// `ALTER TABLE t LOGGING | NOLOGGING`
    SetLogging {
        table: String,
        logging: bool,
    },
    /// `ALTER INDEX i UNUSABLE` (false) / `ALTER INDEX i REBUILD` (true)
    AlterIndex {
        name: String,
        rebuild: bool,
    },
    /// `INSERT [OR REPLACE | OR IGNORE] INTO …`, `REPLACE INTO …`.
    Insert {
        table: String,
        columns: Option<Vec<String>>,
        source: InsertSource,
        conflict: OnConflict,
    },
    Select(Box<Select>),
    /// `UPDATE t [alias] SET … [WHERE …]`: the alias (else the table
    /// name) qualifies the target's columns, so a correlated subquery's
    /// `alias.c` reads the row being updated.
    Update {
        table: String,
        alias: Option<String>,
        sets: Vec<Assign>,
        filter: Option<Expr>,
    },
    Delete {
        table: String,
        alias: Option<String>,
        filter: Option<Expr>,
    },
    /// `UPDATE (SELECT … FROM a JOIN b …) SET … [WHERE …]`: an update
    /// through a join view (`sql::one_sql`); the SET and WHERE name the
    /// view's columns.
    UpdateView {
        view: Box<Select>,
        sets: Vec<Assign>,
        filter: Option<Expr>,
    },
    /// `DELETE FROM (SELECT … FROM a JOIN b …) [WHERE …]`: deletes from the
    /// view's key-preserved table.
    DeleteView {
        view: Box<Select>,
        filter: Option<Expr>,
    },
    /// `MERGE INTO target USING source ON (…) WHEN …`
    Merge(Box<Merge>),
    Commit,
    Rollback,
    /// `BEGIN [TRANSACTION | WORK]`, `START TRANSACTION`: accepted for
    /// scripts written for engines with explicit transaction starts. A
    /// transaction here starts at its first change, as in Oracle, so BEGIN
    /// only checks that none is open.
    Begin,
    /// `SET TRANSACTION ISOLATION LEVEL …`: the next transaction only.
    SetIsolation(Isolation),
    /// `ALTER SESSION SET ISOLATION_LEVEL = …`: every later transaction.
    SessionIsolation(Isolation),
    /// `ALTER SESSION SET HASH_AREA_SIZE = n`: the hash join work area,
    /// in bytes.
    SetHashAreaSize(u64),
    /// `ALTER SESSION SET SORT_AREA_SIZE = n`: the sort work area, bytes.
    SetSortAreaSize(u64),
    /// `FLASHBACK TABLE t TO SCN n`
    Flashback {
        table: String,
        scn: Expr,
    },
    /// `SET SESSION USER name`: the user recorded with later changes.
    SetUser(String),
    Analyze {
        table: String,
    },
    Explain(Box<Stmt>),
}

/// One item of an UPDATE's SET list.
#[derive(Clone, Debug)]
pub enum Assign {
    /// `c = expr`
    Column(String, Expr),
    /// `(a, b) = (SELECT x, y …)`: one subquery gives several columns
    /// (Oracle's form), run once per row, not once per column.
    Row(Vec<String>, Box<Select>),
}

impl Assign {
    /// The columns it sets.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Assign::Column(c, _) => vec![c.as_str()],
            Assign::Row(cs, _) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// `MERGE INTO target [alias] USING source [alias] ON (cond)` with its
/// WHEN branches (either may be missing, not both).
#[derive(Clone, Debug)]
pub struct Merge {
    pub target: String,
    pub target_alias: Option<String>,
    /// A table or a subquery (a derived table), with its alias.
    pub source: From,
    pub on: Expr,
    /// `WHEN MATCHED THEN UPDATE SET … [WHERE …] [DELETE WHERE …]`
    pub matched: Option<MergeUpdate>,
    /// `WHEN NOT MATCHED THEN INSERT [(cols)] VALUES (…) [WHERE …]`
    pub not_matched: Option<MergeInsert>,
}

/// MERGE's WHEN MATCHED branch.
#[derive(Clone, Debug)]
pub struct MergeUpdate {
    pub sets: Vec<Assign>,
    /// Only matched rows where it is true are updated.
    pub filter: Option<Expr>,
    /// Of the rows updated, those where it is true (on the new values)
    /// are deleted.
    pub delete: Option<Expr>,
}

/// MERGE's WHEN NOT MATCHED branch.
#[derive(Clone, Debug)]
pub struct MergeInsert {
    pub columns: Option<Vec<String>>,
    pub values: Vec<Expr>,
    /// Only source rows where it is true are inserted.
    pub filter: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColType,
    pub not_null: bool,
    pub primary_key: bool,
    pub unique: bool,
    pub check: Option<Expr>,
    /// `REFERENCES parent (column)`
    pub references: Option<(String, Option<String>)>,
}

#[derive(Clone, Debug)]
pub enum TableConstraint {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    Unique {
        name: Option<String>,
        columns: Vec<String>,
    },
    Check {
        name: Option<String>,
        expr: Expr,
    },
    ForeignKey {
        name: Option<String>,
        columns: Vec<String>,
        parent: String,
        parent_columns: Vec<String>,
    },
}

/// What an INSERT does with a row whose PRIMARY KEY or UNIQUE key is
/// already taken (SQLite's conflict clause, MySQL's `REPLACE`; Oracle has
/// neither and writes a MERGE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// The statement fails (ORA-00001), as every standard INSERT does.
    #[default]
    Abort,
    /// The rows holding any of the new row's unique keys are deleted
    /// first, then the row is inserted.
    Replace,
    /// The new row is skipped.
    Ignore,
}

#[derive(Clone, Debug)]
pub enum InsertSource {
    Values(Vec<Vec<Expr>>),
    Select(Box<Select>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// The query block's number in its statement (1, 2, … in the order the
    /// parser met them; Oracle's `SEL$1`, `SEL$2`): the key of its access
    /// path in a cached plan. 0 is the table access of an UPDATE or DELETE.
    pub qblock: usize,
    pub distinct: bool,
    pub items: Vec<SelectItem>,
    pub from: From,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
    /// The arms after this one in a compound SELECT (`a UNION b EXCEPT c`
    /// is `a` with `[(Union, b), (Except, c)]`), applied left to right.
    /// When it is not empty, this block's `order_by`, `limit` and `offset`
    /// are the whole compound's (the parser attaches the trailing ones
    /// here), and no arm has its own.
    pub compound: Vec<(SetOp, Select)>,
}

/// A set operator between two arms of a compound SELECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`: the rows of both, duplicates removed.
    Union,
    /// `UNION ALL`: the rows of both, duplicates kept.
    UnionAll,
    /// `INTERSECT`: the distinct rows found in both.
    Intersect,
    /// `EXCEPT` (Oracle's `MINUS`): the distinct rows of the left arm not in
    /// the right.
    Except,
}

impl SetOp {
    /// The operator as SQL writes it.
    pub fn keyword(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum From {
    /// `FROM t [alias] [AS OF SCN n]`
    Table {
        name: String,
        alias: Option<String>,
        as_of: Option<Expr>,
    },
    /// `FROM generate_series(a, b)`: one INTEGER column `value`.
    Series { start: Expr, stop: Expr },
    /// No FROM clause: one row with no columns.
    Dual,
    /// `left [INNER | LEFT [OUTER] | CROSS] JOIN right [ON cond]`, or
    /// `left, right` (an inner join with no condition of its own: the
    /// WHERE clause joins them).
    Join {
        left: Box<From>,
        right: Box<From>,
        kind: JoinKind,
        on: Option<Expr>,
    },
    /// `(SELECT …) [AS] alias`: a derived table (an inline view).
    Derived {
        select: Box<Select>,
        alias: Option<String>,
    },
    /// A data dictionary view (`user_tables`, `user_indexes`,
    /// `user_ind_columns`, `user_tab_columns`), read from the catalog
    /// (`catalog::views`); the parser writes it as a table, `sql::view`
    /// turns it into this.
    Dictionary { name: String, alias: Option<String> },
}

/// How a join keeps its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// The pairs that satisfy the condition (also `CROSS JOIN` and `,`).
    Inner,
    /// As `Inner`, plus each left row that has no pair, with NULLs for the
    /// right side's columns.
    Left,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard,
    /// `t.*`: every column of the table (or alias) `t`.
    TableWildcard(String),
    Expr {
        expr: Expr,
        alias: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub desc: bool,
    /// `NULLS FIRST` (Some(true)) / `NULLS LAST` (Some(false)); by default
    /// NULLs sort as the largest value (last ascending, first descending),
    /// as in Oracle and in the index key order.
    pub nulls_first: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    /// `=`, `<>`, `<`, `<=`, `>` or `>=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Value),
    /// A column by lower-cased name, found in whichever table of the FROM
    /// clause has it (it must be exactly one).
    Column(String),
    /// `t.c`: column `c` of the table whose alias (or name) is `t`.
    Qualified(String, String),
    /// Bind placeholder number (0-based).
    Param(usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    /// One operator and its two operands (a comparison, or a chain of
    /// one operator).
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `first op1 e1 op2 e2 …`, two operators or more of one precedence
    /// level, applied left to right. A long chain (`1 + 1 + … + 1`,
    /// `a = 1 OR a = 2 OR …`) is kept flat rather than as a left-deep tree,
    /// so that its length is not a nesting depth for any later pass.
    /// Invariant: the operators are all OR, all AND, all of `+ - ||`, or
    /// all of `* / %`.
    Chain {
        first: Box<Expr>,
        rest: Vec<(BinOp, Expr)>,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `(SELECT …)` as a value: NULL when it finds no row, its one
    /// column when it finds one, an error (ORA-01427) for more. It may
    /// read columns of the enclosing query (correlated).
    Subquery(Box<Select>),
    /// `EXISTS (SELECT …)`: whether the subquery finds a row (never NULL;
    /// `NOT EXISTS` is `Not` of it).
    Exists(Box<Select>),
    /// `expr [NOT] IN (SELECT col FROM …)`, correlated or not.
    InSubquery {
        expr: Box<Expr>,
        subquery: Box<Select>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// A function call: an aggregate (COUNT/SUM/MIN/MAX/AVG), a built-in
    /// scalar function, or a user-defined one. `star` is `COUNT(*)`.
    Func {
        name: String,
        args: Vec<Expr>,
        star: bool,
        distinct: bool,
    },
    /// `CASE [operand] WHEN w THEN t … [ELSE e] END`. With an operand (a
    /// simple CASE) each `w` is compared with it by `=`, so a NULL operand
    /// or a NULL `w` never matches; without one (a searched CASE) each `w`
    /// is a condition. No branch taken and no ELSE: NULL.
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`.
    Cast {
        expr: Box<Expr>,
        to: CastType,
    },
}

/// The target of a CAST: a storage type, or NUMERIC (an integer when the
/// value is a whole number, else a REAL, as SQLite's NUMERIC affinity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastType {
    Integer,
    Real,
    Text,
    Numeric,
}

impl CastType {
    /// The type a CAST names (`INT`, `VARCHAR`, `DOUBLE`, …), by SQLite's
    /// affinity rules restricted to names Oracle or SQLite users write;
    /// `None` for a name that is no type (Oracle's ORA-00902).
    pub fn from_name(name: &str) -> Option<CastType> {
        Some(match name {
            "integer" | "int" | "bigint" | "smallint" | "tinyint" => CastType::Integer,
            "real" | "float" | "double" => CastType::Real,
            "text" | "varchar" | "varchar2" | "char" | "character" | "clob" | "string" => {
                CastType::Text
            }
            "numeric" | "number" | "decimal" => CastType::Numeric,
            _ => return None,
        })
    }

    /// The name for headings and EXPLAIN.
    pub fn name(self) -> &'static str {
        match self {
            CastType::Integer => "INTEGER",
            CastType::Real => "REAL",
            CastType::Text => "TEXT",
            CastType::Numeric => "NUMERIC",
        }
    }
}
