//! Builds a scheduler from a diffusers `scheduler_config.json` by its `_class_name`.

use std::path::Path;

use super::Scheduler;
use crate::{Error, Result};

/// The scheduler described by the config file at `path`.
pub fn from_config(path: &Path) -> Result<Box<dyn Scheduler>> {
    Err(Error::Unsupported(format!(
        "schedulers are not built yet ({})",
        path.display()
    )))
}
