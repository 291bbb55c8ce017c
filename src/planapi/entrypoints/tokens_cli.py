"""`planapi tokens create|list|revoke`: API tokens, managed by whoever can reach the database.

Holding the database's credentials is what allows managing tokens (the `admin` role's
`manage_tokens`, held by the operator who runs this): there is deliberately no API to mint
tokens, so a stolen token can never make more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import re
import sys
from typing import Any

from planapi.application.access import Role
from planapi.application.tokens import ApiToken, TokenService
from planapi.bootstrap import Services

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(text: str) -> dt.timedelta:
    """`90d`, `12h`, `30m`, `3600s`, `2w`."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number and a unit (s, m, h, d, w)")
    return dt.timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def add_parser(commands: Any) -> None:
    tokens = commands.add_parser("tokens", help="create, list and revoke API tokens")
    actions = tokens.add_subparsers(dest="action", required=True)

    create = actions.add_parser(
        "create", help="create a token; its secret is printed once, on stdout, and never again"
    )
    create.add_argument("--name", required=True, help="recorded as `actor` on what it writes")
    create.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r is not Role.ANONYMOUS]
    )
    create.add_argument(
        "--plan",
        action="append",
        dest="plans",
        metavar="PLAN_ID",
        help="integrators: a plan it may record readings for (repeat; * for any)",
    )
    create.add_argument(
        "--kpi",
        action="append",
        dest="kpis",
        metavar="KPI_ID",
        help="integrators: a KPI it may record readings for (repeat; * for any)",
    )
    create.add_argument(
        "--grant",
        action="append",
        dest="grants",
        default=[],
        metavar="ACT:AUTHORITY",
        help="proposals: review:TDAG, adopt:WTDC … (repeat; see docs/security.md)",
    )
    create.add_argument(
        "--expires-in", type=duration, metavar="DURATION", help="e.g. 90d, 12h (default: never)"
    )
    create.add_argument("--json", action="store_true", help="print the token as JSON")

    listing = actions.add_parser("list", help="every token (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked and expired ones")
    listing.add_argument("--json", action="store_true")

    revoke = actions.add_parser("revoke", help="revoke a token by id, or every active one by name")
    revoke.add_argument("token", metavar="ID_OR_NAME")


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (containers)
        return "cli"


def _described(token: ApiToken, now: dt.datetime) -> dict[str, Any]:
    def instant(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": token.id,
        "name": token.name,
        "role": token.role.value,
        "plans": list(token.plans) if token.plans is not None else None,
        "kpis": list(token.kpis) if token.kpis is not None else None,
        "grants": list(token.grants),
        "state": token.state(now),
        "createdAt": instant(token.created_at),
        "createdBy": token.created_by,
        "expiresAt": instant(token.expires_at),
        "revokedAt": instant(token.revoked_at),
        "lastUsedAt": instant(token.last_used_at),
    }


async def run(services: Services, args: argparse.Namespace) -> int:
    tokens = services.tokens
    assert isinstance(tokens, TokenService)
    now = dt.datetime.now(dt.UTC)
    match args.action:
        case "create":
            await _create(tokens, args, now)
        case "list":
            await _list(tokens, args, now)
        case "revoke":
            return await _revoke(tokens, args)
    return 0


async def _create(tokens: TokenService, args: argparse.Namespace, now: dt.datetime) -> None:
    issued = await tokens.create(
        args.name,
        Role(args.role),
        plans=args.plans,
        kpis=args.kpis,
        expires_in=args.expires_in,
        created_by=_operator(),
        grants=args.grants,
    )
    described = _described(issued.token, now)
    if args.json:
        print(json.dumps({**described, "token": issued.secret}))
        return
    print(issued.secret)
    print(
        f"created token {issued.token.id} {issued.token.name!r} "
        f"(role {issued.token.role}, scope {issued.token.scope.describe()}, "
        f"expires {described['expiresAt'] or 'never'}). The secret above is shown "
        "this once: store it now, it cannot be shown again.",
        file=sys.stderr,
    )


async def _list(tokens: TokenService, args: argparse.Namespace, now: dt.datetime) -> None:
    found = [
        _described(token, now)
        for token in await tokens.all()
        if args.all or token.state(now) == "active"
    ]
    if args.json:
        print(json.dumps(found, indent=2))
        return
    if not found:
        print("no tokens")
    for item in found:
        print(_line(item))


def _line(item: dict[str, Any]) -> str:
    scope = ""
    if item["plans"] is not None or item["kpis"] is not None:
        plans = ",".join(item["plans"] or ["*"])
        kpis = ",".join(item["kpis"] or ["*"])
        scope = f" plans={plans} kpis={kpis}"
    return (
        f"{item['id']}  {item['name']}  {item['role']}  {item['state']}"
        f"{scope}  created {item['createdAt']} by {item['createdBy']}"
        f"  expires {item['expiresAt'] or 'never'}"
        f"  last used {item['lastUsedAt'] or 'never'}"
    )


async def _revoke(tokens: TokenService, args: argparse.Namespace) -> int:
    revoked = await tokens.revoke(args.token)
    if not revoked:
        print(f"planapi: no active token with id or name {args.token!r}", file=sys.stderr)
        return 1
    for token in revoked:
        print(f"revoked token {token.id} {token.name!r} (role {token.role})")
    return 0
