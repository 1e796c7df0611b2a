//! WanTransformer3DModel (diffusers).
