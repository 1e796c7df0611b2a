//! The pipeline: loads a model folder, and runs the one denoising loop shared by
//! every family (noise, timesteps, guidance, progress, cancellation, timing).

mod clip;
mod noise;
mod progress;
mod request;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use ndarray::{Array2, Array4};
use tch::{Kind, Tensor};

pub use clip::{Clip, ClipMeta, Timings};
pub use noise::Noise;
pub use progress::{CancelToken, Phase, Progress, StepCallback, StepInfo};
pub use request::{
    Defaults, ImageInput, InputSource, Mode, Request, Resolved, VideoInput, DEFAULT_STRENGTH,
};

use crate::family::{self, FrameSink, ModelFamily, SpeedOptions, StepCtx};
use crate::weights::ModelFolder;
use crate::{Device, Dtype, Error, Result};

/// Latents the loop walks: video, and audio for joint families.
pub struct Latents {
    /// Video latent `[B, C, F, H, W]`.
    pub video: Tensor,
    /// Audio latent, for families that generate audio with the picture.
    pub audio: Option<Tensor>,
}

impl Latents {
    /// Video-only latents.
    pub fn video(video: Tensor) -> Self {
        Self { video, audio: None }
    }
    /// A cheap copy sharing storage.
    pub fn shallow_clone(&self) -> Self {
        Self {
            video: self.video.shallow_clone(),
            audio: self.audio.as_ref().map(|a| a.shallow_clone()),
        }
    }
}

/// Builds a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineBuilder {
    model: Option<PathBuf>,
    device: Device,
    dtype: Dtype,
    threads: Option<usize>,
    speed: SpeedOptions,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            model: None,
            device: Device::Cpu,
            dtype: Dtype::F32,
            threads: None,
            speed: SpeedOptions::default(),
        }
    }
}

impl PipelineBuilder {
    /// The diffusers-format model folder (the family is detected from `model_index.json`).
    pub fn model(mut self, path: impl AsRef<Path>) -> Self {
        self.model = Some(path.as_ref().to_path_buf());
        self
    }
    /// The device to run on.
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }
    /// The dtype of the weights and activations.
    pub fn dtype(mut self, dtype: Dtype) -> Self {
        self.dtype = dtype;
        self
    }
    /// Intra-op CPU threads (LibTorch's `set_num_threads`; process-wide).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Runs classifier-free guidance's two branches as one batched forward (on
    /// by default; off runs them one after the other, as diffusers does, using
    /// less memory).
    pub fn batch_guidance(mut self, on: bool) -> Self {
        self.speed.batch_guidance = on;
        self
    }

    /// Step caching (first-block cache): from one denoising step to the next,
    /// skip all transformer blocks but the first and reuse their cached
    /// residual while the first block's residual changed relatively less than
    /// `threshold` (e.g. 0.05–0.2; 0 computes every step, `None` turns it off,
    /// the default). A finite threshold ≥ 0 is checked by [`PipelineBuilder::build`].
    pub fn step_cache(mut self, threshold: impl Into<Option<f32>>) -> Self {
        self.speed.step_cache = threshold.into();
        self
    }

    /// Loads the model.
    pub fn build(self) -> Result<Pipeline> {
        let started = Instant::now();
        let path = self
            .model
            .ok_or_else(|| Error::invalid("no model folder given (PipelineBuilder::model)"))?;
        if let Some(t) = self.speed.step_cache {
            crate::nn::step_cache::check_threshold(t)?;
        }
        if let Some(n) = self.threads {
            if n == 0 {
                return Err(Error::invalid("threads must be at least 1"));
            }
            tch::set_num_threads(n as i32);
        }
        self.device.check()?;
        let folder = ModelFolder::open(&path)?;
        let mut fam = family::load(&folder, self.device, self.dtype)?;
        fam.configure(&self.speed);
        Ok(Pipeline {
            path,
            device: self.device,
            dtype: self.dtype,
            family: Mutex::new(fam),
            load_s: started.elapsed().as_secs_f64(),
            load_reported: Mutex::new(false),
        })
    }
}

/// A loaded model ready to generate clips. Runs on one pipeline are serialised.
pub struct Pipeline {
    path: PathBuf,
    device: Device,
    dtype: Dtype,
    family: Mutex<Box<dyn ModelFamily>>,
    load_s: f64,
    load_reported: Mutex<bool>,
}

struct CollectSink {
    frames: Vec<Tensor>,
    audio: Vec<Tensor>,
    sample_rate: u32,
}

impl FrameSink for CollectSink {
    fn frames(&mut self, frames: Tensor) -> Result<()> {
        self.frames.push(frames);
        Ok(())
    }
    fn audio(&mut self, audio: Tensor, sample_rate: u32) -> Result<()> {
        self.audio.push(audio);
        self.sample_rate = sample_rate;
        Ok(())
    }
}

fn check_finite(t: &Tensor, what: &str) -> Result<()> {
    let bad = t.f_isfinite()?.f_logical_not()?.f_any()?;
    if bad.int64_value(&[]) != 0 {
        return Err(Error::Numeric(format!("{what} contains NaN or infinity")));
    }
    Ok(())
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

impl Pipeline {
    /// Starts building a pipeline.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The model folder.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The family's name (e.g. `wan`).
    pub fn family(&self) -> String {
        self.lock()
            .map(|f| f.name().to_string())
            .unwrap_or_default()
    }

    /// The family's defaults for unset request fields.
    pub fn defaults(&self) -> Result<Defaults> {
        Ok(self.lock()?.defaults())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Box<dyn ModelFamily>>> {
        self.family
            .lock()
            .map_err(|_| Error::Device("a previous run panicked; rebuild the pipeline".into()))
    }

    /// Resolves `req` against the family's defaults and rules without running it.
    pub fn resolve(&self, req: &Request) -> Result<Resolved> {
        let fam = self.lock()?;
        let r = req.resolve(&fam.defaults(), |f| fam.nearest_frames(f))?;
        fam.check(&r)?;
        Ok(r)
    }

    /// Generates a clip. Same request and seed give the same bytes on CPU.
    pub fn generate(&self, req: &Request, progress: &mut Progress) -> Result<Clip> {
        let mut fam = self.lock()?;
        let _guard = tch::no_grad_guard();
        let r = req.resolve(&fam.defaults(), |f| fam.nearest_frames(f))?;
        fam.check(&r)?;
        progress.check()?;

        let t_start = Instant::now();
        let cond = fam.encode(&r);
        let mut cond = cond?;
        let text_s = t_start.elapsed().as_secs_f64();
        progress.report(Phase::Encode, 1, 1, t_start)?;

        let t_den = Instant::now();
        let mut sched = fam.scheduler()?;
        let mut noise = Noise::new(r.seed);
        let plan = fam.prepare(&r, &mut cond, sched.as_mut(), &mut noise)?;
        let mut x = plan.latents;
        let total = plan.timesteps.len();
        let mut steps_s = Vec::with_capacity(total);
        for (i, t) in plan.timesteps.iter().enumerate() {
            progress.check()?;
            let t_step = Instant::now();
            let ctx = StepCtx { index: i, total, t };
            let guided = fam.predict(&x, &ctx, &cond)?.combine()?;
            let video = sched.step(&guided.video, t, &x.video)?;
            // Audio latents (joint families) are stepped by the family's own
            // scheduler inside `predict`'s companion; none exist yet.
            x = Latents {
                video,
                audio: x.audio,
            };
            self.device.synchronize();
            steps_s.push(t_step.elapsed().as_secs_f64());
            progress.report(Phase::Denoise, i + 1, total, t_den)?;
        }
        check_finite(&x.video, "the denoised latents")?;
        let denoise_s = t_den.elapsed().as_secs_f64();

        let t_dec = Instant::now();
        let mut sink = CollectSink {
            frames: Vec::new(),
            audio: Vec::new(),
            sample_rate: 0,
        };
        fam.decode(x, &cond, &mut sink)?;
        progress.report(Phase::Decode, 1, 1, t_dec)?;
        let decode_s = t_dec.elapsed().as_secs_f64();
        let total_s = t_start.elapsed().as_secs_f64();

        let frames = tensor_to_frames(&sink.frames)?;
        let audio = tensor_to_audio(&sink.audio)?;
        let load_s = {
            let mut reported = self.load_reported.lock().unwrap_or_else(|p| p.into_inner());
            let v = if *reported { 0.0 } else { self.load_s };
            *reported = true;
            v
        };
        let meta = ClipMeta {
            model: self.path.display().to_string(),
            family: fam.name().to_string(),
            mode: r.mode.name().to_string(),
            prompt: r.prompt.clone(),
            negative_prompt: r.negative_prompt.clone(),
            seed: r.seed,
            steps: r.steps,
            guidance: r.guidance,
            guidance_2: r.guidance_2,
            width: r.width,
            height: r.height,
            frames: frames.shape()[0] as u32,
            fps: r.fps,
            device: self.device.to_string(),
            dtype: self.dtype.to_string(),
            has_audio: audio.is_some(),
            sora_version: crate::version().to_string(),
            timings: Timings {
                load_s,
                text_s,
                denoise_s,
                decode_s,
                total_s,
                steps_s,
            },
            peak_rss_mb: peak_rss_mb(),
            step_cache: fam.step_cache_stats(),
        };
        Ok(Clip {
            frames,
            audio,
            fps: r.fps as f32,
            sample_rate: if sink.audio.is_empty() {
                0
            } else {
                sink.sample_rate
            },
            meta,
        })
    }
}

fn tensor_to_frames(chunks: &[Tensor]) -> Result<Array4<u8>> {
    if chunks.is_empty() {
        return Err(Error::Numeric("the decoder produced no frames".into()));
    }
    let all = Tensor::f_cat(chunks, 0)?
        .f_to_device(tch::Device::Cpu)?
        .f_to_kind(Kind::Uint8)?
        .f_contiguous()?;
    let shape: Vec<usize> = all.size().iter().map(|&d| d as usize).collect();
    if shape.len() != 4 || shape[3] != 3 {
        return Err(Error::Numeric(format!(
            "decoded frames have shape {shape:?}, expected [T,H,W,3]"
        )));
    }
    let data = Vec::<u8>::try_from(&all.f_flatten(0, -1)?)?;
    Array4::from_shape_vec((shape[0], shape[1], shape[2], shape[3]), data)
        .map_err(|e| Error::Numeric(e.to_string()))
}

fn tensor_to_audio(chunks: &[Tensor]) -> Result<Option<Array2<f32>>> {
    if chunks.is_empty() {
        return Ok(None);
    }
    let all = Tensor::f_cat(chunks, 1)?
        .f_to_device(tch::Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?;
    let s = all.size();
    let data = Vec::<f32>::try_from(&all.f_flatten(0, -1)?)?;
    Array2::from_shape_vec((s[0] as usize, s[1] as usize), data)
        .map(Some)
        .map_err(|e| Error::Numeric(e.to_string()))
}
