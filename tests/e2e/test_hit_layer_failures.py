"""What the response cache's hit layer (`entrypoints.hit_layer`) does when something fails in
it: its log lines carry the request id the answer carries, as the stack's do, and a failure
nothing expected is answered as the stack answers one — the door's masked `500` with the
request id, logged — not left to escape in front of starlette's error layer."""

from __future__ import annotations

import logging

import pytest

from planapi.entrypoints.logs import RequestIdFilter
from planapi.entrypoints.security import MASKED
from tests.e2e.test_hit_layer import LISTED, Served, ask, body, hit_of_both, listed, pair, same

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
