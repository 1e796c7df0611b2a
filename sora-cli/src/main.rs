//! The `sora` command: `generate` a clip, `inspect` a model folder, `score` a
//! clip's physics, `check-prompt` against a consent registry, `verify` a
//! clip's watermarks, `train` the embedded model's parts. A thin layer
//! over `sora-core`: it parses arguments, shows progress and maps errors to exit codes.

mod check_prompt;
mod inspect;
mod score;
mod train;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sora_core::family::params::set_known_text;
use sora_core::{
    io, CancelToken, Device, Dtype, Error, ErrorKind, FrameCondition, ImageInput, Phase, Pipeline,
    Progress, Request, VideoInput, WriteOptions,
};

/// Generate video (and audio) with open-weight diffusion models, locally.
#[derive(Parser)]
#[command(name = "sora", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a clip from a prompt (and optionally an image or a video).
    Generate(Box<GenerateArgs>),
    /// Describe a model folder: family, components, dtypes, parameters, problems.
    Inspect(inspect::InspectArgs),
    /// Score a clip's physics: flicker, warping error, motion smoothness,
    /// dynamic degree, object findings, audio-visual sync (see docs/physics.md).
    Score(score::ScoreArgs),
    /// Check a prompt against a consent registry and protected list (no
    /// model): exit 0 when allowed, 3 when refused (see docs/safety.md).
    CheckPrompt(check_prompt::CheckPromptArgs),
    /// Verify a clip: its invisible watermarks (payload, bit accuracy,
    /// p-value) and content credentials.
    Verify(verify::VerifyArgs),
    /// Train the embedded default model's parts on simulated clips (today:
    /// `vae`, `audio-vae` and `vocoder`, the LTX-2 video and audio VAEs and
    /// vocoder; see docs/training.md).
    Train(train::TrainArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// Diffusers-format model folder (e.g. a downloaded Wan2.1-T2V-1.3B-Diffusers);
    /// without it, the embedded default model (a tiny audio-video model of
    /// bouncing balls and boxes trained here, docs/training.md).
    #[arg(long)]
    model: Option<PathBuf>,
    /// What to generate.
    #[arg(long)]
    prompt: String,
    /// Output: a .mp4 file, a .wav file, or a folder for 0000.png, 0001.png, …
    /// An existing output is replaced only when sora wrote it (see --overwrite).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing --out that sora did not write (a folder still only
    /// when it holds nothing but PNG frames).
    #[arg(long)]
    overwrite: bool,
    /// What to steer away from (the family's default when unset).
    #[arg(long)]
    negative_prompt: Option<String>,
    /// Width in pixels.
    #[arg(long)]
    width: Option<u32>,
    /// Height in pixels.
    #[arg(long)]
    height: Option<u32>,
    /// Aspect preset, width:height: 9:16, 1:1, 4:5, 16:9 or 21:9. With or
    /// without --resolution, instead of --width/--height: mapped to the
    /// nearest size the model takes (docs/params.md has the table).
    #[arg(long, value_name = "W:H")]
    aspect: Option<String>,
    /// Resolution tier: 480p, 720p or 1080p (the short side), instead of
    /// --width/--height; the aspect is --aspect's, else the input's, else
    /// the model's default size's.
    #[arg(long, value_name = "480p|720p|1080p")]
    resolution: Option<String>,
    /// How an --image or --video of another aspect than the output is made
    /// its shape: `crop` (centre-crop) or `pad` (black bars). Without it such
    /// an input is refused (exit 2); it is never stretched.
    #[arg(long, value_name = "crop|pad")]
    fit: Option<String>,
    /// Number of frames (takes precedence over --seconds).
    #[arg(long)]
    frames: Option<u32>,
    /// From SECONDS on, the prompt is TEXT (long-form generation; repeatable):
    /// text-to-video (Wan, LTX-2) and LTX-2 image-to-video; other requests
    /// exit with the Unsupported message.
    #[arg(long = "prompt-at", value_name = "SECONDS=TEXT")]
    prompt_at: Vec<String>,
    /// Duration in seconds (with --extend: the seconds to add).
    #[arg(long)]
    seconds: Option<f32>,
    /// Frames per second.
    #[arg(long)]
    fps: Option<u32>,
    /// Denoising steps.
    #[arg(long)]
    steps: Option<u32>,
    /// Guidance scale (1 turns classifier-free guidance off).
    #[arg(long)]
    guidance: Option<f32>,
    /// Guidance scale of the low-noise expert (two-expert Wan 2.2 models).
    #[arg(long = "guidance-2")]
    guidance_2: Option<f32>,
    /// Seed of the initial noise.
    #[arg(long)]
    seed: Option<u64>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// float32, float16 or bfloat16.
    #[arg(long, default_value = "float32")]
    dtype: String,
    /// CPU threads for LibTorch.
    #[arg(long)]
    threads: Option<usize>,
    /// Run classifier-free guidance's branches one after the other instead of
    /// as one batched forward (less memory, a little slower).
    #[arg(long)]
    no_batch_guidance: bool,
    /// Step caching: reuse the transformer's later blocks from an earlier step
    /// while its first block's output changes relatively less than THRESHOLD
    /// (e.g. 0.05–0.2; faster, slightly different frames; 0 computes every step).
    #[arg(long, value_name = "THRESHOLD")]
    step_cache: Option<f32>,
    /// Refuse, before encoding, a request whose memory estimate exceeds this
    /// many MiB (default on the CPU: the available memory plus the loaded
    /// weights; on CUDA no check unless given).
    #[arg(long, value_name = "MB")]
    memory_budget: Option<u64>,
    /// Release the text encoder after encoding (reloaded for a new prompt;
    /// prompt embeddings are cached).
    #[arg(long)]
    offload_text_encoder: bool,
    /// Keep the weights in host memory and copy them to the GPU only while
    /// used, for GPUs too small for the model: `model` copies one component
    /// at a time (text encoder, transformer, VAE), `sequential` also the
    /// transformer and the text encoder one block at a time (least memory,
    /// slowest). GPU only.
    #[arg(long, value_name = "MODE", value_parser = ["none", "model", "sequential"])]
    offload: Option<String>,
    /// The physics report: `report` attaches it to the clip's metadata (see
    /// `--json`), `rerank:N` generates N seeds (the given one, then the next)
    /// and keeps the most plausible clip; `off` (the default) makes none.
    #[arg(long, value_name = "report|rerank:N")]
    physics: Option<String>,
    /// Experimental, off by default: in the steps after the share FROM of the
    /// walk (default 0.5), reduce the temporal variance of the predicted
    /// clean video where it is highest by STRENGTH in (0, 1] (a gradient-free
    /// FlowMo variant; see docs/physics.md for what it was measured to do).
    #[arg(long, value_name = "STRENGTH[@FROM]")]
    motion_guidance: Option<String>,
    /// Decode the video in overlapping spatial tiles (diffusers' VAE tiling,
    /// same values, less memory): `--vae-tiling` for 256×256 tiles every 192
    /// pixels, or `--vae-tiling=H,W,SH,SW` (tile height, width, strides).
    #[arg(long, value_name = "H,W,SH,SW", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    vae_tiling: Option<String>,
    /// Decode the video in overlapping time windows handed to the output one
    /// by one (diffusers' `use_framewise_decoding`; LTX-2): `--vae-frame-tiling`
    /// for 16-frame windows every 8 frames, or `--vae-frame-tiling=WINDOW,STRIDE`.
    #[arg(long, value_name = "WINDOW,STRIDE", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    vae_frame_tiling: Option<String>,
    /// Start from this image (PNG/JPEG): image-to-video.
    #[arg(long, conflicts_with = "video")]
    image: Option<PathBuf>,
    /// Transform this video (MP4 or a folder of PNG frames): video-to-video.
    #[arg(long, conflicts_with = "extend")]
    video: Option<PathBuf>,
    /// Continue this clip (MP4 or a folder of PNG frames) by --seconds: the
    /// output is its frames, unchanged, then the new ones, at its frame rate
    /// and size.
    #[arg(
        long,
        value_name = "CLIP",
        conflicts_with = "image",
        requires = "seconds"
    )]
    extend: Option<PathBuf>,
    /// How much of the schedule video-to-video re-runs, in (0, 1].
    #[arg(long, requires = "video")]
    strength: Option<f32>,
    /// A frame condition (LTX-2): an image, MP4 or PNG folder placed at a
    /// latent frame INDEX (default 0; negative counts from the end) with a
    /// STRENGTH in [0, 1] (default 1); repeatable. E.g.
    /// `--condition first.png@0 --condition clip.mp4@2:0.6`.
    #[arg(long = "condition", value_name = "PATH[@INDEX][:STRENGTH]", conflicts_with_all = ["image", "video"])]
    conditions: Vec<String>,
    /// Set a request parameter by its diffusers keyword (e.g.
    /// `guidance_scale=3.5`, `num_inference_steps=30`, `guidance_scale_2=3`)
    /// or sora's name (`guidance`, `steps`, …); repeatable, applied after the
    /// dedicated flags. Lists are comma-separated (`KEY=28,29`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Consent registry and protected list (JSON, docs/safety.md): a prompt
    /// naming a registered person needs --consent, a protected character is
    /// refused (exit 3). Without it every prompt passes.
    #[arg(long, value_name = "FILE")]
    safety_registry: Option<PathBuf>,
    /// This pipeline's owner key (registry consents are granted to one).
    #[arg(long, value_name = "KEY")]
    owner_key: Option<String>,
    /// A consent id (cameo) for a registered person the prompt names (repeatable).
    #[arg(long = "consent", value_name = "ID")]
    consents: Vec<String>,
    /// Leave out the visible moving watermark (the invisible marks stay;
    /// recorded in the clip's metadata and payload).
    #[arg(long)]
    no_visible_watermark: bool,
    /// A creator handle shown after the visible mark's logo (e.g. @ada).
    #[arg(long, value_name = "HANDLE")]
    watermark_handle: Option<String>,
    /// All clip watermarks: `on` (the default) or `off`, the raw model
    /// output, for comparisons with a reference implementation and for
    /// research, not for clips that are published (recorded in the metadata).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    watermarks: Option<String>,
    /// Content credentials: `on` (the default) embeds a signed C2PA manifest
    /// in an MP4 or WAV output (model, settings, watermarks, consent hashes;
    /// see `sora verify`), `off` leaves it out (recorded in the metadata).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    credentials: Option<String>,
    /// Sign the content credentials with this PEM certificate chain (signing
    /// certificate first) instead of the local, untrusted identity made per
    /// run; needs --sign-key.
    #[arg(long, value_name = "FILE", requires = "sign_key")]
    sign_cert: Option<PathBuf>,
    /// The signing certificate's private key (PKCS#8 PEM); needs --sign-cert.
    #[arg(long, value_name = "FILE", requires = "sign_cert")]
    sign_key: Option<PathBuf>,
    /// Embed the prompt and negative prompt in the content credentials
    /// (left out by default).
    #[arg(long)]
    credentials_prompt: bool,
    /// Print the clip's metadata as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Exit status for an error: 2 invalid request, 3 refused by the prompt
/// gate, 130 cancelled, 1 otherwise.
fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::InvalidRequest => 2,
        ErrorKind::ConsentRequired | ErrorKind::ProtectedContent => 3,
        ErrorKind::Cancelled => 130,
        _ => 1,
    }
}

fn main() -> ExitCode {
    // Never show a panic backtrace to a user: report it as an internal error.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("sora: internal error: {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Generate(a) => generate(*a),
        Command::Inspect(a) => inspect::run(a),
        Command::Score(a) => score::run(a),
        Command::CheckPrompt(a) => check_prompt::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Train(a) => train::run(a),
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("sora: {e}");
            ExitCode::from(exit_code(&e))
        }
        Err(_) => ExitCode::from(1),
    }
}

fn build_request(a: &GenerateArgs) -> sora_core::Result<Request> {
    let mut req = if let Some(img) = &a.image {
        let pixels = io::read_image(img)?;
        Request::image(ImageInput { pixels }, a.prompt.clone())
    } else if let Some(video) = &a.video {
        // The clip's own audio comes with it (a family without audio carries it).
        let clip = VideoInput::from_media(io::read_video(video)?);
        let strength = a.strength.unwrap_or(sora_core::pipeline::DEFAULT_STRENGTH);
        Request::video(clip, a.prompt.clone(), strength)
    } else if let Some(path) = &a.extend {
        let clip = VideoInput::from_media(io::read_video(path)?);
        // `--seconds` is the length added (checked by the core).
        let seconds = a.seconds.unwrap_or(0.0);
        Request::extend(clip, a.prompt.clone(), seconds)
    } else {
        Request::text(a.prompt.clone())
    };
    // The dedicated flags take the core's parameter path, as `--set` does.
    let numbers = [
        ("width", a.width),
        ("height", a.height),
        ("frames", a.frames),
        ("fps", a.fps),
        ("steps", a.steps),
    ];
    for (key, v) in numbers {
        if let Some(v) = v {
            req.set(key, v)?;
        }
    }
    let reals = [
        ("seconds", a.seconds.filter(|_| a.extend.is_none())),
        ("guidance", a.guidance),
        ("guidance_2", a.guidance_2),
    ];
    for (key, v) in reals {
        if let Some(v) = v {
            req.set(key, v)?;
        }
    }
    let texts = [
        ("aspect", &a.aspect),
        ("resolution", &a.resolution),
        ("fit", &a.fit),
    ];
    for (key, v) in texts {
        if let Some(v) = v {
            req.set_text(key, v)?;
        }
    }
    if let Some(p) = &a.negative_prompt {
        req.set("negative_prompt", p.as_str())?;
    }
    // A seed is any u64 (the parameter path takes seeds up to 2^63-1).
    req.seed = a.seed;
    req.consents.extend(a.consents.iter().cloned());
    for spec in &a.conditions {
        let (path, index, strength) = FrameCondition::parse_spec(spec)?;
        req = req.condition(FrameCondition::from_path(&path, index, strength)?);
    }
    for item in &a.prompt_at {
        let (secs, text) = item
            .split_once('=')
            .and_then(|(s, t)| Some((s.trim().parse::<f32>().ok()?, t)))
            .ok_or_else(|| {
                Error::invalid(format!("--prompt-at takes SECONDS=TEXT, got `{item}`"))
            })?;
        req.prompts_at.push((secs, text.to_string()));
    }
    for item in &a.set {
        let (key, value) = set_item(item)?;
        set_known_text(&mut req, key, value)?;
    }
    Ok(req)
}

/// One `--set KEY=VALUE` (of `sora generate` and `sora train quality`): the
/// key trimmed, the value as given.
fn set_item(item: &str) -> sora_core::Result<(&str, &str)> {
    let (key, value) = item
        .split_once('=')
        .ok_or_else(|| Error::invalid(format!("--set takes KEY=VALUE, got `{item}`")))?;
    Ok((key.trim(), value))
}

fn check_out_path(out: &std::path::Path) -> sora_core::Result<()> {
    if let Some(parent) = out.parent() {
        if !parent.as_os_str().is_empty() && !parent.is_dir() {
            return Err(Error::invalid(format!(
                "the folder of --out ({}) does not exist",
                parent.display()
            )));
        }
    }
    match out.extension().and_then(|e| e.to_str()) {
        None | Some("mp4") | Some("wav") => Ok(()),
        Some(other) => Err(Error::invalid(format!(
            "--out must end in .mp4 or .wav, or name a folder for PNG frames (got .{other})"
        ))),
    }
}

fn generate(a: GenerateArgs) -> sora_core::Result<()> {
    check_out_path(&a.out)?;
    let write = WriteOptions::default().overwrite(a.overwrite);
    // Before the model is loaded: a user's file at --out is never replaced
    // (checked again, under the output's lock, when the run starts).
    io::check_replaceable(&a.out, &write)?;
    let device: Device = a.device.parse()?;
    let dtype: Dtype = a.dtype.parse()?;
    let req = build_request(&a)?;

    let token = CancelToken::new();
    {
        let t = token.clone();
        // Ctrl-C, SIGTERM and SIGHUP cancel between steps (the output is not
        // left half-written); a second Ctrl-C is left to the default handler.
        let _ = ctrlc::set_handler(move || t.cancel());
    }

    let mut builder = Pipeline::builder();
    if let Some(m) = &a.model {
        builder = builder.model(m);
    }
    let mut builder = builder
        .device(device)
        .dtype(dtype)
        .batch_guidance(!a.no_batch_guidance)
        .step_cache(a.step_cache);
    if let Some(n) = a.threads {
        builder = builder.threads(n);
    }
    if let Some(mb) = a.memory_budget {
        builder = builder.memory_budget_mb(mb);
    }
    builder = builder
        .batch_guidance(!a.no_batch_guidance)
        .offload_text_encoder(a.offload_text_encoder);
    if let Some(t) = &a.vae_tiling {
        builder = builder.option("vae_tiling", t)?;
    }
    if let Some(t) = &a.vae_frame_tiling {
        builder = builder.option("vae_frame_tiling", t)?;
    }
    if let Some(o) = &a.offload {
        builder = builder.option("offload", o)?;
    }
    if let Some(p) = &a.physics {
        builder = builder.option("physics", p)?;
    }
    if let Some(g) = &a.motion_guidance {
        builder = builder.option("motion_guidance", g)?;
    }
    if let Some(r) = &a.safety_registry {
        builder = builder.safety_registry(r.clone());
    }
    if let Some(k) = &a.owner_key {
        builder = builder.owner_key(k.clone());
    }
    if let Some(w) = &a.watermarks {
        builder = builder.option("watermarks", w)?;
    }
    if a.no_visible_watermark {
        builder = builder.no_visible_watermark();
    }
    if let Some(h) = &a.watermark_handle {
        builder = builder.watermark_handle(h);
    }
    if let Some(c) = &a.credentials {
        builder = builder.option("credentials", c)?;
    }
    if let (Some(cert), Some(key)) = (&a.sign_cert, &a.sign_key) {
        builder = builder.sign_with_files(cert, key);
    }
    if a.credentials_prompt {
        builder = builder.credentials_prompt(true);
    }
    let load_started = Instant::now();
    let pipe = builder.build()?;
    token.check()?;
    let load_s = load_started.elapsed().as_secs_f64();
    let resolved = pipe.resolve(&req)?;

    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(
            Some(resolved.steps as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        b.set_style(
            ProgressStyle::with_template(
                "{msg:>9} [{bar:30}] {pos}/{len} steps  {elapsed_precise} elapsed, {eta_precise} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message("encoding");
        b
    };
    let bar2 = bar.clone();
    let mut progress = Progress::with_callback(move |s| {
        match s.phase {
            Phase::Encode => bar2.set_message("denoising"),
            Phase::Denoise => {
                bar2.set_length(s.total as u64);
                bar2.set_position(s.step as u64);
                if s.step == s.total {
                    bar2.set_message("decoding");
                }
            }
            Phase::Decode => bar2.set_message(if s.step >= s.total {
                "done"
            } else {
                "decoding"
            }),
        }
        true
    })
    .token(token.clone());

    // Decoded chunk by chunk straight into --out (never the whole clip in
    // memory); a cancelled or failed run leaves no file behind.
    let result = pipe.generate_to_file_with(&req, &mut progress, &a.out, write);
    bar.finish_and_clear();
    let mut meta = result?;
    meta.timings.load_s = load_s;
    if a.json {
        println!("{}", meta.to_json());
    } else if !a.quiet {
        eprintln!(
            "sora: wrote {} ({} frames, {}x{}, {:.1}s generation)",
            a.out.display(),
            meta.frames,
            meta.width,
            meta.height,
            meta.timings.total_s
        );
    }
    Ok(())
}
