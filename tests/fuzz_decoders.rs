//! Bounded fuzzing of everything that decodes bytes from disk: the block
//! decoder, the redo record decoder, the redo log reader, the control file
//! and the doublewrite area's repair step. Whatever the bytes, each must
//! return a value or an error — never panic, never loop.
//!
//! Inputs are arbitrary bytes and, more usefully, *mutations of valid
//! inputs* (bytes flipped, overwritten, cut short, spliced), taken from a
//! small workload's real files, so that the decoders get past their first
//! checks. The runs are bounded for CI (`PROPTEST_CASES` raises them);
//! coverage-guided targets for the same decoders are in `tests/fuzz`
//! (`cargo fuzz run --fuzz-dir tests/fuzz <target>`).

use std::sync::{Arc, OnceLock};

use blocklab::block::Block;
use blocklab::redo::record::decode_payload;
use blocklab::redo::{read_log, LogConfig};
use blocklab::storage::{ControlFile, DataFile, SimBackend};
use blocklab::{BlockNo, Config, Database, Lsn};
use proptest::prelude::*;

const BS: usize = 2048;
const DATA: &str = "data01.dbf";

fn config() -> Config {
    Config {
        block_size: BS,
        cache_frames: 32,
        log_file_size: 64 * BS as u64,
        log_files: 3,
        undo_blocks: 16,
        background_writer: false,
        ..Config::default()
    }
}

fn log_config() -> LogConfig {
    LogConfig {
        file_size: config().log_file_size,
        files: config().log_files,
    }
}

/// Real files to mutate: a database after a small workload (tables, an
/// index, updates, deletes, a direct-path load), killed without a
/// checkpoint so that its redo holds every kind of record.
struct Seeds {
    image: SimBackend,
    blocks: Vec<Vec<u8>>,
    payloads: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let sim = SimBackend::new();
        let db = Database::open_with(Arc::new(sim.clone()), config()).unwrap();
        let mut s = db.session();
        for sql in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)",
            "CREATE INDEX t_v ON t (v)",
            "INSERT INTO t SELECT value, value % 7, 'row ' || value FROM generate_series(1, 300)",
            "COMMIT",
            "UPDATE t SET pad = pad || '!' WHERE id % 5 = 0",
            "DELETE FROM t WHERE id % 11 = 0",
            "COMMIT",
            "INSERT /*+ APPEND */ INTO t SELECT value, 1, 'direct' FROM generate_series(400, 450)",
            "COMMIT",
            "UPDATE t SET v = 99 WHERE id < 10",
        ] {
            s.execute(sql).unwrap();
        }
        db.checkpoint().unwrap();
        s.execute("COMMIT").unwrap();
        let image = sim.crash_keeping(&mut |_, _| true);
        std::mem::forget(s);
        std::mem::forget(db); // killed: no shutdown
        let data = image.current_bytes(DATA).unwrap();
        let blocks = data.chunks(BS).map(<[u8]>::to_vec).collect();
        let scan = read_log(&image, &log_config(), Lsn(0)).unwrap();
        let payloads = scan.records.into_iter().map(|r| r.payload).collect();
        Seeds {
            image,
            blocks,
            payloads,
        }
    })
}

/// A mutation of a seed: what to do to which bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Set { at: usize, byte: u8 },
    Truncate { len: usize },
    Splice { at: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Splice { at, bytes }),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for m in mutations {
        let n = v.len().max(1);
        match m {
            Mutation::Flip { at, xor } => {
                if let Some(b) = v.get_mut(at % n) {
                    *b ^= xor;
                }
            }
            Mutation::Set { at, byte } => {
                if let Some(b) = v.get_mut(at % n) {
                    *b = *byte;
                }
            }
            Mutation::Truncate { len } => v.truncate(len % n),
            Mutation::Splice { at, bytes } => {
                let at = at % n;
                let end = (at + bytes.len()).min(v.len());
                v.splice(at..end, bytes.iter().copied());
            }
        }
    }
    v
}

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(n)
}

// ANCHOR: decoder_props
proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn the_block_decoder_never_panics(
        pick in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        raw in prop::collection::vec(any::<u8>(), 0..BS + 8),
    ) {
        let seeds = seeds();
        let seed = &seeds.blocks[pick % seeds.blocks.len()];
        let _ = Block::decode(BlockNo(pick as u32 % 64), &mutate(seed, &mutations));
        let _ = Block::decode(BlockNo(1), &raw);
    }

    #[test]
    fn the_redo_payload_decoder_never_panics(
        pick in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        raw in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let seeds = seeds();
        let seed = &seeds.payloads[pick % seeds.payloads.len()];
        let _ = decode_payload(&mutate(seed, &mutations));
        let _ = decode_payload(&raw);
    }
}
// ANCHOR_END: decoder_props

proptest! {
    // Each case recovers a whole database: fewer of them.
    #![proptest_config(cases(48))]

    #[test]
    fn opening_damaged_files_gives_an_error_or_a_database(
        file in prop::sample::select(vec!["control", "redo01.log", DATA, "doublewrite.dbf"]),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let image = seeds().image.crash();
        let bytes = image.current_bytes(file).unwrap();
        // Damage where it matters: within the first 16 KiB of the file.
        let head = bytes.len().min(16 << 10);
        let mut damaged = mutate(&bytes[..head], &mutations);
        damaged.extend_from_slice(&bytes[head..]);
        image.set_bytes(file, &damaged);
        let _ = ControlFile::open(&image);
        let _ = read_log(&image, &log_config(), Lsn(0));
        if let Ok(df) = DataFile::open(&image, DATA, BS) {
            let _ = df.repairable(&image, "doublewrite.dbf");
        }
        if let Ok(db) = Database::open_with(Arc::new(image.clone()), config()) {
            let _ = db.session().execute("SELECT COUNT(*) FROM t");
        }
    }
}
