//! Tests: every worked example of the book's chapter 6, claim C15's five cases, three-valued
//! logic, LIKE against a reference matcher, plan soundness, and the estimated cost.

use proptest::prelude::*;

use super::*;
use crate::value::Value;

// Table columns C1..C5 are positions 0..4.
const C1: usize = 0;
const C2: usize = 1;
const C3: usize = 2;
const C4: usize = 3;
const C5: usize = 4;
const IX_C1_C4: [usize; 4] = [C1, C2, C3, C4];
const IX_C1_C2: [usize; 2] = [C1, C2];

fn eq(col: usize, v: impl Into<Value>) -> Pred {
    Pred::cmp(col, CmpOp::Eq, v)
}
fn gt(col: usize, v: impl Into<Value>) -> Pred {
    Pred::cmp(col, CmpOp::Gt, v)
}
fn lt(col: usize, v: impl Into<Value>) -> Pred {
    Pred::cmp(col, CmpOp::Lt, v)
}
fn in_list(col: usize, values: Vec<Value>, negated: bool) -> Pred {
    Pred::In {
        col,
        values,
        negated,
    }
}
fn ints(vs: &[i64]) -> Vec<Value> {
    vs.iter().map(|&v| Value::Int(v)).collect()
}
fn like(col: usize, pattern: &str, negated: bool) -> Pred {
    Pred::Like {
        col,
        pattern: pattern.into(),
        negated,
    }
}
fn between(col: usize, low: impl Into<Value>, high: impl Into<Value>, negated: bool) -> Pred {
    Pred::Between {
        col,
        low: low.into(),
        high: high.into(),
        negated,
    }
}
fn is_null(col: usize, negated: bool) -> Pred {
    Pred::IsNull { col, negated }
}
fn inclusive(v: impl Into<Value>) -> Option<Endpoint> {
    Some(Endpoint {
        value: v.into(),
        inclusive: true,
    })
}
fn exclusive(v: impl Into<Value>) -> Option<Endpoint> {
    Some(Endpoint {
        value: v.into(),
        inclusive: false,
    })
}
fn names() -> Vec<String> {
    ["C1", "C2", "C3", "C4", "C5"].map(String::from).to_vec()
}

/// (matching_cols, matching, screening, table) of a plan.
type Split = (usize, Vec<usize>, Vec<usize>, Vec<usize>);

fn split(plan: &AccessPlan) -> Split {
    (
        plan.matching_cols,
        plan.matching_terms.clone(),
        plan.screening_terms.clone(),
        plan.table_terms.clone(),
    )
}

// ---------------------------------------------------------------- matching rules

#[test]
fn in_list_matches_as_equal_and_gives_one_probe_per_value() {
    // MATCHCOLS rule 5: C1=1 AND C2 IN (1,2,3) AND C3>0 AND C4<100 on (C1..C4).
    let terms = [
        eq(C1, 1),
        in_list(C2, ints(&[1, 2, 3]), false),
        gt(C3, 0),
        lt(C4, 100),
    ];
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    // C1 equal, C2 IN-list as equal, C3 range (last matching); C4 screens.
    assert_eq!(split(&plan), (3, vec![0, 1, 2], vec![3], vec![]));
    assert_eq!(plan.probes, 3); // probes (1,1,>0), (1,2,>0), (1,3,>0)
    assert_eq!(plan.access_type(), "N");
    assert_eq!(
        plan.bounds,
        vec![
            ColumnBound::Eq(Value::Int(1)),
            ColumnBound::In(ints(&[1, 2, 3])),
            ColumnBound::Range {
                low: exclusive(0),
                high: None
            },
        ]
    );
    assert_eq!(
        describe(&terms, &plan.matching_terms, &names()),
        "C1=1 AND C2 IN (1,2,3) AND C3>0"
    );
    assert_eq!(describe(&terms, &plan.screening_terms, &names()), "C4<100");
}

#[test]
fn in_list_probes_are_distinct_sorted_and_skip_null_and_nan() {
    let values = vec![
        Value::Int(3),
        Value::Null,
        Value::Int(1),
        Value::Real(3.0), // equal to 3: a duplicate
        Value::Real(f64::NAN),
        Value::Int(2),
        Value::Int(1),
    ];
    let plan = plan_for_index(&[in_list(C1, values, false)], &IX_C1_C4, None);
    assert_eq!(plan.bounds, vec![ColumnBound::In(ints(&[1, 2, 3]))]);
    assert_eq!(plan.probes, 3);
    assert!(plan.bounds[0].admits(&Value::Int(2)));
    assert!(plan.bounds[0].admits(&Value::Real(2.0)));
    assert!(!plan.bounds[0].admits(&Value::Int(4)));
    assert!(!plan.bounds[0].admits(&Value::Null));
    // Numbers sort before text; text by bytes.
    let mixed = vec![
        "b".into(),
        Value::Int(5),
        "a".into(),
        Value::Real(-1.5),
        "b".into(),
    ];
    assert_eq!(
        probe_values(&mixed),
        vec![Value::Real(-1.5), Value::Int(5), "a".into(), "b".into()]
    );
}

/// Planning a long IN list costs O(n log n) comparisons: counted, not
/// timed. 100,000 values in descending order, each twice: a sort needs
/// about n log2 n = 3.5 million comparisons, the old quadratic
/// duplicate scan about n² / 2 = 2·10^10.
#[test]
fn in_list_probe_values_take_n_log_n_comparisons() {
    let n: i64 = 100_000;
    let values: Vec<Value> = (1..=n)
        .rev()
        .flat_map(|v| [Value::Int(v), Value::Int(v)])
        .collect();
    let mut comparisons = 0u64;
    let probes = probe_values_by(&values, |a, b| {
        comparisons += 1;
        probe_order(a, b)
    });
    assert_eq!(probes, (1..=n).map(Value::Int).collect::<Vec<_>>());
    let len = values.len() as f64;
    let bound = 2.0 * len * len.log2();
    assert!(
        (comparisons as f64) < bound,
        "{comparisons} comparisons for {len} values (bound {bound})"
    );
}

#[test]
fn missing_column_stops_matching_and_later_columns_screen() {
    // MATCHCOLS rule 6: C1=1 AND C3>0 AND C4=2 AND C5=8 on (C1..C4).
    let terms = [eq(C1, 1), gt(C3, 0), eq(C4, 2), eq(C5, 8)];
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    // No predicate on C2 → MATCHCOLS 1. C4=2 screens before C3>0 (rule 10:
    // equal before range); C5 is not in the index → table.
    assert_eq!(split(&plan), (1, vec![0], vec![2, 1], vec![3]));
    assert_eq!(plan.probes, 1);
    assert_eq!(plan.access_type(), "I");
}

#[test]
fn or_is_not_a_boolean_term_and_only_screens() {
    // MATCHCOLS rule 8: C1=5 OR C2=7 on (C1..C4).
    let terms = boolean_terms(&Pred::Or(vec![eq(C1, 5), eq(C2, 7)]));
    assert_eq!(terms.len(), 1);
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    assert_eq!(split(&plan), (0, vec![], vec![0], vec![]));
}

#[test]
fn predicate_on_non_leading_column_gives_a_non_matching_index_scan() {
    // MATCHCOLS rule 9: C2 = 5 only → MATCHCOLS 0, whole leaf level, screening.
    let plan = plan_for_index(&[eq(C2, 5)], &IX_C1_C4, None);
    assert_eq!(split(&plan), (0, vec![], vec![0], vec![]));
    assert!(plan.bounds.is_empty());
}

#[test]
fn non_indexable_predicates_never_match_but_screen() {
    // MATCHCOLS rule 7, plus IS NOT NULL and NOT (…).
    for term in [
        Pred::cmp(C1, CmpOp::Ne, 1),
        between(C1, 1, 5, true),
        in_list(C1, ints(&[1, 2]), true),
        like(C1, "%x", false),
        like(C1, "_x", false),
        like(C1, "ab%", true),
        is_null(C1, true),
        Pred::Not(Box::new(eq(C1, 1))),
        eq(C1, Value::Null), // never TRUE, so no key range
    ] {
        let plan = plan_for_index(&[term.clone(), eq(C2, 1)], &IX_C1_C4, None);
        assert_eq!(split(&plan), (0, vec![], vec![1, 0], vec![]), "{term:?}");
    }
}

#[test]
fn equal_forms_let_matching_continue() {
    // MATCHCOLS rule 4: IS NULL, IN with one value, BETWEEN x AND x are equal.
    for (term, bound) in [
        (is_null(C1, false), ColumnBound::IsNull),
        (
            in_list(C1, ints(&[5]), false),
            ColumnBound::Eq(Value::Int(5)),
        ),
        (
            in_list(C1, vec![5.into(), Value::Null, 5.into()], false),
            ColumnBound::Eq(Value::Int(5)),
        ),
        (between(C1, 5, 5, false), ColumnBound::Eq(Value::Int(5))),
    ] {
        let plan = plan_for_index(&[term.clone(), gt(C2, 0)], &IX_C1_C4, None);
        assert_eq!(split(&plan), (2, vec![0, 1], vec![], vec![]), "{term:?}");
        assert_eq!(plan.bounds[0], bound);
        assert_eq!(plan.probes, 1);
    }
}

#[test]
fn only_one_in_list_may_match() {
    let terms = [
        in_list(C1, ints(&[1, 2]), false),
        in_list(C2, ints(&[3, 4]), false),
        eq(C3, 1),
    ];
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    // The second IN-list cannot match, so matching stops at C2; C3=1 screens
    // first (equal), then the IN-list (other).
    assert_eq!(split(&plan), (1, vec![0], vec![2, 1], vec![]));
    assert_eq!(plan.probes, 2);
}

#[test]
fn ranges_on_one_column_combine_into_one_bound() {
    let terms = [gt(C1, 5), lt(C1, 9), Pred::cmp(C1, CmpOp::Ge, 6), eq(C2, 1)];
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    // All three ranges are matching; C1 >= 6 is tighter than C1 > 5.
    assert_eq!(split(&plan), (1, vec![0, 1, 2], vec![3], vec![]));
    assert_eq!(
        plan.bounds,
        vec![ColumnBound::Range {
            low: inclusive(6),
            high: exclusive(9)
        }]
    );
    // Equal ends: the exclusive one is tighter, whichever comes first.
    for terms in [
        [Pred::cmp(C1, CmpOp::Ge, 5), gt(C1, 5)],
        [gt(C1, 5), Pred::cmp(C1, CmpOp::Ge, 5)],
    ] {
        let plan = plan_for_index(&terms, &IX_C1_C4, None);
        assert_eq!(
            plan.bounds,
            vec![ColumnBound::Range {
                low: exclusive(5),
                high: None
            }]
        );
    }
}

#[test]
fn equal_wins_over_range_on_the_same_column() {
    let terms = [gt(C1, 5), eq(C1, 7), eq(C2, 1)];
    let plan = plan_for_index(&terms, &IX_C1_C4, None);
    assert_eq!(split(&plan), (2, vec![1, 2], vec![0], vec![]));
}

#[test]
fn opaque_predicates_go_to_the_table_even_on_index_columns() {
    let f = Pred::Opaque {
        cols: vec![C1],
        label: "UPPER(C1)='A'".into(),
        eval: OpaqueFn::new(|_| Some(true)),
    };
    let plan = plan_for_index(&[f.clone(), eq(C2, 1)], &IX_C1_C4, None);
    assert_eq!(split(&plan), (0, vec![], vec![1], vec![0]));
    // Inside an OR it still makes the whole term a table term.
    let plan = plan_for_index(&[Pred::Or(vec![f, eq(C1, 1)])], &IX_C1_C4, None);
    assert_eq!(split(&plan), (0, vec![], vec![], vec![0]));
}

#[test]
fn num_index_keys_limit_moves_later_predicates_to_screening() {
    // Claim C20.
    let terms = [eq(C1, 1), eq(C2, 2), eq(C3, 3)];
    let full = plan_for_index(&terms, &IX_C1_C4, None);
    assert_eq!(split(&full), (3, vec![0, 1, 2], vec![], vec![]));
    let one = plan_for_index(&terms, &IX_C1_C4, Some(1));
    assert_eq!(split(&one), (1, vec![0], vec![1, 2], vec![]));
    let none = plan_for_index(&terms, &IX_C1_C4, Some(0));
    assert_eq!(split(&none), (0, vec![], vec![0, 1, 2], vec![]));
}

// ---------------------------------------------------------------- screening

#[test]
fn like_prefix_matches_as_a_range_and_is_rechecked() {
    // screening: C1 LIKE 'AB%' AND C2 = k on (C1, C2).
    let terms = [like(C1, "AB%", false), eq(C2, 7)];
    let plan = plan_for_index(&terms, &IX_C1_C2, None);
    assert_eq!(split(&plan), (1, vec![0], vec![1], vec![]));
    assert_eq!(plan.bounds, vec![ColumnBound::LikePrefix("AB".into())]);
    assert_eq!(plan.recheck_terms, vec![0]); // Oracle: access and filter
}

#[test]
fn between_on_the_prefix_range_behaves_like_the_like() {
    // screening: C1 BETWEEN 'AB' AND 'AB\u{10FFFF}' AND C2 = k on (C1, C2).
    let terms = [between(C1, "AB", "AB\u{10FFFF}", false), eq(C2, 7)];
    let plan = plan_for_index(&terms, &IX_C1_C2, None);
    assert_eq!(split(&plan), (1, vec![0], vec![1], vec![]));
    assert!(plan.recheck_terms.is_empty()); // a BETWEEN range is exact
    let like_bound = ColumnBound::LikePrefix("AB".into());
    for s in ["A", "AB", "ABC", "ABZZ", "AC", "B"] {
        let v = Value::from(s);
        assert_eq!(plan.bounds[0].admits(&v), like_bound.admits(&v), "{s}");
    }
}

#[test]
fn like_with_an_inner_wildcard_bounds_by_its_prefix_only() {
    // screening: LIKE 'WIN%D' → start WIN, stop before WIO, whole pattern re-checked.
    let plan = plan_for_index(&[like(C1, "WIN%D", false)], &IX_C1_C2, None);
    assert_eq!(plan.bounds, vec![ColumnBound::LikePrefix("WIN".into())]);
    assert_eq!(plan.recheck_terms, vec![0]);
    assert!(plan.bounds[0].admits(&"WINDOW".into()));
    assert!(!plan.bounds[0].admits(&"WIO".into()));
}

// ---------------------------------------------------------------- claim C15

#[test]
fn claim_c15_five_cases_on_index_c1_c2() {
    let cases: [(&str, Vec<Pred>, Split); 5] = [
        (
            "C1= AND C2=",
            vec![eq(C1, 1), eq(C2, 2)],
            (2, vec![0, 1], vec![], vec![]),
        ),
        (
            "C1= AND C2 range",
            vec![eq(C1, 1), gt(C2, 2)],
            (2, vec![0, 1], vec![], vec![]),
        ),
        (
            "C1 range AND C2=",
            vec![gt(C1, 1), eq(C2, 2)],
            (1, vec![0], vec![1], vec![]),
        ),
        ("C2 only", vec![eq(C2, 2)], (0, vec![], vec![0], vec![])),
        ("C1 only", vec![eq(C1, 1)], (1, vec![0], vec![], vec![])),
    ];
    for (name, terms, expected) in cases {
        assert_eq!(
            split(&plan_for_index(&terms, &IX_C1_C2, None)),
            expected,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------- helpers

#[test]
fn boolean_terms_flatten_nested_ands() {
    let w = Pred::And(vec![
        eq(C1, 1),
        Pred::And(vec![eq(C2, 2), Pred::Or(vec![eq(C3, 3), eq(C4, 4)])]),
    ]);
    assert_eq!(boolean_terms(&w).len(), 3);
    assert!(boolean_terms(&Pred::And(vec![])).is_empty()); // no WHERE clause
}

#[test]
fn index_only_needs_every_column_in_the_index() {
    assert!(index_only(&IX_C1_C2, &[C2, C1]));
    assert!(!index_only(&IX_C1_C2, &[C1, C5]));
}

#[test]
fn describe_quotes_text_and_parenthesises_or() {
    let terms = [
        Pred::Or(vec![eq(C1, 5), eq(C2, 7)]),
        like(C3, "O'B%", true),
        is_null(C4, true),
        between(C5, 1.5, 2, false),
    ];
    assert_eq!(
        describe(&terms, &[0, 1, 2, 3], &names()),
        "(C1=5 OR C2=7) AND C3 NOT LIKE 'O''B%' AND C4 IS NOT NULL AND C5 BETWEEN 1.5 AND 2"
    );
    assert_eq!(describe(&terms, &[0], &names()), "C1=5 OR C2=7");
    assert_eq!(render(&eq(9, "x"), &names()), "#9='x'");
}

// ---------------------------------------------------------------- evaluation

#[test]
fn and_or_not_follow_three_valued_truth_tables() {
    // Row (1, NULL): T is C1=1, F is C1=2, U is C2=1 (NULL compared).
    let row = [Value::Int(1), Value::Null];
    let (t, f, u) = (eq(C1, 1), eq(C1, 2), eq(C2, 1));
    let values = [(t, Some(true)), (f, Some(false)), (u, None)];
    for (a, va) in &values {
        assert_eq!(eval(&Pred::Not(Box::new(a.clone())), &row), va.map(|b| !b));
        for (b, vb) in &values {
            let and = match (va, vb) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            let or = match (va, vb) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            assert_eq!(eval(&Pred::And(vec![a.clone(), b.clone()]), &row), and);
            assert_eq!(eval(&Pred::Or(vec![a.clone(), b.clone()]), &row), or);
        }
    }
    // The headline cases: NOT NULL, NULL AND FALSE, NULL OR TRUE.
    assert_eq!(eval(&Pred::Not(Box::new(eq(C2, 1))), &row), None);
    assert_eq!(
        eval(&Pred::And(vec![eq(C2, 1), eq(C1, 2)]), &row),
        Some(false)
    );
    assert_eq!(
        eval(&Pred::Or(vec![eq(C2, 1), eq(C1, 1)]), &row),
        Some(true)
    );
}

#[test]
fn in_lists_with_null_are_true_or_unknown_never_false() {
    let list = vec![Value::Int(1), Value::Null];
    let row = |v: i64| vec![Value::Int(v)];
    assert_eq!(eval(&in_list(C1, list.clone(), false), &row(1)), Some(true));
    assert_eq!(eval(&in_list(C1, list.clone(), false), &row(2)), None);
    assert_eq!(eval(&in_list(C1, list.clone(), true), &row(1)), Some(false));
    assert_eq!(eval(&in_list(C1, list, true), &row(2)), None); // NOT IN with NULL
    assert_eq!(eval(&in_list(C1, ints(&[1]), false), &[Value::Null]), None);
    assert_eq!(eval(&in_list(C1, ints(&[1]), true), &row(2)), Some(true));
}

#[test]
fn between_is_inclusive_and_unknown_on_null() {
    let b = between(C1, 2, 4, false);
    let results: Vec<_> = [1, 2, 3, 4, 5]
        .iter()
        .map(|&v| eval(&b, &[Value::Int(v)]))
        .collect();
    assert_eq!(
        results,
        [Some(false), Some(true), Some(true), Some(true), Some(false)]
    );
    assert_eq!(eval(&b, &[Value::Null]), None);
    assert_eq!(eval(&between(C1, 2, 4, true), &[Value::Int(5)]), Some(true));
    assert_eq!(
        eval(&between(C1, 4, 2, false), &[Value::Int(3)]),
        Some(false)
    ); // empty range
       // A NULL bound is UNKNOWN unless the other bound already fails.
    assert_eq!(
        eval(&between(C1, Value::Null, 4, false), &[Value::Int(3)]),
        None
    );
    assert_eq!(
        eval(&between(C1, Value::Null, 4, false), &[Value::Int(9)]),
        Some(false)
    );
}

#[test]
fn comparisons_follow_sql_type_rules() {
    let ord = |a: Value, b: Value| compare(&a, &b);
    use std::cmp::Ordering::*;
    assert_eq!(ord(Value::Int(1), Value::Real(1.0)), Some(Equal));
    assert_eq!(ord(Value::Int(2), Value::Real(1.5)), Some(Greater));
    assert_eq!(ord(Value::Real(-1.5), Value::Int(-1)), Some(Less));
    // i64::MAX is below 2^63, which is what `i64::MAX as f64` rounds to.
    assert_eq!(
        ord(Value::Int(i64::MAX), Value::Real(i64::MAX as f64)),
        Some(Less)
    );
    assert_eq!(
        ord(Value::Int(i64::MIN), Value::Real(i64::MIN as f64)),
        Some(Equal)
    );
    assert_eq!(ord("B".into(), "a".into()), Some(Less)); // bytes: 'B' 0x42 < 'a' 0x61
    assert_eq!(ord("é".into(), "z".into()), Some(Greater)); // 0xC3 > 0x7A
    assert_eq!(ord("1".into(), Value::Int(1)), None); // mismatched types: UNKNOWN
    assert_eq!(ord(Value::Real(f64::NAN), Value::Real(1.0)), None);
    assert_eq!(eval(&like(C1, "1%", false), &[Value::Int(1)]), None); // LIKE on a number
}

#[test]
fn partial_evaluation_reports_the_missing_column() {
    let entry = [Value::Int(1), Value::Int(2)]; // an index entry holding C1, C2
    let get = |c: usize| if c < 2 { entry.get(c) } else { None };
    assert_eq!(eval_partial(&eq(C2, 2), &get), Ok(Some(true)));
    let mixed = Pred::And(vec![eq(C1, 9), eq(C5, 1)]); // FALSE, but needs C5
    assert_eq!(eval_partial(&mixed, &get), Err(NotAvailable { col: C5 }));
    assert_eq!(eval(&eq(C5, 1), &entry), None); // past the end of a row: UNKNOWN
}

#[test]
fn and_short_circuits_before_calling_an_opaque_function() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let f = Pred::Opaque {
        cols: vec![C2],
        label: "F(C2)".into(),
        eval: OpaqueFn::new(move |args| {
            counted.fetch_add(1, SeqCst);
            Some(args == [Value::Int(2)])
        }),
    };
    let row = [Value::Int(1), Value::Int(2)];
    assert_eq!(
        eval(&Pred::And(vec![eq(C1, 9), f.clone()]), &row),
        Some(false)
    );
    assert_eq!(calls.load(SeqCst), 0);
    assert_eq!(eval(&Pred::And(vec![eq(C1, 1), f]), &row), Some(true));
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn like_handles_wildcards_and_prefixes() {
    assert!(like_matches("WINDOW", "WIN%"));
    assert!(like_matches("WIND", "WIN%D"));
    assert!(!like_matches("WINDY", "WIN%D"));
    assert!(like_matches("abc", "a_c"));
    assert!(like_matches("añc", "a_c")); // `_` is one character, not one byte
    assert!(like_matches("", "%"));
    assert!(!like_matches("", "_"));
    assert!(!like_matches("abc", "ABC")); // case-sensitive
    assert_eq!(like_prefix("WIN%D"), "WIN");
    assert_eq!(like_prefix("a_c"), "a");
    assert_eq!(like_prefix("%x"), "");
    assert_eq!(like_prefix("exact"), "exact");
}

#[test]
fn like_is_not_exponential_on_many_percent_signs() {
    let text = "a".repeat(2000);
    let pattern = format!("{}b", "%a".repeat(40));
    assert!(!like_matches(&text, &pattern)); // a backtracking matcher would not finish
}

/// The definition of LIKE, as a recursive (exponential) matcher.
fn like_reference(t: &[char], p: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('%', rest)) => (0..=t.len()).any(|k| like_reference(&t[k..], rest)),
        Some((&c, rest)) => match t.split_first() {
            Some((&x, t_rest)) => (c == '_' || c == x) && like_reference(t_rest, rest),
            None => false,
        },
    }
}

proptest! {
    #[test]
    fn like_agrees_with_the_reference(text in "[ab]{0,8}", pattern in "[ab%_]{0,6}") {
        let t: Vec<char> = text.chars().collect();
        let p: Vec<char> = pattern.chars().collect();
        prop_assert_eq!(like_matches(&text, &pattern), like_reference(&t, &p));
    }
}

// ---------------------------------------------------------------- soundness

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 6 => (0i64..3).prop_map(Value::Int)]
}

fn leaf_pred() -> impl Strategy<Value = Pred> {
    let col = 0usize..4; // C1..C4; C5 stays out of terms to keep them dense
    let op = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge)
    ];
    prop_oneof![
        (col.clone(), op, small_value()).prop_map(|(col, op, value)| Pred::Cmp { col, op, value }),
        (col.clone(), small_value(), small_value(), any::<bool>()).prop_map(
            |(col, low, high, negated)| Pred::Between {
                col,
                low,
                high,
                negated
            }
        ),
        (
            col.clone(),
            prop::collection::vec(small_value(), 1..4),
            any::<bool>()
        )
            .prop_map(|(col, values, negated)| Pred::In {
                col,
                values,
                negated
            }),
        (col.clone(), any::<bool>()).prop_map(|(col, negated)| Pred::IsNull { col, negated }),
        (col, "[ab%_]{0,3}", any::<bool>()).prop_map(|(col, pattern, negated)| Pred::Like {
            col,
            pattern,
            negated
        }),
    ]
}

fn term() -> impl Strategy<Value = Pred> {
    prop_oneof![
        6 => leaf_pred(),
        1 => (leaf_pred(), leaf_pred()).prop_map(|(a, b)| Pred::Or(vec![a, b])),
        1 => leaf_pred().prop_map(|a| Pred::Not(Box::new(a))),
    ]
}

fn row() -> impl Strategy<Value = Vec<Value>> {
    let text = prop_oneof![
        Just(Value::from("a")),
        Just(Value::from("ab")),
        Just(Value::from("ba"))
    ];
    prop::collection::vec(prop_oneof![4 => small_value(), 1 => text], 5)
}

/// A row passes the WHERE clause iff its key is inside every bound and every
/// non-matching (and re-checked) term is TRUE — the plan loses no rows and
/// invents none. Also checks the partition invariants, and each bound
/// against its own terms (a wrong bound is otherwise often masked by some
/// other term being FALSE).
fn check_plan(
    terms: &[Pred],
    index_cols: &[usize],
    max_matching: Option<usize>,
    rows: &[Vec<Value>],
) -> Result<(), TestCaseError> {
    let plan = plan_for_index(terms, index_cols, max_matching);

    let mut all: Vec<usize> = [
        &plan.matching_terms,
        &plan.screening_terms,
        &plan.table_terms,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    all.sort_unstable();
    prop_assert_eq!(all, (0..terms.len()).collect::<Vec<_>>());
    prop_assert!(plan
        .recheck_terms
        .iter()
        .all(|i| plan.matching_terms.contains(i)));
    prop_assert_eq!(plan.bounds.len(), plan.matching_cols);
    prop_assert!(plan.matching_cols <= max_matching.unwrap_or(usize::MAX));
    let entry = |c: usize| index_cols.contains(&c).then_some(&Value::Null);
    for &i in &plan.screening_terms {
        prop_assert!(eval_partial(&terms[i], &entry).is_ok());
    }

    // Per column: a bound admits a value iff the column's exact matching
    // terms are TRUE, and admits whatever its re-checked terms accept.
    for (bound, &col) in plan.bounds.iter().zip(index_cols) {
        let on_col = |i: &&usize| terms[**i].columns() == [col];
        let (approx, exact): (Vec<usize>, Vec<usize>) = plan
            .matching_terms
            .iter()
            .filter(on_col)
            .partition(|i| plan.recheck_terms.contains(i));
        prop_assert!(!(approx.is_empty() && exact.is_empty()));
        for row in rows {
            let admits = bound.admits(&row[col]);
            let true_ = |i: &usize| eval(&terms[*i], row) == Some(true);
            if !exact.is_empty() {
                prop_assert_eq!(admits, exact.iter().all(true_), "{:?} {:?}", bound, row);
            }
            if !approx.is_empty() && approx.iter().all(true_) {
                prop_assert!(admits, "{:?} {:?}", bound, row);
            }
        }
    }

    let whole = Pred::And(terms.to_vec());
    let filters = [
        &plan.recheck_terms,
        &plan.screening_terms,
        &plan.table_terms,
    ];
    for row in rows {
        let in_range = plan
            .bounds
            .iter()
            .zip(index_cols)
            .all(|(b, &c)| b.admits(&row[c]));
        let passes = filters
            .iter()
            .copied()
            .flatten()
            .all(|&i| eval(&terms[i], row) == Some(true));
        prop_assert_eq!(
            eval(&whole, row) == Some(true),
            in_range && passes,
            "row {:?}",
            row
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn plans_are_sound(
        terms in prop::collection::vec(term(), 0..5),
        index_cols in Just(vec![0usize, 1, 2, 3, 4]).prop_shuffle(),
        index_len in 1usize..5,
        max_matching in prop::option::of(0usize..4),
        rows in prop::collection::vec(row(), 1..40),
    ) {
        check_plan(&terms, &index_cols[..index_len], max_matching, &rows)?;
    }
}

mod cost_formula;
