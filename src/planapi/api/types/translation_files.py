"""Translators' files in GraphQL: `Plan.translationsPo(lang)` / `translationsXliff(lang)` export
a language as gettext PO / XLIFF 2.0; `importTranslations` / `importTranslationsXliff` record a
translated file as one amendment, all of it or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from planapi.api.types.context import Context
from planapi.api.types.errors import (
    Forbidden,
    PlanNotFound,
    ValidationFailed,
    VersionConflict,
    as_union_member,
)
from planapi.api.types.history import Amendment
from planapi.api.types.plans import Plan
from planapi.api.types.root_fields import Caching, declare
from planapi.application.access import Permission
from planapi.application.plans import PlanService, PlanVersion
from planapi.application.translation_files import ImportTranslations, import_po
from planapi.application.translation_xliff import import_xliff
from planapi.domain.errors import PlanApiError
from planapi.domain.events import Authority


@strawberry.input(
    description="A PO file of one language (as `Plan.translationsPo` exports it, translated)."
)
class ImportTranslationsInput:
    plan_id: strawberry.ID
    expected_version: int
    lang: str
    po: str
    authority: Authority
    rationale: str
    reference: str | None = None
    effective_from: dt.date | None = None


@strawberry.input(
    description="An XLIFF 2.0 document (as `Plan.translationsXliff` exports it, translated): "
    "the language is its `trgLang`."
)
class ImportTranslationsXliffInput:
    plan_id: strawberry.ID
    expected_version: int
    xliff: str
    authority: Authority
    rationale: str
    lang: str | None = strawberry.field(
        default=None, description="If given, must be the document's `trgLang`."
    )
    reference: str | None = None
    effective_from: dt.date | None = None


@strawberry.type(description="The file's translations were recorded as the next version.")
class TranslationsImported:
    plan: Plan
    amendment: Amendment
    imported: int = strawberry.field(description="Texts translated by this amendment.")


ImportTranslationsResult = Annotated[
    TranslationsImported | ValidationFailed | VersionConflict | PlanNotFound | Forbidden,
    strawberry.union("ImportTranslationsResult"),
]


@strawberry.type
class TranslationFileMutations:
    @strawberry.mutation(
        description="Record the translations of a PO file as one amendment (`setTranslation` "
        "for each translated entry that is not fuzzy and not already recorded), or none of "
        "them: each entry refused is a problem naming it (`entries[3].msgid`).",
        metadata=declare(Permission.AMEND, Caching.NOT_A_QUERY),
    )
    async def import_translations(
        self, info: strawberry.Info[Context, None], input: ImportTranslationsInput
    ) -> ImportTranslationsResult:
        command = _command(input, input.po)
        return await _imported(info, command, import_po)

    @strawberry.mutation(
        description="Record the translations of an XLIFF 2.0 document as one amendment "
        "(`setTranslation` for each unit whose segment is translated, reviewed or final and "
        "not already recorded), or none of them: each unit refused is a problem naming its "
        "index and field (`units[3].target`), the message its id. DTDs and entities are "
        "refused, and so is inline markup.",
        metadata=declare(Permission.AMEND, Caching.NOT_A_QUERY),
    )
    async def import_translations_xliff(
        self, info: strawberry.Info[Context, None], input: ImportTranslationsXliffInput
    ) -> ImportTranslationsResult:
        command = _command(input, input.xliff)
        return await _imported(info, command, import_xliff)


def _command(
    input: ImportTranslationsInput | ImportTranslationsXliffInput, text: str
) -> ImportTranslations:
    """The import of `text` (a PO or XLIFF file): the rest of both inputs is alike."""
    return ImportTranslations(
        plan_id=input.plan_id,
        expected_version=input.expected_version,
        lang=input.lang,
        text=text,
        authority=input.authority,
        rationale=input.rationale,
        reference=input.reference,
        effective_from=input.effective_from,
    )


Importer = Callable[
    [PlanService, ImportTranslations, str | None], Awaitable[tuple[PlanVersion, int]]
]


async def _imported(
    info: strawberry.Info[Context, None], command: ImportTranslations, importer: Importer
) -> ImportTranslationsResult:
    try:
        found, count = await importer(info.context.plans, command, info.context.actor)
    except PlanApiError as error:
        return as_union_member(error)  # type: ignore[no-any-return]
    return TranslationsImported(
        plan=Plan(found=found), amendment=Amendment(record=found.amendment), imported=count
    )
