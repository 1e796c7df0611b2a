//! Wan's diffusion backbone, diffusers' `WanTransformer3DModel` (Wan 2.1 T2V /
//! I2V / FLF2V, Wan 2.2 T2V / I2V / TI2V): patchify the latent video with a
//! 3-D convolution, run the blocks with timestep modulation, text (and CLIP
//! image) cross-attention and 3-D RoPE, then project and unpatchify.
//!
//! What depends on the prompt (and image) alone — the text padding's
//! compaction, the text and image projections, every block's cross-attention
//! keys and values — is made once per generation as a [`CrossAttnKv`]
//! ([`WanTransformer::cross_attn_kv`]) and handed to every step's
//! [`WanTransformer::forward_with`] / [`WanTransformer::forward_cached`].
//!
//! Weights are read under their checkpoint names; the modules diffusers keeps
//! in f32 (`_keep_in_fp32_modules`: time embedder, modulation tables, the
//! `norm1/2/3` layers, rotary tables) stay f32 whatever dtype the rest is loaded in.

mod attention;
mod block;
mod config;
mod embed;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use tch::{Device, Kind, Tensor};

pub use config::WanTransformerConfig;

use crate::nn::modulation::shared_across_batch;
use crate::nn::offload::{ComponentWeights, Offload, StreamParts, Uploaded, WeightSet};
use crate::nn::rope::{Rope3d, RopeTables};
use crate::nn::step_cache::CachedStep;
use crate::weights::{read_config, TensorStore, WeightPath};
use crate::{Error, Result};

use attention::{multiplicity_bias, CrossKv};
use block::WanBlock;
use embed::{linear_tensors, ConditionEmbedder, Conditions};

/// Identities of loaded transformers, so that a [`CrossAttnKv`] is only used
/// with the model that made it (each expert of Wan 2.2 has its own weights).
static NEXT_MODEL_ID: AtomicU64 = AtomicU64::new(1);

/// `WanTransformer3DModel` with its weights.
#[derive(Debug)]
pub struct WanTransformer {
    cfg: WanTransformerConfig,
    kind: Kind,
    device: Device,
    rope: Rope3d,
    /// `[inner, in, pt, ph, pw]` and `[inner]`.
    patch_weight: Tensor,
    patch_bias: Tensor,
    condition_embedder: ConditionEmbedder,
    blocks: Vec<WanBlock>,
    proj_out: crate::nn::Linear,
    /// `[1, 2, inner]`, kept in f32.
    scale_shift_table: Tensor,
    /// This model's identity (see [`NEXT_MODEL_ID`]).
    id: u64,
    /// How many [`CrossAttnKv`] this model has made.
    kv_builds: AtomicU64,
    /// Every weight, and whether they wait in host memory (set by
    /// [`WanTransformer::set_offload`]).
    weights: ComponentWeights,
}

fn wan_rope(cfg: &WanTransformerConfig, device: Device) -> Result<Rope3d> {
    Rope3d::new(
        Rope3d::wan_axis_dims(cfg.attention_head_dim),
        cfg.rope_max_seq_len,
        10000.0,
        device,
    )
}

impl WanTransformer {
    /// Loads a diffusers `transformer/` folder: `config.json` and its
    /// safetensors (single or sharded), floating weights cast to `kind`
    /// (except the modules diffusers keeps in f32). Every missing or
    /// mis-shaped tensor is reported at once as [`Error::WeightMismatch`].
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let cfg: WanTransformerConfig = read_config(&dir.join("config.json"))?;
        let store = TensorStore::open(dir, "transformer", device, kind)?;
        let mut model = Self::from_store(cfg, &store.root())?;
        store.finish()?;
        // Every tensor the store handed out, to check that offload moves them all.
        model.weights = ComponentWeights::new(store.weight_set());
        Ok(model)
    }

    /// Builds the model from tensors under `root` (names as in the checkpoint).
    /// Missing tensors are recorded in the store; call
    /// [`TensorStore::finish`] afterwards to get the error naming them.
    pub fn from_store(cfg: WanTransformerConfig, root: &WeightPath) -> Result<Self> {
        cfg.validate()?;
        let inner = cfg.inner_dim();
        let [pt, ph, pw] = cfg.patch_size;
        let pe = root.pp("patch_embedding");
        let patch_weight = pe.get("weight", &[inner, cfg.in_channels, pt, ph, pw])?;
        let patch_bias = pe.get("bias", &[inner])?;
        let condition_embedder = ConditionEmbedder::load(
            &root.pp("condition_embedder"),
            inner,
            cfg.freq_dim,
            cfg.text_dim,
            cfg.image_dim,
            cfg.pos_embed_seq_len,
        )?;
        let blocks = (0..cfg.num_layers)
            .map(|i| {
                WanBlock::load(
                    &root.pp("blocks").pp(i),
                    inner,
                    cfg.ffn_dim,
                    cfg.num_attention_heads,
                    cfg.cross_attn_norm,
                    cfg.eps,
                    cfg.added_kv_proj_dim,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let out_features = cfg.out_channels() * pt * ph * pw;
        let proj_out = crate::nn::Linear::load(&root.pp("proj_out"), inner, out_features, true)?;
        let scale_shift_table = root.get_kind("scale_shift_table", &[1, 2, inner], Kind::Float)?;
        let rope = wan_rope(&cfg, root.device())?;
        Ok(Self {
            kind: root.kind(),
            device: root.device(),
            cfg,
            rope,
            patch_weight,
            patch_bias,
            condition_embedder,
            blocks,
            proj_out,
            scale_shift_table,
            id: NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed),
            kv_builds: AtomicU64::new(0),
            weights: ComponentWeights::default(),
        })
    }

    /// Runs the model on `device` while its weights stay where they were
    /// loaded (host memory) until used: with [`Offload::Model`] the caller
    /// copies them all for a while with [`WanTransformer::upload`]; with
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
            .place_offload("Wan transformer", offload, device, parts)?;
        if device != self.device {
            self.rope = wan_rope(&self.cfg, device)?;
            self.device = device;
        }
        Ok(())
    }

    /// Where the weights wait between uses.
    pub fn offload(&self) -> Offload {
        self.weights.offload()
    }

    /// With [`Offload::Model`]: copies every weight to the run device until
    /// the result is released. `None` for the other modes (weights on the
    /// device already, or copied block by block by each forward).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// How many times a block's weights were copied to the run device
    /// since sequential offload was set (0 without it).
    pub fn block_uploads(&self) -> u64 {
        self.weights.block_uploads()
    }

    /// Sequential offload: the weights outside the blocks, copied for one call.
    fn stream_outer(&self) -> Result<Option<Uploaded>> {
        self.weights.upload_outer(self.device)
    }

    /// Sequential offload: block `index`'s weights, copied while it runs.
    fn stream_block(&self, index: usize) -> Result<Option<Uploaded>> {
        self.weights.upload_block(index, self.device)
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &WanTransformerConfig {
        &self.cfg
    }

    /// The dtype of the (non-f32-kept) weights; inputs are cast to it and the output has it.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The device of the weights.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Every weight tensor of the model (no buffers such as rotary tables).
    pub fn tensors(&self) -> Vec<&Tensor> {
        let mut out = self.outer_tensors();
        for b in &self.blocks {
            b.tensors(&mut out);
        }
        out
    }

    /// The weights outside the blocks: patch embedding, condition embedder,
    /// output projection and modulation table.
    fn outer_tensors(&self) -> Vec<&Tensor> {
        let mut out = vec![&self.patch_weight, &self.patch_bias];
        self.condition_embedder.tensors(&mut out);
        linear_tensors(&self.proj_out, &mut out);
        out.push(&self.scale_shift_table);
        out
    }

    /// Number of learned parameters (as diffusers' `num_parameters()`).
    pub fn num_parameters(&self) -> u64 {
        self.tensors().iter().map(|t| t.numel() as u64).sum()
    }

    /// The 3-D rotary embedding (its per-grid tables are cached).
    pub fn rope(&self) -> &Rope3d {
        &self.rope
    }

    /// Checks the latent video and the timesteps of a forward; returns the
    /// batch and the patch grid `[F', H', W']`.
    fn check_latents(&self, x: &Tensor, timestep: &Tensor) -> Result<(i64, [i64; 3])> {
        let c = &self.cfg;
        let xs = x.size();
        if xs.len() != 5 {
            return Err(Error::invalid(format!(
                "Wan transformer: hidden_states must be [batch, channels, frames, height, width], got {xs:?}"
            )));
        }
        let b = xs[0];
        if b == 0 {
            return Err(Error::invalid("Wan transformer: empty batch"));
        }
        if xs[1] != c.in_channels {
            return Err(Error::invalid(format!(
                "Wan transformer: hidden_states has {} channels, the model takes {}",
                xs[1], c.in_channels
            )));
        }
        let mut grid = [0; 3];
        for (i, name) in ["frames", "height", "width"].iter().enumerate() {
            let (n, p) = (xs[2 + i], c.patch_size[i]);
            if n <= 0 || n % p != 0 {
                return Err(Error::invalid(format!(
                    "Wan transformer: latent {name} {n} is not a positive multiple of the patch size {p}"
                )));
            }
            grid[i] = n / p;
        }
        let seq = grid.iter().product::<i64>();
        let ts = timestep.size();
        let batch_ok = |n: i64| n == b || n == 1;
        match ts.len() {
            0 => {}
            1 if batch_ok(ts[0]) => {}
            2 if batch_ok(ts[0]) && ts[1] == seq => {}
            2 => {
                return Err(Error::invalid(format!(
                    "Wan transformer: per-token timesteps {ts:?} must be [batch, {seq}] \
                     ({seq} = latent tokens after patchify)"
                )))
            }
            _ => {
                return Err(Error::invalid(format!(
                    "Wan transformer: timestep must be [batch] or [batch, tokens], got {ts:?} for batch {b}"
                )))
            }
        }
        Ok((b, grid))
    }

    /// Checks the prompt (and image) embeddings of [`WanTransformer::cross_attn_kv`].
    fn check_context(&self, text: &Tensor, image: Option<&Tensor>) -> Result<()> {
        let c = &self.cfg;
        let tx = text.size();
        if tx.len() != 3 || tx[0] == 0 || tx[2] != c.text_dim || tx[1] == 0 {
            return Err(Error::invalid(format!(
                "Wan transformer: encoder_hidden_states must be [batch, tokens, {}], got {tx:?}",
                c.text_dim
            )));
        }
        let b = tx[0];
        if let Some(img) = image {
            let Some(image_dim) = c.image_dim else {
                return Err(Error::invalid(
                    "Wan transformer: image embeddings were given but this model takes none \
                     (config `image_dim` is null)",
                ));
            };
            let is = img.size();
            let imgs_per_sample = if c.pos_embed_seq_len.is_some() { 2 } else { 1 };
            if is.len() != 3 || is[0] != b * imgs_per_sample || is[2] != image_dim || is[1] == 0 {
                return Err(Error::invalid(format!(
                    "Wan transformer: encoder_hidden_states_image must be [{}, tokens, {image_dim}], got {is:?}",
                    b * imgs_per_sample
                )));
            }
            if let Some(p) = c.pos_embed_seq_len {
                if 2 * is[1] != p {
                    return Err(Error::invalid(format!(
                        "Wan transformer: two images of {} tokens each do not match the position \
                         embedding of {p} tokens",
                        is[1]
                    )));
                }
            }
            if let Some(a) = c.added_kv_proj_dim {
                if a != c.inner_dim() {
                    return Err(Error::Unsupported(format!(
                        "Wan transformer: added_kv_proj_dim {a} differs from the model width {} \
                         the image tokens are projected to",
                        c.inner_dim()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Checks a forward's inputs; returns the batch and the patch grid.
    fn check_inputs(
        &self,
        x: &Tensor,
        timestep: &Tensor,
        kv: &CrossAttnKv,
    ) -> Result<(i64, [i64; 3])> {
        let (b, grid) = self.check_latents(x, timestep)?;
        if kv.model != self.id {
            return Err(Error::invalid(
                "Wan transformer: the cross-attention keys and values were made by another \
                 transformer (each expert makes its own)",
            ));
        }
        if kv.batch != b {
            return Err(Error::invalid(format!(
                "Wan transformer: encoder_hidden_states must be [{b}, tokens, {}]: the \
                 cross-attention keys and values were made for a batch of {}",
                self.cfg.text_dim, kv.batch
            )));
        }
        Ok((b, grid))
    }

    /// Makes what every forward of a generation takes from the prompt (and
    /// image) embeddings alone: the text `[B, L, text_dim]` is cut to its
    /// real tokens (`compact_text_padding`, float32 only), projected by the
    /// condition embedder (the image tokens `[B, S, image_dim]`, or
    /// `[2B, S, image_dim]` for FLF2V, by its image embedder), and every
    /// block's cross-attention keys and values are made from the result.
    ///
    /// Inputs are moved to the model's device and dtype. The result holds,
    /// per block, keys and values `2 × [B, L', dim]` (`L'` the compacted text
    /// length, plus the image tokens for image-conditioned models) in the
    /// model's dtype: see [`CrossAttnKv::bytes`].
    pub fn cross_attn_kv(
        &self,
        encoder_hidden_states: &Tensor,
        encoder_hidden_states_image: Option<&Tensor>,
    ) -> Result<CrossAttnKv> {
        let _guard = tch::no_grad_guard();
        self.check_context(encoder_hidden_states, encoder_hidden_states_image)?;
        let _outer = self.stream_outer()?;
        let to_model = |t: &Tensor| -> Result<Tensor> {
            Ok(t.f_to_device(self.device)?.f_to_kind(self.kind)?)
        };
        let (text, text_pad) = compact_text_padding(&to_model(encoder_hidden_states)?)?;
        let text = self.condition_embedder.embed_text(&text)?;
        let image = match encoder_hidden_states_image {
            Some(i) => Some(self.condition_embedder.embed_image(&to_model(i)?)?),
            None => None,
        };
        let blocks = self
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let _weights = self.stream_block(i)?;
                b.cross_kv(&text, image.as_ref())
            })
            .collect::<Result<Vec<_>>>()?;
        // Every block attends to as many keys; the bias is shared.
        let text_bias = match (text_pad, blocks.first()) {
            (Some(n), Some(kv)) => {
                let keys = kv.keys();
                Some(multiplicity_bias(keys.size()[2], n, keys)?)
            }
            _ => None,
        };
        self.kv_builds.fetch_add(1, Ordering::Relaxed);
        Ok(CrossAttnKv {
            model: self.id,
            batch: encoder_hidden_states.size()[0],
            text_pad,
            text_bias,
            blocks,
        })
    }

    /// How many times this model has made a [`CrossAttnKv`] (run its text
    /// projection and every block's cross-attention key and value
    /// projections) since it was loaded: once per prompt batch of a
    /// generation in the pipeline, once per call of [`WanTransformer::forward`].
    pub fn cross_attn_kv_builds(&self) -> u64 {
        self.kv_builds.load(Ordering::Relaxed)
    }

    /// One model call: predicts `[B, out_channels, F, H, W]` from the latent
    /// video `hidden_states` `[B, in_channels, F, H, W]`, the timestep `[B]`
    /// (or `[B, F'·H'·W']` per latent token, Wan 2.2 TI2V; a batch of 1
    /// broadcasts), the text embeddings `[B, L, text_dim]` and, for
    /// image-conditioned models, CLIP image tokens `[B, S, image_dim]`
    /// (`[2B, S, image_dim]` with two images per sample for FLF2V).
    ///
    /// Inputs are moved to the model's device and dtype. diffusers splits
    /// image from text tokens by assuming 512 text tokens; here they stay
    /// apart, which agrees with it for the 512-token prompts the pipelines use.
    ///
    /// Makes the cross-attention keys and values on every call: a loop over
    /// steps makes them once with [`WanTransformer::cross_attn_kv`] and calls
    /// [`WanTransformer::forward_with`], which gives the same result bit for bit.
    pub fn forward(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        encoder_hidden_states: &Tensor,
        encoder_hidden_states_image: Option<&Tensor>,
    ) -> Result<Tensor> {
        // The latents are checked first, as before the keys and values were split off.
        self.check_latents(hidden_states, timestep)?;
        let kv = self.cross_attn_kv(encoder_hidden_states, encoder_hidden_states_image)?;
        self.forward_with(hidden_states, timestep, &kv)
    }

    /// [`WanTransformer::forward`] with the cross-attention keys and values
    /// `kv` made beforehand by this model's [`WanTransformer::cross_attn_kv`]
    /// (for the same batch as `hidden_states`).
    pub fn forward_with(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        kv: &CrossAttnKv,
    ) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let _outer = self.stream_outer()?;
        let head = self.head(hidden_states, timestep, kv)?;
        let x = self.run_blocks(&head, 0, head.x.shallow_clone())?;
        self.tail(&head, &x)
    }

    /// [`WanTransformer::forward_with`] with step caching: runs the first
    /// block, then lets `cache` either run the remaining blocks (and remember
    /// their residual) or add the residual it remembers from an earlier step.
    /// When every block runs, the result equals
    /// [`WanTransformer::forward_with`]'s bit for bit.
    pub fn forward_cached(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        kv: &CrossAttnKv,
        cache: CachedStep<'_>,
    ) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let _outer = self.stream_outer()?;
        let head = self.head(hidden_states, timestep, kv)?;
        let x = match self.blocks.split_first() {
            Some((first, _)) => {
                let after = self.run_block(first, 0, &head, &head.x)?;
                cache.run(&head.x, &after, |h| {
                    self.run_blocks(&head, 1, h.shallow_clone())
                })?
            }
            None => head.x.shallow_clone(),
        };
        self.tail(&head, &x)
    }

    /// Checks the inputs, patchifies the video and embeds the timesteps.
    fn head<'k>(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        kv: &'k CrossAttnKv,
    ) -> Result<Head<'k>> {
        let (b, grid) = self.check_inputs(hidden_states, timestep, kv)?;
        let kind = self.kind;
        let x = hidden_states.f_to_device(self.device)?.f_to_kind(kind)?;
        let timestep = timestep.f_to_device(self.device)?;
        let [pt, ph, pw] = self.cfg.patch_size;

        let rope = self.rope.tables(grid)?;

        // Patchify: [B, C, F, H, W] → [B, F'·H'·W', inner].
        let x = x
            .f_conv3d(
                &self.patch_weight,
                Some(&self.patch_bias),
                [pt, ph, pw],
                [0, 0, 0],
                [1, 1, 1],
                1,
            )?
            .f_flatten(2, -1)?
            .f_transpose(1, 2)?
            .f_contiguous()?;

        let (flat_t, ts_seq) = match timestep.dim() {
            0 => (timestep.f_reshape([1])?, None),
            1 => (timestep, None),
            _ => {
                let s = timestep.size()[1];
                (timestep.f_flatten(0, -1)?, Some(s))
            }
        };
        let cond = self.condition_embedder.forward(&flat_t, ts_seq, kind)?;
        let timestep_proj = match ts_seq {
            Some(_) => cond.timestep_proj.f_unflatten(2, [6, -1])?,
            // One timestep for the batch (guidance's two branches): every block
            // then modulates with one fused norm. Checked once per forward.
            None => shared_across_batch(&cond.timestep_proj.f_unflatten(1, [6, -1])?)?,
        };
        Ok(Head {
            kv,
            x,
            batch: b,
            grid,
            rope,
            cond,
            timestep_proj,
        })
    }

    /// Runs block `index` on `x` with the conditioning of `head`.
    fn run_block(&self, block: &WanBlock, index: usize, head: &Head, x: &Tensor) -> Result<Tensor> {
        let kv = head.kv.blocks.get(index).ok_or_else(|| {
            Error::invalid("Wan transformer: the cross-attention keys and values miss a block")
        })?;
        let _weights = self.stream_block(index)?;
        block.forward(
            x,
            kv,
            head.kv.text_bias.as_ref(),
            &head.timestep_proj,
            &head.rope,
        )
    }

    /// Runs blocks `from..` on `x`.
    fn run_blocks(&self, head: &Head, from: usize, x: Tensor) -> Result<Tensor> {
        let mut x = x;
        for (i, block) in self.blocks.iter().enumerate().skip(from) {
            x = self.run_block(block, i, head, &x)?;
        }
        Ok(x)
    }

    /// Output norm and modulation, projection, unpatchify.
    fn tail(&self, head: &Head, x: &Tensor) -> Result<Tensor> {
        let kind = self.kind;
        let b = head.batch;
        let [pt, ph, pw] = self.cfg.patch_size;
        let [f, h, w] = head.grid;
        // Output modulation, in f32.
        let temb = &head.cond.temb;
        let (shift, scale) = if temb.dim() == 3 {
            let s = self
                .scale_shift_table
                .f_unsqueeze(0)?
                .f_add(&temb.f_unsqueeze(2)?)?;
            let parts = s.f_chunk(2, 2)?;
            (parts[0].f_squeeze_dim(2)?, parts[1].f_squeeze_dim(2)?)
        } else {
            let s = self.scale_shift_table.f_add(&temb.f_unsqueeze(1)?)?;
            let parts = s.f_chunk(2, 1)?;
            (parts[0].shallow_clone(), parts[1].shallow_clone())
        };
        let inner = self.cfg.inner_dim();
        let x = x
            .f_to_kind(Kind::Float)?
            .f_layer_norm([inner], None::<Tensor>, None::<Tensor>, self.cfg.eps, true)?
            .f_mul(&scale.f_add_scalar(1.0)?)?
            .f_add(&shift)?
            .f_to_kind(kind)?;
        let x = self.proj_out.forward(&x)?;

        // Unpatchify: [B, F'H'W', pt·ph·pw·C] → [B, C, F, H, W].
        let x = x
            .f_reshape([b, f, h, w, pt, ph, pw, -1])?
            .f_permute([0, 7, 1, 4, 2, 5, 3, 6])?
            .f_reshape([b, -1, f * pt, h * ph, w * pw])?;
        Ok(x)
    }
}

/// What the blocks of one forward share: the patchified tokens entering the
/// first block, the embedded timesteps, and the cross-attention keys and values.
struct Head<'k> {
    kv: &'k CrossAttnKv,
    /// `[B, F'·H'·W', inner]`.
    x: Tensor,
    batch: i64,
    grid: [i64; 3],
    rope: RopeTables,
    cond: Conditions,
    timestep_proj: Tensor,
}

/// Every block's cross-attention keys and values for one batch of prompt
/// (and image) embeddings, made once per generation by
/// [`WanTransformer::cross_attn_kv`] and used by every step's forward of the
/// model that made it.
///
/// Memory: per block, keys and values `[B, L', dim]` each in the model's
/// dtype, `L'` the text tokens after `compact_text_padding` (the longest
/// prompt's tokens plus one in float32; all 512 padded tokens in half
/// precision, which is not compacted) plus the image tokens of
/// image-conditioned models. At Wan 2.1 14B in bf16 (40 blocks, dim 5120) with
/// batched guidance (B = 2) that is 40 × 2 × 2 × 512 × 5120 × 2 bytes = 800 MiB;
/// at 1.3B (30 blocks, dim 1536) 180 MiB. The memory estimate counts it
/// (`models/wan/memory.rs`).
#[derive(Debug)]
pub struct CrossAttnKv {
    /// The identity of the model that made it.
    model: u64,
    batch: i64,
    /// The last text key stands for this many zero tokens (see [`compact_text_padding`]).
    text_pad: Option<i64>,
    /// `ln(text_pad)` on the last text key, `[1, 1, 1, keys]`.
    text_bias: Option<Tensor>,
    /// One per block, in order.
    blocks: Vec<CrossKv>,
}

impl CrossAttnKv {
    /// The batch of prompts it was made for.
    pub fn batch(&self) -> i64 {
        self.batch
    }

    /// Keys each block's text attention attends to (the compacted text
    /// tokens, after the image tokens when a model without added projections
    /// joins them).
    pub fn keys(&self) -> i64 {
        self.blocks
            .first()
            .and_then(|b| b.keys().size().get(2).copied())
            .unwrap_or(0)
    }

    /// The number of zero padding tokens the last text key stands for, when
    /// the padding was compacted.
    pub fn text_padding(&self) -> Option<i64> {
        self.text_pad
    }

    /// Bytes held: every block's keys and values (and the padding bias).
    pub fn bytes(&self) -> u64 {
        let bias = self
            .text_bias
            .as_ref()
            .map(|t| t.numel() as u64 * t.kind().elt_size_in_bytes() as u64)
            .unwrap_or(0);
        self.blocks.iter().map(CrossKv::bytes).sum::<u64>() + bias
    }
}

/// Drops the trailing all-zero text tokens but one, in float32.
///
/// `WanPipeline` pads every prompt's embeddings with zero vectors to 512
/// tokens, and every zero token becomes the same key and value in each
/// cross-attention. Attending to `n` identical keys equals attending to one of
/// them with `ln(n)` added to its logit, so the text is cut to the longest
/// prompt's tokens plus one zero token that stands for all the padding
/// (returned as `Some(n)`). The result equals the full attention up to float
/// rounding and saves most of the cross-attention's work for short prompts.
/// Half-precision inputs are left whole (`ln(n)` would be rounded in the mask).
pub(crate) fn compact_text_padding(text: &Tensor) -> Result<(Tensor, Option<i64>)> {
    let s = text.size();
    if text.kind() != Kind::Float || s.len() != 3 || s[1] < 2 {
        return Ok((text.shallow_clone(), None));
    }
    let len = s[1];
    // 1 + index of the last token that is not all zeros, over the whole batch.
    let nonzero = text.f_ne(0.0)?.f_any_dim(2, false)?;
    let positions = Tensor::f_arange_start(1, len + 1, (Kind::Int64, text.device()))?;
    let used = nonzero
        .f_to_kind(Kind::Int64)?
        .f_mul(&positions)?
        .f_max()?
        .int64_value(&[]);
    let pad = len - used;
    if pad < 2 {
        return Ok((text.shallow_clone(), None));
    }
    Ok((text.f_narrow(1, 0, used + 1)?, Some(pad)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zero_tokens_are_compacted_to_one() {
        let opts = (Kind::Float, Device::Cpu);
        let text = Tensor::zeros([2, 10, 4], opts);
        let _ = text.narrow(1, 0, 3).get(0).fill_(1.0);
        let _ = text.narrow(1, 0, 5).get(1).fill_(2.0);
        let (short, pad) = compact_text_padding(&text).unwrap();
        assert_eq!(short.size(), vec![2, 6, 4]);
        assert_eq!(pad, Some(5));
        // No trailing padding, or half precision: left whole.
        let full = Tensor::ones([1, 10, 4], opts);
        assert_eq!(compact_text_padding(&full).unwrap().1, None);
        let half = text.to_kind(Kind::BFloat16);
        assert_eq!(compact_text_padding(&half).unwrap().1, None);
        // One zero token at the end is not worth a mask.
        let _ = text.narrow(1, 0, 9).get(1).fill_(2.0);
        assert_eq!(compact_text_padding(&text).unwrap().1, None);
    }
}
