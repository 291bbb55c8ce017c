"""A plan version as a document, in the order of the original text; and a diff as one.

Sections carry their own paragraphs and say what they list after them (terms, priorities,
outputs, …), so the document is rebuilt from data, not from a template of the Baku plan.
Anything no section lists still appears, at the end, so an export never hides a node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from planapi.application.activity_document import kind_line, write_activities
from planapi.application.plan_views import PlanVersion, VersionDiff
from planapi.application.ports import Recorded
from planapi.application.primitives import field_to_primitive
from planapi.domain.diff import NodeChanged, NodeRelocated
from planapi.domain.links import Link, LinkRelation
from planapi.domain.nodes import Node, NodeKind, Region, SectionContent
from planapi.domain.plan import PlanState
from planapi.domain.translations import TranslationChange


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of the document: a heading, a paragraph or a list item."""

    type: str  # "heading" | "paragraph" | "item"
    text: str
    level: int = 0  # heading level, or list depth
    node_id: str | None = None
    mark: str | None = None  # "added" | "removed" | "changed" in a diff


@dataclass(frozen=True, slots=True)
class Document:
    plan_id: str
    title: str
    period: str
    amendment: Recorded  # the amendment that made the version shown (the later one, for diffs)
    blocks: list[Block] = field(default_factory=list)
    from_version: int | None = None  # set for a diff
    # DRAFT, ADOPTED or SUPERSEDED; for a diff whose versions differ, "DRAFT → ADOPTED".
    status: str | None = None
    # What kind of plan: "Operational plan implementing baku-2026, edition 2027" (None: an
    # action plan, which says nothing, as before plan kinds).
    kind: str | None = None
    lang: str = "en"  # of its texts and its own words (application.document_languages)


REGION_NAMES = {
    Region.AFRICA: "Africa",
    Region.AMERICAS: "Americas",
    Region.ARAB_STATES: "Arab States",
    Region.ASIA_PACIFIC: "Asia-Pacific",
    Region.CIS: "CIS",
    Region.EUROPE: "Europe",
}
_RELATION_WORDS = {
    LinkRelation.SERVES: "serves",
    LinkRelation.SUPPORTS: "supports",
    LinkRelation.CONTRIBUTES_TO: "contributes to",
    LinkRelation.RELATES_TO: "relates to",
    LinkRelation.WEIGHTED_BY: "is weighted by",
}
_LISTED_KINDS = {
    SectionContent.TERMS: NodeKind.TERM,
    SectionContent.PRIORITIES: NodeKind.PRIORITY,
    SectionContent.OUTPUTS: NodeKind.OUTPUT,
    SectionContent.ENABLERS: NodeKind.ENABLER,
    SectionContent.REGIONAL_INITIATIVES: NodeKind.REGIONAL_INITIATIVE,
    SectionContent.RESOLUTIONS: NodeKind.RESOLUTION,
    SectionContent.STUDY_GROUPS: NodeKind.STUDY_GROUP,
    SectionContent.ACTIVITIES: NodeKind.ACTIVITY,
}


def paragraphs(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split("\n\n") if part.strip()]


def label(node: Node) -> str:
    return f"{node.code} {node.title}" if node.code else node.title


class _Writer:
    def __init__(self, state: PlanState) -> None:
        self.state = state
        self.blocks: list[Block] = []
        self.done: set[SectionContent] = set()

    def heading(self, level: int, text: str, node: Node | None = None) -> None:
        self.blocks.append(Block("heading", text, min(level, 6), node.id if node else None))

    def text(self, body: str | None, node: Node | None = None) -> None:
        for part in paragraphs(body):
            self.blocks.append(Block("paragraph", part, 0, node.id if node else None))

    def item(self, text: str, depth: int = 0, node: Node | None = None) -> None:
        self.blocks.append(Block("item", text, depth, node.id if node else None))

    def names(self, nodes: list[Node]) -> str:
        return ", ".join(label(node) for node in nodes)

    # -- the narrative ---------------------------------------------------------------------
    def section(self, node: Node, level: int) -> None:
        self.heading(level, label(node), node)
        self.text(node.description, node)
        for content in node.contents:
            self.listing(content, level + 1)
        for child in self.state.children_of(node.id, NodeKind.SECTION):
            self.section(child, level + 1)

    def listing(self, content: SectionContent, level: int) -> None:
        self.done.add(content)
        if content is SectionContent.LINKAGES:
            self.linkages()
            return
        nodes = self.state.children_of(None, _LISTED_KINDS[content])
        _LISTINGS[content](self, nodes, level)

    # -- what sections list ----------------------------------------------------------------
    def terms(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            self.heading(level, node.title, node)
            self.text(node.description, node)

    def priorities(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            self.heading(level, node.title, node)
            self.text(node.description, node)
            self.related(node)
            for outcome in self.state.children_of(node.id, NodeKind.OUTCOME):
                self.outcome(outcome, level + 1)

    def outcome(self, node: Node, level: int) -> None:
        self.heading(level, f"Outcome {label(node)}", node)
        self.text(node.description, node)
        self.related(node)
        for kpi in self.state.children_of(node.id, NodeKind.KPI):
            self.kpi(kpi, level + 1)

    def kpi(self, node: Node, level: int) -> None:
        self.heading(level, f"KPI {label(node)}", node)
        self.text(node.description, node)
        if node.unit:
            self.item(f"Unit: {node.unit}", 0, node)
        if node.measure:
            self.item(f"Measure: {node.measure.value.lower()}", 0, node)
        if node.direction:
            self.item(f"Direction: {node.direction.value.lower()}", 0, node)
        if node.baseline:
            self.item(f"Baseline ({node.baseline.period}): {node.baseline.value}", 0, node)
        for target in node.targets:
            self.item(f"Target ({target.period}): {target.value}", 0, node)
        for dimension in node.dimensions:
            values = ", ".join(dimension.values) or "any value"
            self.item(f"Disaggregated by {dimension.name}: {values}", 0, node)
        if node.period_types:
            kinds = ", ".join(kind.value.lower() for kind in node.period_types)
            self.item(f"Reported per {kinds}", 0, node)
        self.references(node)

    def related(self, node: Node) -> None:
        outputs = self.state.linked_from(node.id, LinkRelation.SERVES)
        if outputs:
            self.item(f"Outputs serving it: {self.names(outputs)}", 0, node)
        enablers = self.state.linked_from(node.id, LinkRelation.SUPPORTS)
        if enablers:
            self.item(f"Enablers supporting it: {self.names(enablers)}", 0, node)
        self.references(node)

    def references(self, node: Node) -> None:
        for ref in node.references:
            where = f" <{ref.uri}>" if ref.uri else ""
            self.item(
                f"Refers to {ref.vocabulary.value.replace('_', ' ').lower()} {ref.code}{where}",
                0,
                node,
            )

    def outputs(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            self.item(node.title, 0, node)
            self.text(node.description, node)
            served = self.state.linked_to(node.id, LinkRelation.SERVES)
            if served:
                self.item(f"Serves: {self.names(served)}", 1, node)
            for kpi in self.state.children_of(node.id, NodeKind.KPI):
                self.kpi(kpi, level + 1)

    def enablers(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            self.item(
                label(node) if node.code and not node.code.startswith("E") else node.title, 0, node
            )
            self.text(node.description, node)
            supported = self.state.linked_to(node.id, LinkRelation.SUPPORTS)
            if supported:
                self.item(f"Supports: {self.names(supported)}", 1, node)
            for outcome in self.state.children_of(node.id, NodeKind.OUTCOME):
                self.outcome(outcome, level)

    def initiatives(self, nodes: list[Node], level: int) -> None:
        regions: dict[Region | None, list[Node]] = {}
        for node in nodes:
            regions.setdefault(node.region, []).append(node)
        for region, members in regions.items():
            self.heading(level, REGION_NAMES[region] if region else "Other regions")
            for node in members:
                self.contributing(node, level + 1)
                for project in self.state.children_of(node.id, NodeKind.PROJECT):
                    self.contributing(project, level + 2, prefix="Project ")

    def contributing(self, node: Node, level: int, prefix: str = "") -> None:
        self.heading(level, f"{prefix}{label(node)}", node)
        self.text(node.description, node)
        if node.objective:
            self.blocks.append(Block("paragraph", f"Objective: {node.objective}", 0, node.id))
        for result in node.expected_results:
            self.item(f"Expected result: {result}", 0, node)
        targets = self.state.linked_to(node.id, LinkRelation.CONTRIBUTES_TO)
        if targets:
            self.item(f"Contributes to: {self.names(targets)}", 0, node)
        self.references(node)

    def resolutions(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            number = f"Resolution {node.number}" if node.number else "Resolution"
            revision = f" ({node.revision})" if node.revision else ""
            self.item(f"{number}{revision}: {node.title}", 0, node)
            self.text(node.description, node)

    def study_groups(self, nodes: list[Node], level: int) -> None:
        for node in nodes:
            self.heading(level, label(node), node)
            self.text(node.description, node)
            for question in self.state.children_of(node.id, NodeKind.QUESTION):
                self.item(f"Question {label(question)}", 0, question)
                self.text(question.description, question)

    def linkages(self) -> None:
        order = {node.id: index for index, node in enumerate(self.state.walk())}
        in_document_order = sorted(
            self.state.links, key=lambda k: (order[k.from_id], order[k.to_id], k.relation.value)
        )
        for link in in_document_order:
            source, target = self.state.nodes[link.from_id], self.state.nodes[link.to_id]
            words = _RELATION_WORDS[link.relation]
            self.item(f"{label(source)} {words} {label(target)}")


_LISTINGS: dict[SectionContent, Callable[[_Writer, list[Node], int], None]] = {
    SectionContent.TERMS: _Writer.terms,
    SectionContent.PRIORITIES: _Writer.priorities,
    SectionContent.OUTPUTS: _Writer.outputs,
    SectionContent.ENABLERS: _Writer.enablers,
    SectionContent.REGIONAL_INITIATIVES: _Writer.initiatives,
    SectionContent.RESOLUTIONS: _Writer.resolutions,
    SectionContent.STUDY_GROUPS: _Writer.study_groups,
    SectionContent.ACTIVITIES: write_activities,
}
_APPENDIX_TITLES = {
    SectionContent.TERMS: "Terms",
    SectionContent.PRIORITIES: "Priorities",
    SectionContent.OUTPUTS: "Outputs",
    SectionContent.ENABLERS: "Enablers",
    SectionContent.REGIONAL_INITIATIVES: "Regional initiatives",
    SectionContent.RESOLUTIONS: "Resolutions",
    SectionContent.STUDY_GROUPS: "Study groups",
    SectionContent.LINKAGES: "Linkages",
    SectionContent.ACTIVITIES: "Activities",
}


def plan_document(found: PlanVersion) -> Document:
    state = found.state
    writer = _Writer(state)
    for section in state.children_of(None, NodeKind.SECTION):
        writer.section(section, 2)
    for content, title in _APPENDIX_TITLES.items():
        if content in writer.done:
            continue
        kind = _LISTED_KINDS.get(content)
        if (kind and state.children_of(None, kind)) or (kind is None and state.links):
            writer.heading(2, title)
            writer.listing(content, 3)
    return Document(
        plan_id=state.id,
        title=state.title,
        period=f"{state.period_start}-{state.period_end}",
        amendment=found.amendment,
        blocks=writer.blocks,
        status=state.status.value,
        kind=kind_line(state),
    )


def diff_document(found: VersionDiff) -> Document:
    before, after, diff = found.before.state, found.after.state, found.diff
    blocks: list[Block] = []
    if diff.is_empty:
        blocks.append(Block("paragraph", "The two versions are identical."))
    sections = (
        ("Added", [_item(after, p.node_id, "added") for p in diff.added]),
        ("Removed", [_item(before, node_id, "removed") for node_id in diff.removed]),
        ("Changed", [b for changed in diff.changed for b in _changed(after, changed)]),
        ("Moved", [_moved(before, after, moved) for moved in diff.moved]),
        ("Links added", [_link(after, link, "added") for link in diff.links_added]),
        ("Links removed", [_link(before, link, "removed") for link in diff.links_removed]),
        ("Translations", [_translated(after, change) for change in diff.translated]),
    )
    for heading, items in sections:
        if items:
            blocks += [Block("heading", heading, 2), *items]
    return Document(
        plan_id=after.id,
        title=after.title,
        period=f"{after.period_start}-{after.period_end}",
        amendment=found.after.amendment,
        blocks=blocks,
        from_version=before.version,
        status=(
            after.status.value
            if before.status is after.status
            else f"{before.status.value} → {after.status.value}"
        ),
    )


def _describe(state: PlanState, node_id: str) -> str:
    node = state.nodes[node_id]
    parent = state.nodes.get(node.parent_id) if node.parent_id else None
    where = f" (under {label(parent)})" if parent else ""
    return f"{node.kind.value.replace('_', ' ').lower()} {label(node)}{where}"


def _item(state: PlanState, node_id: str, mark: str) -> Block:
    return Block("item", _describe(state, node_id), 0, node_id, mark)


def _changed(after: PlanState, changed: NodeChanged) -> list[Block]:
    """The node, then each changed field as its old value struck and its new one added."""
    blocks = [_item(after, changed.node_id, "changed")]
    for change in changed.fields:
        name = change.field.replace("_", " ")
        for value, mark in ((change.before, "removed"), (change.after, "added")):
            text = f"{name}: {_shown(change.field, value)}"
            blocks.append(Block("item", text, 1, changed.node_id, mark))
    return blocks


def _moved(before: PlanState, after: PlanState, moved: NodeRelocated) -> Block:
    source = before.nodes.get(moved.from_parent_id or "")
    target = after.nodes.get(moved.to_parent_id or "")
    text = (
        f"{_describe(after, moved.node_id)}: from "
        f"{label(source) if source else 'the plan'} #{moved.from_position + 1} to "
        f"{label(target) if target else 'the plan'} #{moved.to_position + 1}"
    )
    return Block("item", text, 0, moved.node_id, "changed")


def _link(state: PlanState, link: Link, mark: str) -> Block:
    text = (
        f"{label(state.nodes[link.from_id])} {_RELATION_WORDS[link.relation]} "
        f"{label(state.nodes[link.to_id])}"
    )
    return Block("item", text, 0, link.from_id, mark)


def _translated(state: PlanState, change: TranslationChange) -> Block:
    owner = label(state.nodes[change.node_id]) if change.node_id in state.nodes else state.title
    text = f"{owner}, {change.slot.replace('_', ' ')} [{change.lang}]: {change.after}"
    return Block("item", text, 0, change.node_id or None, "added")


def _shown(name: str, value: object) -> str:
    shown = _plain(field_to_primitive(name, value))
    return shown or "(none)"


def _plain(value: object, separator: str = "; ") -> str:
    """A field's JSON form as short text: lists joined by ';', objects by their values (a list
    inside an object by ',', so that two dimensions never read as one)."""
    if isinstance(value, list):
        return separator.join(_plain(item) for item in value)
    if isinstance(value, dict):
        return " ".join(filter(None, (_plain(item, ", ") for item in value.values())))
    return "" if value is None else str(value)
