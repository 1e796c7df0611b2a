//! Weight offload for small GPUs, shared by every family: a component's
//! weights wait in host memory and are copied to the run device only while
//! they are used, as diffusers' `enable_model_cpu_offload` (a whole component
//! per phase) and `enable_sequential_cpu_offload` (one transformer block at a
//! time) do.
//!
//! A copy replaces each weight's data in place, as PyTorch's
//! `param.data = param.data.to(device)` does: every module holding the tensor
//! sees it on the device without being rebuilt. The host data is kept aside,
//! so giving the weights back ([`Uploaded::release`]) only swaps it in again
//! and frees the device copies (no copy back: weights do not change).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// Where weights wait between uses (builder option `offload`, CLI `--offload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Offload {
    /// Every component stays on the run device (the default).
    #[default]
    None,
    /// Components wait in host memory; each is copied to the GPU for its
    /// phase (text encoder, transformer, VAE) and dropped from it after:
    /// the GPU holds the largest component instead of all of them.
    Model,
    /// As [`Offload::Model`], and the blocks of the transformer and of the
    /// text encoder are copied to the GPU one at a time as the forward
    /// reaches them: the GPU holds one block (and the small layers around
    /// the blocks) at a time, at the cost of copying the transformer's
    /// weights at every step.
    Sequential,
}

impl Offload {
    /// The option's name for this mode.
    pub fn name(self) -> &'static str {
        match self {
            Offload::None => "none",
            Offload::Model => "model",
            Offload::Sequential => "sequential",
        }
    }

    /// Whether any weights wait in host memory.
    pub fn is_on(self) -> bool {
        self != Offload::None
    }
}

impl fmt::Display for Offload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Offload {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "no" | "false" | "0" => Ok(Offload::None),
            "model" => Ok(Offload::Model),
            "sequential" => Ok(Offload::Sequential),
            other => Err(Error::invalid(format!(
                "offload takes none, model or sequential, got `{other}`"
            ))),
        }
    }
}

/// Handles on a set of weights (a component or one block): each shares its
/// weight's data, so a swap through it is seen by the module holding it.
#[derive(Debug, Default)]
pub struct WeightSet {
    handles: Vec<Tensor>,
    /// Each weight's dtype when the set was made: the dtype its copies have
    /// (the data waiting in host memory may be held wider, see
    /// [`ComponentWeights::place`]).
    kinds: Vec<Kind>,
}

impl WeightSet {
    /// Handles on `tensors`.
    pub fn new<'a>(tensors: impl IntoIterator<Item = &'a Tensor>) -> Self {
        let handles: Vec<Tensor> = tensors.into_iter().map(Tensor::shallow_clone).collect();
        let kinds = handles.iter().map(Tensor::kind).collect();
        Self { handles, kinds }
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether the set holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Bytes of the weights (in their dtype on the run device).
    pub fn bytes(&self) -> u64 {
        self.handles
            .iter()
            .zip(&self.kinds)
            .map(|(t, k)| t.numel() as u64 * k.elt_size_in_bytes() as u64)
            .sum()
    }

    /// Checks that `parts` together hold every weight of this set (compared
    /// by their data, so call it before any copy): a weight left out of the
    /// sets streamed to the device would stay in host memory while its
    /// module runs on the device. `what` names the component in the error.
    pub fn check_covered_by(&self, what: &str, parts: &[&WeightSet]) -> Result<()> {
        let held: HashSet<usize> = parts
            .iter()
            .flat_map(|p| p.handles.iter().map(|t| t.data_ptr() as usize))
            .collect();
        let left: Vec<&Tensor> = self
            .handles
            .iter()
            .filter(|t| t.numel() > 0 && !held.contains(&(t.data_ptr() as usize)))
            .collect();
        match left.first() {
            None => Ok(()),
            Some(first) => Err(Error::invalid(format!(
                "{what}: {} of its {} weights ({} bytes, the first of shape {:?}) are in \
                 none of the sets copied to the device block by block",
                left.len(),
                self.len(),
                WeightSet::new(left.iter().copied()).bytes(),
                first.size()
            ))),
        }
    }

    /// Holds each floating weight in a wider dtype than its copies get (see
    /// [`ComponentWeights::place`]); a weight held so already is left as is.
    fn hold_wider(&self) -> Result<()> {
        for (h, &kind) in self.handles.iter().zip(&self.kinds) {
            let wider = match kind {
                Kind::Float => Kind::Double,
                Kind::Half | Kind::BFloat16 => Kind::Float,
                _ => continue,
            };
            if h.kind() == kind {
                h.shallow_clone().f_set_data(&h.f_to_kind(wider)?)?;
            }
        }
        Ok(())
    }

    /// Whether every weight is on `device` now.
    pub fn is_on(&self, device: Device) -> bool {
        self.handles.iter().all(|t| t.device() == device)
    }

    /// Moves every weight to `device` for good (the host data is not kept).
    pub fn move_to(&self, device: Device) -> Result<()> {
        for (h, &kind) in self.handles.iter().zip(&self.kinds) {
            if h.device() != device || h.kind() != kind {
                h.shallow_clone()
                    .f_set_data(&h.f_to_device_(device, kind, false, false)?)?;
            }
        }
        Ok(())
    }

    /// Copies every weight to `device` until the result is released (a real
    /// copy even when the weights are on `device` already, so the host data
    /// is never written through), in the weight's own dtype.
    pub fn upload(&self, device: Device) -> Result<Uploaded> {
        self.swap(|t, kind| Ok(t.f_to_device_(device, kind, false, true)?))
    }

    /// Replaces each weight's data by `map(weight, dtype of its copies)`
    /// until the result is released. On an error the weights swapped so far
    /// are given back.
    pub fn swap(&self, mut map: impl FnMut(&Tensor, Kind) -> Result<Tensor>) -> Result<Uploaded> {
        let mut up = Uploaded {
            handles: Vec::with_capacity(self.handles.len()),
            host: Vec::with_capacity(self.handles.len()),
        };
        for (h, &kind) in self.handles.iter().zip(&self.kinds) {
            let copy = map(h, kind)?;
            if copy.size() != h.size() {
                return Err(Error::invalid(format!(
                    "offload: a weight copy has shape {:?}, the weight {:?}",
                    copy.size(),
                    h.size()
                )));
            }
            // A new tensor sharing the current data: it keeps it aside.
            let kept = h.f_detach()?;
            let mut handle = h.shallow_clone();
            handle.f_set_data(&copy)?;
            up.handles.push(handle);
            up.host.push(kept);
        }
        Ok(up)
    }
}

/// A component's weights and whether they wait in host memory between uses:
/// copied to the run device as a whole while used (model offload), or
/// streamed, block by block (sequential offload).
#[derive(Debug, Default)]
pub struct ComponentWeights {
    set: WeightSet,
    offloaded: bool,
    /// Sequential offload: the weights copied for each call outside the
    /// blocks, and the blocks.
    streamed: Option<(WeightSet, BlockStream)>,
}

/// How a component streamed by sequential offload splits its weights
/// ([`ComponentWeights::place_offload`]).
#[derive(Debug, Default)]
pub struct StreamParts {
    /// Each block's weights, in forward order: copied as the forward reaches it.
    pub blocks: Vec<WeightSet>,
    /// The weights outside the blocks, copied for each call.
    pub outer: WeightSet,
    /// Weights used where they wait, in host memory (UMT5's token embedding:
    /// the rows a prompt needs are looked up there and only they copied).
    pub apart: Vec<WeightSet>,
}

impl ComponentWeights {
    /// The weights of a component, not offloaded.
    pub fn new(set: WeightSet) -> Self {
        Self {
            set,
            offloaded: false,
            streamed: None,
        }
    }

    /// The weight handles.
    pub fn set(&self) -> &WeightSet {
        &self.set
    }

    /// Whether the weights wait in host memory between uses.
    pub fn is_offloaded(&self) -> bool {
        self.offloaded
    }

    /// Records whether the weights wait in host memory, for a component that
    /// runs on `run` (named `what` in errors): without offload they must be
    /// on `run` already; with it, the component needs its weight handles.
    ///
    /// Offloaded on the CPU (only tests do that: the pipeline refuses it),
    /// the waiting weights are held in a wider dtype (f32 as f64, f16 and
    /// bf16 as f32; copies narrow them back exactly), so that a forward
    /// using a weight it did not copy fails on mixed dtypes or gives other
    /// values, as it would fail on mixed devices on a GPU. (A set records
    /// its weights' dtypes when it is made: [`ComponentWeights::place_offload`]
    /// makes the streamed sets first.)
    pub fn place(&mut self, what: &str, offloaded: bool, run: Device) -> Result<()> {
        if offloaded && self.set.is_empty() {
            return Err(Error::invalid(format!(
                "{what}: no weight handles to offload (load it from its folder)"
            )));
        }
        if !offloaded && !self.set.is_on(run) {
            return Err(Error::invalid(format!(
                "{what}: weights not on {run:?} cannot run there without offload"
            )));
        }
        if offloaded && run == Device::Cpu {
            self.set.hold_wider()?;
        }
        self.offloaded = offloaded;
        Ok(())
    }

    /// As [`ComponentWeights::place`] for the mode `offload`; under
    /// [`Offload::Sequential`] the component is streamed as `parts` says
    /// (required then, ignored otherwise), after checking that the parts
    /// hold every weight of the component.
    pub fn place_offload(
        &mut self,
        what: &str,
        offload: Offload,
        run: Device,
        parts: Option<StreamParts>,
    ) -> Result<()> {
        // The streamed sets are made before `place` (they record the dtypes).
        let streamed = match (offload, parts) {
            (Offload::Sequential, Some(p)) => {
                let mut all: Vec<&WeightSet> = p.blocks.iter().collect();
                all.push(&p.outer);
                all.extend(&p.apart);
                self.set.check_covered_by(what, &all)?;
                Some((p.outer, BlockStream::new(p.blocks)))
            }
            (Offload::Sequential, None) => {
                return Err(Error::invalid(format!(
                    "{what}: sequential offload needs the component's blocks"
                )))
            }
            _ => None,
        };
        self.place(what, offload.is_on(), run)?;
        self.streamed = streamed;
        Ok(())
    }

    /// Whether the component is streamed block by block (sequential offload).
    pub fn is_streamed(&self) -> bool {
        self.streamed.is_some()
    }

    /// Where the weights wait between uses, as placed.
    pub fn offload(&self) -> Offload {
        match (self.offloaded, self.is_streamed()) {
            (false, _) => Offload::None,
            (true, false) => Offload::Model,
            (true, true) => Offload::Sequential,
        }
    }

    /// When offloaded as a whole: copies every weight to `run` until the
    /// result is released; `None` when not offloaded, or streamed.
    pub fn upload(&self, run: Device) -> Result<Option<Uploaded>> {
        if !self.offloaded || self.streamed.is_some() {
            return Ok(None);
        }
        Ok(Some(self.set.upload(run)?))
    }

    /// Streamed: the weights outside the blocks, copied to `run` for one
    /// call (`None` when not streamed).
    pub fn upload_outer(&self, run: Device) -> Result<Option<Uploaded>> {
        match &self.streamed {
            Some((outer, _)) => Ok(Some(outer.upload(run)?)),
            None => Ok(None),
        }
    }

    /// Streamed: block `index`'s weights, copied to `run` while it runs
    /// (`None` when not streamed).
    pub fn upload_block(&self, index: usize, run: Device) -> Result<Option<Uploaded>> {
        match &self.streamed {
            Some((_, blocks)) => blocks.upload(index, run),
            None => Ok(None),
        }
    }

    /// How many block copies were made since the component was streamed
    /// (0 when not streamed).
    pub fn block_uploads(&self) -> u64 {
        self.streamed.as_ref().map_or(0, |(_, b)| b.uploads())
    }
}

/// The blocks of a component streamed to the run device one at a time
/// (sequential offload), with a count of the copies made.
#[derive(Debug, Default)]
pub struct BlockStream {
    blocks: Vec<WeightSet>,
    uploads: AtomicU64,
}

impl BlockStream {
    /// Streams `blocks`, in forward order.
    pub fn new(blocks: Vec<WeightSet>) -> Self {
        Self {
            blocks,
            uploads: AtomicU64::new(0),
        }
    }

    /// Copies block `index`'s weights to `device` until the result is
    /// released (`None` for an index past the last block).
    pub fn upload(&self, index: usize, device: Device) -> Result<Option<Uploaded>> {
        match self.blocks.get(index) {
            Some(set) => {
                self.uploads.fetch_add(1, Ordering::Relaxed);
                Ok(Some(set.upload(device)?))
            }
            None => Ok(None),
        }
    }

    /// How many block copies were made.
    pub fn uploads(&self) -> u64 {
        self.uploads.load(Ordering::Relaxed)
    }
}

/// Weights copied to a device by [`WeightSet::upload`]: released (or
/// dropped), each weight gets its host data back and the copies are freed.
#[derive(Debug)]
pub struct Uploaded {
    handles: Vec<Tensor>,
    host: Vec<Tensor>,
}

impl Uploaded {
    /// Bytes of the copies.
    pub fn bytes(&self) -> u64 {
        self.handles
            .iter()
            .map(|t| t.numel() as u64 * t.kind().elt_size_in_bytes() as u64)
            .sum()
    }

    /// Gives every weight its host data back (the copies are freed once no
    /// computation holds them).
    pub fn release(mut self) -> Result<()> {
        self.restore()
    }

    fn restore(&mut self) -> Result<()> {
        // Last swapped first: a weight listed twice ends with its first data.
        let mut first_err = None;
        while let (Some(mut h), Some(host)) = (self.handles.pop(), self.host.pop()) {
            if let Err(e) = h.f_set_data(&host) {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

impl Drop for Uploaded {
    fn drop(&mut self) {
        // Errors cannot be reported here; `release` reports them.
        let _ = self.restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_is_seen_through_the_module_and_undone_on_release() {
        let w = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        let module_field = w.shallow_clone();
        let set = WeightSet::new([&w]);
        assert_eq!(set.bytes(), 12);
        let ptr = w.data_ptr();
        let up = set.upload(Device::Cpu).unwrap();
        // A real copy: new data, same values, seen through the module's handle.
        assert_ne!(module_field.data_ptr(), ptr);
        assert_eq!(
            Vec::<f32>::try_from(&module_field).unwrap(),
            [1.0, 2.0, 3.0]
        );
        up.release().unwrap();
        assert_eq!(module_field.data_ptr(), ptr);
        // A swap to another dtype shows that every handle is swapped; dropping undoes it.
        {
            let _up = set.swap(|t, _| Ok(t.f_to_kind(Kind::Double)?)).unwrap();
            assert_eq!(module_field.kind(), Kind::Double);
        }
        assert_eq!(module_field.kind(), Kind::Float);
        assert_eq!(module_field.data_ptr(), ptr);
    }

    #[test]
    fn a_weight_listed_twice_gets_its_host_data_back() {
        let w = Tensor::from_slice(&[1.0f32, 2.0]);
        let ptr = w.data_ptr();
        let set = WeightSet::new([&w, &w]);
        set.upload(Device::Cpu).unwrap().release().unwrap();
        assert_eq!(w.data_ptr(), ptr);
    }

    #[test]
    fn a_copy_of_another_shape_is_refused_and_nothing_stays_swapped() {
        let a = Tensor::from_slice(&[1.0f32, 2.0]);
        let b = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        let (pa, pb) = (a.data_ptr(), b.data_ptr());
        let set = WeightSet::new([&a, &b]);
        let mut n = 0;
        let r = set.swap(|t, _| {
            n += 1;
            Ok(if n == 2 {
                t.f_narrow(0, 0, 1)?
            } else {
                t.copy()
            })
        });
        assert!(r.is_err());
        assert_eq!((a.data_ptr(), b.data_ptr()), (pa, pb));
    }

    #[test]
    fn a_weight_left_out_of_the_streamed_sets_is_named() {
        let (a, b, c) = (
            Tensor::from_slice(&[1.0f32, 2.0]),
            Tensor::from_slice(&[3.0f32]),
            Tensor::from_slice(&[4.0f32, 5.0, 6.0]),
        );
        let all = WeightSet::new([&a, &b, &c]);
        let (first, second) = (WeightSet::new([&a]), WeightSet::new([&c, &b]));
        all.check_covered_by("model", &[&first, &second]).unwrap();
        // Another tensor with the same values is not the weight.
        let copy_of_c = WeightSet::new([&c.copy()]);
        let err = all
            .check_covered_by("model", &[&first, &copy_of_c])
            .unwrap_err()
            .to_string();
        assert!(err.contains("model: 2 of its 3 weights (16 bytes"), "{err}");
        assert!(err.contains("[1]"), "{err}");
    }

    #[test]
    fn weights_waiting_on_the_cpu_are_held_wider_and_copied_back_exactly() {
        let w = Tensor::from_slice(&[1.1f32, -2.3]);
        let b = Tensor::from_slice(&[0.7f32]).to_kind(Kind::BFloat16);
        let ids = Tensor::from_slice(&[3i64]);
        let mut c = ComponentWeights::new(WeightSet::new([&w, &b, &ids]));
        c.place("m", true, Device::Cpu).unwrap();
        // A forward that forgot to copy its weights would compute in another dtype.
        assert_eq!(
            (w.kind(), b.kind(), ids.kind()),
            (Kind::Double, Kind::Float, Kind::Int64)
        );
        assert_eq!(c.set().bytes(), 2 * 4 + 2 + 8);
        let up = c.upload(Device::Cpu).unwrap().unwrap();
        assert_eq!((w.kind(), b.kind()), (Kind::Float, Kind::BFloat16));
        assert_eq!(Vec::<f32>::try_from(&w).unwrap(), [1.1, -2.3]);
        assert_eq!(up.bytes(), 2 * 4 + 2 + 8);
        up.release().unwrap();
        assert_eq!(w.kind(), Kind::Double);
        // Placing again does not widen twice.
        c.place("m", true, Device::Cpu).unwrap();
        assert_eq!(w.kind(), Kind::Double);
        // Moved for good, a weight gets its own dtype back.
        c.set().move_to(Device::Cpu).unwrap();
        assert_eq!((w.kind(), b.kind()), (Kind::Float, Kind::BFloat16));
    }

    #[test]
    fn offload_modes_parse_and_print() {
        for m in [Offload::None, Offload::Model, Offload::Sequential] {
            assert_eq!(m.name().parse::<Offload>().unwrap(), m);
        }
        assert_eq!("off".parse::<Offload>().unwrap(), Offload::None);
        assert!("disk".parse::<Offload>().is_err());
    }
}
