"""Query.search: a plan version's texts found by words, ranked, with highlighted snippets, a page
at a time; and Plan.nodesPage, the nodes themselves a page at a time."""

from __future__ import annotations

import datetime as dt

import strawberry

from planapi.api.types import cursors
from planapi.api.types.context import Context
from planapi.api.types.errors import bad_input
from planapi.api.types.history import PageInfo
from planapi.api.types.nodes import PlanNode, as_type
from planapi.api.types.root_fields import Caching, Cost, declare
from planapi.api.types.translations import api_slot
from planapi.application.access import Permission
from planapi.application.search import MAX_PAGE, SearchHit, SearchPage
from planapi.application.translations import localize
from planapi.domain.errors import PlanApiError, Problem, ValidationError
from planapi.domain.nodes import NodeKind, Region
from planapi.domain.plan import PlanState

Info = strawberry.Info[Context, None]
_SEARCH = "search"
_NODES = "nodes"


@strawberry.type(description="One text that matched: which node, which field, which language.")
class SearchResult:
    hit: strawberry.Private[SearchHit]
    state: strawberry.Private[PlanState]

    @strawberry.field(description="The node, its texts in the language that matched.")
    def node(self) -> PlanNode:
        read = localize(self.state, self.hit.text.lang)
        return as_type(read.nodes[self.hit.text.node_id], read)

    @strawberry.field(description="title, description, objective or expectedResults[i].")
    def field(self) -> str:
        return api_slot(self.hit.text.field)

    @strawberry.field
    def lang(self) -> str:
        return self.hit.text.lang

    @strawberry.field(description="The whole text that matched.")
    def text(self) -> str:
        return self.hit.text.text

    @strawberry.field(
        description="An excerpt around the first match, HTML-escaped, each match in <mark>…</mark>."
    )
    def snippet(self) -> str:
        return self.hit.snippet

    @strawberry.field(description="Higher is better; comparable within one answer only.")
    def rank(self) -> float:
        return self.hit.rank


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchResult


@strawberry.type(description="Search results, best first.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int
    version: int = strawberry.field(description="The plan version searched.")


def _connection(page: SearchPage) -> SearchConnection:
    state = page.found.state
    edges = [
        SearchEdge(
            cursor=cursors.encode(_SEARCH, f"{state.version}:{page.offset + index + 1}"),
            node=SearchResult(hit=hit, state=state),
        )
        for index, hit in enumerate(page.hits)
    ]
    has_next = page.offset + len(page.hits) < page.total
    return SearchConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total,
        version=state.version,
    )


def _search_cursor(after: str) -> tuple[int, int]:
    version, _, offset = cursors.decode(_SEARCH, after).partition(":")
    if not (version.isdigit() and offset.isdigit()):
        raise cursors.not_a_cursor()
    return int(version), int(offset)


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="The texts of a plan version (latest, or `version`, or as of `asOf`) "
        "matching `text`: titles, descriptions, terms and definitions, section text, "
        "objectives and expected results, in `lang` (omitted: every language the plan is "
        "published in), of `kinds` (omitted: all). Ranked, with highlighted snippets; "
        f"`first` (at most {MAX_PAGE}) at a time after the cursor `after`, which keeps the "
        "version it was given for. Null when the plan (at that version) does not exist.",
        metadata=declare(Permission.READ, Caching.PINNABLE, Cost(work=50), versions=("version",)),
    )
    async def search(
        self,
        info: Info,
        plan_id: strawberry.ID,
        text: str,
        lang: str | None = None,
        kinds: list[NodeKind] | None = None,
        first: int = 20,
        after: str | None = None,
        version: int | None = None,
        as_of: dt.datetime | None = None,
    ) -> SearchConnection | None:
        service = info.context.search
        if service is None:
            return None
        try:
            offset = 0
            if after is not None:
                version, offset = _search_cursor(after)
                as_of = None
            found = await service.search(
                plan_id,
                text,
                lang=lang,
                kinds=kinds or (),
                first=first,
                offset=offset,
                version=version,
                as_of=as_of,
            )
        except PlanApiError as error:
            raise bad_input(error) from error
        return _connection(found) if found else None


@strawberry.type
class NodeEdge:
    cursor: str
    node: PlanNode


@strawberry.type(description="Nodes of one version in document order, a page at a time.")
class NodeConnection:
    edges: list[NodeEdge]
    page_info: PageInfo
    total_count: int


def nodes_page(
    state: PlanState,
    first: int,
    after: str | None,
    kind: NodeKind | None,
    parent_id: str | None,
    region: Region | None,
) -> NodeConnection:
    """The nodes that pass the filters, in document order, `first` after the node `after`
    names; the cursor holds that node's id, so it continues the same list of this version."""
    if not 1 <= first <= 1_000:
        raise bad_input(ValidationError([Problem(("first",), "must be between 1 and 1,000")]))
    chosen = [
        node
        for node in (state.walk(parent_id) if parent_id else state.walk())
        if (kind is None or node.kind is kind)
        and (region is None or node.region is region)
        and (parent_id is None or node.parent_id == parent_id)
    ]
    start = 0
    if after is not None:
        try:
            wanted = cursors.decode(_NODES, after)
            start = 1 + next(i for i, node in enumerate(chosen) if node.id == wanted)
        except (ValidationError, StopIteration) as error:
            raise bad_input(cursors.not_a_cursor()) from error
    page = chosen[start : start + first]
    edges = [NodeEdge(cursor=cursors.encode(_NODES, n.id), node=as_type(n, state)) for n in page]
    return NodeConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + first < len(chosen),
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(chosen),
    )


@strawberry.type
class PlanPages:
    """`Plan.nodesPage` (inherited by `Plan`)."""

    @strawberry.field(
        description="Every node (filtered by `kind`, `parentId`: its children, `region`) in "
        "document order, `first` (at most 1,000) after the cursor `after` (a page's "
        "`endCursor`)."
    )
    def nodes_page(
        self,
        first: int = 100,
        after: str | None = None,
        kind: NodeKind | None = None,
        parent_id: strawberry.ID | None = None,
        region: Region | None = None,
    ) -> NodeConnection:
        state: PlanState = getattr(self, "found").state  # noqa: B009
        return nodes_page(state, first, after, kind, parent_id, region)
