//! EXPLAIN output: Oracle-style plan lines with predicate information, and
//! the same plan as DB2 `plan_table` rows.
//!
//! A plan is a short list of lines, parents first (`depth` gives the
//! indentation). Every index line carries MATCHCOLS, its `access`
//! (matching) predicates and its `screening` (index filter) predicates; a
//! TABLE ACCESS line carries the `filter` predicates that need the row.

use std::fmt::Write;

/// One line of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanLine {
    pub id: usize,
    pub depth: usize,
    /// "SELECT STATEMENT", "TABLE ACCESS FULL", "INDEX RANGE SCAN", …
    pub operation: String,
    /// The table or index the line reads.
    pub object: Option<String>,
    /// Matching index columns (index lines only).
    pub matchcols: Option<usize>,
    /// Matching predicates (Oracle `access(...)`).
    pub access: Option<String>,
    /// Index screening predicates (Oracle `filter(...)` on the index line).
    pub screening: Option<String>,
    /// Predicates checked on the table row (Oracle `filter(...)`).
    pub filter: Option<String>,
    pub index_only: bool,
    /// Estimated rows this line returns.
    pub rows: u64,
    /// Estimated cost in blocks (the formula of `optimizer`'s module doc).
    pub cost: u64,
}

/// One DB2-style `plan_table` row (one per table access).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanTableRow {
    pub queryno: u64,
    pub qblockno: u32,
    pub planno: u32,
    /// 0 first table accessed, 3 extra sort.
    pub method: u32,
    pub tname: String,
    /// `R` table scan, `I` index scan, `N` index scan with an IN-list,
    /// blank on a sort row (DB2's `I1`, one-fetch access, is not used).
    pub accesstype: String,
    pub matchcols: u32,
    pub accessname: String,
    /// `Y` / `N`
    pub indexonly: String,
    /// `S` sequential (table scan), `L` list prefetch (batched rowid
    /// access), `D` dynamic (an index scan without matching columns),
    /// blank none.
    pub prefetch: String,
    pub sortn_join: String,
    pub sortc_uniq: String,
    pub sortc_join: String,
    pub sortc_orderby: String,
    pub sortc_groupby: String,
    pub cost: u64,
}

impl PlanTableRow {
    /// Column names, in `values()` order.
    pub const COLUMNS: [&'static str; 16] = [
        "QUERYNO",
        "QBLOCKNO",
        "PLANNO",
        "METHOD",
        "TNAME",
        "ACCESSTYPE",
        "MATCHCOLS",
        "ACCESSNAME",
        "INDEXONLY",
        "PREFETCH",
        "SORTN_JOIN",
        "SORTC_UNIQ",
        "SORTC_JOIN",
        "SORTC_ORDERBY",
        "SORTC_GROUPBY",
        "COST",
    ];

    /// The row's values as text, in `COLUMNS` order.
    pub fn values(&self) -> Vec<String> {
        vec![
            self.queryno.to_string(),
            self.qblockno.to_string(),
            self.planno.to_string(),
            self.method.to_string(),
            self.tname.clone(),
            self.accesstype.clone(),
            self.matchcols.to_string(),
            self.accessname.clone(),
            self.indexonly.clone(),
            self.prefetch.clone(),
            self.sortn_join.clone(),
            self.sortc_uniq.clone(),
            self.sortc_join.clone(),
            self.sortc_orderby.clone(),
            self.sortc_groupby.clone(),
            self.cost.to_string(),
        ]
    }
}

/// A statement's plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Explain {
    pub lines: Vec<PlanLine>,
    pub plan_table: Vec<PlanTableRow>,
    /// Remarks, such as "no statistics: chosen by rules".
    pub notes: Vec<String>,
}

impl Explain {
    /// The plan as Oracle prints it (DBMS_XPLAN style), followed by the
    /// predicate information and, per index line, MATCHCOLS.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let ops: Vec<String> = self
            .lines
            .iter()
            .map(|l| format!("{}{}", " ".repeat(l.depth), l.operation))
            .collect();
        let w_op = ops.iter().map(|s| s.len()).max().unwrap_or(9).max(9);
        let w_obj = self
            .lines
            .iter()
            .filter_map(|l| l.object.as_ref().map(|o| o.len()))
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "| Id  | {:w_op$} | {:w_obj$} | {:>7} | {:>6} |",
            "Operation", "Name", "Rows", "Cost"
        );
        let rule = "-".repeat(w_op + w_obj + 31);
        let _ = writeln!(out, "{rule}");
        for (l, op) in self.lines.iter().zip(&ops) {
            let star = if l.access.is_some() || l.screening.is_some() || l.filter.is_some() {
                '*'
            } else {
                ' '
            };
            let _ = writeln!(
                out,
                "|{star}{:>3} | {op:w_op$} | {:w_obj$} | {:>7} | {:>6} |",
                l.id,
                l.object.as_deref().unwrap_or(""),
                l.rows,
                l.cost
            );
        }
        let _ = writeln!(out, "{rule}");
        let with_preds: Vec<&PlanLine> = self
            .lines
            .iter()
            .filter(|l| l.access.is_some() || l.screening.is_some() || l.filter.is_some())
            .collect();
        if !with_preds.is_empty() {
            let _ = writeln!(out, "\nPredicate Information (identified by operation id):");
            let _ = writeln!(out, "---------------------------------------------------");
            for l in with_preds {
                let mut first = true;
                let mut put = |kind: &str, text: &str| {
                    let lead = if first {
                        format!("{:>3} - ", l.id)
                    } else {
                        "      ".to_string()
                    };
                    first = false;
                    let _ = writeln!(out, "{lead}{kind}({text})");
                };
                if let Some(a) = &l.access {
                    put("access", a);
                }
                if let Some(s) = &l.screening {
                    put("filter", s);
                }
                if let Some(f) = &l.filter {
                    put("filter", f);
                }
            }
        }
        let idx: Vec<&PlanLine> = self
            .lines
            .iter()
            .filter(|l| l.matchcols.is_some())
            .collect();
        if !idx.is_empty() {
            let _ = writeln!(out, "\nIndex access (identified by operation id):");
            let _ = writeln!(out, "------------------------------------------");
            for l in idx {
                let _ = writeln!(
                    out,
                    "{:>3} - matchcols={}, screening: {}, index only: {}",
                    l.id,
                    l.matchcols.unwrap_or(0),
                    l.screening.as_deref().unwrap_or("none"),
                    if l.index_only { "yes" } else { "no" }
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "\nNote: {n}");
        }
        out
    }
}

/// A plan line with no predicates (the caller numbers and nests it).
pub(crate) fn line(operation: &str, object: Option<&str>, rows: u64, cost: u64) -> PlanLine {
    PlanLine {
        id: 0,
        depth: 0,
        operation: operation.to_string(),
        object: object.map(str::to_string),
        matchcols: None,
        access: None,
        screening: None,
        filter: None,
        index_only: false,
        rows,
        cost,
    }
}

/// Numbers a plan's lines, parents first, as one chain: a line's id and its
/// depth are its position. Right for every plan of a one-table statement,
/// where an operation has at most one child.
pub(crate) fn number_chain(lines: &mut [PlanLine]) {
    for (i, l) in lines.iter_mut().enumerate() {
        l.id = i;
        l.depth = i;
    }
}
