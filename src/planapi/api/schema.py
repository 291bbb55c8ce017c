"""The schema: queries, mutations, and the guards every request passes through."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
)

from planapi.api.runtime import reading_inputs  # noqa: F401  (installs recordReadings' input hook)
from planapi.api.runtime.cost import (
    DEFAULT_BUDGETS,
    VERIFY_ALL_READINGS_COST,
    VERIFY_PLAN_COST,
    QueryCostLimiter,
)
from planapi.api.runtime.direct import name_arguments
from planapi.api.runtime.execution import FastExecutionContext
from planapi.api.runtime.failures import Classify, UnavailableErrors, declared_only
from planapi.api.runtime.fast_inputs import (
    RECORD_READINGS_INPUT,
    install,
)
from planapi.api.runtime.guard import PlanSchema, guard
from planapi.api.runtime.nul import NulRefusal
from planapi.api.runtime.parsing import DEFAULT_ANONYMOUS_TOKENS, OffLoopParser, RoleTokenLimiter
from planapi.api.runtime.shape import (
    DEFAULT_MAX_FIELD_PAIRS,
    DEFAULT_MAX_SELECTIONS,
    ShapeFirstValidation,
    ShapeLimits,
)
from planapi.api.runtime.validation import stable_rules
from planapi.api.types import (
    log_fields,
    node_kinds,  # noqa: F401  (each kind's type registers itself)
)
from planapi.api.types.code_lists import CodeListQueries
from planapi.api.types.context import Context, request_id
from planapi.api.types.dashboard import prepare
from planapi.api.types.errors import (
    Forbidden,
    IdempotencyKeyReused,
    PlanAlreadyExists,
    PlanNotFound,
    UserError,
    ValidationFailed,
    VersionConflict,
    as_union_member,
    bad_input,
)
from planapi.api.types.execution import ExecutionMutations
from planapi.api.types.feed import EventPage, events_page
from planapi.api.types.history import Amendment
from planapi.api.types.inputs import (
    AmendPlanInput,
    CreatePlanInput,
    to_amend_command,
    to_create_command,
)
from planapi.api.types.integrity import IntegrityResult
from planapi.api.types.log_fields import LogCheckpoint
from planapi.api.types.node_history import NodeHistoryEntry, history_page
from planapi.api.types.nodes import TYPES
from planapi.api.types.plans import AmendmentApplied, Plan, PlanDiff, PlanSummary, as_plan_diff
from planapi.api.types.proposal_fields import ProposalMutations, ProposalQueries
from planapi.api.types.readings import ReadingsRecorded, RecordReadingsInput
from planapi.api.types.refetch import NodeQueries
from planapi.api.types.root_fields import Caching, Cost, declare
from planapi.api.types.scalars import WIRE_FORMATS
from planapi.api.types.search import SearchQueries
from planapi.api.types.subscriptions import Subscription
from planapi.api.types.translation_files import TranslationFileMutations
from planapi.api.types.translations import LANG_ARGUMENT, in_language, requested
from planapi.application.access import ANY, Permission, Role
from planapi.application.failures import StoreUnavailableError
from planapi.application.freshness import batch_token, version_token
from planapi.application.in_force import PLAN_FIELD, read_plan
from planapi.application.readings import RecordReadings
from planapi.domain.errors import PlanApiError, ValidationError
from planapi.domain.nodes import NodeKind

log = logging.getLogger("planapi.api")

Info = strawberry.Info[Context, None]


@strawberry.type(description="The plan was created as version 1.")
class PlanCreated:
    plan: Plan
    amendment: Amendment
    consistency_token: str = strawberry.field(
        description="Pass it in the `PlanAPI-Consistent-With` header of later requests, to any "
        "server process: none answers from a state older than this write."
    )


AmendPlanResult = Annotated[
    AmendmentApplied
    | VersionConflict
    | ValidationFailed
    | PlanNotFound
    | IdempotencyKeyReused
    | Forbidden,
    strawberry.union("AmendPlanResult"),
]
RecordReadingsResult = Annotated[
    ReadingsRecorded | ValidationFailed | PlanNotFound | IdempotencyKeyReused | Forbidden,
    strawberry.union("RecordReadingsResult"),
]
CreatePlanResult = Annotated[
    PlanCreated | PlanAlreadyExists | ValidationFailed | IdempotencyKeyReused | Forbidden,
    strawberry.union("CreatePlanResult"),
]


@strawberry.type
class Query(NodeQueries, ProposalQueries, SearchQueries, CodeListQueries):
    @strawberry.field(
        description="Every plan, at its latest version.",
        metadata=declare(Permission.READ, Caching.HEADS, Cost(items=20)),
    )
    async def plans(
        self,
        info: Info,
        lang: Annotated[str | None, strawberry.argument(description=LANG_ARGUMENT)] = None,
    ) -> list[PlanSummary]:
        wanted = requested(lang)
        found = await info.context.plans.plans()
        return [PlanSummary(found=in_language(each, wanted)) for each in found]

    @strawberry.field(
        description=PLAN_FIELD,
        metadata=declare(Permission.READ, Caching.PINNABLE, versions=("version",), plan="id"),
    )
    async def plan(
        self,
        info: Info,
        id: strawberry.ID,
        version: int | None = None,
        as_of: dt.datetime | None = None,
        in_force_on: dt.date | None = None,
        lang: Annotated[str | None, strawberry.argument(description=LANG_ARGUMENT)] = None,
    ) -> Plan | None:
        wanted = requested(lang)
        try:
            found = await read_plan(info.context.plans, id, version, as_of, in_force_on)
        except PlanApiError as error:
            raise bad_input(error) from error
        if found is None:
            return None
        if version is None and as_of is None and in_force_on is None:
            # The latest version read once a request: an operational plan's figures, beside
            # its action plan in the same query, ask the loader for it (one statement fewer).
            info.context.read_latest(id, found.state)
        await prepare(info, found.state)
        return Plan(found=in_language(found, wanted))

    @strawberry.field(
        description="What changed between two versions of a plan.",
        metadata=declare(
            Permission.READ, Caching.PINNABLE, versions=("fromVersion", "toVersion"), plan="id"
        ),
    )
    async def plan_diff(
        self, info: Info, id: strawberry.ID, from_version: int, to_version: int
    ) -> PlanDiff:
        try:
            found = await info.context.plans.diff(id, from_version, to_version)
        except PlanApiError as error:
            raise bad_input(error) from error
        return as_plan_diff(found)

    @strawberry.field(
        description="Every amendment that touched a node, newest first — also for a node that "
        "was removed, which no version of the plan shows any more: who removed it, when and why. "
        "`first` (at most 1,000) at a time; `beforeVersion` pages to older ones.",
        # History is reading (issue 5, see security.md); a removed node's whole history is read.
        metadata=declare(Permission.READ, Caching.HEADS, plan="planId"),
    )
    async def node_history(
        self,
        info: Info,
        plan_id: strawberry.ID,
        node_id: strawberry.ID,
        first: int = 100,
        before_version: int | None = None,
    ) -> list[NodeHistoryEntry]:
        try:
            found = await info.context.plans.node_history(plan_id, node_id)
            return history_page(found, first, before_version, plan_id, node_id)
        except PlanApiError as error:
            raise bad_input(error) from error

    @strawberry.field(
        description="One amendment of a plan, by the version it produced.",
        metadata=declare(Permission.READ, Caching.PINNABLE, versions=("version",), plan="planId"),
    )
    async def amendment(self, info: Info, plan_id: strawberry.ID, version: int) -> Amendment | None:
        try:
            found = await info.context.plans.amendment(plan_id, version)
        except PlanApiError as error:
            raise bad_input(error) from error
        return Amendment(record=found) if found else None

    @strawberry.field(
        description="Re-read the plan's stored bytes now (never a cached verdict): its hash "
        "chain, its snapshots and node index, and its batches of readings (every batch with "
        "`allReadings`).",
        metadata=declare(
            Permission.AUDIT,
            Caching.NEVER,  # a verdict re-reads the bytes stored when it is asked
            Cost(work=VERIFY_PLAN_COST, work_if=(("allReadings", VERIFY_ALL_READINGS_COST),)),
        ),
    )
    async def verify_integrity(
        self, info: Info, plan_id: strawberry.ID, all_readings: bool = False
    ) -> IntegrityResult:
        try:
            found = await info.context.readings.integrity.verify_plan(plan_id, all_readings)
        except PlanApiError as error:
            raise bad_input(error) from error
        return IntegrityResult.of(plan_id, found)

    checkpoint: LogCheckpoint | None = strawberry.field(
        resolver=log_fields.checkpoint,
        description="The latest signed checkpoint of a Merkle log (public: only hashes).",
        # Public over HTTP too: it reveals only hashes. Signed on a timer: never cached.
        metadata=declare(Permission.READ, Caching.NEVER),
    )
    events: EventPage = strawberry.field(
        resolver=events_page,
        description="The log of every plan in global order: `first` events after position "
        "`after`, as stored. For whole mirrors, GET /events (NDJSON) streams the same.",
        metadata=declare(Permission.AUDIT, Caching.HEADS),
    )


@strawberry.type
class Mutation(ExecutionMutations, ProposalMutations, TranslationFileMutations):
    @strawberry.mutation(
        description="Create a plan; its content becomes version 1.",
        metadata=declare(Permission.CREATE_PLAN, Caching.NOT_A_QUERY),
    )
    async def create_plan(self, info: Info, input: CreatePlanInput) -> CreatePlanResult:
        try:
            found = await info.context.plans.create_plan(
                to_create_command(input), info.context.actor
            )
        except PlanApiError as error:
            return as_union_member(error)  # type: ignore[no-any-return]
        return PlanCreated(
            plan=Plan(found=found),
            amendment=Amendment(record=found.amendment),
            consistency_token=version_token(found.amendment.position),
        )

    @strawberry.mutation(
        description="Apply all the changes as the plan's next version, or none of them.",
        metadata=declare(Permission.AMEND, Caching.NOT_A_QUERY),
    )
    async def amend_plan(self, info: Info, input: AmendPlanInput) -> AmendPlanResult:
        try:
            if info.context.proposals is not None:  # authorities that amend only by proposal
                info.context.proposals.require_direct(input.authority)
            found = await info.context.plans.amend_plan(to_amend_command(input), info.context.actor)
        except PlanApiError as error:
            return as_union_member(error)  # type: ignore[no-any-return]
        return AmendmentApplied(
            plan=Plan(found=found),
            amendment=Amendment(record=found.amendment),
            consistency_token=version_token(found.amendment.position),
        )

    @strawberry.mutation(
        description="Record KPI readings: all of them or none. A retry with the same "
        "idempotency key, or a reading already stored under the same source reading id with "
        "the same content, stores nothing new (counted as duplicates).",
        metadata=declare(Permission.RECORD_READINGS, Caching.NOT_A_QUERY),
    )
    async def record_readings(
        self,
        info: Info,
        input: Annotated[
            RecordReadings | ValidationError, strawberry.argument(graphql_type=RecordReadingsInput)
        ],
    ) -> RecordReadingsResult:
        # `input` arrives as the command `_record_command` built from the variable.
        if isinstance(input, ValidationError):
            return as_union_member(input)  # type: ignore[no-any-return]
        return await _record(info.context, input)


async def _record(context: Context, command: RecordReadings) -> RecordReadingsResult:
    try:
        scope = context.principal.scope if context.principal else ANY
        outcome = await context.readings.record(command, context.actor, scope)
    except PlanApiError as error:
        return as_union_member(error)  # type: ignore[no-any-return]
    return ReadingsRecorded(
        batch_id=outcome.batch_id,
        stored=outcome.stored,
        duplicates=outcome.duplicates,
        recorded_at=outcome.recorded_at,
        replayed=outcome.replayed,
        consistency_token=batch_token(outcome.batch_id),
    )


def _should_mask(error: GraphQLError, classify: Classify = declared_only) -> bool:
    """Errors of our own making and GraphQL's own (syntax, validation) are for the client, and
    so is a database out of reach (UnavailableErrors words it); the rest are bugs: the client
    sees a generic message and the request id, the log the cause."""
    cause = error.original_error
    if cause is None or isinstance(cause, PlanApiError | GraphQLError | StoreUnavailableError):
        return False
    if classify(cause) is not None:
        return False
    log.error("unexpected error (request %s)", request_id.get(), exc_info=cause)
    return True


def build_schema(
    *,
    max_depth: int = 15,
    max_tokens: int = 5_000,
    max_aliases: int = 30,
    observers: Sequence[Any] = (),
    cost_budgets: Mapping[Role, int] = DEFAULT_BUDGETS,
    classify: Classify = declared_only,
    max_selections: int = DEFAULT_MAX_SELECTIONS,
    max_field_pairs: int = DEFAULT_MAX_FIELD_PAIRS,
    tokens_by_role: Mapping[Role, int] | None = None,
) -> strawberry.Schema:
    # Factories: a fresh extension per request (the parser and validation caches are shared
    # at module level by strawberry itself). Observers (metrics, tracing) come first, so they
    # see the whole operation, limits included.
    tokens_by_role = tokens_by_role or {Role.ANONYMOUS: DEFAULT_ANONYMOUS_TOKENS}
    extensions: list[Any] = [
        *observers,
        # Rule classes made once, or the validation cache (keyed by them) never hits.
        stable_rules(
            QueryDepthLimiter(max_depth=max_depth), MaxAliasesLimiter(max_alias_count=max_aliases)
        ),
        lambda: RoleTokenLimiter(tokens_by_role, max_tokens),
        lambda: OffLoopParser(maxsize=256),  # large documents: in a worker thread
        # Expanded size and fragment cycles before any validation rule walks the document.
        lambda: ShapeFirstValidation(ShapeLimits(max_selections, max_field_pairs), maxsize=256),
        NulRefusal,  # before the cost: a NUL is the client's to fix whatever the cost
        lambda: QueryCostLimiter(budgets=cost_budgets),
        lambda: MaskErrors(
            should_mask_error=lambda error: _should_mask(error, classify),
            error_message="Unexpected error; quote the request id to support.",
        ),
        # After MaskErrors, so on the way out of an operation it runs first (MaskErrors leaves
        # what `classify` knows alone either way: subscriptions' results pass in list order).
        lambda: UnavailableErrors(classify=classify),
    ]
    schema = PlanSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*(TYPES[kind] for kind in NodeKind), UserError],
        extensions=extensions,
        execution_context_class=FastExecutionContext,
        scalar_overrides=WIRE_FORMATS,
    )
    schema.classify = classify
    install(schema._schema, "RecordReadingsInput", RECORD_READINGS_INPUT)
    name_arguments(schema)
    guard(schema)  # last: every root field behind its permission (docs/security.md)
    return schema
