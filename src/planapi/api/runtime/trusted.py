"""Persisted queries and trusted documents.

Clients may send a document's SHA-256 instead of its text, as Apollo's automatic persisted
queries do (`extensions.persistedQuery.sha256Hash`) or as a `documentId` (`sha256:<hex>` or the
bare hex). The hash is looked up among the *trusted documents* — `schema/trusted-documents.json`,
an Apollo persisted-query manifest generated from the documents this repository itself sends
(`planapi trusted-documents`, checked in CI with `--check`) — and, unless the operator allows
only those, among the documents clients registered by sending text and hash together (kept in a
bounded memory store, per process).

With `PLANAPI_TRUSTED_DOCUMENTS_ONLY=true` any other document is refused with the code
`DOCUMENT_NOT_TRUSTED`. A trusted document may still be sent as text: it is recognised by its
normalised form (parsed and printed), so indentation and commas do not matter.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, print_ast, validate

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
DEFAULT_FILE = Path("schema/trusted-documents.json")
_HEX = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    """A persisted-query request that cannot be served; `code` goes to `extensions.code`."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalised_hash(text: str, max_tokens: int | None = None) -> str | None:
    """The hash of the document as graphql-core prints it; None when it does not parse."""
    try:
        document = parse(text, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    return sha256_hex(print_ast(document))


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    id: str  # sha256 hex of `body`
    name: str
    type: str  # query, mutation or subscription
    body: str


def manifest(documents: Iterable[TrustedDocument]) -> str:
    operations = [
        {"id": doc.id, "name": doc.name, "type": doc.type, "body": doc.body}
        for doc in sorted(documents, key=lambda d: (d.name, d.id))
    ]
    text = json.dumps(
        {"format": MANIFEST_FORMAT, "version": 1, "operations": operations},
        indent=2,
        ensure_ascii=False,
    )
    return text + "\n"


def read_manifest(text: str) -> list[TrustedDocument]:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"not an {MANIFEST_FORMAT} (version 1)")
    found: list[TrustedDocument] = []
    for item in data.get("operations", []):
        body = item["body"]
        if item["id"] != sha256_hex(body):
            raise ValueError(f"operation {item.get('name')!r}: id is not the SHA-256 of its body")
        found.append(TrustedDocument(item["id"], item.get("name", ""), item.get("type", ""), body))
    return found


def document_of(body: str, name_hint: str = "") -> TrustedDocument:
    parsed = parse(body, no_location=True)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    names = [op.name.value for op in operations if op.name is not None]
    kinds = sorted({op.operation.value for op in operations})
    return TrustedDocument(
        sha256_hex(body), "+".join(names) or name_hint, "+".join(kinds) or "query", body
    )


def problems_of(schema: GraphQLSchema, documents: Iterable[TrustedDocument]) -> list[str]:
    """Each document that no longer validates against the schema, and why."""
    found: list[str] = []
    for doc in documents:
        errors = validate(schema, parse(doc.body))
        found.extend(f"{doc.name}: {error.message}" for error in errors)
    return found


class DocumentStore:
    """Trusted documents, plus (unless only those are allowed) registered ones."""

    def __init__(
        self,
        trusted: Iterable[TrustedDocument] = (),
        *,
        only_trusted: bool = False,
        max_registered: int = 1_000,
        max_document_bytes: int = 100_000,
    ) -> None:
        self.only_trusted = only_trusted
        self.max_registered = max_registered
        self.max_document_bytes = max_document_bytes
        self.trusted: dict[str, str] = {doc.id: doc.body for doc in trusted}
        self._normalised = {normalised_hash(body) for body in self.trusted.values()}
        self._registered: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def from_file(cls, path: Path, *, only_trusted: bool) -> DocumentStore:
        if not path.exists():
            if only_trusted:
                raise FileNotFoundError(
                    f"PLANAPI_TRUSTED_DOCUMENTS_ONLY is on but {path} does not exist "
                    "(set PLANAPI_TRUSTED_DOCUMENTS_FILE, or run `planapi trusted-documents`)"
                )
            return cls(only_trusted=False)
        return cls(read_manifest(path.read_text(encoding="utf-8")), only_trusted=only_trusted)

    def is_trusted_text(self, text: str, normalised: str | None) -> bool:
        return sha256_hex(text) in self.trusted or (
            normalised is not None and normalised in self._normalised
        )

    def resolve(
        self, query: str | None, extensions: Mapping[str, Any] | None, document_id: Any
    ) -> str | None:
        """The text to execute: `query` itself, or the document its hash names. Raises
        PersistedQueryError for an unknown hash, a hash that does not match the text, or
        (only trusted documents) a registration."""
        wanted = _requested_hash(extensions, document_id)
        if wanted is None:
            return query
        if query is not None:
            if sha256_hex(query) != wanted:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "The persisted query's hash is not the SHA-256 of the query sent with it.",
                    400,
                )
            if wanted not in self.trusted and not self.only_trusted:
                self._register(wanted, query)
            return query
        found = self.trusted.get(wanted)
        if found is None and not self.only_trusted:
            found = self._registered.get(wanted)
            if found is not None:
                self._registered.move_to_end(wanted)
        if found is None:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_FOUND",
                "PersistedQueryNotFound",
                200,
            )
        return found

    def _register(self, digest: str, query: str) -> None:
        if len(query) > self.max_document_bytes or self.max_registered <= 0:
            return
        self._registered[digest] = query
        self._registered.move_to_end(digest)
        while len(self._registered) > self.max_registered:
            self._registered.popitem(last=False)


def not_trusted() -> PersistedQueryError:
    return PersistedQueryError(
        "DOCUMENT_NOT_TRUSTED",
        "This server only runs its trusted documents (schema/trusted-documents.json); "
        "this document is not one of them.",
        400,
    )


def _requested_hash(extensions: Mapping[str, Any] | None, document_id: Any) -> str | None:
    wanted: Any = None
    if isinstance(extensions, Mapping):
        persisted = extensions.get("persistedQuery")
        if isinstance(persisted, Mapping):
            if persisted.get("version", 1) != 1:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_NOT_SUPPORTED", "Only persisted query version 1.", 400
                )
            wanted = persisted.get("sha256Hash")
            if wanted is None:
                raise _bad_hash()
    if document_id is not None:
        if not isinstance(document_id, str):
            raise _bad_hash()
        given = document_id.removeprefix("sha256:")
        if wanted is not None and given != wanted:
            raise _bad_hash()
        wanted = given
    if wanted is None:
        return None
    if not isinstance(wanted, str) or not _HEX.match(wanted):
        raise _bad_hash()
    return wanted


def _bad_hash() -> PersistedQueryError:
    return PersistedQueryError(
        "PERSISTED_QUERY_INVALID",
        "A persisted query names its document by a SHA-256 in lowercase hex "
        "(extensions.persistedQuery.sha256Hash, or documentId 'sha256:<hex>').",
        400,
    )


# -- the documents this repository sends ---------------------------------------------------
_JS_TEMPLATE = re.compile(r"(?P<name>[A-Za-z_]\w*)\s*[:=]\s*`(?P<body>[^`]*)`", re.S)
_JS_SUBSTITUTION = re.compile(r"\$\{(\w+)\}")
_README_BLOCK = re.compile(r"```graphql\n(?P<body>.*?)```", re.S)


def audit_page_documents(script: str) -> list[TrustedDocument]:
    """The queries of the auditor page (`QUERIES` in audit.js), as the page sends them."""
    literals = {m["name"]: m["body"] for m in _JS_TEMPLATE.finditer(script)}
    found = []
    for name, body in literals.items():
        text = _JS_SUBSTITUTION.sub(lambda m: literals.get(m[1], m[0]), body)
        if re.match(r"\s*(query|mutation|subscription)\b", text):
            found.append(document_of(text, name))
    return found


def readme_documents(readme: str) -> list[TrustedDocument]:
    return [document_of(m["body"], "readme") for m in _README_BLOCK.finditer(readme)]
