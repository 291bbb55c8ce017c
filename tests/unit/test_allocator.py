"""Large blocks freed by the served process go back to the system, not into glibc's heap
(`entrypoints/allocator.py`). Each case runs in a fresh interpreter: the setting is process-wide."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys

import pytest

from planapi.entrypoints.allocator import map_large_blocks

PROBE = """
import ctypes, json, sys
from planapi.entrypoints.allocator import map_large_blocks

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
configured = map_large_blocks() if sys.argv[1] == "on" else False
first = bytearray(200_000)
del first  # one large block freed: by default, the threshold rises past it
held = [bytearray(200_000) for _ in range(100)]  # 20 MB of answers
pinned = bytearray(2_000)  # something small after them, as the heap always has
del held
print(json.dumps({"configured": configured, "free_in_heap": libc.mallinfo2().fordblks}))
"""

glibc = pytest.mark.skipif(
    not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"), reason="glibc's malloc only"
)


def _probe(mode: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": ""},
    )
    found: dict[str, int] = json.loads(done.stdout)
    return found


@glibc
def test_freed_large_blocks_are_not_kept_by_the_heap() -> None:
    by_default, configured = _probe("off"), _probe("on")
    assert by_default["free_in_heap"] > 15_000_000  # what the setting is for
    assert configured["configured"]
    assert configured["free_in_heap"] < 2_000_000


def test_an_operators_own_threshold_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert map_large_blocks() is False
