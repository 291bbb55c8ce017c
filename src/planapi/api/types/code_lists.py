"""Code lists over GraphQL (`Query.codeLists`, `Query.codeList(id:)`) and the reverse lookup
of references (`Query.nodesByReference`): everything in a plan that serves one outside code."""

from __future__ import annotations

import datetime as dt

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.nodes import PlanNode, as_types
from planapi.api.types.root_fields import Caching, Cost, declare
from planapi.application.access import Permission
from planapi.domain import code_lists
from planapi.domain.errors import PlanApiError
from planapi.domain.nodes import ReferenceVocabulary

Info = strawberry.Info[Context, None]


@strawberry.type(description="One code of a code list; a grouping's code lists its members.")
class ListCode:
    code: strawberry.Private[code_lists.Code]

    @strawberry.field(description="The code itself (`9.c`, `AFRICA`, `KEN`).")
    def id(self) -> str:
        return self.code.id

    @strawberry.field
    def name(self) -> str:
        return self.code.name

    @strawberry.field(description="The code it sits under (a target's goal), if any.")
    def parent(self) -> str | None:
        return self.code.parent

    @strawberry.field(description="First day the code holds (null: since the list began).")
    def valid_from(self) -> dt.date | None:
        return self.code.validity.valid_from

    @strawberry.field(description="Last day the code holds (null: still in force).")
    def valid_to(self) -> dt.date | None:
        return self.code.validity.valid_to

    @strawberry.field(
        description="ISO 3166-1 alpha-3 codes of the member states on `on` (null: every "
        "member the list ever had). Empty for codes that group nothing."
    )
    def members(self, on: dt.date | None = None) -> list[str]:
        return list(self.code.members_on(on))


@strawberry.type(description="A code list shipped with the service, naming its source and date.")
class CodeList:
    found: strawberry.Private[code_lists.CodeList]

    @strawberry.field(description="`ISO_3166_1_ALPHA3`, `SDG_TARGETS`, `ITU_D_REGIONS` …")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.found.id)

    @strawberry.field
    def name(self) -> str:
        return self.found.name

    @strawberry.field(description="The edition of the list (its source's own numbering).")
    def version(self) -> str:
        return self.found.version

    @strawberry.field(description="Where the list comes from.")
    def source(self) -> str:
        return self.found.source

    @strawberry.field(description="The date the list was taken from its source.")
    def as_of(self) -> dt.date:
        return self.found.as_of

    @strawberry.field(description="CODES, or GROUPING: each code groups member states.")
    def kind(self) -> str:
        return self.found.kind

    @strawberry.field(description="The codes in force on `on` (null: every code ever listed).")
    def codes(self, on: dt.date | None = None) -> list[ListCode]:
        return [ListCode(code=code) for code in self.found.codes_on(on)]


@strawberry.type
class CodeListQueries:
    """Root fields of Query: the code lists, and the nodes referring to one code."""

    @strawberry.field(
        description="Every code list shipped with the service.",
        metadata=declare(Permission.READ, Caching.HEADS, Cost(items=10)),
    )
    def code_lists(self) -> list[CodeList]:
        return [CodeList(found=found) for found in code_lists.code_lists().values()]

    @strawberry.field(
        description="One code list by its id; null when no list has that id.",
        metadata=declare(Permission.READ, Caching.HEADS),
    )
    def code_list(self, id: strawberry.ID) -> CodeList | None:
        found = code_lists.code_list(str(id))
        return CodeList(found=found) if found else None

    @strawberry.field(
        description="Every node of the plan (as of `version`; none: the latest) referring to "
        "the code `code` of `vocabulary`, in document order: everything serving SDG 9.c.",
        metadata=declare(
            Permission.READ,
            Caching.PINNABLE,
            Cost(items=20),  # the nodes serving one code: a handful in a plan of hundreds
            versions=("version",),
            plan="planId",
        ),
    )
    async def nodes_by_reference(
        self,
        info: Info,
        plan_id: strawberry.ID,
        vocabulary: ReferenceVocabulary,
        code: str,
        version: int | None = None,
    ) -> list[PlanNode]:
        try:
            found = await info.context.plans.plan(plan_id, version, None)
        except PlanApiError as error:
            raise bad_input(error) from error
        if found is None:
            return []
        state = found.state
        serving = [
            node
            for node in state.walk()
            if any(r.vocabulary is vocabulary and r.code == code for r in node.references)
        ]
        return as_types(serving, state)
