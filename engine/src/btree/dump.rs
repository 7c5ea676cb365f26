//! A picture of one index: every block of the tree, as of one snapshot, as
//! indented text or as a Graphviz graph (`Session::dump_index`).
//!
//! The walk is breadth-first from the root: the root, then every block one
//! level down in the order its parent lists them, and so on down to the
//! leaves. Each block is a consistent get as of the statement's snapshot,
//! counted like the gets of a scan (root, branch or leaf gets), so the
//! picture is the tree exactly as a query at that SCN would see it — a split
//! committed later is undone in the copies read, and its new blocks are not
//! reached at all. Nothing is locked or changed.
//!
//! ## Text
//!
//! ```text
//!  L1 block 1063: 4 entries, 9% full, keys [-inf, (50), (101), (151)]
//!    L0 block 1064: 50 entries, 69% full, keys [(0) .. (49)], next -> 1066
//!    L0 block 1066: 51 entries, 71% full, keys [(50) .. (100)], next -> 1065
//!    L0 block 1065: 50 entries, 70% full, keys [(101) .. (150)], next -> 1067
//!    L0 block 1067: 49 entries, 68% full, keys [(151) .. (199)]
//!  height 2; blocks per level: L1 1, L0 4; entries: 200 in leaves, 4 in branches; average leaf fill 69%
//! ```
//!
//! (An index on one INTEGER column of 200 rows in 2 KiB blocks: the
//! leaves came from splits, so their block numbers are not in key order,
//! but the chain is.)
//!
//! One line per block, indented two spaces per level below the root. A
//! block's keys are decoded (`key::split_rowid`, then `key::decode_key`)
//! and shown as value tuples; a block of at most [`SHOW_ALL_MAX`] entries
//! lists them all, a fuller one only its first and last. Branch keys are
//! separators: the lowest key the child may hold, copied from a leaf entry
//! when the child split, rowid suffix included (and dropped here, like a
//! leaf's); the first separator of the leftmost branch on each level is
//! empty and printed as `-inf`. A leaf shows its right sibling
//! (`next -> 1066`); the last leaf shows none. Fill is the block's encoded
//! length (header, ITL and body — what the split predicate in `tree`
//! compares with the block size) over the block size, rounded. The last
//! line sums up: height (root level + 1), blocks on each level, entries,
//! and the average fill of the leaves.
//!
//! ## Dot
//!
//! A `digraph` with one node per block (`b<block>`) drawn as a two-row
//! table: level and block number, then one cell per key (first and last
//! only beyond [`SHOW_ALL_MAX`], the rest folded into one "… n more …"
//! cell). A solid edge leaves each branch entry's cell (its port) for the
//! child, a dashed edge follows each leaf's `next`, and each level is one
//! `rank=same` group. The labels are Graphviz's HTML-like tables rather than
//! `shape=record`: `dot` cannot route an edge between two neighbouring
//! record nodes of one rank ("flat edge between adjacent nodes one of which
//! has a record shape") and drops it, which would lose every `next` link.
//! Key text is escaped for that markup (`& < > "`).
//!
//! Invariant: in a well-formed tree each block is reached from exactly one
//! branch entry, so a dump of `n` blocks has `n − 1` child edges; a block
//! reached twice, a child not exactly one level below its parent, a branch
//! without entries or a key that does not decode is reported as
//! `Error::Corrupt`, never drawn.
//!
//! Simplifications compared with a production tool (Oracle's `ALTER
//! SESSION SET EVENTS 'immediate trace name treedump level <obj>'`): the
//! whole tree is held in memory before it is printed, and values are never
//! shortened, so long keys make long lines.

use std::collections::{HashSet, VecDeque};
use std::fmt::Write as _;

use crate::block::index::{IdxEntry, IndexBody};
use crate::btree::key::{decode_key, split_rowid, KeyColumn};
use crate::error::{Error, Result};
use crate::ids::BlockNo;
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};
use crate::txn::{read_consistent, Snapshot};
use crate::value::Value;

/// What `Session::dump_index` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// One indented line per block, then a summary line.
    Text,
    /// A Graphviz `digraph` (render with `dot -Tsvg`).
    Dot,
}

/// A block with at most this many entries has every key shown; a fuller
/// one shows its first and last (a 2 KiB leaf holds about 70 INTEGER keys).
pub const SHOW_ALL_MAX: usize = 8;

/// How much of a block's key list a dump shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShowKeys {
    All,
    /// The first and the last key.
    Range,
}

impl ShowKeys {
    fn for_entries(n: usize) -> ShowKeys {
        if n <= SHOW_ALL_MAX {
            ShowKeys::All
        } else {
            ShowKeys::Range
        }
    }
}

/// One block as the walk found it.
struct Node {
    no: BlockNo,
    /// Levels below the root (the root is 0).
    depth: u32,
    /// `Block::encoded_len`: header, ITL and body.
    len: usize,
    body: IndexBody,
    /// The decoded keys, one per entry.
    keys: Vec<String>,
}

/// Dumps the index `name` whose root is `root` and whose keys are made of
/// `cols`, as of `snap`. Reads only.
pub(crate) fn dump(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    name: &str,
    root: BlockNo,
    cols: &[KeyColumn],
    format: DumpFormat,
) -> Result<String> {
    let nodes = walk(core, stats, snap, root, cols)?;
    let bs = core.file.block_size();
    Ok(match format {
        DumpFormat::Text => text(&nodes, bs),
        DumpFormat::Dot => dot(name, &nodes),
    })
}

/// Reads every block of the tree breadth-first, as of `snap`.
fn walk(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    root: BlockNo,
    cols: &[KeyColumn],
) -> Result<Vec<Node>> {
    let corrupt = |no: BlockNo, why: &str| Error::corrupt(core.file.name(), no.0 as u64, why);
    stats.inc(Stat::IndexDescents);
    let mut nodes = Vec::new();
    // (block, depth, the level its parent says it must have)
    let mut queue = VecDeque::from([(root, 0u32, None::<u8>)]);
    // A block reached twice means two parents (or a cycle, which would
    // otherwise never end).
    let mut seen = HashSet::from([root]);
    while let Some((no, depth, want)) = queue.pop_front() {
        let v = read_consistent(core, stats, no, snap)?;
        let body = crate::btree::tree::node(core, &v)?.clone();
        let len = v.encoded_len();
        drop(v);
        stats.inc(if no == root {
            Stat::IndexRootGets
        } else if body.is_leaf() {
            Stat::IndexLeafGets
        } else {
            Stat::IndexBranchGets
        });
        if want.is_some_and(|w| w != body.level) {
            return Err(corrupt(no, "index block level is not one below its parent"));
        }
        if !body.is_leaf() {
            if body.entries().is_empty() {
                return Err(corrupt(no, "branch block without entries"));
            }
            for e in body.entries() {
                let child = BlockNo(e.val as u32);
                if !seen.insert(child) {
                    return Err(corrupt(child, "index block reached from two entries"));
                }
                queue.push_back((child, depth + 1, Some(body.level - 1)));
            }
        }
        let keys = body
            .entries()
            .iter()
            .map(|e| {
                if body.is_leaf() {
                    render_key(cols, e)
                } else {
                    Ok(render_separator(cols, e))
                }
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|why| corrupt(no, &why))?;
        nodes.push(Node {
            no,
            depth,
            len,
            body,
            keys,
        });
    }
    Ok(nodes)
}

/// `(3, 'abc')`; `-inf` for the empty separator of a leftmost branch.
fn render_key(cols: &[KeyColumn], e: &IdxEntry) -> std::result::Result<String, String> {
    if e.key().is_empty() {
        return Ok("-inf".into());
    }
    let (key, _) = split_rowid(e.key()).ok_or("index entry without a rowid")?;
    let vals = decode_key(cols, key)?;
    let shown: Vec<String> = vals.iter().map(literal).collect();
    Ok(format!("({})", shown.join(", ")))
}

/// A branch separator. A leaf split keeps only as much of the first upper
/// key as tells the two leaves apart (`tree::split_key`): the key values
/// without the rowid, or a cut inside a value, shown as its bytes.
fn render_separator(cols: &[KeyColumn], e: &IdxEntry) -> String {
    // Values alone first: decoding them as a key with a rowid would take
    // their last six bytes for one.
    if let Ok(vals) = decode_key(cols, e.key()) {
        let shown: Vec<String> = vals.iter().map(literal).collect();
        return format!("({})", shown.join(", "));
    }
    render_key(cols, e).unwrap_or_else(|_| {
        let hex: String = e.key().iter().map(|b| format!("{b:02x}")).collect();
        format!("x'{hex}'")
    })
}

/// A value as SQL would write it, on one line: text quoted (`'` doubled),
/// control characters escaped as in Rust.
fn literal(v: &Value) -> String {
    match v {
        Value::Text(s) => {
            let mut out = String::from("'");
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    c if c.is_control() => out.extend(c.escape_default()),
                    c => out.push(c),
                }
            }
            out.push('\'');
            out
        }
        other => other.to_string(),
    }
}

/// Percent of `bs`, rounded to nearest.
fn percent(len: usize, bs: usize) -> usize {
    (len * 100 + bs / 2) / bs.max(1)
}

fn text(nodes: &[Node], bs: usize) -> String {
    let mut out = String::new();
    for n in nodes {
        let keys = match ShowKeys::for_entries(n.keys.len()) {
            ShowKeys::All => n.keys.join(", "),
            ShowKeys::Range => format!("{} .. {}", n.keys[0], n.keys[n.keys.len() - 1]),
        };
        let _ = write!(
            out,
            "{:indent$}L{} block {}: {} entries, {}% full, keys [{keys}]",
            "",
            n.body.level,
            n.no.0,
            n.body.entries().len(),
            percent(n.len, bs),
            indent = 2 * n.depth as usize,
        );
        if n.body.is_leaf() && n.body.next != 0 {
            let _ = write!(out, ", next -> {}", n.body.next);
        }
        out.push('\n');
    }
    out.push_str(&summary(nodes, bs));
    out.push('\n');
    out
}

/// `height 2; blocks per level: L1 1, L0 7; entries: 150 in leaves, 7 in
/// branches; average leaf fill 62%`.
fn summary(nodes: &[Node], bs: usize) -> String {
    let root_level = nodes.first().map_or(0, |n| n.body.level);
    let per_level: Vec<String> = (0..=root_level)
        .rev()
        .map(|l| {
            let count = nodes.iter().filter(|n| n.body.level == l).count();
            format!("L{l} {count}")
        })
        .collect();
    let leaves: Vec<&Node> = nodes.iter().filter(|n| n.body.is_leaf()).collect();
    let entries = |leaf: bool| -> usize {
        nodes
            .iter()
            .filter(|n| n.body.is_leaf() == leaf)
            .map(|n| n.body.entries().len())
            .sum()
    };
    let leaf_bytes: usize = leaves.iter().map(|n| n.len).sum();
    format!(
        "height {}; blocks per level: {}; entries: {} in leaves, {} in branches; \
         average leaf fill {}%",
        u32::from(root_level) + 1,
        per_level.join(", "),
        entries(true),
        entries(false),
        percent(leaf_bytes, bs * leaves.len()),
    )
}

/// Escapes text for an HTML-like label, where `< > &` are markup and `"`
/// is safest spelled out.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The key cells of a block's label, each with the port its edges leave
/// from, and for each entry the port of its cell (entries folded into the
/// "… n more …" cell share its port).
fn cells(n: &Node) -> (Vec<(Option<String>, String)>, Vec<String>) {
    let k = &n.keys;
    match ShowKeys::for_entries(k.len()) {
        ShowKeys::All if k.is_empty() => (vec![(None, "(no entries)".into())], vec![]),
        ShowKeys::All => {
            let ports: Vec<String> = (0..k.len()).map(|i| format!("e{i}")).collect();
            let c = ports
                .iter()
                .zip(k)
                .map(|(p, t)| (Some(p.clone()), t.clone()));
            (c.collect(), ports)
        }
        ShowKeys::Range => {
            let last = k.len() - 1;
            let c = vec![
                (Some("first".to_string()), k[0].clone()),
                (
                    Some("more".to_string()),
                    format!("… {} more …", k.len() - 2),
                ),
                (Some("last".to_string()), k[last].clone()),
            ];
            let ports = (0..k.len())
                .map(|i| match i {
                    0 => "first".to_string(),
                    i if i == last => "last".to_string(),
                    _ => "more".to_string(),
                })
                .collect();
            (c, ports)
        }
    }
}

/// One block as a two-row table: its level and number, then its keys.
fn label(n: &Node, cells: &[(Option<String>, String)]) -> String {
    let mut out = String::from(r#"<<table border="0" cellborder="1" cellspacing="0">"#);
    let _ = write!(
        out,
        r#"<tr><td colspan="{}">L{} block {}</td></tr><tr>"#,
        cells.len(),
        n.body.level,
        n.no.0
    );
    for (port, text) in cells {
        match port {
            Some(p) => {
                let _ = write!(out, r#"<td port="{p}">{}</td>"#, escape_html(text));
            }
            None => {
                let _ = write!(out, "<td>{}</td>", escape_html(text));
            }
        }
    }
    out.push_str("</tr></table>>");
    out
}

fn dot(name: &str, nodes: &[Node]) -> String {
    let mut out = String::new();
    let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(out, "digraph \"{quoted}\" {{");
    out.push_str("  node [shape=plain, fontname=\"monospace\", fontsize=10];\n");
    let mut edges = String::new();
    for n in nodes {
        let (cells, ports) = cells(n);
        let _ = writeln!(out, "  b{} [label={}];", n.no.0, label(n, &cells));
        if n.body.is_leaf() {
            if n.body.next != 0 {
                let _ = writeln!(
                    edges,
                    "  b{} -> b{} [style=dashed, constraint=false];",
                    n.no.0, n.body.next
                );
            }
        } else {
            for (e, port) in n.body.entries().iter().zip(&ports) {
                let _ = writeln!(edges, "  b{}:{port} -> b{};", n.no.0, e.val);
            }
        }
    }
    out.push_str(&edges);
    let root_level = nodes.first().map_or(0, |n| n.body.level);
    for level in (0..=root_level).rev() {
        let ids: Vec<String> = nodes
            .iter()
            .filter(|n| n.body.level == level)
            .map(|n| format!("b{};", n.no.0))
            .collect();
        let _ = writeln!(out, "  {{ rank=same; {} }}", ids.join(" "));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn label_markup_is_escaped() {
        assert_eq!(
            escape_html(r#"{a|b}<c>"d"&"#),
            "{a|b}&lt;c&gt;&quot;d&quot;&amp;"
        );
    }

    #[test]
    fn text_keys_print_as_sql_literals_on_one_line() {
        assert_eq!(literal(&Value::Text("it's\n".into())), "'it''s\\n'");
        assert_eq!(literal(&Value::Int(-3)), "-3");
        assert_eq!(literal(&Value::Null), "NULL");
    }

    #[test]
    fn the_empty_separator_is_minus_infinity() {
        let e = IdxEntry::new(Bytes::new(), 7, 0);
        assert_eq!(render_key(&[], &e).unwrap(), "-inf");
    }

    #[test]
    fn more_than_eight_entries_show_only_first_and_last() {
        assert_eq!(ShowKeys::for_entries(8), ShowKeys::All);
        assert_eq!(ShowKeys::for_entries(9), ShowKeys::Range);
    }
}
