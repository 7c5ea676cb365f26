//! Text to tokens: the first step of the SQL pipeline (lexer → parser →
//! AST → binder → optimizer → operators).
//!
//! [`tokenize`] walks the statement text once, byte by byte, and yields
//! [`Token`]s — names (lower-cased), "quoted names", numbers, string
//! literals, symbols and bind placeholders — each with the line and column
//! it starts at, so that every syntax error, here or in the parser, can say
//! where it is. The list always ends with one `Tok::End`.
//!
//! Comments never reach the parser. A comment that starts with `/*+` is an
//! optimizer hint list (`FULL(t) INDEX(t i) NUM_INDEX_KEYS(t i 2) APPEND`):
//! its text is kept aside and read into [`Hints`] by [`parse_hints`], where
//! unknown hints are ignored, as in Oracle. Hints can stand anywhere in the
//! statement, so they are no part of the grammar.
//!
//! Invariants: a name longer than `catalog::MAX_NAME_LEN` is refused here,
//! where its position is known; an integer too big for INTEGER becomes a
//! REAL, as SQLite reads it.

use super::ast::Hints;
use crate::catalog::MAX_NAME_LEN;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// A "quoted identifier" (kept as written, lower-cased like the rest).
    Quoted(String),
    Int(i64),
    Real(f64),
    Str(String),
    Sym(&'static str),
    Param(Option<String>),
    End,
}

#[derive(Clone, Debug)]
/// A token and where it starts (1-based line and column; byte offset).
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: u64,
    pub(super) column: u64,
    pub(super) offset: usize,
}

const SYMBOLS: [&str; 19] = [
    "<>", "!=", "<=", ">=", "||", "==", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".",
    ";",
];

/// A syntax error at a position.
pub(super) fn syntax(line: u64, column: u64, message: impl Into<String>) -> Error {
    Error::Syntax {
        message: message.into(),
        line,
        column,
    }
}

/// Refuses a name longer than any object may have (`catalog::MAX_NAME_LEN`),
/// here where its position is known.
fn long_name(name: &str, line: u64, column: u64) -> Result<()> {
    let n = name.chars().count();
    if n > MAX_NAME_LEN {
        let head: String = name.chars().take(24).collect();
        return Err(syntax(
            line,
            column,
            format!("identifier {head}… is {n} characters long (limit {MAX_NAME_LEN})"),
        ));
    }
    Ok(())
}

/// Splits `sql` into tokens and reads its hint comments.
pub(super) fn tokenize(sql: &str) -> Result<(Vec<Token>, Hints)> {
    let mut hint_text = Vec::new();
    let tokens = tokens(sql, &mut hint_text)?;
    Ok((tokens, parse_hints(&hint_text)))
}

/// The tokens of `sql`, collecting the text of hint comments into `hints`.
fn tokens(sql: &str, hints: &mut Vec<String>) -> Result<Vec<Token>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1u64, 0usize);
    while i < b.len() {
        let c = b[i];
        let column = (i - line_start + 1) as u64;
        let at = |tok| Token {
            tok,
            line,
            column,
            offset: i,
        };
        if c == b'\n' {
            i += 1;
            line += 1;
            line_start = i;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = sql[i + 2..]
                .find("*/")
                .map(|p| i + 2 + p)
                .ok_or_else(|| syntax(line, column, "unterminated comment"))?;
            if b.get(i + 2) == Some(&b'+') {
                hints.push(sql[i + 3..end].to_string());
            }
            for &ch in &b[i..end] {
                if ch == b'\n' {
                    line += 1;
                }
            }
            if let Some(p) = sql[..end].rfind('\n') {
                if p >= i {
                    line_start = p + 1;
                }
            }
            i = end + 2;
            continue;
        }
        if c == b'\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None => return Err(syntax(line, column, "unterminated string literal")),
                    Some(b'\'') if b.get(j + 1) == Some(&b'\'') => {
                        s.push('\'');
                        j += 2;
                    }
                    Some(b'\'') => break,
                    Some(_) => {
                        let ch = sql[j..].chars().next().unwrap_or('\0');
                        s.push(ch);
                        j += ch.len_utf8();
                    }
                }
            }
            out.push(at(Tok::Str(s)));
            i = j + 1;
            continue;
        }
        if c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { ']' } else { c as char };
            let end = sql[i + 1..]
                .find(close)
                .map(|p| i + 1 + p)
                .ok_or_else(|| syntax(line, column, "unterminated quoted identifier"))?;
            long_name(&sql[i + 1..end], line, column)?;
            out.push(at(Tok::Quoted(sql[i + 1..end].to_ascii_lowercase())));
            i = end + 1;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let mut j = i;
            let mut real = false;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' {
                real = true;
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    real = true;
                    j = k;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                }
            }
            let text = &sql[i..j];
            let tok = if real {
                Tok::Real(
                    text.parse()
                        .map_err(|_| syntax(line, column, format!("bad number {text}")))?,
                )
            } else {
                match text.parse::<i64>() {
                    Ok(v) => Tok::Int(v),
                    // Too big for INTEGER: a REAL, as SQLite reads it.
                    Err(_) => Tok::Real(text.parse().unwrap_or(f64::INFINITY)),
                }
            };
            out.push(at(tok));
            i = j;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
                j += 1;
            }
            long_name(&sql[i..j], line, column)?;
            out.push(at(Tok::Ident(sql[i..j].to_ascii_lowercase())));
            i = j;
            continue;
        }
        if c == b'?' {
            out.push(at(Tok::Param(None)));
            i += 1;
            continue;
        }
        if c == b':'
            && b.get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_')
        {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            out.push(at(Tok::Param(Some(sql[i + 1..j].to_ascii_lowercase()))));
            i = j;
            continue;
        }
        match SYMBOLS.iter().find(|s| sql[i..].starts_with(**s)) {
            Some(s) => {
                out.push(at(Tok::Sym(s)));
                i += s.len();
            }
            None => {
                let ch = sql[i..].chars().next().unwrap_or('?');
                return Err(syntax(line, column, format!("unexpected character '{ch}'")));
            }
        }
    }
    let column = (b.len() - line_start + 1) as u64;
    out.push(Token {
        tok: Tok::End,
        line,
        column,
        offset: b.len(),
    });
    Ok(out)
}

/// Reads `FULL(t) INDEX(t i) NUM_INDEX_KEYS(t i n) APPEND LEADING(t …)
/// ORDERED USE_NL(t) USE_HASH(t) USE_MERGE(t)` hint lists.
fn parse_hints(texts: &[String]) -> Hints {
    let mut h = Hints::default();
    for text in texts {
        let mut rest = text.as_str();
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
            rest = &rest[start..];
            let name_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = rest[..name_end].to_ascii_uppercase();
            rest = rest[name_end..].trim_start();
            let mut args = Vec::new();
            if let Some(after) = rest.strip_prefix('(') {
                let close = after.find(')').unwrap_or(after.len());
                args = after[..close]
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|a| !a.is_empty())
                    .map(|a| a.to_ascii_lowercase())
                    .collect();
                rest = after.get(close + 1..).unwrap_or("");
            }
            match (name.as_str(), args.as_slice()) {
                ("APPEND", _) => h.append = true,
                ("FULL", [t, ..]) => h.full.push(t.clone()),
                ("BATCH_TABLE_ACCESS_BY_ROWID", [t, ..]) => h.batch.push(t.clone()),
                ("INDEX", [t, i, ..]) => h.index.push((t.clone(), i.clone())),
                ("LEADING", ts) => h.leading = ts.to_vec(),
                ("ORDERED", _) => h.ordered = true,
                ("USE_NL", ts) => h.use_nl.extend(ts.iter().cloned()),
                ("USE_HASH", ts) => h.use_hash.extend(ts.iter().cloned()),
                ("USE_MERGE", ts) => h.use_merge.extend(ts.iter().cloned()),
                ("SWAP_JOIN_INPUTS", ts) => h.swap_join_inputs.extend(ts.iter().cloned()),
                ("NO_SWAP_JOIN_INPUTS", ts) => h.no_swap_join_inputs.extend(ts.iter().cloned()),
                ("NUM_INDEX_KEYS", [t, i, n, ..]) => {
                    if let Ok(n) = n.parse() {
                        h.num_index_keys.push((t.clone(), i.clone(), n));
                    }
                }
                _ => {}
            }
        }
    }
    h
}
