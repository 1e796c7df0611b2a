"""sora.safety: the prompt gate, usable without a model.

    import sora.safety
    d = sora.safety.check_prompt("a photo of T0m H4nley", "registry.json",
                                 consent="cameo-1", owner="studio-a")
    d["allowed"]          # False when a registered person lacks a valid consent
    d["normalized"]       # "a photo of tom hanley"
    d["matches"]          # [{"kind", "entry", "alias", "matched", "how",
                          #   "distance", "consent", "refused"}, ...]

A pipeline built with ``sora.Pipeline(..., safety_registry=..., owner_key=...)``
runs the same gate before any compute and raises ``sora.ConsentRequiredError``
or ``sora.ProtectedContentError`` (both ``sora.SafetyError``). The registry's
format is in docs/safety.md.
"""

from ._sora import check_prompt

__all__ = ["check_prompt"]
