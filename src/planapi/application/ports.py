"""What the application needs from the outside world, stated as Protocols."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.plan import PlanState


@dataclass(frozen=True, slots=True)
class Recorded:
    """One stored event with everything the log knows about it: a plan version."""

    stream_id: str
    version: int
    position: int
    event: PlanEvent
    info: AmendmentInfo
    recorded_at: dt.datetime
    hash: bytes


@dataclass(frozen=True, slots=True)
class ChainBreak:
    version: int
    position: int | None
    what: str  # "altered", "inserted", "removed", "reordered"
    detail: str


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    stream_id: str
    checked: int
    head_version: int
    head_hash: bytes | None
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


class EventStore(Protocol):
    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: PlanEvent,
        info: AmendmentInfo,
        previous: Recorded | None = None,
    ) -> Recorded:
        """Store `event` as version `expected_version + 1`, or raise VersionConflictError.

        `previous`, when the caller has it, is version `expected_version` as stored: the store
        may then chain to it without reading the head again."""

    async def latest_version(self, stream_id: str) -> int:
        """0 when the stream does not exist."""

    async def version_at(self, stream_id: str, instant: dt.datetime) -> int:
        """The latest version recorded at or before `instant`; 0 if none."""

    async def read(
        self, stream_id: str, after_version: int = 0, upto_version: int | None = None
    ) -> list[Recorded]:
        """Versions in (after_version, upto_version], oldest first."""

    async def read_backwards(
        self, stream_id: str, before_version: int, limit: int
    ) -> list[Recorded]:
        """Up to `limit` versions below `before_version`, newest first."""

    async def read_all(self, after_position: int, limit: int) -> list[Recorded]:
        """Events of every stream in global order, never skipping one committed late."""

    async def stream_ids(self, prefix: str) -> list[str]: ...

    async def verify(self, stream_id: str) -> IntegrityReport: ...


class SnapshotStore(Protocol):
    async def nearest(self, stream_id: str, version: int) -> PlanState | None:
        """The latest snapshot at or below `version`."""

    async def save(self, stream_id: str, state: PlanState) -> None: ...


class Clock(Protocol):
    def now(self) -> dt.datetime: ...
