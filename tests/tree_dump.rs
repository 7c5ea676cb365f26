//! `Session::dump_index`: a picture of every block of an index as of the
//! statement's snapshot, as indented text (checked against `analyze`) or as
//! a Graphviz graph (checked for shape, never by running `dot`).
//!
//! The main shape: 150 rows whose key is a 40-character text
//! `"0042-xxx…"`, loaded in a scrambled order into a database of 2 KiB
//! blocks. A leaf entry is 2 + (40 + 3 key bytes + 6 rowid bytes) + 8 + 1 =
//! 60 bytes, so a leaf holds about 30 and the root must split: the tree has
//! a branch root over several leaves.

use blocklab::btree::dump::DumpFormat;
use blocklab::btree::key::Order;
use blocklab::{ColType, Column, Config, Database, Error, Isolation, Stat, Value};

const ROWS: usize = 150;

fn open(dir: &std::path::Path) -> Database {
    let cfg = Config {
        block_size: 2048,
        background_writer: false,
        ..Config::default()
    };
    Database::open(dir, cfg).unwrap()
}

/// The 40-character key of row `i`; zero-padded so text order is `i` order.
fn key(i: usize) -> String {
    format!("{i:04}-{}", "x".repeat(35))
}

/// How the dump renders that key.
fn shown(i: usize) -> String {
    format!("('{}')", key(i))
}

/// Table `t(k TEXT, n INTEGER)` with `rows` rows in a scrambled order
/// (37 is coprime to 150, so `i * 37 mod rows` visits every row once), and
/// the index `t_k` on `k`.
fn load(db: &Database, rows: usize) {
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("k", ColType::Text),
            Column::new("n", ColType::Integer),
        ],
    )
    .unwrap();
    s.create_index("t_k", "t", &[("k", Order::Asc)]).unwrap();
    for j in 0..rows {
        let i = j * 37 % rows;
        s.insert("t", vec![Value::Text(key(i)), Value::Int(i as i64)])
            .unwrap();
    }
    s.commit().unwrap();
}

/// One block line of a text dump, taken apart.
struct Line {
    depth: usize,
    level: u32,
    entries: usize,
    keys: Vec<String>,
    next: Option<u32>,
}

fn parse_line(line: &str) -> Line {
    let body = line.trim_start();
    let depth = (line.len() - body.len()) / 2;
    let level = body[1..body.find(' ').unwrap()].parse().unwrap();
    let entries = body[body.find(": ").unwrap() + 2..body.find(" entries").unwrap()]
        .parse()
        .unwrap();
    let open = body.find("keys [").unwrap() + "keys [".len();
    let close = body.rfind(']').unwrap();
    let list = &body[open..close];
    // Single-column keys without commas: ", " only separates keys.
    let keys = if list.is_empty() {
        vec![]
    } else if list.contains(" .. ") {
        list.split(" .. ").map(str::to_string).collect()
    } else {
        list.split(", ").map(str::to_string).collect()
    };
    let next = body
        .find("next -> ")
        .map(|i| body[i + "next -> ".len()..].parse().unwrap());
    Line {
        depth,
        level,
        entries,
        keys,
        next,
    }
}

/// The number after `label` in the summary line (`height 2; …`).
fn summary_number(summary: &str, label: &str) -> usize {
    let from = summary.find(label).unwrap() + label.len();
    let digits: String = summary[from..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// Splits a text dump into its block lines and its summary line.
fn split_dump(text: &str) -> (Vec<Line>, String) {
    let mut lines: Vec<&str> = text.lines().collect();
    let summary = lines.pop().unwrap().to_string();
    (lines.into_iter().map(parse_line).collect(), summary)
}

#[test]
fn a_split_tree_dumps_every_block_at_its_depth_and_agrees_with_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    load(&db, ROWS);
    let mut s = db.session();
    let text = s.dump_index("t_k", DumpFormat::Text).unwrap();
    let stats = s.analyze("t").unwrap();
    let ix = stats.index("t_k").unwrap();
    let (lines, summary) = split_dump(&text);

    let height = summary_number(&summary, "height ");
    assert_eq!(
        height,
        ix.blevel as usize + 1,
        "height = blevel + 1\n{text}"
    );
    assert!(height >= 2, "150 keys of 60 bytes overflow one 2 KiB leaf");
    let leaves: Vec<&Line> = lines.iter().filter(|l| l.level == 0).collect();
    assert_eq!(
        leaves.len() as u64,
        ix.leaf_blocks,
        "no deletes: no empty leaf"
    );
    assert_eq!(summary_number(&summary, "L0 "), leaves.len());
    assert_eq!(summary_number(&summary, "entries: "), ROWS);
    // One child entry per block below the root.
    let branch_entries: usize = lines
        .iter()
        .filter(|l| l.level > 0)
        .map(|l| l.entries)
        .sum();
    assert_eq!(branch_entries, lines.len() - 1);

    // Breadth-first: the root first, and each line's level is the root's
    // minus its depth, never rising again.
    let root_level = height as u32 - 1;
    assert_eq!((lines[0].depth, lines[0].level), (0, root_level));
    for l in &lines {
        assert_eq!(l.level + l.depth as u32, root_level, "{text}");
    }
    assert!(lines.windows(2).all(|w| w[0].depth <= w[1].depth));

    // Leaves in key order: each leaf's keys rise, and every leaf starts
    // above where the one before it ended; the chain links them in order.
    for l in &leaves {
        assert!(l.entries > 8, "full leaves show only first .. last");
        assert!(l.keys[0] < l.keys[1], "{:?}", l.keys);
    }
    for w in leaves.windows(2) {
        assert!(
            w[0].keys[1] < w[1].keys[0],
            "{} then {}",
            w[0].keys[1],
            w[1].keys[0]
        );
        assert!(w[0].next.is_some());
    }
    assert_eq!(
        leaves.last().unwrap().next,
        None,
        "the last leaf ends the chain"
    );
    assert_eq!(leaves[0].keys[0], shown(0));
    assert_eq!(leaves.last().unwrap().keys[1], shown(ROWS - 1));
    assert_eq!(
        leaves.iter().map(|l| l.entries).sum::<usize>(),
        ROWS,
        "every row has one entry"
    );
    // The leftmost separator of the root is empty.
    assert_eq!(lines[0].keys[0], "-inf");
}

#[test]
fn a_dump_reads_every_block_once_as_a_consistent_get() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    load(&db, ROWS);
    let mut s = db.session();
    let before = s.stats();
    let text = s.dump_index("t_k", DumpFormat::Text).unwrap();
    let d = s.stats().diff(&before);
    let (lines, _) = split_dump(&text);
    let leaves = lines.iter().filter(|l| l.level == 0).count() as u64;
    let blocks = lines.len() as u64;
    assert_eq!(d.get(Stat::IndexRootGets), 1);
    assert_eq!(
        d.get(Stat::IndexBranchGets),
        blocks - 1 - leaves,
        "non-root branches"
    );
    assert_eq!(d.get(Stat::IndexLeafGets), leaves);
}

#[test]
fn the_dot_graph_has_a_node_per_block_and_an_edge_per_child() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    // 300 rows: more than 8 leaves, so the root's cells are folded too.
    load(&db, 300);
    let mut s = db.session();
    let text = s.dump_index("t_k", DumpFormat::Text).unwrap();
    let dot = s.dump_index("t_k", DumpFormat::Dot).unwrap();
    let (lines, summary) = split_dump(&text);
    let blocks = lines.len();
    let leaves = lines.iter().filter(|l| l.level == 0).count();

    assert!(dot.starts_with("digraph "), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    let nodes = dot.lines().filter(|l| l.contains(" [label=<")).count();
    assert_eq!(nodes, blocks, "one node per block\n{dot}");
    let arrows: Vec<&str> = dot.lines().filter(|l| l.contains(" -> ")).collect();
    let dashed = arrows.iter().filter(|l| l.contains("style=dashed")).count();
    assert_eq!(
        arrows.len() - dashed,
        blocks - 1,
        "every block but the root has a parent"
    );
    assert_eq!(
        dashed,
        leaves - 1,
        "one next link between neighbouring leaves"
    );
    let ranks = dot.matches("rank=same").count();
    assert_eq!(
        ranks,
        summary_number(&summary, "height "),
        "one rank per level"
    );
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    // Full blocks fold their middle keys into one cell; the edges of the
    // folded branch entries all leave from it.
    assert!(dot.contains(&format!(r#"<td port="first">{}</td>"#, shown(0))));
    assert!(dot.contains(r#"<td port="more">… "#));
    let root = &lines[0];
    assert!(root.entries > 8, "{text}");
    let folded = arrows.iter().filter(|l| l.contains(":more -> ")).count();
    assert_eq!(folded, root.entries - 2, "all but the first and last child");
}

#[test]
fn a_single_leaf_index_lists_every_key_and_has_no_branches() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut s = db.session();
    s.create_table(
        "p",
        &[
            Column::new("a", ColType::Integer),
            Column::new("b", ColType::Text),
        ],
    )
    .unwrap();
    for (a, b) in [(3, "abc"), (1, "it's"), (3, "abd"), (2, "z")] {
        s.insert("p", vec![Value::Int(a), Value::Text(b.into())])
            .unwrap();
    }
    s.commit().unwrap();
    s.create_index("p_ab", "p", &[("a", Order::Asc), ("b", Order::Desc)])
        .unwrap();
    let text = s.dump_index("p_ab", DumpFormat::Text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "the root leaf and the summary\n{text}");
    assert!(lines[0].starts_with("L0 block "), "{text}");
    // Four entries: all listed, in index order (b DESC within a), quotes doubled.
    assert!(
        lines[0].contains("4 entries")
            && lines[0].contains("keys [(1, 'it''s'), (2, 'z'), (3, 'abd'), (3, 'abc')]"),
        "{text}"
    );
    assert!(
        !lines[0].contains("next ->"),
        "the only leaf has no sibling"
    );
    assert!(lines[1]
        .starts_with("height 1; blocks per level: L0 1; entries: 4 in leaves, 0 in branches;"));

    let dot = s.dump_index("p_ab", DumpFormat::Dot).unwrap();
    assert_eq!(dot.matches(" [label=<").count(), 1);
    assert!(!dot.contains(" -> "), "no children, no sibling\n{dot}");
    assert!(dot.contains(r#"<td port="e0">(1, 'it''s')</td>"#), "{dot}");
}

#[test]
fn an_empty_index_is_one_empty_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut s = db.session();
    s.create_table("e", &[Column::new("k", ColType::Integer)])
        .unwrap();
    s.create_index("e_k", "e", &[("k", Order::Asc)]).unwrap();
    let text = s.dump_index("e_k", DumpFormat::Text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(": 0 entries, ") && lines[0].ends_with("keys []"),
        "{text}"
    );
    assert!(lines[1]
        .starts_with("height 1; blocks per level: L0 1; entries: 0 in leaves, 0 in branches;"));
    let dot = s.dump_index("e_k", DumpFormat::Dot).unwrap();
    assert!(dot.contains("(no entries)"), "{dot}");
    assert_eq!(dot.matches(" [label=<").count(), 1);
}

#[test]
fn dot_labels_escape_key_text_that_looks_like_markup() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut s = db.session();
    s.create_table("m", &[Column::new("k", ColType::Text)])
        .unwrap();
    s.insert("m", vec![Value::Text(r#"{a|b}<c>"d"\"#.into())])
        .unwrap();
    s.commit().unwrap();
    s.create_index("m_k", "m", &[("k", Order::Asc)]).unwrap();
    let dot = s.dump_index("m_k", DumpFormat::Dot).unwrap();
    let label = dot.lines().find(|l| l.contains(" [label=<")).unwrap();
    assert!(
        label.contains(r#"('{a|b}&lt;c&gt;&quot;d&quot;\')"#),
        "{dot}"
    );
    // Only markup is left unescaped: its angle brackets pair up.
    assert_eq!(label.matches('<').count(), label.matches('>').count());
}

#[test]
fn a_dump_sees_the_tree_as_of_its_snapshot_not_later_splits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    load(&db, 10);
    let mut reader = db.session();
    reader.set_isolation(Isolation::Serializable).unwrap();
    let before = reader.dump_index("t_k", DumpFormat::Text).unwrap();
    assert!(
        before.starts_with("L0 "),
        "10 keys fit in the root leaf\n{before}"
    );
    // Another session adds rows, committing each, until the root splits.
    let mut w = db.session();
    let mut i = 10;
    while w
        .dump_index("t_k", DumpFormat::Text)
        .unwrap()
        .starts_with("L0 ")
    {
        w.insert("t", vec![Value::Text(key(i)), Value::Int(i as i64)])
            .unwrap();
        w.commit().unwrap();
        i += 1;
    }
    // The serializable reader still sees one leaf of 10 keys.
    let again = reader.dump_index("t_k", DumpFormat::Text).unwrap();
    let (lines, _) = split_dump(&again);
    assert_eq!(lines.len(), 1, "{again}");
    assert_eq!((lines[0].level, lines[0].entries), (0, 10), "{again}");
}

#[test]
fn dumping_an_unknown_index_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut s = db.session();
    let err = s.dump_index("nope", DumpFormat::Text).unwrap_err();
    assert!(
        matches!(err, Error::NoSuchObject { kind: "index", .. }),
        "{err}"
    );
}
