"""SDMX-JSON 2.0 data messages on POST /ingest/readings (`application/vnd.sdmx.data+json`).

A JSON message cannot be read a row at a time, so the body (already bounded by the route's
size limit) is decoded whole by msgspec; each observation, series-keyed or flat, is turned into
the row of columns an SDMX-CSV body would have given and mapped by the same `domain.sdmx`
rules. JSON has no lines: a problem's `line` counts observations, in message order, from 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from planapi.api.routes.sdmx import Collects, row_reading
from planapi.domain.sdmx import Feed, SdmxRowError

SDMX_JSON_TYPES = {"application/vnd.sdmx.data+json"}
# The dataset's action, as SDMX-CSV's ACTION column spells it.
_ACTIONS = {"information": "I", "append": "A", "replace": "R", "delete": "D"}


def _code(value: dict[str, Any]) -> str:
    found = value.get("id", value.get("value", ""))
    return str(found)


def _components(structure: dict[str, Any], group: str, level: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (structure.get(group) or {}).get(level) or []
    return found


def _dataflow(structure: dict[str, Any]) -> str:
    for link in structure.get("links") or []:
        urn = str(link.get("urn", ""))
        if "Dataflow=" in urn:
            return urn.split("Dataflow=", 1)[1]
    return str(structure.get("dataflow", ""))


def _pick(components: list[dict[str, Any]], indexes: list[Any]) -> dict[str, str]:
    out = {}
    for component, index in zip(components, indexes, strict=False):
        if index is None:
            continue
        values = component.get("values") or []
        out[component["id"]] = _code(values[int(index)]) if values else str(index)
    return out


def _observations(message: dict[str, Any]) -> Iterator[dict[str, str]]:
    data = message.get("data") or {}
    structures = data.get("structures") or [data.get("structure") or {}]
    for dataset in data.get("dataSets") or []:
        structure = structures[int(dataset.get("structure", 0))]
        common = {
            "ACTION": _ACTIONS.get(str(dataset.get("action", "information")).lower(), "?"),
            "DATAFLOW": _dataflow(structure),
        }
        series_dims = _components(structure, "dimensions", "series")
        obs_dims = _components(structure, "dimensions", "observation")
        series_attrs = _components(structure, "attributes", "series")
        obs_attrs = _components(structure, "attributes", "observation")
        measures = _components(structure, "measures", "observation") or [{"id": "OBS_VALUE"}]
        for key, series in (dataset.get("series") or {"": dataset}).items():
            head = _pick(series_dims, key.split(":")) if key else {}
            head.update(_pick(series_attrs, series.get("attributes") or []))
            for obs_key, values in (series.get("observations") or {}).items():
                dims = obs_dims if key else [*series_dims, *obs_dims]
                row = {**common, **head, **_pick(dims, obs_key.split(":"))}
                for measure, value in zip(measures, values, strict=False):
                    row[measure["id"]] = "" if value is None else str(value)
                row.update(_pick(obs_attrs, list(values[len(measures) :])))
                yield row


def parse_sdmx_json(body: bytes, feeds: dict[str, Feed], into: Collects) -> None:
    """Each observation of an SDMX-JSON data message, as a reading or a problem `into`."""
    try:
        message = msgspec.json.decode(body)
        observations = list(_observations(message))
    except (msgspec.DecodeError, AttributeError, KeyError, IndexError, TypeError, ValueError):
        into.bad(1, "is not an SDMX-JSON 2.0 data message (data.structures, data.dataSets)")
        return
    for number, row in enumerate(observations, 1):
        try:
            column = next((c for c in ("INDICATOR", "SERIES") if c in row), "INDICATOR")
            reading = row_reading(row, column, feeds, {})
        except SdmxRowError as error:
            into.bad(number, str(error))
            continue
        if not into.take(reading, number):
            return
