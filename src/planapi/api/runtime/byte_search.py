"""Substring tests on bytes without CPython 3.11's hidden exception.

`part in data` for bytes first tries `part` as an integer (`0 in data` asks for the byte 0),
and for a bytes `part` that try raises a TypeError — its message formatted, then discarded —
before the substring search runs: ~1,900 instructions of the ~2,100 such a test costs
(callgrind, docs/performance.md "Where a full-tree hit's time went"). A hit asked seven of them
(the NUL scan, the content type twice, the streaming `Accept`). `data.find(part)` searches
directly; a single byte is best asked as the integer it is (`0 in data`).
"""

from __future__ import annotations


def holds(data: bytes, part: bytes) -> bool:
    """Is `part` somewhere in `data`? (`part in data`, without the failed integer conversion.)"""
    return data.find(part) != -1
