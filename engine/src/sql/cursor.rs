//! Shared cursors and their plans: what a soft parse finds, and what makes
//! it hard again.
//!
//! A [`Cursor`] is one statement text's entry in the database-wide
//! statement cache (Oracle's shared cursor in the library cache): the parse
//! tree, and once an execution has optimized it, its [`Plan`] — what was
//! chosen for each query block (a single table's access path; a join's
//! order, methods, hash build sides and every relation's access path), and
//! the version of every table the choice rests on.
//!
//! ```text
//!  parse call ──▶ session cursor cache ──hit──▶ cursor      (total, cache hit)
//!                      │ miss
//!                      ▼
//!                 statement cache ──found, plan valid──▶ cursor      (total: soft)
//!                      │ new text, or plan invalid
//!                      ▼
//!                 parse (+ optimize at the next execution)           (total + hard)
//!
//!  execute ──plan valid──▶ run with the cached choices               (no parse)
//!          ──plan invalid──▶ optimize again (a reload)               (hard)
//! ```
//!
//! Invariant: a plan is used only while every table it rests on still has
//! the definition version it was optimized for (`catalog::Schema::version`);
//! DDL on a table, on one of its indexes or constraints, and ANALYZE move
//! the version on, so the next parse call or execution re-optimizes and
//! counts a hard parse, as Oracle counts the reload of an invalidated
//! cursor.
//!
//! The plan is chosen at the first execution, with its bind values (Oracle's
//! bind peeking), and kept for every later execution whatever their values,
//! until it is invalidated. What is cached is what the optimizer chose —
//! the costing is not run again — not the bound statement: binding names
//! to columns is redone at each execution (it is cheap here and keeps one
//! code path), so a kept join plan places this execution's conjuncts,
//! with their bind values, where its steps put them (`join::plan`). EXPLAIN
//! always optimizes afresh, and a run shows no plan, so no plan line is
//! ever made from the cache. Whether the access path delivers the ORDER
//! BY is checked again with each execution's binds
//! (`optimizer::delivers_order`): an IN-list of equal binds is one probe of
//! an index, of different binds several, and only one probe keeps the
//! order, so a kept plan sorts when its binds ask for it.
//!
//! A join's choice also rests on the session's work areas
//! (`HASH_AREA_SIZE`, `SORT_AREA_SIZE`: a hash build or a sort that does
//! not fit is costed with its spill), so it is kept per pair of sizes: an
//! execution under other sizes optimizes the block for them and keeps that
//! choice beside the first, as Oracle builds a child cursor for another
//! optimizer environment (counted here as no hard parse). A kept join
//! choice that no longer fits its FROM clause (a view redefined, whose
//! query blocks are numbered anew) is optimized again.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::ast;
use super::join::Decided;
use crate::catalog::Schema;
use crate::operators::Access;

/// The access path chosen for one query block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chosen {
    pub access: Access,
    /// The access path returns rows in the ORDER BY's order.
    pub sorted: bool,
}

/// The work-area sizes a join was costed with (`HASH_AREA_SIZE`,
/// `SORT_AREA_SIZE`, in bytes): a session with other sizes might choose
/// other methods, so it has its join decisions of its own, as Oracle
/// gives each optimizer environment a child cursor of its own.
pub(crate) type Areas = (u64, u64);

/// A statement's plan: an access path per single-table query block, the
/// decisions of each join query block (`join::Decided`), and the tables
/// they rest on with their definition versions when it was optimized.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    access: HashMap<usize, Chosen>,
    joins: HashMap<(usize, Areas), Arc<Decided>>,
    depends: Vec<(String, u64)>,
}

impl Plan {
    /// Whether every table the plan rests on is as it was optimized for.
    fn valid(&self, schema: &Schema) -> bool {
        self.depends.iter().all(|(t, v)| schema.version(t) == *v)
    }
}

/// One statement text in the statement cache.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub(crate) stmt: Arc<ast::Statement>,
    plan: Mutex<Option<Arc<Plan>>>,
}

/// What an execution finds in its cursor.
pub(crate) enum PlanState {
    /// A valid plan: run it.
    Valid(Arc<Plan>),
    /// No plan yet (just parsed): this execution optimizes.
    Missing,
    /// A plan that DDL or new statistics invalidated: it was dropped, and
    /// this execution optimizes again (a hard parse).
    Invalidated,
}

impl Cursor {
    pub(crate) fn new(stmt: ast::Statement) -> Cursor {
        Cursor {
            stmt: Arc::new(stmt),
            plan: Mutex::new(None),
        }
    }

    /// The cursor's plan as `schema` stands now; an invalid plan is dropped
    /// (only the caller that dropped it sees `Invalidated`).
    pub(crate) fn plan(&self, schema: &Schema) -> PlanState {
        let mut slot = self.plan.lock();
        match slot.as_ref() {
            Some(p) if p.valid(schema) => PlanState::Valid(p.clone()),
            Some(_) => {
                *slot = None;
                PlanState::Invalidated
            }
            None => PlanState::Missing,
        }
    }

    /// Keeps `plan` for the executions to come.
    fn store(&self, plan: Plan) {
        *self.plan.lock() = Some(Arc::new(plan));
    }
}

/// The plan one execution works with: the cursor's valid plan, if any, and
/// the access paths it chooses itself, which it stores in the cursor when
/// it finishes.
#[derive(Default)]
pub(crate) struct Planner {
    base: Option<Arc<Plan>>,
    new: std::cell::RefCell<Plan>,
}

impl Planner {
    pub(crate) fn new(base: Option<Arc<Plan>>) -> Planner {
        Planner {
            base,
            new: Default::default(),
        }
    }

    /// The access path of query block `qblock` on `table`: the cached one,
    /// or `choose()`'s, which is recorded with the table's version as read
    /// before choosing (a DDL racing the choice leaves the recorded version
    /// old, so the plan is simply invalid next time).
    pub(crate) fn access(
        &self,
        schema: &Schema,
        qblock: usize,
        table: &str,
        choose: impl FnOnce() -> Chosen,
    ) -> Chosen {
        if let Some(c) = self.base.as_ref().and_then(|p| p.access.get(&qblock)) {
            return c.clone();
        }
        if let Some(c) = self.new.borrow().access.get(&qblock) {
            return c.clone();
        }
        let version = schema.version(table);
        let c = choose();
        let mut new = self.new.borrow_mut();
        new.access.insert(qblock, c.clone());
        if !new.depends.iter().any(|(t, _)| t == table) {
            new.depends.push((table.to_string(), version));
        }
        c
    }

    /// The decisions kept for join query block `qblock` costed with
    /// `areas`, if any (`join::plan` follows them).
    pub(crate) fn join(&self, qblock: usize, areas: Areas) -> Option<Arc<Decided>> {
        let key = (qblock, areas);
        if let Some(d) = self.base.as_ref().and_then(|p| p.joins.get(&key)) {
            return Some(d.clone());
        }
        self.new.borrow().joins.get(&key).cloned()
    }

    /// Records the decisions `join::plan` made for query block `qblock`
    /// costed with `areas`, and the versions of its tables as read before
    /// it chose (`depends`; see [`Planner::access`]).
    pub(crate) fn keep_join(
        &self,
        qblock: usize,
        areas: Areas,
        depends: Vec<(String, u64)>,
        decided: Decided,
    ) {
        let mut new = self.new.borrow_mut();
        new.joins.insert((qblock, areas), Arc::new(decided));
        for (t, v) in depends {
            if !new.depends.iter().any(|(d, _)| *d == t) {
                new.depends.push((t, v));
            }
        }
    }

    /// Stores what this execution chose in `cursor`, if it chose anything.
    pub(crate) fn finish(self, cursor: &Cursor) {
        if let Some(plan) = self.chosen() {
            cursor.store(plan);
        }
    }

    /// The plan this execution ran: the kept one with what it chose
    /// itself added, or `None` when it chose nothing (the kept plan, if
    /// any, stands as it was).
    fn chosen(self) -> Option<Plan> {
        let new = self.new.into_inner();
        if new.access.is_empty() && new.joins.is_empty() {
            return None;
        }
        Some(match self.base {
            Some(base) => {
                let mut p = (*base).clone();
                p.access.extend(new.access);
                p.joins.extend(new.joins);
                p.depends.extend(new.depends);
                p
            }
            None => new,
        })
    }

    /// For a plan kept outside the statement cache (a correlated
    /// subquery's, for the one execution of its statement): the plan to
    /// keep after this run, `None` when the kept one is still it.
    pub(crate) fn into_plan(self) -> Option<Arc<Plan>> {
        self.chosen().map(Arc::new)
    }
}
