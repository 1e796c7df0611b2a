//! Rotary position embeddings (1-D and 3-D).
