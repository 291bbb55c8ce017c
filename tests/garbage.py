"""What the collector would free: the server collects rarely (high thresholds, its start-up heap
frozen: entrypoints/asgi.py), so anything left in a reference cycle lives on for minutes and
raises the process's high-water mark (docs/performance.md, "The soak")."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def garbage_kept() -> Iterator[list[object]]:
    """What the collector would have freed from what ran inside (the collector off meanwhile),
    handed over for inspection."""
    gc.collect()
    found: list[object] = []
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found += gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def statement_parts(garbage: list[object]) -> dict[str, int]:
    """SQLAlchemy's objects among `garbage` (bound parameters, clauses, types), by type: what a
    statement built per call leaves in cycles."""
    counts: dict[str, int] = {}
    for item in garbage:
        if type(item).__module__.startswith("sqlalchemy."):
            counts[type(item).__name__] = counts.get(type(item).__name__, 0) + 1
    return counts
