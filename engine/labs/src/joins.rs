//! Join labs measured through SQL: nested loops against hash and merge as
//! the outer row count grows (C27), and a table that drives an index in
//! place of a literal IN-list (C28).
//!
//! Both follow the recipe of the index-access labs (`access`): a fresh
//! database with a cache that holds the data, indexes created before the
//! rows are loaded in committed chunks, data from a fixed seed, each
//! statement's exact counters read from `SqlResult::stats`, and a pure
//! `cNN_verdict` unit-tested on synthetic evidence for each outcome.
//!
//! The join methods are forced by the hints Oracle uses for it
//! (`LEADING` fixes the join order, `USE_NL` / `USE_HASH` / `USE_MERGE`
//! the method that joins the named table); the book's chapter 7 explains
//! how blocklab runs and counts each method.

mod driving;
mod methods;

pub use driving::{c28_verdict, C28Evidence, C28Form, C28Point};
pub use methods::{
    c27_timing_note, c27_verdict, C27Evidence, C27Method, C27Point, C27_MARGIN_PERCENT,
};

use super::Lab;
use blocklab::error::Result;
use blocklab::session::Session;

pub(super) fn labs() -> Vec<Lab> {
    let mut v = Vec::new();
    v.extend(methods::labs());
    v.extend(driving::labs());
    v
}

/// The join method of a plan, from its EXPLAIN lines (the first join
/// operation from the top), or `None` for a plan without a join.
pub(crate) fn plan_method(s: &mut Session, sql: &str) -> Result<(Option<C27Method>, String)> {
    let r = s.execute(&format!("EXPLAIN {sql}"))?;
    let Some(e) = r.explain else {
        return Ok((None, String::new()));
    };
    let method = e.lines.iter().find_map(|l| match l.operation.as_str() {
        "NESTED LOOPS" => Some(C27Method::NestedLoops),
        "HASH JOIN" => Some(C27Method::Hash),
        op if op.starts_with("MERGE JOIN") => Some(C27Method::Merge),
        _ => None,
    });
    Ok((method, format!("{sql}\n{}", e.render())))
}
