//! `sora_pipeline`: a loaded model (`sora_core::Pipeline`).

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use sora_core::{Device, Dtype, Pipeline, PipelineBuilder};

use crate::args::{handle, handle_mut, opt_str_arg, out_arg, str_arg};
use crate::status::{arg_err, sora_status};

/// A loaded model, ready to generate clips. Made by `sora_pipeline_new`, freed
/// by `sora_pipeline_free`. A pipeline may be shared by several threads: runs
/// on one pipeline are serialised.
#[allow(non_camel_case_types)]
pub struct sora_pipeline {
    pub(crate) inner: Pipeline,
    family: CString,
}

impl sora_pipeline {
    /// A new handle owning `inner`.
    fn boxed(inner: Pipeline) -> *mut sora_pipeline {
        let family = CString::new(inner.family()).unwrap_or_default();
        Box::into_raw(Box::new(sora_pipeline { inner, family }))
    }
}

/// Loads the diffusers-format model folder `model_dir` (its family is detected
/// from `model_index.json`); NULL loads the embedded default model (a tiny
/// audio-video model trained by the project, docs/training.md).
///
/// - `device`: `"cpu"`, `"cuda"` or `"cuda:N"`; NULL means `"cpu"`.
/// - `dtype`: `"float32"`, `"float16"` or `"bfloat16"` (also `f32`, `fp16`,
///   `bf16`, ...); NULL means `"float32"`.
/// - `threads`: intra-op CPU threads (process-wide, as LibTorch's
///   `set_num_threads`); 0 keeps LibTorch's default; negative is an error.
/// - `out`: receives the new pipeline (NULL on failure).
///
/// Errors: `SORA_ERR_WEIGHTS` for a missing folder, a folder that is not a
/// diffusers folder, an unknown `_class_name` or bad weights (the message names
/// the path or class); `SORA_ERR_DEVICE` for an unavailable device.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_new(
    model_dir: *const c_char,
    device: *const c_char,
    dtype: *const c_char,
    threads: c_int,
    out: *mut *mut sora_pipeline,
) -> sora_status {
    ffi_boundary!("sora_pipeline_new", {
        let out = out_arg(out, "out")?;
        *out = ptr::null_mut();
        let model_dir = opt_str_arg(model_dir, "model_dir")?;
        let device: Device = match opt_str_arg(device, "device")? {
            Some(s) => s.parse()?,
            None => Device::Cpu,
        };
        let dtype: Dtype = match opt_str_arg(dtype, "dtype")? {
            Some(s) => s.parse()?,
            None => Dtype::F32,
        };
        if threads < 0 {
            return Err(arg_err(format!(
                "threads must be 0 (default) or positive, got {threads}"
            )));
        }
        let mut builder = Pipeline::builder().device(device).dtype(dtype);
        if let Some(m) = model_dir {
            builder = builder.model(m);
        }
        if threads > 0 {
            builder = builder.threads(threads as usize);
        }
        let inner = builder.build()?;
        *out = sora_pipeline::boxed(inner);
        Ok(())
    })
}

/// The pipeline's model family (e.g. `"wan"`) into `*name`; the string lives as
/// long as the pipeline.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_family(
    pipeline: *const sora_pipeline,
    name: *mut *const c_char,
) -> sora_status {
    ffi_boundary!("sora_pipeline_family", {
        let name = out_arg(name, "name")?;
        *name = ptr::null();
        let pipeline = handle(pipeline, "pipeline")?;
        *name = pipeline.family.as_ptr();
        Ok(())
    })
}

/// Frees a pipeline. NULL is accepted and does nothing. No run may be in
/// progress on it.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_free(pipeline: *mut sora_pipeline) {
    crate::status::free_boxed(pipeline);
}

/// Options for loading a pipeline, set by name (`sora_pipeline_builder_set`)
/// so that the ABI stays stable as options grow. Made by
/// `sora_pipeline_builder_new`, freed by `sora_pipeline_builder_free`.
#[allow(non_camel_case_types)]
pub struct sora_pipeline_builder {
    pub(crate) inner: PipelineBuilder,
}

/// A builder for the model folder `model_dir` (NULL: the embedded default
/// model) with every option at its default (cpu, float32, LibTorch's thread
/// count, ...).
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_builder_new(
    model_dir: *const c_char,
    out: *mut *mut sora_pipeline_builder,
) -> sora_status {
    ffi_boundary!("sora_pipeline_builder_new", {
        let out = out_arg(out, "out")?;
        *out = ptr::null_mut();
        let mut inner = Pipeline::builder();
        if let Some(m) = opt_str_arg(model_dir, "model_dir")? {
            inner = inner.model(m);
        }
        *out = Box::into_raw(Box::new(sora_pipeline_builder { inner }));
        Ok(())
    })
}

/// Sets the option `key` to `value` (both UTF-8 text). Keys: `device`
/// (`cpu`, `cuda`, `cuda:N`), `dtype` (`float32`, `float16`, `bfloat16`),
/// `threads` (positive integer), `batch_guidance` (`true`/`false`), and the
/// others listed in docs/c.md. An unknown key or a value that does not parse
/// is `SORA_ERR_INVALID_ARGUMENT` naming the key, and leaves the builder unchanged.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_builder_set(
    builder: *mut sora_pipeline_builder,
    key: *const c_char,
    value: *const c_char,
) -> sora_status {
    ffi_boundary!("sora_pipeline_builder_set", {
        let builder = handle_mut(builder, "builder")?;
        let key = str_arg(key, "key")?;
        let value = str_arg(value, "value")?;
        builder.inner = builder.inner.clone().option(key, value)?;
        Ok(())
    })
}

/// Loads the pipeline the builder describes into `*out` (NULL on failure).
/// The builder stays valid (and must still be freed); it can build again.
/// Errors as `sora_pipeline_new`.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_builder_build(
    builder: *const sora_pipeline_builder,
    out: *mut *mut sora_pipeline,
) -> sora_status {
    ffi_boundary!("sora_pipeline_builder_build", {
        let out = out_arg(out, "out")?;
        *out = ptr::null_mut();
        let builder = handle(builder, "builder")?;
        let inner = builder.inner.clone().build()?;
        *out = sora_pipeline::boxed(inner);
        Ok(())
    })
}

/// Frees a builder. NULL is accepted and does nothing.
#[no_mangle]
pub unsafe extern "C" fn sora_pipeline_builder_free(builder: *mut sora_pipeline_builder) {
    crate::status::free_boxed(builder);
}
