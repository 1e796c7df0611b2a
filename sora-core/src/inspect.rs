//! What is in a model folder: family, components, dtypes, parameter counts, and
//! the tensors the family needs but does not find (read without loading weights).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use tch::{Device, Kind};

use crate::family;
use crate::weights::{ModelFolder, TensorStore};
use crate::Result;

/// One component of a model folder.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReport {
    /// Name in `model_index.json` (e.g. `transformer`).
    pub name: String,
    /// Library and class (e.g. `diffusers` / `WanTransformer3DModel`).
    pub library: String,
    /// The class.
    pub class: String,
    /// Parameter count (sum of tensor sizes in the safetensors files; 0 when none).
    pub parameters: u64,
    /// Bytes of tensor data on disk.
    pub bytes: u64,
    /// Tensor dtypes present and how many tensors each.
    pub dtypes: BTreeMap<String, usize>,
    /// Tensors the family needs that are absent.
    pub missing: Vec<String>,
    /// Tensors with another shape than the config implies.
    pub mismatched: Vec<String>,
    /// Tensors the family does not use.
    pub unexpected: Vec<String>,
    /// A problem reading the component (absent folder, corrupt file, bad config).
    pub error: Option<String>,
}

/// A model folder's description.
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    /// The folder.
    pub path: String,
    /// The pipeline class in `model_index.json`.
    pub class: String,
    /// The family that runs it, if this build knows the class.
    pub family: Option<String>,
    /// Components in manifest order.
    pub components: Vec<ComponentReport>,
    /// Whether the family can load every component as is.
    pub ok: bool,
}

/// Describes the folder at `path` without loading its weights.
pub fn inspect(path: &Path) -> Result<ModelReport> {
    let folder = ModelFolder::open(path)?;
    let fam = family::family_of(&folder).ok().map(str::to_string);
    let audits = match &fam {
        Some(_) => family::audit(&folder)?,
        None => BTreeMap::new(),
    };
    let mut components = Vec::new();
    for (name, (library, class)) in folder.components() {
        let mut c = ComponentReport {
            name: name.clone(),
            library: library.clone(),
            class: class.clone(),
            parameters: 0,
            bytes: 0,
            dtypes: BTreeMap::new(),
            missing: vec![],
            mismatched: vec![],
            unexpected: vec![],
            error: None,
        };
        let dir = folder.root().join(name);
        let has_weights = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".safetensors"))
            })
            .unwrap_or(false);
        if !dir.is_dir() {
            c.error = Some(format!("folder {} is absent", dir.display()));
        } else if has_weights {
            match TensorStore::open(&dir, name, Device::Cpu, Kind::Float) {
                Ok(store) => {
                    for (_, dtype, shape) in store.tensor_infos() {
                        c.parameters += shape.iter().product::<i64>().max(0) as u64;
                        *c.dtypes.entry(dtype).or_default() += 1;
                    }
                    c.bytes = store.bytes_on_disk();
                }
                Err(e) => c.error = Some(e.to_string()),
            }
        }
        match audits.get(name) {
            Some(Ok(r)) => {
                c.missing = r.missing.clone();
                c.mismatched = r.mismatched.clone();
                c.unexpected = r.unexpected.clone();
            }
            Some(Err(e)) => {
                if c.error.is_none() {
                    c.error = Some(e.clone());
                }
            }
            None => {}
        }
        components.push(c);
    }
    let ok = fam.is_some()
        && components
            .iter()
            .all(|c| c.error.is_none() && c.missing.is_empty() && c.mismatched.is_empty());
    Ok(ModelReport {
        path: path.display().to_string(),
        class: folder.class_name().to_string(),
        family: fam,
        components,
        ok,
    })
}
