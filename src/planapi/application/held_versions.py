"""Which reconstructed versions of a plan a new one is built from or shares its nodes with.

`PlanService` keeps the versions it reconstructed in an LRU bounded by their number
(`PLANAPI_VERSION_CACHE_SIZE`). That bounds memory only while the versions held share their
unchanged nodes, as one folded from another does. One read from a snapshot shares nothing: a
soak reading thousands of versions at random, each cold read from the nearest snapshot, held a
whole 1,000-KPI plan (about 1 MB) per such version, and the process grew by ~90 MB in four
minutes with the cache's count at its bound (docs/performance.md, the soak). So a version from
a snapshot takes its identical nodes from the cached version of its plan nearest to it.
"""

from __future__ import annotations

from planapi.application.cache import LruCache
from planapi.application.plan_views import PlanVersion
from planapi.domain.plan import PlanState, sharing

Held = LruCache[tuple[str, int], PlanVersion]


def cached_below(versions: Held, plan_id: str, version: int, within: int) -> PlanState | None:
    """The newest cached version of the plan below `version`, less than `within` below it."""
    best = max((v for p, v in versions.held() if p == plan_id and v < version), default=None)
    if best is None or version - best >= within:
        return None
    found = versions.peek((plan_id, best))
    return found.state if found else None


def shared(versions: Held, state: PlanState) -> PlanState:
    """`state` sharing what it can with the cached version of its plan nearest to it."""
    held = [v for p, v in versions.held() if p == state.id and v != state.version]
    if not held:
        return state
    nearest = versions.peek((state.id, min(held, key=lambda v: abs(v - state.version))))
    return state if nearest is None else sharing(state, nearest.state)
