//! The whole `LTX2VideoTransformer3DModel`: input projections, timestep and
//! prompt embeddings, rotary tables, the blocks, and the modulated output
//! layers of both streams. One [`Ltx2Transformer::forward`] is one denoising
//! evaluation: (video velocity, audio velocity).

use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::attention::Perturbation;
use super::block::{BlockInputs, BlockTextKv, Ltx2Block};
use super::config::Ltx2TransformerConfig;
use super::embed::{AdaLayerNormSingle, CaptionProjection};
use super::rope::{audio_coords, video_coords, FractionalRope, Ltx2RopeTables};
use crate::nn::offload::{ComponentWeights, Offload, StreamParts, Uploaded, WeightSet};
use crate::nn::step_cache::CachedStep;
use crate::nn::{LayerNorm, Linear};
use crate::weights::{read_config, TensorStore, WeightPath};
use crate::{Error, Result};

/// The inputs of one forward, named after diffusers' arguments. Build with
/// [`Ltx2Inputs::new`] and set the optional fields.
#[derive(Debug)]
pub struct Ltx2Inputs<'a> {
    /// Patchified video latents `[B, S_v, in_channels]` (`hidden_states`).
    pub video: &'a Tensor,
    /// Patchified audio latents `[B, S_a, audio_in_channels]`.
    pub audio: &'a Tensor,
    /// Video text embeddings `[B, L, C]` (`C` = `caption_channels` with
    /// `use_prompt_embeddings`, else `cross_attention_dim`).
    pub text: &'a Tensor,
    /// Audio text embeddings `[B, L, C]`.
    pub audio_text: &'a Tensor,
    /// Video text mask `[B, L]`, 1 on tokens, 0 on padding.
    pub text_mask: Option<&'a Tensor>,
    /// Audio text mask `[B, L]`.
    pub audio_text_mask: Option<&'a Tensor>,
    /// Video timesteps (already × `timestep_scale_multiplier`), `[B]` or `[B, S_v]`.
    pub timestep: &'a Tensor,
    /// Audio timesteps, `[B]` or `[B, S_a]`; `timestep` when `None`.
    pub audio_timestep: Option<&'a Tensor>,
    /// `[B]`: the prompt modulation's timestep (LTX-2.3) and the cross timestep.
    pub sigma: Option<&'a Tensor>,
    /// Audio `sigma`; `sigma` when `None`.
    pub audio_sigma: Option<&'a Tensor>,
    /// Latent (frames, height, width), for the positions when `video_coords` is `None`.
    pub video_grid: [i64; 3],
    /// Frame rate of the video positions.
    pub fps: f64,
    /// Audio latent frames, for the positions when `audio_coords` is `None`.
    pub audio_frames: i64,
    /// Explicit video patch boundaries `[B, 3, S_v, 2]`.
    pub video_coords: Option<&'a Tensor>,
    /// Explicit audio patch boundaries `[B, 1, S_a, 2]`.
    pub audio_coords: Option<&'a Tensor>,
    /// Turn the audio↔video cross-attention off (modality guidance).
    pub isolate_modalities: bool,
    /// `[B]`: 0 on the batch elements whose audio↔video cross-attention is
    /// off (as [`Ltx2Inputs::isolate_modalities`] does for a whole call), 1
    /// elsewhere; lets the isolated branch share a call with the others.
    pub isolation_mask: Option<&'a Tensor>,
    /// Blocks whose self-attentions STG perturbs (indices past the last block
    /// are ignored, as diffusers does: the pipeline's default is block 28).
    pub spatio_temporal_guidance_blocks: Vec<usize>,
    /// `[B]`: 0 on the batch elements STG perturbs, 1 elsewhere; all perturbed when `None`.
    pub perturbation_mask: Option<&'a Tensor>,
    /// Per batch element, the element whose inputs it repeats (itself when
    /// none; a named element must be its own): the caller's promise that
    /// video, audio, text, masks, timesteps and isolation are the same, only
    /// the perturbation differing. Such elements run once up to the first
    /// perturbed block (the same result, less work).
    pub same_as: Option<&'a [usize]>,
    /// Modulate each stream's cross-attention with the other stream's sigma (LTX-2.3).
    pub use_cross_timestep: bool,
    /// Multiplicative video self-attention mask `[B, S_v, S_v]` in `[0, 1]`.
    pub video_self_attention_mask: Option<&'a Tensor>,
    /// `[B, S_v, 1]`, non-zero on keyframe tokens (with `use_keyframes_abs_pos_embedding`).
    pub video_keyframes_mask: Option<&'a Tensor>,
    /// One [`PreparedText`] per batch element, made by
    /// [`Ltx2Transformer::prepare_text`] from that element's `text` and
    /// `audio_text`: the caption projections and text keys/values are then
    /// not recomputed (the result is the same).
    pub prepared_text: Option<&'a [&'a PreparedText]>,
}

/// One prompt's text side as the transformer uses it, computed once for a
/// whole walk ([`Ltx2Transformer::prepare_text`]): the projected video and
/// audio text tokens `[1, L, inner]` and, per block, the text cross-attention
/// keys and values (none under LTX-2.3's prompt modulation, which changes
/// the text every step, and none while the blocks' weights are offloaded:
/// then they are not held for the walk).
#[derive(Debug)]
pub struct PreparedText {
    text: Tensor,
    audio_text: Tensor,
    kv: Vec<Option<BlockTextKv>>,
}

impl PreparedText {
    /// Bytes held by the prepared tensors.
    pub fn bytes(&self) -> u64 {
        let t = |t: &Tensor| (t.numel() * t.kind().elt_size_in_bytes()) as u64;
        let kv: u64 = self
            .kv
            .iter()
            .flatten()
            .map(|k| t(&k.video.0) + t(&k.video.1) + t(&k.audio.0) + t(&k.audio.1))
            .sum();
        t(&self.text) + t(&self.audio_text) + kv
    }
}

impl<'a> Ltx2Inputs<'a> {
    /// Inputs with diffusers' defaults for everything else (24 fps, no masks,
    /// no STG, positions computed from `video_grid` and `audio_frames`).
    pub fn new(
        video: &'a Tensor,
        audio: &'a Tensor,
        text: &'a Tensor,
        audio_text: &'a Tensor,
        timestep: &'a Tensor,
        video_grid: [i64; 3],
        audio_frames: i64,
    ) -> Self {
        Self {
            video,
            audio,
            text,
            audio_text,
            text_mask: None,
            audio_text_mask: None,
            timestep,
            audio_timestep: None,
            sigma: None,
            audio_sigma: None,
            video_grid,
            fps: 24.0,
            audio_frames,
            video_coords: None,
            audio_coords: None,
            isolate_modalities: false,
            isolation_mask: None,
            spatio_temporal_guidance_blocks: Vec::new(),
            perturbation_mask: None,
            same_as: None,
            use_cross_timestep: false,
            video_self_attention_mask: None,
            video_keyframes_mask: None,
            prepared_text: None,
        }
    }
}

/// The transformer.
#[derive(Debug)]
pub struct Ltx2Transformer {
    config: Ltx2TransformerConfig,
    device: Device,
    kind: Kind,
    proj_in: Linear,
    audio_proj_in: Linear,
    keyframes_abs_pos_embedding: Option<Tensor>,
    caption_projection: Option<CaptionProjection>,
    audio_caption_projection: Option<CaptionProjection>,
    time_embed: AdaLayerNormSingle,
    audio_time_embed: AdaLayerNormSingle,
    av_cross_attn_video_scale_shift: AdaLayerNormSingle,
    av_cross_attn_audio_scale_shift: AdaLayerNormSingle,
    av_cross_attn_video_a2v_gate: AdaLayerNormSingle,
    av_cross_attn_audio_v2a_gate: AdaLayerNormSingle,
    prompt_adaln: Option<(AdaLayerNormSingle, AdaLayerNormSingle)>,
    scale_shift_table: Tensor,
    audio_scale_shift_table: Tensor,
    rope: FractionalRope,
    audio_rope: FractionalRope,
    cross_attn_rope: FractionalRope,
    cross_attn_audio_rope: FractionalRope,
    blocks: Vec<Ltx2Block>,
    proj_out: Linear,
    audio_proj_out: Linear,
    /// Every weight, and where they wait between uses ([`Ltx2Transformer::set_offload`]).
    weights: ComponentWeights,
}

/// Additive bias `(1 − mask)·(−10000)` of a `[B, L]` multiplicative mask, `[B, 1, 1, L]`.
fn text_bias(mask: Option<&Tensor>, batch: i64, len: i64, kind: Kind) -> Result<Option<Tensor>> {
    let Some(m) = mask else { return Ok(None) };
    if m.size() != [batch, len] {
        return Err(Error::invalid(format!(
            "text mask must be [{batch}, {len}], got {:?}",
            m.size()
        )));
    }
    // No padding (LTX-2.0's registers fill it): no bias, the same result,
    // and the attention kernel without a mask is the faster one.
    if m.f_min()?.f_double_value(&[])? >= 1.0 {
        return Ok(None);
    }
    Ok(Some(
        m.f_to_kind(kind)?
            .f_neg()?
            .f_add_scalar(1.0)?
            .f_mul_scalar(-10000.0)?
            .f_view([batch, 1, 1, len])?,
    ))
}

impl Ltx2Transformer {
    /// Loads the component folder `dir` (`config.json` and safetensors,
    /// sharded or not), weights cast to `kind` on `device` (dense layers'
    /// weights stored as float8 stay float8, cast per call). Every missing or
    /// mis-shaped tensor is reported at once ([`Error::WeightMismatch`]); an
    /// inconsistent config is an [`Error::Config`].
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let path = dir.join("config.json");
        let config: Ltx2TransformerConfig = read_config(&path)?;
        config.validate().map_err(|e| match e {
            Error::InvalidRequest(reason) => Error::Config { path, reason },
            other => other,
        })?;
        // Float8 dense-layer weights stay float8, cast per call.
        let store = TensorStore::open(dir, "transformer", device, kind)?.keep_fp8_linears(true);
        let mut model = Self::from_store(config, &store.root())?;
        store.finish()?;
        model.weights = ComponentWeights::new(store.weight_set());
        Ok(model)
    }

    /// Builds the model from `config` and the tensors under `p`.
    pub fn from_store(config: Ltx2TransformerConfig, p: &WeightPath) -> Result<Self> {
        config.validate()?;
        let c = &config;
        let dim = c.inner_dim();
        let adim = c.audio_inner_dim();
        let ada = |name: &str, d: i64, n: i64| AdaLayerNormSingle::load(&p.pp(name), d, n);
        let n_video = if c.cross_attn_mod { 9 } else { 6 };
        let n_audio = if c.audio_cross_attn_mod { 9 } else { 6 };
        let rope = |dim, heads, max_positions: Vec<f64>| FractionalRope {
            dim,
            heads,
            max_positions,
            theta: c.rope_theta,
            double_precision: c.rope_double_precision,
            rope_type: c.rope_type,
        };
        let cross_max = c.pos_embed_max_pos.max(c.audio_pos_embed_max_pos) as f64;
        let mut blocks = Vec::with_capacity(c.num_layers as usize);
        for i in 0..c.num_layers {
            blocks.push(Ltx2Block::load(&p.pp("transformer_blocks").pp(i), c)?);
        }
        Ok(Self {
            device: p.device(),
            kind: p.kind(),
            proj_in: Linear::load(&p.pp("proj_in"), c.in_channels, dim, true)?,
            audio_proj_in: Linear::load(&p.pp("audio_proj_in"), c.audio_in_channels, adim, true)?,
            keyframes_abs_pos_embedding: if c.use_keyframes_abs_pos_embedding {
                Some(p.get("keyframes_abs_pos_embedding", &[1, dim])?)
            } else {
                None
            },
            caption_projection: if c.use_prompt_embeddings {
                Some(CaptionProjection::load(
                    &p.pp("caption_projection"),
                    c.caption_channels,
                    dim,
                )?)
            } else {
                None
            },
            audio_caption_projection: if c.use_prompt_embeddings {
                Some(CaptionProjection::load(
                    &p.pp("audio_caption_projection"),
                    c.caption_channels,
                    adim,
                )?)
            } else {
                None
            },
            time_embed: ada("time_embed", dim, n_video)?,
            audio_time_embed: ada("audio_time_embed", adim, n_audio)?,
            av_cross_attn_video_scale_shift: ada("av_cross_attn_video_scale_shift", dim, 4)?,
            av_cross_attn_audio_scale_shift: ada("av_cross_attn_audio_scale_shift", adim, 4)?,
            av_cross_attn_video_a2v_gate: ada("av_cross_attn_video_a2v_gate", dim, 1)?,
            av_cross_attn_audio_v2a_gate: ada("av_cross_attn_audio_v2a_gate", adim, 1)?,
            prompt_adaln: if c.prompt_modulation() && c.use_prompt_adaln_single {
                Some((
                    ada("prompt_adaln", dim, 2)?,
                    ada("audio_prompt_adaln", adim, 2)?,
                ))
            } else {
                None
            },
            scale_shift_table: p.get("scale_shift_table", &[2, dim])?,
            audio_scale_shift_table: p.get("audio_scale_shift_table", &[2, adim])?,
            rope: rope(
                dim,
                c.num_attention_heads,
                vec![
                    c.pos_embed_max_pos as f64,
                    c.base_height as f64,
                    c.base_width as f64,
                ],
            ),
            audio_rope: rope(
                adim,
                c.audio_num_attention_heads,
                vec![c.audio_pos_embed_max_pos as f64],
            ),
            cross_attn_rope: rope(
                c.audio_cross_attention_dim,
                c.num_attention_heads,
                vec![cross_max],
            ),
            cross_attn_audio_rope: rope(
                c.audio_cross_attention_dim,
                c.audio_num_attention_heads,
                vec![cross_max],
            ),
            blocks,
            proj_out: Linear::load(&p.pp("proj_out"), dim, c.video_out_channels(), true)?,
            audio_proj_out: Linear::load(&p.pp("audio_proj_out"), adim, c.audio_out_dim(), true)?,
            weights: ComponentWeights::default(),
            config,
        })
    }

    /// The parsed `config.json`.
    pub fn config(&self) -> &Ltx2TransformerConfig {
        &self.config
    }

    /// The device of the weights.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The dtype of the weights.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The widths of the video and audio text embeddings the forward takes.
    fn text_widths(&self) -> (i64, i64) {
        let c = &self.config;
        if c.use_prompt_embeddings {
            (c.caption_channels, c.caption_channels)
        } else {
            (c.cross_attention_dim, c.audio_cross_attention_dim)
        }
    }

    /// The caption projections (LTX-2.0; LTX-2.3 projects in its connectors).
    fn project_text(&self, text: &Tensor, audio_text: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok(
            match (&self.caption_projection, &self.audio_caption_projection) {
                (Some(pv), Some(pa)) => (pv.forward(text)?, pa.forward(audio_text)?),
                _ => (text.shallow_clone(), audio_text.shallow_clone()),
            },
        )
    }

    /// One prompt's text side for a whole walk (see [`PreparedText`]):
    /// `text` and `audio_text` `[1, L, C]` as [`Ltx2Inputs::text`] and
    /// [`Ltx2Inputs::audio_text`] take them.
    pub fn prepare_text(&self, text: &Tensor, audio_text: &Tensor) -> Result<PreparedText> {
        let _guard = tch::no_grad_guard();
        let (tc, atc) = self.text_widths();
        for (name, t, w) in [("video text", text, tc), ("audio text", audio_text, atc)] {
            let s = t.size();
            if s.len() != 3 || s[0] != 1 || s[2] != w {
                return Err(Error::invalid(format!(
                    "{name} to prepare must be [1, L, {w}], got {s:?}"
                )));
            }
        }
        let _outer = self.weights.upload_outer(self.device)?;
        let act = |t: &Tensor| -> Result<Tensor> {
            Ok(t.f_to_device(self.device)?.f_to_kind(self.kind)?)
        };
        let (text, audio_text) = self.project_text(&act(text)?, &act(audio_text)?)?;
        let kv = if self.weights.is_offloaded() {
            Vec::new()
        } else {
            self.blocks
                .iter()
                .map(|b| b.text_kv(&text, &audio_text))
                .collect::<Result<_>>()?
        };
        Ok(PreparedText {
            text,
            audio_text,
            kv,
        })
    }

    /// Every weight of the model (as many as diffusers' parameters).
    pub fn tensors(&self) -> Vec<&Tensor> {
        let mut out = self.outer_tensors();
        for b in &self.blocks {
            b.tensors(&mut out);
        }
        out
    }

    /// Number of learned parameters (diffusers' `num_parameters()`).
    pub fn num_parameters(&self) -> u64 {
        self.tensors().iter().map(|t| t.numel() as u64).sum()
    }

    /// The weights outside the blocks.
    fn outer_tensors(&self) -> Vec<&Tensor> {
        let mut out = Vec::new();
        for l in [
            &self.proj_in,
            &self.audio_proj_in,
            &self.proj_out,
            &self.audio_proj_out,
        ] {
            super::linear_tensors(l, &mut out);
        }
        out.extend(self.keyframes_abs_pos_embedding.as_ref());
        for p in [&self.caption_projection, &self.audio_caption_projection]
            .into_iter()
            .flatten()
        {
            p.tensors(&mut out);
        }
        for a in [
            &self.time_embed,
            &self.audio_time_embed,
            &self.av_cross_attn_video_scale_shift,
            &self.av_cross_attn_audio_scale_shift,
            &self.av_cross_attn_video_a2v_gate,
            &self.av_cross_attn_audio_v2a_gate,
        ] {
            a.tensors(&mut out);
        }
        if let Some((pv, pa)) = &self.prompt_adaln {
            pv.tensors(&mut out);
            pa.tensors(&mut out);
        }
        out.push(&self.scale_shift_table);
        out.push(&self.audio_scale_shift_table);
        out
    }

    /// Runs the model on `device` while its weights stay where they were
    /// loaded (host memory) until used: with [`Offload::Model`] the caller
    /// copies them all for a while with [`Ltx2Transformer::upload`]; with
    /// [`Offload::Sequential`] each forward copies the blocks one at a time
    /// as it reaches them (and the layers around them for the forward).
    /// [`Offload::None`] keeps the model as loaded and `device` must be the
    /// weights' device.
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        if self.weights.set().is_empty() {
            // Built from a store by the caller: the weights the model lists.
            self.weights = ComponentWeights::new(WeightSet::new(self.tensors()));
        }
        let parts = (offload == Offload::Sequential).then(|| StreamParts {
            blocks: self
                .blocks
                .iter()
                .map(|b| {
                    let mut v = Vec::new();
                    b.tensors(&mut v);
                    WeightSet::new(v)
                })
                .collect(),
            outer: WeightSet::new(self.outer_tensors()),
            apart: Vec::new(),
        });
        self.weights
            .place_offload("LTX-2 transformer", offload, device, parts)?;
        self.device = device;
        Ok(())
    }

    /// Where the weights wait between uses.
    pub fn offload(&self) -> Offload {
        self.weights.offload()
    }

    /// With [`Offload::Model`]: copies every weight to the run device until
    /// the result is released. `None` for the other modes.
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// How many times a block's weights were copied to the run device since
    /// sequential offload was set (0 without it).
    pub fn block_uploads(&self) -> u64 {
        self.weights.block_uploads()
    }

    /// Video patch boundaries for a latent grid (`rope.prepare_video_coords`).
    pub fn video_coords(&self, batch: i64, grid: [i64; 3], fps: f64) -> Result<Tensor> {
        let c = &self.config;
        video_coords(
            batch,
            grid,
            c.patch_size_t,
            c.patch_size,
            c.vae_scale_factors,
            c.causal_offset,
            fps,
            self.device,
        )
    }

    /// Audio patch boundaries (`audio_rope.prepare_audio_coords`).
    pub fn audio_coords(&self, batch: i64, frames: i64) -> Result<Tensor> {
        let c = &self.config;
        audio_coords(
            batch,
            frames,
            c.audio_patch_size_t,
            c.audio_scale_factor,
            c.causal_offset,
            c.audio_hop_length,
            c.audio_sampling_rate,
            self.device,
        )
    }

    /// Checks the shapes of the inputs against the config; returns the batch.
    fn check(&self, i: &Ltx2Inputs<'_>) -> Result<i64> {
        let c = &self.config;
        let shape3 = |name: &str, t: &Tensor, ch: i64| -> Result<[i64; 3]> {
            let s = t.size();
            if s.len() != 3 || s[2] != ch {
                return Err(Error::invalid(format!(
                    "{name} must be [batch, tokens, {ch}], got {s:?}"
                )));
            }
            Ok([s[0], s[1], s[2]])
        };
        let v = shape3("video latents", i.video, c.in_channels)?;
        let b = v[0];
        let a = shape3("audio latents", i.audio, c.audio_in_channels)?;
        let (tc, atc) = self.text_widths();
        let t = shape3("video text embeddings", i.text, tc)?;
        let at = shape3("audio text embeddings", i.audio_text, atc)?;
        for (name, s) in [("audio latents", a), ("video text", t), ("audio text", at)] {
            if s[0] != b {
                return Err(Error::invalid(format!(
                    "{name} has batch {}, the video latents {b}",
                    s[0]
                )));
            }
        }
        let steps = |name: &str, ts: &Tensor, tokens: i64| -> Result<()> {
            let n = ts.numel() as i64;
            if n != b && n != b * tokens {
                return Err(Error::invalid(format!(
                    "{name} must hold {b} or {} values (per sample or per token), got {:?}",
                    b * tokens,
                    ts.size()
                )));
            }
            Ok(())
        };
        steps("timestep", i.timestep, v[1])?;
        match i.audio_timestep {
            Some(t) => steps("audio_timestep", t, a[1])?,
            None if i.timestep.numel() as i64 != b => {
                return Err(Error::invalid(
                    "per-token video timesteps need their own audio_timestep",
                ))
            }
            None => {}
        }
        for (name, s) in [("sigma", i.sigma), ("audio_sigma", i.audio_sigma)] {
            if let Some(s) = s {
                if s.numel() as i64 != b {
                    return Err(Error::invalid(format!(
                        "{name} must hold one value per batch element ({b}), got {:?}",
                        s.size()
                    )));
                }
            }
        }
        if let Some(m) = i.video_keyframes_mask {
            let s = m.size();
            if !(s == [b, v[1], 1] || s == [b, v[1]]) {
                return Err(Error::invalid(format!(
                    "video_keyframes_mask must be [{b}, {}, 1], got {s:?}",
                    v[1]
                )));
            }
        }
        if let Some(same) = i.same_as {
            let n = b as usize;
            if same.len() != n || same.iter().any(|e| *e >= n || same[*e] != *e) {
                return Err(Error::invalid(format!(
                    "same_as must name, for each of the {b} batch elements, an element that is its own copy; got {same:?}"
                )));
            }
        }
        for (name, mask) in [
            ("perturbation_mask", i.perturbation_mask),
            ("isolation_mask", i.isolation_mask),
        ] {
            if let Some(m) = mask {
                if m.numel() as i64 != b {
                    return Err(Error::invalid(format!(
                        "{name} must hold one value per batch element ({b}), got {:?}",
                        m.size()
                    )));
                }
            }
        }
        Ok(b)
    }

    /// One forward of both streams: `(video [B, S_v, out_channels], audio [B, S_a, audio_out_channels])`.
    pub fn forward(&self, i: &Ltx2Inputs<'_>) -> Result<(Tensor, Tensor)> {
        let _guard = tch::no_grad_guard();
        self.forward_with_grad(i)
    }

    /// [`Ltx2Transformer::forward`] with autograd left as the caller set it
    /// (training: [`crate::train::transformer`]); the same computation.
    pub fn forward_with_grad(&self, i: &Ltx2Inputs<'_>) -> Result<(Tensor, Tensor)> {
        let _outer = self.weights.upload_outer(self.device)?;
        let (p, x, ax) = self.prepare(i)?;
        let (x, ax) = self.run_blocks(&p, x, ax, 0, self.blocks.len())?;
        self.output(&p, &x, &ax)
    }

    /// [`Ltx2Transformer::forward`] with step caching: runs the first block,
    /// then lets `cache` compare the first block's residuals of both streams
    /// (video and audio, [`CachedStep::run_streams`]: one decision for the
    /// two) with those of the last fully computed step, and either runs the
    /// remaining blocks or adds the residuals they added then, so picture and
    /// sound are always computed or reused together. When every block runs,
    /// the result equals [`Ltx2Transformer::forward`]'s bit for bit.
    pub fn forward_cached(
        &self,
        i: &Ltx2Inputs<'_>,
        cache: CachedStep<'_>,
    ) -> Result<(Tensor, Tensor)> {
        let _guard = tch::no_grad_guard();
        let _outer = self.weights.upload_outer(self.device)?;
        let (p, x, ax) = self.prepare(i)?;
        let n = self.blocks.len();
        if n == 0 {
            return self.output(&p, &x, &ax);
        }
        let (x1, ax1) = self.run_blocks(&p, x.shallow_clone(), ax.shallow_clone(), 0, 1)?;
        let mut streams = cache.run_streams(&[x, ax], &[x1, ax1], |h| {
            let (x, ax) = self.run_blocks(&p, h[0].shallow_clone(), h[1].shallow_clone(), 1, n)?;
            Ok(vec![x, ax])
        })?;
        match (streams.pop(), streams.pop(), streams.is_empty()) {
            (Some(ax), Some(x), true) => self.output(&p, &x, &ax),
            _ => Err(Error::invalid(
                "LTX-2 transformer: the step cache returned the wrong number of streams",
            )),
        }
    }

    /// Everything before the blocks: checks, rotary tables, input
    /// projections, timestep and prompt embeddings, the text as the blocks
    /// take it; with the video and audio hidden states entering the first
    /// block.
    fn prepare<'p>(&self, i: &Ltx2Inputs<'p>) -> Result<(Prepared<'p>, Tensor, Tensor)> {
        let c = &self.config;
        let b = self.check(i)?;
        let kind = self.kind;
        let dev = self.device;
        let on = |t: &Tensor| -> Result<Tensor> { Ok(t.f_to_device(dev)?) };
        let act = |t: &Tensor| -> Result<Tensor> { Ok(t.f_to_device(dev)?.f_to_kind(kind)?) };
        let (sv, sa) = (i.video.size()[1], i.audio.size()[1]);

        let audio_timestep = i.audio_timestep.unwrap_or(i.timestep);
        let sigma = i.sigma.map(on).transpose()?;
        let audio_sigma = match i.audio_sigma {
            Some(s) => Some(on(s)?),
            None => sigma.as_ref().map(Tensor::shallow_clone),
        };

        let text_bias_v = text_bias(
            i.text_mask.map(on).transpose()?.as_ref(),
            b,
            i.text.size()[1],
            kind,
        )?;
        let text_bias_a = text_bias(
            i.audio_text_mask.map(on).transpose()?.as_ref(),
            b,
            i.audio_text.size()[1],
            kind,
        )?;
        let self_bias = match i.video_self_attention_mask {
            Some(m) => {
                if m.size() != [b, sv, sv] {
                    return Err(Error::invalid(format!(
                        "video_self_attention_mask must be [{b}, {sv}, {sv}], got {:?}",
                        m.size()
                    )));
                }
                Some(
                    act(m)?
                        .f_neg()?
                        .f_add_scalar(1.0)?
                        .f_mul_scalar(-10000.0)?
                        .f_unsqueeze(1)?,
                )
            }
            None => None,
        };

        // 1. Rotary tables.
        let vc = match i.video_coords {
            Some(t) => on(t)?,
            None => self.video_coords(b, i.video_grid, i.fps)?,
        };
        let ac = match i.audio_coords {
            Some(t) => on(t)?,
            None => self.audio_coords(b, i.audio_frames)?,
        };
        let video_rope = self.rope.tables(&vc)?;
        let audio_rope = self.audio_rope.tables(&ac)?;
        let ca_video_rope = self.cross_attn_rope.tables(&vc.f_narrow(1, 0, 1)?)?;
        let ca_audio_rope = self.cross_attn_audio_rope.tables(&ac.f_narrow(1, 0, 1)?)?;
        for (name, tables, n) in [("video", &video_rope, sv), ("audio", &audio_rope, sa)] {
            let got = tables.seq_len();
            if got != n {
                return Err(Error::invalid(format!(
                    "{name} positions cover {got} tokens but the latents have {n}"
                )));
            }
        }

        // 2. Input projections.
        let mut x = self.proj_in.forward(&act(i.video)?)?;
        let ax = self.audio_proj_in.forward(&act(i.audio)?)?;
        if let (Some(emb), Some(m)) = (&self.keyframes_abs_pos_embedding, i.video_keyframes_mask) {
            let marker = on(m)?.f_gt(0.0)?.f_to_kind(kind)?.f_reshape([b, sv, 1])?;
            x = x.f_add(&marker.f_mul(emb)?)?;
        }

        // 3. Timestep embeddings and modulations.
        let t = on(i.timestep)?;
        let at = on(audio_timestep)?;
        let (temb, embedded) = self.time_embed.forward(&t, b)?;
        let (temb_audio, audio_embedded) = self.audio_time_embed.forward(&at, b)?;
        let need =
            |what: &str| Error::invalid(format!("this LTX-2 transformer needs `sigma` for {what}"));
        let (temb_prompt, temb_prompt_audio) = match &self.prompt_adaln {
            Some((pv, pa)) => {
                let s = sigma
                    .as_ref()
                    .ok_or_else(|| need("its prompt modulation"))?;
                let s_a = audio_sigma
                    .as_ref()
                    .ok_or_else(|| need("its prompt modulation"))?;
                (Some(pv.forward(s, b)?.0), Some(pa.forward(s_a, b)?.0))
            }
            None => (None, None),
        };
        let gate_factor =
            c.cross_attn_timestep_scale_multiplier as f64 / c.timestep_scale_multiplier as f64;
        let (video_ca_t, audio_ca_t) = if i.use_cross_timestep {
            (
                audio_sigma
                    .as_ref()
                    .ok_or_else(|| need("use_cross_timestep"))?
                    .f_flatten(0, -1)?,
                sigma
                    .as_ref()
                    .ok_or_else(|| need("use_cross_timestep"))?
                    .f_flatten(0, -1)?,
            )
        } else {
            (t.f_flatten(0, -1)?, at.f_flatten(0, -1)?)
        };
        let (ca_ss, _) = self
            .av_cross_attn_video_scale_shift
            .forward(&video_ca_t, b)?;
        let (ca_gate, _) = self
            .av_cross_attn_video_a2v_gate
            .forward(&video_ca_t.f_mul_scalar(gate_factor)?, b)?;
        let (ca_audio_ss, _) = self
            .av_cross_attn_audio_scale_shift
            .forward(&audio_ca_t, b)?;
        let (ca_audio_gate, _) = self
            .av_cross_attn_audio_v2a_gate
            .forward(&audio_ca_t.f_mul_scalar(gate_factor)?, b)?;

        // 4. Text tokens.
        let prepared = match i.prepared_text {
            Some(p) if p.len() as i64 != b => {
                return Err(Error::invalid(format!(
                    "prepared_text holds {} prompts for a batch of {b}",
                    p.len()
                )))
            }
            other => other,
        };
        let (text, audio_text) = match prepared {
            Some(p) => {
                let v: Vec<&Tensor> = p.iter().map(|t| &t.text).collect();
                let a: Vec<&Tensor> = p.iter().map(|t| &t.audio_text).collect();
                (Tensor::f_cat(&v, 0)?, Tensor::f_cat(&a, 0)?)
            }
            None => self.project_text(&act(i.text)?, &act(i.audio_text)?)?,
        };

        // 5. What the blocks perturb (STG) and isolate.
        let stg = i.spatio_temporal_guidance_blocks.clone();
        let mask = if stg.is_empty() {
            None
        } else {
            Some(match i.perturbation_mask {
                Some(m) => act(m)?.f_view([b, 1, 1])?,
                None => Tensor::f_zeros([b, 1, 1], (kind, dev))?,
            })
        };
        let all_perturbed = match &mask {
            Some(m) => m.f_eq(0.0)?.f_all()?.f_int64_value(&[])? != 0,
            None => false,
        };
        let cross_modal_keep = match i.isolation_mask {
            Some(m) if !i.isolate_modalities => Some(act(m)?.f_view([b, 1, 1])?),
            _ => None,
        };
        let p = Prepared {
            text,
            audio_text,
            temb,
            temb_audio,
            ca_ss,
            ca_audio_ss,
            ca_gate,
            ca_audio_gate,
            temb_prompt,
            temb_prompt_audio,
            video_rope,
            audio_rope,
            ca_video_rope,
            ca_audio_rope,
            text_bias_v,
            text_bias_a,
            self_bias,
            isolate: i.isolate_modalities,
            cross_modal_keep,
            stg,
            mask,
            all_perturbed,
            prepared_text: prepared,
            same_as: i.same_as,
            embedded,
            audio_embedded,
        };
        Ok((p, x, ax))
    }

    /// Runs blocks `from..to` on the hidden states of the whole batch. Batch
    /// elements whose inputs repeat another's (`same_as`: STG's branch is the
    /// conditional one until its first perturbed block) run once up to the
    /// first perturbed block, then take their copy's states.
    fn run_blocks(
        &self,
        p: &Prepared<'_>,
        mut x: Tensor,
        mut ax: Tensor,
        from: usize,
        to: usize,
    ) -> Result<(Tensor, Tensor)> {
        let to = to.min(self.blocks.len());
        let dev = self.device;
        let b = x.size()[0];
        let inputs = p.block_inputs();
        // The text keys and values of block `k` for the batch elements
        // `which` (all when `None`), when prepared.
        let block_kv = |k: usize, which: Option<&[usize]>| -> Result<Option<BlockTextKv>> {
            let Some(prep) = p.prepared_text else {
                return Ok(None);
            };
            let parts: Option<Vec<&BlockTextKv>> = match which {
                Some(w) => w
                    .iter()
                    .map(|e| {
                        prep.get(*e)
                            .and_then(|t| t.kv.get(k))
                            .and_then(Option::as_ref)
                    })
                    .collect(),
                None => prep
                    .iter()
                    .map(|t| t.kv.get(k).and_then(Option::as_ref))
                    .collect(),
            };
            parts.map(|v| BlockTextKv::cat(&v)).transpose()
        };

        let first_perturbed = match &p.mask {
            Some(_) => p
                .stg
                .iter()
                .copied()
                .filter(|k| *k < self.blocks.len())
                .min(),
            None => None,
        };
        let mut start = from;
        if let (Some(same), Some(fork)) = (p.same_as, first_perturbed) {
            let unique: Vec<usize> = (0..b as usize)
                .filter(|e| same.get(*e) == Some(e))
                .collect();
            let shared_end = fork.min(to);
            if shared_end > from && unique.len() < b as usize {
                let at = |e: usize| same.get(e).and_then(|s| unique.iter().position(|u| u == s));
                let expand: Option<Vec<i64>> =
                    (0..b as usize).map(|e| at(e).map(|q| q as i64)).collect();
                let expand = expand.ok_or_else(|| {
                    Error::invalid("same_as must name elements that are their own copy")
                })?;
                let index: Vec<i64> = unique.iter().map(|u| *u as i64).collect();
                let index = Tensor::f_from_slice(&index)?.f_to_device(dev)?;
                let sel = inputs.select(&index)?;
                let sel_inputs = sel.inputs();
                let (mut rx, mut rax) =
                    (x.f_index_select(0, &index)?, ax.f_index_select(0, &index)?);
                for (k, block) in self.blocks.iter().enumerate().take(shared_end).skip(from) {
                    let _weights = self.weights.upload_block(k, self.device)?;
                    let kv = block_kv(k, Some(&unique))?;
                    let (nx, nax) =
                        block.forward(&rx, &rax, &sel_inputs, Perturbation::None, kv.as_ref())?;
                    rx = nx;
                    rax = nax;
                }
                let expand = Tensor::f_from_slice(&expand)?.f_to_device(dev)?;
                x = rx.f_index_select(0, &expand)?;
                ax = rax.f_index_select(0, &expand)?;
                start = shared_end;
            }
        }

        for (k, block) in self.blocks.iter().enumerate().take(to).skip(start) {
            let perturb = match &p.mask {
                Some(m) if p.stg.contains(&k) => {
                    if p.all_perturbed {
                        Perturbation::All
                    } else {
                        Perturbation::Mask(m)
                    }
                }
                _ => Perturbation::None,
            };
            let _weights = self.weights.upload_block(k, self.device)?;
            let kv = block_kv(k, None)?;
            let (nx, nax) = block.forward(&x, &ax, &inputs, perturb, kv.as_ref())?;
            x = nx;
            ax = nax;
        }
        Ok((x, ax))
    }

    /// The modulated output layers of both streams.
    fn output(&self, p: &Prepared<'_>, x: &Tensor, ax: &Tensor) -> Result<(Tensor, Tensor)> {
        let out = |x: &Tensor, table: &Tensor, emb: &Tensor, proj: &Linear| -> Result<Tensor> {
            let d = table.size()[1];
            let ss = emb.f_unsqueeze(2)?.f_add(&table.f_view([1, 1, 2, d])?)?;
            let shift = ss.f_select(2, 0)?;
            let scale = ss.f_select(2, 1)?;
            let h = LayerNorm::plain(d, 1e-6).forward(x)?;
            proj.forward(&h.f_mul(&scale.f_add_scalar(1.0)?)?.f_add(&shift)?)
        };
        Ok((
            out(x, &self.scale_shift_table, &p.embedded, &self.proj_out)?,
            out(
                ax,
                &self.audio_scale_shift_table,
                &p.audio_embedded,
                &self.audio_proj_out,
            )?,
        ))
    }
}

/// One forward's tensors before the blocks ([`Ltx2Transformer::prepare`]).
struct Prepared<'p> {
    text: Tensor,
    audio_text: Tensor,
    temb: Tensor,
    temb_audio: Tensor,
    ca_ss: Tensor,
    ca_audio_ss: Tensor,
    ca_gate: Tensor,
    ca_audio_gate: Tensor,
    temb_prompt: Option<Tensor>,
    temb_prompt_audio: Option<Tensor>,
    video_rope: Ltx2RopeTables,
    audio_rope: Ltx2RopeTables,
    ca_video_rope: Ltx2RopeTables,
    ca_audio_rope: Ltx2RopeTables,
    text_bias_v: Option<Tensor>,
    text_bias_a: Option<Tensor>,
    self_bias: Option<Tensor>,
    isolate: bool,
    /// Per batch element, 1 where the cross-modal attention is kept.
    cross_modal_keep: Option<Tensor>,
    stg: Vec<usize>,
    mask: Option<Tensor>,
    all_perturbed: bool,
    /// The prompts' text as the transformer uses it, one per batch element.
    prepared_text: Option<&'p [&'p PreparedText]>,
    /// Per batch element, the element whose inputs it repeats.
    same_as: Option<&'p [usize]>,
    /// The output modulation's video embedding.
    embedded: Tensor,
    /// The output modulation's audio embedding.
    audio_embedded: Tensor,
}

impl Prepared<'_> {
    /// The blocks' view of the prepared tensors.
    fn block_inputs(&self) -> BlockInputs<'_> {
        BlockInputs {
            text: &self.text,
            audio_text: &self.audio_text,
            temb: &self.temb,
            temb_audio: &self.temb_audio,
            temb_ca_scale_shift: &self.ca_ss,
            temb_ca_audio_scale_shift: &self.ca_audio_ss,
            temb_ca_gate: &self.ca_gate,
            temb_ca_audio_gate: &self.ca_audio_gate,
            temb_prompt: self.temb_prompt.as_ref(),
            temb_prompt_audio: self.temb_prompt_audio.as_ref(),
            video_rope: &self.video_rope,
            audio_rope: &self.audio_rope,
            ca_video_rope: &self.ca_video_rope,
            ca_audio_rope: &self.ca_audio_rope,
            text_bias: self.text_bias_v.as_ref(),
            audio_text_bias: self.text_bias_a.as_ref(),
            video_self_bias: self.self_bias.as_ref(),
            use_a2v: !self.isolate,
            use_v2a: !self.isolate,
            cross_modal_keep: self.cross_modal_keep.as_ref(),
        }
    }
}
