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

/// The problems in an exercise section: fewer than three or more than five
/// exercises, or an exercise without a command to run, a prediction to make
/// or a folded answer.
fn exercise_problems(chapter: &str) -> Vec<String> {
    let Some(at) = chapter.find("\n## Exercises\n") else {
        return vec!["no `## Exercises` section".into()];
    };
    let section = &chapter[at + 1..];
    let mut problems = Vec::new();
    if section[3..].contains("\n## ") {
        problems.push("`## Exercises` is not the last section".into());
    }
    let exercises: Vec<&str> = section.split("\n### ").skip(1).collect();
    if !(3..=5).contains(&exercises.len()) {
        problems.push(format!("{} exercises, not 3 to 5", exercises.len()));
    }
    for e in exercises {
        let title = e.lines().next().unwrap_or("");
        for (need, what) in [
            ("```sh", "a command to run"),
            ("**Predict:**", "a prediction to make"),
            ("<details><summary>Answer", "a folded answer"),
        ] {
            if !e.contains(need) {
                problems.push(format!("exercise {title:?} lacks {what}"));
            }
        }
    }
    problems
}

/// Every mechanism chapter (2–9) ends with 3–5 exercises, each with a
/// command, a prediction and its answer; every "Predict before you run"
/// in the book has its answer folded beneath it.
#[test]
fn chapters_end_with_exercises_and_every_prediction_is_answered() {
    let mut problems = Vec::new();
    for ch in chapters() {
        let name = ch.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&ch).unwrap();
        let mechanism = (2..=9).any(|n| name.starts_with(&format!("ch{n:02}-")));
        if mechanism {
            problems.extend(
                exercise_problems(&text)
                    .into_iter()
                    .map(|p| format!("{name}: {p}")),
            );
        }
        if let Some(at) = text.find("## Predict before you run") {
            let rest = &text[at..];
            let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
            if !rest[..end].contains("<details>") {
                problems.push(format!("{name}: its prediction has no answer"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The check itself: a chapter without exercises, and one whose
    // exercise lacks its answer, are both reported.
    assert_eq!(exercise_problems("# T\n\n## Questions\n").len(), 1);
    let no_answer = "# T\n\n## Exercises\n\n### A\n\n```sh\nx\n```\n\n**Predict:** y\n\n### B\n\n```sh\nx\n```\n\n**Predict:** y\n\n<details><summary>Answer</summary>\n\n### C\n\n```sh\nx\n```\n\n**Predict:** y\n\n<details><summary>Answer</summary>\n";
    assert_eq!(
        exercise_problems(no_answer),
        vec!["exercise \"A\" lacks a folded answer".to_string()]
    );
}

/// Every file of the repository, as paths relative to its root (build
/// output and version control left out).
fn repository_files() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(".")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                if name != "target" && name != ".git" {
                    stack.push(p);
                }
            } else {
                out.push(p.to_string_lossy().trim_start_matches("./").to_string());
            }
        }
    }
    out
}

/// The file names a text mentions: runs of path characters ending in an
/// extension the book's files use.
fn file_mentions(text: &str) -> Vec<String> {
    const EXTS: [&str; 8] = [
        ".md", ".rs", ".sql", ".toml", ".txt", ".out", ".json", ".svg",
    ];
    let is_path = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    text.split(|c: char| !is_path(c))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| EXTS.iter().any(|x| w.ends_with(x) && w.len() > x.len()))
        .map(str::to_string)
        .collect()
}

/// The book names no file outside the repository: every file it mentions
/// is one of the repository's (by its path from the root or from the
/// book's sources, or by the end of a path such as `redo/log.rs`) or one
/// a command in the same chapter writes (`> later.sql`), and it never
/// points at the team's notes beside the repository.
#[test]
fn the_book_names_no_file_outside_the_repository() {
    let files = repository_files();
    let known = |m: &str| {
        let m = m.trim_start_matches("../../");
        files
            .iter()
            .any(|f| f == m || f == &format!("book/src/{m}") || f.ends_with(&format!("/{m}")))
    };
    let mut problems = Vec::new();
    for ch in chapters() {
        let text = std::fs::read_to_string(&ch).unwrap();
        for m in file_mentions(&text) {
            // A file the reader makes with one of the book's own commands.
            let made_here = text.contains(&format!("> {m}"));
            if !known(&m) && !made_here {
                problems.push(format!(
                    "{}: names {m}, which is not in the repository",
                    ch.display()
                ));
            }
        }
        // A path above the repository, or a section sign: the book cites
        // its own chapters and public sources by name, never "§n" of a
        // document the reader does not have (a file name such documents
        // carry is caught above, as any file not in the repository).
        for outside in ["../shared", "§"] {
            if text.contains(outside) {
                problems.push(format!(
                    "{}: points outside the repository ({outside})",
                    ch.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The check itself.
    assert!(!known("shared/reference/NOTES.md"));
    assert!(known("redo/log.rs") && known("transcripts/labs/C01.txt"));
    assert_eq!(
        file_mentions("see `tests/book.rs`, then x.rs."),
        ["tests/book.rs", "x.rs"]
    );
}

/// Chapters quote lab transcripts by their anchors (the lines that make
/// their point: `verdict`, `evidence`), never whole, since a whole-file
/// include would print the anchor lines; Appendix B quotes every
/// transcript whole (`all`), so none is left out of the book.
#[test]
fn lab_transcripts_are_sliced_in_chapters_and_whole_in_the_appendix() {
    let appendix = std::fs::read_to_string("book/src/appendix-lab-transcripts.md").unwrap();
    let mut problems = Vec::new();
    for e in std::fs::read_dir("book/src/transcripts/labs").unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if !appendix.contains(&format!("{{{{#include transcripts/labs/{name}:all}}}}")) {
            problems.push(format!("Appendix B does not quote {name}"));
        }
    }
    for ch in chapters() {
        let text = std::fs::read_to_string(&ch).unwrap();
        for (file, anchor) in includes(&text) {
            if file.contains("transcripts/labs/") && anchor.is_none() {
                problems.push(format!("{} includes {file} whole", ch.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

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
