//! Ground-truth clips from a seed: a random scene (one to three balls or boxes
//! dropped into a room, colours, background, floor material), simulated,
//! rendered and voiced, with its known trajectories and impact times, and
//! optionally one injected violation whose true frame range is recorded. The
//! detectors are tested on these clips; training data can be made from them
//! (each clip carries a caption).

use ndarray::Array4;

use super::render::{render, Background, RenderSpec};
use super::report::FindingKind;
use super::sim::{Body, Material, Shape, SimViolation, Trajectory, World, GRAVITY};
use super::sound::{impact_sounds, shift, synthesize};
use crate::{Error, Result};

/// Room height (m); the frame's height spans it.
pub const ROOM_HEIGHT: f32 = 4.0;

/// A small deterministic random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Object colours (saturated, far from the backgrounds) and their names.
pub const PALETTE: [([u8; 3], &str); 6] = [
    ([220, 40, 40], "red"),
    ([40, 175, 60], "green"),
    ([50, 90, 235], "blue"),
    ([240, 215, 40], "yellow"),
    ([200, 50, 200], "magenta"),
    ([40, 205, 215], "cyan"),
];

/// The size and timing of generated clips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SceneConfig {
    /// Frame width (px).
    pub width: usize,
    /// Frame height (px).
    pub height: usize,
    /// Frames per second.
    pub fps: f32,
    /// Number of frames.
    pub frames: usize,
    /// Audio sample rate (Hz).
    pub sample_rate: u32,
    /// At most this many objects (1–3).
    pub max_objects: usize,
}

impl Default for SceneConfig {
    fn default() -> Self {
        SceneConfig {
            width: 96,
            height: 96,
            fps: 24.0,
            frames: 48,
            sample_rate: 16000,
            max_objects: 3,
        }
    }
}

/// A violation put into a clip on purpose, with where it truly is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InjectedViolation {
    /// The finding a detector should report.
    pub kind: FindingKind,
    /// The body it concerns (`None` for an audio shift).
    pub body: Option<usize>,
    /// First frame it shows in.
    pub start_frame: u32,
    /// Last frame of its range (the clip's last frame for lasting changes).
    pub end_frame: u32,
    /// Its size: jump (px), gravity factor, restitution, final scale, audio shift (ms).
    pub value: f64,
}

/// A generated clip with everything known about it.
#[derive(Debug, Clone)]
pub struct GroundTruthClip {
    /// RGB frames `[T, H, W, 3]`.
    pub frames: Array4<u8>,
    /// Mono audio in [-1, 1].
    pub audio: Vec<f32>,
    /// The audio's sample rate (Hz).
    pub sample_rate: u32,
    /// Frames per second.
    pub fps: f32,
    /// The simulated states and impacts.
    pub trajectory: Trajectory,
    /// How it was drawn (scale, colours, visibility).
    pub render: RenderSpec,
    /// The injected violation, if any.
    pub violation: Option<InjectedViolation>,
    /// A caption from templates ("two blue balls bounce on a wooden floor").
    pub caption: String,
}

impl GroundTruthClip {
    /// The pixel centre of `body` at `frame` (x right, y down).
    pub fn position_px(&self, frame: usize, body: usize) -> Option<[f32; 2]> {
        let s = self.trajectory.states.get(frame)?.get(body)?;
        Some(self.render.to_pixels(s.pos))
    }

    /// Impact times (s) in the picture's clock (before any audio shift).
    pub fn impact_times(&self) -> Vec<f32> {
        self.trajectory.impacts.iter().map(|i| i.time).collect()
    }
}

/// The violations the generator can inject.
pub const INJECTABLE: [FindingKind; 7] = [
    FindingKind::Teleport,
    FindingKind::Gravity,
    FindingKind::Restitution,
    FindingKind::ShapeDrift,
    FindingKind::AvOffset,
    FindingKind::Appear,
    FindingKind::Vanish,
];

/// A random scene (no violation) and its draw settings.
fn random_world(
    rng: &mut Rng,
    cfg: &SceneConfig,
) -> (World, Vec<[u8; 3]>, Vec<&'static str>, Background, Material) {
    let width = ROOM_HEIGHT * cfg.width as f32 / cfg.height as f32;
    let count = rng.range(1, cfg.max_objects.clamp(1, 3));
    let mut bodies: Vec<Body> = Vec::new();
    let mut colours = Vec::new();
    let mut names = Vec::new();
    let first_colour = rng.range(0, PALETTE.len() - 1);
    let mut tries = 0;
    while bodies.len() < count && tries < 100 {
        tries += 1;
        let shape = if rng.uniform(0.0, 1.0) < 0.7 {
            Shape::Ball {
                radius: rng.uniform(0.22, 0.4),
            }
        } else {
            let s = rng.uniform(0.2, 0.35);
            Shape::Box {
                half_w: s,
                half_h: s * rng.uniform(0.8, 1.2),
            }
        };
        let (hw, hh) = shape.half_extents();
        if width < 2.0 * hw + 0.2 {
            continue;
        }
        let pos = [
            rng.uniform(hw + 0.05, width - hw - 0.05),
            rng.uniform(ROOM_HEIGHT * 0.45, ROOM_HEIGHT - hh - 0.1),
        ];
        let clear = bodies.iter().all(|b| {
            let (bw, bh) = b.shape.half_extents();
            (b.pos[0] - pos[0]).abs() > bw + hw + 0.1 || (b.pos[1] - pos[1]).abs() > bh + hh + 0.1
        });
        if !clear {
            continue;
        }
        let is_ball = matches!(shape, Shape::Ball { .. });
        bodies.push(Body {
            shape,
            pos,
            vel: [rng.uniform(-1.5, 1.5), rng.uniform(-1.0, 2.0)],
            restitution: if is_ball {
                rng.uniform(0.55, 0.85)
            } else {
                rng.uniform(0.3, 0.5)
            },
            density: rng.uniform(0.8, 1.5),
            material: Material::ALL[rng.range(0, 3)],
        });
        let (c, name) = PALETTE[(first_colour + colours.len()) % PALETTE.len()];
        colours.push(c);
        names.push(name);
    }
    let background = if rng.uniform(0.0, 1.0) < 0.5 {
        Background::Plain([38, 38, 46])
    } else {
        Background::Wood([150, 130, 110])
    };
    let floor = Material::ALL[rng.range(0, 3)];
    let world = World {
        width,
        height: ROOM_HEIGHT,
        gravity: GRAVITY,
        floor_friction: 1.5,
        bodies,
        violation: None,
    };
    (world, colours, names, background, floor)
}

/// Every word `caption`'s templates can write, in a fixed order: what a
/// tokenizer over the captions' vocabulary needs (the trained default model's).
pub fn caption_words() -> Vec<&'static str> {
    let mut words = vec![
        "a",
        "one",
        "two",
        "three",
        "colourful",
        "ball",
        "balls",
        "box",
        "boxes",
        "object",
        "objects",
        "bounce",
        "bounces",
        "high",
        "fall",
        "falls",
        "on",
        "floor",
    ];
    words.extend(PALETTE.iter().map(|(_, name)| *name));
    words.extend(Material::ALL.iter().map(|m| m.adjective()));
    words
}

/// A caption from templates: count, colour, kind, floor material, bounciness.
fn caption(world: &World, names: &[&str], floor: Material) -> String {
    let words = ["one", "two", "three"];
    let n = world.bodies.len();
    let balls = world
        .bodies
        .iter()
        .filter(|b| matches!(b.shape, Shape::Ball { .. }))
        .count();
    let kind = if balls == n {
        "ball"
    } else if balls == 0 {
        "box"
    } else {
        "object"
    };
    let bouncy = world.bodies.iter().any(|b| b.restitution > 0.75);
    let verb = if kind == "box" {
        "fall"
    } else if bouncy {
        "bounce high"
    } else {
        "bounce"
    };
    if n == 1 {
        let noun = if kind == "box" { "box" } else { "ball" };
        let verb = if kind == "box" {
            "falls"
        } else if bouncy {
            "bounces high"
        } else {
            "bounces"
        };
        format!(
            "a {} {noun} {verb} on a {} floor",
            names[0],
            floor.adjective()
        )
    } else {
        let plural = if kind == "box" {
            "boxes"
        } else {
            &format!("{kind}s")
        };
        let colour = if names.iter().all(|c| *c == names[0]) {
            names[0].to_string()
        } else {
            "colourful".to_string()
        };
        format!(
            "{} {colour} {plural} {verb} on a {} floor",
            words[n.min(3) - 1],
            floor.adjective()
        )
    }
}

/// The frame nearest after time `t`.
fn frame_at(t: f32, fps: f32) -> u32 {
    (t * fps - 1e-3).ceil().max(0.0) as u32
}

/// Generates the clip of `seed` with the violation `kind` injected (or a clean
/// clip for `None`). Deterministic: the same seed and config give the same clip.
pub fn generate(
    seed: u64,
    cfg: &SceneConfig,
    kind: Option<FindingKind>,
) -> Result<GroundTruthClip> {
    if cfg.width < 32 || cfg.height < 32 || cfg.frames < 16 || cfg.fps.is_nan() || cfg.fps < 4.0 {
        return Err(Error::invalid(format!(
            "scenes need frames of at least 32×32 px, at least 16 frames and fps ≥ 4, got {}×{}, {} frames at {}",
            cfg.width, cfg.height, cfg.frames, cfg.fps
        )));
    }
    if let Some(k) = kind {
        if !INJECTABLE.contains(&k) {
            return Err(Error::invalid(format!(
                "cannot inject a `{}` violation",
                k.name()
            )));
        }
    }
    let mut rng = Rng::new(seed);
    for _attempt in 0..40 {
        if let Some(clip) = try_generate(&mut rng, cfg, kind)? {
            return Ok(clip);
        }
    }
    Err(Error::Numeric(format!(
        "no scene for seed {seed} could show the asked violation after 40 tries"
    )))
}

/// One attempt; `None` when the drawn scene cannot show the violation.
fn try_generate(
    rng: &mut Rng,
    cfg: &SceneConfig,
    kind: Option<FindingKind>,
) -> Result<Option<GroundTruthClip>> {
    let (mut world, colours, names, background, floor) = random_world(rng, cfg);
    let n = world.bodies.len();
    let t_last = cfg.frames as u32 - 1;
    let body = rng.range(0, n - 1);
    let k = rng.range(cfg.frames / 3, 2 * cfg.frames / 3) as u32;
    let at = k as f32 / cfg.fps;
    let mut visible = vec![None; n];
    let mut shift_ms = 0.0f32;
    match kind {
        Some(FindingKind::Teleport) => {
            let angle = rng.uniform(0.0, std::f32::consts::TAU);
            let dist = rng.uniform(0.3, 0.45) * ROOM_HEIGHT;
            world.violation = Some(SimViolation::Teleport {
                body,
                at: (k as f32 - 0.5) / cfg.fps,
                offset: [dist * angle.cos(), dist * angle.sin()],
            });
        }
        Some(FindingKind::Gravity) => {
            world.violation = Some(SimViolation::Gravity {
                body,
                at,
                factor: -1.0,
            });
        }
        Some(FindingKind::Restitution) => {
            world.violation = Some(SimViolation::Restitution {
                body,
                after: at,
                min_speed: 3.0,
                value: 1.3,
            });
        }
        Some(FindingKind::ShapeDrift) => {
            world.violation = Some(SimViolation::Shrink {
                body,
                at,
                over: 0.4,
                final_scale: 0.5,
            });
        }
        Some(FindingKind::AvOffset) => {
            shift_ms = rng.uniform(40.0, 150.0)
                * if rng.uniform(0.0, 1.0) < 0.5 {
                    -1.0
                } else {
                    1.0
                };
        }
        Some(FindingKind::Appear) => visible[body] = Some((k as usize, cfg.frames - 1)),
        Some(FindingKind::Vanish) => visible[body] = Some((0, k as usize - 1)),
        _ => {}
    }
    let traj = world.simulate(cfg.fps, cfg.frames)?;
    let spec = RenderSpec {
        height: cfg.height,
        width: cfg.width,
        room_height: ROOM_HEIGHT,
        background,
        colours,
        visible,
    };
    let duration = cfg.frames as f32 / cfg.fps;
    let materials: Vec<Material> = world.bodies.iter().map(|b| b.material).collect();
    let mut audio = synthesize(
        &impact_sounds(&traj.impacts, &materials, floor),
        duration,
        cfg.sample_rate,
    )?;
    let violation = match kind {
        None => None,
        Some(FindingKind::AvOffset) => {
            let loud = traj
                .impacts
                .iter()
                .filter(|i| i.speed > 2.0 && i.time > 0.15 && i.time < duration - 0.2)
                .count();
            if loud < 2 {
                return Ok(None);
            }
            audio = shift(&audio, shift_ms, cfg.sample_rate);
            Some(InjectedViolation {
                kind: FindingKind::AvOffset,
                body: None,
                start_frame: 0,
                end_frame: t_last,
                value: shift_ms as f64,
            })
        }
        Some(FindingKind::Appear) | Some(FindingKind::Vanish) => Some(InjectedViolation {
            kind: kind.unwrap_or(FindingKind::Appear),
            body: Some(body),
            start_frame: k,
            end_frame: k,
            value: 0.0,
        }),
        Some(kind) => {
            let Some(t) = traj.violation_time else {
                return Ok(None);
            };
            let (start, end, value) = match kind {
                FindingKind::Teleport => {
                    let f = frame_at(t, cfg.fps) as usize;
                    let a = spec.to_pixels(traj.states[f - 1][body].pos);
                    let b = spec.to_pixels(traj.states[f][body].pos);
                    let jump = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
                    if jump < 0.2 * cfg.height as f32 {
                        return Ok(None);
                    }
                    (f as u32 - 1, f as u32, jump as f64)
                }
                FindingKind::Restitution => {
                    let f = (t * cfg.fps).floor() as u32;
                    if f + 4 > t_last {
                        return Ok(None);
                    }
                    (f, f + 1, 1.3)
                }
                FindingKind::Gravity => (frame_at(t, cfg.fps), t_last, -1.0),
                _ => (frame_at(t, cfg.fps), t_last, 0.5),
            };
            Some(InjectedViolation {
                kind,
                body: Some(body),
                start_frame: start,
                end_frame: end,
                value,
            })
        }
    };
    let frames = render(&traj, &spec)?;
    Ok(Some(GroundTruthClip {
        frames,
        audio,
        sample_rate: cfg.sample_rate,
        fps: cfg.fps,
        caption: caption(&world, &names, floor),
        trajectory: traj,
        render: spec,
        violation,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_use_only_the_caption_words() {
        let words = caption_words();
        let cfg = SceneConfig {
            width: 32,
            height: 32,
            frames: 16,
            ..SceneConfig::default()
        };
        let mut seen = std::collections::HashSet::new();
        for seed in 0..60 {
            let clip = generate(seed, &cfg, None).unwrap();
            for w in clip.caption.split_whitespace() {
                assert!(words.contains(&w), "{w:?} of {:?}", clip.caption);
                seen.insert(w.to_string());
            }
        }
        assert!(seen.len() > 12, "{seen:?}");
    }

    #[test]
    fn clips_are_deterministic_and_carry_their_truth() {
        let cfg = SceneConfig {
            frames: 24,
            ..SceneConfig::default()
        };
        let a = generate(7, &cfg, Some(FindingKind::Teleport)).unwrap();
        let b = generate(7, &cfg, Some(FindingKind::Teleport)).unwrap();
        assert_eq!(a.frames, b.frames);
        assert_eq!(a.audio, b.audio);
        assert_eq!(a.frames.shape(), &[24, 96, 96, 3]);
        assert_eq!(a.audio.len(), 16000);
        let v = a.violation.unwrap();
        assert_eq!(v.kind, FindingKind::Teleport);
        assert_eq!(v.end_frame, v.start_frame + 1);
        assert!(v.value >= 0.2 * 96.0);
        assert!(!a.caption.is_empty());
        assert!(generate(1, &cfg, None).unwrap().violation.is_none());
        assert!(generate(1, &SceneConfig { width: 4, ..cfg }, None).is_err());
    }
}
