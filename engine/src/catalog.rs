//! The catalog: table definitions, stored in a table of their own.
//!
//! The catalog segment (header at block 2) is an ordinary heap segment whose
//! rows describe tables: `(id, name, segment header block, column list)`.
//! DDL changes it through the same transactional path as any DML, inside a
//! transaction that also logs a `Ddl` redo record carrying the statement
//! text, the session user and the time — so DDL is in the redo like data.
//! The in-memory [`Catalog`] is a cache rebuilt from those rows at open and
//! updated when a DDL transaction commits.
//!
//! Column list encoding (a TEXT value): `name:TYPE[:nn],...`.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::ids::{BlockNo, RowId, TableId};
use crate::value::{ColType, Column, Row, Value};

/// A table's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    pub id: TableId,
    pub name: String,
    pub seg: BlockNo,
    pub columns: Vec<Column>,
    /// Where the definition row lives in the catalog segment.
    pub catalog_rowid: RowId,
}

impl TableDef {
    /// Checks a row against the definition; INTEGER values are accepted
    /// for REAL columns and converted.
    pub fn check_row(&self, mut row: Row) -> Result<Row> {
        let bad = |reason: String| Error::InvalidRow {
            table: self.name.clone(),
            reason,
        };
        if row.len() != self.columns.len() {
            return Err(bad(format!(
                "{} values for {} columns",
                row.len(),
                self.columns.len()
            )));
        }
        for (v, c) in row.iter_mut().zip(&self.columns) {
            match (c.ty, &*v) {
                (_, Value::Null) if c.not_null => {
                    return Err(bad(format!(
                        "NOT NULL constraint on column {} violated",
                        c.name
                    )));
                }
                (_, Value::Null)
                | (ColType::Integer, Value::Int(_))
                | (ColType::Real, Value::Real(_))
                | (ColType::Text, Value::Text(_)) => {}
                (ColType::Real, Value::Int(i)) => *v = Value::Real(*i as f64),
                (ty, v) => {
                    return Err(bad(format!(
                        "column {} is {}, got {v:?}",
                        c.name,
                        ty.name()
                    )))
                }
            }
        }
        Ok(row)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The catalog row describing this table.
    pub(crate) fn to_row(&self) -> Row {
        let cols = self
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{}:{}{}",
                    c.name,
                    c.ty.name(),
                    if c.not_null { ":nn" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![
            Value::Int(self.id.0 as i64),
            Value::Text(self.name.clone()),
            Value::Int(self.seg.0 as i64),
            Value::Text(cols),
        ]
    }

    pub(crate) fn from_row(row: &Row, rowid: RowId) -> std::result::Result<TableDef, String> {
        let [Value::Int(id), Value::Text(name), Value::Int(seg), Value::Text(cols)] =
            row.as_slice()
        else {
            return Err(format!("malformed catalog row {row:?}"));
        };
        let mut columns = Vec::new();
        for spec in cols.split(',').filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = spec.split(':').collect();
            let ty = match parts.get(1).copied() {
                Some("INTEGER") => ColType::Integer,
                Some("REAL") => ColType::Real,
                Some("TEXT") => ColType::Text,
                other => return Err(format!("bad column type {other:?} in catalog")),
            };
            columns.push(Column {
                name: parts[0].to_string(),
                ty,
                not_null: parts.get(2) == Some(&"nn"),
            });
        }
        Ok(TableDef {
            id: TableId(*id as u32),
            name: name.clone(),
            seg: BlockNo(*seg as u32),
            columns,
            catalog_rowid: rowid,
        })
    }

    /// `CREATE TABLE` text for this definition (what the redo records).
    pub fn ddl(&self) -> String {
        let cols = self
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} {}{}",
                    c.name,
                    c.ty.name(),
                    if c.not_null { " NOT NULL" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("CREATE TABLE {} ({cols})", self.name)
    }
}

/// The in-memory catalog cache.
#[derive(Default, Debug)]
pub struct Catalog {
    pub tables: BTreeMap<String, TableDef>,
    pub next_id: u32,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Result<&TableDef> {
        self.tables
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| Error::NoSuchObject {
                kind: "table",
                name: name.to_string(),
            })
    }
}
