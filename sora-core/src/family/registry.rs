//! The registry of model families: one row per family with the diffusers
//! pipeline classes it runs, how to load it, how to audit a folder and how to
//! estimate a request's memory from a folder alone. Adding a family adds a
//! folder under `models/` and one row here.

use std::collections::BTreeMap;
use std::path::Path;

use crate::estimate::{EstimateOptions, MemoryEstimate};
use crate::family::model::{MemoryOptions, ModelFamily};
use crate::pipeline::param_spec::ParamSpec;
use crate::pipeline::request::Request;
use crate::weights::{ModelFolder, WeightReport};
use crate::{Device, Dtype, Error, Result};

/// Per component, what a dry load finds wrong (`Err`: the component cannot be read at all).
pub type AuditReport = BTreeMap<String, std::result::Result<WeightReport, String>>;

/// Loads a folder to run on a device in a dtype, with the memory options applied.
pub type LoadFn = fn(&ModelFolder, Device, Dtype, &MemoryOptions) -> Result<Box<dyn ModelFamily>>;

/// One family of the registry.
pub struct Family {
    /// The family's short name (`wan`).
    pub name: &'static str,
    /// The diffusers pipeline classes (`model_index.json` `_class_name`) it runs.
    pub classes: &'static [&'static str],
    /// The request parameters it accepts beyond the common ones (`Request::set` keys).
    pub params: &'static [ParamSpec],
    /// Loads a folder to run on a device in a dtype, with the memory options applied.
    pub load: LoadFn,
    /// Dry-loads each component (names and shapes only) and reports what does not match.
    pub audit: fn(&ModelFolder) -> Result<AuditReport>,
    /// The memory a request needs with a folder, from its configs and
    /// safetensors headers alone (loading included).
    pub estimate: fn(&ModelFolder, &Request, &EstimateOptions) -> Result<MemoryEstimate>,
}

/// Every family this build runs.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "wan",
        classes: &[
            "WanPipeline",
            "WanImageToVideoPipeline",
            "WanVideoToVideoPipeline",
        ],
        params: crate::models::wan::params::PARAMS,
        load: crate::models::wan::load_family,
        audit: crate::models::wan::WanFamily::audit,
        estimate: crate::models::wan::estimate_folder,
    },
    Family {
        name: "ltx2",
        classes: &[
            "LTX2Pipeline",
            "LTX2ImageToVideoPipeline",
            "LTX2ConditionPipeline",
        ],
        params: crate::models::ltx2::params::PARAMS,
        load: crate::models::ltx2::family::load_family,
        audit: crate::models::ltx2::family::audit_folder,
        estimate: crate::models::ltx2::family::estimate_folder,
    },
];

/// The family row of `folder`'s pipeline class, or a typed error naming the
/// class found and the classes supported.
pub fn family_row(folder: &ModelFolder) -> Result<&'static Family> {
    let class = folder.class_name();
    FAMILIES
        .iter()
        .find(|f| f.classes.contains(&class))
        .ok_or_else(|| Error::UnknownFamily {
            class: class.to_string(),
            supported: FAMILIES
                .iter()
                .flat_map(|f| f.classes.iter().copied())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The family name for a pipeline class, or a typed error naming the class found.
pub fn family_of(folder: &ModelFolder) -> Result<&'static str> {
    family_row(folder).map(|f| f.name)
}

/// Per component, what the family would find wrong when loading it (a dry
/// load: names and shapes only, no tensor data read).
pub fn audit(folder: &ModelFolder) -> Result<AuditReport> {
    (family_row(folder)?.audit)(folder)
}

/// The memory `req` needs with the model of `folder`, from its configs and
/// safetensors headers only (nothing loaded): loading, then every phase of
/// the generation.
pub fn estimate_folder(
    folder: &ModelFolder,
    req: &Request,
    opts: &EstimateOptions,
) -> Result<MemoryEstimate> {
    (family_row(folder)?.estimate)(folder, req, opts)
}

/// [`estimate_folder`] for the folder at `path`.
pub fn estimate_path(path: &Path, req: &Request, opts: &EstimateOptions) -> Result<MemoryEstimate> {
    estimate_folder(&ModelFolder::open(path)?, req, opts)
}

/// Loads the family of `folder` to run on `device` in `dtype`, its weights in
/// host memory when `memory` offloads them, and applies `memory`.
pub fn load(
    folder: &ModelFolder,
    device: Device,
    dtype: Dtype,
    memory: &MemoryOptions,
) -> Result<Box<dyn ModelFamily>> {
    (family_row(folder)?.load)(folder, device, dtype, memory)
}
