"""Links: the plan is a graph as well as a tree (an output serves priorities, …)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from planapi.domain.nodes import NodeKind


class LinkRelation(enum.Enum):
    SERVES = "SERVES"
    SUPPORTS = "SUPPORTS"
    CONTRIBUTES_TO = "CONTRIBUTES_TO"
    RELATES_TO = "RELATES_TO"
    # A percentage KPI to the KPI whose readings weigh its countries in regional means.
    WEIGHTED_BY = "WEIGHTED_BY"


_RESULTS = frozenset({NodeKind.PRIORITY, NodeKind.OUTCOME})

# relation → (kinds a link may start from, kinds it may point to)
LINK_RULES: dict[LinkRelation, tuple[frozenset[NodeKind], frozenset[NodeKind]]] = {
    LinkRelation.SERVES: (frozenset({NodeKind.OUTPUT}), _RESULTS),
    LinkRelation.SUPPORTS: (frozenset({NodeKind.ENABLER}), _RESULTS),
    LinkRelation.CONTRIBUTES_TO: (
        frozenset({NodeKind.REGIONAL_INITIATIVE, NodeKind.PROJECT}),
        _RESULTS,
    ),
    LinkRelation.RELATES_TO: (
        frozenset({NodeKind.RESOLUTION, NodeKind.STUDY_GROUP, NodeKind.QUESTION}),
        _RESULTS | {NodeKind.OUTPUT, NodeKind.REGIONAL_INITIATIVE},
    ),
    LinkRelation.WEIGHTED_BY: (frozenset({NodeKind.KPI}), frozenset({NodeKind.KPI})),
}


@dataclass(frozen=True, slots=True, order=True)
class Link:
    from_id: str
    to_id: str
    relation: LinkRelation

    def touches(self, node_id: str) -> bool:
        return node_id in (self.from_id, self.to_id)
