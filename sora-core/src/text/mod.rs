//! Text processing shared by families: tokenizers from `tokenizer.json`, prompt
//! cleaning, and the cache of prompt embeddings.

pub mod cache;
pub mod clean;
pub mod tokenizer;
