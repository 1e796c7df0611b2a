//! Gemma 3 as a text encoder: the text model of transformers'
//! `Gemma3ForConditionalGeneration` (no vision tower), its configuration, and
//! the tokenizer rebuild transformers 5 applies to Gemma's `tokenizer.json`.

pub mod config;
pub mod model;
pub mod tokenizer;

pub use config::{Gemma3TextConfig, LayerType, RopeSpec};
pub use model::Gemma3TextModel;
