"""Running `planapi …` in the test process, against the test's own database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planapi.config import Settings


def planapi(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str) -> Callable[[], int]:
    """`planapi …` on the test database; call the result off the event loop (it runs its own)."""
    from planapi.entrypoints.cli import main

    monkeypatch.setenv("PLANAPI_DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("PLANAPI_DATABASE_SCHEMA", settings.database_schema)
    else:
        monkeypatch.delenv("PLANAPI_DATABASE_SCHEMA", raising=False)
    return lambda: main(list(argv))
