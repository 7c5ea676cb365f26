//! DDL statements: each maps onto one or more `Session` DDL calls (which
//! commit, log the DDL text with the user and time, and commit again).
//!
//! `CREATE TABLE` with constraints is several DDL steps, as in Oracle: the
//! table, then an index per PRIMARY KEY / UNIQUE constraint (named after
//! the constraint, or `<table>_pk` / `<table>_uk<n>`), then the
//! constraints. If a later step fails the table is dropped again, so a
//! failed CREATE TABLE leaves no table behind.
//!
//! `execute` hands every DDL statement here with a binder, which a CHECK
//! condition needs: it is bound against the new table's column names and
//! turned into the access layer's predicate, the form the constraint
//! checker evaluates.

use super::ast::*;
use super::bind::{column_names, column_types, table_def};
use super::eval::{to_pred, E};
use super::execute::message;
use super::SqlResult;
use crate::btree::key::Order;
use crate::constraint::ConstraintSpec;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::value::Column;

/// Binds an expression (a CHECK condition) against column names.
pub(crate) type Binder<'a> = dyn FnMut(&mut Context, &Expr, &[String]) -> Result<E> + 'a;

fn order(desc: bool) -> Order {
    if desc {
        Order::Desc
    } else {
        Order::Asc
    }
}

pub(crate) fn run(s: &mut Context, stmt: &Stmt, bind: &mut Binder<'_>) -> Result<SqlResult> {
    match stmt {
        Stmt::CreateTable {
            name,
            columns,
            constraints,
            logging,
        } => {
            let cols: Vec<Column> = columns
                .iter()
                .map(|c| {
                    let col = Column::new(&c.name, c.ty);
                    if c.not_null {
                        col.not_null()
                    } else {
                        col
                    }
                })
                .collect();
            s.create_table(name, &cols)?;
            if let Err(e) = create_constraints(s, name, columns, constraints, !*logging, bind) {
                let _ = s.drop_table(name);
                return Err(e);
            }
            Ok(message("Table created."))
        }
        Stmt::CreateIndex {
            name,
            table,
            columns,
            unique,
        } => {
            let cols: Vec<(&str, Order)> = columns
                .iter()
                .map(|(c, d)| (c.as_str(), order(*d)))
                .collect();
            if *unique {
                s.create_unique_index(name, table, &cols)?;
            } else {
                s.create_index(name, table, &cols)?;
            }
            Ok(message("Index created."))
        }
        Stmt::DropTable { name, if_exists } => {
            if *if_exists && s.schema().catalog.read().get(name).is_err() {
                return Ok(message("Table dropped."));
            }
            s.drop_table(name)?;
            s.schema().stats.set(name, None);
            Ok(message("Table dropped."))
        }
        Stmt::DropIndex { name, if_exists } => {
            if *if_exists && s.schema().catalog.read().index(name).is_err() {
                return Ok(message("Index dropped."));
            }
            s.drop_index(name)?;
            Ok(message("Index dropped."))
        }
        Stmt::AddColumn { table, column } => {
            if column.primary_key
                || column.unique
                || column.check.is_some()
                || column.references.is_some()
            {
                return Err(Error::Sql(
                    "ADD COLUMN takes a name, a type and NULL/NOT NULL only; add constraints separately".into(),
                ));
            }
            let mut col = Column::new(&column.name, column.ty);
            col.not_null = column.not_null;
            s.add_column(table, col)?;
            Ok(message("Table altered."))
        }
        Stmt::DropColumn { table, column } => {
            s.drop_column(table, column)?;
            Ok(message("Table altered."))
        }
        Stmt::SetLogging { table, logging } => {
            s.set_table_logging(table, *logging)?;
            Ok(message("Table altered."))
        }
        Stmt::AlterIndex { name, rebuild } => {
            if *rebuild {
                s.rebuild_index(name)?;
            } else {
                s.alter_index_unusable(name)?;
            }
            Ok(message("Index altered."))
        }
        other => Err(Error::Internal(format!("not a DDL statement: {other:?}"))),
    }
}

fn create_constraints(
    s: &mut Context,
    table: &str,
    columns: &[ColumnSpec],
    constraints: &[TableConstraint],
    nologging: bool,
    bind: &mut Binder<'_>,
) -> Result<()> {
    if nologging {
        s.set_table_logging(table, false)?;
    }
    // Column constraints become table constraints.
    let mut all: Vec<TableConstraint> = Vec::new();
    for c in columns {
        if c.primary_key {
            all.push(TableConstraint::PrimaryKey {
                name: None,
                columns: vec![c.name.clone()],
            });
        }
        if c.unique {
            all.push(TableConstraint::Unique {
                name: None,
                columns: vec![c.name.clone()],
            });
        }
        if let Some(e) = &c.check {
            all.push(TableConstraint::Check {
                name: None,
                expr: e.clone(),
            });
        }
        if let Some((parent, pcol)) = &c.references {
            all.push(TableConstraint::ForeignKey {
                name: None,
                columns: vec![c.name.clone()],
                parent: parent.clone(),
                parent_columns: pcol.iter().cloned().collect(),
            });
        }
    }
    all.extend(constraints.iter().cloned());
    let (mut uk, mut ck, mut fk) = (0, 0, 0);
    for c in &all {
        match c {
            TableConstraint::PrimaryKey { name, columns } => {
                let cname = name.clone().unwrap_or_else(|| format!("{table}_pk"));
                let cols: Vec<(&str, Order)> =
                    columns.iter().map(|c| (c.as_str(), Order::Asc)).collect();
                s.create_index(&cname, table, &cols)?;
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                s.add_constraint(
                    table,
                    &cname,
                    ConstraintSpec::PrimaryKey {
                        columns: &names,
                        index: &cname,
                    },
                )?;
            }
            TableConstraint::Unique { name, columns } => {
                uk += 1;
                let cname = name.clone().unwrap_or_else(|| format!("{table}_uk{uk}"));
                let cols: Vec<(&str, Order)> =
                    columns.iter().map(|c| (c.as_str(), Order::Asc)).collect();
                s.create_unique_index(&cname, table, &cols)?;
            }
            TableConstraint::Check { name, expr } => {
                ck += 1;
                let cname = name.clone().unwrap_or_else(|| format!("{table}_ck{ck}"));
                let def = table_def(s, table)?;
                let names = column_names(&def);
                let types = column_types(&def);
                let e = bind(s, expr, &names)?;
                let pred = to_pred(&e, &names, &types);
                if pred.contains_opaque() {
                    return Err(Error::Sql(format!(
                        "CHECK ({}) is not supported: a check compares columns with constants (=, <, BETWEEN, IN, LIKE, IS NULL, AND/OR/NOT)",
                        e.render(&names)
                    )));
                }
                s.add_constraint(table, &cname, ConstraintSpec::Check(pred))?;
            }
            TableConstraint::ForeignKey {
                name,
                columns,
                parent,
                parent_columns,
            } => {
                fk += 1;
                let cname = name.clone().unwrap_or_else(|| format!("{table}_fk{fk}"));
                let parent_index = parent_key_index(s, parent, parent_columns)?;
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                s.add_constraint(
                    table,
                    &cname,
                    ConstraintSpec::ForeignKey {
                        columns: &names,
                        parent,
                        parent_index: &parent_index,
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// The index of the parent's PRIMARY KEY or UNIQUE constraint on
/// `columns` (the primary key when `columns` is empty).
fn parent_key_index(s: &Context, parent: &str, columns: &[String]) -> Result<String> {
    let cat = s.schema().catalog.read();
    let def = cat.get(parent)?;
    let want: Option<Vec<usize>> = if columns.is_empty() {
        None
    } else {
        Some(
            columns
                .iter()
                .map(|c| {
                    def.column_index(c).ok_or_else(|| {
                        Error::Sql(format!("column {c} does not exist in table {parent}"))
                    })
                })
                .collect::<Result<_>>()?,
        )
    };
    cat.constraints
        .values()
        .filter(|c| c.table == def.name)
        .find_map(|c| match (&c.kind, &want) {
            (crate::constraint::ConstraintKind::PrimaryKey { index, .. }, None) => {
                Some(index.clone())
            }
            (
                crate::constraint::ConstraintKind::PrimaryKey { columns, index }
                | crate::constraint::ConstraintKind::Unique { columns, index },
                Some(w),
            ) if columns == w => Some(index.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::Sql(format!(
                "table {parent} has no primary key or unique constraint on the referenced columns"
            ))
        })
}
