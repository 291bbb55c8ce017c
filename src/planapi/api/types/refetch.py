"""`Query.node(id:)` and `Query.nodes(ids:)`: any object fetched again by its global id.

Relay's convention: an id that is not a global id of this API is the client's mistake
(BAD_USER_INPUT naming `id`, or `ids[i]`); a well-formed id naming nothing — a version or a
node that does not exist, a reading whose state is not the one the id says — answers null.
What an id names never changes, so the answer is the data the id was given out with.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.global_ids import (
    KIND_TYPE_NAMES,
    NODE_TYPE_NAMES,
    MalformedIdError,
    Node,
    global_id,
    parse,
)
from planapi.api.types.history import Amendment
from planapi.api.types.node_history import NodeHistoryEntry, history_entry_id, history_indexes
from planapi.api.types.nodes import as_type
from planapi.api.types.plans import Plan, PlanSummary
from planapi.api.types.readings import CURRENT, SUPERSEDED_BY, Reading
from planapi.api.types.root_fields import Caching, declare
from planapi.api.types.subscriptions import ReadingsBatch, batch_global_id
from planapi.api.types.translations import LANG_ARGUMENT, in_language, language_part, requested
from planapi.application.access import Permission
from planapi.application.translations import localize
from planapi.domain.errors import PlanApiError, Problem, ValidationError
from planapi.domain.readings import ReadingQuery, ReadingVersion

Info = strawberry.Info[Context, None]
MAX_IDS = 100
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in storage
MAX_ROW_ID = 2**63 - 1
_NUMBER = re.compile(r"(0|[1-9][0-9]{0,18})\Z")
_EVERY_READING = ReadingQuery(include_superseded=True)


@dataclass(frozen=True, slots=True)
class _Target:
    type_name: str
    parts: list[str]
    lang: str | None = None  # a plan or node read in a language other than its source


def _number(text: str, what: str, low: int, high: int) -> int:
    if _NUMBER.match(text) is None or not low <= int(text) <= high:
        raise MalformedIdError(f"its {what} must be a whole number from {low} to {high:,}")
    return int(text)


# Each type's parts, in order (`...`: any more of the one before: a batch's KPIs); those named
# in _LIMITS are whole numbers within them.
_SHAPES: dict[str, tuple[str, ...]] = {
    "Plan": ("planId", "version"),
    "PlanSummary": ("planId", "version"),
    "Amendment": ("planId", "version"),
    "NodeHistoryEntry": ("planId", "version", "nodeId", "index"),
    "Reading": ("planId", "kpiId", "readingId", "state"),
    "ReadingsBatch": ("batchId", "kpiId", "..."),
    **dict.fromkeys(NODE_TYPE_NAMES, ("planId", "version", "nodeId")),
}
_LIMITS = {"version": (1, MAX_VERSION), "index": (0, MAX_VERSION), "readingId": (1, MAX_ROW_ID)}
_LIMITS["batchId"] = _LIMITS["readingId"]


def _target(text: str) -> _Target:
    type_name, parts = parse(text)
    shape = _SHAPES.get(type_name)
    if shape is None:
        raise MalformedIdError(f"no type {type_name!r} has global ids here")
    fixed = shape[:-1] if shape[-1] == "..." else shape
    lang = language_part(type_name, parts, len(shape))
    if lang is not None:
        parts = parts[:-1]
    if len(parts) < len(fixed) or (len(parts) > len(fixed) and fixed is shape):
        raise MalformedIdError(f"a {type_name} id is {type_name}:{':'.join(fixed)}")
    for name, given in zip(fixed, parts, strict=False):
        if name in _LIMITS:
            _number(given, name, *_LIMITS[name])
    if type_name == "Reading" and parts[3] != CURRENT:
        state = parts[3].removeprefix(SUPERSEDED_BY)
        if state == parts[3]:
            raise MalformedIdError(f"a reading's state is {CURRENT} or {SUPERSEDED_BY}<readingId>")
        _number(state, "superseding reading id", 1, MAX_ROW_ID)
    return _Target(type_name, parts, lang)


def _targets(given: Sequence[str], argument: str, *, listed: bool) -> list[_Target]:
    targets, problems = [], []
    for index, text in enumerate(given):
        try:
            targets.append(_target(text))
        except MalformedIdError as error:
            where: tuple[str | int, ...] = (argument, index) if listed else (argument,)
            problems.append(Problem(where, f"not a global id of this API: {error}"))
    if problems:
        raise bad_input(ValidationError(problems))
    return targets


async def _plan(context: Context, target: _Target) -> Plan | None:
    found = await context.plans.plan(target.parts[0], int(target.parts[1]))
    return Plan(found=in_language(found, target.lang)) if found else None


async def _summary(context: Context, target: _Target) -> PlanSummary | None:
    found = await context.plans.plan(target.parts[0], int(target.parts[1]))
    return PlanSummary(found=in_language(found, target.lang)) if found else None


async def _amendment(context: Context, target: _Target) -> Amendment | None:
    found = await context.plans.amendment(target.parts[0], int(target.parts[1]))
    return Amendment(record=found) if found else None


async def _plan_node(context: Context, target: _Target) -> Node | None:
    plan_id, version, node_id = target.parts
    found = await context.plans.plan(plan_id, int(version))
    node = found.state.node(node_id) if found else None
    if found is None or node is None or KIND_TYPE_NAMES[node.kind] != target.type_name:
        return None
    state = localize(found.state, target.lang)
    return as_type(state.nodes[node_id], state)


async def _history_entry(context: Context, target: _Target) -> NodeHistoryEntry | None:
    plan_id, version, node_id, index = target.parts
    found = await context.plans.plan(plan_id, int(version))
    if found is None:
        return None
    entries = await context.plans.history(plan_id, node_id, int(version))
    for entry, number in zip(entries, history_indexes(entries), strict=True):
        if entry.amendment.version == int(version) and number == int(index):
            return NodeHistoryEntry.of(entry, history_entry_id(plan_id, node_id, entry, number))
    return None


async def _reading(context: Context, target: _Target) -> Reading | None:
    plan_id, kpi_id, reading_id, state = target.parts
    versions = await context.reading_loader.load((plan_id, kpi_id, _EVERY_READING))
    found = next((v for v in versions if v.reading.id == int(reading_id)), None)
    if found is None:
        return None
    if state == CURRENT:  # as it stood until a correction, if one came since
        return Reading(version=ReadingVersion(found.reading, None))
    later = found.superseded_by
    wanted = state.removeprefix(SUPERSEDED_BY)
    return Reading(version=found) if later is not None and str(later.id) == wanted else None


async def _batch(context: Context, target: _Target) -> ReadingsBatch | None:
    if context.live is None:
        return None
    batch_id, kpi_ids = int(target.parts[0]), target.parts[1:]
    found = await context.live.readings.batches_after(batch_id - 1, 1, kpi_ids)
    if not found or found[0].batch_id != batch_id:
        return None
    named = global_id("ReadingsBatch", *target.parts)
    return ReadingsBatch(batch=found[0]) if batch_global_id(found[0]) == named else None


_RESOLVERS: dict[str, Callable[[Context, _Target], Awaitable[Node | None]]] = {
    "Plan": _plan,
    "PlanSummary": _summary,
    "Amendment": _amendment,
    "NodeHistoryEntry": _history_entry,
    "Reading": _reading,
    "ReadingsBatch": _batch,
    **dict.fromkeys(NODE_TYPE_NAMES, _plan_node),
}


async def _resolve(context: Context, target: _Target) -> Node | None:
    try:
        return await _RESOLVERS[target.type_name](context, target)
    except PlanApiError as error:
        raise bad_input(error) from error


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="The object with this global id (any object's `id`), with the data it had "
        "when the id was given out (Relay's Global Object Identification). Null when the id is "
        "well-formed but names nothing; BAD_USER_INPUT naming `id` when it is not a global id "
        "of this API (a stable key such as a `planId` or `nodeId` included).",
        metadata=declare(Permission.READ, Caching.HEADS),
    )
    async def node(
        self,
        info: Info,
        id: strawberry.ID,
        lang: Annotated[str | None, strawberry.argument(description=LANG_ARGUMENT)] = None,
    ) -> Node | None:
        (target,) = _targets([id], "id", listed=False)
        if lang is not None:
            target = replace(target, lang=requested(lang))
        return await _resolve(info.context, target)

    @strawberry.field(
        description=f"`node(id:)` for each of up to {MAX_IDS} ids, in order; null for each "
        "that names nothing; BAD_USER_INPUT naming `ids[i]` for each that is malformed.",
        metadata=declare(Permission.READ, Caching.HEADS),
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_IDS:
            problem = Problem(("ids",), f"give at most {MAX_IDS} ids, not {len(ids):,}")
            raise bad_input(ValidationError([problem]))
        targets = _targets(ids, "ids", listed=True)
        return [await _resolve(info.context, target) for target in targets]
