//! Pinned counter evidence of the plan-stability and operations labs.

use super::Pin;
use blocklab::labs::Verdict;

pub fn pins() -> Vec<Pin> {
    vec![(
        "C31",
        Verdict::Holds,
        vec![
            ("rows", 1000),
            ("prod.cluster_ratio_pct", 67),
            ("range.width", 240),
            ("statements", 2),
            ("changed", 1),
            ("range.rows_equal", 0),
            ("range.rows_in_b", 1),
            ("range.rows_in_a", 1),
            ("range.high_impact_columns", 3),
            ("lookup.rows_equal", 1),
            ("lookup.rows_in_b", 1),
            ("lookup.rows_in_a", 1),
            ("test.own_plan_gets", 28),
            ("test.prod_plan_gets", 101),
            ("prod.own_plan_gets", 101),
            ("prod.test_plan_gets", 105),
        ],
    )]
}
