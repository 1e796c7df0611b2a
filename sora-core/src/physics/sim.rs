//! A small deterministic 2-D rigid-body simulator for ground-truth clips: balls
//! and axis-aligned boxes (no rotation) under gravity in a closed room (floor,
//! ceiling, two walls), with restitution, floor friction and collisions between
//! objects, stepped at fixed sub-steps. It records each object's position at
//! every frame time and every impact (time, objects, normal speed), and can
//! break physics on purpose ([`SimViolation`]) so that detectors have known
//! answers.
//!
//! Units: metres and seconds, `y` up, the room spans `[0, width] × [0, height]`.

use crate::{Error, Result};

/// Standard gravity (m/s²).
pub const GRAVITY: f32 = 9.81;
/// Impacts slower than this (m/s, along the contact normal) are resting contact:
/// no bounce, no sound, not recorded.
pub const MIN_IMPACT_SPEED: f32 = 0.35;

/// The shape of a body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A disc of this radius (m).
    Ball {
        /// Radius (m).
        radius: f32,
    },
    /// An axis-aligned box of these half extents (m).
    Box {
        /// Half width (m).
        half_w: f32,
        /// Half height (m).
        half_h: f32,
    },
}

impl Shape {
    /// Half extents of the bounding box (m).
    pub fn half_extents(&self) -> (f32, f32) {
        match *self {
            Shape::Ball { radius } => (radius, radius),
            Shape::Box { half_w, half_h } => (half_w, half_h),
        }
    }

    /// Area (m²).
    pub fn area(&self) -> f32 {
        match *self {
            Shape::Ball { radius } => std::f32::consts::PI * radius * radius,
            Shape::Box { half_w, half_h } => 4.0 * half_w * half_h,
        }
    }

    /// The same shape scaled by `s`.
    pub fn scaled(&self, s: f32) -> Shape {
        match *self {
            Shape::Ball { radius } => Shape::Ball { radius: radius * s },
            Shape::Box { half_w, half_h } => Shape::Box {
                half_w: half_w * s,
                half_h: half_h * s,
            },
        }
    }
}

/// What a body (or the floor) is made of: sets its impact sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Material {
    /// Wood: a dull knock.
    Wood,
    /// Metal: a bright ringing clang.
    Metal,
    /// Rubber: a low short thud.
    Rubber,
    /// Glass: a high short clink.
    Glass,
}

impl Material {
    /// Every material.
    pub const ALL: [Material; 4] = [
        Material::Wood,
        Material::Metal,
        Material::Rubber,
        Material::Glass,
    ];

    /// Its name in captions ("wooden", "metal", …).
    pub fn adjective(self) -> &'static str {
        match self {
            Material::Wood => "wooden",
            Material::Metal => "metal",
            Material::Rubber => "rubber",
            Material::Glass => "glass",
        }
    }
}

/// One body at the start of a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Body {
    /// Its shape.
    pub shape: Shape,
    /// Centre position (m).
    pub pos: [f32; 2],
    /// Velocity (m/s).
    pub vel: [f32; 2],
    /// Coefficient of restitution in [0, 1].
    pub restitution: f32,
    /// Density (kg/m²): mass = density × area.
    pub density: f32,
    /// What it is made of.
    pub material: Material,
}

/// A surface of the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The floor (`y = 0`).
    Floor,
    /// The ceiling (`y = height`).
    Ceiling,
    /// The left wall (`x = 0`).
    LeftWall,
    /// The right wall (`x = width`).
    RightWall,
    /// Another body (its index).
    Body(usize),
}

/// An impact the simulation recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impact {
    /// Time (s).
    pub time: f32,
    /// The body that hit.
    pub body: usize,
    /// What it hit.
    pub other: Surface,
    /// Speed along the contact normal just before (m/s).
    pub speed: f32,
}

/// A deliberate break of physics, applied to one body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimViolation {
    /// At time `at`, the body jumps by `offset` (m) and moves on from there.
    Teleport {
        /// Which body.
        body: usize,
        /// When (s).
        at: f32,
        /// The jump (m).
        offset: [f32; 2],
    },
    /// From time `at`, the body's gravity is multiplied by `factor` (−1 flips it).
    Gravity {
        /// Which body.
        body: usize,
        /// When (s).
        at: f32,
        /// Gravity multiplier.
        factor: f32,
    },
    /// The body's first floor or wall impact after `after` faster than
    /// `min_speed` uses restitution `value` (e.g. 1.3).
    Restitution {
        /// Which body.
        body: usize,
        /// Earliest time (s).
        after: f32,
        /// Slowest impact it applies to (m/s).
        min_speed: f32,
        /// The restitution used.
        value: f32,
    },
    /// From `at` for `over` seconds the body shrinks linearly to `final_scale` of its size.
    Shrink {
        /// Which body.
        body: usize,
        /// When (s).
        at: f32,
        /// How long (s).
        over: f32,
        /// Final linear scale.
        final_scale: f32,
    },
}

/// A simulation to run.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// Room width (m).
    pub width: f32,
    /// Room height (m).
    pub height: f32,
    /// Gravity (m/s², pointing down).
    pub gravity: f32,
    /// Friction rate on the floor (1/s): tangential speed decays as `exp(-rate t)`.
    pub floor_friction: f32,
    /// The bodies.
    pub bodies: Vec<Body>,
    /// At most one deliberate violation.
    pub violation: Option<SimViolation>,
}

/// The state of one body at one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodyState {
    /// Centre (m).
    pub pos: [f32; 2],
    /// Velocity (m/s).
    pub vel: [f32; 2],
    /// Current shape (differs from the initial one only when shrunk).
    pub shape: Shape,
}

/// What a simulation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Frames per second it was sampled at.
    pub fps: f32,
    /// `states[frame][body]`, frame `i` at time `i / fps`.
    pub states: Vec<Vec<BodyState>>,
    /// Every impact faster than [`MIN_IMPACT_SPEED`], in time order.
    pub impacts: Vec<Impact>,
    /// When the violation took effect (s), if one was asked for and happened.
    pub violation_time: Option<f32>,
}

/// Sub-steps per second (fixed; the step is `1 / (fps × ceil(STEP_RATE / fps))`).
const STEP_RATE: f32 = 1200.0;

impl World {
    /// Checks the world before simulating.
    fn check(&self, fps: f32, frames: usize) -> Result<()> {
        if !(fps.is_finite() && fps > 0.0) || frames == 0 {
            return Err(Error::invalid(format!(
                "simulate needs fps > 0 and at least one frame, got fps {fps}, {frames} frames"
            )));
        }
        if !(self.width > 0.0 && self.height > 0.0 && self.gravity.is_finite()) {
            return Err(Error::invalid("the room needs a positive size"));
        }
        for (i, b) in self.bodies.iter().enumerate() {
            let (hw, hh) = b.shape.half_extents();
            let finite = b.pos.iter().chain(&b.vel).all(|v| v.is_finite());
            if !(hw > 0.0 && hh > 0.0 && finite && b.density > 0.0) {
                return Err(Error::invalid(format!("body {i} has a bad shape or state")));
            }
            if 2.0 * hw > self.width || 2.0 * hh > self.height {
                return Err(Error::invalid(format!("body {i} does not fit in the room")));
            }
        }
        Ok(())
    }

    /// Runs the simulation for `frames` frames at `fps`.
    pub fn simulate(&self, fps: f32, frames: usize) -> Result<Trajectory> {
        self.check(fps, frames)?;
        let sub = (STEP_RATE / fps).ceil().max(1.0) as usize;
        let dt = 1.0 / (fps * sub as f32);
        let mut sim = Sim::new(self);
        let mut states = Vec::with_capacity(frames);
        for frame in 0..frames {
            if frame > 0 {
                for _ in 0..sub {
                    sim.step(dt);
                }
            }
            states.push(sim.snapshot());
        }
        Ok(Trajectory {
            fps,
            states,
            impacts: sim.impacts,
            violation_time: sim.violation_time,
        })
    }
}

/// The running state.
struct Sim<'w> {
    world: &'w World,
    pos: Vec<[f32; 2]>,
    vel: Vec<[f32; 2]>,
    shape: Vec<Shape>,
    time: f32,
    impacts: Vec<Impact>,
    violation_time: Option<f32>,
}

impl<'w> Sim<'w> {
    fn new(world: &'w World) -> Self {
        Sim {
            world,
            pos: world.bodies.iter().map(|b| b.pos).collect(),
            vel: world.bodies.iter().map(|b| b.vel).collect(),
            shape: world.bodies.iter().map(|b| b.shape).collect(),
            time: 0.0,
            impacts: Vec::new(),
            violation_time: None,
        }
    }

    fn snapshot(&self) -> Vec<BodyState> {
        (0..self.pos.len())
            .map(|i| BodyState {
                pos: self.pos[i],
                vel: self.vel[i],
                shape: self.shape[i],
            })
            .collect()
    }

    fn mass(&self, i: usize) -> f32 {
        self.world.bodies[i].density * self.shape[i].area()
    }

    fn gravity_of(&self, i: usize) -> f32 {
        match self.world.violation {
            Some(SimViolation::Gravity { body, at, factor }) if body == i && self.time >= at => {
                self.world.gravity * factor
            }
            _ => self.world.gravity,
        }
    }

    /// Applies the time-triggered violations at the start of a step.
    fn apply_violation(&mut self) {
        let fresh = self.violation_time.is_none();
        let n = self.pos.len();
        match self.world.violation {
            Some(SimViolation::Teleport { body, at, offset })
                if fresh && self.time >= at && body < n =>
            {
                let (hw, hh) = self.shape[body].half_extents();
                let p = &mut self.pos[body];
                p[0] = (p[0] + offset[0]).clamp(hw, self.world.width - hw);
                p[1] = (p[1] + offset[1]).clamp(hh, self.world.height - hh);
                self.violation_time = Some(self.time);
            }
            Some(SimViolation::Gravity { body, at, .. })
                if fresh && self.time >= at && body < n =>
            {
                self.violation_time = Some(self.time);
            }
            Some(SimViolation::Shrink {
                body,
                at,
                over,
                final_scale,
            }) if self.time >= at && body < n => {
                self.violation_time.get_or_insert(self.time);
                let k = ((self.time - at) / over.max(1e-3)).min(1.0);
                let s = 1.0 + (final_scale - 1.0) * k;
                self.shape[body] = self.world.bodies[body].shape.scaled(s);
            }
            _ => {}
        }
    }

    /// The restitution of `body` for an impact on a room surface at `speed`.
    fn surface_restitution(&mut self, body: usize, speed: f32) -> f32 {
        if let Some(SimViolation::Restitution {
            body: b,
            after,
            min_speed,
            value,
        }) = self.world.violation
        {
            if b == body
                && self.violation_time.is_none()
                && self.time >= after
                && speed >= min_speed
            {
                self.violation_time = Some(self.time);
                return value;
            }
        }
        self.world.bodies[body].restitution
    }

    fn record(&mut self, body: usize, other: Surface, speed: f32) {
        if speed >= MIN_IMPACT_SPEED {
            self.impacts.push(Impact {
                time: self.time,
                body,
                other,
                speed,
            });
        }
    }

    fn step(&mut self, dt: f32) {
        self.apply_violation();
        let n = self.pos.len();
        for i in 0..n {
            let g = self.gravity_of(i);
            self.vel[i][1] -= g * dt;
            self.pos[i][0] += self.vel[i][0] * dt;
            self.pos[i][1] += self.vel[i][1] * dt;
        }
        self.time += dt;
        for i in 0..n {
            self.collide_room(i, dt);
        }
        for i in 0..n {
            for j in i + 1..n {
                self.collide_pair(i, j);
            }
        }
    }

    /// Floor, ceiling and walls.
    fn collide_room(&mut self, i: usize, dt: f32) {
        let (hw, hh) = self.shape[i].half_extents();
        let (w, h) = (self.world.width, self.world.height);
        // (axis, limit, sign of the outward normal, surface)
        let walls = [
            (1usize, hh, -1.0f32, Surface::Floor),
            (1, h - hh, 1.0, Surface::Ceiling),
            (0, hw, -1.0, Surface::LeftWall),
            (0, w - hw, 1.0, Surface::RightWall),
        ];
        for (axis, limit, sign, surface) in walls {
            let beyond = (self.pos[i][axis] - limit) * sign;
            if beyond < 0.0 {
                continue;
            }
            self.pos[i][axis] = limit;
            let into = self.vel[i][axis] * sign;
            if into > 0.0 {
                let e = if into < MIN_IMPACT_SPEED {
                    0.0
                } else {
                    self.surface_restitution(i, into)
                };
                self.record(i, surface, into);
                self.vel[i][axis] = -sign * into * e;
            }
            if surface == Surface::Floor {
                let decay = (-self.world.floor_friction * dt).exp();
                self.vel[i][0] *= decay;
            }
        }
    }

    /// Contact normal (from `i` towards `j`) and penetration depth, if touching.
    fn contact(&self, i: usize, j: usize) -> Option<([f32; 2], f32)> {
        let (pi, pj) = (self.pos[i], self.pos[j]);
        let d = [pj[0] - pi[0], pj[1] - pi[1]];
        match (self.shape[i], self.shape[j]) {
            (Shape::Ball { radius: ri }, Shape::Ball { radius: rj }) => {
                let dist = (d[0] * d[0] + d[1] * d[1]).sqrt();
                let depth = ri + rj - dist;
                if depth <= 0.0 {
                    return None;
                }
                let n = if dist > 1e-6 {
                    [d[0] / dist, d[1] / dist]
                } else {
                    [0.0, 1.0]
                };
                Some((n, depth))
            }
            (Shape::Ball { radius }, Shape::Box { half_w, half_h }) => {
                circle_box(pi, radius, pj, half_w, half_h)
            }
            (Shape::Box { half_w, half_h }, Shape::Ball { radius }) => {
                circle_box(pj, radius, pi, half_w, half_h).map(|(n, depth)| ([-n[0], -n[1]], depth))
            }
            (Shape::Box { .. }, Shape::Box { .. }) => {
                let (hwi, hhi) = self.shape[i].half_extents();
                let (hwj, hhj) = self.shape[j].half_extents();
                let ox = hwi + hwj - d[0].abs();
                let oy = hhi + hhj - d[1].abs();
                if ox <= 0.0 || oy <= 0.0 {
                    return None;
                }
                if ox < oy {
                    Some(([d[0].signum(), 0.0], ox))
                } else {
                    Some(([0.0, d[1].signum()], oy))
                }
            }
        }
    }

    /// Body against body: positional correction and an impulse along the normal.
    fn collide_pair(&mut self, i: usize, j: usize) {
        let Some((n, depth)) = self.contact(i, j) else {
            return;
        };
        let (mi, mj) = (self.mass(i), self.mass(j));
        let (wi, wj) = (1.0 / mi, 1.0 / mj);
        let corr = depth / (wi + wj);
        for (k, nk) in n.iter().enumerate() {
            self.pos[i][k] -= nk * corr * wi;
            self.pos[j][k] += nk * corr * wj;
        }
        let rel = [
            self.vel[j][0] - self.vel[i][0],
            self.vel[j][1] - self.vel[i][1],
        ];
        let closing = -(rel[0] * n[0] + rel[1] * n[1]);
        if closing <= 0.0 {
            return;
        }
        let e = if closing < MIN_IMPACT_SPEED {
            0.0
        } else {
            self.world.bodies[i]
                .restitution
                .min(self.world.bodies[j].restitution)
        };
        let impulse = (1.0 + e) * closing / (wi + wj);
        for (k, nk) in n.iter().enumerate() {
            self.vel[i][k] -= nk * impulse * wi;
            self.vel[j][k] += nk * impulse * wj;
        }
        self.record(i, Surface::Body(j), closing);
    }
}

/// Circle at `c` (radius `r`) against a box at `b`: the normal from the circle
/// towards the box and the depth, if they touch.
fn circle_box(c: [f32; 2], r: f32, b: [f32; 2], hw: f32, hh: f32) -> Option<([f32; 2], f32)> {
    let closest = [
        c[0].clamp(b[0] - hw, b[0] + hw),
        c[1].clamp(b[1] - hh, b[1] + hh),
    ];
    let d = [closest[0] - c[0], closest[1] - c[1]];
    let dist = (d[0] * d[0] + d[1] * d[1]).sqrt();
    if dist > 1e-6 {
        let depth = r - dist;
        return (depth > 0.0).then_some(([d[0] / dist, d[1] / dist], depth));
    }
    // The centre is inside the box: push out along the shallowest axis.
    let ox = hw - (c[0] - b[0]).abs();
    let oy = hh - (c[1] - b[1]).abs();
    if ox < oy {
        Some(([(b[0] - c[0]).signum(), 0.0], ox + r))
    } else {
        Some(([0.0, (b[1] - c[1]).signum()], oy + r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ball(x: f32, y: f32, e: f32) -> Body {
        Body {
            shape: Shape::Ball { radius: 0.2 },
            pos: [x, y],
            vel: [0.0, 0.0],
            restitution: e,
            density: 1.0,
            material: Material::Rubber,
        }
    }

    fn world(bodies: Vec<Body>) -> World {
        World {
            width: 4.0,
            height: 4.0,
            gravity: GRAVITY,
            floor_friction: 0.5,
            bodies,
            violation: None,
        }
    }

    #[test]
    fn a_dropped_ball_lands_when_free_fall_says_and_bounces_lower() {
        let w = world(vec![ball(2.0, 2.2, 0.7)]);
        let t = w.simulate(100.0, 300).unwrap();
        let first = t.impacts[0];
        let expected = (2.0f32 * 2.0 / GRAVITY).sqrt();
        assert!(
            (first.time - expected).abs() < 0.01,
            "{} vs {expected}",
            first.time
        );
        assert!((first.speed - GRAVITY * expected).abs() < 0.1);
        let second = t.impacts[1];
        assert!((second.speed / first.speed - 0.7).abs() < 0.03);
        assert_eq!(first.other, Surface::Floor);
    }

    #[test]
    fn deterministic_and_balls_collide() {
        let mut a = ball(1.0, 0.2, 0.9);
        a.vel = [3.0, 0.0];
        let b = ball(3.0, 0.2, 0.9);
        let w = world(vec![a, b]);
        let t1 = w.simulate(24.0, 30).unwrap();
        assert_eq!(t1, w.simulate(24.0, 30).unwrap());
        assert!(t1.impacts.iter().any(|i| i.other == Surface::Body(1)));
        assert!(t1.states[29][1].pos[0] > 3.2, "the hit ball moved");
    }

    #[test]
    fn restitution_violation_gains_speed() {
        let mut w = world(vec![ball(2.0, 2.2, 0.7)]);
        w.violation = Some(SimViolation::Restitution {
            body: 0,
            after: 0.0,
            min_speed: 1.0,
            value: 1.3,
        });
        let t = w.simulate(100.0, 300).unwrap();
        assert!((t.impacts[1].speed / t.impacts[0].speed - 1.3).abs() < 0.05);
        assert!(t.violation_time.is_some());
        assert!(World { width: -1.0, ..w }.simulate(24.0, 2).is_err());
    }
}
