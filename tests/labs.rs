//! The labs' counter evidence, pinned at the quick size: counters are
//! deterministic, so a change that breaks a mechanism a claim rests on
//! changes these numbers and fails here. Each lab also runs twice and must
//! give identical counter evidence, and its verdict must be the pinned one.
//! A lab that draws a chart has it in the book (book/src/charts/<ID>.svg).
//!
//! When a lab's evidence changes on purpose, update its entry below from
//! `blocklab labs --quick <ID>` and say why in the commit.

use blocklab_labs::{registry, LabCtx, Verdict};

// One file of pins per lab group, under tests/labs_pins/.
#[path = "labs_pins/access.rs"]
mod pins_access;
#[path = "labs_pins/dml.rs"]
mod pins_dml;
#[path = "labs_pins/index.rs"]
mod pins_index;
#[path = "labs_pins/joins.rs"]
mod pins_joins;
#[path = "labs_pins/ops.rs"]
mod pins_ops;
#[path = "labs_pins/physical.rs"]
mod pins_physical;

/// A lab's pinned outcome: (lab, verdict, counter evidence).
pub type Pin = (&'static str, Verdict, Vec<(&'static str, u64)>);

fn pinned() -> Vec<Pin> {
    let mut v = Vec::new();
    v.extend(pins_access::pins());
    v.extend(pins_dml::pins());
    v.extend(pins_index::pins());
    v.extend(pins_joins::pins());
    v.extend(pins_ops::pins());
    v.extend(pins_physical::pins());
    v
}

#[test]
fn every_lab_has_pinned_evidence() {
    let pins = pinned();
    for lab in registry() {
        assert!(
            pins.iter().any(|(id, _, _)| *id == lab.id),
            "lab {} has no pinned counter evidence in tests/labs.rs",
            lab.id
        );
    }
}

#[test]
fn lab_counters_are_pinned_and_repeatable() {
    let root = tempfile::tempdir().unwrap();
    for (id, verdict, counters) in pinned() {
        let lab = registry()
            .into_iter()
            .find(|l| l.id == id)
            .unwrap_or_else(|| panic!("no lab {id}"));
        let mut runs = Vec::new();
        for round in 0..2 {
            let mut ctx = LabCtx::new(&root.path().join(format!("{id}-{round}")), true).unwrap();
            let r = (lab.run)(&mut ctx).unwrap_or_else(|e| panic!("{id}: {e}"));
            runs.push(r);
        }
        assert_eq!(
            runs[0].counters(),
            runs[1].counters(),
            "{id}: not repeatable"
        );
        let got: Vec<(String, u64)> = runs[0].counters();
        if std::env::var_os("BLESS").is_some() {
            bless_pin(id, runs[0].verdict, &got);
            check_transcript(id, &runs[0].render_counters());
            continue;
        }
        let want: Vec<(String, u64)> = counters.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(
            got,
            want,
            "{id}: counter evidence changed\n{}",
            runs[0].render()
        );
        // A verdict that rests on timings (`timed_verdict`) can move
        // between `holds` and `depends` with the load on the machine, and
        // timings are never asserted: such a lab's pinned verdict is the one
        // seen when it was pinned, and only its counters are checked. A
        // verdict from counters alone must be the pinned one.
        if !runs[0].timed_verdict {
            assert_eq!(runs[0].verdict, verdict, "{id}: {}", runs[0].reason);
        }
        check_transcript(id, &runs[0].render_counters());
        check_chart_kept(id, runs[0].chart.is_some());
    }
}

/// `BLESS=1`: rewrites lab `id`'s pin (its `// ANCHOR: id` region in
/// tests/labs_pins/*.rs) from what the lab measured, so a deliberate change
/// re-pins every counter at once; review the diff before committing it.
fn bless_pin(id: &str, verdict: Verdict, got: &[(String, u64)]) {
    let (start, end) = (
        format!("// ANCHOR: {id}\n"),
        format!("// ANCHOR_END: {id}\n"),
    );
    for e in std::fs::read_dir("tests/labs_pins").unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (Some(a), Some(b)) = (text.find(&start), text.find(&end)) else {
            continue;
        };
        let indent = "        ";
        let mut pin = format!("{start}{indent}(\n{indent}    \"{id}\",\n{indent}    Verdict::{verdict:?},\n{indent}    vec![\n");
        for (name, v) in got {
            pin.push_str(&format!("{indent}        (\"{name}\", {v}),\n"));
        }
        pin.push_str(&format!("{indent}    ],\n{indent}),\n{indent}"));
        let text = format!("{}{pin}{}", &text[..a], &text[b..]);
        std::fs::write(&path, text).unwrap();
        return;
    }
    panic!("no pin for {id} in tests/labs_pins");
}

/// A lab that draws a chart at the quick size has it in the book
/// (book/src/charts/<ID>.svg), and only such a lab; `tests/charts.rs`
/// checks the book shows it and that it is current.
fn check_chart_kept(id: &str, charts: bool) {
    let path = std::path::Path::new("book/src/charts").join(format!("{id}.svg"));
    assert_eq!(
        charts,
        path.is_file(),
        "{id} {} a chart but {} {}: `cargo run --release -- labs --quick --charts book/src/charts` redraws the charts",
        if charts { "draws" } else { "draws no" },
        path.display(),
        if path.is_file() { "exists" } else { "is missing" },
    );
}

/// A lab transcript with mdBook anchors around its parts, so a chapter can
/// quote the lines that make its point and the appendix the whole:
/// `all` (everything), `head` (the command, title, claim and params),
/// `evidence` (the measured lines and notes) and `verdict` (the last line).
/// mdBook drops anchor lines from anything it includes by an anchor.
fn with_anchors(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let head_end = lines
        .iter()
        .position(|l| l.starts_with("  "))
        .unwrap_or(lines.len());
    let verdict = lines
        .iter()
        .rposition(|l| l.starts_with("verdict:"))
        .unwrap_or(lines.len());
    let mut out = String::from("# ANCHOR: all\n# ANCHOR: head\n");
    for (i, l) in lines.iter().enumerate() {
        if i == head_end.min(verdict) {
            out.push_str("# ANCHOR_END: head\n# ANCHOR: evidence\n");
        }
        if i == verdict {
            out.push_str("# ANCHOR_END: evidence\n# ANCHOR: verdict\n");
        }
        out.push_str(l);
        out.push('\n');
    }
    if verdict == lines.len() {
        out.push_str("# ANCHOR_END: evidence\n# ANCHOR: verdict\n");
    }
    out.push_str("# ANCHOR_END: verdict\n# ANCHOR_END: all\n");
    out
}

/// The book quotes each lab's counter transcript at the quick size from
/// book/src/transcripts/labs/<ID>.txt; CI checks the quote is what the lab
/// prints. `BLESS=1 cargo test --test labs` rewrites them.
fn check_transcript(id: &str, text: &str) {
    let path = std::path::Path::new("book/src/transcripts/labs").join(format!("{id}.txt"));
    let text = with_anchors(&format!("$ blocklab labs --quick {id}\n{text}"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run BLESS=1 cargo test --test labs",
            path.display()
        )
    });
    assert_eq!(
        want,
        text,
        "{} differs from the lab's output (BLESS=1 cargo test --test labs rewrites it)",
        path.display()
    );
}
