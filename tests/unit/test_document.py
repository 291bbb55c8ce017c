"""A plan version as a document (application/document.py) and its renderings
(api/routes/rendering.py): every node under the section that lists it, in order, nothing lost;
diffs marked; text escaped."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from planapi.api.routes.rendering import markdown, page, render
from planapi.application.document import Block, Document, diff_document, plan_document
from planapi.application.plans import PlanVersion, VersionDiff
from planapi.application.ports import Recorded
from planapi.domain.changes import (
    AddNode,
    Change,
    LinkNodes,
    MoveNode,
    RemoveNode,
    UnlinkNodes,
    UpdateNode,
)
from planapi.domain.diff import diff
from planapi.domain.events import AmendmentInfo, Authority, PlanEvent
from planapi.domain.links import LinkRelation
from planapi.domain.nodes import (
    Dimension,
    Measurement,
    NodeKind,
    Reference,
    ReferenceVocabulary,
    Region,
    SectionContent,
)
from planapi.domain.plan import PlanState
from tests.html_text import Nesting, Text
from tests.unit.strategies import amend, histories, new_plan

History = tuple[list[PlanEvent], list[PlanState]]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SC = SectionContent
WHEN = dt.datetime(2027, 3, 1, 12, 30, tzinfo=dt.UTC)


def recorded(state: PlanState, **info: object) -> Recorded:
    given = {
        "actor": "alice",
        "authority": Authority.TDAG,
        "rationale": "Agreed at TDAG-27",
        "reference": "TDAG-27/12",
        **info,
    }
    return Recorded(
        stream_id=f"plan:{state.id}",
        version=state.version,
        position=state.version,
        event=None,  # type: ignore[arg-type]  # a document never looks at the event
        info=AmendmentInfo(**given),  # type: ignore[arg-type]
        recorded_at=WHEN + dt.timedelta(days=state.version),
        hash=bytes([state.version]) * 32,
    )


def version(state: PlanState, **info: object) -> PlanVersion:
    return PlanVersion(state, recorded(state, **info))


def section(node_id: str, code: str, title: str, *contents: SC, text: str = "") -> AddNode:
    values: dict[str, object] = {"code": code, "contents": contents}
    if text:
        values["description"] = text
    return AddNode(NodeKind.SECTION, title, node_id, values=values)


def full_plan() -> PlanState:
    """Every kind, each listed by a section of its own, except terms (listed by none)."""
    changes: list[Change] = [
        section("s-intro", "1", "Introduction", text="First paragraph.\n\nSecond paragraph."),
        section("s-prio", "2", "Priorities", SC.PRIORITIES, text="The priorities."),
        section("s-out", "3", "Outputs and enablers", SC.OUTPUTS, SC.ENABLERS),
        section("s-ri", "4", "Regional initiatives", SC.REGIONAL_INITIATIVES),
        section("s-res", "5", "Resolutions", SC.RESOLUTIONS),
        section("s-sg", "6", "Study groups", SC.STUDY_GROUPS),
        section("s-link", "7", "Linkages", SC.LINKAGES),
        AddNode(NodeKind.SECTION, "Structure", "s-prio-1", "s-prio", values={"code": "2.1"}),
        AddNode(NodeKind.PRIORITY, "Affordable connectivity", "p1", values={"code": "1"}),
        AddNode(NodeKind.PRIORITY, "Digital transformation", "p2", values={"code": "2"}),
        AddNode(NodeKind.OUTCOME, "Broadband for all", "o1", "p1", values={"code": "1.1"}),
        AddNode(
            NodeKind.KPI,
            "Individuals using the Internet",
            "k1",
            "o1",
            values={
                "code": "1.1.1",
                "unit": "%",
                "baseline": Measurement("2025", Decimal("67")),
                "targets": (
                    Measurement("2027", Decimal("75")),
                    Measurement("2029", Decimal("80")),
                ),
                "dimensions": (Dimension("sex", ("female", "male")),),
                "references": (Reference(ReferenceVocabulary.SDG_INDICATOR, "17.8.1"),),
            },
        ),
        AddNode(NodeKind.KPI, "Schools connected", "k2", "o1", values={"code": "1.1.2"}),
        AddNode(NodeKind.OUTCOME, "Digital skills", "o2", "p2", values={"code": "2.1"}),
        AddNode(NodeKind.OUTPUT, "Toolkits", "out-1", values={"description": "Guides."}),
        AddNode(NodeKind.OUTPUT, "Learning frameworks", "out-2"),
        AddNode(NodeKind.ENABLER, "Efficiency", "e1"),
        AddNode(
            NodeKind.REGIONAL_INITIATIVE,
            "Digital infrastructure",
            "ri-afr-1",
            values={"code": "AFR1", "region": Region.AFRICA, "objective": "Connect schools."},
        ),
        AddNode(
            NodeKind.REGIONAL_INITIATIVE,
            "Cybersecurity",
            "ri-eur-1",
            values={"code": "EUR1", "region": Region.EUROPE, "expected_results": ("CIRTs",)},
        ),
        AddNode(NodeKind.PROJECT, "Giga Africa", "proj-1", "ri-afr-1", values={"code": "P1"}),
        AddNode(
            NodeKind.RESOLUTION,
            "Telecommunication development",
            "r1",
            values={"number": "37", "revision": "Rev. Baku, 2025"},
        ),
        AddNode(NodeKind.STUDY_GROUP, "Enabling environment", "sg1", values={"code": "SG1"}),
        AddNode(NodeKind.QUESTION, "Broadband access", "q1", "sg1", values={"code": "1/1"}),
        AddNode(NodeKind.QUESTION, "Smart cities", "q2", "sg1", values={"code": "2/1"}),
        AddNode(NodeKind.TERM, "Outputs", "t1", values={"description": "What BDT delivers."}),
    ]
    links = [
        LinkNodes("out-1", "p1", LinkRelation.SERVES),
        LinkNodes("e1", "o1", LinkRelation.SUPPORTS),
        LinkNodes("ri-afr-1", "p1", LinkRelation.CONTRIBUTES_TO),
        LinkNodes("r1", "p2", LinkRelation.RELATES_TO),
    ]
    return amend(new_plan(*changes), *links)


def texts(document: Document) -> list[str]:
    return [block.text for block in document.blocks]


def at(document: Document, text: str) -> int:
    found = [i for i, block in enumerate(document.blocks) if block.text == text]
    assert len(found) == 1, f"{text!r} appears {len(found)} times in {texts(document)}"
    return found[0]


def between(document: Document, start: str, end: str | None) -> list[str]:
    lines = texts(document)
    stop = at(document, end) if end else len(lines)
    return lines[at(document, start) + 1 : stop]


def in_order(document: Document, *wanted: str) -> None:
    where = [at(document, text) for text in wanted]
    assert where == sorted(where), list(zip(wanted, where, strict=True))


# -- a plan version ----------------------------------------------------------------------------
def test_each_node_renders_under_the_section_that_lists_it_in_plan_order() -> None:
    document = plan_document(version(full_plan()))

    assert between(document, "1 Introduction", "2 Priorities") == [
        "First paragraph.",
        "Second paragraph.",
    ]
    assert between(document, "2 Priorities", "3 Outputs and enablers") == [
        "The priorities.",
        "Affordable connectivity",  # as the draft heads it: priorities are not numbered
        "Outputs serving it: Toolkits",
        "Outcome 1.1 Broadband for all",
        "Enablers supporting it: Efficiency",
        "KPI 1.1.1 Individuals using the Internet",
        "Unit: %",
        "Baseline (2025): 67",
        "Target (2027): 75",
        "Target (2029): 80",
        "Disaggregated by sex: female, male",
        "Refers to sdg indicator 17.8.1",
        "KPI 1.1.2 Schools connected",
        "Digital transformation",
        "Outcome 2.1 Digital skills",
        "2.1 Structure",  # the nested section follows what its parent lists
    ]
    assert between(document, "3 Outputs and enablers", "4 Regional initiatives") == [
        "Toolkits",
        "Guides.",
        "Serves: 1 Affordable connectivity",
        "Learning frameworks",
        "Efficiency",
        "Supports: 1.1 Broadband for all",
    ]
    assert between(document, "4 Regional initiatives", "5 Resolutions") == [
        "Africa",
        "AFR1 Digital infrastructure",
        "Objective: Connect schools.",
        "Contributes to: 1 Affordable connectivity",
        "Project P1 Giga Africa",
        "Europe",
        "EUR1 Cybersecurity",
        "Expected result: CIRTs",
    ]
    assert between(document, "5 Resolutions", "6 Study groups") == [
        "Resolution 37 (Rev. Baku, 2025): Telecommunication development",
    ]
    assert between(document, "6 Study groups", "7 Linkages") == [
        "SG1 Enabling environment",
        "Question 1/1 Broadband access",
        "Question 2/1 Smart cities",
    ]
    assert sorted(between(document, "7 Linkages", "Terms")) == [
        "AFR1 Digital infrastructure contributes to 1 Affordable connectivity",
        "Efficiency supports 1.1 Broadband for all",
        "Telecommunication development relates to 2 Digital transformation",
        "Toolkits serves 1 Affordable connectivity",
    ]


def test_a_kind_no_section_lists_still_appears_at_the_end() -> None:
    document = plan_document(version(full_plan()))

    terms = at(document, "Terms")
    assert document.blocks[terms] == Block("heading", "Terms", 2)
    assert texts(document)[terms + 1 :] == ["Outputs", "What BDT delivers."]
    assert document.blocks[terms + 1].node_id == "t1"


def test_a_plan_without_sections_lists_everything_under_appendix_headings() -> None:
    state = full_plan()
    bare = amend(state, *(RemoveNode(s, cascade=True) for s in ("s-intro", "s-prio", "s-out")))
    bare = amend(bare, *(RemoveNode(s) for s in ("s-ri", "s-res", "s-sg", "s-link")))

    document = plan_document(version(bare))

    headings = [b.text for b in document.blocks if b.type == "heading" and b.level == 2]
    assert headings == [
        "Terms",
        "Priorities",
        "Outputs",
        "Enablers",
        "Regional initiatives",
        "Resolutions",
        "Study groups",
        "Linkages",
    ]
    assert {b.node_id for b in document.blocks} - {None} == set(bare.nodes)


def test_regional_initiatives_are_grouped_by_region_in_order_of_first_appearance() -> None:
    state = amend(
        full_plan(),
        AddNode(
            NodeKind.REGIONAL_INITIATIVE,
            "Smart villages",
            "ri-afr-2",
            values={"code": "AFR2", "region": Region.AFRICA},
        ),
    )

    document = plan_document(version(state))

    assert between(document, "4 Regional initiatives", "5 Resolutions")[:6] == [
        "Africa",
        "AFR1 Digital infrastructure",
        "Objective: Connect schools.",
        "Contributes to: 1 Affordable connectivity",
        "Project P1 Giga Africa",
        "AFR2 Smart villages",
    ]


def test_an_amendment_moves_what_it_changes_and_nothing_else() -> None:
    state = amend(
        full_plan(),
        MoveNode("o2", "p1", 0),
        UpdateNode("out-2", {"title": "Learning frameworks and curricula"}),
    )

    document = plan_document(version(state))

    in_order(
        document,
        "Affordable connectivity",
        "Outcome 2.1 Digital skills",
        "Outcome 1.1 Broadband for all",
        "Digital transformation",
        "Learning frameworks and curricula",
    )
    assert "Learning frameworks" not in texts(document)


@FAST
@given(histories())
def test_no_node_and_no_link_is_ever_left_out(history: History) -> None:
    _, states = history

    for state in states:
        document = plan_document(version(state))
        shown = {block.node_id for block in document.blocks}
        assert set(state.nodes) <= shown
        lines = set(texts(document))
        for link in state.links:
            assert any(
                line.startswith(_label(state, link.from_id))
                and line.endswith(_label(state, link.to_id))
                for line in lines
            ), link


def _label(state: PlanState, node_id: str) -> str:
    node = state.nodes[node_id]
    return f"{node.code} {node.title}" if node.code else node.title


# -- renderings --------------------------------------------------------------------------------
def test_markdown_names_the_version_its_time_its_hash_and_the_amendment() -> None:
    state = full_plan()

    text = markdown(plan_document(version(state, effective_from=dt.date(2027, 4, 1))))

    lines = text.splitlines()
    assert lines[0] == "# Baku Action Plan 2026-2029"
    assert lines[2:7] == [
        "> Version 2, recorded 2027-03-03T12:30:00+00:00  ",
        f"> Hash (SHA-256 chain head): {'02' * 32}  ",
        "> Amendment 2 by alice — TDAG: Agreed at TDAG-27 (TDAG-27/12)  ",
        "> Effective from 2027-04-01  ",
        "> Status: DRAFT  ",
    ]
    assert "## 1 Introduction" in lines
    assert "#### Outcome 1.1 Broadband for all" in lines
    assert "- Disaggregated by sex: female, male" in lines
    assert "  - Serves: 1 Affordable connectivity" in lines, "nested items are indented"
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


def test_html_is_a_page_whose_text_is_the_markdown_text() -> None:
    found = version(full_plan())
    document = plan_document(found)

    html = page(document)

    assert html.startswith("<!doctype html>")
    seen = Text.of(html)
    assert seen[:2] == ["Baku Action Plan 2026-2029", "Baku Action Plan 2026-2029"]
    assert seen[2:6] == [
        "Version 2, recorded 2027-03-03T12:30:00+00:00",
        f"Hash (SHA-256 chain head): {'02' * 32}",
        "Amendment 2 by alice — TDAG: Agreed at TDAG-27 (TDAG-27/12)",
        "Status: DRAFT",
    ]
    assert seen[6:] == texts(document)


def test_html_nests_lists_properly_and_keeps_an_items_description_inside_it() -> None:
    state = amend(
        full_plan(),
        UpdateNode("e1", {"description": "Doing more with less.\n\nAnd faster."}),
        UpdateNode("q1", {"description": "How to connect the unconnected."}),
        UpdateNode("r1", {"description": "On ICT development."}),
    )
    document = plan_document(version(state))

    html = page(document)
    text = markdown(document)

    Nesting.check(html)
    assert "<li>Toolkits\n<p>Guides.</p>\n<ul>\n<li>Serves: 1 Affordable connectivity\n" in html
    assert (
        "<li>Efficiency\n<p>Doing more with less.</p>\n<p>And faster.</p>\n<ul>\n"
        "<li>Supports: 1.1 Broadband for all\n</li>\n</ul>\n</li>\n</ul>" in html
    )
    assert (
        "<li>Question 1/1 Broadband access\n<p>How to connect the unconnected.</p>\n</li>" in html
    )
    assert "- Toolkits\n\n  Guides.\n\n  - Serves: 1 Affordable connectivity\n" in text
    assert "- Efficiency\n\n  Doing more with less.\n\n  And faster.\n\n  - Supports:" in text
    assert "- Resolution 37 (Rev. Baku, 2025): Telecommunication development\n\n  On ICT" in text


@FAST
@given(histories())
def test_html_of_any_version_is_well_nested(history: History) -> None:
    _, states = history

    for state in states:
        Nesting.check(page(plan_document(version(state))))


HOSTILE = '<script>alert(1)</script> & "quotes" <b>bold</b>'


def test_hostile_text_is_escaped_in_html_and_kept_verbatim_in_json() -> None:
    state = amend(
        full_plan(),
        AddNode(NodeKind.OUTPUT, HOSTILE, "out-x", values={"description": f"Also {HOSTILE}"}),
    )
    found = version(state, rationale=f"Because {HOSTILE}")

    html = render(plan_document(found), "html")
    body = json.loads(render(plan_document(found), "json"))

    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    seen = Text.of(html)
    assert HOSTILE in seen
    assert f"Also {HOSTILE}" in seen
    assert any(line.endswith(f"Because {HOSTILE} (TDAG-27/12)") for line in seen)
    assert {"type": "item", "text": HOSTILE, "level": 0, "nodeId": "out-x"} in body["blocks"]
    assert body["amendment"]["rationale"] == f"Because {HOSTILE}"


def test_json_has_the_header_fields_and_every_block() -> None:
    found = version(full_plan(), effective_from=dt.date(2027, 4, 1))
    document = plan_document(found)

    body = json.loads(render(document, "json"))

    assert {k: v for k, v in body.items() if k != "blocks"} == {
        "planId": "baku-2026",
        "lang": "en",
        "title": "Baku Action Plan",
        "period": "2026-2029",
        "status": "DRAFT",
        "version": 2,
        "fromVersion": None,
        "recordedAt": "2027-03-03T12:30:00+00:00",
        "hash": "02" * 32,
        "amendment": {
            "version": 2,
            "actor": "alice",
            "authority": "TDAG",
            "rationale": "Agreed at TDAG-27",
            "reference": "TDAG-27/12",
            "effectiveFrom": "2027-04-01",
        },
    }
    assert [b["text"] for b in body["blocks"]] == texts(document)
    assert body["blocks"][0] == {
        "type": "heading",
        "text": "1 Introduction",
        "level": 2,
        "nodeId": "s-intro",
    }


# -- diffs -------------------------------------------------------------------------------------
def diff_of(before: PlanState, after: PlanState) -> Document:
    return diff_document(VersionDiff(version(before), version(after), diff(before, after)))


@pytest.fixture
def walked() -> tuple[PlanState, PlanState]:
    before = full_plan()
    after = amend(
        before,
        AddNode(NodeKind.OUTCOME, "Meaningful connectivity", "o3", "p2", values={"code": "2.2"}),
        RemoveNode("q2"),
        UpdateNode("out-1", {"title": "Toolkits and guidelines", "description": None}),
        MoveNode("o2", "p1"),
        UnlinkNodes("r1", "p2", LinkRelation.RELATES_TO),
        LinkNodes("out-2", "o1", LinkRelation.SERVES),
    )
    return before, after


def test_a_diff_marks_additions_removals_changes_moves_and_links(
    walked: tuple[PlanState, PlanState],
) -> None:
    before, after = walked

    text = markdown(diff_of(before, after))

    lines = text.splitlines()
    assert lines[2] == "> Changes from version 2 to version 3, recorded 2027-03-04T12:30:00+00:00  "
    body = [line for line in lines[lines.index("## Added") :] if line]
    assert body == [
        "## Added",
        "- [+] outcome 2.2 Meaningful connectivity (under 2 Digital transformation)",
        "## Removed",
        "- [-] question 2/1 Smart cities (under SG1 Enabling environment)",
        "## Changed",
        "- [~] output Toolkits and guidelines",
        "  - [-] title: Toolkits",
        "  - [+] title: Toolkits and guidelines",
        "  - [-] description: Guides.",
        "  - [+] description: (none)",
        "## Moved",
        "- [~] outcome 2.1 Digital skills (under 1 Affordable connectivity): "
        "from 2 Digital transformation #1 to 1 Affordable connectivity #2",
        "## Links added",
        "- [+] Learning frameworks serves 1.1 Broadband for all",
        "## Links removed",
        "- [-] Telecommunication development relates to 2 Digital transformation",
    ]


def test_a_diff_in_html_wraps_additions_in_ins_and_removals_in_del(
    walked: tuple[PlanState, PlanState],
) -> None:
    html = page(diff_of(*walked))

    assert (
        "<li><ins>outcome 2.2 Meaningful connectivity (under 2 Digital transformation)</ins>"
        in html
    )
    assert "<li><del>question 2/1 Smart cities (under SG1 Enabling environment)</del>" in html
    assert "<li><del>title: Toolkits</del>" in html
    assert "<li><ins>title: Toolkits and guidelines</ins>" in html
    assert '<span class="changed">output Toolkits and guidelines</span>' in html
    assert "<ins>Learning frameworks serves 1.1 Broadband for all</ins>" in html


def test_a_diff_taken_backwards_swaps_additions_and_removals(
    walked: tuple[PlanState, PlanState],
) -> None:
    before, after = walked

    text = markdown(diff_of(after, before))

    assert "> Changes from version 3 to version 2, recorded" in text
    assert "- [-] outcome 2.2 Meaningful connectivity (under 2 Digital transformation)" in text
    assert "- [+] question 2/1 Smart cities (under SG1 Enabling environment)" in text
    assert "  - [-] title: Toolkits and guidelines\n  - [+] title: Toolkits\n" in text
    assert "from 1 Affordable connectivity #2 to 2 Digital transformation #1" in text
    assert "- [+] Telecommunication development relates to 2 Digital transformation" in text


def test_a_diff_of_identical_versions_says_so() -> None:
    state = full_plan()

    document = diff_of(state, state)

    assert texts(document) == ["The two versions are identical."]
    assert "The two versions are identical." in Text.of(page(document))
    assert json.loads(render(document, "json"))["fromVersion"] == 2


def test_kpi_value_changes_show_before_and_after_as_text() -> None:
    before = full_plan()
    after = amend(
        before,
        UpdateNode(
            "k1",
            {
                "targets": (Measurement("2029", Decimal("85")),),
                "baseline": None,
                "dimensions": (Dimension("sex", ("female", "male")), Dimension("age", ())),
            },
        ),
    )

    lines = markdown(diff_of(before, after)).splitlines()

    changed = lines[
        lines.index(
            "- [~] kpi 1.1.1 Individuals using the Internet (under 1.1 Broadband for all)"
        ) :
    ]
    assert changed[1:7] == [
        "  - [-] baseline: 2025 67",
        "  - [+] baseline: (none)",
        "  - [-] targets: 2027 75; 2029 80",
        "  - [+] targets: 2029 85",
        "  - [-] dimensions: sex female, male",
        "  - [+] dimensions: sex female, male; age",
    ]
