//! Flow-matching Euler scheduler (diffusers' FlowMatchEulerDiscreteScheduler).
