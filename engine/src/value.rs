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
            Value::Real(v) => write!(f, "{v}"),
            Value::Text(s) => f.write_str(s),
        }
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
