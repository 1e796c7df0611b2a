//! UMT5 encoder (transformers' UMT5EncoderModel) and Wan's prompt encoding.
