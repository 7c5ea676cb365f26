//! Compound SELECT: `UNION`, `UNION ALL`, `INTERSECT` and `EXCEPT`
//! (Oracle's `MINUS`) over any number of arms, with the ORDER BY, LIMIT and
//! OFFSET of the whole.
//!
//! The parser keeps the arms on the first one (`ast::Select::compound`),
//! whose own ORDER BY / LIMIT / OFFSET are the whole compound's. Here the
//! arms become a tree, built left to right (no operator binds tighter, as
//! in SQLite and Oracle), where a run of one operator is one node:
//!
//! ```text
//!  a UNION b UNION c EXCEPT d          Oracle's plan of it
//!
//!        EXCEPT                        MINUS
//!        /    \                         SORT UNIQUE         (the UNION's)
//!     UNION    d                         UNION-ALL
//!    /  |  \                              a, b, c
//!   a   b   c                           SORT UNIQUE
//!                                        d
//! ```
//!
//! Each arm runs as any query block does (`select::select`, with its own
//! access path, cached in the cursor under its own query block number), so
//! its reads are counted as a single SELECT's. The rows of every arm are
//! kept whole: a compound's inputs are small in this kit, and the duplicate
//! removal needs them all anyway.
//!
//! What is counted: the duplicate removal is a sort, as Oracle's SORT
//! UNIQUE is, and counts one `sorts (memory)` and its input rows in
//! `sorts (rows)`:
//!
//! * `UNION`: one sort of every row of its arms (SORT UNIQUE over
//!   UNION-ALL);
//! * `INTERSECT`, `EXCEPT`: one sort per input (a SORT UNIQUE under
//!   INTERSECTION / MINUS for each), skipped for an input that is itself a
//!   UNION, INTERSECT or EXCEPT, whose rows are already sorted and unique;
//! * `UNION ALL`: no sort;
//! * the ORDER BY of the whole: sorted by the top SORT UNIQUE (its keys come
//!   first, then every column), as Oracle does, so it costs no second sort;
//!   over a `UNION ALL` it is one more sort (SORT ORDER BY).
//!
//! Rows are equal for duplicate removal when every column compares equal,
//! NULL equal to NULL (unlike `=`), and `1` equal to `1.0`; a SORT UNIQUE
//! returns its rows in ascending order with NULLs last, the order in which
//! Oracle's come out, and keeps the first of equal rows.
//!
//! ORDER BY keys name result columns only: a position (`ORDER BY 2`), or
//! the name or alias of a column of the first arm, then of a later one (as
//! SQLite resolves them); anything else is ORA-01785. Arms with different
//! numbers of columns are ORA-01789.
//!
//! EXPLAIN: each arm's plan lines are indented under the set operation's
//! line; `plan_table` keeps each arm's rows in its own query block
//! (QBLOCKNO is the arm's number), and each SORT UNIQUE (or the SORT ORDER
//! BY above a UNION ALL) is a METHOD 3 row after the rows of the last arm
//! it sorts.

use super::ast::{Expr, Select, SetOp};
use super::bind::{bind_select, heading, offset_limit, Bound};
use super::execute::Cx;
use super::explain::{line, Explain, PlanLine, PlanTableRow};
use super::join::Tree;
use super::select::{prepare, Query};
use super::view;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::operators::{drain, Concat, Limit, SetFilter, SortKey, SortUnique};
use crate::value::Value;

/// Runs (or, with `plan_only`, only plans) a compound SELECT: `sel` is its
/// first arm, with the others in `sel.compound`.
pub(super) fn compound(
    s: &mut Context,
    cx: &Cx<'_>,
    sel: &Select,
    plan_only: bool,
) -> Result<Query> {
    // The first arm alone: its ORDER BY / LIMIT / OFFSET are the whole's.
    let mut first = sel.clone();
    first.compound.clear();
    first.order_by.clear();
    first.limit = None;
    first.offset = None;
    let mut blocks: Vec<&Select> = vec![&first];
    blocks.extend(sel.compound.iter().map(|(_, arm)| arm));
    // The arms' rows are not streamed to the client one fetch call at a
    // time: no arm's scan is resumed by fetch calls (`select`'s FetchCalls).
    let arm_cx = Cx {
        fetch_size: 0,
        ..*cx
    };
    // Each arm with its views merged, bound, then planned (`select`'s
    // query block): the blocks borrow the first two.
    let merged = blocks
        .iter()
        .map(|b| view::expand(s, b))
        .collect::<Result<Vec<_>>>()?;
    let sels: Vec<&Select> = blocks
        .iter()
        .zip(&merged)
        .map(|(b, m)| m.as_ref().unwrap_or(b))
        .collect();
    let mut bounds = Vec::with_capacity(sels.len());
    for (i, sel) in sels.iter().enumerate() {
        let b = bind_select(s, &arm_cx, sel)?;
        let width = bounds.first().map(|f: &Bound| f.items.len());
        if let Some(first) = width.filter(|w| *w != b.items.len()) {
            return Err(Error::CompoundColumns {
                arm: i + 1,
                columns: b.items.len(),
                first,
            });
        }
        bounds.push(b);
    }
    let mut prepared = Vec::with_capacity(sels.len());
    for (sel, b) in sels.iter().zip(&bounds) {
        prepared.push(prepare(s, &arm_cx, sel, b, plan_only)?);
    }
    let arms: Vec<Arm> = prepared
        .iter_mut()
        .zip(&blocks)
        .map(|(p, b)| Arm {
            qblock: b.qblock,
            columns: p.columns(),
            explain: std::mem::take(&mut p.explain),
        })
        .collect();
    let keys = order_keys(sel, &arms)?;
    let (offset, limit) = offset_limit(s, cx, sel)?;

    let tree = tree(&sel.compound);
    // The top SORT UNIQUE delivers the ORDER BY; above a UNION ALL it is a
    // sort of its own.
    let sort_on_top = !keys.is_empty() && !tree.unique();
    let explain = plan(&tree, &arms, sort_on_top, sel.limit.is_some());
    let columns = arms[0].columns.clone();
    let rows = if plan_only {
        Vec::new()
    } else {
        let dcx = arm_cx.for_derived();
        let mut inputs = Vec::with_capacity(prepared.len());
        for p in &mut prepared {
            inputs.push(Some(p.tree(s, &arm_cx, &dcx)?));
        }
        let mut t = if tree.unique() {
            operators(&tree, &mut inputs, &keys)
        } else {
            operators(&tree, &mut inputs, &[])
        }?;
        if sort_on_top {
            t = Box::new(SortUnique::new(t, keys, false));
        }
        if offset > 0 || limit < usize::MAX {
            t = Box::new(Limit::new(t, offset, limit));
        }
        drain(&mut *t, s, None)?
    };
    Ok(Query {
        columns,
        rows,
        explain,
    })
}

/// The operators of node `n`, over the arms' trees; a node that removes
/// duplicates returns its rows in `keys` order (then ascending by every
/// column).
fn operators<'p>(n: &Node, arms: &mut [Option<Tree<'p>>], keys: &[SortKey]) -> Result<Tree<'p>> {
    let (op, nodes) = match n {
        Node::Arm(i) => {
            return arms
                .get_mut(*i)
                .and_then(Option::take)
                .ok_or_else(|| Error::Internal("a compound arm used twice".into()))
        }
        Node::Set { op, inputs } => (op, inputs),
    };
    Ok(match op {
        SetOp::UnionAll | SetOp::Union => {
            let all = nodes
                .iter()
                .map(|c| operators(c, arms, &[]))
                .collect::<Result<Vec<_>>>()?;
            let all: Tree<'p> = Box::new(Concat::new(all));
            if *op == SetOp::Union {
                Box::new(SortUnique::new(all, keys.to_vec(), true))
            } else {
                all
            }
        }
        SetOp::Intersect | SetOp::Except => {
            let first = unique_input(&nodes[0], arms, keys)?;
            let others = nodes[1..]
                .iter()
                .map(|c| unique_input(c, arms, &[]))
                .collect::<Result<Vec<_>>>()?;
            Box::new(SetFilter::new(first, others, *op == SetOp::Intersect))
        }
    })
}

/// An input of INTERSECT / EXCEPT, sorted and unique: its own SORT UNIQUE
/// unless it comes out of one.
fn unique_input<'p>(n: &Node, arms: &mut [Option<Tree<'p>>], keys: &[SortKey]) -> Result<Tree<'p>> {
    if n.unique() {
        operators(n, arms, keys)
    } else {
        Ok(Box::new(SortUnique::new(
            operators(n, arms, &[])?,
            keys.to_vec(),
            true,
        )))
    }
}

/// One arm, planned.
struct Arm {
    qblock: usize,
    columns: Vec<String>,
    explain: Explain,
}

/// The set operations, as a tree over the arms (numbered from 0).
enum Node {
    Arm(usize),
    /// One operator over two or more inputs, left to right.
    Set {
        op: SetOp,
        inputs: Vec<Node>,
    },
}

impl Node {
    /// Whether the node's rows come out of a SORT UNIQUE: sorted, no
    /// duplicates.
    fn unique(&self) -> bool {
        matches!(self, Node::Set { op, .. } if *op != SetOp::UnionAll)
    }

    /// The last arm under the node (whose query block holds its sort row).
    fn last_arm(&self) -> usize {
        match self {
            Node::Arm(i) => *i,
            Node::Set { inputs, .. } => inputs.last().map_or(0, Node::last_arm),
        }
    }
}

/// The tree of `first op1 arm1 op2 arm2 …`, left-associative: a run of
/// one operator is one node (`a UNION b UNION c` is one SORT UNIQUE over
/// three inputs), a change of operator puts the tree so far under a new
/// node.
fn tree(rest: &[(SetOp, Select)]) -> Node {
    let mut top = Node::Arm(0);
    for (i, (op, _)) in rest.iter().enumerate() {
        let arm = Node::Arm(i + 1);
        top = match top {
            Node::Set { op: o, mut inputs } if o == *op => {
                inputs.push(arm);
                Node::Set { op: o, inputs }
            }
            left => Node::Set {
                op: *op,
                inputs: vec![left, arm],
            },
        };
    }
    top
}

/// The ORDER BY of the whole as result columns: a position, or the name of
/// a column of the first arm, then of a later one.
fn order_keys(sel: &Select, arms: &[Arm]) -> Result<Vec<SortKey>> {
    let width = arms[0].columns.len();
    let mut keys = Vec::with_capacity(sel.order_by.len());
    for o in &sel.order_by {
        let col = match &o.expr {
            Expr::Literal(Value::Int(k)) => {
                (*k >= 1 && *k as usize <= width).then(|| *k as usize - 1)
            }
            e => {
                // A name, or an expression written as an arm wrote it.
                let name = match e {
                    Expr::Column(c) => c.clone(),
                    e => heading(e),
                };
                arms.iter()
                    .find_map(|a| a.columns.iter().position(|c| *c == name))
            }
        };
        let Some(col) = col else {
            return Err(Error::CompoundOrderBy {
                item: heading(&o.expr),
                columns: width,
            });
        };
        keys.push(SortKey {
            col,
            desc: o.desc,
            nulls_first: o.nulls_first.unwrap_or(o.desc),
        });
    }
    Ok(keys)
}

/// The plan of the compound: SELECT STATEMENT, COUNT STOPKEY (a LIMIT),
/// SORT ORDER BY (an ORDER BY above a UNION ALL), then the tree, each arm's
/// lines indented under its operation.
fn plan(tree: &Node, arms: &[Arm], sort_on_top: bool, limited: bool) -> Explain {
    let mut lines = Vec::new();
    let mut sorts: Vec<(usize, bool)> = Vec::new();
    let (rows, cost) = node_estimate(tree, arms);
    let mut depth = 0;
    lines.push(at(line("SELECT STATEMENT", None, rows, cost), depth));
    if limited {
        depth += 1;
        lines.push(at(line("COUNT STOPKEY", None, rows, cost), depth));
    }
    if sort_on_top {
        depth += 1;
        lines.push(at(line("SORT ORDER BY", None, rows, cost), depth));
        sorts.push((tree.last_arm(), false));
    }
    node_lines(tree, arms, depth + 1, &mut lines, &mut sorts);
    for (i, l) in lines.iter_mut().enumerate() {
        l.id = i;
    }
    let mut plan_table: Vec<PlanTableRow> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (i, a) in arms.iter().enumerate() {
        let qblockno = a.qblock as u32;
        plan_table.extend(a.explain.plan_table.iter().map(|r| PlanTableRow {
            qblockno,
            ..r.clone()
        }));
        // The sorts of the set operations whose last arm this is.
        for &(_, unique) in sorts.iter().filter(|(arm, _)| *arm == i) {
            let planno = plan_table
                .iter()
                .filter(|r| r.qblockno == qblockno)
                .map(|r| r.planno)
                .max()
                .unwrap_or(0)
                + 1;
            plan_table.push(sort_row(qblockno, planno, unique));
        }
        for n in &a.explain.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    Explain {
        lines,
        plan_table,
        notes,
    }
}

fn at(mut l: PlanLine, depth: usize) -> PlanLine {
    l.depth = depth;
    l
}

/// A DB2 `plan_table` row for a sort of the compound (METHOD 3): for
/// duplicate removal (SORTC_UNIQ) or for the ORDER BY (SORTC_ORDERBY).
fn sort_row(qblockno: u32, planno: u32, unique: bool) -> PlanTableRow {
    let yn = |b: bool| if b { "Y" } else { "N" }.to_string();
    PlanTableRow {
        queryno: 1,
        qblockno,
        planno,
        method: 3,
        tname: String::new(),
        accesstype: String::new(),
        matchcols: 0,
        accessname: String::new(),
        indexonly: "N".into(),
        prefetch: String::new(),
        sortn_join: "N".into(),
        sortc_uniq: yn(unique),
        sortc_join: "N".into(),
        sortc_orderby: yn(!unique),
        sortc_groupby: "N".into(),
        cost: 0,
    }
}

/// Estimated rows and cost of a node: a UNION (ALL) returns its inputs'
/// rows, an INTERSECT at most its smallest input's, an EXCEPT at most its
/// first input's; the cost is the inputs' (the sorts are in memory).
fn node_estimate(n: &Node, arms: &[Arm]) -> (u64, u64) {
    match n {
        Node::Arm(i) => arms[*i]
            .explain
            .lines
            .first()
            .map_or((0, 0), |l| (l.rows, l.cost)),
        Node::Set { op, inputs } => {
            let each: Vec<(u64, u64)> = inputs.iter().map(|c| node_estimate(c, arms)).collect();
            let cost = each.iter().map(|e| e.1).sum();
            let rows = match op {
                SetOp::Union | SetOp::UnionAll => each.iter().map(|e| e.0).sum(),
                SetOp::Intersect => each.iter().map(|e| e.0).min().unwrap_or(0),
                SetOp::Except => each.first().map_or(0, |e| e.0),
            };
            (rows, cost)
        }
    }
}

/// The lines of node `n` at `depth`, parents first; every SORT UNIQUE is
/// also noted in `sorts` (its last arm, for the `plan_table`).
fn node_lines(
    n: &Node,
    arms: &[Arm],
    depth: usize,
    out: &mut Vec<PlanLine>,
    sorts: &mut Vec<(usize, bool)>,
) {
    let (rows, cost) = node_estimate(n, arms);
    match n {
        Node::Arm(i) => {
            // The arm's own plan without its SELECT STATEMENT line.
            for l in arms[*i].explain.lines.iter().skip(1) {
                out.push(at(l.clone(), l.depth.saturating_sub(1) + depth));
            }
        }
        Node::Set { op, inputs } => match op {
            SetOp::UnionAll | SetOp::Union => {
                let mut d = depth;
                if *op == SetOp::Union {
                    out.push(at(line("SORT UNIQUE", None, rows, cost), d));
                    sorts.push((n.last_arm(), true));
                    d += 1;
                }
                out.push(at(line("UNION-ALL", None, rows, cost), d));
                for c in inputs {
                    node_lines(c, arms, d + 1, out, sorts);
                }
            }
            SetOp::Intersect | SetOp::Except => {
                let name = if *op == SetOp::Intersect {
                    "INTERSECTION"
                } else {
                    "MINUS"
                };
                out.push(at(line(name, None, rows, cost), depth));
                for c in inputs {
                    if c.unique() {
                        node_lines(c, arms, depth + 1, out, sorts);
                    } else {
                        let (r, k) = node_estimate(c, arms);
                        out.push(at(line("SORT UNIQUE", None, r, k), depth + 1));
                        sorts.push((c.last_arm(), true));
                        node_lines(c, arms, depth + 2, out, sorts);
                    }
                }
            }
        },
    }
}
