//! The request parameters Wan accepts beyond the common ones
//! ([`COMMON_PARAMS`](crate::pipeline::COMMON_PARAMS)): the list its
//! defaults declare and `Request::resolve` checks a request against.

use crate::pipeline::param_spec::ParamSpec;
use crate::pipeline::params::{GUIDANCE_SCALE_2, WINDOW_FRAMES, WINDOW_OVERLAP};

/// Wan's own parameters: `guidance_scale_2`, the low-noise expert's scale of
/// two-expert models (Wan 2.2 A14B; a one-expert model runs without it), and
/// long-form generation's `window_frames` and `window_overlap`.
pub const PARAMS: &[ParamSpec] = &[GUIDANCE_SCALE_2, WINDOW_FRAMES, WINDOW_OVERLAP];
