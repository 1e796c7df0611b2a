//! Text processing shared by families: tokenizers from `tokenizer.json` and prompt cleaning.

pub mod clean;
pub mod tokenizer;
