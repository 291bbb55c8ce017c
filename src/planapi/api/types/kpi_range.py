"""A KPI's range as GraphQL fields: what its targets and readings must fit (domain/bounds.py)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from planapi.domain import bounds
from planapi.domain.nodes import Node


@strawberry.type(description="A KPI's range.")
class KpiRange:
    """Mixed into the Kpi type (it is never a type of the schema by itself)."""

    node: strawberry.Private[Node]

    @strawberry.field(
        description="The least value targets and readings may take (a PERCENTAGE: 0 unless "
        "declared); null: no bound."
    )
    def minimum(self) -> Decimal | None:
        return bounds.kpi_range(self.node)[0]

    @strawberry.field(
        description="The greatest value targets and readings may take (a PERCENTAGE: 100 "
        "unless declared; a rate such as per 100 inhabitants is not a percentage); null: no "
        "bound."
    )
    def maximum(self) -> Decimal | None:
        return bounds.kpi_range(self.node)[1]
