//! Typed values and the row format.
//!
//! ```text
//!  row    = column count u16 | value*
//!  value  = tag u8 | payload
//!           0 NULL    (no payload)
//!           1 INTEGER i64 LE
//!           2 REAL    f64 LE
//!           3 TEXT    u16 length | UTF-8 bytes
//! ```
//! A row must fit in one block; longer rows are an `Error::RowTooLarge`.
//!
//! Each value is self-delimiting, so a row can be cut into its columns'
//! byte spans without knowing the table ([`column_spans`]). An UPDATE logs
//! only the columns it changes, as these spans ([`changed_columns`]), and
//! redo, rollback and consistent reads put them back with
//! [`set_columns`].

use std::fmt;

use crate::encoding::{Dec, DecResult, Enc};

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Integer,
    Real,
    Text,
}

impl ColType {
    pub fn name(self) -> &'static str {
        match self {
            ColType::Integer => "INTEGER",
            ColType::Real => "REAL",
            ColType::Text => "TEXT",
        }
    }
}

/// A column definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColType,
    pub not_null: bool,
    /// Dropped (`ALTER TABLE … DROP COLUMN`, kept as Oracle's SET UNUSED):
    /// the values stay in the row images but no statement sees them.
    pub hidden: bool,
}

impl Column {
    pub fn new(name: &str, ty: ColType) -> Column {
        Column {
            name: name.to_ascii_lowercase(),
            ty,
            not_null: false,
            hidden: false,
        }
    }
    pub fn not_null(mut self) -> Column {
        self.not_null = true;
        self
    }
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// SQL truth of a value: NULL is UNKNOWN (`None`), numbers are true
    /// when non-zero, text when it reads as a non-zero number.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(*i != 0),
            Value::Real(r) => Some(*r != 0.0),
            Value::Text(s) => Some(s.trim().parse::<f64>().is_ok_and(|f| f != 0.0)),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Real(v) => f.write_str(&real_text(*v)),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// A REAL as SQLite prints it (its `%!.15g`): 15 significant digits, so
/// that a sum of decimals reads `6600.0`, not `6600.000000000001`; always
/// a decimal point in fixed notation (`2.0`, telling a REAL from an
/// INTEGER); exponent notation below 1e-4 and from 1e15 (`1.0e+20`).
pub fn real_text(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return "0.0".into();
    }
    // Rounded to 15 significant digits first: the exponent is the rounded
    // value's (9.9999999999999999 is 10.0).
    let sci = format!("{v:.14e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e}'s exponent is a number");
    // Trailing zeros of the fraction go, one digit stays after the point.
    let trim = |t: &str| -> String {
        if !t.contains('.') {
            return format!("{t}.0");
        }
        let t = t.trim_end_matches('0');
        if t.ends_with('.') {
            format!("{t}0")
        } else {
            t.to_string()
        }
    };
    if !(-4..15).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        let decimals = (14 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

/// A row: one value per column.
pub type Row = Vec<Value>;

/// Encodes a row.
pub fn encode_row(row: &[Value]) -> Vec<u8> {
    let mut v = Vec::with_capacity(encoded_row_len(row));
    encode_row_into(&mut v, row);
    v
}

/// Appends the encoding of `row` to `v`, for callers that pack many rows
/// into one buffer (the direct path formats whole blocks this way).
pub fn encode_row_into(v: &mut Vec<u8>, row: &[Value]) {
    v.put_u16(row.len() as u16);
    for val in row {
        match val {
            Value::Null => v.put_u8(0),
            Value::Int(i) => {
                v.put_u8(1);
                v.put_u64(*i as u64);
            }
            Value::Real(r) => {
                v.put_u8(2);
                v.put_u64(r.to_bits());
            }
            Value::Text(s) => {
                v.put_u8(3);
                v.put_u16(s.len() as u16);
                v.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// Bytes `encode_row(row)` produces, computed without encoding.
pub fn encoded_row_len(row: &[Value]) -> usize {
    2 + row
        .iter()
        .map(|val| match val {
            Value::Null => 1,
            Value::Int(_) | Value::Real(_) => 9,
            Value::Text(s) => 3 + s.len(),
        })
        .sum::<usize>()
}

/// The byte range of each column's value in an encoded row (the count
/// before them excluded). Fails on bytes that are not a whole row.
pub fn column_spans(buf: &[u8]) -> DecResult<Vec<std::ops::Range<usize>>> {
    let mut d = Dec::new(buf);
    let n = d.u16()? as usize;
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        let start = d.pos();
        match d.u8()? {
            0 => {}
            1 | 2 => {
                d.take(8)?;
            }
            3 => {
                let len = d.u16()? as usize;
                d.take(len)?;
            }
            t => return Err(format!("bad value tag {t}")),
        }
        spans.push(start..d.pos());
    }
    if d.remaining() != 0 {
        return Err(format!("{} bytes after the last column", d.remaining()));
    }
    Ok(spans)
}

/// One column's encoded value, by column number (what an UPDATE's redo
/// and undo carry for each column it changes).
pub type ColumnImage = (u16, bytes::Bytes);

/// The columns in which row `new` differs from row `old`: (their new
/// values, their old values), in column order. `None` when the two are not
/// rows of the same number of columns (then the whole row must be logged).
pub fn changed_columns(old: &[u8], new: &[u8]) -> Option<(Vec<ColumnImage>, Vec<ColumnImage>)> {
    let (a, b) = (column_spans(old).ok()?, column_spans(new).ok()?);
    if a.len() != b.len() || a.len() > u16::MAX as usize {
        return None;
    }
    let mut redo = Vec::new();
    let mut undo = Vec::new();
    for (i, (ra, rb)) in a.into_iter().zip(b).enumerate() {
        if old[ra.clone()] != new[rb.clone()] {
            redo.push((i as u16, bytes::Bytes::copy_from_slice(&new[rb])));
            undo.push((i as u16, bytes::Bytes::copy_from_slice(&old[ra])));
        }
    }
    Some((redo, undo))
}

/// Row `row` with the given columns replaced by the given encoded values.
/// Fails if `row` is not a row, a column number is out of range, or a
/// value is not one whole value.
pub fn set_columns(row: &[u8], cols: &[ColumnImage]) -> DecResult<Vec<u8>> {
    let spans = column_spans(row)?;
    let mut vals: Vec<&[u8]> = spans.iter().map(|r| &row[r.clone()]).collect();
    for (i, v) in cols {
        let slot = vals
            .get_mut(*i as usize)
            .ok_or_else(|| format!("column {i} of a row of {} columns", spans.len()))?;
        let mut one = Vec::with_capacity(2 + v.len());
        one.put_u16(1);
        one.extend_from_slice(v);
        column_spans(&one).map_err(|e| format!("column {i}: {e}"))?;
        *slot = v;
    }
    let mut out = Vec::with_capacity(row.len());
    out.put_u16(vals.len() as u16);
    for v in vals {
        out.extend_from_slice(v);
    }
    Ok(out)
}

/// Decodes a row.
pub fn decode_row(buf: &[u8]) -> DecResult<Row> {
    let mut d = Dec::new(buf);
    let n = d.u16()? as usize;
    let mut row = Vec::with_capacity(n);
    for _ in 0..n {
        row.push(match d.u8()? {
            0 => Value::Null,
            1 => Value::Int(d.u64()? as i64),
            2 => Value::Real(f64::from_bits(d.u64()?)),
            3 => {
                let len = d.u16()? as usize;
                let s = std::str::from_utf8(d.take(len)?)
                    .map_err(|e| format!("bad UTF-8 in row: {e}"))?;
                Value::Text(s.to_string())
            }
            t => return Err(format!("bad value tag {t}")),
        });
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reals_print_as_sqlite_prints_them() {
        let cases = [
            (6600.000000000001, "6600.0"),
            (2.0, "2.0"),
            (-0.5, "-0.5"),
            (0.1 + 0.2, "0.3"),
            (1.0 / 3.0, "0.333333333333333"),
            (123456789012345.0, "123456789012345.0"),
            (1e15, "1.0e+15"),
            (1e20, "1.0e+20"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (9.9999999999999999, "10.0"),
            (0.0, "0.0"),
            (f64::INFINITY, "Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(real_text(v), want, "{v:e}");
        }
    }

    use super::*;

    #[test]
    fn rows_round_trip() {
        let row = vec![
            Value::Null,
            Value::Int(-5),
            Value::Real(1.5),
            Value::Text("héllo".into()),
        ];
        assert_eq!(decode_row(&encode_row(&row)).unwrap(), row);
    }

    #[test]
    fn encoded_row_len_is_the_length_encode_row_produces() {
        let row = vec![
            Value::Null,
            Value::Int(7),
            Value::Real(-0.5),
            Value::Text(String::new()),
            Value::Text("héllo".into()),
        ];
        // 2 count + 1 NULL + 9 + 9 + (1 + 2) + (1 + 2 + 6)
        assert_eq!(encoded_row_len(&row), 33);
        assert_eq!(encode_row(&row).len(), 33);
        assert_eq!(encoded_row_len(&[]), encode_row(&[]).len());
    }
}
