//! Constraint definitions as the dictionary stores them: the kinds
//! (NOT NULL is a column flag; CHECK, PRIMARY KEY, UNIQUE, FOREIGN KEY are
//! [`ConstraintDef`]s), their encoding in a catalog row, and `Rules`, the
//! per-table bundle DML looks up once per statement. Enforcement — which
//! reads these — is `crate::constraint`.
//!
//! Invariant: a definition decodes to exactly what was encoded; a CHECK
//! predicate is stored in the pure predicate form of `crate::access`, which
//! sits below the dictionary, so storing it names no higher layer.

use crate::access::{CmpOp, Pred};
use crate::encoding::{Dec, DecResult, Enc};
use crate::ids::RowId;
use crate::value::{encode_row, Row, Value};

use super::{IndexDef, TableDef};

/// What a constraint requires.
#[derive(Clone, Debug)]
pub enum ConstraintKind {
    /// Unique and NOT NULL, enforced through `index`.
    PrimaryKey { columns: Vec<usize>, index: String },
    /// Unique where no column is NULL, enforced through `index`.
    Unique { columns: Vec<usize>, index: String },
    /// `columns` must match a row of `parent` through `parent_index`.
    ForeignKey {
        columns: Vec<usize>,
        parent: String,
        parent_index: String,
    },
    /// The predicate must not be FALSE for any row (UNKNOWN passes).
    Check { pred: Pred },
}

/// A named constraint on a table.
#[derive(Clone, Debug)]
pub struct ConstraintDef {
    pub name: String,
    pub table: String,
    pub kind: ConstraintKind,
    pub catalog_rowid: RowId,
}

impl ConstraintDef {
    /// The columns of its own table the constraint reads.
    pub fn columns(&self) -> Vec<usize> {
        match &self.kind {
            ConstraintKind::PrimaryKey { columns, .. }
            | ConstraintKind::Unique { columns, .. }
            | ConstraintKind::ForeignKey { columns, .. } => columns.clone(),
            ConstraintKind::Check { pred } => pred.columns(),
        }
    }

    /// The index that enforces uniqueness, if this is a key constraint.
    pub fn unique_index(&self) -> Option<(&str, &[usize])> {
        match &self.kind {
            ConstraintKind::PrimaryKey { columns, index }
            | ConstraintKind::Unique { columns, index } => {
                Some((index.as_str(), columns.as_slice()))
            }
            _ => None,
        }
    }

    /// The catalog row describing the constraint.
    pub(crate) fn to_row(&self) -> Row {
        let mut spec = Vec::new();
        spec.put_bytes(self.table.as_bytes());
        match &self.kind {
            ConstraintKind::PrimaryKey { columns, index }
            | ConstraintKind::Unique { columns, index } => {
                spec.put_u8(if matches!(self.kind, ConstraintKind::PrimaryKey { .. }) {
                    1
                } else {
                    2
                });
                put_cols(&mut spec, columns);
                spec.put_bytes(index.as_bytes());
            }
            ConstraintKind::ForeignKey {
                columns,
                parent,
                parent_index,
            } => {
                spec.put_u8(3);
                put_cols(&mut spec, columns);
                spec.put_bytes(parent.as_bytes());
                spec.put_bytes(parent_index.as_bytes());
            }
            ConstraintKind::Check { pred } => {
                spec.put_u8(4);
                put_pred(&mut spec, pred);
            }
        }
        vec![
            Value::Int(0),
            Value::Text(self.name.clone()),
            Value::Int(0),
            Value::Text(hex(&spec)),
            Value::Text("constraint".into()),
        ]
    }

    pub(crate) fn from_row(row: &Row, rowid: RowId) -> DecResult<ConstraintDef> {
        let [_, Value::Text(name), _, Value::Text(spec), _] = row.as_slice() else {
            return Err(format!("malformed constraint row {row:?}"));
        };
        let bytes = unhex(spec)?;
        let mut d = Dec::new(&bytes);
        let table = text(&mut d)?;
        let kind = match d.u8()? {
            1 => ConstraintKind::PrimaryKey {
                columns: get_cols(&mut d)?,
                index: text(&mut d)?,
            },
            2 => ConstraintKind::Unique {
                columns: get_cols(&mut d)?,
                index: text(&mut d)?,
            },
            3 => ConstraintKind::ForeignKey {
                columns: get_cols(&mut d)?,
                parent: text(&mut d)?,
                parent_index: text(&mut d)?,
            },
            4 => ConstraintKind::Check {
                pred: get_pred(&mut d)?,
            },
            k => return Err(format!("constraint {name}: unknown kind {k}")),
        };
        Ok(ConstraintDef {
            name: name.clone(),
            table,
            kind,
            catalog_rowid: rowid,
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> DecResult<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return Err("bad constraint encoding".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn text(d: &mut Dec) -> DecResult<String> {
    String::from_utf8(d.bytes()?.to_vec()).map_err(|e| e.to_string())
}

fn put_cols(v: &mut Vec<u8>, cols: &[usize]) {
    v.put_u16(cols.len() as u16);
    cols.iter().for_each(|&c| v.put_u16(c as u16));
}

fn get_cols(d: &mut Dec) -> DecResult<Vec<usize>> {
    let n = d.u16()?;
    (0..n).map(|_| Ok(d.u16()? as usize)).collect()
}

fn put_values(v: &mut Vec<u8>, vals: &[Value]) {
    v.put_bytes(&encode_row(vals));
}

fn get_values(d: &mut Dec) -> DecResult<Vec<Value>> {
    crate::value::decode_row(d.bytes()?)
}

/// Comparison operators by their stored code (the index in this list).
const CMP_OPS: [CmpOp; 6] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

/// Encodes a predicate for the catalog (everything but opaque functions,
/// which have no stored form).
fn put_pred(v: &mut Vec<u8>, p: &Pred) {
    match p {
        Pred::Cmp { col, op, value } => {
            v.put_u8(1);
            v.put_u16(*col as u16);
            v.put_u8(CMP_OPS.iter().position(|o| o == op).unwrap_or(0) as u8);
            put_values(v, std::slice::from_ref(value));
        }
        Pred::Between {
            col,
            low,
            high,
            negated,
        } => {
            v.put_u8(2);
            v.put_u16(*col as u16);
            v.put_u8(*negated as u8);
            put_values(v, &[low.clone(), high.clone()]);
        }
        Pred::In {
            col,
            values,
            negated,
        } => {
            v.put_u8(3);
            v.put_u16(*col as u16);
            v.put_u8(*negated as u8);
            put_values(v, values);
        }
        Pred::Like {
            col,
            pattern,
            negated,
        } => {
            v.put_u8(4);
            v.put_u16(*col as u16);
            v.put_u8(*negated as u8);
            v.put_bytes(pattern.as_bytes());
        }
        Pred::IsNull { col, negated } => {
            v.put_u8(5);
            v.put_u16(*col as u16);
            v.put_u8(*negated as u8);
        }
        Pred::And(ps) | Pred::Or(ps) => {
            v.put_u8(if matches!(p, Pred::And(_)) { 6 } else { 7 });
            v.put_u16(ps.len() as u16);
            ps.iter().for_each(|q| put_pred(v, q));
        }
        Pred::Not(q) => {
            v.put_u8(8);
            put_pred(v, q);
        }
        Pred::Opaque { .. } => v.put_u8(0),
    }
}

fn get_pred(d: &mut Dec) -> DecResult<Pred> {
    Ok(match d.u8()? {
        1 => {
            let col = d.u16()? as usize;
            let op = *CMP_OPS.get(d.u8()? as usize).ok_or("bad operator")?;
            let value = get_values(d)?.pop().ok_or("missing value")?;
            Pred::Cmp { col, op, value }
        }
        2 => {
            let col = d.u16()? as usize;
            let negated = d.u8()? != 0;
            let mut v = get_values(d)?;
            let high = v.pop().ok_or("missing high")?;
            let low = v.pop().ok_or("missing low")?;
            Pred::Between {
                col,
                low,
                high,
                negated,
            }
        }
        3 => Pred::In {
            col: d.u16()? as usize,
            negated: d.u8()? != 0,
            values: get_values(d)?,
        },
        4 => Pred::Like {
            col: d.u16()? as usize,
            negated: d.u8()? != 0,
            pattern: text(d)?,
        },
        5 => Pred::IsNull {
            col: d.u16()? as usize,
            negated: d.u8()? != 0,
        },
        k @ (6 | 7) => {
            let n = d.u16()?;
            let ps = (0..n).map(|_| get_pred(d)).collect::<DecResult<Vec<_>>>()?;
            if k == 6 {
                Pred::And(ps)
            } else {
                Pred::Or(ps)
            }
        }
        8 => Pred::Not(Box::new(get_pred(d)?)),
        k => return Err(format!("bad predicate tag {k}")),
    })
}

/// Everything the DML of one table must maintain and enforce, looked up
/// from the catalog once per statement.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub def: TableDef,
    pub indexes: Vec<IndexDef>,
    /// Constraints on this table.
    pub own: Vec<ConstraintDef>,
    /// Foreign keys of other tables that reference this one, with the child
    /// table's definition.
    pub referencing: Vec<(ConstraintDef, TableDef)>,
    /// Parent table and key index of each of this table's foreign keys, by
    /// constraint name.
    pub parents: Vec<(String, TableDef, IndexDef)>,
}

impl Rules {
    /// The unique constraint an index enforces, if any.
    pub fn unique_on(&self, index: &str) -> Option<&ConstraintDef> {
        self.own
            .iter()
            .find(|c| c.unique_index().is_some_and(|(i, _)| i == index))
    }
}
