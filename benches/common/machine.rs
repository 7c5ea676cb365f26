//! The machine line of a bench report: when, on which CPU, how many cores.
//! Included by `#[path]` from the benches that write a report; not a
//! target of its own.

/// `2026-12-08 03:10 UTC: AMD EPYC …, 2 cores` (Linux's /proc/cpuinfo for
/// the CPU, `date -u` for the time; "unknown CPU" elsewhere).
pub fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{date}: {cpu}, {cores} cores")
}
