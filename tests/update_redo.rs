//! An UPDATE logs the columns it changes, not the row (Oracle's "update
//! row piece": the redo change vector carries the changed columns' new
//! values, the undo their old values).
//!
//! What must hold:
//! - the redo size and the undo change vector size of an UPDATE grow with
//!   the number and width of the changed columns, byte for byte, and not at
//!   all with the width of the columns it leaves alone;
//! - rollback, crash recovery and consistent reads put the changed columns
//!   back exactly: random update sequences (rows growing, shrinking and
//!   moving to other blocks) match a `BTreeMap` model after every commit,
//!   rollback and power cut, and a second session reading during the
//!   transaction sees the committed model.

use std::collections::BTreeMap;
use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{ColType, Column, Config, Database, Row, Session, Stat, Value};
use proptest::prelude::*;

fn config() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 16,
        log_file_size: 256 * 2048,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    }
}

fn create(s: &mut Session) {
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("a", ColType::Text),
            Column::new("b", ColType::Text),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
}

fn text(c: char, n: usize) -> Value {
    Value::Text(std::iter::repeat_n(c, n).collect())
}

/// Redo size and undo change vector size of one UPDATE by rowid of a row
/// whose `pad` is `pad` bytes wide, changing `a` from `a_old` to `a_new`
/// bytes and, if `b` is given, `b` from that many bytes to as many. A first
/// update in the same transaction takes the undo block and the
/// transaction-table slot, so the measured one pays only for itself.
fn cost(pad: usize, a_old: usize, a_new: usize, b: Option<usize>) -> (u64, u64) {
    let tmp = tempfile::TempDir::new().unwrap();
    let db = Database::open(tmp.path(), config()).unwrap();
    let mut s = db.session();
    create(&mut s);
    let bw = b.unwrap_or(4);
    let row = |id: i64, a: usize, b: char| -> Row {
        vec![Value::Int(id), text('x', a), text(b, bw), text('p', pad)]
    };
    let first = s.insert("t", row(1, a_old, 'y')).unwrap();
    let rowid = s.insert("t", row(2, a_old, 'y')).unwrap();
    s.commit().unwrap();
    s.update("t", first, row(1, a_old, 'z')).unwrap();
    let before = s.stats();
    let mut new = row(2, a_old, 'y');
    new[1] = text('n', a_new);
    if b.is_some() {
        new[2] = text('z', bw);
    }
    s.update("t", rowid, new).unwrap();
    let d = s.stats().diff(&before);
    s.commit().unwrap();
    (d.get(Stat::RedoSize), d.get(Stat::UndoChangeBytes))
}

#[test]
fn update_redo_and_undo_grow_with_the_changed_columns_not_the_row() {
    // One changed 8-byte TEXT column; the row's pad 10 or 1,000 bytes.
    let narrow = cost(10, 8, 8, None);
    let wide = cost(1000, 8, 8, None);
    assert_eq!(
        narrow, wide,
        "(redo, undo) of an UPDATE must not grow with an untouched column"
    );
    // The undo record: xid 8 + previous undo 8 + block 4 + ITL index 1 +
    // saved ITL entry 32 + SCN 8, then the op: kind 1 + slot 2 + lock 1 +
    // column count 2 + (column 2 + length 2 + tag 1 + text length 2 + 8).
    assert_eq!(narrow.1, 61 + 6 + 15);

    // The changed column 50 bytes wider, before and after: the redo vector
    // carries 50 more new bytes and the undo vector (logged in the same
    // redo record) 50 more old bytes.
    let wider = cost(10, 58, 58, None);
    assert_eq!(wider.0 - narrow.0, 50 + 50);
    assert_eq!(wider.1 - narrow.1, 50);
    // Only the new value wider: the redo grows by it, the undo not at all.
    let grows = cost(10, 8, 58, None);
    assert_eq!(grows.0 - narrow.0, 50);
    assert_eq!(grows.1, narrow.1);

    // A second changed column (b, 8 bytes): 15 more bytes in each vector.
    let two = cost(10, 8, 8, Some(8));
    let one = cost(10, 8, 8, None);
    // `one` has b 4 bytes wide, untouched: the same as `narrow`.
    assert_eq!(one, narrow);
    assert_eq!(two.0 - one.0, 15 + 15);
    assert_eq!(two.1 - one.1, 15);
}

/// One model row: (a, b as a number, pad width).
type Model = BTreeMap<i64, (usize, i64, usize)>;

const ROWS: i64 = 6;

fn model_row(id: i64, m: &(usize, i64, usize)) -> Row {
    vec![
        Value::Int(id),
        text('a', m.0),
        Value::Text(m.1.to_string()),
        text('p', m.2),
    ]
}

fn read(s: &mut Session) -> Result<Model, TestCaseError> {
    let mut out = Model::new();
    for (_, r) in s
        .scan("t")
        .map_err(|e| TestCaseError::fail(e.to_string()))?
    {
        let (Value::Int(id), Value::Text(a), Value::Text(b), Value::Text(p)) =
            (&r[0], &r[1], &r[2], &r[3])
        else {
            return Err(TestCaseError::fail(format!("bad row {r:?}")));
        };
        out.insert(id.to_owned(), (a.len(), b.parse().unwrap(), p.len()));
    }
    Ok(out)
}

#[derive(Clone, Debug)]
enum Step {
    /// Update row `id`: a to this width, b to this number, pad to this
    /// width (each `None` = unchanged).
    Update {
        id: i64,
        a: Option<usize>,
        b: Option<i64>,
        pad: Option<usize>,
    },
    Commit,
    Rollback,
    /// Write every dirty block (uncommitted changes reach the data file).
    Checkpoint,
    /// Power cut: unsynced writes are lost; reopen runs recovery.
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (
            0..ROWS,
            proptest::option::of(0usize..400),
            proptest::option::of(-1000i64..1000),
            proptest::option::of(0usize..400),
        )
            .prop_map(|(id, a, b, pad)| Step::Update { id, a, b, pad }),
        2 => Just(Step::Commit),
        1 => Just(Step::Rollback),
        1 => Just(Step::Checkpoint),
        1 => Just(Step::Crash),
    ]
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let be = SimBackend::new();
    let mut db = Database::open_with(Arc::new(be.clone()), config()).unwrap();
    let mut s = db.session();
    create(&mut s);
    let mut committed = Model::new();
    for id in 0..ROWS {
        committed.insert(id, (10, id, 50));
        s.insert("t", model_row(id, &committed[&id])).unwrap();
    }
    s.commit().unwrap();
    let mut pending = committed.clone();
    let mut be = be;
    for st in steps {
        match st {
            Step::Update { id, a, b, pad } => {
                let m = pending.get_mut(id).expect("every id has a row");
                if let Some(a) = a {
                    m.0 = *a;
                }
                if let Some(b) = b {
                    m.1 = *b;
                }
                if let Some(p) = pad {
                    m.2 = *p;
                }
                let new = model_row(*id, m);
                let id = *id;
                let n = s
                    .update_where("t", |r| r[0] == Value::Int(id), |_| new.clone())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(n, 1);
                // The writer sees its change, a reader the committed rows.
                prop_assert_eq!(&read(&mut s)?, &pending);
                let mut reader = db.session();
                prop_assert_eq!(&read(&mut reader)?, &committed);
            }
            Step::Commit => {
                s.commit().unwrap();
                committed = pending.clone();
            }
            Step::Rollback => {
                s.rollback().unwrap();
                pending = committed.clone();
                prop_assert_eq!(&read(&mut s)?, &committed);
            }
            Step::Checkpoint => db.checkpoint().unwrap(),
            Step::Crash => {
                let crashed = be.crash();
                // The old instance closes against the old backend: nothing
                // it writes now reaches `crashed`.
                drop(s);
                drop(db);
                be = crashed;
                db = Database::open_with(Arc::new(be.clone()), config()).unwrap();
                s = db.session();
                pending = committed.clone();
            }
        }
        if matches!(st, Step::Commit | Step::Crash) {
            prop_assert_eq!(&read(&mut s)?, &committed);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_updates_roll_back_recover_and_read_consistently(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        run(&steps)?;
    }
}
