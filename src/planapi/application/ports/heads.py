"""The heads of the logs, and what was committed after them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    from planapi.application.freshness import Heads


class HeadsSource(Protocol):
    async def heads(self) -> Heads:
        """The newest committed event position and readings batch id, in one round trip."""


@dataclass(frozen=True, slots=True)
class HeadChanges:
    """What was committed after a pair of heads: each stream's newest version, each plan's
    newest batch of readings, and the highest position and batch id among them (the given
    ones when nothing is new)."""

    versions: dict[str, int]  # stream id -> newest version
    batches: dict[str, int]  # plan id -> newest batch id
    last_position: int
    last_batch_id: int


class HeadsLog(Protocol):
    async def changes_after(self, position: int, batch_id: int) -> HeadChanges:
        """Everything committed after `position` and `batch_id`, in one statement (so one
        snapshot). Positions and batch ids become visible in order, so what it returns
        together with what came before is the whole log up to its new heads."""
