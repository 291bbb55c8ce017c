"""How a GraphQL operation ended, for whoever observes it (metrics): the union error members it
returned. The API knows when it answers with one; observers read the note after the operation."""

from __future__ import annotations

import contextvars

# Set (to a fresh list) by an observer when an operation starts; resolvers append to the same
# list, whatever task they run in.
user_errors: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "planapi_user_errors", default=None
)


def note_user_error(type_name: str) -> None:
    noted = user_errors.get()
    if noted is not None:
        noted.append(type_name)
