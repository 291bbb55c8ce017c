"""The seeded Baku plan grown to N KPIs: outcomes under its priorities, KPIs under those.

`grow_inputs(first_version, kpis)` gives the `amendPlan` inputs (at most 1,000 changes each)
that add them, for tests and benchmarks alike."""

from __future__ import annotations

from typing import Any

from planapi.entrypoints.seeding import seed_input

PLAN_ID = "baku-2026"
MAX_CHANGES = 1_000


def priorities() -> list[str]:
    return [
        change["addNode"]["id"]
        for change in seed_input("baku")["changes"]
        if "addNode" in change and change["addNode"]["kind"] == "PRIORITY"
    ]


def grow_changes(kpis: int, outcomes_per_priority: int = 4) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    outcomes = []
    for priority in priorities():
        for number in range(1, outcomes_per_priority + 1):
            outcome = f"{priority}-o{number}"
            outcomes.append(outcome)
            changes.append(
                {
                    "addNode": {
                        "kind": "OUTCOME",
                        "id": outcome,
                        "parentId": priority,
                        "code": str(number),
                        "title": f"Outcome {number}",
                    }
                }
            )
    for number in range(kpis):
        changes.append(
            {
                "addNode": {
                    "kind": "KPI",
                    "id": f"kpi-{number}",
                    "parentId": outcomes[number % len(outcomes)],
                    "code": str(number),
                    "title": f"Indicator {number}",
                    "unit": "%",
                    "measure": "PERCENTAGE",
                    "direction": "INCREASE",
                    "baseline": {"period": "2025", "value": "12.5"},
                    "targets": [{"period": "2029", "value": "40"}],
                }
            }
        )
    return changes


def grow_inputs(
    first_version: int, kpis: int, plan_id: str = PLAN_ID, outcomes_per_priority: int = 4
) -> list[dict[str, Any]]:
    """amendPlan inputs, in order, starting from `first_version` (the version they amend)."""
    changes = grow_changes(kpis, outcomes_per_priority)
    chunks = [changes[i : i + MAX_CHANGES] for i in range(0, len(changes), MAX_CHANGES)]
    return [
        {
            "planId": plan_id,
            "expectedVersion": first_version + index,
            "authority": "TDAG",
            "rationale": "Grown for measurement",
            "changes": chunk,
        }
        for index, chunk in enumerate(chunks)
    ]
