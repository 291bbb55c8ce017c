"""The search index on the embedded default: SQLite FTS5 in a private in-memory database.

The index is derived data, so it lives beside the process rather than in the plan's file: it is
built from a version the first time that version is searched (after each start too) and never
touches the write lock the plan's writers share. FTS5's `unicode61` tokenizer splits words in
Arabic, Cyrillic and Latin scripts (diacritics folded) and ranks with BM25; Chinese has no
spaces and its trigram tokenizer misses two-character words, so Chinese texts are matched by
substring instead. Statements take a few milliseconds and run on the event loop.
"""

from __future__ import annotations

import re
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence

from planapi.application.ports import SearchText

_KEEP = 16  # versions held at once; the least recently searched goes first
_WORD = re.compile(r"\w+", re.UNICODE)
_COLUMNS = "node_id, kind, field, lang, text, position"
_INSERT_WORDS = (
    "INSERT INTO words (text, version_key, node_id, kind, field, lang, position) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CHARS = f"INSERT INTO chars (version_key, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def match_expression(query: str) -> str | None:
    """An FTS5 query for every word of `query` (each a prefix), or None if it has no word."""
    words = _WORD.findall(query)
    return " AND ".join(f'"{word}"*' for word in words) if words else None


class SqliteSearchIndex:
    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            "CREATE VIRTUAL TABLE words USING fts5(text, version_key UNINDEXED, "
            "node_id UNINDEXED, kind UNINDEXED, field UNINDEXED, lang UNINDEXED, "
            "position UNINDEXED, tokenize='unicode61 remove_diacritics 2');"
            "CREATE TABLE chars (version_key TEXT, node_id TEXT, kind TEXT, field TEXT, "
            "lang TEXT, text TEXT, position INTEGER);"
            "CREATE INDEX chars_version ON chars (version_key);"
        )
        self._held: OrderedDict[str, None] = OrderedDict()

    async def indexed(self, plan_id: str, version: int) -> bool:
        key = f"{plan_id}:{version}"
        if key in self._held:
            self._held.move_to_end(key)
            return True
        return False

    async def index(self, plan_id: str, version: int, texts: Sequence[SearchText]) -> None:
        key = f"{plan_id}:{version}"
        if key in self._held:
            return
        rows = [
            (t.text, key, t.node_id, t.kind, t.field, t.lang, t.position)
            for t in texts
            if t.lang != "zh"
        ]
        chinese = [
            (key, t.node_id, t.kind, t.field, t.lang, t.text, t.position)
            for t in texts
            if t.lang == "zh"
        ]
        with self._db:
            self._db.executemany(_INSERT_WORDS, rows)
            self._db.executemany(_INSERT_CHARS, chinese)
        self._held[key] = None
        while len(self._held) > _KEEP:
            old, _ = self._held.popitem(last=False)
            with self._db:
                self._db.execute("DELETE FROM words WHERE version_key = ?", (old,))
                self._db.execute("DELETE FROM chars WHERE version_key = ?", (old,))

    async def search(
        self,
        plan_id: str,
        version: int,
        query: str,
        langs: Sequence[str],
        kinds: Sequence[str],
        limit: int,
    ) -> tuple[list[tuple[SearchText, float]], int]:
        key = f"{plan_id}:{version}"
        found: list[tuple[SearchText, float]] = []
        total = 0
        others = [lang for lang in langs if lang != "zh"]
        expression = match_expression(query)
        if others and expression:
            rows, count = self._words(key, expression, others, kinds, limit)
            found, total = found + rows, total + count
        if "zh" in langs:
            rows, count = self._chars(key, query, kinds, limit)
            found, total = found + rows, total + count
        found.sort(key=best_first)
        return found[:limit], total

    def _words(
        self, key: str, expression: str, langs: Sequence[str], kinds: Sequence[str], limit: int
    ) -> tuple[list[tuple[SearchText, float]], int]:
        where = f"words MATCH ? AND version_key = ? AND lang IN ({', '.join('?' * len(langs))})"
        params: list[object] = [expression, key, *langs]
        if kinds:
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += kinds
        try:
            counted = self._db.execute(f"SELECT count(*) FROM words WHERE {where}", params)
            (count,) = counted.fetchone()
        except sqlite3.OperationalError:  # a query FTS5 cannot parse finds nothing
            return [], 0
        rows = self._db.execute(
            f"SELECT {_COLUMNS}, -bm25(words) AS rank FROM words WHERE {where} "
            "ORDER BY rank DESC, position, lang, field LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [(SearchText(*row[:6]), float(row[6])) for row in rows], int(count)

    def _chars(
        self, key: str, query: str, kinds: Sequence[str], limit: int
    ) -> tuple[list[tuple[SearchText, float]], int]:
        where = "version_key = ? AND instr(lower(text), ?) > 0"
        params: list[object] = [key, query.lower()]
        if kinds:
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += kinds
        (count,) = self._db.execute(f"SELECT count(*) FROM chars WHERE {where}", params).fetchone()
        # Ranked as BM25 roughly would: a match in a shorter text counts more.
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM chars WHERE {where} "
            "ORDER BY length(text), position, field LIMIT ?",
            [*params, limit],
        ).fetchall()
        found = [(SearchText(*row), len(query) / max(len(row[4]), 1)) for row in rows]
        return found, int(count)


def best_first(each: tuple[SearchText, float]) -> tuple[float, int, str, str]:
    return (-each[1], each[0].position, each[0].lang, each[0].field)
