"""sora.physics: the physics report of a clip — clip metrics (flicker, warping
error, motion smoothness, dynamic degree, Physics-IQ against a reference) and
findings (frame ranges where motion or sound broke physics), computed by the
engine with no learned weights. See docs/physics.md for each metric.

    import sora.physics
    report = sora.physics.score(clip.frames, clip.audio, fps=clip.fps,
                                sample_rate=clip.sample_rate)
    report["metrics"]["flicker"]      # a float, or None when it does not apply
    report["findings"]                # [{"kind", "start_frame", "end_frame",
                                      #   "track", "value", "threshold"}, ...]
"""

from ._sora import physics_score as score

__all__ = ["score"]
