"""sora.ray: many clips over many GPUs and machines, on a Ray cluster.

    import sora.ray
    results = sora.ray.generate_many(
        "Wan2.1-T2V-1.3B-Diffusers",
        [{"prompt": "a red fox runs through snow", "seed": 1},
         {"prompt": "waves on a rocky shore", "seed": 2, "width": 832, "height": 480}],
        out_dir="/shared/clips", dtype="bfloat16",
    )
    [r.status for r in results]   # "done", "skipped" (there already) or "failed"

or from a shell: `python -m sora.ray --model DIR --requests FILE.jsonl --out DIR`.

A pool of Ray actors each holds one loaded `sora.Pipeline`; each clip is
written atomically into the output folder with its metadata JSON beside it; a
worker that dies is replaced and its request retried; running a job again
skips the clips already made. Needs Ray (`pip install 'sora[ray]'`), imported
only when a job starts: `import sora` never imports Ray. See docs/ray.md.
"""

from .scheduler import ClipResult, generate_many, iter_many
from .request import FORMATS, check_request, read_requests

__all__ = ["FORMATS", "ClipResult", "check_request", "generate_many", "iter_many", "read_requests"]
