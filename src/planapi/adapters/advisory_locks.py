"""PostgreSQL advisory locks scoped to the schema that holds planapi's tables.

Advisory lock keys belong to the database, not to a schema: two deployments sharing a database
in separate schemas (or two test runs, each in its scratch schema) would otherwise queue on each
other's append locks and, worse, one would win the other's `pg_try_advisory_lock` for signing or
relaying, so that the other never signs a checkpoint or relays an event. Every key is therefore
mixed with a hash of `current_schema()`, the schema the connection's search_path resolves to.
"""

from __future__ import annotations


def scoped(param: str) -> str:
    """The SQL expression of the advisory lock key bound as `:param`, within this schema."""
    return f"(CAST(:{param} AS BIGINT) # CAST(hashtext(current_schema()) AS BIGINT))"
