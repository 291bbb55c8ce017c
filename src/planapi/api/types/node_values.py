"""The small value types plan nodes carry: outside references, period values, KPI dimensions."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from planapi.api.types import scalars  # noqa: F401  (registers the domain enums)
from planapi.api.types.views import view
from planapi.domain.code_lists import is_known_reference
from planapi.domain.nodes import Dimension, Measurement, Reference, ReferenceVocabulary


@strawberry.type(description="A pointer to an outside framework (after IATI's `reference`).")
class ExternalReference:
    vocabulary: ReferenceVocabulary
    code: str
    uri: str | None
    known: bool = strawberry.field(
        description="Whether the code is in its vocabulary's shipped code list (OTHER: always). "
        "New references must be; false flags one stored before lists were checked (`99.z`)."
    )

    @classmethod
    def of(cls, ref: Reference) -> ExternalReference:
        known = is_known_reference(ref.vocabulary, ref.code)
        return cls(vocabulary=ref.vocabulary, code=ref.code, uri=ref.uri, known=known)


@strawberry.type(description="A value for a period: a KPI baseline or target. Exact decimals.")
class PeriodValue:
    period: str
    value: Decimal

    @classmethod
    def of(cls, measurement: Measurement) -> PeriodValue:
        return cls(period=measurement.period, value=measurement.value)


@strawberry.type(description="A disaggregation dimension a KPI declares, with its values.")
class KpiDimension:
    name: str
    values: list[str]
    code_list: str | None = strawberry.field(
        description="The code list the dimension's values come from, if bound."
    )

    @classmethod
    def of(cls, dimension: Dimension) -> KpiDimension:
        return cls(
            name=dimension.name, values=list(dimension.values), code_list=dimension.code_list
        )


# Read inside a node's view (`api.types.views`): the domain values themselves, same attributes.
view(
    PeriodValue,
    lambda measurement, plan: PeriodValue.of(measurement),
    period="period",
    value="value",
)
view(
    KpiDimension,
    lambda dimension, plan: KpiDimension.of(dimension),
    name="name",
    values="values",
    code_list="code_list",
)
