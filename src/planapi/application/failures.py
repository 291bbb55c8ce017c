"""The one failure a client should simply retry: the database could not be reached, or the
connection to it dropped while the request ran. Adapters raise it (or the entry points
classify their errors as it); the API answers it as UNAVAILABLE / HTTP 503 with Retry-After,
logged as a WARNING line rather than a traceback."""

from __future__ import annotations

RETRY_AFTER_SECONDS = 2


class StoreUnavailableError(Exception):
    """Nothing is wrong with the request: retry it. `outcome_unknown`: the connection dropped
    while committing, so the change may or may not have been stored — retry with the same
    idempotency key, which answers the stored outcome if there is one and stores it once if
    not."""

    def __init__(self, *, outcome_unknown: bool = False, detail: str = "") -> None:
        self.outcome_unknown = outcome_unknown
        self.retry_after = RETRY_AFTER_SECONDS
        self.detail = detail
        super().__init__(self.advice)

    @property
    def advice(self) -> str:
        if self.outcome_unknown:
            return (
                "the database connection was lost while committing: the change may or may not "
                "have been stored. Retry with the same idempotency key (a request sent without "
                "one: read the current state before retrying)"
            )
        return (
            f"the database is unavailable; nothing was stored. Retry in {self.retry_after} seconds"
        )
