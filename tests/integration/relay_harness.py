"""`planapi relay` as a real process, killed with SIGKILL mid-way and restarted: the harness of
the plan events' and the readings batches' exactly-once tests."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.integration.conftest import NATS_URL, JetStream
from tests.processes import environment, planapi

Published = Callable[[], Awaitable[int]]


def relay_environment(
    database: tuple[str, dict[str, object]], jetstream: JetStream, batch_size: int
) -> dict[str, str]:
    """The relay's settings: the test's PostgreSQL schema, NATS and its stream and subjects."""
    url, engine_options = database
    schema = engine_options["connect_args"]["server_settings"]["search_path"]  # type: ignore[index]
    return environment(
        PLANAPI_DATABASE_URL=url,
        PLANAPI_DATABASE_SCHEMA=schema,
        PLANAPI_NATS_URL=NATS_URL,
        PLANAPI_RELAY_STREAM=jetstream.stream,
        PLANAPI_RELAY_SUBJECT_PREFIX=jetstream.prefix,
        PLANAPI_RELAY_BATCH_SIZE=str(batch_size),
        PLANAPI_RELAY_POLL_INTERVAL="0.05",
    )


async def wait_for(published: Published, count: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while (found := await published()) < count:
        assert time.monotonic() < deadline, f"{found} of {count} published after {within} s"
        await asyncio.sleep(0.02)


async def killed_after(
    env: dict[str, str], logs: Path, published: Published, count: int, total: int
) -> None:
    """Run the relay until `count` are published, then SIGKILL it: no chance to store anything
    more. It must not have published all `total` by then."""
    with planapi(["relay"], env, logs / "first.log") as first:
        await wait_for(published, count)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    assert await published() < total, "the relay finished before it was killed"


async def restarted_until(env: dict[str, str], logs: Path, published: Published, count: int) -> str:
    """Run the relay again until `count` are published, and a while longer (anything published
    twice would show up by then); stopped with SIGTERM, which it obeys. Its output."""
    with planapi(["relay"], env, logs / "second.log") as second:
        await wait_for(published, count)
        await asyncio.sleep(0.3)
        assert second.stop(signal.SIGTERM) == 0
    return second.output()
