"""SDMX-CSV rows by position onto readings, each series mapped once per message.

A message repeats each series (indicator and dimension values) once per period: 10,000 rows are
a few hundred series by 48 months. `RowMapper` reads the header once (where each column is) and
keeps, per distinct series and per distinct TIME_PERIOD, what `sdmx.to_reading` would work out
again for every row: the KPI, the sorted disaggregation and its key, the period id — or the
problem. It answers exactly as `to_reading` over the row as {column: value} (the same reading,
or the same first problem); tests compare the two on generated rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from planapi.domain.readings import NewReading, ReadingSource, series_key
from planapi.domain.sdmx import (
    APPEND,
    NOT_DIMENSIONS,
    REPLACE,
    STATUSES,
    TOTALS,
    Feed,
    SdmxRowError,
    action_problem,
    dataflow_problem,
    dimension_names,
    obs_value,
    sdmx_period,
    status_problem,
    unfed_problem,
)

_ACTIONS = frozenset(APPEND | REPLACE)


@dataclass(slots=True)
class _Series:
    """A series as mapped: its KPI, disaggregation and source id prefix, or its problem —
    found before the row's ACTION is looked at (no KPI) or after it (another dataflow)."""

    kpi_id: str = ""
    pairs: tuple[tuple[str, str], ...] = ()
    prefix: str = ""
    problem: str | None = None
    before_action: bool = False


class RowMapper:
    """Rows of one message (fields in the header's order) onto readings."""

    def __init__(self, header: list[str], indicator: str, feeds: dict[str, Feed]) -> None:
        # As {column: value} would hold them: a repeated column's last field wins.
        at = {name: index for index, name in enumerate(header)}
        self.feeds = feeds
        self.column = indicator
        self.indicator = at[indicator]
        self.period = at["TIME_PERIOD"]
        self.value = at["OBS_VALUE"]
        self.action = at.get("ACTION")
        self.status = at.get("OBS_STATUS")
        self.multiplier = at.get("UNIT_MULT")
        self.dataflow = [at[name] for name in ("STRUCTURE_ID", "DATAFLOW") if name in at]
        self.dimensions = [
            (name, index)
            for name, index in at.items()
            if name not in NOT_DIMENSIONS and name != indicator
        ]
        self._dimension_at = [index for _, index in self.dimensions]
        self._series: dict[tuple[str, ...], _Series] = {}
        self._periods: dict[str, str] = {}
        self._names: dict[str, dict[str, str]] = {}  # per KPI

    def reading(self, fields: list[str]) -> NewReading:
        """The reading of one row (as many fields as the header); SdmxRowError if refused."""
        dataflow = next((f for f in [fields[i] for i in self.dataflow] if f), "")
        key = (fields[self.indicator], dataflow, *[fields[i] for i in self._dimension_at])
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self._map_series(key[0], dataflow, fields)
        if series.problem is not None and series.before_action:
            raise SdmxRowError(series.problem)
        action = "" if self.action is None else fields[self.action]
        if action not in _ACTIONS:
            problem = action_problem(action.strip().upper())
            if problem is not None:
                raise SdmxRowError(problem)
        if series.problem is not None:
            raise SdmxRowError(series.problem)
        period = self._periods.get(fields[self.period]) or self._period(fields[self.period])
        raw_status = "" if self.status is None else fields[self.status]
        status = STATUSES.get(raw_status.strip())
        if status is None:
            raise SdmxRowError(status_problem(raw_status))
        multiplier = None if self.multiplier is None else fields[self.multiplier]
        return NewReading(
            kpi_id=series.kpi_id,
            period=period,
            status=status,
            value=obs_value(fields[self.value], multiplier),
            disaggregation=series.pairs,
            source=ReadingSource(dataflow[:200], f"{series.prefix}{period}"[:200]),
        )

    def _map_series(self, indicator: str, dataflow: str, fields: list[str]) -> _Series:
        feed = self.feeds.get(indicator)
        if feed is None:
            return _Series(problem=unfed_problem(self.column, indicator), before_action=True)
        problem = dataflow_problem(feed, dataflow)
        if problem is not None:
            return _Series(problem=problem)
        names = self._names.get(feed.kpi.id)
        if names is None:
            names = self._names[feed.kpi.id] = dimension_names(feed.kpi)
        pairs = tuple(
            sorted(
                (names.get(column, column.lower()), fields[index])
                for column, index in self.dimensions
                if fields[index].strip() not in TOTALS
            )
        )
        return _Series(feed.kpi.id, pairs, f"{feed.indicator}:{series_key(pairs)}:")

    def _period(self, text: str) -> str:
        """A TIME_PERIOD's id, worked out once per distinct text (a refused one each time)."""
        period = self._periods[text] = sdmx_period(text)
        return period
