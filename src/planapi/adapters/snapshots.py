"""Snapshots of plan states every K versions and after large changes, so reading version N
folds only a few events.

Snapshots are a cache of the log, not part of the record: they may be deleted at any time, and a
snapshot in a format this code does not read is ignored. Format 3 (MessagePack, a node's
non-default fields, `adapters.snapshot_format`) is written; formats 2 (MessagePack, every field)
and 1 (JSON, the functions below) are still read.
Each is sealed (migration 0007): bound to the chain hash of its version and authenticated by
an HMAC-SHA256 with a key kept outside the database (`adapters.snapshot_key`), so a row changed
behind the app's back (the table refuses UPDATE; an insider can drop the trigger) is noticed
when loading, logged once, and ignored: the version is folded from the events instead.
`PlanService.verify` re-folds every snapshot's version and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any

import msgspec
from sqlalchemy import Text, and_, bindparam, cast, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import reading
from planapi.adapters.event_rows import deferred
from planapi.adapters.hashing import canonical
from planapi.adapters.node_json import node_from_primitive, node_to_primitive
from planapi.adapters.snapshot_format import decode_state, encode_state
from planapi.adapters.snapshot_texts import languages_from_primitive, languages_to_primitive
from planapi.adapters.tables import events, snapshots
from planapi.application.ports import Clock, Recorded
from planapi.domain.events import PlanStatus
from planapi.domain.links import Link, LinkRelation
from planapi.domain.plan import EMPTY, PlanBuilder, PlanState
from planapi.domain.plan_kinds import PlanKind

# Written from now on: MessagePack with each node's non-default fields
# (`adapters.snapshot_format`), decoded straight into the domain's types. Formats 2 (every field
# written, read by the same decoder) and 1 (JSON, below) are still read, and replaced when next
# saved.
SNAPSHOT_FORMAT = 3
WHOLE_NODES_FORMAT = 2
JSON_FORMAT = 1
_READ = (JSON_FORMAT, WHOLE_NODES_FORMAT, SNAPSHOT_FORMAT)
# Sealed snapshots looked at per load, newest first, before folding from the start instead.
_CANDIDATES = 4

log = logging.getLogger("planapi.snapshots")


def state_to_primitive(state: PlanState) -> dict[str, Any]:
    primitive = {
        "id": state.id,
        "title": state.title,
        "description": state.description,
        "period_start": state.period_start,
        "period_end": state.period_end,
        "version": state.version,
        # Parents before children, each list in sibling order: enough to rebuild the tree.
        "nodes": [node_to_primitive(node) for node in state.walk()],
        "links": [[link.from_id, link.to_id, link.relation.value] for link in sorted(state.links)],
        "retired": sorted(state.retired_ids),
        "status": state.status.value,
        "succeeds": state.succeeds,
        "superseded_by": state.superseded_by,
        **languages_to_primitive(state),
    }
    # Only an operational plan's: an action plan's snapshot reads (and verifies) exactly as one
    # sealed before plan kinds existed.
    if state.plan_kind is not PlanKind.ACTION_PLAN:
        primitive["plan_kind"] = state.plan_kind.value
        primitive["implements"], primitive["edition"] = state.implements, state.edition
    return primitive


def state_from_primitive(raw: dict[str, Any]) -> PlanState:
    builder = PlanBuilder(EMPTY)
    builder.id, builder.title, builder.description = raw["id"], raw["title"], raw["description"]
    builder.period_start, builder.period_end = raw["period_start"], raw["period_end"]
    builder.version = raw["version"]
    for item in raw["nodes"]:
        node = node_from_primitive(item)
        builder.nodes[node.id] = node
        builder.children.setdefault(node.parent_id, []).append(node.id)
    builder.links = {Link(a, b, LinkRelation(r)) for a, b, r in raw["links"]}
    builder.retired = set(raw["retired"])
    # Snapshots sealed before plans had a status: every plan was a draft then.
    builder.status = PlanStatus(raw.get("status", PlanStatus.DRAFT.value))
    builder.succeeds, builder.superseded_by = raw.get("succeeds"), raw.get("superseded_by")
    # Snapshots sealed before plan kinds existed are of action plans.
    builder.plan_kind = PlanKind(raw.get("plan_kind", PlanKind.ACTION_PLAN.value))
    builder.implements, builder.edition = raw.get("implements"), raw.get("edition")
    languages_from_primitive(builder, raw)
    return builder.freeze()


class SqlSnapshotStore:
    """`key`: the sealing key; None gives a key of this process alone (tests, benchmarks):
    its snapshots are ignored by every other process and after a restart."""

    def __init__(self, engine: AsyncEngine, clock: Clock, key: bytes | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self._key = key if key is not None else secrets.token_bytes(32)
        self._warned: set[tuple[str, int]] = set()

    def seal(
        self, stream_id: str, version: int, chain_hash: bytes, body: bytes, fmt: int = 1
    ) -> bytes:
        """The HMAC over what a snapshot says it is (and, from format 2 on, its format) and
        its bytes as stored."""
        names: list[object] = [stream_id, version, chain_hash.hex()]
        if fmt != JSON_FORMAT:
            names.append(fmt)
        message = canonical(names) + b"\x00" + body
        return hmac.new(self._key, message, hashlib.sha256).digest()

    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        found = await self.nearest_recorded(stream_id, version)
        return found[0] if found else None

    async def nearest_recorded(
        self, stream_id: str, version: int
    ) -> tuple[PlanState, Recorded | None] | None:
        # The newest first, alone: its bytes are most of what is read. Older ones only when
        # its seal fails. Its version's record comes in the same statement (the seal's join
        # reads that row anyway): a cold read of a plan is one round trip fewer.
        below = version + 1
        for _ in range(_CANDIDATES):
            async with reading(self.engine) as conn:
                row = (
                    await conn.execute(_CANDIDATE, {"stream_id": stream_id, "below": below})
                ).first()
            if row is None:
                return None
            state = self._open(stream_id, row)
            if state is not None:
                return state, _record(stream_id, row)
            below = row.version
        return None

    async def newest_recorded(
        self, stream_id: str
    ) -> tuple[int, tuple[PlanState, Recorded | None] | None] | None:
        # The head and the newest snapshot in one statement: a cold read of a plan's latest
        # version is one round trip where asking the log for its head first made two.
        async with reading(self.engine) as conn:
            row = (await conn.execute(_NEWEST, {"stream_id": stream_id})).first()
        head = row.head or 0 if row is not None else 0
        if row is None or row.version is None:
            return head, None
        state = self._open(stream_id, row)
        if state is not None:
            return head, (state, _record(stream_id, row))
        return head, await self.nearest_recorded(stream_id, row.version - 1)

    def _open(self, stream_id: str, row: Any) -> PlanState | None:
        """The row's state when its seal holds and it decodes; otherwise None, logged once."""
        body = _body(row)
        problem = self._seal_problem(stream_id, row.version, bytes(row.hash), row, body)
        if problem is None:
            try:
                return _decode(row.schema_version, body)
            except msgspec.DecodeError as error:
                problem = f"its sealed content does not decode ({error})"
        if (stream_id, row.version) not in self._warned:
            self._warned.add((stream_id, row.version))
            log.warning(
                "snapshot of %s version %d ignored: %s; folding from the events",
                stream_id,
                row.version,
                problem,
            )
        return None

    def _seal_problem(
        self, stream_id: str, version: int, chain_hash: bytes, row: Any, body: bytes
    ) -> str | None:
        if row.seal is None:
            return "it is unsealed (written before migration 0007)"
        if row.chain_hash is None or not hmac.compare_digest(bytes(row.chain_hash), chain_hash):
            return "it is bound to another chain hash than its version's"
        expected = self.seal(stream_id, version, chain_hash, body, row.schema_version)
        if not hmac.compare_digest(bytes(row.seal), expected):
            return "its seal does not match its content (altered, or sealed with another key)"
        return None

    async def save(self, stream_id: str, state: PlanState, chain_hash: bytes) -> None:
        payload = encode_state(state)
        seal = self.seal(stream_id, state.version, chain_hash, payload, SNAPSHOT_FORMAT)
        row = {
            "stream_id": stream_id,
            "version": state.version,
            "schema_version": SNAPSHOT_FORMAT,
            "state": None,  # JSON null: from format 2 on, the state is the payload
            "payload": payload,
            "created_at": self.clock.now(),
            "chain_hash": chain_hash,
            "seal": seal,
        }
        # A row for this version that does not carry this seal (unsealed, forged, another key,
        # an older format) is replaced: the table refuses UPDATE but a snapshot, being a cache,
        # may be deleted.
        stale = delete(snapshots).where(
            snapshots.c.stream_id == stream_id,
            snapshots.c.version == state.version,
            or_(snapshots.c.seal.is_(None), snapshots.c.seal != seal),
        )
        try:
            async with self.engine.begin() as conn:
                await conn.execute(stale)
                await conn.execute(insert(snapshots).values(**row))
        except IntegrityError:
            pass  # another process saved the same version first: same content, nothing lost

    async def versions(self, stream_id: str) -> list[int]:
        query = (
            select(snapshots.c.version)
            .where(snapshots.c.stream_id == stream_id)
            .order_by(snapshots.c.version)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def check(self, stream_id: str, state: PlanState, chain_hash: bytes) -> str | None:
        query = select(*_STORED).where(
            snapshots.c.stream_id == stream_id, snapshots.c.version == state.version
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.schema_version not in _READ:
            return None  # deleted meanwhile, or of a format never read: harmless
        body = _body(row)
        if not _holds(row.schema_version, body, state):
            return "its state differs from the plan folded from the events"
        if row.seal is None:
            return None  # the right content, but ignored when loading: harmless
        return self._seal_problem(stream_id, state.version, chain_hash, row, body)


_STORED = (
    snapshots.c.version,
    snapshots.c.schema_version,
    cast(snapshots.c.state, Text).label("state"),
    snapshots.c.payload,
    snapshots.c.chain_hash,
    snapshots.c.seal,
)


# The columns of the snapshot's version's record, named apart from the snapshot's own.
_RECORD = (
    events.c.position.label("event_position"),
    events.c.type.label("event_type"),
    events.c.schema_version.label("event_schema_version"),
    cast(events.c.data, Text).label("event_data"),  # its stored text, decoded if ever read
    events.c.meta.label("event_meta"),
    events.c.recorded_at.label("event_recorded_at"),
)


# The newest snapshot of a format this reads below version `below`, with its version's chain
# hash (the seal is bound to it) and record; unsealed ones (before 0007) are never read. Built
# once, its values bound per call (as `event_store._LATEST`).
_CANDIDATE = (
    select(*_STORED, events.c.hash, *_RECORD)
    .join(
        events,
        (events.c.stream_id == snapshots.c.stream_id) & (events.c.version == snapshots.c.version),
    )
    .where(
        snapshots.c.stream_id == bindparam("stream_id"),
        snapshots.c.version < bindparam("below"),
        snapshots.c.schema_version.in_(_READ),
        snapshots.c.seal.is_not(None),
    )
    .order_by(snapshots.c.version.desc())
    .limit(1)
)


# The stream's latest version and its newest snapshot a reader would take first (as
# `_CANDIDATE`); the outer join keeps the head when the stream has no snapshot.
_HEAD = (
    select(func.max(events.c.version).label("head"))
    .where(events.c.stream_id == bindparam("stream_id"))
    .subquery()
)
_NEWEST = (
    select(_HEAD.c.head, *_STORED, events.c.hash, *_RECORD)
    .select_from(
        _HEAD.outerjoin(
            snapshots.join(
                events,
                (events.c.stream_id == snapshots.c.stream_id)
                & (events.c.version == snapshots.c.version),
            ),
            and_(
                snapshots.c.stream_id == bindparam("stream_id"),
                snapshots.c.version <= _HEAD.c.head,
                snapshots.c.schema_version.in_(_READ),
                snapshots.c.seal.is_not(None),
            ),
        )
    )
    .order_by(snapshots.c.version.desc())
    .limit(1)
)


def _record(stream_id: str, row: Any) -> Recorded:
    stored = (row.event_type, row.event_schema_version, row.event_data)
    return deferred(
        stream_id,
        row.version,
        row.event_position,
        stored,
        row.event_meta,
        row.event_recorded_at,
        bytes(row.hash),
    )


def _body(row: Any) -> bytes:
    """The bytes a snapshot's seal covers: format 1's JSON text, or the payload."""
    if row.schema_version == JSON_FORMAT:
        return row.state.encode()  # type: ignore[no-any-return]
    return bytes(row.payload) if row.payload is not None else b""


def _decode(fmt: int, body: bytes) -> PlanState:
    if fmt == JSON_FORMAT:
        return state_from_primitive(msgspec.json.decode(body))
    return decode_state(body)


def _holds(fmt: int, body: bytes, state: PlanState) -> bool:
    """Whether the stored bytes say exactly `state`."""
    try:
        if fmt == JSON_FORMAT:
            stored = msgspec.json.decode(body)
        elif body == encode_state(state):
            return True
        else:  # format 2, or an older release's format 3 (a field added since)
            stored = state_to_primitive(decode_state(body))
    except msgspec.DecodeError:
        return False
    # Compared as canonical text, not as decoded states: a NaN stored before today's rules is
    # unequal to itself, so an older format's snapshot holding one would read as altered.
    return canonical(stored) == canonical(state_to_primitive(state))


class UnkeyedSnapshotStore(SqlSnapshotStore):
    """No sealing key configured: snapshots are neither read nor written (every version is
    folded from the events), and `check` can compare only their content."""

    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        return None

    async def nearest_recorded(
        self, stream_id: str, version: int
    ) -> tuple[PlanState, Recorded | None] | None:
        return None

    async def newest_recorded(
        self, stream_id: str
    ) -> tuple[int, tuple[PlanState, Recorded | None] | None] | None:
        return None

    async def save(self, stream_id: str, state: PlanState, chain_hash: bytes) -> None:
        return None

    def _seal_problem(
        self, stream_id: str, version: int, chain_hash: bytes, row: Any, body: bytes
    ) -> str | None:
        return None  # without the key a seal proves nothing either way
