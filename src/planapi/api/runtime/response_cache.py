"""A least-recently-used cache bounded by the bytes it holds, not only by its entries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What an entry costs beyond what the caller counts as its own (its key, say): the record of
# its cost and the OrderedDict's slot; the value, where others share it, is counted with the
# shared part. Measured with tracemalloc through the view's own keeping
# (tests/unit/test_response_cache.py): 5,000 version reads under 16-byte keys
# (`http_caching.key_digest`) sharing one body and its headers hold 226 bytes each when put
# with ranks above 256 (an integer object each), of which 210 beyond the key; 196 with the rank
# 0 every pinned answer has (`bench/cache_entries.py`). 375 when each kept its ETag in an
# answer object of its own and its cost with the overhead in (an integer object each), 657 when
# each held its headers, its ETag's pair and a key of ~190 bytes.
ENTRY_OVERHEAD = 210
# What a part several entries share (`Sharing`: an answer's shape, `stored_answers.Shape`)
# holds beside what the caller counts as its own (the body's bytes): the shape, its headers'
# list, the key it is found under, its record and its slot in the table of shared ones.
# Measured as ENTRY_OVERHEAD is: ~421 for each of 5,000 distinct small answers. Counted once,
# with its own bytes, for as long as any entry holding it is kept.
SHARED_OVERHEAD = 420


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


class _Held(Generic[V]):
    """An entry: its value, what it is counted for beyond the cache's overhead (`own`), its
    slot, the key of the shared part it holds, and the rank it was put with.

    `own` leaves the overhead out because a version read's (its 16-byte key) is then one of
    the integers Python keeps once (below 257): with the overhead in, every one of the
    thousands kept held an integer object of its own (32 bytes)."""

    __slots__ = ("own", "rank", "shared", "slot", "value")

    def __init__(
        self, value: V, own: int, slot: Hashable | None, shared: Hashable | None, rank: int
    ) -> None:
        self.value = value
        self.own = own
        self.slot = slot
        self.shared = shared
        self.rank = rank


class _Shared:
    """A part kept entries share, what it is counted for, and how many of them hold it."""

    __slots__ = ("cost", "holders", "value")

    def __init__(self, value: object, cost: int) -> None:
        self.value = value
        self.cost = cost
        self.holders = 0


# A part several entries may hold (`ByteLru.put`): the key it is found under (`shared`), the
# part, what it holds of its own beside SHARED_OVERHEAD as made — what decides whether an
# entry holding it is kept at all, the same for every entry holding it — and what it holds now
# (what was made for it since, counted when its record is made).
Sharing = tuple[Hashable, object, int, int]


class ByteLru(Generic[K, V]):
    """`put(key, value, size)`: `size` is what the value holds of its own (its key's length,
    say), to which `overhead` is added: what every entry holds besides.

    `shared`: a part of the value that other values may hold too (the same body and headers
    under other keys), under a key of its own: counted once — its size and SHARED_OVERHEAD —
    while any entry holding it is kept, whichever entry brought it. `shared(key)` is the part
    kept under that key, for the value to hold instead of one of its own.

    The total never exceeds `max_bytes`; an entry larger than `max_entry_bytes` is not kept."""

    def __init__(
        self, max_bytes: int, max_entry_bytes: int | None = None, overhead: int = ENTRY_OVERHEAD
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 4 if max_entry_bytes is None else max_entry_bytes
        self.overhead = overhead  # fixed: an entry dropped is counted off with it (`_drop`)
        self.bytes = 0
        self.stats = CacheStats()
        self._items: OrderedDict[K, _Held[V]] = OrderedDict()
        self._slots: dict[Hashable, K] = {}  # each slot's latest key
        self._shared: dict[Hashable, _Shared] = {}

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._items.move_to_end(key)
        return found.value

    def peek(self, key: K) -> V | None:
        """The value without counting a hit or a miss, or refreshing its place."""
        found = self._items.get(key)
        return None if found is None else found.value

    def shared(self, key: Hashable) -> object | None:
        """The part kept entries hold under `key`, if any."""
        found = self._shared.get(key)
        return None if found is None else found.value

    def put(
        self,
        key: K,
        value: V,
        size: int,
        slot: Hashable | None = None,
        shared: Sharing | None = None,
        rank: int = 0,
    ) -> bool:
        """`slot`: the value replaces the one last put in the same slot under another key (an
        answer superseded: nothing will ask for it again) — unless that one's `rank` is higher:
        then this value, put late, is the dead one, and is not kept. `shared`: see the class."""
        whole = self._whole(size, shared)
        if not self._takes(whole):
            self.stats.too_large += 1
            return False
        if slot is not None:
            before = self._slots.get(slot)
            if before is not None and before != key:
                self.stats.superseded += 1
                if rank < self._items[before].rank:
                    return False
                self._drop(before)
        self._drop(key)
        if slot is not None:
            self._slots[slot] = key
        own, held = size, None
        if shared is not None:
            held, part, _, now = shared
            record = self._shared.get(held)
            if record is None:
                record = self._shared[held] = _Shared(part, now + SHARED_OVERHEAD)
                self.bytes += record.cost
            if record.value is part:
                record.holders += 1
            else:  # an equal part, not the same object: the value's own, counted as such
                own, held = size + now + SHARED_OVERHEAD, None
        self._items[key] = _Held(value, own, slot, held, rank)
        self.bytes += own + self.overhead
        self.stats.stores += 1
        self._evict()
        return True

    def fits(self, size: int, shared: Sharing | None = None) -> bool:
        """Whether `put` would keep such an entry at all (not too large, the cache not off) —
        whether or not it keeps it now; the same for every entry of this size holding the same
        part, whatever was made for the part since."""
        return self._takes(self._whole(size, shared))

    def has_room(self, size: int) -> bool:
        """Whether an entry of `size` (and no shared part) would be kept without pushing any
        other out."""
        return self.bytes + size + self.overhead <= self.max_bytes

    def _takes(self, whole: int) -> bool:
        return self.max_bytes > 0 and whole <= self.max_entry_bytes

    def _whole(self, size: int, shared: Sharing | None) -> int:
        whole = size + self.overhead
        return whole if shared is None else whole + shared[2] + SHARED_OVERHEAD

    def grow(self, key: K, size: int) -> None:
        """Count `size` more bytes for the entry under `key`, if it is still kept (what was made
        for it after it was put); the least recently used go until the total fits again."""
        found = self._items.get(key)
        if found is None:
            return
        found.own += size  # its place in the order kept
        self.bytes += size
        self._evict()

    def grow_shared(self, key: Hashable, part: object, size: int) -> bool:
        """Count `size` more bytes for `part` (what was made for it after it was put) if kept
        entries hold it under `key`; False, counting nothing, if they do not."""
        record = self._shared.get(key)
        if record is None or record.value is not part:
            return False
        record.cost += size
        self.bytes += size
        self._evict()
        return True

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._items:
            oldest = next(iter(self._items))
            self._drop(oldest)
            self.stats.evictions += 1

    def _drop(self, key: K) -> None:
        found = self._items.pop(key, None)
        if found is None:
            return
        self.bytes -= found.own + self.overhead
        slot = found.slot
        if slot is not None and self._slots.get(slot) == key:
            del self._slots[slot]
        if found.shared is not None:
            record = self._shared[found.shared]
            record.holders -= 1
            if not record.holders:  # its last holder gone: the part goes with it
                del self._shared[found.shared]
                self.bytes -= record.cost

    def clear(self) -> None:
        self._items.clear()
        self._slots.clear()
        self._shared.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)
