//! Golden transcripts: every `tests/scripts/*.sql` runs through the script
//! driver (table format, a fresh database with the default configuration
//! plus the script's own `-- blocklab: set key=value` header lines, user
//! `golden`) and its output must equal the `.out` file next to it.
//!
//! `BLESS=1 cargo test --test golden` rewrites the `.out` files from the
//! current output instead; review the diff before committing it.
//!
//! The transcripts are deterministic: counters count work, not time (see
//! `stats`), the elapsed times `\timing on` prints are masked, and a
//! session waiting for a lock is reported at fixed points of the script
//! (see `script`).

use std::path::{Path, PathBuf};

use blocklab::script::{run_script, Format, ScriptOptions};
use blocklab::{Config, Database};

/// Runs one script in a fresh database and returns its transcript.
fn transcript(script: &Path) -> String {
    let text = std::fs::read_to_string(script)
        .unwrap_or_else(|e| panic!("reading {}: {e}", script.display()));
    let mut cfg = Config::default();
    cfg.apply_script_header(&text)
        .unwrap_or_else(|e| panic!("the settings of {}: {e}", script.display()));
    let dir = tempfile::tempdir().expect("a temp directory");
    let db = Database::open(dir.path(), cfg).expect("a fresh database");
    let opts = ScriptOptions {
        format: Format::Table,
        stats: false,
        user: "golden".to_string(),
    };
    let mut out = Vec::new();
    run_script(&db, &text, &opts, &mut out).expect("the transcript is written");
    mask_timing(&String::from_utf8(out).expect("the transcript is UTF-8"))
}

/// `\timing on` prints `Elapsed: 00:00:00.01` after each statement: the
/// one line of a transcript that measures time, so its figures are masked.
fn mask_timing(transcript: &str) -> String {
    transcript
        .lines()
        .map(|l| match l.strip_prefix("Elapsed: ") {
            Some(_) => "Elapsed: hh:mm:ss.cc\n".to_string(),
            None => format!("{l}\n"),
        })
        .collect()
}

/// The first lines where `want` and `got` differ, with line numbers.
fn diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let first = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    let mut out = String::new();
    for i in first..(first + 8).min(w.len().max(g.len())) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => out.push_str(&format!("  {:>4}   {a}\n", i + 1)),
            (a, b) => {
                if let Some(a) = a {
                    out.push_str(&format!("- {:>4}   {a}\n", i + 1));
                }
                if let Some(b) = b {
                    out.push_str(&format!("+ {:>4}   {b}\n", i + 1));
                }
            }
        }
    }
    out
}

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_script_prints_its_golden_transcript() {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let scripts = scripts();
    assert!(!scripts.is_empty(), "no scripts in tests/scripts");
    let mut failed = Vec::new();
    for script in &scripts {
        let got = transcript(script);
        let golden = script.with_extension("out");
        if bless {
            std::fs::write(&golden, &got)
                .unwrap_or_else(|e| panic!("writing {}: {e}", golden.display()));
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != got {
            eprintln!(
                "{} differs from {} (- golden, + now):\n{}",
                script.display(),
                golden.display(),
                diff(&want, &got)
            );
            failed.push(script.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(
        failed.is_empty(),
        "transcripts differ: {failed:?}; run `BLESS=1 cargo test --test golden` to accept the new output"
    );
}
