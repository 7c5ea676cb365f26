//! Views: a query stored by name (`CREATE VIEW v AS SELECT …`) and merged
//! into every query that names it.
//!
//! The catalog keeps a view's query as written (`catalog::ViewDef`).
//! Before a query block binds, each table reference of its FROM clause
//! that names a view is replaced by the view's query as a derived table
//! (`FROM v x` becomes `FROM (SELECT …) x`), so a view joins, filters and
//! groups exactly as its text would inline; nothing is materialized that
//! the same derived table would not materialize.
//!
//! A view's query blocks are numbered from `id << 32` (its object id, never
//! reused): a statement's cached plan keys access paths by query block, so
//! a view's blocks can never take the access path of the statement's own
//! blocks, nor of another view's, nor of an earlier definition of itself.
//!
//! The data dictionary views (`user_tables`, `user_indexes`,
//! `user_ind_columns`, `user_tab_columns`: `catalog::views`) are named like
//! tables too; a reference to one becomes `From::Dictionary`, whose rows the
//! join layer reads from the catalog when the query runs. A table or view
//! of the user's own with such a name hides it.
//!
//! UPDATE and DELETE through a view change its key-preserved table
//! (`one_sql`, ORA-01779 otherwise); INSERT names tables only, and
//! `AS OF SCN` applies to tables, not views.

use super::ast::{From, Select, SelectItem, Stmt};
use super::parse::parse_numbered;
use crate::catalog::ViewDef;
use crate::context::Context;
use crate::error::{Error, Result};

/// `sel` with the views of its FROM clause replaced by their queries, or
/// `None` when it names no view.
pub(super) fn expand(s: &Context, sel: &Select) -> Result<Option<Select>> {
    if !names_a_view(s, &sel.from) {
        return Ok(None);
    }
    let mut out = sel.clone();
    out.from = expand_from(s, &sel.from)?;
    Ok(Some(out))
}

fn names_a_view(s: &Context, from: &From) -> bool {
    match from {
        From::Table { name, .. } => {
            let cat = s.schema().catalog.read();
            cat.views.contains_key(name) || is_dictionary(&cat, name)
        }
        From::Join { left, right, .. } => names_a_view(s, left) || names_a_view(s, right),
        From::Derived { .. } | From::Dictionary { .. } | From::Series { .. } | From::Dual => false,
    }
}

/// A dictionary view's name that no table or view of the user's hides.
fn is_dictionary(cat: &crate::catalog::Catalog, name: &str) -> bool {
    crate::catalog::views::VIEWS.contains(&name)
        && !cat.tables.contains_key(name)
        && !cat.views.contains_key(name)
}

fn expand_from(s: &Context, from: &From) -> Result<From> {
    Ok(match from {
        From::Table { name, alias, as_of } => {
            let (def, dictionary) = {
                let cat = s.schema().catalog.read();
                (cat.views.get(name).cloned(), is_dictionary(&cat, name))
            };
            match def {
                None if dictionary && as_of.is_none() => From::Dictionary {
                    name: name.clone(),
                    alias: alias.clone(),
                },
                None => from.clone(),
                Some(_) if as_of.is_some() => {
                    return Err(Error::Sql(format!(
                        "AS OF SCN applies to tables, and {name} is a view"
                    )))
                }
                Some(def) => From::Derived {
                    select: Box::new(query_of(&def)?),
                    alias: Some(alias.clone().unwrap_or_else(|| name.clone())),
                },
            }
        }
        From::Join {
            left,
            right,
            kind,
            on,
        } => From::Join {
            left: Box::new(expand_from(s, left)?),
            right: Box::new(expand_from(s, right)?),
            kind: *kind,
            on: on.clone(),
        },
        other => other.clone(),
    })
}

/// The query of stored view `name`, when `name` is a view: an UPDATE or
/// DELETE naming it changes rows through it (`one_sql::view_dml`).
pub(super) fn stored_query(s: &Context, name: &str) -> Result<Option<Select>> {
    let def = s.schema().catalog.read().views.get(name).cloned();
    def.map(|d| query_of(&d)).transpose()
}

/// A view's query, parsed with its own query block numbers, its select
/// list renamed by the view's column list.
fn query_of(def: &ViewDef) -> Result<Select> {
    let stmt = parse_numbered(&def.query, (def.id as usize) << 32)?;
    let Stmt::Select(mut sel) = stmt.stmt else {
        return Err(Error::Internal(format!("view {} is not a query", def.name)));
    };
    if let Some(cols) = &def.columns {
        if cols.len() != sel.items.len()
            || sel
                .items
                .iter()
                .any(|i| !matches!(i, SelectItem::Expr { .. }))
        {
            return Err(Error::ViewColumns {
                view: def.name.clone(),
            });
        }
        for (item, c) in sel.items.iter_mut().zip(cols) {
            if let SelectItem::Expr { alias, .. } = item {
                *alias = Some(c.clone());
            }
        }
    }
    Ok(*sel)
}
