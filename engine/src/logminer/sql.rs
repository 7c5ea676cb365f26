//! `SQL_REDO`: a statement that makes a mined change again (see the parent
//! module's docs for which changes get one).
//!
//! ```text
//!  INSERT  INSERT INTO t (id, name) VALUES (3, 'c')
//!  UPDATE  UPDATE t SET name = 'd' WHERE id = 3               (primary key)
//!          UPDATE u SET v = 2 WHERE k = 1 AND v = 1 AND w IS NULL   (no key: every old value)
//!  DELETE  DELETE FROM t WHERE id = 3
//! ```
//!
//! Dropped columns are left out everywhere: the statement is for the table
//! as it is defined now.

use super::dict::TableInfo;
use super::{ColumnValue, MinedOp, MinedRecord};
use crate::value::Value;

/// The statement for a DML record, or `None` if there is nothing to say
/// (an UPDATE that changed only dropped columns, a row with no columns).
pub(super) fn redo(r: &MinedRecord, t: &TableInfo) -> Option<String> {
    let visible = |vals: &[ColumnValue]| -> Vec<ColumnValue> {
        vals.iter().filter(|c| !c.dropped).cloned().collect()
    };
    match r.op {
        MinedOp::Insert | MinedOp::DirectInsert => {
            let cols = visible(&r.values);
            if cols.is_empty() {
                return None;
            }
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            let vals: Vec<String> = cols.iter().map(|c| literal(&c.value)).collect();
            Some(format!(
                "INSERT INTO {} ({}) VALUES ({})",
                t.name,
                names.join(", "),
                vals.join(", ")
            ))
        }
        MinedOp::Update => {
            let set: Vec<String> = visible(&r.values)
                .iter()
                .map(|c| format!("{} = {}", c.name, literal(&c.value)))
                .collect();
            if set.is_empty() {
                return None;
            }
            Some(format!(
                "UPDATE {} SET {} WHERE {}",
                t.name,
                set.join(", "),
                where_clause(t, &r.old_values)?
            ))
        }
        MinedOp::Delete => Some(format!(
            "DELETE FROM {} WHERE {}",
            t.name,
            where_clause(t, &r.old_values)?
        )),
        _ => None,
    }
}

/// Identifies the old row: by primary key, else by every visible column.
fn where_clause(t: &TableInfo, old: &[ColumnValue]) -> Option<String> {
    let terms: Vec<String> = match &t.pk {
        Some(pk) if !pk.is_empty() && pk.iter().all(|&i| i < old.len()) => {
            pk.iter().map(|&i| term(&old[i])).collect()
        }
        _ => old.iter().filter(|c| !c.dropped).map(term).collect(),
    };
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

fn term(c: &ColumnValue) -> String {
    match c.value {
        Value::Null => format!("{} IS NULL", c.name),
        _ => format!("{} = {}", c.name, literal(&c.value)),
    }
}

/// A SQL literal for a value: text quoted with `'` doubled, a REAL always
/// with a decimal point or exponent so it reads back as REAL.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Int(i) => i.to_string(),
        Value::Real(f) if f.is_finite() => format!("{f:?}"),
        Value::Real(_) => "NULL".to_string(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back_as_what_they_were() {
        assert_eq!(literal(&Value::Text("it's".into())), "'it''s'");
        assert_eq!(literal(&Value::Real(2.0)), "2.0");
        assert_eq!(literal(&Value::Int(-7)), "-7");
        assert_eq!(literal(&Value::Null), "NULL");
    }
}
