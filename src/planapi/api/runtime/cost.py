"""A cost budget per request, computed from the query before anything runs.

Each field costs 1, and what is selected under a list costs once per item it may return: the
page size asked for (`first`, `limit`, as given or by default) or, for lists without one, an
estimate of their size (`LIST_SIZES`; a plan's nodes, a node's children …). So
`plan { nodes { children { children { title } } } }` costs about 200 x 10 x 10 — refused long
before it is run — while the same query on one node is cheap. Depth, token and alias limits
bound the query's text; this bounds the work it asks for. The budget depends on the caller's
role (settings `PLANAPI_MAX_QUERY_COST_<ROLE>`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    type_from_ast,
    value_from_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from planapi.api.types.context import Context
from planapi.api.types.root_fields import Cost, declared
from planapi.application.access import Role

# Arguments that say how many items a list (or a connection) returns: a number, or a list
# with one item per result (`nodes(ids:)`).
PAGE_ARGUMENTS = ("first", "limit", "ids")

# Lists below the roots without a page argument: how many items to expect, at most in practice.
# A plan is a few hundred nodes; the Baku draft has 40. A root field declares its own
# (`api.types.root_fields.Cost`).
LIST_SIZES: dict[tuple[str, str], int] = {
    ("Plan", "nodes"): 200,
    ("Plan", "priorities"): 10,
    ("Plan", "outputs"): 20,
    ("Plan", "enablers"): 10,
    ("Plan", "regionalInitiatives"): 30,
    ("Plan", "resolutions"): 50,
    ("Plan", "studyGroups"): 10,
    ("Plan", "sections"): 20,
    ("Plan", "terms"): 50,
    ("Plan", "activities"): 500,
    ("Output", "activities"): 30,
    ("Priority", "activities"): 50,
    ("Activity", "budget"): 20,
    ("BudgetBreakdown", "items"): 50,
    ("Amendment", "changes"): 50,
    ("PlanDiff", "added"): 50,
    ("PlanDiff", "removed"): 50,
    ("PlanDiff", "moved"): 50,
    ("PlanDiff", "changed"): 50,
    ("PlanDiff", "linksAdded"): 50,
    ("PlanDiff", "linksRemoved"): 50,
    ("ReadingsBatch", "readings"): 100,
    ("CodeList", "codes"): 250,  # ISO 3166-1 has 249; SDG targets 169
    ("ListCode", "members"): 60,
}
DEFAULT_LIST_SIZE = 10  # children, links, outcomes, KPIs, targets …
# Lists whose size is their parent connection's page size (`amendments(first:)`, `events`).
PAGED_BY_PARENT = {
    ("AmendmentConnection", "edges"),
    ("AmendmentConnection", "nodes"),
    ("ReadingConnection", "edges"),
    ("ReadingConnection", "nodes"),
    ("EventPage", "items"),
    ("SearchConnection", "edges"),
    ("NodeConnection", "edges"),
}
INTROSPECTION_COST = 100
# Fields whose work is not their answer's size: re-reading a plan's log (its snapshots, its
# index and its own readings) is priced like a few thousand fields, and the whole readings
# chain (`allReadings: true`) like a large page of everything — over the anonymous budget.
VERIFY_PLAN_COST = 20_000
VERIFY_ALL_READINGS_COST = 300_000
# An inclusion proof reads the tree's size, a leaf and its O(log n) stored subtrees (about three
# statements): each amendment asking for one is priced like a page of fields, so a page of a
# hundred amendments with proofs costs what a hundred such reads do.
INCLUSION_PROOF_COST = 100
# Fields below the roots whose work is not their answer's size (root fields declare theirs).
# A proposal's preview, diff and conflicts merge it into the current version (one merge per
# proposal and plan version, cached): priced like a page of fields each.
PROPOSAL_MERGE_COST = 1_000
# A results rollup walks the KPIs under its node in memory: priced like a page of them.
ROLLUP_COST = 200
WORK: dict[tuple[str, str], int] = {
    ("Amendment", "inclusionProof"): INCLUSION_PROOF_COST,
    ("Plan", "progressSummary"): ROLLUP_COST,
    ("Priority", "progressSummary"): ROLLUP_COST,
    ("Outcome", "progressSummary"): ROLLUP_COST,
    # The operational plans' latest versions are read once a request (usually cached) and
    # their activities walked: priced like a few fields per activity.
    ("Output", "activities"): 20,
    ("Priority", "activities"): 20,
    ("Plan", "budget"): 1_000,
    # The plan's execution records are read and folded (one statement).
    ("Activity", "execution"): 100,
    ("Plan", "implementation"): 2_000,
    # Figured once a request per operational plan and year, then looked up per node.
    ("ProgressSummary", "implementation"): 100,
    ("Proposal", "preview"): PROPOSAL_MERGE_COST,
    ("Proposal", "diff"): PROPOSAL_MERGE_COST,
    ("Proposal", "conflicts"): PROPOSAL_MERGE_COST,
    # Counting a version's translations reads every text once (cached after), and a PO file
    # holds them all: priced like a page of fields and a large list respectively.
    ("Plan", "translationStatus"): 100,
    ("Plan", "translationsPo"): 5_000,
    # Reads a period's readings of two KPIs (each country's series) and walks every group.
    ("Kpi", "aggregate"): 500,
}
# Per role (settings override them). Anonymous callers get less: they are many and unknown.
DEFAULT_BUDGETS: Mapping[Role, int] = {
    Role.ANONYMOUS: 250_000,
    Role.READER: 1_000_000,
    Role.AUDITOR: 1_000_000,
    Role.EDITOR: 1_000_000,
    Role.INTEGRATOR: 1_000_000,
    Role.ADMIN: 1_000_000,
}  # the schema is a fixed size: GraphiQL's whole introspection query


class QueryTooCostlyError(GraphQLError):
    pass


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        item.name.value: item
        for item in document.definitions
        if isinstance(item, FragmentDefinitionNode)
    }
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and definition.default_value is not None:
            kind = type_from_ast(schema, definition.type)
            if kind is not None:
                given[name] = value_from_ast(definition.default_value, kind)  # type: ignore[arg-type]
    walker = _Walker(schema, fragments, given)
    return walker.selections(operation.selection_set, root, page=1)


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._spreading: set[str] = set()
        # A fragment costs the same wherever it is spread on the same type and page size:
        # counted once, or fragments spreading fragments cost exponential time to count.
        self._fragment_costs: dict[tuple[str, str, int], int] = {}

    def selections(self, selection_set: SelectionSetNode, parent: Any, page: int) -> int:
        """Fields of every item, plus — since each item is of one type — the costliest of the
        fragments that apply to one concrete type only (`... on Kpi`, `... on Output`)."""
        common = 0
        by_type: dict[str, int] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                common += self.field(selection, parent, page)
                continue
            spread = ""
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                inner = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                spread = selection.name.value
                fragment = self.fragments.get(spread)
                if fragment is None or spread in self._spreading:
                    continue  # validation refuses both; never loop
                kind = self.schema.get_type(fragment.type_condition.name.value)
                inner = fragment.selection_set
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            kind = kind or parent
            cost = self._spread(spread, inner, kind, page)
            if kind is parent or not isinstance(kind, GraphQLObjectType):
                common += cost
            else:
                by_type[kind.name] = by_type.get(kind.name, 0) + cost
        return common + max(by_type.values(), default=0)

    def _spread(self, spread: str, inner: SelectionSetNode, kind: Any, page: int) -> int:
        if not spread:
            return self.selections(inner, kind, page)
        key = (spread, kind.name, page)
        found = self._fragment_costs.get(key)
        if found is None:
            self._spreading.add(spread)
            found = self.selections(inner, kind, page)
            self._spreading.discard(spread)
            self._fragment_costs[key] = found
        return found

    def field(self, node: FieldNode, parent: Any, page: int) -> int:
        name = node.name.value
        if name.startswith("__"):
            return INTROSPECTION_COST if name in ("__schema", "__type") else 0
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields is not None else None
        if definition is None:
            return 1  # unknown to this walk (validation reports it): count the field itself
        kind = definition.type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        is_list = isinstance(kind, GraphQLList)
        asked = self._page_argument(node, definition)
        key = (parent.name, name)
        declaration = declared(definition)
        cost = declaration.cost if declaration is not None else None
        if is_list:
            if key in PAGED_BY_PARENT:
                multiplier = page
            elif asked is not None:
                multiplier = asked
            elif cost is not None and cost.items is not None:
                multiplier = cost.items
            else:
                multiplier = LIST_SIZES.get(key, DEFAULT_LIST_SIZE)
        else:
            multiplier = 1
        inner = self._work(node, definition, cost) if cost is not None else WORK.get(key, 0)
        if node.selection_set is not None:
            named = get_named_type(definition.type)
            # A connection passes its page size down to its edges.
            child_page = asked if asked is not None else 1
            inner += self.selections(node.selection_set, named, child_page)
        return 1 + multiplier * inner

    def _work(self, node: FieldNode, definition: Any, cost: Cost) -> int:
        """The work a root field declares beyond its answer's size, with its flags' extra."""
        work = cost.work
        for flag, extra in cost.work_if:
            given = next((a for a in node.arguments or () if a.name.value == flag), None)
            if given is not None:
                kind = definition.args[flag].type
                if value_from_ast(given.value, kind, self.variables) is True:
                    work += extra
        return work

    def _page_argument(self, node: FieldNode, definition: Any) -> int | None:
        for argument_name in PAGE_ARGUMENTS:
            argument = definition.args.get(argument_name)
            if argument is None:
                continue
            given = next((a for a in node.arguments or () if a.name.value == argument_name), None)
            value: Any = argument.default_value
            if given is not None:
                value = value_from_ast(given.value, argument.type, self.variables)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
            if isinstance(value, list):
                return len(value)
            return None  # not a number: the resolver refuses it; estimate meanwhile
        return None


class QueryCostLimiter(SchemaExtension):
    """Refuses, before execution, an operation whose cost exceeds the caller's role's budget
    (`extensions.code` QUERY_TOO_COSTLY, with the cost and the budget)."""

    def __init__(self, *, budgets: Mapping[Role, int]) -> None:
        self.budgets = budgets

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            principal = context.context.principal if isinstance(context.context, Context) else None
            role = principal.role if principal is not None else Role.ANONYMOUS
            budget = self.budgets[role]
            schema = context.schema._schema
            cost = query_cost(schema, document, context.operation_name, context.variables)
            if cost > budget:
                error = QueryTooCostlyError(
                    f"this query may cost {cost:,}, over the budget of {budget:,} for the role "
                    f"{role}: ask for fewer items (first/limit) or less nesting",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": budget},
                )
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error  # strawberry answers a subscription's on_execute error
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
