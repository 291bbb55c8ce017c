"""Budget breakdowns add up to the centime: whatever the shares, every breakdown of a plan's
budget sums exactly to its total, and a split follows the weights as closely as centimes allow."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planapi.domain.activity_values import (
    AllocationBasis,
    BudgetLine,
    FundingSource,
    Share,
)
from planapi.domain.allocation import split, split_cents
from planapi.domain.implementation import Tallied, tally
from planapi.domain.ledger import Ledger, breakdown
from planapi.domain.nodes import Node, NodeKind, Region

amounts = st.decimals(min_value=0, max_value=10**9, places=2)
weights = st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3)
PRIORITIES = ["p1", "p2", "p3"]
OUTPUTS = ["o1", "o2", "o3", "o4"]


@st.composite
def activities(draw: st.DrawFn) -> Node:
    outputs = draw(st.lists(st.sampled_from(OUTPUTS), unique=True, max_size=4))
    serves = draw(st.lists(st.sampled_from([*PRIORITIES, "outcome-1"]), unique=True, max_size=3))
    regions = draw(st.lists(st.sampled_from(Region), unique=True, max_size=3))
    keys = [*outputs, *serves, *(r.value for r in regions)]
    shared = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
    lines = draw(
        st.lists(
            st.builds(BudgetLine, st.integers(2027, 2030), st.sampled_from(FundingSource), amounts),
            max_size=5,
        )
    )
    return Node(
        id=draw(st.uuids()).hex,
        kind=NodeKind.ACTIVITY,
        title="Activity",
        output_ids=tuple(outputs),
        serves_ids=tuple(serves),
        regions=tuple(regions),
        shares=tuple(Share(key, draw(weights)) for key in shared),
        budget=tuple(lines),
    )


def _priority(node_id: str) -> str | None:
    return "p1" if node_id == "outcome-1" else node_id


@given(
    st.lists(activities(), max_size=8),
    st.sampled_from(AllocationBasis),
    st.sampled_from([None, 2027, 2028]),
)
def test_every_breakdown_adds_up_exactly_to_the_total(
    plan: list[Node], basis: AllocationBasis, year: int | None
) -> None:
    total, by_key = breakdown(plan, year, basis, _priority)

    assert sum(by_key.values(), Decimal(0)) == total
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in by_key.values())
    assert all(amount >= 0 for amount in by_key.values())
    # The total is the same whatever the basis.
    assert total == breakdown(plan, year, AllocationBasis.SOURCE, _priority)[0]


@given(amounts, st.lists(weights, min_size=1, max_size=7))
def test_a_split_is_within_a_centime_of_the_exact_share(
    amount: Decimal, shares: list[Decimal]
) -> None:
    parts = split(amount, shares)

    assert sum(parts, Decimal(0)) == amount
    whole = sum(shares)
    for part, weight in zip(parts, shares, strict=True):
        assert abs(part - amount * weight / whole) < Decimal("0.01")


@given(st.integers(-(10**9), 10**11), st.integers(1, 9))
def test_an_equal_split_is_the_largest_remainder_split(cents: int, keys: int) -> None:
    # Hamilton's method spelled out: floors, then a centime each by largest remainder, ties to
    # the earlier key. The equal-weights shortcut must give exactly this.
    shares = [divmod(cents, keys) for _ in range(keys)]
    parts = [floor for floor, _ in shares]
    for i in sorted(range(keys), key=lambda i: (-shares[i][1], i))[: cents - sum(parts)]:
        parts[i] += 1

    assert split_cents(cents, [Decimal(1)] * keys) == parts


def test_an_even_split_gives_the_odd_centime_to_the_first() -> None:
    assert split(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


def test_explicit_shares_weigh_and_the_rest_weigh_one() -> None:
    activity = Node(
        id="a1",
        kind=NodeKind.ACTIVITY,
        title="A",
        output_ids=("o1", "o2"),
        shares=(Share("o1", Decimal(3)),),
        budget=(BudgetLine(2027, FundingSource.REGULAR_BUDGET, Decimal("1000.00")),),
    )

    total, by_output = breakdown([activity], 2027, AllocationBasis.OUTPUT, _priority)

    assert total == Decimal("1000.00")
    assert by_output == {"o1": Decimal("750.00"), "o2": Decimal("250.00")}
    _, by_region = breakdown([activity], 2027, AllocationBasis.REGION, _priority)
    assert by_region == {None: Decimal("1000.00")}  # serves no region: unallocated


@given(
    st.lists(activities(), max_size=8, unique_by=lambda node: node.id),
    st.sampled_from([AllocationBasis.OUTPUT, AllocationBasis.PRIORITY, AllocationBasis.REGION]),
    st.sampled_from([None, 2027, 2028]),
)
def test_implementation_figures_split_the_budget_as_the_breakdown_does(
    plan: list[Node], basis: AllocationBasis, year: int | None
) -> None:
    per_activity, [by_key] = tally(plan, {}, year, (basis,), _priority)
    _, budget = breakdown(plan, year, basis, _priority)

    # Every part of the budget is the figures' budget; an activity without lines in the period
    # still counts as planned, with nothing to split.
    assert {key: by_key[key].budget_planned for key in budget} == budget
    assert all(f.budget_planned == 0 for key, f in by_key.items() if key not in budget)
    total = sum((f.budget_planned for f in per_activity.values()), Decimal(0))
    assert sum((f.budget_planned for f in by_key.values()), Decimal(0)) == total


@given(
    st.lists(activities(), max_size=8, unique_by=lambda node: node.id),
    st.lists(
        st.tuples(st.sampled_from(AllocationBasis), st.sampled_from([None, 2027, 2028])),
        min_size=2,
        max_size=6,
    ),
)
def test_a_ledger_asked_many_questions_answers_each_as_a_fresh_one(
    plan: list[Node], questions: list[tuple[AllocationBasis, int | None]]
) -> None:
    # A request asks one ledger for every breakdown and figure: what it made ready for one
    # question (a year's budgets, a basis's splits) must not change another's answer.
    shared = Ledger(plan)
    for basis, year in questions:
        assert shared.breakdown(year, basis, _priority) == Ledger(plan).breakdown(
            year, basis, _priority
        )
        if basis is not AllocationBasis.SOURCE:
            tallied = Tallied(shared, {}, year)
            assert tallied.by(basis, _priority) == tally(plan, {}, year, (basis,), _priority)[1][0]
