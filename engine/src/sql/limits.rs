//! The SQL layer's size limits, each enforced where a statement enters the
//! engine and named in its error message.
//!
//! | limit | value | why |
//! |---|---|---|
//! | [`MAX_EXPR_DEPTH`] | 250 levels | every pass over an expression (parse, bind, plan, evaluate, render, drop) is recursive; the bound keeps them well within a 2 MiB thread stack (Rust's default for a spawned thread and a test) |
//! | [`MAX_SERIES_ROWS`] | 10,000,000 rows | a `generate_series` is built in memory (about 100 bytes a row on its way through a query), so this bounds one statement's series to about a gigabyte; a LIMIT that stops the series sooner (no ORDER BY, GROUP BY or DISTINCT in between) lets its range be as large as it likes |
//!
//! Why 250 and not SQLite's 1000 (`SQLITE_MAX_EXPR_DEPTH`): measured in
//! optimized builds (the test and release profiles), the costliest shapes
//! spend about 1.7 KiB of stack per level (`1 = (1 = (…))`, IN lists in IN
//! lists) or 1.9 KiB (subqueries, each two levels), so 1000 levels would
//! need about 2 MiB — the whole stack of a default thread. At 250 the
//! deepest statement needs about 0.5 MiB, a margin of four for shapes no
//! test has measured. An unoptimized build spends several times more per
//! level (about 3.9 MiB at 250 levels was measured), which is why the
//! `blocklab` binary's session threads (`script`) get a 16 MiB stack: a
//! debug build of the binary is as safe as a release one. No real query
//! nests 250 levels: long `AND`/`OR`/`+`/`||` runs are flat and do not
//! count.
//!
//! Depth is the height of the expression tree: a literal or a column is
//! one level, and each operator, NOT, unary minus, function call, IN list,
//! BETWEEN, LIKE or IS NULL around it adds one. Parentheses add none, and
//! a run of operators of one precedence level (`a OR b OR c …`,
//! `1 + 2 + 3 …`) is one level however long (`ast::Expr::Chain`). An
//! expression inside a subquery counts from the depth of the IN that
//! holds it, so nested subqueries add up.
//!
//! Invariant: a statement that `parse` returns has no expression deeper
//! than `MAX_EXPR_DEPTH`.

use super::ast::*;
use crate::error::{Error, Result};

/// The deepest expression a statement may hold.
pub const MAX_EXPR_DEPTH: usize = 250;

/// The most values one `generate_series` may produce.
pub const MAX_SERIES_ROWS: usize = 10_000_000;

pub(crate) fn too_deep() -> Error {
    Error::Sql(format!(
        "expression nested too deeply (limit {MAX_EXPR_DEPTH})"
    ))
}

/// A node still to visit: an expression at a depth, or the expressions
/// of a subquery one level below the IN that holds it.
enum Node<'a> {
    Expr(&'a Expr, usize),
    Select(&'a Select, usize),
}

/// Fails if any expression of `stmt` is deeper than [`MAX_EXPR_DEPTH`].
/// Walks with an explicit stack, so it is itself safe on any tree.
pub(crate) fn check_depth(stmt: &Stmt) -> Result<()> {
    let mut todo: Vec<Node<'_>> = Vec::new();
    push_stmt(stmt, &mut todo);
    while let Some(node) = todo.pop() {
        match node {
            Node::Select(sel, d) => push_select(sel, d, &mut todo),
            Node::Expr(e, d) => {
                if d > MAX_EXPR_DEPTH {
                    return Err(too_deep());
                }
                let mut child = |x| todo.push(Node::Expr(x, d + 1));
                match e {
                    Expr::Literal(_) | Expr::Column(_) | Expr::Qualified(..) | Expr::Param(_) => {}
                    Expr::Neg(x)
                    | Expr::Not(x)
                    | Expr::IsNull { expr: x, .. }
                    | Expr::Cast { expr: x, .. } => child(x),
                    Expr::Case {
                        operand,
                        whens,
                        otherwise,
                    } => {
                        operand.iter().for_each(|x| child(x));
                        for (w, t) in whens {
                            child(w);
                            child(t);
                        }
                        otherwise.iter().for_each(|x| child(x));
                    }
                    Expr::Binary { left, right, .. } => {
                        child(left);
                        child(right);
                    }
                    Expr::Chain { first, rest } => {
                        child(first);
                        rest.iter().for_each(|(_, x)| child(x));
                    }
                    Expr::Between {
                        expr, low, high, ..
                    } => {
                        child(expr);
                        child(low);
                        child(high);
                    }
                    Expr::InList { expr, list, .. } => {
                        child(expr);
                        list.iter().for_each(child);
                    }
                    Expr::Like { expr, pattern, .. } => {
                        child(expr);
                        child(pattern);
                    }
                    Expr::Func { args, .. } => args.iter().for_each(child),
                    Expr::InSubquery { expr, subquery, .. } => {
                        child(expr);
                        todo.push(Node::Select(subquery, d + 1));
                    }
                    Expr::Subquery(subquery) | Expr::Exists(subquery) => {
                        todo.push(Node::Select(subquery, d + 1));
                    }
                }
            }
        }
    }
    Ok(())
}

fn push_sets<'a>(sets: &'a [Assign], todo: &mut Vec<Node<'a>>) {
    for a in sets {
        match a {
            Assign::Column(_, e) => todo.push(Node::Expr(e, 1)),
            Assign::Row(_, sel) => todo.push(Node::Select(sel, 1)),
        }
    }
}

fn push_stmt<'a>(stmt: &'a Stmt, todo: &mut Vec<Node<'a>>) {
    let top = |e: &'a Expr| Node::Expr(e, 1);
    match stmt {
        Stmt::Select(sel) => todo.push(Node::Select(sel, 0)),
        Stmt::Insert { source, .. } => match source {
            InsertSource::Values(rows) => todo.extend(rows.iter().flatten().map(top)),
            InsertSource::Select(sel) => todo.push(Node::Select(sel, 0)),
        },
        Stmt::Update { sets, filter, .. } => {
            push_sets(sets, todo);
            todo.extend(filter.iter().map(top));
        }
        Stmt::Delete { filter, .. } => todo.extend(filter.iter().map(top)),
        Stmt::UpdateView { view, sets, filter } => {
            todo.push(Node::Select(view, 0));
            push_sets(sets, todo);
            todo.extend(filter.iter().map(top));
        }
        Stmt::DeleteView { view, filter } => {
            todo.push(Node::Select(view, 0));
            todo.extend(filter.iter().map(top));
        }
        Stmt::Merge(m) => {
            if let From::Derived { select, .. } = &m.source {
                todo.push(Node::Select(select, 0));
            }
            todo.push(top(&m.on));
            if let Some(u) = &m.matched {
                push_sets(&u.sets, todo);
                todo.extend(u.filter.iter().chain(&u.delete).map(top));
            }
            if let Some(i) = &m.not_matched {
                todo.extend(i.values.iter().chain(&i.filter).map(top));
            }
        }
        Stmt::CreateTable {
            columns,
            constraints,
            ..
        } => {
            todo.extend(columns.iter().filter_map(|c| c.check.as_ref()).map(top));
            for c in constraints {
                if let TableConstraint::Check { expr, .. } = c {
                    todo.push(top(expr));
                }
            }
        }
        Stmt::AddColumn { column, .. } => todo.extend(column.check.iter().map(top)),
        Stmt::Flashback { scn, .. } => todo.push(top(scn)),
        Stmt::Explain(inner) => push_stmt(inner, todo),
        Stmt::CreateView { query, .. } => todo.push(Node::Select(query, 0)),
        Stmt::CreateIndex { .. }
        | Stmt::DropTable { .. }
        | Stmt::DropIndex { .. }
        | Stmt::DropView { .. }
        | Stmt::DropColumn { .. }
        | Stmt::SetLogging { .. }
        | Stmt::AlterIndex { .. }
        | Stmt::Commit
        | Stmt::Begin
        | Stmt::Rollback
        | Stmt::SetIsolation(_)
        | Stmt::SessionIsolation(_)
        | Stmt::SetHashAreaSize(_)
        | Stmt::SetSortAreaSize(_)
        | Stmt::SetUser(_)
        | Stmt::Analyze { .. } => {}
    }
}

/// The expressions of a FROM clause, each starting one level below `d`.
fn push_from<'a>(from: &'a From, d: usize, todo: &mut Vec<Node<'a>>) {
    let at = |e: &'a Expr| Node::Expr(e, d + 1);
    match from {
        From::Table { as_of, .. } => todo.extend(as_of.iter().map(at)),
        From::Series { start, stop } => {
            todo.push(at(start));
            todo.push(at(stop));
        }
        From::Dual => {}
        From::Join {
            left, right, on, ..
        } => {
            push_from(left, d, todo);
            push_from(right, d, todo);
            todo.extend(on.iter().map(at));
        }
        From::Derived { select, .. } => todo.push(Node::Select(select, d + 1)),
        From::Dictionary { .. } => {}
    }
}

/// The expressions of `sel`, each starting one level below `d`.
fn push_select<'a>(sel: &'a Select, d: usize, todo: &mut Vec<Node<'a>>) {
    let at = |e: &'a Expr| Node::Expr(e, d + 1);
    for item in &sel.items {
        if let SelectItem::Expr { expr, .. } = item {
            todo.push(at(expr));
        }
    }
    push_from(&sel.from, d, todo);
    todo.extend(sel.filter.iter().map(at));
    todo.extend(sel.group_by.iter().map(at));
    todo.extend(sel.having.iter().map(at));
    todo.extend(sel.order_by.iter().map(|o| at(&o.expr)));
    todo.extend(sel.limit.iter().map(at));
    todo.extend(sel.offset.iter().map(at));
    // A compound's other arms are at the first arm's depth: siblings, not
    // nested in it.
    todo.extend(sel.compound.iter().map(|(_, arm)| Node::Select(arm, d)));
}
