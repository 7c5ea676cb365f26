//! The labs' charts in the book. A lab that measures a curve returns a
//! `Chart`; the book keeps it, drawn at the quick size, as
//! book/src/charts/<ID>.svg and shows it under the lab's transcript with
//! `![…](charts/<ID>.svg)`. This test checks that:
//!
//! * every chart the book shows is a file in book/src/charts;
//! * every SVG in book/src/charts is shown somewhere in the book, and
//!   belongs to a lab that still draws a chart;
//! * a chart drawn from counters alone is exactly the committed file:
//!   counters are deterministic and so is the drawing, so redrawing gives
//!   the same bytes. A chart with timings in it (`Chart::timings`) differs
//!   on every run and is only checked to exist.
//!
//! The other direction — every lab that draws a chart at the quick size
//! has its SVG here — is checked by `tests/labs.rs`, which runs every lab
//! anyway; this test runs only the labs whose SVG the book holds.
//!
//! To redraw the charts: `cargo run --release -- labs --quick --charts
//! book/src/charts` (book/src/charts/README.md).

use std::path::{Path, PathBuf};

use blocklab_labs::{registry, write_svg, LabCtx};

const CHARTS: &str = "book/src/charts";

/// Every markdown file of the book.
fn chapters() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir("book/src")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    out.sort();
    out
}

/// (chapter, lab ID) of each `](charts/<ID>.svg)` image in the book.
fn shown() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for ch in chapters() {
        let text = std::fs::read_to_string(&ch).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("](charts/") {
            rest = &rest[i + "](charts/".len()..];
            let end = rest.find(')').expect("unterminated image link");
            let file = &rest[..end];
            let id = file
                .strip_suffix(".svg")
                .unwrap_or_else(|| panic!("{}: charts/{file} is not an SVG", ch.display()));
            out.push((ch.clone(), id.to_string()));
        }
    }
    out
}

/// The lab IDs of the SVGs in book/src/charts.
fn committed() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(CHARTS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn svg(id: &str) -> PathBuf {
    Path::new(CHARTS).join(format!("{id}.svg"))
}

#[test]
fn every_chart_the_book_shows_exists() {
    let shown = shown();
    assert!(!shown.is_empty(), "the book shows no chart");
    for (ch, id) in shown {
        assert!(
            svg(&id).is_file(),
            "{} shows charts/{id}.svg, which is not in {CHARTS}",
            ch.display()
        );
    }
}

#[test]
fn every_committed_chart_is_shown_in_the_book() {
    let shown = shown();
    for id in committed() {
        assert!(
            shown.iter().any(|(_, s)| *s == id),
            "{} is in the book's directory but no chapter shows it",
            svg(&id).display()
        );
    }
}

#[test]
fn counter_charts_redraw_to_the_committed_bytes() {
    let root = tempfile::tempdir().unwrap();
    let labs = registry();
    let ids = committed();
    assert!(!ids.is_empty(), "no charts in {CHARTS}");
    for id in ids {
        let lab = labs
            .iter()
            .find(|l| l.id == id)
            .unwrap_or_else(|| panic!("{}: there is no lab {id}", svg(&id).display()));
        let mut ctx = LabCtx::new(&root.path().join(&id), true).unwrap();
        let r = (lab.run)(&mut ctx).unwrap_or_else(|e| panic!("{id}: {e}"));
        let chart = r.chart.unwrap_or_else(|| {
            panic!(
                "{id} no longer draws a chart: remove {}",
                svg(&id).display()
            )
        });
        if chart.timings {
            continue;
        }
        let fresh = root.path().join(format!("{id}.svg"));
        write_svg(&chart, &fresh).unwrap();
        assert!(
            std::fs::read(&fresh).unwrap() == std::fs::read(svg(&id)).unwrap(),
            "{} is not what {id} draws now (its chart has counters only, so it must be the same \
             bytes): `cargo run --release -- labs --quick --charts {CHARTS}` redraws it",
            svg(&id).display()
        );
    }
}
