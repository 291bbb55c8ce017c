"""A GraphQL request's body, prepared once: what to execute and how it may be cached.

Per body (up to MAX_MEMO_REQUEST_BYTES): the document (a persisted query's hash resolved, a
document not trusted refused), its analysis for the response cache (`api.runtime.cacheability`)
and its parsed form, the key of its answer but for the role and the dependencies — and the
roles for which the whole path answered it without an error, whose next requests of the same
body may run directly (`api.runtime.direct`). Per document text, the parse and the analysis,
so bodies differing only in their variables share them. Both bounded, least recently used out:
the bodies by the memory they hold (bodies differ in size a hundredfold), the documents by count.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    get_operation_ast,
    parse,
    print_ast,
)
from strawberry.http import GraphQLRequestData

from planapi.api.runtime.cacheability import NOT_CACHEABLE, Analysis, analyse
from planapi.api.runtime.graphql_request import body_fields, query_fields
from planapi.api.runtime.http_caching import encode
from planapi.api.runtime.http_protocol import RequestRefused
from planapi.api.runtime.parsing import parses_off_loop
from planapi.api.runtime.response_cache import ByteLru
from planapi.api.runtime.shape import shape_error
from planapi.api.runtime.trusted import DocumentStore, not_trusted, sha256_hex

MAX_MEMO_REQUEST_BYTES = 64 * 1024
MAX_ANALYSES = 1_024
DEFAULT_MEMO_BYTES = 2 * 1024 * 1024
# What a memoised body holds is about three times its length (the body itself, the key; its
# decoded query and variables; its answers' cache key, the variables again) and this besides
# (the Prepared, the request data, the compiled root plan). Measured with tracemalloc through
# the app (tests/e2e/test_prepared_memory.py): 1,511 bytes held for a 178-byte version read,
# 4,505 for 1,178 bytes, 31,490 for 10,178. A count of entries was no bound: 4,096 bodies of
# 64 KiB would have held 800 MB, and the soak's 4,096 small ones took 8 minutes to arrive.
MEMO_ENTRY_OVERHEAD = 1_000
MEMO_BYTES_PER_BODY_BYTE = 3
# Once the memo is full, a body `known` prepares — one differing from bodies seen before only in
# its variables, answered from the response cache — is memoised one time in KNOWN_ADMISSION: a
# body asked again and again gets in within a few requests, while a stream of bodies each
# asked now and then (the soak's reads of thousands of versions, ~1,800 a second) no longer
# turns the memo over, each entry made to be dropped about a second later, pushing out bodies
# asked more often (docs/performance.md, "An answer's shape shared").
KNOWN_ADMISSION = 16


# Not frozen: made for every body the memo does not hold (the soak's reads of thousands of
# versions), where a frozen dataclass's __init__, through object.__setattr__, cost ~1 µs more.
# Nothing assigns to its fields after it is made; its lists and set are filled in place.
@dataclass(slots=True)
class Prepared:
    data: GraphQLRequestData
    analysis: Analysis
    base_key: bytes  # everything but the role and the dependency; b"" if not cacheable
    pinned: bool
    document: DocumentNode | None = None  # None: strawberry parses it (large, or refused)
    name: str | None = None  # the operation's own name (what metrics report), if it has one
    # Roles the whole path answered this body for without errors (its checks all passed), until
    # a direct run of it fails: then the whole path alone, rather than both each time.
    passed: set[str] = field(default_factory=set)
    # Its compiled root plan (`api.runtime.root_plan`): empty until its first direct run.
    compiled: list[Any] = field(default_factory=list)
    # Its dependency key (`api.runtime.dependencies`) as last taken, with the heads' generation
    # it was taken at: at most one pair, replaced whole.
    read: list[tuple[int, bytes]] = field(default_factory=list)
    # Its response cache key (`cache_hits.answer_key`) as last made: the heads' generation (0
    # when pinned) and the role it was made for, the key and its slot's hash; at most one.
    keyed: list[tuple[int, bytes, bytes, int | None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Parsed:
    analysis: Analysis
    normalised: str | None  # the hash of the printed document (trusted documents)
    document: DocumentNode | None
    name: str | None = None  # the operation's own name (`_name`): the same for every body


_UNPARSED = _Parsed(NOT_CACHEABLE, None, None)


class Preparer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fingerprint: bytes,
        documents: DocumentStore,
        limits: tuple[int, int, int],  # tokens, selections, field pairs
        memo_bytes: int = DEFAULT_MEMO_BYTES,
    ) -> None:
        self.schema = schema
        self.fingerprint = fingerprint
        self.documents = documents
        self.limits = limits
        self.memo: ByteLru[tuple[str, bytes], Prepared] = ByteLru(
            memo_bytes, overhead=MEMO_ENTRY_OVERHEAD
        )
        self._parsed: OrderedDict[tuple[str, str | None], _Parsed] = OrderedDict()
        self._known_turn = 0  # `known` bodies since the last one memoised while full

    def __len__(self) -> int:
        """The request bodies memoised."""
        return len(self.memo)

    def prepare(self, method: str, raw: bytes, protocol: Any, request: Any) -> Prepared | None:
        """The request to execute and how it may be cached; None when strawberry should see
        it as sent (batches, bodies it will refuse)."""
        memo_key = (method, raw)
        # A large body is never memoised: hashing it to look would cost for nothing.
        memoised = len(raw) <= MAX_MEMO_REQUEST_BYTES and protocol == "http"
        found = self.memoised(method, raw) if memoised else None
        if found is not None:
            return found
        fields = query_fields(request, raw) if method == "GET" else body_fields(raw)
        documents = self.documents
        if fields is None:
            if documents.only_trusted:  # batches, bodies without a document
                raise not_trusted()
            return None
        query, variables, operation_name, extensions, document_id = fields
        text = documents.resolve(query, extensions, document_id)
        if text is None:
            if documents.only_trusted:
                raise not_trusted()
            return None
        parsed, digest = self._parse(text, operation_name)
        if documents.only_trusted and not documents.is_trusted_text(text, parsed.normalised):
            raise not_trusted()
        return self._prepared(
            (text, digest),
            variables,
            operation_name,
            extensions,
            protocol,
            parsed,
            memo_key if memoised else None,
        )

    def known(self, method: str, raw: bytes) -> Prepared | None:
        """A plain HTTP body (POST) or query string (GET) as `prepare` makes it, if it is
        memoised or is a POST query whose document was parsed and analysed before (bodies
        differing only in their variables: the soak's reads of thousands of versions, far more
        than the memo holds); else None. Nothing is parsed, resolved or refused here: whatever
        needs that is the view's."""
        found = self.memoised(method, raw)
        if (
            found is not None
            or method != "POST"
            or len(raw) > MAX_MEMO_REQUEST_BYTES
            or self.documents.only_trusted
        ):
            return found
        try:
            fields = body_fields(raw)
        except RequestRefused:
            return None
        if fields is None or fields[0] is None or fields[3] is not None or fields[4] is not None:
            return None  # no document, or a persisted query's extensions or id: the view's
        text, variables, operation_name = fields[0], fields[1], fields[2]
        digest = sha256_hex(text)
        parsed = self._parsed.get((digest, operation_name))
        if parsed is None or parsed.analysis.operation != "query":
            return None
        memo_key = ("POST", raw) if self._admits_known(len(raw)) else None
        document = (text, digest)
        try:
            return self._prepared(
                document, variables, operation_name, None, "http", parsed, memo_key
            )
        except RequestRefused:  # the view refuses it
            return None

    def _admits_known(self, length: int) -> bool:
        """Whether a body `known` prepares is memoised: while the memo has room, always; then
        one time in KNOWN_ADMISSION."""
        if self.memo.has_room(MEMO_BYTES_PER_BODY_BYTE * length):
            return True
        self._known_turn = (self._known_turn + 1) % KNOWN_ADMISSION
        return self._known_turn == 0

    def _prepared(
        self,
        document: tuple[str, str],  # its text and the text's `sha256_hex`, hashed once
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        protocol: Any,
        parsed: _Parsed,
        memo_key: tuple[str, bytes] | None,
    ) -> Prepared:
        text, digest = document
        data = GraphQLRequestData(
            query=text,
            variables=variables,
            operation_name=operation_name,
            extensions=extensions,
            protocol=protocol,
        )
        analysis = parsed.analysis
        # The key is only for the cache, which only takes queries: a mutation's variables
        # (1,000 readings: hundreds of kilobytes) are not serialised for nothing.
        base_key = self._base_key(digest, variables, operation_name) if analysis.cacheable else b""
        pinned = analysis.pinned(variables)
        prepared = Prepared(data, analysis, base_key, pinned, parsed.document, parsed.name)
        if memo_key is not None:
            self._remember(memo_key, prepared)
        return prepared

    def memoised(self, method: str, raw: bytes) -> Prepared | None:
        """The body as prepared before for plain HTTP (not streamed), if it still is."""
        return self.memo.get((method, raw))

    def _remember(self, memo_key: tuple[str, bytes], prepared: Prepared) -> None:
        # Queries only: a mutation's body is never sent twice (keys, expected versions), so
        # memoising it only held its parsed variables (a readings batch: hundreds of objects)
        # until later requests pushed it out — the soak's memory growth after warm-up.
        if prepared.analysis.operation != "query":
            return
        self.memo.put(memo_key, prepared, MEMO_BYTES_PER_BODY_BYTE * len(memo_key[1]))

    def _base_key(
        self, digest: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> bytes:
        return b"|".join(
            (
                self.fingerprint,
                digest.encode(),
                _variables_key(variables or {}),
                (operation_name or "").encode(),
            )
        )

    def _parse(self, text: str, operation_name: str | None) -> tuple[_Parsed, str]:
        """The document parsed and analysed, and its text's `sha256_hex` ("" for one not
        parsed on the loop, never cacheable: a large text is not hashed for nothing)."""
        if parses_off_loop(text):  # not parsed on the loop, and not worth caching
            return _UNPARSED, ""
        digest = sha256_hex(text)
        key = (digest, operation_name)
        found = self._parsed.get(key)
        if found is not None:
            self._parsed.move_to_end(key)
            return found, digest
        max_tokens, max_selections, max_field_pairs = self.limits
        try:
            document: DocumentNode | None = parse(text, no_location=True, max_tokens=max_tokens)
        except GraphQLError:
            document = None
        # Refused documents are left to strawberry to answer, never analysed: the analysis
        # follows every spread.
        if document is None or shape_error(document, max_selections, max_field_pairs):
            result = _UNPARSED
        else:
            result = _Parsed(
                analyse(self.schema, document, operation_name),
                sha256_hex(print_ast(document)),
                document,
                _name(document, operation_name),
            )
        self._parsed[key] = result
        if len(self._parsed) > MAX_ANALYSES:
            self._parsed.popitem(last=False)
        return result, digest


def _variables_key(variables: dict[str, Any]) -> bytes:
    """The variables in the answer's key: orjson, or the standard library for what orjson
    refuses to write though it read it (nested deeper than 254 levels; it reads 1,024), as the
    answers themselves are encoded; variables deeper than even that are refused."""
    try:
        return encode(variables, sort_keys=True)
    except (RecursionError, ValueError) as error:
        raise RequestRefused(400, "variables are nested too deeply") from error


def _name(document: DocumentNode, operation_name: str | None) -> str | None:
    operation = get_operation_ast(document, operation_name)
    return operation.name.value if operation is not None and operation.name else None
