"""Large GraphQL documents are parsed in a worker thread, not on the event loop.

graphql-core's lexer reads comments and string literals a character at a time in Python: 7 MB
of comments took 1.7 s, during which the process answered nobody. A thread does not make the
parse cheaper, and it still holds the GIL while it runs — but the interpreter hands the GIL
over every few milliseconds (`sys.getswitchinterval()`), so the event loop keeps answering
small requests in between instead of waiting for the whole parse. Small documents (nearly all)
are parsed on the loop as before, and cached; large ones are not kept in the parse cache (a
few of them would fill memory) nor analysed for the response cache.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from strawberry.extensions import ParserCache, SchemaExtension

from planapi.api.types.context import Context
from planapi.application.access import Role

DEFAULT_ANONYMOUS_TOKENS = 2_000
# Above this many characters a document is parsed off the loop (~4 ms of lexing on the loop).
OFF_LOOP_CHARS = 16 * 1024
# While a parse runs beside the loop, the loop waits up to the switch interval (5 ms by
# default) for the GIL at each await; a shorter one lets small requests through sooner.
PARSING_SWITCH_INTERVAL = 0.0005
_parsing = 0
_default_interval = sys.getswitchinterval()


async def _parse_in_thread(text: str, options: dict[str, Any]) -> DocumentNode:
    global _parsing
    if _parsing == 0:
        sys.setswitchinterval(PARSING_SWITCH_INTERVAL)
    _parsing += 1
    try:
        return await asyncio.to_thread(lambda: parse(text, **options))
    finally:
        _parsing -= 1
        if _parsing == 0:
            sys.setswitchinterval(_default_interval)


def parses_off_loop(text: str | None) -> bool:
    return text is not None and len(text) > OFF_LOOP_CHARS


class Unparsable(DocumentNode):
    """Stands in for a document whose parse in the thread failed, holding the error: raised
    from the parsing hook it would escape strawberry's handling of syntax errors (a traceback,
    and on a WebSocket no answer), so validation answers it instead (`api.runtime.shape`)."""

    def __init__(
        self, error: GraphQLError, operation_name: str | None, allowed: Iterable[Any]
    ) -> None:
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        # Of the kinds this request may run (a subscription's stream takes only those).
        kinds = {getattr(kind, "value", kind) for kind in allowed}
        kind = next((each for each in OperationType if each.value in kinds), OperationType.QUERY)
        operation = OperationDefinitionNode(
            operation=kind,
            name=NameNode(value=operation_name) if operation_name else None,
            variable_definitions=(),
            directives=(),
            selection_set=SelectionSetNode(selections=(typename,)),
        )
        super().__init__(definitions=(operation,))
        self.error = error


class OffLoopParser(ParserCache):
    """strawberry's ParserCache for small documents; a worker thread for large ones."""

    async def on_parse(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        text = context.query
        if context.graphql_document is None and text:
            options: dict[str, Any] = dict(context.parse_options)
            if parses_off_loop(text):
                try:
                    document = await _parse_in_thread(text, options)
                except GraphQLError as error:
                    name = context.operation_name
                    document = Unparsable(error, name, context.allowed_operations)
            else:
                document = self.cached_parse_document(text, **options)
            context.graphql_document = document
        yield


class RoleTokenLimiter(SchemaExtension):
    """strawberry's MaxTokensLimiter, with the limit of the caller's role (never over
    `most`): anonymous callers get fewer tokens than the others."""

    def __init__(self, by_role: Mapping[Role, int], most: int) -> None:
        self.by_role = by_role
        self.most = most

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        principal = context.principal if isinstance(context, Context) else None
        role = principal.role if principal is not None else Role.ANONYMOUS
        limit = min(self.by_role.get(role, self.most), self.most)
        self.execution_context.parse_options["max_tokens"] = limit
        yield
