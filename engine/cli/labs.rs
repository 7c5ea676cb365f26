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
                println!("{}", rep.render());
                reports.push(rep);
            }
            Err(e) => {
                println!("== {} {} ==\nerror: {e}\n", lab.id, lab.title);
                return Err(Failure::Error(format!("lab {} failed: {e}", lab.id)));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&args.workdir);
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
