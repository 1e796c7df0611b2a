//! UMT5 encoder (transformers' `UMT5EncoderModel`) and Wan's prompt encoding
//! (diffusers' `WanPipeline._get_t5_prompt_embeds`).
//!
//! UMT5 is T5 v1.1 with one relative-position bias table per layer: RMS layer
//! norms without mean subtraction (variance in f32), unscaled dot-product
//! attention with the bucketed relative position bias added to the logits, a
//! gated-GELU (`gelu_new`) or plain feed-forward, pre-norm residual blocks and
//! a final norm. Weights are read under transformers' names
//! (`encoder.block.{i}.layer.0.SelfAttention.q.weight`, …), so a downloaded
//! `text_encoder/` folder loads unchanged.

use std::path::Path;

use serde::Deserialize;
use tch::{Kind, Tensor};

use crate::nn::offload::{ComponentWeights, Offload, StreamParts, WeightSet};
use crate::nn::{Linear, Uploaded};
use crate::text::clean::prompt_clean;
use crate::text::tokenizer::Tokenizer;
use crate::weights::{read_config, ModelFolder, TensorStore, WeightPath};
use crate::{Device, Dtype, Error, Result};

/// The `config.json` of a UMT5 (or T5 v1.1) encoder, with transformers' field
/// names and defaults (`UMT5Config`).
#[derive(Debug, Clone, Deserialize)]
pub struct Umt5Config {
    /// Rows of the token embedding.
    #[serde(default = "default_vocab_size")]
    pub vocab_size: i64,
    /// Hidden size.
    #[serde(default = "default_d_model")]
    pub d_model: i64,
    /// Size of one attention head.
    #[serde(default = "default_d_kv")]
    pub d_kv: i64,
    /// Inner size of the feed-forward.
    #[serde(default = "default_d_ff")]
    pub d_ff: i64,
    /// Number of encoder blocks.
    #[serde(default = "default_num_layers")]
    pub num_layers: i64,
    /// Attention heads.
    #[serde(default = "default_num_heads")]
    pub num_heads: i64,
    /// Buckets of the relative position bias.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: i64,
    /// Distance beyond which relative positions share a bucket.
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: i64,
    /// Epsilon of the RMS norms.
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    /// `"gated-gelu"`, `"relu"`, `"gated-silu"`, …: `[gated-]ACT`.
    #[serde(default = "default_ff_proj")]
    pub feed_forward_proj: String,
    /// The model type (`umt5`, `t5`), informative.
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_vocab_size() -> i64 {
    250112
}
fn default_d_model() -> i64 {
    512
}
fn default_d_kv() -> i64 {
    64
}
fn default_d_ff() -> i64 {
    1024
}
fn default_num_layers() -> i64 {
    8
}
fn default_num_heads() -> i64 {
    6
}
fn default_buckets() -> i64 {
    32
}
fn default_max_distance() -> i64 {
    128
}
fn default_eps() -> f64 {
    1e-6
}
fn default_ff_proj() -> String {
    "gated-gelu".into()
}

/// The activation of the feed-forward, by transformers' `ACT2FN` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `relu`.
    Relu,
    /// `gelu` (exact, erf).
    Gelu,
    /// `gelu_new`: `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`, written as transformers does.
    GeluNew,
    /// `gelu_pytorch_tanh`: torch's tanh-approximated GELU kernel.
    GeluPytorchTanh,
    /// `silu` / `swish`.
    Silu,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => x.f_relu()?,
            Activation::Gelu => x.f_gelu("none")?,
            Activation::GeluPytorchTanh => x.f_gelu("tanh")?,
            Activation::Silu => x.f_silu()?,
            Activation::GeluNew => {
                let inner = x
                    .f_add(&x.f_pow_tensor_scalar(3.0)?.f_mul_scalar(0.044715)?)?
                    .f_mul_scalar((2.0f64 / std::f64::consts::PI).sqrt())?;
                x.f_mul_scalar(0.5)?
                    .f_mul(&inner.f_tanh()?.f_add_scalar(1.0)?)?
            }
        })
    }
}

impl Umt5Config {
    /// Reads `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        read_config(path)
    }

    /// The feed-forward's activation and whether it is gated, as transformers
    /// derives them from `feed_forward_proj` (`"gated-gelu"` means `gelu_new`).
    pub fn activation(&self) -> Result<(Activation, bool)> {
        let parts: Vec<&str> = self.feed_forward_proj.split('-').collect();
        let (gated, name) = match parts.as_slice() {
            [act] => (false, *act),
            ["gated", act] => (true, *act),
            _ => {
                return Err(Error::invalid(format!(
                    "feed_forward_proj `{}` is not `ACT` or `gated-ACT`",
                    self.feed_forward_proj
                )))
            }
        };
        let name = if self.feed_forward_proj == "gated-gelu" {
            "gelu_new"
        } else {
            name
        };
        let act = match name {
            "relu" => Activation::Relu,
            "gelu" => Activation::Gelu,
            "gelu_new" => Activation::GeluNew,
            "gelu_pytorch_tanh" => Activation::GeluPytorchTanh,
            "silu" | "swish" => Activation::Silu,
            other => {
                return Err(Error::Unsupported(format!(
                    "UMT5 feed-forward activation `{other}`"
                )))
            }
        };
        Ok((act, gated))
    }

    fn check(&self) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("d_kv", self.d_kv),
            ("d_ff", self.d_ff),
            ("num_heads", self.num_heads),
            (
                "relative_attention_num_buckets",
                self.relative_attention_num_buckets,
            ),
            (
                "relative_attention_max_distance",
                self.relative_attention_max_distance,
            ),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return Err(Error::invalid(format!(
                    "UMT5 config: `{name}` must be positive, got {v}"
                )));
            }
        }
        if self.num_layers < 0 {
            return Err(Error::invalid("UMT5 config: `num_layers` is negative"));
        }
        if self.relative_attention_num_buckets < 4 {
            return Err(Error::invalid(
                "UMT5 config: `relative_attention_num_buckets` must be at least 4",
            ));
        }
        Ok(())
    }
}

/// T5's layer norm: RMS over the last dimension (variance in f32), cast to the
/// weight's dtype when that is half precision, then scaled.
struct T5LayerNorm {
    weight: Tensor,
    eps: f64,
}

impl T5LayerNorm {
    fn load(p: &WeightPath, dim: i64, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: p.get("weight", &[dim])?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let var = x
            .f_to_kind(Kind::Float)?
            .f_pow_tensor_scalar(2)?
            .f_mean_dim(-1, true, Kind::Float)?;
        let mut y = x.f_mul(&var.f_add_scalar(self.eps)?.f_rsqrt()?)?;
        let wk = self.weight.kind();
        if wk == Kind::Half || wk == Kind::BFloat16 {
            y = y.f_to_kind(wk)?;
        }
        Ok(self.weight.f_mul(&y)?)
    }
}

enum FeedForward {
    Gated { wi_0: Linear, wi_1: Linear },
    Plain { wi: Linear },
}

struct Block {
    attn_norm: T5LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// `[num_buckets, num_heads]`.
    relative_bias: Tensor,
    ff_norm: T5LayerNorm,
    ff: FeedForward,
    /// Kept in f32 when the model runs in f16 (transformers' `_keep_in_fp32_modules`).
    wo: Linear,
}

impl Block {
    /// Every weight of the block.
    fn tensors(&self) -> Vec<&Tensor> {
        let mut out = vec![
            &self.attn_norm.weight,
            &self.relative_bias,
            &self.ff_norm.weight,
        ];
        let linears: Vec<&Linear> = match &self.ff {
            FeedForward::Gated { wi_0, wi_1 } => vec![wi_0, wi_1],
            FeedForward::Plain { wi } => vec![wi],
        };
        for l in [&self.q, &self.k, &self.v, &self.o, &self.wo]
            .into_iter()
            .chain(linears)
        {
            out.push(&l.weight);
            out.extend(l.bias.as_ref());
        }
        out
    }
}

/// transformers' `UMT5EncoderModel`: token ids and mask in, `last_hidden_state` out.
pub struct Umt5Encoder {
    config: Umt5Config,
    act: Activation,
    embed: Tensor,
    blocks: Vec<Block>,
    final_norm: T5LayerNorm,
    device: tch::Device,
    kind: Kind,
    /// Every weight, and whether they wait in host memory ([`Umt5Encoder::set_offload`]).
    weights: ComponentWeights,
}

impl std::fmt::Debug for Umt5Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Umt5Encoder")
            .field("config", &self.config)
            .field("device", &self.device)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Umt5Encoder {
    /// Loads `dir/config.json` and the safetensors weights of `dir` (single or
    /// sharded) onto `device`, floating weights cast to `dtype`. The token
    /// embedding is read from `shared.weight` or, when absent,
    /// `encoder.embed_tokens.weight` (the two are tied).
    pub fn load(dir: &Path, device: Device, dtype: Dtype) -> Result<Self> {
        device.check()?;
        let config = Umt5Config::load(&dir.join("config.json"))?;
        let store = TensorStore::open(dir, "text_encoder", device.to_tch(), dtype.to_kind())?;
        Self::from_store(config, &store)
    }

    /// Builds the encoder from `config` and an open store (every problem with the
    /// weights reported at once by [`TensorStore::finish`]).
    pub fn from_store(config: Umt5Config, store: &TensorStore) -> Result<Self> {
        config.check()?;
        let (act, gated) = config.activation()?;
        let kind = store.kind();
        let root = store.root();
        let (d, inner, ff) = (config.d_model, config.num_heads * config.d_kv, config.d_ff);
        let embed_name = if root.contains("shared.weight") {
            "shared.weight"
        } else {
            "encoder.embed_tokens.weight"
        };
        let embed = root.get(embed_name, &[config.vocab_size, d])?;
        let enc = root.pp("encoder");
        let eps = config.layer_norm_epsilon;
        let mut blocks = Vec::with_capacity(config.num_layers as usize);
        for i in 0..config.num_layers {
            let layer = enc.pp("block").pp(i).pp("layer");
            let attn = layer.pp(0).pp("SelfAttention");
            let dense = layer.pp(1).pp("DenseReluDense");
            let ff_kind = if gated {
                FeedForward::Gated {
                    wi_0: Linear::load(&dense.pp("wi_0"), d, ff, false)?,
                    wi_1: Linear::load(&dense.pp("wi_1"), d, ff, false)?,
                }
            } else {
                FeedForward::Plain {
                    wi: Linear::load(&dense.pp("wi"), d, ff, false)?,
                }
            };
            let wo_path = dense.pp("wo");
            let wo = if kind == Kind::Half {
                Linear {
                    weight: wo_path.get_kind("weight", &[d, ff], Kind::Float)?,
                    bias: None,
                }
            } else {
                Linear::load(&wo_path, ff, d, false)?
            };
            blocks.push(Block {
                attn_norm: T5LayerNorm::load(&layer.pp(0).pp("layer_norm"), d, eps)?,
                q: Linear::load(&attn.pp("q"), d, inner, false)?,
                k: Linear::load(&attn.pp("k"), d, inner, false)?,
                v: Linear::load(&attn.pp("v"), d, inner, false)?,
                o: Linear::load(&attn.pp("o"), inner, d, false)?,
                relative_bias: attn.get(
                    "relative_attention_bias.weight",
                    &[config.relative_attention_num_buckets, config.num_heads],
                )?,
                ff_norm: T5LayerNorm::load(&layer.pp(1).pp("layer_norm"), d, eps)?,
                ff: ff_kind,
                wo,
            });
        }
        let final_norm = T5LayerNorm::load(&enc.pp("final_layer_norm"), d, eps)?;
        store.finish()?;
        Ok(Self {
            config,
            act,
            embed,
            blocks,
            final_norm,
            device: store.device(),
            kind,
            weights: ComponentWeights::new(store.weight_set()),
        })
    }

    /// Runs on `device` with the weights where `offload` says: on `device`
    /// ([`Offload::None`]: they must be there), in host memory copied as a
    /// whole by [`Umt5Encoder::upload`] ([`Offload::Model`]), or in host
    /// memory with each block copied as the forward reaches it
    /// ([`Offload::Sequential`]; the token embedding is then looked up in
    /// host memory and only the looked-up rows are copied).
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        let dev = device.to_tch();
        // Streamed: the final norm is copied for each call; the token
        // embedding stays in host memory, where the prompt's rows are looked up.
        let parts = (offload == Offload::Sequential).then(|| StreamParts {
            blocks: self
                .blocks
                .iter()
                .map(|b| WeightSet::new(b.tensors()))
                .collect(),
            outer: WeightSet::new([&self.final_norm.weight]),
            apart: vec![WeightSet::new([&self.embed])],
        });
        self.weights.place_offload("UMT5", offload, dev, parts)?;
        self.device = dev;
        Ok(())
    }

    /// With model offload: copies every weight to the run device until the
    /// result is released (`None` otherwise: on the device already, or
    /// streamed block by block).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// How many times a block's weights were copied to the run device
    /// since sequential offload was set (0 without it).
    pub fn block_uploads(&self) -> u64 {
        self.weights.block_uploads()
    }

    /// The configuration.
    pub fn config(&self) -> &Umt5Config {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        match self.device {
            tch::Device::Cuda(n) => Device::Cuda(n),
            _ => Device::Cpu,
        }
    }

    /// Parks the weights in host memory (one copy back, then the device
    /// copies are freed): from then on they are copied to the run device
    /// only while used ([`Umt5Encoder::upload`]), as under model offload,
    /// and giving them back copies nothing. The pipeline does this after
    /// encoding with `offload_text_encoder` on a GPU. Nothing to do when the
    /// weights wait in host memory already.
    pub fn park(&mut self) -> Result<()> {
        if self.weights.is_offloaded() {
            return Ok(());
        }
        let run = self.device();
        self.weights.set().move_to(tch::Device::Cpu)?;
        self.set_offload(Offload::Model, run)
    }

    /// Undoes [`Umt5Encoder::park`]: the weights move to the run device for
    /// good (nothing to do when they are not parked). Call it with no copy
    /// from [`Umt5Encoder::upload`] outstanding.
    pub fn unpark(&mut self) -> Result<()> {
        if !self.weights.is_offloaded() || self.weights.is_streamed() {
            return Ok(());
        }
        self.weights.set().move_to(self.device)?;
        self.set_offload(Offload::None, self.device())
    }

    /// Whether the weights wait in host memory between uses (parked or offloaded).
    pub fn is_offloaded(&self) -> bool {
        self.weights.is_offloaded()
    }

    /// Number of parameters (the tied embedding counted once).
    pub fn num_parameters(&self) -> i64 {
        let mut n = self.embed.numel() as i64 + self.final_norm.weight.numel() as i64;
        for b in &self.blocks {
            let mut tensors = vec![
                &b.attn_norm.weight,
                &b.q.weight,
                &b.k.weight,
                &b.v.weight,
                &b.o.weight,
                &b.relative_bias,
                &b.ff_norm.weight,
                &b.wo.weight,
            ];
            match &b.ff {
                FeedForward::Gated { wi_0, wi_1 } => tensors.extend([&wi_0.weight, &wi_1.weight]),
                FeedForward::Plain { wi } => tensors.push(&wi.weight),
            }
            n += tensors.iter().map(|t| t.numel() as i64).sum::<i64>();
        }
        n
    }

    /// T5's bucket of each relative position `key − query` (bidirectional), `[q, k]` i64.
    fn position_buckets(&self, len: i64) -> Result<Tensor> {
        let opts = (Kind::Int64, self.device);
        let context = Tensor::f_arange(len, opts)?.f_unsqueeze(1)?;
        let memory = Tensor::f_arange(len, opts)?.f_unsqueeze(0)?;
        let relative = memory.f_sub(&context)?;
        let num_buckets = self.config.relative_attention_num_buckets / 2;
        let max_distance = self.config.relative_attention_max_distance;
        let mut buckets = relative
            .f_gt(0)?
            .f_to_kind(Kind::Int64)?
            .f_mul_scalar(num_buckets)?;
        let relative = relative.f_abs()?;
        let max_exact = num_buckets / 2;
        let is_small = relative.f_lt(max_exact)?;
        let log_ratio = relative
            .f_to_kind(Kind::Float)?
            .f_div_scalar(max_exact as f64)?
            .f_log()?
            .f_div_scalar((max_distance as f64 / max_exact as f64).ln())?
            .f_mul_scalar(num_buckets - max_exact)?;
        let large = log_ratio
            .f_to_kind(Kind::Int64)?
            .f_add_scalar(max_exact)?
            .f_clamp_max(num_buckets - 1)?;
        buckets = buckets.f_add(&relative.f_where_self(&is_small, &large)?)?;
        Ok(buckets)
    }

    /// `last_hidden_state` `[B, S, d_model]` of token `ids` `[B, S]` (i64) with
    /// attention `mask` `[B, S]` (non-zero = attend), in the model's dtype.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let size = ids.size();
        if size.len() != 2 || mask.size() != size {
            return Err(Error::invalid(format!(
                "UMT5 expects ids and mask of the same shape [batch, seq], got {:?} and {:?}",
                size,
                mask.size()
            )));
        }
        let (b, s) = (size[0], size[1]);
        if b == 0 || s == 0 {
            return Err(Error::invalid("UMT5: empty batch or sequence"));
        }
        let ids = ids.f_to_kind(Kind::Int64)?.f_to_device(self.device)?;
        let lo = ids.f_min()?.int64_value(&[]);
        let hi = ids.f_max()?.int64_value(&[]);
        if lo < 0 || hi >= self.config.vocab_size {
            return Err(Error::invalid(format!(
                "token id out of range [0, {}): found {lo}..={hi}",
                self.config.vocab_size
            )));
        }
        let keep = mask
            .f_to_device(self.device)?
            .f_ne(0)?
            .f_view([b, 1, 1, s])?;
        let buckets = self.position_buckets(s)?.f_flatten(0, -1)?;
        let (h, dk) = (self.config.num_heads, self.config.d_kv);

        // Streamed, the embedding table stays in host memory: look the rows up
        // there and copy only them.
        let mut x = if !self.weights.is_streamed() {
            Tensor::f_embedding(&self.embed, &ids, -1, false, false)?
        } else {
            let host = ids.f_to_device(self.embed.device())?;
            Tensor::f_embedding(&self.embed, &host, -1, false, false)?.f_to_device_(
                self.device,
                self.kind,
                false,
                false,
            )?
        };
        for (i, block) in self.blocks.iter().enumerate() {
            let _weights = self.weights.upload_block(i, self.device)?;
            // Self-attention with this layer's relative position bias.
            let normed = block.attn_norm.forward(&x)?;
            let heads = |lin: &Linear| -> Result<Tensor> {
                Ok(lin
                    .forward(&normed)?
                    .f_view([b, s, h, dk])?
                    .f_transpose(1, 2)?)
            };
            let (q, k, v) = (heads(&block.q)?, heads(&block.k)?, heads(&block.v)?);
            let bias = block
                .relative_bias
                .f_index_select(0, &buckets)?
                .f_view([s, s, h])?
                .f_permute([2, 0, 1])?
                .f_unsqueeze(0)?;
            let fill = Tensor::f_scalar_tensor(lowest(k.kind()), (bias.kind(), self.device))?;
            let attn_mask = bias.f_where_self(&keep, &fill)?.f_contiguous()?;
            let attn = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&attn_mask),
                0.0,
                false,
                Some(1.0),
                false,
            )?;
            let attn = attn.f_transpose(1, 2)?.f_reshape([b, s, h * dk])?;
            x = x.f_add(&block.o.forward(&attn)?)?;
            x = clamp_half(x)?;

            // Feed-forward.
            let normed = block.ff_norm.forward(&x)?;
            let hidden = match &block.ff {
                FeedForward::Gated { wi_0, wi_1 } => self
                    .act
                    .apply(&wi_0.forward(&normed)?)?
                    .f_mul(&wi_1.forward(&normed)?)?,
                FeedForward::Plain { wi } => self.act.apply(&wi.forward(&normed)?)?,
            };
            let hidden = if hidden.kind() != block.wo.weight.kind() {
                hidden.f_to_kind(block.wo.weight.kind())?
            } else {
                hidden
            };
            x = x.f_add(&block.wo.forward(&hidden)?)?;
            x = clamp_half(x)?;
        }
        if let Some(up) = self.weights.upload_outer(self.device)? {
            // Streamed: the one small weight left is copied for this call.
            let out = self.final_norm.forward(&x);
            up.release()?;
            return out;
        }
        self.final_norm.forward(&x)
    }
}

/// `torch.finfo(kind).min`: the fill of masked attention logits.
fn lowest(kind: Kind) -> f64 {
    match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.3895313892515355e38,
        Kind::Double => f64::MIN,
        _ => f64::from(f32::MIN),
    }
}

/// transformers clamps f16 activations away from ±inf after each sub-layer.
fn clamp_half(x: Tensor) -> Result<Tensor> {
    if x.kind() != Kind::Half {
        return Ok(x);
    }
    let max = 65504.0f64;
    let any_inf = x.f_isinf()?.f_any()?.int64_value(&[]) != 0;
    let clamp = if any_inf { max - 1000.0 } else { max };
    Ok(x.f_clamp(-clamp, clamp)?)
}

/// Wan's prompt encoder: tokenizer + UMT5, with the pipeline's cleaning and
/// zero padding (`WanPipeline._get_t5_prompt_embeds`).
#[derive(Debug)]
pub struct WanTextEncoder {
    tokenizer: Tokenizer,
    encoder: Umt5Encoder,
}

/// `max_sequence_length` that `WanPipeline.__call__` uses by default.
pub const DEFAULT_MAX_SEQUENCE_LENGTH: usize = 512;

impl WanTextEncoder {
    /// Loads `tokenizer_dir/tokenizer.json` (+ `tokenizer_config.json`) and the
    /// UMT5 encoder in `encoder_dir`.
    pub fn load(
        tokenizer_dir: &Path,
        encoder_dir: &Path,
        device: Device,
        dtype: Dtype,
    ) -> Result<Self> {
        let tokenizer = Tokenizer::from_dir(tokenizer_dir)?;
        let encoder = Umt5Encoder::load(encoder_dir, device, dtype)?;
        Ok(Self::new(tokenizer, encoder))
    }

    /// Loads the `tokenizer` and `text_encoder` components of a diffusers Wan folder.
    pub fn from_folder(folder: &ModelFolder, device: Device, dtype: Dtype) -> Result<Self> {
        let tokenizer_dir = folder.component_dir("tokenizer")?;
        let encoder_dir = folder.component_dir("text_encoder")?;
        Self::load(&tokenizer_dir, &encoder_dir, device, dtype)
    }

    /// Bundles an already loaded tokenizer and encoder.
    pub fn new(tokenizer: Tokenizer, encoder: Umt5Encoder) -> Self {
        Self { tokenizer, encoder }
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The UMT5 encoder.
    pub fn encoder(&self) -> &Umt5Encoder {
        &self.encoder
    }

    /// Parks the encoder's weights in host memory (see [`Umt5Encoder::park`]).
    pub fn park(&mut self) -> Result<()> {
        self.encoder.park()
    }

    /// Moves parked weights back to the run device (see [`Umt5Encoder::unpark`]).
    pub fn unpark(&mut self) -> Result<()> {
        self.encoder.unpark()
    }

    /// Offloads the encoder's weights (see [`Umt5Encoder::set_offload`]).
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        self.encoder.set_offload(offload, device)
    }

    /// Copies the offloaded weights to the run device (see [`Umt5Encoder::upload`]).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.encoder.upload()
    }

    /// `prompt_embeds` `[B, max_sequence_length, d_model]` (encoder dtype, encoder
    /// device): each prompt cleaned, tokenized to `max_sequence_length` tokens,
    /// encoded, and every row past the prompt's token count set to zero.
    pub fn encode(&self, prompts: &[&str], max_sequence_length: usize) -> Result<Tensor> {
        if prompts.is_empty() {
            return Err(Error::invalid("no prompt to encode"));
        }
        let cleaned: Vec<String> = prompts.iter().map(|p| prompt_clean(p)).collect();
        let refs: Vec<&str> = cleaned.iter().map(String::as_str).collect();
        let (ids, mask) = self.tokenizer.encode_padded(&refs, max_sequence_length)?;
        let hidden = self.encoder.forward(&ids, &mask)?;
        // Keep the first `count(mask > 0)` rows of each prompt, zeros after.
        let dev = self.encoder.device;
        let lens = mask
            .f_gt(0)?
            .f_sum_dim_intlist(1, false, Kind::Int64)?
            .f_to_device(dev)?;
        let positions = Tensor::f_arange(max_sequence_length as i64, (Kind::Int64, dev))?;
        let keep = positions
            .f_unsqueeze(0)?
            .f_lt_tensor(&lens.f_unsqueeze(1)?)?
            .f_unsqueeze(-1)?;
        let zero = Tensor::f_scalar_tensor(0.0, (hidden.kind(), dev))?;
        Ok(hidden.f_where_self(&keep, &zero)?)
    }
}
