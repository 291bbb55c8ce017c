"""The checks an operational plan's activity must pass: links into the action plan it
implements (by the action plan's stable node ids), countries, dates, status, milestones, budget
lines and allocation shares. Field checks see one value; `activity_problems` sees the whole
node, for what spans fields (end after start, budget lines within the activity's years)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import pycountry

from planapi.domain.activity_values import (
    AMENDABLE_STATUSES,
    ActivityStatus,
    BudgetLine,
    Milestone,
    Share,
)
from planapi.domain.errors import Problem
from planapi.domain.events import PlanStatus
from planapi.domain.nodes import Node, NodeKind
from planapi.domain.plan import PlanBuilder, PlanState

Path = tuple[str | int, ...]
CENTIME = Decimal("0.01")
MAX_CHF = Decimal(10) ** 15  # beyond any budget; keeps every sum exact in 28 digits
MAX_WEIGHT = Decimal(10) ** 6


def is_chf(amount: Decimal) -> bool:
    """Swiss francs to the centime, not negative, of a size a budget can have."""
    return (
        amount.is_finite() and Decimal(0) <= amount < MAX_CHF and amount == amount.quantize(CENTIME)
    )


def _linked(*kinds: NodeKind) -> Callable[[PlanBuilder, object, Path], list[Problem]]:
    """Each id must name a node of `kinds` in the implemented action plan."""
    wanted = "/".join(kind.value for kind in kinds)

    def check(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
        ids = _tuple(value)
        problems = _distinct(ids, path)
        plan = work.implemented
        if plan is None:
            return [*problems, Problem(path, "the action plan this plan implements was not read")]
        for i, node_id in enumerate(ids):
            node = plan.node(str(node_id))
            if node is None or node.kind not in kinds:
                problems.append(Problem((*path, i), f"no {wanted} {node_id!r} in {_version(plan)}"))
        return problems

    return check


def _version(plan: PlanState) -> str:
    """Which version of the action plan a link was checked against, as a reader needs it."""
    which = "in force" if plan.status is PlanStatus.ADOPTED else "the latest: none in force"
    return f"action plan {plan.id!r} as of version {plan.version} ({which})"


def _check_countries(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    codes = _tuple(value)
    problems = _distinct(codes, path)
    for i, code in enumerate(codes):
        if not (isinstance(code, str) and len(code) == 3 and code.isupper()) or (
            pycountry.countries.get(alpha_3=code) is None
        ):
            problems.append(Problem((*path, i), f"{code!r} is not an ISO 3166-1 alpha-3 code"))
    return problems


def _check_regions(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    return _distinct(_tuple(value), path)


def _check_unit(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    text = str(value)
    if not text.strip() or len(text) > 200:
        return [Problem(path, "must be 1-200 characters")]
    return []


def _check_status(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    if value in AMENDABLE_STATUSES:
        return []
    allowed = ", ".join(sorted(s.value for s in AMENDABLE_STATUSES))
    shown = value.value if isinstance(value, ActivityStatus) else value
    return [Problem(path, f"an amendment sets {allowed}; {shown} is recorded by execution records")]


def _check_milestones(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, milestone in enumerate(_tuple(value)):
        assert isinstance(milestone, Milestone)
        if not milestone.key.strip() or len(milestone.key) > 64:
            problems.append(Problem((*path, i, "key"), "must be 1-64 characters"))
        if milestone.key in seen:
            problems.append(Problem((*path, i, "key"), f"{milestone.key!r} is given twice"))
        seen.add(milestone.key)
        if not milestone.title.strip() or len(milestone.title) > 500:
            problems.append(Problem((*path, i, "title"), "must be 1-500 characters"))
    return problems


def _check_budget(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[int, object]] = set()
    for i, line in enumerate(_tuple(value)):
        assert isinstance(line, BudgetLine)
        if not is_chf(line.amount):
            problems.append(
                Problem((*path, i, "amount"), "must be CHF, not negative, to the centime")
            )
        if (line.year, line.source) in seen:
            problems.append(
                Problem((*path, i), f"{line.year} {line.source.value} has two budget lines")
            )
        seen.add((line.year, line.source))
    return problems


def _check_shares(work: PlanBuilder, value: object, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, share in enumerate(_tuple(value)):
        assert isinstance(share, Share)
        weight = share.weight
        if not (
            weight.is_finite()
            and 0 < weight <= MAX_WEIGHT
            and weight == weight.quantize(Decimal("0.000001"))
        ):
            problems.append(
                Problem((*path, i, "weight"), "must be positive, at most 1,000,000, 6 places")
            )
        if share.key in seen:
            problems.append(Problem((*path, i, "key"), f"{share.key!r} has two shares"))
        seen.add(share.key)
    return problems


ACTIVITY_CHECKS: dict[str, Callable[[PlanBuilder, object, Path], list[Problem]]] = {
    "output_ids": _linked(NodeKind.OUTPUT),
    "serves_ids": _linked(NodeKind.PRIORITY, NodeKind.OUTCOME),
    "initiative_ids": _linked(NodeKind.REGIONAL_INITIATIVE),
    "countries": _check_countries,
    "regions": _check_regions,
    "responsible_unit": _check_unit,
    "status": _check_status,
    "milestones": _check_milestones,
    "budget": _check_budget,
    "shares": _check_shares,
}


def activity_problems(work: PlanBuilder, node: Node, path: Path) -> list[Problem]:
    """What spans an activity's fields: its dates, and budget lines within its years."""
    if node.kind is not NodeKind.ACTIVITY:
        return []
    problems: list[Problem] = []
    if node.start and node.end and node.end < node.start:
        problems.append(Problem((*path, "end"), "must not be before start"))
    first = node.start.year if node.start else work.period_start
    last = node.end.year if node.end else work.period_end
    for i, line in enumerate(node.budget):
        if not first <= line.year <= last:
            problems.append(
                Problem(
                    (*path, "budget", i, "year"),
                    f"must be within the activity's years {first}-{last}",
                )
            )
    keys = {*node.output_ids, *node.serves_ids, *(region.value for region in node.regions)}
    for i, share in enumerate(node.shares):
        if share.key not in keys:
            problems.append(
                Problem(
                    (*path, "shares", i, "key"),
                    f"{share.key!r} is none of the activity's outputs, priorities or regions",
                )
            )
    return problems


def _tuple(value: object) -> tuple[object, ...]:
    assert isinstance(value, tuple)
    return value


def _distinct(items: Iterable[object], path: Path) -> list[Problem]:
    listed = list(items)
    if len(set(listed)) != len(listed):
        return [Problem(path, "each value may be given once")]
    return []


def runs_in(activity: Node, year: int | None) -> bool:
    """Whether `activity` runs in `year` (any year when None): between its start and end, or,
    without dates, in a year it has budget for."""
    if year is None:
        return True
    if activity.start or activity.end:
        first = activity.start.year if activity.start else year
        last = activity.end.year if activity.end else year
        return first <= year <= last
    return any(line.year == year for line in activity.budget)
