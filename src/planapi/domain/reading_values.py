"""The number a reading gives: a value, a numerator and denominator, or text for a qualitative
KPI, checked against the KPI's measure. Part of checking a reading (`readings.check_readings`)."""

from __future__ import annotations

from decimal import Decimal, DefaultContext, InvalidOperation, Overflow
from typing import TYPE_CHECKING

from planapi.domain.bounds import outside
from planapi.domain.errors import Problem
from planapi.domain.nodes import Measure, Node

if TYPE_CHECKING:
    from planapi.domain.readings import NewReading

# Exponents decimal arithmetic can hold (1E+1000000 parses, but cannot be subtracted from).
_EMIN, _EMAX = DefaultContext.Emin, DefaultContext.Emax


def check_value(
    kpi: Node, reading: NewReading, path: tuple[str | int, ...], problems: list[Problem]
) -> Decimal | None:
    value = reading.value
    if (
        value is not None  # the common case: a finite value alone, for a numeric KPI
        and reading.numerator is None
        and reading.denominator is None
        and reading.text is None
        and kpi.measure is not Measure.QUALITATIVE
        and value.is_finite()
        and _EMIN <= value.adjusted() <= _EMAX
    ):
        found: Decimal | None = value
    else:
        found = _value(kpi, reading, path, problems)
    why = None if found is None else outside(kpi, found)
    if why is not None:
        field = "value" if reading.value is not None else "numerator"
        problems.append(Problem((*path, field), why))
        return None
    return found


def _value(
    kpi: Node, reading: NewReading, path: tuple[str | int, ...], problems: list[Problem]
) -> Decimal | None:
    if kpi.measure is Measure.QUALITATIVE:
        if reading.text is None or not reading.text.strip():
            problems.append(Problem((*path, "text"), f"KPI {kpi.id} is qualitative: give text"))
        for name in ("value", "numerator", "denominator"):
            if getattr(reading, name) is not None:
                problems.append(
                    Problem((*path, name), f"KPI {kpi.id} is qualitative: give text only")
                )
        return None
    if reading.text is not None:
        problems.append(Problem((*path, "text"), f"KPI {kpi.id} is numeric: give a value"))
    numbers = (
        ("value", reading.value),
        ("numerator", reading.numerator),
        ("denominator", reading.denominator),
    )
    for name, number in numbers:
        if number is None:
            continue
        if not number.is_finite():
            problems.append(Problem((*path, name), "must be a finite number"))
        elif not _EMIN <= number.adjusted() <= _EMAX:
            # Stored for good, it would break every sum and comparison made with it later.
            problems.append(Problem((*path, name), "is too large or too small a number"))
    if problems:
        return None
    derived = (
        None
        if reading.numerator is None and reading.denominator is None
        else _ratio(kpi, reading, path, problems)
    )
    if reading.value is None and derived is None:
        if not problems:
            problems.append(Problem((*path, "value"), "is required"))
        return None
    if reading.value is not None and derived is not None and not _agrees(reading.value, derived):
        problems.append(
            Problem(
                (*path, "value"),
                f"{reading.value} does not match numerator/denominator ({derived.normalize()})",
            )
        )
    return reading.value if reading.value is not None else derived


def _ratio(
    kpi: Node, reading: NewReading, path: tuple[str | int, ...], problems: list[Problem]
) -> Decimal | None:
    numerator, denominator = reading.numerator, reading.denominator
    if numerator is None and denominator is None:
        return None
    if numerator is None or denominator is None:
        missing = "numerator" if numerator is None else "denominator"
        problems.append(Problem((*path, missing), "give numerator and denominator together"))
        return None
    if denominator == 0:
        problems.append(Problem((*path, "denominator"), "must not be zero"))
        return None
    try:
        ratio = numerator / denominator
        return ratio * 100 if kpi.measure is Measure.PERCENTAGE else ratio
    except Overflow:
        problems.append(Problem((*path, "numerator"), "numerator/denominator is out of range"))
        return None
    except InvalidOperation:
        problems.append(Problem((*path, "denominator"), "cannot divide by it"))
        return None


def _agrees(given: Decimal, derived: Decimal) -> bool:
    """The given value may be rounded: it must equal the exact ratio to its own precision."""
    exponent = given.as_tuple().exponent
    if not isinstance(exponent, int):
        return False
    try:
        tolerance = Decimal(1).scaleb(exponent) / 2
        return abs(given - derived) <= tolerance
    except Overflow:  # beyond what arithmetic can hold: nowhere near any ratio
        return False
