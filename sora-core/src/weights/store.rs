//! Memory-mapped safetensors weights, read tensor by tensor on demand and cast
//! once to the requested dtype and device.
//!
//! Model constructors ask a [`WeightPath`] for each tensor by its checkpoint
//! name and expected shape. A missing or mis-shaped tensor does not stop the
//! construction: it is recorded and a zero-cost placeholder (a broadcast view)
//! is returned, so that [`TensorStore::finish`] can report *every* problem by
//! name at once, as a typed [`Error::WeightMismatch`].
//!
//! 8-bit float tensors (`F8_E4M3` / `F8_E5M2`, PyTorch's `float8_e4m3fn` /
//! `float8_e5m2`) are read as LibTorch's float8 kinds and cast like any
//! floating tensor (exactly: every float8 value is a bfloat16, float16 and
//! float32 value), except the weights of dense layers when the store keeps
//! them ([`TensorStore::keep_fp8_linears`]): those stay in float8 on the
//! device, one byte each, and [`crate::nn::Linear`] casts them to the
//! activations' dtype for each call ("upcast per layer"). A checkpoint whose
//! float8 tensors come with scales (`weight_scale`, `scale_weight`,
//! `input_scale`) is refused: its values are not the stored ones.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::tensor::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

struct Entry {
    file: usize,
    dtype: Dtype,
    shape: Vec<i64>,
    start: usize,
    end: usize,
}

/// The tensors of one component (one folder of safetensors files).
pub struct TensorStore {
    component: String,
    files: Vec<(PathBuf, Mmap)>,
    entries: HashMap<String, Entry>,
    device: Device,
    kind: Kind,
    used: RefCell<BTreeSet<String>>,
    missing: RefCell<Vec<String>>,
    mismatched: RefCell<Vec<String>>,
    /// Handles on every tensor handed out (see [`TensorStore::weight_set`]).
    handed: RefCell<Vec<Tensor>>,
    dry: bool,
    /// Keep float8 weights of dense layers as stored ([`TensorStore::keep_fp8_linears`]).
    keep_fp8: bool,
    /// Recording store ([`TensorStore::recording`]): every request is noted
    /// with its shape and answered with a placeholder.
    recording: bool,
    /// What a recording store was asked for, in order.
    requested: RefCell<Vec<(String, Vec<i64>)>>,
    /// Whether to keep a named handle on every tensor handed out ([`TensorStore::keep_names`]).
    keep_names: bool,
    /// Named handles on the tensors handed out (with `keep_names`).
    named: RefCell<Vec<(String, Tensor)>>,
}

/// The size of one stored tensor (see [`TensorStore::tensor_sizes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSize {
    /// The checkpoint name.
    pub name: String,
    /// Number of elements.
    pub numel: u64,
    /// Bytes in the file.
    pub bytes: u64,
    /// Whether the tensor is floating point (cast to the run's dtype on load).
    pub floating: bool,
    /// Whether it is stored as an 8-bit float.
    pub fp8: bool,
    /// Number of dimensions.
    pub rank: usize,
}

/// What a model needed from a store and did not find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightReport {
    /// Needed by the model, absent from the files.
    pub missing: Vec<String>,
    /// Present in the files, not used by the model.
    pub unexpected: Vec<String>,
    /// Present with another shape: `name: expected [..], found [..]`.
    pub mismatched: Vec<String>,
}

impl WeightReport {
    /// True when nothing is missing or mismatched (unexpected tensors are tolerated).
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty()
    }
}

fn kind_of(d: Dtype) -> Option<Kind> {
    Some(match d {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        Dtype::F8_E4M3 => Kind::Float8e4m3fn,
        Dtype::F8_E5M2 => Kind::Float8e5m2,
        _ => return None,
    })
}

/// Whether `kind` is one of LibTorch's 8-bit float kinds.
pub fn is_fp8(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Float8e4m3fn | Kind::Float8e5m2 | Kind::Float8e4m3fnuz | Kind::Float8e5m2fnuz
    )
}

/// Names of the scale tensors that come with scaled float8 weights.
fn is_fp8_scale(name: &str) -> bool {
    ["weight_scale", "scale_weight", "input_scale", "scale_input"]
        .iter()
        .any(|s| name.ends_with(s))
}

impl TensorStore {
    /// Opens every `*.safetensors` file in `dir` (or those named by a
    /// `*.safetensors.index.json`), memory-mapped. `component` names the
    /// store in messages. Floating tensors are cast to `kind` when read.
    pub fn open(dir: &Path, component: &str, device: Device, kind: Kind) -> Result<Self> {
        let files = list_weight_files(dir)?;
        let mut store = Self::empty(component, device, kind);
        for path in files {
            store.add_file(&path)?;
        }
        store.check_fp8_scales(dir)?;
        Ok(store)
    }

    /// Refuses float8 tensors that come with scales: reading them as stored
    /// would give other values than the checkpoint's.
    fn check_fp8_scales(&self, at: &Path) -> Result<()> {
        let any_fp8 = self
            .entries
            .values()
            .any(|e| matches!(e.dtype, Dtype::F8_E4M3 | Dtype::F8_E5M2));
        if !any_fp8 {
            return Ok(());
        }
        let mut scales: Vec<&String> = self.entries.keys().filter(|k| is_fp8_scale(k)).collect();
        scales.sort();
        match scales.first() {
            None => Ok(()),
            Some(first) => Err(Error::Unsupported(format!(
                "{}: float8 weights with scales ({} scale tensors, e.g. `{first}`, in {}): \
                 scaled fp8 checkpoints are not read; float8_e4m3fn / float8_e5m2 weights \
                 without scales are",
                self.component,
                scales.len(),
                at.display()
            ))),
        }
    }

    /// Keeps the float8 weights of dense layers (read by
    /// [`WeightPath::get_linear_weight`]) as stored: one byte each on the
    /// device, cast to the activations' dtype by each call of
    /// [`crate::nn::Linear`] (every other tensor is cast when read).
    pub fn keep_fp8_linears(mut self, keep: bool) -> Self {
        self.keep_fp8 = keep;
        self
    }

    /// Whether `name` is stored as an 8-bit float.
    pub fn is_stored_fp8(&self, name: &str) -> bool {
        self.entries
            .get(name)
            .is_some_and(|e| matches!(e.dtype, Dtype::F8_E4M3 | Dtype::F8_E5M2))
    }

    /// Opens a single safetensors file.
    pub fn open_file(path: &Path, component: &str, device: Device, kind: Kind) -> Result<Self> {
        let mut store = Self::empty(component, device, kind);
        store.add_file(path)?;
        store.check_fp8_scales(path)?;
        Ok(store)
    }

    fn empty(component: &str, device: Device, kind: Kind) -> Self {
        TensorStore {
            component: component.to_string(),
            files: Vec::new(),
            entries: HashMap::new(),
            device,
            kind,
            used: RefCell::new(BTreeSet::new()),
            missing: RefCell::new(Vec::new()),
            mismatched: RefCell::new(Vec::new()),
            handed: RefCell::new(Vec::new()),
            dry: false,
            keep_fp8: false,
            recording: false,
            requested: RefCell::new(Vec::new()),
            keep_names: false,
            named: RefCell::new(Vec::new()),
        }
    }

    /// A store with no files that records every tensor a model constructor
    /// asks for (name and shape, in order, see [`TensorStore::requested`]) and
    /// answers each with a zero-cost placeholder; [`TensorStore::finish`]
    /// succeeds. Used to create a component's weights from its config alone
    /// (`train::init`). [`WeightPath::contains`] and [`WeightPath::shape_of`]
    /// answer as for an empty store: tensors a constructor loads only when
    /// present are left out.
    pub fn recording(component: &str, device: Device, kind: Kind) -> Self {
        let mut store = Self::empty(component, device, kind);
        store.recording = true;
        store
    }

    /// Whether this is a [`Self::recording`] store.
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// The names and shapes a recording store was asked for, in order (each once).
    pub fn requested(&self) -> Vec<(String, Vec<i64>)> {
        self.requested.borrow().clone()
    }

    /// Keeps a named handle on every tensor handed out (sharing storage and
    /// autograd state with the model's), read by [`TensorStore::named_tensors`]:
    /// what training needs to find a loaded component's parameters by name.
    pub fn keep_names(mut self, keep: bool) -> Self {
        self.keep_names = keep;
        self
    }

    /// The tensors handed out so far with their checkpoint names (with
    /// [`TensorStore::keep_names`]; empty otherwise), as shallow clones.
    pub fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.named
            .borrow()
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect()
    }

    fn add_file(&mut self, path: &Path) -> Result<()> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only; a file changed underneath us while
        // mapped is the one hazard, as with every memory-mapped reader.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let corrupt = |reason: String| Error::CorruptWeights {
            path: path.to_path_buf(),
            reason,
        };
        let (header_len, meta) =
            SafeTensors::read_metadata(&mmap[..]).map_err(|e| corrupt(e.to_string()))?;
        let base = 8 + header_len;
        let idx = self.files.len();
        for (name, info) in meta.tensors() {
            let (s, e) = info.data_offsets;
            if base + e > mmap.len() {
                return Err(corrupt(format!(
                    "tensor `{name}` runs past the end of the file"
                )));
            }
            let shape: Vec<i64> = info.shape.iter().map(|&d| d as i64).collect();
            self.entries.insert(
                name.clone(),
                Entry {
                    file: idx,
                    dtype: info.dtype,
                    shape,
                    start: base + s,
                    end: base + e,
                },
            );
        }
        self.files.push((path.to_path_buf(), mmap));
        Ok(())
    }

    /// A dry store reads no tensor data: every request is checked against the
    /// files' names and shapes and answered with a zero-cost placeholder. Used
    /// to audit a checkpoint (`sora inspect`) without loading it.
    pub fn dry(mut self) -> Self {
        self.dry = true;
        self
    }

    /// Whether this store is dry (see [`TensorStore::dry`]).
    pub fn is_dry(&self) -> bool {
        self.dry
    }

    /// The component name given at open.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The device tensors are placed on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The floating dtype tensors are cast to.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// A path at the root of the checkpoint's names.
    pub fn root(&self) -> WeightPath<'_> {
        WeightPath {
            store: self,
            prefix: String::new(),
        }
    }

    /// Names, dtypes and shapes of every tensor in the files (sorted by name).
    pub fn tensor_infos(&self) -> Vec<(String, String, Vec<i64>)> {
        let mut v: Vec<_> = self
            .entries
            .iter()
            .map(|(k, e)| (k.clone(), format!("{:?}", e.dtype), e.shape.clone()))
            .collect();
        v.sort();
        v
    }

    /// Name, element count, bytes on disk and whether the tensor is floating
    /// (cast to the run's dtype when read), for every tensor in the files:
    /// what the memory estimator counts (read from the headers, no data).
    pub fn tensor_sizes(&self) -> Vec<TensorSize> {
        self.entries
            .iter()
            .map(|(name, e)| TensorSize {
                name: name.clone(),
                numel: e.shape.iter().product::<i64>().max(0) as u64,
                bytes: (e.end - e.start) as u64,
                floating: matches!(
                    kind_of(e.dtype),
                    Some(Kind::Float | Kind::Half | Kind::BFloat16 | Kind::Double)
                ) || kind_of(e.dtype).is_some_and(is_fp8),
                fp8: kind_of(e.dtype).is_some_and(is_fp8),
                rank: e.shape.len(),
            })
            .collect()
    }

    /// Whether the files hold `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Reads `name` exactly as stored (dtype of the file), on the CPU.
    pub fn read_raw(&self, name: &str) -> Result<Tensor> {
        let e = self
            .entries
            .get(name)
            .ok_or_else(|| Error::WeightMismatch {
                component: self.component.clone(),
                missing: vec![name.to_string()],
                unexpected: vec![],
                mismatched: vec![],
                summary: format!("missing tensor `{name}`"),
            })?;
        let (path, mmap) = &self.files[e.file];
        let kind = kind_of(e.dtype).ok_or_else(|| Error::CorruptWeights {
            path: path.clone(),
            reason: format!("tensor `{name}` has unsupported dtype {:?}", e.dtype),
        })?;
        let t = Tensor::f_from_data_size(&mmap[e.start..e.end], &e.shape, kind)?;
        Ok(t)
    }

    fn load(&self, name: &str, shape: Option<&[i64]>, kind: Option<Kind>) -> Result<Tensor> {
        self.load_as(name, shape, kind, false)
    }

    /// [`TensorStore::load`]; with `keep_fp8`, a float8 tensor stays float8.
    fn load_as(
        &self,
        name: &str,
        shape: Option<&[i64]>,
        kind: Option<Kind>,
        keep_fp8: bool,
    ) -> Result<Tensor> {
        let stored_fp8 = keep_fp8 && self.is_stored_fp8(name);
        let want = match (
            stored_fp8,
            self.entries.get(name).and_then(|e| kind_of(e.dtype)),
        ) {
            (true, Some(k)) => k,
            _ => kind.unwrap_or(self.kind),
        };
        // Placeholders are never computed with: the requested dtype.
        let fallback = kind.unwrap_or(self.kind);
        let placeholder = |shape: &[i64]| -> Result<Tensor> {
            Ok(Tensor::f_zeros([1], (fallback, Device::Cpu))?.f_expand(shape, false)?)
        };
        if self.recording {
            let mut req = self.requested.borrow_mut();
            let shape = shape.ok_or_else(|| {
                Error::invalid(format!(
                    "{}: a recording store needs the shape of `{name}`",
                    self.component
                ))
            })?;
            if !req.iter().any(|(n, _)| n == name) {
                req.push((name.to_string(), shape.to_vec()));
            }
            return placeholder(shape);
        }
        let Some(e) = self.entries.get(name) else {
            self.missing.borrow_mut().push(name.to_string());
            return match shape {
                Some(s) => placeholder(s),
                None => Err(self.mismatch_error()),
            };
        };
        if let Some(s) = shape {
            if s != e.shape.as_slice() {
                self.mismatched
                    .borrow_mut()
                    .push(format!("{name}: expected {s:?}, found {:?}", e.shape));
                self.used.borrow_mut().insert(name.to_string());
                return placeholder(s);
            }
        }
        self.used.borrow_mut().insert(name.to_string());
        if self.dry {
            return placeholder(&e.shape);
        }
        let t = self.read_raw(name)?;
        // Moved first (nothing to do on the CPU), then cast: on a GPU the
        // cast is the same rounding as on the host, and much faster.
        let t = t.f_to_device(self.device)?;
        let t = if (t.is_floating_point() || is_fp8(t.kind())) && t.kind() != want {
            t.f_to_kind(want)?
        } else {
            t
        };
        self.handed.borrow_mut().push(t.shallow_clone());
        if self.keep_names {
            self.named
                .borrow_mut()
                .push((name.to_string(), t.shallow_clone()));
        }
        Ok(t)
    }

    /// Handles on every tensor handed out so far (one per call), to move the
    /// component's weights as one set (weight offload); the store forgets them.
    pub fn weight_set(&self) -> crate::nn::WeightSet {
        let handed = std::mem::take(&mut *self.handed.borrow_mut());
        crate::nn::WeightSet::new(handed.iter())
    }

    /// The report of what construction needed and did not find so far.
    pub fn report(&self) -> WeightReport {
        let used = self.used.borrow();
        let mut unexpected: Vec<String> = self
            .entries
            .keys()
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect();
        unexpected.sort();
        WeightReport {
            missing: self.missing.borrow().clone(),
            unexpected,
            mismatched: self.mismatched.borrow().clone(),
        }
    }

    fn mismatch_error(&self) -> Error {
        let r = self.report();
        let mut parts = Vec::new();
        if !r.missing.is_empty() {
            parts.push(format!(
                "{} missing (first: {})",
                r.missing.len(),
                r.missing
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !r.mismatched.is_empty() {
            parts.push(format!(
                "{} with wrong shape (first: {})",
                r.mismatched.len(),
                r.mismatched
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        Error::WeightMismatch {
            component: self.component.clone(),
            missing: r.missing,
            unexpected: r.unexpected,
            mismatched: r.mismatched,
            summary: parts.join("; "),
        }
    }

    /// Ends construction: an error naming every missing or mis-shaped tensor, if any.
    pub fn finish(&self) -> Result<()> {
        if self.report().is_ok() {
            Ok(())
        } else {
            Err(self.mismatch_error())
        }
    }

    /// Total bytes of the tensor data in the files.
    pub fn bytes_on_disk(&self) -> u64 {
        self.entries
            .values()
            .map(|e| (e.end - e.start) as u64)
            .sum()
    }
}

/// A dotted prefix into a [`TensorStore`], as `nn::Path` is in tch: `p.pp("blocks").pp(0)`.
#[derive(Clone)]
pub struct WeightPath<'a> {
    store: &'a TensorStore,
    prefix: String,
}

impl<'a> WeightPath<'a> {
    /// A sub-path `prefix.name`.
    pub fn pp(&self, name: impl std::fmt::Display) -> WeightPath<'a> {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.prefix, name)
        };
        WeightPath {
            store: self.store,
            prefix,
        }
    }

    fn full(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.prefix, name)
        }
    }

    /// The store this path reads from.
    pub fn store(&self) -> &'a TensorStore {
        self.store
    }

    /// The device tensors go to.
    pub fn device(&self) -> Device {
        self.store.device
    }

    /// The floating dtype tensors are cast to.
    pub fn kind(&self) -> Kind {
        self.store.kind
    }

    /// The tensor `name` with the expected `shape`, cast to the store's dtype.
    /// A missing or mis-shaped tensor is recorded (see [`TensorStore::finish`]).
    pub fn get(&self, name: &str, shape: &[i64]) -> Result<Tensor> {
        self.store.load(&self.full(name), Some(shape), None)
    }

    /// As [`WeightPath::get`], but kept in `kind` (e.g. f32 for modules kept in full precision).
    pub fn get_kind(&self, name: &str, shape: &[i64], kind: Kind) -> Result<Tensor> {
        self.store.load(&self.full(name), Some(shape), Some(kind))
    }

    /// A dense layer's weight: as [`WeightPath::get`], except that a float8
    /// weight stays float8 when the store keeps them
    /// ([`TensorStore::keep_fp8_linears`]).
    pub fn get_linear_weight(&self, name: &str, shape: &[i64]) -> Result<Tensor> {
        self.store
            .load_as(&self.full(name), Some(shape), None, self.store.keep_fp8)
    }

    /// Whether the tensor `name` exists under this path.
    pub fn contains(&self, name: &str) -> bool {
        self.store.contains(&self.full(name))
    }

    /// The stored shape of `name`, if present.
    pub fn shape_of(&self, name: &str) -> Option<Vec<i64>> {
        self.store
            .entries
            .get(&self.full(name))
            .map(|e| e.shape.clone())
    }
}

/// The safetensors files of a component folder, sharded or not.
fn list_weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut singles = Vec::new();
    let mut indexes = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::io(dir, e))?;
        let name = ent.file_name().to_string_lossy().to_string();
        if name.ends_with(".safetensors.index.json") {
            indexes.push(ent.path());
        } else if name.ends_with(".safetensors") {
            singles.push(ent.path());
        }
    }
    indexes.sort();
    singles.sort();
    if let Some(index) = indexes.first() {
        let v: serde_json::Value = super::read_config(index)?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| Error::Config {
                path: index.clone(),
                reason: "no `weight_map` object".into(),
            })?;
        let mut shards: BTreeMap<String, ()> = BTreeMap::new();
        for f in map.values() {
            if let Some(f) = f.as_str() {
                shards.insert(f.to_string(), ());
            }
        }
        let mut out = Vec::new();
        for f in shards.keys() {
            let p = dir.join(f);
            if let Some(reason) = super::folder::loop_reason(&p) {
                return Err(Error::CorruptWeights { path: p, reason });
            }
            if !p.is_file() {
                return Err(Error::CorruptWeights {
                    path: p,
                    reason: format!("shard named by {} is absent", index.display()),
                });
            }
            out.push(p);
        }
        return Ok(out);
    }
    if singles.is_empty() {
        return Err(Error::ModelFolder {
            path: dir.to_path_buf(),
            reason: "no *.safetensors weights in this component folder".into(),
        });
    }
    Ok(singles)
}
