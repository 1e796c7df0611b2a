//! `AutoencoderKLWan` (diffusers), Wan 2.1 and Wan 2.2 forms: a causal 3-D
//! VAE that encodes video chunk by chunk over time (first frame, then four at
//! a time) and decodes latent frame by latent frame, with a per-layer feature
//! cache so that memory does not grow with the clip's length.
//!
//! - Wan 2.1: `z_dim` 16, spatial factor 8, temporal factor 4.
//! - Wan 2.2 (`is_residual`, `patch_size: 2`): `z_dim` 48, the video is folded
//!   2×2 into channels before encoding, residual blocks have parameter-free
//!   `AvgDown3D` / `DupUp3D` shortcuts, spatial factor 16.

mod blocks;
mod config;
mod decoder;
mod encoder;
mod patch;
mod resample;
mod tiling;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

pub use config::WanVaeConfig;
pub use patch::{patchify, unpatchify};
pub use tiling::VaeTiling;

use crate::nn::causal_conv::{CausalConv3d, FeatCache};
use crate::nn::offload::{ComponentWeights, Uploaded};
use crate::weights::{read_config, TensorStore};
use crate::{Error, Result};
use decoder::Decoder;
use encoder::Encoder;
pub(crate) use tiling::TileGrid;

/// Frames the encoder takes per chunk after the first (diffusers' fixed 4).
const ENCODE_CHUNK: i64 = 4;

/// The state of a decode continued across calls ([`WanVae::decode_continue`]):
/// the causal feature caches (one per spatial tile) and the latent frames
/// decoded so far.
#[derive(Debug, Default)]
pub struct DecodeStream {
    caches: Vec<FeatCache>,
    /// Latent frames decoded so far (the first one decodes to one frame).
    next: i64,
    /// Batch, channels, height and width of the stream's latents.
    shape: Option<[i64; 4]>,
}

impl DecodeStream {
    /// Latent frames decoded so far.
    pub fn latent_frames(&self) -> i64 {
        self.next
    }
}

/// The Wan video VAE (`AutoencoderKLWan`).
#[derive(Debug)]
pub struct WanVae {
    config: WanVaeConfig,
    config_path: PathBuf,
    encoder: Encoder,
    quant_conv: CausalConv3d,
    post_quant_conv: CausalConv3d,
    decoder: Decoder,
    device: Device,
    kind: Kind,
    num_parameters: i64,
    tiling: Option<VaeTiling>,
    /// Every weight, and whether they wait in host memory ([`WanVae::set_offload`]).
    weights: ComponentWeights,
}

impl WanVae {
    /// Loads a diffusers `vae/` folder: `config.json` and its safetensors,
    /// cast to `kind` on `device`. Every missing or mis-shaped tensor is
    /// reported at once as [`Error::WeightMismatch`].
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let config_path = dir.join("config.json");
        let config: WanVaeConfig = read_config(&config_path)?;
        let bad = |reason: String| Error::Config {
            path: config_path.clone(),
            reason,
        };
        config.validate().map_err(bad)?;
        let store = TensorStore::open(dir, "vae", device, kind)?;
        let root = store.root();
        let z = config.z_dim;
        let built = (|| -> Result<_> {
            Ok((
                Encoder::load(&root.pp("encoder"), &config)?,
                CausalConv3d::load_cube(&root.pp("quant_conv"), 2 * z, 2 * z, 1, 0)?,
                CausalConv3d::load_cube(&root.pp("post_quant_conv"), z, z, 1, 0)?,
                Decoder::load(&root.pp("decoder"), &config)?,
            ))
        })();
        let (encoder, quant_conv, post_quant_conv, decoder) = match built {
            Ok(parts) => parts,
            Err(Error::Unsupported(reason)) => return Err(bad(reason)),
            Err(e) => return Err(e),
        };
        store.finish()?;
        let weights = ComponentWeights::new(store.weight_set());
        let unexpected: HashSet<String> = store.report().unexpected.into_iter().collect();
        let num_parameters = store
            .tensor_infos()
            .into_iter()
            .filter(|(name, _, _)| !unexpected.contains(name))
            .map(|(_, _, shape)| shape.iter().product::<i64>())
            .sum();
        Ok(Self {
            config,
            config_path,
            encoder,
            quant_conv,
            post_quant_conv,
            decoder,
            device,
            kind,
            num_parameters,
            tiling: None,
            weights,
        })
    }

    /// With `offloaded`, runs on `device` while the weights stay where they
    /// were loaded (host memory) until [`WanVae::upload`] copies them for a
    /// while (model offload). Without, `device` must be the weights' device.
    pub fn set_offload(&mut self, offloaded: bool, device: Device) -> Result<()> {
        self.weights.place("Wan VAE", offloaded, device)?;
        self.device = device;
        Ok(())
    }

    /// When offloaded: copies every weight to the run device until the
    /// result is released (`None` when not offloaded).
    pub fn upload(&self) -> Result<Option<Uploaded>> {
        self.weights.upload(self.device)
    }

    /// Turns the spatially tiled decode on (`Some`) or off (`None`, the
    /// default, as in diffusers). Sizes must be positive, strides at most the
    /// tile size, all multiples of [`Self::spatial_factor`] and of the patch
    /// size: [`Error::InvalidRequest`] otherwise (the setting is then unchanged).
    pub fn set_tiling(&mut self, tiling: Option<VaeTiling>) -> Result<()> {
        if let Some(t) = &tiling {
            t.validate(self.spatial_factor(), self.config.patch())?;
        }
        self.tiling = tiling;
        Ok(())
    }

    /// The tiled-decode setting ([`Self::set_tiling`]).
    pub fn tiling(&self) -> Option<VaeTiling> {
        self.tiling
    }

    /// The parsed `config.json`.
    pub fn config(&self) -> &WanVaeConfig {
        &self.config
    }

    /// Number of weights the model uses.
    pub fn num_parameters(&self) -> i64 {
        self.num_parameters
    }

    /// The device the VAE runs on (where its weights live, unless offloaded).
    pub fn device(&self) -> Device {
        self.device
    }

    /// The dtype of the weights.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Latent channels (`z_dim`).
    pub fn latent_channels(&self) -> i64 {
        self.config.z_dim
    }

    /// Pixels per latent pixel (`scale_factor_spatial`, else the architecture's).
    pub fn spatial_factor(&self) -> i64 {
        self.config
            .scale_factor_spatial
            .filter(|&f| f > 0)
            .unwrap_or_else(|| self.config.arch_spatial_factor())
    }

    /// Frames per latent frame after the first (`scale_factor_temporal`, else the architecture's).
    pub fn temporal_factor(&self) -> i64 {
        self.config
            .scale_factor_temporal
            .filter(|&f| f > 0)
            .unwrap_or_else(|| self.config.arch_temporal_factor())
    }

    /// Latent frames for a clip of `num_frames` (`(n − 1) / factor + 1`).
    pub fn latent_frames(&self, num_frames: i64) -> i64 {
        (num_frames - 1) / self.temporal_factor() + 1
    }

    /// Video frames [`Self::decode`] makes from `latent_frames` latent frames
    /// (`1 + factor·(n − 1)`, the decoder's own time factor).
    pub fn video_frames(&self, latent_frames: i64) -> i64 {
        1 + self.config.decoder_temporal_factor() * (latent_frames - 1)
    }

    /// Whether a clip of `num_frames` satisfies the `1 + 4k` rule of encoding
    /// (any count when the encoder does not down-sample time).
    pub fn valid_num_frames(&self, num_frames: i64) -> bool {
        num_frames >= 1
            && (self.config.arch_temporal_factor() == 1 || (num_frames - 1) % ENCODE_CHUNK == 0)
    }

    /// Encodes `video` `[B, 3, T, H, W]` in `[-1, 1]` (T = 1 + 4k) into the
    /// diagonal Gaussian's `(mean, logvar)`, each `[B, z_dim, 1 + (T−1)/4, H/s, W/s]`,
    /// `logvar` clamped to `[-30, 20]` as diffusers does. The encoder runs on the
    /// first frame, then four frames at a time, with the feature cache.
    pub fn encode(&self, video: &Tensor) -> Result<(Tensor, Tensor)> {
        let p = self.config.patch();
        let s = video.size();
        let channels = self.config.in_channels / (p * p);
        if s.len() != 5 || s[1] != channels {
            return Err(Error::invalid(format!(
                "VAE encode expects video [B, {channels}, T, H, W], got {s:?}"
            )));
        }
        let (t, h, w) = (s[2], s[3], s[4]);
        if !self.valid_num_frames(t) {
            return Err(Error::invalid(format!(
                "VAE encode needs 1 + 4k frames, got {t}"
            )));
        }
        if h % p != 0 || w % p != 0 {
            return Err(Error::invalid(format!(
                "height ({h}) and width ({w}) must be divisible by patch_size ({p})"
            )));
        }
        let video = self.to_model(video)?;
        let x = patchify(&video, p)?;
        let mut cache = FeatCache::new();
        let mut outs = Vec::new();
        let mut start = 0;
        while start < t {
            let len = if start == 0 {
                1
            } else {
                ENCODE_CHUNK.min(t - start)
            };
            cache.begin_chunk();
            outs.push(
                self.encoder
                    .forward(&x.f_narrow(2, start, len)?, &mut cache)?,
            );
            start += len;
        }
        drop(cache);
        let out = if outs.len() == 1 {
            outs.pop().unwrap_or_else(|| unreachable!())
        } else {
            Tensor::f_cat(&outs, 2)?
        };
        let enc = self.quant_conv.forward(&out, None)?;
        let z = self.config.z_dim;
        let mean = enc.f_narrow(1, 0, z)?;
        let logvar = enc.f_narrow(1, z, z)?.f_clamp(-30.0, 20.0)?;
        Ok((mean, logvar))
    }

    /// Decodes unnormalised latents `z` `[B, z_dim, F, h, w]` (what diffusers'
    /// `vae.decode` takes) into video `[B, 3, 1 + 4(F−1), h·s, w·s]`, clamped to
    /// `[-1, 1]` when `clip_output`. Built on [`Self::decode_streaming`].
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        // Chunks are written into one preallocated clip (no final concatenation,
        // so the peak is the clip plus one chunk).
        let latent_frames = z.size().get(2).copied().unwrap_or(0);
        let mut video: Option<Tensor> = None;
        let mut at = 0;
        self.decode_streaming(z, &mut |c| {
            let s = c.size();
            let n = s[2];
            if video.is_none() {
                if latent_frames == 1 {
                    video = Some(c);
                    at = n;
                    return Ok(());
                }
                let per_chunk = self.config.decoder_temporal_factor();
                let total = n + (latent_frames - 1) * per_chunk;
                video = Some(Tensor::f_empty(
                    [s[0], s[1], total, s[3], s[4]],
                    (c.kind(), c.device()),
                )?);
            }
            let Some(v) = video.as_mut() else {
                unreachable!("allocated above")
            };
            if at + n > v.size()[2] {
                return Err(Error::Unsupported(format!(
                    "decoder produced more frames than its temporal factor {} allows",
                    self.config.decoder_temporal_factor()
                )));
            }
            v.f_narrow(2, at, n)?.f_copy_(&c)?;
            at += n;
            Ok(())
        })?;
        let video = video.ok_or_else(|| Error::invalid("no latent frames to decode"))?;
        if at != video.size()[2] {
            return Ok(video.f_narrow(2, 0, at)?);
        }
        Ok(video)
    }

    /// Decodes latent frame by latent frame, handing each chunk of video frames
    /// `[B, 3, n, H, W]` (1 frame for the first latent frame, then
    /// `temporal_factor` each) to `on_frames` as soon as it is ready. Memory
    /// stays bounded by the latents, one chunk and the feature cache.
    pub fn decode_streaming(
        &self,
        z: &Tensor,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        self.decode_continue(&mut DecodeStream::default(), z, on_frames)
    }

    /// [`Self::decode_streaming`] as the continuation of `stream`: the latent
    /// frames of `z` follow those `stream` decoded before (its causal feature
    /// caches kept), so decoding a clip's latents in parts, one call per part
    /// on one stream, gives the frames of decoding them at once (long-form
    /// generation's windows). Memory holds `z`, one chunk and the caches.
    pub fn decode_continue(
        &self,
        stream: &mut DecodeStream,
        z: &Tensor,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let s = z.size();
        if s.len() != 5 || s[1] != self.config.z_dim || s[2] < 1 {
            return Err(Error::invalid(format!(
                "VAE decode expects latents [B, {}, F≥1, h, w], got {s:?}",
                self.config.z_dim
            )));
        }
        if let Some(shape) = &stream.shape {
            if shape.as_slice() != [s[0], s[1], s[3], s[4]] {
                return Err(Error::invalid(format!(
                    "a continued decode's latents {s:?} differ in batch, channels or size from \
                     the stream's {shape:?}"
                )));
            }
        }
        stream.shape = Some([s[0], s[1], s[3], s[4]]);
        let z = self.to_model(z)?;
        let p = self.config.patch();
        if let Some(t) = &self.tiling {
            let grid = TileGrid::new(t, self.spatial_factor(), p);
            if grid.needs_tiling(s[3], s[4]) {
                return self.decode_tiled(&z, &grid, stream, on_frames);
            }
        }
        if stream.caches.is_empty() {
            stream.caches.push(FeatCache::new());
        }
        for i in 0..s[2] {
            let cache = &mut stream.caches[0];
            cache.begin_chunk();
            // `post_quant_conv` is 1×1×1: applied per latent frame, it needs
            // no second copy of the whole latent.
            let x = self.post_quant_conv.forward(&z.f_narrow(2, i, 1)?, None)?;
            let out = self.decoder.forward(&x, cache, stream.next == 0)?;
            stream.next += 1;
            let mut out = unpatchify(&out, p)?;
            if self.config.clip_output {
                let _ = out.f_clamp_(-1.0, 1.0)?;
            }
            on_frames(out)?;
        }
        Ok(())
    }

    /// The tiled form of [`Self::decode_continue`] (diffusers' `tiled_decode`,
    /// one latent frame at a time): every tile has its own feature cache; per
    /// latent frame each tile's slice is decoded, then the chunk is blended,
    /// cropped and joined, unpatchified and clamped.
    fn decode_tiled(
        &self,
        z: &Tensor,
        grid: &TileGrid,
        stream: &mut DecodeStream,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let s = z.size();
        let (h, w) = (s[3], s[4]);
        let p = self.config.patch();
        let factor = self.spatial_factor();
        let (out_h, out_w) = (h * factor / p, w * factor / p);
        let (row_at, col_at) = grid.origins(h, w);
        let tiles = row_at.len() * col_at.len();
        if stream.caches.len() != tiles {
            stream.caches = (0..tiles).map(|_| FeatCache::new()).collect();
        }
        for k in 0..s[2] {
            let frame = z.f_narrow(2, k, 1)?;
            let first = stream.next == 0;
            let mut rows = Vec::with_capacity(row_at.len());
            let mut caches_left = stream.caches.iter_mut();
            for &i in &row_at {
                let mut row = Vec::with_capacity(col_at.len());
                for &j in &col_at {
                    let cache = caches_left
                        .next()
                        .ok_or_else(|| Error::invalid("tile cache missing"))?;
                    cache.begin_chunk();
                    let tile = frame
                        .f_narrow(3, i, grid.latent_min.0.min(h - i))?
                        .f_narrow(4, j, grid.latent_min.1.min(w - j))?;
                    let x = self.post_quant_conv.forward(&tile, None)?;
                    row.push(self.decoder.forward(&x, cache, first)?);
                }
                rows.push(row);
            }
            stream.next += 1;
            let joined = tiling::join_tiles(rows, grid, out_h, out_w)?;
            let mut out = unpatchify(&joined, p)?;
            if self.config.clip_output {
                let _ = out.f_clamp_(-1.0, 1.0)?;
            }
            on_frames(out)?;
        }
        Ok(())
    }

    /// `(latents − mean) · (1 / std)`: raw VAE latents to the normalised space
    /// the transformer works in (WanPipeline / WanImageToVideoPipeline).
    pub fn normalize_latents(&self, latents: &Tensor) -> Result<Tensor> {
        let (mean, inv_std) = self.latent_stats(latents)?;
        Ok(latents.f_sub(&mean)?.f_mul(&inv_std)?)
    }

    /// `latents / (1 / std) + mean`: normalised latents back to what
    /// [`Self::decode`] takes, exactly as WanPipeline computes it.
    pub fn denormalize_latents(&self, latents: &Tensor) -> Result<Tensor> {
        let (mean, inv_std) = self.latent_stats(latents)?;
        Ok(latents.f_div(&inv_std)?.f_add(&mean)?)
    }

    /// `latents_mean` and `1 / latents_std` as `[1, z, 1, 1, 1]` in `latents`'
    /// dtype and device (the reciprocal taken in that dtype, as diffusers does).
    fn latent_stats(&self, latents: &Tensor) -> Result<(Tensor, Tensor)> {
        let z = self.config.z_dim;
        let (mean, std) = (&self.config.latents_mean, &self.config.latents_std);
        if mean.len() as i64 != z || std.len() as i64 != z {
            return Err(Error::Config {
                path: self.config_path.clone(),
                reason: format!(
                    "`latents_mean` ({}) and `latents_std` ({}) must have z_dim ({z}) entries",
                    mean.len(),
                    std.len()
                ),
            });
        }
        let s = latents.size();
        if s.len() != 5 || s[1] != z {
            return Err(Error::invalid(format!(
                "latents must be [B, {z}, F, h, w], got {s:?}"
            )));
        }
        let opts = (latents.kind(), latents.device());
        let as_tensor = |v: &[f64]| -> Result<Tensor> {
            let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Ok(Tensor::f_from_slice(&f)?
                .f_view([1, z, 1, 1, 1])?
                .f_to_device(opts.1)?
                .f_to_kind(opts.0)?)
        };
        let mean = as_tensor(mean)?;
        let inv_std = as_tensor(std)?.f_reciprocal()?;
        Ok((mean, inv_std))
    }

    fn to_model(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_to_device(self.device)?.f_to_kind(self.kind)?)
    }
}
