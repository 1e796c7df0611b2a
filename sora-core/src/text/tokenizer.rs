//! Tokenizers read from a folder's `tokenizer.json` (HF `tokenizers`).
