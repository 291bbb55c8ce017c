"""DataLoaders and the summary of current readings: the SQL a whole-tree query sends (with
every KPI's readings, latest and progress, and the rollups) does not grow with the KPIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bench.growth import PLAN_ID, grow_inputs
from sqlalchemy import event

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, system
from planapi.application.held_versions import HeldVersions
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.queries import AMEND

TREE = """
query Tree($id: ID!) {
  plan(id: $id) {
    version
    progressSummary { kpis onTrack withoutData dataCompleteness }
    priorities {
      code title history { version } blame { field }
      progressSummary { kpis onTrack }
      outcomes {
        code title history { version }
        progressSummary { kpis offTrack }
        kpis {
          id code title history { version } blame { field }
          readings { period value }
          latest { period value }
          progress { targets { period onTrack } }
        }
      }
    }
  }
}
"""

RECORD = """
mutation Record($input: RecordReadingsInput!) {
  recordReadings(input: $input) { __typename }
}
"""


async def _grown(settings: Settings, kpis: int) -> Services:
    services = await bootstrap(settings)
    schema = build_schema()
    context = Context(plans=services.plans, readings=services.readings, principal=system("t"))
    await schema.execute(
        CREATE_PLAN, variable_values={"input": seed_input("baku")}, context_value=context
    )
    for given in grow_inputs(1, kpis):
        result = await schema.execute(
            AMEND, variable_values={"input": given}, context_value=context
        )
        assert result.data is not None
        assert result.data["amendPlan"]["__typename"] == "AmendmentApplied"
    readings = [
        {"kpiId": f"kpi-{n}", "period": "2026", "value": str(n % 100), "status": "FINAL"}
        for n in range(kpis)
    ]
    result = await schema.execute(
        RECORD,
        variable_values={"input": {"planId": PLAN_ID, "readings": readings}},
        context_value=context,
    )
    assert result.data == {"recordReadings": {"__typename": "ReadingsRecorded"}}, result
    return services


async def _statements(services: Services) -> tuple[int, dict[str, Any]]:
    """The statements one execution of TREE sends, on a fresh process's caches."""
    schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**9))
    counted: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit transaction starts
            counted.append(statement)

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        services.plans.versions = HeldVersions(services.plans.versions.capacity)
        context = Context(plans=services.plans, readings=services.readings, principal=system("t"))
        result = await schema.execute(TREE, variable_values={"id": PLAN_ID}, context_value=context)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not result.errors, result.errors
    assert result.data is not None
    return len(counted), result.data


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[Services]:
    services = await _grown(settings, 20)
    try:
        yield services
    finally:
        await services.close()


async def test_the_statements_of_a_whole_tree_with_readings_do_not_grow_with_the_kpis(
    small: Services, settings: Settings, tmp_path: Any
) -> None:
    # Each counted on a second fresh cache of versions: the first cold read of the large plan
    # folds more facts than a snapshot is worth and writes one, once (a DELETE of a stale row,
    # the INSERT); the next reads it. Both sizes alike, so only the size differs.
    await _statements(small)
    few, data = await _statements(small)
    kpis = [k for p in data["plan"]["priorities"] for o in p["outcomes"] for k in o["kpis"]]
    assert len(kpis) == 20
    assert all(k["latest"] is not None and k["history"] for k in kpis)
    assert data["plan"]["progressSummary"]["kpis"] == 20
    await small.close()

    # The same plan with ten times the KPIs, in a database of its own.
    large_settings = settings
    if settings.database_url.startswith("sqlite"):
        large_settings = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'large.db'}"}
        )
    else:
        from tests.conftest import drop_schema, make_database

        url, options, schema = await make_database("postgres", tmp_path)
        from planapi.adapters.database import create_engine
        from planapi.adapters.migrations import upgrade

        engine = create_engine(url, **options)  # type: ignore[arg-type]
        await upgrade(engine)
        await engine.dispose()
        large_settings = settings.model_copy(update={"database_schema": schema})
    large = await _grown(large_settings, 200)
    try:
        await _statements(large)
        many, data = await _statements(large)
    finally:
        await large.close()
        if not settings.database_url.startswith("sqlite"):
            await drop_schema(large_settings.database_schema)
    kpis = [k for p in data["plan"]["priorities"] for o in p["outcomes"] for k in o["kpis"]]
    assert len(kpis) == 200
    # Not more; one fewer where the large plan's snapshot is of its latest version itself (its
    # record comes with the snapshot) and the small one's is older (then its events are read).
    assert many <= few, (few, many)
    # The plan (latest version, snapshot, events), history and blame per level of the tree,
    # readings per distinct question: about ten, whatever the size.
    assert many <= 15, many
