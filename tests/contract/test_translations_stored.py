"""Translations survive the store: the events keep them, snapshots keep them, and a version
read back from either (or verified) holds the same texts in every language."""

from __future__ import annotations

from collections.abc import Callable

from planapi.adapters.snapshots import SqlSnapshotStore
from planapi.application.plans import PlanService
from planapi.application.translations import localize
from planapi.domain.changes import DeclareLanguages, SetTranslation, UpdateNode
from planapi.domain.plan import fold
from tests.contract.builders import amend_command, build_history
from tests.contract.conftest import ports_and_memory

PLAN = "baku-2026"


async def _translated(service: PlanService) -> int:
    version = await build_history(service)
    changes = [
        DeclareLanguages("en", ("ar", "zh", "fr")),
        SetTranslation("p1", "title", "ar", "التوصيل الميسور"),
        SetTranslation("p1", "title", "zh", "可负担的连通性"),
        SetTranslation("intro", "description", "fr", "Pourquoi ce plan existe"),
    ]
    version = (await service.amend_plan(amend_command(PLAN, version, changes))).state.version
    edit = [UpdateNode("intro", {"description": "Why this plan exists, and for whom"})]
    return (await service.amend_plan(amend_command(PLAN, version, edit))).state.version


@ports_and_memory
async def test_a_version_read_from_a_snapshot_keeps_every_translation(
    service: PlanService,
    snapshot_store: SqlSnapshotStore,
    fresh_service: Callable[[], PlanService],
) -> None:
    latest = await _translated(service)
    assert latest == 15  # a snapshot at 15 (every five versions)
    snapshot = await snapshot_store.nearest(f"plan:{PLAN}", latest)
    assert snapshot is not None
    assert snapshot.version == 15

    found = await fresh_service().require(PLAN, latest)

    state = found.state
    assert state.languages.published == ("ar", "zh", "en", "fr")
    assert state == snapshot
    arabic = localize(state, "ar")
    assert arabic.nodes["p1"].title == "التوصيل الميسور"
    assert state.nodes["p1"].title == "Affordable, meaningful connectivity"
    french = localize(state, "fr")
    assert french.localized is not None
    assert french.localized.served["intro"].stale == ("description",)


@ports_and_memory
async def test_translations_fold_from_the_stored_events_alone(service: PlanService) -> None:
    latest = await _translated(service)
    recorded = await service.events.read(f"plan:{PLAN}", 0, latest)

    folded = fold(r.event for r in recorded)

    assert folded.translations == (await service.require(PLAN, latest)).state.translations
    report = await service.verify(PLAN)
    assert report.ok, report
