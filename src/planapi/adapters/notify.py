"""Wake-ups for subscribers: in process (SQLite), or across processes with LISTEN/NOTIFY.

On PostgreSQL each process holds ONE dedicated connection (outside the pool) that LISTENs on the
topics and sends this process's NOTIFYs. A notification carries only a position; subscribers read
what is new from the tables. The connection is re-opened with backoff when it drops, and every
subscriber is woken then, since notifications sent meanwhile were lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from planapi.application.ports import Notifier, NotifierClosedError

log = logging.getLogger("planapi.notify")


class _Wakeups:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._closed = False

    def wake(self) -> None:
        self._event.set()

    def close(self) -> None:
        self._closed = True
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        if not self._event.is_set():
            try:
                async with asyncio.timeout(seconds):
                    await self._event.wait()
            except TimeoutError:
                return False
        if self._closed:
            raise NotifierClosedError
        self._event.clear()
        return True


class _Hub:
    """This process's subscribers, by topic."""

    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[_Wakeups]] = defaultdict(set)
        self.closed = False

    def wake(self, topic: str) -> None:
        for wakeups in self._listeners.get(topic, ()):
            wakeups.wake()

    def wake_all(self) -> None:
        for topic in list(self._listeners):
            self.wake(topic)

    @asynccontextmanager
    async def listen(self, topic: str) -> AsyncIterator[_Wakeups]:
        wakeups = _Wakeups()
        if self.closed:
            wakeups.close()
        self._listeners[topic].add(wakeups)
        try:
            yield wakeups
        finally:
            self._listeners[topic].discard(wakeups)
            if not self._listeners[topic]:
                del self._listeners[topic]

    def close(self) -> None:
        self.closed = True
        for listeners in self._listeners.values():
            for wakeups in listeners:
                wakeups.close()

    def listening(self, topic: str) -> int:
        return len(self._listeners.get(topic, ()))


class InProcessNotifier:
    """One process, one writer (SQLite): wake-ups go straight to this process's subscribers."""

    def __init__(self) -> None:
        self._hub = _Hub()

    def publish(self, topic: str, position: int) -> None:
        self._hub.wake(topic)

    def listen(self, topic: str) -> contextlib.AbstractAsyncContextManager[_Wakeups]:
        return self._hub.listen(topic)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._hub.close()


class PostgresNotifier:
    """LISTEN/NOTIFY on one dedicated connection per process.

    `publish` wakes this process's subscribers at once and hands the position to the connection's
    task, which sends `SELECT pg_notify(topic, position)`; positions published while a send is
    under way are coalesced to the highest (subscribers read everything up to it anyway)."""

    def __init__(
        self,
        dsn: str,
        topics: Iterable[str],
        *,
        max_backoff: float = 5.0,
        health_seconds: float = 10.0,
        timeout: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self.topics = tuple(topics)
        self.max_backoff = max_backoff
        self.health_seconds = health_seconds
        self.timeout = timeout
        self.connected = asyncio.Event()
        self.connections = 0  # how many times the LISTEN connection was opened
        self._hub = _Hub()
        self._pending: dict[str, int] = {}
        self._stir = asyncio.Event()
        self._closing = False
        self._pid: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    # -- the port ------------------------------------------------------------------------
    def publish(self, topic: str, position: int) -> None:
        self._hub.wake(topic)
        self._pending[topic] = max(position, self._pending.get(topic, position))
        self._stir.set()

    def listen(self, topic: str) -> contextlib.AbstractAsyncContextManager[_Wakeups]:
        return self._hub.listen(topic)

    async def start(self) -> None:
        """Open the connection in the background; wait a moment for it, but start even if the
        database is away (it is retried with backoff; subscribers poll meanwhile)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="planapi-listen")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeout):
                    await self.connected.wait()

    async def close(self) -> None:
        """Send what is still pending (briefly), stop listening, end every subscription."""
        self._closing = True
        self._stir.set()
        task, self._task = self._task, None
        if task is not None:
            if self.connected.is_set():  # else it is backing off: nothing could be sent
                await asyncio.wait({task}, timeout=self.timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._hub.close()

    # -- the connection ------------------------------------------------------------------
    async def _run(self) -> None:
        delay = 0.1
        while not self._closing:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
                conn.add_termination_listener(lambda _conn: self._stir.set())
                for topic in self.topics:
                    await conn.add_listener(topic, self._received)
                self._conn, self._pid = conn, conn.get_server_pid()
                self.connections += 1
                if self.connections > 1:
                    log.info("LISTEN connection re-opened")
                    self._hub.wake_all()  # what was announced meanwhile never reached us
                self.connected.set()
                delay = 0.1
                await self._serve(conn)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("LISTEN connection failed (%r); retrying in %.1fs", error, delay)
            finally:
                self.connected.clear()
                self._conn = None
                if conn is not None:
                    conn.terminate()
            if not self._closing:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    async def _serve(self, conn: Any) -> None:
        while True:
            self._stir.clear()
            while self._pending:
                topic, position = self._pending.popitem()
                try:
                    async with asyncio.timeout(self.timeout):
                        await conn.execute("SELECT pg_notify($1, $2)", topic, str(position))
                except BaseException:
                    self._pending[topic] = max(position, self._pending.get(topic, position))
                    raise
            if self._closing:
                return
            if conn.is_closed():
                raise ConnectionError("the LISTEN connection closed")
            try:
                async with asyncio.timeout(self.health_seconds):
                    await self._stir.wait()
            except TimeoutError:
                # Quiet for a while: make sure the connection is still there.
                async with asyncio.timeout(self.timeout):
                    await conn.fetchval("SELECT 1")
            if conn.is_closed():
                raise ConnectionError("the LISTEN connection closed")

    def _received(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        if pid != self._pid:  # our own NOTIFYs woke this process's subscribers already
            self._hub.wake(channel)

    # -- for tests and operators ---------------------------------------------------------
    @property
    def server_pid(self) -> int | None:
        return self._pid if self.connected.is_set() else None


def notifier_for(database_url: str, topics: Iterable[str]) -> Notifier:
    if database_url.startswith("sqlite"):
        return InProcessNotifier()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresNotifier(dsn, topics)
