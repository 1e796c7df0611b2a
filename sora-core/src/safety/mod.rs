//! Safety and provenance: the prompt gate, the consent registry and protected
//! list, the pluggable identity check, the visible moving watermark, the
//! invisible video and audio watermarks with their error correction and
//! detectors, the content credentials (a signed C2PA manifest in MP4 and
//! WAV outputs), and `verify`, which reads marks and credentials back from a
//! file (see `docs/safety.md`).

pub mod audio_mark;
pub mod confusables;
pub mod credentials;
pub mod ecc;
pub mod gate;
pub mod guard;
pub mod identity;
pub mod keyed;
pub mod matcher;
pub mod normalize;
pub mod payload;
pub mod policy;
pub mod registry;
pub mod time;
pub mod verify;
pub mod video_mark;
pub mod visible;

pub use credentials::{ClipCredentials, CredentialsMeta, SigningIdentity};
pub use payload::{Detection, Payload};
pub use policy::{Marker, WatermarkMeta, WatermarkPolicy, WatermarkSettings};
pub use verify::{verify, verify_with, Credentials, SignerInfo, VerifyReport};
