//! Conversion of Python arguments into core values: integers and floats with
//! range checks, and image/video inputs given as a path or a numpy array.
//! Every bad value raises `sora.InvalidRequestError` (also a `ValueError`).

use std::path::PathBuf;

use ndarray::{Array3, Array4, Ix3, Ix4};
use numpy::{
    dtype, PyArray, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyString;

use sora_core::pipeline::ParamValue;

use crate::errors::invalid;

/// The Python type name of `obj`, for messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// An optional non-negative integer that fits `T` (`None` stays `None`).
pub fn opt_uint<T: TryFrom<i128>>(
    name: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<T>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(format!("{name} must be an integer, got bool")));
    }
    let v: i128 = obj
        .extract()
        .map_err(|_| invalid(format!("{name} must be an integer, got {}", type_name(obj))))?;
    if v < 0 {
        return Err(invalid(format!("{name} must not be negative, got {v}")));
    }
    T::try_from(v)
        .map(Some)
        .map_err(|_| invalid(format!("{name} is too large: {v}")))
}

/// An optional number (int or float) as `f32` (`None` stays `None`; NaN is left
/// for the core to reject with its own message).
pub fn opt_f32(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f32>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(format!("{name} must be a number, got bool")));
    }
    obj.extract::<f64>()
        .map(|v| Some(v as f32))
        .map_err(|_| invalid(format!("{name} must be a number, got {}", type_name(obj))))
}

/// An optional string (`None` stays `None`).
pub fn opt_str(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    obj.cast::<PyString>()
        .map_err(|_| invalid(format!("{name} must be a str, got {}", type_name(obj))))?
        .to_str()
        .map(|s| Some(s.to_owned()))
        .map_err(|e| invalid(format!("{name} is not valid text: {e}")))
}

/// A request parameter given as a keyword argument, as the core's typed
/// value: `bool`, `int`, `float`, `str`, or a list/tuple of numbers (`None`
/// stays `None`: the family's default). The core checks the key and range.
pub fn param_value(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Option<ParamValue>> {
    use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};
    let not_a_value = || {
        invalid(format!(
            "{name} must be a number, bool, str or list of numbers, got {}",
            type_name(obj)
        ))
    };
    let number = |o: &Bound<'_, PyAny>| -> PyResult<f64> {
        if o.is_instance_of::<PyBool>() {
            return Err(not_a_value());
        }
        o.extract::<f64>().map_err(|_| not_a_value())
    };
    Ok(Some(if obj.is_none() {
        return Ok(None);
    } else if obj.is_instance_of::<PyBool>() {
        ParamValue::Bool(obj.extract()?)
    } else if obj.is_instance_of::<PyInt>() {
        ParamValue::Int(
            obj.extract()
                .map_err(|_| invalid(format!("{name} is out of range: {obj}")))?,
        )
    } else if obj.is_instance_of::<PyFloat>() {
        ParamValue::Float(obj.extract()?)
    } else if obj.is_instance_of::<PyString>() {
        ParamValue::Str(opt_str(name, Some(obj))?.unwrap_or_default())
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items: Vec<f64> = obj
            .try_iter()?
            .map(|item| item.and_then(|o| number(&o)))
            .collect::<PyResult<_>>()?;
        ParamValue::List(items)
    } else if obj.hasattr("__index__")? {
        // numpy integers
        ParamValue::Int(obj.extract().map_err(|_| not_a_value())?)
    } else {
        // numpy floats and other numbers
        ParamValue::Float(number(obj)?)
    }))
}

/// The keyword arguments beyond a method's own (`**params`), converted.
pub fn params(
    kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
) -> PyResult<Vec<(String, ParamValue)>> {
    let mut out = Vec::new();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            if let Some(value) = param_value(&key, &v)? {
                out.push((key, value));
            }
        }
    }
    Ok(out)
}

/// A media argument: a file path or pixels.
pub enum Media<A> {
    /// A path (str or `os.PathLike`).
    Path(PathBuf),
    /// Pixels copied from a numpy array.
    Pixels(A),
}

/// `obj` as a path (a `str` or an `os.PathLike`).
pub fn path(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    as_path(obj)?.ok_or_else(|| {
        invalid(format!(
            "{name} must be a str or os.PathLike, got {}",
            type_name(obj)
        ))
    })
}

/// The path of `obj` when it is a `str` or an `os.PathLike`.
fn as_path(obj: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        let p: PathBuf = obj
            .extract()
            .map_err(|e| invalid(format!("not a usable path: {e}")))?;
        return Ok(Some(p));
    }
    Ok(None)
}

/// `obj` as a numpy array: an ndarray as is, or anything with `__array__` /
/// `__array_interface__` (PIL images, tensors) through `numpy.asarray`.
fn as_ndarray<'py>(
    name: &str,
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        return Ok(a.clone());
    }
    if obj.hasattr("__array__")? || obj.hasattr("__array_interface__")? {
        let np = obj.py().import("numpy")?;
        let a = np.call_method1("asarray", (obj,))?;
        if let Ok(a) = a.cast_into::<PyUntypedArray>() {
            return Ok(a);
        }
    }
    Err(invalid(format!(
        "{name} must be a path (str or os.PathLike) or a numpy uint8 array {what}, got {}",
        type_name(obj)
    )))
}

/// Checks dtype uint8, `ndim` dimensions and 3 channels last.
fn check_pixels(
    name: &str,
    a: &Bound<'_, PyUntypedArray>,
    ndim: usize,
    what: &str,
) -> PyResult<()> {
    let dt = a.dtype();
    if !dt.is_equiv_to(&dtype::<u8>(a.py())) {
        return Err(invalid(format!(
            "{name} must have dtype uint8 {what}, got dtype {}",
            dt.str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| "?".into())
        )));
    }
    let shape = a.shape();
    if shape.len() != ndim || shape[ndim - 1] != 3 {
        return Err(invalid(format!(
            "{name} must have shape {what}, got {shape:?}"
        )));
    }
    Ok(())
}

/// An image input: a path, or a numpy uint8 array `[H, W, 3]` (copied).
pub fn image(obj: &Bound<'_, PyAny>) -> PyResult<Media<Array3<u8>>> {
    const WHAT: &str = "[H, W, 3]";
    if let Some(p) = as_path(obj)? {
        return Ok(Media::Path(p));
    }
    let a = as_ndarray("image", obj, WHAT)?;
    check_pixels("image", &a, 3, WHAT)?;
    let a = a.cast::<PyArray<u8, Ix3>>()?;
    Ok(Media::Pixels(a.try_readonly()?.as_array().to_owned()))
}

/// A clip given as the keyword `name` (`video`, `extend`): a path, or a numpy
/// uint8 array `[T, H, W, 3]` (copied).
pub fn clip(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Media<Array4<u8>>> {
    const WHAT: &str = "[T, H, W, 3]";
    if let Some(p) = as_path(obj)? {
        return Ok(Media::Path(p));
    }
    let a = as_ndarray(name, obj, WHAT)?;
    check_pixels(name, &a, 4, WHAT)?;
    let a = a.cast::<PyArray<u8, Ix4>>()?;
    Ok(Media::Pixels(a.try_readonly()?.as_array().to_owned()))
}

/// The frames of a condition: a path, or a numpy uint8 array `[H, W, 3]`
/// (one frame) or `[T, H, W, 3]` (copied).
fn condition_frames(obj: &Bound<'_, PyAny>) -> PyResult<Media<Array4<u8>>> {
    const WHAT: &str = "[H, W, 3] or [T, H, W, 3]";
    if let Some(p) = as_path(obj)? {
        return Ok(Media::Path(p));
    }
    let a = as_ndarray("a condition's frames", obj, WHAT)?;
    if a.ndim() == 3 {
        check_pixels("a condition's frames", &a, 3, WHAT)?;
        let a = a.cast::<PyArray<u8, Ix3>>()?;
        let one = a.try_readonly()?.as_array().to_owned();
        return Ok(Media::Pixels(one.insert_axis(ndarray::Axis(0))));
    }
    check_pixels("a condition's frames", &a, 4, WHAT)?;
    let a = a.cast::<PyArray<u8, Ix4>>()?;
    Ok(Media::Pixels(a.try_readonly()?.as_array().to_owned()))
}

/// The `conditions` keyword: a list of tuples `(frames, index=0,
/// strength=1.0)` or dicts `{"frames" | "path": ..., "index": ...,
/// "strength": ...}` → (frames, latent index, strength).
#[allow(clippy::type_complexity)]
pub fn conditions(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(Media<Array4<u8>>, i64, f32)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    const SHAPE: &str = "conditions must be a list of (frames, index, strength) tuples or dicts";
    if obj.is_instance_of::<pyo3::types::PyString>() || obj.is_instance_of::<pyo3::types::PyDict>()
    {
        return Err(invalid(format!("{SHAPE}, got {}", type_name(obj))));
    }
    let mut out = Vec::new();
    for (i, item) in obj
        .try_iter()
        .map_err(|_| invalid(format!("{SHAPE}, got {}", type_name(obj))))?
        .enumerate()
    {
        let item = item?;
        let (frames, index, strength) = if let Ok(d) = item.cast::<pyo3::types::PyDict>() {
            for k in d.keys() {
                let k: String = k.extract().unwrap_or_default();
                if !["frames", "path", "index", "strength"].contains(&k.as_str()) {
                    return Err(invalid(format!(
                        "condition {i}: unknown key `{k}` (frames or path, index, strength)"
                    )));
                }
            }
            let frames = match (d.get_item("frames")?, d.get_item("path")?) {
                (Some(f), None) | (None, Some(f)) => f,
                _ => {
                    return Err(invalid(format!(
                        "condition {i}: give exactly one of `frames` and `path`"
                    )))
                }
            };
            (frames, d.get_item("index")?, d.get_item("strength")?)
        } else if let Ok(t) = item.cast::<pyo3::types::PyTuple>() {
            if t.is_empty() || t.len() > 3 {
                return Err(invalid(format!(
                    "condition {i}: a tuple is (frames, index, strength), got {} items",
                    t.len()
                )));
            }
            (t.get_item(0)?, t.get_item(1).ok(), t.get_item(2).ok())
        } else {
            return Err(invalid(format!(
                "{SHAPE}; condition {i} is {}",
                type_name(&item)
            )));
        };
        let index = match index.filter(|o| !o.is_none()) {
            None => 0,
            Some(v) => v.extract::<i64>().map_err(|_| {
                invalid(format!(
                    "condition {i}: index must be an int, got {}",
                    type_name(&v)
                ))
            })?,
        };
        let strength = match strength.filter(|o| !o.is_none()) {
            None => 1.0,
            Some(v) => v.extract::<f32>().map_err(|_| {
                invalid(format!(
                    "condition {i}: strength must be a number, got {}",
                    type_name(&v)
                ))
            })?,
        };
        out.push((condition_frames(&frames)?, index, strength));
    }
    Ok(out)
}

/// Frames given as a numpy uint8 array `[T, H, W, 3]` (or anything
/// `numpy.asarray` turns into one), copied.
pub fn frames(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array4<u8>> {
    const WHAT: &str = "[T, H, W, 3]";
    let a = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
    let a = a.cast_into::<PyUntypedArray>().map_err(|_| {
        invalid(format!(
            "{name} must be a numpy uint8 array {WHAT}, got {}",
            type_name(obj)
        ))
    })?;
    check_pixels(name, &a, 4, WHAT)?;
    let a = a.cast::<PyArray<u8, Ix4>>()?;
    Ok(a.try_readonly()?.as_array().to_owned())
}

/// Reads an image file into pixels.
pub fn read_image(path: &std::path::Path) -> sora_core::Result<sora_core::ImageInput> {
    Ok(sora_core::ImageInput {
        pixels: sora_core::io::read_image(path)?,
    })
}

/// Reads a video file (MP4) or a folder of PNG frames into frames, their rate
/// and the clip's audio track (if it has one), which a family without audio
/// of its own carries into its output.
pub fn read_video(path: &std::path::Path) -> sora_core::Result<sora_core::VideoInput> {
    Ok(sora_core::VideoInput::from_media(
        sora_core::io::read_video(path)?,
    ))
}

/// Timed prompts: a dict `{seconds: text}` or a sequence of `(seconds, text)`
/// pairs (`None`: none).
pub fn prompts_at(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(f32, String)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let bad = || invalid("prompts_at must be a dict {seconds: text} or a list of (seconds, text)");
    let pairs: Vec<(f32, String)> = if let Ok(d) = obj.cast::<pyo3::types::PyDict>() {
        d.iter()
            .map(|(k, v)| {
                Ok((
                    k.extract::<f32>().map_err(|_| bad())?,
                    v.extract::<String>().map_err(|_| bad())?,
                ))
            })
            .collect::<PyResult<_>>()?
    } else {
        obj.try_iter()
            .map_err(|_| bad())?
            .map(|item| item?.extract::<(f32, String)>().map_err(|_| bad()))
            .collect::<PyResult<_>>()?
    };
    Ok(pairs)
}
