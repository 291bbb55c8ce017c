"""Authority grants: who may review, adopt or reject proposals on behalf of which body.

A role says what kind of caller someone is (an editor drafts); a grant says for which of the
plan's authorities they act: `review:TDAG` may approve or ask for changes as TDAG, `adopt:WTDC`
may adopt (or reject) proposals whose amendment is WTDC's to make. Grants are held by API
tokens (`planapi tokens create --grant …`) and OIDC principals (a configurable claim). The
admin role holds every grant. The rules, in one place (docs/security.md, "Proposals"):

* proposeAmendment: the `amend` permission (editors), for any authority — drafting is open.
* reviseProposal, withdrawProposal: the proposal's author (or an admin), while it is open.
* reviewProposal: any authenticated reader may COMMENT; APPROVE and REQUEST_CHANGES need a
  `review:<authority>` grant, and the review records that authority.
* adoptProposal, rejectProposal: the `amend` permission and an `adopt:<authority>` grant for the
  authority the proposal's amendment is made under.
* amendPlan under an authority listed in PLANAPI_PROPOSAL_AUTHORITIES: refused, naming
  proposeAmendment (none are listed by default).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from planapi.application.access import AccessDeniedError, Denial, Permission, Principal, Role
from planapi.domain.errors import Problem, ValidationError
from planapi.domain.events import Authority


class Act(enum.StrEnum):
    REVIEW = "review"
    ADOPT = "adopt"


def grant(act: Act, authority: Authority) -> str:
    return f"{act.value}:{authority.value}"


def parse_grants(texts: Iterable[str], path: str = "grant") -> frozenset[str]:
    """`review:TDAG`, `adopt:WTDC` … checked and spelled canonically (ValidationError naming
    each bad one)."""
    found: set[str] = set()
    problems: list[Problem] = []
    for index, text in enumerate(texts):
        act, _, body = text.strip().partition(":")
        try:
            found.add(grant(Act(act.lower()), Authority(body.upper())))
        except ValueError:
            acts = "|".join(a.value for a in Act)
            bodies = "|".join(a.value for a in Authority)
            problems.append(Problem((path, index), f"{text!r}: expected <{acts}>:<{bodies}>"))
    if problems:
        raise ValidationError(problems)
    return frozenset(found)


def known_grants(texts: Iterable[str]) -> frozenset[str]:
    """The grants among `texts` this code knows (an identity provider's claim may hold more)."""
    found: set[str] = set()
    for text in texts:
        try:
            found |= parse_grants([text])
        except ValidationError:
            continue
    return frozenset(found)


def holds(principal: Principal, act: Act, authority: Authority) -> bool:
    return principal.role is Role.ADMIN or grant(act, authority) in principal.grants


def authorities_for(principal: Principal, act: Act) -> list[Authority]:
    return [authority for authority in Authority if holds(principal, act, authority)]


def require_grant(principal: Principal, act: Act, authority: Authority, what: str) -> None:
    if not holds(principal, act, authority):
        raise AccessDeniedError(
            Denial.MISSING_PERMISSION,
            f"{principal.name} may not {what}: it needs the grant {grant(act, authority)}",
            permission=Permission.AMEND,
        )


def require_signed(principal: Principal, what: str) -> None:
    """A review is signed by its author: anonymous callers may read proposals, not review."""
    if not principal.authenticated:
        raise AccessDeniedError(
            Denial.UNAUTHENTICATED,
            f"authentication required to {what}",
            permission=Permission.READ,
        )


def require_author(principal: Principal, author: str, what: str) -> None:
    if principal.role is not Role.ADMIN and principal.name != author:
        raise AccessDeniedError(
            Denial.MISSING_PERMISSION,
            f"only the proposal's author ({author}) or an admin may {what}",
            permission=Permission.AMEND,
        )


def require_direct(authorities: frozenset[Authority], authority: Authority) -> None:
    """amendPlan under an authority whose amendments must go through proposals: refused."""
    if authority in authorities:
        raise AccessDeniedError(
            Denial.MISSING_PERMISSION,
            f"amendments under {authority.value} go through proposals: use proposeAmendment, "
            "then have it reviewed and adopted",
            permission=Permission.AMEND,
        )
