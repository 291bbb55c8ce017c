"""A SQLite connection closed with a statement still pending gives up its write lock at once:
the next writer is served, not refused "database is locked" until the garbage collector frees
the old cursor (see `RollingBackOnClose`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from planapi.adapters.database import RollingBackOnClose


def _closed_mid_statement(path: Path, factory: type[sqlite3.Connection]) -> sqlite3.Cursor:
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE readings (value INTEGER)")
    setup.executemany("INSERT INTO readings VALUES (?)", [(i,) for i in range(100)])
    setup.close()
    writer = sqlite3.connect(path, isolation_level=None, factory=factory)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO readings VALUES (-1)")
    pending = writer.execute("SELECT value FROM readings")
    pending.fetchone()  # the statement stays unfinalized while this cursor lives
    writer.close()
    return pending  # kept alive by the caller, as a cancelled task's frame keeps it


def _next_writer_count(path: Path) -> int:
    nxt = sqlite3.connect(path, isolation_level=None, timeout=0)  # no busy wait: fail at once
    try:
        nxt.execute("BEGIN IMMEDIATE")
        (count,) = nxt.execute("SELECT count(*) FROM readings").fetchone()
        nxt.execute("ROLLBACK")
        return int(count)
    finally:
        nxt.close()


def test_closing_mid_statement_rolls_back_and_frees_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "planapi.db"
    pending = _closed_mid_statement(path, RollingBackOnClose)
    assert _next_writer_count(path) == 100  # the uncommitted row is gone, the lock is free
    del pending


def test_a_plain_connection_would_keep_the_lock(tmp_path: Path) -> None:
    """What the factory is for: without it the closed connection lingers as a zombie."""
    path = tmp_path / "planapi.db"
    pending = _closed_mid_statement(path, sqlite3.Connection)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _next_writer_count(path)
    del pending
