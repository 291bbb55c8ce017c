"""Builders for unit tests of the domain, and hypothesis strategies for plans and their changes.

`valid_change` looks at a state and proposes a change the domain must accept; `any_change`
proposes anything type-correct a client could send, valid or not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import strategies as st

from planapi.domain.activity_values import (
    ActivityStatus,
    BudgetLine,
    FundingSource,
    Milestone,
    Share,
)
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.decide import decide_amendment, decide_creation
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.events import AmendmentInfo, Authority, PlanCreated, PlanEvent
from planapi.domain.links import LINK_RULES, Link, LinkRelation
from planapi.domain.nodes import (
    EDITABLE_FIELDS,
    PARENT_KINDS,
    Dimension,
    Direction,
    Measure,
    Measurement,
    NodeKind,
    Reference,
    ReferenceVocabulary,
    Region,
    SectionContent,
)
from planapi.domain.periods import PeriodType
from planapi.domain.plan import EMPTY, PlanState, fold
from planapi.domain.plan_kinds import NODE_KINDS

PLAN_START = 2026
PLAN_END = 2029
INFO = AmendmentInfo(actor="tester", authority=Authority.TDAG, rationale="Agreed at TDAG.")


# -- builders ----------------------------------------------------------------------------------
def create(
    *changes: Change, period_start: int = PLAN_START, period_end: int = PLAN_END
) -> PlanCreated:
    return decide_creation(
        INFO, "baku-2026", "Baku Action Plan", period_start, period_end, None, changes
    )


def new_plan(*changes: Change) -> PlanState:
    return fold([create(*changes)])


def amend(state: PlanState, *changes: Change) -> PlanState:
    return fold([decide_amendment(state, INFO, changes)], state)


def problems_of(state: PlanState, *changes: Change, info: AmendmentInfo = INFO) -> list[Problem]:
    with pytest.raises(ValidationError) as refused:
        decide_amendment(state, info, changes)
    return list(refused.value.problems)


def paths_of(problems: Sequence[Problem]) -> list[tuple[str | int, ...]]:
    return [problem.path for problem in problems]


def copy_of(state: PlanState) -> PlanState:
    """An equal state sharing no mutable container with `state`."""
    return fold([], state)


def children_ids(state: PlanState, parent_id: str | None) -> list[str]:
    return list(state.children.get(parent_id, ()))


# -- valid changes -----------------------------------------------------------------------------
TITLES = ("Alpha", "Beta", "Gamma")
CODES = ("1", "2", "A")
TARGET_PERIODS = tuple(
    period for year in range(PLAN_START, PLAN_END + 1) for period in (f"{year}", f"{year}-Q4")
)
# The kinds the plan is mostly made of (and that links join), drawn more often than the others.
LIKELY_KINDS = (
    NodeKind.PRIORITY,
    NodeKind.OUTCOME,
    NodeKind.KPI,
    NodeKind.OUTPUT,
    NodeKind.ENABLER,
    NodeKind.SECTION,
)
amounts = st.decimals(min_value=-1000, max_value=1000, places=2)


def _allowed_parents(state: PlanState, kind: NodeKind) -> list[str | None]:
    allowed = PARENT_KINDS[kind]
    out: list[str | None] = [None] if None in allowed else []
    out += [node.id for node in state.walk() if node.kind in allowed]
    return out


def _code_is_free(
    state: PlanState, kind: NodeKind, parent_id: str | None, code: str | None, node_id: str = ""
) -> bool:
    return code is None or all(
        not (sibling.kind is kind and sibling.code == code and sibling.id != node_id)
        for sibling in state.children_of(parent_id)
    )


@st.composite
def kind_values(draw: st.DrawFn, kind: NodeKind) -> dict[str, object]:
    """Valid values of the fields only `kind` carries."""
    values: dict[str, object] = {}
    if kind is NodeKind.KPI:
        values["unit"] = draw(st.sampled_from([None, "people", "%"]))
        values["measure"] = measure = draw(st.sampled_from([None, *Measure]))
        values["direction"] = draw(st.sampled_from([None, *Direction]))
        # A percentage's values fit 0-100 (domain/bounds.py); an update without a measure keeps
        # the node's, which may be a percentage.
        percentage = measure in (None, Measure.PERCENTAGE)
        fitting = st.decimals(0, 100, places=2) if percentage else amounts
        # An update leaves out what is None (the node keeps it): one that makes a KPI a
        # percentage always brings a baseline in range, or the kept one may fall outside it.
        values["baseline"] = (
            Measurement(draw(st.sampled_from(["2023", "2024-Q4"])), draw(fitting))
            if measure is Measure.PERCENTAGE or draw(st.booleans())
            else None
        )
        periods = draw(st.lists(st.sampled_from(TARGET_PERIODS), unique=True, max_size=3))
        values["targets"] = tuple(Measurement(period, draw(fitting)) for period in periods)
        names = draw(st.lists(st.sampled_from(["sex", "region", "age"]), unique=True, max_size=2))
        values["dimensions"] = tuple(
            Dimension(name, tuple(draw(st.lists(st.sampled_from("abc"), unique=True))))
            for name in names
        )
    elif kind is NodeKind.REGIONAL_INITIATIVE:
        values["region"] = draw(st.sampled_from(Region))
        values["objective"] = draw(st.sampled_from([None, "Connect schools"]))
        values["expected_results"] = tuple(draw(st.lists(st.sampled_from(["a", "b"]))))
    elif kind is NodeKind.PROJECT:
        values["objective"] = draw(st.sampled_from([None, "Train trainers"]))
    elif kind is NodeKind.RESOLUTION:
        values["number"] = draw(st.sampled_from(["1", "37"]))
        values["revision"] = draw(st.sampled_from([None, "Rev. Baku, 2025"]))
    return {name: value for name, value in values.items() if value is not None}


@st.composite
def _valid_add(draw: st.DrawFn, state: PlanState) -> Change:
    # An action plan holds no activities (tests/unit/test_activities.py covers those).
    kinds = [*NODE_KINDS[state.plan_kind], *LIKELY_KINDS, *LIKELY_KINDS]
    kind = draw(st.sampled_from([k for k in kinds if _allowed_parents(state, k)]))
    parent_id = draw(st.sampled_from(_allowed_parents(state, kind)))
    siblings = len(state.children.get(parent_id, ()))
    position = draw(st.one_of(st.none(), st.integers(0, siblings)))
    node_id = draw(st.sampled_from([None, f"n-{len(state.nodes) + len(state.retired_ids)}"]))
    values = draw(kind_values(kind))
    code = draw(st.sampled_from([None, *CODES]))
    if _code_is_free(state, kind, parent_id, code):
        values["code"] = code
    if draw(st.booleans()):
        values["description"] = "Why it matters."
    values = {name: value for name, value in values.items() if value is not None}
    return AddNode(kind, draw(st.sampled_from(TITLES)), node_id, parent_id, position, values)


@st.composite
def _valid_update(draw: st.DrawFn, state: PlanState) -> Change:
    node = draw(st.sampled_from(sorted(state.nodes.values(), key=lambda n: n.id)))
    values: dict[str, object] = {}
    field = draw(st.sampled_from(["title", "code", "description", "kind"]))
    if field == "title":
        values["title"] = draw(st.sampled_from(TITLES))
    elif field == "code":
        code = draw(st.sampled_from([None, *CODES]))
        if _code_is_free(state, node.kind, node.parent_id, code, node.id):
            values["code"] = code
    elif field == "description":
        values["description"] = draw(st.sampled_from([None, "Why it matters.", "Revised."]))
    else:
        values = draw(kind_values(node.kind))
    return UpdateNode(node.id, values or {"title": draw(st.sampled_from(TITLES))})


@st.composite
def _valid_remove(draw: st.DrawFn, state: PlanState) -> Change:
    leaves = sorted(node_id for node_id in state.nodes if not state.children.get(node_id))
    node_id = draw(st.sampled_from(leaves if draw(st.integers(0, 4)) else sorted(state.nodes)))
    has_children = bool(state.children.get(node_id))
    return RemoveNode(node_id, cascade=has_children or draw(st.booleans()))


def _destinations(state: PlanState, node_id: str) -> list[str | None]:
    node = state.nodes[node_id]
    below = {descendant.id for descendant in state.walk(node_id)}
    return [
        parent
        for parent in _allowed_parents(state, node.kind)
        if parent != node_id
        and parent not in below
        and _code_is_free(state, node.kind, parent, node.code, node_id)
    ]


@st.composite
def _valid_move(draw: st.DrawFn, state: PlanState) -> Change:
    movable = [node_id for node_id in sorted(state.nodes) if _destinations(state, node_id)]
    node_id = draw(st.sampled_from(movable))
    parent_id = draw(st.sampled_from(_destinations(state, node_id)))
    siblings = [kid for kid in state.children.get(parent_id, ()) if kid != node_id]
    position = draw(st.one_of(st.none(), st.integers(0, len(siblings))))
    return MoveNode(node_id, parent_id, position)


def possible_links(state: PlanState) -> list[Link]:
    nodes = sorted(state.nodes.values(), key=lambda n: n.id)
    return [
        Link(source.id, target.id, relation)
        for relation, (starts, ends) in LINK_RULES.items()
        for source in nodes
        if source.kind in starts
        for target in nodes
        if target.kind in ends and Link(source.id, target.id, relation) not in state.links
    ]


@st.composite
def _valid_link(draw: st.DrawFn, state: PlanState) -> Change:
    link = draw(st.sampled_from(possible_links(state)))
    return LinkNodes(link.from_id, link.to_id, link.relation)


@st.composite
def _valid_unlink(draw: st.DrawFn, state: PlanState) -> Change:
    link = draw(st.sampled_from(sorted(state.links)))
    return UnlinkNodes(link.from_id, link.to_id, link.relation)


@st.composite
def valid_change(draw: st.DrawFn, state: PlanState) -> Change:
    """One change the domain must accept against `state`."""
    # Adds outweigh removals so that plans grow big enough to be interesting.
    options = [_valid_add] * 4
    if state.nodes:
        options += [_valid_update, _valid_update, _valid_remove]
    if any(_destinations(state, node_id) for node_id in state.nodes):
        options.append(_valid_move)
    if possible_links(state):
        options += [_valid_link, _valid_link]
    if state.links:
        options.append(_valid_unlink)
    make = draw(st.sampled_from(options))
    return draw(make(state))


@st.composite
def valid_adds(draw: st.DrawFn, state: PlanState, max_size: int) -> list[Change]:
    """Nodes added in sequence, each under a parent that exists by then."""
    changes: list[Change] = []
    work = state
    for _ in range(draw(st.integers(0, max_size))):
        change = draw(_valid_add(work))
        work = fold([decide_amendment(work, INFO, [change])], work)
        changes.append(change)
    return changes


@st.composite
def valid_changes(
    draw: st.DrawFn, state: PlanState, min_size: int = 1, max_size: int = 4
) -> list[Change]:
    """Changes valid in sequence: each one against the state the earlier ones leave."""
    changes: list[Change] = []
    work = state
    for _ in range(draw(st.integers(min_size, max_size))):
        change = draw(valid_change(work))
        work = fold([decide_amendment(work, INFO, [change])], work)
        changes.append(change)
    return changes


@st.composite
def histories(draw: st.DrawFn, max_amendments: int = 6) -> tuple[list[PlanEvent], list[PlanState]]:
    """A plan's events and the state after each one (states[i] is version i + 1)."""
    start = dataclasses.replace(EMPTY, period_start=PLAN_START, period_end=PLAN_END)
    events: list[PlanEvent] = [create(*draw(valid_adds(start, max_size=10)))]
    states = [fold(events)]
    for _ in range(draw(st.integers(0, max_amendments))):
        event = decide_amendment(states[-1], INFO, draw(valid_changes(states[-1])))
        events.append(event)
        states.append(fold([event], states[-1]))
    return events, states


# -- anything a client could send ----------------------------------------------------------------
PERIOD_TEXTS = ("2027", "2026-W01", "2027-Q2", "2027-Q5", "2031", "2027-W53", "2027-13", "", "27")
any_text = st.sampled_from(["", "   ", "Alpha", " padded ", "x" * 501])
any_amount = st.one_of(
    amounts, st.decimals(allow_nan=True, allow_infinity=True), st.just(Decimal("NaN"))
)
any_measurement = st.builds(Measurement, st.sampled_from(PERIOD_TEXTS), any_amount)
FIELD_VALUES: dict[str, st.SearchStrategy[object]] = {
    "code": st.sampled_from([None, "", " 1", "1", "A", "x" * 33]),
    "title": st.one_of(st.none(), any_text),
    "description": st.one_of(st.none(), any_text),
    "references": st.lists(
        st.builds(
            Reference,
            st.sampled_from(ReferenceVocabulary),
            st.sampled_from(["", "9.c", "9.c", "4.4.1"]),
        ),
        max_size=3,
    ).map(tuple),
    "unit": st.one_of(st.none(), any_text),
    "measure": st.one_of(st.none(), st.sampled_from(Measure)),
    "direction": st.one_of(st.none(), st.sampled_from(Direction)),
    "baseline": st.one_of(st.none(), any_measurement),
    "targets": st.lists(any_measurement, max_size=3).map(tuple),
    "dimensions": st.lists(
        st.builds(
            Dimension,
            st.sampled_from(["", "sex", "sex", "region"]),
            st.lists(st.sampled_from(["a", "a", "b"]), max_size=3).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    "minimum": st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal(50), Decimal("NaN")])),
    "maximum": st.one_of(st.none(), st.sampled_from([Decimal(10), Decimal(100), Decimal(200)])),
    "period_types": st.lists(st.sampled_from(PeriodType), max_size=3).map(tuple),
    "contents": st.lists(st.sampled_from(SectionContent), max_size=2).map(tuple),
    "region": st.one_of(st.none(), st.sampled_from(Region)),
    "objective": st.one_of(st.none(), any_text),
    "expected_results": st.lists(any_text, max_size=2).map(tuple),
    "number": st.one_of(st.none(), any_text),
    "revision": st.one_of(st.none(), any_text),
    **dict.fromkeys(
        ("output_ids", "serves_ids", "initiative_ids", "countries"),
        st.lists(st.sampled_from(["KEN", "ken", "output-1", ""]), max_size=2).map(tuple),
    ),
    "responsible_unit": st.one_of(st.none(), any_text),
    "regions": st.lists(st.sampled_from(Region), max_size=2).map(tuple),
    "start": st.one_of(st.none(), st.dates()),
    "end": st.one_of(st.none(), st.dates()),
    "status": st.one_of(st.none(), st.sampled_from(ActivityStatus)),
    "milestones": st.lists(
        st.builds(Milestone, st.sampled_from(["", "m1", "m1"]), any_text, st.dates()), max_size=2
    ).map(tuple),
    "budget": st.lists(
        st.builds(
            BudgetLine,
            st.integers(2025, 2031),
            st.sampled_from(FundingSource),
            st.decimals(allow_nan=False, places=3, min_value=-10, max_value=10**6),
        ),
        max_size=3,
    ).map(tuple),
    "shares": st.lists(
        st.builds(Share, st.sampled_from(["AFRICA", "output-1", "x"]), st.decimals(-1, 3)),
        max_size=2,
    ).map(tuple),
}
assert set(FIELD_VALUES) == set(EDITABLE_FIELDS)


# Names a client might send that are no field at all, or not one a change may set.
NOT_FIELDS: dict[str, st.SearchStrategy[object]] = {
    name: st.sampled_from([None, "x"]) for name in ("colour", "id", "kind", "parent_id")
}


@st.composite
def any_values(draw: st.DrawFn) -> dict[str, object]:
    strategies = {**FIELD_VALUES, **NOT_FIELDS}
    names = draw(st.lists(st.sampled_from(sorted(strategies)), unique=True, max_size=4))
    return {name: draw(strategies[name]) for name in names}


@st.composite
def any_change(draw: st.DrawFn, state: PlanState) -> Change:
    ids = st.sampled_from([*sorted(state.nodes), *sorted(state.retired_ids), "ghost", "Bad Id!"])
    parent = st.one_of(st.none(), ids)
    position = st.one_of(st.none(), st.integers(-2, 8))
    relation = st.sampled_from(LinkRelation)
    change: Change = draw(
        st.one_of(
            valid_change(state),
            st.builds(
                AddNode,
                st.sampled_from(NodeKind),
                any_text,
                st.one_of(st.none(), ids, st.just("fresh")),
                parent,
                position,
                any_values(),
            ),
            st.builds(UpdateNode, ids, any_values()),
            st.builds(RemoveNode, ids, st.booleans()),
            st.builds(MoveNode, ids, parent, position),
            st.builds(LinkNodes, ids, ids, relation),
            st.builds(UnlinkNodes, ids, ids, relation),
        )
    )
    return change
