//! transformers' `CLIPImageProcessor` (its PIL backend): convert to RGB, resize
//! the shortest edge with Pillow's filter, center-crop (zero padding when the
//! image is smaller than the crop), rescale by `1/255` in f64, normalise with
//! the mean and std in f32, and lay out as `[1, 3, H, W]` f32.
//!
//! Read from the `preprocessor_config.json` that `save_pretrained` writes (for
//! Wan 2.1 I2V, the folder's `image_processor/`).

use std::path::Path;

use ndarray::{Array3, ArrayView3};
use serde::Deserialize;
use tch::Tensor;

use super::resample::{pil_resize, PilFilter};
use crate::weights::read_config;
use crate::{Error, Result};

/// OpenAI CLIP's per-channel mean (transformers' `OPENAI_CLIP_MEAN`).
pub const OPENAI_CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
/// OpenAI CLIP's per-channel std (transformers' `OPENAI_CLIP_STD`).
pub const OPENAI_CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

/// `preprocessor_config.json` of a `CLIPImageProcessor`, field names as saved.
/// `size` and `crop_size` accept the dict forms and the legacy integer forms.
#[derive(Debug, Clone, Deserialize)]
pub struct ClipImageProcessorConfig {
    /// Resize before cropping.
    #[serde(default = "yes")]
    pub do_resize: bool,
    /// `{"shortest_edge": n}`, `{"height": h, "width": w}` or a bare `n` (shortest edge).
    #[serde(default = "default_size")]
    pub size: serde_json::Value,
    /// Pillow filter code (3 = bicubic).
    #[serde(default = "default_resample")]
    pub resample: i64,
    /// Center-crop after resizing.
    #[serde(default = "yes")]
    pub do_center_crop: bool,
    /// `{"height": h, "width": w}` or a bare `n` (square).
    #[serde(default = "default_crop")]
    pub crop_size: serde_json::Value,
    /// Multiply by `rescale_factor`.
    #[serde(default = "yes")]
    pub do_rescale: bool,
    /// Usually `1/255`.
    #[serde(default = "default_rescale")]
    pub rescale_factor: f64,
    /// Subtract `image_mean` and divide by `image_std`.
    #[serde(default = "yes")]
    pub do_normalize: bool,
    /// Per-channel mean (or one value for all channels).
    #[serde(default = "default_mean")]
    pub image_mean: serde_json::Value,
    /// Per-channel std (or one value for all channels).
    #[serde(default = "default_std")]
    pub image_std: serde_json::Value,
    /// Convert grey images to RGB.
    #[serde(default = "yes")]
    pub do_convert_rgb: bool,
}

fn yes() -> bool {
    true
}
fn default_size() -> serde_json::Value {
    serde_json::json!({ "shortest_edge": 224 })
}
fn default_crop() -> serde_json::Value {
    serde_json::json!({ "height": 224, "width": 224 })
}
fn default_resample() -> i64 {
    3
}
fn default_rescale() -> f64 {
    1.0 / 255.0
}
fn default_mean() -> serde_json::Value {
    serde_json::json!(OPENAI_CLIP_MEAN)
}
fn default_std() -> serde_json::Value {
    serde_json::json!(OPENAI_CLIP_STD)
}

/// How the image is resized before the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTarget {
    /// Shortest edge to `n`, the other edge `int(n * long / short)`.
    ShortestEdge(usize),
    /// Exactly `height × width`.
    Exact {
        /// Output height.
        height: usize,
        /// Output width.
        width: usize,
    },
}

/// The image half of a CLIP processor, ready to run.
#[derive(Debug, Clone)]
pub struct ClipImagePreprocessor {
    /// Resize target, if resizing.
    pub resize: Option<ResizeTarget>,
    /// Pillow filter of the resize.
    pub filter: PilFilter,
    /// Crop `(height, width)`, if cropping.
    pub crop: Option<(usize, usize)>,
    /// Rescale factor, if rescaling.
    pub rescale: Option<f64>,
    /// Per-channel `(mean, std)` in f32, if normalising.
    pub normalize: Option<([f32; 3], [f32; 3])>,
}

fn cfg_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn as_usize(v: &serde_json::Value) -> Option<usize> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
}

fn parse_size(path: &Path, v: &serde_json::Value) -> Result<ResizeTarget> {
    if let Some(n) = as_usize(v) {
        // CLIP's `default_to_square = False`: a bare int is the shortest edge.
        return Ok(ResizeTarget::ShortestEdge(n));
    }
    if let Some(a) = v.as_array() {
        if let [h, w] = a.as_slice() {
            if let (Some(height), Some(width)) = (as_usize(h), as_usize(w)) {
                return Ok(ResizeTarget::Exact { height, width });
            }
        }
    }
    if let Some(o) = v.as_object() {
        let get = |k: &str| o.get(k).filter(|x| !x.is_null());
        if get("longest_edge").is_some() || get("max_height").is_some() {
            return Err(Error::Unsupported(format!(
                "{}: `size` {v} (longest_edge / max_height resizing)",
                path.display()
            )));
        }
        if let Some(s) = get("shortest_edge") {
            let n = as_usize(s)
                .ok_or_else(|| cfg_err(path, "`size.shortest_edge` is not a positive integer"))?;
            return Ok(ResizeTarget::ShortestEdge(n));
        }
        if let (Some(h), Some(w)) = (get("height"), get("width")) {
            if let (Some(height), Some(width)) = (as_usize(h), as_usize(w)) {
                return Ok(ResizeTarget::Exact { height, width });
            }
        }
    }
    Err(cfg_err(path, format!("cannot read `size` {v}")))
}

fn parse_crop(path: &Path, v: &serde_json::Value) -> Result<(usize, usize)> {
    if let Some(n) = as_usize(v) {
        return Ok((n, n));
    }
    if let Some(o) = v.as_object() {
        if let (Some(h), Some(w)) = (
            o.get("height").and_then(as_usize),
            o.get("width").and_then(as_usize),
        ) {
            return Ok((h, w));
        }
    }
    Err(cfg_err(path, format!("cannot read `crop_size` {v}")))
}

fn parse_triplet(path: &Path, name: &str, v: &serde_json::Value) -> Result<[f32; 3]> {
    if let Some(x) = v.as_f64() {
        return Ok([x as f32; 3]);
    }
    let a = v
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or_else(|| cfg_err(path, format!("`{name}` is not a number or a list of 3")))?;
    let mut out = [0f32; 3];
    for (o, x) in out.iter_mut().zip(a) {
        *o = x
            .as_f64()
            .ok_or_else(|| cfg_err(path, format!("`{name}` holds a non-number")))?
            as f32;
    }
    Ok(out)
}

impl ClipImagePreprocessor {
    /// Reads `preprocessor_config.json` (the file itself, or the folder holding it).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = if path.is_dir() {
            path.join("preprocessor_config.json")
        } else {
            path.to_path_buf()
        };
        let cfg: ClipImageProcessorConfig = read_config(&file)?;
        Self::from_config(&file, &cfg)
    }

    /// Builds the preprocessor from a parsed config (`path` names it in errors).
    pub fn from_config(path: &Path, cfg: &ClipImageProcessorConfig) -> Result<Self> {
        let resize = if cfg.do_resize {
            Some(parse_size(path, &cfg.size)?)
        } else {
            None
        };
        let crop = if cfg.do_center_crop {
            Some(parse_crop(path, &cfg.crop_size)?)
        } else {
            None
        };
        let normalize = if cfg.do_normalize {
            let mean = parse_triplet(path, "image_mean", &cfg.image_mean)?;
            let std = parse_triplet(path, "image_std", &cfg.image_std)?;
            if std.iter().any(|&s| s == 0.0 || !s.is_finite()) {
                return Err(cfg_err(
                    path,
                    "`image_std` holds a zero or non-finite value",
                ));
            }
            Some((mean, std))
        } else {
            None
        };
        Ok(Self {
            resize,
            filter: PilFilter::from_code(cfg.resample)?,
            crop,
            rescale: cfg.do_rescale.then_some(cfg.rescale_factor),
            normalize,
        })
    }

    /// The `(height, width)` the resize step produces for an `h × w` image.
    pub fn resized_size(&self, h: usize, w: usize) -> (usize, usize) {
        match self.resize {
            None => (h, w),
            Some(ResizeTarget::Exact { height, width }) => (height, width),
            Some(ResizeTarget::ShortestEdge(n)) => {
                let (short, long) = if w <= h { (w, h) } else { (h, w) };
                // Python: `int(n * long / short)` (true division, then truncation).
                let new_long = ((n * long) as f64 / short as f64) as usize;
                if w <= h {
                    (new_long, n)
                } else {
                    (n, new_long)
                }
            }
        }
    }

    /// Resize and center-crop of one `[H, W, 3]` (or `[H, W, 1]`) image, still `u8`.
    pub fn resize_and_crop(&self, image: ArrayView3<u8>) -> Result<Array3<u8>> {
        let (h, w, c) = image.dim();
        if h == 0 || w == 0 {
            return Err(Error::invalid(format!("empty image ({h}x{w})")));
        }
        let rgb: Array3<u8> = match c {
            3 => image.to_owned(),
            1 => Array3::from_shape_fn((h, w, 3), |(y, x, _)| image[[y, x, 0]]),
            _ => {
                return Err(Error::invalid(format!(
                    "image has {c} channels; expected [H, W, 3] RGB (or [H, W, 1] grey)"
                )))
            }
        };
        let resized = match self.resize {
            None => rgb,
            Some(_) => {
                let (nh, nw) = self.resized_size(h, w);
                if nh == 0 || nw == 0 {
                    return Err(Error::invalid(format!(
                        "image {h}x{w} is too thin to resize to a {nh}x{nw} image"
                    )));
                }
                if (nh, nw) == (h, w) {
                    rgb
                } else {
                    pil_resize(rgb.view(), nh, nw, self.filter)?
                }
            }
        };
        Ok(match self.crop {
            None => resized,
            Some((ch, cw)) => center_crop(&resized, ch, cw),
        })
    }

    /// Preprocesses one `[H, W, 3]` RGB `u8` image into `pixel_values` `[1, 3, H', W']` f32 (CPU).
    pub fn preprocess(&self, image: ArrayView3<u8>) -> Result<Tensor> {
        self.preprocess_batch(&[image])
    }

    /// Preprocesses several images into one `[B, 3, H', W']` f32 batch (CPU); all
    /// must come out the same size (they do when cropping).
    pub fn preprocess_batch(&self, images: &[ArrayView3<u8>]) -> Result<Tensor> {
        if images.is_empty() {
            return Err(Error::invalid("no image to preprocess"));
        }
        let mut data = Vec::new();
        let mut size = None;
        for image in images {
            let img = self.resize_and_crop(image.view())?;
            let (h, w, _) = img.dim();
            if *size.get_or_insert((h, w)) != (h, w) {
                return Err(Error::invalid(
                    "images preprocess to different sizes and cannot be batched",
                ));
            }
            data.reserve(3 * h * w);
            for ch in 0..3 {
                for y in 0..h {
                    for x in 0..w {
                        data.push(self.pixel(img[[y, x, ch]], ch));
                    }
                }
            }
        }
        let (h, w) = size.unwrap_or((0, 0));
        Ok(Tensor::f_from_slice(&data)?.f_view([images.len() as i64, 3, h as i64, w as i64])?)
    }

    /// Rescale (`f64(v) * factor`, stored as f32) then normalise in f32, as numpy does.
    fn pixel(&self, v: u8, ch: usize) -> f32 {
        let x = match self.rescale {
            Some(f) => (v as f64 * f) as f32,
            None => v as f32,
        };
        match &self.normalize {
            Some((mean, std)) => (x - mean[ch]) / std[ch],
            None => x,
        }
    }
}

/// transformers' `center_crop`: top-left at `floor((size - crop) / 2)`, zeros
/// where the crop reaches outside a smaller image.
fn center_crop(img: &Array3<u8>, ch: usize, cw: usize) -> Array3<u8> {
    let (h, w, c) = img.dim();
    let top = (h as i64 - ch as i64).div_euclid(2);
    let left = (w as i64 - cw as i64).div_euclid(2);
    Array3::from_shape_fn((ch, cw, c), |(y, x, k)| {
        let sy = top + y as i64;
        let sx = left + x as i64;
        if sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < w {
            img[[sy as usize, sx as usize, k]]
        } else {
            0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_edge_sizes_follow_python_truncation() {
        let p = ClipImagePreprocessor {
            resize: Some(ResizeTarget::ShortestEdge(224)),
            filter: PilFilter::Bicubic,
            crop: None,
            rescale: None,
            normalize: None,
        };
        assert_eq!(p.resized_size(480, 832), (224, 388));
        assert_eq!(p.resized_size(832, 480), (388, 224));
        assert_eq!(p.resized_size(100, 100), (224, 224));
    }

    #[test]
    fn crop_pads_small_images_with_zeros() {
        let img = Array3::from_elem((3, 5, 1), 9u8);
        let out = center_crop(&img, 4, 4);
        // rows: floor((3-4)/2) = -1 → first row padded; cols: floor((5-4)/2) = 0.
        assert_eq!(out[[0, 0, 0]], 0);
        assert_eq!(out[[1, 0, 0]], 9);
        assert_eq!(out[[3, 3, 0]], 9);
    }
}
