"""The search index on PostgreSQL: the texts of a version in `search_texts` (migration 0012),
each language matched with its own text search configuration, and Chinese as bigrams.

A search is one statement over one index, `(plan_id, version, tsv)` (migration 0013), whatever
the number of languages. PostgreSQL 15 stems Arabic, English, French, Russian and Spanish; it
has no configuration that splits Chinese into words, so a Chinese text is indexed as its
overlapping character pairs under `simple` and a query as the phrase of its pairs: a
two-character word is one pair, and a longer one matches only where its pairs follow each
other. Rank: `ts_rank`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from planapi.adapters.database import reading
from planapi.application.ports import SearchText

log = logging.getLogger("planapi.search")

CONFIGURATIONS = {
    "ar": "arabic",
    "zh": "simple",
    "en": "english",
    "fr": "french",
    "ru": "russian",
    "es": "spanish",
}
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def bigrams(chinese: str) -> list[str]:
    """The overlapping pairs of each run of Han characters (a lone character stands alone),
    and every other word as it is."""
    out: list[str] = []
    for piece in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+|\w+", chinese):
        if not _HAN.fullmatch(piece):
            out.append(piece.lower())
        elif len(piece) == 1:
            out.append(piece)
        else:
            out += [piece[i : i + 2] for i in range(len(piece) - 1)]
    return out


def chinese_query(query: str) -> str | None:
    """A `to_tsquery('simple', …)` phrase of the query's pairs, or None if it has none."""
    pairs = bigrams(query)
    if not pairs:
        return None
    quoted = [f"'{pair}'" + (":*" if len(pair) == 1 else "") for pair in pairs]
    return " <-> ".join(quoted)


_INSERT = text(
    "INSERT INTO search_texts (plan_id, version, lang, node_id, field, kind, position, text, tsv) "
    "SELECT :plan_id, :version, t.lang, t.node_id, t.field, t.kind, t.position, t.text, "
    "to_tsvector(CAST(t.config AS regconfig), t.indexed) "
    "FROM unnest(CAST(:langs AS text[]), CAST(:node_ids AS text[]), CAST(:fields AS text[]), "
    "CAST(:kinds AS text[]), CAST(:positions AS integer[]), CAST(:texts AS text[]), "
    "CAST(:configs AS text[]), CAST(:indexed AS text[])) "
    "AS t(lang, node_id, field, kind, position, text, config, indexed)"
)


class PostgresSearchIndex:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._known: set[tuple[str, int]] = set()
        self._analysing = asyncio.Lock()  # FIFO: callers queued behind one ANALYZE share the next
        self._committed = 0  # inserts committed by this index
        self._covered = 0  # of them, those an ANALYZE that has run began after

    async def indexed(self, plan_id: str, version: int) -> bool:
        if (plan_id, version) in self._known:
            return True
        query = text("SELECT 1 FROM search_texts WHERE plan_id = :p AND version = :v LIMIT 1")
        async with self.engine.connect() as conn:
            found = (await conn.execute(query, {"p": plan_id, "v": version})).first()
        if found is not None:
            self._known.add((plan_id, version))
        return found is not None

    async def index(self, plan_id: str, version: int, texts: Sequence[SearchText]) -> None:
        params = {
            "plan_id": plan_id,
            "version": version,
            "langs": [t.lang for t in texts],
            "node_ids": [t.node_id for t in texts],
            "fields": [t.field for t in texts],
            "kinds": [t.kind for t in texts],
            "positions": [t.position for t in texts],
            "texts": [t.text for t in texts],
            "configs": [CONFIGURATIONS[t.lang] for t in texts],
            "indexed": [" ".join(bigrams(t.text)) if t.lang == "zh" else t.text for t in texts],
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(_INSERT, params)
        except IntegrityError:
            pass  # another request indexed this version first: the same rows
        self._known.add((plan_id, version))
        await self._refresh_statistics()

    async def _refresh_statistics(self) -> None:
        """Statistics at once, not at autovacuum's next visit: without them the planner takes a
        new version's rows for a handful and tests each one instead of reading the index (15 ms
        rather than 2 for six languages of 1,000 KPIs). After the commit, not inside the
        insert's transaction (where ANALYZE's lock would be held until commit, queueing every
        other version's indexing behind it), and one at a time: a caller returns once an
        ANALYZE begun after its commit has run — the one it runs, or one another caller ran —
        so it waits for two at most however many versions are indexed meanwhile."""
        self._committed += 1
        mine = self._committed
        async with self._analysing:
            if self._covered >= mine:
                return
            covers = self._committed  # every commit before this ANALYZE starts
            try:
                async with reading(self.engine) as conn:
                    await conn.execute(text("ANALYZE search_texts"))
            except SQLAlchemyError as failure:
                # The rows are committed: only the planner's estimate waits for autovacuum. The
                # callers queued behind this one give up with it: each running its own ANALYZE,
                # failing as slowly (a pool's timeout), they would return one after another.
                log.warning("ANALYZE search_texts failed (%s); autovacuum will", failure)
            self._covered = max(self._covered, covers)

    async def search(
        self,
        plan_id: str,
        version: int,
        query: str,
        langs: Sequence[str],
        kinds: Sequence[str],
        limit: int,
    ) -> tuple[list[tuple[SearchText, float]], int]:
        params: dict[str, object] = {"p": plan_id, "v": version, "kinds": list(kinds)}
        matchers: dict[str, str] = {}
        for index, lang in enumerate(langs):
            if lang not in CONFIGURATIONS:
                continue  # never: the plan's languages are checked; their tags go into SQL
            if lang == "zh":
                phrase = chinese_query(query)
                if phrase is None:
                    continue
                params[f"q{index}"] = phrase
                matchers[lang] = f"to_tsquery('simple', :q{index})"
            else:
                params[f"q{index}"] = query
                matchers[lang] = f"websearch_to_tsquery('{CONFIGURATIONS[lang]}', :q{index})"
        if not matchers:
            return [], 0
        params["limit"] = limit
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text(_statement(matchers, bool(kinds))), params)).all()
        found = [(SearchText(*row[:6]), float(row[6])) for row in rows]
        return found, int(rows[0][7]) if rows else 0


def _statement(matchers: dict[str, str], by_kind: bool) -> str:
    """One statement for every language: the index (plan_id, version, tsv) is read once with
    the languages' queries or'ed, then each text must match its own language's query, which
    also ranks it. The queries are computed once (a materialized CTE), not per row."""
    names = {lang: f"q_{lang}" for lang in matchers}
    computed = ", ".join(f"{matcher} AS {names[lang]}" for lang, matcher in matchers.items())
    either = " || ".join(f"q.{name}" for name in names.values())
    own = " ".join(f"WHEN '{lang}' THEN tsv @@ q.{name}" for lang, name in names.items())
    rank = " ".join(f"WHEN '{lang}' THEN ts_rank(tsv, q.{name})" for lang, name in names.items())
    return (
        f"WITH q AS MATERIALIZED (SELECT {computed}) "
        "SELECT node_id, kind, field, lang, text, position, rank, count(*) OVER () AS total "
        f"FROM (SELECT node_id, kind, field, lang, text, position, CASE lang {rank} END AS rank "
        f"FROM search_texts, q WHERE plan_id = :p AND version = :v AND tsv @@ ({either}) "
        f"AND CASE lang {own} ELSE false END"
        + (" AND kind = ANY(CAST(:kinds AS text[]))" if by_kind else "")
        + ") AS found ORDER BY rank DESC, position, lang, field LIMIT :limit"
    )
