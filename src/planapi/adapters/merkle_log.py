"""The Merkle logs in SQL: leaves added by one follower in commit order, proofs from stored nodes.

Appends do not touch the tree. A follower (`integrate`, run by the checkpointer) adds, in one
transaction under a lock of its own, the rows committed since its last round, read in the order
of their ids. That order is commit order: event appends take the append lock before their
position (adapters/event_store.py) and readings batches take theirs before their id, so a row
with a smaller id is always visible before one with a larger id and the follower can never pass
one for good. The (log, leaf) key and the unique (log, ref) make a second follower's leaf or a
doubled one fail the transaction instead of entering the tree.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from planapi.adapters.advisory_locks import scoped
from planapi.adapters.database import is_sqlite, writing
from planapi.adapters.failures import connection_lost
from planapi.adapters.log_entries import (
    MEMBERS_PER_CHUNK,
    PG_EVENT_LEAVES,
    entries_after,
    event_leaf_hash,
)
from planapi.adapters.tables import (
    events,
    log_checkpoints,
    log_leaves,
    log_nodes,
    reading_batches,
)
from planapi.application.transparency import EVENTS, READINGS, StoredCheckpoint
from planapi.domain.merkle import (
    Frontier,
    Node,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    proof_nodes,
    range_hash,
    subtrees,
)

_FOLLOWER_LOCK = {EVENTS: 0x706C616E6D31, READINGS: 0x706C616E6D32}  # "planm1", "planm2"
_PG_PROOF_NODES = text(
    "SELECT -1 AS level, max(leaf) AS idx, NULL::bytea AS hash FROM log_leaves WHERE log = :log"
    " UNION ALL SELECT 0, leaf, hash FROM log_leaves"
    " WHERE log = :log AND leaf = ANY(CAST(:leaves AS BIGINT[]))"
    " UNION ALL SELECT n.level, n.idx, n.hash FROM log_nodes n"
    " JOIN unnest(CAST(:levels AS INT[]), CAST(:idxs AS BIGINT[])) AS w(level, idx)"
    " ON n.level = w.level AND n.idx = w.idx WHERE n.log = :log"
)
_SIGNER_LOCK = 0x706C616E6D73  # "planms": one process at a time runs follower rounds and signs
# The stored nodes a round or a proof needs, built once: an `in_` built per call leaves its bound
# parameters in reference cycles (each clone holds itself in its memoised `_cloned_set`), and
# with the server's rare collections that garbage piled up for minutes between them, once a
# second per log (docs/performance.md, "The soak").
_LEAF_HASHES = select(log_leaves.c.leaf, log_leaves.c.hash).where(
    log_leaves.c.log == bindparam("log"), log_leaves.c.leaf.in_(bindparam("leaves", expanding=True))
)
_NODE_HASHES = select(log_nodes.c.level, log_nodes.c.idx, log_nodes.c.hash).where(
    log_nodes.c.log == bindparam("log"),
    tuple_(log_nodes.c.level, log_nodes.c.idx).in_(bindparam("inner", expanding=True)),
)


class SqlMerkleLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)

    @asynccontextmanager
    async def _follower(self, log: str) -> AsyncIterator[AsyncConnection]:
        async with writing(self.engine) as conn:  # a lost connection is closed, not rolled back
            if not self._sqlite:
                lock = text(f"SELECT pg_advisory_xact_lock({scoped('id')})")
                await conn.execute(lock, {"id": _FOLLOWER_LOCK[log]})
            yield conn

    @asynccontextmanager
    async def leading(self) -> AsyncIterator[bool]:
        """Whether this process is the one signer for now (PostgreSQL: a session lock held for
        the round, as the relay holds one; SQLite: one process, always)."""
        if self._sqlite:
            yield True
            return
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            query = text(f"SELECT pg_try_advisory_lock({scoped('id')})")
            held = bool((await conn.execute(query, {"id": _SIGNER_LOCK})).scalar())
            lost = False
            try:
                yield held
            except Exception as error:
                lost = connection_lost(error)
                raise
            finally:
                if lost:  # the server dropped the lock with the session: close, do not reuse
                    await conn.invalidate()
                elif held:
                    unlock = text(f"SELECT pg_advisory_unlock({scoped('id')})")
                    await conn.execute(unlock, {"id": _SIGNER_LOCK})

    async def integrate(
        self, log: str, limit: int = 5_000, members: int = MEMBERS_PER_CHUNK
    ) -> int:
        """Adds up to `limit` rows committed since the last round as leaves (readings batches
        holding `members` readings at most, one at least: `log_entries`); the new size."""
        async with self.engine.connect() as conn:  # idle rounds take no lock (SQLite: writers')
            size, last_ref = await self._head(conn, log)
            if not await self._has_after(conn, log, last_ref):
                return size
        async with self._follower(log) as conn:
            size, last_ref = await self._head(conn, log)
            entries = await entries_after(conn, log, last_ref, limit, members)
            if not entries:
                return size
            found = await self._nodes(conn, log, set(subtrees(0, size)))
            frontier = Frontier.of(size, found.__getitem__)
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for ref, data in entries:
                made = frontier.append(leaf_hash(data))
                _, leaf, digest = made[0]
                leaves.append({"log": log, "leaf": leaf, "ref": ref, "hash": digest})
                nodes.extend(
                    {"log": log, "level": lv, "idx": i, "hash": h} for lv, i, h in made[1:]
                )
            await conn.execute(insert(log_leaves), leaves)
            if nodes:
                await conn.execute(insert(log_nodes), nodes)
            return frontier.size

    async def _has_after(self, conn: AsyncConnection, log: str, ref: int) -> bool:
        key = events.c.position if log == EVENTS else reading_batches.c.id
        query = select(key).where(key > ref).limit(1)
        return (await conn.execute(query)).first() is not None

    async def _head(self, conn: AsyncConnection, log: str) -> tuple[int, int]:
        """(tree size, ref of the last leaf; 0 if none)."""
        last = (
            await conn.execute(
                select(log_leaves.c.leaf, log_leaves.c.ref)
                .where(log_leaves.c.log == log)
                .order_by(log_leaves.c.leaf.desc())
                .limit(1)
            )
        ).first()
        return (last.leaf + 1, last.ref) if last else (0, 0)

    async def size(self, log: str) -> int:
        async with self.engine.connect() as conn:
            return (await self._head(conn, log))[0]

    async def _nodes(self, conn: AsyncConnection, log: str, wanted: set[Node]) -> dict[Node, bytes]:
        found: dict[Node, bytes] = {}
        leaves = [index for level, index in wanted if level == 0]
        inner = [node for node in wanted if node[0] > 0]
        if leaves:
            rows = await conn.execute(_LEAF_HASHES, {"log": log, "leaves": leaves})
            found.update(((0, leaf), bytes(digest)) for leaf, digest in rows)
        if inner:
            for row in await conn.execute(_NODE_HASHES, {"log": log, "inner": inner}):
                found[(row.level, row.idx)] = bytes(row.hash)
        if len(found) != len(wanted):
            missing = sorted(set(wanted) - set(found))[:3]
            raise ProofError(f"the {log} log is missing stored nodes {missing}")
        return found

    async def _hashes(self, log: str, size: int, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        wanted = proof_nodes(ranges)
        async with self.engine.connect() as conn:
            if self._sqlite:
                present = (await self._head(conn, log))[0]
                found = await self._nodes(conn, log, wanted) if size <= present else {}
            else:
                present, found = await self._pg_nodes(conn, log, wanted)
        if size > present:
            raise ProofError(f"the {log} log holds {present} leaves, not {size}")
        missing = wanted - set(found)
        if missing:
            raise ProofError(f"the {log} log is missing stored nodes {sorted(missing)[:3]}")
        return [range_hash(span, found) for span in ranges]

    async def _pg_nodes(
        self, conn: AsyncConnection, log: str, wanted: set[Node]
    ) -> tuple[int, dict[Node, bytes]]:
        """The tree size and the nodes asked for, in one round trip (a proof's whole cost)."""
        inner = sorted(node for node in wanted if node[0] > 0)
        params = {
            "log": log,
            "leaves": [index for level, index in wanted if level == 0],
            "levels": [level for level, _ in inner],
            "idxs": [index for _, index in inner],
        }
        found: dict[Node, bytes] = {}
        present = 0
        for level, index, digest in await conn.execute(_PG_PROOF_NODES, params):
            if level < 0:
                present = index + 1 if index is not None else 0
            else:
                found[(level, index)] = bytes(digest)
        return present, found

    async def root(self, log: str, size: int) -> bytes:
        return (await self._hashes(log, size, [(0, size)]))[0]

    async def inclusion(self, log: str, leaf: int, size: int) -> list[bytes]:
        return await self._hashes(log, size, inclusion_ranges(leaf, size))

    async def consistency(self, log: str, first: int, second: int) -> list[bytes]:
        return await self._hashes(log, second, consistency_ranges(first, second))

    async def leaf_of(self, log: str, ref: int) -> int | None:
        query = select(log_leaves.c.leaf).where(log_leaves.c.log == log, log_leaves.c.ref == ref)
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar()

    async def stored_leaves(self, log: str, start: int, end: int) -> list[tuple[int, int, bytes]]:
        """(leaf, ref, hash) of the stored leaves in [start, end), in order."""
        query = (
            select(log_leaves.c.leaf, log_leaves.c.ref, log_leaves.c.hash)
            .where(log_leaves.c.log == log, log_leaves.c.leaf >= start, log_leaves.c.leaf < end)
            .order_by(log_leaves.c.leaf)
        )
        async with self.engine.connect() as conn:
            return [(leaf, ref, bytes(h)) for leaf, ref, h in await conn.execute(query)]

    async def save_checkpoint(self, checkpoint: StoredCheckpoint, signed_at: Any) -> None:
        row = {
            "log": checkpoint.log,
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "note": checkpoint.note,
            "signed_at": signed_at,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(log_checkpoints), row)

    async def latest_checkpoint(self, log: str) -> tuple[StoredCheckpoint, Any] | None:
        query = (
            select(log_checkpoints)
            .where(log_checkpoints.c.log == log)
            .order_by(log_checkpoints.c.tree_size.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        stored = StoredCheckpoint(row.log, row.tree_size, bytes(row.root_hash), row.note)
        return stored, row.signed_at

    async def count(self, log: str) -> int:
        table = events if log == EVENTS else reading_batches
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


class LogRecomputation:
    """A log re-hashed from its rows as they are now, trusting nothing of the stored tree."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _entries(self, log: str) -> AsyncGenerator[list[tuple[int, bytes]], None]:
        after = 0
        async with self.engine.connect() as conn:
            while entries := await entries_after(conn, log, after, 10_000):
                yield entries
                after = entries[-1][0]

    async def _leaf_hashes(self, log: str) -> AsyncGenerator[list[bytes], None]:
        """The log's leaf hashes in order, re-computed from its rows, a chunk at a time."""
        if log != EVENTS or is_sqlite(self.engine):
            async for entries in self._entries(log):
                yield [leaf_hash(data) for _, data in entries]
            return
        # The driver's own cursor, as `verify` reads a chain: row objects would cost more than
        # the hashing.
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.transaction():
                cursor = await driver.cursor(PG_EVENT_LEAVES)
                while chunk := await cursor.fetch(10_000):
                    yield [event_leaf_hash(row) for row in chunk]

    async def roots(self, log: str, sizes: Sequence[int]) -> tuple[int, dict[int, bytes]]:
        """How many rows the log holds, and the root over its first n rows for each n asked."""
        wanted, roots = set(sizes), {}
        frontier = Frontier()
        if 0 in wanted:
            roots[0] = frontier.root()
        async with aclosing(self._leaf_hashes(log)) as chunks:
            async for hashes in chunks:
                for digest in hashes:
                    frontier.push(digest)
                    if frontier.size in wanted:
                        roots[frontier.size] = frontier.root()
        return frontier.size, roots

    async def first_difference(self, log: str, tree: SqlMerkleLog) -> tuple[int, int | None] | None:
        """The first leaf whose row no longer hashes to the stored leaf (or whose row or stored
        leaf is gone), with the ref the stored tree gives it — where an edit or a deletion
        went, unless the insider rewrote the tree too."""
        leaf = 0
        async with aclosing(self._entries(log)) as chunks:  # returning early closes the cursor
            async for entries in chunks:
                stored = await tree.stored_leaves(log, leaf, leaf + len(entries))
                padded = [*stored, *[None] * len(entries)]
                for (ref, data), kept in zip(entries, padded, strict=False):
                    if kept is None or kept[1] != ref or kept[2] != leaf_hash(data):
                        return leaf, kept[1] if kept else ref
                    leaf += 1
        extra = await tree.stored_leaves(log, leaf, leaf + 1)
        return (leaf, extra[0][1]) if extra else None
