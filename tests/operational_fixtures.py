"""An operational plan implementing the Baku draft, made by the tests (never seeded: the
draft's activities are not ours to invent). Activities link into `baku-2026` by node id."""

from __future__ import annotations

from typing import Any

from tests.e2e.queries import add

PLAN_ID = "bdt-operational-2027"
CONNECTIVITY = "priority-affordable-connectivity"
DIGITAL = "priority-digital-transformation"
TOOLKITS = "output-toolkits"
DATA = "output-provision-of-data"


def activity(node_id: str, code: str, **fields: Any) -> dict[str, Any]:
    given: dict[str, Any] = {
        "outputIds": [TOOLKITS],
        "servesIds": [CONNECTIVITY],
        "responsibleUnit": "BDT/IEE",
        "regions": ["AFRICA"],
        "countries": ["KEN", "RWA"],
        "start": "2027-01-01",
        "end": "2028-12-31",
        "milestones": [{"key": "m1", "title": "Toolkit drafted", "due": "2027-06-30"}],
        "budget": [
            {"year": 2027, "source": "REGULAR_BUDGET", "amount": "120000.00"},
            {"year": 2028, "source": "ICT_DEVELOPMENT_FUND", "amount": "45000.50"},
        ],
        **fields,
    }
    return add("ACTIVITY", f"Activity {code}", id=node_id, code=code, **given)


def operational_input(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": PLAN_ID,
        "title": "ITU-D operational plan 2027-2030",
        "periodStart": 2027,
        "periodEnd": 2030,
        "authority": "BDT",
        "rationale": "Prepared by BDT with TDAG for the Council",
        "planKind": "OPERATIONAL_PLAN",
        "implements": "baku-2026",
        "changes": list(changes),
        **extra,
    }
