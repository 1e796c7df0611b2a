//! `AutoencoderKLLTX2Audio` (diffusers 0.42.1), the decoder half: normalised
//! audio latents from the denoising loop → the mel spectrogram the vocoder
//! takes, with the pipeline's latent handling (`_denormalize_audio_latents`
//! on the packed `[B, L, C·M]` sequence, `_unpack_audio_latents`).
//!
//! The decoder is a 2-D U-Net half over `[time, mel bins]`: a causal 3×3
//! convolution in, a middle block (two residual blocks, optional attention),
//! one level per `ch_mult` entry with nearest ×2 up-sampling between levels,
//! a norm, SiLU and a convolution out; the result is cropped (or zero-padded)
//! to `4·L − 3` frames and `mel_bins` bins.
//!
//! The encoder (`LTX2AudioEncoder`, read when the folder has it) mirrors it:
//! a causal convolution in, per level residual blocks (attention where the
//! resolution is listed) and a stride-2 down-sampler between levels, the
//! middle block, norm, SiLU and a convolution out to the posterior's mean and
//! log-variance; [`Ltx2AudioVae::encode_mel_packed`] turns a log-mel
//! spectrogram ([`crate::nn::mel`]) into normalised packed latents, the inverse
//! of [`Ltx2AudioVae::decode_packed`] (clip extension conditions on them).

mod blocks;
mod config;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub use config::Ltx2AudioVaeConfig;

use crate::nn::offload::{ComponentWeights, Uploaded};
use crate::weights::{read_config, TensorStore, WeightPath};
use crate::{Error, Result};
use blocks::{AttnBlock, CausalConv2d, Causality, Downsample, Norm, ResnetBlock, Upsample};

/// Time and mel compression of the audio latents (diffusers' fixed 4).
pub const AUDIO_LATENT_DOWNSAMPLE: i64 = 4;

/// One decoder level: residual blocks, each optionally followed by attention,
/// then the up-sampler (all levels but the first).
#[derive(Debug)]
struct Level {
    blocks: Vec<(ResnetBlock, Option<AttnBlock>)>,
    upsample: Option<Upsample>,
}

/// The decoder (`LTX2AudioDecoder`).
#[derive(Debug)]
struct Decoder {
    conv_in: CausalConv2d,
    mid_1: ResnetBlock,
    mid_attn: Option<AttnBlock>,
    mid_2: ResnetBlock,
    /// Applied last to first (index 0 is the output level).
    levels: Vec<Level>,
    norm_out: Norm,
    conv_out: CausalConv2d,
}

impl Decoder {
    fn load(p: &WeightPath, c: &Ltx2AudioVaeConfig, axis: Causality) -> Result<Self> {
        let group = c.norm_type == "group";
        let n = c.ch_mult.len();
        let top = c.base_channels * c.ch_mult[n - 1];
        let attn_at: BTreeSet<i64> = c.attn_resolutions.iter().flatten().copied().collect();
        let mid = p.pp("mid");
        let mid_attn = if c.mid_block_add_attention {
            Some(AttnBlock::load(&mid.pp("attn_1"), top, group)?)
        } else {
            None
        };
        let mut levels: Vec<Option<Level>> = (0..n).map(|_| None).collect();
        let mut block_in = top;
        let mut res = c.resolution >> (n - 1);
        for level in (0..n).rev() {
            let lp = p.pp("up").pp(level);
            let block_out = c.base_channels * c.ch_mult[level];
            let mut blocks = Vec::new();
            for i in 0..=c.num_res_blocks {
                let block =
                    ResnetBlock::load(&lp.pp("block").pp(i), block_in, block_out, group, axis)?;
                block_in = block_out;
                let attn = if attn_at.contains(&res) {
                    let k = blocks.len();
                    Some(AttnBlock::load(&lp.pp("attn").pp(k), block_in, group)?)
                } else {
                    None
                };
                blocks.push((block, attn));
            }
            let upsample = if level != 0 {
                res *= 2;
                Some(Upsample::load(&lp.pp("upsample"), block_in, axis)?)
            } else {
                None
            };
            levels[level] = Some(Level { blocks, upsample });
        }
        let levels = levels
            .into_iter()
            .map(|l| l.ok_or_else(|| Error::invalid("audio VAE level not built")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            conv_in: CausalConv2d::load(&p.pp("conv_in"), c.latent_channels, top, 3, axis)?,
            mid_1: ResnetBlock::load(&mid.pp("block_1"), top, top, group, axis)?,
            mid_attn,
            mid_2: ResnetBlock::load(&mid.pp("block_2"), top, top, group, axis)?,
            levels,
            norm_out: Norm::load(&p.pp("norm_out"), group, block_in)?,
            conv_out: CausalConv2d::load(&p.pp("conv_out"), block_in, c.output_channels, 3, axis)?,
        })
    }

    fn forward(&self, z: &Tensor) -> Result<Tensor> {
        let mut h = self.conv_in.forward(z)?;
        h = self.mid_1.forward(&h)?;
        if let Some(a) = &self.mid_attn {
            h = a.forward(&h)?;
        }
        h = self.mid_2.forward(&h)?;
        for level in self.levels.iter().rev() {
            for (block, attn) in &level.blocks {
                h = block.forward(&h)?;
                if let Some(a) = attn {
                    h = a.forward(&h)?;
                }
            }
            if let Some(u) = &level.upsample {
                h = u.forward(&h)?;
            }
        }
        let h = self.norm_out.forward(&h)?.f_silu()?;
        self.conv_out.forward(&h)
    }
}

/// One encoder level: residual blocks, each optionally followed by attention,
/// then the down-sampler (all levels but the last).
#[derive(Debug)]
struct EncoderLevel {
    blocks: Vec<(ResnetBlock, Option<AttnBlock>)>,
    downsample: Option<Downsample>,
}

/// The encoder (`LTX2AudioEncoder`).
#[derive(Debug)]
struct Encoder {
    conv_in: CausalConv2d,
    levels: Vec<EncoderLevel>,
    mid_1: ResnetBlock,
    mid_attn: Option<AttnBlock>,
    mid_2: ResnetBlock,
    norm_out: Norm,
    conv_out: CausalConv2d,
}

impl Encoder {
    fn load(p: &WeightPath, c: &Ltx2AudioVaeConfig, axis: Causality) -> Result<Self> {
        let group = c.norm_type == "group";
        let n = c.ch_mult.len();
        let attn_at: BTreeSet<i64> = c.attn_resolutions.iter().flatten().copied().collect();
        let mut block_in = c.base_channels;
        let mut res = c.resolution;
        let mut levels = Vec::with_capacity(n);
        for level in 0..n {
            let lp = p.pp("down").pp(level);
            let block_out = c.base_channels * c.ch_mult[level];
            let mut blocks = Vec::new();
            for i in 0..c.num_res_blocks {
                let block =
                    ResnetBlock::load(&lp.pp("block").pp(i), block_in, block_out, group, axis)?;
                block_in = block_out;
                let attn = if attn_at.contains(&res) {
                    Some(AttnBlock::load(&lp.pp("attn").pp(i), block_in, group)?)
                } else {
                    None
                };
                blocks.push((block, attn));
            }
            let downsample = if level + 1 != n {
                res /= 2;
                Some(Downsample::load(&lp.pp("downsample"), block_in, axis)?)
            } else {
                None
            };
            levels.push(EncoderLevel { blocks, downsample });
        }
        let mid = p.pp("mid");
        let mid_attn = if c.mid_block_add_attention {
            Some(AttnBlock::load(&mid.pp("attn_1"), block_in, group)?)
        } else {
            None
        };
        let z = if c.double_z {
            2 * c.latent_channels
        } else {
            c.latent_channels
        };
        Ok(Self {
            conv_in: CausalConv2d::load(&p.pp("conv_in"), c.in_channels, c.base_channels, 3, axis)?,
            levels,
            mid_1: ResnetBlock::load(&mid.pp("block_1"), block_in, block_in, group, axis)?,
            mid_attn,
            mid_2: ResnetBlock::load(&mid.pp("block_2"), block_in, block_in, group, axis)?,
            norm_out: Norm::load(&p.pp("norm_out"), group, block_in)?,
            conv_out: CausalConv2d::load(&p.pp("conv_out"), block_in, z, 3, axis)?,
        })
    }

    /// Mel `[B, in_channels, T, mel_bins]` → posterior parameters `[B, z, T', M']`.
    fn forward(&self, mel: &Tensor) -> Result<Tensor> {
        let mut h = self.conv_in.forward(mel)?;
        for level in &self.levels {
            for (block, attn) in &level.blocks {
                h = block.forward(&h)?;
                if let Some(a) = attn {
                    h = a.forward(&h)?;
                }
            }
            if let Some(d) = &level.downsample {
                h = d.forward(&h)?;
            }
        }
        h = self.mid_1.forward(&h)?;
        if let Some(a) = &self.mid_attn {
            h = a.forward(&h)?;
        }
        h = self.mid_2.forward(&h)?;
        let h = self.norm_out.forward(&h)?.f_silu()?;
        self.conv_out.forward(&h)
    }
}

/// A loaded LTX-2 audio VAE (decoder, encoder when stored, latent statistics).
#[derive(Debug)]
pub struct Ltx2AudioVae {
    config: Ltx2AudioVaeConfig,
    config_path: PathBuf,
    decoder: Decoder,
    /// The encoder, when the folder stores it (`encoder.*`).
    encoder: Option<Encoder>,
    /// `latents_mean` / `latents_std`, `[latent_channels · latent mel bins]`.
    latents_mean: Tensor,
    latents_std: Tensor,
    device: Device,
    kind: Kind,
    weights: ComponentWeights,
}

impl Ltx2AudioVae {
    /// Loads a diffusers `audio_vae/` folder (`config.json` and safetensors),
    /// cast to `kind` on `device`. A bad config is [`Error::Config`]; every
    /// missing or mis-shaped decoder tensor is reported at once as
    /// [`Error::WeightMismatch`]. The encoder is read when the folder has
    /// `encoder.conv_in.conv.weight` (then all of it must be there).
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        Self::load_inner(dir, None, device, kind)
    }

    /// As [`Self::load`], with the tensors taken from `store` (on its device
    /// and dtype) instead of `dir`'s safetensors: a recording store (random
    /// initialisation, encoder included) or one that keeps the tensors'
    /// names (training).
    pub fn load_with_store(dir: &Path, store: &TensorStore) -> Result<Self> {
        Self::load_inner(dir, Some(store), store.device(), store.kind())
    }

    fn load_inner(
        dir: &Path,
        given: Option<&TensorStore>,
        device: Device,
        kind: Kind,
    ) -> Result<Self> {
        let config_path = dir.join("config.json");
        let config: Ltx2AudioVaeConfig = read_config(&config_path)?;
        let bad = |reason: String| Error::Config {
            path: config_path.clone(),
            reason,
        };
        let axis = Self::validate(&config).map_err(bad)?;
        let opened;
        let store = match given {
            Some(s) => s,
            None => {
                opened = TensorStore::open(dir, "audio_vae", device, kind)?;
                &opened
            }
        };
        let root = store.root();
        let decoder = Decoder::load(&root.pp("decoder"), &config, axis)?;
        let encoder = if store.is_recording() || root.contains("encoder.conv_in.conv.weight") {
            Some(Encoder::load(&root.pp("encoder"), &config, axis)?)
        } else {
            None
        };
        let stats = config.base_channels;
        let latents_mean = root.get("latents_mean", &[stats])?;
        let latents_std = root.get("latents_std", &[stats])?;
        store.finish()?;
        let weights = ComponentWeights::new(store.weight_set());
        Ok(Self {
            config,
            config_path,
            decoder,
            encoder,
            latents_mean,
            latents_std,
            device,
            kind,
            weights,
        })
    }

    fn validate(c: &Ltx2AudioVaeConfig) -> std::result::Result<Causality, String> {
        let axis = match &c.causality_axis {
            Some(name) => Causality::from_name(name)?,
            None => {
                return Err(
                    "`causality_axis` null is rejected by diffusers' AutoencoderKLLTX2Audio".into(),
                )
            }
        };
        if c.ch_mult.is_empty() || c.ch_mult.iter().any(|&m| m < 1) {
            return Err(format!(
                "`ch_mult` must be positive entries, got {:?}",
                c.ch_mult
            ));
        }
        if c.base_channels < 1
            || c.latent_channels < 1
            || c.output_channels < 1
            || c.num_res_blocks < 0
        {
            return Err("channel counts must be positive".into());
        }
        match c.norm_type.as_str() {
            "pixel" => {}
            "group" => {
                if axis != Causality::None {
                    return Err("group norm with a causal axis is rejected by diffusers".into());
                }
                if c.ch_mult.iter().any(|m| (m * c.base_channels) % 32 != 0) {
                    return Err("group norm needs widths divisible by 32".into());
                }
            }
            other => return Err(format!("`norm_type` `{other}` is not pixel or group")),
        }
        if c.mel_bins.is_some_and(|m| m < 1) {
            return Err("`mel_bins` must be positive".into());
        }
        Ok(axis)
    }

    /// With `offloaded`, runs on `device` while the weights stay in host
    /// memory until a decode copies them (model offload).
    pub fn set_offload(&mut self, offloaded: bool, device: Device) -> Result<()> {
        self.weights.place("LTX-2 audio VAE", offloaded, device)?;
        self.device = device;
        Ok(())
    }

    /// Whether the weights wait in host memory between calls.
    pub fn is_offloaded(&self) -> bool {
        self.weights.is_offloaded()
    }

    fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// The parsed `config.json`.
    pub fn config(&self) -> &Ltx2AudioVaeConfig {
        &self.config
    }

    /// The `config.json` this VAE was loaded from.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The device the VAE runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The dtype of the weights.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Latent channels.
    pub fn latent_channels(&self) -> i64 {
        self.config.latent_channels
    }

    /// Latent mel bins (`mel_bins / 4`, the pipeline's `latent_mel_bins`).
    pub fn latent_mel_bins(&self) -> i64 {
        self.config.mel_bins.unwrap_or(64) / AUDIO_LATENT_DOWNSAMPLE
    }

    /// Mel frames decoded from `latent_frames` (`max(4·L − 3, 1)`).
    pub fn mel_frames(&self, latent_frames: i64) -> i64 {
        (latent_frames * AUDIO_LATENT_DOWNSAMPLE - (AUDIO_LATENT_DOWNSAMPLE - 1)).max(1)
    }

    /// Latent frames per second of audio (`sample_rate / hop / 4`, the pipeline's rate).
    pub fn latents_per_second(&self) -> f64 {
        self.config.sample_rate as f64
            / self.config.mel_hop_length as f64
            / AUDIO_LATENT_DOWNSAMPLE as f64
    }

    /// The pipeline's `_denormalize_audio_latents` on packed latents
    /// `[B, L, C·M]`: `x · std + mean` per feature.
    pub fn denormalize_packed(&self, packed: &Tensor) -> Result<Tensor> {
        let d = self.check_packed(packed)?;
        let (mean, std) = self.stats(packed, d)?;
        Ok(packed.f_mul(&std)?.f_add(&mean)?)
    }

    /// The pipeline's `_normalize_audio_latents` on packed latents `[B, L, C·M]`.
    pub fn normalize_packed(&self, packed: &Tensor) -> Result<Tensor> {
        let d = self.check_packed(packed)?;
        let (mean, std) = self.stats(packed, d)?;
        Ok(packed.f_sub(&mean)?.f_div(&std)?)
    }

    /// `[B, L, C·M] → [B, C, L, M]` (`_unpack_audio_latents` with whole-mel patches).
    pub fn unpack(&self, packed: &Tensor) -> Result<Tensor> {
        self.check_packed(packed)?;
        let m = self.latent_mel_bins();
        Ok(packed.f_unflatten(2, [-1, m])?.f_transpose(1, 2)?)
    }

    /// `[B, C, L, M] → [B, L, C·M]` (`_pack_audio_latents` with whole-mel patches).
    pub fn pack(&self, latents: &Tensor) -> Result<Tensor> {
        self.check_latents(latents)?;
        Ok(latents.f_transpose(1, 2)?.f_flatten(2, 3)?)
    }

    /// What `LTX2Pipeline` does with the loop's audio latents: de-normalise,
    /// unpack and decode; `[B, L, C·M]` → mel `[B, output_channels, 4L − 3, mel_bins]`.
    pub fn decode_packed(&self, packed: &Tensor) -> Result<Tensor> {
        let z = self.unpack(&self.denormalize_packed(packed)?)?;
        self.decode(&z)
    }

    /// Whether the folder stores the encoder (needed to condition on audio).
    pub fn has_encoder(&self) -> bool {
        self.encoder.is_some()
    }

    /// diffusers' `encode` on a log-mel spectrogram `[B, in_channels, T,
    /// mel_bins]`: the posterior's mean and log-variance (clamped to
    /// [-30, 20], as `DiagonalGaussianDistribution`), each `[B,
    /// latent_channels, L, M]` (f32). [`Error::Unsupported`] when the folder
    /// has no encoder.
    pub fn encode(&self, mel: &Tensor) -> Result<(Tensor, Tensor)> {
        let enc = self.encoder.as_ref().ok_or_else(|| {
            Error::Unsupported(
                "this audio VAE folder stores no encoder (`encoder.*` tensors): audio cannot be encoded"
                    .into(),
            )
        })?;
        let s = mel.size();
        let c = self.config.in_channels;
        if s.len() != 4 || s[0] < 1 || s[1] != c || s[2] < 1 || s[3] < 1 {
            return Err(Error::invalid(format!(
                "the LTX-2 audio VAE encodes mel spectrograms [B, {c}, T≥1, mel bins], got {s:?}"
            )));
        }
        let _uploaded = self.upload()?;
        let x = mel.f_to_device(self.device)?.f_to_kind(self.kind)?;
        let h = enc.forward(&x)?.f_to_kind(Kind::Float)?;
        let z = self.config.latent_channels;
        if !self.config.double_z {
            let zeros = h.f_zeros_like()?;
            return Ok((h, zeros));
        }
        let mean = h.f_narrow(1, 0, z)?;
        let logvar = h.f_narrow(1, z, z)?.f_clamp(-30.0, 20.0)?;
        Ok((mean, logvar))
    }

    /// A log-mel spectrogram `[B, in_channels, T, mel_bins]` → normalised
    /// packed latents `[B, L, C·M]` (the posterior's mean, packed and
    /// normalised): what the denoising loop walks, the inverse of
    /// [`Self::decode_packed`].
    pub fn encode_mel_packed(&self, mel: &Tensor) -> Result<Tensor> {
        let (mean, _) = self.encode(mel)?;
        self.normalize_packed(&self.pack(&mean)?)
    }

    /// Decodes latents `[B, latent_channels, L, M]` (diffusers' `decode`) into a
    /// mel spectrogram `[B, output_channels, max(4L − 3, 1), mel_bins]`.
    pub fn decode(&self, latents: &Tensor) -> Result<Tensor> {
        self.check_latents(latents)?;
        let s = latents.size();
        let _uploaded = self.upload()?;
        let z = latents.f_to_device(self.device)?.f_to_kind(self.kind)?;
        let out = self.decoder.forward(&z)?;
        let target_t = self.mel_frames(s[2]);
        let target_f = self.config.mel_bins.unwrap_or(s[3]);
        let o = out.size();
        let out = out
            .f_narrow(1, 0, self.config.output_channels.min(o[1]))?
            .f_narrow(2, 0, o[2].min(target_t))?
            .f_narrow(3, 0, o[3].min(target_f))?;
        let o = out.size();
        if o[2] < target_t || o[3] < target_f {
            return Ok(out.f_constant_pad_nd([0, target_f - o[3], 0, target_t - o[2]])?);
        }
        Ok(out)
    }

    fn check_latents(&self, latents: &Tensor) -> Result<()> {
        let s = latents.size();
        let c = self.config.latent_channels;
        if s.len() != 4 || s[0] < 1 || s[1] != c || s[2] < 1 || s[3] < 1 {
            return Err(Error::invalid(format!(
                "the LTX-2 audio VAE decodes latents [B, {c}, L≥1, M≥1], got {s:?}"
            )));
        }
        Ok(())
    }

    fn check_packed(&self, packed: &Tensor) -> Result<i64> {
        let s = packed.size();
        let d = self.latent_channels() * self.latent_mel_bins();
        if s.len() != 3 || s[0] < 1 || s[1] < 1 || s[2] != d {
            return Err(Error::invalid(format!(
                "packed audio latents must be [B, L≥1, {d}] (latent channels × latent mel bins), got {s:?}"
            )));
        }
        if self.latents_mean.size()[0] != d {
            return Err(Error::Config {
                path: self.config_path.clone(),
                reason: format!(
                    "the latent statistics have {} entries (base_channels) but packed latents have {d} features",
                    self.latents_mean.size()[0]
                ),
            });
        }
        Ok(d)
    }

    fn stats(&self, like: &Tensor, _d: i64) -> Result<(Tensor, Tensor)> {
        let to = |t: &Tensor| -> Result<Tensor> {
            Ok(t.f_to_device(like.device())?.f_to_kind(like.kind())?)
        };
        Ok((to(&self.latents_mean)?, to(&self.latents_std)?))
    }
}
