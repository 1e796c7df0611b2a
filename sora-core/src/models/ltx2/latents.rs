//! LTX-2's latent bookkeeping, as `LTX2Pipeline` does it: packing the video
//! latent `[B, C, F, H, W]` into patch tokens `[B, S, C·pt·p·p]` and back,
//! packing the audio latent `[B, C, L, M]` into `[B, L, C·M]` and back, the
//! audio latent length of a clip, and the scheduler shift from the video
//! token count (`calculate_shift`).

use tch::Tensor;

use crate::{Error, Result};

/// `_pack_latents`: `[B, C, F, H, W]` → `[B, F/pt · H/p · W/p, C·pt·p·p]`.
pub fn pack_video(latents: &Tensor, patch: i64, patch_t: i64) -> Result<Tensor> {
    let s = latents.size();
    let [b, c, f, h, w] = s[..] else {
        return Err(Error::invalid(format!(
            "LTX-2 video latents must be [B, C, F, H, W], got {s:?}"
        )));
    };
    if patch < 1 || patch_t < 1 || f % patch_t != 0 || h % patch != 0 || w % patch != 0 {
        return Err(Error::invalid(format!(
            "LTX-2 video latents {s:?} do not divide into patches of {patch_t}×{patch}×{patch}"
        )));
    }
    let (pf, ph, pw) = (f / patch_t, h / patch, w / patch);
    Ok(latents
        .f_reshape([b, c, pf, patch_t, ph, patch, pw, patch])?
        .f_permute([0, 2, 4, 6, 1, 3, 5, 7])?
        .f_reshape([b, pf * ph * pw, c * patch_t * patch * patch])?)
}

/// `_unpack_latents`: patch tokens `[B, S, D]` of a latent grid of
/// `grid` = (frames, height, width) patches → `[B, C, F, H, W]`.
pub fn unpack_video(tokens: &Tensor, grid: [i64; 3], patch: i64, patch_t: i64) -> Result<Tensor> {
    let s = tokens.size();
    let [b, n, d] = s[..] else {
        return Err(Error::invalid(format!(
            "LTX-2 video tokens must be [B, S, D], got {s:?}"
        )));
    };
    let [f, h, w] = grid;
    let per = patch_t * patch * patch;
    if n != f * h * w || per < 1 || d % per != 0 {
        return Err(Error::invalid(format!(
            "LTX-2 video tokens {s:?} do not hold a {f}×{h}×{w} grid of {patch_t}×{patch}×{patch} patches"
        )));
    }
    Ok(tokens
        .f_reshape([b, f, h, w, d / per, patch_t, patch, patch])?
        .f_permute([0, 4, 1, 5, 2, 6, 3, 7])?
        .f_reshape([b, d / per, f * patch_t, h * patch, w * patch])?)
}

/// `_pack_audio_latents` without patch sizes: `[B, C, L, M]` → `[B, L, C·M]`.
pub fn pack_audio(latents: &Tensor) -> Result<Tensor> {
    let s = latents.size();
    let [b, c, l, m] = s[..] else {
        return Err(Error::invalid(format!(
            "LTX-2 audio latents must be [B, C, L, M], got {s:?}"
        )));
    };
    Ok(latents.f_transpose(1, 2)?.f_reshape([b, l, c * m])?)
}

/// `_unpack_audio_latents` without patch sizes: `[B, L, C·M]` → `[B, C, L, M]`.
pub fn unpack_audio(tokens: &Tensor, mel_bins: i64) -> Result<Tensor> {
    let s = tokens.size();
    let [b, l, d] = s[..] else {
        return Err(Error::invalid(format!(
            "LTX-2 audio tokens must be [B, L, D], got {s:?}"
        )));
    };
    if mel_bins < 1 || d % mel_bins != 0 {
        return Err(Error::invalid(format!(
            "LTX-2 audio tokens {s:?} do not hold {mel_bins} mel bins per channel"
        )));
    }
    Ok(tokens
        .f_reshape([b, l, d / mel_bins, mel_bins])?
        .f_transpose(1, 2)?
        .f_contiguous()?)
}

/// The audio latent length of a clip of `frames` at `fps`, as the pipeline
/// computes it: `round(frames / fps · sample_rate / hop / temporal_ratio)`
/// (Python's `round`, half to even).
pub fn audio_latent_frames(
    frames: u32,
    fps: f64,
    sample_rate: f64,
    hop_length: f64,
    temporal_ratio: f64,
) -> Result<i64> {
    let per_second = sample_rate / hop_length / temporal_ratio;
    let v = f64::from(frames) / fps * per_second;
    if !v.is_finite() || v < 0.0 {
        return Err(Error::invalid(format!(
            "no audio latent length for {frames} frames at {fps} fps ({per_second} latents per second)"
        )));
    }
    let r = v.round();
    // Python rounds halves to even.
    let r = if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - 1.0
    } else {
        r
    };
    Ok(r as i64)
}

/// `calculate_shift`: the dynamic shift `mu` for `seq_len` video tokens,
/// linear from `base_shift` at `base_seq_len` to `max_shift` at `max_seq_len`.
pub fn calculate_shift(
    seq_len: i64,
    base_seq_len: f64,
    max_seq_len: f64,
    base_shift: f64,
    max_shift: f64,
) -> f64 {
    let m = (max_shift - base_shift) / (max_seq_len - base_seq_len);
    let b = base_shift - m * base_seq_len;
    seq_len as f64 * m + b
}

/// The pipeline's default sigmas: `np.linspace(1.0, 1 / n, n)`, then float32.
pub fn default_sigmas(n: usize) -> Vec<f32> {
    if n <= 1 {
        return vec![1.0; n];
    }
    let (start, stop) = (1.0f64, 1.0 / n as f64);
    let step = (stop - start) / (n - 1) as f64;
    let mut s: Vec<f32> = (0..n).map(|i| (start + i as f64 * step) as f32).collect();
    s[n - 1] = stop as f32;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn video_and_audio_packing_round_trip() {
        let x = Tensor::randn([2, 3, 4, 6, 8], (Kind::Float, Device::Cpu));
        let p = pack_video(&x, 2, 2).unwrap();
        assert_eq!(p.size(), [2, 2 * 3 * 4, 3 * 8]);
        assert!(unpack_video(&p, [2, 3, 4], 2, 2).unwrap().equal(&x));
        let a = Tensor::randn([1, 2, 5, 3], (Kind::Float, Device::Cpu));
        let pa = pack_audio(&a).unwrap();
        assert_eq!(pa.size(), [1, 5, 6]);
        assert!(unpack_audio(&pa, 3).unwrap().equal(&a));
        assert!(pack_video(&x, 3, 1).is_err());
    }

    #[test]
    fn shift_length_and_sigmas_follow_the_pipeline() {
        assert!((calculate_shift(1024, 1024.0, 4096.0, 0.95, 2.05) - 0.95).abs() < 1e-12);
        assert!((calculate_shift(4096, 1024.0, 4096.0, 0.95, 2.05) - 2.05).abs() < 1e-12);
        // 121 frames at 24 fps, 16 kHz, hop 160, ratio 4: round(126.04) = 126.
        assert_eq!(
            audio_latent_frames(121, 24.0, 16000.0, 160.0, 4.0).unwrap(),
            126
        );
        // 0.5 rounds to even: 1 frame at 50 fps with 25 latents/s.
        assert_eq!(
            audio_latent_frames(1, 50.0, 16000.0, 160.0, 4.0).unwrap(),
            0
        );
        let s = default_sigmas(3);
        assert_eq!(s, vec![1.0, (2.0f64 / 3.0) as f32, (1.0f64 / 3.0) as f32]);
    }
}
