"""What an activity's served ids count for (`Served`), which every budget by priority and the
implementation figures per priority and outcome split by; and that a ledger, asked by several
fields of a request with resolvers for the same version, resolves once and answers alike."""

from __future__ import annotations

from decimal import Decimal

from planapi.domain.activity_values import AllocationBasis, BudgetLine, FundingSource
from planapi.domain.changes import AddNode
from planapi.domain.ledger import Ledger, Served
from planapi.domain.nodes import Node, NodeKind
from tests.unit.strategies import amend, copy_of, new_plan

ACTION = new_plan(
    AddNode(NodeKind.PRIORITY, "Connectivity", id="p1"),
    AddNode(NodeKind.OUTCOME, "Networks", id="o1", parent_id="p1"),
    AddNode(NodeKind.OUTPUT, "Reports", id="out1"),
)


def test_an_outcome_counts_for_its_priority_or_as_itself() -> None:
    priorities, outcomes = Served(ACTION), Served(ACTION, outcomes=True)

    assert [priorities(i) for i in ("p1", "o1", "out1", "nowhere")] == ["p1", "p1", None, None]
    assert [outcomes(i) for i in ("p1", "o1", "out1", "nowhere")] == [None, "o1", None, None]
    assert Served(None)("p1") is None


def test_resolvers_of_one_version_are_equal_and_of_another_are_not() -> None:
    later = amend(ACTION, AddNode(NodeKind.PRIORITY, "Inclusion", id="p2"))

    assert Served(ACTION) == Served(copy_of(ACTION))
    assert hash(Served(ACTION)) == hash(Served(copy_of(ACTION)))
    assert Served(ACTION) != Served(later)
    assert Served(ACTION) != Served(ACTION, outcomes=True)
    # The later version's p2 counts: a split resolved for the earlier one is not reused.
    activity = Node(
        id="a1",
        kind=NodeKind.ACTIVITY,
        title="A",
        serves_ids=("p1", "p2"),
        budget=(BudgetLine(2027, FundingSource.REGULAR_BUDGET, Decimal("1.00")),),
    )
    ledger = Ledger([activity])
    assert ledger.breakdown(2027, AllocationBasis.PRIORITY, Served(ACTION)) == (100, {"p1": 100})
    assert ledger.breakdown(2027, AllocationBasis.PRIORITY, Served(later)) == (
        100,
        {"p1": 50, "p2": 50},
    )
