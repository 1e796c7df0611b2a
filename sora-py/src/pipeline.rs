//! `sora.Pipeline`: loads a model folder and generates clips. Arguments are
//! converted with the GIL held; loading and generating run with it released,
//! and it is taken back only to call `on_step` and to check for Ctrl-C.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Mutex;

use ndarray::{Array3, Array4};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sora_core::family::params::set_known;
use sora_core::pipeline::ParamValue;
use sora_core::{
    CancelToken, Device, Dtype, Error, ImageInput, Phase, Progress, Request, StepInfo, VideoInput,
};

use crate::args::{self, Media};
use crate::clip::PyClip;
use crate::errors::{guard, invalid, to_py};

/// Strength of a video-to-video run when none is given (diffusers'
/// `WanVideoToVideoPipeline` default).
use sora_core::pipeline::DEFAULT_STRENGTH;

thread_local! {
    /// The pipeline whose `on_step` runs on this thread now (0 when none), so that
    /// a re-entrant `generate` raises instead of deadlocking on the pipeline's lock.
    static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// A loaded model ready to generate clips. Runs on one pipeline are serialised;
/// the GIL is released while loading and generating.
#[pyclass(name = "Pipeline", module = "sora", frozen)]
pub struct PyPipeline {
    inner: sora_core::Pipeline,
    family: String,
    device: Device,
    dtype: Dtype,
    /// Tokens of the runs in progress (by run id), cancelled by `cancel()`.
    runs: Mutex<Vec<(u64, CancelToken)>>,
    next_run: Mutex<u64>,
}

/// The pipeline options of `sora.Pipeline(...)` and `sora.estimate(...)`,
/// converted with the GIL held.
pub(crate) struct Options {
    /// The model folder (`None`: the embedded default model).
    path: Option<PathBuf>,
    device: Device,
    dtype: Dtype,
    threads: Option<usize>,
    batch_guidance: bool,
    step_cache: Option<f32>,
    memory_budget_mb: Option<u64>,
    offload_text_encoder: bool,
    /// The core's text form of `vae_tiling` (`true`/`false` or `H,W,SH,SW`).
    vae_tiling: Option<String>,
    /// The core's text form of `vae_frame_tiling` (`true`/`false` or `W,S`).
    vae_frame_tiling: Option<String>,
    offload: Option<String>,
    /// The core's text form of `physics` (`off`, `report`, `rerank:N`).
    physics: Option<String>,
    /// The core's text form of `motion_guidance` (`STRENGTH[@FROM]`).
    motion_guidance: Option<String>,
    /// The visible moving watermark (default on).
    pub(crate) visible_watermark: bool,
    /// A creator handle shown with the visible mark.
    pub(crate) watermark_handle: Option<String>,
    /// The core's text form of `watermarks` (`on`/`off`), when given.
    pub(crate) watermarks: Option<String>,
    /// The core's text form of `credentials` (`on`/`off`), when given.
    pub(crate) credentials: Option<String>,
    /// A signing certificate chain and key (PEM files), when given.
    pub(crate) sign_cert: Option<PathBuf>,
    pub(crate) sign_key: Option<PathBuf>,
    /// Embed the prompt in the content credentials.
    pub(crate) credentials_prompt: bool,
}

impl Options {
    #[allow(clippy::too_many_arguments)] // one per Python keyword
    pub(crate) fn parse(
        model: Option<&Bound<'_, PyAny>>,
        device: &str,
        dtype: &str,
        threads: Option<&Bound<'_, PyAny>>,
        batch_guidance: bool,
        step_cache: Option<f32>,
        memory_budget_mb: Option<&Bound<'_, PyAny>>,
        offload_text_encoder: bool,
        vae_tiling: Option<&Bound<'_, PyAny>>,
        vae_frame_tiling: Option<&Bound<'_, PyAny>>,
        offload: Option<String>,
        physics: Option<String>,
        motion_guidance: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // A strength (number), or the core's text `STRENGTH@FROM`.
        let motion_guidance: Option<String> = match motion_guidance {
            None => None,
            Some(v) => Some(if let Ok(s) = v.extract::<String>() {
                s
            } else if let Ok(x) = v.extract::<f64>() {
                x.to_string()
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "motion_guidance takes a strength (float) or a text STRENGTH@FROM",
                ));
            }),
        };
        // A negative or non-integer budget is an InvalidRequestError, not
        // Python's OverflowError / TypeError.
        let memory_budget_mb = args::opt_uint::<u64>("memory_budget_mb", memory_budget_mb)?;
        // `True`/`False`, or `(H, W, SH, SW)`: translated to the core's text
        // option, which checks it.
        let vae_tiling: Option<String> = match vae_tiling {
            None => None,
            Some(v) => Some(if let Ok(on) = v.extract::<bool>() {
                on.to_string()
            } else if let Ok((h, w, sh, sw)) = v.extract::<(i64, i64, i64, i64)>() {
                format!("{h},{w},{sh},{sw}")
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "vae_tiling takes a bool or a tuple (height, width, stride_height, stride_width)",
                ));
            }),
        };
        // `True`/`False`, or `(WINDOW, STRIDE)` in frames.
        let vae_frame_tiling: Option<String> = match vae_frame_tiling {
            None => None,
            Some(v) => Some(if let Ok(on) = v.extract::<bool>() {
                on.to_string()
            } else if let Ok((w, s)) = v.extract::<(i64, i64)>() {
                format!("{w},{s}")
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "vae_frame_tiling takes a bool or a tuple (window, stride) in frames",
                ));
            }),
        };
        Ok(Self {
            path: model
                .filter(|m| !m.is_none())
                .map(|m| args::path("model", m))
                .transpose()?,
            device: device.parse().map_err(to_py)?,
            dtype: dtype.parse().map_err(to_py)?,
            threads: args::opt_uint("threads", threads)?,
            batch_guidance,
            step_cache,
            memory_budget_mb,
            offload_text_encoder,
            vae_tiling,
            vae_frame_tiling,
            offload,
            physics,
            motion_guidance,
            visible_watermark: true,
            watermark_handle: None,
            watermarks: None,
            credentials: None,
            sign_cert: None,
            sign_key: None,
            credentials_prompt: false,
        })
    }

    /// The core builder with these options (runs without the GIL).
    pub(crate) fn builder(&self) -> sora_core::Result<sora_core::PipelineBuilder> {
        let mut b = sora_core::Pipeline::builder();
        if let Some(m) = &self.path {
            b = b.model(m);
        }
        let mut b = b
            .device(self.device)
            .dtype(self.dtype)
            .batch_guidance(self.batch_guidance)
            .step_cache(self.step_cache)
            .offload_text_encoder(self.offload_text_encoder);
        if let Some(mb) = self.memory_budget_mb {
            b = b.memory_budget_mb(mb);
        }
        if let Some(n) = self.threads {
            b = b.threads(n);
        }
        if let Some(t) = &self.vae_tiling {
            b = b.option("vae_tiling", t)?;
        }
        if let Some(t) = &self.vae_frame_tiling {
            b = b.option("vae_frame_tiling", t)?;
        }
        if let Some(o) = &self.offload {
            b = b.option("offload", o)?;
        }
        if let Some(p) = &self.physics {
            b = b.option("physics", p)?;
        }
        if let Some(g) = &self.motion_guidance {
            b = b.option("motion_guidance", g)?;
        }
        if !self.visible_watermark {
            b = b.no_visible_watermark();
        }
        if let Some(h) = &self.watermark_handle {
            b = b.watermark_handle(h);
        }
        if let Some(w) = &self.watermarks {
            b = b.option("watermarks", w)?;
        }
        if let Some(c) = &self.credentials {
            b = b.option("credentials", c)?;
        }
        match (&self.sign_cert, &self.sign_key) {
            (Some(c), Some(k)) => b = b.sign_with_files(c, k),
            // One without the other: the core's error names what is missing.
            (Some(c), None) => b = b.option("sign_cert", &c.to_string_lossy())?,
            (None, Some(k)) => b = b.option("sign_key", &k.to_string_lossy())?,
            (None, None) => {}
        }
        if self.credentials_prompt {
            b = b.credentials_prompt(true);
        }
        Ok(b)
    }
}

/// A memory estimate as a Python dict (the JSON object `sora inspect
/// --estimate --json` prints under `estimate`).
pub(crate) fn estimate_dict<'py>(
    py: Python<'py>,
    est: &sora_core::MemoryEstimate,
) -> PyResult<Bound<'py, PyDict>> {
    py.import("json")?
        .call_method1("loads", (est.to_json(),))?
        .cast_into::<PyDict>()
        .map_err(Into::into)
}

/// Media inputs and every optional request field, converted but not yet read.
struct Args {
    prompt: String,
    negative_prompt: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    frames: Option<u32>,
    seconds: Option<f32>,
    fps: Option<u32>,
    steps: Option<u32>,
    guidance: Option<f32>,
    guidance_2: Option<f32>,
    seed: Option<u64>,
    image: Option<Media<Array3<u8>>>,
    video: Option<ClipArg>,
    strength: Option<f32>,
    /// A clip to continue by `seconds`.
    extend: Option<ClipArg>,
    /// Timed prompts (seconds, text) for long-form generation.
    prompts_at: Vec<(f32, String)>,
    /// `aspect`, `resolution` and `fit`, set through the core's parameter path.
    shape: [(&'static str, Option<String>); 3],
    /// Frame conditions: (frames, latent index, strength).
    conditions: Vec<(Media<Array4<u8>>, i64, f32)>,
    /// Request parameters given as extra keywords (`guidance_scale=3.5`),
    /// set through the core after the keywords above.
    params: Vec<(String, ParamValue)>,
}

/// A clip keyword (`video`, `extend`): a path or pixels, or a `sora.Clip`
/// (its frames, rate and audio: a continuation keeps the clip's sound).
enum ClipArg {
    Media(Media<Array4<u8>>),
    Clip(VideoInput),
}

/// Reads the clip keyword `name`.
fn clip_arg(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<ClipArg> {
    if let Ok(c) = obj.cast::<PyClip>() {
        return Ok(ClipArg::Clip(c.get().video_input(obj.py())?));
    }
    Ok(ClipArg::Media(args::clip(name, obj)?))
}

/// The optional keywords of `generate` / `generate_to_file`, in the order of
/// their signatures: negative_prompt, width, height, frames, seconds, fps,
/// steps, guidance, guidance_2, seed, image, video, strength, aspect,
/// resolution, fit, conditions, extend, prompts_at.
type Keywords<'a, 'py> = [Option<&'a Bound<'py, PyAny>>; 19];

impl Args {
    /// Converts the Python arguments (with the GIL held).
    fn parse(
        prompt: &Bound<'_, PyAny>,
        kw: Keywords<'_, '_>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let [negative_prompt, width, height, frames, seconds, fps, steps, guidance, guidance_2, seed, image, video, strength, aspect, resolution, fit, conditions, extend, prompts_at] =
            kw;
        Ok(Self {
            prompt: args::opt_str("prompt", Some(prompt))?
                .ok_or_else(|| invalid("prompt must be a str, got None"))?,
            negative_prompt: args::opt_str("negative_prompt", negative_prompt)?,
            width: args::opt_uint("width", width)?,
            height: args::opt_uint("height", height)?,
            frames: args::opt_uint("frames", frames)?,
            seconds: args::opt_f32("seconds", seconds)?,
            fps: args::opt_uint("fps", fps)?,
            steps: args::opt_uint("steps", steps)?,
            guidance: args::opt_f32("guidance", guidance)?,
            guidance_2: args::opt_f32("guidance_2", guidance_2)?,
            seed: args::opt_uint("seed", seed)?,
            image: image
                .filter(|o| !o.is_none())
                .map(args::image)
                .transpose()?,
            video: video
                .filter(|o| !o.is_none())
                .map(|o| clip_arg("video", o))
                .transpose()?,
            strength: args::opt_f32("strength", strength)?,
            extend: extend
                .filter(|o| !o.is_none())
                .map(|o| clip_arg("extend", o))
                .transpose()?,
            prompts_at: args::prompts_at(prompts_at)?,
            shape: [
                ("aspect", args::opt_str("aspect", aspect)?),
                ("resolution", args::opt_str("resolution", resolution)?),
                ("fit", args::opt_str("fit", fit)?),
            ],
            conditions: args::conditions(conditions)?,
            params: args::params(params)?,
        })
    }

    /// The core request (reads path inputs; runs without the GIL).
    fn into_request(self, pipe: &sora_core::Pipeline) -> sora_core::Result<Request> {
        let extending = self.extend.is_some();
        let mut req = if let Some(clip) = self.extend {
            if self.image.is_some() || self.video.is_some() {
                return Err(Error::invalid("give one input: extend, image or video"));
            }
            if self.strength.is_some() {
                return Err(Error::invalid("strength applies to video inputs only"));
            }
            // `seconds` is the length added to the clip.
            let seconds = self
                .seconds
                .ok_or_else(|| Error::invalid("extend needs seconds: the seconds to add"))?;
            let clip = match clip {
                ClipArg::Clip(c) => c,
                ClipArg::Media(Media::Path(p)) => args::read_video(&p)?,
                ClipArg::Media(Media::Pixels(frames)) => {
                    let fps = match self.fps {
                        Some(f) => f,
                        None => pipe.defaults()?.fps,
                    };
                    VideoInput::new(frames, fps as f32)
                }
            };
            Request::extend(clip, self.prompt, seconds)
        } else {
            match (self.image, self.video) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid("give either image or video, not both"));
                }
                (Some(img), None) => {
                    if self.strength.is_some() {
                        return Err(Error::invalid("strength applies to video inputs only"));
                    }
                    let img = match img {
                        Media::Path(p) => args::read_image(&p)?,
                        Media::Pixels(pixels) => ImageInput { pixels },
                    };
                    Request::image(img, self.prompt)
                }
                (None, Some(v)) => {
                    let clip = match v {
                        ClipArg::Clip(c) => c,
                        ClipArg::Media(Media::Path(p)) => args::read_video(&p)?,
                        ClipArg::Media(Media::Pixels(frames)) => {
                            let fps = match self.fps {
                                Some(f) => f,
                                None => pipe.defaults()?.fps,
                            };
                            VideoInput::new(frames, fps as f32)
                        }
                    };
                    Request::video(clip, self.prompt, self.strength.unwrap_or(DEFAULT_STRENGTH))
                }
                (None, None) => {
                    if self.strength.is_some() {
                        return Err(Error::invalid("strength applies to video inputs only"));
                    }
                    Request::text(self.prompt)
                }
            }
        };
        req.negative_prompt = self.negative_prompt;
        req.width = self.width;
        req.height = self.height;
        req.frames = self.frames;
        req.seconds = self.seconds.filter(|_| !extending);
        req.fps = self.fps;
        req.steps = self.steps;
        req.guidance = self.guidance;
        req.guidance_2 = self.guidance_2;
        req.seed = self.seed;
        req.prompts_at = self.prompts_at;
        for (key, value) in self.shape {
            if let Some(v) = value {
                req.set(key, v)?;
            }
        }
        for (frames, index, strength) in self.conditions {
            req = req.condition(match frames {
                Media::Path(p) => sora_core::FrameCondition::from_path(&p, index, strength)?,
                Media::Pixels(frames) => sora_core::FrameCondition {
                    frames,
                    index,
                    strength,
                },
            });
        }
        for (key, value) in self.params {
            set_known(&mut req, &key, value)?;
        }
        Ok(req)
    }
}

/// What the step callback saw: an exception to raise instead of `CancelledError`.
type Pending = Option<PyErr>;

/// Calls `on_step` for a denoising step; `false` stops the run.
fn step(
    py: Python<'_>,
    on_step: Option<&Py<PyAny>>,
    info: &StepInfo,
    pending: &mut Pending,
) -> bool {
    // Ctrl-C (SIGINT) while generating: raise KeyboardInterrupt after the run stops.
    if let Err(e) = py.check_signals() {
        *pending = Some(e);
        return false;
    }
    let (Some(cb), Phase::Denoise) = (on_step, info.phase) else {
        return true;
    };
    let answer = cb
        .call1(py, (info.step, info.total, info.elapsed_s, info.eta_s))
        .and_then(|r| {
            if r.is_none(py) {
                Ok(true)
            } else {
                r.is_truthy(py)
            }
        });
    answer.unwrap_or_else(|e| {
        *pending = Some(e);
        false
    })
}

impl PyPipeline {
    /// A fresh token registered as a run in progress.
    fn start_run(&self) -> (u64, CancelToken) {
        let mut next = self.next_run.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        let token = CancelToken::new();
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((*next, token.clone()));
        (*next, token)
    }

    fn end_run(&self, id: u64) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _)| *i != id);
    }

    fn key(&self) -> usize {
        self as *const Self as usize
    }
}

impl PyPipeline {
    /// Runs `work` on the request of `a` without the GIL, with `on_step` as the
    /// progress callback, this pipeline's cancellation and Ctrl-C: the one run
    /// loop of `generate` and `generate_to_file`.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        a: Args,
        on_step: Option<&Bound<'_, PyAny>>,
        work: impl FnOnce(&sora_core::Pipeline, &Request, &mut Progress) -> sora_core::Result<T> + Send,
    ) -> PyResult<T> {
        if IN_CALLBACK.with(|c| c.get()) == self.key() {
            return Err(invalid(
                "generate() and generate_to_file() cannot be called from this pipeline's own on_step",
            ));
        }
        let on_step: Option<Py<PyAny>> = match on_step.filter(|o| !o.is_none()) {
            Some(cb) if !cb.is_callable() => {
                return Err(invalid(
                    "on_step must be callable (step, total, elapsed_s, eta_s)",
                ));
            }
            cb => cb.map(|c| c.clone().unbind()),
        };
        let (run, token) = self.start_run();
        let key = self.key();
        let mut pending: Pending = None;
        let result = py.detach(|| {
            let mut progress = Progress::with_callback(|info: &StepInfo| {
                Python::attach(|py| {
                    let prev = IN_CALLBACK.with(|c| c.replace(key));
                    let go = step(py, on_step.as_ref(), info, &mut pending);
                    IN_CALLBACK.with(|c| c.set(prev));
                    go
                })
            })
            .token(token);
            let r = guard(|| {
                let req = a.into_request(&self.inner)?;
                work(&self.inner, &req, &mut progress)
            });
            drop(progress);
            r
        });
        self.end_run(run);
        result.map_err(|e| pending.take().unwrap_or(e))
    }
}

#[pymethods]
impl PyPipeline {
    /// Loads the diffusers-format model folder `model` (None: the embedded
    /// default model, a tiny audio-video model trained by the project) on
    /// `device` ("cpu", "cuda", "cuda:N") in `dtype` ("float32", "float16",
    /// "bfloat16");
    /// `threads` sets LibTorch's intra-op CPU threads (process-wide).
    /// `safety_registry` (a consent registry / protected list JSON file)
    /// turns the prompt gate on: a prompt naming a registered person raises
    /// `ConsentRequiredError` unless `generate(..., consent="ID")` carries a
    /// valid consent granted to `owner_key`; a protected character raises
    /// `ProtectedContentError`. Without it every prompt passes.
    #[new]
    #[allow(clippy::too_many_arguments)] // one per Python keyword
    #[pyo3(signature = (model=None, device="cpu", dtype="float32", threads=None, *, batch_guidance=true, step_cache=None, memory_budget_mb=None, offload_text_encoder=false, vae_tiling=None, vae_frame_tiling=None, offload=None, physics=None, motion_guidance=None, safety_registry=None, owner_key=None, visible_watermark=true, watermark_handle=None, watermarks=None, credentials=None, sign_cert=None, sign_key=None, credentials_prompt=false))]
    fn new(
        py: Python<'_>,
        model: Option<&Bound<'_, PyAny>>,
        device: &str,
        dtype: &str,
        threads: Option<&Bound<'_, PyAny>>,
        batch_guidance: bool,
        step_cache: Option<f32>,
        memory_budget_mb: Option<&Bound<'_, PyAny>>,
        offload_text_encoder: bool,
        vae_tiling: Option<&Bound<'_, PyAny>>,
        vae_frame_tiling: Option<&Bound<'_, PyAny>>,
        offload: Option<String>,
        physics: Option<String>,
        motion_guidance: Option<&Bound<'_, PyAny>>,
        safety_registry: Option<&Bound<'_, PyAny>>,
        owner_key: Option<String>,
        visible_watermark: bool,
        watermark_handle: Option<String>,
        watermarks: Option<String>,
        credentials: Option<String>,
        sign_cert: Option<&Bound<'_, PyAny>>,
        sign_key: Option<&Bound<'_, PyAny>>,
        credentials_prompt: bool,
    ) -> PyResult<Self> {
        let mut o = Options::parse(
            model,
            device,
            dtype,
            threads,
            batch_guidance,
            step_cache,
            memory_budget_mb,
            offload_text_encoder,
            vae_tiling,
            vae_frame_tiling,
            offload,
            physics,
            motion_guidance,
        )?;
        o.visible_watermark = visible_watermark;
        o.watermark_handle = watermark_handle;
        o.watermarks = watermarks;
        o.credentials = credentials;
        o.sign_cert = sign_cert
            .filter(|v| !v.is_none())
            .map(|v| args::path("sign_cert", v))
            .transpose()?;
        o.sign_key = sign_key
            .filter(|v| !v.is_none())
            .map(|v| args::path("sign_key", v))
            .transpose()?;
        o.credentials_prompt = credentials_prompt;
        let registry = safety_registry
            .filter(|r| !r.is_none())
            .map(|r| args::path("safety_registry", r))
            .transpose()?;
        let inner = py.detach(|| {
            guard(|| {
                let mut b = o.builder()?;
                if let Some(r) = registry {
                    b = b.safety_registry(r);
                }
                if let Some(k) = owner_key {
                    b = b.owner_key(k);
                }
                b.build()
            })
        })?;
        let family = py.detach(|| inner.family());
        Ok(Self {
            inner,
            family,
            device: o.device,
            dtype: o.dtype,
            runs: Mutex::new(Vec::new()),
            next_run: Mutex::new(0),
        })
    }

    /// Generates a clip. Unset (None) values take the family's defaults.
    /// `image` / `video` take a path or a numpy uint8 array ([H, W, 3] /
    /// [T, H, W, 3]). `guidance_2` is the low-noise expert's scale of two-expert
    /// models (defaults to `guidance`). `aspect` ("9:16", "1:1", "4:5", "16:9",
    /// "21:9") and `resolution` ("480p", "720p", "1080p") give the size instead
    /// of `width`/`height`, mapped to the nearest size the model takes; `fit`
    /// ("crop" or "pad") makes an input of another aspect the request's shape
    /// (without it such an input raises `InvalidRequestError`).
    /// `conditions` (LTX-2) is a list of frame conditions, each a tuple
    /// `(frames, index, strength)` (`index` and `strength` optional: 0 and
    /// 1) or a dict with keys `frames` (or `path`), `index`, `strength`:
    /// `frames` a path (image, MP4, PNG folder) or a numpy uint8 array
    /// [H, W, 3] or [T, H, W, 3]; `index` a latent frame index (negative from
    /// the end); `strength` in [0, 1].
    /// (without it such an input raises `InvalidRequestError`). `extend` (a path,
    /// a numpy uint8 array [T, H, W, 3] at `fps`, or a `Clip`) continues that
    /// clip by `seconds`: its frames unchanged, then the new ones, at its rate
    /// and size. A `Clip` given as `extend` or `video` brings its rate and its
    /// audio, which a model without audio of its own (Wan) keeps.
    /// `on_step(step, total, elapsed_s, eta_s)` is called after
    /// each denoising step; returning False (any falsy value but None) cancels
    /// with `CancelledError`. Ctrl-C stops the run with `KeyboardInterrupt`.
    /// Other keyword arguments are request parameters named as diffusers'
    /// pipeline keywords (`guidance_scale=3.5`, `num_inference_steps=30`,
    /// `guidance_scale_2=3.0`, lists as Python lists), set through the core
    /// after the keywords above; an unknown one or a bad value raises
    /// `InvalidRequestError` naming it.
    #[pyo3(signature = (
        prompt, *, negative_prompt=None, width=None, height=None, frames=None, seconds=None,
        fps=None, steps=None, guidance=None, guidance_2=None, seed=None, image=None, video=None, strength=None,
        aspect=None, resolution=None, fit=None, conditions=None, extend=None, prompts_at=None, on_step=None, **params
    ))]
    #[allow(clippy::too_many_arguments)]
    fn generate(
        &self,
        py: Python<'_>,
        prompt: &Bound<'_, PyAny>,
        negative_prompt: Option<&Bound<'_, PyAny>>,
        width: Option<&Bound<'_, PyAny>>,
        height: Option<&Bound<'_, PyAny>>,
        frames: Option<&Bound<'_, PyAny>>,
        seconds: Option<&Bound<'_, PyAny>>,
        fps: Option<&Bound<'_, PyAny>>,
        steps: Option<&Bound<'_, PyAny>>,
        guidance: Option<&Bound<'_, PyAny>>,
        guidance_2: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        image: Option<&Bound<'_, PyAny>>,
        video: Option<&Bound<'_, PyAny>>,
        strength: Option<&Bound<'_, PyAny>>,
        aspect: Option<&Bound<'_, PyAny>>,
        resolution: Option<&Bound<'_, PyAny>>,
        fit: Option<&Bound<'_, PyAny>>,
        conditions: Option<&Bound<'_, PyAny>>,
        extend: Option<&Bound<'_, PyAny>>,
        prompts_at: Option<&Bound<'_, PyAny>>,
        on_step: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyClip> {
        let a = Args::parse(
            prompt,
            [
                negative_prompt,
                width,
                height,
                frames,
                seconds,
                fps,
                steps,
                guidance,
                guidance_2,
                seed,
                image,
                video,
                strength,
                aspect,
                resolution,
                fit,
                conditions,
                extend,
                prompts_at,
            ],
            params,
        )?;
        let clip = self.run(py, a, on_step, |pipe, req, progress| {
            pipe.generate(req, progress)
        })?;
        PyClip::from_core(py, clip)
    }

    /// Generates a clip straight into the file `path`, decoding and encoding
    /// as it goes, so memory stays flat however long the clip (the way to
    /// write long clips): `.mp4`, `.wav`, or a folder for a PNG sequence. The
    /// file appears whole or not at all. Takes the keywords of `generate`;
    /// returns the clip's metadata (the dict `Clip.meta` would hold). An
    /// existing `path` is replaced only when sora wrote it, or with
    /// `overwrite=True` (`InvalidRequestError` otherwise, before any work).
    #[pyo3(signature = (
        path, prompt, *, negative_prompt=None, width=None, height=None, frames=None, seconds=None,
        fps=None, steps=None, guidance=None, guidance_2=None, seed=None, image=None, video=None, strength=None,
        aspect=None, resolution=None, fit=None, conditions=None, extend=None, prompts_at=None, on_step=None, overwrite=false, **params
    ))]
    #[allow(clippy::too_many_arguments)]
    fn generate_to_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'_, PyAny>,
        prompt: &Bound<'_, PyAny>,
        negative_prompt: Option<&Bound<'_, PyAny>>,
        width: Option<&Bound<'_, PyAny>>,
        height: Option<&Bound<'_, PyAny>>,
        frames: Option<&Bound<'_, PyAny>>,
        seconds: Option<&Bound<'_, PyAny>>,
        fps: Option<&Bound<'_, PyAny>>,
        steps: Option<&Bound<'_, PyAny>>,
        guidance: Option<&Bound<'_, PyAny>>,
        guidance_2: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        image: Option<&Bound<'_, PyAny>>,
        video: Option<&Bound<'_, PyAny>>,
        strength: Option<&Bound<'_, PyAny>>,
        aspect: Option<&Bound<'_, PyAny>>,
        resolution: Option<&Bound<'_, PyAny>>,
        fit: Option<&Bound<'_, PyAny>>,
        conditions: Option<&Bound<'_, PyAny>>,
        extend: Option<&Bound<'_, PyAny>>,
        prompts_at: Option<&Bound<'_, PyAny>>,
        on_step: Option<&Bound<'_, PyAny>>,
        overwrite: bool,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let path: PathBuf = args::path("path", path)?;
        let write = sora_core::WriteOptions::default().overwrite(overwrite);
        let a = Args::parse(
            prompt,
            [
                negative_prompt,
                width,
                height,
                frames,
                seconds,
                fps,
                steps,
                guidance,
                guidance_2,
                seed,
                image,
                video,
                strength,
                aspect,
                resolution,
                fit,
                conditions,
                extend,
                prompts_at,
            ],
            params,
        )?;
        let meta = self.run(py, a, on_step, |pipe, req, progress| {
            pipe.generate_to_file_with(req, progress, &path, write)
        })?;
        py.import("json")?
            .call_method1("loads", (meta.to_json(),))?
            .cast_into::<PyDict>()
            .map_err(Into::into)
    }

    /// The memory the request needs from here on (the loaded weights counted
    /// as resident), as a dict: MiB per weight, activation and phase,
    /// `total_mb`, `peak_phase`, `largest_part`, ... — the estimate `generate`
    /// checks against the memory budget. Takes the keywords of `generate`.
    #[pyo3(signature = (
        prompt=None, *, negative_prompt=None, width=None, height=None, frames=None, seconds=None,
        fps=None, steps=None, guidance=None, guidance_2=None, seed=None, image=None, video=None, strength=None,
        aspect=None, resolution=None, fit=None, conditions=None, extend=None, prompts_at=None, **params
    ))]
    #[allow(clippy::too_many_arguments)]
    fn estimate<'py>(
        &self,
        py: Python<'py>,
        prompt: Option<&Bound<'_, PyAny>>,
        negative_prompt: Option<&Bound<'_, PyAny>>,
        width: Option<&Bound<'_, PyAny>>,
        height: Option<&Bound<'_, PyAny>>,
        frames: Option<&Bound<'_, PyAny>>,
        seconds: Option<&Bound<'_, PyAny>>,
        fps: Option<&Bound<'_, PyAny>>,
        steps: Option<&Bound<'_, PyAny>>,
        guidance: Option<&Bound<'_, PyAny>>,
        guidance_2: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        image: Option<&Bound<'_, PyAny>>,
        video: Option<&Bound<'_, PyAny>>,
        strength: Option<&Bound<'_, PyAny>>,
        aspect: Option<&Bound<'_, PyAny>>,
        resolution: Option<&Bound<'_, PyAny>>,
        fit: Option<&Bound<'_, PyAny>>,
        conditions: Option<&Bound<'_, PyAny>>,
        extend: Option<&Bound<'_, PyAny>>,
        prompts_at: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        // The prompt's text does not change the estimate; None stands for "".
        let empty = pyo3::types::PyString::new(py, "").into_any();
        let a = Args::parse(
            prompt.filter(|p| !p.is_none()).unwrap_or(&empty),
            [
                negative_prompt,
                width,
                height,
                frames,
                seconds,
                fps,
                steps,
                guidance,
                guidance_2,
                seed,
                image,
                video,
                strength,
                aspect,
                resolution,
                fit,
                conditions,
                extend,
                prompts_at,
            ],
            params,
        )?;
        let est = py.detach(|| {
            guard(|| {
                let req = a.into_request(&self.inner)?;
                self.inner.estimate(&req)
            })
        })?;
        estimate_dict(py, &est)
    }

    /// Cancels the runs in progress on this pipeline (callable from any thread);
    /// they stop at the next step and raise `CancelledError`.
    fn cancel(&self) {
        for (_, t) in self.runs.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            t.cancel();
        }
    }

    /// The model folder.
    #[getter]
    fn model(&self) -> String {
        self.inner.model_path().display().to_string()
    }

    /// The model family (e.g. "wan").
    #[getter]
    fn family(&self) -> String {
        self.family.clone()
    }

    /// The device ("cpu", "cuda:0").
    #[getter]
    fn device(&self) -> String {
        self.device.to_string()
    }

    /// The dtype ("float32", "float16", "bfloat16").
    #[getter]
    fn dtype(&self) -> String {
        self.dtype.to_string()
    }

    /// The family's defaults for unset request values (a fresh dict).
    #[getter]
    fn defaults<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = py.detach(|| guard(|| self.inner.defaults()))?;
        let out = PyDict::new(py);
        out.set_item("width", d.width)?;
        out.set_item("height", d.height)?;
        out.set_item("frames", d.frames)?;
        out.set_item("fps", d.fps)?;
        out.set_item("steps", d.steps)?;
        out.set_item("guidance", d.guidance)?;
        out.set_item("negative_prompt", d.negative_prompt)?;
        out.set_item("audio", d.audio)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "sora.Pipeline(model={:?}, family={:?}, device={:?}, dtype={:?})",
            self.inner.model_path().display().to_string(),
            self.family,
            self.device.to_string(),
            self.dtype.to_string()
        )
    }
}
