"""The served process's C allocator: large blocks in mappings of their own, given back when freed.

glibc's malloc gives a block of 128 KiB or more a mapping of its own, but raises that threshold
to the size of each such block freed (up to 32 MiB): after the first large answer is dropped,
every later one comes from the heap, and the heap keeps what they free for later malloc calls.
Python's small objects never take it (pymalloc maps arenas of its own). The response cache turns
over its 64 MiB continuously, hundreds of 176 KB trees among the answers: in the soak, as small
answers took the place of large ones within the same counted bytes, pymalloc grew by what the
small ones hold while the heap's free space grew 7 → 13 MB in three minutes — resident memory
holding nothing. With the threshold fixed at glibc's default (mallopt, which also stops the
adjustment) each large block is unmapped when freed: the heap stayed at 37 MB with 3 MB free for
a whole soak. docs/performance.md, "The soak".
"""

from __future__ import annotations

import ctypes
import os

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
LARGE = 128 * 1024  # glibc's own default threshold, kept from rising


def map_large_blocks() -> bool:
    """Have glibc map blocks of LARGE bytes or more on their own from now on. False, changing
    nothing, under another C library or when MALLOC_MMAP_THRESHOLD_ already chose."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # musl's mallopt does nothing
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE))
