"""Hints revealed one level per failed attempt: `tinyrect check prelu --hint auto`.

The first failed attempt at a function shows its gentlest hint (level 1), the next one level 2,
then the explicit hint; a pass starts the count again. The counts live in the user's cache folder
($XDG_CACHE_HOME, else ~/.cache)/tinyrect/hint_attempts.json, keyed by the student's file, the
exercise and the function: never in the student's folder. An instructor's --max-hint still caps
the level.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from tinyrect.serialization import atomic_write

LEVELS = 3


def store_path() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyrect" / "hint_attempts.json"


class Attempts:
    """Failed attempts per (file, exercise, function), read once, written back at every `record`."""

    def __init__(self, path: Path | None = None):
        self.path = path or store_path()
        try:
            self.counts = {str(k): int(v) for k, v in json.loads(self.path.read_text()).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            self.counts = {}   # no file yet, or one we cannot read: start counting again

    @staticmethod
    def key(path, exercise: str, func: str) -> str:
        return f"{Path(path).resolve()}::{exercise}::{func}"

    def level(self, key: str) -> int:
        """The hint level this attempt shows: 1 + the failed attempts so far, at most LEVELS."""
        return min(self.counts.get(key, 0) + 1, LEVELS)

    def record(self, key: str, passed: bool) -> None:
        if passed:
            self.counts.pop(key, None)
        else:
            self.counts[key] = self.counts.get(key, 0) + 1
        self.save()

    def save(self) -> None:
        """Write the counts (a temporary file renamed over the old one); a cache we cannot write
        only loses the counting, never the grading."""
        try:
            with atomic_write(self.path, "w", encoding="utf-8") as f:
                f.write(json.dumps(self.counts, indent=0, sort_keys=True))
        except OSError:
            pass
