//! The diffusers folder layout: `model_index.json` naming components, one sub-folder each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// A diffusers model folder with its parsed manifest.
#[derive(Debug, Clone)]
pub struct ModelFolder {
    root: PathBuf,
    class_name: String,
    /// component name → `[library, class]` as in `model_index.json` (null entries dropped).
    components: BTreeMap<String, (String, String)>,
    index: serde_json::Value,
}

impl ModelFolder {
    /// Opens `root` and parses its `model_index.json`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if let Some(reason) = loop_reason(&root) {
            return Err(Error::ModelFolder { path: root, reason });
        }
        if !root.exists() {
            return Err(Error::ModelFolder {
                path: root,
                reason: "does not exist".into(),
            });
        }
        if !root.is_dir() {
            return Err(Error::ModelFolder {
                path: root,
                reason: "is not a folder".into(),
            });
        }
        let index_path = root.join("model_index.json");
        if !index_path.is_file() {
            return Err(Error::ModelFolder {
                path: root,
                reason: "has no model_index.json (is it a diffusers-format folder?)".into(),
            });
        }
        let index: serde_json::Value = read_json(&index_path)?;
        let obj = index.as_object().ok_or_else(|| Error::Config {
            path: index_path.clone(),
            reason: "top level is not a JSON object".into(),
        })?;
        let class_name = obj
            .get("_class_name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::Config {
                path: index_path.clone(),
                reason: "no `_class_name` string".into(),
            })?
            .to_string();
        let mut components = BTreeMap::new();
        for (k, v) in obj {
            if k.starts_with('_') {
                continue;
            }
            if let Some(arr) = v.as_array() {
                if arr.len() == 2 {
                    if let (Some(lib), Some(cls)) = (arr[0].as_str(), arr[1].as_str()) {
                        components.insert(k.clone(), (lib.to_string(), cls.to_string()));
                    }
                }
            }
        }
        Ok(Self {
            root,
            class_name,
            components,
            index,
        })
    }

    /// The folder's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The pipeline class named by `_class_name` (e.g. `WanPipeline`).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The raw manifest (for family-specific fields such as `boundary_ratio`).
    pub fn index(&self) -> &serde_json::Value {
        &self.index
    }

    /// Components listed (non-null) in the manifest: name → (library, class).
    pub fn components(&self) -> &BTreeMap<String, (String, String)> {
        &self.components
    }

    /// Whether the manifest lists `name` with a non-null class.
    pub fn has(&self, name: &str) -> bool {
        self.components.contains_key(name)
    }

    /// The class of component `name`, if listed.
    pub fn component_class(&self, name: &str) -> Option<&str> {
        self.components.get(name).map(|(_, c)| c.as_str())
    }

    /// The sub-folder of component `name`; an error if it is not listed or absent on disk.
    pub fn component_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.root.join(name);
        if let Some(reason) = loop_reason(&dir) {
            return Err(Error::ModelFolder { path: dir, reason });
        }
        if !self.has(name) || !dir.is_dir() {
            return Err(Error::MissingComponent {
                path: self.root.clone(),
                component: name.to_string(),
            });
        }
        Ok(dir)
    }

    /// Parses `<component>/<file>` (e.g. `config.json`) into `T`.
    pub fn config<T: DeserializeOwned>(&self, component: &str, file: &str) -> Result<T> {
        let dir = self.component_dir(component)?;
        read_config(&dir.join(file))
    }
}

/// Parses a JSON config file into `T`, with the path in every error.
pub fn read_config<T: DeserializeOwned>(path: &Path) -> Result<T> {
    if let Some(reason) = loop_reason(path) {
        return Err(Error::Config {
            path: path.to_path_buf(),
            reason,
        });
    }
    if !path.is_file() {
        return Err(Error::Config {
            path: path.to_path_buf(),
            reason: "file not found".into(),
        });
    }
    read_json(path)
}

/// `Some(reason)` when `path` (or a folder on the way to it) is a symbolic
/// link loop: said as such rather than as a missing file.
pub(crate) fn loop_reason(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Err(e) if crate::io::provenance::is_loop(&e) => {
            Some("is a symbolic link loop (too many levels of symbolic links)".into())
        }
        _ => None,
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
