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
# One large block freed: by default, the threshold rises past it. 4 MB, not a size like the
# answers': a fresh interpreter's heap may hold a free chunk of a few hundred KB (left by its
# imports), which would serve the block without mmap and leave the threshold where it was.
first = bytearray(4_000_000)
del first
# 20 MB of answers, each with something small allocated after it, as a server's heap always
# has: a small block could come from a free chunk anywhere, so one pin after the last answer
# might not sit above it, and glibc would then trim the freed answers off the heap's top.
held, pinned = [], []
for _ in range(100):
    held.append(bytearray(200_000))
    pinned.append(bytearray(2_000))
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
