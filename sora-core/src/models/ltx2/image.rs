//! The conditioning image of LTX-2 image-to-video, prepared as
//! `LTX2ImageToVideoPipeline` prepares it: optionally re-compressed as one
//! H.264 picture (`image_crf`), resized to the requested size with Pillow's
//! bilinear filter (the pipeline's `VideoProcessor(resample="bilinear")`,
//! no crop: the aspect ratio follows the request), scaled to \[0, 1\] in f32
//! and then to \[-1, 1\].

use ndarray::ArrayView3;
use tch::{Kind, Tensor};

use crate::models::clip::{pil_resize, PilFilter};
use crate::{Error, Result};

/// The OpenH264 quantiser standing in for libx264's constant rate factor
/// `crf` on one intra picture: `crf − 2` (at least 1). Measured on three
/// photographs (683×1024, 1365×2048, 375×375), x264 at CRF 33 (`veryfast`, as
/// diffusers runs it) gives a PSNR of 38.17, 43.30 and 31.30 dB against the
/// source; this round trip at quantiser 31 gives 38.22, 43.15 and 31.69 dB.
/// (x264 at CRF 23 / 28 / 38 lines up with quantisers 21–22 / 26–27 / 36 the
/// same way; at CRF 18 x264 stays noisier than quantiser 16.)
pub fn crf_to_qp(crf: u32) -> u32 {
    crf.saturating_sub(2).max(1)
}

/// An RGB image `[H, W, 3]` → `[1, 3, height, width]` f32 in \[-1, 1\], after
/// an H.264 round trip standing in for libx264 at `crf` when `crf > 0` (see
/// [`crf_to_qp`] and [`crate::io::recompress_image`]).
pub fn preprocess_image(
    pixels: ArrayView3<u8>,
    width: u32,
    height: u32,
    crf: u32,
) -> Result<Tensor> {
    let s = pixels.shape();
    if s.len() != 3 || s[2] != 3 || s[0] == 0 || s[1] == 0 {
        return Err(Error::invalid(format!(
            "an image must be [H, W, 3] RGB and not empty, got {s:?}"
        )));
    }
    let recompressed;
    let pixels = if crf > 0 {
        recompressed = crate::io::recompress_image(pixels, crf_to_qp(crf))?;
        recompressed.view()
    } else {
        pixels
    };
    let (h, w) = (height as usize, width as usize);
    // Pillow returns a copy when the size is already right.
    let data: Vec<u8> = if pixels.dim() == (h, w, 3) {
        pixels.iter().copied().collect()
    } else {
        pil_resize(pixels, h, w, PilFilter::Bilinear)?
            .iter()
            .copied()
            .collect()
    };
    // `np.array(img).astype(float32) / 255`, then `2x − 1`, in f32.
    Ok(Tensor::f_from_slice(&data)?
        .f_view([h as i64, w as i64, 3])?
        .f_permute([2, 0, 1])?
        .f_to_kind(Kind::Float)?
        .f_div_scalar(255.0)?
        .f_mul_scalar(2.0)?
        .f_sub_scalar(1.0)?
        .f_unsqueeze(0)?)
}
