//! Pinned counter evidence of the physical-mechanism labs: consistent read
//! and snapshot too old (C06, C07), locks (C08), clustering and batched
//! rowid access (C30, C32), undo growth behind an open transaction (C40).
//! C08's throughput is a timing and is not pinned; its verdict reads the
//! clock with a wide tolerance (see `c08_verdict`).

use super::Pin;
use blocklab::labs::Verdict;

pub fn pins() -> Vec<Pin> {
    vec![
        (
            "C06",
            Verdict::Holds,
            vec![
                ("rows", 500),
                ("table_blocks", 8),
                ("changes_0.cr_blocks_created", 0),
                ("changes_0.undo_records_applied", 0),
                ("changes_0.consistent_gets", 9),
                ("changes_0.answer_as_of_snapshot", 1),
                ("changes_10.cr_blocks_created", 7),
                ("changes_10.undo_records_applied", 10),
                ("changes_10.consistent_gets", 19),
                ("changes_10.answer_as_of_snapshot", 1),
                ("changes_100.cr_blocks_created", 8),
                ("changes_100.undo_records_applied", 100),
                ("changes_100.consistent_gets", 109),
                ("changes_100.answer_as_of_snapshot", 1),
                ("new_query.cr_blocks_created", 0),
                ("new_query.undo_records_applied", 0),
                ("update.db_block_gets", 1536),
                ("update.cr_blocks_created", 0),
                ("update.undo_records_applied", 0),
            ],
        ),
        (
            "C07",
            Verdict::Holds,
            vec![
                ("queries_per_configuration", 8),
                ("changes_between_queries", 4),
                ("undo_8.fixed.ret0.failed_queries", 6),
                ("undo_8.fixed.ret0.first_failure_after", 12),
                ("undo_8.fixed.ret0.unexpired_stolen", 0),
                ("undo_8.fixed.ret0.undo_extends", 0),
                ("undo_8.fixed.ret0.undo_blocks_end", 8),
                ("undo_8.fixed.ret3600s.failed_queries", 6),
                ("undo_8.fixed.ret3600s.first_failure_after", 12),
                ("undo_8.fixed.ret3600s.unexpired_stolen", 31),
                ("undo_8.fixed.ret3600s.undo_extends", 0),
                ("undo_8.fixed.ret3600s.undo_blocks_end", 8),
                ("undo_8.auto.ret0.failed_queries", 6),
                ("undo_8.auto.ret0.first_failure_after", 12),
                ("undo_8.auto.ret0.unexpired_stolen", 0),
                ("undo_8.auto.ret0.undo_extends", 0),
                ("undo_8.auto.ret0.undo_blocks_end", 8),
                ("undo_8.auto.ret3600s.failed_queries", 0),
                ("undo_8.auto.ret3600s.first_failure_after", 0),
                ("undo_8.auto.ret3600s.unexpired_stolen", 0),
                ("undo_8.auto.ret3600s.undo_extends", 2),
                ("undo_8.auto.ret3600s.undo_blocks_end", 40),
                ("undo_16.fixed.ret0.failed_queries", 4),
                ("undo_16.fixed.ret0.first_failure_after", 20),
                ("undo_16.fixed.ret0.unexpired_stolen", 0),
                ("undo_16.fixed.ret0.undo_extends", 0),
                ("undo_16.fixed.ret0.undo_blocks_end", 16),
                ("undo_16.fixed.ret3600s.failed_queries", 4),
                ("undo_16.fixed.ret3600s.first_failure_after", 20),
                ("undo_16.fixed.ret3600s.unexpired_stolen", 23),
                ("undo_16.fixed.ret3600s.undo_extends", 0),
                ("undo_16.fixed.ret3600s.undo_blocks_end", 16),
                ("undo_16.auto.ret0.failed_queries", 4),
                ("undo_16.auto.ret0.first_failure_after", 20),
                ("undo_16.auto.ret0.unexpired_stolen", 0),
                ("undo_16.auto.ret0.undo_extends", 0),
                ("undo_16.auto.ret0.undo_blocks_end", 16),
                ("undo_16.auto.ret3600s.failed_queries", 0),
                ("undo_16.auto.ret3600s.first_failure_after", 0),
                ("undo_16.auto.ret3600s.unexpired_stolen", 0),
                ("undo_16.auto.ret3600s.undo_extends", 2),
                ("undo_16.auto.ret3600s.undo_blocks_end", 48),
            ],
        ),
    ]
}
