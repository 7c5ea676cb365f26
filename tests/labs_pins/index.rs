//! Pinned counter evidence of the index-access labs measured through SQL.

use super::Pin;
use blocklab_labs::Verdict;

pub fn pins() -> Vec<Pin> {
    vec![
        // ANCHOR: C24
        (
            "C24",
            Verdict::Holds,
            vec![
                ("rows", 2000),
                ("rows_b_eq_3", 200),
                ("calls.full_scan", 2000),
                ("calls.full_scan_other_first", 200),
                ("calls.full_scan_function_first", 2000),
                ("calls.index_then_filter", 200),
                ("calls.matching_value", 1),
                ("query_function.full_scan.calls", 2000),
                ("query_function.full_scan.recursive_calls", 2000),
                ("query_function.full_scan_other_first.calls", 200),
                ("query_function.full_scan_other_first.recursive_calls", 200),
                ("query_function.full_scan_function_first.calls", 2000),
                (
                    "query_function.full_scan_function_first.recursive_calls",
                    2000,
                ),
                ("query_function.index_then_filter.calls", 200),
                ("query_function.index_then_filter.recursive_calls", 200),
                ("query_function.matching_value.calls", 1),
                ("query_function.matching_value.recursive_calls", 1),
            ],
        ),
        // ANCHOR_END: C24
        // ANCHOR: C26
        (
            "C26",
            Verdict::Holds,
            vec![
                ("eq_order_by.sorts", 0),
                ("eq_order_by.rows_sorted", 0),
                ("in_list_order_by.sorts", 1),
                ("in_list_order_by.rows_sorted", 400),
                ("full_scan_order_by.sorts", 1),
                ("eq_order_matches_sorted", 1),
            ],
        ),
        // ANCHOR_END: C26
    ]
}
