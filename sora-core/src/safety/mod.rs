//! Safety and provenance: the visible moving watermark, the invisible video
//! and audio watermarks with their error correction and detectors, and
//! `verify`, which reads them back from a file.

pub mod audio_mark;
pub mod ecc;
pub mod keyed;
pub mod payload;
pub mod policy;
pub mod verify;
pub mod video_mark;
pub mod visible;

pub use payload::{Detection, Payload};
pub use policy::{Marker, WatermarkMeta, WatermarkPolicy, WatermarkSettings};
pub use verify::{verify, Credentials, VerifyReport};
