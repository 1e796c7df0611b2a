//! LTX-2 frame conditions as diffusers' `LTX2ConditionPipeline` applies them
//! (and image-to-video's first frame, the same machinery): per condition the
//! frames are resized to cover the request's size and centre-cropped
//! (`F.interpolate` bilinear, no anti-aliasing), trimmed to the `8n + 1`
//! frames that fit from the condition's start, encoded by the video VAE (the
//! posterior's mode, normalised with scaling 1) and packed. A condition at
//! latent index 0 overwrites the first tokens of the video; one at a later
//! index is appended as extra "keyframe" tokens with its own positions
//! (pixel frame `(index − 1)·temporal + 1`, seconds at the run's rate; a
//! single image spans one pixel frame). Every conditioned token carries its
//! strength in the per-token mask: the starting latents are
//! `noise·(1 − m)·s + latents·(1 − (1 − m)·s)` (`s` the noise scale, 1), the
//! transformer sees the timestep `t·(1 − m)` per token, and the walk blends
//! the clean values back into each step's clean-sample estimate
//! ([`crate::denoise::condition::VideoCondition`]). The keyframe tokens are
//! dropped before decoding.

use ndarray::ArrayView4;
use tch::{Kind, Tensor};

use super::image::crf_to_qp;
use super::latents::pack_video;
use super::transformer::video_coords;
use crate::{Error, Result};

/// The frames `[T, H, W, 3]` of a condition → `[1, 3, T, height, width]` f32
/// in \[-1, 1\] as `preprocess_conditions` makes them: a single frame first
/// re-compressed when `crf > 0` ([`crate::io::recompress_image`] at
/// [`crf_to_qp`]), then every frame scaled by `max(height/H, width/W)` to
/// `ceil` sizes (bilinear, half-pixel centres, no anti-aliasing),
/// centre-cropped, and mapped by `x/127.5 − 1`.
pub fn preprocess_frames(
    frames: ArrayView4<u8>,
    width: u32,
    height: u32,
    crf: u32,
) -> Result<Tensor> {
    let s = frames.shape();
    if s[0] == 0 || s[1] == 0 || s[2] == 0 || s[3] != 3 {
        return Err(Error::invalid(format!(
            "condition frames must be [T, H, W, 3] RGB and not empty, got {s:?}"
        )));
    }
    let recompressed;
    let frames = if s[0] == 1 && crf > 0 {
        let one = frames.index_axis(ndarray::Axis(0), 0);
        recompressed =
            crate::io::recompress_image(one, crf_to_qp(crf))?.insert_axis(ndarray::Axis(0));
        recompressed.view()
    } else {
        frames
    };
    let (t, sh, sw) = (
        frames.shape()[0] as i64,
        frames.shape()[1] as i64,
        frames.shape()[2] as i64,
    );
    let data: Vec<u8> = frames.iter().copied().collect();
    let (h, w) = (i64::from(height), i64::from(width));
    let scale = (h as f64 / sh as f64).max(w as f64 / sw as f64);
    let new_h = (sh as f64 * scale).ceil() as i64;
    let new_w = (sw as f64 * scale).ceil() as i64;
    let pixels = Tensor::f_from_slice(&data)?
        .f_view([t, sh, sw, 3])?
        .f_to_kind(Kind::Float)?
        .f_permute([0, 3, 1, 2])?
        .f_contiguous()?;
    let resized = pixels.f_upsample_bilinear2d([new_h, new_w], false, None, None)?;
    let top = (new_h - h) / 2;
    let left = (new_w - w) / 2;
    Ok(resized
        .f_narrow(2, top, h)?
        .f_narrow(3, left, w)?
        .f_div_scalar(127.5)?
        .f_sub_scalar(1.0)?
        .f_permute([1, 0, 2, 3])?
        .f_unsqueeze(0)?
        .f_contiguous()?)
}

/// The frames of a condition starting at latent index `latent_index` that
/// fit a video of `frames` frames: `min(have, frames − start)` rounded down
/// to `temporal·n + 1` (`trim_conditioning_sequence`), `start` being pixel
/// frame `max((latent_index − 1)·temporal + 1, 0)`.
pub fn trimmed_frames(latent_index: i64, have: i64, frames: i64, temporal: i64) -> i64 {
    let start = ((latent_index - 1) * temporal + 1).max(0);
    let n = have.min(frames - start).max(1);
    (n - 1) / temporal.max(1) * temporal.max(1) + 1
}

/// One condition, encoded: normalised latents `[1, C, f, h, w]` (f32),
/// where it goes and how strongly it holds.
pub struct EncodedCondition {
    /// The VAE's mode of the condition's frames, normalised (scaling 1).
    pub latents: Tensor,
    /// Latent frame index (non-negative).
    pub index: i64,
    /// Strength in \[0, 1\].
    pub strength: f64,
    /// Pixel frames the condition kept after the trim.
    pub pixel_frames: i64,
}

/// The conditions placed on the packed video latents (before the noise).
pub struct Placed {
    /// Packed latents `[1, S + K, C]`: zeros, the conditions' tokens where
    /// they go (`S` the video's tokens, `K` the keyframe tokens).
    pub latents: Tensor,
    /// Strength per token `[1, S + K, 1]` (0 on free tokens).
    pub mask: Tensor,
    /// Clean values per token (zeros on free tokens).
    pub clean: Tensor,
    /// Positions of the keyframe tokens `[1, 3, K, 2]`, `None` without any.
    pub keyframe_coords: Option<Tensor>,
}

/// Where the latents live: the grid, patching and scale factors the
/// placement needs.
pub struct Layout {
    /// Latent (frames, height, width) of the video.
    pub grid: [i64; 3],
    /// Latent channels.
    pub channels: i64,
    /// The transformer's spatial patch size.
    pub patch: i64,
    /// The transformer's temporal patch size.
    pub patch_t: i64,
    /// The VAE's (temporal, spatial, spatial) compression.
    pub scale: [i64; 3],
    /// The frame rate of the positions.
    pub fps: f64,
}

/// Places `conds` as `prepare_latents` does (see the module docs): index-0
/// conditions overwrite the first tokens (later ones over earlier ones),
/// later indices are appended as keyframe tokens in order.
pub fn place(conds: &[EncodedCondition], layout: &Layout) -> Result<Placed> {
    let [f, h, w] = layout.grid;
    let first = conds.first().map(|c| c.latents.device());
    let device = first.unwrap_or(tch::Device::Cpu);
    let opts = (Kind::Float, device);
    let (p, pt) = (layout.patch, layout.patch_t);
    let latents = pack_video(
        &Tensor::f_zeros([1, layout.channels, f, h, w], opts)?,
        p,
        pt,
    )?;
    let mask = pack_video(&Tensor::f_zeros([1, 1, f, h, w], opts)?, p, pt)?;
    if mask.size().last() != Some(&1) {
        return Err(Error::Unsupported(format!(
            "LTX-2 frame conditions need a transformer patch size of 1 (the pipeline's mask is per latent pixel), got {p}×{p}×{pt}"
        )));
    }
    let clean = latents.f_zeros_like()?;
    let tokens = latents.size()[1];
    let mut extra = Vec::new();
    let mut extra_mask = Vec::new();
    let mut extra_coords = Vec::new();
    for c in conds {
        let packed = pack_video(&c.latents.f_to_kind(Kind::Float)?, p, pt)?;
        let n = packed.size()[1];
        if c.index == 0 {
            if n > tokens {
                return Err(Error::invalid(format!(
                    "a condition of {n} tokens does not fit the video's {tokens}"
                )));
            }
            latents.f_narrow(1, 0, n)?.f_copy_(&packed)?;
            clean.f_narrow(1, 0, n)?.f_copy_(&packed)?;
            let _ = mask.f_narrow(1, 0, n)?.f_fill_(c.strength)?;
            continue;
        }
        let s = c.latents.size();
        let coords = keyframe_coords(
            [s[2], s[3], s[4]],
            layout,
            (c.index - 1) * layout.scale[0] + 1,
            c.pixel_frames,
            device,
        )?;
        extra_mask.push(Tensor::f_full([1, n, 1], c.strength, opts)?);
        extra.push(packed);
        extra_coords.push(coords);
    }
    if extra.is_empty() {
        return Ok(Placed {
            latents,
            mask,
            clean,
            keyframe_coords: None,
        });
    }
    let kf = Tensor::f_cat(&extra, 1)?;
    Ok(Placed {
        latents: Tensor::f_cat(&[latents, kf.shallow_clone()], 1)?,
        mask: Tensor::f_cat(&[mask, Tensor::f_cat(&extra_mask, 1)?], 1)?,
        clean: Tensor::f_cat(&[clean, kf], 1)?,
        keyframe_coords: Some(Tensor::f_cat(&extra_coords, 2)?),
    })
}

/// The starting latents `noise·(1 − m)·s + latents·(1 − (1 − m)·s)` of
/// `prepare_latents` (`noise` in the packed shape, `s` the noise scale).
pub fn noised(placed: &Placed, noise: &Tensor, noise_scale: f64) -> Result<Tensor> {
    let noise = noise.f_to_device(placed.latents.device())?;
    let scaled = placed.mask.f_rsub_scalar(1.0)?.f_mul_scalar(noise_scale)?;
    Ok(noise
        .f_mul(&scaled)?
        .f_add(&placed.latents.f_mul(&scaled.f_rsub_scalar(1.0)?)?)?)
}

/// Positions `[1, 3, N, 2]` of a keyframe condition's latent grid `[f, h,
/// w]` placed at pixel frame `pixel_frame` (`_prepare_keyframe_coords`):
/// the latent patch boundaries scaled to pixels without the causal fix,
/// shifted by `pixel_frame`; a single pixel frame spans `[idx, idx + 1)`;
/// times in seconds.
fn keyframe_coords(
    grid: [i64; 3],
    layout: &Layout,
    pixel_frame: i64,
    pixel_frames: i64,
    device: tch::Device,
) -> Result<Tensor> {
    // Causal offset = the temporal scale and fps 1: `video_coords` leaves
    // the pixel boundaries as they are (`(x + s − s).clamp(0) / 1`).
    let raw = video_coords(
        1,
        grid,
        layout.patch_t,
        layout.patch,
        layout.scale,
        layout.scale[0],
        1.0,
        device,
    )?;
    let time = raw.f_select(1, 0)?.f_add_scalar(pixel_frame as f64)?; // [1, N, 2]
    let time = if pixel_frames == 1 {
        let start = time.f_narrow(2, 0, 1)?;
        Tensor::f_cat(&[start.shallow_clone(), start.f_add_scalar(1.0)?], 2)?
    } else {
        time
    };
    let time = time.f_div_scalar(layout.fps)?.f_unsqueeze(1)?;
    Ok(Tensor::f_cat(&[time, raw.f_narrow(1, 1, 2)?], 1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_keeps_what_fits_as_8n_plus_1() {
        // 17 frames: index 1 starts at pixel 1 (16 left), index 2 at 9 (8 left).
        assert_eq!(trimmed_frames(0, 9, 17, 8), 9);
        assert_eq!(trimmed_frames(1, 9, 17, 8), 9);
        assert_eq!(trimmed_frames(1, 20, 17, 8), 9);
        assert_eq!(trimmed_frames(2, 9, 17, 8), 1);
        assert_eq!(trimmed_frames(0, 30, 17, 8), 17);
        assert_eq!(trimmed_frames(0, 1, 17, 8), 1);
    }

    #[test]
    fn a_same_size_frame_maps_to_minus_one_one() {
        let f = ndarray::Array4::from_shape_fn((1, 2, 3, 3), |(_, y, x, c)| {
            (y * 100 + x * 20 + c * 5) as u8
        });
        let t = preprocess_frames(f.view(), 3, 2, 0).unwrap();
        assert_eq!(t.size(), [1, 3, 1, 2, 3]);
        let v = t.double_value(&[0, 2, 0, 1, 2]);
        assert!(
            (v - ((100.0 + 40.0 + 10.0) / 127.5 - 1.0)).abs() < 1e-6,
            "{v}"
        );
    }
}
