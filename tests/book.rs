//! The course book's includes: every `{{#include path[:anchor]}}` in
//! book/src must name a file that exists and, with an anchor, an
//! `ANCHOR: name` inside it (mdBook itself renders a missing anchor as
//! nothing and still succeeds). Every chapter in SUMMARY.md exists, and
//! every lab appears in the book with its transcript, and every statistic
//! has an entry in the statistics reference (chapter 11). Every mechanism
//! chapter (2 to 9) includes at least one property test from `tests/`.

use std::path::{Path, PathBuf};

fn chapters() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from("book/src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// (file, anchor) of each include directive in `text`.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{#include ") {
        rest = &rest[i + "{{#include ".len()..];
        let end = rest.find("}}").expect("unterminated include");
        let arg = rest[..end].trim();
        match arg.split_once(':') {
            Some((f, a)) if !a.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                out.push((f.to_string(), Some(a.to_string())))
            }
            Some((f, _)) => out.push((f.to_string(), None)),
            None => out.push((arg.to_string(), None)),
        }
        rest = &rest[end..];
    }
    out
}

/// Whether `body` has a line with `KIND: name` where the name ends there
/// (end of line, a space, or an HTML comment's `-->`), as mdBook reads it:
/// `ANCHOR: c1` must not be satisfied by `ANCHOR: c10`.
fn has_marker(body: &str, kind: &str, name: &str) -> bool {
    let marker = format!("{kind}: {name}");
    body.lines().any(|line| {
        line.match_indices(&marker).any(|(i, _)| {
            line[i + marker.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
        })
    })
}

#[test]
fn every_include_resolves() {
    let mut checked = 0;
    for ch in chapters() {
        let text = std::fs::read_to_string(&ch).unwrap();
        for (file, anchor) in includes(&text) {
            let path = ch.parent().unwrap_or(Path::new(".")).join(&file);
            let body = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!("{}: includes {} which does not exist", ch.display(), file)
            });
            if let Some(a) = anchor {
                assert!(
                    has_marker(&body, "ANCHOR", &a) && has_marker(&body, "ANCHOR_END", &a),
                    "{}: {} has no anchor {a}",
                    ch.display(),
                    file
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "the book includes nothing");
}

#[test]
fn the_summary_lists_existing_chapters() {
    let summary = std::fs::read_to_string("book/src/SUMMARY.md").unwrap();
    for line in summary.lines() {
        if let (Some(a), Some(b)) = (line.find("]("), line.rfind(')')) {
            let file = &line[a + 2..b];
            assert!(
                Path::new("book/src").join(file).exists(),
                "SUMMARY.md lists {file}, which does not exist"
            );
        }
    }
}

#[test]
fn every_lab_is_in_the_book_with_its_transcript_and_counter_test() {
    let all: String = chapters()
        .iter()
        .map(|c| std::fs::read_to_string(c).unwrap())
        .collect();
    let incs = includes(&all);
    for lab in blocklab_labs::registry() {
        let t = format!("transcripts/labs/{}.txt", lab.id);
        assert!(
            all.contains(&t),
            "lab {} is not in the book: include {t} in its chapter",
            lab.id
        );
        // Its pinned counters, from tests/labs_pins/*.rs by anchor (which
        // `every_include_resolves` checks exists).
        assert!(
            incs.iter().any(|(file, anchor)| file.contains("tests/labs_pins/")
                && anchor.as_deref() == Some(lab.id)),
            "lab {}'s counter test is not in the book: include tests/labs_pins/<group>.rs:{} after its transcript",
            lab.id,
            lab.id
        );
    }
}

// ANCHOR: every_statistic
#[test]
fn every_statistic_is_in_the_reference() {
    let reference = std::fs::read_to_string("book/src/ch11-glossary.md").unwrap();
    let missing: Vec<&str> = blocklab::Stat::ALL
        .iter()
        .map(|s| s.name())
        // Each statistic is named in code style in its own table row.
        .filter(|name| !reference.contains(&format!("| `{name}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "statistics without an entry in book/src/ch11-glossary.md: {missing:?}"
    );
}
// ANCHOR_END: every_statistic

/// The text between `ANCHOR: name` and `ANCHOR_END: name` in `body`.
fn anchored_region(body: &str, name: &str) -> Option<String> {
    let mut lines = body.lines();
    lines.find(|l| has_marker(l, "ANCHOR", name))?;
    let mut out = String::new();
    for l in lines {
        if has_marker(l, "ANCHOR_END", name) {
            return Some(out);
        }
        out.push_str(l);
        out.push('\n');
    }
    None
}

/// The rule for "a property test": the region holds a `proptest!` block,
/// or drives proptest's `TestRunner` itself (as the crash model does, so
/// that a seed can replay a run).
fn is_property_test(region: &str) -> bool {
    region.contains("proptest!") || region.contains("TestRunner::")
}

/// The `file:anchor` includes in `text` (a page in `dir`) that name an
/// anchored region of a `tests/*.rs` file which is a property test.
fn property_test_includes(dir: &Path, text: &str) -> Vec<String> {
    includes(text)
        .into_iter()
        .filter_map(|(file, anchor)| {
            let anchor = anchor?;
            if !(file.contains("tests/") && file.ends_with(".rs")) {
                return None;
            }
            let body = std::fs::read_to_string(dir.join(&file)).ok()?;
            let region = anchored_region(&body, &anchor)?;
            is_property_test(&region).then(|| format!("{file}:{anchor}"))
        })
        .collect()
}

#[test]
fn every_mechanism_chapter_includes_a_property_test() {
    let dir = Path::new("book/src");
    // The rule tells the two kinds apart (so the check below can fail).
    assert!(
        property_test_includes(dir, "{{#include ../../tests/logical_read.rs:full_scan}}")
            .is_empty()
    );
    assert_eq!(
        property_test_includes(dir, "{{#include ../../tests/mechanism_models.rs:cr_model}}"),
        ["../../tests/mechanism_models.rs:cr_model"]
    );
    for n in 2..=9 {
        let prefix = format!("ch{n:02}-");
        let ch = chapters()
            .into_iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&prefix))
            })
            .unwrap_or_else(|| panic!("no chapter {prefix}*.md"));
        let text = std::fs::read_to_string(&ch).unwrap();
        assert!(
            !property_test_includes(dir, &text).is_empty(),
            "{} includes no property test: include an anchored region of a tests/*.rs \
             file that holds a proptest! block (or runs proptest's TestRunner)",
            ch.display()
        );
    }
}
