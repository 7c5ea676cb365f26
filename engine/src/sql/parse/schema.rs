//! The parser's schema statements: CREATE, DROP and ALTER of tables,
//! indexes, columns, constraints and LOGGING (and ALTER SESSION, which
//! shares the ALTER keyword). Same cursor and errors as the rest of the
//! parser (`super::Parser`). Column types are read here; a length or
//! precision after one is accepted and ignored (`VARCHAR(20)`), so that
//! scripts written for other databases run unchanged.

use super::super::ast::*;
use super::super::lexer::Tok;
use super::Parser;
use crate::error::Result;
use crate::value::ColType;

impl Parser {
    pub(super) fn create(&mut self) -> Result<Stmt> {
        self.kw("create")?;
        let replace = self.eat_kw("or");
        if replace {
            self.kw("replace")?;
        }
        if self.eat_kw("view") {
            return self.create_view(replace);
        }
        if replace {
            return Err(self.error("expected VIEW after CREATE OR REPLACE"));
        }
        let unique = self.eat_kw("unique");
        if self.eat_kw("index") {
            let _ = self.eat_kw("if") && self.eat_kw("not") && self.eat_kw("exists");
            let name = self.name()?;
            self.kw("on")?;
            let table = self.name()?;
            self.sym("(")?;
            let columns = self.list(|p| {
                let c = p.ident()?;
                let desc = p.descending();
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

    /// After `CREATE [OR REPLACE] VIEW`: `name [(columns)] AS SELECT …`.
    /// The query's text is kept as written: the view's definition.
    fn create_view(&mut self, replace: bool) -> Result<Stmt> {
        let name = self.name()?;
        let columns = if matches!(self.peek(), Tok::Sym("(")) {
            Some(self.paren_names()?)
        } else {
            None
        };
        self.kw("as")?;
        let start = self.toks[self.pos].offset;
        let query = self.select()?;
        let end = self.toks[self.pos].offset;
        let text = self.text[start..end].trim_end().to_string();
        Ok(Stmt::CreateView {
            name,
            columns,
            query: Box::new(query),
            text,
            replace,
        })
    }

    pub(super) fn drop(&mut self) -> Result<Stmt> {
        self.kw("drop")?;
        if self.eat_kw("view") {
            let if_exists = self.eat_kw("if") && self.eat_kw("exists");
            let name = self.name()?;
            return Ok(Stmt::DropView { name, if_exists });
        }
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

    pub(super) fn alter(&mut self) -> Result<Stmt> {
        self.kw("alter")?;
        if self.eat_kw("session") {
            self.kw("set")?;
            if self.eat_kw("hash_area_size") {
                self.sym("=")?;
                return match self.next() {
                    Tok::Int(n) if n > 0 => Ok(Stmt::SetHashAreaSize(n as u64)),
                    _ => Err(self.error("HASH_AREA_SIZE takes a positive number of bytes")),
                };
            }
            if self.eat_kw("sort_area_size") {
                self.sym("=")?;
                return match self.next() {
                    Tok::Int(n) if n > 0 => Ok(Stmt::SetSortAreaSize(n as u64)),
                    _ => Err(self.error("SORT_AREA_SIZE takes a positive number of bytes")),
                };
            }
            self.kw("isolation_level")?;
            self.sym("=")?;
            return Ok(Stmt::SessionIsolation(self.isolation_level()?));
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
            let column = self.column_part(|p| p.column_spec())?;
            return Ok(Stmt::AddColumn { table, column });
        }
        if self.eat_kw("drop") {
            let column = self.column_part(|p| p.ident())?;
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

    /// ALTER TABLE's column after ADD or DROP: `[COLUMN] c` or, as Oracle
    /// writes it, `[COLUMN] (c)`.
    fn column_part<T>(&mut self, item: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.eat_kw("column");
        let paren = self.eat_sym("(");
        let v = item(self)?;
        if paren {
            self.sym(")")?;
        }
        Ok(v)
    }
}
