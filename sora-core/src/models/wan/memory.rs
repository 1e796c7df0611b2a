//! The Wan family's memory estimate: what its components weigh (from the
//! safetensors headers, with the modules diffusers keeps in f32) and the
//! shapes of each phase of a generation — UMT5 over 512 tokens, one
//! transformer forward over `F'·H'·W'` latent tokens, the causal VAE decoder
//! walked one latent frame at a time with its feature cache — handed to the
//! shared arithmetic of [`crate::estimate`].

use crate::estimate::{
    assemble, check_config_ints, decoder_bytes, decoder_step_bytes, elem_bytes,
    encoder_forward_bytes, feature_cache_bytes, output_bytes, transformer_forward_bytes, Class,
    ConvStep, EncoderShape, EstimateHeader, EstimateOptions, Keep, MemoryEstimate, PhasePlan,
    ResidentWeights, TransformerShape, WeightTally,
};
use crate::models::clip::ClipVisionConfig;
use crate::pipeline::request::{Mode, Request, Resolved};
use crate::text::cache::DEFAULT_ENTRIES;
use crate::weights::{read_config, ModelFolder, TensorStore};
use crate::{Device, Dtype, Error, Result};

use super::rules::{wan_defaults, SizeRule, MAX_SEQUENCE_LENGTH};
use super::text_encoder::Umt5Config;
use super::transformer::WanTransformerConfig;
use super::vae::{TileGrid, WanVaeConfig};

/// Components in the order [`super::WanFamily::load`] loads them.
const LOAD_ORDER: [&str; 5] = [
    "text_encoder",
    "transformer",
    "transformer_2",
    "vae",
    "image_encoder",
];

/// What the estimate needs to know of a Wan folder: configs and tensor counts.
#[derive(Debug, Clone)]
pub(crate) struct WanSpec {
    boundary_ratio: Option<f64>,
    expand_timesteps: bool,
    text: Umt5Config,
    transformers: Vec<WanTransformerConfig>,
    vae: WanVaeConfig,
    image: Option<ClipVisionConfig>,
    /// Per loaded component, in load order.
    tallies: Vec<(String, WeightTally)>,
    /// Per transformer (expert): the weights outside the blocks and those of
    /// one block (what sequential offload keeps on the run device).
    transformer_parts: Vec<(WeightTally, WeightTally)>,
    /// The same for the text encoder (its final norm, one block).
    text_parts: (WeightTally, WeightTally),
}

/// The state of a loaded pipeline the estimate depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Residency {
    /// Count the loading of the weights as a phase (an estimate from a folder).
    pub loading: bool,
    /// The text encoder's weights are on the run device now.
    pub text_resident: bool,
    /// Every prompt of the request is in the embedding cache (no encoder run).
    pub prompts_cached: bool,
    /// Prompts the embedding cache keeps at most.
    pub cache_entries: usize,
}

impl Residency {
    /// A pipeline about to be loaded from its folder.
    pub fn fresh() -> Self {
        Self {
            loading: true,
            text_resident: true,
            prompts_cached: false,
            cache_entries: DEFAULT_ENTRIES,
        }
    }
}

/// diffusers' `_keep_in_fp32_modules` of `WanTransformer3DModel`.
fn keep_transformer(name: &str) -> Keep {
    let f32_module = name.split('.').any(|p| {
        matches!(
            p,
            "time_embedder" | "scale_shift_table" | "norm1" | "norm2" | "norm3"
        )
    });
    if f32_module {
        Keep::F32
    } else {
        Keep::Cast
    }
}

fn tally(folder: &ModelFolder, name: &str) -> Result<WeightTally> {
    tally_where(folder, name, |_| true)
}

/// The tally of component `name`'s tensors whose names pass `only`.
fn tally_where(
    folder: &ModelFolder,
    name: &str,
    only: impl Fn(&str) -> bool,
) -> Result<WeightTally> {
    let dir = folder.component_dir(name)?;
    let store = TensorStore::open(&dir, name, tch::Device::Cpu, tch::Kind::Float)?;
    let keep = |n: &str| -> Keep {
        if !only(n) {
            return Keep::Skip;
        }
        match name {
            // The token embedding is tied: `shared.weight` is read, a second
            // copy under `encoder.embed_tokens.weight` is not.
            "text_encoder"
                if n == "encoder.embed_tokens.weight" && store.contains("shared.weight") =>
            {
                Keep::Skip
            }
            "text_encoder" if n.contains(".DenseReluDense.wo.") => Keep::F32IfF16,
            "transformer" | "transformer_2" => keep_transformer(n),
            _ => Keep::Cast,
        }
    };
    Ok(WeightTally::from_store(&store, keep))
}

/// What sequential offload keeps of a component on the run device besides
/// one block: for a transformer the weights outside the blocks, for the text
/// encoder its final norm (its embedding is looked up in host memory); and
/// the weights of its first block (every block has the same tensors).
fn streamed_parts(folder: &ModelFolder, name: &str) -> Result<(WeightTally, WeightTally)> {
    let (block, first) = match name {
        "text_encoder" => ("encoder.block.", "encoder.block.0."),
        _ => ("blocks.", "blocks.0."),
    };
    let outer = tally_where(folder, name, |n| {
        !n.starts_with(block)
            && !(name == "text_encoder"
                && (n == "shared.weight" || n == "encoder.embed_tokens.weight"))
    })?;
    Ok((outer, tally_where(folder, name, |n| n.starts_with(first))?))
}

fn index_f64(folder: &ModelFolder, key: &str) -> Option<f64> {
    folder.index().get(key).and_then(|v| v.as_f64())
}

impl WanSpec {
    /// Reads the configs and the safetensors headers of a Wan folder (no tensor data).
    pub fn from_folder(folder: &ModelFolder) -> Result<Self> {
        for c in [
            "text_encoder",
            "transformer",
            "transformer_2",
            "vae",
            "image_encoder",
        ] {
            if folder.has(c) {
                check_config_ints(&folder.component_dir(c)?.join("config.json"))?;
            }
        }
        let boundary_ratio = index_f64(folder, "boundary_ratio");
        let expand_timesteps = folder
            .index()
            .get("expand_timesteps")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let text = Umt5Config::load(&folder.component_dir("text_encoder")?.join("config.json"))?;
        let mut transformers = vec![read_config::<WanTransformerConfig>(
            &folder.component_dir("transformer")?.join("config.json"),
        )?];
        if folder.has("transformer_2") {
            transformers.push(read_config(
                &folder.component_dir("transformer_2")?.join("config.json"),
            )?);
        }
        let vae: WanVaeConfig = read_config(&folder.component_dir("vae")?.join("config.json"))?;
        let with_image = folder.has("image_encoder") && folder.has("image_processor");
        let image = if with_image {
            Some(ClipVisionConfig::load(
                &folder.component_dir("image_encoder")?.join("config.json"),
            )?)
        } else {
            None
        };
        let mut tallies = Vec::new();
        for name in LOAD_ORDER {
            let present = match name {
                "image_encoder" => with_image,
                _ => folder.has(name),
            };
            if present {
                tallies.push((name.to_string(), tally(folder, name)?));
            }
        }
        let mut parts = vec![streamed_parts(folder, "transformer")?];
        if folder.has("transformer_2") {
            parts.push(streamed_parts(folder, "transformer_2")?);
        }
        let text_parts = streamed_parts(folder, "text_encoder")?;
        if vae.dim_mult.is_empty() {
            return Err(Error::Config {
                path: folder.root().join("vae").join("config.json"),
                reason: "`dim_mult` is empty".into(),
            });
        }
        Ok(Self {
            boundary_ratio,
            expand_timesteps,
            text,
            transformers,
            vae,
            image,
            tallies,
            transformer_parts: parts,
            text_parts,
        })
    }

    /// The size rule (as the loaded family derives it from the VAE and the transformer).
    pub fn rule(&self) -> SizeRule {
        let v = &self.vae;
        let spatial = v
            .scale_factor_spatial
            .filter(|&f| f > 0)
            .unwrap_or_else(|| v.arch_spatial_factor());
        let temporal = v
            .scale_factor_temporal
            .filter(|&f| f > 0)
            .unwrap_or_else(|| v.arch_temporal_factor());
        let patch = self.transformers[0].patch_size;
        SizeRule {
            spatial: spatial as u32,
            temporal: temporal as u32,
            patch_h: patch[1] as u32,
            patch_w: patch[2] as u32,
        }
    }

    /// Parameters of the text encoder (for `describe` while it is released).
    pub fn text_params(&self) -> u64 {
        self.tallies
            .iter()
            .find(|(n, _)| n == "text_encoder")
            .map(|(_, t)| t.floating_params())
            .unwrap_or(0)
    }

    /// The estimate of `req` (already resolved and checked).
    pub fn estimate(
        &self,
        req: &Resolved,
        opts: &EstimateOptions,
        state: Residency,
    ) -> Result<MemoryEstimate> {
        let dtype = opts.dtype;
        let e = elem_bytes(dtype);
        let rule = self.rule();
        let (sf, tf) = (rule.spatial.max(1) as u64, rule.temporal.max(1) as u64);
        let (width, height, frames) = (req.width as u64, req.height as u64, req.frames as u64);
        // Far beyond any machine; bounds every product below well inside u64.
        if (width as u128) * (height as u128) * (frames as u128) > 1 << 40 {
            return Err(Error::invalid(format!(
                "{width}x{height} with {frames} frames is too large to generate \
                 (more than 2^40 pixels)"
            )));
        }
        let lat_f = frames.saturating_sub(1) / tf + 1;
        let (lh, lw) = (height / sf, width / sf);
        let z = self.vae.z_dim.max(1) as u64;
        // The VAE's tile grid, checked as `WanVae::set_tiling` checks it;
        // kept only where the decode uses it (the latent larger than a tile).
        let tiling = match &opts.vae_tiling {
            Some(t) => {
                t.validate(sf as i64, self.vae.patch())?;
                Some(TileGrid::new(t, sf as i64, self.vae.patch()))
                    .filter(|g| g.needs_tiling(lh as i64, lw as i64))
            }
            None => None,
        };
        let vae_tiles = tiling
            .map(|g| {
                let (rows, cols) = g.tile_extents(lh as i64, lw as i64);
                let count = |v: Vec<(i64, u64)>| v.iter().map(|(_, n)| n).sum::<u64>();
                count(rows).saturating_mul(count(cols))
            })
            .unwrap_or(1);
        let cfg = req.guidance > 1.0;
        let batch = if cfg && opts.batch_guidance { 2 } else { 1 };

        let weights = ResidentWeights::of(&self.tallies, dtype);
        let weight_of = |name: &str| weights.get(name);

        // Text: UMT5 over the padded prompt, one prompt at a time.
        let t = &self.text;
        let seq = MAX_SEQUENCE_LENGTH as u64;
        let text_act = encoder_forward_bytes(
            &EncoderShape {
                batch: 1,
                seq,
                d_model: t.d_model as u64,
                inner: t.num_heads.saturating_mul(t.d_kv) as u64,
                d_ff: t.d_ff as u64,
                heads: t.num_heads as u64,
            },
            dtype,
        );
        // Saturating: the sizes come from config files (a negative `d_model`
        // read as u64 overflowed here under the fuzzer).
        let embedding = seq.saturating_mul(t.d_model as u64).saturating_mul(e);
        let cache = (state.cache_entries.max(2) as u64).saturating_mul(embedding);

        // CLIP image tokens (Wan 2.1 I2V / FLF2V).
        let clip_tokens = match (&req.mode, &self.image) {
            (Mode::Image(_), Some(c))
                if self.boundary_ratio.is_none() && !self.expand_timesteps =>
            {
                let side = c.image_size.square().unwrap_or(224)
                    / c.patch_size.square().unwrap_or(14).max(1);
                Some((c, (side * side + 1) as u64))
            }
            _ => None,
        };
        let image_act = clip_tokens
            .map(|(c, n)| {
                encoder_forward_bytes(
                    &EncoderShape {
                        batch: 1,
                        seq: n,
                        d_model: c.hidden_size as u64,
                        inner: c.hidden_size as u64,
                        d_ff: c.intermediate_size as u64,
                        heads: c.num_attention_heads as u64,
                    },
                    dtype,
                )
            })
            .unwrap_or(0);

        // One transformer forward (the larger of the experts).
        let mut tokens = 0;
        let mut transformer_act = 0;
        // Step caching keeps, per expert, two residuals `[B, S, D]` of every
        // guidance branch (batched or not, the same elements).
        let mut step_cache = 0;
        // The cross-attention keys and values of the current expert (the
        // other's are dropped when the experts change), see `cross_attn_kv_bytes`.
        let mut cross_kv = 0;
        for c in &self.transformers {
            let [pt, ph, pw] = c.patch_size.map(|p| p.max(1) as u64);
            let n = (lat_f / pt) * (lh / ph) * (lw / pw);
            tokens = tokens.max(n);
            let images = match clip_tokens {
                Some((_, n)) if c.image_dim.is_some() => {
                    n * if c.pos_embed_seq_len.is_some() { 2 } else { 1 }
                }
                _ => 0,
            };
            let shape = TransformerShape {
                batch,
                tokens: n,
                dim: c.inner_dim() as u64,
                ffn_dim: c.ffn_dim as u64,
                heads: c.num_attention_heads as u64,
                context_tokens: seq + images,
                per_token_timesteps: self.expand_timesteps,
                out_features: c.out_channels() as u64 * pt * ph * pw,
            };
            transformer_act = transformer_act.max(transformer_forward_bytes(&shape, dtype));
            let rows = if cfg { 2 } else { 1 };
            cross_kv = cross_kv.max(cross_attn_kv_bytes(c, rows, shape.context_tokens, dtype));
            if opts.step_cache {
                let branches = if cfg { 2 } else { 1 };
                step_cache += 2 * branches * n * shape.dim * e;
            }
        }
        // Latents in f32 and what the loop keeps of them: x, the noise, the
        // two predictions, the guided one, the scheduler's history, the
        // image conditioning.
        let latent = z * lat_f * lh * lw * 4;
        let loop_state = 10 * latent;

        let vae_act = vae_decode_bytes(
            &self.vae,
            lat_f,
            lh,
            lw,
            tiling.as_ref(),
            opts.device,
            dtype,
        );
        let output = output_bytes(frames, height, width);

        let text_w = weight_of("text_encoder");
        let text_tally = self.tallies.iter().find(|(n, _)| n == "text_encoder");
        let others: Vec<&(String, u64)> = weights
            .iter()
            .filter(|(n, _)| n != "text_encoder")
            .collect();
        let add_weights = |p: &mut PhasePlan, with_text: bool| {
            for (n, b) in &others {
                p.add(format!("weights: {n}"), *b, Class::Weights);
            }
            if with_text {
                p.add("weights: text_encoder", text_w, Class::Weights);
            }
        };
        let text_after = !opts.offload_text_encoder;
        // Under offload a phase holds its own component's weights only.
        let offloaded = opts.offload.is_on();
        let largest_transformer = self
            .tallies
            .iter()
            .filter(|(n, _)| n.starts_with("transformer"))
            .map(|(_, t)| t.resident_bytes(dtype))
            .max()
            .unwrap_or(0);
        let streamed_transformer = self
            .transformer_parts
            .iter()
            .map(|(o, b)| o.resident_bytes(dtype) + b.resident_bytes(dtype))
            .max()
            .unwrap_or(0);
        let sequential = opts.offload == crate::nn::Offload::Sequential;
        let (text_outer, text_block) = &self.text_parts;
        let (text_on_device, text_label) = if sequential {
            (
                text_outer.resident_bytes(dtype) + text_block.resident_bytes(dtype),
                "weights: text_encoder block and final norm (sequential offload)",
            )
        } else {
            (text_w, "weights: text_encoder (offloaded)")
        };
        let phase_weights = |p: &mut PhasePlan, phase: &str, with_text: bool| {
            if !offloaded {
                add_weights(p, with_text);
                return;
            }
            match phase {
                "text" => {
                    // The image encoder runs after the text encoder is given back.
                    let image_w = weight_of("image_encoder");
                    if clip_tokens.is_some() && image_w > text_on_device {
                        p.add(
                            "weights: image_encoder (offloaded)",
                            image_w,
                            Class::Weights,
                        );
                    } else {
                        p.add(text_label, text_on_device, Class::Weights);
                    }
                }
                "denoise" if sequential => {
                    p.add(
                        "weights: transformer block and outer layers (sequential offload)",
                        streamed_transformer,
                        Class::Weights,
                    );
                }
                "denoise" => {
                    p.add(
                        "weights: transformer (offloaded)",
                        largest_transformer,
                        Class::Weights,
                    );
                }
                _ => {
                    p.add("weights: vae (offloaded)", weight_of("vae"), Class::Weights);
                }
            }
        };

        let mut phases = Vec::new();
        if state.loading && opts.device == Device::Cpu {
            // The peak of loading: every component before, this one, and its
            // mapped file pages (released once the component is built).
            let mut before = 0u64;
            let mut worst: Option<PhasePlan> = None;
            let mut worst_total = 0u64;
            for (n, t) in &self.tallies {
                let res = t.resident_bytes(dtype);
                let transient = t.load_transient_bytes(opts.device);
                let total = before + res + transient;
                if worst.is_none() || total > worst_total {
                    let mut p = PhasePlan::new("load");
                    p.add("weights loaded before", before, Class::Weights)
                        .add(format!("weights: {n}"), res, Class::Weights)
                        .add(
                            format!("mapped files of {n} while loading"),
                            transient,
                            Class::Weights,
                        );
                    worst = Some(p);
                    worst_total = total;
                }
                before += res;
            }
            phases.extend(worst);
        }

        let mut text = PhasePlan::new("text");
        phase_weights(&mut text, "text", true);
        text.add("prompt embeddings (cache)", cache, Class::Carried);
        if !state.prompts_cached {
            let reload = match (state.text_resident, text_tally) {
                (false, Some((_, t))) => t.load_transient_bytes(opts.device),
                _ => 0,
            };
            text.add(
                "text encoder forward",
                text_act.max(reload),
                Class::Activations,
            );
        }
        if image_act > 0 {
            text.add("image encoder forward", image_act, Class::Activations);
        }
        phases.push(text);

        let mut activations = vec![
            ("text encoder forward".to_string(), text_act),
            ("transformer forward".to_string(), transformer_act),
            ("VAE decode".to_string(), vae_act),
        ];
        if image_act > 0 {
            activations.insert(1, ("image encoder forward".to_string(), image_act));
        }
        if matches!(
            req.mode,
            Mode::Image(_) | Mode::Video { .. } | Mode::Extend { .. }
        ) {
            // VAE encode of the conditioning video: the pixels in f32 (twice
            // for Wan 2.1 I2V: the image padded with zero frames), and an
            // encoder working set taken equal to the (untiled: the encode
            // is never tiled) decoder's.
            let pixels = 3 * frames * height * width * 4 * 2;
            let vae_act = vae_decode_bytes(&self.vae, lat_f, lh, lw, None, opts.device, dtype);
            let mut p = PhasePlan::new("prepare");
            phase_weights(&mut p, "prepare", text_after);
            p.add("prompt embeddings (cache)", cache, Class::Carried)
                .add("latents", loop_state, Class::Carried)
                .add("VAE encode", pixels + vae_act, Class::Activations);
            activations.push(("VAE encode".to_string(), pixels + vae_act));
            phases.push(p);
        }

        let mut denoise = PhasePlan::new("denoise");
        phase_weights(&mut denoise, "denoise", text_after);
        denoise
            .add("prompt embeddings (cache)", cache, Class::Carried)
            .add("latents", loop_state, Class::Carried)
            .add("step cache", step_cache, Class::Carried)
            .add("cross-attention keys and values", cross_kv, Class::Carried)
            .add("transformer forward", transformer_act, Class::Activations);
        phases.push(denoise);

        // The VAE's input latent is counted in its working set; the decoded
        // frames fill the output buffer chunk by chunk.
        let mut decode = PhasePlan::new("decode");
        phase_weights(&mut decode, "decode", text_after);
        decode
            .add("prompt embeddings (cache)", cache, Class::Carried)
            .add("output clip", output, Class::Carried)
            .add("VAE decode", vae_act, Class::Activations);
        phases.push(decode);

        let held = if state.loading || offloaded {
            // Offloaded weights are in host memory between runs.
            0
        } else {
            others.iter().map(|(_, b)| *b).sum::<u64>()
                + if state.text_resident { text_w } else { 0 }
        };
        Ok(assemble(
            EstimateHeader {
                family: "wan".into(),
                width: req.width,
                height: req.height,
                frames: req.frames,
                batch: batch as u32,
                tokens,
                vae_tiles,
            },
            opts,
            weights.to_vec(),
            activations,
            output,
            phases,
            held,
        ))
    }
}

/// Bytes of the cross-attention keys and values a generation keeps for one
/// transformer (`transformer::CrossAttnKv`): per block, keys and values of
/// `rows` prompts (2 with classifier-free guidance, batched or not) over
/// `context_tokens` (text plus image tokens) at the model width. The text is
/// counted at its padded length: float32 runs compact it to the prompt's
/// tokens plus one, which the estimate does not know before tokenizing.
/// (The forward's own count of the projected context and of one block's keys
/// and values stands for the transient of making them.)
pub(crate) fn cross_attn_kv_bytes(
    c: &WanTransformerConfig,
    rows: u64,
    context_tokens: u64,
    dtype: Dtype,
) -> u64 {
    c.num_layers.max(0) as u64
        * 2
        * rows
        * context_tokens
        * c.inner_dim() as u64
        * elem_bytes(dtype)
}

/// A causal residual block of the VAE (`norm → SiLU → conv`, twice, and a
/// 1×1×1 shortcut when the width changes) on `t` frames of `h × w`, with
/// `outer` elements alive around it.
fn residual_block(
    steps: &mut Vec<ConvStep>,
    c_in: u64,
    c_out: u64,
    t: u64,
    h: u64,
    w: u64,
    outer: u64,
) {
    let hw = h * w;
    let x = c_in * t * hw;
    let conv =
        |c_in: u64, c_out: u64, alive: u64| ConvStep::causal_cube(c_in, c_out, t, h, w, alive);
    let shortcut = if c_in != c_out {
        steps.push(ConvStep {
            t_in: t,
            kernel: [1, 1, 1],
            cached_frames: 0,
            alive: outer,
            ..conv(c_in, c_out, 0)
        });
        c_out * t * hw
    } else {
        0
    };
    // conv1 sees the padded copy of norm1's output y1 (kept), and the new
    // cache tail is made before the old one is dropped.
    let y1 = c_in * t * hw;
    steps.push(conv(c_in, c_out, outer + x + shortcut + y1 + c_in * 2 * hw));
    // conv2: y1, conv1's output y2 and norm2's output y3 alive.
    let y2 = c_out * t * hw;
    steps.push(conv(
        c_out,
        c_out,
        outer + x + shortcut + y1 + 2 * y2 + c_out * 2 * hw,
    ));
}

/// Wan's VAE decoder walked on one latent frame ([`decoder_walk`]).
struct DecoderWalk {
    /// Its convolutions (their cached frames are the decoder's feature cache).
    steps: Vec<ConvStep>,
    /// Bytes of its other steps (the middle block's attention).
    other: Vec<u64>,
    /// The decoded chunk in the decoder's output units (patchified for Wan
    /// 2.2): channels, frames, height, width.
    out: [u64; 4],
}

impl DecoderWalk {
    /// Elements of the decoded chunk.
    fn chunk(&self) -> u64 {
        self.out.iter().product()
    }
}

/// Walks Wan's VAE decoder on one latent frame of `lh × lw` as
/// `vae/decoder.rs` builds it, in the steady state of a chunk after the first
/// when `steady` (four frames out of one latent frame; the first chunk makes
/// one), with `outer` elements alive around every step (so the peak of its
/// steps grows by exactly `outer` elements with it).
fn decoder_walk(
    vae: &WanVaeConfig,
    steady: bool,
    lh: u64,
    lw: u64,
    outer: u64,
    e: u64,
) -> DecoderWalk {
    let dim = vae.decoder_dim().max(1) as u64;
    let mult: Vec<u64> = vae.dim_mult.iter().map(|&m| m.max(1) as u64).collect();
    let n = mult.len().max(1);
    let mut dims = vec![dim * mult.last().copied().unwrap_or(1)];
    dims.extend(mult.iter().rev().map(|m| dim * m));
    let z = vae.z_dim.max(1) as u64;
    let mut steps = Vec::new();
    let mut other = Vec::new();

    // post_quant_conv (1×1×1) runs on one latent frame.
    steps.push(ConvStep {
        batch: 1,
        c_in: z,
        c_out: z,
        t_in: 1,
        t_out: 1,
        h_in: lh,
        w_in: lw,
        h_out: lh,
        w_out: lw,
        kernel: [1, 1, 1],
        alive: outer,
        ..Default::default()
    });

    let (mut t, mut h, mut w) = (1u64, lh, lw);
    steps.push(ConvStep::causal_cube(
        z,
        dims[0],
        1,
        h,
        w,
        outer + z * 2 * h * w,
    ));
    // Middle: residual block, single-head attention over the frame, residual block.
    residual_block(&mut steps, dims[0], dims[0], t, h, w, outer);
    other.push((outer + 12 * dims[0] * t * h * w) * e);
    residual_block(&mut steps, dims[0], dims[0], t, h, w, outer);

    for i in 0..n {
        let halve = i > 0 && !vae.is_residual;
        let in_dim = if halve { dims[i] / 2 } else { dims[i] };
        let out = dims[i + 1];
        let block_in = in_dim * t * h * w;
        for j in 0..=vae.num_res_blocks.max(0) as u64 {
            let c_in = if j == 0 { in_dim } else { out };
            let around = outer + if j > 0 { block_in } else { 0 };
            residual_block(&mut steps, c_in, out, t, h, w, around);
        }
        if i == n - 1 {
            break;
        }
        let up_out = if vae.is_residual { out } else { out / 2 };
        let x_in = out * t * h * w;
        let mut alive = outer + block_in + x_in;
        if vae.up_in_time(i) && steady {
            // Time convolution doubling the channels, then the frames
            // interleaved into twice as many (a copy).
            steps.push(ConvStep {
                batch: 1,
                c_in: out,
                c_out: 2 * out,
                t_in: t + 2,
                t_out: t,
                h_in: h,
                w_in: w,
                h_out: h,
                w_out: w,
                kernel: [3, 1, 1],
                two_d: false,
                cached_frames: 2,
                alive: alive + out * 2 * h * w,
            });
            alive += 2 * out * t * h * w + 2 * out * t * h * w;
            t *= 2;
        }
        // Per-frame 2× nearest upsampling (the frames copied first) and a 3×3 conv.
        steps.push(ConvStep {
            batch: t,
            c_in: out,
            c_out: up_out,
            t_in: 1,
            t_out: 1,
            h_in: 2 * h,
            w_in: 2 * w,
            h_out: 2 * h,
            w_out: 2 * w,
            kernel: [1, 3, 3],
            two_d: true,
            cached_frames: 0,
            alive: alive + out * t * h * w,
        });
        h *= 2;
        w *= 2;
    }
    // Output norm + SiLU (a copy), then the output convolution.
    let c_last = dims[n];
    let out_ch = vae.out_channels.max(1) as u64;
    steps.push(ConvStep::causal_cube(
        c_last,
        out_ch,
        t,
        h,
        w,
        outer + 2 * c_last * t * h * w + c_last * 2 * h * w,
    ));
    DecoderWalk {
        steps,
        other,
        out: [out_ch, t, h, w],
    }
}

/// Bytes alive while a decoded chunk `out` (decoder-output units) becomes
/// u8 frames, with `outer` elements alive around it: the chunk, its
/// unpatchified copy when the VAE folds pixels, the conversion to u8 in f32
/// (`video_to_frames`: cast, ×0.5, +0.5, clamp, ×255, round) and its
/// contiguous copy for the sink.
fn frames_out_bytes(vae: &WanVaeConfig, out: [u64; 4], outer: u64, e: u64) -> u64 {
    let p = vae.patch().max(1) as u64;
    let [_, t, h, w] = out;
    let chunk: u64 = out.iter().product();
    let pixels = 3 * t * (h * p) * (w * p);
    let unpatch = if p > 1 { chunk } else { 0 };
    let temps = if e < 4 { 6 } else { 5 };
    (outer + chunk + unpatch) * e + pixels * 4 * temps + 2 * pixels
}

/// Peak bytes of decoding one latent frame with Wan's VAE decoder and its
/// feature cache, including turning the decoded frames into u8. The whole
/// latent `lat_f × lh × lw` (the decoder's input) stays alive throughout.
/// With `tiling` (the grid `WanVae` decodes with) and a latent larger than one
/// tile, the spatially tiled decode ([`vae_decode_tiled_bytes`]); otherwise
/// the decoder on whole frames.
pub(crate) fn vae_decode_bytes(
    vae: &WanVaeConfig,
    lat_f: u64,
    lh: u64,
    lw: u64,
    tiling: Option<&TileGrid>,
    device: Device,
    dtype: Dtype,
) -> u64 {
    if let Some(grid) = tiling.filter(|g| g.needs_tiling(lh as i64, lw as i64)) {
        return vae_decode_tiled_bytes(vae, lat_f, lh, lw, grid, device, dtype);
    }
    let e = elem_bytes(dtype);
    let base = vae.z_dim.max(1) as u64 * lat_f * lh * lw;
    let mut walk = decoder_walk(vae, lat_f > 1, lh, lw, base, e);
    let out = frames_out_bytes(vae, walk.out, base, e);
    walk.other.push(out);
    decoder_bytes(&walk.steps, &walk.other, device, dtype)
}

/// Peak bytes of the tiled decode (`WanVae::decode_tiled`): per latent frame,
/// every tile is decoded with its own feature cache, and the frame's decoded
/// tiles are all held until they are blended and joined. Alive at once: the
/// whole latent, the feature caches of every tile (kept across frames; each
/// walked as the untiled decoder is, at the tile's latent size, clipped at
/// the edges, so overlapping tiles cache more than one whole frame would),
/// and the largest of
/// - one tile's decoder working set, with the frame's other tiles decoded;
/// - the join: every decoded tile, the joined rows and the joined frame, and
///   the temporaries of one blend;
/// - the joined frame turning into u8 frames.
fn vae_decode_tiled_bytes(
    vae: &WanVaeConfig,
    lat_f: u64,
    lh: u64,
    lw: u64,
    grid: &TileGrid,
    device: Device,
    dtype: Dtype,
) -> u64 {
    let e = elem_bytes(dtype);
    let steady = lat_f > 1;
    let base = vae.z_dim.max(1) as u64 * lat_f * lh * lw;
    let (rows, cols) = grid.tile_extents(lh as i64, lw as i64);
    // Each distinct tile size once, with how many tiles have it.
    let mut tiles = Vec::new();
    for &(th, nh) in &rows {
        for &(tw, nw) in &cols {
            let walk = decoder_walk(vae, steady, th.max(1) as u64, tw.max(1) as u64, 0, e);
            tiles.push((nh.saturating_mul(nw), walk));
        }
    }
    let caches = tiles.iter().fold(0u64, |acc, (n, walk)| {
        acc.saturating_add(n.saturating_mul(feature_cache_bytes(&walk.steps, dtype)))
    });
    let decoded = tiles.iter().fold(0u64, |acc, (n, walk)| {
        acc.saturating_add(n.saturating_mul(walk.chunk()))
    });
    // (What is alive around a walk is around every one of its steps.)
    let decode = tiles
        .iter()
        .map(|(_, walk)| {
            let held = base.saturating_add(decoded - walk.chunk());
            decoder_step_bytes(&walk.steps, &walk.other, device, dtype)
                .saturating_add(held.saturating_mul(e))
        })
        .max()
        .unwrap_or(0);
    // The whole frame's decoded chunk (the tiles, cropped to the strides,
    // cover it exactly).
    let frame = decoder_walk(vae, steady, lh, lw, 0, e).out;
    let chunk: u64 = frame.iter().product();
    // One blend: the overlap of the largest tile with its neighbour, mixed
    // in f32 (two weighted copies and their sum, and the f32 copies of a half
    // dtype).
    let band = tiles
        .iter()
        .map(|(_, walk)| {
            let [c, t, h, w] = walk.out;
            let (bh, bw) = (grid.blend.0.max(0) as u64, grid.blend.1.max(0) as u64);
            c * t * (bh.min(h) * w).max(h * bw.min(w))
        })
        .max()
        .unwrap_or(0);
    let blend = band * (3 * e + if e < 4 { 8 } else { 0 });
    let join = base
        .saturating_add(decoded)
        .saturating_add(2 * chunk)
        .saturating_mul(e)
        .saturating_add(blend);
    let out = frames_out_bytes(vae, frame, base, e);
    caches.saturating_add(decode.max(join).max(out))
}

/// The memory `req` needs with the Wan model of `folder`, nothing loaded.
pub fn estimate_folder(
    folder: &ModelFolder,
    req: &Request,
    opts: &EstimateOptions,
) -> Result<MemoryEstimate> {
    let spec = WanSpec::from_folder(folder)?;
    let rule = spec.rule();
    let mut r = req.resolve_on(&wan_defaults(), |f| rule.nearest_frames(f), rule.grid())?;
    // An extension is estimated as the window it generates.
    r.frames = r.generated_frames(|f| rule.nearest_frames(f))?;
    rule.check(r.width, r.height, r.frames)?;
    spec.estimate(&r, opts, Residency::fresh())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::wan::vae::VaeTiling;

    #[test]
    fn transformer_f32_modules_follow_diffusers() {
        for n in [
            "condition_embedder.time_embedder.linear_1.weight",
            "blocks.3.scale_shift_table",
            "scale_shift_table",
            "blocks.0.norm2.weight",
            "condition_embedder.image_embedder.norm1.bias",
        ] {
            assert_eq!(keep_transformer(n), Keep::F32, "{n}");
        }
        for n in [
            "blocks.0.attn1.norm_q.weight",
            "condition_embedder.time_proj.weight",
            "blocks.0.ffn.net.0.proj.weight",
        ] {
            assert_eq!(keep_transformer(n), Keep::Cast, "{n}");
        }
    }

    /// The sizes quoted on `CrossAttnKv`: under guidance (two prompts), the
    /// text at its padded 512 tokens, bf16.
    #[test]
    fn cross_attention_kv_at_the_real_configs() {
        let mib = |c: &WanTransformerConfig, tokens: u64| {
            cross_attn_kv_bytes(c, 2, tokens, Dtype::BF16) as f64 / (1u64 << 20) as f64
        };
        assert_eq!(mib(&WanTransformerConfig::wan21_t2v_1_3b(), 512), 180.0);
        assert_eq!(mib(&WanTransformerConfig::wan22_ti2v_5b(), 512), 360.0);
        assert_eq!(mib(&WanTransformerConfig::wan21_t2v_14b(), 512), 800.0);
        // I2V: 257 CLIP tokens more through the added projections.
        let i2v = mib(&WanTransformerConfig::wan21_i2v_14b(), 512 + 257);
        assert!((i2v - 1201.6).abs() < 0.1, "{i2v}");
        // Without guidance, one prompt: half; in f32, twice.
        let c = WanTransformerConfig::wan21_t2v_14b();
        assert_eq!(
            cross_attn_kv_bytes(&c, 1, 512, Dtype::F32),
            cross_attn_kv_bytes(&c, 2, 512, Dtype::BF16)
        );
    }

    #[test]
    fn vae_decode_does_not_grow_with_the_clip_but_with_the_frame() {
        let vae = WanVaeConfig::default();
        let a = vae_decode_bytes(&vae, 21, 60, 104, None, Device::Cpu, Dtype::F32);
        let b = vae_decode_bytes(&vae, 41, 60, 104, None, Device::Cpu, Dtype::F32);
        let c = vae_decode_bytes(&vae, 21, 120, 208, None, Device::Cpu, Dtype::F32);
        // Only the latent kept alive grows with the length.
        assert!(b - a <= 2 * 16 * 20 * 60 * 104 * 4, "{a} {b}");
        assert!(c > 3 * a, "{a} {c}");
        // 480p, Wan 2.1 VAE in f32: the last level is 96 channels × 4 frames ×
        // 480 × 832 (585 MiB a tensor); its convolution holds a handful of those,
        // and the feature cache two frames of every cached convolution's input
        // (about 3.5 GiB): around 9 GiB, not tens.
        let mb = a / crate::estimate::MIB;
        assert!((6000..14000).contains(&mb), "{mb} MiB");
    }

    fn tiles(size: i64, stride: i64) -> TileGrid {
        let t = VaeTiling {
            tile_sample_min_height: size,
            tile_sample_min_width: size,
            tile_sample_stride_height: stride,
            tile_sample_stride_width: stride,
        };
        TileGrid::new(&t, 8, 1)
    }

    #[test]
    fn tiled_vae_decode_at_720p() {
        // Wan 2.1's VAE, 1280×720×81 in f32: latent 21 × 90 × 160.
        let vae = WanVaeConfig::default();
        let bytes = |grid: Option<&TileGrid>| {
            vae_decode_bytes(&vae, 21, 90, 160, grid, Device::Cpu, Dtype::F32)
        };
        let untiled = bytes(None);
        // diffusers' default tiles (256 every 192): one tile's working set
        // instead of the frame's, but every tile keeps its feature cache and
        // they overlap: about two thirds of the untiled decode.
        let default = bytes(Some(&tiles(256, 192)));
        assert!(default < 7 * untiled / 10, "{default} {untiled}");
        // At a fixed stride, larger tiles: more overlap and a larger tile.
        let mut last = 0;
        for size in [192, 256, 320, 384] {
            let b = bytes(Some(&tiles(size, 192)));
            assert!(b > last, "{size}: {b} after {last}");
            last = b;
        }
        // Tiles twice their stride cache each latent pixel about four times:
        // more than the decode of whole frames.
        assert!(bytes(Some(&tiles(256, 128))) > untiled);
        // A latent within one tile decodes untiled (diffusers' rule): the
        // same bytes, in every dtype and on every device.
        for dtype in [Dtype::F32, Dtype::BF16] {
            for device in [Device::Cpu, Device::Cuda(0)] {
                let one = |grid: Option<&TileGrid>| {
                    vae_decode_bytes(&vae, 21, 32, 32, grid, device, dtype)
                };
                assert_eq!(one(Some(&tiles(256, 192))), one(None));
                assert!(one(Some(&tiles(128, 96))) < one(None));
            }
        }
    }

    #[test]
    fn tiled_vae_decode_counts_every_tile_cache() {
        // The caches are the untiled walk's at each tile's size: two tiles
        // side by side, without overlap, cache what the whole frame does.
        let vae = WanVaeConfig::default();
        let cache = |lh, lw| {
            let walk = decoder_walk(&vae, true, lh, lw, 0, 4);
            feature_cache_bytes(&walk.steps, Dtype::F32)
        };
        assert_eq!(cache(8, 16), 2 * cache(8, 8));
        let decode = |grid: Option<&TileGrid>| {
            vae_decode_bytes(&vae, 5, 8, 16, grid, Device::Cpu, Dtype::F32)
        };
        let halves = decode(Some(&tiles(64, 64)));
        assert!(halves > cache(8, 16) && halves < decode(None), "{halves}");
    }
}
