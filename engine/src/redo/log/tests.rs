//! Specification tests for the redo log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::storage::{OsBackend, SimBackend};

/// 3 files of 4 KiB: cap = 3584 stream bytes per segment, records of at most
/// 896 bytes (864 of payload), so a few dozen records wrap the ring.
const SMALL: LogConfig = LogConfig {
    file_size: 4096,
    files: 3,
};

fn fresh(cfg: LogConfig) -> (SimBackend, Arc<RedoLog>) {
    let sim = SimBackend::new();
    create_log_files(&sim, &cfg).unwrap();
    let log = RedoLog::start(Arc::new(sim.clone()), cfg, Lsn(0), Lsn(0), Scn(0)).unwrap();
    (sim, log)
}

/// Varied sizes, from one byte to the maximum, with recognisable contents
/// (no record is empty: an empty one is a sync mark).
fn payload(i: usize, max: usize) -> Vec<u8> {
    let len = match i % 7 {
        0 => 1,
        3 => max,
        _ => ((i * 131) % max).max(1),
    };
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

fn append(log: &RedoLog, bytes: &[u8]) -> (Scn, Lsn) {
    log.append(|_, out| out.extend_from_slice(bytes)).unwrap()
}

/// Rebuilds a backend from `sim`'s durable files with stream bytes
/// `[from, to)` zeroed, as if they had never reached the disk.
fn with_stream_zeroed(sim: &SimBackend, cfg: &LogConfig, from: u64, to: u64) -> SimBackend {
    let cap = cfg.segment_capacity();
    let mut images: Vec<Vec<u8>> = (0..cfg.files)
        .map(|i| sim.durable_bytes(&LogConfig::file_name(i)).unwrap())
        .collect();
    for q in from..to {
        let k = q / cap;
        images[cfg.file_of_segment(k)][(FILE_HEADER_SIZE + q - k * cap) as usize] = 0;
    }
    let out = SimBackend::new();
    for (i, image) in images.iter().enumerate() {
        out.set_bytes(&LogConfig::file_name(i as u32), image);
    }
    out
}

/// File name and offset of stream byte `q`.
fn locate(cfg: &LogConfig, q: u64) -> (String, u64) {
    let k = q / cfg.segment_capacity();
    let name = LogConfig::file_name(cfg.file_of_segment(k) as u32);
    (name, FILE_HEADER_SIZE + q - k * cfg.segment_capacity())
}

#[test]
fn round_trip_across_segments_and_ring_wraps() {
    let (sim, log) = fresh(SMALL);
    let max = SMALL.max_payload();
    let mut appended = Vec::new(); // (start lsn, payload)
    for i in 0..300 {
        log.wait_for_space(Duration::from_secs(1)).unwrap();
        let start = log.end_lsn();
        let bytes = payload(i, max);
        append(&log, &bytes);
        appended.push((start, bytes));
        if i % 5 == 4 {
            log.flush(log.end_lsn()).unwrap();
            // Pretend the data files caught up with all redo before record i.
            log.set_checkpoint(start);
        }
    }
    log.flush(log.end_lsn()).unwrap();
    let end = log.end_lsn();
    // 300 records averaging ~400 bytes: many laps around the 3 x 3584-byte ring.
    assert!(end.0 > 5 * 3 * SMALL.segment_capacity(), "end {end:?}");

    // The oldest redo still in the ring: the segment two before the last.
    let oldest_seg = (end.0 / SMALL.segment_capacity()).saturating_sub(2);
    let from = appended
        .iter()
        .map(|(l, _)| *l)
        .find(|l| l.0 >= oldest_seg * SMALL.segment_capacity())
        .unwrap();
    let scan = read_log(&sim, &SMALL, from).unwrap();
    let expected: Vec<_> = appended.iter().filter(|(l, _)| *l >= from).collect();
    assert_eq!(scan.records.len(), expected.len());
    for (rec, (lsn, bytes)) in scan.records.iter().zip(&expected) {
        assert_eq!((rec.lsn, &rec.payload), (*lsn, bytes));
    }
    assert!(scan
        .records
        .windows(2)
        .all(|w| w[0].scn < w[1].scn && w[0].end == w[1].lsn));
    assert_eq!(scan.end, end);
    assert_eq!(scan.max_scn, Scn(300)); // one SCN per record, starting after 0
    assert_eq!(log.current_scn(), Scn(300));
    assert_eq!(log.stats().records, 300);
    // The streaming form yields the same records.
    let iterated: Result<Vec<LogRecord>> = LogReader::open(&sim, &SMALL, from).unwrap().collect();
    assert_eq!(iterated.unwrap(), scan.records);
}

#[test]
fn restart_continues_the_stream_and_the_scns() {
    let (sim, log) = fresh(SMALL);
    for i in 0..5 {
        append(&log, &payload(i, 100));
    }
    log.shutdown().unwrap();
    assert!(
        log.append(|_, _| {}).is_err(),
        "appends after shutdown are refused"
    );

    let scan = read_log(&sim, &SMALL, Lsn(0)).unwrap();
    assert_eq!((scan.records.len(), scan.max_scn), (5, Scn(5)));
    let log = RedoLog::start(Arc::new(sim.clone()), SMALL, scan.end, Lsn(0), scan.max_scn).unwrap();
    let (scn, end) = log
        .append(|scn, out| out.extend_from_slice(&scn.0.to_le_bytes()))
        .unwrap();
    assert_eq!(scn, Scn(6));
    log.flush(end).unwrap();
    let scan = read_log(&sim, &SMALL, Lsn(0)).unwrap();
    assert_eq!(scan.records.len(), 6);
    assert_eq!(scan.records[5].payload, 6u64.to_le_bytes());
}

#[test]
fn a_log_cut_at_any_byte_of_the_tail_ends_there() {
    let (sim, log) = fresh(SMALL);
    let mut ends = Vec::new();
    // 14 records of ~400 bytes, one batch each: the tail crosses the boundary
    // between segment 0 (redo01) and segment 1 (redo02).
    for i in 0..14 {
        let (_, end) = append(&log, &vec![i as u8; 250 + i * 7]);
        log.flush(end).unwrap();
        ends.push(end.0);
    }
    let end = *ends.last().unwrap();
    assert!(ends[9] < SMALL.segment_capacity() && end > SMALL.segment_capacity());
    for cut in ends[9]..=end {
        let cut_sim = with_stream_zeroed(&sim, &SMALL, cut, end);
        let scan = read_log(&cut_sim, &SMALL, Lsn(0)).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        let survivors = ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(scan.records.len(), survivors, "cut at {cut}");
        assert_eq!(scan.end.0, ends[survivors - 1], "cut at {cut}");
    }
}

#[test]
fn damage_before_a_later_batch_is_corruption_naming_the_lsn() {
    let (sim, log) = fresh(SMALL);
    let mut starts = Vec::new();
    for i in 0..6 {
        starts.push(log.end_lsn());
        let (_, end) = append(&log, &payload(i + 1, 200));
        log.flush(end).unwrap(); // one batch per record
    }
    let (name, offset) = locate(&SMALL, starts[2].0 + 40); // a payload byte of record 2
    sim.corrupt(&name, offset, 0x01).unwrap();
    match read_log(&sim, &SMALL, Lsn(0)) {
        Err(Error::CorruptLog { lsn, reason }) => {
            assert_eq!(lsn, starts[2].0);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected CorruptLog, got {other:?}"),
    }
}

#[test]
fn damage_in_the_last_batch_is_a_torn_tail() {
    let (sim, log) = fresh(SMALL);
    for i in 0..3 {
        let (_, end) = append(&log, &payload(i + 1, 200));
        log.flush(end).unwrap();
    }
    // The last batch holds three records; damage its second one.
    let mut starts = Vec::new();
    for i in 0..3 {
        starts.push(log.end_lsn());
        append(&log, &payload(i + 10, 200));
    }
    log.flush(log.end_lsn()).unwrap();
    // A power cut loses the sync mark written after the batch (it is not
    // synced): damage in the batch then looks like a torn write of it.
    let cut = sim.crash();
    let (name, offset) = locate(&SMALL, starts[1].0 + 33);
    cut.corrupt(&name, offset, 0x80).unwrap();
    let scan = read_log(&cut, &SMALL, Lsn(0)).unwrap();
    // 3 earlier batches + the first record of the last batch; the intact third
    // record shares the damaged batch, so it is discarded with it.
    assert_eq!(scan.records.len(), 4);
    assert_eq!(scan.end, starts[1]);
    // With the mark on disk (the process died, the machine did not) the
    // same damage is corruption: the mark proves the batch was synced.
    sim.corrupt(&name, offset, 0x80).unwrap();
    let err = read_log(&sim, &SMALL, Lsn(0)).unwrap_err();
    assert!(
        matches!(err, Error::CorruptLog { lsn, .. } if lsn == starts[1].0),
        "{err}"
    );
}

#[test]
fn a_sync_mark_ends_the_log_and_the_next_batch_overwrites_it() {
    let (sim, log) = fresh(SMALL);
    let (_, end) = append(&log, &payload(1, 100));
    log.flush(end).unwrap();
    let (name, offset) = locate(&SMALL, end.0);
    let mut mark = [0u8; RECORD_HEADER_SIZE];
    sim.open(&name, false)
        .unwrap()
        .read_at(&mut mark, offset)
        .unwrap();
    assert_eq!(
        &mark[REC_LSN..REC_BATCH],
        &end.0.to_le_bytes(),
        "a mark at the end"
    );
    assert_eq!(&mark[REC_LEN..REC_LSN], &[0u8; 4], "with no payload");
    let scan = read_log(&sim, &SMALL, Lsn(0)).unwrap();
    assert_eq!((scan.records.len(), scan.end), (1, end));
    let (_, end2) = append(&log, &payload(2, 100));
    log.flush(end2).unwrap();
    let scan = read_log(&sim, &SMALL, Lsn(0)).unwrap();
    assert_eq!((scan.records.len(), scan.end), (2, end2));
    assert!(log.append(|_, _| {}).is_err(), "an empty record is refused");
}

#[test]
fn a_damaged_file_header_before_later_segments_is_corruption() {
    let (sim, log) = fresh(SMALL);
    let mut n = 0;
    while log.end_lsn().0 < SMALL.segment_capacity() + 1000 {
        let (_, end) = append(&log, &payload(n + 1, 300));
        log.flush(end).unwrap();
        n += 1;
    }
    sim.corrupt("redo01.log", 9, 0xff).unwrap(); // segment number of segment 0
    let err = read_log(&sim, &SMALL, Lsn(0)).unwrap_err();
    assert!(matches!(err, Error::CorruptLog { lsn: 0, .. }), "{err}");
}

#[test]
fn stale_bytes_from_an_earlier_lap_are_not_records() {
    let (sim, log) = fresh(SMALL);
    let cap = SMALL.segment_capacity();
    let (mut i, mut starts) = (0, Vec::new());
    // Fill segments 0..=3 and stop inside segment 3, which reuses redo01: the
    // rest of redo01 still holds segment 0's records.
    while log.end_lsn().0 < 3 * cap + 500 {
        let start = log.end_lsn();
        starts.push(start);
        let (_, end) = append(&log, &payload(i + 1, 400));
        log.flush(end).unwrap();
        log.set_checkpoint(start);
        i += 1;
    }
    let end = log.end_lsn();
    let from = *starts.iter().find(|s| s.0 >= 2 * cap).unwrap(); // segment 2 onwards
    let scan = read_log(&sim, &SMALL, from).unwrap();
    assert_eq!(scan.end, end);

    // Worse: the header of segment 4 reached redo02 but its data did not, so
    // redo02 claims segment 4 while holding segment 1's bytes.
    let mut image = sim.durable_bytes("redo02.log").unwrap();
    image[..FILE_HEADER_SIZE as usize].copy_from_slice(&file_header(4));
    sim.set_bytes("redo02.log", &image);
    let scan = read_log(&sim, &SMALL, from).unwrap();
    assert_eq!(scan.end, end);
}

#[test]
fn a_batch_torn_across_two_files_is_a_torn_tail() {
    let (sim, log) = fresh(SMALL);
    while log.end_lsn().0 < SMALL.segment_capacity() - 600 {
        let (_, end) = append(&log, &payload(3, 400));
        log.flush(end).unwrap();
    }
    let batch_start = log.end_lsn();
    // The batch: data write to redo01 (op 1), header + data to redo02 (ops 2,
    // 3), sync redo01 (op 4) fails. Power then fails with only redo02's
    // writes on disk: later records survive, the batch's start does not.
    // The fault is armed before the appends: the fourth one fills the buffer
    // past the write trigger, so the writer may start the batch at once.
    sim.fail_op(4, true);
    for i in 0..4 {
        append(&log, &[i; 300]); // 4 x 332 bytes: the batch crosses into segment 1
    }
    assert!(matches!(log.flush(log.end_lsn()), Err(Error::Poisoned(_))));
    // Control: had every pending write survived, the whole batch would read.
    let everything = sim.crash_keeping(&mut |_, _| true);
    assert_eq!(
        read_log(&everything, &SMALL, Lsn(0)).unwrap().end,
        log.end_lsn()
    );
    let crashed = sim.crash_keeping(&mut |name, _| name == "redo02.log");
    let scan = read_log(&crashed, &SMALL, Lsn(0)).unwrap();
    assert_eq!(scan.end, batch_start);
}

#[test]
fn crash_loses_exactly_the_unflushed_records() {
    let (sim, log) = fresh(SMALL);
    let (_, first) = append(&log, b"committed");
    log.flush(first).unwrap();
    append(&log, b"not flushed");
    let scan = read_log(&sim.crash(), &SMALL, Lsn(0)).unwrap();
    assert_eq!(scan.records.len(), 1);
    assert_eq!(
        (scan.records[0].payload.as_slice(), scan.end),
        (&b"committed"[..], first)
    );

    let (_, second) = append(&log, b"flushed later");
    assert!(
        log.flush(second).unwrap(),
        "this flush had to wait for a sync"
    );
    assert!(!log.flush(second).unwrap(), "already durable: no wait");
    let scan = read_log(&sim.crash(), &SMALL, Lsn(0)).unwrap();
    assert_eq!(scan.records.len(), 3); // the unflushed record rode along in the batch
    assert_eq!(scan.end, second);
}

#[test]
fn a_failed_sync_poisons_the_log() {
    let (sim, log) = fresh(SMALL);
    let (_, end) = append(&log, b"doomed");
    sim.fail_op(3, false); // header write, data write, then the sync fails
    assert!(matches!(log.flush(end), Err(Error::Poisoned(m)) if m.contains("redo write failed")));
    assert_eq!(
        sim.syncs(),
        3,
        "only the syncs of create_log_files succeeded"
    );
    // The fault was one-shot, but a failed fsync is never retried.
    assert!(matches!(log.append(|_, _| {}), Err(Error::Poisoned(_))));
    assert!(matches!(log.flush(end), Err(Error::Poisoned(_))));
    assert!(log.durable_lsn() < end);
    assert!(log.shutdown().is_err());
}

#[test]
fn wait_for_space_blocks_until_a_checkpoint_frees_the_ring() {
    let (_sim, log) = fresh(SMALL);
    let big = vec![7u8; SMALL.max_payload()]; // 896-byte records
                                              // Soft limit: 2 * 3584 - 896 = 6272 bytes newer than the checkpoint.
    let mut ends = Vec::new();
    while log.end_lsn().0 <= 6272 {
        log.wait_for_space(Duration::ZERO).unwrap();
        ends.push(append(&log, &big).1);
    }
    assert_eq!(ends.len(), 8); // 8 * 896 = 7168 > 6272
    assert!(
        log.wants_checkpoint(),
        "more than half of 3 * 3584 is in use"
    );
    let t = Instant::now();
    let err = log.wait_for_space(Duration::from_millis(50)).unwrap_err();
    assert!(matches!(err, Error::SpaceExhausted(ref m) if m.contains("checkpoint not complete")));
    assert!(t.elapsed() >= Duration::from_millis(50));

    // Hard limit: 3 * 3584 = 10752; a session that skipped the wait is
    // refused rather than allowed to overwrite redo the checkpoint needs.
    for _ in 0..4 {
        ends.push(append(&log, &big).1);
    }
    assert_eq!(log.end_lsn(), Lsn(10752)); // 12 x 896
    assert!(matches!(
        log.append(|_, out| out.push(1)),
        Err(Error::SpaceExhausted(_))
    ));
    assert_eq!(
        log.current_scn(),
        Scn(12),
        "a refused record consumes no SCN"
    );

    let checkpointer = {
        let log = Arc::clone(&log);
        let to = ends[6]; // leaves 10752 - 6272 = 4480 bytes in use
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            log.flush(to).unwrap();
            log.set_checkpoint(to);
        })
    };
    let t = Instant::now();
    log.wait_for_space(Duration::from_secs(10)).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(40), "it did block");
    checkpointer.join().unwrap();
    assert!(!log.wants_checkpoint());
}

#[test]
fn oversized_records_are_refused() {
    let (_sim, log) = fresh(SMALL);
    let err = log
        .append(|_, out| out.resize(SMALL.max_payload() + 1, 0))
        .unwrap_err();
    assert!(matches!(err, Error::SpaceExhausted(_)), "{err}");
    assert_eq!(log.current_scn(), Scn(0));
}

#[test]
fn create_refuses_existing_files_and_read_checks_sizes() {
    let sim = SimBackend::new();
    create_log_files(&sim, &SMALL).unwrap();
    assert_eq!(sim.durable_bytes("redo03.log").unwrap().len(), 4096);
    assert!(matches!(
        create_log_files(&sim, &SMALL),
        Err(Error::AlreadyExists { .. })
    ));
    let wrong = LogConfig {
        file_size: 8192,
        files: 3,
    };
    assert!(matches!(
        read_log(&sim, &wrong, Lsn(0)),
        Err(Error::Config(_))
    ));
    let scan = read_log(&sim, &SMALL, Lsn(0)).unwrap();
    assert_eq!(
        (scan.records.len(), scan.end, scan.max_scn),
        (0, Lsn(0), Scn(0))
    );
}

/// 8 threads x 50 commits; returns (flushes that waited, log syncs).
fn group_commit(backend: Arc<dyn Backend>, cfg: LogConfig) -> (u64, LogStats) {
    create_log_files(backend.as_ref(), &cfg).unwrap();
    let t = Instant::now();
    let log = RedoLog::start(Arc::clone(&backend), cfg, Lsn(0), Lsn(0), Scn(0)).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut waited = 0;
                for i in 0..50 {
                    let (_, end) = log
                        .append(|_, out| out.extend_from_slice(&[t as u8; 100]))
                        .unwrap();
                    waited += log.flush(end).unwrap() as u64;
                    assert!(
                        log.durable_lsn() >= end,
                        "commit {t}/{i} returned before its sync"
                    );
                }
                waited
            })
        })
        .collect();
    let waited = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let stats = log.stats();
    eprintln!("400 commits by 8 threads in {:?}", t.elapsed());
    log.shutdown().unwrap();
    let scan = read_log(backend.as_ref(), &cfg, Lsn(0)).unwrap();
    assert_eq!(scan.records.len(), 400);
    (waited, stats)
}

#[test]
fn group_commit_shares_syncs_between_committers() {
    let cfg = LogConfig {
        file_size: 64 << 10,
        files: 3,
    };
    let (waited, stats) = group_commit(Arc::new(SimBackend::new()), cfg);
    eprintln!("sim: 400 flushes, {waited} waited, {stats:?}");
    assert_eq!(stats.records, 400);
    assert!(
        stats.log_syncs < 400,
        "400 flushes, {} syncs",
        stats.log_syncs
    );
    assert!(stats.redo_writes <= stats.log_syncs);
}

#[test]
fn group_commit_on_the_real_file_system() {
    let dir = tempfile::TempDir::new().unwrap();
    let cfg = LogConfig {
        file_size: 256 << 10,
        files: 3,
    };
    let os: Arc<dyn Backend> = Arc::new(OsBackend::new(dir.path()).unwrap());
    let (waited, stats) = group_commit(os, cfg);
    eprintln!("os: 400 flushes, {waited} waited, {stats:?}");
    assert!(
        stats.log_syncs < 400,
        "400 flushes, {} syncs",
        stats.log_syncs
    );
}
