//! The typed values of request parameters: [`ParamValue`] (what a front door
//! hands over), and [`ParamSpec`] (a parameter a family accepts: key, aliases,
//! [`ParamKind`], [`ParamRange`], one-line help) with the checks and the text
//! parser every front door shares.

use std::fmt;

use crate::{Error, Result};

/// A parameter's value as a front door hands it over.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// A switch.
    Bool(bool),
    /// Text.
    Str(String),
    /// Numbers (written `28,29` as text).
    List(Vec<f64>),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v:?}"),
            ParamValue::List(v) => {
                let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "{}", items.join(","))
            }
        }
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}
impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(v.into())
    }
}
impl From<u32> for ParamValue {
    fn from(v: u32) -> Self {
        ParamValue::Int(v.into())
    }
}
impl From<f32> for ParamValue {
    fn from(v: f32) -> Self {
        ParamValue::Float(v.into())
    }
}
impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}
impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(v.to_string())
    }
}
impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::Str(v)
    }
}
impl From<Vec<f64>> for ParamValue {
    fn from(v: Vec<f64>) -> Self {
        ParamValue::List(v)
    }
}

impl ParamValue {
    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "an integer",
            ParamValue::Float(_) => "a number",
            ParamValue::Bool(_) => "a bool",
            ParamValue::Str(_) => "a string",
            ParamValue::List(_) => "a list",
        }
    }

    /// The value as JSON (a non-finite number is `null`).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::Int(v) => (*v).into(),
            ParamValue::Float(v) => serde_json::Number::from_f64(*v)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            ParamValue::Bool(v) => (*v).into(),
            ParamValue::Str(v) => v.clone().into(),
            ParamValue::List(v) => v.iter().map(|x| ParamValue::Float(*x).to_json()).collect(),
        }
    }
}

/// The type a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number.
    Int,
    /// A number (integers are accepted).
    Float,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off` as text).
    Bool,
    /// Text.
    Str,
    /// Numbers, comma-separated as text (a single number is a list of one).
    List,
}

impl ParamKind {
    /// What the kind takes, for messages: `an integer`, `a number`, ….
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::Int => "an integer",
            ParamKind::Float => "a number",
            ParamKind::Bool => "true or false",
            ParamKind::Str => "a string",
            ParamKind::List => "a list of numbers (e.g. 28,29)",
        }
    }

    /// Whether a value of this type can be given as `value` (before ranges).
    pub fn accepts(self, value: &ParamValue) -> bool {
        matches!(
            (self, value),
            (ParamKind::Int, ParamValue::Int(_))
                | (ParamKind::Float, ParamValue::Int(_) | ParamValue::Float(_))
                | (
                    ParamKind::Bool,
                    ParamValue::Bool(_) | ParamValue::Int(0 | 1)
                )
                | (ParamKind::Str, ParamValue::Str(_))
                | (
                    ParamKind::List,
                    ParamValue::List(_) | ParamValue::Int(_) | ParamValue::Float(_)
                )
        )
    }
}

/// Where a number must lie: `min` (open or closed) up to `max` (closed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamRange {
    /// Lowest value.
    pub min: f64,
    /// Whether `min` itself is excluded.
    pub min_open: bool,
    /// Highest value (included; infinity for none).
    pub max: f64,
}

impl ParamRange {
    /// No bounds (finite numbers only).
    pub const ANY: ParamRange = ParamRange {
        min: f64::NEG_INFINITY,
        min_open: false,
        max: f64::INFINITY,
    };

    /// `min ..= max`.
    pub const fn closed(min: f64, max: f64) -> Self {
        Self {
            min,
            min_open: false,
            max,
        }
    }

    /// `≥ min`.
    pub const fn at_least(min: f64) -> Self {
        Self::closed(min, f64::INFINITY)
    }

    /// `(min, max]`.
    pub const fn above(min: f64, max: f64) -> Self {
        Self {
            min,
            min_open: true,
            max,
        }
    }

    /// Whether `v` lies in the range.
    pub fn contains(&self, v: f64) -> bool {
        let low = if self.min_open {
            v > self.min
        } else {
            v >= self.min
        };
        low && v <= self.max
    }

    fn is_any(&self) -> bool {
        self.min == f64::NEG_INFINITY && self.max == f64::INFINITY
    }
}

impl fmt::Display for ParamRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min.is_finite(), self.max.is_finite()) {
            (false, false) => write!(f, "any"),
            (true, false) => write!(f, "{} {}", if self.min_open { ">" } else { "≥" }, self.min),
            (false, true) => write!(f, "≤ {}", self.max),
            (true, true) if self.min_open => write!(f, "in ({}, {}]", self.min, self.max),
            (true, true) => write!(f, "in {}..={}", self.min, self.max),
        }
    }
}

/// One parameter a family accepts: its key (a diffusers keyword), other names
/// it answers to, its type, range and a one-line help.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// The key, named as the diffusers pipeline keyword.
    pub key: &'static str,
    /// Other names for the same parameter (sora's older names).
    pub aliases: &'static [&'static str],
    /// Its type.
    pub kind: ParamKind,
    /// Its range (numbers and each number of a list).
    pub range: ParamRange,
    /// What it does, in one line.
    pub help: &'static str,
}

impl ParamSpec {
    /// Whether `name` is this parameter's key or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.key == name || self.aliases.contains(&name)
    }

    /// `key (alias, …)`.
    pub fn names(&self) -> String {
        if self.aliases.is_empty() {
            self.key.to_string()
        } else {
            format!("{} ({})", self.key, self.aliases.join(", "))
        }
    }

    /// `guidance_scale (guidance): a number ≥ 0 — help`, one line of a listing.
    pub fn describe(&self) -> String {
        let range = if self.range.is_any() || matches!(self.kind, ParamKind::Str | ParamKind::Bool)
        {
            String::new()
        } else {
            format!(" {}", self.range)
        };
        format!(
            "{}: {}{} — {}",
            self.names(),
            self.kind.describe(),
            range,
            self.help
        )
    }

    /// How `given` names this parameter in messages: `` `steps` (num_inference_steps) ``.
    pub(crate) fn shown(&self, given: &str) -> String {
        if given == self.key {
            format!("`{given}`")
        } else {
            format!("`{given}` ({})", self.key)
        }
    }

    fn bad(&self, given: &str, what: impl fmt::Display) -> Error {
        Error::invalid(format!(
            "request parameter {} {what} ({})",
            self.shown(given),
            self.help
        ))
    }

    fn check_number(&self, given: &str, v: f64) -> Result<()> {
        if !v.is_finite() || !self.range.contains(v) {
            let range = if self.range.is_any() {
                String::from("a finite number")
            } else {
                format!("{} {}", self.kind.describe(), self.range)
            };
            return Err(self.bad(given, format!("takes {range}, got {v}")));
        }
        Ok(())
    }

    /// Checks `value` (given under the name `given`) against the type and
    /// range; returns it in this parameter's type (an integer for a number, a
    /// number for a list of one, 0/1 for a bool).
    pub fn check(&self, given: &str, value: &ParamValue) -> Result<ParamValue> {
        if !self.kind.accepts(value) {
            return Err(self.bad(
                given,
                format!(
                    "takes {}, got {} ({value})",
                    self.kind.describe(),
                    value.type_name()
                ),
            ));
        }
        Ok(match (self.kind, value) {
            (ParamKind::Int, ParamValue::Int(v)) => {
                self.check_number(given, *v as f64)?;
                ParamValue::Int(*v)
            }
            (ParamKind::Float, ParamValue::Int(v)) => {
                self.check_number(given, *v as f64)?;
                ParamValue::Float(*v as f64)
            }
            (ParamKind::Float, ParamValue::Float(v)) => {
                self.check_number(given, *v)?;
                ParamValue::Float(*v)
            }
            (ParamKind::Bool, ParamValue::Bool(b)) => ParamValue::Bool(*b),
            (ParamKind::Bool, ParamValue::Int(i)) => ParamValue::Bool(*i == 1),
            (ParamKind::Str, ParamValue::Str(s)) => {
                if s.contains('\0') {
                    return Err(self.bad(given, "contains a NUL character"));
                }
                ParamValue::Str(s.clone())
            }
            (ParamKind::List, ParamValue::List(v)) => {
                if v.is_empty() {
                    return Err(self.bad(given, "takes at least one number"));
                }
                for x in v {
                    self.check_number(given, *x)?;
                }
                ParamValue::List(v.clone())
            }
            (ParamKind::List, ParamValue::Int(v)) => {
                self.check_number(given, *v as f64)?;
                ParamValue::List(vec![*v as f64])
            }
            (ParamKind::List, ParamValue::Float(v)) => {
                self.check_number(given, *v)?;
                ParamValue::List(vec![*v])
            }
            _ => {
                return Err(self.bad(given, format!("cannot take {}", value.type_name())));
            }
        })
    }

    /// Parses `text` as this parameter's type (`3.5`, `28,29`, `true`, …) and
    /// checks it as [`ParamSpec::check`] does.
    pub fn parse(&self, given: &str, text: &str) -> Result<ParamValue> {
        let t = text.trim();
        let not = |what: &str| {
            self.bad(
                given,
                format!("takes {}, got `{text}` ({what})", self.kind.describe()),
            )
        };
        let value = match self.kind {
            ParamKind::Int => ParamValue::Int(t.parse().map_err(|_| not("not an integer"))?),
            ParamKind::Float => ParamValue::Float(t.parse().map_err(|_| not("not a number"))?),
            ParamKind::Bool => ParamValue::Bool(match t.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(not("not true or false")),
            }),
            ParamKind::Str => ParamValue::Str(text.to_string()),
            ParamKind::List => ParamValue::List(
                t.split(',')
                    .map(|x| x.trim().parse::<f64>())
                    .collect::<std::result::Result<Vec<f64>, _>>()
                    .map_err(|_| not("not comma-separated numbers"))?,
            ),
        };
        self.check(given, &value)
    }
}

/// A non-common parameter as the front door gave it: typed, or as text to be
/// parsed by the family's [`ParamSpec`] when the request is resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenParam {
    /// A typed value (Rust, Python).
    Value(ParamValue),
    /// Text (the CLI's `--set`, C's `sora_request_set`).
    Text(String),
}
