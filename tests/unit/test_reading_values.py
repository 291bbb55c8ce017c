"""The common case of a reading's number (a value alone, for a numeric KPI) is taken without
the general check, yet answers as it does: the same value kept, the same problems."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planapi.domain.bounds import outside
from planapi.domain.errors import Problem
from planapi.domain.reading_values import _value, check_value
from planapi.domain.readings import NewReading, ReadingStatus
from tests.readings_fixtures import kpi

NUMBERS = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1E+999999999"), Decimal("-50"), Decimal("100.5"), Decimal("0")]),
)


def _general(node_id: str, reading: NewReading) -> tuple[Decimal | None, list[Problem]]:
    """check_value as it was: the general check, then the KPI's range."""
    problems: list[Problem] = []
    node = kpi(node_id)
    found = _value(node, reading, ("readings", 0), problems)
    why = None if found is None else outside(node, found)
    if why is not None:
        field = "value" if reading.value is not None else "numerator"
        return None, [*problems, Problem(("readings", 0, field), why)]
    return found, problems


@given(
    st.sampled_from(["kpi-1", "kpi-2", "kpi-3", "kpi-4"]),
    NUMBERS,
    NUMBERS,
    st.sampled_from([None, "text"]),
)
def test_a_value_is_checked_as_the_general_check_does(
    node_id: str, value: Decimal | None, numerator: Decimal | None, text: str | None
) -> None:
    reading = NewReading("x", "2027", ReadingStatus.FINAL, value, text, numerator)
    problems: list[Problem] = []
    found = check_value(kpi(node_id), reading, ("readings", 0), problems)
    assert (found, problems) == _general(node_id, reading)
