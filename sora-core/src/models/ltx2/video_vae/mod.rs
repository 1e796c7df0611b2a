//! `AutoencoderKLLTX2Video` (diffusers 0.42.1): LTX-2's video VAE, with the
//! pipeline's latent handling around it.
//!
//! - Decode: latents `[B, C, F, h, w]` → pixels `[B, 3, 1 + t·(F − 1), h·s, w·s]`
//!   in about `[-1, 1]` (not clamped, as diffusers). Convolutions pad time by
//!   repeating edge frames (causal or centred, per `decoder_causal`) and space
//!   with zeros or reflection; up-sampling is depth-to-space with a
//!   parameter-free residual; norms are per-channel RMS; a
//!   `timestep_conditioning` decoder takes the pipeline's `decode_timestep`
//!   and its latents are first mixed with noise (`decode_noise_scale`), see
//!   [`DecodeConditioning`].
//! - Encode: pixels → the posterior's mean and (one shared) log-variance.
//! - [`Ltx2VideoVae::normalize_latents`] / [`Ltx2VideoVae::denormalize_latents`]:
//!   the pipelines' per-channel `latents_mean` / `latents_std` with `scaling_factor`.
//!
//! Decode runs over the whole clip by default, as diffusers; with
//! [`Ltx2VideoVae::set_tiling`] (diffusers' `enable_tiling`) it cuts the latent
//! into overlapping spatial tiles and with [`Ltx2VideoVae::set_frame_tiling`]
//! (diffusers' `use_framewise_decoding`) into overlapping time windows, handed
//! out window by window by [`Ltx2VideoVae::decode_streaming`]. Encode always
//! runs over the whole clip.

mod blocks;
mod config;
mod decoder;
mod encoder;
mod tiling;

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub(crate) use blocks::stride_of;
pub use config::{Flags, Ltx2VideoVaeConfig};
pub use tiling::FrameTiling;

use crate::nn::offload::{ComponentWeights, Uploaded};
use crate::nn::tiling::VaeTiling;
use crate::weights::{read_config, TensorStore};
use crate::{Error, Result};
use decoder::Decoder;
use encoder::Encoder;

/// What `LTX2Pipeline` does before a timestep-conditioned decode: per batch
/// item, latents become `(1 − s)·latents + s·noise`, and the decoder gets
/// `timestep`. diffusers' defaults are `decode_timestep = 0` and
/// `decode_noise_scale = decode_timestep`.
#[derive(Debug)]
pub struct DecodeConditioning {
    /// Decode timestep per batch item (one value: all items).
    pub timestep: Vec<f64>,
    /// Noise share per batch item (one value: all items).
    pub noise_scale: Vec<f64>,
    /// Standard normal noise of the latents' shape.
    pub noise: Tensor,
}

/// A loaded LTX-2 video VAE.
#[derive(Debug)]
pub struct Ltx2VideoVae {
    config: Ltx2VideoVaeConfig,
    config_path: PathBuf,
    encoder: Encoder,
    decoder: Decoder,
    latents_mean: Tensor,
    latents_std: Tensor,
    device: Device,
    kind: Kind,
    weights: ComponentWeights,
    tiling: Option<VaeTiling>,
    frame_tiling: Option<FrameTiling>,
}

impl Ltx2VideoVae {
    /// Loads a diffusers `vae/` folder (`config.json` and safetensors), cast
    /// to `kind` on `device`. A config this port cannot build is
    /// [`Error::Config`]; every missing or mis-shaped tensor is reported at
    /// once as [`Error::WeightMismatch`].
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        Self::load_inner(dir, None, device, kind)
    }

    /// As [`Self::load`], with the tensors taken from `store` (on its device
    /// and dtype) instead of `dir`'s safetensors: a recording store (random
    /// initialisation) or one that keeps the tensors' names (training).
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
        let config: Ltx2VideoVaeConfig = read_config(&config_path)?;
        let bad = |reason: String| Error::Config {
            path: config_path.clone(),
            reason,
        };
        if config.patch_size < 1 || config.patch_size_t < 1 || config.latent_channels < 1 {
            return Err(bad(
                "patch sizes and latent channels must be positive".into()
            ));
        }
        let opened;
        let store = match given {
            Some(s) => s,
            None => {
                opened = TensorStore::open(dir, "vae", device, kind)?;
                &opened
            }
        };
        let root = store.root();
        let built = (|| -> Result<_> {
            Ok((
                Encoder::load(&root.pp("encoder"), &config)?,
                Decoder::load(&root.pp("decoder"), &config)?,
            ))
        })();
        let (encoder, decoder) = match built {
            Ok(parts) => parts,
            Err(Error::Unsupported(reason)) => return Err(bad(reason)),
            Err(e) => return Err(e),
        };
        let c = config.latent_channels;
        let latents_mean = root.get("latents_mean", &[c])?;
        let latents_std = root.get("latents_std", &[c])?;
        store.finish()?;
        let weights = ComponentWeights::new(store.weight_set());
        Ok(Self {
            config,
            config_path,
            encoder,
            decoder,
            latents_mean,
            latents_std,
            device,
            kind,
            weights,
            tiling: None,
            frame_tiling: None,
        })
    }

    /// Spatially tiled decode on (`Some`, diffusers' `enable_tiling` sizes) or
    /// off (`None`, the default). Sizes must be positive multiples of
    /// [`Self::spatial_compression_ratio`], strides at most the tile:
    /// [`Error::InvalidRequest`] otherwise (the setting is then unchanged).
    pub fn set_tiling(&mut self, tiling: Option<VaeTiling>) -> Result<()> {
        if let Some(t) = &tiling {
            t.validate(self.spatial_compression_ratio(), 1)?;
        }
        self.tiling = tiling;
        Ok(())
    }

    /// The spatial tiling setting ([`Self::set_tiling`]).
    pub fn tiling(&self) -> Option<VaeTiling> {
        self.tiling
    }

    /// Decode in overlapping time windows (`Some`, diffusers'
    /// `use_framewise_decoding` with its frame tile sizes) or over the whole
    /// clip (`None`, the default); checked by [`FrameTiling::validate`].
    pub fn set_frame_tiling(&mut self, frames: Option<FrameTiling>) -> Result<()> {
        if let Some(f) = &frames {
            f.validate(self.temporal_compression_ratio())?;
        }
        self.frame_tiling = frames;
        Ok(())
    }

    /// The frame-wise decode setting ([`Self::set_frame_tiling`]).
    pub fn frame_tiling(&self) -> Option<FrameTiling> {
        self.frame_tiling
    }

    /// With `offloaded`, runs on `device` while the weights stay in host
    /// memory until a call copies them (model offload).
    pub fn set_offload(&mut self, offloaded: bool, device: Device) -> Result<()> {
        self.weights.place("LTX-2 video VAE", offloaded, device)?;
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
    pub fn config(&self) -> &Ltx2VideoVaeConfig {
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

    /// Whether decoding needs a [`DecodeConditioning`] (`timestep_conditioning`).
    pub fn timestep_conditioning(&self) -> bool {
        self.decoder.conditioned()
    }

    /// Pixels per latent pixel, as the pipeline reads it
    /// (`spatial_compression_ratio`, else diffusers' formula).
    pub fn spatial_compression_ratio(&self) -> i64 {
        let n = self
            .config
            .spatio_temporal_scaling
            .expand(self.config.layers_per_block.len().saturating_sub(1))
            .iter()
            .filter(|&&b| b)
            .count() as u32;
        self.config
            .spatial_compression_ratio
            .unwrap_or(self.config.patch_size * 2i64.pow(n))
    }

    /// Frames per latent frame, as the pipeline reads it
    /// (`temporal_compression_ratio`, else diffusers' formula).
    pub fn temporal_compression_ratio(&self) -> i64 {
        let n = self
            .config
            .spatio_temporal_scaling
            .expand(self.config.layers_per_block.len().saturating_sub(1))
            .iter()
            .filter(|&&b| b)
            .count() as u32;
        self.config
            .temporal_compression_ratio
            .unwrap_or(self.config.patch_size_t * 2i64.pow(n))
    }

    /// Frames decoded from `latent_frames` (`1 + t·(F − 1)`, `t` the decoder's own factor).
    pub fn video_frames(&self, latent_frames: i64) -> i64 {
        1 + self.decoder.factors[0] * self.config.patch_size_t * (latent_frames - 1)
    }

    /// Latent frames of a clip of `frames` (`(T − 1)/t + 1`, the encoder's factor).
    pub fn latent_frames(&self, frames: i64) -> i64 {
        (frames - 1) / (self.encoder.factors[0] * self.config.patch_size_t) + 1
    }

    /// Decodes unnormalised latents `[B, C, F, h, w]` (what diffusers'
    /// `vae.decode` takes) into pixels `[B, 3, T, H, W]`. `timestep` `[B]` (or
    /// one value) is required by a `timestep_conditioning` decoder and ignored
    /// otherwise.
    pub fn decode(&self, z: &Tensor, timestep: Option<&Tensor>) -> Result<Tensor> {
        let mut parts = Vec::new();
        self.decode_streaming(z, timestep, &mut |t| {
            parts.push(t);
            Ok(())
        })?;
        if parts.len() == 1 {
            return parts.pop().ok_or_else(|| Error::invalid("nothing decoded"));
        }
        Ok(Tensor::f_cat(&parts, 2)?)
    }

    /// [`Self::decode`], handing the frames to `on_frames` window by window
    /// when frame tiling is on (once, whole, otherwise).
    pub fn decode_streaming(
        &self,
        z: &Tensor,
        timestep: Option<&Tensor>,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let s = z.size();
        let c = self.config.latent_channels;
        if s.len() != 5 || s[0] < 1 || s[1] != c || s.iter().any(|&d| d < 1) {
            return Err(Error::invalid(format!(
                "the LTX-2 video VAE decodes latents [B, {c}, F≥1, h≥1, w≥1], got {s:?}"
            )));
        }
        let timestep = if self.decoder.conditioned() {
            let t = timestep.ok_or_else(|| {
                Error::invalid(
                    "this LTX-2 video VAE is timestep-conditioned: decode needs a timestep",
                )
            })?;
            let n = t.numel() as i64;
            if n != s[0] && n != 1 {
                return Err(Error::invalid(format!(
                    "decode timestep has {n} values for a batch of {}",
                    s[0]
                )));
            }
            Some(
                t.f_reshape([n])?
                    .f_to_device(self.device)?
                    .f_to_kind(Kind::Float)?
                    .f_expand([s[0]], false)?,
            )
        } else {
            None
        };
        let _uploaded = self.upload()?;
        let z = z.f_to_device(self.device)?.f_to_kind(self.kind)?;
        // The timestep goes to the sinusoid in f32 and is cast to the weights'
        // dtype after it; diffusers keeps it in the latents' dtype before.
        let timestep = match timestep {
            Some(t) => Some(t.f_to_kind(self.kind)?.f_to_kind(Kind::Float)?),
            None => None,
        };
        let plan = tiling::Plan {
            spatial: self.tiling,
            frames: self.frame_tiling,
            spatial_ratio: self.spatial_compression_ratio(),
            temporal_ratio: self.temporal_compression_ratio(),
        };
        plan.run(
            &z,
            &|x| self.decoder.forward(x, timestep.as_ref()),
            on_frames,
        )
    }

    /// What `LTX2Pipeline` does with the loop's (unpacked) video latents:
    /// with timestep conditioning, mixes in `cond`'s noise and decodes at its
    /// timestep; then de-normalises and decodes. `cond` is required when
    /// [`Self::timestep_conditioning`] and ignored otherwise.
    pub fn decode_latents(
        &self,
        latents: &Tensor,
        cond: Option<&DecodeConditioning>,
    ) -> Result<Tensor> {
        let (z, timestep) = self.decoder_input(latents, cond)?;
        self.decode(&z, timestep.as_ref())
    }

    /// [`Self::decode_latents`], handing the frames to `on_frames` window by
    /// window as [`Self::decode_streaming`] does.
    pub fn decode_latents_streaming(
        &self,
        latents: &Tensor,
        cond: Option<&DecodeConditioning>,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let (z, timestep) = self.decoder_input(latents, cond)?;
        self.decode_streaming(&z, timestep.as_ref(), on_frames)
    }

    /// The de-normalised (and, when conditioned, noised) latents and the
    /// decode timestep of [`Self::decode_latents`].
    fn decoder_input(
        &self,
        latents: &Tensor,
        cond: Option<&DecodeConditioning>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (x, timestep) = match (self.decoder.conditioned(), cond) {
            (false, _) => (latents.shallow_clone(), None),
            (true, None) => {
                return Err(Error::invalid(
                    "this LTX-2 video VAE is timestep-conditioned: decoding needs a decode timestep and noise",
                ))
            }
            (true, Some(c)) => {
                let b = latents.size().first().copied().unwrap_or(0);
                let per_item = |v: &[f64], what: &str| -> Result<Vec<f64>> {
                    match v.len() {
                        1 => Ok(vec![v[0]; b as usize]),
                        n if n as i64 == b => Ok(v.to_vec()),
                        n => Err(Error::invalid(format!("{what} has {n} values for a batch of {b}"))),
                    }
                };
                let t = per_item(&c.timestep, "decode_timestep")?;
                let s = per_item(&c.noise_scale, "decode_noise_scale")?;
                if c.noise.size() != latents.size() {
                    return Err(Error::invalid(format!(
                        "decode noise {:?} does not have the latents' shape {:?}",
                        c.noise.size(),
                        latents.size()
                    )));
                }
                let opts = (latents.kind(), latents.device());
                let scale = Tensor::f_from_slice(&s)?.f_to_kind(opts.0)?.f_to_device(opts.1)?.f_view([b, 1, 1, 1, 1])?;
                let noise = c.noise.f_to_kind(opts.0)?.f_to_device(opts.1)?;
                let one_minus = scale.f_neg()?.f_add_scalar(1.0)?;
                let mixed = latents.f_mul(&one_minus)?.f_add(&noise.f_mul(&scale)?)?;
                (mixed, Some(Tensor::f_from_slice(&t)?.f_to_kind(opts.0)?))
            }
        };
        Ok((self.denormalize_latents(&x)?, timestep))
    }

    /// Encodes pixels `[B, 3, T, H, W]` in `[-1, 1]` into the posterior's
    /// `(mean, logvar)`, each `[B, C, (T − 1)/t + 1, H/s, W/s]`, `logvar`
    /// clamped to `[-30, 20]` (diffusers' `DiagonalGaussianDistribution`).
    /// `T` must be `1 + t·k`, `H` and `W` multiples of the spatial factor.
    pub fn encode(&self, video: &Tensor) -> Result<(Tensor, Tensor)> {
        let s = video.size();
        let ch = self.config.in_channels;
        let [ft, fh, fw] = self.encoder.factors;
        let (p, pt) = (self.config.patch_size, self.config.patch_size_t);
        if s.len() != 5 || s[0] < 1 || s[1] != ch || s[2] < 1 {
            return Err(Error::invalid(format!(
                "the LTX-2 video VAE encodes video [B, {ch}, T, H, W], got {s:?}"
            )));
        }
        let tf = ft * pt;
        if (s[2] - 1) % tf != 0 || s[2] % pt != 0 {
            return Err(Error::invalid(format!(
                "the LTX-2 video VAE encodes 1 + {tf}k frames, got {}",
                s[2]
            )));
        }
        if s[3] < 1 || s[4] < 1 || s[3] % (fh * p) != 0 || s[4] % (fw * p) != 0 {
            return Err(Error::invalid(format!(
                "the LTX-2 video VAE encodes heights that are multiples of {} and widths of {}, got {}×{}",
                fh * p,
                fw * p,
                s[3],
                s[4]
            )));
        }
        let _uploaded = self.upload()?;
        let x = video.f_to_device(self.device)?.f_to_kind(self.kind)?;
        let h = self.encoder.forward(&x)?;
        let c = self.config.latent_channels;
        let mean = h.f_narrow(1, 0, c)?;
        let hs = h.size();
        let logvar = h
            .f_narrow(1, c, 1)?
            .f_expand([hs[0], c, hs[2], hs[3], hs[4]], false)?
            .f_clamp(-30.0, 20.0)?
            .f_contiguous()?;
        Ok((mean, logvar))
    }

    /// `(latents − mean) · scaling_factor / std` per channel (the pipelines'
    /// `_normalize_latents`; `LTX2ImageToVideoPipeline` passes a scaling factor of 1).
    pub fn normalize_latents(&self, latents: &Tensor, scaling_factor: f64) -> Result<Tensor> {
        let (mean, std) = self.stats(latents)?;
        Ok(latents
            .f_sub(&mean)?
            .f_mul_scalar(scaling_factor)?
            .f_div(&std)?)
    }

    /// `latents · std / scaling_factor + mean` per channel with the config's
    /// `scaling_factor` (`LTX2Pipeline._denormalize_latents`).
    pub fn denormalize_latents(&self, latents: &Tensor) -> Result<Tensor> {
        let (mean, std) = self.stats(latents)?;
        Ok(latents
            .f_mul(&std)?
            .f_div_scalar(self.config.scaling_factor)?
            .f_add(&mean)?)
    }

    fn stats(&self, like: &Tensor) -> Result<(Tensor, Tensor)> {
        let c = self.config.latent_channels;
        let s = like.size();
        if s.len() != 5 || s[1] != c {
            return Err(Error::invalid(format!(
                "video latents must be [B, {c}, F, h, w], got {s:?}"
            )));
        }
        let to = |t: &Tensor| -> Result<Tensor> {
            Ok(t.f_view([1, c, 1, 1, 1])?
                .f_to_device(like.device())?
                .f_to_kind(like.kind())?)
        };
        Ok((to(&self.latents_mean)?, to(&self.latents_std)?))
    }
}
