//! Specification tests for archive mode and for reading the whole history
//! (rings plus archives) back with its gaps.

use std::sync::Arc;
use std::time::Duration;

use super::archiver::archive_file_name;
use super::*;
use crate::redo::logset::LogSet;
use crate::storage::SimBackend;

/// The ring of `tests.rs`: 3 files of 4 KiB, cap = 3584 stream bytes.
const SMALL: LogConfig = LogConfig {
    file_size: 4096,
    files: 3,
};
const DB: u64 = 0xdb;

fn fresh() -> (SimBackend, Arc<RedoLog>) {
    let sim = SimBackend::new();
    create_log_files(&sim, &SMALL).unwrap();
    let log = RedoLog::start(Arc::new(sim.clone()), SMALL, Lsn(0), Lsn(0), Scn(0)).unwrap();
    (sim, log)
}

/// Appends `n` 500-byte records, checkpointing after each (so only the
/// archiver can hold the ring back). Returns each record's start LSN.
fn run(log: &RedoLog, n: usize) -> Vec<Lsn> {
    let mut starts = Vec::new();
    for i in 0..n {
        log.wait_for_space(Duration::from_secs(10)).unwrap();
        starts.push(log.end_lsn());
        let (_, end) = log.append(|_, out| out.resize(500, i as u8)).unwrap();
        log.flush(end).unwrap();
        log.set_checkpoint(end);
    }
    starts
}

#[test]
fn archive_mode_keeps_every_filled_segment() {
    let (sim, log) = fresh();
    let dest = SimBackend::new();
    log.start_archiving(Arc::new(dest.clone()), DB).unwrap();
    let starts = run(&log, 100); // 100 x 532 bytes: 14 full segments and a part
    log.shutdown().unwrap();
    let filled = log.end_lsn().0 / SMALL.segment_capacity();
    assert_eq!(filled, 14);
    let names: Vec<String> = (0..filled).map(|k| archive_file_name(DB, k)).collect();
    assert_eq!(
        dest.file_names(),
        names,
        "one copy per filled segment, no .part left"
    );
    assert_eq!(log.stats().archived, filled);

    let mut set = LogSet::new(SMALL, DB);
    set.add_ring(&sim).unwrap();
    assert_eq!(set.add_archive(Arc::new(dest)).unwrap(), 14);
    let h = set.read(Lsn(0), None).unwrap();
    assert!(h.gaps.is_empty(), "{:?}", h.gaps);
    let lsns: Vec<Lsn> = h.records.iter().map(|r| r.lsn).collect();
    assert_eq!(lsns, starts);
    assert_eq!(h.end, log.end_lsn());
    // An SCN limit stops before the first record above it.
    let h = set.read(Lsn(0), Some(Scn(40))).unwrap();
    assert_eq!(h.records.len(), 40);
    assert_eq!(h.end, starts[40]);
}

#[test]
fn without_archive_mode_the_history_starts_with_a_gap() {
    let (sim, log) = fresh();
    let starts = run(&log, 100);
    log.shutdown().unwrap();
    let mut set = LogSet::new(SMALL, DB);
    set.add_ring(&sim).unwrap();
    // The ring holds segments 12, 13 and the current 14.
    assert_eq!(set.segments(), vec![12, 13, 14]);
    let h = set.read(Lsn(0), None).unwrap();
    assert_eq!(h.gaps.len(), 1);
    let gap = &h.gaps[0];
    // The first record that starts in segment 12 is where reading resumes.
    let first = starts
        .iter()
        .position(|l| l.0 >= 12 * SMALL.segment_capacity())
        .unwrap();
    assert_eq!((gap.from, gap.to), (Lsn(0), starts[first]));
    assert_eq!(gap.scn_before, None);
    assert_eq!(gap.scn_after, Some(Scn(first as u64 + 1)));
    assert!(gap
        .describe()
        .contains("is no longer available: log recycled, not archived"));
    assert_eq!(h.records.len(), 100 - first);
}

#[test]
fn a_hole_in_the_archive_is_a_gap_between_two_scns() {
    let (sim, log) = fresh();
    let dest = SimBackend::new();
    log.start_archiving(Arc::new(dest.clone()), DB).unwrap();
    let starts = run(&log, 100);
    log.shutdown().unwrap();
    dest.remove(&archive_file_name(DB, 5)).unwrap();
    let mut set = LogSet::new(SMALL, DB);
    set.add_ring(&sim).unwrap();
    set.add_archive(Arc::new(dest)).unwrap();
    let h = set.read(Lsn(0), None).unwrap();
    assert_eq!(h.gaps.len(), 1);
    let cap = SMALL.segment_capacity();
    // The hole runs from the record cut by the start of segment 5 to the
    // first record that starts in segment 6.
    let cut = starts.iter().rposition(|l| l.0 < 5 * cap).unwrap();
    let resume = starts.iter().position(|l| l.0 >= 6 * cap).unwrap();
    let gap = &h.gaps[0];
    assert_eq!((gap.from, gap.to), (starts[cut], starts[resume]));
    assert_eq!(
        (gap.scn_before, gap.scn_after),
        (Some(Scn(cut as u64)), Some(Scn(resume as u64 + 1)))
    );
    assert_eq!(h.records.len(), 100 - (resume - cut));
}

#[test]
fn a_failing_archiver_stalls_the_log_and_loses_nothing() {
    let (sim, log) = fresh();
    let dest = SimBackend::new();
    log.start_archiving(Arc::new(dest.clone()), DB).unwrap();
    dest.fail_op(1, true);
    let mut n = 0;
    let err = loop {
        match log.wait_for_space(Duration::from_millis(700)) {
            Ok(()) => {
                let (_, end) = log.append(|_, out| out.resize(500, 1)).unwrap();
                log.flush(end).unwrap();
                log.set_checkpoint(end);
                n += 1;
            }
            Err(e) => break e,
        }
    };
    // The ring filled up to its soft limit with nothing archived: 2 x 3584 -
    // 896 bytes of headroom = 6272 bytes, 12 records of 532 bytes.
    assert_eq!(n, 12);
    assert!(
        matches!(&err, Error::SpaceExhausted(m) if m.contains("archiver stuck") && m.contains("injected fault")),
        "{err}"
    );
    assert_eq!(log.archived_segments(), Some(0));
    dest.clear_faults();
    log.wait_for_space(Duration::from_secs(10)).unwrap();
    assert!(log.archived_segments() >= Some(1));
    log.shutdown().unwrap();
    let mut set = LogSet::new(SMALL, DB);
    set.add_ring(&sim).unwrap();
    set.add_archive(Arc::new(dest)).unwrap();
    let h = set.read(Lsn(0), None).unwrap();
    assert!(h.gaps.is_empty());
    assert_eq!(h.records.len(), 12);
}

#[test]
fn archiving_starts_with_the_filled_segments_still_in_the_ring() {
    let (sim, log) = fresh();
    run(&log, 30); // 30 x 532 = 15960 bytes: segments 0..=3 filled, 0 reused
    log.shutdown().unwrap();
    let log = RedoLog::start(
        Arc::new(sim.clone()),
        SMALL,
        log.end_lsn(),
        log.end_lsn(),
        Scn(30),
    )
    .unwrap();
    let dest = SimBackend::new();
    log.start_archiving(Arc::new(dest.clone()), DB).unwrap();
    log.shutdown().unwrap();
    // Segments 2 and 3 were still in the ring (the current one is 4).
    assert_eq!(
        dest.file_names(),
        vec![archive_file_name(DB, 2), archive_file_name(DB, 3)]
    );
}
