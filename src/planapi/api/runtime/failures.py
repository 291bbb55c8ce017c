"""GraphQL answers for a database that is out of reach: `extensions.code` UNAVAILABLE with the
advice to retry (`retryAfter` seconds; `outcomeUnknown: true` when the connection dropped at
COMMIT, so the retry must carry the same idempotency key), logged as one WARNING line.

What counts as "out of reach" is the storage adapters' knowledge; the entry points hand their
classifier in (`build_schema(classify=…)`), since the API never touches storage itself."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from planapi.application.failures import StoreUnavailableError

log = logging.getLogger("planapi.api")

Classify = Callable[[BaseException], StoreUnavailableError | None]
UNAVAILABLE = "UNAVAILABLE"


def declared_only(error: BaseException) -> StoreUnavailableError | None:
    return error if isinstance(error, StoreUnavailableError) else None


def unavailable_error(
    found: StoreUnavailableError, like: GraphQLError | None = None
) -> GraphQLError:
    extensions: dict[str, Any] = {"code": UNAVAILABLE, "retryAfter": found.retry_after}
    if found.outcome_unknown:
        extensions["outcomeUnknown"] = True
    return GraphQLError(
        found.advice,
        nodes=like.nodes if like else None,
        source=like.source if like else None,
        positions=like.positions if like else None,
        path=like.path if like else None,
        original_error=found,
        extensions=extensions,
    )


def classified(error: GraphQLError, classify: Classify) -> StoreUnavailableError | None:
    cause = error.original_error
    return classify(cause) if cause is not None else None


def note(found: StoreUnavailableError, request: str | None) -> None:
    """One line, no traceback: a database restart must not flood the error log."""
    log.warning(
        "database unavailable%s (request %s): %s",
        " at commit, outcome unknown" if found.outcome_unknown else "",
        request,
        found.detail or "-",
    )


def failed_for_want_of_the_database(
    data: Mapping[str, Any] | None, errors: Sequence[GraphQLError] | None
) -> bool:
    """Every error is UNAVAILABLE and no root field has an answer: the whole operation failed
    for want of the database (HTTP 503). With some data, the answer is partial: 200."""
    unavailable = bool(errors) and all(
        (error.extensions or {}).get("code") == UNAVAILABLE for error in errors or ()
    )
    return unavailable and (data is None or all(value is None for value in data.values()))


class UnavailableErrors(SchemaExtension):
    """Turns the errors of an unreachable database into UNAVAILABLE ones. Listed after
    MaskErrors, so it runs first on the way out and those errors are not masked."""

    def __init__(self, *, classify: Classify = declared_only) -> None:
        self.classify = classify

    def on_operation(self) -> Iterator[None]:
        yield
        self._replace(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription sends (over graphql-transport-ws), a database lost
        while it runs included: UNAVAILABLE, as over HTTP, not an unexpected error."""
        self._replace(result)
        yield

    def _replace(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if not errors:
            return
        replaced = []
        for error in errors:
            found = classified(error, self.classify)
            replaced.append(unavailable_error(found, error) if found else error)
        result.errors = replaced
