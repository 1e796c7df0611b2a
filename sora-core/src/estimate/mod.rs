//! Memory estimates: the arithmetic every family shares ([`arithmetic`]), and
//! the estimate of a request from a model folder alone (through the family
//! registry).

pub mod arithmetic;

pub use crate::family::registry::estimate_path as estimate_folder;
pub use arithmetic::*;
