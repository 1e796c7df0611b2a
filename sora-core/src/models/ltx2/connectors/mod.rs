//! diffusers' `LTX2TextConnectors`: from the stacked Gemma hidden states of a
//! prompt to the video and audio text embeddings LTX-2's transformer attends to.
//!
//! Two layouts, chosen by `per_modality_projections`:
//! - LTX-2.0: each layer's states normalised over the prompt's tokens (masked
//!   mean and range, ×8, padding zeroed), one shared projection to
//!   `caption_channels` feeding both connectors;
//! - LTX-2.3: each token's states RMS-normalised per layer, padding zeroed,
//!   rescaled by `sqrt(stream width / caption_channels)` and projected once per
//!   stream.
//!
//! Each stream then runs its [`Connector1d`]; the video embeddings are
//! multiplied by the connector's binary mask, which is returned with them.

pub mod config;
pub mod transformer1d;

use std::path::Path;

use tch::{Kind, Tensor};

pub use config::{ConnectorsConfig, RopeType};
pub use transformer1d::{Connector1d, ConnectorSpec};

use crate::nn::{ComponentWeights, Linear, Offload, Uploaded};
use crate::weights::TensorStore;
use crate::{Device, Dtype, Error, Result};

/// The projections in front of the connectors.
enum Projection {
    /// LTX-2.0: one projection for both streams.
    Shared(Linear),
    /// LTX-2.3: one per stream.
    PerModality { video: Linear, audio: Linear },
}

/// The connectors' outputs for a batch of prompts.
#[derive(Debug)]
pub struct ConnectorOutput {
    /// `[B, S, video width]`.
    pub video: Tensor,
    /// `[B, S, audio width]`.
    pub audio: Tensor,
    /// `[B, S]` i64, 1 where the transformer attends.
    pub mask: Tensor,
}

/// `LTX2TextConnectors`.
pub struct Ltx2TextConnectors {
    config: ConnectorsConfig,
    proj: Projection,
    video: Connector1d,
    audio: Connector1d,
    device: tch::Device,
    kind: Kind,
    /// Every weight, and whether they wait in host memory.
    weights: ComponentWeights,
}

impl std::fmt::Debug for Ltx2TextConnectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ltx2TextConnectors")
            .field("config", &self.config)
            .field("device", &self.device)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Where the prompt's tokens sit in the padded sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaddingSide {
    /// Padding first, tokens last (LTX-2's pipeline).
    Left,
    /// Tokens first.
    Right,
}

/// `torch.finfo(kind).max`.
fn finfo_max(kind: Kind) -> f64 {
    match kind {
        Kind::Half => 65504.0,
        Kind::BFloat16 => 3.3895313892515355e38,
        Kind::Double => f64::MAX,
        _ => f64::from(f32::MAX),
    }
}

impl Ltx2TextConnectors {
    /// Loads `dir/config.json` and the safetensors of `dir` onto `device`,
    /// floating weights cast to `dtype`.
    pub fn load(dir: &Path, device: Device, dtype: Dtype) -> Result<Self> {
        device.check()?;
        let config = ConnectorsConfig::load(&dir.join("config.json"))?;
        let store = TensorStore::open(dir, "connectors", device.to_tch(), dtype.to_kind())?;
        Self::from_store(config, &store)
    }

    /// Builds the connectors from `config` and an open store (every missing or
    /// mis-shaped tensor reported at once).
    pub fn from_store(config: ConnectorsConfig, store: &TensorStore) -> Result<Self> {
        config.check()?;
        let root = store.root();
        let input = config.text_encoder_dim();
        let proj = if config.per_modality_projections {
            Projection::PerModality {
                video: Linear::load(
                    &root.pp("video_text_proj_in"),
                    input,
                    config.video_hidden_dim,
                    config.proj_bias,
                )?,
                audio: Linear::load(
                    &root.pp("audio_text_proj_in"),
                    input,
                    config.audio_hidden_dim,
                    config.proj_bias,
                )?,
            }
        } else {
            Projection::Shared(Linear::load(
                &root.pp("text_proj_in"),
                input,
                config.caption_channels,
                config.proj_bias,
            )?)
        };
        let rope = config.rope()?;
        let spec = |heads, head_dim, layers, registers, gated| ConnectorSpec {
            heads,
            head_dim,
            layers,
            registers,
            gated,
            rope,
            rope_base_seq_len: config.connector_rope_base_seq_len,
            rope_theta: config.rope_theta,
            rope_double_precision: config.rope_double_precision,
        };
        let video = Connector1d::load(
            &root.pp("video_connector"),
            spec(
                config.video_connector_num_attention_heads,
                config.video_connector_attention_head_dim,
                config.video_connector_num_layers,
                config.video_connector_num_learnable_registers,
                config.video_gated_attn,
            ),
        )?;
        let audio = Connector1d::load(
            &root.pp("audio_connector"),
            spec(
                config.audio_connector_num_attention_heads,
                config.audio_connector_attention_head_dim,
                config.audio_connector_num_layers,
                config.audio_connector_num_learnable_registers,
                config.audio_gated_attn,
            ),
        )?;
        store.finish()?;
        Ok(Self {
            config,
            proj,
            video,
            audio,
            device: store.device(),
            kind: store.kind(),
            weights: ComponentWeights::new(store.weight_set()),
        })
    }

    /// Runs on `device`, the weights on it ([`Offload::None`]) or waiting in
    /// host memory and copied as a whole by [`Ltx2TextConnectors::upload`]
    /// for each use (model and sequential offload alike: the connectors are
    /// one phase with small blocks).
    pub fn set_offload(&mut self, offload: Offload, device: Device) -> Result<()> {
        let dev = device.to_tch();
        self.weights
            .place("LTX-2 connectors", offload.is_on(), dev)?;
        self.device = dev;
        Ok(())
    }

    /// With offload: copies every weight to the run device until the result
    /// is released (`None` otherwise).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// Whether the weights wait in host memory between uses.
    pub fn is_offloaded(&self) -> bool {
        self.weights.is_offloaded()
    }

    /// The configuration.
    pub fn config(&self) -> &ConnectorsConfig {
        &self.config
    }

    /// The connectors' outputs for `hidden` (`[B, S, caption_channels ×
    /// text_proj_in_factor]` as the pipeline packs it, or `[B, S,
    /// caption_channels, text_proj_in_factor]`) and the tokenizer's `mask`
    /// `[B, S]` (1 = token). `padding_side` and `scale_factor` matter to the
    /// LTX-2.0 layout only (the pipeline passes left and 8).
    pub fn forward(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        padding_side: PaddingSide,
        scale_factor: f64,
    ) -> Result<ConnectorOutput> {
        let c = &self.config;
        let size = hidden.size();
        let (b, s) = match size[..] {
            [b, s, _] | [b, s, _, _] => (b, s),
            _ => {
                return Err(Error::invalid(format!(
                "LTX-2 connectors: text hidden states {size:?} are not [B, S, D] or [B, S, D, L]"
            )))
            }
        };
        let features: i64 = size[2..].iter().product();
        if features != c.text_encoder_dim() || (size.len() == 4 && size[2] != c.caption_channels) {
            return Err(Error::invalid(format!(
                "LTX-2 connectors: text hidden states {size:?} do not hold {} channels × {} layers",
                c.caption_channels, c.text_proj_in_factor
            )));
        }
        if mask.size() != [b, s] {
            return Err(Error::invalid(format!(
                "LTX-2 connectors: attention mask {:?} does not match the hidden states' [B, S] = [{b}, {s}]",
                mask.size()
            )));
        }
        let hidden = hidden
            .f_to_device(self.device)?
            .f_to_kind(self.kind)?
            .f_reshape([b, s, c.caption_channels, c.text_proj_in_factor])?;
        let mask = mask.f_to_device(self.device)?.f_to_kind(Kind::Int64)?;
        let (video_in, audio_in) = match &self.proj {
            Projection::PerModality { video, audio } => {
                let normed = per_token_rms_norm(&hidden, 1e-6)?.f_flatten(2, 3)?;
                let keep = mask.f_ne(0)?.f_unsqueeze(-1)?;
                let zero = Tensor::f_scalar_tensor(0.0, (normed.kind(), self.device))?;
                let normed = normed.f_where_self(&keep, &zero)?;
                let cc = c.caption_channels as f64;
                let v = normed.f_mul_scalar((c.video_hidden_dim as f64 / cc).sqrt())?;
                let a = normed.f_mul_scalar((c.audio_hidden_dim as f64 / cc).sqrt())?;
                (video.forward(&v)?, audio.forward(&a)?)
            }
            Projection::Shared(proj) => {
                let lengths = mask.f_sum_dim_intlist(-1, false, Kind::Int64)?;
                let normed = per_layer_masked_mean_norm(
                    &hidden,
                    &lengths,
                    padding_side,
                    scale_factor,
                    1e-6,
                )?;
                let y = proj.forward(&normed)?;
                (y.shallow_clone(), y)
            }
        };
        // The additive mask: 0 for tokens, −finfo.max for padding.
        let kind = video_in.kind();
        let add_mask = mask
            .f_sub_scalar(1)?
            .f_to_kind(kind)?
            .f_reshape([b, 1, 1, s])?
            .f_mul_scalar(finfo_max(kind))?;
        let (video, video_mask) = self.video.forward(&video_in, &add_mask)?;
        let binary = video_mask
            .f_lt(1e-6)?
            .f_to_kind(Kind::Int64)?
            .f_reshape([b, s, 1])?;
        let video = video.f_mul(&binary)?;
        let (audio, _) = self.audio.forward(&audio_in, &add_mask)?;
        Ok(ConnectorOutput {
            video,
            audio,
            mask: binary.f_squeeze_dim(-1)?,
        })
    }
}

/// LTX-2.3's `per_token_rms_norm` over the channel dimension (2) of `[B, S, C, L]`.
fn per_token_rms_norm(x: &Tensor, eps: f64) -> Result<Tensor> {
    let var = x.f_pow_tensor_scalar(2)?.f_mean_dim(2, true, x.kind())?;
    Ok(x.f_mul(&var.f_add_scalar(eps)?.f_rsqrt()?)?)
}

/// LTX-2.0's `per_layer_masked_mean_norm`: for each prompt and layer, the
/// states minus their mean over the prompt's tokens and channels, divided by
/// their range there, × `scale`; flattened to `[B, S, C·L]` with padding zeroed.
fn per_layer_masked_mean_norm(
    x: &Tensor,
    lengths: &Tensor,
    side: PaddingSide,
    scale: f64,
    eps: f64,
) -> Result<Tensor> {
    let size = x.size();
    let (b, s, c, l) = (size[0], size[1], size[2], size[3]);
    let device = x.device();
    let idx = Tensor::f_arange(s, (Kind::Int64, device))?.f_unsqueeze(0)?;
    let lens = lengths.f_unsqueeze(1)?;
    let token = match side {
        PaddingSide::Right => idx.f_lt_tensor(&lens)?,
        PaddingSide::Left => idx.f_ge_tensor(&lens.f_neg()?.f_add_scalar(s)?)?,
    };
    let token4 = token.f_view([b, s, 1, 1])?;
    let pad4 = token4.f_logical_not()?;
    let masked = x.f_masked_fill(&pad4, 0.0)?;
    let count = lengths
        .f_mul_scalar(c)?
        .f_view([b, 1, 1, 1])?
        .f_to_kind(Kind::Float)?;
    let mean = masked
        .f_sum_dim_intlist([1i64, 2].as_slice(), true, x.kind())?
        .f_div(&count.f_add_scalar(eps)?)?;
    let lo = x
        .f_masked_fill(&pad4, f64::INFINITY)?
        .f_amin([1i64, 2].as_slice(), true)?;
    let hi = x
        .f_masked_fill(&pad4, f64::NEG_INFINITY)?
        .f_amax([1i64, 2].as_slice(), true)?;
    let normed = x
        .f_sub(&mean)?
        .f_div(&hi.f_sub(&lo)?.f_add_scalar(eps)?)?
        .f_mul_scalar(scale)?
        .f_flatten(2, 3)?;
    let pad3 = token
        .f_logical_not()?
        .f_view([b, s, 1])?
        .f_expand([b, s, c * l], false)?;
    // As in diffusers, the mean (over an f32 count) promotes half inputs to f32 until here.
    Ok(normed.f_masked_fill(&pad3, 0.0)?.f_to_kind(x.kind())?)
}
