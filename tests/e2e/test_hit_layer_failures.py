"""What the response cache's hit layer (`entrypoints.hit_layer`) does when something fails in
it: its log lines carry the request id the answer carries, as the stack's do, and a failure
nothing expected is answered as the stack answers one — the door's masked `500` with the
request id, logged — not left to escape in front of starlette's error layer."""

from __future__ import annotations

import logging

import orjson
import pytest

from planapi.entrypoints.logs import RequestIdFilter
from planapi.entrypoints.security import MASKED
from tests.e2e.test_hit_layer import (
    LATEST,
    LISTED,
    PLAN,
    Served,
    ask,
    body,
    hit_of_both,
    listed,
    pair,
    same,
)

__all__ = ["listed", "pair"]  # fixtures


def _broken(*args: object) -> None:
    raise RuntimeError("injected failure")


async def test_a_lookup_failure_is_logged_with_the_id_of_the_answer_the_stack_sends(
    pair: tuple[Served, Served], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hit_of_both(pair, {})
    on, _ = pair
    assert on.layer is not None
    monkeypatch.setattr(on.layer.hits, "find", _broken)
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.ERROR, logger="planapi.security"):
        # No id sent: the layer makes one, and the stack, answering instead, keeps it.
        given = {"content-type": "application/json"}
        answer = await on.http.post("/graphql", content=body(), headers=given)
    assert answer.status_code == 200
    [logged] = [record for record in caplog.records if "could not look" in record.getMessage()]
    assert logged.request_id == answer.headers["x-request-id"]  # type: ignore[attr-defined]
    assert len(answer.headers["x-request-id"]) == 32


async def _broken_view(*args: object) -> None:
    raise RuntimeError("injected failure")


async def test_a_failure_in_the_layer_is_the_stack_s_500(
    pair: tuple[Served, Served], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same failure in the layer (sending a hit) and in the stack (the view, behind the
    door) gives the same answer, byte for byte, and a logged traceback naming the id."""
    await hit_of_both(pair, {})
    on, off = pair
    assert on.layer is not None
    monkeypatch.setattr(on.layer.hits, "take", _broken)
    view = next(
        route for route in off.app.router.routes if getattr(route, "path", "") == "/graphql"
    )
    monkeypatch.setattr(view.endpoint, "_cached", _broken_view)  # type: ignore[attr-defined]
    headers = {"origin": LISTED, "x-request-id": "failing-id"}
    with caplog.at_level(logging.ERROR, logger="planapi.security"):
        failed = same((await ask(on, headers), await ask(off, headers)))
    assert failed.status_code == 500
    assert failed.json()["message"] == MASKED
    assert failed.json()["requestId"] == failed.headers["x-request-id"] == "failing-id"
    assert failed.headers["access-control-allow-origin"] == LISTED
    logged = [record for record in caplog.records if "failing-id" in record.getMessage()]
    assert len(logged) == 2  # the layer's and the door's
    assert all(record.exc_info for record in logged)


def _nested(depth: int) -> bytes:
    """A body whose variables hold an unused list `depth` levels deep."""
    junk = b"[" * depth + b"1" + b"]" * depth
    return b'{"query": %s, "variables": {"id": "%s", "junk": %s}}' % (
        orjson.dumps(LATEST),
        PLAN.encode(),
        junk,
    )


async def test_variables_deeper_than_orjson_writes_are_answered_and_kept_without_an_error(
    pair: tuple[Served, Served], caplog: pytest.LogCaptureFixture
) -> None:
    """orjson reads 1,024 levels but writes 254: the answer's key is written by the standard
    library then, as the answers are — not a failure logged by the layer and masked by the
    door (a 500 any anonymous caller could cause)."""
    await hit_of_both(pair, {})  # the document known to the layer
    given = {"content-type": "application/json"}
    with caplog.at_level(logging.ERROR):
        for served in pair:
            answers = [await served.http.post("/graphql", content=_nested(300), headers=given)]
            answers.append(await served.http.post("/graphql", content=_nested(300), headers=given))
            assert [answer.status_code for answer in answers] == [200, 200]
            assert answers[0].json()["data"]["plan"]["version"] >= 1
            assert answers[0].headers["etag"] == answers[1].headers["etag"]
    assert not caplog.records
    assert pair[0].layer is not None
    assert pair[0].layer.answered >= 2  # the second was a hit


async def test_variables_too_deep_for_any_encoder_are_refused_as_bad_input(
    pair: tuple[Served, Served], caplog: pytest.LogCaptureFixture
) -> None:
    await hit_of_both(pair, {})
    given = {"content-type": "application/json"}
    with caplog.at_level(logging.ERROR):
        for served in pair:
            refused = await served.http.post("/graphql", content=_nested(1_020), headers=given)
            assert refused.status_code == 400
            assert "variables are nested too deeply" in refused.text
    assert not caplog.records
