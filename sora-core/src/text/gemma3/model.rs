//! The Gemma 3 text model (transformers' `Gemma3TextModel`, the language model
//! of `Gemma3ForConditionalGeneration` without its vision tower), returning
//! every hidden state as transformers does with `output_hidden_states=True`:
//! the scaled token embedding, the output of each decoder layer but the last,
//! and the final-normed output of the last.
//!
//! A layer is pre-norm / post-norm around both sub-layers, with Gemma's RMS norm
//! (`x̂ · (1 + w)`, computed in f32); attention is grouped-query with RMS q/k
//! norms per head, rotate-half RoPE (local base on sliding layers, global base
//! and linear scaling on full ones), logits scaled by `query_pre_attn_scalar^-½`,
//! causal, limited to the last `sliding_window` keys on sliding layers, with
//! padded keys masked (left padding: positions still count from 0 at the first
//! column, as transformers computes them without `position_ids`). A fully
//! masked row goes through SDPA as transformers sends it (LibTorch returns zeros).

use std::path::Path;

use tch::{Kind, Tensor};

use super::config::{Gemma3TextConfig, LayerType, RopeSpec};
use crate::nn::offload::{ComponentWeights, Offload, StreamParts, WeightSet};
use crate::nn::{Linear, Uploaded};
use crate::weights::{TensorStore, WeightPath};
use crate::{Device, Dtype, Error, Result};

/// The MLP activation, by transformers' `ACT2FN` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    GeluTanh,
    Gelu,
    GeluNew,
    Silu,
    Relu,
}

impl Act {
    fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "gelu_pytorch_tanh" | "gelu_python_tanh" => Act::GeluTanh,
            "gelu" => Act::Gelu,
            "gelu_new" => Act::GeluNew,
            "silu" | "swish" => Act::Silu,
            "relu" => Act::Relu,
            other => {
                return Err(Error::Unsupported(format!(
                    "Gemma 3 MLP activation `{other}`"
                )))
            }
        })
    }

    fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Act::GeluTanh => x.f_gelu("tanh")?,
            Act::Gelu => x.f_gelu("none")?,
            Act::Silu => x.f_silu()?,
            Act::Relu => x.f_relu()?,
            Act::GeluNew => {
                let inner = x
                    .f_add(&x.f_pow_tensor_scalar(3.0)?.f_mul_scalar(0.044715)?)?
                    .f_mul_scalar((2.0f64 / std::f64::consts::PI).sqrt())?;
                x.f_mul_scalar(0.5)?
                    .f_mul(&inner.f_tanh()?.f_add_scalar(1.0)?)?
            }
        })
    }
}

/// Gemma's RMS norm: normalised in f32, scaled by `1 + weight` (in f32), cast back.
struct GemmaNorm {
    /// `[dim]`, in the model's dtype (widened in the forward, as `weight.float()`).
    weight: Tensor,
    eps: f64,
}

impl GemmaNorm {
    fn load(p: &WeightPath, dim: i64, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: p.get("weight", &[dim])?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let xf = x.f_to_kind(Kind::Float)?;
        let var = xf
            .f_pow_tensor_scalar(2)?
            .f_mean_dim(-1, true, Kind::Float)?;
        let y = xf.f_mul(&var.f_add_scalar(self.eps)?.f_rsqrt()?)?;
        let scale = self.weight.f_to_kind(Kind::Float)?.f_add_scalar(1.0)?;
        Ok(y.f_mul(&scale)?.f_to_kind(x.kind())?)
    }
}

struct Layer {
    kind: LayerType,
    input_norm: GemmaNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: GemmaNorm,
    k_norm: GemmaNorm,
    post_attn_norm: GemmaNorm,
    pre_ff_norm: GemmaNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
    post_ff_norm: GemmaNorm,
}

impl Layer {
    /// Every weight of the layer.
    fn tensors(&self) -> Vec<&Tensor> {
        let mut out: Vec<&Tensor> = [
            &self.input_norm,
            &self.q_norm,
            &self.k_norm,
            &self.post_attn_norm,
            &self.pre_ff_norm,
            &self.post_ff_norm,
        ]
        .iter()
        .map(|n| &n.weight)
        .collect();
        for l in [
            &self.q, &self.k, &self.v, &self.o, &self.gate, &self.up, &self.down,
        ] {
            out.push(&l.weight);
            out.extend(l.bias.as_ref());
        }
        out
    }
}

/// Where the language model's tensors live in the checkpoint.
const PREFIXES: [&str; 5] = [
    "language_model.model.",
    "model.language_model.",
    "language_model.",
    "model.",
    "",
];

/// The prefix of the language model's tensors in `store` (the first of
/// [`PREFIXES`] naming a token embedding): what [`Gemma3TextModel`] reads, the
/// vision tower and projector of a `Gemma3ForConditionalGeneration` aside.
pub(crate) fn language_model_prefix(store: &TensorStore) -> &'static str {
    PREFIXES
        .iter()
        .find(|p| store.contains(&format!("{p}embed_tokens.weight")))
        .copied()
        .unwrap_or("language_model.model.")
}

/// transformers' `Gemma3TextModel`: token ids and mask in, every hidden state out.
pub struct Gemma3TextModel {
    config: Gemma3TextConfig,
    act: Act,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: GemmaNorm,
    /// Inverse frequencies `[head_dim / 2]` (f32) of the sliding and full layers.
    inv_freq_sliding: Tensor,
    inv_freq_full: Tensor,
    device: tch::Device,
    kind: Kind,
    /// Every weight, and whether they wait in host memory ([`Gemma3TextModel::set_offload`]).
    weights: ComponentWeights,
}

impl std::fmt::Debug for Gemma3TextModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gemma3TextModel")
            .field("config", &self.config)
            .field("device", &self.device)
            .field("kind", &self.kind)
            .finish()
    }
}

fn inv_freq(spec: RopeSpec, head_dim: i64, device: tch::Device) -> Result<Tensor> {
    // 1 / base^(arange(0, dim, 2) / dim) in f32, then / factor (linear scaling).
    let exps = Tensor::f_arange_start_step(0, head_dim, 2, (Kind::Int64, device))?
        .f_to_kind(Kind::Float)?
        .f_div_scalar(head_dim as f64)?;
    let pow = Tensor::f_pow_scalar(spec.theta, &exps)?;
    Ok(pow.f_reciprocal()?.f_div_scalar(spec.linear_factor)?)
}

impl Gemma3TextModel {
    /// Loads `dir/config.json` and the safetensors of `dir` (single or sharded)
    /// onto `device`, floating weights cast to `dtype`. Accepts a
    /// `Gemma3ForConditionalGeneration` folder (the vision tower's tensors are
    /// left unread) or a text-only one.
    pub fn load(dir: &Path, device: Device, dtype: Dtype) -> Result<Self> {
        device.check()?;
        let config = Gemma3TextConfig::load(&dir.join("config.json"))?;
        let store = TensorStore::open(dir, "text_encoder", device.to_tch(), dtype.to_kind())?;
        Self::from_store(config, &store)
    }

    /// Builds the model from `config` and an open store (every missing or
    /// mis-shaped tensor reported at once by [`TensorStore::finish`]).
    pub fn from_store(config: Gemma3TextConfig, store: &TensorStore) -> Result<Self> {
        let act = Act::from_name(&config.hidden_activation)?;
        let types = config.layer_types()?;
        let prefix = language_model_prefix(store);
        let root = store.root();
        let base = if prefix.is_empty() {
            root
        } else {
            root.pp(prefix.trim_end_matches('.'))
        };
        let (d, h, kvh, hd, ff) = (
            config.hidden_size,
            config.num_attention_heads,
            config.num_key_value_heads,
            config.head_dim,
            config.intermediate_size,
        );
        let eps = config.rms_norm_eps;
        let bias = config.attention_bias;
        let embed = base.get("embed_tokens.weight", &[config.vocab_size, d])?;
        let mut layers = Vec::with_capacity(types.len());
        for (i, kind) in types.iter().enumerate() {
            let l = base.pp("layers").pp(i);
            let attn = l.pp("self_attn");
            let mlp = l.pp("mlp");
            layers.push(Layer {
                kind: *kind,
                input_norm: GemmaNorm::load(&l.pp("input_layernorm"), d, eps)?,
                q: Linear::load(&attn.pp("q_proj"), d, h * hd, bias)?,
                k: Linear::load(&attn.pp("k_proj"), d, kvh * hd, bias)?,
                v: Linear::load(&attn.pp("v_proj"), d, kvh * hd, bias)?,
                o: Linear::load(&attn.pp("o_proj"), h * hd, d, bias)?,
                q_norm: GemmaNorm::load(&attn.pp("q_norm"), hd, eps)?,
                k_norm: GemmaNorm::load(&attn.pp("k_norm"), hd, eps)?,
                post_attn_norm: GemmaNorm::load(&l.pp("post_attention_layernorm"), d, eps)?,
                pre_ff_norm: GemmaNorm::load(&l.pp("pre_feedforward_layernorm"), d, eps)?,
                gate: Linear::load(&mlp.pp("gate_proj"), d, ff, false)?,
                up: Linear::load(&mlp.pp("up_proj"), d, ff, false)?,
                down: Linear::load(&mlp.pp("down_proj"), ff, d, false)?,
                post_ff_norm: GemmaNorm::load(&l.pp("post_feedforward_layernorm"), d, eps)?,
            });
        }
        let norm = GemmaNorm::load(&base.pp("norm"), d, eps)?;
        store.finish()?;
        let device = store.device();
        Ok(Self {
            inv_freq_sliding: inv_freq(config.rope(LayerType::Sliding)?, hd, device)?,
            inv_freq_full: inv_freq(config.rope(LayerType::Full)?, hd, device)?,
            config,
            act,
            embed,
            layers,
            norm,
            device,
            kind: store.kind(),
            weights: ComponentWeights::new(store.weight_set()),
        })
    }

    /// Runs on `device` with the weights where `offload` says: on `device`
    /// ([`Offload::None`]: they must be there), in host memory copied as a
    /// whole by [`Gemma3TextModel::upload`] ([`Offload::Model`]), or in host
    /// memory with each layer copied as the forward reaches it
    /// ([`Offload::Sequential`]; the token embedding then stays in host
    /// memory, where the prompt's rows are looked up and only they copied).
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        let dev = device.to_tch();
        let parts = (offload == Offload::Sequential).then(|| StreamParts {
            blocks: self
                .layers
                .iter()
                .map(|l| WeightSet::new(l.tensors()))
                .collect(),
            outer: WeightSet::new([&self.norm.weight]),
            apart: vec![WeightSet::new([&self.embed])],
        });
        self.weights.place_offload("Gemma 3", offload, dev, parts)?;
        self.device = dev;
        Ok(())
    }

    /// With model offload: copies every weight to the run device until the
    /// result is released (`None` otherwise).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// How many times a layer's weights were copied to the run device since
    /// sequential offload was set (0 without it).
    pub fn block_uploads(&self) -> u64 {
        self.weights.block_uploads()
    }

    /// Parks the weights in host memory (one copy back, device copies freed):
    /// from then on they are copied to the run device only while used
    /// ([`Gemma3TextModel::upload`]), as under model offload. For dropping
    /// the 12B encoder from the GPU after encoding.
    pub fn park(&mut self) -> Result<()> {
        if self.weights.is_offloaded() {
            return Ok(());
        }
        let run = self.device();
        self.weights.set().move_to(tch::Device::Cpu)?;
        self.set_offload(Offload::Model, run)
    }

    /// Undoes [`Gemma3TextModel::park`]: the weights move to the run device
    /// for good. Call it with no copy from [`Gemma3TextModel::upload`] outstanding.
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

    /// Number of parameters of the text model.
    pub fn num_parameters(&self) -> i64 {
        let mut n = self.embed.numel() + self.norm.weight.numel();
        for l in &self.layers {
            n += l.tensors().iter().map(|t| t.numel()).sum::<usize>();
        }
        n as i64
    }

    /// The configuration.
    pub fn config(&self) -> &Gemma3TextConfig {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        match self.device {
            tch::Device::Cuda(n) => Device::Cuda(n),
            _ => Device::Cpu,
        }
    }

    /// The dtype of the weights and activations.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Number of hidden states [`Gemma3TextModel::forward`] returns: layers + 1.
    pub fn num_hidden_states(&self) -> usize {
        self.layers.len() + 1
    }

    /// `(cos, sin)` `[1, S, head_dim]` in the model's dtype, as transformers'
    /// `Gemma3RotaryEmbedding` computes them (f32 angles, `cat(freqs, freqs)`).
    fn rope_tables(&self, inv_freq: &Tensor, s: i64) -> Result<(Tensor, Tensor)> {
        let pos = Tensor::f_arange(s, (Kind::Float, self.device))?;
        let inv_freq = inv_freq.f_to_device(self.device)?;
        let freqs = pos.f_unsqueeze(1)?.f_mul(&inv_freq.f_unsqueeze(0)?)?;
        let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?.f_unsqueeze(0)?;
        Ok((
            emb.f_cos()?.f_to_kind(self.kind)?,
            emb.f_sin()?.f_to_kind(self.kind)?,
        ))
    }

    /// Boolean attention masks `[B, 1, S, S]` (true = attend) of the full and
    /// sliding layers: causal, sliding keys within the window, padded keys out.
    fn masks(&self, keep: &Tensor, s: i64) -> Result<(Tensor, Tensor)> {
        let opts = (Kind::Int64, self.device);
        let q = Tensor::f_arange(s, opts)?.f_unsqueeze(1)?;
        let k = Tensor::f_arange(s, opts)?.f_unsqueeze(0)?;
        let causal = k.f_le_tensor(&q)?;
        let b = keep.size()[0];
        let pad = keep.f_view([b, 1, 1, s])?;
        let full = causal.f_unsqueeze(0)?.f_unsqueeze(0)?.f_logical_and(&pad)?;
        let window = self.config.sliding_window.unwrap_or(s.max(1));
        let near = k.f_gt_tensor(&q.f_sub_scalar(window)?)?;
        let sliding = full.f_logical_and(&near.f_unsqueeze(0)?.f_unsqueeze(0)?)?;
        Ok((full, sliding))
    }

    /// Every hidden state, `num_layers + 1` tensors `[B, S, hidden]` in the
    /// model's dtype, of token `ids` `[B, S]` (i64) with attention `mask`
    /// `[B, S]` (non-zero = token, zero = padding).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Vec<Tensor>> {
        let size = ids.size();
        if size.len() != 2 || mask.size() != size {
            return Err(Error::invalid(format!(
                "Gemma 3 expects ids and mask of the same shape [batch, seq], got {:?} and {:?}",
                size,
                mask.size()
            )));
        }
        let (b, s) = (size[0], size[1]);
        if b == 0 || s == 0 {
            return Err(Error::invalid("Gemma 3: empty batch or sequence"));
        }
        let mut ids = ids.f_to_kind(Kind::Int64)?.f_to_device(self.device)?;
        // Gemma3Model: an image placeholder outside the vocabulary reads row 0.
        if let Some(image) = self.config.image_token_index {
            if image >= self.config.vocab_size {
                let zero = Tensor::f_scalar_tensor(0i64, (Kind::Int64, self.device))?;
                ids = zero.f_where_self(&ids.f_eq(image)?, &ids)?;
            }
        }
        let lo = ids.f_min()?.int64_value(&[]);
        let hi = ids.f_max()?.int64_value(&[]);
        if lo < 0 || hi >= self.config.vocab_size {
            return Err(Error::invalid(format!(
                "token id out of range [0, {}): found {lo}..={hi}",
                self.config.vocab_size
            )));
        }
        let keep = mask.f_to_device(self.device)?.f_ne(0)?;
        let (full_mask, sliding_mask) = self.masks(&keep, s)?;
        let (cos_s, sin_s) = self.rope_tables(&self.inv_freq_sliding, s)?;
        let (cos_f, sin_f) = self.rope_tables(&self.inv_freq_full, s)?;

        // The embedding scale sqrt(hidden) is rounded to the weights' dtype first.
        let scale = Tensor::f_scalar_tensor(
            (self.config.hidden_size as f64).sqrt(),
            (Kind::Float, self.device),
        )?
        .f_to_kind(self.kind)?;
        // Streamed, the embedding table stays in host memory: look the rows up
        // there and copy only them.
        let rows = if !self.weights.is_streamed() {
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
        let mut x = rows.f_mul(&scale)?;
        let mut states = Vec::with_capacity(self.layers.len() + 1);
        states.push(x.shallow_clone());
        let (h, kvh, hd) = (
            self.config.num_attention_heads,
            self.config.num_key_value_heads,
            self.config.head_dim,
        );
        let rep = h / kvh;
        let scaling = self.config.query_pre_attn_scalar.powf(-0.5);
        for (i, layer) in self.layers.iter().enumerate() {
            let _weights = self.weights.upload_block(i, self.device)?;
            let (cos, sin, attn_mask) = match layer.kind {
                LayerType::Sliding => (&cos_s, &sin_s, &sliding_mask),
                LayerType::Full => (&cos_f, &sin_f, &full_mask),
            };
            let normed = layer.input_norm.forward(&x)?;
            let heads = |lin: &Linear, n: i64| -> Result<Tensor> {
                Ok(lin
                    .forward(&normed)?
                    .f_view([b, s, n, hd])?
                    .f_transpose(1, 2)?)
            };
            let q = layer.q_norm.forward(&heads(&layer.q, h)?)?;
            let k = layer.k_norm.forward(&heads(&layer.k, kvh)?)?;
            let v = heads(&layer.v, kvh)?;
            let q = rotate(&q, cos, sin)?;
            let k = rotate(&k, cos, sin)?;
            let (k, v) = (repeat_kv(&k, rep)?, repeat_kv(&v, rep)?);
            let attn = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(attn_mask),
                0.0,
                false,
                Some(scaling),
                false,
            )?;
            let attn = attn.f_transpose(1, 2)?.f_reshape([b, s, h * hd])?;
            let attn = layer.o.forward(&attn)?;
            x = x.f_add(&layer.post_attn_norm.forward(&attn)?)?;

            let normed = layer.pre_ff_norm.forward(&x)?;
            let hidden = self
                .act
                .apply(&layer.gate.forward(&normed)?)?
                .f_mul(&layer.up.forward(&normed)?)?;
            let y = layer.down.forward(&hidden)?;
            x = x.f_add(&layer.post_ff_norm.forward(&y)?)?;
            states.push(x.shallow_clone());
        }
        // transformers replaces the last captured state by the normed output.
        let outer = self.weights.upload_outer(self.device)?;
        let last = self.norm.forward(&x)?;
        if let Some(up) = outer {
            up.release()?;
        }
        if let Some(slot) = states.last_mut() {
            *slot = last;
        }
        Ok(states)
    }
}

/// `x·cos + rotate_half(x)·sin` on `[B, H, S, D]` with tables `[1, S, D]`.
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let cos = cos.f_unsqueeze(1)?;
    let sin = sin.f_unsqueeze(1)?;
    let half = x.size()[3] / 2;
    let x1 = x.f_narrow(-1, 0, half)?;
    let x2 = x.f_narrow(-1, half, half)?;
    let rotated = Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?;
    Ok(x.f_mul(&cos)?.f_add(&rotated.f_mul(&sin)?)?)
}

/// Repeats each key/value head `n` times (`[B, kv, S, D]` → `[B, kv·n, S, D]`).
fn repeat_kv(x: &Tensor, n: i64) -> Result<Tensor> {
    if n == 1 {
        return Ok(x.shallow_clone());
    }
    let [b, kv, s, d] = match x.size()[..] {
        [b, kv, s, d] => [b, kv, s, d],
        _ => return Err(Error::invalid("repeat_kv expects [B, H, S, D]")),
    };
    Ok(x.f_unsqueeze(2)?
        .f_expand([b, kv, n, s, d], false)?
        .f_reshape([b, kv * n, s, d])?)
}
