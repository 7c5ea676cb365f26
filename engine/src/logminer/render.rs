//! The miner's three output formats, shared by `blocklab logminer` and the
//! labs: a table for people, JSON for programs, SQL to replay.

use std::fmt::Write;

use serde_json::{json, Map, Value as Json};

use super::sql::literal;
use super::{ColumnValue, Mined, MinedOp, MinedRecord};
use crate::value::Value;

fn show(c: &ColumnValue) -> String {
    let mark = if c.dropped { " (dropped)" } else { "" };
    format!("{}{mark}={}", c.name, literal(&c.value))
}

/// The DETAIL column of the table format.
fn detail(r: &MinedRecord) -> String {
    let mut d = match r.op {
        MinedOp::Ddl | MinedOp::Nologging => r.text.clone().unwrap_or_default(),
        MinedOp::Update => r
            .values
            .iter()
            .map(|c| {
                let old = r
                    .old_values
                    .iter()
                    .find(|o| o.name == c.name && o.dropped == c.dropped)
                    .map_or("NULL".to_string(), |o| literal(&o.value));
                format!("{}: {old} -> {}", c.name, literal(&c.value))
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => r.values.iter().map(show).collect::<Vec<_>>().join(" "),
    };
    if r.rolled_back {
        d.push_str(" [rolled back]");
    }
    d
}

/// A table, one line per record, gaps first, warnings last.
pub fn render_table(m: &Mined) -> String {
    let mut out = String::new();
    for g in &m.gaps {
        let _ = writeln!(out, "-- {g}");
    }
    let head = [
        "SCN",
        "TIME",
        "XID",
        "USER",
        "OPERATION",
        "TABLE",
        "ROWID",
        "DETAIL",
    ];
    let rows: Vec<[String; 8]> = m
        .records
        .iter()
        .map(|r| {
            [
                r.scn.0.to_string(),
                r.time().unwrap_or_else(|| "-".into()),
                r.xid.to_string(),
                r.user.clone().unwrap_or_else(|| "-".into()),
                r.op.name().to_string(),
                r.table.clone().unwrap_or_default(),
                r.rowid.map(|x| x.to_string()).unwrap_or_default(),
                detail(r),
            ]
        })
        .collect();
    let mut width = head.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ");
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(&head.map(String::from)));
    let _ = writeln!(out, "{}", line(&width.map(|w| "-".repeat(w))));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    let _ = writeln!(out, "{} records", rows.len());
    for w in &m.warnings {
        let _ = writeln!(out, "-- warning: {w}");
    }
    out
}

fn json_value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Real(f) => json!(f),
        Value::Text(s) => json!(s),
    }
}

/// Column values as an object by name (a dropped column under its original
/// name, listed in `dropped_columns`; `name (dropped)` only if a visible
/// column has taken its name since).
fn json_row(vals: &[ColumnValue]) -> Json {
    let mut m = Map::new();
    for c in vals {
        let taken = c.dropped && vals.iter().any(|o| !o.dropped && o.name == c.name);
        let key = if taken {
            format!("{} (dropped)", c.name)
        } else {
            c.name.clone()
        };
        m.insert(key, json_value(&c.value));
    }
    Json::Object(m)
}

/// One JSON object: `{"gaps": [...], "warnings": [...], "records": [...]}`.
pub fn render_json(m: &Mined) -> String {
    let records: Vec<Json> = m
        .records
        .iter()
        .map(|r| {
            let dropped: Vec<&str> = r
                .values
                .iter()
                .chain(&r.old_values)
                .filter(|c| c.dropped)
                .map(|c| c.name.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            json!({
                "scn": r.scn.0,
                "lsn": r.lsn.0,
                "time": r.time(),
                "xid": r.xid.to_string(),
                "user": r.user,
                "operation": r.op.name(),
                "table": r.table,
                "rowid": r.rowid.map(|x| x.to_string()),
                "values": json_row(&r.values),
                "old_values": json_row(&r.old_values),
                "dropped_columns": dropped,
                "text": r.text,
                "rolled_back": r.rolled_back,
                "sql_redo": r.sql_redo,
            })
        })
        .collect();
    let doc = json!({ "gaps": m.gaps, "warnings": m.warnings, "records": records });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// `SQL_REDO` of every record that has one, each ending with `;`; gaps and
/// warnings as comments first, so a replay knows what it is missing.
pub fn render_sql(m: &Mined) -> String {
    let mut out = String::new();
    for g in &m.gaps {
        let _ = writeln!(out, "-- {g}");
    }
    for w in &m.warnings {
        let _ = writeln!(out, "-- warning: {w}");
    }
    for sql in m.records.iter().filter_map(|r| r.sql_redo.as_ref()) {
        let _ = writeln!(out, "{sql};");
    }
    out
}
