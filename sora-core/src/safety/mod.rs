//! Safety: the prompt gate, the consent registry and protected list, and the
//! pluggable identity check (see `docs/safety.md`).

pub mod confusables;
pub mod gate;
pub mod guard;
pub mod identity;
pub mod matcher;
pub mod normalize;
pub mod registry;
pub mod time;
