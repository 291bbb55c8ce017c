"""What one kept answer costs the response cache: `./dev bench cache_entries`.

Answers are kept through the view's own keeping (`CachingGraphQL._keep`, each entry made as
the view makes it on a miss) into a byte-bounded cache large enough for all of them, and
tracemalloc says what they hold; the cache says what it counts. The cases:

- `pinned, one body`: 10,000 version reads (`plan(id, version) { title priorities { title } }`,
  ~250 bytes) whose bodies are the same bytes — amendments change KPI titles only — under
  10,000 keys, as the soak's 30 version readers leave them;
- `pinned, distinct`: the same, each body different;
- `latest tree`: 40 latest full-tree answers (~176 KB each, distinct), one per slot, and the
  same again once each has made its gzip variant (a browser read them);
- `64 MiB, soak mix`: how many answers the default bound holds when filled with the soak's
  version reads (one body, random versions), and what they hold.

`BENCH_BASE_SRC=/path/to/other/checkout/src` runs the same in a process importing that tree's
planapi, printed beside this tree's (tracemalloc counts are exact: no rounds needed).
`hit_loop` is the cache's part of a hit, for instruction counts under callgrind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BASE_SRC = os.environ.get("BENCH_BASE_SRC", "")
ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT = b"0f3c2a9b81d4e6f7"
QUERY_HASH = hashlib.sha256(b"query Version($id: ID!, $version: Int!) {...}").hexdigest().encode()
ROLE = b"reader|application/json"
MEDIA = "application/json"


def _small_body(titles: str) -> bytes:
    priorities = [{"title": f"Priority {n}: {titles}"} for n in range(5)]
    return json.dumps(
        {"data": {"plan": {"title": "Baku 2026 action plan", "priorities": priorities}}}
    ).encode()


def _tree_body(version: int) -> bytes:
    priorities = [
        {
            "id": f"p{p}",
            "title": f"Priority {p}",
            "outcomes": [
                {
                    "id": f"p{p}o{o}",
                    "title": f"Outcome {p}.{o}",
                    "kpis": [
                        {
                            "id": f"k{p}.{o}.{k}",
                            "title": f"KPI {p}.{o}.{k}, as amended at version {version}",
                            "unit": "per cent",
                            "baseline": {"value": 12.5 + k, "year": 2020},
                            "target": {"value": 40.0 + k, "year": 2030},
                        }
                        for k in range(10)
                    ],
                }
                for o in range(20)
            ],
        }
        for p in range(5)
    ]
    return json.dumps({"data": {"plan": {"title": "Baku 2026", "priorities": priorities}}}).encode()


def _pinned_key(version: int) -> bytes:
    variables = b'{"id":"baku-2026","version":%d}' % version
    return b"|".join((FINGERPRINT, QUERY_HASH, variables, b"Version")) + b"|pinned|" + ROLE


def _latest_key(plan: int, version: int) -> bytes:
    variables = b'{"id":"plan-%d"}' % plan
    base = b"|".join((FINGERPRINT, QUERY_HASH, variables, b"Tree"))
    return base + b"|" + ROLE + b"\x00plans|" + json.dumps([[f"plan-{plan}", version]]).encode()


class Keeper:
    """The view's keeping, as the tree under test makes and keeps an entry on a miss."""

    def __init__(self, bound: int) -> None:
        from planapi.api.runtime import cache_hits, http_caching
        from planapi.api.runtime.graphql_http import CachingGraphQL
        from planapi.api.runtime.response_cache import ByteLru

        try:  # answers sharing their shapes, kept under digests
            from planapi.api.runtime import stored_answers
        except ImportError:  # a tree before them
            stored_answers = None
        self.hits: Any = stored_answers or cache_hits
        self.keyed_by_4 = stored_answers is not None
        self.keyed_by_3 = hasattr(cache_hits, "Keyed")
        self.digest = getattr(http_caching, "key_digest", None)
        self.cache: Any = ByteLru(max_bytes=bound, max_entry_bytes=bound)
        self.view: Any = SimpleNamespace(caching=SimpleNamespace(cache=self.cache, gzip=True))
        self.keep = CachingGraphQL._keep

    def key(self, raw: bytes) -> bytes:
        """What the tree keeps an answer under: `raw`, or its digest."""
        return self.digest(raw) if self.digest is not None else raw

    def entry(self, body: bytes, key: bytes, pinned: bool) -> Any:
        from planapi.api.runtime.http_caching import cache_headers, etag_of

        etag = etag_of("p" if pinned else "h", key)
        control = "private, immutable" if pinned else "private, no-cache"
        make = getattr(self.hits, "answer_entry", None)
        if make is not None:  # this branch's constructor: the view's own
            return make(body, (etag, control), MEDIA, True, self.cache)
        from planapi.api.runtime.graphql_request import json_headers

        sent = [*cache_headers(etag, control, True), *json_headers(body, MEDIA)]
        return self.hits.CachedResponse(body, etag, sent)

    def put(self, body: bytes, raw: bytes, pinned: bool) -> None:
        # A fresh copy each time, as orjson hands each request its own bytes.
        fresh = bytes(bytearray(body))
        key = self.key(raw)
        # The view keeps an answer by its key, validators, heads' generation and slot's hash;
        # a tree before, by its key, validators and generation; one before that, by its key.
        keyed: Any = key
        if self.keyed_by_4:
            keyed = (key, ("", ""), 0, None if pinned else hash(raw.rpartition(b"\x00")[0]))
        elif self.keyed_by_3:
            keyed = (key, ("", ""), 0)
        self.keep(self.view, keyed, self.entry(fresh, key, pinned), None, pinned)

    def found(self, key: bytes) -> Any:
        """The answer kept under `key` as a hit finds it (`Hits.find`): a tree keeping shapes,
        not answers, makes it from the shape and the key."""
        made = getattr(self.hits, "kept_answer", None)
        return self.cache.peek(key) if made is None else made(self.cache.peek(key), key)

    def gzip_all(self) -> None:
        counters: Counter[str] = Counter()
        for key in list(self.cache._items):
            found = self.found(key)
            self.hits.stored_answer((self.cache, key), found, b"", counters, True)


def _measure(name: str, fill: Any, bound: int = 2**34) -> dict[str, Any]:
    keeper = Keeper(bound)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill(keeper)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    count = len(keeper.cache)
    return {
        "case": name,
        "answers": count,
        "held per answer": round(held / count),
        "counted per answer": round(keeper.cache.bytes / count),
        "evictions": keeper.cache.stats.evictions,
    }


def _one_body(keeper: Keeper) -> None:
    body = _small_body("same")
    for version in range(10_000):
        keeper.put(body, _pinned_key(version), True)


def _distinct(keeper: Keeper) -> None:
    for version in range(10_000):
        keeper.put(_small_body(f"v{version}"), _pinned_key(version), True)


def _trees(keeper: Keeper) -> None:
    for plan in range(40):
        keeper.put(_tree_body(plan), _latest_key(plan, 1_000 + plan), False)


def _trees_gzipped(keeper: Keeper) -> None:
    _trees(keeper)
    keeper.gzip_all()


def _soak_mix(keeper: Keeper) -> None:
    body = _small_body("same")
    version = 0
    while keeper.cache.stats.evictions == 0:
        keeper.put(body, _pinned_key(version), True)
        version += 1


def measure() -> list[dict[str, Any]]:
    return [
        _measure("pinned, one body", _one_body),
        _measure("pinned, distinct", _distinct),
        _measure("latest tree", _trees),
        _measure("latest tree + gzip", _trees_gzipped),
        _measure("64 MiB, soak mix", _soak_mix, 64 * 2**20),
    ]


_RUN = (
    "import sys, json, planapi, bench.cache_entries as m; print(planapi.__file__, file=sys.stderr);"
    " print(json.dumps(m.measure()))"
)


def hit_loop(count: int, not_modified: bool) -> None:
    """`count` hits of one kept version read, as far as the cache takes part in them (`peek` as
    `Hits.find` does, `get` as `Hits.take` does, `stored_answer`); for instruction counts:
    `valgrind --tool=callgrind python -c "import bench.cache_entries as m; m.hit_loop(N, False)"`
    with N = 20,000 and 0, the difference over 20,000 (PYTHONPATH picks the tree)."""
    keeper = Keeper(2**26)
    keys = [_pinned_key(version) for version in range(1_000)]
    body = _small_body("same")
    for key in keys:
        keeper.put(body, key, True)
    cache, key = keeper.cache, keeper.key(keys[5])
    found = keeper.found(key)
    etag = found.headers[0][1] if not_modified else b""
    counters: Counter[str] = Counter()
    for _ in range(count):
        found = keeper.found(key)
        cache.get(key)
        keeper.hits.stored_answer((cache, key), found, etag, counters, False)


def _base() -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": f"{BASE_SRC}{os.pathsep}{ROOT}", "BENCH_BASE_SRC": ""}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bench.cache_entries as m, json; print(json.dumps(m.measure()))",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


async def main() -> None:
    here = measure()
    base = _base() if BASE_SRC else None
    head = "case | answers | held/answer | counted/answer"
    print(head + (" | base: answers | held/answer | counted/answer" if base else ""))
    for number, row in enumerate(here):
        line = (
            f"{row['case']} | {row['answers']:,} | {row['held per answer']:,} | "
            f"{row['counted per answer']:,}"
        )
        if base:
            other = base[number]
            line += (
                f" | {other['answers']:,} | {other['held per answer']:,} | "
                f"{other['counted per answer']:,}"
            )
        print(line)


if __name__ == "__main__":
    asyncio.run(main())
