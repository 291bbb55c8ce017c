"""The request hash behind idempotency keys: equal commands hash alike whatever their key,
any difference a client could make — a field, a change, a decimal's scale — hashes apart."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import msgspec
import msgspec.structs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planapi.application.command_keys import KEY_FIELD, LATER_FIELDS, command_key, request_hash
from planapi.application.plans import AmendPlan
from planapi.domain.activity_values import BudgetLine, FundingSource, Milestone, Share
from planapi.domain.changes import AddNode, RemoveNode, UpdateNode
from planapi.domain.errors import ValidationError
from planapi.domain.events import Authority
from planapi.domain.nodes import Dimension, Measurement, NodeKind

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


def test_a_key_stored_before_dimensions_had_code_lists_still_matches_its_retry() -> None:
    # The hash of this amendment before Dimension gained `code_list` (issue 19).
    before = hashlib.sha256(
        b'{"":"AmendPlan","authority":"TDAG","changes":[{"":"UpdateNode","id":"k1","values":'
        b'{"dimensions":[{"":"Dimension","name":"sex","values":["F","M"]}]}}],'
        b'"effective_from":null,"expected_version":3,"plan_id":"plan","rationale":"why",'
        b'"reference":null}'
    ).digest()
    sexes = Dimension("sex", ("F", "M"))
    command = AmendPlan(
        "plan", 3, Authority.TDAG, "why", [UpdateNode("k1", {"dimensions": (sexes,)})]
    )

    assert request_hash(command) == before
    bound = UpdateNode("k1", {"dimensions": (dataclasses.replace(sexes, code_list="SEX"),)})
    assert request_hash(dataclasses.replace(command, changes=[bound])) != before


# The fields each hashed type had when idempotency keys were first stored, LATER_FIELDS aside.
# A field added since must be in LATER_FIELDS with a default, or every key stored before it
# would stop matching its retry (refused as a key reused for another request).
HASHED_FIELDS = {
    "CreatePlan": "plan_id title period_start period_end authority rationale description "
    "reference effective_from changes",
    "AmendPlan": "plan_id expected_version authority rationale changes reference effective_from",
    "ProposeAmendment": "plan_id base_version title authority rationale changes reference "
    "effective_from",
    "AddNode": "kind title id parent_id position values",
    "UpdateNode": "id values",
    "RemoveNode": "id cascade",
    "MoveNode": "id parent_id position",
    "LinkNodes": "from_id to_id relation",
    "UnlinkNodes": "from_id to_id relation",
    "DeclareLanguages": "source languages",
    "SetTranslation": "node_id field lang text",
    "Reference": "vocabulary code uri",
    "Measurement": "period value",
    "Dimension": "name values",
    "Milestone": "key title due",
    "BudgetLine": "year source amount",
    "Share": "key weight",
}


def _hashed_types() -> dict[str, type]:
    from planapi.application import plan_commands, proposal_commands
    from planapi.domain import activity_values, changes, nodes

    modules = (plan_commands, proposal_commands, changes, nodes, activity_values)
    return {
        name: kind
        for module in modules
        for name, kind in vars(module).items()
        if name in HASHED_FIELDS
        and (dataclasses.is_dataclass(kind) or issubclass(kind, msgspec.Struct))
    }


def _defaulted(kind: type) -> dict[str, bool]:
    """Each field of a dataclass or msgspec struct type: whether it has a default."""
    if issubclass(kind, msgspec.Struct):
        return {
            f.name: f.default is not msgspec.NODEFAULT or f.default_factory is not msgspec.NODEFAULT
            for f in msgspec.structs.fields(kind)
        }
    return {
        f.name: f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        for f in dataclasses.fields(kind)
    }


def test_a_field_added_to_a_hashed_type_is_left_out_at_its_default() -> None:
    found = _hashed_types()
    assert found.keys() == HASHED_FIELDS.keys()
    for name, kind in found.items():
        for added, has_default in _defaulted(kind).items():
            if added in HASHED_FIELDS[name].split() or added == KEY_FIELD:
                continue
            assert added in LATER_FIELDS, f"{name}.{added}: add it to LATER_FIELDS"
            assert has_default, f"{name}.{added}: a field added later needs a default"


def test_activity_values_hash_as_when_budget_lines_were_dataclasses() -> None:
    # BudgetLine became a msgspec struct (a faster cold read): a key stored while it was a
    # dataclass must still match its retry. The hash below is what the dataclass gave.
    budget = (
        BudgetLine(2027, FundingSource.REGULAR_BUDGET, Decimal("10.5")),
        BudgetLine(2028, FundingSource.IN_KIND, Decimal("3.250")),
    )
    values = {
        "budget": budget,
        "shares": (Share("p1", Decimal("2")),),
        "milestones": (Milestone("m", "M", dt.date(2027, 1, 1)),),
    }
    later = (BudgetLine(2029, FundingSource.ICT_DEVELOPMENT_FUND, Decimal("0.01")),)
    changes = [
        AddNode(NodeKind.ACTIVITY, "A", id="a1", values=values),
        UpdateNode("a2", {"budget": later}),
    ]
    command = AmendPlan("ops", 3, Authority.BDT, "why", changes, idempotency_key="k")

    assert request_hash(command).hex() == (
        "29937922b56fb166dccd060698af5d7dd5cdc2463a9264e511cdaa02cf86f6c6"
    )
