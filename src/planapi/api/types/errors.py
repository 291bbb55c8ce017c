"""Errors a client can act on: union members implementing `UserError`, named for what happened."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from planapi.api.types.naming import render_path
from planapi.api.types.outcomes import note_user_error
from planapi.application.access import AccessDeniedError, Denial, Role, roles_with
from planapi.domain.errors import (
    IdempotencyKeyReusedError,
    PlanAlreadyExistsError,
    PlanApiError,
    PlanNotFoundError,
    ValidationError,
    VersionConflictError,
)


@strawberry.interface(description="Something the client can correct; `message` is for people.")
class UserError:
    message: str


@strawberry.type(description="One reason input was refused; `path` names the field.")
class Problem:
    path: str
    message: str


@strawberry.type(description="The input was refused; nothing was written.")
class ValidationFailed(UserError):
    problems: list[Problem]

    @classmethod
    def of(cls, error: ValidationError) -> ValidationFailed:
        problems = [Problem(path=render_path(p.path), message=p.message) for p in error.problems]
        message = "; ".join(f"{p.path}: {p.message}" for p in problems)
        return cls(message=message, problems=problems)


@strawberry.type(description="The plan moved on since `expectedVersion`; re-read and retry.")
class VersionConflict(UserError):
    expected_version: int
    actual_version: int

    @classmethod
    def of(cls, error: VersionConflictError) -> VersionConflict:
        return cls(
            message=f"expected version {error.expected_version}, "
            f"the plan is at version {error.actual_version}",
            expected_version=error.expected_version,
            actual_version=error.actual_version,
        )


@strawberry.type
class PlanNotFound(UserError):
    plan_id: strawberry.ID

    @classmethod
    def of(cls, error: PlanNotFoundError) -> PlanNotFound:
        return cls(message=str(error), plan_id=strawberry.ID(error.plan_id))


@strawberry.type
class PlanAlreadyExists(UserError):
    plan_id: strawberry.ID

    @classmethod
    def of(cls, error: PlanAlreadyExistsError) -> PlanAlreadyExists:
        return cls(message=str(error), plan_id=strawberry.ID(error.plan_id))


@strawberry.type
class IdempotencyKeyReused(UserError):
    idempotency_key: str

    @classmethod
    def of(cls, error: IdempotencyKeyReusedError) -> IdempotencyKeyReused:
        return cls(message=str(error), idempotency_key=error.key)


RoleEnum = strawberry.enum(Role, name="Role", description="What a principal may do.")
ForbiddenReasonEnum = strawberry.enum(
    Denial,
    name="ForbiddenReason",
    description="UNAUTHENTICATED: send credentials; MISSING_PERMISSION: this role may not; "
    "OUT_OF_SCOPE: the token's plans/KPIs do not cover it.",
)


@strawberry.type(description="A reading the caller may not record: its index in the batch.")
class OutOfScopeReading:
    index: int
    kpi_id: strawberry.ID


@strawberry.type(description="The caller may not do this; nothing was written.")
class Forbidden(UserError):
    reason: Denial
    allowed_roles: list[Role] = strawberry.field(description="Roles that may do it.")
    problems: list[Problem]
    out_of_scope: list[OutOfScopeReading] = strawberry.field(
        description="For recordReadings: every reading outside the token's scope."
    )

    @classmethod
    def of(cls, error: AccessDeniedError) -> Forbidden:
        return cls(
            message=str(error),
            reason=error.denial,
            allowed_roles=roles_with(error.permission) if error.permission else [],
            problems=[Problem(path=render_path(p.path), message=p.message) for p in error.problems],
            out_of_scope=[
                OutOfScopeReading(index=o.index, kpi_id=strawberry.ID(o.kpi_id))
                for o in error.out_of_scope
            ],
        )


def as_union_member(error: PlanApiError) -> Any:
    """The union member for a refused command; anything unexpected propagates (and is masked)."""
    note_user_error(type(error).__name__)
    match error:
        case ValidationError():
            return ValidationFailed.of(error)
        case VersionConflictError():
            return VersionConflict.of(error)
        case PlanNotFoundError():
            return PlanNotFound.of(error)
        case PlanAlreadyExistsError():
            return PlanAlreadyExists.of(error)
        case IdempotencyKeyReusedError():
            return IdempotencyKeyReused.of(error)
        case AccessDeniedError():
            return Forbidden.of(error)
    raise error


def access_error(error: AccessDeniedError) -> GraphQLError:
    """For queries and subscriptions: UNAUTHENTICATED (send credentials) or FORBIDDEN."""
    code = "UNAUTHENTICATED" if error.denial is Denial.UNAUTHENTICATED else "FORBIDDEN"
    extensions: dict[str, Any] = {
        "code": code,
        "reason": error.denial.name,
        "allowedRoles": [role.name for role in roles_with(error.permission)]
        if error.permission
        else [],
    }
    return GraphQLError(str(error), extensions=extensions)


def bad_input(error: PlanApiError) -> GraphQLError:
    """For queries, which return data rather than unions: a GraphQL error with a code."""
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    if isinstance(error, ValidationError):
        extensions["problems"] = [
            {"path": render_path(p.path), "message": p.message} for p in error.problems
        ]
    if isinstance(error, PlanNotFoundError):
        extensions["code"] = "PLAN_NOT_FOUND"
    return GraphQLError(str(error), extensions=extensions, original_error=error)
