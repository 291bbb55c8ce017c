"""`planapi trusted-documents [--check]`: the documents this repository sends, as a manifest.

Sources: the auditor page's queries (audit.js), the README's GraphQL examples and the seed
mutation. Each must validate against the schema; the manifest (schema/trusted-documents.json)
is what `PLANAPI_TRUSTED_DOCUMENTS_ONLY=true` allows and what persisted-query hashes resolve to.
"""

from __future__ import annotations

import sys
from pathlib import Path

from planapi.api.runtime.trusted import (
    TrustedDocument,
    audit_page_documents,
    document_of,
    manifest,
    problems_of,
    readme_documents,
)
from planapi.api.schema import build_schema
from planapi.entrypoints.audit import STATIC
from planapi.entrypoints.generated import write_or_check
from planapi.entrypoints.seeding import CREATE_PLAN

README = Path("README.md")


def repository_documents(readme: Path = README) -> list[TrustedDocument]:
    found = audit_page_documents((STATIC / "audit.js").read_text(encoding="utf-8"))
    if readme.exists():
        found.extend(readme_documents(readme.read_text(encoding="utf-8")))
    found.append(document_of(CREATE_PLAN, "seed"))
    unique = {doc.id: doc for doc in found}
    return list(unique.values())


def run(output: str, check: bool) -> int:
    documents = repository_documents()
    problems = problems_of(build_schema()._schema, documents)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("a trusted document no longer validates against the schema", file=sys.stderr)
        return 1
    return write_or_check(
        Path(output),
        manifest(documents),
        check=check,
        fix="planapi trusted-documents",
        what=f"{len(documents)} documents",
    )
