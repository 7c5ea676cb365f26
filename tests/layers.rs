//! The engine's layering, checked: `engine/src/lib.rs` documents the layers
//! as table rows `//! | N name | `module`, `module` |`, lowest first, and
//! this test fails when a module names a module of a higher layer, or when
//! modules name each other in a cycle (which the layer rule allows inside
//! one layer, and which would make that layer one tangled unit).
//!
//! What counts as naming a module: a `crate::m` path anywhere in code (in a
//! `use` line or inline), the members of a `use crate::{a, b::c}` group, and
//! a `super::` chain that climbs to the crate root and names `m` there.
//! Comments and string literals are skipped, so a doc comment may point the
//! reader to a higher layer ("the caller is `sql::select`").
//!
//! A checker that never fails proves nothing, so `the_checker_finds_planted_violations`
//! runs it on a small fixture (`tests/layers/fixture`) whose lower modules
//! name higher ones in each of those ways, and expects every one of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rows of the lib.rs doc table, in order: (layer label such as
/// `3 storage`, layer number, module), one per module.
fn layer_rows(lib_rs: &str) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    for line in lib_rs.lines() {
        let Some(row) = line.strip_prefix("//! |") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(n) = cells
            .first()
            .and_then(|c| c.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        for m in cells.get(1).unwrap_or(&"").split(',') {
            let m = m.trim().trim_matches('`');
            if !m.is_empty() {
                out.push((cells[0].to_string(), n, m.to_string()));
            }
        }
    }
    out
}

/// Module name → layer number.
fn layer_table(lib_rs: &str) -> BTreeMap<String, u32> {
    layer_rows(lib_rs)
        .into_iter()
        .map(|(_, n, m)| (m, n))
        .collect()
}

/// Every `.rs` file under `src`, with its module path (`["btree", "tree"]`;
/// a `mod.rs` is its directory's module; `lib.rs` is the empty path).
fn source_files(src: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap();
                let mut path: Vec<String> = rel
                    .iter()
                    .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
                    .collect();
                if path.last().is_some_and(|l| l == "mod" || l == "lib") {
                    path.pop();
                }
                out.push((p, path));
            }
        }
    }
    out.sort();
    out
}

/// The code of a Rust file with comments and string/char literals blanked
/// out (kept as spaces so that nothing else moves).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            out.extend(std::iter::repeat_n(' ', end));
            i += end;
        } else if rest.starts_with("/*") {
            // Block comments nest in Rust.
            let (mut depth, mut j) = (0usize, 0usize);
            while j < rest.len() {
                if rest[j..].starts_with("/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with("*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += rest[j..].chars().next().unwrap().len_utf8();
                }
            }
            out.extend(
                rest[..j]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' }),
            );
            i += j;
        } else if let Some(len) = raw_string_len(rest) {
            out.extend(
                rest[..len]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' }),
            );
            i += len;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && !rest[j..].starts_with('"') {
                j += if rest[j..].starts_with('\\') { 2 } else { 1 };
                while !rest.is_char_boundary(j.min(rest.len())) {
                    j += 1;
                }
            }
            let j = (j + 1).min(rest.len());
            out.extend(
                rest[..j]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' }),
            );
            i += j;
        } else if let Some(len) = char_literal_len(rest) {
            out.extend(std::iter::repeat_n(' ', len));
            i += len;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start.
fn raw_string_len(s: &str) -> Option<usize> {
    let t = s.strip_prefix('b').unwrap_or(s);
    let t = t.strip_prefix('r')?;
    let hashes = t.len() - t.trim_start_matches('#').len();
    let body = t[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&close)?;
    Some(s.len() - body.len() + end + close.len())
}

/// Length of a char literal (`'a'`, `'\n'`, `'\''`) at the start; `None`
/// for a lifetime (`'a`).
fn char_literal_len(s: &str) -> Option<usize> {
    let t = s.strip_prefix('\'')?;
    let mut chars = t.char_indices();
    let (_, c) = chars.next()?;
    let after = if c == '\\' {
        t[1..].find('\'')? + 1
    } else {
        c.len_utf8()
    };
    t[after..].starts_with('\'').then_some(after + 2)
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first identifier of each item of a `{a::b, c, d::{e}}` group, `s`
/// starting just after the `{`.
fn group_heads(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut at_item) = (1usize, true);
    let mut i = 0;
    while i < s.len() && depth > 0 {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap();
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => at_item = true,
            c if c.is_whitespace() => {}
            _ if at_item && depth == 1 => {
                let id = ident_at(rest);
                if !id.is_empty() {
                    out.push(id.to_string());
                    i += id.len();
                    at_item = false;
                    continue;
                }
                at_item = false;
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    out
}

/// Top-level modules named by the code of a file at module path `path`.
fn names_used(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut heads = |after: &str| {
        if let Some(g) = after.strip_prefix('{') {
            out.extend(group_heads(g));
        } else {
            let id = ident_at(after);
            if !id.is_empty() {
                out.insert(id.to_string());
            }
        }
    };
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` in a macro, or part of a longer name
        }
        heads(&code[i + "crate::".len()..]);
    }
    // A `super::` chain long enough to reach the root names a top module.
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue; // inside a longer chain, counted from its start
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == path.len() {
            heads(rest);
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Finding {
    /// (file, its module, the higher module it names)
    Upward(String, String, String),
    /// A module missing from the layer table.
    Unlisted(String),
    /// Modules that name each other in a cycle.
    Cycle(Vec<String>),
}

fn check(src: &Path) -> Vec<Finding> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let layers = layer_table(&lib);
    assert!(!layers.is_empty(), "no layer table in {}", src.display());
    let mut findings = BTreeSet::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, path) in source_files(src) {
        let Some(top) = path.first() else { continue };
        let Some(&own) = layers.get(top) else {
            findings.insert(Finding::Unlisted(top.clone()));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let rel = file.strip_prefix(src).unwrap().display().to_string();
        for used in names_used(&code, &path) {
            if &used == top || used == "self" || used == "super" {
                continue;
            }
            let Some(&theirs) = layers.get(&used) else {
                // `crate::Error` and other re-exports at the root name no module.
                continue;
            };
            graph.entry(top.clone()).or_default().insert(used.clone());
            if theirs > own {
                findings.insert(Finding::Upward(rel.clone(), top.clone(), used));
            }
        }
    }
    for cycle in cycles(&graph) {
        findings.insert(Finding::Cycle(cycle));
    }
    findings.into_iter().collect()
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct St<'g> {
        g: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, (usize, usize)>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(st: &mut St<'g>, v: &'g str) {
        st.index.insert(v, (st.next, st.next));
        st.next += 1;
        st.stack.push(v);
        st.on.insert(v);
        if let Some(ws) = st.g.get(v) {
            for w in ws {
                if !st.index.contains_key(w.as_str()) {
                    visit(st, w);
                    let low = st.index[w.as_str()].1.min(st.index[v].1);
                    st.index.get_mut(v).unwrap().1 = low;
                } else if st.on.contains(w.as_str()) {
                    let low = st.index[w.as_str()].0.min(st.index[v].1);
                    st.index.get_mut(v).unwrap().1 = low;
                }
            }
        }
        if st.index[v].0 == st.index[v].1 {
            let mut comp = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                st.out.push(comp);
            }
        }
    }
    let mut st = St {
        g: graph,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !st.index.contains_key(v.as_str()) {
            visit(&mut st, v);
        }
    }
    st.out
}

#[test]
fn the_engine_imports_only_downward() {
    let findings = check(Path::new("engine/src"));
    assert!(
        findings.is_empty(),
        "layering violations (see the table in engine/src/lib.rs):\n{}",
        findings
            .iter()
            .map(|f| format!("  {f:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_finds_planted_violations() {
    let up = |f: &str, m: &str, u: &str| Finding::Upward(f.into(), m.into(), u.into());
    let found = check(Path::new("tests/layers/fixture/src"));
    let mut expected = vec![
        // `use crate::{high::X, mid::M};`
        up("low.rs", "low", "high"),
        up("low.rs", "low", "mid"),
        // an inline `crate::high::sub::h()` path in a function body
        up("mid/inner.rs", "mid", "high"),
        // `use super::super::peer::Y` from two levels down
        up("mid/inner.rs", "mid", "peer"),
        Finding::Unlisted("stray".into()),
        // high and peer name each other (both in layer 3)
        Finding::Cycle(vec!["high".into(), "peer".into()]),
        // low names mid upward, and mid names low downward
        Finding::Cycle(vec!["low".into(), "mid".into()]),
    ];
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn comments_and_strings_do_not_count() {
    let code = code_only(
        "// crate::high\n/* crate::x /* nested crate::y */ crate::z */\nlet s = \"crate::q\";\nlet r = r#\"crate::w\"#;\nlet c = '\"'; use crate::low;\n",
    );
    let used = names_used(&code, &["m".to_string()]);
    assert_eq!(used, BTreeSet::from(["low".to_string()]));
}

/// The first sentence of a module's `//!` doc (its first paragraph up to
/// the first `.` followed by a space or its end), on one line, with
/// rustdoc link brackets removed.
fn first_sentence(src: &Path, module: &str) -> String {
    let file = [
        src.join(format!("{module}.rs")),
        src.join(module).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("no source file for module {module}"));
    let text = std::fs::read_to_string(&file).unwrap();
    let para: Vec<&str> = text
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect();
    let para = para.join(" ").replace(['[', ']'], "");
    match para.find(". ") {
        Some(i) => para[..=i].to_string(),
        None => para,
    }
}

/// Chapter 1's map of the layers: one row per module, `| layer | `module` |
/// sentence |`, in the order of the lib.rs table, each sentence the first
/// sentence of the module's `//!` doc. On a mismatch the expected map is
/// printed, ready to paste.
#[test]
fn the_book_map_matches_the_module_docs() {
    let src = Path::new("engine/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let expected: Vec<String> = layer_rows(&lib)
        .iter()
        .map(|(label, _, m)| format!("| {label} | `{m}` | {} |", first_sentence(src, m)))
        .collect();
    let book = std::fs::read_to_string("book/src/ch01-using-the-kit.md").unwrap();
    let start = book
        .find("## The engine, layer by layer")
        .expect("chapter 1 has no layer map");
    let found: Vec<String> = book[start..]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Layer"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        found,
        expected,
        "chapter 1's layer map differs from the module docs; expected:\n{}",
        expected.join("\n")
    );
}
