//! The cost formula (the book, chapter 7) and default selectivities.

use super::*;

fn published_index() -> IndexStats {
    IndexStats {
        blevel: 1,
        leaf_blocks: 112,
        clustering_factor: 776,
        num_rows: 10_000,
        distinct_keys: 10_000,
    }
}

#[test]
fn cost_reproduces_the_published_worked_example() {
    let cost = cost_from_selectivities(&published_index(), 1, 0.01854, 0.01854);
    assert_eq!(cost.branch_blocks + cost.leaf_blocks, 4); // 1 + ceil(112 × 0.01854 = 2.08)
    assert_eq!(cost.table_blocks, 15); // ceil(776 × 0.01854 = 14.39)
    assert_eq!(cost.total, 19);
}

#[test]
fn cost_of_a_planned_range_uses_the_high_low_formula() {
    // C1 in [0, 100000]; C1 > 98146 → (100000 − 98146) / 100000 = 0.01854.
    let stats = |c: usize| {
        (c == C1).then_some(ColumnStats {
            ndv: 10_000,
            low: Some(Value::Int(0)),
            high: Some(Value::Int(100_000)),
            nulls: 0,
        })
    };
    let terms = [gt(C1, 98_146)];
    let plan = plan_for_index(&terms, &[C1], None);
    let cost = index_scan_cost(&plan, &terms, &published_index(), &stats);
    assert!((cost.ix_sel - 0.01854).abs() < 1e-12);
    assert_eq!(
        (
            cost.branch_blocks,
            cost.leaf_blocks,
            cost.table_blocks,
            cost.total
        ),
        (1, 3, 15, 19)
    );
    assert_eq!(cost.index_only_total(), 4);
}

#[test]
fn default_selectivities_follow_section_6_1() {
    let stats = |c: usize| {
        (c != C5).then_some(ColumnStats {
            ndv: 100,
            low: Some(Value::Int(0)),
            high: Some(Value::Int(1000)),
            nulls: 0,
        })
    };
    let sel = |p: Pred| selectivity(&p, &stats);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(sel(eq(C1, 7)), 0.01)); // 1/NDV
    assert!(close(sel(gt(C1, 900)), 0.1)); // (1000 − 900)/1000
    assert!(close(sel(Pred::cmp(C1, CmpOp::Ge, 900)), 0.11)); // + 1/NDV
    assert!(close(sel(lt(C1, 100)), 0.1)); // (100 − 0)/1000
    assert!(close(sel(between(C1, 100, 300, false)), 0.22)); // 200/1000 + 2/NDV
    assert!(close(sel(in_list(C1, ints(&[1, 2, 3]), false)), 0.03)); // k/NDV
    assert!(close(sel(Pred::cmp(C1, CmpOp::Ne, 7)), 0.99));
    assert!(close(sel(is_null(C1, false)), 0.0)); // no NULLs in the column
    assert!(close(sel(gt(C1, 5000)), 0.0)); // beyond the high value
    assert!(close(sel(eq(C5, 1)), DEFAULT_SELECTIVITY)); // no statistics
    assert!(close(sel(like(C1, "%x", false)), DEFAULT_SELECTIVITY));
    let many = ColumnStats {
        ndv: 2,
        ..stats(C1).unwrap()
    };
    assert!(close(
        selectivity(&in_list(C1, ints(&[1, 2, 3]), false), &|_| Some(
            many.clone()
        )),
        1.0
    )); // capped
}

#[test]
fn like_prefix_selectivity_is_the_prefix_range() {
    // Text from "A" to "Z": 'M%' covers 1/256 of a byte step out of 25 steps.
    let stats = |_| {
        Some(ColumnStats {
            ndv: 1_000_000,
            low: Some("A".into()),
            high: Some("Z".into()),
            nulls: 0,
        })
    };
    let s = selectivity(&like(C1, "M%", false), &stats);
    assert!((s - (1.0 / 25.0 + 1e-6)).abs() < 1e-9, "{s}"); // width/(hi−lo) + 1/NDV
}

#[test]
fn screening_reduces_table_visits_but_not_leaf_blocks() {
    let stats = |c: usize| {
        Some(ColumnStats {
            ndv: if c == C5 { 2 } else { 10 },
            low: Some(Value::Int(0)),
            high: Some(Value::Int(100)),
            nulls: 0,
        })
    };
    let index = IndexStats {
        blevel: 2,
        leaf_blocks: 1000,
        clustering_factor: 50_000,
        num_rows: 100_000,
        distinct_keys: 1000,
    };
    let plain = [eq(C1, 1)];
    let screened = [eq(C1, 1), eq(C3, 1)]; // C3 screens on (C1, C2, C3)
    let table = [eq(C1, 1), eq(C5, 1)]; // C5 is checked on the table row
    let cost = |terms: &[Pred]| {
        let plan = plan_for_index(terms, &[C1, C2, C3], None);
        index_scan_cost(&plan, terms, &index, &stats)
    };
    let (p, s, t) = (cost(&plain), cost(&screened), cost(&table));
    assert_eq!((p.leaf_blocks, p.table_blocks), (100, 5000)); // 1000/10, 50000/10
    assert_eq!((s.leaf_blocks, s.table_blocks), (100, 500)); // C3 screens 1 in 10
    assert_eq!((t.leaf_blocks, t.table_blocks), (100, 5000)); // C5 does not help
}

#[test]
fn in_list_cost_sums_over_its_values() {
    let stats = |_| {
        Some(ColumnStats {
            ndv: 100,
            low: Some(Value::Int(0)),
            high: Some(Value::Int(100)),
            nulls: 0,
        })
    };
    let terms = [in_list(C1, ints(&[1, 2, 3]), false)];
    let plan = plan_for_index(&terms, &[C1], None);
    let cost = index_scan_cost(&plan, &terms, &published_index(), &stats);
    // Each value: BLEVEL 1 + ceil(112/100 = 1.12) = 2 leaf + ceil(7.76) = 8 table.
    assert_eq!(cost.probes, 3);
    assert_eq!(
        (cost.branch_blocks, cost.leaf_blocks, cost.table_blocks),
        (3, 6, 24)
    );
    assert_eq!(cost.total, 33);
}
