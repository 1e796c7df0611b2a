"""`python -m sora.ray --model DIR --requests FILE.jsonl --out DIR [...]` (see `sora.ray.cli`)."""

import sys

from .cli import main

sys.exit(main())
