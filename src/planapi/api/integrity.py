"""The result of re-computing a plan's hash chain."""

from __future__ import annotations

import strawberry

from planapi.application.ports import IntegrityReport, ReadingsIntegrity


@strawberry.type(description="Where the chain first breaks, and how.")
class ChainBreak:
    version: int
    what: str = strawberry.field(description="altered, inserted, removed or reordered")
    detail: str


@strawberry.type(description="The readings' chain of batches, re-computed.")
class ReadingsIntegrityResult:
    ok: bool
    checked_batches: int
    checked_readings: int
    head_hash: str | None
    first_break: ChainBreak | None = strawberry.field(
        description="`version` is the batch where the chain first breaks."
    )

    @classmethod
    def of(cls, report: ReadingsIntegrity) -> ReadingsIntegrityResult:
        found = report.first_break
        return cls(
            ok=report.ok,
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
        description="True only if the plan's chain and the readings' chain both verify."
    )
    checked: int = strawberry.field(description="How many events were re-hashed.")
    head_version: int
    head_hash: str | None
    first_break: ChainBreak | None
    readings: ReadingsIntegrityResult = strawberry.field(
        description="The readings' chain (all plans share it), verified in the same request."
    )

    @classmethod
    def of(
        cls, plan_id: str, report: IntegrityReport, readings: ReadingsIntegrity
    ) -> IntegrityResult:
        found = report.first_break
        return cls(
            plan_id=strawberry.ID(plan_id),
            ok=report.ok and readings.ok,
            checked=report.checked,
            head_version=report.head_version,
            # No version to vouch for (the chain breaks at version 1): no head, not the genesis
            # value the chain starts from.
            head_hash=report.head_hash.hex() if report.head_hash and report.head_version else None,
            first_break=ChainBreak(version=found.version, what=found.what, detail=found.detail)
            if found
            else None,
            readings=ReadingsIntegrityResult.of(readings),
        )
