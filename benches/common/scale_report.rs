//! The report of `benches/scale.rs`: `benches/scale.md` (the measurements
//! and what they say, every sentence about a number computed from the
//! numbers) and `benches/scale.svg` (time per operation above, gets and
//! physical reads per operation below, both against rows, log-log), copied
//! to `book/src/scale.svg` for the book. Included by `#[path]`; written only
//! by a full run (`cargo bench --bench scale`).

use super::*;

/// Time growth more than this many times the gets growth is called "time
/// does not follow gets".
const NOT_FOLLOWING: f64 = 1.5;

/// The gets below the branch levels may move by this share of them for
/// the gets still to be said to follow BLEVEL: a 1,000-row range crosses a
/// leaf boundary more or less depending on how full the leaves are, while
/// a point lookup's leaf and table get should not move at all.
const FOLLOWS_BLEVEL_SHARE: f64 = 0.1;

/// Physical reads per operation above this share of its gets make the
/// reads the first explanation.
const READS_MATTER: f64 = 0.05;

/// Writes benches/scale.md, benches/scale.svg and book/src/scale.svg.
/// `times[i]` is the mean time of `points[i]` in ns.
pub fn write(built: &[Summary], points: &[Point], times: &[f64]) -> std::io::Result<()> {
    let svg = chart_svg(built, points, times)?;
    std::fs::write("benches/scale.svg", &svg)?;
    std::fs::write("book/src/scale.svg", &svg)?;
    std::fs::write("benches/scale.md", markdown(built, points, times))
}

/// The index of the point for (op, n, cache).
fn find(points: &[Point], op: Op, n: u64, cache: Cache) -> Option<usize> {
    points
        .iter()
        .position(|p| p.op == op && p.n == n && p.cache == cache)
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A count per operation: whole numbers without decimals.
fn fmt_count(v: f64) -> String {
    if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The BLEVELs an operation descends: the primary key's for a lookup, the
/// composite index's for the range; for an insert the primary key's twice
/// (the uniqueness probe, then the insert) and the two others once each;
/// none for a scan.
fn blevels(op: Op, s: &Summary) -> u32 {
    match op {
        Op::Point => s.blevel[0],
        Op::Range => s.blevel[1],
        Op::Insert => 2 * s.blevel[0] + s.blevel[1] + s.blevel[2],
        Op::Scan => 0,
    }
}

fn markdown(built: &[Summary], points: &[Point], times: &[f64]) -> String {
    let mut o = String::new();
    let ns: Vec<u64> = built.iter().map(|b| b.n).collect();
    let _ = writeln!(o, "# How cost grows with size\n");
    let _ = writeln!(
        o,
        "Written by `cargo bench --bench scale` on {}. Sizes: {}{}. \
         Time: criterion's mean per operation. Gets: `consistent gets` + `db block gets` \
         per operation; reads: `physical reads` per operation; both from a counted loop \
         run right after criterion's (session statistics, exact). The `large` cache is \
         5/4 of the data's blocks, the `small` one an eighth. What each operation is, \
         and how the table is built: the doc comment of `benches/scale.rs`.\n",
        super::machine::machine_line(),
        ns.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if ns.last() != SIZES.last() {
            " (capped by BLOCKLAB_SCALE_MAX_ROWS)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "![time and gets per operation against rows](scale.svg)\n"
    );

    let _ = writeln!(o, "## The tables\n");
    let _ = writeln!(
        o,
        "| rows | load (direct path, 3 indexes) | rows/s | data blocks | BLEVEL t_pk | BLEVEL t_ba | BLEVEL t_v | large cache | small cache |\n|---|---|---|---|---|---|---|---|---|"
    );
    for b in built {
        let secs = b.load_time.as_secs_f64();
        let _ = writeln!(
            o,
            "| {} | {:.1} s | {:.0} | {} | {} | {} | {} | {} frames | {} frames |",
            b.n,
            secs,
            b.n as f64 / secs,
            b.data_blocks,
            b.blevel[0],
            b.blevel[1],
            b.blevel[2],
            Cache::Large.frames(b.data_blocks),
            Cache::Small.frames(b.data_blocks)
        );
    }

    let _ = writeln!(o, "\n## Per operation\n");
    let _ = writeln!(
        o,
        "| operation | rows | cache | time/op | consistent gets | db block gets | physical reads | physical writes | BLEVELs descended | ns per get |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for op in Op::ALL {
        for cache in Cache::ALL {
            for b in built {
                let Some(i) = find(points, op, b.n, cache) else {
                    continue;
                };
                let p = &points[i].per_op;
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
                    op.label(),
                    b.n,
                    cache.name(),
                    fmt_ns(times[i]),
                    fmt_count(p.consistent_gets),
                    fmt_count(p.db_block_gets),
                    fmt_count(p.physical_reads),
                    fmt_count(p.physical_writes),
                    blevels(op, b),
                    times[i] / p.gets()
                );
            }
        }
    }

    let (Some(first), Some(last)) = (built.first(), built.last()) else {
        return o;
    };
    let grow_n = last.n as f64 / first.n as f64;

    let _ = writeln!(o, "\n## Do gets follow BLEVEL?\n");
    let _ = writeln!(
        o,
        "From {} to {} rows ({:.0}× the rows), large cache:\n",
        first.n, last.n, grow_n
    );
    for op in Op::ALL {
        let (Some(i0), Some(i1)) = (
            find(points, op, first.n, Cache::Large),
            find(points, op, last.n, Cache::Large),
        ) else {
            continue;
        };
        let (g0, g1) = (points[i0].per_op.gets(), points[i1].per_op.gets());
        if op == Op::Scan {
            let per_block0 = g0 / first.data_blocks as f64;
            let per_block1 = g1 / last.data_blocks as f64;
            let _ = writeln!(
                o,
                "- **{}**: gets/op went from {} to {} ({:.0}×): a full scan reads every block, \
                 so its gets grow with n ({:.2} and {:.2} gets per data block).",
                op.label(),
                fmt_count(g0),
                fmt_count(g1),
                g1 / g0,
                per_block0,
                per_block1
            );
            continue;
        }
        let (l0, l1) = (blevels(op, first), blevels(op, last));
        // What is left once the root and branch gets are taken out: leaves
        // and table blocks, which depend on the rows asked for, not on n.
        let (rest0, rest1) = (g0 - f64::from(l0), g1 - f64::from(l1));
        let moved = rest1 - rest0;
        let verdict = if moved.abs() <= FOLLOWS_BLEVEL_SHARE * rest0 {
            "they grow with BLEVEL (log n), not with n".to_string()
        } else {
            format!(
                "{:.2} gets/op {} than BLEVEL explains",
                moved.abs(),
                if moved > 0.0 { "more" } else { "fewer" }
            )
        };
        let _ = writeln!(
            o,
            "- **{}**: gets/op went from {} to {} ({:+.2}) while the BLEVELs it descends went \
             from {l0} to {l1} (+{}); the gets below the branches (leaves, table, undo) went \
             from {} to {}: {verdict}.",
            op.label(),
            fmt_count(g0),
            fmt_count(g1),
            g1 - g0,
            l1 - l0,
            fmt_count(rest0),
            fmt_count(rest1),
        );
    }

    let _ = writeln!(o, "\n## Where time does not follow gets\n");
    let _ = writeln!(
        o,
        "Time growth against gets growth from {} to {} rows, per operation and cache \
         (\"does not follow\": time grew more than {NOT_FOLLOWING}× as much as gets):\n",
        first.n, last.n
    );
    for op in Op::ALL {
        for cache in Cache::ALL {
            let (Some(i0), Some(i1)) = (
                find(points, op, first.n, cache),
                find(points, op, last.n, cache),
            ) else {
                continue;
            };
            let (p0, p1) = (&points[i0].per_op, &points[i1].per_op);
            let t_grow = times[i1] / times[i0];
            let g_grow = p1.gets() / p0.gets();
            let excess = t_grow / g_grow;
            let mut line = format!(
                "- **{}, {} cache**: time ×{:.2}, gets ×{:.2}: ",
                op.label(),
                cache.name(),
                t_grow,
                g_grow
            );
            if excess <= NOT_FOLLOWING {
                let _ = write!(line, "time follows gets (ratio {excess:.2}).");
            } else {
                let _ = write!(
                    line,
                    "time grew {excess:.2}× more than gets ({} → {} per get). ",
                    fmt_ns(times[i0] / p0.gets()),
                    fmt_ns(times[i1] / p1.gets())
                );
                let _ = write!(line, "{}", why(points, times, op, cache, last));
            }
            let _ = writeln!(o, "{line}");
        }
    }

    let _ = writeln!(o, "\n## Memory during the largest load\n");
    let m = &last.memory;
    let _ = writeln!(o, "{}.\n", m.report(last.n, last.data_blocks));
    if !m.samples.is_empty() {
        let _ = writeln!(o, "| rows loaded | RSS |\n|---|---|");
        let step = (m.samples.len() / 10).max(1);
        for (i, (rows, rss)) in m.samples.iter().enumerate() {
            if i % step == step - 1 || i + 1 == m.samples.len() {
                let _ = writeln!(o, "| {rows} | {:.1} MiB |", mib(*rss));
            }
        }
        let _ = writeln!(
            o,
            "\nThe bound: the RSS before the database was opened, plus {} frames × {} KiB \
             (a frame holds a decoded block, larger than its 8 KiB on disk), plus {} bytes per \
             row of one {}-row chunk (the rows, their images and one index's sorted keys), \
             plus {:.0} MiB for the redo buffer, the undo segment headers, the catalog and the \
             allocator's slack. Undo and the dictionary live in blocks, hence in the cache.",
            m.cache_frames,
            FRAME_BYTES / 1024,
            CHUNK_BYTES_PER_ROW,
            chunk_rows(),
            mib(FIXED_BYTES)
        );
    }
    if let Some(rss) = last.warm_rss {
        // After the warm-up every data block is in a frame (the cache has
        // 5/4 of them); RSS then measures what a cached block costs.
        let _ = writeln!(
            o,
            "\nWith the large cache warm ({} of its {} frames holding the table and its index \
             leaves), RSS was {:.1} MiB, {:.1} MiB above the RSS before the load's open: {:.1} \
             KiB per cached block (fixed costs included), against the {} KiB the bound allows \
             a frame.",
            last.data_blocks,
            Cache::Large.frames(last.data_blocks),
            mib(rss),
            mib(rss.saturating_sub(m.bound.base)),
            rss.saturating_sub(m.bound.base) as f64 / last.data_blocks as f64 / 1024.0,
            FRAME_BYTES / 1024
        );
    }
    o
}

/// Why `op` with `cache` got slower per get at size `last`: physical
/// reads and writes when there are enough of them (the reads with their
/// cost per read, measured as the difference between the two caches at
/// that size), else the CPU.
fn why(points: &[Point], times: &[f64], op: Op, cache: Cache, last: &Summary) -> String {
    let (Some(il), Some(is)) = (
        find(points, op, last.n, Cache::Large),
        find(points, op, last.n, Cache::Small),
    ) else {
        return String::new();
    };
    let me = if cache == Cache::Large { il } else { is };
    let p = &points[me].per_op;
    let mut causes = Vec::new();
    if p.physical_reads > READS_MATTER * p.gets() {
        let extra_reads = points[is].per_op.physical_reads - points[il].per_op.physical_reads;
        let per_read = (times[is] - times[il]) / extra_reads;
        let share = if extra_reads > 0.0 && per_read > 0.0 {
            format!(
                " Comparing the two caches at {} rows, each physical read costs about {} \
                 ({:.0}% of this operation's time).",
                last.n,
                fmt_ns(per_read),
                (100.0 * per_read * p.physical_reads / times[me]).min(100.0)
            )
        } else {
            String::new()
        };
        causes.push(format!(
            "The cache ({} frames for {} blocks of data) misses: {} physical reads per \
             operation, each a system call, a copy from the operating system's page cache and \
             a decode of the block.{share}",
            points[me].frames,
            last.data_blocks,
            fmt_count(p.physical_reads)
        ));
    }
    if p.physical_writes > READS_MATTER * p.gets() {
        causes.push(format!(
            "Dirty blocks are written to make room: {} physical writes per operation \
             (instance-wide; an eviction of a dirty block writes it first, and its redo must \
             be on disk before that).",
            fmt_count(p.physical_writes)
        ));
    }
    if causes.is_empty() {
        causes.push(format!(
            "With {} physical reads and {} physical writes per operation, the extra time is \
             CPU per get: the blocks touched ({} blocks of data) no longer fit the CPU's \
             caches, so each get and each key comparison waits on memory (inferred: this \
             bench reads no hardware counters).",
            fmt_count(p.physical_reads),
            fmt_count(p.physical_writes),
            last.data_blocks
        ));
    }
    causes.join(" ")
}

/// The chart: two plots stacked in one SVG.
fn chart_svg(built: &[Summary], points: &[Point], times: &[f64]) -> std::io::Result<String> {
    let series = |f: &dyn Fn(usize) -> Option<f64>, op: Op, cache: Cache| {
        built
            .iter()
            .filter_map(|b| {
                let i = find(points, op, b.n, cache)?;
                Some((b.n as f64, f(i)?))
            })
            .collect::<Vec<_>>()
    };
    let mut time = Chart {
        title: "time per operation (µs) against rows".into(),
        x_label: "rows in the table".into(),
        y_label: "µs per operation".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: true,
        series: Vec::new(),
    };
    let mut gets = Chart {
        title: "gets (large cache) and physical reads (small cache) per operation".into(),
        x_label: "rows in the table".into(),
        y_label: "per operation".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: false,
        series: Vec::new(),
    };
    for cache in Cache::ALL {
        for op in Op::ALL {
            time.series.push((
                format!("{}, {} cache", op.label(), cache.name()),
                series(&|i| Some(times[i] / 1e3), op, cache),
            ));
        }
    }
    for op in Op::ALL {
        gets.series.push((
            format!("{}: gets", op.label()),
            series(&|i| Some(points[i].per_op.gets()), op, Cache::Large),
        ));
    }
    for op in Op::ALL {
        gets.series.push((
            format!("{}: physical reads", op.label()),
            series(&|i| Some(points[i].per_op.physical_reads), op, Cache::Small),
        ));
    }
    let dir = tempfile::tempdir()?;
    let mut parts = Vec::new();
    for (k, chart) in [time, gets].iter().enumerate() {
        let path = dir.path().join(format!("{k}.svg"));
        write_svg(chart, &path).map_err(std::io::Error::other)?;
        parts.push(std::fs::read_to_string(&path)?);
    }
    Ok(stack_svgs(&parts, 440))
}

/// Stacks SVG documents of one width, each `height` high, into one: each
/// becomes a nested `<svg>` placed below the one before.
fn stack_svgs(parts: &[String], height: usize) -> String {
    let total = height * parts.len();
    let mut out = format!(
        "<svg width=\"720\" height=\"{total}\" viewBox=\"0 0 720 {total}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    for (k, part) in parts.iter().enumerate() {
        // Drop any XML declaration before the root element.
        let body = &part[part.find("<svg").unwrap_or(0)..];
        out.push_str(&body.replacen("<svg ", &format!("<svg y=\"{}\" ", k * height), 1));
        out.push('\n');
    }
    out.push_str("</svg>\n");
    out
}
