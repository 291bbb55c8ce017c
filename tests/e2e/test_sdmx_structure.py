"""GET /plans/{planId}/sdmx/structure: the structures a statistics office needs to read the
series export, checked by an independent SDMX implementation (sdmx1, a dev dependency): it
parses the SDMX-ML 2.1 message, then reads the SDMX-CSV export against the dataflow it found."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import sdmx

from planapi.domain import field_checks
from tests.e2e.queries import add
from tests.sdmx_messages import DATAFLOW, sdmx_csv, statistics_changes

Amend = Callable[..., Awaitable[dict[str, Any]]]
OWN_DATAFLOW = "PLANAPI:DF_baku-2026_kpi-regions(1.0)"
XML = "application/vnd.sdmx.structure+xml; version=2.1"
JSON = "application/vnd.sdmx.structure+json; version=2.0.0"
STRUCTURE = "/plans/baku-2026/sdmx/structure"


@pytest.fixture
async def plan(amend: Amend, baku: str) -> str:
    applied = await amend(
        baku,
        1,
        *statistics_changes(),
        add(
            "KPI",
            "Schools connected",
            id="kpi-regions",
            parentId="outcome-stats",
            measure="UNIT",
            unit="schools",
            dimensions=[{"name": "itu region", "codeList": "ITU_D_REGIONS"}],
            references=[{"vocabulary": "OTHER", "code": "SDMX:SCHOOLS"}],
        ),
    )
    assert applied["__typename"] == "AmendmentApplied", applied
    return baku


def csv_message() -> bytes:
    rows = [
        (
            "IT_MOB_SUBS",
            country,
            sex,
            urbanisation,
            month,
            str(100 * n + 10 * (sex == "F") + len(urbanisation)),
        )
        for n, country in enumerate(("KEN", "FRA"))
        for sex in ("F", "M")
        for urbanisation in ("U", "R", "_T")
        for month in ("2027-01", "2027-M02")
    ]
    return sdmx_csv(DATAFLOW, rows, status="P")


async def structure(client: httpx.AsyncClient, accept: str = XML, **params: Any) -> httpx.Response:
    return await client.get(STRUCTURE, headers={"accept": accept}, params=params)


def codes(component: Any) -> set[str]:
    return set(component.local_representation.enumerated.items)


async def test_the_structure_describes_each_dataflow_the_plan_is_fed_by(
    client: httpx.AsyncClient, plan: str
) -> None:
    response = await structure(client)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XML
    message = sdmx.read_sdmx(io.BytesIO(response.content))
    flows = {f"{f.maintainer.id}:{f.id}({f.version})": f for f in message.dataflow.values()}
    assert set(flows) == {DATAFLOW, OWN_DATAFLOW}
    dsd = flows[DATAFLOW].structure
    dimensions = [d.id for d in dsd.dimensions.components]
    assert dimensions == ["INDICATOR", "REF_AREA", "SEX", "URBANISATION", "TIME_PERIOD"]
    assert {a.id for a in dsd.attributes.components} == {"OBS_STATUS", "UNIT_MEASURE", "UNIT_MULT"}
    assert [m.id for m in dsd.measures.components] == ["OBS_VALUE"]
    by_id = {d.id: d for d in dsd.dimensions.components}
    assert codes(by_id["INDICATOR"]) == {"IT_MOB_SUBS"}
    assert codes(by_id["SEX"]) == {"F", "M", "_T"}
    areas = codes(by_id["REF_AREA"])
    assert {"KEN", "FRA", "BRA", "_T"} <= areas
    assert len(areas) > 240
    status = dsd.attributes.get("OBS_STATUS")
    assert set(status.local_representation.enumerated.items) == {"A", "P", "E", "F"}

    own = flows[OWN_DATAFLOW].structure
    assert [d.id for d in own.dimensions.components] == ["INDICATOR", "ITU_REGION", "TIME_PERIOD"]
    regions = own.dimensions.get("ITU_REGION")
    assert codes(regions) == {
        "AFRICA",
        "AMERICAS",
        "ARAB_STATES",
        "ASIA_PACIFIC",
        "CIS",
        "EUROPE",
        "_T",
    }


async def test_the_series_export_reads_back_against_its_structure(
    client: httpx.AsyncClient, plan: str
) -> None:
    stored = await client.post(
        "/ingest/readings",
        params={"planId": plan},
        content=csv_message(),
        headers={"content-type": "application/vnd.sdmx.data+csv; version=2.0.0"},
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["stored"] == 24
    message = sdmx.read_sdmx(io.BytesIO((await structure(client)).content))
    flow = next(f for f in message.dataflow.values() if f.id == "DF_ICT")
    export = await client.get(f"/plans/{plan}/kpis/kpi-subs/series", params={"format": "sdmx-csv"})
    assert export.status_code == 200, export.text

    data = sdmx.read_sdmx(io.BytesIO(export.content), format="CSV", structure=flow)

    observations = [obs for dataset in data.data for obs in dataset.obs]
    assert len(observations) == 24
    dimensions = {d.id: d for d in flow.structure.dimensions.components if d.id != "TIME_PERIOD"}
    seen = set()
    for obs in observations:
        key = {k: str(v.value) for k, v in obs.dimension.values.items()}
        for dimension_id, dimension in dimensions.items():
            assert key[dimension_id] in codes(dimension), (dimension_id, key)
        assert obs.attached_attribute["OBS_STATUS"].value == "P"
        seen.add(
            (key["REF_AREA"], key["SEX"], key["URBANISATION"], key["TIME_PERIOD"], float(obs.value))
        )
    assert ("FRA", "F", "_T", "2027-02", 112.0) in seen
    assert len(seen) == 24


async def test_a_dimension_named_in_words_goes_out_and_back_as_an_sdmx_id(
    client: httpx.AsyncClient, plan: str
) -> None:
    # The KPI's dimension is "itu region"; SDMX ids have no spaces, so its column is ITU_REGION.
    rows = [
        f"dataflow,{OWN_DATAFLOW},I,SCHOOLS,{region},2028,{n}"
        for n, region in enumerate(("AFRICA", "EUROPE", "_T"), start=1)
    ]
    body = "\r\n".join(
        ["STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,ITU_REGION,TIME_PERIOD,OBS_VALUE", *rows]
    )
    stored = await client.post(
        "/ingest/readings",
        params={"planId": plan},
        content=body.encode(),
        headers={"content-type": "application/vnd.sdmx.data+csv; version=2.0.0"},
    )
    assert stored.status_code == 200, stored.text
    message = sdmx.read_sdmx(io.BytesIO((await structure(client)).content))
    flow = next(f for f in message.dataflow.values() if f.id.endswith("kpi-regions"))
    export = await client.get(f"/plans/{plan}/kpis/kpi-regions/series")

    assert export.text.splitlines()[0].split(",")[4] == "ITU_REGION"
    data = sdmx.read_sdmx(io.BytesIO(export.content), format="CSV", structure=flow)
    back = {
        (str(obs.dimension.values["ITU_REGION"].value), float(obs.value))
        for dataset in data.data
        for obs in dataset.obs
    }
    assert back == {("AFRICA", 1.0), ("EUROPE", 2.0), ("_T", 3.0)}
    query = """query($id: ID!) { plan(id: $id) { node(id: "kpi-regions") {
      ... on Kpi { readings { disaggregation { dimension value } } } } } }"""
    read = await client.post("/graphql", json={"query": query, "variables": {"id": plan}})
    series = [r["disaggregation"] for r in read.json()["data"]["plan"]["node"]["readings"]]
    assert sorted(series, key=str) == [
        [],
        [{"dimension": "itu region", "value": "AFRICA"}],
        [{"dimension": "itu region", "value": "EUROPE"}],
    ]


async def test_sdmx_json_names_the_same_structures(client: httpx.AsyncClient, plan: str) -> None:
    xml = sdmx.read_sdmx(io.BytesIO((await structure(client)).content))
    response = await structure(client, accept=f"{JSON}, {XML};q=0.5")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    assert "accept" in response.headers["vary"].lower()
    data = response.json()["data"]
    urns = {
        f"urn:sdmx:org.sdmx.infomodel.{package}.{kind}={a['agencyID']}:{a['id']}({a['version']})"
        for key, package, kind in (
            ("codelists", "codelist", "Codelist"),
            ("dataStructures", "datastructure", "DataStructure"),
        )
        for a in data[key]
    }
    scheme = data["conceptSchemes"][0]
    concepts = {c["id"] for c in scheme["concepts"]}
    for flow in data["dataflows"]:
        assert flow["structure"] in urns
    for dsd in data["dataStructures"]:
        components = dsd["dataStructureComponents"]
        listed = components["dimensionList"]
        found = [
            *listed["dimensions"],
            listed["timeDimension"],
            *components["attributeList"]["attributes"],
        ]
        for component in found:
            assert component["conceptIdentity"].rsplit(".", 1)[1] in concepts
            enumeration = component["localRepresentation"].get("enumeration")
            assert enumeration is None or enumeration in urns
        from_xml = xml.structure[dsd["id"]]
        ids = [d["id"] for d in listed["dimensions"]] + ["TIME_PERIOD"]
        assert ids == [d.id for d in from_xml.dimensions.components]
    lists = {c["id"]: {code["id"] for code in c["codes"]} for c in data["codelists"]}
    assert lists == {cl.id: set(cl.items) for cl in xml.codelist.values()}


async def test_a_feed_named_otherwise_than_an_sdmx_reference_has_no_structure(
    client: httpx.AsyncClient, amend: Amend, plan: str
) -> None:
    applied = await amend(
        plan,
        2,
        add(
            "KPI",
            "Towers",
            id="kpi-towers",
            parentId="outcome-stats",
            measure="UNIT",
            unit="towers",
            references=[
                {"vocabulary": "OTHER", "code": "SDMX:TOWERS", "uri": "https://example.org/towers"}
            ],
        ),
    )
    assert applied["__typename"] == "AmendmentApplied", applied
    body = "STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,TIME_PERIOD,OBS_VALUE\r\n"
    body += "dataflow,https://example.org/towers,I,TOWERS,2028,5\r\n"
    sent = await client.post(
        "/ingest/readings",
        params={"planId": plan},
        content=body.encode(),
        headers={"content-type": "application/vnd.sdmx.data+csv; version=2.0.0"},
    )
    assert sent.status_code == 200, sent.text
    message = sdmx.read_sdmx(io.BytesIO((await structure(client)).content))
    export = await client.get(f"/plans/{plan}/kpis/kpi-towers/series")

    assert {f.id for f in message.dataflow.values()} == {"DF_ICT", "DF_baku-2026_kpi-regions"}
    # The export keeps the name the plan gave, so what it writes ingests back.
    assert export.text.splitlines()[1].split(",")[:4] == [
        "dataflow",
        "https://example.org/towers",
        "I",
        "TOWERS",
    ]


async def test_what_the_structure_route_refuses(client: httpx.AsyncClient, plan: str) -> None:
    refused = await structure(client, accept="text/csv")
    assert refused.status_code == 406
    assert "vnd.sdmx.structure+json" in refused.json()["message"]
    old_version = await structure(client, accept=f"{XML.split(';')[0]}; version=3.0")
    assert old_version.status_code == 406
    before_kpis = await structure(client, version="1")
    assert before_kpis.status_code == 409
    assert before_kpis.json()["error"] == "no_dataflow"
    for bad in ("one", "²", "1.0", "", "-1"):  # '²'.isdigit() holds, yet int() refuses it
        refused = await structure(client, version=bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["message"].startswith("version: "), refused.json()
    missing = await client.get("/plans/no-such-plan/sdmx/structure")
    assert missing.status_code == 404
    anything = await structure(client, accept="*/*")
    assert anything.headers["content-type"] == XML


async def test_a_kpi_stored_with_a_reserved_dimension_name_is_a_409_naming_both(
    client: httpx.AsyncClient, amend: Amend, baku: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Declaring it is refused now; a plan stored before the rule may still hold one.
    monkeypatch.setitem(field_checks._FIELD_CHECKS, "dimensions", lambda *_: [])
    outcome = add("OUTCOME", "Stats", id="o-stats", parentId="priority-affordable-connectivity")
    kpi = add(
        "KPI",
        "Towers",
        id="kpi-towers",
        parentId="o-stats",
        measure="UNIT",
        unit="towers",
        dimensions=[{"name": "time period", "values": ["a"]}],
        references=[{"vocabulary": "OTHER", "code": "SDMX:TOWERS"}],
    )
    applied = await amend(baku, 1, outcome, kpi)
    assert applied["__typename"] == "AmendmentApplied", applied
    monkeypatch.undo()
    refused = await structure(client)
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "structure_conflict"
    assert "kpi-towers" in body["message"]
    assert "'time period'" in body["message"]


async def test_a_409_says_whether_no_kpi_is_fed_or_which_feed_names_no_sdmx_dataflow(
    client: httpx.AsyncClient, amend: Amend, baku: str
) -> None:
    unfed = await structure(client)
    assert unfed.status_code == 409
    assert "declares an SDMX indicator" in unfed.json()["message"]
    towers = {"vocabulary": "OTHER", "code": "SDMX:TOWERS", "uri": "https://example.org/towers"}
    applied = await amend(
        baku,
        1,
        add("OUTCOME", "Stats", id="o-stats", parentId="priority-affordable-connectivity"),
        add("KPI", "Towers", id="kpi-towers", parentId="o-stats", references=[towers]),
    )
    assert applied["__typename"] == "AmendmentApplied", applied
    malformed = await structure(client)
    assert malformed.status_code == 409
    body = malformed.json()
    assert body["error"] == "no_dataflow"
    assert "declares an SDMX indicator" not in body["message"]
    assert "kpi-towers" in body["message"]
    assert "'https://example.org/towers'" in body["message"]
    assert "AGENCY:ID(VERSION)" in body["message"]
