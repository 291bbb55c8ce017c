"""The result of re-computing a plan's hash chain."""

from __future__ import annotations

import datetime as dt

import strawberry

from planapi.application.integrity import PlanIntegrity
from planapi.application.ports import Finding, ReadingsIntegrity


@strawberry.type(description="Where the chain first breaks, and how.")
class ChainBreak:
    version: int
    what: str = strawberry.field(description="altered, inserted, removed or reordered")
    detail: str


@strawberry.type(
    description="Something stored beside the log that disagrees with it: a snapshot whose "
    "state or seal does not match the events, or an entry of the node index (`nodeHistory`) "
    "missing or extra."
)
class IntegrityProblem:
    what: str = strawberry.field(description="snapshot or index")
    version: int
    node_id: strawberry.ID | None
    detail: str

    @classmethod
    def of(cls, found: Finding) -> IntegrityProblem:
        node = strawberry.ID(found.node_id) if found.node_id is not None else None
        return cls(what=found.kind, version=found.version, node_id=node, detail=found.detail)


@strawberry.type(description="The readings' chain of batches, re-computed.")
class ReadingsIntegrityResult:
    ok: bool
    scope: str = strawberry.field(
        description="plan: the plan's own batches, each checked against the stored hash of "
        "the batch before it; all: the whole chain, every plan's batches."
    )
    checked_batches: int
    checked_readings: int
    head_hash: str | None
    first_break: ChainBreak | None = strawberry.field(
        description="`version` is the batch where the chain first breaks."
    )

    @classmethod
    def of(cls, report: ReadingsIntegrity, scope: str) -> ReadingsIntegrityResult:
        found = report.first_break
        return cls(
            ok=report.ok,
            scope=scope,
            checked_batches=report.checked_batches,
            checked_readings=report.checked_readings,
            head_hash=report.head_hash.hex() if report.head_hash else None,
            first_break=ChainBreak(version=found.version, what=found.what, detail=found.detail)
            if found
            else None,
        )


@strawberry.type
class IntegrityResult:
    plan_id: strawberry.ID
    ok: bool = strawberry.field(
        description="True only if the plan's chain verifies, nothing stored beside it "
        "disagrees (`problems`) and the readings verify."
    )
    checked_at: dt.datetime = strawberry.field(
        description="When this verification began reading: it vouches for the bytes stored then."
    )
    checked: int = strawberry.field(description="How many events were re-hashed.")
    head_version: int
    head_hash: str | None
    first_break: ChainBreak | None
    problems: list[IntegrityProblem] = strawberry.field(
        description="Snapshots and node-index entries that disagree with the events (checked "
        "once the chain holds), by version; at most 100."
    )
    readings: ReadingsIntegrityResult = strawberry.field(
        description="The plan's batches of readings (all plans share one chain; "
        "`allReadings: true` verifies all of it), verified in the same request."
    )

    @classmethod
    def of(cls, plan_id: str, verdict: PlanIntegrity) -> IntegrityResult:
        report = verdict.plan
        found = report.first_break
        return cls(
            plan_id=strawberry.ID(plan_id),
            ok=verdict.ok,
            checked_at=verdict.checked_at,
            checked=report.checked,
            head_version=report.head_version,
            # No version to vouch for (the chain breaks at version 1): no head, not the genesis
            # value the chain starts from.
            head_hash=report.head_hash.hex() if report.head_hash and report.head_version else None,
            first_break=ChainBreak(version=found.version, what=found.what, detail=found.detail)
            if found
            else None,
            problems=[IntegrityProblem.of(each) for each in report.findings],
            readings=ReadingsIntegrityResult.of(verdict.readings, verdict.readings_scope),
        )
