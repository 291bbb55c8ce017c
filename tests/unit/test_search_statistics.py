"""PostgreSQL's search index refreshes the planner's statistics after each indexing, one ANALYZE
at a time (`adapters.search_postgres`). When one fails — slowly, as waiting out a pool's
timeout does — the callers queued behind it give up with it rather than each running its own
and failing in turn, one after another."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import OperationalError

from planapi.adapters import search_postgres


async def test_callers_queued_behind_a_failing_analyze_give_up_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts = []

    @contextlib.asynccontextmanager
    async def failing(engine: object) -> AsyncIterator[None]:
        attempts.append(engine)
        await asyncio.sleep(0.05)  # a pool's timeout, say
        raise OperationalError("ANALYZE search_texts", {}, Exception("pool timed out"))
        yield  # pragma: no cover - never reached

    monkeypatch.setattr(search_postgres, "reading", failing)
    index = search_postgres.PostgresSearchIndex(engine=None)  # type: ignore[arg-type]

    await asyncio.gather(*(index._refresh_statistics() for _ in range(5)))

    # The first caller's ANALYZE, and one begun after the other four committed: not five.
    assert len(attempts) == 2
    # The next indexing, committed after those failures, tries again.
    await index._refresh_statistics()
    assert len(attempts) == 3
