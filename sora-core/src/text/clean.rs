//! Prompt cleaning as diffusers' pipelines apply it (ftfy-style fixes, HTML unescape, whitespace).
