"""API tokens in `api_tokens`: looked up by the SHA-256 of the secret, never the secret."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import writing
from planapi.adapters.tables import api_tokens
from planapi.application.access import Role
from planapi.application.tokens import ApiToken, TokenNameTakenError


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        plans=tuple(row.plans) if row.plans is not None else None,
        kpis=tuple(row.kpis) if row.kpis is not None else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        created_by=row.created_by,
        grants=tuple(row.grants or ()),
    )


_COLUMNS = [c for c in api_tokens.c if c.name != "token_hash"]


class SqlTokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, token: ApiToken, token_hash: bytes) -> None:
        values = {
            "id": token.id,
            "name": token.name,
            "role": token.role.value,
            "plans": list(token.plans) if token.plans is not None else None,
            "kpis": list(token.kpis) if token.kpis is not None else None,
            "token_hash": token_hash,
            "created_at": token.created_at,
            "created_by": token.created_by,
            "expires_at": token.expires_at,
            "revoked_at": None,
            "last_used_at": None,
            "grants": list(token.grants),
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(api_tokens).values(**values))
        except IntegrityError as error:
            raise TokenNameTakenError(token.name) from error

    async def by_hash(self, token_hash: bytes) -> ApiToken | None:
        query = select(*_COLUMNS).where(api_tokens.c.token_hash == token_hash)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _token(row) if row is not None else None

    async def all(self) -> list[ApiToken]:
        query = select(*_COLUMNS).order_by(api_tokens.c.created_at, api_tokens.c.id)
        async with self.engine.connect() as conn:
            return [_token(row) for row in await conn.execute(query)]

    async def revoke(self, token_id_or_name: str, at: dt.datetime) -> list[ApiToken]:
        which = (
            or_(api_tokens.c.id == token_id_or_name, api_tokens.c.name == token_id_or_name),
            api_tokens.c.revoked_at.is_(None),
        )
        async with writing(self.engine) as conn:
            found = [_token(row) for row in await conn.execute(select(*_COLUMNS).where(*which))]
            if found:
                await conn.execute(update(api_tokens).where(*which).values(revoked_at=at))
        return [dataclasses.replace(token, revoked_at=at) for token in found]

    async def touch(self, token_id: str, at: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
            )
