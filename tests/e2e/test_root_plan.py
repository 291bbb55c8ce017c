"""A direct query's compiled root plan (`api.runtime.root_plan`) answers byte for byte what
plain strawberry answers: generated selections over a grown, translated plan (aliases,
fragments, `__typename`, languages, several root fields, literal and variable arguments) and the
benchmark's small and full queries — on its first run (compiling) and on the next (reusing) —
while a refusal or an error is never answered from it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from bench.growth import PLAN_ID
from bench.latest import FULL_LATEST, FULL_VERSION, SMALL_LATEST, SMALL_VERSION
from graphql import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapi.api.runtime.direct import Direct
from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Principal, Role, anonymous, system
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from tests.e2e.test_direct_reading import documents, translated

__all__ = ["translated"]  # the fixture, used by name below


def _context(services: Services, principal: Principal) -> Context:
    return Context(plans=services.plans, readings=services.readings, principal=principal)


async def _compiled_and_plain(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, document: str, variables: dict[str, Any]
) -> tuple[list[bytes], bytes]:
    """The root plan's answers (first run, second run) and plain strawberry's, encoded."""
    services = await bootstrap(settings)
    try:
        schema = build_schema(cost_budgets=dict.fromkeys(Role, 10**9))
        direct = Direct(schema)
        parsed = parse(document, no_location=True)
        compiled: list[Any] = []
        answers = []
        for _ in range(2):
            context = _context(services, system("tests"))
            data = await direct.run(parsed, context, variables, None, None, None, compiled)
            answers.append(orjson.dumps({"data": data}))
        assert len(compiled) == 1
        assert compiled[0] is not None, "the body was not compiled"
        with monkeypatch.context() as patched:
            patched.setattr(FastExecutionContext, "enabled", False)
            plain = await schema.execute(
                document, variable_values=variables, context_value=_context(services, system("t"))
            )
        assert not plain.errors, plain.errors
        return answers, orjson.dumps({"data": plain.data})
    finally:
        await services.close()


@st.composite
def roots(draw: Any) -> str:
    """A generated plan selection under root fields varied as clients vary them."""
    document, _ = draw(documents())
    head = "plan(id: $id, lang: $lang)"
    others = [
        "__typename",
        "first: plan(id: $id, version: 1) { title }",
        'missing: plan(id: "no-such-plan") { id }',
    ]
    picked = draw(st.lists(st.sampled_from(others), unique=True))
    alias = "mine: " if draw(st.booleans()) else ""
    return document.replace(head, " ".join([*picked, alias + head]))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=roots(), lang=st.sampled_from([None, "fr", "en"]))
def test_generated_selections_are_answered_as_plain_strawberry_answers_them(
    translated: Settings, monkeypatch: pytest.MonkeyPatch, document: str, lang: str | None
) -> None:
    variables = {"id": PLAN_ID, "lang": lang}
    answers, plain = asyncio.run(_compiled_and_plain(translated, monkeypatch, document, variables))
    assert answers == [plain, plain]
    assert b'"errors"' not in plain


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (SMALL_LATEST, {"id": PLAN_ID}),
        (FULL_LATEST, {"id": PLAN_ID}),
        (SMALL_VERSION, {"id": PLAN_ID, "version": 2}),
        (FULL_VERSION, {"id": PLAN_ID, "version": 1}),
    ],
    ids=["small", "full", "small-version", "full-version"],
)
def test_the_benchmark_queries_are_answered_as_plain_strawberry_answers_them(
    translated: Settings, monkeypatch: pytest.MonkeyPatch, document: str, variables: Any
) -> None:
    answers, plain = asyncio.run(_compiled_and_plain(translated, monkeypatch, document, variables))
    assert answers == [plain, plain]
    assert b"priorities" in plain


async def _direct_answers(
    settings: Settings, document: str, principal: Principal
) -> tuple[list[Any], Direct, list[Any]]:
    services = await bootstrap(settings)
    try:
        direct = Direct(build_schema())
        parsed = parse(document, no_location=True)
        compiled: list[Any] = []
        answers = []
        for _ in range(2):
            context = _context(services, principal)
            answers.append(await direct.run(parsed, context, {"id": PLAN_ID}, None, None))
            answers.append(
                await direct.run(parsed, context, {"id": PLAN_ID}, None, None, None, compiled)
            )
        return answers, direct, compiled
    finally:
        await services.close()


def test_a_caller_without_the_permission_is_never_answered_from_the_plan(
    translated: Settings,
) -> None:
    """The guard's check runs on every request: a body compiled for anyone refuses a caller
    the guard refuses (then the whole path answers the refusal)."""
    answers, direct, compiled = asyncio.run(
        _direct_answers(translated, SMALL_LATEST, anonymous(None))
    )
    assert answers == [None] * 4
    assert direct.runs == 0
    assert direct.errors == 4
    assert len(compiled) == 1
    assert compiled[0] is not None


def test_an_error_is_never_answered_from_the_plan(translated: Settings) -> None:
    """A version that does not exist is bad input: an error, which only the whole path forms."""
    query = "query Q($id: ID!) { plan(id: $id, version: -1) { title } }"
    answers, direct, _ = asyncio.run(_direct_answers(translated, query, system("tests")))
    assert answers == [None] * 4
    assert direct.runs == 0


def test_a_document_with_directives_is_not_compiled(translated: Settings) -> None:
    query = "query Q($id: ID!) { plan(id: $id) { title @include(if: true) } }"
    answers, direct, compiled = asyncio.run(_direct_answers(translated, query, system("tests")))
    assert compiled == [None]
    assert answers[0] == answers[1] == {"plan": {"title": answers[0]["plan"]["title"]}}
    assert direct.runs == 4
