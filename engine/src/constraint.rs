//! Integrity constraints: NOT NULL, CHECK, PRIMARY KEY, UNIQUE, FOREIGN KEY.
//!
//! What each costs is the point of claim C02, and it is visible in the
//! counters:
//!
//! | constraint | checked on | reads |
//! |---|---|---|
//! | NOT NULL, CHECK | the new row only | none |
//! | PRIMARY KEY, UNIQUE | the backing index: a probe for the key's prefix | one descent (+ leaves) |
//! | FOREIGN KEY, child side | the parent's key index: a probe | one descent in the parent's index |
//! | FOREIGN KEY, parent side (delete / key update) | a full scan of the child table | every child block |
//!
//! **Unique probes** (`crate::btree::tree::probe`) run under a per-index
//! lock held until the new entry is in the index, so two sessions cannot
//! both find a key free. An entry inserted or deleted by a transaction that
//! is still active makes the probe wait for it (its outcome decides), as
//! Oracle does. A PRIMARY KEY or UNIQUE constraint may be backed by a
//! non-unique index whose leading columns are the constraint's (every index
//! here stores the rowid in its keys; uniqueness is the constraint's
//! business, so the index can later be made unusable and rebuilt without
//! dropping the constraint — claim C12). Keys with a NULL are not checked
//! for uniqueness (SQL: NULLs are not equal); a PRIMARY KEY column may not
//! be NULL.
//!
//! **Foreign keys** check the parent through the parent's key index under
//! that index's lock, after the child row is in place, so a concurrent
//! parent delete (which takes the same lock and then scans the child table,
//! current and committed rows alike) always sees it. Simplification: a
//! parent delete that meets a child row fails at once (Oracle would also
//! fail for a committed child, and wait for an uncommitted one).

use crate::access::{eval, Pred};
use crate::btree::key::encode_prefix;
use crate::btree::tree::{probe, Probe};
pub(crate) use crate::catalog::constraint_def::Rules;
pub use crate::catalog::constraint_def::{ConstraintDef, ConstraintKind};
use crate::catalog::{Catalog, IndexDef, TableDef};

use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{RowId, Scn};
use crate::kernel::Kernel;
use crate::stats::SessionStats;
use crate::txn::{Snapshot, TxnCtx};
use crate::value::{decode_row, encode_row, Row, Value};

/// Checks the row-only constraints (NOT NULL is checked by
/// `TableDef::check_row`; here CHECK and the PRIMARY KEY's NOT NULL).
pub(crate) fn check_row(rules: &Rules, row: &Row) -> Result<()> {
    for c in &rules.own {
        match &c.kind {
            ConstraintKind::Check { pred } if eval(pred, row) == Some(false) => {
                return Err(Error::CheckViolation {
                    constraint: c.name.clone(),
                });
            }
            ConstraintKind::PrimaryKey { columns, .. }
                if columns.iter().any(|&i| row[i].is_null()) =>
            {
                return Err(Error::InvalidRow {
                    table: rules.def.name.clone(),
                    reason: format!("primary key {}: a key column is NULL", c.name),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The key prefix of `vals` (the constraint columns, in index order).
fn prefix_of(ix: &IndexDef, table: &TableDef, vals: &[Value]) -> Vec<u8> {
    let cols = ix.key_columns(table);
    let mut k = Vec::new();
    encode_prefix(&cols, vals, &mut k);
    k
}

/// Probes `ix` for `vals` until no other active transaction decides it;
/// runs `then` under the index's lock with the outcome.
pub(crate) fn with_probe<T>(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    ix: &IndexDef,
    table: &TableDef,
    vals: &[Value],
    then: impl FnOnce(&mut TxnCtx, Probe) -> Result<T>,
) -> Result<T> {
    let prefix = prefix_of(ix, table, vals);
    loop {
        let lock = core.unique_locks.get(ix.tree.root);
        let guard = lock.lock();
        match probe(core, stats, txn, ix.tree, &prefix)? {
            Probe::WaitFor(x) => {
                drop(guard);
                core.waits
                    .wait_for(txn.xid, x, core.cfg.lock_timeout, stats)?;
            }
            p => {
                let r = then(txn, p);
                drop(guard);
                return r;
            }
        }
    }
}

/// Child side of the foreign keys: each non-NULL foreign key of `row`
/// must find its parent.
pub(crate) fn check_parents(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    row: &Row,
    only_changed_from: Option<&Row>,
) -> Result<()> {
    for c in &rules.own {
        let ConstraintKind::ForeignKey { columns, .. } = &c.kind else {
            continue;
        };
        let vals: Vec<Value> = columns.iter().map(|&i| row[i].clone()).collect();
        if vals.iter().any(Value::is_null) {
            continue;
        }
        if let Some(old) = only_changed_from {
            if columns.iter().all(|&i| old[i] == row[i]) {
                continue;
            }
        }
        let Some((_, ptable, pix)) = rules.parents.iter().find(|(n, _, _)| *n == c.name) else {
            return Err(Error::Internal(format!(
                "foreign key {} without its parent index",
                c.name
            )));
        };
        with_probe(core, stats, txn, pix, ptable, &vals, |_, p| match p {
            Probe::Taken(_) => Ok(()),
            _ => Err(Error::ForeignKeyViolation {
                constraint: c.name.clone(),
                reason: format!("parent key not found in {}", ptable.name),
            }),
        })?;
    }
    Ok(())
}

/// Parent side: no child row may reference `old`'s key once it is gone.
pub(crate) fn check_children(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    rules: &Rules,
    old: &Row,
    new: Option<&Row>,
) -> Result<()> {
    for (fk, child) in &rules.referencing {
        let ConstraintKind::ForeignKey {
            columns,
            parent_index,
            ..
        } = &fk.kind
        else {
            continue;
        };
        let Some(pix) = rules.indexes.iter().find(|i| &i.name == parent_index) else {
            continue;
        };
        let pcols: Vec<usize> = pix
            .columns
            .iter()
            .take(columns.len())
            .map(|&(c, _)| c)
            .collect();
        let key: Vec<Value> = pcols.iter().map(|&i| old[i].clone()).collect();
        if key.iter().any(Value::is_null)
            || new.is_some_and(|n| pcols.iter().all(|&i| n[i] == old[i]))
        {
            continue;
        }
        let lock = core.unique_locks.get(pix.tree.root);
        let _guard = lock.lock();
        // Committed and own rows (consistent read as of "now") and current
        // rows (including other transactions' uncommitted inserts).
        let all = Snapshot {
            scn: Scn(u64::MAX),
            xid: txn.xid,
        };
        let mut found = false;
        let matches = |bytes: &[u8]| -> Result<bool> {
            let r = decode_row(bytes).map_err(|e| Error::corrupt(core.file.name(), 0, e))?;
            Ok(columns.iter().zip(&key).all(|(&c, k)| &r[c] == k))
        };
        heap::scan(core, stats, all, child.seg, |_, bytes| {
            found |= matches(bytes)?;
            Ok(())
        })?;
        if !found {
            heap::scan_current(core, stats, child.seg, |_, bytes| {
                found |= matches(bytes)?;
                Ok(())
            })?;
        }
        if found {
            return Err(Error::ForeignKeyViolation {
                constraint: fk.name.clone(),
                reason: format!("child rows exist in {}", child.name),
            });
        }
    }
    Ok(())
}

/// A constraint as a user states it (column and object names).
#[derive(Clone, Debug)]
pub enum ConstraintSpec<'a> {
    PrimaryKey {
        columns: &'a [&'a str],
        index: &'a str,
    },
    Unique {
        columns: &'a [&'a str],
        index: &'a str,
    },
    ForeignKey {
        columns: &'a [&'a str],
        parent: &'a str,
        parent_index: &'a str,
    },
    Check(Pred),
}

/// Resolves a spec against the catalog; returns the definition and its DDL
/// text (for the redo).
pub(crate) fn define(
    cat: &Catalog,
    table: &str,
    name: &str,
    spec: ConstraintSpec<'_>,
) -> Result<(ConstraintDef, String)> {
    let def = cat.get(table)?;
    let cols = |names: &[&str], t: &TableDef| -> Result<Vec<usize>> {
        names
            .iter()
            .map(|n| {
                t.column_index(n).ok_or_else(|| Error::NoSuchObject {
                    kind: "column",
                    name: format!("{}.{n}", t.name),
                })
            })
            .collect()
    };
    // An index can enforce a key when its leading columns are the key's.
    let leads = |ix: &IndexDef, t: &TableDef, key: &[usize]| -> Result<()> {
        let lead: Vec<usize> = ix.columns.iter().take(key.len()).map(|&(c, _)| c).collect();
        if ix.table != t.name || lead != key {
            return Err(Error::Config(format!(
                "index {} does not lead with the constraint's columns on {}",
                ix.name, t.name
            )));
        }
        Ok(())
    };
    let list = |names: &[&str]| names.join(", ");
    let (kind, text) = match spec {
        ConstraintSpec::PrimaryKey { columns, index }
        | ConstraintSpec::Unique { columns, index } => {
            let pk = matches!(spec, ConstraintSpec::PrimaryKey { .. });
            let c = cols(columns, def)?;
            if c.is_empty() {
                return Err(Error::Config(
                    "a key constraint needs at least one column".into(),
                ));
            }
            let ix = cat.index(index)?;
            leads(ix, def, &c)?;
            let what = if pk { "PRIMARY KEY" } else { "UNIQUE" };
            let text = format!("{what} ({}) USING INDEX {}", list(columns), ix.name);
            let kind = if pk {
                ConstraintKind::PrimaryKey {
                    columns: c,
                    index: ix.name.clone(),
                }
            } else {
                ConstraintKind::Unique {
                    columns: c,
                    index: ix.name.clone(),
                }
            };
            (kind, text)
        }
        ConstraintSpec::ForeignKey {
            columns,
            parent,
            parent_index,
        } => {
            let c = cols(columns, def)?;
            let p = cat.get(parent)?;
            let pix = cat.index(parent_index)?;
            let pkey: Vec<usize> = pix.columns.iter().take(c.len()).map(|&(x, _)| x).collect();
            leads(pix, p, &pkey)?;
            let backs_key = cat.constraints.values().any(|k| {
                k.table == p.name
                    && k.unique_index()
                        .is_some_and(|(i, kc)| i == pix.name && kc == pkey)
            });
            if !backs_key || pkey.len() != c.len() {
                return Err(Error::Config(format!(
                    "index {} does not enforce a PRIMARY KEY or UNIQUE constraint of {} columns on {}",
                    pix.name,
                    c.len(),
                    p.name
                )));
            }
            let text = format!(
                "FOREIGN KEY ({}) REFERENCES {} USING INDEX {}",
                list(columns),
                p.name,
                pix.name
            );
            (
                ConstraintKind::ForeignKey {
                    columns: c,
                    parent: p.name.clone(),
                    parent_index: pix.name.clone(),
                },
                text,
            )
        }
        ConstraintSpec::Check(pred) => {
            if pred.contains_opaque() {
                return Err(Error::Config(
                    "a CHECK constraint cannot use a function".into(),
                ));
            }
            let names: Vec<String> = def.columns.iter().map(|c| c.name.clone()).collect();
            let text = format!("CHECK ({})", crate::access::render(&pred, &names));
            (ConstraintKind::Check { pred }, text)
        }
    };
    let c = ConstraintDef {
        name: name.to_string(),
        table: def.name.clone(),
        kind,
        catalog_rowid: RowId {
            block: crate::ids::BlockNo(0),
            slot: 0,
        },
    };
    Ok((
        c,
        format!("ALTER TABLE {} ADD CONSTRAINT {name} {text}", def.name),
    ))
}

/// Checks that every row of the table satisfies a new constraint.
pub(crate) fn validate(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    cat: &Catalog,
    c: &ConstraintDef,
) -> Result<()> {
    let def = cat.get(&c.table)?;
    let rows = |t: &TableDef| -> Result<Vec<Row>> {
        Ok(heap::scan_rows(core, stats, snap, t.seg, |_| true)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    };
    let key = |r: &Row, cols: &[usize]| -> Option<Vec<u8>> {
        let vals: Vec<Value> = cols.iter().map(|&i| r[i].clone()).collect();
        (!vals.iter().any(Value::is_null)).then(|| encode_row(&vals))
    };
    match &c.kind {
        ConstraintKind::Check { pred } => {
            if rows(def)?.iter().any(|r| eval(pred, r) == Some(false)) {
                return Err(Error::CheckViolation {
                    constraint: c.name.clone(),
                });
            }
        }
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            let mut seen = std::collections::HashSet::new();
            for r in rows(def)? {
                match key(&r, columns) {
                    None if matches!(c.kind, ConstraintKind::PrimaryKey { .. }) => {
                        return Err(Error::InvalidRow {
                            table: def.name.clone(),
                            reason: format!("primary key {}: a key column is NULL", c.name),
                        });
                    }
                    Some(k) if !seen.insert(k.clone()) => {
                        return Err(Error::UniqueViolation {
                            constraint: c.name.clone(),
                        });
                    }
                    _ => {}
                }
            }
        }
        ConstraintKind::ForeignKey {
            columns,
            parent,
            parent_index,
        } => {
            let p = cat.get(parent)?;
            let pix = cat.index(parent_index)?;
            let pcols: Vec<usize> = pix
                .columns
                .iter()
                .take(columns.len())
                .map(|&(x, _)| x)
                .collect();
            let parents: std::collections::HashSet<Vec<u8>> =
                rows(p)?.iter().filter_map(|r| key(r, &pcols)).collect();
            if rows(def)?
                .iter()
                .filter_map(|r| key(r, columns))
                .any(|k| !parents.contains(&k))
            {
                return Err(Error::ForeignKeyViolation {
                    constraint: c.name.clone(),
                    reason: format!("parent key not found in {}", p.name),
                });
            }
        }
    }
    Ok(())
}
