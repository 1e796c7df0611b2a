//! `sora inspect DIR`: prints the core's model report (human text or JSON).

use std::path::PathBuf;

use clap::Args;
use sora_core::inspect::{inspect, ModelReport};
use sora_core::Error;

/// Arguments of `sora inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The model folder.
    dir: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

fn human_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2} B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2} M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} K", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn print_list(label: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    println!("      {label} ({}):", items.len());
    for i in items.iter().take(10) {
        println!("        {i}");
    }
    if items.len() > 10 {
        println!("        … and {} more", items.len() - 10);
    }
}

fn print_report(r: &ModelReport) {
    println!("model:  {}", r.path);
    println!("class:  {}", r.class);
    println!(
        "family: {}",
        r.family.as_deref().unwrap_or("unknown to this build")
    );
    println!("components:");
    for c in &r.components {
        let dtypes: Vec<String> = c.dtypes.iter().map(|(d, n)| format!("{d}×{n}")).collect();
        if c.parameters > 0 {
            println!(
                "  {:<16} {:<28} {:>10} params  {:>9.1} MB  [{}]",
                c.name,
                c.class,
                human_count(c.parameters),
                c.bytes as f64 / 1048576.0,
                dtypes.join(", ")
            );
        } else {
            println!("  {:<16} {}", c.name, c.class);
        }
        if let Some(e) = &c.error {
            println!("      error: {e}");
        }
        print_list("missing", &c.missing);
        print_list("mismatched", &c.mismatched);
        print_list("unused", &c.unexpected);
    }
    println!(
        "status: {}",
        if r.ok {
            "loadable"
        } else {
            "NOT loadable as is (see above)"
        }
    );
}

/// Runs `sora inspect`.
pub fn run(a: InspectArgs) -> sora_core::Result<()> {
    let r = inspect(&a.dir)?;
    if a.json {
        let s = serde_json::to_string(&r).map_err(|e| Error::Unsupported(e.to_string()))?;
        println!("{s}");
    } else {
        print_report(&r);
    }
    Ok(())
}
