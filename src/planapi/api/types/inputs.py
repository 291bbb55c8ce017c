"""Mutation inputs and their translation into domain commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.api.types.activity_inputs import BudgetLineInput, MilestoneInput, ShareInput
from planapi.api.types.translations import (
    DeclareLanguagesInput,
    SetTranslationInput,
    declare_change,
    translation_change,
)
from planapi.application.plan_commands import AmendPlan, CreatePlan
from planapi.domain.activity_values import ActivityStatus
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.events import Authority, PlanStatus
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import (
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
from planapi.domain.plan_kinds import PlanKind

UNSET: Any = strawberry.UNSET


def _idempotency_key() -> Any:
    """The idempotency key that creating and amending a plan both take."""
    return strawberry.field(
        default=None,
        description="Optional, 1-200 characters, per plan and caller: a retry with the same key "
        "and the same input is answered as the first time and changes nothing; the same key with "
        "other input is refused (IdempotencyKeyReused).",
    )


@strawberry.input
class ExternalReferenceInput:
    vocabulary: ReferenceVocabulary
    code: str
    uri: str | None = None


@strawberry.input
class PeriodValueInput:
    period: str
    value: Decimal


@strawberry.input
class KpiDimensionInput:
    name: str
    values: list[str] = strawberry.field(default_factory=list)
    code_list: strawberry.ID | None = strawberry.field(
        default=None,
        description="Bind the dimension to a code list (`ISO_3166_1_ALPHA3`): readings must "
        "then use its codes (those of `values`, if given).",
    )


@strawberry.input(description="Fields any node may carry; those of other kinds are refused.")
class NodeFieldsInput:
    code: str | None = UNSET
    description: str | None = UNSET
    references: list[ExternalReferenceInput] | None = UNSET
    unit: str | None = UNSET
    measure: Measure | None = UNSET
    direction: Direction | None = UNSET
    baseline: PeriodValueInput | None = UNSET
    targets: list[PeriodValueInput] | None = UNSET
    dimensions: list[KpiDimensionInput] | None = UNSET
    minimum: Decimal | None = strawberry.field(
        default=UNSET,
        description="KPI: the least value targets and readings may take (a PERCENTAGE: 0 "
        "unless given).",
    )
    maximum: Decimal | None = strawberry.field(
        default=UNSET,
        description="KPI: the greatest value targets and readings may take (a PERCENTAGE: 100 "
        "unless given; a rate such as per 100 inhabitants is not a percentage).",
    )
    period_types: list[PeriodType] | None = UNSET
    contents: list[SectionContent] | None = UNSET
    region: Region | None = UNSET
    objective: str | None = UNSET
    expected_results: list[str] | None = UNSET
    number: str | None = UNSET
    revision: str | None = UNSET
    output_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="ACTIVITY: the action plan's outputs it delivers (node ids)."
    )
    serves_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="ACTIVITY: the action plan's priorities and outcomes it serves."
    )
    initiative_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="ACTIVITY: the action plan's regional initiatives it serves."
    )
    responsible_unit: str | None = UNSET
    regions: list[Region] | None = UNSET
    countries: list[str] | None = strawberry.field(
        default=UNSET, description="ISO 3166-1 alpha-3 codes (`KEN`, `BRA`)."
    )
    start: dt.date | None = UNSET
    end: dt.date | None = UNSET
    status: ActivityStatus | None = UNSET
    milestones: list[MilestoneInput] | None = UNSET
    budget: list[BudgetLineInput] | None = UNSET
    shares: list[ShareInput] | None = UNSET


@strawberry.input(description="Add a node; `id` is generated when omitted.")
class AddNodeInput(NodeFieldsInput):
    kind: NodeKind
    title: str
    id: strawberry.ID | None = None
    parent_id: strawberry.ID | None = None
    position: int | None = None


@strawberry.input(description="Set the fields given; null clears an optional field.")
class UpdateNodeInput(NodeFieldsInput):
    id: strawberry.ID
    title: str | None = UNSET


@strawberry.input
class RemoveNodeInput:
    id: strawberry.ID
    cascade: bool = False


@strawberry.input(description="Move a node under another parent (null: the plan itself).")
class MoveNodeInput:
    id: strawberry.ID
    parent_id: strawberry.ID | None
    position: int | None = None


@strawberry.input
class LinkInput:
    from_id: strawberry.ID
    to_id: strawberry.ID
    relation: LinkRelation


@strawberry.input(one_of=True, description="Exactly one change operation.")
class PlanChangeInput:
    add_node: AddNodeInput | None = UNSET
    update_node: UpdateNodeInput | None = UNSET
    remove_node: RemoveNodeInput | None = UNSET
    move_node: MoveNodeInput | None = UNSET
    link: LinkInput | None = UNSET
    unlink: LinkInput | None = UNSET
    declare_languages: DeclareLanguagesInput | None = UNSET
    set_translation: SetTranslationInput | None = UNSET


@strawberry.input
class CreatePlanInput:
    id: strawberry.ID
    title: str
    period_start: int
    period_end: int
    authority: Authority
    rationale: str
    description: str | None = None
    reference: str | None = None
    effective_from: dt.date | None = None
    changes: list[PlanChangeInput] = strawberry.field(default_factory=list)
    plan_kind: PlanKind | None = strawberry.field(
        default=None, description="ACTION_PLAN if omitted."
    )
    implements: strawberry.ID | None = strawberry.field(
        default=None,
        description="OPERATIONAL_PLAN: the id of the action plan it implements; its activities "
        "link into that plan's version in force on `effectiveFrom` (else the day it is "
        "recorded), or its latest while none is in force (a draft never adopted).",
    )
    idempotency_key: str | None = _idempotency_key()
    status: PlanStatus | None = strawberry.field(
        default=None,
        description="The plan's first status, DRAFT by default; ADOPTED only on an authority "
        "that may adopt it (WTDC for an action plan).",
    )
    succeeds: strawberry.ID | None = strawberry.field(
        default=None,
        description="The plan this draft succeeds: adopting this one marks that one SUPERSEDED.",
    )


@strawberry.input
class AmendPlanInput:
    plan_id: strawberry.ID
    expected_version: int
    authority: Authority
    rationale: str
    changes: list[PlanChangeInput] = strawberry.field(
        default_factory=list,
        description="Node changes; may be empty when the amendment sets `status` or `succeeds`.",
    )
    reference: str | None = None
    effective_from: dt.date | None = None
    idempotency_key: str | None = _idempotency_key()
    status: PlanStatus | None = strawberry.field(
        default=None,
        description="Change the plan's status: only ADOPTED from DRAFT, on an authority that may "
        "(WTDC for an action plan). SUPERSEDED follows from a successor's adoption.",
    )
    succeeds: strawberry.ID | None = strawberry.field(
        default=None,
        description="The plan this draft succeeds: adopting this one marks that one SUPERSEDED.",
    )
    edition: int | None = strawberry.field(
        default=None,
        description="OPERATIONAL_PLAN, on the authority of COUNCIL: the edition this approval "
        "sets (2027: activities for 2027, forecast 2028-2030); `changes` may then be empty.",
    )


def _reference(item: ExternalReferenceInput) -> Reference:
    return Reference(item.vocabulary, item.code, item.uri)


def _measurement(item: PeriodValueInput) -> Measurement:
    return Measurement(item.period, item.value)


def _dimension(item: KpiDimensionInput) -> Dimension:
    code_list = str(item.code_list) if item.code_list is not None else None
    return Dimension(item.name, tuple(item.values), code_list)


_LISTS: dict[str, Callable[[Any], object]] = {
    "references": _reference,
    "targets": _measurement,
    "dimensions": _dimension,
    "expected_results": str,
    "period_types": PeriodType,
    "contents": SectionContent,
    "output_ids": str,
    "serves_ids": str,
    "initiative_ids": str,
    "regions": Region,
    "countries": str,
    "milestones": MilestoneInput.value,
    "budget": BudgetLineInput.value,
    "shares": ShareInput.value,
}
_FIELDS = tuple(name for name in NodeFieldsInput.__annotations__)


def _values(given: NodeFieldsInput, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """Only the fields the client sent (UNSET ones are absent), as domain values."""
    out: dict[str, object] = {}
    for name in (*_FIELDS, *extra):
        value = getattr(given, name)
        if value is UNSET:
            continue
        if value is not None and name in _LISTS:
            value = tuple(_LISTS[name](item) for item in value)
        elif isinstance(value, PeriodValueInput):
            value = _measurement(value)
        out[name] = value
    return out


def to_change(change: PlanChangeInput) -> Change:
    if change.add_node:
        add = change.add_node
        return AddNode(
            kind=add.kind,
            title=add.title,
            id=add.id,
            parent_id=add.parent_id,
            position=add.position,
            values=_values(add),
        )
    if change.update_node:
        return UpdateNode(change.update_node.id, _values(change.update_node, ("title",)))
    if change.remove_node:
        return RemoveNode(change.remove_node.id, change.remove_node.cascade)
    if change.move_node:
        move = change.move_node
        return MoveNode(move.id, move.parent_id, move.position)
    if change.link:
        return LinkNodes(change.link.from_id, change.link.to_id, change.link.relation)
    if change.unlink:
        return UnlinkNodes(change.unlink.from_id, change.unlink.to_id, change.unlink.relation)
    if change.declare_languages:
        return declare_change(change.declare_languages)
    if change.set_translation:
        return translation_change(change.set_translation)
    raise ValueError("a change must name exactly one operation")  # @oneOf makes this unreachable


def to_create_command(given: CreatePlanInput) -> CreatePlan:
    return CreatePlan(
        plan_id=given.id,
        title=given.title,
        period_start=given.period_start,
        period_end=given.period_end,
        authority=given.authority,
        rationale=given.rationale,
        description=given.description,
        reference=given.reference,
        effective_from=given.effective_from,
        changes=[to_change(change) for change in given.changes],
        idempotency_key=given.idempotency_key,
        status=given.status or PlanStatus.DRAFT,
        succeeds=given.succeeds,
        plan_kind=given.plan_kind,
        implements=given.implements,
    )


def to_amend_command(given: AmendPlanInput) -> AmendPlan:
    return AmendPlan(
        plan_id=given.plan_id,
        expected_version=given.expected_version,
        authority=given.authority,
        rationale=given.rationale,
        reference=given.reference,
        effective_from=given.effective_from,
        changes=[to_change(change) for change in given.changes],
        idempotency_key=given.idempotency_key,
        status=given.status,
        succeeds=given.succeeds,
        edition=given.edition,
    )
