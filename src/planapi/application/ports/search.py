"""The search index of plan versions' texts (database-only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the use cases' own value types; they import this module at run time
    pass


@dataclass(frozen=True, slots=True)
class SearchText:
    """One text of one node in one language, as the search index holds it."""

    node_id: str
    kind: str  # a NodeKind's value
    field: str  # a text slot: title, description, objective, expected_results[2]
    lang: str
    text: str
    position: int  # the node's place in document order, for ties


class SearchIndex(Protocol):
    """Full-text search over the texts of plan versions, derived from them and rebuilt at will.

    Database-only, like the other later ports: PostgreSQL keeps the texts in `search_texts`
    with each language's text search configuration (migration 0012); SQLite uses FTS5 in a
    private in-memory database. There is no in-memory adapter of the port."""

    async def indexed(self, plan_id: str, version: int) -> bool: ...

    async def index(self, plan_id: str, version: int, texts: Sequence[SearchText]) -> None:
        """Hold `texts` as the version's (once; a version already held is left as it is)."""

    async def search(
        self,
        plan_id: str,
        version: int,
        query: str,
        langs: Sequence[str],
        kinds: Sequence[str],
        limit: int,
    ) -> tuple[list[tuple[SearchText, float]], int]:
        """The `limit` best texts of the version matching `query` in `langs` (and `kinds`, if
        any), each with its rank (higher is better), best first (then in document order, by
        language, by field); and how many match in all."""
