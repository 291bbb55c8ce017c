"""A NATS JetStream server for the relay's tests: 127.0.0.1:4222 (PLANAPI_TEST_NATS_URL
overrides). Without it the tests are skipped locally and fail in CI (CI=true), like PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

NATS_URL = os.environ.get("PLANAPI_TEST_NATS_URL", "nats://127.0.0.1:4222")


@dataclass
class JetStream:
    client: NatsClient
    js: JetStreamContext
    stream: str
    prefix: str

    async def messages(self) -> list[nats.js.api.RawStreamMsg]:
        """Every message of the test's stream, in stream order."""
        try:
            info = await self.js.stream_info(self.stream)
        except NotFoundError:
            return []
        first, last = info.state.first_seq, info.state.last_seq
        if not info.state.messages:
            return []
        return [await self.js.get_msg(self.stream, seq) for seq in range(first, last + 1)]

    async def count(self) -> int:
        try:
            return (await self.js.stream_info(self.stream)).state.messages
        except NotFoundError:
            return 0


@pytest.fixture
async def jetstream() -> AsyncIterator[JetStream]:
    """A connection, and a stream name and subject prefix no other test uses (deleted after)."""
    try:
        client = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except (nats.errors.Error, OSError, TimeoutError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS is not reachable at {NATS_URL} (required in CI): {error}")
        pytest.skip(f"NATS is not reachable at {NATS_URL}")
    tag = uuid.uuid4().hex[:12]
    found = JetStream(client, client.jetstream(), f"T_{tag}", f"t{tag}.events")
    try:
        yield found
    finally:
        with suppress(NotFoundError):
            await found.js.delete_stream(found.stream)
        await client.close()
