//! Progress reporting per denoising step and cooperative cancellation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::{Error, Result};

/// A token that cancels a run between steps; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, uncancelled token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the run to stop at the next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// Clears the flag (for reuse after a cancelled run).
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
    /// `Err(Cancelled)` when cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Which phase a progress event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Encoding the prompt and conditioning.
    Encode,
    /// The denoising loop.
    Denoise,
    /// Decoding latents.
    Decode,
}

/// One progress event.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// The phase.
    pub phase: Phase,
    /// Steps done in this phase (1-based after a step).
    pub step: usize,
    /// Steps in this phase.
    pub total: usize,
    /// Seconds since the phase began.
    pub elapsed_s: f64,
    /// Estimated seconds left in this phase.
    pub eta_s: f64,
}

/// A callback called after each step; returning `false` cancels the run.
pub type StepCallback<'a> = Box<dyn FnMut(&StepInfo) -> bool + Send + 'a>;

/// Progress callback plus cancellation token for one run.
#[derive(Default)]
pub struct Progress<'a> {
    callback: Option<StepCallback<'a>>,
    token: CancelToken,
}

impl<'a> Progress<'a> {
    /// No callback, a fresh token.
    pub fn none() -> Self {
        Self::default()
    }
    /// Calls `f` after each step.
    pub fn with_callback(f: impl FnMut(&StepInfo) -> bool + Send + 'a) -> Self {
        Self {
            callback: Some(Box::new(f)),
            token: CancelToken::new(),
        }
    }
    /// Uses `token` for cancellation.
    pub fn token(mut self, token: CancelToken) -> Self {
        self.token = token;
        self
    }
    /// The cancellation token.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.token
    }
    /// `Err(Cancelled)` when cancelled.
    pub fn check(&self) -> Result<()> {
        self.token.check()
    }
    /// Reports a finished step; cancels when the callback returns `false`.
    pub fn report(
        &mut self,
        phase: Phase,
        step: usize,
        total: usize,
        started: Instant,
    ) -> Result<()> {
        let elapsed_s = started.elapsed().as_secs_f64();
        let eta_s = if step > 0 {
            elapsed_s / step as f64 * (total.saturating_sub(step)) as f64
        } else {
            0.0
        };
        if let Some(cb) = self.callback.as_mut() {
            let info = StepInfo {
                phase,
                step,
                total,
                elapsed_s,
                eta_s,
            };
            if !cb(&info) {
                self.token.cancel();
            }
        }
        self.token.check()
    }
}
