//! The script driver's output formats: how a statement's result is printed
//! in the table format (SQL*Plus-like), csv (RFC 4180 quoting) and json
//! (one object per line).
//!
//! ```text
//!  driver (script.rs) ── SqlResult / Error / StatsSnapshot ──► output::* ──► String
//!                                                                 │
//!                          the driver writes it where and when it decides
//! ```
//!
//! These are pure functions from a result to text: nothing here does I/O,
//! reads a clock or keeps state, so a transcript is a function of the
//! statements alone.
//!
//! Invariant: a table, a csv record and an error line end with `\n`, and no
//! table line carries trailing blanks; a json object's keys are in the
//! contract's order (see `Obj`), not sorted.
//!
//! (Named `output`, not `render`: `logminer::render` is another module, and
//! `Explain::render` a method; one name, one thing.)

use serde_json::Value as Json;

use crate::sql::{PlanLine, PlanTableRow, SqlResult};
use crate::stats::StatsSnapshot;
use crate::value::Value;
use crate::Error;

/// A result table, SQL*Plus style: a header row, a dashed rule under each
/// column, then the rows. Numbers are right-aligned, text left-aligned, and
/// a column whose values are all numbers right-aligns its header too.
/// Lines carry no trailing blanks.
pub(crate) fn table(columns: &[String], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(Value::to_string).collect())
        .collect();
    let numeric: Vec<bool> = (0..columns.len())
        .map(|c| {
            let mut vals = rows
                .iter()
                .filter_map(|r| r.get(c))
                .filter(|v| !v.is_null());
            let mut any = false;
            let all = vals.all(|v| {
                any = true;
                is_number(v)
            });
            any && all
        })
        .collect();
    let width: Vec<usize> = (0..columns.len())
        .map(|c| {
            cells
                .iter()
                .filter_map(|r| r.get(c))
                .chain(std::iter::once(&columns[c]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |fields: Vec<(&str, bool)>| -> String {
        let parts: Vec<String> = fields
            .iter()
            .zip(&width)
            .map(|(&(text, right), &w)| {
                // Padded by hand: a `{:w$}` width above u16::MAX panics,
                // and a value or heading can be longer than that.
                let pad = " ".repeat(w.saturating_sub(text.chars().count()));
                if right {
                    pad + text
                } else {
                    text.to_string() + &pad
                }
            })
            .collect();
        let mut l = parts.join(" ");
        l.truncate(l.trim_end().len());
        l.push('\n');
        l
    };
    let header = columns.iter().zip(&numeric);
    let mut out = line(header.map(|(c, &n)| (c.as_str(), n)).collect());
    let rules: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
    out.push_str(&line(rules.iter().map(|r| (r.as_str(), false)).collect()));
    for (row, texts) in rows.iter().zip(&cells) {
        let fields = row.iter().zip(texts).zip(&numeric);
        // NULL in a numeric column lines up with the numbers.
        out.push_str(&line(
            fields
                .map(|((v, t), &n)| (t.as_str(), is_number(v) || (n && v.is_null())))
                .collect(),
        ));
    }
    out
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Real(_))
}

/// `N row(s) <verb>.`, as the engine words it.
pub(crate) fn rows_message(n: u64, verb: &str) -> String {
    format!("{n} row{} {verb}.", if n == 1 { "" } else { "s" })
}

/// The message for a DML result without one: the verb comes from the
/// statement's first keyword.
pub(crate) fn dml_message(sql: &str, n: u64) -> String {
    let verb = match first_keyword(sql).as_str() {
        "INSERT" => "inserted",
        "UPDATE" => "updated",
        "DELETE" => "deleted",
        "MERGE" => "merged",
        _ => "processed",
    };
    rows_message(n, verb)
}

/// The first word of a statement, upper-cased, skipping comments.
fn first_keyword(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The AUTOTRACE statistics block.
pub(crate) fn statistics(stats: &StatsSnapshot) -> String {
    format!(
        "Statistics\n{}\n{stats}",
        "-".repeat(58) // as wide as SQL*Plus draws it
    )
}

/// The error line of the table format.
pub(crate) fn error_line(code: &str, message: &str) -> String {
    format!("ERROR: {code}: {message}\n")
}

/// One csv record: fields are quoted when they hold a comma, a quote or a
/// line break, with inner quotes doubled (RFC 4180). NULL is an empty
/// field. Records end with `\n`.
pub(crate) fn csv_record<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out: Vec<String> = Vec::new();
    for f in fields {
        if f.contains([',', '"', '\n', '\r']) {
            out.push(format!("\"{}\"", f.replace('"', "\"\"")));
        } else {
            out.push(f.to_string());
        }
    }
    let mut line = out.join(",");
    line.push('\n');
    line
}

/// A row as csv fields.
pub(crate) fn csv_values(row: &[Value]) -> Vec<String> {
    row.iter()
        .map(|v| match v {
            Value::Null => String::new(),
            v => v.to_string(),
        })
        .collect()
}

/// Column names of an EXPLAIN in the csv format, in `plan_values` order.
pub(crate) const PLAN_COLUMNS: [&str; 11] = [
    "id",
    "depth",
    "operation",
    "object",
    "matchcols",
    "access",
    "screening",
    "filter",
    "index_only",
    "rows",
    "cost",
];

/// One plan line as csv fields (empty for a missing value).
pub(crate) fn plan_values(l: &PlanLine) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        l.id.to_string(),
        l.depth.to_string(),
        l.operation.clone(),
        opt(&l.object),
        l.matchcols.map(|m| m.to_string()).unwrap_or_default(),
        opt(&l.access),
        opt(&l.screening),
        opt(&l.filter),
        if l.index_only { "Y" } else { "N" }.to_string(),
        l.rows.to_string(),
        l.cost.to_string(),
    ]
}

/// A value as JSON: INTEGER and REAL are numbers, TEXT a string, NULL
/// `null`. JSON has no NaN or infinity, so such a REAL becomes the string
/// Rust prints for it (`"NaN"`, `"inf"`, `"-inf"`).
pub fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => Json::from(*i),
        Value::Real(r) => serde_json::Number::from_f64(*r)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(r.to_string())),
        Value::Text(s) => Json::String(s.clone()),
    }
}

/// A JSON object with its keys in the given order (serde_json's `Map`
/// sorts them; the contract's order is easier to read).
pub(crate) struct Obj(String);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj(String::from("{"))
    }

    pub(crate) fn field(mut self, key: &str, value: impl Into<JsonText>) -> Obj {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&Json::from(key).to_string());
        self.0.push(':');
        self.0.push_str(&value.into().0);
        self
    }

    pub(crate) fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// Text that is already valid JSON.
pub(crate) struct JsonText(String);

impl From<Json> for JsonText {
    fn from(j: Json) -> Self {
        JsonText(j.to_string())
    }
}

impl From<Obj> for JsonText {
    fn from(o: Obj) -> Self {
        JsonText(o.end())
    }
}

impl From<Vec<JsonText>> for JsonText {
    fn from(items: Vec<JsonText>) -> Self {
        let inner: Vec<String> = items.into_iter().map(|j| j.0).collect();
        JsonText(format!("[{}]", inner.join(",")))
    }
}

/// The json line of one finished statement (see the module doc of
/// `script` for the contract).
pub(crate) fn json_line(
    session: &str,
    sql: &str,
    result: &Result<SqlResult, Error>,
    stats: Option<&StatsSnapshot>,
) -> String {
    let empty = SqlResult::default();
    let r = result.as_ref().unwrap_or(&empty);
    let rows: Vec<JsonText> = r
        .rows
        .iter()
        .map(|row| Json::Array(row.iter().map(value_json).collect()).into())
        .collect();
    let error: JsonText = match result {
        Ok(_) => Json::Null.into(),
        Err(e) => Obj::new()
            .field("code", Json::from(e.code()))
            .field("message", Json::from(e.to_string()))
            .into(),
    };
    let mut obj = Obj::new()
        .field("session", Json::from(session))
        .field("sql", Json::from(sql))
        .field("columns", Json::from(r.columns.clone()))
        .field("rows", rows)
        .field("affected", Json::from(r.affected))
        .field("message", Json::from(r.message.clone()))
        .field("error", error);
    if let Some(stats) = stats {
        let mut s = Obj::new();
        for (stat, v) in stats.nonzero() {
            s = s.field(stat.name(), Json::from(v));
        }
        obj = obj.field("stats", s);
    }
    if let Some(ex) = &r.explain {
        let plan: Vec<JsonText> = ex
            .lines
            .iter()
            .map(|l| {
                Obj::new()
                    .field("id", Json::from(l.id))
                    .field("depth", Json::from(l.depth))
                    .field("operation", Json::from(l.operation.clone()))
                    .field("object", Json::from(l.object.clone()))
                    .field("matchcols", Json::from(l.matchcols))
                    .field("access", Json::from(l.access.clone()))
                    .field("screening", Json::from(l.screening.clone()))
                    .field("filter", Json::from(l.filter.clone()))
                    .field("index_only", Json::from(l.index_only))
                    .field("rows", Json::from(l.rows))
                    .field("cost", Json::from(l.cost))
                    .into()
            })
            .collect();
        obj = obj.field("plan", plan);
        // The DB2-style rows, one object per row keyed by column name:
        // numeric columns as numbers, flags and names as text.
        let rows: Vec<JsonText> = ex
            .plan_table
            .iter()
            .map(|row| {
                let mut o = Obj::new();
                for (name, value) in PlanTableRow::COLUMNS.iter().zip(row.values()) {
                    o = o.field(
                        name,
                        value
                            .parse::<u64>()
                            .map_or_else(|_| Json::from(value), Json::from),
                    );
                }
                o.into()
            })
            .collect();
        obj = obj.field("plan_table", rows);
    }
    let mut line = obj.end();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Explain;
    use crate::stats::Stat;

    #[test]
    fn a_table_holds_values_and_headings_wider_than_a_format_width() {
        // 70,000 characters: wider than the u16 a `{:w$}` width may be.
        let long = "a".repeat(70_000);
        let out = table(
            &[long.clone(), "n".into()],
            &[vec![Value::Text(long.clone()), Value::Int(1)]],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("{long} n"));
        assert_eq!(lines[2], format!("{long} 1"));
    }

    #[test]
    fn values_map_to_json_numbers_strings_and_null() {
        assert_eq!(value_json(&Value::Int(-7)).to_string(), "-7");
        assert_eq!(value_json(&Value::Real(2.5)).to_string(), "2.5");
        // A whole REAL stays a JSON float, so readers keep the type.
        assert_eq!(value_json(&Value::Real(3.0)).to_string(), "3.0");
        assert_eq!(
            value_json(&Value::Text("a \"q\"\n".into())).to_string(),
            r#""a \"q\"\n""#
        );
        assert_eq!(value_json(&Value::Null).to_string(), "null");
        assert_eq!(value_json(&Value::Real(f64::NAN)).to_string(), r#""NaN""#);
    }

    #[test]
    fn a_json_line_keeps_the_contract_key_order() {
        let r = SqlResult {
            columns: vec!["id".into(), "name".into()],
            rows: vec![vec![Value::Int(1), Value::Null]],
            message: Some("1 row selected.".into()),
            ..SqlResult::default()
        };
        let mut stats = StatsSnapshot::default();
        stats.set(Stat::ConsistentGets, 3);
        let line = json_line("main", "SELECT * FROM t", &Ok(r), Some(&stats));
        assert_eq!(
            line,
            concat!(
                r#"{"session":"main","sql":"SELECT * FROM t","columns":["id","name"],"#,
                r#""rows":[[1,null]],"affected":null,"message":"1 row selected.","#,
                r#""error":null,"stats":{"consistent gets":3}}"#,
                "\n"
            )
        );
        // It is valid JSON, one object.
        let parsed: Json = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(parsed["rows"][0][0], 1);
    }

    #[test]
    fn a_json_error_line_has_code_and_message_and_plans_have_their_lines() {
        let err: Result<SqlResult, Error> = Err(Error::NoSuchObject {
            kind: "table",
            name: "nope".into(),
        });
        let parsed: Json = serde_json::from_str(&json_line("b", "SELECT 1", &err, None)).unwrap();
        assert_eq!(parsed["error"]["code"], "ORA-00942");
        assert_eq!(parsed["error"]["message"], "table nope does not exist");
        assert_eq!(parsed["rows"], Json::Array(vec![]));
        assert!(parsed.get("stats").is_none());

        let ex = Explain {
            lines: vec![PlanLine {
                id: 0,
                depth: 0,
                operation: "TABLE ACCESS FULL".into(),
                object: Some("t".into()),
                matchcols: None,
                access: None,
                screening: None,
                filter: Some("a = 1".into()),
                index_only: false,
                rows: 4,
                cost: 9,
            }],
            plan_table: vec![PlanTableRow {
                queryno: 1,
                qblockno: 1,
                planno: 1,
                method: 0,
                tname: "T".into(),
                accesstype: "R".into(),
                matchcols: 0,
                accessname: String::new(),
                indexonly: "N".into(),
                prefetch: "S".into(),
                sortn_join: "N".into(),
                sortc_uniq: "N".into(),
                sortc_join: "N".into(),
                sortc_orderby: "N".into(),
                sortc_groupby: "N".into(),
                cost: 9,
            }],
            ..Explain::default()
        };
        let r = SqlResult {
            explain: Some(ex),
            ..SqlResult::default()
        };
        let parsed: Json =
            serde_json::from_str(&json_line("b", "EXPLAIN …", &Ok(r), None)).unwrap();
        assert_eq!(parsed["plan"][0]["operation"], "TABLE ACCESS FULL");
        assert_eq!(parsed["plan"][0]["matchcols"], Json::Null);
        assert_eq!(parsed["plan"][0]["cost"], 9);
        assert_eq!(parsed["plan_table"][0]["ACCESSTYPE"], "R");
        assert_eq!(parsed["plan_table"][0]["PREFETCH"], "S");
        assert_eq!(parsed["plan_table"][0]["MATCHCOLS"], 0);
        assert_eq!(parsed["plan_table"][0]["COST"], 9);
    }

    #[test]
    fn tables_align_numbers_right_and_text_left() {
        let t = table(
            &["id".into(), "name".into(), "score".into()],
            &[
                vec![Value::Int(1), Value::Text("one".into()), Value::Real(2.5)],
                vec![Value::Int(100), Value::Null, Value::Null],
            ],
        );
        assert_eq!(
            t,
            " id name score\n--- ---- -----\n  1 one    2.5\n100 NULL  NULL\n"
        );
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(
            csv_record(["a", "b,c", "say \"hi\"", "two\nlines", ""]),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\n"
        );
    }

    #[test]
    fn dml_messages_take_the_verb_from_the_first_keyword() {
        assert_eq!(
            dml_message("/* load */ insert /*+ APPEND */ into t select 1", 2),
            "2 rows inserted."
        );
        assert_eq!(
            dml_message("-- one\nUPDATE t SET a = 1", 1),
            "1 row updated."
        );
        assert_eq!(dml_message("DELETE FROM t", 0), "0 rows deleted.");
    }
}
