//! Pinned counter evidence of the plan-stability and operations labs.

use super::Pin;
use blocklab_labs::Verdict;

pub fn pins() -> Vec<Pin> {
    vec![
        // ANCHOR: C31
        (
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
                ("test.prod_plan_gets", 117),
                ("prod.own_plan_gets", 117),
                ("prod.test_plan_gets", 105),
            ],
        ),
        // ANCHOR_END: C31
        // ANCHOR: C33
        (
            "C33",
            Verdict::Holds,
            vec![
                ("customers", 1000),
                ("orders", 2000),
                ("test.regions", 10),
                ("prod.regions", 500),
                ("test.join_method", 5),
                ("prod.join_method", 1),
                ("rows_equal", 1),
                ("rows_in_b", 2),
                ("rows_in_a", 2),
                ("method.high_impact", 1),
                ("tname.high_impact", 0),
                ("test.rows", 200),
                ("prod.rows", 4),
                ("test.own_plan_gets", 16),
                ("test.prod_plan_gets", 406),
                ("prod.own_plan_gets", 14),
                ("prod.test_plan_gets", 16),
            ],
        ),
        // ANCHOR_END: C33
        // ANCHOR: C41
        (
            "C41",
            Verdict::Holds,
            vec![
                ("inserts.made", 35),
                ("inserts.mined", 35),
                ("inserts.user_alice", 35),
                ("ddl.mined", 4),
                ("drop.found", 1),
                ("drop.user_partner", 1),
                ("drop.has_time", 1),
                ("drop.scn", 93),
                ("redo.gaps", 0),
            ],
        ),
        // ANCHOR_END: C41
        // ANCHOR: C42
        (
            "C42",
            Verdict::Holds,
            vec![
                ("rows.before_drop", 30),
                ("rows.at_end", 35),
                ("drop.scn", 93),
                ("flashback.refused", 1),
                ("recovered.rows", 30),
                ("recovered.notes", 30),
                ("replayed.statements", 6),
                ("after_replay.rows", 35),
                ("after_replay.notes", 30),
            ],
        ),
        // ANCHOR_END: C42
    ]
}
