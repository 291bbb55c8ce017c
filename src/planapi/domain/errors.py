"""One root error and its family; the API maps each to a typed union member."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PlanApiError(Exception):
    """Root of every error this project raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a command was refused.

    `path` is a tuple of steps (`("changes", 2, "addNode", "parent_id")`) so the API can render
    it in its own naming without the domain knowing about camelCase.
    """

    path: tuple[str | int, ...]
    message: str


class ValidationError(PlanApiError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{_dotted(p.path)}: {p.message}" for p in self.problems))


class VersionNotFoundError(ValidationError):
    """The plan exists but has no such version (yet)."""

    def __init__(self, plan_id: str, version: int) -> None:
        self.plan_id = plan_id
        self.version = version
        super().__init__([Problem(("version",), f"plan {plan_id!r} has no version {version}")])


class VersionConflictError(PlanApiError):
    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"{stream_id}: expected version {expected_version}, found {actual_version}"
        )


class PlanNotFoundError(PlanApiError):
    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        super().__init__(f"plan {plan_id!r} does not exist")


class PlanAlreadyExistsError(PlanApiError):
    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        super().__init__(f"plan {plan_id!r} already exists")


class IdempotencyKeyReusedError(PlanApiError):
    """A retry must repeat its request exactly; this key came with different content."""

    def __init__(self, key: str, used_for: str = "a different batch of readings") -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used for {used_for}: "
            "a retry must repeat its request exactly; a new request needs a new key"
        )


class PeriodError(PlanApiError, ValueError):
    """A period id that does not parse."""


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out
