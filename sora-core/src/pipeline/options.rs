//! Pipeline options by name, from text: the one place where the C ABI
//! (`sora_pipeline_builder_set`), Python keywords and config files turn
//! `key = value` into the typed [`PipelineBuilder`] calls, so that every front
//! door accepts the same names, values and errors.

use super::PipelineBuilder;
use crate::{Error, FrameTiling, Result, VaeTiling};

/// Every option [`PipelineBuilder::option`] takes: name and what it sets.
pub const PIPELINE_OPTIONS: &[(&str, &str)] = &[
    ("device", "cpu, cuda or cuda:N"),
    ("dtype", "float32, float16 or bfloat16"),
    ("threads", "intra-op CPU threads (positive integer)"),
    (
        "batch_guidance",
        "true/false: both guidance branches in one batched forward (default true)",
    ),
    (
        "step_cache",
        "first-block cache threshold (a number >= 0, e.g. 0.1), or off/none (the default)",
    ),
    (
        "memory_budget_mb",
        "MiB a generation may use; a request estimated above it is refused before it starts",
    ),
    (
        "offload_text_encoder",
        "true/false: release the text encoder after encoding (default false)",
    ),
    (
        "offload",
        "none, model or sequential: weights wait in host memory and go to the GPU per component or per transformer block (default none; GPU only)",
    ),
    (
        "physics",
        "off, report or rerank:N: attach each clip's physics report to its metadata, or keep the most plausible of N seeds (default off)",
    ),
    (
        "motion_guidance",
        "off (the default), STRENGTH or STRENGTH@FROM: experimental, reduces the predicted clean video's temporal variance in the steps after the share FROM (default 0.5) of the walk (docs/physics.md)",
    ),
    (
        "vae_tiling",
        "true/false (256,256,192,192), or H,W,SH,SW in pixels: decode in spatial tiles (default false)",
    ),
    (
        "vae_frame_tiling",
        "true/false (16,8), or WINDOW,STRIDE in frames: decode in overlapping time windows, handed out one by one (LTX-2; default false)",
    ),
    (
        "safety_registry",
        "a consent registry / protected list JSON file: prompts naming a registered person need a consent, protected characters are refused (default none: every prompt passes)",
    ),
    (
        "owner_key",
        "this pipeline's owner key, to which registry consents are granted",
    ),
    (
        "visible_watermark",
        "true/false: draw the visible moving watermark (default true; the invisible marks stay either way)",
    ),
    (
        "watermark_handle",
        "a creator handle shown after the visible mark's logo (e.g. @ada)",
    ),
    (
        "watermarks",
        "on/off: all clip watermarks (default on; off gives the raw model output, for tests and research)",
    ),
    (
        "credentials",
        "on/off: a signed C2PA manifest in every MP4 and WAV output (default on, signed by a local untrusted identity unless sign_cert/sign_key are given)",
    ),
    (
        "sign_cert",
        "a PEM certificate chain (signing certificate first) that signs the content credentials; needs sign_key",
    ),
    (
        "sign_key",
        "the signing certificate's PKCS#8 PEM private key file; needs sign_cert",
    ),
    (
        "credentials_prompt",
        "true/false: embed the prompt and negative prompt in the content credentials (default false)",
    ),
];

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(Error::invalid(format!(
            "option `{key}` takes true or false, got `{other}`"
        ))),
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str, what: &str) -> Result<T> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| Error::invalid(format!("option `{key}` takes {what}, got `{value}`")))
}

/// The value of the option `vae_tiling`: `true`/`false` (diffusers' default
/// tiles or none), or `H,W,SH,SW` ([`VaeTiling::parse`]);
/// [`Error::InvalidRequest`] otherwise. (`sora inspect --estimate` parses its
/// `--vae-tiling` with it, as `generate` does through the builder.)
pub fn parse_vae_tiling(value: &str) -> Result<Option<VaeTiling>> {
    if value.contains(',') {
        return Ok(Some(VaeTiling::parse(value)?));
    }
    Ok(parse_bool("vae_tiling", value)?.then(VaeTiling::default))
}

/// The value of the option `vae_frame_tiling`: `true`/`false` (diffusers'
/// default windows or none), or `WINDOW,STRIDE` ([`FrameTiling::parse`]);
/// [`Error::InvalidRequest`] otherwise.
pub fn parse_vae_frame_tiling(value: &str) -> Result<Option<FrameTiling>> {
    if value.contains(',') {
        return Ok(Some(FrameTiling::parse(value)?));
    }
    let on = parse_bool("vae_frame_tiling", value).map_err(|_| {
        Error::invalid(format!(
            "option `vae_frame_tiling` takes true, false or WINDOW,STRIDE in frames (e.g. 16,8), got `{value}`"
        ))
    })?;
    Ok(on.then(FrameTiling::default))
}

impl PipelineBuilder {
    /// Sets the option `key` from its text form (names in [`PIPELINE_OPTIONS`]).
    /// An unknown key or a value that does not parse is
    /// [`Error::InvalidRequest`] naming the key; the builder is consumed only
    /// on success (on error, the caller keeps its copy).
    pub fn option(self, key: &str, value: &str) -> Result<Self> {
        Ok(match key {
            "device" => self.device(value.parse()?),
            "dtype" => self.dtype(value.parse()?),
            "threads" => {
                let n: usize = parse_num(key, value, "a positive integer")?;
                if n == 0 {
                    return Err(Error::invalid("option `threads` must be at least 1"));
                }
                self.threads(n)
            }
            "batch_guidance" => self.batch_guidance(parse_bool(key, value)?),
            "step_cache" => match value.trim().to_ascii_lowercase().as_str() {
                "off" | "none" | "" => self.step_cache(None),
                v => {
                    let t: f32 = parse_num(key, v, "a number >= 0 or off")?;
                    crate::nn::step_cache::check_threshold(t)?;
                    self.step_cache(t)
                }
            },
            "memory_budget_mb" => self.memory_budget_mb(parse_num(key, value, "a number of MiB")?),
            "offload_text_encoder" => self.offload_text_encoder(parse_bool(key, value)?),
            "vae_tiling" => self.vae_tiling(parse_vae_tiling(value)?),
            "vae_frame_tiling" => self.vae_frame_tiling(parse_vae_frame_tiling(value)?),
            "physics" => self.physics(crate::physics::PhysicsPolicy::parse(value)?),
            "offload" => self.offload(value.parse()?),
            "motion_guidance" => {
                self.motion_guidance(crate::denoise::MotionGuidance::parse(value)?)
            }
            "safety_registry" => self.safety_registry(std::path::PathBuf::from(value)),
            "owner_key" => self.owner_key(value),
            "visible_watermark" => {
                if parse_bool(key, value)? {
                    let mut b = self;
                    b.watermark.visible = true;
                    b
                } else {
                    self.no_visible_watermark()
                }
            }
            "watermark_handle" => self.watermark_handle(value),
            "watermarks" => self.watermarks(match parse_bool(key, value)? {
                true => crate::safety::WatermarkPolicy::On,
                false => crate::safety::WatermarkPolicy::Off,
            }),
            "credentials" => self.credentials(parse_bool(key, value)?),
            "sign_cert" => {
                let mut b = self;
                b.credentials.sign_cert = Some(std::path::PathBuf::from(value));
                b
            }
            "sign_key" => {
                let mut b = self;
                b.credentials.sign_key = Some(std::path::PathBuf::from(value));
                b
            }
            "credentials_prompt" => self.credentials_prompt(parse_bool(key, value)?),
            other => {
                let known: Vec<&str> = PIPELINE_OPTIONS.iter().map(|(k, _)| *k).collect();
                return Err(Error::invalid(format!(
                    "unknown pipeline option `{other}` (known: {})",
                    known.join(", ")
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Device, Dtype};

    #[test]
    fn options_set_the_typed_fields() {
        let b = PipelineBuilder::default()
            .option("device", "cpu")
            .and_then(|b| b.option("dtype", "bf16"))
            .and_then(|b| b.option("threads", "3"))
            .and_then(|b| b.option("batch_guidance", "off"))
            .and_then(|b| b.option("step_cache", "0.1"))
            .and_then(|b| b.option("memory_budget_mb", "2048"))
            .and_then(|b| b.option("offload_text_encoder", "yes"))
            .unwrap();
        assert_eq!(b.speed.step_cache, Some(0.1));
        let b = b.option("step_cache", "off").unwrap();
        assert_eq!(b.speed.step_cache, None);
        assert_eq!(b.device, Device::Cpu);
        assert_eq!(b.dtype, Dtype::BF16);
        assert_eq!(b.threads, Some(3));
        assert!(!b.speed.batch_guidance);
        assert_eq!(b.budget_mb, Some(2048));
        assert!(b.memory.offload_text_encoder);
        assert_eq!(b.memory.vae_tiling, None);
        let b = b.option("vae_tiling", "true").unwrap();
        assert_eq!(b.memory.vae_tiling, Some(VaeTiling::default()));
        let b = b.option("vae_tiling", "128, 160,96,128").unwrap();
        assert_eq!(
            b.memory.vae_tiling,
            Some(VaeTiling {
                tile_sample_min_height: 128,
                tile_sample_min_width: 160,
                tile_sample_stride_height: 96,
                tile_sample_stride_width: 128,
            })
        );
        let b = b.option("vae_tiling", "off").unwrap();
        assert_eq!(b.memory.vae_tiling, None);
    }

    #[test]
    fn bad_options_name_the_key() {
        for (k, v) in [
            ("threads", "0"),
            ("threads", "many"),
            ("batch_guidance", "maybe"),
            ("step_cache", "-1"),
            ("step_cache", "nan"),
            ("step_cache", "fast"),
            ("vae_tiling", "maybe"),
            ("vae_tiling", "256,256,192"),
            ("vae_tiling", "128,128,192,192"),
            ("memory_budget_mb", "-1"),
            ("offload_text_encoder", "2"),
            ("dtype", "float8"),
            ("colour", "blue"),
        ] {
            let e = PipelineBuilder::default().option(k, v).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest(_)), "{k}={v}: {e}");
        }
        let e = PipelineBuilder::default()
            .option("colour", "blue")
            .unwrap_err();
        assert!(e.to_string().contains("colour") && e.to_string().contains("threads"));
    }
}
