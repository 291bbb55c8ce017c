"""The request hash behind idempotency keys: equal commands hash alike whatever their key,
any difference a client could make — a field, a change, a decimal's scale — hashes apart."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planapi.application.command_keys import command_key, request_hash
from planapi.application.plans import AmendPlan
from planapi.domain.changes import RemoveNode, UpdateNode
from planapi.domain.errors import ValidationError
from planapi.domain.events import Authority
from planapi.domain.nodes import Measurement

texts = st.text(min_size=1, max_size=30)


def amendment(title: str, rationale: str = "why", key: str | None = "k") -> AmendPlan:
    return AmendPlan(
        "plan",
        3,
        Authority.TDAG,
        rationale,
        [UpdateNode("p1", {"title": title, "baseline": Measurement("2025", Decimal("2.50"))})],
        idempotency_key=key,
    )


@given(texts, texts, texts)
def test_the_key_is_not_part_of_the_request(title: str, one: str, other: str) -> None:
    assert request_hash(amendment(title, key=one)) == request_hash(amendment(title, key=other))


@given(texts, texts)
def test_any_other_title_or_rationale_is_another_request(title: str, other: str) -> None:
    same = request_hash(amendment(title)) == request_hash(amendment(other))
    assert same == (title == other)
    assert request_hash(amendment(title, "a")) != request_hash(amendment(title, "b"))


def test_every_field_and_operation_counts() -> None:
    base = amendment("T")
    scale = Measurement("2025", Decimal("2.5"))  # the same number as 2.50, spelt otherwise
    variants = [
        dataclasses.replace(base, expected_version=4),
        dataclasses.replace(base, authority=Authority.WTDC),
        dataclasses.replace(base, reference="TDAG-26/1"),
        dataclasses.replace(base, changes=[RemoveNode("p1")]),
        dataclasses.replace(base, changes=[UpdateNode("p1", {"title": "T", "baseline": scale})]),
    ]
    hashes = {request_hash(base), *(request_hash(v) for v in variants)}
    assert len(hashes) == len(variants) + 1


@pytest.mark.parametrize("key", ["", "k" * 201, "nul\x00", "line\nbreak"])
def test_a_key_that_is_no_key_is_refused_naming_the_field(key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        command_key(amendment("T", key=key), "actor")
    assert refused.value.problems[0].path == ("idempotency_key",)


def test_a_key_stored_before_editions_existed_still_matches_its_retry() -> None:
    # The hash this amendment had before AmendPlan gained `edition` (computed by that release).
    before = hashlib.sha256(
        b'{"":"AmendPlan","authority":"TDAG","changes":[{"":"UpdateNode","id":"p1","values":'
        b'{"baseline":{"":"Measurement","period":"2025","value":"2.50"},"title":"t"}}],'
        b'"effective_from":null,"expected_version":3,"plan_id":"plan","rationale":"why",'
        b'"reference":null}'
    ).digest()

    assert request_hash(amendment("t")) == before
    assert request_hash(dataclasses.replace(amendment("t"), edition=2027)) != before
