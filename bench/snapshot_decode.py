"""Where a cold read's snapshot decode goes (issue 16), in process, no database time: the two
plans of `bench/operational.py` (1,000 KPIs; 500 activities of 8 budget lines) sealed as
format 2 is written, then their payloads decoded whole (the baseline, same run) and in parts,
each as msgspec would read a layout a new format could choose. The parts answer whether a
layout alone could make the decode cheap while it still ends in the domain's dataclasses, or
whether only a lazier snapshot (a skeleton of id, kind and parent; each node read when first
asked for) could: `skeleton` is what such a read would cost before any node is asked for."""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from bench.common import row, scratch_schema, service
from bench.operational import build
from planapi.adapters.clock import SystemClock
from planapi.adapters.execution_store import SqlExecutionStore
from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.application.execution import ExecutionService
from planapi.domain.activity_values import BudgetLine, FundingSource
from planapi.domain.nodes import Node, NodeKind
from planapi.entrypoints.asgi import GC_THRESHOLDS

SAMPLES = 200


class _Line(msgspec.Struct, array_like=True, frozen=True):
    year: int
    source: FundingSource
    amount: Decimal


class _Skeleton(msgspec.Struct, array_like=True, frozen=True):
    id: str
    kind: NodeKind
    parent_id: str | None
    body: msgspec.Raw


# What decoding would cost were Node itself an array-like struct (its fields by position, no
# names): the ceiling of any layout that still builds every node whole.
_HINTS = typing.get_type_hints(Node)
_NodeRow: Any = msgspec.defstruct(
    "_NodeRow",
    [
        (f.name, _HINTS[f.name])
        if f.default is dataclasses.MISSING
        else (f.name, _HINTS[f.name], f.default)
        for f in dataclasses.fields(Node)
    ],
    array_like=True,
    frozen=True,
)

_EMPTY = msgspec.to_builtins(Node(id="", kind=NodeKind.SECTION, title=""))
_ALWAYS = frozenset({"id", "kind", "title"})


def _cases(payload: bytes) -> dict[str, Callable[[], object]]:
    """Each layout's bytes made once, their decode timed."""
    nodes = msgspec.msgpack.decode(payload)[13]  # format 2's node list, as maps
    pack = msgspec.msgpack.encode
    lines = [node["budget"] for node in nodes]
    bare = pack([{k: v for k, v in node.items() if k != "budget"} for node in nodes])
    sparse = pack([{k: v for k, v in n.items() if k in _ALWAYS or v != _EMPTY[k]} for n in nodes])
    maps = pack(lines)
    arrays = pack([[[it["year"], it["source"], it["amount"]] for it in each] for each in lines])
    cents = pack([[[it["year"], it["source"], _cents(it["amount"])] for it in e] for e in lines])
    rows = pack([list(node.values()) for node in nodes])
    skeleton = pack([[n["id"], n["kind"], n["parent_id"], pack(n)] for n in nodes])
    decode = msgspec.msgpack.decode
    return {
        "whole state (format 2, baseline)": lambda: decode_state(payload),
        "nodes without their budget lines": lambda: decode(bare, type=list[Node]),
        "nodes, defaults left out": lambda: decode(sparse, type=list[Node]),
        "nodes were Node an array-like struct": lambda: decode(rows, type=list[_NodeRow]),
        "budget lines as dataclass maps": lambda: decode(maps, type=list[tuple[BudgetLine, ...]]),
        "budget lines as array-like structs": lambda: decode(arrays, type=list[list[_Line]]),
        "budget lines as [year, source, cents]": lambda: decode(
            cents, type=list[list[tuple[int, FundingSource, int]]]
        ),
        "skeleton: id, kind, parent, raw body": lambda: decode(skeleton, type=list[_Skeleton]),
    }


def _cents(amount: str) -> int:
    return int(Decimal(amount).scaleb(2))


def _p50s(cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    """p50 (ms) of each case, their samples interleaved, collected as the served process is."""
    found: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(SAMPLES):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            found[name].append(time.perf_counter() - start)
    return {name: statistics.median(each) * 1000 for name, each in found.items()}


async def main() -> None:
    print("Snapshot decode, in process (the plans of bench/operational.py, format 2)")
    async with scratch_schema() as (engine, _):
        plans = service(engine)
        await build(plans, ExecutionService(SqlExecutionStore(engine, SystemClock()), plans))
        states = {plan: (await plans.require(plan)).state for plan in ("action", "ops")}
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    for plan, state in states.items():
        payload = encode_state(state)
        assert decode_state(payload) == state
        figures = _p50s(_cases(payload))
        whole = figures["whole state (format 2, baseline)"]
        print(f"  {plan}: {len(state.nodes):,} nodes, {len(payload):,} bytes (p50 of {SAMPLES})")
        for name, ms in figures.items():
            row(name, f"{ms:,.3f} ms", f"{ms / whole:,.2f}x the whole state")
