"""The reconstructed versions `PlanService` keeps: an LRU bounded by their number and by the
memory they hold, and the held version a cold one folds from or shares its nodes with.

Bounded by number alone (`PLANAPI_VERSION_CACHE_SIZE`), the same 512 entries held more and
more as cold reads replaced versions folded from a neighbour (which share every node the events
left alone) with versions decoded from snapshots (which share only what `domain.plan.sharing`
finds identical in the nearest held version): +12% resident memory over a soak's minutes 2 to
10 with the response cache already full (docs/performance.md). So each version is also charged
bytes, and the least recently used go until both bounds hold (`PLANAPI_VERSION_CACHE_BYTES`).

What a version costs: its own maps (every version has its own dict of nodes, child tuples,
links' indexes, translations: `SLOT_BYTES` for each node, link and translation it lists) plus
`VERSION_BYTES`, and `NODE_BYTES` for each node object no other held version holds. Nodes are
shared, so they are counted by identity across the whole cache: each distinct node object once,
however many versions list it, for as long as any does. When the version that brought a node in
is evicted and others still list it, the node stays counted, and it leaves the count with the
last version that lists it; the total is the bytes the held versions keep alive, not a sum of
charges fixed when each was put (which would undercount once the first holder of a shared node
went, and overcount while it stayed). A put or an eviction costs one pass over that version's
nodes, a hit nothing more than before.

A node's fields shared with another node (one updated from it keeps every field it did not
change) are not seen: such a node is counted whole, which errs on the side of the bound.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, insort
from collections import Counter
from itertools import compress, repeat
from operator import countOf, not_, sub

from planapi.application.cache import LruCache
from planapi.application.plan_views import PlanVersion
from planapi.domain.plan import PlanState, sharing

# Measured with tracemalloc (tests/unit/test_held_versions.py, CPython 3.11) on 1,000 KPIs as
# the grown plan of bench/growth.py has them (code, title, unit, measure, direction, a baseline
# and a target each): a node decoded from a snapshot, its strings, measurements and place in
# the identity count, 1,026 bytes (a node with long texts holds more than it is counted);
NODE_BYTES = 1_030
# each node, link or translation a version lists in its own maps, 36 bytes: a version folded
# from another over 1,000 KPIs holds 39.8 KB besides the node it renamed;
SLOT_BYTES = 36
# and the version itself: its PlanState and PlanVersion, its child tuples, the LRU's slot.
VERSION_BYTES = 2_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

log = logging.getLogger("planapi.versions")

Key = tuple[str, int]


class HeldVersions(LruCache[Key, PlanVersion]):
    """Reconstructed versions, least recently used dropped first; never more than `capacity`
    of them nor more than `max_bytes` by the count above (a version costing more than that
    alone is not kept). Hits and peeks are `LruCache`'s."""

    def __init__(self, capacity: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(capacity)
        self.max_bytes = max_bytes
        self.bytes = 0
        self.evictions = 0
        self.refused = 0  # versions larger than `max_bytes` alone: never kept
        self._warned: set[str] = set()  # plans whose versions were refused, logged once each
        # Each plan's versions held, in order: the neighbours of a version without a scan.
        self._by_plan: dict[str, list[int]] = {}
        # id(node) -> how many held versions list that node object. An id is not reused while
        # counted: the versions listing it keep the object alive.
        self._refs: Counter[int] = Counter()

    def put(self, key: Key, value: PlanVersion) -> None:
        if self.capacity <= 0 or self.max_bytes <= 0:
            return
        if key in self._items:  # versions never change: the one held stands
            self._items.move_to_end(key)
            return
        alone = _own_bytes(value.state) + NODE_BYTES * len(value.state.nodes)
        if alone > self.max_bytes:  # kept, it would first push out everything else
            self._refuse(key[0], alone)
            return
        self._items[key] = value
        insort(self._by_plan.setdefault(key[0], []), key[1])
        self.bytes += self._hold(value.state)
        while self._items and (len(self._items) > self.capacity or self.bytes > self.max_bytes):
            self._evict()

    def holds_plan(self, plan_id: str) -> bool:
        return plan_id in self._by_plan

    def below(self, plan_id: str, version: int, within: int) -> PlanState | None:
        """The newest held version of the plan below `version`, less than `within` below it."""
        held = self._by_plan.get(plan_id)
        if not held:
            return None
        at = bisect_left(held, version)
        if at == 0 or version - held[at - 1] >= within:
            return None
        return self._items[plan_id, held[at - 1]].state

    def shared(self, state: PlanState) -> PlanState:
        """`state` sharing what it can with the held version of its plan nearest to it."""
        held = self._by_plan.get(state.id)
        if not held:
            return state
        at = bisect_left(held, state.version)
        near = [v for v in held[max(0, at - 1) : at + 2] if v != state.version]
        if not near:
            return state
        nearest = min(near, key=lambda v: abs(v - state.version))
        return sharing(state, self._items[state.id, nearest].state)

    def _refuse(self, plan_id: str, alone: int) -> None:
        """Every read of such a plan folds or decodes it again: the operator is told, once."""
        self.refused += 1
        if plan_id not in self._warned:
            self._warned.add(plan_id)
            log.warning(
                "plan %s's versions hold ~%d bytes each, more than PLANAPI_VERSION_CACHE_BYTES "
                "(%d): none is kept in memory, so each read of it is rebuilt from storage",
                plan_id,
                alone,
                self.max_bytes,
            )

    # -- the byte count ----------------------------------------------------------------------
    def _hold(self, state: PlanState) -> int:
        refs = self._refs
        before = len(refs)
        refs.update(map(id, state.nodes.values()))  # counted in C: one cheap pass per put
        return _own_bytes(state) + NODE_BYTES * (len(refs) - before)

    def _release(self, state: PlanState) -> int:
        refs = self._refs
        ids = list(map(id, state.nodes.values()))
        left = list(map(sub, map(refs.__getitem__, ids), repeat(1)))
        dict.update(refs, zip(ids, left, strict=True))  # as the put: no Python loop over nodes
        freed = countOf(left, 0)
        if freed:  # the nodes no held version lists any more
            for ident in compress(ids, map(not_, left)):
                del refs[ident]
        return _own_bytes(state) + NODE_BYTES * freed

    def _evict(self) -> None:
        (plan_id, version), value = self._items.popitem(last=False)
        held = self._by_plan[plan_id]
        del held[bisect_left(held, version)]
        if not held:
            del self._by_plan[plan_id]
        self.bytes -= self._release(value.state)
        self.evictions += 1


def _own_bytes(state: PlanState) -> int:
    """What a version holds that no other does, whatever nodes it shares."""
    listed = len(state.nodes) + len(state.links) + len(state.translations)
    return VERSION_BYTES + SLOT_BYTES * listed
