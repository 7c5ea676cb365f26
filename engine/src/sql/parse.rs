//! Text to `ast::Statement`: a tokenizer and a recursive-descent parser for
//! the subset blocklab runs.
//!
//! Why not the `sqlparser` crate: we tried it (see ECOSYSTEM.md). Our
//! subset needs several forms it does not have — `AS OF SCN n`,
//! `EXPLAIN PLAN FOR`, the `NOLOGGING` table option, `ALTER INDEX …
//! UNUSABLE | REBUILD`, `generate_series` as a table — each of which needed
//! a text rewrite before parsing, and its AST (hundreds of variants, spans
//! on every node) had to be translated into ours anyway. The grammar below
//! is about as long as that translation, reports errors at a line and
//! column, and parses the sqllogictest corpus (200k statements) in a
//! fraction of the time.
//!
//! Hints: a comment that starts with `/*+` anywhere in the statement is read
//! as a hint list (`FULL(t) INDEX(t i) NUM_INDEX_KEYS(t i 2) APPEND`);
//! unknown hints are ignored, as in Oracle. Bind placeholders are `?`
//! (each a new one) and `:name` (the same name is the same placeholder).
//!
//! Expressions are parsed in `expr`, which also bounds their nesting
//! ([`super::limits::MAX_EXPR_DEPTH`]); every finished statement is
//! measured once more by `limits::check_depth`.

mod expr;

use super::ast::*;
use crate::catalog::MAX_NAME_LEN;
use crate::error::{Error, Result};
use crate::txn::Isolation;
use crate::value::ColType;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
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
struct Token {
    tok: Tok,
    line: u64,
    column: u64,
}

const SYMBOLS: [&str; 19] = [
    "<>", "!=", "<=", ">=", "||", "==", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".",
    ";",
];

fn syntax(line: u64, column: u64, message: impl Into<String>) -> Error {
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

/// Splits `sql` into tokens, collecting hint comments into `hints`.
fn tokenize(sql: &str, hints: &mut Vec<String>) -> Result<Vec<Token>> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1u64, 0usize);
    while i < b.len() {
        let c = b[i];
        let column = (i - line_start + 1) as u64;
        let at = |tok| Token { tok, line, column };
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
    });
    Ok(out)
}

/// Parses one statement (a trailing `;` is allowed).
pub(crate) fn parse(sql: &str) -> Result<Statement> {
    let mut hint_text = Vec::new();
    let toks = tokenize(sql, &mut hint_text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        named: Vec::new(),
        params: 0,
        depth: 0,
    };
    let stmt = p.statement()?;
    p.eat_sym(";");
    if p.peek() != &Tok::End {
        return Err(p.error("unexpected text after the end of the statement"));
    }
    super::limits::check_depth(&stmt)?;
    let hints = parse_hints(&hint_text);
    Ok(Statement {
        stmt,
        params: p.params,
        hints,
    })
}

/// Reads `FULL(t) INDEX(t i) NUM_INDEX_KEYS(t i n) APPEND` hint lists.
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

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    named: Vec<String>,
    params: usize,
    /// Nesting levels entered so far (see `expr`).
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    // Cold and out of line: every parsing function may build an error, and
    // the expression parser's frames must stay small (see `expr`).
    #[cold]
    #[inline(never)]
    fn error(&self, msg: &str) -> Error {
        let t = &self.toks[self.pos];
        let found = match &t.tok {
            Tok::End => "end of statement".to_string(),
            Tok::Ident(s) | Tok::Quoted(s) => format!("'{s}'"),
            Tok::Int(v) => v.to_string(),
            Tok::Real(v) => v.to_string(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Param(_) => "a bind variable".into(),
        };
        syntax(t.line, t.column, format!("{msg} (found {found})"))
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {}", kw.to_ascii_uppercase())))
        }
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(x) if *x == s) {
            self.next();
            true
        } else {
            false
        }
    }

    fn sym(&mut self, s: &str) -> Result<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{s}'")))
        }
    }

    fn ident(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::Ident(s) if !RESERVED.contains(&s.as_str()) => {
                self.next();
                Ok(s)
            }
            Tok::Quoted(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.error("expected a name")),
        }
    }

    /// A possibly qualified name; the qualifier (schema or table) is dropped.
    fn name(&mut self) -> Result<String> {
        let mut n = self.ident()?;
        while self.eat_sym(".") {
            n = self.ident()?;
        }
        Ok(n)
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let mut v = vec![item(self)?];
        while self.eat_sym(",") {
            v.push(item(self)?);
        }
        Ok(v)
    }

    fn paren_names(&mut self) -> Result<Vec<String>> {
        self.sym("(")?;
        let v = self.list(|p| p.ident())?;
        self.sym(")")?;
        Ok(v)
    }

    fn statement(&mut self) -> Result<Stmt> {
        let Tok::Ident(kw) = self.peek().clone() else {
            return Err(self.error("expected a statement"));
        };
        match kw.as_str() {
            "select" => Ok(Stmt::Select(Box::new(self.select()?))),
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "commit" | "end" => {
                self.next();
                let _ = self.eat_kw("work") || self.eat_kw("transaction");
                Ok(Stmt::Commit)
            }
            "rollback" => {
                self.next();
                let _ = self.eat_kw("work") || self.eat_kw("transaction");
                Ok(Stmt::Rollback)
            }
            "set" => {
                self.next();
                if self.eat_kw("session") {
                    self.kw("user")?;
                    return Ok(Stmt::SetUser(self.ident()?));
                }
                self.kw("transaction")?;
                self.kw("isolation")?;
                self.kw("level")?;
                if self.eat_kw("serializable") {
                    return Ok(Stmt::SetIsolation(Isolation::Serializable));
                }
                self.kw("read")?;
                self.kw("committed")?;
                Ok(Stmt::SetIsolation(Isolation::ReadCommitted))
            }
            "analyze" => {
                self.next();
                self.eat_kw("table");
                let table = self.name()?;
                if self.eat_kw("compute") {
                    self.kw("statistics")?;
                }
                Ok(Stmt::Analyze { table })
            }
            "flashback" => {
                self.next();
                self.kw("table")?;
                let table = self.name()?;
                self.kw("to")?;
                self.kw("scn")?;
                let scn = self.additive()?;
                Ok(Stmt::Flashback { table, scn })
            }
            "explain" => {
                self.next();
                if self.eat_kw("plan") {
                    self.kw("for")?;
                }
                if self.is_kw("explain") {
                    // One level only: an EXPLAIN of an EXPLAIN has no plan.
                    return Err(self.error("expected SELECT, INSERT, UPDATE or DELETE"));
                }
                Ok(Stmt::Explain(Box::new(self.statement()?)))
            }
            _ => Err(self.error("expected a statement")),
        }
    }

    fn insert(&mut self) -> Result<Stmt> {
        self.kw("insert")?;
        self.kw("into")?;
        let table = self.name()?;
        let columns = if matches!(self.peek(), Tok::Sym("(")) && !self.is_select_ahead(1) {
            Some(self.paren_names()?)
        } else {
            None
        };
        let source = if self.eat_kw("values") {
            InsertSource::Values(self.list(|p| {
                p.sym("(")?;
                let row = p.list(|p| p.expr())?;
                p.sym(")")?;
                Ok(row)
            })?)
        } else if self.eat_sym("(") {
            let s = self.select()?;
            self.sym(")")?;
            InsertSource::Select(Box::new(s))
        } else {
            InsertSource::Select(Box::new(self.select()?))
        };
        Ok(Stmt::Insert {
            table,
            columns,
            source,
        })
    }

    fn is_select_ahead(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Ident(s) if s == "select")
    }

    fn update(&mut self) -> Result<Stmt> {
        self.kw("update")?;
        let table = self.name()?;
        self.table_alias();
        self.kw("set")?;
        let sets = self.list(|p| {
            let c = p.name()?;
            p.sym("=")?;
            Ok((c, p.expr()?))
        })?;
        let filter = self.where_clause()?;
        Ok(Stmt::Update {
            table,
            sets,
            filter,
        })
    }

    fn delete(&mut self) -> Result<Stmt> {
        self.kw("delete")?;
        self.eat_kw("from");
        let table = self.name()?;
        self.table_alias();
        let filter = self.where_clause()?;
        Ok(Stmt::Delete { table, filter })
    }

    /// An optional alias after a table name (ignored: one table per statement).
    fn table_alias(&mut self) -> Option<String> {
        if self.eat_kw("as") {
            return self.ident().ok();
        }
        match self.peek() {
            Tok::Ident(s) if !RESERVED.contains(&s.as_str()) => {
                let s = s.clone();
                self.next();
                Some(s)
            }
            _ => None,
        }
    }

    fn where_clause(&mut self) -> Result<Option<Expr>> {
        if self.eat_kw("where") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    fn create(&mut self) -> Result<Stmt> {
        self.kw("create")?;
        let unique = self.eat_kw("unique");
        if self.eat_kw("index") {
            let _ = self.eat_kw("if") && self.eat_kw("not") && self.eat_kw("exists");
            let name = self.name()?;
            self.kw("on")?;
            let table = self.name()?;
            self.sym("(")?;
            let columns = self.list(|p| {
                let c = p.ident()?;
                let desc = if p.eat_kw("desc") {
                    true
                } else {
                    p.eat_kw("asc");
                    false
                };
                Ok((c, desc))
            })?;
            self.sym(")")?;
            return Ok(Stmt::CreateIndex {
                name,
                table,
                columns,
                unique,
            });
        }
        if unique {
            return Err(self.error("expected INDEX after CREATE UNIQUE"));
        }
        self.kw("table")?;
        let name = self.name()?;
        self.sym("(")?;
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        loop {
            if let Some(c) = self.table_constraint()? {
                constraints.push(c);
            } else {
                columns.push(self.column_spec()?);
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        self.sym(")")?;
        let mut logging = true;
        loop {
            if self.eat_kw("nologging") {
                logging = false;
            } else if self.eat_kw("logging") {
                logging = true;
            } else {
                break;
            }
        }
        Ok(Stmt::CreateTable {
            name,
            columns,
            constraints,
            logging,
        })
    }

    fn col_type(&mut self) -> Result<ColType> {
        let Tok::Ident(t) = self.peek().clone() else {
            return Err(self.error("expected a column type"));
        };
        let ty = match t.as_str() {
            "integer" | "int" | "bigint" | "smallint" | "number" | "numeric" | "decimal" => {
                ColType::Integer
            }
            "real" | "float" | "double" => ColType::Real,
            "text" | "varchar" | "varchar2" | "char" | "character" | "string" | "clob" => {
                ColType::Text
            }
            _ => return Err(self.error("expected INTEGER, REAL/FLOAT or TEXT/VARCHAR")),
        };
        self.next();
        if t == "double" {
            self.eat_kw("precision");
        }
        // Lengths and precisions are accepted and ignored: VARCHAR(20).
        if self.eat_sym("(") {
            self.list(|p| match p.next() {
                Tok::Int(_) => Ok(()),
                _ => Err(p.error("expected a length")),
            })?;
            self.sym(")")?;
        }
        Ok(ty)
    }

    fn column_spec(&mut self) -> Result<ColumnSpec> {
        let name = self.ident()?;
        let ty = self.col_type()?;
        let mut c = ColumnSpec {
            name,
            ty,
            not_null: false,
            primary_key: false,
            unique: false,
            check: None,
            references: None,
        };
        loop {
            if self.eat_kw("constraint") {
                self.ident()?;
            } else if self.eat_kw("not") {
                self.kw("null")?;
                c.not_null = true;
            } else if self.eat_kw("null") {
            } else if self.eat_kw("primary") {
                self.kw("key")?;
                c.primary_key = true;
                c.not_null = true;
            } else if self.eat_kw("unique") {
                c.unique = true;
            } else if self.eat_kw("check") {
                self.sym("(")?;
                c.check = Some(self.expr()?);
                self.sym(")")?;
            } else if self.eat_kw("references") {
                let parent = self.name()?;
                let col = if self.eat_sym("(") {
                    let col = self.ident()?;
                    self.sym(")")?;
                    Some(col)
                } else {
                    None
                };
                c.references = Some((parent, col));
            } else {
                break;
            }
        }
        Ok(c)
    }

    fn table_constraint(&mut self) -> Result<Option<TableConstraint>> {
        let name = if self.is_kw("constraint") {
            self.next();
            Some(self.ident()?)
        } else {
            None
        };
        let c = if self.eat_kw("primary") {
            self.kw("key")?;
            TableConstraint::PrimaryKey {
                name,
                columns: self.paren_names()?,
            }
        } else if self.is_kw("unique") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.next();
            TableConstraint::Unique {
                name,
                columns: self.paren_names()?,
            }
        } else if self.is_kw("check") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.next();
            self.sym("(")?;
            let expr = self.expr()?;
            self.sym(")")?;
            TableConstraint::Check { name, expr }
        } else if self.eat_kw("foreign") {
            self.kw("key")?;
            let columns = self.paren_names()?;
            self.kw("references")?;
            let parent = self.name()?;
            let parent_columns = if matches!(self.peek(), Tok::Sym("(")) {
                self.paren_names()?
            } else {
                Vec::new()
            };
            TableConstraint::ForeignKey {
                name,
                columns,
                parent,
                parent_columns,
            }
        } else if name.is_some() {
            return Err(self.error("expected PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY"));
        } else {
            return Ok(None);
        };
        Ok(Some(c))
    }

    fn drop(&mut self) -> Result<Stmt> {
        self.kw("drop")?;
        let table = if self.eat_kw("table") {
            true
        } else {
            self.kw("index")?;
            false
        };
        let if_exists = self.eat_kw("if") && self.eat_kw("exists");
        let name = self.name()?;
        Ok(if table {
            Stmt::DropTable { name, if_exists }
        } else {
            Stmt::DropIndex { name, if_exists }
        })
    }

    fn alter(&mut self) -> Result<Stmt> {
        self.kw("alter")?;
        if self.eat_kw("session") {
            self.kw("set")?;
            self.kw("isolation_level")?;
            self.sym("=")?;
            if self.eat_kw("serializable") {
                return Ok(Stmt::SessionIsolation(Isolation::Serializable));
            }
            self.kw("read")?;
            self.kw("committed")?;
            return Ok(Stmt::SessionIsolation(Isolation::ReadCommitted));
        }
        if self.eat_kw("index") {
            let name = self.name()?;
            let rebuild = if self.eat_kw("rebuild") {
                true
            } else {
                self.kw("unusable")?;
                false
            };
            return Ok(Stmt::AlterIndex { name, rebuild });
        }
        self.kw("table")?;
        let table = self.name()?;
        if self.eat_kw("add") {
            self.eat_kw("column");
            let paren = self.eat_sym("(");
            let column = self.column_spec()?;
            if paren {
                self.sym(")")?;
            }
            return Ok(Stmt::AddColumn { table, column });
        }
        if self.eat_kw("drop") {
            self.eat_kw("column");
            let paren = self.eat_sym("(");
            let column = self.ident()?;
            if paren {
                self.sym(")")?;
            }
            return Ok(Stmt::DropColumn { table, column });
        }
        if self.eat_kw("nologging") {
            return Ok(Stmt::SetLogging {
                table,
                logging: false,
            });
        }
        if self.eat_kw("logging") {
            return Ok(Stmt::SetLogging {
                table,
                logging: true,
            });
        }
        Err(self.error("expected ADD, DROP, LOGGING or NOLOGGING"))
    }

    fn select(&mut self) -> Result<Select> {
        self.kw("select")?;
        let distinct = self.eat_kw("distinct");
        if !distinct {
            self.eat_kw("all");
        }
        let items = self.list(|p| {
            if p.eat_sym("*") {
                return Ok(SelectItem::Wildcard);
            }
            if matches!(p.peek(), Tok::Ident(_))
                && matches!(p.peek_at(1), Tok::Sym("."))
                && matches!(p.peek_at(2), Tok::Sym("*"))
            {
                p.pos += 3;
                return Ok(SelectItem::Wildcard);
            }
            let expr = p.expr()?;
            let alias = if p.eat_kw("as") {
                Some(p.ident()?)
            } else {
                match p.peek() {
                    Tok::Ident(s) if !RESERVED.contains(&s.as_str()) => Some(p.ident()?),
                    Tok::Quoted(_) => Some(p.ident()?),
                    _ => None,
                }
            };
            Ok(SelectItem::Expr { expr, alias })
        })?;
        let from = if self.eat_kw("from") {
            self.from()?
        } else {
            From::Dual
        };
        let filter = self.where_clause()?;
        let mut group_by = Vec::new();
        if self.eat_kw("group") {
            self.kw("by")?;
            group_by = self.list(|p| p.expr())?;
        }
        let having = if self.eat_kw("having") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_kw("order") {
            self.kw("by")?;
            order_by = self.list(|p| {
                let expr = p.expr()?;
                let desc = if p.eat_kw("desc") {
                    true
                } else {
                    p.eat_kw("asc");
                    false
                };
                let nulls_first = if p.eat_kw("nulls") {
                    if p.eat_kw("first") {
                        Some(true)
                    } else {
                        p.kw("last")?;
                        Some(false)
                    }
                } else {
                    None
                };
                Ok(OrderItem {
                    expr,
                    desc,
                    nulls_first,
                })
            })?;
        }
        let (mut limit, mut offset) = (None, None);
        if self.eat_kw("limit") {
            let first = self.expr()?;
            if self.eat_sym(",") {
                // LIMIT skip, count (SQLite)
                offset = Some(first);
                limit = Some(self.expr()?);
            } else {
                limit = Some(first);
                if self.eat_kw("offset") {
                    offset = Some(self.expr()?);
                }
            }
        }
        Ok(Select {
            distinct,
            items,
            from,
            filter,
            group_by,
            having,
            order_by,
            limit,
            offset,
        })
    }

    fn from(&mut self) -> Result<From> {
        if self.is_kw("generate_series") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.next();
            self.sym("(")?;
            let start = self.expr()?;
            self.sym(",")?;
            let stop = self.expr()?;
            self.sym(")")?;
            self.table_alias();
            return Ok(From::Series { start, stop });
        }
        let name = self.name()?;
        if name == "dual" {
            // Oracle's one-row table.
            self.table_alias();
            return Ok(From::Dual);
        }
        let mut as_of = None;
        if self.is_kw("as") && matches!(self.peek_at(1), Tok::Ident(s) if s == "of") {
            self.pos += 2;
            self.kw("scn")?;
            as_of = Some(self.additive()?);
        }
        let alias = self.table_alias();
        if self.eat_sym(",") || self.is_kw("join") {
            return Err(self.error("joins are not supported: one table per statement"));
        }
        Ok(From::Table { name, alias, as_of })
    }
}

/// Words that cannot be a bare alias or column name.
const RESERVED: &[&str] = &[
    "select", "from", "where", "group", "order", "by", "having", "limit", "offset", "and", "or",
    "not", "null", "is", "in", "between", "like", "as", "on", "set", "values", "into", "join",
    "asc", "desc", "union", "nulls",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> Statement {
        parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[test]
    fn parses_the_statement_forms() {
        for sql in [
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b VARCHAR(20) NOT NULL UNIQUE, c FLOAT CHECK (c > 0), d INT REFERENCES p(x)) NOLOGGING",
            "CREATE TABLE t (a INT, b INT, CONSTRAINT pk PRIMARY KEY (a, b), FOREIGN KEY (b) REFERENCES p (x))",
            "CREATE UNIQUE INDEX i ON t (a DESC, b ASC)",
            "DROP TABLE IF EXISTS t",
            "DROP INDEX i",
            "ALTER TABLE t ADD COLUMN e TEXT",
            "ALTER TABLE t DROP COLUMN e",
            "ALTER INDEX i UNUSABLE",
            "ALTER INDEX i REBUILD",
            "INSERT INTO t VALUES (1, 'x'), (2, NULL)",
            "INSERT /*+ APPEND */ INTO t (a, b) SELECT value, 'r' || value FROM generate_series(1, 10)",
            "SELECT a, COUNT(*) AS n FROM t AS OF SCN 42 WHERE b LIKE 'a%' AND c IS NOT NULL GROUP BY a ORDER BY 2 DESC, a LIMIT 5",
            "SELECT * FROM t WHERE a IN (SELECT x FROM p WHERE y BETWEEN 1 AND 2) OR NOT a <> 3",
            "UPDATE t SET a = a + 1, b = :name WHERE a = ? AND b = :name",
            "DELETE FROM t WHERE a NOT IN (1, 2)",
            "COMMIT",
            "ROLLBACK WORK",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "ALTER SESSION SET ISOLATION_LEVEL = READ COMMITTED",
            "SET SESSION USER partner",
            "FLASHBACK TABLE t TO SCN 1234",
            "ANALYZE TABLE t",
            "EXPLAIN PLAN FOR SELECT /*+ INDEX(t i) NUM_INDEX_KEYS(t i 1) */ a FROM t",
        ] {
            ok(sql);
        }
    }

    #[test]
    fn reads_hints_and_binds() {
        let s = ok("SELECT /*+ FULL(t) index(t i_ab) NUM_INDEX_KEYS(t i_ab 2) */ * FROM t WHERE a = ? AND b = :x AND c = :x AND d = ?");
        assert_eq!(s.hints.full, vec!["t".to_string()]);
        assert_eq!(s.hints.index, vec![("t".into(), "i_ab".into())]);
        assert_eq!(s.hints.num_index_keys, vec![("t".into(), "i_ab".into(), 2)]);
        assert_eq!(s.params, 3);
        assert!(
            ok("INSERT /*+ APPEND */ INTO t SELECT * FROM u")
                .hints
                .append
        );
    }

    #[test]
    fn precedence_and_between() {
        let s = ok("SELECT 1 FROM t WHERE a BETWEEN 1 AND 2 AND b = 1 + 2 * 3 OR c = 1");
        let Stmt::Select(sel) = s.stmt else { panic!() };
        let Some(Expr::Binary {
            op: BinOp::Or,
            left,
            ..
        }) = sel.filter
        else {
            panic!("OR must be the root")
        };
        assert!(matches!(*left, Expr::Binary { op: BinOp::And, .. }));
    }

    #[test]
    fn errors_carry_a_position() {
        match parse("SELECT a\nFROM t WHERE a = = 1") {
            Err(Error::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 18)),
            other => panic!("{other:?}"),
        }
        assert!(parse("SELECT 'abc FROM t").is_err());
        assert!(parse("SELEC 1").is_err());
        assert!(parse("SELECT a FROM t, u").is_err());
    }
}
