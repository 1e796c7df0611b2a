"""The progress bar of a `sora.ray` job on stderr: tqdm's when tqdm is
installed, else a plain one-line counter. Counts clips (done, skipped,
failed) and the workers replaced after dying."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class _Plain:
    """A one-line counter: redrawn in place on a terminal, one line per
    update (at most one a second, and the last) otherwise."""

    def __init__(self, total: int | None, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._started = time.monotonic()
        self._last_line = 0.0
        self.n = 0
        self._postfix = ""

    def update(self, n: int) -> None:
        self.n += n
        self._draw(final=False)

    def set_postfix_str(self, text: str) -> None:
        self._postfix = text

    def _draw(self, final: bool) -> None:
        now = time.monotonic()
        if not (self._tty or final or now - self._last_line >= 1.0):
            return
        self._last_line = now
        total = f"/{self._total}" if self._total is not None else ""
        line = f"sora.ray: {self.n}{total} clips [{now - self._started:.0f}s] {self._postfix}".rstrip()
        self._stream.write(("\r" + line) if self._tty else (line + "\n"))
        self._stream.flush()

    def close(self) -> None:
        self._draw(final=True)
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


class Progress:
    """Clips finished so far (`advance`) and workers replaced (`replaced`)."""

    def __init__(self, total: int | None, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.counts = {"done": 0, "skipped": 0, "failed": 0, "replaced": 0}
        self._bar: Any = None
        if not enabled:
            return
        stream = stream or sys.stderr
        try:
            from tqdm import tqdm
        except ImportError:
            self._bar = _Plain(total, stream)
        else:
            self._bar = tqdm(total=total, unit="clip", desc="sora.ray", file=stream, dynamic_ncols=True)

    def _postfix(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(", ".join(f"{k} {v}" for k, v in self.counts.items() if v))

    def advance(self, status: str) -> None:
        """One more clip finished with `status` ("done", "skipped", "failed")."""
        self.counts[status] = self.counts.get(status, 0) + 1
        self._postfix()
        if self._bar is not None:
            self._bar.update(1)

    def replaced(self) -> None:
        """A worker died and was replaced."""
        self.counts["replaced"] += 1
        self._postfix()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
