"""The SDG code lists are the whole framework, consistent with themselves: what a statistics
office's indicator codes are checked against."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from planapi.domain.code_lists import code_list


def _raw(name: str) -> dict[str, Any]:
    text = resources.files("planapi").joinpath(f"code_lists/{name}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_goals_targets_and_indicators_are_all_there() -> None:
    goals = code_list("SDG_GOALS")
    targets = code_list("SDG_TARGETS")
    indicators = code_list("SDG_INDICATORS")
    assert goals is not None
    assert targets is not None
    assert indicators is not None

    assert [c.id for c in goals.codes] == [str(n) for n in range(1, 18)]
    assert len(targets.codes) == 169
    assert len(indicators.codes) == 251
    assert {c.parent for c in targets.codes} == {c.id for c in goals.codes}
    target_ids = {c.id for c in targets.codes}
    assert all(c.parent in target_ids for c in indicators.codes)
    assert all(c.id.rsplit(".", 1)[0] == c.parent for c in indicators.codes)
    assert all(c.name and not c.name.startswith("Target ") for c in targets.codes)


def test_repeated_indicators_share_one_unsd_code() -> None:
    codes = _raw("sdg_indicators")["codes"]
    by_unsd: dict[str, list[str]] = {}
    for code in codes:
        by_unsd.setdefault(code["unsdCode"], []).append(code["id"])

    # 1.5.1 (disaster deaths) is listed again under 11.5 and 13.1, as in the framework.
    assert by_unsd["C200303"] == ["1.5.1", "11.5.1", "13.1.1"]
    assert len(by_unsd) == 235
    names = {code["id"]: code["name"] for code in codes}
    assert names["1.5.1"] == names["11.5.1"] == names["13.1.1"]


def test_each_sdg_list_names_its_source_and_date() -> None:
    for name in ("sdg_goals", "sdg_targets", "sdg_indicators"):
        raw = _raw(name)
        assert "2025" in raw["source"]
        assert "A/RES/71/313" in raw["source"]
        assert raw["asOf"] == "2025-03-07"
