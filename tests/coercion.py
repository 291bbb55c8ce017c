"""Running recordReadings with the fast input decoding on or off, counting what graphql-core
coerced instead (shared by the unit and end-to-end tests of `api.runtime.fast_inputs`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from planapi.api.runtime import reading_inputs
from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.types.reading_records import reading_from_record


@contextmanager
def coercion(*, fast: bool) -> Iterator[list[int]]:
    """Within: the fast path on (`fast`) or off; the yielded counter's one item counts the
    readings that reached the resolver coerced by graphql-core (dicts), not decoded by msgspec."""
    coerced = [0]

    def counted(record: dict[str, Any]) -> Any:
        coerced[0] += 1
        return reading_from_record(record)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastExecutionContext, "enabled", fast)
        patch.setattr(reading_inputs, "reading_from_record", counted)
        yield coerced
