//! Built-in scalar functions: ABS, LENGTH, UPPER, LOWER, COALESCE /
//! IFNULL / NVL, NULLIF, SUBSTR / SUBSTRING, ROUND and MOD; and the
//! conversions of CAST ([`cast`]).
//!
//! Each follows SQLite (tests/sql_functions.rs compares them on random
//! arguments), except where blocklab deliberately does what Oracle does:
//!
//! | where | SQLite | blocklab (as Oracle) |
//! |---|---|---|
//! | a TEXT argument where a number is expected (`ABS('5')`, `ROUND('x')`) | converts it (`'abc'` is 0) | an error, as all arithmetic on text is |
//! | UPPER / LOWER of non-ASCII text | ASCII letters only | every letter (Unicode case mapping) |
//! | ROUND with negative digits | rounds to an integer | rounds left of the point: `ROUND(1234.5, -2)` is 1200 |
//! | MOD | `mod()` is REAL (its math extension) | the `%` operator: INTEGER for integers, NULL when dividing by zero |
//! | a REAL as text (LENGTH, SUBSTR, UPPER of a number) | `2.0`, `1.0e+20` | the shortest text that reads back: `2`, `100000000000000000000` |
//!
//! NULL in any argument gives NULL (COALESCE, IFNULL and NULLIF excepted),
//! before any type is checked, as in both.
//!
//! CAST converts as SQLite does, since the sqllogictest corpus depends on
//! it: a TEXT becomes the number it starts with (`CAST('12abc' AS
//! INTEGER)` is 12, no number at all is 0, where Oracle would raise
//! ORA-01722), a REAL becomes an INTEGER by truncation toward zero
//! (saturating at the INTEGER range), NULL stays NULL. A REAL as TEXT is
//! written as everywhere else in blocklab (the shortest text that reads
//! back, `2` where SQLite writes `2.0`).

use std::cmp::Ordering;

use super::ast::CastType;
use crate::access::compare;
use crate::error::{Error, Result};
use crate::value::Value;

/// `CAST(v AS to)`, as SQLite converts (see the module doc).
pub(crate) fn cast(v: Value, to: CastType) -> Value {
    match (v, to) {
        (Value::Null, _) => Value::Null,
        (Value::Int(i), CastType::Integer | CastType::Numeric) => Value::Int(i),
        (Value::Int(i), CastType::Real) => Value::Real(i as f64),
        (Value::Real(r), CastType::Real) => Value::Real(r),
        // `as` truncates toward zero and saturates (NaN is 0), as SQLite.
        (Value::Real(r), CastType::Integer) => Value::Int(r as i64),
        (Value::Real(r), CastType::Numeric) => whole(r),
        (Value::Text(s), CastType::Integer) => Value::Int(integer_prefix(&s)),
        (Value::Text(s), CastType::Real) => Value::Real(real_prefix(&s).0),
        (Value::Text(s), CastType::Numeric) => match real_prefix(&s) {
            (_, prefix) if !prefix.contains(['.', 'e', 'E']) => Value::Int(integer_prefix(&s)),
            (r, _) => whole(r),
        },
        (v, CastType::Text) => Value::Text(text_of(&v)),
    }
}

/// A REAL as NUMERIC: an INTEGER when it is a whole number in range.
fn whole(r: f64) -> Value {
    if r.fract() == 0.0 && r.abs() < 9.2e18 {
        Value::Int(r as i64)
    } else {
        Value::Real(r)
    }
}

/// The integer a text starts with (after blanks, with an optional sign),
/// saturating at the INTEGER range; 0 when it starts with none.
fn integer_prefix(s: &str) -> i64 {
    let t = s.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for d in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(d - b'0');
        // Negative numbers accumulate downward, so i64::MIN is reachable.
        n = n
            .saturating_mul(10)
            .saturating_add(if negative { -d } else { d });
    }
    n
}

/// The longest prefix of a text (after blanks) that reads as a number, and
/// its value; 0.0 and an empty prefix when there is none.
fn real_prefix(s: &str) -> (f64, &str) {
    let t = s.trim_start();
    let len = t
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(t.len());
    (1..=len)
        .rev()
        .find_map(|k| {
            let p = &t[..k];
            // Rust reads "inf" and "nan"; those letters are excluded above,
            // so only a decimal number can parse here.
            p.parse::<f64>().ok().map(|r| (r, p))
        })
        .unwrap_or((0.0, ""))
}

/// A built-in scalar function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Abs,
    Length,
    Upper,
    Lower,
    Coalesce,
    /// IFNULL / NVL: COALESCE of exactly two arguments.
    IfNull,
    /// NULLIF(a, b): NULL when `a = b`, else `a`.
    NullIf,
    Substr,
    Round,
    Mod,
}

impl Builtin {
    pub(crate) fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "abs" => Builtin::Abs,
            "length" => Builtin::Length,
            "upper" => Builtin::Upper,
            "lower" => Builtin::Lower,
            "coalesce" => Builtin::Coalesce,
            "nvl" | "ifnull" => Builtin::IfNull,
            "nullif" => Builtin::NullIf,
            "substr" | "substring" => Builtin::Substr,
            "round" => Builtin::Round,
            "mod" => Builtin::Mod,
            _ => return None,
        })
    }

    /// The name for messages and EXPLAIN.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::Abs => "ABS",
            Builtin::Length => "LENGTH",
            Builtin::Upper => "UPPER",
            Builtin::Lower => "LOWER",
            Builtin::Coalesce => "COALESCE",
            Builtin::IfNull => "NVL",
            Builtin::NullIf => "NULLIF",
            Builtin::Substr => "SUBSTR",
            Builtin::Round => "ROUND",
            Builtin::Mod => "MOD",
        }
    }

    /// Whether `n` arguments are right.
    fn takes(self, n: usize) -> bool {
        match self {
            Builtin::Abs | Builtin::Length | Builtin::Upper | Builtin::Lower => n == 1,
            Builtin::Coalesce => n >= 2,
            Builtin::IfNull | Builtin::NullIf | Builtin::Mod => n == 2,
            Builtin::Substr => n == 2 || n == 3,
            Builtin::Round => n == 1 || n == 2,
        }
    }

    /// Calls the function on its argument values.
    pub(crate) fn call(self, v: &[Value]) -> Result<Value> {
        if !self.takes(v.len()) {
            return Err(Error::Sql(format!(
                "wrong number of arguments to {}(): {}",
                self.name(),
                v.len()
            )));
        }
        if let Builtin::Coalesce | Builtin::IfNull = self {
            return Ok(v
                .iter()
                .find(|x| !x.is_null())
                .cloned()
                .unwrap_or(Value::Null));
        }
        if self == Builtin::NullIf {
            // `a = b` is UNKNOWN when either is NULL: then `a` (NULL or not).
            return Ok(match compare(&v[0], &v[1]) {
                Some(Ordering::Equal) => Value::Null,
                _ => v[0].clone(),
            });
        }
        if v.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        Ok(match self {
            Builtin::Abs => match &v[0] {
                Value::Int(i) => Value::Int(
                    i.checked_abs()
                        .ok_or_else(|| Error::Sql("integer overflow in ABS()".into()))?,
                ),
                Value::Real(r) => Value::Real(r.abs()),
                other => return Err(not_a_number(self, other)),
            },
            Builtin::Length => Value::Int(text_of(&v[0]).chars().count() as i64),
            Builtin::Upper => Value::Text(text_of(&v[0]).to_uppercase()),
            Builtin::Lower => Value::Text(text_of(&v[0]).to_lowercase()),
            Builtin::Substr => {
                let start = integer(self, &v[1])?;
                let len = v.get(2).map(|l| integer(self, l)).transpose()?;
                Value::Text(substr(&text_of(&v[0]), start, len))
            }
            Builtin::Round => {
                let x = match &v[0] {
                    Value::Int(i) => *i as f64,
                    Value::Real(r) => *r,
                    other => return Err(not_a_number(self, other)),
                };
                let digits = v.get(1).map(|d| integer(self, d)).transpose()?;
                Value::Real(round(x, digits.unwrap_or(0)))
            }
            Builtin::Mod => super::eval::binary(super::ast::BinOp::Mod, &v[0], &v[1])?,
            Builtin::Coalesce | Builtin::IfNull | Builtin::NullIf => Value::Null,
        })
    }
}

fn not_a_number(f: Builtin, v: &Value) -> Error {
    Error::Sql(format!("{}() needs a number, got the text {v}", f.name()))
}

/// A whole-number argument (a start, a length, a number of digits): a REAL
/// is truncated toward zero (saturating), as SQLite reads it.
fn integer(f: Builtin, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Real(r) => Ok(*r as i64),
        other => Err(not_a_number(f, other)),
    }
}

/// The text of a value: a number as it prints.
pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

/// SQLite's `substr(s, start, len)` on characters: `start` counts from 1,
/// or from the end when negative (-1 is the last character); 0 is the
/// position before the first (so `substr(s, 0, 2)` is one character); a
/// negative `len` takes the characters before `start`. Without `len`, the
/// rest of the string.
pub(crate) fn substr(s: &str, start: i64, len: Option<i64>) -> String {
    let n = s.chars().count() as i128;
    let mut p1 = i128::from(start);
    // No length: SQLite's longest string (SQLITE_MAX_LENGTH), which
    // decides the result when `start` is far before the first character.
    let mut p2 = len.map_or(1_000_000_000, i128::from);
    if p1 < 0 {
        p1 += n;
        if p1 < 0 {
            p2 = if p2 < 0 { 0 } else { p2 + p1 };
            p1 = 0;
        }
    } else if p1 > 0 {
        p1 -= 1;
    } else if p2 > 0 {
        p2 -= 1;
    }
    if p2 < 0 {
        p2 = if p2 < -p1 { p1 } else { -p2 };
        p1 -= p2;
    }
    // Now 0 <= p1 and 0 <= p2; both fit a usize once clamped to n.
    let (skip, take) = (p1.clamp(0, n) as usize, p2.clamp(0, n) as usize);
    s.chars().skip(skip).take(take).collect()
}

/// ROUND(x, digits). For 0..=30 digits (more count as 30), as SQLite: a
/// value beyond 2^52 has no fraction and is returned as it is; with no
/// digits, halves go away from zero; otherwise x is written with 20
/// significant digits (what SQLite's printf reads of a double), rounded
/// half away from zero at `digits` decimals, and read back. Negative
/// digits round left of the decimal point, as Oracle does.
pub(crate) fn round(x: f64, digits: i64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if !(-TWO_52..=TWO_52).contains(&x) {
        return x; // no fraction (or NaN): nothing to round
    }
    if digits < 0 {
        if digits < -22 {
            return 0.0; // |x| <= 2^52 < 10^16: rounds to zero
        }
        let m = 10f64.powi((-digits) as i32);
        return round(x / m, 0) * m;
    }
    if digits == 0 {
        // C's (i64)(x ± 0.5): the addition itself may round up.
        return (x + if x < 0.0 { -0.5 } else { 0.5 }) as i64 as f64;
    }
    let digits = digits.min(30) as usize;
    round_decimal(x, digits)
}

/// `x` rounded half away from zero at `digits` decimals, reading x to 20
/// significant digits first.
fn round_decimal(x: f64, digits: usize) -> f64 {
    // "d.ddddddddddddddddddde±x": 20 significant digits.
    let sci = format!("{:.19e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut ds: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    // The value is 0.ds × 10^(exp + 1): `point` digits before the point.
    let mut point = exp + 1;
    // Keep `point + digits` digits; the next one decides.
    let keep = point + digits as i64;
    if keep < 0 {
        return 0.0f64.copysign(x);
    }
    let keep = keep as usize;
    if keep < ds.len() {
        let up = ds[keep] >= 5;
        ds.truncate(keep);
        if up {
            // Carry from the last kept digit; a carry out of the first
            // digit adds a leading 1.
            let mut i = ds.len();
            loop {
                if i == 0 {
                    ds.insert(0, 1);
                    point += 1;
                    break;
                }
                i -= 1;
                if ds[i] == 9 {
                    ds[i] = 0;
                } else {
                    ds[i] += 1;
                    break;
                }
            }
        }
    }
    let digits_text: String = ds.iter().map(|d| char::from(b'0' + d)).collect();
    let text = format!(
        "0.{}e{}",
        if digits_text.is_empty() {
            "0"
        } else {
            &digits_text
        },
        point
    );
    let r: f64 = text.parse().unwrap_or(0.0);
    r.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_counts_from_the_end_when_negative() {
        assert_eq!(substr("hello", -2, Some(2)), "lo");
        assert_eq!(substr("hello", -2, None), "lo");
        assert_eq!(substr("hello", 2, Some(3)), "ell");
        assert_eq!(substr("hello", 0, Some(2)), "h");
        assert_eq!(substr("hello", 3, Some(-2)), "he");
        assert_eq!(substr("hello", -10, Some(7)), "he");
        assert_eq!(substr("héllo", 2, Some(2)), "él");
        // SQLite's arithmetic at the extremes: MAX + (MIN + 5) = 4.
        assert_eq!(substr("hello", i64::MIN, Some(i64::MAX)), "hell");
        assert_eq!(substr("hello", i64::MAX, Some(i64::MIN)), "hello");
        assert_eq!(substr("hello", 1, Some(i64::MIN)), "");
        // Found by tests/sql_functions.rs: without a length, the rest is
        // SQLite's maximum length, not the string's.
        assert_eq!(substr("😀x😀", -4, None), "😀x😀");
        assert_eq!(substr("-1", i64::MIN, None), "");
    }

    #[test]
    fn round_keeps_large_digit_counts_and_rounds_halves_away_from_zero() {
        assert_eq!(round(1.5, 400), 1.5);
        assert_eq!(round(1.25, 1), 1.3);
        assert_eq!(round(-1.25, 1), -1.3);
        assert_eq!(round(2.5, 0), 3.0);
        assert_eq!(round(-2.5, 0), -3.0);
        assert_eq!(round(2.567, 1), 2.6);
        assert_eq!(round(0.0004, 2), 0.0);
        assert_eq!(round(1e300, 2), 1e300);
        assert_eq!(round(1234.5, -2), 1200.0);
        assert_eq!(round(-1250.0, -2), -1300.0);
        assert_eq!(round(5.0, -30), 0.0);
    }
}
