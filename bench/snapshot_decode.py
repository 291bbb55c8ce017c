"""Where a cold read's snapshot decode goes (issue 16), in process, no database time: the two
plans of `bench/operational.py` (1,000 KPIs; 500 activities of 8 budget lines) as format 2
wrote them (every field of every node; the baseline, same run) and as format 3 writes them
(each node's fields that differ from their default), then their nodes in parts, each as msgspec
would read a layout a format could choose: as the frozen dataclass `Node` was until format 3,
as the msgspec struct it is, as an array-like struct; budget lines three ways; and a lazier
snapshot's skeleton (id, kind, parent and each node's bytes, what such a read would cost
before any node is asked for)."""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
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
from planapi.domain.plan import PlanState
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


_FIELDS = msgspec.structs.fields(Node)


def _with(**options: Any) -> Any:
    """A type with Node's fields and defaults, as another shape."""
    fields = [(f.name, f.type) if f.required else (f.name, f.type, f.default) for f in _FIELDS]
    return msgspec.defstruct("_Node", fields, frozen=True, **options)


# What decoding costs were Node an array-like struct (its fields by position, no names), or the
# frozen dataclass it was until format 3.
_NodeRow: Any = _with(array_like=True)
_NodeDataclass: Any = dataclasses.make_dataclass(
    "_NodeDataclass",
    [
        (f.name, f.type) if f.required else (f.name, f.type, dataclasses.field(default=f.default))
        for f in _FIELDS
    ],
    frozen=True,
    slots=True,
)


def _whole(node: Node) -> dict[str, Any]:
    """Every field of `node` as MessagePack has it, defaults too (format 2's node)."""
    every = {f.name: getattr(node, f.name) for f in _FIELDS}
    return msgspec.msgpack.decode(msgspec.msgpack.encode(every))  # type: ignore[no-any-return]


def _cases(state: PlanState) -> dict[str, Callable[[], object]]:
    """Each layout's bytes made once, their decode timed."""
    pack, decode = msgspec.msgpack.encode, msgspec.msgpack.decode
    nodes = [_whole(node) for node in state.walk()]
    written = encode_state(state)
    raw = decode(written)
    raw[13] = nodes
    format_2 = pack(raw)
    lines = [node["budget"] for node in nodes]
    whole, sparse = pack(nodes), pack(list(state.walk()))
    bare = pack([{k: v for k, v in node.items() if k != "budget"} for node in nodes])
    maps = pack(lines)
    arrays = pack([[[it["year"], it["source"], it["amount"]] for it in each] for each in lines])
    cents = pack([[[it["year"], it["source"], _cents(it["amount"])] for it in e] for e in lines])
    rows = pack([list(node.values()) for node in nodes])
    skeleton = pack([[n["id"], n["kind"], n["parent_id"], pack(n)] for n in nodes])
    return {
        "state, format 2 (every field; baseline)": lambda: decode_state(format_2),
        "state, format 3 (as written)": lambda: decode_state(written),
        "nodes, every field, as the dataclass": lambda: decode(whole, type=list[_NodeDataclass]),
        "nodes, defaults left out, as the dataclass": lambda: decode(
            sparse, type=list[_NodeDataclass]
        ),
        "nodes, every field, as Node": lambda: decode(whole, type=list[Node]),
        "nodes, defaults left out, as Node (format 3)": lambda: decode(sparse, type=list[Node]),
        "nodes without their budget lines, as Node": lambda: decode(bare, type=list[Node]),
        "nodes as an array-like struct": lambda: decode(rows, type=list[_NodeRow]),
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
    print("Snapshot decode, in process (the plans of bench/operational.py)")
    async with scratch_schema() as (engine, _):
        plans = service(engine)
        await build(plans, ExecutionService(SqlExecutionStore(engine, SystemClock()), plans))
        states = {plan: (await plans.require(plan)).state for plan in ("action", "ops")}
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    for plan, state in states.items():
        payload = encode_state(state)
        assert decode_state(payload) == state
        figures = _p50s(_cases(state))
        whole = figures["state, format 2 (every field; baseline)"]
        print(f"  {plan}: {len(state.nodes):,} nodes, {len(payload):,} bytes (p50 of {SAMPLES})")
        for name, ms in figures.items():
            row(name, f"{ms:,.3f} ms", f"{ms / whole:,.2f}x format 2's state")
