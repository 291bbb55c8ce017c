"""Who may do what: roles, the permissions each grants, the caller (`Principal`) and its scope.

Every way in (an API token, an OIDC bearer JWT, no credentials at all, the service itself)
ends as one `Principal`; every guard — GraphQL root fields, HTTP routes, the readings use case —
asks it for a `Permission`, never for a role, so what a role may do is said once, here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from planapi.domain.errors import PlanApiError, Problem


class Role(StrEnum):
    """One per principal. `anonymous` is the caller without credentials."""

    ANONYMOUS = "anonymous"
    READER = "reader"
    AUDITOR = "auditor"
    EDITOR = "editor"
    INTEGRATOR = "integrator"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # plans, versions, diffs, history, readings, subscriptions
    AUDIT = "audit"  # verifyIntegrity, the event feed, document/diff exports, the audit page
    AMEND = "amend"  # amendPlan
    RECORD_READINGS = "record_readings"  # recordReadings, POST /ingest/readings (within scope)
    CREATE_PLAN = "create_plan"  # createPlan
    MANAGE_TOKENS = "manage_tokens"  # `planapi tokens` (the CLI holds this by construction)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANONYMOUS: frozenset(),  # what anonymous callers get is a setting: see anonymous()
    Role.READER: frozenset({Permission.READ}),
    Role.AUDITOR: frozenset({Permission.READ, Permission.AUDIT}),
    Role.EDITOR: frozenset({Permission.READ, Permission.AMEND}),
    Role.INTEGRATOR: frozenset({Permission.READ, Permission.RECORD_READINGS}),
    Role.ADMIN: frozenset(Permission),
}

# Roles that can only read: the only ones anonymous callers may be given, and the only ones a
# browser's cached Basic credentials may carry (see docs/security.md).
READ_ONLY_ROLES = frozenset({Role.READER, Role.AUDITOR})

# When an identity provider asserts several roles, the principal takes the first of these.
ROLE_PRECEDENCE = (Role.ADMIN, Role.EDITOR, Role.INTEGRATOR, Role.AUDITOR, Role.READER)

WILDCARD = "*"


def roles_with(permission: Permission) -> list[Role]:
    """The roles that grant `permission` (anonymous aside), for telling a refused caller."""
    return [
        role for role in Role if role is not Role.ANONYMOUS and permission in ROLE_PERMISSIONS[role]
    ]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which plans and KPIs an integrator may record readings for. `None` in a dimension means
    any; an empty set means none. A reading is in scope when both its plan and its KPI are."""

    plans: frozenset[str] | None = None
    kpis: frozenset[str] | None = None

    @classmethod
    def of(cls, plans: Iterable[str] | None, kpis: Iterable[str] | None) -> Scope:
        """From lists as given by a token or a JWT claim, where `*` stands for any."""

        def one(given: Iterable[str] | None) -> frozenset[str] | None:
            if given is None:
                return None
            items = frozenset(given)
            return None if WILDCARD in items else items

        return cls(one(plans), one(kpis))

    @property
    def unrestricted(self) -> bool:
        return self.plans is None and self.kpis is None

    def allows_plan(self, plan_id: str) -> bool:
        return self.plans is None or plan_id in self.plans

    def allows_kpi(self, kpi_id: str) -> bool:
        return self.kpis is None or kpi_id in self.kpis

    def describe(self) -> str:
        def one(items: frozenset[str] | None) -> str:
            return WILDCARD if items is None else ",".join(sorted(items)) or "(none)"

        return f"plans={one(self.plans)} kpis={one(self.kpis)}"


ANY = Scope()
NOTHING = Scope(frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `name` is recorded as `actor` on everything it writes; `role` is what a
    response cache keys on (a role sees the same data as every other holder of that role)."""

    name: str
    role: Role
    permissions: frozenset[Permission]
    # How it got in: anonymous, token (an API token), oidc (a bearer JWT), system (the service).
    credential: str
    scope: Scope = ANY
    token_id: str | None = None
    expires_at: dt.datetime | None = None
    # Whose rate-limit bucket its requests draw from.
    rate_key: str = field(default="")
    # Authority grants for proposals ("review:TDAG", "adopt:WTDC"): application/grants.py.
    grants: frozenset[str] = frozenset()
    # Made afresh for every request (a bearer JWT's, verified each time), so never asked for
    # again as this object: whatever is remembered per principal would only be pushed out.
    per_request: bool = False

    @property
    def authenticated(self) -> bool:
        return self.credential != "anonymous"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def expired(self, now: dt.datetime | None = None) -> bool:
        return has_expired(self.expires_at, now)


# The bounds of what `datetime` can hold: an `exp` beyond them must not crash anything.
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def refused_from(expires: float, leeway: float = 0.0) -> dt.datetime:
    """The instant from which credentials stamped to expire at `expires` (seconds since the
    epoch, as a JWT's `exp`) are refused: `leeway` seconds later, for the clock skew between
    their issuer and us. Every check of expiry — the bearer JWT at the door, the GraphQL guard,
    the HTTP routes, a subscription before each event — compares with this one instant. An
    `exp` beyond year 9999 (correctly signed: its issuer vouches for it) is the latest instant
    there is; one before year 1 the earliest."""
    try:
        return dt.datetime.fromtimestamp(float(expires) + leeway, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return LATEST if expires > 0 else EARLIEST


def has_expired(refused_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether credentials refused from `refused_at` on (None: never) are refused `now`. The
    one comparison of expiry: `refused_at` already holds any leeway (see `refused_from`)."""
    return refused_at is not None and (now or dt.datetime.now(dt.UTC)) >= refused_at


def principal_for(
    name: str,
    role: Role,
    credential: str,
    *,
    scope: Scope = ANY,
    token_id: str | None = None,
    expires_at: dt.datetime | None = None,
    rate_key: str = "",
    grants: Iterable[str] = (),
    per_request: bool = False,
) -> Principal:
    """A principal with its role's permissions; only integrators keep a scope."""
    return Principal(
        name=name,
        role=role,
        permissions=ROLE_PERMISSIONS[role],
        credential=credential,
        scope=scope if role is Role.INTEGRATOR else ANY,
        token_id=token_id,
        expires_at=expires_at,
        rate_key=rate_key or f"{credential}:{name}",
        grants=frozenset(grants),
        per_request=per_request,
    )


def anonymous(grants: Role | None, client: str = "-") -> Principal:
    """The caller without credentials: `grants` is the read-only role it is allowed (a
    setting), or None when anonymous access is off. Its bucket is its network address."""
    if grants is not None and grants not in READ_ONLY_ROLES:
        raise ValueError(f"anonymous callers may only be given a read-only role, not {grants}")
    return Principal(
        name="anonymous",
        role=Role.ANONYMOUS,
        permissions=ROLE_PERMISSIONS[grants] if grants is not None else frozenset(),
        credential="anonymous",
        rate_key=f"anonymous:{client}",
    )


def system(name: str) -> Principal:
    """The service acting on its own (seeding a plan at start, `planapi seed`)."""
    return principal_for(name, Role.ADMIN, "system")


# -- refusals --------------------------------------------------------------------------------
class Denial(StrEnum):
    UNAUTHENTICATED = "unauthenticated"  # no (usable) credentials, and anonymous may not
    MISSING_PERMISSION = "missing_permission"  # authenticated, but the role does not allow it
    OUT_OF_SCOPE = "out_of_scope"  # the role allows it, the token's scope does not


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """One reading an integrator may not record: its index in the batch, and why."""

    index: int
    kpi_id: str


class AccessDeniedError(PlanApiError):
    """The caller may not do this. Raised by use cases (scope) and by the API's guards."""

    def __init__(
        self,
        denial: Denial,
        message: str,
        *,
        permission: Permission | None = None,
        problems: Sequence[Problem] = (),
        out_of_scope: Sequence[OutOfScope] = (),
    ) -> None:
        self.denial = denial
        self.permission = permission
        self.problems = tuple(problems)
        self.out_of_scope = tuple(out_of_scope)
        super().__init__(message)


def refusal(principal: Principal | None, permission: Permission) -> AccessDeniedError | None:
    """None when `principal` holds `permission` and its credentials have not expired;
    otherwise the error saying why not."""
    if principal is not None and principal.can(permission):
        if principal.expired():
            return AccessDeniedError(
                Denial.UNAUTHENTICATED, "the credentials have expired", permission=permission
            )
        return None
    allowed = ", ".join(roles_with(permission))
    if principal is None or not principal.authenticated:
        return AccessDeniedError(
            Denial.UNAUTHENTICATED,
            f"authentication required: send a bearer token of a role allowed to "
            f"{permission.value.replace('_', ' ')} ({allowed})",
            permission=permission,
        )
    return AccessDeniedError(
        Denial.MISSING_PERMISSION,
        f"the role {principal.role} may not {permission.value.replace('_', ' ')} "
        f"(roles that may: {allowed})",
        permission=permission,
    )


def check_reading_scope(scope: Scope, who: str, plan_id: str, kpi_ids: Sequence[str]) -> None:
    """Raise AccessDeniedError naming every reading (by index) outside `scope`; `who` holds it."""
    if scope.unrestricted:
        return
    if not scope.allows_plan(plan_id):
        raise AccessDeniedError(
            Denial.OUT_OF_SCOPE,
            f"{who} may not record readings for plan {plan_id!r} ({scope.describe()})",
            permission=Permission.RECORD_READINGS,
            problems=[Problem(("plan_id",), f"plan {plan_id!r} is outside the token's scope")],
            out_of_scope=[OutOfScope(i, kpi) for i, kpi in enumerate(kpi_ids)],
        )
    outside = [OutOfScope(i, kpi) for i, kpi in enumerate(kpi_ids) if not scope.allows_kpi(kpi)]
    if outside:
        raise AccessDeniedError(
            Denial.OUT_OF_SCOPE,
            f"{len(outside)} of {len(kpi_ids)} readings are for KPIs outside the scope of "
            f"{who} ({scope.describe()}); nothing was stored",
            permission=Permission.RECORD_READINGS,
            problems=[
                Problem(("readings", o.index, "kpi_id"), f"KPI {o.kpi_id!r} is outside the scope")
                for o in outside
            ],
            out_of_scope=outside,
        )
