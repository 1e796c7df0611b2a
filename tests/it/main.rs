//! The one integration-test binary: parity against diffusers (fixtures built at
//! test time by `tests/fixtures/*.py`) and cross-crate behaviour.

mod clip_vision;
mod credentials;
mod cross_attn_kv;
mod fuzz;
mod io_media;
mod ltx2_cond;
mod ltx2_extend;
mod ltx2_guidance;
mod ltx2_i2v;
mod ltx2_memory;
mod ltx2_pipeline;
mod ltx2_step_cache;
mod ltx2_text;
mod ltx2_transformer;
mod ltx2_vae;
mod ltx2_vocoder;
mod memory;
mod offload;
mod physics_ground_truth;
mod physics_policy;
mod safety_gate;
mod safety_pipeline;
mod sched_parity;
mod seam_golden;
mod soak;
mod step_cache;
mod streaming;
mod wan_extend;
mod wan_longform;
mod wan_pipeline;
mod wan_text;
mod wan_transformer;
mod wan_vae;
mod watermark;
mod weights;
