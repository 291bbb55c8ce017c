"""What the response cache's hit layer (`entrypoints.hit_layer`) does when something fails in
it: its log lines carry the request id the answer carries, as the stack's do."""

from __future__ import annotations

import logging

import pytest

from planapi.entrypoints.logs import RequestIdFilter
from tests.e2e.test_hit_layer import Served, body, hit_of_both, listed, pair

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
