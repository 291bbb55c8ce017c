"""A least-recently-used cache bounded by the bytes it holds, not only by its entries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What an entry costs beyond its payload (the caller counts the body and the key): the value
# object, ETag and headers, the OrderedDict's slot. Measured with tracemalloc through the view's
# own keeping (tests/unit/test_response_cache.py): a 164-byte answer under a 110-byte key
# holds 1,360 bytes in all.
ENTRY_OVERHEAD = 1_100


def exact(data: bytes) -> bytes:
    """`data` in a bytes object of its own length. orjson hands back the buffer it wrote in,
    its capacity kept (4 KiB for a 200-byte answer, up to twice the length of a large one), so
    a cache keeping its output as it came held several times the bytes it counted."""
    return bytes(memoryview(data))


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0
    too_large: int = 0
    superseded: int = 0  # dropped for a newer value of their slot


class ByteLru(Generic[K, V]):
    """`put(key, value, size)`: `size` is what the value holds (its body's length, say), to
    which `overhead` is added: what every entry holds besides.

    The total never exceeds `max_bytes`; an entry larger than `max_entry_bytes` is not kept."""

    def __init__(
        self, max_bytes: int, max_entry_bytes: int | None = None, overhead: int = ENTRY_OVERHEAD
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 4 if max_entry_bytes is None else max_entry_bytes
        self.overhead = overhead
        self.bytes = 0
        self.stats = CacheStats()
        self._items: OrderedDict[K, tuple[V, int, Hashable | None]] = OrderedDict()
        self._slots: dict[Hashable, K] = {}  # each slot's latest key

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._items.move_to_end(key)
        return found[0]

    def peek(self, key: K) -> V | None:
        """The value without counting a hit or a miss, or refreshing its place."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V, size: int, slot: Hashable | None = None) -> bool:
        """`slot`: the value replaces the one last put in the same slot under another key
        (an answer superseded: nothing will ask for it again)."""
        cost = size + self.overhead
        if self.max_bytes <= 0 or cost > self.max_entry_bytes:
            self.stats.too_large += 1
            return False
        self._drop(key)
        if slot is not None:
            before = self._slots.get(slot)
            if before is not None and before != key:
                self._drop(before)
                self.stats.superseded += 1
            self._slots[slot] = key
        self._items[key] = (value, cost, slot)
        self.bytes += cost
        self.stats.stores += 1
        self._evict()
        return True

    def grow(self, key: K, size: int) -> None:
        """Count `size` more bytes for the entry under `key`, if it is still kept (what was made
        for it after it was put); the least recently used go until the total fits again."""
        found = self._items.get(key)
        if found is None:
            return
        self._items[key] = (found[0], found[1] + size, found[2])  # its place in the order kept
        self.bytes += size
        self._evict()

    def _evict(self) -> None:
        while self.bytes > self.max_bytes:
            oldest = next(iter(self._items))
            self._drop(oldest)
            self.stats.evictions += 1

    def _drop(self, key: K) -> None:
        found = self._items.pop(key, None)
        if found is None:
            return
        self.bytes -= found[1]
        slot = found[2]
        if slot is not None and self._slots.get(slot) == key:
            del self._slots[slot]

    def clear(self) -> None:
        self._items.clear()
        self._slots.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)
