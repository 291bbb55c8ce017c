"""What a cached answer read, as the part of its cache key that changes when that does.

A scoped answer (every root field names its plan: `api.runtime.cacheability`) is keyed by each
plan's latest version, by each plan's newest batch of readings only when it selects readings,
and by the event log's head when it selects what other plans' versions feed (an action plan's
activities and budget); any other by the heads of the logs. All of it comes from memory
(`application.heads_tracker`): no database round trip. So a readings batch for plan A leaves
answers about plan B, and answers about A that read no readings, where they were; any write
anywhere moves the heads, and with them the answers keyed by the heads.

A client that wrote through another process passes the consistency token its write answered in
`PlanAPI-Consistent-With` (several: comma-separated, or the header repeated); `consistent` then
holds at least that state before the key is taken, catching up once from the database if not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from planapi.api.runtime.cacheability import Analysis
from planapi.api.runtime.http_protocol import RequestRefused
from planapi.application.freshness import BadTokenError, parse_tokens
from planapi.application.heads_tracker import HeadsTracker

log = logging.getLogger("planapi.api")


def dependency_key(
    analysis: Analysis, variables: Mapping[str, Any] | None, heads: HeadsTracker
) -> bytes:
    plans = plan_ids(analysis, variables)
    if plans is None:
        return b"heads|" + heads.heads().token.encode()
    held = [heads.plan(plan_id) for plan_id in plans]
    if analysis.readings:
        parts: list[object] = [[p, h.version, h.batch_id] for p, h in zip(plans, held, strict=True)]
    else:
        parts = [[p, h.version] for p, h in zip(plans, held, strict=True)]
    if analysis.other_plans:  # the event log's head, not the readings' (cacheability.OTHER_PLANS)
        parts.append(heads.heads().last_position)
    return b"plans|" + orjson.dumps(parts)


def plan_ids(analysis: Analysis, variables: Mapping[str, Any] | None) -> list[str] | None:
    """The ids of the plans a scoped document reads, given its variables, sorted; None when it
    may read any plan (or a variable does not name one)."""
    if analysis.plans is None:
        return None
    found = set()
    for given in analysis.plans:
        if given.startswith("="):
            found.add(given[1:])
            continue
        value = (variables or {}).get(given[1:])
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        found.add(str(value))
    return sorted(found)


async def consistent(header: bytes, heads: HeadsTracker) -> None:
    """Hold at least the state the client's tokens name (see the module's docstring)."""
    if not header:
        return
    try:
        wanted = parse_tokens([header.decode("latin-1")])
    except BadTokenError as error:
        raise RequestRefused(
            400,
            f"PlanAPI-Consistent-With: {str(error)[:40]!r} is not a consistency token "
            "(<position>.<batchId>, as a write's `consistencyToken` gave it)",
        ) from None
    try:
        await heads.ensure(wanted)
    except Exception as error:  # the database is out of reach: the token cannot be honoured
        log.warning("catching up for a consistency token failed (%r)", error)
        raise RequestRefused(
            503,
            "the database is out of reach: retry (the consistency token cannot be checked)",
            "UNAVAILABLE",
            [(b"retry-after", b"1")],
        ) from None
