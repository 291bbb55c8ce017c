"""Revoking a token while another connection writes (as `planapi tokens revoke` does from its
own process while the app records a checkpoint or a token's last use): the revocation waits
its turn and is kept, on SQLite as on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.clock import SystemClock
from planapi.adapters.tables import api_tokens
from planapi.adapters.token_store import SqlTokenStore
from planapi.application.access import Role
from planapi.application.tokens import TokenService


async def test_a_revocation_racing_another_writer_waits_for_it_and_is_kept(
    engine: AsyncEngine,
) -> None:
    tokens = TokenService(SqlTokenStore(engine), SystemClock())
    await tokens.create("leaked", Role("editor"), created_by="tests")
    now = dt.datetime.now(dt.UTC)
    touch = update(api_tokens).where(api_tokens.c.name == "leaked").values(last_used_at=now)

    async with engine.begin() as other:  # holds the write lock (SQLite) or the row (PostgreSQL)
        await other.execute(touch)
        revoking = asyncio.create_task(tokens.revoke("leaked"))
        await asyncio.sleep(0.3)  # the revocation has begun and waits
        assert not revoking.done()
    revoked = await asyncio.wait_for(revoking, 30)

    assert [token.name for token in revoked] == ["leaked"]
    listed = {token.name: token for token in await tokens.all()}
    assert listed["leaked"].revoked_at is not None
    assert listed["leaked"].last_used_at is not None, "the other writer's change is kept too"
