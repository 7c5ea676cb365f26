//! How cost grows with size: four operations on one table of 10^4, 10^5,
//! 10^6 and 10^7 rows, each with the buffer cache larger than the data and
//! with a cache of an eighth of it.
//!
//! | id | operation |
//! |---|---|
//! | `point` | prepared `SELECT v FROM t WHERE id = ?` through the primary key's index, a random key |
//! | `range` | prepared `SELECT id, v FROM t WHERE b = ? AND a BETWEEN ? AND ?` through the composite index (b, a): 1,000 rows |
//! | `scan` | `SELECT COUNT(*) FROM t`: a full table scan |
//! | `insert` | prepared single-row `INSERT` into the table and its three indexes (no commit: see below) |
//!
//! For every (operation, size, cache) the bench records the mean time per
//! operation (criterion) and, in a separate counted loop after it, the
//! engine's counters per operation: `consistent gets`, `db block gets` and
//! `physical reads` (session statistics deltas, see `stats`). With each
//! size it records the BLEVEL of the three indexes (ANALYZE, the book,
//! chapter 7). The point of the exercise: the gets of an index access grow
//! with BLEVEL, i.e. with log n, not with n; a full scan's grow with n.
//! Where time does not follow gets, `benches/scale.md` says so, computed
//! from the measurements.
//!
//! **The table.** `t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, v TEXT)`
//! NOLOGGING, with indexes `t_pk` (id), `t_ba` (b, a) and `t_v` (v). Row
//! `i` is `(i, i / 10, i % 10, 'row<i>')`: each of the ten `b` values has
//! one row per `a`, so `b = x AND a BETWEEN y AND y + 999` is exactly 1,000
//! rows at every size, ten rows apart in the table (about 70 table blocks).
//! Each size's table is built once and reused by every operation and both
//! caches (the insert rolls its rows back, so every measurement sees the
//! same n rows).
//!
//! **The load** is the realistic path for a big table that already has its
//! indexes: direct-path inserts (`insert_append`, the book, chapter 9) of
//! 100,000 rows each, one transaction per chunk, the indexes maintained at
//! the end of each (keys sorted, then merged into each tree). It is also
//! the path whose memory is bounded: `CREATE INDEX` on a loaded table reads
//! every row into memory first. During the largest load the bench samples
//! resident memory (Linux `VmRSS`) after every chunk and checks it against
//! the bound documented at [`RssBound`].
//!
//! **The insert** is timed without its commit: a commit is one redo sync,
//! the same at every size (`benches/vs_sqlite.rs` measures it). Every 1,000
//! inserts the bench rolls back, outside the timed part, so undo stays
//! small and the table keeps n rows.
//!
//! **Caches.** `large`: 5/4 of the data's blocks (table blocks below the
//! HWM plus the indexes' leaf blocks) plus 256, so after a warm-up nothing
//! is read from disk. `small`: an eighth of the data's blocks (at least
//! 16): index roots and branches stay cached, most leaves and table blocks
//! do not. Physical reads are reads of the data file through the operating
//! system's page cache, which holds the whole file on this machine: they
//! cost a system call, a copy and a decode, not a disk seek.
//!
//! `cargo bench --bench scale` runs every size (`BLOCKLAB_SCALE_MAX_ROWS`
//! caps the largest, e.g. `1000000`) and then writes `benches/scale.md`
//! (the table and its reading) and `benches/scale.svg` (the chart, also
//! copied to `book/src/scale.svg` for the book's performance appendix).
//! Under `cargo test --bench scale` every operation runs once on a 10^4-row
//! table, the counters are checked, and nothing is written.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use blocklab::{Config, Database, Prepared, Row, Session, Stat, StatsSnapshot, Value};
use blocklab_labs::{write_svg, Chart, Scale};
use criterion::{BenchmarkId, Criterion, SamplingMode};

/// The sizes of a full run.
const SIZES: [u64; 4] = [10_000, 100_000, 1_000_000, 10_000_000];

/// The size of a test-mode run: the smallest at which the range query
/// still finds 1,000 rows (ten `b` values, so n / 10 values of `a` each).
const TEST_SIZE: u64 = 10_000;

/// Distinct values of `b`.
const B_VALUES: u64 = 10;

/// Rows of one range query.
const RANGE_ROWS: u64 = 1_000;

/// Rows per direct-path load (one transaction each).
fn chunk_rows() -> u64 {
    if full() {
        100_000
    } else {
        2_500
    }
}

/// The cache of the load: 16,384 frames (128 MiB of 8 KiB blocks). The
/// load's index maintenance merges sorted keys, so the leaves it changes
/// are few and neighbouring; at 10^6 rows and more the data is larger than
/// this cache, which is what the memory check wants.
const LOAD_CACHE_FRAMES: usize = 16_384;

/// Whether criterion runs the full benchmark: `cargo bench` passes
/// `--bench`, `cargo test --bench` does not.
fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The sizes of this run, largest first: its load then starts in a fresh
/// process, so its RSS samples are not blurred by memory the allocator
/// kept from the smaller sizes (the heap of their ANALYZE and caches).
fn sizes() -> Vec<u64> {
    if !full() {
        return vec![TEST_SIZE];
    }
    let cap = std::env::var("BLOCKLAB_SCALE_MAX_ROWS")
        .ok()
        .and_then(|v| v.replace('_', "").parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    SIZES.iter().rev().copied().filter(|&n| n <= cap).collect()
}

/// A seeded pseudo-random number (splitmix64): the same keys every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row `i` of the table.
fn row(i: u64) -> Row {
    vec![
        Value::Int(i as i64),
        Value::Int((i / B_VALUES) as i64),
        Value::Int((i % B_VALUES) as i64),
        Value::Text(format!("row{i}")),
    ]
}

/// The configuration of a size's database with `cache_frames` frames:
/// redo and undo large enough for one 100,000-row chunk with three indexes.
fn cfg(cache_frames: usize) -> Config {
    Config {
        cache_frames,
        log_file_size: 64 << 20,
        undo_blocks: 8192,
        ..Config::default()
    }
}

/// Resident memory of this process in bytes (`VmRSS` of
/// /proc/self/status), or `None` where there is no such file.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// MiB, for printing.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What the resident memory of a load may be, and why.
///
/// ```text
/// bound = base                        RSS before the database is opened
///       + cache_frames × FRAME_BYTES  the buffer cache, full
///       + chunk working set           the chunk's rows, their encoded
///                                     images and one index's sorted keys
///       + FIXED_BYTES                 redo buffer, undo segment headers,
///                                     catalog, statement cache, allocator slack
/// ```
///
/// A frame holds a *decoded* block (`buffer`, `block`): a heap block's
/// row images plus its slot directory, an index block's entries each with
/// its own key allocation. So a frame costs more than `block_size`; the
/// bound allows `FRAME_BYTES` = 3 × 8 KiB per frame. Undo and the data
/// dictionary live in blocks, hence in the cache. Nothing else may grow
/// with the rows loaded: the check also reports the growth between the
/// first sample taken with the cache full and the last.
struct RssBound {
    base: u64,
    cache: u64,
    chunk: u64,
    fixed: u64,
}

/// Bytes a cached frame may take (see [`RssBound`]).
const FRAME_BYTES: u64 = 3 * 8192;

/// Redo buffer, undo segment headers, catalog, statement cache and the
/// allocator's slack: the fixed part of [`RssBound`].
const FIXED_BYTES: u64 = 64 << 20;

/// Bytes per row of a chunk being loaded: the row (`Vec<Value>` of four
/// values and a text), its encoded image, and each index's key during the
/// sort at the end of the chunk.
const CHUNK_BYTES_PER_ROW: u64 = 512;

impl RssBound {
    fn new(base: u64, cache_frames: usize, chunk_rows: u64) -> RssBound {
        RssBound {
            base,
            cache: cache_frames as u64 * FRAME_BYTES,
            chunk: chunk_rows * CHUNK_BYTES_PER_ROW,
            fixed: FIXED_BYTES,
        }
    }

    fn total(&self) -> u64 {
        self.base + self.cache + self.chunk + self.fixed
    }
}

/// What a load measured about memory.
struct LoadMemory {
    bound: RssBound,
    /// (rows loaded, RSS bytes) after each chunk.
    samples: Vec<(u64, u64)>,
    cache_frames: usize,
}

impl LoadMemory {
    fn max(&self) -> u64 {
        self.samples.iter().map(|s| s.1).max().unwrap_or(0)
    }

    /// The verdict against the bound, e.g. "within bound (412.0 of 512.0
    /// MiB)" or "exceeds bound by 12.3 MiB".
    fn verdict(&self) -> String {
        let (max, bound) = (self.max(), self.bound.total());
        if self.samples.is_empty() {
            "not measured (no /proc/self/status)".into()
        } else if max <= bound {
            format!("within bound ({:.1} of {:.1} MiB)", mib(max), mib(bound))
        } else {
            format!("exceeds bound by {:.1} MiB", mib(max - bound))
        }
    }

    /// RSS growth per million rows between the middle sample and the
    /// last, for a table of `data_blocks` at least twice the cache: by the
    /// middle of its load the cache has filled, so anything that still
    /// grows grows with the rows loaded. `None` for a smaller table.
    fn growth_per_million(&self, data_blocks: u64) -> Option<f64> {
        if data_blocks < 2 * self.cache_frames as u64 {
            return None;
        }
        let half = self.samples.get(self.samples.len() / 2)?;
        let last = self.samples.last()?;
        if last.0 <= half.0 {
            return None;
        }
        Some((last.1 as f64 - half.1 as f64) / ((last.0 - half.0) as f64 / 1e6))
    }

    fn report(&self, n: u64, data_blocks: u64) -> String {
        let mut s = format!(
            "load of {n} rows: cache {} frames × 8 KiB = {:.0} MiB; RSS before open {:.1} MiB, \
             max {:.1} MiB; bound = base {:.1} + cache {:.1} + chunk {:.1} + fixed {:.1} MiB: {}",
            self.cache_frames,
            mib(self.cache_frames as u64 * 8192),
            mib(self.bound.base),
            mib(self.max()),
            mib(self.bound.base),
            mib(self.bound.cache),
            mib(self.bound.chunk),
            mib(self.bound.fixed),
            self.verdict()
        );
        if let Some(g) = self.growth_per_million(data_blocks) {
            let _ = write!(
                s,
                "; growth over the second half of the load {:.1} MiB per million rows",
                g / (1024.0 * 1024.0)
            );
        }
        s
    }
}

/// A size's table, built once.
struct Built {
    dir: tempfile::TempDir,
    n: u64,
    /// Table blocks below the HWM plus the indexes' leaf blocks.
    data_blocks: u64,
    /// Table blocks below the HWM.
    table_blocks: u64,
    /// BLEVEL of t_pk, t_ba, t_v.
    blevel: [u32; 3],
    memory: LoadMemory,
    load_time: Duration,
    /// RSS once the large cache holds the whole table and its indexes.
    warm_rss: Option<u64>,
}

const INDEXES: [&str; 3] = ["t_pk", "t_ba", "t_v"];

/// Builds the table of `n` rows by direct-path loads with its indexes in
/// place, sampling resident memory after each chunk, then gathers its
/// statistics (ANALYZE).
fn build(n: u64) -> Built {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = rss_bytes().unwrap_or(0);
    let db = Database::open(dir.path(), cfg(LOAD_CACHE_FRAMES)).expect("open");
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, v TEXT) NOLOGGING")
        .expect("create");
    s.execute("CREATE INDEX t_ba ON t (b, a)").expect("index");
    s.execute("CREATE INDEX t_v ON t (v)").expect("index");
    let chunk = chunk_rows();
    let mut memory = LoadMemory {
        bound: RssBound::new(base, LOAD_CACHE_FRAMES, chunk),
        samples: Vec::new(),
        cache_frames: LOAD_CACHE_FRAMES,
    };
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        let end = (done + chunk).min(n);
        let rows: Vec<Row> = (done..end).map(row).collect();
        s.insert_append("t", rows).expect("load");
        s.commit().expect("commit");
        done = end;
        if let Some(rss) = rss_bytes() {
            memory.samples.push((done, rss));
        }
    }
    let load_time = t.elapsed();
    let st = s.analyze("t").expect("analyze");
    s.store_stats(&st).expect("store stats");
    assert_eq!(st.num_rows, n);
    let blevel = INDEXES.map(|ix| st.index(ix).expect("index stats").blevel);
    let data_blocks = st.blocks + st.indexes.iter().map(|i| i.leaf_blocks).sum::<u64>();
    drop(s);
    drop(db);
    Built {
        dir,
        n,
        data_blocks,
        table_blocks: st.blocks,
        blevel,
        memory,
        load_time,
        warm_rss: None,
    }
}

/// The two caches of each size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cache {
    Large,
    Small,
}

impl Cache {
    const ALL: [Cache; 2] = [Cache::Large, Cache::Small];

    fn name(self) -> &'static str {
        match self {
            Cache::Large => "large",
            Cache::Small => "small",
        }
    }

    fn frames(self, data_blocks: u64) -> usize {
        let f = match self {
            Cache::Large => data_blocks * 5 / 4 + 256,
            Cache::Small => (data_blocks / 8).max(16),
        };
        f.min(1 << 20) as usize
    }
}

/// The four operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Point,
    Range,
    Insert,
    Scan,
}

impl Op {
    /// In the order they run: the scan before the insert, whose rolled-back
    /// rows leave a few empty blocks below the HWM (a rollback does not
    /// lower it) that later scans read.
    const ALL: [Op; 4] = [Op::Point, Op::Range, Op::Scan, Op::Insert];

    fn name(self) -> &'static str {
        match self {
            Op::Point => "point",
            Op::Range => "range",
            Op::Insert => "insert",
            Op::Scan => "scan",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Op::Point => "point lookup",
            Op::Range => "1,000-row range",
            Op::Insert => "insert, 3 indexes",
            Op::Scan => "full scan",
        }
    }

    /// Operations in the counted loop after criterion's run.
    fn counted(self, n: u64) -> u64 {
        match self {
            Op::Point | Op::Insert => 1000,
            Op::Range => 100,
            Op::Scan if n >= 1_000_000 => 1,
            Op::Scan => 5,
        }
    }
}

/// One operation's prepared statement and its state (the next key).
struct Runner {
    op: Op,
    n: u64,
    stmt: Prepared,
    /// Operations run so far: the seed of the next key.
    k: u64,
    /// Inserts since the last rollback.
    pending: u64,
}

/// Inserts between two rollbacks.
const INSERTS_PER_ROLLBACK: u64 = 1000;

impl Runner {
    fn new(s: &mut Session, op: Op, n: u64) -> Runner {
        let sql = match op {
            Op::Point => "SELECT v FROM t WHERE id = ?",
            Op::Range => {
                "SELECT /*+ INDEX(t t_ba) */ id, v FROM t WHERE b = ? AND a BETWEEN ? AND ?"
            }
            Op::Insert => "INSERT INTO t VALUES (?, ?, ?, ?)",
            Op::Scan => "SELECT COUNT(*) FROM t",
        };
        Runner {
            op,
            n,
            stmt: s.prepare(sql).expect("prepare"),
            k: 0,
            pending: 0,
        }
    }

    /// Runs one operation and checks its result.
    fn run(&mut self, s: &mut Session) {
        self.k += 1;
        let r = mix(self.k);
        match self.op {
            Op::Point => {
                let id = (r % self.n) as i64;
                let res = s
                    .execute_prepared(&self.stmt, &[Value::Int(id)])
                    .expect("lookup");
                assert_eq!(res.rows.len(), 1);
            }
            Op::Range => {
                let b = (r % B_VALUES) as i64;
                let a = ((r / B_VALUES) % (self.n / B_VALUES - RANGE_ROWS + 1)) as i64;
                let binds = [
                    Value::Int(b),
                    Value::Int(a),
                    Value::Int(a + RANGE_ROWS as i64 - 1),
                ];
                let res = s.execute_prepared(&self.stmt, &binds).expect("range");
                assert_eq!(res.rows.len() as u64, RANGE_ROWS);
            }
            Op::Insert => {
                // Ids above the table's: no conflict, and the same ids
                // again after each rollback.
                let res = s
                    .execute_prepared(&self.stmt, &row(self.n + self.pending))
                    .expect("insert");
                assert_eq!(res.affected, Some(1));
                self.pending += 1;
            }
            Op::Scan => {
                let res = s.execute_prepared(&self.stmt, &[]).expect("scan");
                assert_eq!(res.rows[0][0], Value::Int(self.n as i64));
            }
        }
    }

    /// Ends the inserts' transaction if it is due (`force`: in any case).
    /// Not timed.
    fn tidy(&mut self, s: &mut Session, force: bool) {
        if self.op == Op::Insert && (force || self.pending >= INSERTS_PER_ROLLBACK) {
            s.rollback().expect("rollback");
            self.pending = 0;
        }
    }
}

/// Counters per operation of one (operation, size, cache).
#[derive(Clone, Copy, Debug, Default)]
struct PerOp {
    consistent_gets: f64,
    db_block_gets: f64,
    physical_reads: f64,
    /// `physical writes` of the whole instance (the session's evictions of
    /// dirty blocks and the background writer's) per operation: writes
    /// are counted on the system, not on the session that happens to
    /// evict (`buffer`).
    physical_writes: f64,
    /// Wall time of the counted loop per operation, ns: used only when
    /// criterion's estimate cannot be read.
    loop_ns: f64,
}

impl PerOp {
    fn gets(&self) -> f64 {
        self.consistent_gets + self.db_block_gets
    }
}

/// One measured point.
struct Point {
    op: Op,
    n: u64,
    cache: Cache,
    frames: usize,
    per_op: PerOp,
}

/// Runs `k` operations and divides the counters they moved by `k`.
fn count(db: &Database, s: &mut Session, r: &mut Runner, k: u64) -> PerOp {
    let before: StatsSnapshot = s.stats();
    let system_before = db.system_stats();
    let t = Instant::now();
    for _ in 0..k {
        r.run(s);
    }
    let elapsed = t.elapsed();
    let d = s.stats().diff(&before);
    let writes = db
        .system_stats()
        .diff(&system_before)
        .get(Stat::PhysicalWrites);
    r.tidy(s, true);
    let per = |v: u64| v as f64 / k as f64;
    PerOp {
        consistent_gets: per(d.get(Stat::ConsistentGets)),
        db_block_gets: per(d.get(Stat::DbBlockGets)),
        physical_reads: per(d.get(Stat::PhysicalReads)),
        physical_writes: per(writes),
        loop_ns: elapsed.as_nanos() as f64 / k as f64,
    }
}

/// Reads the whole table and every index's leaves once, so that a cache
/// larger than the data holds all of it before anything is measured.
fn warm(s: &mut Session, n: u64) {
    let n = Value::Int(n as i64);
    for sql in [
        "SELECT COUNT(*) FROM t",
        "SELECT /*+ INDEX(t t_pk) */ COUNT(*) FROM t WHERE id >= 0",
        "SELECT /*+ INDEX(t t_ba) */ COUNT(*) FROM t WHERE b >= 0",
        "SELECT /*+ INDEX(t t_v) */ COUNT(*) FROM t WHERE v >= ''",
    ] {
        let r = s.execute(sql).expect("warm");
        assert_eq!(r.rows[0][0], n, "{sql}");
    }
}

/// Criterion's group name, also the directory of its estimates.
const GROUP: &str = "scale";

fn bench_id(op: Op, cache: Cache, n: u64) -> BenchmarkId {
    BenchmarkId::new(format!("{}_{}", op.name(), cache.name()), n)
}

/// Runs every operation on `b` with `cache`.
fn measure(c: &mut Criterion, b: &mut Built, cache: Cache, out: &mut Vec<Point>) {
    let frames = cache.frames(b.data_blocks);
    let db = Database::open(b.dir.path(), cfg(frames)).expect("open");
    let mut s = db.session();
    if cache == Cache::Large {
        warm(&mut s, b.n);
        b.warm_rss = rss_bytes();
    }
    let mut g = c.benchmark_group(GROUP);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for op in Op::ALL {
        let mut r = Runner::new(&mut s, op, b.n);
        if op == Op::Scan {
            g.sampling_mode(SamplingMode::Flat);
        }
        g.bench_function(bench_id(op, cache, b.n), |bch| {
            bch.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    r.run(&mut s);
                    total += t.elapsed();
                    r.tidy(&mut s, false);
                }
                total
            })
        });
        r.tidy(&mut s, true);
        // The counted loop starts where criterion left the cache: warm.
        let per_op = count(&db, &mut s, &mut r, op.counted(b.n));
        eprintln!(
            "scale {:>6} n={:<9} cache={} ({frames} frames): {:.1} consistent gets, {:.1} db block gets, \
             {:.2} physical reads, {:.2} physical writes per op; BLEVEL t_pk {} t_ba {} t_v {}",
            op.name(),
            b.n,
            cache.name(),
            per_op.consistent_gets,
            per_op.db_block_gets,
            per_op.physical_reads,
            per_op.physical_writes,
            b.blevel[0],
            b.blevel[1],
            b.blevel[2],
        );
        out.push(Point {
            op,
            n: b.n,
            cache,
            frames,
            per_op,
        });
    }
    g.finish();
}

/// The exact counters of the test-mode table, checked against its
/// BLEVELs: an index access costs one get per level above the leaves, one
/// leaf, then the table.
fn check_counters(b: &Built, points: &[Point]) {
    let large = |op: Op| {
        points
            .iter()
            .find(|p| p.op == op && p.cache == Cache::Large)
            .expect("measured")
            .per_op
    };
    // root and branches (BLEVEL) + 1 leaf + 1 table block.
    let point = large(Op::Point);
    assert_eq!(point.consistent_gets, f64::from(b.blevel[0]) + 2.0);
    assert_eq!(point.db_block_gets, 0.0);
    assert_eq!(point.physical_reads, 0.0);
    // A scan reads the segment header (its extent list and HWM), then
    // each block below the HWM once.
    let scan = large(Op::Scan);
    assert_eq!(scan.consistent_gets, b.table_blocks as f64 + 1.0);
    // An insert descends t_pk twice (the primary key's probe, then the
    // insert), t_ba and t_v once each: with BLEVEL 1 everywhere at this
    // size, 4 descents of 2 blocks.
    let insert = large(Op::Insert);
    assert_eq!(b.blevel, [1, 1, 1]);
    assert!(insert.db_block_gets >= 8.0);
}

/// Criterion's output directory: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` (criterion's
/// own order).
fn criterion_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return h.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    PathBuf::from(target).join("criterion")
}

/// Criterion's mean time of one benchmark, ns.
fn criterion_mean_ns(op: Op, cache: Cache, n: u64) -> Option<f64> {
    let path = criterion_home().join(format!(
        "{GROUP}/{}_{}/{n}/new/estimates.json",
        op.name(),
        cache.name()
    ));
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut points = Vec::new();
    let mut built = Vec::new();
    for n in sizes() {
        let mut b = build(n);
        eprintln!(
            "scale: built {n} rows in {:.1} s: {} data blocks, BLEVEL t_pk {} t_ba {} t_v {}",
            b.load_time.as_secs_f64(),
            b.data_blocks,
            b.blevel[0],
            b.blevel[1],
            b.blevel[2]
        );
        eprintln!("scale: {}", b.memory.report(n, b.data_blocks));
        for cache in Cache::ALL {
            measure(&mut c, &mut b, cache, &mut points);
        }
        if !full() {
            check_counters(&b, &points);
        }
        // The data directory goes now; what the report needs stays.
        built.push(Summary {
            n: b.n,
            data_blocks: b.data_blocks,
            blevel: b.blevel,
            memory: b.memory,
            load_time: b.load_time,
            warm_rss: b.warm_rss,
        });
    }
    c.final_summary();
    built.sort_by_key(|b| b.n);
    if full() {
        let times: Vec<f64> = points
            .iter()
            .map(|p| criterion_mean_ns(p.op, p.cache, p.n).unwrap_or(p.per_op.loop_ns))
            .collect();
        if let Err(e) = report::write(&built, &points, &times) {
            eprintln!("cannot write benches/scale.md or its chart: {e}");
        }
    }
}

/// What the report keeps of a built size.
struct Summary {
    n: u64,
    data_blocks: u64,
    blevel: [u32; 3],
    memory: LoadMemory,
    load_time: Duration,
    warm_rss: Option<u64>,
}

#[path = "common/machine.rs"]
mod machine;
#[path = "common/scale_report.rs"]
mod report;
