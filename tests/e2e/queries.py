"""GraphQL documents the end-to-end tests share, written as a front-end would write them."""

from __future__ import annotations

AMENDMENT_FIELDS = """
fragment AmendmentFields on Amendment {
  version
  recordedAt
  actor
  authority
  rationale
  reference
  effectiveFrom
  hash
  changes {
    __typename
    ... on NodeAdded { nodeId kind parentId position code title }
    ... on NodeUpdated { nodeId fields { field value } }
    ... on NodeRemoved { nodeId }
    ... on NodeMoved { nodeId parentId position }
    ... on NodesLinked { fromId toId relation }
    ... on NodesUnlinked { fromId toId relation }
  }
}
"""

AMEND = (
    """
mutation Amend($input: AmendPlanInput!) {
  amendPlan(input: $input) {
    __typename
    ... on AmendmentApplied {
      plan { planId version recordedAt hash }
      amendment { ...AmendmentFields }
    }
    ... on VersionConflict { message expectedVersion actualVersion }
    ... on ValidationFailed { message problems { path message } }
    ... on PlanNotFound { message planId }
    ... on IdempotencyKeyReused { message idempotencyKey }
  }
}
"""
    + AMENDMENT_FIELDS
)

CREATE = (
    """
mutation Create($input: CreatePlanInput!) {
  createPlan(input: $input) {
    __typename
    ... on PlanCreated {
      plan { planId title version period { startYear endYear label } }
      amendment { ...AmendmentFields }
    }
    ... on PlanAlreadyExists { message planId }
    ... on ValidationFailed { message problems { path message } }
    ... on IdempotencyKeyReused { message idempotencyKey }
  }
}
"""
    + AMENDMENT_FIELDS
)

VERSION = """
query Version($id: ID!) { plan(id: $id) { version } }
"""

AMENDMENTS = (
    """
query Amendments($id: ID!, $version: Int, $first: Int!, $after: String) {
  plan(id: $id, version: $version) {
    version
    amendments(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...AmendmentFields } }
      nodes { version }
    }
  }
}
"""
    + AMENDMENT_FIELDS
)


def add(kind: str, title: str, **fields: object) -> dict[str, object]:
    """An `addNode` change."""
    return {"addNode": {"kind": kind, "title": title, **fields}}


def update(node_id: str, **fields: object) -> dict[str, object]:
    return {"updateNode": {"id": node_id, **fields}}


def remove(node_id: str, *, cascade: bool | None = None) -> dict[str, object]:
    given: dict[str, object] = {"id": node_id}
    if cascade is not None:
        given["cascade"] = cascade
    return {"removeNode": given}


def move(node_id: str, parent_id: str | None, position: int | None = None) -> dict[str, object]:
    given: dict[str, object] = {"id": node_id, "parentId": parent_id}
    if position is not None:
        given["position"] = position
    return {"moveNode": given}


def link(from_id: str, to_id: str, relation: str = "SERVES") -> dict[str, object]:
    return {"link": {"fromId": from_id, "toId": to_id, "relation": relation}}


def unlink(from_id: str, to_id: str, relation: str = "SERVES") -> dict[str, object]:
    return {"unlink": {"fromId": from_id, "toId": to_id, "relation": relation}}


# A second plan, for tests that need two.
KIGALI = {
    "id": "kigali-2022",
    "title": "Kigali Action Plan",
    "periodStart": 2022,
    "periodEnd": 2025,
    "authority": "WTDC",
    "rationale": "Adopted at WTDC-22",
}
