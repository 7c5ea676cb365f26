//! Differential testing of the SQL layer against SQLite: the same random
//! table, indexes, queries and changes go to blocklab and to an in-memory
//! SQLite database, and every answer must agree.
//!
//! One case is a script:
//!
//! ```text
//!  CREATE TABLE t (id INTEGER PRIMARY KEY, c0 <INTEGER|REAL|TEXT>, … c3)
//!  CREATE [UNIQUE] INDEX t_i0 ON t (c2 DESC, c0)      before or after the rows
//!  INSERT INTO t VALUES (…), (…), …                   0..200 rows, ~15% NULLs
//!  then a mix of
//!    SELECT /*+ FULL(t) | INDEX(t t_i0) */ items FROM t WHERE … ORDER BY …
//!      (items: columns, arithmetic, CASE, COALESCE, NULLIF, CAST)
//!    SELECT cols FROM t WHERE … UNION | UNION ALL | INTERSECT | EXCEPT
//!      SELECT cols FROM t WHERE … …  [ORDER BY 1 …, 2 … [LIMIT n]]
//!      (2 to 4 arms over the same columns, each with its own hint)
//!    UPDATE t SET c1 = … WHERE …      (rows affected and full contents compared)
//!    DELETE FROM t WHERE …            (rows affected and full contents compared)
//! ```
//!
//! Rows are compared as multisets unless the ORDER BY ends in the unique
//! `id`, when the order must match too; an ORDER BY without `id` whose keys
//! are all selected must still give the same sequence of keys.
//!
//! The generator stays clear of the places where blocklab differs from SQLite
//! by design, so that every disagreement is a bug:
//!
//! * every column holds one type, and is compared with literals of that
//!   type (no INTEGER-vs-TEXT comparisons, where SQLite's affinity rules
//!   and blocklab's typing differ);
//! * no division or modulo (division by zero, and integer division);
//! * no `||` and no empty strings (Oracle-style engines treat `''` as NULL
//!   in places), and lower-case text only (SQLite's LIKE ignores ASCII case);
//! * every ORDER BY key says `NULLS FIRST` or `NULLS LAST`: blocklab sorts
//!   NULLs as the largest value, as Oracle and its index keys do, while
//!   SQLite sorts them as the smallest (`null_ordering_defaults_differ`);
//! * a UNIQUE index is declared only on data that is unique with NULL
//!   counted as a value, and no UPDATE sets its columns (SQLite and Oracle
//!   disagree about keys that are partly NULL); otherwise `id` is appended,
//!   which makes any key unique.
//!
//! Literals are generated as small integer "seeds" and printed according to
//! the column's type when the script is rendered, so proptest can shrink a
//! failing case while its script stays well-typed.
//!
//! Joins of 2 to 4 tables, forced into each join method by hint, are the
//! `joins` module's own generator.

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[path = "sql_differential/joins.rs"]
mod joins;

/// The text values: short, lower-case, sharing prefixes so that LIKE
/// patterns and range predicates both select something.
const TEXTS: &[&str] = &[
    "a", "b", "c", "d", "ab", "ac", "ba", "bb", "ca", "cc", "dd", "abc", "abd", "bad", "bca", "cab",
];

/// At most this many value columns (c0..c3) besides `id`.
const MAX_COLUMNS: usize = 4;
/// Rows per INSERT statement.
const INSERT_BATCH: usize = 50;

// ---------------------------------------------------------------------------
// The abstract case: what proptest generates and shrinks
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Real,
    Text,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Int => "INTEGER",
            Ty::Real => "REAL",
            Ty::Text => "TEXT",
        }
    }

    /// The literal a seed stands for in a column of this type: an integer,
    /// a multiple of 0.5 (exact in binary, so arithmetic on it is exact in
    /// both engines) or one of `TEXTS`.
    fn lit(self, seed: i64) -> String {
        match self {
            Ty::Int => seed.to_string(),
            Ty::Real => format!("{:.1}", seed as f64 / 2.0),
            Ty::Text => format!("'{}'", text(seed)),
        }
    }
}

fn text(seed: i64) -> &'static str {
    TEXTS[seed.rem_euclid(TEXTS.len() as i64) as usize]
}

/// A column reference: taken modulo the table's column count when rendered
/// (12 is a multiple of 1, 2, 3 and 4, so no column is favoured).
type Col = u8;

#[derive(Clone, Copy, Debug)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Arith {
    Add,
    Sub,
    Mul,
}

impl Arith {
    fn sql(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
        }
    }
}

#[derive(Clone, Debug)]
enum Pred {
    /// `c op lit`
    Cmp {
        col: Col,
        op: CmpOp,
        lit: i64,
    },
    /// `(c arith k) op lit`, numeric columns (a TEXT column renders `Cmp`).
    Arith {
        col: Col,
        arith: Arith,
        k: i64,
        op: CmpOp,
        lit: i64,
    },
    /// `a op b` when both columns have one type (else `Cmp` on `a`).
    Cols {
        a: Col,
        b: Col,
        op: CmpOp,
    },
    Between {
        col: Col,
        low: i64,
        high: i64,
        negated: bool,
    },
    /// `None` in the list is a NULL, which makes NOT IN unknown.
    In {
        col: Col,
        list: Vec<Option<i64>>,
        negated: bool,
    },
    /// `c LIKE 'ab%'` on TEXT columns (else `IS NULL`).
    Like {
        col: Col,
        lit: i64,
        prefix: usize,
        negated: bool,
    },
    IsNull {
        col: Col,
        negated: bool,
    },
    Not(Box<Pred>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
}

#[derive(Clone, Debug)]
enum Item {
    Id,
    Col(Col),
    /// `c arith k` (a TEXT column renders the plain column).
    Arith(Col, Arith, i64),
    /// `CASE WHEN p THEN c ELSE lit END`, the literal of `c`'s type.
    Case(Pred, Col, i64),
    /// `CASE c WHEN lit THEN 1 WHEN lit2 THEN 2 END`: NULL never matches.
    SimpleCase(Col, i64, i64),
    /// `COALESCE(a, b, lit)`, the literal of `a`'s type.
    Coalesce(Col, Col, i64),
    /// `NULLIF(c, lit)`.
    NullIf(Col, i64),
    /// `CAST(c AS …)`, the target chosen by the seed among those where
    /// SQLite and blocklab convert alike (not REAL to TEXT: `2.0` vs `2`).
    Cast(Col, u8),
}

#[derive(Clone, Debug)]
enum Hint {
    None,
    Full,
    /// Index number, modulo the indexes the case has.
    Index(u8),
}

#[derive(Clone, Debug)]
struct OrderKey {
    col: Col,
    desc: bool,
    nulls_first: bool,
}

#[derive(Clone, Debug)]
struct Select {
    items: Vec<Item>,
    filter: Option<Pred>,
    order: Vec<OrderKey>,
    /// Append `id` as the last key, making the order total.
    order_by_id: bool,
    hint: Hint,
}

#[derive(Clone, Debug)]
enum SetExpr {
    /// A literal seed, or NULL.
    Lit(Option<i64>),
    /// `c = c + k` on numeric columns (a literal on TEXT).
    Add(i64),
    /// `c = other` when the types match (a literal otherwise).
    Col(Col),
}

/// A set operator between two arms of a compound query.
#[derive(Clone, Copy, Debug)]
enum SetKind {
    Union,
    UnionAll,
    Intersect,
    Except,
}

impl SetKind {
    fn sql(self) -> &'static str {
        match self {
            SetKind::Union => "UNION",
            SetKind::UnionAll => "UNION ALL",
            SetKind::Intersect => "INTERSECT",
            SetKind::Except => "EXCEPT",
        }
    }
}

/// `SELECT cols FROM t WHERE p1 op1 SELECT cols FROM t WHERE p2 …
/// [ORDER BY 1, 2, … [LIMIT n]]`: every arm selects the same columns (so
/// a result column has one type, and `1` never meets `1.0`), each with its
/// own filter and hint.
#[derive(Clone, Debug)]
struct Compound {
    cols: Vec<Col>,
    arms: Vec<(Option<Pred>, Hint)>,
    /// The operator before each arm after the first (extra ones unused).
    ops: Vec<SetKind>,
    /// An ORDER BY of every result column by position, (desc, nulls
    /// first) each: a total order (equal rows are alike), so LIMIT is safe.
    order: Option<Vec<(bool, bool)>>,
    limit: Option<u8>,
}

#[derive(Clone, Debug)]
enum Op {
    Query(Select),
    Compound(Compound),
    Update {
        sets: Vec<(Col, SetExpr)>,
        filter: Option<Pred>,
    },
    Delete {
        filter: Option<Pred>,
    },
}

#[derive(Clone, Debug)]
struct IndexSpec {
    /// (column, descending); a repeated column is dropped when rendered.
    columns: Vec<(Col, bool)>,
    unique: bool,
}

#[derive(Clone, Debug)]
struct Case {
    types: Vec<Ty>,
    /// One seed per possible column; only the first `types.len()` are used.
    rows: Vec<[Option<i64>; MAX_COLUMNS]>,
    indexes: Vec<IndexSpec>,
    /// Build the indexes before the rows are inserted (maintenance) or after
    /// (index build).
    indexes_first: bool,
    ops: Vec<Op>,
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn col() -> impl Strategy<Value = Col> {
    0u8..12
}

fn seed() -> impl Strategy<Value = i64> {
    -22i64..22
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ])
}

fn arith() -> impl Strategy<Value = Arith> {
    prop::sample::select(vec![Arith::Add, Arith::Sub, Arith::Mul])
}

fn pred() -> impl Strategy<Value = Pred> {
    let leaf = prop_oneof![
        3 => (col(), cmp_op(), seed()).prop_map(|(col, op, lit)| Pred::Cmp { col, op, lit }),
        1 => (col(), arith(), -3i64..4, cmp_op(), seed())
            .prop_map(|(col, arith, k, op, lit)| Pred::Arith { col, arith, k, op, lit }),
        1 => (col(), col(), cmp_op()).prop_map(|(a, b, op)| Pred::Cols { a, b, op }),
        2 => (col(), seed(), seed(), any::<bool>()).prop_map(|(col, low, high, negated)| {
            Pred::Between { col, low, high, negated }
        }),
        2 => (col(), prop::collection::vec(prop::option::weighted(0.9, seed()), 1..5), any::<bool>())
            .prop_map(|(col, list, negated)| Pred::In { col, list, negated }),
        1 => (col(), seed(), 1usize..3, any::<bool>())
            .prop_map(|(col, lit, prefix, negated)| Pred::Like { col, lit, prefix, negated }),
        1 => (col(), any::<bool>()).prop_map(|(col, negated)| Pred::IsNull { col, negated }),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            1 => inner.clone().prop_map(|p| Pred::Not(Box::new(p))),
            2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| Pred::And(Box::new(a), Box::new(b))),
            2 => (inner.clone(), inner).prop_map(|(a, b)| Pred::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn select() -> impl Strategy<Value = Select> {
    let item = prop_oneof![
        1 => Just(Item::Id),
        4 => col().prop_map(Item::Col),
        1 => (col(), arith(), -3i64..4).prop_map(|(c, a, k)| Item::Arith(c, a, k)),
        1 => (pred(), col(), seed()).prop_map(|(p, c, k)| Item::Case(p, c, k)),
        1 => (col(), seed(), seed()).prop_map(|(c, a, b)| Item::SimpleCase(c, a, b)),
        1 => (col(), col(), seed()).prop_map(|(a, b, k)| Item::Coalesce(a, b, k)),
        1 => (col(), seed()).prop_map(|(c, k)| Item::NullIf(c, k)),
        1 => (col(), any::<u8>()).prop_map(|(c, t)| Item::Cast(c, t)),
    ];
    let key = (col(), any::<bool>(), any::<bool>()).prop_map(|(col, desc, nulls_first)| OrderKey {
        col,
        desc,
        nulls_first,
    });
    let hint = prop_oneof![
        2 => Just(Hint::None),
        1 => Just(Hint::Full),
        2 => any::<u8>().prop_map(Hint::Index),
    ];
    (
        prop::collection::vec(item, 1..4),
        prop::option::weighted(0.9, pred()),
        prop::collection::vec(key, 0..3),
        any::<bool>(),
        hint,
    )
        .prop_map(|(items, filter, order, order_by_id, hint)| Select {
            items,
            filter,
            order,
            order_by_id,
            hint,
        })
}

fn compound() -> impl Strategy<Value = Compound> {
    let hint = prop_oneof![
        2 => Just(Hint::None),
        1 => Just(Hint::Full),
        2 => any::<u8>().prop_map(Hint::Index),
    ];
    let kind = prop::sample::select(vec![
        SetKind::Union,
        SetKind::UnionAll,
        SetKind::Intersect,
        SetKind::Except,
    ]);
    (
        prop::collection::vec(col(), 1..4),
        prop::collection::vec((prop::option::weighted(0.9, pred()), hint), 2..5),
        prop::collection::vec(kind, 4),
        prop::option::weighted(
            0.5,
            prop::collection::vec((any::<bool>(), any::<bool>()), 3),
        ),
        prop::option::weighted(0.3, 0u8..12),
    )
        .prop_map(|(cols, arms, ops, order, limit)| {
            let order = order.map(|o| o[..cols.len()].to_vec());
            Compound {
                limit: limit.filter(|_| order.is_some()),
                cols,
                arms,
                ops,
                order,
            }
        })
}

fn op() -> impl Strategy<Value = Op> {
    let set = prop_oneof![
        2 => prop::option::weighted(0.8, seed()).prop_map(SetExpr::Lit),
        2 => (-3i64..4).prop_map(SetExpr::Add),
        1 => col().prop_map(SetExpr::Col),
    ];
    prop_oneof![
        6 => select().prop_map(Op::Query),
        2 => compound().prop_map(Op::Compound),
        2 => (prop::collection::vec((col(), set), 1..3), prop::option::weighted(0.9, pred()))
            .prop_map(|(sets, filter)| Op::Update { sets, filter }),
        1 => prop::option::weighted(0.9, pred()).prop_map(|filter| Op::Delete { filter }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let ty = prop::sample::select(vec![Ty::Int, Ty::Real, Ty::Text]);
    let row = prop::array::uniform4(prop::option::weighted(0.85, -20i64..20));
    let index = (
        prop::collection::vec((col(), any::<bool>()), 1..4),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(columns, unique)| IndexSpec { columns, unique });
    (
        prop::collection::vec(ty, 1..=MAX_COLUMNS),
        prop::collection::vec(row, 0..200),
        prop::collection::vec(index, 0..4),
        any::<bool>(),
        prop::collection::vec(op(), 1..12),
    )
        .prop_map(|(types, rows, indexes, indexes_first, ops)| Case {
            types,
            rows,
            indexes,
            indexes_first,
            ops,
        })
}

// ---------------------------------------------------------------------------
// Rendering the case as SQL
// ---------------------------------------------------------------------------

/// What rendering needs to know about the table.
struct Schema {
    types: Vec<Ty>,
    /// Names of the indexes, in creation order.
    indexes: Vec<String>,
    /// Columns under a UNIQUE index declared on the data alone: no UPDATE
    /// may set them.
    frozen: Vec<bool>,
}

impl Schema {
    fn col(&self, c: Col) -> (usize, String, Ty) {
        let i = c as usize % self.types.len();
        (i, format!("c{i}"), self.types[i])
    }

    fn pred(&self, p: &Pred) -> String {
        match p {
            Pred::Cmp { col, op, lit } => {
                let (_, c, ty) = self.col(*col);
                format!("{c} {} {}", op.sql(), ty.lit(*lit))
            }
            Pred::Arith {
                col,
                arith,
                k,
                op,
                lit,
            } => {
                let (_, c, ty) = self.col(*col);
                if ty == Ty::Text {
                    return self.pred(&Pred::Cmp {
                        col: *col,
                        op: *op,
                        lit: *lit,
                    });
                }
                format!(
                    "({c} {} {}) {} {}",
                    arith.sql(),
                    ty.lit(*k),
                    op.sql(),
                    ty.lit(*lit)
                )
            }
            Pred::Cols { a, b, op } => {
                let (_, ca, ta) = self.col(*a);
                let (_, cb, tb) = self.col(*b);
                if ta != tb {
                    return self.pred(&Pred::Cmp {
                        col: *a,
                        op: *op,
                        lit: *b as i64,
                    });
                }
                format!("{ca} {} {cb}", op.sql())
            }
            Pred::Between {
                col,
                low,
                high,
                negated,
            } => {
                let (_, c, ty) = self.col(*col);
                let not = if *negated { "NOT " } else { "" };
                format!("{c} {not}BETWEEN {} AND {}", ty.lit(*low), ty.lit(*high))
            }
            Pred::In { col, list, negated } => {
                let (_, c, ty) = self.col(*col);
                let not = if *negated { "NOT " } else { "" };
                let list: Vec<String> = list
                    .iter()
                    .map(|v| v.map_or("NULL".to_string(), |s| ty.lit(s)))
                    .collect();
                format!("{c} {not}IN ({})", list.join(", "))
            }
            Pred::Like {
                col,
                lit,
                prefix,
                negated,
            } => {
                let (_, c, ty) = self.col(*col);
                if ty != Ty::Text {
                    return self.pred(&Pred::IsNull {
                        col: *col,
                        negated: *negated,
                    });
                }
                let t = text(*lit);
                let not = if *negated { "NOT " } else { "" };
                format!("{c} {not}LIKE '{}%'", &t[..(*prefix).min(t.len())])
            }
            Pred::IsNull { col, negated } => {
                let (_, c, _) = self.col(*col);
                format!("{c} IS {}NULL", if *negated { "NOT " } else { "" })
            }
            Pred::Not(p) => format!("NOT ({})", self.pred(p)),
            Pred::And(a, b) => format!("({} AND {})", self.pred(a), self.pred(b)),
            Pred::Or(a, b) => format!("({} OR {})", self.pred(a), self.pred(b)),
        }
    }

    fn where_clause(&self, filter: &Option<Pred>) -> String {
        filter
            .as_ref()
            .map_or(String::new(), |p| format!(" WHERE {}", self.pred(p)))
    }

    /// The SELECT's text, and how its answer may be compared.
    fn select(&self, s: &Select) -> (String, Check) {
        let mut selected = Vec::new(); // column number of each item, if plain
        let items: Vec<String> = s
            .items
            .iter()
            .map(|item| match item {
                Item::Id => {
                    selected.push(None);
                    "id".to_string()
                }
                Item::Col(c) => {
                    let (i, name, _) = self.col(*c);
                    selected.push(Some(i));
                    name
                }
                Item::Arith(c, a, k) => {
                    let (_, name, ty) = self.col(*c);
                    selected.push(None);
                    if ty == Ty::Text {
                        name
                    } else {
                        format!("{name} {} {}", a.sql(), ty.lit(*k))
                    }
                }
                Item::Case(p, c, k) => {
                    let (_, name, ty) = self.col(*c);
                    selected.push(None);
                    format!(
                        "CASE WHEN {} THEN {name} ELSE {} END",
                        self.pred(p),
                        ty.lit(*k)
                    )
                }
                Item::SimpleCase(c, a, b) => {
                    let (_, name, ty) = self.col(*c);
                    selected.push(None);
                    format!(
                        "CASE {name} WHEN {} THEN 1 WHEN {} THEN 2 END",
                        ty.lit(*a),
                        ty.lit(*b)
                    )
                }
                Item::Coalesce(a, b, k) => {
                    let (_, a, ty) = self.col(*a);
                    let (_, b, _) = self.col(*b);
                    selected.push(None);
                    format!("COALESCE({a}, {b}, {})", ty.lit(*k))
                }
                Item::NullIf(c, k) => {
                    let (_, name, ty) = self.col(*c);
                    selected.push(None);
                    format!("NULLIF({name}, {})", ty.lit(*k))
                }
                Item::Cast(c, t) => {
                    let (_, name, ty) = self.col(*c);
                    selected.push(None);
                    let targets: &[&str] = match ty {
                        Ty::Int => &["INTEGER", "REAL", "TEXT"],
                        Ty::Real => &["INTEGER", "REAL"],
                        Ty::Text => &["INTEGER", "TEXT", "REAL"],
                    };
                    format!("CAST({name} AS {})", targets[*t as usize % targets.len()])
                }
            })
            .collect();
        let hint = match s.hint {
            Hint::None => String::new(),
            Hint::Full => "/*+ FULL(t) */ ".to_string(),
            Hint::Index(_) if self.indexes.is_empty() => String::new(),
            Hint::Index(n) => format!(
                "/*+ INDEX(t {}) */ ",
                self.indexes[n as usize % self.indexes.len()]
            ),
        };
        let mut keys: Vec<String> = Vec::new();
        let mut key_positions = Vec::new();
        for k in &s.order {
            let (i, name, _) = self.col(k.col);
            keys.push(format!(
                "{name} {} NULLS {}",
                if k.desc { "DESC" } else { "ASC" },
                if k.nulls_first { "FIRST" } else { "LAST" }
            ));
            key_positions.push(selected.iter().position(|&p| p == Some(i)));
        }
        if s.order_by_id {
            keys.push("id".to_string());
        }
        let check = if s.order_by_id {
            Check::Sequence
        } else if !keys.is_empty() && key_positions.iter().all(Option::is_some) {
            Check::Keys(key_positions.into_iter().flatten().collect())
        } else {
            Check::Multiset
        };
        let order = if keys.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", keys.join(", "))
        };
        let sql = format!(
            "SELECT {hint}{} FROM t{}{order}",
            items.join(", "),
            self.where_clause(&s.filter)
        );
        (sql, check)
    }

    /// The compound query's text, and how its answer may be compared.
    fn compound(&self, c: &Compound) -> (String, Check) {
        let cols: Vec<String> = c.cols.iter().map(|&k| self.col(k).1).collect();
        let mut sql = String::new();
        for (i, (filter, hint)) in c.arms.iter().enumerate() {
            if i > 0 {
                sql.push_str(&format!(" {} ", c.ops[i - 1].sql()));
            }
            let hint = match hint {
                Hint::None => String::new(),
                Hint::Full => "/*+ FULL(t) */ ".to_string(),
                Hint::Index(_) if self.indexes.is_empty() => String::new(),
                Hint::Index(n) => format!(
                    "/*+ INDEX(t {}) */ ",
                    self.indexes[*n as usize % self.indexes.len()]
                ),
            };
            sql.push_str(&format!(
                "SELECT {hint}{} FROM t{}",
                cols.join(", "),
                self.where_clause(filter)
            ));
        }
        let Some(order) = &c.order else {
            return (sql, Check::Multiset);
        };
        let keys: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(i, (desc, nulls_first))| {
                format!(
                    "{} {} NULLS {}",
                    i + 1,
                    if *desc { "DESC" } else { "ASC" },
                    if *nulls_first { "FIRST" } else { "LAST" }
                )
            })
            .collect();
        sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
        if let Some(n) = c.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        (sql, Check::Sequence)
    }

    /// `None` when every SET of the update touches a frozen column.
    fn update(&self, sets: &[(Col, SetExpr)], filter: &Option<Pred>) -> Option<String> {
        let mut done = vec![false; self.types.len()];
        let mut parts = Vec::new();
        for (c, e) in sets {
            let (i, name, ty) = self.col(*c);
            if self.frozen[i] || done[i] {
                continue;
            }
            done[i] = true;
            let lit = |s: Option<i64>| s.map_or("NULL".to_string(), |s| ty.lit(s));
            let value = match e {
                SetExpr::Lit(s) => lit(*s),
                SetExpr::Add(k) if ty != Ty::Text => format!("{name} + {}", ty.lit(*k)),
                SetExpr::Add(k) => lit(Some(*k)),
                SetExpr::Col(o) => {
                    let (_, other, oty) = self.col(*o);
                    if oty == ty {
                        other
                    } else {
                        lit(Some(*o as i64))
                    }
                }
            };
            parts.push(format!("{name} = {value}"));
        }
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "UPDATE t SET {}{}",
            parts.join(", "),
            self.where_clause(filter)
        ))
    }
}

/// How two answers to one query are compared.
#[derive(Debug)]
enum Check {
    /// As multisets of rows.
    Multiset,
    /// Row by row: the ORDER BY is total.
    Sequence,
    /// As multisets, and the selected ORDER BY keys (these item positions)
    /// in the same sequence.
    Keys(Vec<usize>),
}

/// The DDL and INSERTs that set a case up, and what rendering the rest
/// needs to know.
fn setup(case: &Case) -> (Schema, Vec<String>) {
    let types = case.types.clone();
    let n = types.len();
    let rows: Vec<Vec<String>> = case
        .rows
        .iter()
        .map(|r| {
            r[..n]
                .iter()
                .zip(&types)
                .map(|(v, ty)| v.map_or("NULL".to_string(), |s| ty.lit(s)))
                .collect()
        })
        .collect();
    let columns: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("c{i} {}", ty.sql()))
        .collect();
    let create = format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, {})",
        columns.join(", ")
    );
    let mut frozen = vec![false; n];
    let mut index_names = Vec::new();
    let mut index_ddl = Vec::new();
    for (k, spec) in case.indexes.iter().enumerate() {
        let mut cols: Vec<(usize, bool)> = Vec::new();
        for (c, desc) in &spec.columns {
            let i = *c as usize % n;
            if !cols.iter().any(|(j, _)| *j == i) {
                cols.push((i, *desc));
            }
        }
        let mut keys: Vec<String> = cols
            .iter()
            .map(|(i, desc)| format!("c{i}{}", if *desc { " DESC" } else { "" }))
            .collect();
        if spec.unique {
            let mut seen = std::collections::HashSet::new();
            let unique_data = rows
                .iter()
                .all(|r| seen.insert(cols.iter().map(|(i, _)| r[*i].clone()).collect::<Vec<_>>()));
            if unique_data {
                for (i, _) in &cols {
                    frozen[*i] = true;
                }
            } else {
                keys.push("id".to_string());
            }
        }
        let name = format!("t_i{k}");
        index_ddl.push(format!(
            "CREATE {}INDEX {name} ON t ({})",
            if spec.unique { "UNIQUE " } else { "" },
            keys.join(", ")
        ));
        index_names.push(name);
    }
    let inserts: Vec<String> = rows
        .chunks(INSERT_BATCH)
        .enumerate()
        .map(|(b, chunk)| {
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(j, r)| format!("({}, {})", b * INSERT_BATCH + j, r.join(", ")))
                .collect();
            format!("INSERT INTO t VALUES {}", values.join(", "))
        })
        .collect();
    let mut script = vec![create];
    if case.indexes_first {
        script.extend(index_ddl);
        script.extend(inserts);
    } else {
        script.extend(inserts);
        script.extend(index_ddl);
    }
    let schema = Schema {
        types,
        indexes: index_names,
        frozen,
    };
    (schema, script)
}

// ---------------------------------------------------------------------------
// Running a case on both engines
// ---------------------------------------------------------------------------

fn config() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 256,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    }
}

struct Pair {
    session: Session,
    _db: Database,
    sqlite: rusqlite::Connection,
    /// Every statement so far, for the failure message.
    script: Vec<String>,
}

/// -0.0 as 0.0: `c * 0.0` may give either, and they compare equal.
fn normalize(v: Value) -> Value {
    match v {
        // -0.0 + 0.0 is +0.0; every other value is unchanged.
        Value::Real(r) => Value::Real(r + 0.0),
        v => v,
    }
}

fn from_sqlite(v: rusqlite::types::Value) -> Value {
    use rusqlite::types::Value as S;
    match v {
        S::Null => Value::Null,
        S::Integer(i) => Value::Int(i),
        S::Real(r) => Value::Real(r),
        S::Text(t) => Value::Text(t),
        S::Blob(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

fn sorted(rows: &[Vec<Value>]) -> Vec<String> {
    let mut keys: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
    keys.sort();
    keys
}

fn show(rows: &[Vec<Value>]) -> String {
    let mut s: Vec<String> = rows.iter().take(20).map(|r| format!("{r:?}")).collect();
    if rows.len() > 20 {
        s.push(format!("… {} rows in all", rows.len()));
    }
    s.join("\n    ")
}

impl Pair {
    fn new() -> Pair {
        let db = Database::open_with(Arc::new(SimBackend::new()), config())
            .expect("create an in-memory database");
        Pair {
            session: db.session(),
            _db: db,
            sqlite: rusqlite::Connection::open_in_memory().expect("open SQLite"),
            script: Vec::new(),
        }
    }

    fn fail(&self, what: String) -> TestCaseError {
        TestCaseError::fail(format!(
            "{what}\n  script:\n    {};",
            self.script.join(";\n    ")
        ))
    }

    /// A statement both engines must accept (or both reject), changing the
    /// same number of rows when it is DML.
    fn statement(&mut self, sql: &str, dml: bool) -> Result<(), TestCaseError> {
        self.script.push(sql.to_string());
        // Autocommit, as SQLite runs: DML that succeeded is committed (DDL
        // commits by itself).
        let ours = self.session.execute(sql).and_then(|r| {
            if r.affected.is_some() {
                self.session.commit()?;
            }
            Ok(r)
        });
        let theirs = self.sqlite.execute(sql, []);
        match (ours, theirs) {
            (Ok(r), Ok(n)) if dml && r.affected != Some(n as u64) => Err(self.fail(format!(
                "rows affected differ: blocklab {:?}, SQLite {n}\n  statement: {sql}",
                r.affected
            ))),
            (Ok(_), Ok(_)) | (Err(_), Err(_)) => Ok(()),
            (Err(e), Ok(_)) => Err(self.fail(format!(
                "blocklab failed where SQLite did not: {e}\n  statement: {sql}"
            ))),
            (Ok(_), Err(e)) => Err(self.fail(format!(
                "SQLite failed where blocklab did not: {e}\n  statement: {sql}"
            ))),
        }
    }

    fn sqlite_rows(&self, sql: &str) -> rusqlite::Result<Vec<Vec<Value>>> {
        let mut stmt = self.sqlite.prepare(sql)?;
        let n = stmt.column_count();
        let rows = stmt.query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, rusqlite::types::Value>(i).map(from_sqlite))
                .map(|v| v.map(normalize))
                .collect::<rusqlite::Result<Vec<Value>>>()
        })?;
        rows.collect()
    }

    fn query(&mut self, sql: &str, check: &Check) -> Result<(), TestCaseError> {
        let theirs = self.sqlite_rows(sql).map_err(|e| {
            self.fail(format!(
                "SQLite rejected a generated query: {e}\n  query: {sql}"
            ))
        })?;
        let ours = match self.session.execute(sql) {
            Ok(r) => r
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(normalize).collect())
                .collect::<Vec<Vec<Value>>>(),
            Err(e) => {
                return Err(self.fail(format!(
                    "blocklab failed where SQLite did not: {e}\n  query: {sql}"
                )))
            }
        };
        let same_rows = sorted(&ours) == sorted(&theirs);
        let same_order = match check {
            Check::Multiset => true,
            Check::Sequence => ours == theirs,
            Check::Keys(positions) => {
                let keys = |rows: &[Vec<Value>]| -> Vec<Vec<Value>> {
                    rows.iter()
                        .map(|r| positions.iter().map(|&p| r[p].clone()).collect())
                        .collect()
                };
                keys(&ours) == keys(&theirs)
            }
        };
        if same_rows && same_order {
            return Ok(());
        }
        let what = if same_rows { "order" } else { "rows" };
        Err(self.fail(format!(
            "{what} differ ({check:?})\n  query: {sql}\n  blocklab ({} rows):\n    {}\n  SQLite ({} rows):\n    {}",
            ours.len(),
            show(&ours),
            theirs.len(),
            show(&theirs)
        )))
    }

    /// The whole table, in `id` order, must be the same.
    fn contents(&mut self) -> Result<(), TestCaseError> {
        self.query("SELECT * FROM t ORDER BY id", &Check::Sequence)
    }
}

fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let (schema, script) = setup(case);
    let mut pair = Pair::new();
    for sql in &script {
        pair.statement(sql, sql.starts_with("INSERT"))?;
    }
    pair.contents()?;
    for op in &case.ops {
        match op {
            Op::Query(s) => {
                let (sql, check) = schema.select(s);
                pair.query(&sql, &check)?;
            }
            Op::Compound(c) => {
                let (sql, check) = schema.compound(c);
                pair.query(&sql, &check)?;
            }
            Op::Update { sets, filter } => {
                if let Some(sql) = schema.update(sets, filter) {
                    pair.statement(&sql, true)?;
                    pair.contents()?;
                }
            }
            Op::Delete { filter } => {
                pair.statement(
                    &format!("DELETE FROM t{}", schema.where_clause(filter)),
                    true,
                )?;
                pair.contents()?;
            }
        }
    }
    Ok(())
}

// ANCHOR: differential
proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn single_table_sql_agrees_with_sqlite(case in case()) {
        run_case(&case)?;
    }
}
// ANCHOR_END: differential

/// Why every generated ORDER BY key names its NULL placement: left to
/// themselves the engines disagree, by design.
#[test]
fn null_ordering_defaults_differ() {
    let mut pair = Pair::new();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c0 INTEGER)",
        "INSERT INTO t VALUES (1, 5), (2, NULL)",
    ] {
        pair.statement(sql, false).unwrap();
    }
    let sql = "SELECT id FROM t ORDER BY c0";
    let ours: Vec<Vec<Value>> = pair.session.execute(sql).unwrap().rows;
    let theirs = pair.sqlite_rows(sql).unwrap();
    assert_eq!(
        ours,
        vec![vec![Value::Int(1)], vec![Value::Int(2)]],
        "blocklab: NULL last"
    );
    assert_eq!(
        theirs,
        vec![vec![Value::Int(2)], vec![Value::Int(1)]],
        "SQLite: NULL first"
    );
}

/// Fails the test with the pair's own message (the script so far).
fn must(r: Result<(), TestCaseError>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

// ANCHOR: index_only_shrunk
/// The smallest scripts the generator found for its first disagreement: an
/// index that covers every column of the WHERE clause is read index-only,
/// and a term that compares two columns or does arithmetic on one must then
/// be checked on the index entry, as SQLite (and a full scan) does.
#[test]
fn index_only_scans_check_expressions_over_indexed_columns() {
    let mut pair = Pair::new();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c0 INTEGER, c1 INTEGER)",
        "CREATE INDEX t_i0 ON t (c0, c1)",
        "INSERT INTO t VALUES (0, 1, 1), (1, 1, 2), (2, NULL, 3)",
    ] {
        must(pair.statement(sql, sql.starts_with("INSERT")));
    }
    must(pair.query(
        "SELECT c0, c1 FROM t WHERE c0 = 1 AND c0 = c1",
        &Check::Sequence,
    ));
    must(pair.query(
        "SELECT c0 FROM t WHERE c0 >= 1 AND c1 < c0 + 1",
        &Check::Multiset,
    ));
    must(pair.statement("CREATE INDEX t_i1 ON t (c1, id)", false));
    must(pair.statement("UPDATE t SET c0 = 5 WHERE c1 = 2 AND c1 + 1 = 3", true));
    must(pair.statement("DELETE FROM t WHERE c1 = 3 AND id < c1", true));
    must(pair.contents());
}
// ANCHOR_END: index_only_shrunk
