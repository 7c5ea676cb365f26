//! Tokens to `ast::Statement`: a recursive-descent parser for the subset
//! blocklab runs. The text was split into tokens by `super::lexer`, which
//! also read the hints; this module and its two children build the AST:
//!
//! * here: the entry [`parse`], the token cursor (`peek`, `eat_kw`, `sym`,
//!   …), statement dispatch, INSERT / UPDATE / DELETE and SELECT;
//! * `schema`: CREATE, DROP and ALTER;
//! * `expr`: expressions, by precedence climbing, which also bounds their
//!   nesting ([`super::limits::MAX_EXPR_DEPTH`]).
//!
//! Every finished statement is measured once more by
//! `limits::check_depth`. Bind placeholders are `?` (each a new one) and
//! `:name` (the same name is the same placeholder); the parser numbers
//! them in order of appearance.
//!
//! Why not the `sqlparser` crate: we tried it. Our subset needs several
//! forms it does not have — `AS OF SCN n`, `EXPLAIN PLAN FOR`, the
//! `NOLOGGING` table option, `ALTER INDEX … UNUSABLE | REBUILD`,
//! `generate_series` as a table — each of which needed a text rewrite
//! before parsing, and its AST (hundreds of variants, spans on every node)
//! had to be translated into ours anyway. This grammar is about as long as
//! that translation, reports errors at a line and column, and parses the
//! sqllogictest corpus (200k statements) in a fraction of the time.

mod expr;
mod schema;

use super::ast::*;
use super::lexer::{syntax, tokenize, Tok, Token};
use crate::error::{Error, Result};
use crate::txn::Isolation;

/// Parses one statement (a trailing `;` is allowed).
pub(crate) fn parse(sql: &str) -> Result<Statement> {
    parse_numbered(sql, 0)
}

/// Parses one statement whose query blocks are numbered from `base + 1`
/// (a view's text, numbered apart from the statement that uses it: a
/// cached plan keys access paths by query block).
pub(crate) fn parse_numbered(sql: &str, base: usize) -> Result<Statement> {
    let (toks, hints) = tokenize(sql)?;
    let mut p = Parser {
        toks,
        pos: 0,
        named: Vec::new(),
        params: 0,
        depth: 0,
        qblocks: base,
        text: sql.to_string(),
    };
    let stmt = p.statement()?;
    p.eat_sym(";");
    if p.peek() != &Tok::End {
        return Err(p.error("unexpected text after the end of the statement"));
    }
    super::limits::check_depth(&stmt)?;
    Ok(Statement {
        stmt,
        params: p.params,
        hints,
    })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    named: Vec<String>,
    params: usize,
    /// Nesting levels entered so far (see `expr`).
    depth: usize,
    /// Query blocks numbered so far (`Select::qblock`).
    qblocks: usize,
    /// The statement's text (a view keeps its query's).
    text: String,
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
            "insert" | "replace" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "merge" => self.merge(),
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "commit" | "end" => {
                self.next();
                let _ = self.eat_kw("work") || self.eat_kw("transaction");
                Ok(Stmt::Commit)
            }
            "begin" => {
                self.next();
                let _ = self.eat_kw("work") || self.eat_kw("transaction");
                Ok(Stmt::Begin)
            }
            "start" => {
                self.next();
                self.kw("transaction")?;
                Ok(Stmt::Begin)
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
                Ok(Stmt::SetIsolation(self.isolation_level()?))
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

    /// An optional `ASC` or `DESC` after a sort or index key: true for DESC.
    fn descending(&mut self) -> bool {
        if self.eat_kw("desc") {
            true
        } else {
            self.eat_kw("asc");
            false
        }
    }

    /// `SERIALIZABLE` or `READ COMMITTED`, after SET TRANSACTION and
    /// ALTER SESSION.
    fn isolation_level(&mut self) -> Result<Isolation> {
        if self.eat_kw("serializable") {
            return Ok(Isolation::Serializable);
        }
        self.kw("read")?;
        self.kw("committed")?;
        Ok(Isolation::ReadCommitted)
    }

    fn insert(&mut self) -> Result<Stmt> {
        let conflict = if self.eat_kw("replace") {
            OnConflict::Replace
        } else {
            self.kw("insert")?;
            if self.eat_kw("or") {
                if self.eat_kw("replace") {
                    OnConflict::Replace
                } else if self.eat_kw("ignore") {
                    OnConflict::Ignore
                } else {
                    return Err(self.error("expected REPLACE or IGNORE"));
                }
            } else {
                OnConflict::Abort
            }
        };
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
            conflict,
        })
    }

    fn is_select_ahead(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Ident(s) if s == "select")
    }

    fn update(&mut self) -> Result<Stmt> {
        self.kw("update")?;
        if self.eat_sym("(") {
            // An inline join view: UPDATE (SELECT …) [alias] SET …
            let view = Box::new(self.select()?);
            self.sym(")")?;
            self.table_alias();
            self.kw("set")?;
            let sets = self.list(|p| p.assign())?;
            let filter = self.where_clause()?;
            return Ok(Stmt::UpdateView { view, sets, filter });
        }
        let table = self.name()?;
        let alias = self.table_alias();
        self.kw("set")?;
        let sets = self.list(|p| p.assign())?;
        let filter = self.where_clause()?;
        Ok(Stmt::Update {
            table,
            alias,
            sets,
            filter,
        })
    }

    /// One item of a SET list: `c = expr` or `(a, b) = (SELECT …)`.
    fn assign(&mut self) -> Result<Assign> {
        if self.eat_sym("(") {
            let cols = self.list(|p| p.name())?;
            self.sym(")")?;
            self.sym("=")?;
            self.sym("(")?;
            let sel = self.select()?;
            self.sym(")")?;
            return Ok(Assign::Row(cols, Box::new(sel)));
        }
        let c = self.name()?;
        self.sym("=")?;
        Ok(Assign::Column(c, self.expr()?))
    }

    fn delete(&mut self) -> Result<Stmt> {
        self.kw("delete")?;
        self.eat_kw("from");
        if self.eat_sym("(") {
            let view = Box::new(self.select()?);
            self.sym(")")?;
            self.table_alias();
            let filter = self.where_clause()?;
            return Ok(Stmt::DeleteView { view, filter });
        }
        let table = self.name()?;
        let alias = self.table_alias();
        let filter = self.where_clause()?;
        Ok(Stmt::Delete {
            table,
            alias,
            filter,
        })
    }

    /// `MERGE INTO t [alias] USING source [alias] ON (cond)
    /// [WHEN MATCHED THEN UPDATE SET … [WHERE …] [DELETE WHERE …]]
    /// [WHEN NOT MATCHED THEN INSERT [(cols)] VALUES (…) [WHERE …]]`,
    /// the two branches in either order.
    fn merge(&mut self) -> Result<Stmt> {
        self.kw("merge")?;
        self.kw("into")?;
        let target = self.name()?;
        let target_alias = self.table_alias();
        self.kw("using")?;
        let source = if self.eat_sym("(") {
            let select = Box::new(self.select()?);
            self.sym(")")?;
            From::Derived {
                select,
                alias: self.table_alias(),
            }
        } else {
            From::Table {
                name: self.name()?,
                alias: self.table_alias(),
                as_of: None,
            }
        };
        self.kw("on")?;
        let on = self.expr()?;
        let (mut matched, mut not_matched) = (None, None);
        while self.eat_kw("when") {
            if self.eat_kw("not") {
                self.kw("matched")?;
                self.kw("then")?;
                self.kw("insert")?;
                let columns = if matches!(self.peek(), Tok::Sym("(")) {
                    Some(self.paren_names()?)
                } else {
                    None
                };
                self.kw("values")?;
                self.sym("(")?;
                let values = self.list(|p| p.expr())?;
                self.sym(")")?;
                let filter = self.where_clause()?;
                not_matched = Some(MergeInsert {
                    columns,
                    values,
                    filter,
                });
            } else {
                self.kw("matched")?;
                self.kw("then")?;
                self.kw("update")?;
                self.kw("set")?;
                let sets = self.list(|p| p.assign())?;
                let filter = self.where_clause()?;
                let delete = if self.eat_kw("delete") {
                    self.kw("where")?;
                    Some(self.expr()?)
                } else {
                    None
                };
                matched = Some(MergeUpdate {
                    sets,
                    filter,
                    delete,
                });
            }
        }
        if matched.is_none() && not_matched.is_none() {
            return Err(self.error("expected WHEN MATCHED or WHEN NOT MATCHED"));
        }
        Ok(Stmt::Merge(Box::new(Merge {
            target,
            target_alias,
            source,
            on,
            matched,
            not_matched,
        })))
    }

    /// An optional alias after a table name.
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

    /// A query: one SELECT block, or a compound of several joined by set
    /// operators, then the ORDER BY / LIMIT / OFFSET of the whole. The arms
    /// are kept in order on the first (`Select::compound`), to be applied
    /// left to right, as SQLite and Oracle do (no operator binds tighter).
    fn select(&mut self) -> Result<Select> {
        let mut first = self.select_block()?;
        while let Some(op) = self.set_op() {
            first.compound.push((op, self.select_block()?));
        }
        self.order_limit(&mut first)?;
        Ok(first)
    }

    /// `UNION [ALL]`, `INTERSECT`, `EXCEPT` or `MINUS` (Oracle's EXCEPT),
    /// if one comes next.
    fn set_op(&mut self) -> Option<SetOp> {
        if self.eat_kw("union") {
            return Some(if self.eat_kw("all") {
                SetOp::UnionAll
            } else {
                SetOp::Union
            });
        }
        if self.eat_kw("intersect") {
            return Some(SetOp::Intersect);
        }
        if self.eat_kw("except") || self.eat_kw("minus") {
            return Some(SetOp::Except);
        }
        None
    }

    /// One SELECT block, up to its HAVING: a compound's ORDER BY and LIMIT
    /// belong to the whole, so they are read by `select`.
    fn select_block(&mut self) -> Result<Select> {
        self.kw("select")?;
        // Numbered on entry, so an outer block comes before its subqueries.
        self.qblocks += 1;
        let qblock = self.qblocks;
        let distinct = self.eat_kw("distinct");
        if !distinct {
            self.eat_kw("all");
        }
        let items = self.list(|p| {
            if p.eat_sym("*") {
                return Ok(SelectItem::Wildcard);
            }
            if let (Tok::Ident(t) | Tok::Quoted(t), Tok::Sym("."), Tok::Sym("*")) =
                (p.peek(), p.peek_at(1), p.peek_at(2))
            {
                let t = t.clone();
                p.pos += 3;
                return Ok(SelectItem::TableWildcard(t));
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
        Ok(Select {
            qblock,
            distinct,
            items,
            from,
            filter,
            group_by,
            having,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            compound: Vec::new(),
        })
    }

    /// The ORDER BY, LIMIT and OFFSET after a query, into `sel`.
    fn order_limit(&mut self, sel: &mut Select) -> Result<()> {
        let mut order_by = Vec::new();
        if self.eat_kw("order") {
            self.kw("by")?;
            order_by = self.list(|p| {
                let expr = p.expr()?;
                let desc = p.descending();
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
        sel.order_by = order_by;
        sel.limit = limit;
        sel.offset = offset;
        Ok(())
    }

    /// A FROM clause: table references joined left to right by `,`,
    /// `[INNER] JOIN … ON`, `LEFT [OUTER] JOIN … ON` and `CROSS JOIN`.
    fn from(&mut self) -> Result<From> {
        let mut left = self.table_ref()?;
        loop {
            let (kind, on) = if self.eat_sym(",") {
                (JoinKind::Inner, false)
            } else if self.eat_kw("cross") {
                self.kw("join")?;
                (JoinKind::Inner, false)
            } else if self.eat_kw("inner") {
                self.kw("join")?;
                (JoinKind::Inner, true)
            } else if self.eat_kw("left") {
                self.eat_kw("outer");
                self.kw("join")?;
                (JoinKind::Left, true)
            } else if self.eat_kw("join") {
                (JoinKind::Inner, true)
            } else if self.is_kw("right") || self.is_kw("full") || self.is_kw("natural") {
                return Err(self.error(
                    "RIGHT, FULL and NATURAL joins are not supported (write the join as a LEFT or INNER JOIN … ON)",
                ));
            } else {
                return Ok(left);
            };
            let right = self.table_ref()?;
            let on = if on {
                if self.is_kw("using") {
                    return Err(self.error("JOIN … USING is not supported (write ON a.c = b.c)"));
                }
                self.kw("on")?;
                Some(self.expr()?)
            } else {
                None
            };
            left = From::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                on,
            };
        }
    }

    /// One table reference: a table (with `AS OF SCN n` and an alias),
    /// `generate_series(a, b)`, DUAL, a derived table `(SELECT …) alias`,
    /// or a parenthesized join.
    fn table_ref(&mut self) -> Result<From> {
        if matches!(self.peek(), Tok::Sym("(")) {
            self.next();
            if self.is_kw("select") {
                let select = self.subquery()?;
                self.sym(")")?;
                let alias = self.table_alias();
                return Ok(From::Derived { select, alias });
            }
            // A parenthesized join nests like an expression does, so a
            // hostile `((((… t …))))` meets the same depth limit.
            self.enter()?;
            let inner = self.from();
            self.depth -= 1;
            let inner = inner?;
            self.sym(")")?;
            return Ok(inner);
        }
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
        Ok(From::Table { name, alias, as_of })
    }
}

/// Words that cannot be a bare alias or column name.
const RESERVED: &[&str] = &[
    "select",
    "from",
    "where",
    "group",
    "order",
    "by",
    "having",
    "limit",
    "offset",
    "and",
    "or",
    "not",
    "null",
    "is",
    "in",
    "between",
    "like",
    "as",
    "on",
    "set",
    "values",
    "into",
    "join",
    "asc",
    "desc",
    "union",
    "intersect",
    "except",
    "minus",
    "nulls",
    "case",
    "when",
    "then",
    "else",
    "end",
    "cross",
    "inner",
    "left",
    "outer",
    "right",
    "full",
    "natural",
    "using",
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
        assert!(parse("SELECT a FROM t RIGHT JOIN u ON 1 = 1").is_err());
        assert!(parse("SELECT a FROM t JOIN u").is_err());
    }

    #[test]
    fn joins_nest_left_to_right() {
        let Stmt::Select(sel) =
            ok("SELECT * FROM a x, b LEFT JOIN c ON c.k = b.k CROSS JOIN d").stmt
        else {
            panic!("not a select")
        };
        let From::Join { left, kind, on, .. } = sel.from else {
            panic!("not a join")
        };
        assert_eq!((kind, on), (JoinKind::Inner, None));
        let From::Join { left, kind, .. } = *left else {
            panic!("not a join")
        };
        assert_eq!(kind, JoinKind::Left);
        assert!(matches!(*left, From::Join { .. }));
    }
}
