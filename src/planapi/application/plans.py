"""Plan use cases: create, amend, and read any version, its history, diffs and integrity."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
from enum import Enum
from typing import TYPE_CHECKING

from planapi.application import succession
from planapi.application.batching import Batcher
from planapi.application.command_keys import command_key
from planapi.application.held_versions import DEFAULT_MAX_BYTES, HeldVersions
from planapi.application.integrity import stored_findings
from planapi.application.plan_commands import AmendPlan as AmendPlan
from planapi.application.plan_commands import CreatePlan as CreatePlan
from planapi.application.plan_commands import amendment_info
from planapi.application.plan_views import AmendmentPage, FieldSource, NodeEntry
from planapi.application.plan_views import PlanVersion as PlanVersion  # re-exported
from planapi.application.plan_views import VersionDiff as VersionDiff  # re-exported
from planapi.application.ports import (
    Clock,
    CommandKey,
    EventStore,
    IntegrityReport,
    Recorded,
    SnapshotStore,
)
from planapi.domain.diff import diff
from planapi.domain.errors import (
    IdempotencyKeyReusedError,
    PlanAlreadyExistsError,
    PlanNotFoundError,
    Problem,
    ValidationError,
    VersionConflictError,
    VersionNotFoundError,
)
from planapi.domain.events import PlanEvent
from planapi.domain.history import blame, node_history
from planapi.domain.nodes import Node
from planapi.domain.plan import PlanState, fold

if TYPE_CHECKING:  # it imports this module
    from planapi.application.heads_tracker import HeadsTracker

STREAM_PREFIX = "plan:"
MAX_PAGE = 100
# The fewest facts folded since the last snapshot that make the next state worth one (besides
# every `snapshot_interval` versions): decoding a fact costs about what a snapshot's node does.
SNAPSHOT_FACTS = 256


# The nearest snapshot of a version with its record, as `SnapshotStore.nearest_recorded` answers.
Near = tuple[PlanState, Recorded | None] | None
Unread = Enum("Unread", "NOT_YET")  # a `Near` not looked for yet (None: looked for, none found)


def stream_of(plan_id: str) -> str:
    return f"{STREAM_PREFIX}{plan_id}"


class PlanService:
    def __init__(
        self,
        events: EventStore,
        snapshots: SnapshotStore,
        *,
        default_actor: str,
        snapshot_interval: int = 100,
        cache_size: int = 256,
        cache_bytes: int = DEFAULT_MAX_BYTES,
        heads: HeadsTracker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.events = events
        self.clock = clock  # "today" for a command without an effective date; None: wall clock
        # Each plan's latest version in memory (None: "latest" is read from the store).
        self.heads = heads
        self.snapshots = snapshots
        self.default_actor = default_actor
        self.snapshot_interval = snapshot_interval
        self.versions = HeldVersions(cache_size, cache_bytes)
        # The history and blame of every node of a tree: one query per plan and version.
        self._touching: Batcher[tuple[str, int], str, list[Recorded]] = Batcher(self._touching_many)

    # -- commands --------------------------------------------------------------------------
    async def create_plan(self, command: CreatePlan, actor: str | None = None) -> PlanVersion:
        info = amendment_info(command, actor or self.default_actor)
        stream = stream_of(command.plan_id)
        keyed = command_key(command, info.actor)
        if keyed is not None and (replayed := await self._replay(command.plan_id, keyed)):
            return replayed
        event = succession.decided_creation(info, command, await command.terms(self._for_links))
        await succession.predecessor_check(self.events, stream_of, command.succeeds)
        try:
            recorded = await self.events.append(stream, 0, event, info, command=keyed)
        except VersionConflictError as conflict:
            if keyed is not None and (replayed := await self._replay(command.plan_id, keyed)):
                return replayed
            raise PlanAlreadyExistsError(command.plan_id) from conflict
        return await succession.supersede(self, await self._remember(recorded, fold([event])))

    async def amend_plan(self, command: AmendPlan, actor: str | None = None) -> PlanVersion:
        stream = stream_of(command.plan_id)
        info = amendment_info(command, actor or self.default_actor)
        keyed = command_key(command, info.actor)
        if keyed is not None and (replayed := await self._replay(command.plan_id, keyed)):
            return replayed
        current = await self._current(command.plan_id, command.expected_version)
        terms = await command.terms(self._for_links, current.state)
        try:
            event = succession.decided_amendment(current.state, info, command, terms)
        except ValidationError:
            # Checked against a version that is no longer the latest: the conflict is the news.
            latest = await self.events.latest_version(stream)
            if latest != command.expected_version:
                raise VersionConflictError(stream, command.expected_version, latest) from None
            raise
        await succession.predecessor_check(self.events, stream_of, command.succeeds)
        try:
            recorded = await self.events.append(
                stream, command.expected_version, event, info, current.amendment, keyed
            )
        except VersionConflictError:
            # Lost a race, perhaps to a request with this very key: then that one is the answer.
            if keyed is not None and (replayed := await self._replay(command.plan_id, keyed)):
                return replayed
            raise
        return await succession.supersede(
            self, await self._remember(recorded, fold([event], current.state))
        )

    async def _for_links(self, plan_id: str, on: dt.date | None) -> PlanVersion | None:
        from planapi.application.in_force import version_for_links  # it imports this module

        if on is None:  # links checked against the version in force today
            on = (self.clock.now() if self.clock else dt.datetime.now(dt.UTC)).date()
        return await version_for_links(self, plan_id, on)

    async def _replay(self, plan_id: str, keyed: CommandKey) -> PlanVersion | None:
        """The version an earlier request with this key produced (None: the key is new);
        IdempotencyKeyReusedError when that request differed from this one."""
        found = await self.events.command_key(stream_of(plan_id), keyed.actor, keyed.key)
        if found is None:
            return None
        request_hash, version = found
        if not hmac.compare_digest(request_hash, keyed.request_hash):
            raise IdempotencyKeyReusedError(keyed.key, f"a different request on plan {plan_id!r}")
        replayed = await self._version(plan_id, version)
        self._note(replayed)  # perhaps written by another process: this one's readers see it now
        return replayed

    async def _current(self, plan_id: str, expected_version: int) -> PlanVersion:
        """The version a writer expects to amend. Not checked against the head here: the append
        is, atomically, so the usual case costs no extra read."""
        found = None
        if expected_version >= 1:
            found = self.versions.get((plan_id, expected_version)) or await self._read_version(
                plan_id, expected_version
            )
        if found is None:
            latest = await self.events.latest_version(stream_of(plan_id))
            if latest == 0:
                raise PlanNotFoundError(plan_id)
            raise VersionConflictError(stream_of(plan_id), expected_version, latest)
        return found

    # -- queries ---------------------------------------------------------------------------
    async def plan(
        self, plan_id: str, version: int | None = None, as_of: dt.datetime | None = None
    ) -> PlanVersion | None:
        """The plan as of `version` or `as_of` (latest when neither); None if it did not exist."""
        stream = stream_of(plan_id)
        if version is not None and as_of is not None:
            raise ValidationError([Problem(("version",), "give version or asOf, not both")])
        if as_of is not None:
            if as_of.tzinfo is None:
                raise ValidationError([Problem(("asOf",), "must include a UTC offset")])
            version = await self.events.version_at(stream, _utc(as_of))
        elif version is None:
            return await self._latest(plan_id)
        elif version < 1:
            raise ValidationError([Problem(("version",), "versions start at 1")])
        if version == 0:
            return None
        cached = self.versions.get((plan_id, version))
        if cached is not None:
            return cached
        if version > await self.events.latest_version(stream):
            return None
        return await self._version(plan_id, version)

    async def _latest(self, plan_id: str) -> PlanVersion | None:
        # Cold (no version of it in memory, its head not followed): the head and the newest
        # snapshot in one round trip, where the store can.
        cold = not self._warm(plan_id)
        newest = await self.snapshots.newest_recorded(stream_of(plan_id)) if cold else None
        if newest is None:
            return await self._head(plan_id, await self.latest_version(plan_id), Unread.NOT_YET)
        if newest[0] and self.heads is not None:
            self.heads.note_version(plan_id, newest[0])
        return await self._head(plan_id, newest[0], newest[1])

    async def _head(self, plan_id: str, version: int, near: Near | Unread) -> PlanVersion | None:
        if version == 0:
            return None
        found = self.versions.get((plan_id, version))
        return found or await self._version(plan_id, version, near)

    def _warm(self, plan_id: str) -> bool:
        followed = self.heads is not None and self.heads.fresh
        return followed or self.versions.holds_plan(plan_id)

    async def latest_version(self, plan_id: str) -> int:
        """The plan's latest version (0: none), from memory when the heads are followed: as
        fresh as this process's own writes, and others' within the notification delay."""
        if self.heads is not None and self.heads.fresh:
            known = self.heads.plan(plan_id).version
            if known:
                return known
        # Not followed, or a plan this process has not heard of (yet): ask the store.
        version = await self.events.latest_version(stream_of(plan_id))
        if self.heads is not None and version:
            self.heads.note_version(plan_id, version)
        return version

    async def stored_latest(self, plan_id: str) -> PlanVersion | None:
        """The latest version as stored right now, for writers checking against it (never the
        one in memory: a KPI added on another process a moment ago must be known)."""
        version = await self.events.latest_version(stream_of(plan_id))
        if version == 0:
            return None
        found = self.versions.get((plan_id, version)) or await self._version(plan_id, version)
        self._note(found)
        return found

    async def require(self, plan_id: str, version: int | None = None) -> PlanVersion:
        found = await self.plan(plan_id, version)
        if found is None:
            if version is None or await self.events.latest_version(stream_of(plan_id)) == 0:
                raise PlanNotFoundError(plan_id)
            raise VersionNotFoundError(plan_id, version)
        return found

    async def plans(self) -> list[PlanVersion]:
        latest = await self.events.latest_versions(STREAM_PREFIX)
        found = []
        for stream_id, version in latest.items():
            plan_id = stream_id.removeprefix(STREAM_PREFIX)
            if self.heads is not None:
                self.heads.note_version(plan_id, version)
            cached = self.versions.get((plan_id, version))
            found.append(cached or await self._read_version(plan_id, version))
        return [plan for plan in found if plan is not None]

    async def amendments(
        self, plan_id: str, upto_version: int, first: int, before_version: int | None = None
    ) -> AmendmentPage:
        """Amendments up to `upto_version`, newest first, `first` at a time."""
        if not 0 <= first <= MAX_PAGE:
            raise ValidationError([Problem(("first",), f"must be between 0 and {MAX_PAGE}")])
        start = (
            upto_version + 1 if before_version is None else min(before_version, upto_version + 1)
        )
        items = await self.events.read_backwards(stream_of(plan_id), start, first + 1)
        return AmendmentPage(items[:first], len(items) > first, upto_version)

    async def amendment(self, plan_id: str, version: int) -> Recorded | None:
        found = await self.plan(plan_id, version)
        return found.amendment if found else None

    async def diff(self, plan_id: str, from_version: int, to_version: int) -> VersionDiff:
        before = await self.require(plan_id, from_version)
        after = await self.require(plan_id, to_version)
        return VersionDiff(before, after, diff(before.state, after.state))

    async def history(self, plan_id: str, node_id: str, upto_version: int) -> list[NodeEntry]:
        """Every amendment up to `upto_version` that touched the node, newest first."""
        records = await self._touching.load((plan_id, upto_version), node_id)
        by_version = {record.version: record for record in records}
        changes = node_history(node_id, ((r.version, r.event) for r in records))
        return [NodeEntry(by_version[c.version], c) for c in reversed(changes)]

    async def node_history(self, plan_id: str, node_id: str) -> list[NodeEntry]:
        """A node's whole history, even once removed (when no version shows it any more)."""
        latest = await self.latest_version(plan_id)
        if latest == 0:
            raise PlanNotFoundError(plan_id)
        return await self.history(plan_id, node_id, latest)

    async def blame(self, plan_id: str, node: Node, version: int) -> list[FieldSource]:
        """For each field of `node` as of `version`, the amendment that last set it."""
        records = await self._touching.load((plan_id, version), node.id)
        by_version = {record.version: record for record in records}
        changes = node_history(node.id, ((r.version, r.event) for r in records))
        return [FieldSource(origin, by_version[origin.version]) for origin in blame(node, changes)]

    async def _touching_many(
        self, group: tuple[str, int], node_ids: list[str]
    ) -> dict[str, list[Recorded]]:
        plan_id, upto_version = group
        return await self.events.touching_many(stream_of(plan_id), node_ids, upto_version)

    async def verify(self, plan_id: str) -> IntegrityReport:
        """The chain re-hashed from the stored bytes; once it holds, every snapshot re-folded
        from the events and the node index compared with them (no cache consulted)."""
        stream = stream_of(plan_id)
        if await self.events.latest_version(stream) == 0:
            raise PlanNotFoundError(plan_id)
        report = await self.events.verify(stream)
        if not report.ok:
            return report  # the events themselves are not to be trusted: nothing to fold
        findings = await stored_findings(self.events, self.snapshots, stream)
        return dataclasses.replace(report, findings=findings)

    # -- reconstruction --------------------------------------------------------------------
    async def _version(
        self, plan_id: str, version: int, near: Near | Unread = Unread.NOT_YET
    ) -> PlanVersion:
        found = await self._read_version(plan_id, version, near)
        if found is None:
            raise PlanNotFoundError(plan_id)
        return found

    async def _read_version(
        self, plan_id: str, version: int, near: Near | Unread = Unread.NOT_YET
    ) -> PlanVersion | None:
        """Fold from the nearest snapshot at or below `version` (`near`, unless NOT_YET: as
        read already); cache the (immutable) result. None when the plan has no such version."""
        cached = self.versions.get((plan_id, version))
        if cached is not None:
            return cached
        stream = stream_of(plan_id)
        # From a cached version close below it rather than a snapshot: fewer events to read, and
        # the two versions share their unchanged nodes in memory (a decoded snapshot shares none).
        base, held = self.versions.below(plan_id, version, self.snapshot_interval), None
        if base is None:
            if near is Unread.NOT_YET:
                near = await self.snapshots.nearest_recorded(stream, version)
            base, held = near or (None, None)
            if base is not None:  # shares nothing yet with the versions held
                base = self.versions.shared(base)
        if base is not None and base.version == version:
            # A snapshot of this very version: its record says who made it and when (read with
            # the snapshot, else now); its changes, already in the snapshot, are decoded only
            # if someone asks for them.
            record = held or await self.events.record(stream, version)
            return None if record is None else self._keep(PlanVersion(base, record))
        after = base.version if base else 0
        # Always read version N itself: its record says who made it and when.
        records = await self.events.read(stream, min(after, version - 1), version)
        if not records or records[-1].version != version:
            return None
        folded = [r.event for r in records if r.version > after]
        found = self._keep(PlanVersion(fold(folded, base), records[-1]))
        if self._worth_a_snapshot(version - after, folded, found.state):
            await self.snapshots.save(stream, found.state, records[-1].hash)
        return found

    def _keep(self, found: PlanVersion) -> PlanVersion:
        self.versions.put((found.state.id, found.state.version), found)
        return found

    def _worth_a_snapshot(self, versions: int, folded: list[PlanEvent], state: PlanState) -> bool:
        """Every `snapshot_interval` versions; and once the facts folded since the last one
        outweigh half the plan's nodes (and SNAPSHOT_FACTS): a cold read then decodes the
        state once instead of every fact, and the snapshots' bytes stay within a small
        multiple of the facts' own."""
        facts = sum(len(event.changes) for event in folded)
        return versions >= self.snapshot_interval or facts >= max(
            SNAPSHOT_FACTS, len(state.nodes) // 2
        )

    async def _remember(self, recorded: Recorded, state: PlanState) -> PlanVersion:
        found = PlanVersion(state, recorded)
        self.versions.put((state.id, state.version), found)
        # Committed: this process's later reads of the latest version see it (read-your-writes),
        # before the writer's answer goes out.
        self._note(found)
        if state.version % self.snapshot_interval == 0 or self._worth_a_snapshot(
            0, [recorded.event], state
        ):
            await self.snapshots.save(recorded.stream_id, state, recorded.hash)
        return found

    def _note(self, found: PlanVersion) -> None:
        if self.heads is not None:
            self.heads.note_version(found.state.id, found.state.version, found.amendment.position)


def _utc(instant: dt.datetime) -> dt.datetime:
    """`instant` in UTC; one that UTC cannot spell (0001-01-01T00:00+04:00) is before every
    record or after every one, so the earliest or latest UTC instant stands in for it."""
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        bound = dt.datetime.min if instant.year == dt.MINYEAR else dt.datetime.max
        return bound.replace(tzinfo=dt.UTC)
