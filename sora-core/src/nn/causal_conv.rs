//! Causal 3-D convolution with a feature cache (chunked over time).
