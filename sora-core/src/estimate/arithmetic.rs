//! Memory estimates: how much memory a request needs, computed before anything
//! is allocated, from the model's configs and the safetensors headers alone.
//!
//! The arithmetic every family shares lives here, once: resident weights from
//! tensor counts and dtypes ([`WeightTally`]), the working set of one
//! transformer forward ([`transformer_forward_bytes`]), of a T5-like text
//! encoder forward ([`encoder_forward_bytes`]), of a causal video decoder run
//! latent frame by latent frame with its feature cache ([`ConvStep`],
//! [`decoder_bytes`]), of the output clip ([`output_bytes`]), and the total as
//! the largest sum of what is alive at once in any phase ([`assemble`]). A
//! family describes its own shapes and phases
//! ([`crate::family::ModelFamily::estimate`]; Wan's in `models/wan/memory.rs`).
//!
//! The formulas count the tensors the engine's code keeps alive at each point
//! (an intermediate bound by `let` lives to the end of its scope, chained
//! temporaries to the end of their statement), not a fitted model; they are an
//! upper bound by construction and were checked against measured peaks
//! (docs/performance.md, "Memory").
//!
//! The budget a request is checked against ([`default_budget_mb`]): an explicit
//! one when given; otherwise, on the CPU, the memory the OS reports available
//! (`MemAvailable`, lowered to the memory cgroup's headroom inside a container)
//! plus what the pipeline already holds of the estimate (its resident weights);
//! on CUDA no check is made without an explicit budget.

use std::path::Path;

use serde::Serialize;

use crate::nn::tiling::VaeTiling;
use crate::weights::TensorStore;
use crate::{Device, Dtype, Error, Result};

/// Bytes in one MiB.
pub const MIB: u64 = 1 << 20;

/// What LibTorch itself adds on the CPU once a pipeline runs, beyond the
/// process's resident memory before loading: kernel code paged in as it first
/// runs, thread pools, oneDNN/MKL buffers. About 40–60 MiB measured with
/// torch 2.13.0 on x86-64 Linux (docs/performance.md, "Memory"), rounded up.
pub const CPU_RUNTIME_BYTES: u64 = 128 * MIB;

/// What LibTorch adds on a CUDA device besides tensors: the context, cuBLAS
/// and cuDNN workspaces and allocator rounding (a typical value, not measured
/// per GPU).
pub const CUDA_RUNTIME_BYTES: u64 = 768 * MIB;

/// The allocator's slack, in percent of a phase's working set, up to
/// [`ALLOCATOR_SLACK_CAP`]: memory freed during a phase stays with the
/// allocator for reuse (glibc serves blocks under its mmap threshold, which
/// grows to 32 MiB, from a heap that does not shrink and fragments; CUDA's
/// caching allocator keeps whole blocks), so the resident peak exceeds the
/// live tensors. Measured on the CPU: 6 % above the counted working set when
/// tensors are large (mapped and unmapped directly), up to 57 % when they are
/// all under 32 MiB (docs/performance.md, "Memory").
pub const ALLOCATOR_SLACK_PERCENT: u64 = 60;

/// The most allocator slack counted on the CPU: glibc keeps only blocks under
/// 32 MiB, and a phase has a few dozen tensors alive at once. CUDA's caching
/// allocator keeps blocks of any size, so on a GPU the slack is not capped:
/// measured on an H200 (Wan2.1-1.3B configs, 832×480, 81 frames, bf16), the
/// process peaked 1.1–1.2 GiB above the capped estimate, in the VAE decode
/// (docs/performance.md, "GPU").
pub const ALLOCATOR_SLACK_CAP: u64 = 1 << 30;

/// The allocator's slack on a phase whose counted working set is `activations`
/// bytes ([`ALLOCATOR_SLACK_PERCENT`], capped by [`ALLOCATOR_SLACK_CAP`] on the CPU).
pub fn allocator_slack(activations: u64, device: Device) -> u64 {
    let slack = activations.saturating_mul(ALLOCATOR_SLACK_PERCENT) / 100;
    match device {
        Device::Cpu => slack.min(ALLOCATOR_SLACK_CAP),
        Device::Cuda(_) => slack,
    }
}

/// Bytes per element of `dtype`.
pub fn elem_bytes(dtype: Dtype) -> u64 {
    match dtype {
        Dtype::F32 => 4,
        Dtype::F16 | Dtype::BF16 => 2,
    }
}

/// Largest integer a model config may hold (sizes, counts) for an estimate:
/// far above every released checkpoint (vocabularies of 262k), low enough that
/// the estimate's products of a few sizes cannot overflow.
pub const MAX_CONFIG_INT: i64 = 1 << 20;

/// Refuses a config holding a negative integer or one above
/// [`MAX_CONFIG_INT`] (found by fuzzing Wan's estimate: `d_model` 2^53 or
/// `d_ff` -1 made its arithmetic overflow).
pub fn check_config_ints(path: &Path) -> Result<()> {
    fn walk(v: &serde_json::Value, key: &str, path: &Path) -> Result<()> {
        match v {
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
                let ok = n
                    .as_i64()
                    .is_some_and(|i| (0..=MAX_CONFIG_INT).contains(&i));
                if !ok {
                    return Err(Error::Config {
                        path: path.to_path_buf(),
                        reason: format!(
                            "`{key}` is {n}; sizes and counts must be in 0..={MAX_CONFIG_INT}"
                        ),
                    });
                }
                Ok(())
            }
            serde_json::Value::Array(a) => a.iter().try_for_each(|x| walk(x, key, path)),
            serde_json::Value::Object(o) => o.iter().try_for_each(|(k, x)| walk(x, k, path)),
            _ => Ok(()),
        }
    }
    let v: serde_json::Value = crate::weights::read_config(path)?;
    walk(&v, "", path)
}

/// Everything besides the request that changes the memory a generation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstimateOptions {
    /// Where the run happens (the estimate is of that device's memory).
    pub device: Device,
    /// Dtype of the weights and activations.
    pub dtype: Dtype,
    /// Classifier-free guidance's branches as one batch-2 forward.
    pub batch_guidance: bool,
    /// The text encoder is released after encoding (not resident while denoising).
    pub offload_text_encoder: bool,
    /// Step caching is on (it keeps two hidden-state-sized residuals per
    /// guidance branch and expert between steps).
    pub step_cache: bool,
    /// Weight offload: the run device holds the weights of the phase's
    /// component only (model), and of one transformer block (sequential).
    pub offload: crate::nn::Offload,
    /// The VAE decodes in spatial tiles (when the latent is larger than one
    /// tile, as the decode itself decides); `None` decodes whole frames.
    pub vae_tiling: Option<VaeTiling>,
    /// The time windows of the video decode (LTX-2), when on.
    pub vae_frame_tiling: Option<crate::nn::tiling::FrameTiling>,
}

impl Default for EstimateOptions {
    fn default() -> Self {
        Self {
            device: Device::Cpu,
            dtype: Dtype::F32,
            batch_guidance: true,
            offload_text_encoder: false,
            step_cache: false,
            offload: crate::nn::Offload::None,
            vae_tiling: None,
            vae_frame_tiling: None,
        }
    }
}

/// How a family keeps a stored floating tensor in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Cast to the run's dtype.
    Cast,
    /// Kept in f32 whatever the run's dtype (diffusers' `_keep_in_fp32_modules`).
    F32,
    /// Kept in f32 when the run's dtype is f16, cast otherwise (T5's `wo`).
    F32IfF16,
    /// Not loaded (e.g. the second copy of a tied embedding).
    Skip,
    /// Kept in its stored dtype whatever the run's (float8 weights of dense
    /// layers, cast per call: [`TensorStore::keep_fp8_linears`]).
    AsStored,
}

/// Element counts of one component's tensors, read from the safetensors
/// headers, sorted by how they are kept; independent of the run's dtype.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightTally {
    /// Floating elements cast to the run's dtype.
    pub cast: u64,
    /// Floating elements kept in f32.
    pub f32: u64,
    /// Floating elements kept in f32 under f16 only.
    pub f32_if_f16: u64,
    /// Bytes of the tensors kept as stored (non-floating ones, and
    /// [`Keep::AsStored`] ones).
    pub raw_bytes: u64,
    /// Bytes of the loaded tensors in the files.
    pub file_bytes: u64,
    /// Bytes in the file of the largest loaded tensor.
    pub largest_file_tensor: u64,
}

impl WeightTally {
    /// Counts the tensors of an open store, each kept as `keep` says.
    pub fn from_store(store: &TensorStore, keep: impl Fn(&str) -> Keep) -> Self {
        let mut t = WeightTally::default();
        for s in store.tensor_sizes() {
            let how = keep(&s.name);
            if how == Keep::Skip {
                continue;
            }
            t.file_bytes += s.bytes;
            t.largest_file_tensor = t.largest_file_tensor.max(s.bytes);
            if !s.floating || how == Keep::AsStored {
                t.raw_bytes += s.bytes;
                continue;
            }
            match how {
                Keep::Cast => t.cast += s.numel,
                Keep::F32 => t.f32 += s.numel,
                Keep::F32IfF16 => t.f32_if_f16 += s.numel,
                Keep::Skip | Keep::AsStored => {}
            }
        }
        t
    }

    /// Counts the safetensors of the component folder `dir` (headers only).
    pub fn of_dir(dir: &Path, component: &str, keep: impl Fn(&str) -> Keep) -> Result<Self> {
        let store = TensorStore::open(dir, component, tch::Device::Cpu, tch::Kind::Float)?;
        Ok(Self::from_store(&store, keep))
    }

    /// Floating parameters counted.
    pub fn floating_params(&self) -> u64 {
        self.cast + self.f32 + self.f32_if_f16
    }

    /// Bytes the component's weights take once loaded in `dtype`.
    pub fn resident_bytes(&self, dtype: Dtype) -> u64 {
        let e = elem_bytes(dtype);
        let half_keep = if dtype == Dtype::F16 { 4 } else { e };
        self.cast * e + self.f32 * 4 + self.f32_if_f16 * half_keep + self.raw_bytes
    }

    /// Extra bytes while the component loads on `device`: on the CPU the
    /// memory-mapped file pages read (resident until the component is built)
    /// and the stored copy of the largest tensor before its cast; nothing on a
    /// GPU (the file is read in host memory).
    pub fn load_transient_bytes(&self, device: Device) -> u64 {
        match device {
            Device::Cpu => self.file_bytes + self.largest_file_tensor,
            Device::Cuda(_) => 0,
        }
    }
}

/// Each named component's resident bytes in one dtype, in the order of the
/// tallies they come from (what a family's estimate lists as weights).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentWeights(Vec<(String, u64)>);

impl ResidentWeights {
    /// The resident bytes in `dtype` of every `(name, tally)`.
    pub fn of(tallies: &[(String, WeightTally)], dtype: Dtype) -> Self {
        Self(
            tallies
                .iter()
                .map(|(n, t)| (n.clone(), t.resident_bytes(dtype)))
                .collect(),
        )
    }

    /// The bytes of the component `name` (0 for a component the folder lacks).
    pub fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b)
    }

    /// Every `(name, bytes)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, u64)> {
        self.0.iter()
    }

    /// The list as [`assemble`] takes it.
    pub fn to_vec(&self) -> Vec<(String, u64)> {
        self.0.clone()
    }
}

/// The shape of one diffusion-transformer forward (DiT blocks: modulated
/// self-attention, cross-attention, GELU feed-forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformerShape {
    /// Batch (2 under batched classifier-free guidance).
    pub batch: u64,
    /// Latent tokens after patchifying (`F'·H'·W'`).
    pub tokens: u64,
    /// Model width.
    pub dim: u64,
    /// Hidden width of the feed-forward.
    pub ffn_dim: u64,
    /// Attention heads.
    pub heads: u64,
    /// Tokens attended to by the cross-attention (text, plus image tokens).
    pub context_tokens: u64,
    /// One timestep per token (the modulation is per token then, `[B, S, 6, D]`).
    pub per_token_timesteps: bool,
    /// Values per token out of the final projection (`out_channels · patch volume`).
    pub out_features: u64,
}

/// Peak bytes of one transformer forward: the hidden states, the rotary
/// tables, the projected context and modulation, plus the largest stage of a
/// block (self-attention through a fused SDPA kernel, so no `S × S` matrix;
/// cross-attention; the feed-forward with its two `[B, S, F]` tensors),
/// counting the f32 copies the modulated norms and gated residuals make.
pub fn transformer_forward_bytes(s: &TransformerShape, dtype: Dtype) -> u64 {
    let e = elem_bytes(dtype);
    let half = e < 4;
    let sd = s.batch * s.tokens * s.dim; // one [B, S, D] tensor, elements
    let sf = s.batch * s.tokens * s.ffn_dim;
    let ctx = s.batch * s.context_tokens * s.dim;
    let head_dim = s.dim / s.heads.max(1);
    // Rotary cos/sin tables [1, S, 1, head_dim/2] in f32, cached per grid.
    let rope = s.tokens * head_dim * 4;
    // Between blocks: x, the projected context, the modulation.
    let mut persistent = sd * e + ctx * e;
    if s.per_token_timesteps {
        // temb [B,S,D] + timestep_proj [B,S,6D] in the model dtype, and each
        // block's f32 sum with its scale-shift table [B,S,6,D].
        persistent += 7 * sd * e + 6 * sd * 4;
    }
    // A modulated f32 layer norm: (cast,) norm, ×(1+scale), +shift (, cast back).
    let norm = 3 * sd * 4 + if half { sd * 4 + sd * e } else { 0 };
    // Gated residual in f32: y·gate, x + …(, cast back).
    let residual = 2 * sd * 4 + if half { sd * e } else { 0 };
    // Rotating q or k: two halves in f32, stacked (, cast back).
    let rope_tmp = 2 * sd * 4 + if half { sd * e } else { 0 };
    let stages = [
        norm,
        // Self-attention: h1, q and k before and after the rotation, v, the
        // attention output, its flattened copy and the output projection.
        (5 * sd * e + rope_tmp).max(9 * sd * e),
        // First gated residual with h1 and the attention output alive.
        2 * sd * e + residual,
        // Cross-attention: h1, a1, x1, h2, q (twice), output, copy, projection,
        // and the context's k and v (twice each).
        9 * sd * e + 4 * ctx * e,
        // Third norm with six [B,S,D] alive.
        6 * sd * e + norm,
        // Feed-forward: seven [B,S,D] alive, then [B,S,F] twice (projection and
        // GELU), or once with the output projection.
        7 * sd * e + (2 * sf * e).max(sf * e + sd * e),
        // Final gated residual with eight alive.
        8 * sd * e + residual,
    ];
    let block = stages.into_iter().max().unwrap_or(0);
    let per_token_out = s.batch * s.tokens * s.out_features;
    // Patchify (conv output + contiguous copy) and the head (norm, projection,
    // unpatchify copy).
    let ends = (2 * sd * e).max(norm + 2 * per_token_out * e);
    rope + persistent + block.max(ends)
}

/// The shape of one T5-like encoder forward (relative position bias added to
/// the attention logits, gated or plain feed-forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderShape {
    /// Prompts encoded together.
    pub batch: u64,
    /// Tokens per prompt (the padded length).
    pub seq: u64,
    /// Model width.
    pub d_model: u64,
    /// Width of the attention (`heads · head_dim`).
    pub inner: u64,
    /// Hidden width of the feed-forward.
    pub d_ff: u64,
    /// Attention heads.
    pub heads: u64,
}

/// Peak bytes of one encoder forward: hidden states, the position buckets,
/// and the larger of the attention (q, k, v, the `[B, H, S, S]` bias and mask,
/// and the logits and softmax of an unfused SDPA as an upper bound) and the
/// feed-forward (the tanh-GELU's temporaries over `[B, S, F]`).
pub fn encoder_forward_bytes(s: &EncoderShape, dtype: Dtype) -> u64 {
    // Saturating: the sizes come from a config file, which may hold anything
    // (a fuzzed `d_model` of 2^40 once overflowed here); a saturated estimate
    // exceeds every budget, as it should.
    let m = |parts: &[u64]| parts.iter().fold(1u64, |a, &b| a.saturating_mul(b));
    let e = elem_bytes(dtype);
    let x = m(&[s.batch, s.seq, s.d_model]);
    let inner = m(&[s.batch, s.seq, s.inner]);
    let ff = m(&[s.batch, s.seq, s.d_ff]);
    let logits = m(&[s.batch, s.heads, s.seq, s.seq]);
    // Position buckets (i64) and their temporaries while they are computed.
    let buckets = m(&[6, s.seq, s.seq, 8]);
    let persistent = m(&[x, e]);
    let attention = [
        m(&[x, e]),
        m(&[5, inner, e]),
        m(&[2, logits, e]),
        m(&[2, logits, e.max(4)]),
        m(&[2, x, e]),
    ]
    .iter()
    .fold(0u64, |a, &b| a.saturating_add(b));
    let feed_forward = m(&[3, x, e])
        .saturating_add(m(&[6, ff, e]))
        .saturating_add(if e < 4 { m(&[ff, 4]) } else { 0 });
    // The output and its zero-padded copy.
    let output = m(&[2, x, e]);
    persistent
        .saturating_add(buckets.max(attention).max(feed_forward))
        .saturating_add(output)
}

/// One convolution of a causal video decoder as it runs on one chunk, with
/// the tensors alive around it (all counts are elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConvStep {
    /// Batch of the convolution (the frames, for 2-D convolutions run per frame).
    pub batch: u64,
    /// Input channels.
    pub c_in: u64,
    /// Output channels.
    pub c_out: u64,
    /// Input frames as the convolution sees them (cached frames included; 1 for 2-D).
    pub t_in: u64,
    /// Output frames (1 for 2-D).
    pub t_out: u64,
    /// Input height.
    pub h_in: u64,
    /// Input width.
    pub w_in: u64,
    /// Output height.
    pub h_out: u64,
    /// Output width.
    pub w_out: u64,
    /// Kernel `[t, h, w]` (`[1, h, w]` for 2-D).
    pub kernel: [u64; 3],
    /// 2-D convolution (its input is `[N, C, H, W]`).
    pub two_d: bool,
    /// Input frames this layer keeps in the feature cache between chunks.
    pub cached_frames: u64,
    /// Elements of every other tensor alive around this convolution.
    pub alive: u64,
}

impl ConvStep {
    /// A causal 3×3×3 convolution with stride 1 and spatial padding 1 on `t`
    /// frames of `h × w` (two cached frames in front), batch 1.
    pub fn causal_cube(c_in: u64, c_out: u64, t: u64, h: u64, w: u64, alive: u64) -> Self {
        Self {
            batch: 1,
            c_in,
            c_out,
            t_in: t + 2,
            t_out: t,
            h_in: h,
            w_in: w,
            h_out: h,
            w_out: w,
            kernel: [3, 3, 3],
            two_d: false,
            cached_frames: 2,
            alive,
        }
    }

    fn input(&self) -> u64 {
        self.batch * self.c_in * self.t_in * self.h_in * self.w_in
    }
    fn output(&self) -> u64 {
        self.batch * self.c_out * self.t_out * self.h_out * self.w_out
    }
}

/// Whether CPU convolutions in `dtype` go to oneDNN: float32 because
/// [`crate::nn::conv`] sends them there (unless `SORA_NO_ONEDNN` is set);
/// bfloat16 and float16 where LibTorch sends them there itself, which it
/// does when the CPU has the instructions oneDNN's kernels for them need
/// ([`HalfConvSupport`], from `/proc/cpuinfo`). Never when LibTorch lacks
/// oneDNN.
fn onednn(dtype: Dtype) -> bool {
    static HALF: std::sync::OnceLock<HalfConvSupport> = std::sync::OnceLock::new();
    if !tch::utils::has_mkldnn() {
        return false;
    }
    let half = || {
        *HALF.get_or_init(|| {
            std::fs::read_to_string("/proc/cpuinfo")
                .map(|t| HalfConvSupport::from_cpuinfo(&t))
                .unwrap_or_default()
        })
    };
    match dtype {
        Dtype::F32 => std::env::var_os("SORA_NO_ONEDNN").is_none(),
        Dtype::BF16 => half().bf16,
        Dtype::F16 => half().f16,
    }
}

/// Which half-precision CPU convolutions LibTorch gives to oneDNN, as its
/// `mkldnn_bf16_device_check` / `mkldnn_fp16_device_check` decide on x86
/// (oneDNN's `avx512_core` or `avx2_vnni_2` for bfloat16, `avx512_core_fp16`
/// or `avx2_vnni_2` for float16). Elsewhere (other CPUs, no `/proc/cpuinfo`)
/// neither: the estimate then counts the native path's larger scratch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HalfConvSupport {
    bf16: bool,
    f16: bool,
}

impl HalfConvSupport {
    /// From the `flags` line of a `/proc/cpuinfo` text.
    fn from_cpuinfo(cpuinfo: &str) -> Self {
        let Some(line) = cpuinfo.lines().find(|l| l.starts_with("flags")) else {
            return Self::default();
        };
        let flags: std::collections::HashSet<&str> = line
            .split_once(':')
            .map_or("", |(_, f)| f)
            .split_whitespace()
            .collect();
        let has = |f: &str| flags.contains(f);
        let avx512_core = ["avx512f", "avx512bw", "avx512vl", "avx512dq"]
            .iter()
            .all(|f| has(f));
        let avx2_vnni_2 = has("avx2") && has("avx_vnni") && has("avx_ne_convert");
        Self {
            bf16: avx512_core || avx2_vnni_2,
            f16: (avx512_core && has("avx512_fp16")) || avx2_vnni_2,
        }
    }
}

/// Scratch bytes a convolution takes for `c` on `device` in `dtype`. On the
/// CPU in f32 ([`crate::nn::conv`] sends it to oneDNN), a reordered copy of
/// the input and of the output (measured: 104–146 MiB extra for 122–146 MiB
/// counted); otherwise (half types on the CPU) LibTorch's native path
/// unfolds the input, `C·k³` rows per output position. On CUDA, cuDNN's
/// workspace is taken as one input plus one output.
pub fn conv_workspace_bytes(c: &ConvStep, device: Device, dtype: Dtype) -> u64 {
    let e = elem_bytes(dtype);
    let copies = (c.input() + c.output()) * e;
    match device {
        Device::Cuda(_) => copies,
        Device::Cpu if onednn(dtype) => copies,
        Device::Cpu => {
            let kvol: u64 = c.kernel.iter().product();
            c.batch * c.c_in * kvol * c.t_out * c.h_out * c.w_out * e
        }
    }
}

/// Bytes of the feature cache: the cached input frames of every cached layer.
pub fn feature_cache_bytes(steps: &[ConvStep], dtype: Dtype) -> u64 {
    let e = elem_bytes(dtype);
    steps
        .iter()
        .map(|c| c.batch * c.c_in * c.cached_frames * c.h_in * c.w_in * e)
        .sum()
}

/// Peak bytes of a decoder walked chunk by chunk: its feature cache plus
/// [`decoder_step_bytes`].
pub fn decoder_bytes(steps: &[ConvStep], other: &[u64], device: Device, dtype: Dtype) -> u64 {
    feature_cache_bytes(steps, dtype) + decoder_step_bytes(steps, other, device, dtype)
}

/// Bytes of the largest step of a decoder walked chunk by chunk, its feature
/// cache aside: a convolution (alive tensors + input + output + workspace) or
/// one of `other` (bytes of non-convolution steps such as attention or the
/// conversion of the decoded frames).
pub fn decoder_step_bytes(steps: &[ConvStep], other: &[u64], device: Device, dtype: Dtype) -> u64 {
    let e = elem_bytes(dtype);
    let conv = steps
        .iter()
        .map(|c| (c.alive + c.input() + c.output()) * e + conv_workspace_bytes(c, device, dtype))
        .max()
        .unwrap_or(0);
    let other = other.iter().copied().max().unwrap_or(0);
    conv.max(other)
}

/// Bytes of a clip of RGB u8 frames.
pub fn clip_bytes(frames: u64, height: u64, width: u64) -> u64 {
    frames * height * width * 3
}

/// Bytes of the output clip as the in-memory sink holds it: one buffer of u8
/// frames, filled chunk by chunk and handed out without a copy (written to a
/// file instead, the frames are not held at all).
pub fn output_bytes(frames: u64, height: u64, width: u64) -> u64 {
    clip_bytes(frames, height, width)
}

/// One named amount of memory, in MiB.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Part {
    /// What it is.
    pub name: String,
    /// MiB.
    pub mb: f64,
}

/// What is alive at once during one phase of a generation, in MiB.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseMemory {
    /// `load`, `text`, `prepare`, `denoise` or `decode`.
    pub name: String,
    /// Weights resident during the phase (and, while loading, the mapped files).
    pub weights_mb: f64,
    /// Tensors made earlier and still alive (embeddings, latents, frames).
    pub carried_mb: f64,
    /// The phase's own peak working set.
    pub activations_mb: f64,
    /// The allocator's slack on the working set ([`ALLOCATOR_SLACK_PERCENT`],
    /// at most [`ALLOCATOR_SLACK_CAP`]).
    pub slack_mb: f64,
    /// LibTorch's own memory ([`CPU_RUNTIME_BYTES`], [`CUDA_RUNTIME_BYTES`]).
    pub runtime_mb: f64,
    /// The sum.
    pub total_mb: f64,
    /// The largest single part of the phase, named.
    pub largest: String,
}

/// A request's memory estimate, in MiB, on the run's device.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemoryEstimate {
    /// The family (`wan`).
    pub family: String,
    /// The device the numbers are for.
    pub device: String,
    /// The dtype of weights and activations.
    pub dtype: String,
    /// Width of the request.
    pub width: u32,
    /// Height of the request.
    pub height: u32,
    /// Frames of the request.
    pub frames: u32,
    /// Batch of one transformer forward (2 under batched guidance).
    pub batch: u32,
    /// Latent tokens of one transformer forward.
    pub tokens: u64,
    /// The VAE tiling option, `[height, width, stride height, stride width]`
    /// in pixels (`--vae-tiling=H,W,SH,SW`); `None` when off.
    pub vae_tiling: Option<[i64; 4]>,
    /// The time windows of the video decode `[window, stride]` in frames
    /// when frame tiling was on (`null` otherwise).
    pub vae_frame_tiling: Option<[i64; 2]>,
    /// Spatial tiles the VAE decodes each latent frame in: 1 when it decodes
    /// whole frames (tiling off, or the latent within one tile).
    pub vae_tiles: u64,
    /// Weight offload: `none`, or `model` / `sequential` when the weights
    /// wait in host memory and each phase counts only what it copies to the
    /// device (`weights` then lists what host memory holds).
    pub offload: String,
    /// Weights per component (resident on the device, or in host memory
    /// under offload).
    pub weights: Vec<Part>,
    /// Peak working set of each model call (text encoder, transformer, VAE decode…).
    pub activations: Vec<Part>,
    /// The output clip held in memory (u8 frames; counted in `decode`).
    pub output_mb: f64,
    /// LibTorch's own memory, counted in every phase.
    pub runtime_mb: f64,
    /// What is alive at once, phase by phase.
    pub phases: Vec<PhaseMemory>,
    /// The estimate: the largest phase total.
    pub total_mb: f64,
    /// The phase of the peak.
    pub peak_phase: String,
    /// The largest part of the peak phase, named.
    pub largest_part: String,
    /// Of the total, what the loaded pipeline already holds (its resident
    /// weights; 0 for an estimate from a folder).
    pub held_mb: f64,
}

impl MemoryEstimate {
    /// The estimate as one JSON object (what `sora inspect --estimate --json`
    /// prints under `estimate`, the C and Python front doors return).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("estimate not serialisable: {e}") }).to_string()
        })
    }

    /// The total in whole MiB, rounded up.
    pub fn total_mib(&self) -> u64 {
        self.total_mb.ceil().max(0.0) as u64
    }

    /// `Ok` when the total fits `budget_mb`, else [`Error::OutOfMemory`]
    /// naming both and the largest part.
    pub fn check(&self, budget_mb: u64) -> Result<()> {
        if self.total_mb <= budget_mb as f64 {
            return Ok(());
        }
        Err(Error::OutOfMemory {
            needed_mb: self.total_mib(),
            budget_mb,
            largest_part: format!(
                "peak while {}; largest part: {}",
                phase_gerund(&self.peak_phase),
                self.largest_part
            ),
        })
    }
}

fn phase_gerund(p: &str) -> &str {
    match p {
        "load" => "loading",
        "text" => "encoding the prompt",
        "prepare" => "preparing the latents",
        "denoise" => "denoising",
        "decode" => "decoding",
        other => other,
    }
}

/// Which kind of memory a part of a phase is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Model weights (or mapped weight files while loading).
    Weights,
    /// Tensors made in an earlier phase and still alive.
    Carried,
    /// The phase's own working set.
    Activations,
}

/// A phase as a family describes it: every named amount alive at its peak.
#[derive(Debug, Clone, Default)]
pub struct PhasePlan {
    /// The phase's name.
    pub name: String,
    /// Named byte counts alive at the phase's peak.
    pub parts: Vec<(String, u64, Class)>,
}

impl PhasePlan {
    /// An empty phase called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            parts: Vec::new(),
        }
    }
    /// Adds a part.
    pub fn add(&mut self, name: impl Into<String>, bytes: u64, class: Class) -> &mut Self {
        self.parts.push((name.into(), bytes, class));
        self
    }
}

/// The request and device an estimate is for (the header of [`MemoryEstimate`]).
#[derive(Debug, Clone, Default)]
pub struct EstimateHeader {
    /// The family.
    pub family: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frames.
    pub frames: u32,
    /// Transformer batch.
    pub batch: u32,
    /// Latent tokens.
    pub tokens: u64,
    /// Spatial tiles the VAE decodes each latent frame in (0 or 1: whole frames).
    pub vae_tiles: u64,
}

/// Bytes → MiB.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn human(bytes: u64) -> String {
    let m = mb(bytes);
    if m >= 1024.0 {
        format!("{:.1} GiB", m / 1024.0)
    } else {
        format!("{m:.1} MiB")
    }
}

/// Puts an estimate together: every phase gets the runtime's share, the total
/// is the largest phase, and the largest part of that phase is named.
pub fn assemble(
    header: EstimateHeader,
    opts: &EstimateOptions,
    weights: Vec<(String, u64)>,
    activations: Vec<(String, u64)>,
    output: u64,
    phases: Vec<PhasePlan>,
    held: u64,
) -> MemoryEstimate {
    let runtime = match opts.device {
        Device::Cpu => CPU_RUNTIME_BYTES,
        Device::Cuda(_) => CUDA_RUNTIME_BYTES,
    };
    let mut out_phases = Vec::new();
    let (mut best, mut best_total) = (None::<usize>, 0u64);
    let mut largest_of = Vec::new();
    for (i, p) in phases.iter().enumerate() {
        let sum = |c: Class| -> u64 {
            p.parts
                .iter()
                .filter(|(_, _, k)| *k == c)
                .map(|(_, b, _)| *b)
                .sum()
        };
        let (w, c, a) = (
            sum(Class::Weights),
            sum(Class::Carried),
            sum(Class::Activations),
        );
        let slack = allocator_slack(a, opts.device);
        let total = w + c + a + slack + runtime;
        let largest = p
            .parts
            .iter()
            .max_by_key(|(_, b, _)| *b)
            .map(|(n, b, _)| format!("{n} ({})", human(*b)))
            .unwrap_or_default();
        largest_of.push(largest.clone());
        if best.is_none() || total > best_total {
            best = Some(i);
            best_total = total;
        }
        out_phases.push(PhaseMemory {
            name: p.name.clone(),
            weights_mb: mb(w),
            carried_mb: mb(c),
            activations_mb: mb(a),
            slack_mb: mb(slack),
            runtime_mb: mb(runtime),
            total_mb: mb(total),
            largest,
        });
    }
    let peak = best.unwrap_or(0);
    let to_parts = |v: Vec<(String, u64)>| -> Vec<Part> {
        v.into_iter()
            .map(|(name, b)| Part { name, mb: mb(b) })
            .collect()
    };
    MemoryEstimate {
        family: header.family,
        device: opts.device.to_string(),
        dtype: opts.dtype.to_string(),
        width: header.width,
        height: header.height,
        frames: header.frames,
        batch: header.batch,
        tokens: header.tokens,
        vae_tiling: opts.vae_tiling.map(|t| t.to_array()),
        vae_frame_tiling: opts.vae_frame_tiling.map(|t| t.to_array()),
        vae_tiles: header.vae_tiles.max(1),
        offload: opts.offload.to_string(),
        weights: to_parts(weights),
        activations: to_parts(activations),
        output_mb: mb(output),
        runtime_mb: mb(runtime),
        peak_phase: phases.get(peak).map(|p| p.name.clone()).unwrap_or_default(),
        largest_part: largest_of.get(peak).cloned().unwrap_or_default(),
        phases: out_phases,
        total_mb: mb(best_total.max(runtime)),
        held_mb: mb(held),
    }
}

/// Memory available to new allocations of this process, in MiB: the OS's
/// `MemAvailable` (`/proc/meminfo`), lowered to the headroom of the process's
/// memory cgroup (limit minus usage) where one is set, since inside a
/// container `/proc/meminfo` describes the whole host. `None` where
/// `/proc/meminfo` is absent.
pub fn available_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let host = mem_available_mb(&text)?;
    Some(match cgroup_headroom_mb() {
        Some(room) => host.min(room),
        None => host,
    })
}

/// `MemAvailable` of a `/proc/meminfo` text, in MiB.
fn mem_available_mb(meminfo: &str) -> Option<u64> {
    let kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024)
}

/// The memory files of this process's cgroup (`/proc/self/cgroup`): v2's
/// `memory.max` / `memory.current`, else v1's `memory.limit_in_bytes` /
/// `memory.usage_in_bytes`, as (limit file, usage file).
fn cgroup_memory_files(self_cgroup: &str) -> Option<(String, String)> {
    for line in self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if id == "0" && controllers.is_empty() {
            let dir = format!("/sys/fs/cgroup{}", path.trim_end_matches('/'));
            return Some((format!("{dir}/memory.max"), format!("{dir}/memory.current")));
        }
        if controllers.split(',').any(|c| c == "memory") {
            let dir = format!("/sys/fs/cgroup/memory{}", path.trim_end_matches('/'));
            return Some((
                format!("{dir}/memory.limit_in_bytes"),
                format!("{dir}/memory.usage_in_bytes"),
            ));
        }
    }
    None
}

/// `limit − usage` in MiB from the texts of a cgroup's memory files; `None`
/// when there is no limit (`max`, or v1's near-`u64::MAX` "unlimited").
fn headroom_mb(limit: &str, usage: &str) -> Option<u64> {
    let limit: u64 = limit.trim().parse().ok()?;
    if limit >= 1 << 60 {
        return None;
    }
    let usage: u64 = usage.trim().parse().ok()?;
    Some(limit.saturating_sub(usage) / MIB)
}

/// The headroom of this process's memory cgroup, in MiB, when it has a limit.
fn cgroup_headroom_mb() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let (limit, usage) = cgroup_memory_files(&cg)?;
    headroom_mb(
        &std::fs::read_to_string(limit).ok()?,
        &std::fs::read_to_string(usage).ok()?,
    )
}

/// The budget a request is checked against when none was given: on the CPU,
/// the available memory plus what the pipeline already holds of the estimate
/// (`held_mb`, counted in the estimate but no longer available); on CUDA,
/// `None` (no check without an explicit budget).
pub fn default_budget_mb(device: Device, held_mb: f64) -> Option<u64> {
    match device {
        Device::Cpu => available_mb().map(|a| a + held_mb.floor().max(0.0) as u64),
        Device::Cuda(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_convolutions_follow_the_cpu_flags() {
        let zen4 =
            "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16\n";
        let spr = "flags\t: avx2 avx512f avx512dq avx512bw avx512vl avx512_fp16 amx_bf16\n";
        let zen3 = "flags\t: fpu sse4_2 avx avx2 fma\n";
        let srf = "flags\t: avx2 avx_vnni avx_ne_convert avx_vnni_int8\n";
        let half = |b, f| HalfConvSupport { bf16: b, f16: f };
        assert_eq!(HalfConvSupport::from_cpuinfo(zen4), half(true, false));
        assert_eq!(HalfConvSupport::from_cpuinfo(spr), half(true, true));
        assert_eq!(HalfConvSupport::from_cpuinfo(zen3), half(false, false));
        assert_eq!(HalfConvSupport::from_cpuinfo(srf), half(true, true));
        assert_eq!(HalfConvSupport::from_cpuinfo(""), half(false, false));
    }

    #[test]
    fn available_memory_respects_a_cgroup_limit() {
        let meminfo = "MemTotal: 24000000 kB\nMemFree: 1 kB\nMemAvailable: 20480000 kB\n";
        assert_eq!(mem_available_mb(meminfo), Some(20000));
        assert_eq!(mem_available_mb("MemTotal: 1 kB\n"), None);
        // cgroup v2, v1 (memory among other controllers), and neither.
        let v2 = cgroup_memory_files("0::/user.slice/job-7\n").unwrap();
        assert_eq!(v2.0, "/sys/fs/cgroup/user.slice/job-7/memory.max");
        assert_eq!(v2.1, "/sys/fs/cgroup/user.slice/job-7/memory.current");
        let v1 = cgroup_memory_files("12:cpu,cpuacct:/a\n9:memory:/docker/abc\n").unwrap();
        assert_eq!(
            v1.0,
            "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes"
        );
        assert_eq!(cgroup_memory_files("3:cpu:/a\n"), None);
        // 8 GiB limit with 3 GiB used leaves 5 GiB; "max" and v1's huge value mean none.
        assert_eq!(headroom_mb("8589934592\n", "3221225472\n"), Some(5120));
        assert_eq!(headroom_mb("max\n", "3221225472\n"), None);
        assert_eq!(headroom_mb("9223372036854771712", "1"), None);
        assert_eq!(headroom_mb("100", "200"), Some(0));
    }

    #[test]
    fn allocator_slack_is_capped_on_the_cpu_only() {
        let small = 100 * MIB;
        assert_eq!(allocator_slack(small, Device::Cpu), 60 * MIB);
        assert_eq!(allocator_slack(small, Device::Cuda(0)), 60 * MIB);
        let big = 5 * 1024 * MIB;
        assert_eq!(allocator_slack(big, Device::Cpu), ALLOCATOR_SLACK_CAP);
        assert_eq!(allocator_slack(big, Device::Cuda(0)), 3 * 1024 * MIB);
    }

    #[test]
    fn tally_honours_keep_rules_and_dtype() {
        let t = WeightTally {
            cast: 100,
            f32: 10,
            f32_if_f16: 20,
            raw_bytes: 8,
            file_bytes: 0,
            largest_file_tensor: 0,
        };
        assert_eq!(t.resident_bytes(Dtype::F32), 130 * 4 + 8);
        assert_eq!(t.resident_bytes(Dtype::BF16), 100 * 2 + 40 + 20 * 2 + 8);
        assert_eq!(t.resident_bytes(Dtype::F16), 100 * 2 + 40 + 20 * 4 + 8);
    }

    #[test]
    fn transformer_working_set_scales_with_tokens_and_batch() {
        let s = TransformerShape {
            batch: 1,
            tokens: 1000,
            dim: 64,
            ffn_dim: 256,
            heads: 4,
            context_tokens: 512,
            per_token_timesteps: false,
            out_features: 64,
        };
        let one = transformer_forward_bytes(&s, Dtype::F32);
        let two = transformer_forward_bytes(&TransformerShape { batch: 2, ..s }, Dtype::F32);
        let big = transformer_forward_bytes(
            &TransformerShape {
                tokens: 10_000,
                ..s
            },
            Dtype::F32,
        );
        assert!(two > one && two <= 2 * one);
        assert!(big > 9 * one && big < 11 * one);
        // The feed-forward dominates here: 7 [S,D] + 2 [S,F] in f32, plus rope and x.
        let ffn = (7 * 64 + 2 * 256) * 1000 * 4;
        assert!(one >= ffn);
        assert!(transformer_forward_bytes(&s, Dtype::BF16) < one);
    }

    #[test]
    fn conv_scratch_is_onednn_copies_or_the_unfolded_input() {
        let c = ConvStep {
            batch: 1,
            c_in: 8,
            c_out: 8,
            t_in: 6,
            t_out: 4,
            h_in: 64,
            w_in: 64,
            h_out: 64,
            w_out: 64,
            kernel: [3, 3, 3],
            ..Default::default()
        };
        let copies = (8 * 6 * 64 * 64 + 8 * 4 * 64 * 64) * 4;
        if onednn(Dtype::F32) {
            assert_eq!(conv_workspace_bytes(&c, Device::Cpu, Dtype::F32), copies);
        }
        // Half types on the CPU: oneDNN's two copies where the CPU has the
        // instructions, else unfolded, 27 rows per output position.
        for dtype in [Dtype::BF16, Dtype::F16] {
            let want = if onednn(dtype) {
                copies / 2
            } else {
                8 * 27 * 4 * 64 * 64 * 2
            };
            assert_eq!(conv_workspace_bytes(&c, Device::Cpu, dtype), want);
        }
        assert_eq!(
            conv_workspace_bytes(&c, Device::Cuda(0), Dtype::F32),
            copies
        );
    }

    #[test]
    fn total_is_the_largest_phase_and_names_its_largest_part() {
        let mut a = PhasePlan::new("text");
        a.add("weights: text_encoder", 100 * MIB, Class::Weights);
        let mut b = PhasePlan::new("decode");
        b.add("weights: vae", 10 * MIB, Class::Weights).add(
            "VAE decode",
            300 * MIB,
            Class::Activations,
        );
        let est = assemble(
            EstimateHeader::default(),
            &EstimateOptions::default(),
            vec![],
            vec![],
            0,
            vec![a, b],
            0,
        );
        assert_eq!(est.peak_phase, "decode");
        assert!(est.largest_part.starts_with("VAE decode"));
        assert_eq!(est.total_mb, 310.0 + 180.0 + mb(CPU_RUNTIME_BYTES));
        match est.check(100) {
            Err(Error::OutOfMemory {
                needed_mb,
                budget_mb,
                largest_part,
            }) => {
                assert_eq!(needed_mb, est.total_mib());
                assert_eq!(budget_mb, 100);
                assert!(largest_part.contains("decoding"), "{largest_part}");
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert!(est.check(est.total_mib()).is_ok());
    }
}
