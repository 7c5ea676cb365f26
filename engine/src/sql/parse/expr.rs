//! Expressions: precedence climbing, with a bound on nesting.
//!
//! Precedence, loosest first: OR; AND; NOT; comparisons, IS, BETWEEN, IN,
//! LIKE; `+ - ||`; `* / %`; unary minus.
//!
//! Two rules keep every later pass (binding, planning, evaluation,
//! rendering, even dropping the tree) within a thread's stack, since each
//! of them walks the tree recursively:
//!
//! * A run of operators of one level (`a OR b OR c`, `1 + 2 - 3 || x`) is
//!   one [`Expr::Chain`], not a left-deep tree: 100,000 terms are one level.
//! * Nesting is bounded: parentheses, NOT, unary minus and plus, function
//!   arguments, IN lists, subqueries and the parts of a CASE or a CAST
//!   each enter one level, and no statement may go deeper than
//!   [`MAX_EXPR_DEPTH`]. The parser counts as it descends;
//!   `limits::check_depth` then measures the finished tree, where
//!   operators of different levels (`a = (b = (c = …))`) add levels that
//!   the parser's count does not see.
//!
//! The parser itself spends one stack frame per parenthesis, NOT or unary
//! minus (`level` calls itself), a few per function call or IN list.
//!
//! Invariant: the parser's recursion through `nested` is at most
//! `MAX_EXPR_DEPTH` deep, whatever the input.

use super::super::ast::*;
use super::super::lexer::{syntax, Tok};
use super::super::limits::MAX_EXPR_DEPTH;
use super::Parser;
use crate::error::{Error, Result};
use crate::value::Value;

/// Precedence levels, loosest first (a larger number binds tighter).
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const ADD: u8 = 5;
const MUL: u8 = 6;
const UNARY: u8 = 7;
/// The level of a primary (a literal, a name, a call, a parenthesis).
const PRIMARY: u8 = 8;

impl Parser {
    /// Enters one level of nesting, or fails with the limit in the message.
    pub(super) fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_EXPR_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> Error {
        let t = &self.toks[self.pos];
        syntax(
            t.line,
            t.column,
            format!("expression nested too deeply (limit {MAX_EXPR_DEPTH})"),
        )
    }

    /// A full expression, one nesting level below the caller.
    pub(crate) fn expr(&mut self) -> Result<Expr> {
        self.nested(OR)
    }

    /// An expression of level `min` or tighter, one nesting level down.
    fn nested(&mut self, min: u8) -> Result<Expr> {
        self.enter()?;
        let r = self.level(min);
        self.depth -= 1;
        r
    }

    /// `+ - ||` and tighter: a comparison operand, BETWEEN bounds, a LIKE
    /// pattern, an SCN.
    pub(super) fn additive(&mut self) -> Result<Expr> {
        self.level(ADD)
    }

    /// Precedence climbing: one prefix (NOT, unary minus or plus, a
    /// parenthesis, or a primary), then every infix operator of level
    /// `min` or tighter. Operators of one level collect into one chain.
    ///
    /// An operator applies to what is on its left only if it binds no
    /// tighter than what built it (`a AND b = c` has already parsed
    /// `b = c` on the right of AND), and comparisons do not chain
    /// (`a = b = c` is an error, as in most SQL dialects).
    ///
    /// Parentheses, NOT and unary minus recurse into this function
    /// directly, one stack frame per level.
    fn level(&mut self, min: u8) -> Result<Expr> {
        let (mut lhs, mut lhs_level) = if min <= NOT && self.is_kw("not") {
            self.next();
            (Expr::Not(Box::new(self.nested(NOT)?)), NOT)
        } else if matches!(self.peek(), Tok::Sym("-") | Tok::Sym("+")) {
            let minus = matches!(self.next(), Tok::Sym("-"));
            let e = self.nested(UNARY)?;
            let e = match e {
                e if !minus => e,
                Expr::Literal(Value::Int(v)) => Expr::Literal(Value::Int(v.wrapping_neg())),
                Expr::Literal(Value::Real(v)) => Expr::Literal(Value::Real(-v)),
                e => Expr::Neg(Box::new(e)),
            };
            (e, UNARY)
        } else if self.eat_sym("(") {
            if self.is_kw("select") {
                // A scalar subquery.
                let sub = self.subquery()?;
                self.sym(")")?;
                (Expr::Subquery(sub), PRIMARY)
            } else {
                let e = self.nested(OR)?;
                self.sym(")")?;
                (e, PRIMARY)
            }
        } else if self.is_kw("exists") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.next();
            self.sym("(")?;
            let sub = self.subquery()?;
            self.sym(")")?;
            (Expr::Exists(sub), PRIMARY)
        } else {
            (self.primary()?, PRIMARY)
        };
        // Operands of the chain being built at `lhs_level` (after `lhs`).
        let mut rest: Vec<(BinOp, Expr)> = Vec::new();
        loop {
            let (level, op) = match self.peek() {
                Tok::Ident(s) if s == "or" => (OR, BinOp::Or),
                Tok::Ident(s) if s == "and" => (AND, BinOp::And),
                Tok::Sym("+") => (ADD, BinOp::Add),
                Tok::Sym("-") => (ADD, BinOp::Sub),
                Tok::Sym("||") => (ADD, BinOp::Concat),
                Tok::Sym("*") => (MUL, BinOp::Mul),
                Tok::Sym("/") => (MUL, BinOp::Div),
                Tok::Sym("%") => (MUL, BinOp::Mod),
                _ if self.at_comparison() => (CMP, BinOp::Eq),
                _ => break,
            };
            if level < min || level > lhs_level || (level == CMP && lhs_level == CMP) {
                break;
            }
            if level < lhs_level {
                lhs = chain(lhs, std::mem::take(&mut rest));
                lhs_level = level;
            }
            if level == CMP {
                lhs = self.comparison(lhs)?;
                continue;
            }
            self.next();
            rest.push((op, self.level(level + 1)?));
        }
        Ok(chain(lhs, rest))
    }

    /// Whether a comparison-level operator starts here.
    fn at_comparison(&self) -> bool {
        match self.peek() {
            Tok::Sym(s) => matches!(*s, "=" | "==" | "<>" | "!=" | "<" | "<=" | ">" | ">="),
            Tok::Ident(s) => match s.as_str() {
                "is" | "isnull" | "notnull" | "between" | "in" | "like" => true,
                "not" => {
                    matches!(self.peek_at(1), Tok::Ident(s) if s == "between" || s == "in" || s == "like")
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The comparison that follows `l` (`at_comparison` said one does).
    /// Not inlined, like `primary` and `subquery`: `level` recurses once
    /// per nesting level, so its frame must stay small.
    #[inline(never)]
    fn comparison(&mut self, l: Expr) -> Result<Expr> {
        let op = match self.peek() {
            Tok::Sym("=") | Tok::Sym("==") => Some(BinOp::Eq),
            Tok::Sym("<>") | Tok::Sym("!=") => Some(BinOp::Ne),
            Tok::Sym("<") => Some(BinOp::Lt),
            Tok::Sym("<=") => Some(BinOp::Le),
            Tok::Sym(">") => Some(BinOp::Gt),
            Tok::Sym(">=") => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.next();
            let r = self.additive()?;
            return Ok(bin(op, l, r));
        }
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            self.kw("null")?;
            return Ok(Expr::IsNull {
                expr: Box::new(l),
                negated,
            });
        }
        if self.eat_kw("isnull") {
            return Ok(Expr::IsNull {
                expr: Box::new(l),
                negated: false,
            });
        }
        if self.eat_kw("notnull") {
            return Ok(Expr::IsNull {
                expr: Box::new(l),
                negated: true,
            });
        }
        let negated = self.eat_kw("not");
        if self.eat_kw("between") {
            let low = self.additive()?;
            self.kw("and")?;
            let high = self.additive()?;
            return Ok(Expr::Between {
                expr: Box::new(l),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            });
        }
        if self.eat_kw("in") {
            self.sym("(")?;
            if self.is_kw("select") {
                let subquery = self.subquery()?;
                self.sym(")")?;
                return Ok(Expr::InSubquery {
                    expr: Box::new(l),
                    subquery,
                    negated,
                });
            }
            let mut list = Vec::new();
            if !matches!(self.peek(), Tok::Sym(")")) {
                loop {
                    list.push(self.expr()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            }
            self.sym(")")?;
            return Ok(Expr::InList {
                expr: Box::new(l),
                list,
                negated,
            });
        }
        self.kw("like")?;
        let pattern = self.additive()?;
        Ok(Expr::Like {
            expr: Box::new(l),
            pattern: Box::new(pattern),
            negated,
        })
    }

    /// `SELECT …` inside `IN (…)` or a FROM clause, one nesting level
    /// down.
    #[inline(never)]
    pub(super) fn subquery(&mut self) -> Result<Box<Select>> {
        self.enter()?;
        let s = self.select();
        self.depth -= 1;
        Ok(Box::new(s?))
    }

    #[inline(never)]
    fn primary(&mut self) -> Result<Expr> {
        match self.peek().clone() {
            Tok::Int(v) => {
                self.next();
                Ok(Expr::Literal(Value::Int(v)))
            }
            Tok::Real(v) => {
                self.next();
                Ok(Expr::Literal(Value::Real(v)))
            }
            Tok::Str(s) => {
                self.next();
                Ok(Expr::Literal(Value::Text(s)))
            }
            Tok::Param(name) => {
                self.next();
                let n = match name {
                    None => {
                        self.params += 1;
                        self.params - 1
                    }
                    Some(name) => match self.named.iter().position(|n| *n == name) {
                        Some(i) => i,
                        None => {
                            self.named.push(name);
                            self.params += 1;
                            self.params - 1
                        }
                    },
                };
                // Named placeholders share numbers with `?` in order of
                // first appearance.
                Ok(Expr::Param(n))
            }
            Tok::Ident(s) if s == "null" => {
                self.next();
                Ok(Expr::Literal(Value::Null))
            }
            Tok::Ident(s) if s == "case" => {
                self.next();
                self.case()
            }
            Tok::Ident(s) if s == "cast" && matches!(self.peek_at(1), Tok::Sym("(")) => {
                self.next();
                self.cast()
            }
            Tok::Ident(s) if s == "true" || s == "false" => {
                self.next();
                Ok(Expr::Literal(Value::Int(i64::from(s == "true"))))
            }
            Tok::Ident(_) | Tok::Quoted(_) => {
                let name = self.ident()?;
                if self.eat_sym("(") {
                    return self.call(name);
                }
                if !self.eat_sym(".") {
                    return Ok(Expr::Column(name));
                }
                // `t.c`, or `schema.t.c` (the schema is dropped: there is
                // one).
                let mut parts = vec![name, self.ident()?];
                while self.eat_sym(".") {
                    parts.push(self.ident()?);
                }
                let col = parts.pop().unwrap_or_default();
                let table = parts.pop().unwrap_or_default();
                Ok(Expr::Qualified(table, col))
            }
            _ => Err(self.error("expected an expression")),
        }
    }

    /// After CASE: `[operand] WHEN w THEN t … [ELSE e] END`. Each part is
    /// a full expression one nesting level down, as a function argument is.
    #[inline(never)]
    fn case(&mut self) -> Result<Expr> {
        let operand = if self.is_kw("when") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("when") {
            let w = self.expr()?;
            self.kw("then")?;
            whens.push((w, self.expr()?));
        }
        if whens.is_empty() {
            return Err(self.error("CASE needs at least one WHEN"));
        }
        let otherwise = if self.eat_kw("else") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.kw("end")?;
        Ok(Expr::Case {
            operand,
            whens,
            otherwise,
        })
    }

    /// After CAST: `(expr AS type)`. A type may carry a length or a
    /// precision (`VARCHAR(10)`, `DECIMAL(10, 2)`), which is read and
    /// ignored: values are not truncated to it. A name that is no type is
    /// Oracle's ORA-00902 "invalid datatype".
    #[inline(never)]
    fn cast(&mut self) -> Result<Expr> {
        self.sym("(")?;
        let expr = self.expr()?;
        self.kw("as")?;
        let name = match self.next() {
            Tok::Ident(s) | Tok::Quoted(s) => s,
            _ => return Err(self.error("expected a type name after AS")),
        };
        // `DOUBLE PRECISION`, `CHARACTER VARYING`: the second word adds
        // nothing.
        match name.as_str() {
            "double" => _ = self.eat_kw("precision"),
            "character" => _ = self.eat_kw("varying"),
            _ => {}
        }
        let to = CastType::from_name(&name).ok_or(Error::InvalidDatatype { name })?;
        if self.eat_sym("(") {
            loop {
                match self.next() {
                    Tok::Int(_) => {}
                    _ => return Err(self.error("expected a length in a type")),
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.sym(")")?;
        }
        self.sym(")")?;
        Ok(Expr::Cast {
            expr: Box::new(expr),
            to,
        })
    }

    #[inline(never)]
    fn call(&mut self, name: String) -> Result<Expr> {
        if self.eat_sym("*") {
            self.sym(")")?;
            return Ok(Expr::Func {
                name,
                args: Vec::new(),
                star: true,
                distinct: false,
            });
        }
        let distinct = self.eat_kw("distinct");
        if !distinct {
            // `COUNT(ALL x)` is `COUNT(x)`: ALL is the default.
            self.eat_kw("all");
        }
        let mut args = Vec::new();
        if !matches!(self.peek(), Tok::Sym(")")) {
            loop {
                args.push(self.expr()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.sym(")")?;
        Ok(Expr::Func {
            name,
            args,
            star: false,
            distinct,
        })
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}

/// `first` alone, one `Binary`, or a flat `Chain` of two operators or more.
fn chain(first: Expr, mut rest: Vec<(BinOp, Expr)>) -> Expr {
    match rest.len() {
        0 => first,
        1 => {
            let (op, r) = rest.remove(0);
            bin(op, first, r)
        }
        _ => Expr::Chain {
            first: Box::new(first),
            rest,
        },
    }
}
