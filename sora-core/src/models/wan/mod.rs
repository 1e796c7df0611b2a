//! Wan 2.1 / 2.2: UMT5 text encoder, `WanTransformer3DModel`, `AutoencoderKLWan`,
//! and the family glue that plugs them into the shared loop.

pub mod text_encoder;
pub mod transformer;
pub mod vae;

use crate::weights::ModelFolder;
use crate::{Device, Dtype, Error, Result};

/// The Wan family (placeholder until the components land).
pub struct WanFamily;

impl WanFamily {
    /// Loads a Wan folder.
    pub fn load(_folder: &ModelFolder, _device: Device, _dtype: Dtype) -> Result<Self> {
        Err(Error::Unsupported("the Wan family is not built yet".into()))
    }
}

impl WanFamily {
    /// Dry-loads each component and reports what does not match (see [`crate::family::audit`]).
    pub fn audit(
        _folder: &ModelFolder,
    ) -> Result<
        std::collections::BTreeMap<
            String,
            std::result::Result<crate::weights::WeightReport, String>,
        >,
    > {
        Err(Error::Unsupported("the Wan family is not built yet".into()))
    }
}
