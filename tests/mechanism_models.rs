//! Property tests of four mechanisms against simple models, one per book
//! chapter that had none (the book, chapters 4, 5, 8 and 9):
//!
//! - consistent read: a flashback scan as of any SCN saved between random
//!   committed (and rolled-back) transactions returns exactly the model's
//!   state at that SCN — or, with a tiny undo ring, snapshot too old, never
//!   a wrong answer;
//! - READ COMMITTED: two sessions interleaved on one thread (never touching
//!   a row the other holds locked) each read the committed state overlaid
//!   with their own pending changes; a rollback leaves no trace;
//! - array insert: random batches inserted as arrays give the same rows, at
//!   the same rowids, and the same index lookups as row-by-row inserts, with
//!   never more redo entries;
//! - direct-path load: random loads, committed or rolled back, with clean
//!   reopens and power cuts in between, leave exactly the committed rows,
//!   and the HWM never moves back below a committed load.
//!
//! Each runs on an in-memory `SimBackend`, bounded to a few seconds in a
//! debug build; `PROPTEST_CASES` raises the number of cases.

use std::collections::BTreeMap;
use std::ops::Bound::Included;
use std::sync::Arc;
use std::time::Duration;

use blocklab::btree::key::Order;
use blocklab::storage::SimBackend;
use blocklab::{ColType, Column, Config, Database, Error, Row, RowId, Session, Stat, Value};
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per property: `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn config() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 64,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 256,
        background_writer: false,
        // A wait would be a bug here: fail fast rather than hang.
        lock_timeout: Duration::from_millis(200),
        ..Config::default()
    }
}

fn open(be: &SimBackend, cfg: Config) -> Database {
    Database::open_with(Arc::new(be.clone()), cfg).expect("open")
}

/// `t (k INTEGER, v INTEGER, pad TEXT)`: `k` names a row for the model,
/// `pad` varies the row length so that updates can move rows.
fn create_t(s: &mut Session, name: &str) {
    s.create_table(
        name,
        &[
            Column::new("k", ColType::Integer),
            Column::new("v", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
}

fn row(k: i64, v: i64, pad: usize) -> Row {
    vec![Value::Int(k), Value::Int(v), Value::Text("p".repeat(pad))]
}

/// What the model keeps of a row: its value and its pad length.
type Image = (i64, usize);

fn image(r: &Row) -> (i64, Image) {
    let int = |v: &Value| v.as_int().expect("integer column");
    let pad = match &r[2] {
        Value::Text(t) => t.len(),
        other => panic!("pad is {other:?}"),
    };
    (int(&r[0]), (int(&r[1]), pad))
}

/// Rows by `k`, as the engine returns them (a duplicate `k` is a failure).
fn by_key(rows: &[(RowId, Row)]) -> Result<BTreeMap<i64, Image>, TestCaseError> {
    let mut out = BTreeMap::new();
    for (_, r) in rows {
        let (k, im) = image(r);
        prop_assert!(out.insert(k, im).is_none(), "k = {k} appears twice");
    }
    Ok(out)
}

/// One change of a transaction: `Index` picks among the rows the
/// transaction sees when the change runs.
#[derive(Clone, Debug)]
enum Change {
    Insert { v: i64, pad: usize },
    Update { pick: Index, v: i64, pad: usize },
    Delete { pick: Index },
}

fn change() -> impl Strategy<Value = Change> {
    let v = -50i64..50;
    let pad = 0usize..400;
    prop_oneof![
        3 => (v.clone(), pad.clone()).prop_map(|(v, pad)| Change::Insert { v, pad }),
        3 => (any::<Index>(), v, pad).prop_map(|(pick, v, pad)| Change::Update { pick, v, pad }),
        2 => any::<Index>().prop_map(|pick| Change::Delete { pick }),
    ]
}

/// Applies `c` to the table and to `model` (rows by `k`, with their rowid);
/// `next_k` numbers inserted rows.
fn apply(
    s: &mut Session,
    model: &mut BTreeMap<i64, (RowId, Image)>,
    next_k: &mut i64,
    c: &Change,
) -> Result<(), Error> {
    match c {
        Change::Insert { v, pad } => {
            let k = *next_k;
            *next_k += 1;
            let rid = s.insert("t", row(k, *v, *pad))?;
            model.insert(k, (rid, (*v, *pad)));
        }
        Change::Update { pick, v, pad } if !model.is_empty() => {
            let (&k, &(rid, _)) = model.iter().nth(pick.index(model.len())).unwrap();
            let rid = s.update("t", rid, row(k, *v, *pad))?;
            model.insert(k, (rid, (*v, *pad)));
        }
        Change::Delete { pick } if !model.is_empty() => {
            let (&k, &(rid, _)) = model.iter().nth(pick.index(model.len())).unwrap();
            s.delete("t", rid)?;
            model.remove(&k);
        }
        _ => {}
    }
    Ok(())
}

fn images(model: &BTreeMap<i64, (RowId, Image)>) -> BTreeMap<i64, Image> {
    model.iter().map(|(&k, &(_, im))| (k, im)).collect()
}

// ANCHOR: cr_model
/// Chapter 4. Random transactions (each committed or rolled back), the SCN
/// and the model's committed state saved after each; then a flashback scan
/// as of every saved SCN must return exactly the state saved with it. With
/// a ring of 12 undo blocks, no autoextend and no retention, an old SCN may
/// need undo that was overwritten: then the scan must fail with snapshot
/// too old, never return other rows.
fn flashback_reads_the_model_as_of_each_scn(
    txns: &[(Vec<Change>, bool)],
    tiny_undo: bool,
) -> Result<(), TestCaseError> {
    let mut cfg = config();
    if tiny_undo {
        cfg.undo_blocks = 12;
        cfg.undo_segments = 1;
        cfg.undo_autoextend = false;
        cfg.undo_retention = Duration::ZERO;
    }
    let db = open(&SimBackend::new(), cfg);
    let mut s = db.session();
    create_t(&mut s, "t");
    let (mut committed, mut next_k) = (BTreeMap::new(), 0);
    let mut saved = vec![(db.current_scn(), BTreeMap::new())];
    for (changes, commit) in txns {
        let mut model = committed.clone();
        let mut ok = true;
        for c in changes {
            if let Err(e) = apply(&mut s, &mut model, &mut next_k, c) {
                // Only the tiny ring may run out of undo for a writer.
                prop_assert!(tiny_undo, "{c:?}: {e}");
                ok = false;
                break;
            }
        }
        if ok && *commit {
            s.commit().unwrap();
            committed = model;
        } else {
            s.rollback().unwrap();
        }
        saved.push((db.current_scn(), images(&committed)));
    }
    let mut reader = db.session();
    for (scn, want) in &saved {
        match reader.scan_as_of("t", *scn) {
            Ok(rows) => prop_assert_eq!(&by_key(&rows)?, want, "as of SCN {}", scn.0),
            Err(Error::SnapshotTooOld { .. }) if tiny_undo => {}
            Err(e) => prop_assert!(false, "as of SCN {}: {e}", scn.0),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn consistent_read_matches_the_model_at_every_saved_scn(
        txns in prop::collection::vec(
            (prop::collection::vec(change(), 1..5), prop::bool::weighted(0.8)),
            1..25,
        ),
        tiny_undo in any::<bool>(),
    ) {
        flashback_reads_the_model_as_of_each_scn(&txns, tiny_undo)?;
    }
}
// ANCHOR_END: cr_model

/// One step of the two-session test: `who` (0 or 1) acts.
#[derive(Clone, Debug)]
enum Step {
    Change(usize, Change),
    Commit(usize),
    Rollback(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0usize..2;
    prop_oneof![
        8 => (who.clone(), change()).prop_map(|(w, c)| Step::Change(w, c)),
        2 => who.clone().prop_map(Step::Commit),
        1 => who.prop_map(Step::Rollback),
    ]
}

/// A session's pending changes by `k`: the new row, or `None` if deleted.
type Pending = BTreeMap<i64, Option<(RowId, Image)>>;

/// What a session sees under READ COMMITTED: the committed rows with its
/// own pending changes laid over them.
fn view(committed: &BTreeMap<i64, (RowId, Image)>, own: &Pending) -> BTreeMap<i64, (RowId, Image)> {
    let mut v = committed.clone();
    for (&k, p) in own {
        match p {
            Some(r) => v.insert(k, *r),
            None => v.remove(&k),
        };
    }
    v
}

// ANCHOR: rc_model
/// Chapter 5. Two sessions under READ COMMITTED take turns on one thread.
/// The model is the committed rows plus each session's pending changes;
/// a change to a row the other session has changed (and so holds locked)
/// is skipped, so nobody waits. After every step each session's full scan
/// must equal its view: committed rows overlaid with its own pending
/// changes — never the other's. At the end both roll back, and a third
/// session sees exactly the committed model.
fn two_sessions_read_committed_state_and_their_own_changes(
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let db = open(&SimBackend::new(), config());
    let mut setup = db.session();
    create_t(&mut setup, "t");
    let mut committed = BTreeMap::new();
    for k in 0..8 {
        let rid = setup.insert("t", row(k, k, 40)).unwrap();
        committed.insert(k, (rid, (k, 40)));
    }
    setup.commit().unwrap();
    let mut next_k = 8;
    let mut sessions = [db.session(), db.session()];
    let mut pending: [Pending; 2] = [Pending::new(), Pending::new()];
    for st in steps {
        match st {
            Step::Change(w, c) => {
                let mut mine = view(&committed, &pending[*w]);
                let target = match c {
                    Change::Update { pick, .. } | Change::Delete { pick } if !mine.is_empty() => {
                        mine.keys().nth(pick.index(mine.len())).copied()
                    }
                    _ => None,
                };
                // The other session holds this row locked: skip.
                if target.is_some_and(|k| pending[1 - w].contains_key(&k)) {
                    continue;
                }
                let before = mine.clone();
                apply(&mut sessions[*w], &mut mine, &mut next_k, c)
                    .map_err(|e| TestCaseError::fail(format!("{st:?}: {e}")))?;
                // What changed is pending in `w`, and so is the row it
                // updated or deleted (locked even if the update changed
                // nothing).
                for k in before.keys().chain(mine.keys()).chain(target.iter()) {
                    if before.get(k) != mine.get(k) || Some(*k) == target {
                        pending[*w].insert(*k, mine.get(k).copied());
                    }
                }
            }
            Step::Commit(w) => {
                sessions[*w].commit().unwrap();
                committed = view(&committed, &pending[*w]);
                pending[*w].clear();
            }
            Step::Rollback(w) => {
                sessions[*w].rollback().unwrap();
                pending[*w].clear();
            }
        }
        for w in 0..2 {
            let seen = by_key(&sessions[w].scan("t").unwrap())?;
            let want = images(&view(&committed, &pending[w]));
            prop_assert_eq!(seen, want, "session {} after {:?}", w, st);
        }
    }
    for s in &mut sessions {
        s.rollback().unwrap();
    }
    let seen = by_key(&db.session().scan("t").unwrap())?;
    prop_assert_eq!(seen, images(&committed), "at the end");
    Ok(())
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn each_read_committed_session_sees_committed_rows_and_its_own_changes(
        steps in prop::collection::vec(step(), 1..40),
    ) {
        two_sessions_read_committed_state_and_their_own_changes(&steps)?;
    }
}
// ANCHOR_END: rc_model

/// One batch of the array-insert test: its rows as (`v`, pad length), then
/// the picks of rows to delete after it.
type Batch = (Vec<(i64, usize)>, Vec<Index>);

/// Rows of the array-insert test: `v` in a small range so that the index
/// on `v` has duplicates.
fn batch() -> impl Strategy<Value = Vec<(i64, usize)>> {
    prop::collection::vec((-5i64..5, 0usize..300), 1..60)
}

/// The array-insert test's table: `t` with an index on `v`.
fn indexed_t(db: &Database) -> Session {
    let mut s = db.session();
    create_t(&mut s, "t");
    s.create_index("t_v", "t", &[("v", Order::Asc)]).unwrap();
    s
}

// ANCHOR: array_model
/// Chapter 8. The same random batches go into one database as array
/// inserts (`insert_array`, one statement per batch) and into another row
/// by row; between batches the same random rows are deleted from both, so
/// that later rows can reuse freed space. The model is the row-by-row
/// database: each batch must get the same rowids with no more redo
/// entries, and at the end both tables hold the same rows at the same
/// rowids and an index lookup of every `v` returns the same rows.
fn array_insert_is_row_by_row_insert_in_fewer_redo_entries(
    batches: &[Batch],
) -> Result<(), TestCaseError> {
    let (da, db) = (
        open(&SimBackend::new(), config()),
        open(&SimBackend::new(), config()),
    );
    let (mut a, mut b) = (indexed_t(&da), indexed_t(&db));
    let mut live: Vec<(i64, RowId)> = Vec::new();
    let mut next_k = 0;
    for (rows, deletes) in batches {
        let rows: Vec<Row> = rows
            .iter()
            .map(|&(v, pad)| {
                next_k += 1;
                row(next_k, v, pad)
            })
            .collect();
        let (sa, sb) = (a.stats(), b.stats());
        let array = a.insert_array("t", rows.clone()).unwrap();
        let single: Vec<RowId> = rows
            .iter()
            .map(|r| b.insert("t", r.clone()).unwrap())
            .collect();
        a.commit().unwrap();
        b.commit().unwrap();
        prop_assert_eq!(&array, &single, "rowids of the batch");
        let redo = |s: &Session, before: &blocklab::StatsSnapshot| {
            s.stats().diff(before).get(Stat::RedoEntries)
        };
        let (ra, rb) = (redo(&a, &sa), redo(&b, &sb));
        prop_assert!(
            ra <= rb,
            "array insert: {} redo entries, row by row: {}",
            ra,
            rb
        );
        live.extend(rows.iter().map(|r| r[0].as_int().unwrap()).zip(array));
        for pick in deletes {
            if live.is_empty() {
                break;
            }
            let (_, rid) = live.swap_remove(pick.index(live.len()));
            a.delete("t", rid).unwrap();
            b.delete("t", rid).unwrap();
        }
        a.commit().unwrap();
        b.commit().unwrap();
    }
    let (ta, tb) = (a.scan("t").unwrap(), b.scan("t").unwrap());
    prop_assert_eq!(ta.len(), live.len());
    prop_assert_eq!(&ta, &tb, "table contents");
    for v in -5i64..5 {
        let key = [Value::Int(v)];
        let ia = a
            .index_scan("t_v", Included(&key[..]), Included(&key[..]))
            .unwrap();
        let ib = b
            .index_scan("t_v", Included(&key[..]), Included(&key[..]))
            .unwrap();
        prop_assert_eq!(&ia, &ib, "index lookup of v = {}", v);
        let want = ta.iter().filter(|(_, r)| r[1] == Value::Int(v)).count();
        prop_assert_eq!(
            ia.len(),
            want,
            "index lookup of v = {} against the table",
            v
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn array_insert_matches_row_by_row_insert(
        batches in prop::collection::vec(
            (batch(), prop::collection::vec(any::<Index>(), 0..20)),
            1..6,
        ),
    ) {
        array_insert_is_row_by_row_insert_in_fewer_redo_entries(&batches)?;
    }
}
// ANCHOR_END: array_model

/// How a direct-path load of the chapter 9 test ends.
#[derive(Clone, Copy, Debug)]
enum LoadEnd {
    Commit,
    Rollback,
    /// Power off before the commit.
    Crash,
}

#[derive(Clone, Debug)]
enum LoadStep {
    Load {
        rows: usize,
        pad: usize,
        end: LoadEnd,
    },
    /// A clean close and open.
    Reopen,
}

fn load_step() -> impl Strategy<Value = LoadStep> {
    let end = prop_oneof![
        3 => Just(LoadEnd::Commit),
        2 => Just(LoadEnd::Rollback),
        1 => Just(LoadEnd::Crash),
    ];
    prop_oneof![
        4 => (1usize..150, 0usize..120, end).prop_map(|(rows, pad, end)| LoadStep::Load { rows, pad, end }),
        1 => Just(LoadStep::Reopen),
    ]
}

// ANCHOR: direct_model
/// Chapter 9. Random direct-path loads (`insert_append`) into a LOGGING or
/// NOLOGGING table, each committed, rolled back or cut off by a power
/// failure, with clean reopens in between. The model is the list of
/// committed rows and the HWM of the last committed load. While a load is
/// pending, another session sees only the committed rows; after every step
/// a scan returns exactly the committed rows, a commit publishes the
/// load's HWM, a rollback leaves the HWM where it was, and the HWM never
/// falls below the last committed load's, across reopens and crashes too.
fn direct_path_loads_keep_exactly_the_committed_rows(
    logging: bool,
    steps: &[LoadStep],
) -> Result<(), TestCaseError> {
    let mut be = SimBackend::new();
    let mut db = open(&be, config());
    let mut s = db.session();
    create_t(&mut s, "t");
    s.set_table_logging("t", logging).unwrap();
    drop(s);
    let mut committed: BTreeMap<i64, Image> = BTreeMap::new();
    let (mut floor, mut next_k) = (db.segment_info("t").unwrap().1, 0);
    for st in steps {
        match *st {
            LoadStep::Load { rows, pad, end } => {
                let hwm0 = db.segment_info("t").unwrap().1;
                let batch: Vec<Row> = (0..rows)
                    .map(|i| row(next_k + i as i64, i as i64, pad))
                    .collect();
                let mut loader = db.session();
                let load = loader.insert_append("t", batch).unwrap();
                prop_assert_eq!((load.hwm_before, load.rows), (hwm0, rows as u64));
                let seen = by_key(&db.session().scan("t").unwrap())?;
                prop_assert_eq!(&seen, &committed, "another session during the load");
                match end {
                    LoadEnd::Commit => {
                        loader.commit().unwrap();
                        for i in 0..rows {
                            committed.insert(next_k + i as i64, (i as i64, pad));
                        }
                        next_k += rows as i64;
                        let hwm = db.segment_info("t").unwrap().1;
                        prop_assert_eq!(hwm, load.hwm_after, "a commit publishes the HWM");
                        floor = hwm;
                    }
                    LoadEnd::Rollback => {
                        loader.rollback().unwrap();
                        let hwm = db.segment_info("t").unwrap().1;
                        prop_assert_eq!(hwm, hwm0, "a rollback leaves the HWM");
                    }
                    LoadEnd::Crash => {
                        let crashed = be.crash();
                        // Shuts down on the old backend, which the crashed
                        // copy no longer shares.
                        drop(loader);
                        drop(db);
                        be = crashed;
                        db = open(&be, config());
                    }
                }
            }
            LoadStep::Reopen => {
                db.close().unwrap();
                db = open(&be, config());
            }
        }
        let seen = by_key(&db.session().scan("t").unwrap())?;
        prop_assert_eq!(&seen, &committed, "after {:?}", st);
        let hwm = db.segment_info("t").unwrap().1;
        prop_assert!(
            hwm >= floor,
            "after {:?}: HWM {} below the committed load's {}",
            st,
            hwm,
            floor
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn direct_path_loads_match_the_committed_model(
        logging in any::<bool>(),
        steps in prop::collection::vec(load_step(), 1..10),
    ) {
        direct_path_loads_keep_exactly_the_committed_rows(logging, &steps)?;
    }
}
// ANCHOR_END: direct_model

// ANCHOR: direct_shrunk
/// The first failure of the property above, as proptest shrank it: a
/// LOGGING load cut off by a power failure, then a committed load into the
/// same blocks above the HWM. Recovery rebuilt the first load's block in
/// the buffer cache from its logged image before rolling the HWM back; the
/// second load wrote its block straight to the file, so a scan read the
/// stale cached copy: the rolled-back row `(0, 0, "")` instead of the
/// committed `(0, 0, "p")`.
#[test]
fn a_load_over_a_crashed_load_reads_its_own_rows() {
    let steps = [
        LoadStep::Load {
            rows: 1,
            pad: 0,
            end: LoadEnd::Crash,
        },
        LoadStep::Load {
            rows: 1,
            pad: 1,
            end: LoadEnd::Commit,
        },
    ];
    if let Err(e) = direct_path_loads_keep_exactly_the_committed_rows(true, &steps) {
        panic!("{e}");
    }
}
// ANCHOR_END: direct_shrunk

// ANCHOR: rc_shrunk
/// A failure of the READ COMMITTED property, as proptest shrank it (four
/// steps): session 1 updates row 0, session 0 inserts a row into the same
/// block, session 1 rolls back and updates row 0 again — and waited for
/// session 0, which never touched row 0. Session 0 had taken over the ITL
/// entry of the committed transaction that loaded the rows; the rollback
/// restored row 0's before image with that transaction's lock byte, which
/// now named session 0's entry. A before image's lock byte is now restored
/// only when it names the rolling-back transaction's own entry.
#[test]
fn a_rolled_back_update_leaves_the_row_unlocked() {
    let db = open(&SimBackend::new(), config());
    let mut setup = db.session();
    create_t(&mut setup, "t");
    let rids: Vec<RowId> = (0..8)
        .map(|k| setup.insert("t", row(k, k, 40)).unwrap())
        .collect();
    setup.commit().unwrap();
    let (mut s0, mut s1) = (db.session(), db.session());
    s1.update("t", rids[0], row(0, 0, 0)).unwrap();
    s0.insert("t", row(8, 0, 0)).unwrap();
    s1.rollback().unwrap();
    // Before the fix: LockTimeout, holder session 0's transaction.
    s1.update("t", rids[0], row(0, 1, 0)).unwrap();
    s1.commit().unwrap();
    s0.commit().unwrap();
    let rows = db.session().scan("t").unwrap();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0].1, row(0, 1, 0));
}
// ANCHOR_END: rc_shrunk
