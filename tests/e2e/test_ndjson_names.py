"""NDJSON readings name their KPI `kpiId` (as documented, and as GraphQL does); `kpi_id` (and
`source_reading_id`), the CSV header's spelling that the README once gave for NDJSON too, keep
being accepted — with exact numbers, and a clear refusal when a line gives both."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import GraphQL
from tests.e2e.test_readings_http import ingest, ndjson, plan, series

__all__ = ["plan"]  # the fixture, shared with the readings tests


async def test_kpi_id_in_either_spelling_is_stored_alike(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = (
        ndjson(
            {"kpiId": "kpi-1", "period": "2026", "status": "FINAL", "value": 61.5},
            {
                "kpi_id": "kpi-1",
                "period": "2027",
                "status": "FINAL",
                "value": 62.25,
                "source": "ict-eye",
                "source_reading_id": "R-2",
            },
        )
        + b'{"kpi_id": "kpi-1", "period": "2028", "status": "FINAL", "value": 2.50}\n'
    )

    response = await ingest(client, body)

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3
    found = await series(graphql)
    assert [(r["period"], r["value"]) for r in found] == [
        ("2026", "61.5"),
        ("2027", "62.25"),
        ("2028", "2.50"),  # exact, as written
    ]
    assert found[1]["source"] == {"integration": "ict-eye", "readingId": "R-2"}


async def test_a_line_giving_both_spellings_is_refused_by_line(
    client: httpx.AsyncClient, graphql: GraphQL, plan: str
) -> None:
    body = ndjson(
        {"kpiId": "kpi-1", "kpi_id": "kpi-2", "period": "2026", "status": "FINAL", "value": 1}
    )

    response = await ingest(client, body)

    assert response.status_code == 422
    assert "kpiId or kpi_id, not both" in response.text
    assert await series(graphql) == []
