//! A request's conditioning and denoising walk without the decode: the final
//! latents, for tests and tools that compare families' latents directly
//! (the pipeline runs the same steps, then decodes).

use super::latents::Latents;
use super::walk::{walk, WalkOptions};
use crate::family::ModelFamily;
use crate::pipeline::noise::Noise;
use crate::pipeline::progress::Progress;
use crate::pipeline::request::Request;
use crate::{Device, Result};

/// Resolves `req` by `fam`'s rules, encodes it, and walks it to the denoised
/// latents with `opts` (as [`crate::Pipeline::generate`] does before decoding).
pub fn denoise_latents(
    fam: &mut dyn ModelFamily,
    req: &Request,
    opts: &WalkOptions,
) -> Result<Latents> {
    let _guard = tch::no_grad_guard();
    let r = fam.rules().resolve(req)?;
    fam.rules().check_run(&r)?;
    let mut gen = fam.begin(&r)?;
    let mut noise = Noise::new(r.seed);
    let start = gen.start(&mut noise)?;
    let (x, _) = walk(
        gen.as_mut(),
        start,
        opts,
        Device::Cpu,
        &mut Progress::none(),
    )?;
    Ok(x)
}
