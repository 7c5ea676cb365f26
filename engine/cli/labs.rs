//! `blocklab labs`: runs the claim labs and prints their evidence and
//! verdicts (see `blocklab_labs`).

use std::path::PathBuf;
use std::time::Duration;

use blocklab_labs::{registry, LabCtx};
use clap::Args;

use crate::{CmdResult, Failure};

#[derive(Args)]
pub(crate) struct LabsArgs {
    /// Claim IDs to run (C24 C26 …); all when none is given.
    ids: Vec<String>,
    /// Small data: the whole catalogue in a few minutes on two cores.
    #[arg(long)]
    quick: bool,
    /// Also write one JSON object per lab (an array) to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write an SVG chart for each lab that measured a curve, and the
    /// JSON of every lab, into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Also write the SVG charts only, as `<ID>.svg`, into this directory
    /// (how book/src/charts is made: `labs --quick --charts book/src/charts`).
    #[arg(long)]
    charts: Option<PathBuf>,
    /// List the labs and exit.
    #[arg(long)]
    list: bool,
    /// Scratch directory for the labs' databases (removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir().join(format!("blocklab-labs-{}", std::process::id())))]
    workdir: PathBuf,
}

pub(crate) fn run(args: LabsArgs) -> CmdResult {
    let labs = registry();
    if args.list {
        for l in &labs {
            println!("{}  {}", l.id, l.title);
        }
        return Ok(());
    }
    let wanted: Vec<String> = args.ids.iter().map(|i| i.to_ascii_uppercase()).collect();
    if let Some(bad) = wanted
        .iter()
        .find(|w| !labs.iter().any(|l| l.id == w.as_str()))
    {
        return Err(Failure::Error(format!(
            "no lab {bad}; `blocklab labs --list` shows them"
        )));
    }
    let mut reports = Vec::new();
    for lab in labs
        .iter()
        .filter(|l| wanted.is_empty() || wanted.iter().any(|w| w == l.id))
    {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!("{} starting", lab.id));
        let mut ctx = LabCtx::new(&args.workdir.join(lab.id), args.quick)
            .map_err(|e| Failure::Error(e.to_string()))?;
        {
            let bar = bar.clone();
            let id = lab.id;
            ctx.on_progress(move |step| bar.set_message(format!("{id} {step}")));
        }
        let r = (lab.run)(&mut ctx);
        bar.finish_and_clear();
        match r {
            Ok(rep) => {
                println!("{}", wrap(&rep.render(), width()));
                reports.push(rep);
            }
            Err(e) => {
                println!("== {} {} ==\nerror: {e}\n", lab.id, lab.title);
                return Err(Failure::Error(format!("lab {} failed: {e}", lab.id)));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&args.workdir);
    if reports.len() > 1 {
        print!("{}", summary(&reports, width()));
    }
    if let Some(dir) = &args.report {
        write_charts(&reports, dir)?;
        write_json(&reports, &dir.join("labs.json"))?;
    }
    if let Some(dir) = &args.charts {
        write_charts(&reports, dir)?;
    }
    if let Some(path) = args.json {
        write_json(&reports, &path)?;
    }
    Ok(())
}

/// The terminal width: `COLUMNS` when set (shells export it), else 100.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w >= 40)
        .unwrap_or(100)
}

/// Wraps every line longer than `width` at spaces; continuation lines are
/// indented four columns past the line's own indent. (The book's
/// transcripts keep long lines: this is for the terminal only.)
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let mut cur = " ".repeat(indent);
        for word in line.trim_start().split(' ') {
            let fits = cur.chars().count() + 1 + word.chars().count() <= width;
            if cur.trim().is_empty() || fits {
                if !cur.trim().is_empty() {
                    cur.push(' ');
                }
                cur.push_str(word);
            } else {
                out.push_str(cur.trim_end());
                out.push('\n');
                cur = " ".repeat(indent + 4) + word;
            }
        }
        out.push_str(cur.trim_end());
        out.push('\n');
    }
    out
}

/// The table `labs` ends with: each lab's ID, its claim in a few words,
/// the verdict and the figure that decided it (cut to the width).
fn summary(reports: &[blocklab_labs::Report], width: usize) -> String {
    let claims: Vec<&str> = reports
        .iter()
        .map(|r| blocklab_labs::short_claim(r.id, r.title))
        .collect();
    let cw = claims
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let vw = "does not hold".len();
    // ID(3) + 2 + claim + 2 + verdict + 2
    let fw = width.saturating_sub(3 + 2 + cw + 2 + vw + 2).max(20);
    let mut out = format!(
        "== summary: {} labs ==\n{:<3}  {:<cw$}  {:<vw$}  deciding figure\n",
        reports.len(),
        "ID",
        "claim",
        "verdict"
    );
    for (r, claim) in reports.iter().zip(&claims) {
        let line = format!(
            "{:<3}  {:<cw$}  {:<vw$}  {}",
            r.id,
            claim,
            r.verdict.as_str(),
            r.figure(fw)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One `<ID>.svg` in `dir` for each report that has a chart.
fn write_charts(reports: &[blocklab_labs::Report], dir: &std::path::Path) -> CmdResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Error(format!("cannot create {}: {e}", dir.display())))?;
    for r in reports {
        if let Some(chart) = &r.chart {
            let path = dir.join(format!("{}.svg", r.id));
            blocklab_labs::write_svg(chart, &path).map_err(|e| Failure::Error(e.to_string()))?;
            println!("chart: {}", path.display());
        }
    }
    Ok(())
}

fn write_json(reports: &[blocklab_labs::Report], path: &std::path::Path) -> CmdResult {
    let all: Vec<serde_json::Value> = reports.iter().map(|r| r.to_json()).collect();
    let text = serde_json::to_string_pretty(&all)
        .map_err(|e| Failure::Error(format!("cannot encode the JSON: {e}")))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| Failure::Error(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_at_spaces_with_a_hanging_indent() {
        let text = "verdict: holds — one two three four five six\n  short\n";
        assert_eq!(
            wrap(text, 24),
            "verdict: holds — one two\n    three four five six\n  short\n"
        );
    }
}
