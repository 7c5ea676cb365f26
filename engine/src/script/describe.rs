//! The client commands that show the dictionary: `DESCRIBE t` (`DESC t`,
//! `\d t`), `SHOW TABLES` (`\dt`, `.tables`) and `\di` (`.indexes`).
//!
//! Each answers a list of [`Section`]s (a title and a result table), which
//! the driver prints like query results in every format. They read the
//! catalog only, through `catalog::views` where an Oracle view has the
//! same rows, so `\dt` shows what a later `SELECT * FROM user_tables`
//! will.
//!
//! ```text
//! DESCRIBE t            Name  Null?     Type          (SQL*Plus' layout)
//!                       id    NOT NULL  INTEGER
//!                       Indexes: name, columns, UNIQUE/NONUNIQUE, status
//!                       Constraints: name, kind, columns / condition / parent
//! ```

use crate::access;
use crate::btree::key::Order;
use crate::catalog::constraint_def::ConstraintKind;
use crate::catalog::views::{self, View};
use crate::catalog::{Catalog, IndexDef, TableDef};
use crate::error::Result;
use crate::value::{Row, Value};

/// One titled result table of a client command.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Section {
    /// Printed above the table (`Indexes:`), if any.
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn section(title: Option<&str>, columns: &[&str], rows: Vec<Row>) -> Section {
    Section {
        title: title.map(str::to_string),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// SQL*Plus' answer to a DESCRIBE of an object that does not exist.
pub(crate) const NO_SUCH_OBJECT: &str = "ORA-04043";

/// `DESCRIBE table`: its columns, then its indexes and constraints when
/// it has any; `None` when there is no such table.
pub(crate) fn describe(cat: &Catalog, table: &str) -> Option<Vec<Section>> {
    let t = cat.tables.get(table)?;
    let pk = primary_key_columns(cat, &t.name);
    let cols = t
        .visible_columns()
        .map(|(pos, c)| {
            let not_null = c.not_null || pk.contains(&pos);
            vec![
                text(&c.name),
                text(if not_null { "NOT NULL" } else { "" }),
                text(c.ty.name()),
            ]
        })
        .collect();
    let mut out = vec![section(None, &["Name", "Null?", "Type"], cols)];
    let indexes = cat.indexes_of(&t.name);
    if !indexes.is_empty() {
        let rows = indexes.iter().map(|ix| index_row(cat, t, ix)).collect();
        out.push(section(
            Some("Indexes:"),
            &["Index", "Columns", "Uniqueness", "Status"],
            rows,
        ));
    }
    let cons: Vec<Row> = cat
        .constraints
        .values()
        .filter(|c| c.table == t.name)
        .map(|c| {
            let names = |cols: &[usize]| column_list(t, cols.iter().map(|&c| (c, Order::Asc)));
            let (kind, detail) = match &c.kind {
                ConstraintKind::PrimaryKey { columns, index } => {
                    ("PRIMARY KEY", format!("({}) index {index}", names(columns)))
                }
                ConstraintKind::Unique { columns, index } => {
                    ("UNIQUE", format!("({}) index {index}", names(columns)))
                }
                ConstraintKind::ForeignKey {
                    columns, parent, ..
                } => (
                    "FOREIGN KEY",
                    format!("({}) REFERENCES {parent}", names(columns)),
                ),
                ConstraintKind::Check { pred } => {
                    let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
                    ("CHECK", format!("({})", access::render(pred, &all)))
                }
            };
            vec![text(&c.name), text(kind), text(&detail)]
        })
        .collect();
    if !cons.is_empty() {
        out.push(section(
            Some("Constraints:"),
            &["Constraint", "Type", "Definition"],
            cons,
        ));
    }
    Some(out)
}

/// `SHOW TABLES`: `user_tables` (statistics NULL until ANALYZE).
pub(crate) fn tables(cat: &Catalog) -> Result<Vec<Section>> {
    let v = views::view(cat, "user_tables")?.unwrap_or(View {
        columns: Vec::new(),
        rows: Vec::new(),
    });
    Ok(vec![Section {
        title: None,
        columns: v.columns,
        rows: v.rows,
    }])
}

/// `\di [table]`: each index (of `table`) with its columns in key order;
/// `None` when `table` does not exist.
pub(crate) fn indexes(cat: &Catalog, table: Option<&str>) -> Option<Vec<Section>> {
    if table.is_some_and(|t| !cat.tables.contains_key(t)) {
        return None;
    }
    let rows = cat
        .indexes
        .values()
        .filter(|ix| table.is_none_or(|t| ix.table == t))
        .filter_map(|ix| {
            let t = cat.tables.get(&ix.table)?;
            let mut row = index_row(cat, t, ix);
            row.insert(1, text(&ix.table));
            Some(row)
        })
        .collect();
    Some(vec![section(
        None,
        &["Index", "Table", "Columns", "Uniqueness", "Status"],
        rows,
    )])
}

/// Index, columns (`a, b DESC`), UNIQUE or NONUNIQUE, VALID or UNUSABLE.
fn index_row(cat: &Catalog, t: &TableDef, ix: &IndexDef) -> Row {
    let unique = views::is_unique_index(cat, &ix.name);
    vec![
        text(&ix.name),
        text(&column_list(t, ix.columns.iter().copied())),
        text(if unique { "UNIQUE" } else { "NONUNIQUE" }),
        text(if ix.usable { "VALID" } else { "UNUSABLE" }),
    ]
}

/// `a, b DESC`: column names by position, with DESC where it applies.
fn column_list(t: &TableDef, cols: impl Iterator<Item = (usize, Order)>) -> String {
    cols.map(|(c, order)| {
        let name = t.columns.get(c).map_or("?", |c| c.name.as_str());
        match order {
            Order::Desc => format!("{name} DESC"),
            Order::Asc => name.to_string(),
        }
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The columns of `table`'s PRIMARY KEY (NOT NULL, as in Oracle).
fn primary_key_columns(cat: &Catalog, table: &str) -> Vec<usize> {
    cat.constraints
        .values()
        .filter(|c| c.table == table)
        .filter_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, .. } => Some(columns.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}
