//! Step caching for diffusion transformers (First-Block Cache, after
//! ParaAttention's "first block cache" and TeaCache): between two denoising
//! steps the output of a DiT's later blocks often changes about as little as
//! the output of its first block does. So every step runs the first block, and
//! when the first block's residual (its output minus its input) moved less
//! than a threshold since the step that last ran every block, the remaining
//! blocks are skipped and the residual they added then is added again.
//!
//! The rule, as in diffusers' `hooks/first_block_cache.py` (0.42.1): the change
//! is the relative mean absolute difference `mean|r − r_ref| / mean|r_ref|`
//! between the first block's residual `r` now and `r_ref`, the one recorded at
//! the last step that computed every block (it is not refreshed on reused
//! steps, so small changes add up until the next full step). Here a step reuses
//! when that change is strictly below the threshold (threshold 0 never reuses),
//! and the first [`StepCache::warmup`] steps and the last step of a walk always
//! compute every block.
//!
//! One [`StepCache`] serves a whole generation and keeps one state per
//! [`BranchKey`]: the model (expert) and the guidance branches one forward
//! carries — all of them when the branches are batched, one each otherwise
//! — so each expert of a multi-expert model and each separate forward keeps
//! its own states. The denoising walk (`crate::denoise`) makes one cache per
//! generation and hands [`StepCache::entry`] to each model forward.

use std::collections::BTreeMap;

use serde::Serialize;
use tch::{Kind, Tensor};

use crate::{Error, Result};

/// Names one guidance branch of a step (an open identity: each family names
/// its own, e.g. `cond`, `uncond`, `perturbed`, `isolated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BranchId(pub &'static str);

impl BranchId {
    /// The branch's name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// The key of one cache state: which model (expert) ran the forward and which
/// guidance branches it carried (all of them when batched, one otherwise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BranchKey {
    /// The model's index (0 for single-model families; the expert for Wan 2.2).
    pub model: usize,
    /// The branches of the forward, in batch order.
    pub branches: Vec<BranchId>,
}

impl BranchKey {
    /// The key of a forward of `model` carrying `branches`.
    pub fn new(model: usize, branches: &[BranchId]) -> Self {
        Self {
            model,
            branches: branches.to_vec(),
        }
    }
}

/// What step caching did in one generation (recorded in the clip's metadata).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StepCacheStats {
    /// The threshold on the first block's relative residual change.
    pub threshold: f32,
    /// Model forwards that ran every block (one per step with batched
    /// guidance, two per step with sequential guidance).
    pub computed: u32,
    /// Model forwards that ran only the first block and reused the cached
    /// residual of the others.
    pub reused: u32,
}

/// Checks a step-cache threshold: finite and at least 0.
pub fn check_threshold(threshold: f32) -> Result<()> {
    if !threshold.is_finite() || threshold < 0.0 {
        return Err(Error::invalid(format!(
            "the step-cache threshold must be a finite number ≥ 0 (got {threshold})"
        )));
    }
    Ok(())
}

/// `mean|current − previous| / mean|previous|`, computed in f32. Infinite when
/// `previous` is all zeros, NaN when either holds a NaN.
pub fn relative_l1(current: &Tensor, previous: &Tensor) -> Result<f64> {
    let cur = current.f_to_kind(Kind::Float)?;
    let prev = previous.f_to_kind(Kind::Float)?;
    let num = cur
        .f_sub(&prev)?
        .f_abs()?
        .f_mean(Kind::Float)?
        .f_double_value(&[])?;
    let den = prev.f_abs()?.f_mean(Kind::Float)?.f_double_value(&[])?;
    Ok(if den == 0.0 {
        if num == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        num / den
    })
}

/// The decision rule: reuse when the relative change is strictly below the
/// threshold (so a threshold of 0, a NaN or an infinite change always compute).
pub fn should_reuse(change: f64, threshold: f32) -> bool {
    change < threshold as f64
}

/// The residuals one branch keeps between steps, one per stream (one
/// stream for most models; video and audio for joint ones).
#[derive(Debug, Default)]
struct BranchState {
    /// First block's output − input at the last fully computed step.
    first: Vec<Tensor>,
    /// Last block's output − first block's output at that step.
    rest: Vec<Tensor>,
}

/// First-block cache of one generation, with one state per [`BranchKey`].
#[derive(Debug)]
pub struct StepCache {
    threshold: f32,
    warmup: usize,
    branches: BTreeMap<BranchKey, BranchState>,
    computed: u32,
    reused: u32,
}

impl StepCache {
    /// Steps at the start of a walk that always compute every block, by default.
    pub const DEFAULT_WARMUP: usize = 1;

    /// A cache reusing steps whose first-block change is below `threshold`
    /// (see [`check_threshold`]).
    pub fn new(threshold: f32) -> Result<Self> {
        check_threshold(threshold)?;
        Ok(Self {
            threshold,
            warmup: Self::DEFAULT_WARMUP,
            branches: BTreeMap::new(),
            computed: 0,
            reused: 0,
        })
    }

    /// Sets how many steps at the start of a walk always compute (at least 1:
    /// the first step has nothing to reuse).
    pub fn with_warmup(mut self, steps: usize) -> Self {
        self.warmup = steps.max(1);
        self
    }

    /// The threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Steps at the start of a walk that always compute.
    pub fn warmup(&self) -> usize {
        self.warmup
    }

    /// Forgets every branch's residuals and zeroes the counts (start of a generation).
    pub fn reset(&mut self) {
        self.branches.clear();
        self.computed = 0;
        self.reused = 0;
    }

    /// What the cache did since the last [`StepCache::reset`].
    pub fn stats(&self) -> StepCacheStats {
        StepCacheStats {
            threshold: self.threshold,
            computed: self.computed,
            reused: self.reused,
        }
    }

    /// The cache of branch `key` for step `index` of a walk of `total` steps;
    /// run the forward through [`CachedStep::run`].
    pub fn entry(&mut self, key: BranchKey, index: usize, total: usize) -> CachedStep<'_> {
        let force = index < self.warmup || index + 1 >= total;
        CachedStep {
            state: self.branches.entry(key).or_default(),
            force,
            threshold: self.threshold,
            computed: &mut self.computed,
            reused: &mut self.reused,
        }
    }
}

/// One branch's cache at one step, borrowed from a [`StepCache`].
#[derive(Debug)]
pub struct CachedStep<'a> {
    state: &'a mut BranchState,
    force: bool,
    threshold: f32,
    computed: &'a mut u32,
    reused: &'a mut u32,
}

impl CachedStep<'_> {
    /// Whether this step must compute every block whatever the change
    /// (a warm-up step or the last step).
    pub fn forced(&self) -> bool {
        self.force
    }

    /// Finishes a forward whose first block turned `before` into `after`
    /// (hidden states, same shape): either runs `rest` (the remaining blocks,
    /// from `after` to the hidden states after the last block) and refreshes
    /// the cache, or skips it and returns `after` plus the cached residual of
    /// the remaining blocks.
    pub fn run(
        self,
        before: &Tensor,
        after: &Tensor,
        rest: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let mut out = self.run_streams(
            std::slice::from_ref(before),
            std::slice::from_ref(after),
            |h| Ok(vec![rest(&h[0])?]),
        )?;
        out.pop()
            .ok_or_else(|| Error::invalid("step cache: the forward returned no hidden states"))
    }

    /// [`CachedStep::run`] for a model with several streams of hidden states
    /// (LTX-2's video and audio, for each of the calls of one step): one
    /// decision for all of them, so the streams are computed or reused
    /// together. The change is the largest relative change of any stream's
    /// first-block residual (a stream the others outnumber still counts);
    /// `rest` maps every stream after the first block to every stream after
    /// the last block, in the same order.
    pub fn run_streams(
        self,
        before: &[Tensor],
        after: &[Tensor],
        rest: impl FnOnce(&[Tensor]) -> Result<Vec<Tensor>>,
    ) -> Result<Vec<Tensor>> {
        if before.len() != after.len() || before.is_empty() {
            return Err(Error::invalid(format!(
                "step cache: {} streams before the first block, {} after",
                before.len(),
                after.len()
            )));
        }
        let residual = after
            .iter()
            .zip(before)
            .map(|(a, b)| Ok(a.f_sub(b)?))
            .collect::<Result<Vec<_>>>()?;
        if !self.force
            && self.threshold > 0.0
            && self.state.first.len() == residual.len()
            && self.state.rest.len() == residual.len()
        {
            let same_shapes = residual
                .iter()
                .zip(&self.state.first)
                .zip(&self.state.rest)
                .all(|((r, f), c)| f.size() == r.size() && c.size() == r.size());
            if same_shapes {
                let mut change = 0.0f64;
                for (r, f) in residual.iter().zip(&self.state.first) {
                    let d = relative_l1(r, f)?;
                    // NaN propagates (f64::max would drop it): it never reuses.
                    change = if d.is_nan() { d } else { change.max(d) };
                    if change.is_nan() {
                        break;
                    }
                }
                if should_reuse(change, self.threshold) {
                    *self.reused += 1;
                    return after
                        .iter()
                        .zip(&self.state.rest)
                        .map(|(a, c)| Ok(a.f_add(c)?))
                        .collect();
                }
            }
        }
        let out = rest(after)?;
        if out.len() != after.len() {
            return Err(Error::invalid(format!(
                "step cache: the remaining blocks returned {} streams for {}",
                out.len(),
                after.len()
            )));
        }
        self.state.rest = out
            .iter()
            .zip(after)
            .map(|(o, a)| Ok(o.f_sub(a)?))
            .collect::<Result<Vec<_>>>()?;
        self.state.first = residual;
        *self.computed += 1;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v)
    }

    fn key() -> BranchKey {
        BranchKey::new(0, &[BranchId("cond"), BranchId("uncond")])
    }

    #[test]
    fn relative_l1_on_hand_made_tensors() {
        // |[1.1, 1.9, 3] - [1, 2, 3]| mean = 0.2/3, |[1,2,3]| mean = 2 → 1/30.
        let d = relative_l1(&t(&[1.1, 1.9, 3.0]), &t(&[1.0, 2.0, 3.0])).unwrap();
        assert!((d - 1.0 / 30.0).abs() < 1e-6, "{d}");
        assert_eq!(
            relative_l1(&t(&[1.0, -2.0]), &t(&[1.0, -2.0])).unwrap(),
            0.0
        );
        assert_eq!(relative_l1(&t(&[0.0]), &t(&[0.0])).unwrap(), 0.0);
        assert!(relative_l1(&t(&[1.0]), &t(&[0.0])).unwrap().is_infinite());
        assert!(relative_l1(&t(&[f32::NAN]), &t(&[1.0])).unwrap().is_nan());
    }

    #[test]
    fn reuse_only_strictly_below_the_threshold() {
        assert!(should_reuse(0.05, 0.1));
        assert!(!should_reuse(0.25, 0.25));
        assert!(!should_reuse(0.0, 0.0));
        assert!(!should_reuse(f64::NAN, 1.0));
        assert!(!should_reuse(f64::INFINITY, 1e30));
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(check_threshold(0.0).is_ok());
        assert!(check_threshold(0.3).is_ok());
        for bad in [-0.1, f32::NAN, f32::INFINITY] {
            assert!(matches!(StepCache::new(bad), Err(Error::InvalidRequest(_))));
        }
    }

    /// Runs one step of a fake model: the "first block" adds `first` to `x`,
    /// the rest adds 10 and counts its calls.
    fn step(
        cache: &mut StepCache,
        key: BranchKey,
        i: usize,
        n: usize,
        x: &Tensor,
        first: f32,
        calls: &mut u32,
    ) -> Vec<f32> {
        let after = x + f64::from(first);
        let y = cache
            .entry(key, i, n)
            .run(x, &after, |h| {
                *calls += 1;
                Ok(h + 10.0)
            })
            .unwrap();
        Vec::<f32>::try_from(&y).unwrap()
    }

    #[test]
    fn reuses_while_the_first_residual_stays_close_and_always_computes_the_ends() {
        let mut cache = StepCache::new(0.1).unwrap();
        let x = t(&[0.0, 0.0]);
        let mut calls = 0;
        // First step: computes, caches first residual 1.0 and rest residual 10.
        let y = step(&mut cache, key(), 0, 5, &x, 1.0, &mut calls);
        assert_eq!(y, vec![11.0, 11.0]);
        // 5 % change: reused, output = after + cached 10.
        let y = step(&mut cache, key(), 1, 5, &x, 1.05, &mut calls);
        assert_eq!(calls, 1);
        assert_eq!(y, vec![11.05, 11.05]);
        // 15 % against the reference of step 0 (not step 1): computes.
        step(&mut cache, key(), 2, 5, &x, 1.15, &mut calls);
        assert_eq!(calls, 2);
        // Within 10 % of the new reference (1.15): reused.
        step(&mut cache, key(), 3, 5, &x, 1.16, &mut calls);
        assert_eq!(calls, 2);
        // The last step computes whatever the change.
        step(&mut cache, key(), 4, 5, &x, 1.15, &mut calls);
        assert_eq!(calls, 3);
        assert_eq!(
            cache.stats(),
            StepCacheStats {
                threshold: 0.1,
                computed: 3,
                reused: 2
            }
        );
        cache.reset();
        assert_eq!(cache.stats().computed + cache.stats().reused, 0);
        // After a reset nothing is cached: the next step computes even past warm-up.
        step(&mut cache, key(), 2, 5, &x, 1.15, &mut calls);
        assert_eq!(calls, 4);
    }

    #[test]
    fn branches_keep_separate_states_and_threshold_zero_never_reuses() {
        let cond = BranchKey::new(0, &[BranchId("cond")]);
        let uncond = BranchKey::new(0, &[BranchId("uncond")]);
        let expert = BranchKey::new(1, &[BranchId("cond")]);
        let mut cache = StepCache::new(0.5).unwrap();
        let x = t(&[1.0]);
        let mut calls = 0;
        step(&mut cache, cond.clone(), 0, 9, &x, 1.0, &mut calls);
        step(&mut cache, uncond.clone(), 0, 9, &x, 4.0, &mut calls);
        // Close to its own branch's reference only: cond reuses, uncond computes.
        step(&mut cache, cond.clone(), 1, 9, &x, 1.1, &mut calls);
        step(&mut cache, uncond.clone(), 1, 9, &x, 1.1, &mut calls);
        assert_eq!(calls, 3);
        // A new expert has nothing cached: it computes.
        step(&mut cache, expert.clone(), 2, 9, &x, 1.0, &mut calls);
        assert_eq!(calls, 4);
        assert_eq!(cache.stats().reused, 1);

        let mut zero = StepCache::new(0.0).unwrap();
        let mut calls = 0;
        for i in 0..4 {
            step(&mut zero, key(), i, 4, &x, 1.0, &mut calls);
        }
        assert_eq!(calls, 4);
        assert_eq!(zero.stats().reused, 0);
    }

    #[test]
    fn warmup_steps_and_a_changed_shape_compute() {
        let mut cache = StepCache::new(1.0).unwrap().with_warmup(2);
        let mut calls = 0;
        let x = t(&[0.0, 0.0]);
        step(&mut cache, key(), 0, 6, &x, 1.0, &mut calls);
        step(&mut cache, key(), 1, 6, &x, 1.0, &mut calls);
        assert_eq!(calls, 2);
        step(&mut cache, key(), 2, 6, &x, 1.0, &mut calls);
        assert_eq!(calls, 2);
        step(
            &mut cache,
            key(),
            3,
            6,
            &t(&[0.0, 0.0, 0.0]),
            1.0,
            &mut calls,
        );
        assert_eq!(calls, 3);
    }

    #[test]
    fn streams_decide_together_on_the_largest_change() {
        let mut cache = StepCache::new(0.1).unwrap();
        let key = BranchKey::new(0, &[BranchId("cond")]);
        let x = [t(&[0.0, 0.0]), t(&[0.0])];
        let mut calls = 0;
        let mut go = |cache: &mut StepCache, i: usize, fv: f32, fa: f32| {
            let after = [&x[0] + f64::from(fv), &x[1] + f64::from(fa)];
            let out = cache
                .entry(key.clone(), i, 9)
                .run_streams(&x, &after, |h| {
                    calls += 1;
                    Ok(vec![&h[0] + 10.0, &h[1] + 20.0])
                })
                .unwrap();
            out.iter()
                .map(|o| Vec::<f32>::try_from(o).unwrap())
                .collect::<Vec<_>>()
        };
        go(&mut cache, 0, 1.0, 1.0);
        // Both streams within 10 %: both reused with their own residuals.
        let y = go(&mut cache, 1, 1.05, 1.05);
        assert_eq!(y, vec![vec![11.05, 11.05], vec![21.05]]);
        // The video stays close, the audio moves 50 %: both computed.
        go(&mut cache, 2, 1.0, 1.5);
        assert_eq!(cache.stats().computed, 2);
        assert_eq!(cache.stats().reused, 1);
        assert_eq!(calls, 2);
        // A mismatched number of streams is an error, not a panic.
        let err = cache
            .entry(key.clone(), 3, 9)
            .run_streams(&x, &x[..1], |h| {
                Ok(h.iter().map(Tensor::shallow_clone).collect())
            });
        assert!(err.is_err());
    }
}
