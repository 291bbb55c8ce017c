"""The proposals' storage port and what it stores: kept beside `ports.py` (which names
`RecordedFact` for the whole log's readers) so that module stays one screenful of Protocols."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from planapi.application.ports import CommandKey, Recorded
from planapi.domain.events import AmendmentInfo, PlanEvent
from planapi.domain.proposals import ProposalEvent


@dataclass(frozen=True, slots=True)
class RecordedFact:
    """One stored event of a proposal's stream (same log, same chain as a plan version)."""

    stream_id: str
    version: int
    position: int
    event: ProposalEvent
    info: AmendmentInfo
    recorded_at: dt.datetime
    hash: bytes


class ProposalLog(Protocol):
    """Proposals' streams in the plans' log; `adopt`: amendment and adoption in one commit."""

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        event: ProposalEvent,
        info: AmendmentInfo,
        command: CommandKey | None = None,
        key_scope: tuple[str, int] | None = None,
    ) -> RecordedFact: ...

    async def adopt(
        self,
        plan_stream: str,
        expected_version: int,
        amendment: PlanEvent,
        info: AmendmentInfo,
        stream_id: str,
        expected_proposal_version: int,
        adopted: ProposalEvent,
        adopter: AmendmentInfo,
    ) -> tuple[Recorded, RecordedFact]: ...

    async def read(self, stream_id: str) -> list[RecordedFact]: ...

    async def command_key(
        self, stream_id: str, actor: str, key: str
    ) -> tuple[bytes, int] | None: ...
