//! transformers' `CLIPVisionModel`: patch embedding (conv without bias), class
//! token, learned position embedding, `pre_layrnorm`, pre-norm encoder layers
//! (self-attention + MLP), `post_layernorm` on the pooled class token.
//!
//! Tensor names are those `save_pretrained` writes: with the `vision_model.`
//! prefix (transformers 4.x, e.g. the Wan 2.1 I2V `image_encoder`) or without
//! it (transformers 5.x); both are read.

use std::path::Path;

use serde::Deserialize;
use tch::{Kind, Tensor};

use crate::nn::offload::ComponentWeights;
use crate::nn::{sdpa, LayerNorm, Linear, Uploaded};
use crate::weights::{read_config, TensorStore, WeightPath};
use crate::{Device, Dtype, Error, Result};

/// An integer, or a `[h, w]` pair of equal integers (config fields that may be either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IntOrPair {
    /// One value for both sides.
    One(i64),
    /// `[height, width]`.
    Pair([i64; 2]),
}

impl IntOrPair {
    /// The side, when square.
    pub fn square(self) -> Option<i64> {
        match self {
            IntOrPair::One(n) => Some(n),
            IntOrPair::Pair([a, b]) if a == b => Some(a),
            IntOrPair::Pair(_) => None,
        }
    }
}

/// `CLIPVisionConfig`, field names as in its `config.json` (defaults as transformers').
#[derive(Debug, Clone, Deserialize)]
pub struct ClipVisionConfig {
    /// Width of the transformer.
    #[serde(default = "d_hidden")]
    pub hidden_size: i64,
    /// Width of the MLP.
    #[serde(default = "d_inter")]
    pub intermediate_size: i64,
    /// Projection size (used by `CLIPVisionModelWithProjection`; read, unused here).
    #[serde(default = "d_proj")]
    pub projection_dim: i64,
    /// Encoder layers.
    #[serde(default = "d_layers")]
    pub num_hidden_layers: i64,
    /// Attention heads.
    #[serde(default = "d_heads")]
    pub num_attention_heads: i64,
    /// Input channels.
    #[serde(default = "d_channels")]
    pub num_channels: i64,
    /// Input side in pixels.
    #[serde(default = "d_image")]
    pub image_size: IntOrPair,
    /// Patch side in pixels.
    #[serde(default = "d_patch")]
    pub patch_size: IntOrPair,
    /// MLP activation: `quick_gelu`, `gelu`, `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`.
    #[serde(default = "d_act")]
    pub hidden_act: String,
    /// Layer-norm epsilon.
    #[serde(default = "d_eps")]
    pub layer_norm_eps: f64,
}

fn d_hidden() -> i64 {
    768
}
fn d_inter() -> i64 {
    3072
}
fn d_proj() -> i64 {
    512
}
fn d_layers() -> i64 {
    12
}
fn d_heads() -> i64 {
    12
}
fn d_channels() -> i64 {
    3
}
fn d_image() -> IntOrPair {
    IntOrPair::One(224)
}
fn d_patch() -> IntOrPair {
    IntOrPair::One(32)
}
fn d_act() -> String {
    "quick_gelu".into()
}
fn d_eps() -> f64 {
    1e-5
}

impl ClipVisionConfig {
    /// Reads `config.json` of a `CLIPVisionModel` (or the `vision_config` of a full `CLIPConfig`).
    pub fn load(path: &Path) -> Result<Self> {
        let v: serde_json::Value = read_config(path)?;
        let v = match v.get("vision_config") {
            Some(inner) if inner.is_object() => inner.clone(),
            _ => v,
        };
        let cfg: Self = serde_json::from_value(v).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            reason,
        };
        let (img, patch) = (self.image_size(), self.patch_size());
        if img.is_none() || patch.is_none() {
            return Err(Error::Unsupported(format!(
                "{}: non-square image_size / patch_size",
                path.display()
            )));
        }
        let (img, patch) = (img.unwrap_or(0), patch.unwrap_or(0));
        if self.hidden_size <= 0
            || self.num_attention_heads <= 0
            || self.hidden_size % self.num_attention_heads != 0
        {
            return Err(bad(format!(
                "hidden_size {} is not a positive multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if patch <= 0 || img < patch {
            return Err(bad(format!(
                "image_size {img} / patch_size {patch} make no patch"
            )));
        }
        if self.num_hidden_layers < 1 || self.intermediate_size <= 0 || self.num_channels <= 0 {
            return Err(bad(
                "num_hidden_layers, intermediate_size and num_channels must be positive".into(),
            ));
        }
        Activation::parse(&self.hidden_act)?;
        Ok(())
    }

    /// Square input side, if square.
    pub fn image_size(&self) -> Option<i64> {
        self.image_size.square()
    }

    /// Square patch side, if square.
    pub fn patch_size(&self) -> Option<i64> {
        self.patch_size.square()
    }

    /// Patches per side.
    pub fn grid(&self) -> i64 {
        match (self.image_size(), self.patch_size()) {
            (Some(i), Some(p)) if p > 0 => i / p,
            _ => 0,
        }
    }

    /// Tokens per image: patches plus the class token (257 for ViT-H/14 at 224).
    pub fn num_positions(&self) -> i64 {
        self.grid() * self.grid() + 1
    }
}

/// The MLP activations transformers' `ACT2FN` offers that CLIP checkpoints use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x * sigmoid(1.702 x)`.
    QuickGelu,
    /// Exact (erf) GELU.
    Gelu,
    /// Tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
    /// `gelu_fast`: `0.5 x (1 + tanh(0.7978845608 x (1 + 0.044715 x²)))`.
    GeluFast,
}

impl Activation {
    /// Parses a `hidden_act` name.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "quick_gelu" => Activation::QuickGelu,
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "gelu_fast" => Activation::GeluFast,
            other => {
                return Err(Error::Unsupported(format!(
                    "CLIP hidden_act `{other}` (supported: quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast)"
                )))
            }
        })
    }

    /// Applies the activation.
    pub fn forward(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::QuickGelu => x.f_mul(&x.f_mul_scalar(1.702)?.f_sigmoid()?)?,
            Activation::Gelu => x.f_gelu("none")?,
            Activation::GeluTanh => x.f_gelu("tanh")?,
            Activation::GeluFast => {
                let inner = x
                    .f_mul_scalar(0.7978845608)?
                    .f_mul(&(x.f_mul_scalar(0.044715)?.f_mul(x)? + 1.0))?;
                x.f_mul_scalar(0.5)?.f_mul(&(inner.f_tanh()? + 1.0))?
            }
        })
    }
}

/// `CLIPAttention`: multi-head self-attention with biased q/k/v/out projections.
#[derive(Debug)]
struct ClipAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    heads: i64,
}

impl ClipAttention {
    fn load(p: &WeightPath, dim: i64, heads: i64) -> Result<Self> {
        Ok(Self {
            q_proj: Linear::load(&p.pp("q_proj"), dim, dim, true)?,
            k_proj: Linear::load(&p.pp("k_proj"), dim, dim, true)?,
            v_proj: Linear::load(&p.pp("v_proj"), dim, dim, true)?,
            out_proj: Linear::load(&p.pp("out_proj"), dim, dim, true)?,
            heads,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, d) = x.size3()?;
        let split = |t: Tensor| -> Result<Tensor> {
            Ok(t.f_view([b, s, self.heads, d / self.heads])?
                .f_transpose(1, 2)?)
        };
        let q = split(self.q_proj.forward(x)?)?;
        let k = split(self.k_proj.forward(x)?)?;
        let v = split(self.v_proj.forward(x)?)?;
        // SDPA's default scale is head_dim^-0.5, CLIP's `scale`.
        let o = sdpa(&q, &k, &v, None)?
            .f_transpose(1, 2)?
            .f_contiguous()?
            .f_view([b, s, d])?;
        self.out_proj.forward(&o)
    }
}

/// `CLIPEncoderLayer`: `x + attn(ln1(x))`, then `x + fc2(act(fc1(ln2(x))))`.
#[derive(Debug)]
struct ClipEncoderLayer {
    layer_norm1: LayerNorm,
    self_attn: ClipAttention,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    act: Activation,
}

impl ClipEncoderLayer {
    fn load(p: &WeightPath, cfg: &ClipVisionConfig) -> Result<Self> {
        let d = cfg.hidden_size;
        let eps = cfg.layer_norm_eps;
        Ok(Self {
            layer_norm1: LayerNorm::load(&p.pp("layer_norm1"), d, eps, true)?,
            self_attn: ClipAttention::load(&p.pp("self_attn"), d, cfg.num_attention_heads)?,
            layer_norm2: LayerNorm::load(&p.pp("layer_norm2"), d, eps, true)?,
            fc1: Linear::load(&p.pp("mlp").pp("fc1"), d, cfg.intermediate_size, true)?,
            fc2: Linear::load(&p.pp("mlp").pp("fc2"), cfg.intermediate_size, d, true)?,
            act: Activation::parse(&cfg.hidden_act)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.self_attn.forward(&self.layer_norm1.forward(x)?)?;
        let x = x.f_add(&h)?;
        let h = self.fc1.forward(&self.layer_norm2.forward(&x)?)?;
        let h = self.fc2.forward(&self.act.forward(&h)?)?;
        Ok(x.f_add(&h)?)
    }
}

/// transformers' `CLIPVisionModel` (the vision tower without projection).
#[derive(Debug)]
pub struct ClipVisionModel {
    config: ClipVisionConfig,
    patch_embedding: Tensor,
    class_embedding: Tensor,
    position_embedding: Tensor,
    pre_layrnorm: LayerNorm,
    layers: Vec<ClipEncoderLayer>,
    post_layernorm: LayerNorm,
    device: tch::Device,
    kind: Kind,
    /// Every weight, and whether they wait in host memory (filled by [`ClipVisionModel::load`]).
    weights: ComponentWeights,
}

/// What [`ClipVisionModel::forward`] returns.
#[derive(Debug)]
pub struct ClipVisionOutput {
    /// Output of the last encoder layer `[B, tokens, hidden]`.
    pub last_hidden_state: Tensor,
    /// `post_layernorm` of the class token `[B, hidden]`.
    pub pooler_output: Tensor,
}

impl ClipVisionModel {
    /// Loads `dir/config.json` and the safetensors weights of `dir`, cast to `dtype` on `device`.
    pub fn load(dir: impl AsRef<Path>, device: Device, dtype: Dtype) -> Result<Self> {
        let dir = dir.as_ref();
        device.check()?;
        let config = ClipVisionConfig::load(&dir.join("config.json"))?;
        let store = TensorStore::open(dir, "image_encoder", device.to_tch(), dtype.to_kind())?;
        let mut model = Self::from_store(&store, config)?;
        store.finish()?;
        model.weights = ComponentWeights::new(store.weight_set());
        Ok(model)
    }

    /// With `offloaded`, runs on `device` while the weights stay where they
    /// were loaded (host memory) until [`ClipVisionModel::upload`] copies them
    /// for a while (model offload). Needs a model from [`ClipVisionModel::load`].
    pub fn set_offload(&mut self, offloaded: bool, device: Device) -> Result<()> {
        let dev = device.to_tch();
        self.weights.place("CLIP vision", offloaded, dev)?;
        self.device = dev;
        Ok(())
    }

    /// When offloaded: copies every weight to the run device until the
    /// result is released (`None` when not offloaded).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// Builds the model from an open store (call [`TensorStore::finish`] afterwards).
    /// Tensor names with and without the `vision_model.` prefix are both accepted.
    pub fn from_store(store: &TensorStore, config: ClipVisionConfig) -> Result<Self> {
        let root = store.root();
        let p = if root.contains("vision_model.embeddings.patch_embedding.weight") {
            root.pp("vision_model")
        } else {
            root
        };
        Self::from_path(&p, config)
    }

    /// Builds the model from the path holding `embeddings`, `pre_layrnorm`, `encoder`, `post_layernorm`.
    pub fn from_path(p: &WeightPath, config: ClipVisionConfig) -> Result<Self> {
        let d = config.hidden_size;
        let eps = config.layer_norm_eps;
        let patch = config
            .patch_size()
            .ok_or_else(|| Error::Unsupported("non-square CLIP patch_size".into()))?;
        let e = p.pp("embeddings");
        let patch_embedding = e.get(
            "patch_embedding.weight",
            &[d, config.num_channels, patch, patch],
        )?;
        let class_embedding = e.get("class_embedding", &[d])?;
        let position_embedding =
            e.get("position_embedding.weight", &[config.num_positions(), d])?;
        let pre_layrnorm = LayerNorm::load(&p.pp("pre_layrnorm"), d, eps, true)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| ClipEncoderLayer::load(&p.pp("encoder").pp("layers").pp(i), &config))
            .collect::<Result<Vec<_>>>()?;
        let post_layernorm = LayerNorm::load(&p.pp("post_layernorm"), d, eps, true)?;
        Ok(Self {
            config,
            patch_embedding,
            class_embedding,
            position_embedding,
            pre_layrnorm,
            layers,
            post_layernorm,
            device: p.device(),
            kind: p.kind(),
            weights: ComponentWeights::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClipVisionConfig {
        &self.config
    }

    /// Class token + patch tokens + positions, then `pre_layrnorm`: `hidden_states[0]`.
    pub fn embed(&self, pixel_values: &Tensor) -> Result<Tensor> {
        let size = pixel_values.size();
        let side = self.config.image_size().unwrap_or(0);
        if size.len() != 4
            || size[1] != self.config.num_channels
            || size[2] != side
            || size[3] != side
        {
            return Err(Error::invalid(format!(
                "CLIP pixel_values must be [B, {}, {side}, {side}], got {size:?}",
                self.config.num_channels
            )));
        }
        let b = size[0];
        let d = self.config.hidden_size;
        let patch = self.config.patch_size().unwrap_or(1);
        let x = pixel_values
            .f_to_device(self.device)?
            .f_to_kind(self.kind)?;
        let patches = x
            .f_conv2d(
                &self.patch_embedding,
                None::<&Tensor>,
                [patch, patch],
                [0, 0],
                [1, 1],
                1,
            )?
            .f_flatten(2, -1)?
            .f_transpose(1, 2)?;
        let cls = self
            .class_embedding
            .f_view([1, 1, d])?
            .f_expand([b, 1, d], false)?;
        let tokens = Tensor::f_cat(&[cls, patches], 1)?;
        let tokens = tokens.f_add(&self.position_embedding.f_unsqueeze(0)?)?;
        self.pre_layrnorm.forward(&tokens)
    }

    /// All hidden states as `output_hidden_states=True` returns them: the
    /// embeddings after `pre_layrnorm`, then each layer's output (`layers + 1` tensors).
    pub fn forward_hidden_states(&self, pixel_values: &Tensor) -> Result<Vec<Tensor>> {
        let mut out = Vec::with_capacity(self.layers.len() + 1);
        let mut h = self.embed(pixel_values)?;
        for layer in &self.layers {
            let next = layer.forward(&h)?;
            out.push(h);
            h = next;
        }
        out.push(h);
        Ok(out)
    }

    /// `hidden_states[index]` (Python indexing: negative counts from the end),
    /// running only the layers it needs.
    pub fn hidden_state(&self, pixel_values: &Tensor, index: i64) -> Result<Tensor> {
        let n = self.layers.len() as i64 + 1;
        let i = if index < 0 { n + index } else { index };
        if !(0..n).contains(&i) {
            return Err(Error::invalid(format!(
                "hidden state index {index} out of range for {n} hidden states"
            )));
        }
        let mut h = self.embed(pixel_values)?;
        for layer in &self.layers[..i as usize] {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }

    /// `hidden_states[-2]`: the output of the next-to-last layer (what Wan 2.1 I2V uses).
    pub fn penultimate(&self, pixel_values: &Tensor) -> Result<Tensor> {
        self.hidden_state(pixel_values, -2)
    }

    /// The plain forward: last hidden state and the pooled, normalised class token.
    pub fn forward(&self, pixel_values: &Tensor) -> Result<ClipVisionOutput> {
        let last = self.hidden_state(pixel_values, -1)?;
        let pooled = self.post_layernorm.forward(&last.f_select(1, 0)?)?;
        Ok(ClipVisionOutput {
            last_hidden_state: last,
            pooler_output: pooled,
        })
    }
}
