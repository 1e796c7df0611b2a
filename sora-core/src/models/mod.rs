//! Model families, one folder each. A family never reaches into another;
//! shared pieces live in `nn/`, `sampler/`, `weights/` and `text/`.

pub mod clip;
pub mod ltx2;
pub mod wan;
