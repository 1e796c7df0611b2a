//! Text processing shared by families: tokenizers from `tokenizer.json`, prompt
//! cleaning, the cache of prompt embeddings, and text encoders used by more
//! than one family (Gemma 3).

pub mod cache;
pub mod clean;
pub mod gemma3;
pub mod tokenizer;
