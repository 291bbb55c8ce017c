"""The compiled executor reading plan nodes from the domain (`api.runtime.direct_reading`)
answers every selection exactly as it does through the wrappers and as plain strawberry does:
generated selection sets over a grown plan with translations (one stale), read in its source
language and in French, with aliases, fragments, `__typename` and fields read from wrappers
mixed in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bench.growth import PLAN_ID, grow_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import system
from planapi.bootstrap import bootstrap
from planapi.config import Settings
from planapi.entrypoints.seeding import CREATE_PLAN, seed_input
from tests.e2e.queries import AMEND, update
from tests.e2e.test_fast_execution import _both
from tests.e2e.test_translations import declare, translate

# Fields every node type answers; those marked * come from the wrapper or are abstract.
NODE = [
    "id", "nodeId", "kind", "code", "title", "description", "position", "lang",
    "fallbackFields", "staleFields", "references { vocabulary code known }",
    "parent { id }", "children { __typename id }", "__typename",
]  # fmt: skip
KPI = [
    "unit", "measure", "direction", "periodTypes", "minimum", "maximum",
    "baseline { period value }", "targets { value period }", "dimensions { name values codeList }",
    "progress { onTrack }",
]  # fmt: skip


async def _execute(schema: Any, context: Context, query: str, **variables: Any) -> Any:
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert not result.errors, result.errors
    return result.data


@pytest.fixture
def translated(settings: Settings) -> Settings:
    """The seeded plan grown to 20 KPIs, in English and French, one translation stale; each
    example reads it in an event loop (and services) of its own."""
    asyncio.run(_grow(settings))
    return settings


async def _grow(settings: Settings) -> None:
    found = await bootstrap(settings)
    schema = build_schema()
    context = Context(plans=found.plans, readings=found.readings, principal=system("tests"))
    await _execute(schema, context, CREATE_PLAN, input=seed_input("baku"))
    inputs = grow_inputs(1, 20)
    for each in inputs:
        await _execute(schema, context, AMEND, input=each)
    changes = [
        declare("en", "fr"),
        translate("kpi-1", "title", "fr", "Indicateur un"),
        translate("kpi-2", "title", "fr", "Indicateur deux"),
        update("kpi-2", title="KPI two, reworded"),
    ]
    given_input = {
        "planId": PLAN_ID,
        "expectedVersion": 1 + len(inputs),
        "authority": "TDAG",
        "rationale": "Published in French",
        "changes": changes,
    }
    await _execute(schema, context, AMEND, input=given_input)
    await found.close()


def _fields(choices: list[str], draw: Any) -> str:
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=6, unique=True))
    # An alias per field name: a field and its fragment's copy merge, never two fields.
    aliased = [f"my_{f.split()[0]}: {f}" if draw(st.booleans()) else f for f in picked]
    return " ".join(aliased)


def _selects_title(fields: str) -> bool:
    return "title" in fields.replace("my_title:", "").split()


@st.composite
def documents(draw: Any) -> tuple[str, bool]:
    """A document, and whether it selects the KPIs' titles (inline or in fragment K)."""
    inline, fragment = _fields(NODE + KPI, draw), _fields(NODE + KPI, draw)
    kpis = inline + " ...K"
    outcomes = _fields(NODE, draw) + f" kpis {{ {kpis} }}"
    if draw(st.booleans()):
        outcomes += " ... on Outcome { outputs { id title } }"
    priorities = _fields(NODE, draw) + f" outcomes {{ {outcomes} }}"
    if draw(st.booleans()):
        priorities += " enablers { id code lang outcomes { code } }"
    document = (
        "fragment K on Kpi { " + fragment + " }\n"
        "query Q($id: ID!, $lang: String) { plan(id: $id, lang: $lang) { id lang title "
        f"priorities {{ {priorities} }} }} }}"
    )
    return document, _selects_title(inline) or _selects_title(fragment)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=documents(), lang=st.sampled_from([None, "fr"]))
def test_generated_selections_are_answered_identically(
    translated: Settings,
    monkeypatch: pytest.MonkeyPatch,
    drawn: tuple[str, bool],
    lang: str | None,
) -> None:
    document, kpi_titles = drawn
    direct_and_wrappers, plain = asyncio.run(_read(translated, monkeypatch, document, lang))
    assert direct_and_wrappers == plain
    assert '"errors": []' in plain
    if kpi_titles:  # read in the language asked for: French titles only when French is
        assert ("Indicateur un" in plain) is (lang == "fr")


async def _read(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, document: str, lang: str | None
) -> tuple[str, str]:
    found = await bootstrap(settings)
    try:
        return await _both(found, monkeypatch, document, {"id": PLAN_ID, "lang": lang})
    finally:
        await found.close()
