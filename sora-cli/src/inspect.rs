//! `sora inspect DIR`: prints the core's model report (human text or JSON),
//! and with `--estimate` the memory a request would need (nothing loaded).

use std::path::PathBuf;

use clap::Args;
use sora_core::estimate::MemoryEstimate;
use sora_core::inspect::{inspect, ModelReport};
use sora_core::{Error, Pipeline, Request};

/// Arguments of `sora inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The model folder.
    dir: PathBuf,
    /// Print the report as one JSON object (with `--estimate`, under the key `estimate`).
    #[arg(long)]
    json: bool,
    /// Also estimate the memory a generation needs (from configs and
    /// safetensors headers; the family's defaults for unset sizes).
    #[arg(long)]
    estimate: bool,
    /// Width of the request to estimate.
    #[arg(long, requires = "estimate")]
    width: Option<u32>,
    /// Height of the request to estimate.
    #[arg(long, requires = "estimate")]
    height: Option<u32>,
    /// Aspect preset of the request to estimate (as `generate --aspect`).
    #[arg(long, value_name = "W:H", requires = "estimate")]
    aspect: Option<String>,
    /// Resolution tier of the request to estimate (as `generate --resolution`).
    #[arg(long, value_name = "480p|720p|1080p", requires = "estimate")]
    resolution: Option<String>,
    /// Frames of the request to estimate.
    #[arg(long, requires = "estimate")]
    frames: Option<u32>,
    /// Denoising steps (they do not change the memory).
    #[arg(long, requires = "estimate")]
    steps: Option<u32>,
    /// Guidance scale (above 1 the transformer runs on a batch of 2).
    #[arg(long, requires = "estimate")]
    guidance: Option<f32>,
    /// cpu, cuda or cuda:N: whose memory to estimate.
    #[arg(long, default_value = "cpu", requires = "estimate")]
    device: String,
    /// float32, float16 or bfloat16.
    #[arg(long, default_value = "float32", requires = "estimate")]
    dtype: String,
    /// As `generate --no-batch-guidance`.
    #[arg(long, requires = "estimate")]
    no_batch_guidance: bool,
    /// As `generate --offload-text-encoder`.
    #[arg(long, requires = "estimate")]
    offload_text_encoder: bool,
    /// As `generate --offload MODE` (none, model or sequential).
    #[arg(long, value_name = "MODE", requires = "estimate", value_parser = ["none", "model", "sequential"])]
    offload: Option<String>,
    /// With step caching on (its residuals stay alive between steps).
    #[arg(long, requires = "estimate")]
    step_cache: bool,
    /// As `generate --vae-tiling[=H,W,SH,SW]`: the VAE decodes in spatial
    /// tiles (256×256 every 192 pixels without a value).
    #[arg(long, value_name = "H,W,SH,SW", num_args = 0..=1, require_equals = true, default_missing_value = "true", requires = "estimate")]
    vae_tiling: Option<String>,
    /// As `generate --vae-frame-tiling[=WINDOW,STRIDE]`: the VAE decodes in
    /// time windows (LTX-2; 16 frames every 8 without a value).
    #[arg(long, value_name = "WINDOW,STRIDE", num_args = 0..=1, require_equals = true, default_missing_value = "true", requires = "estimate")]
    vae_frame_tiling: Option<String>,
    /// As `generate --set KEY=VALUE`: a request parameter by its diffusers
    /// keyword (e.g. LTX-2's `stg_scale=0`, `max_sequence_length=256`);
    /// repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "estimate")]
    set: Vec<String>,
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

fn human_mb(mb: f64) -> String {
    if mb >= 1024.0 {
        format!("{:.2} GiB", mb / 1024.0)
    } else {
        format!("{mb:.1} MiB")
    }
}

/// How the VAE decodes: whole frames, or tiles (and whether the option applies).
fn vae_decode_text(e: &MemoryEstimate) -> String {
    let spatial = vae_spatial_text(e);
    match e.vae_frame_tiling {
        Some([w, s]) => format!("{spatial}, in time windows (--vae-frame-tiling={w},{s})"),
        None => spatial,
    }
}

/// How the VAE decodes in space: whole frames or tiles.
fn vae_spatial_text(e: &MemoryEstimate) -> String {
    match e.vae_tiling {
        None => "VAE decode untiled".into(),
        Some([h, w, sh, sw]) if e.vae_tiles > 1 => format!(
            "VAE decode tiled (--vae-tiling={h},{w},{sh},{sw}: {} tiles a frame)",
            e.vae_tiles
        ),
        Some([h, w, sh, sw]) => {
            format!("VAE decode untiled (--vae-tiling={h},{w},{sh},{sw}: the frame fits one tile)")
        }
    }
}

fn print_estimate(e: &MemoryEstimate) {
    let offloaded = e.offload != "none";
    println!(
        "memory estimate: {}x{}, {} frames on {} in {}; transformer batch {} x {} tokens; {}{}",
        e.width,
        e.height,
        e.frames,
        e.device,
        e.dtype,
        e.batch,
        e.tokens,
        vae_decode_text(e),
        if offloaded {
            format!("; --offload {}", e.offload)
        } else {
            String::new()
        }
    );
    if offloaded {
        println!("  weights (in host memory; each phase counts what it copies to the device):");
    } else {
        println!("  weights (resident):");
    }
    for p in &e.weights {
        println!("    {:<28} {:>12}", p.name, human_mb(p.mb));
    }
    println!("  activations (peak of each model call):");
    for p in &e.activations {
        println!("    {:<28} {:>12}", p.name, human_mb(p.mb));
    }
    println!("  {:<30} {:>12}", "output clip", human_mb(e.output_mb));
    println!(
        "  {:<30} {:>12}",
        "LibTorch runtime",
        human_mb(e.runtime_mb)
    );
    println!(
        "  {:<10} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "phase", "weights", "carried", "activations", "slack", "total"
    );
    for p in &e.phases {
        println!(
            "  {:<10} {:>12} {:>12} {:>12} {:>12} {:>12}",
            p.name,
            human_mb(p.weights_mb),
            human_mb(p.carried_mb),
            human_mb(p.activations_mb),
            human_mb(p.slack_mb),
            human_mb(p.total_mb)
        );
    }
    println!(
        "total: {} (peak in `{}`; largest part: {})",
        human_mb(e.total_mb),
        e.peak_phase,
        e.largest_part
    );
}

fn estimate_of(a: &InspectArgs) -> sora_core::Result<MemoryEstimate> {
    let mut req = Request::text("");
    req.width = a.width;
    req.height = a.height;
    if let Some(v) = &a.aspect {
        req.set_text("aspect", v)?;
    }
    if let Some(v) = &a.resolution {
        req.set_text("resolution", v)?;
    }
    req.frames = a.frames;
    req.steps = a.steps;
    req.guidance = a.guidance;
    for item in &a.set {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| Error::invalid(format!("--set takes KEY=VALUE, got `{item}`")))?;
        sora_core::family::params::set_known_text(&mut req, key.trim(), value)?;
    }
    // The same options `generate` takes, by the same names.
    let mut b = Pipeline::builder()
        .model(&a.dir)
        .option("device", &a.device)?
        .option("dtype", &a.dtype)?
        .batch_guidance(!a.no_batch_guidance)
        .offload_text_encoder(a.offload_text_encoder);
    if a.step_cache {
        // Any threshold: what step caching keeps does not depend on it.
        b = b.step_cache(0.1);
    }
    if let Some(o) = &a.offload {
        b = b.option("offload", o)?;
    }
    if let Some(t) = &a.vae_tiling {
        b = b.option("vae_tiling", t)?;
    }
    if let Some(t) = &a.vae_frame_tiling {
        b = b.option("vae_frame_tiling", t)?;
    }
    b.estimate(&req)
}

/// Runs `sora inspect`: exits 1 (after the full report) when the folder
/// cannot load as is.
pub fn run(a: InspectArgs) -> sora_core::Result<()> {
    let r = inspect(&a.dir)?;
    let to_json = |e: serde_json::Error| Error::Unsupported(e.to_string());
    if a.json {
        let mut v = serde_json::to_value(&r).map_err(to_json)?;
        if a.estimate {
            let est = serde_json::to_value(estimate_of(&a)?).map_err(to_json)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert("estimate".into(), est);
            }
        }
        println!("{}", serde_json::to_string(&v).map_err(to_json)?);
    } else {
        print_report(&r);
        if a.estimate {
            println!();
            print_estimate(&estimate_of(&a)?);
        }
    }
    if !r.ok {
        // The full report is printed; the exit status says the folder cannot load.
        return Err(Error::ModelFolder {
            path: a.dir.clone(),
            reason: match &r.family {
                Some(f) => format!("the `{f}` family cannot load it as is (see the report above)"),
                None => format!("no family of this build runs `{}`", r.class),
            },
        });
    }
    Ok(())
}
