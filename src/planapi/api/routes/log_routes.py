"""The Merkle logs over HTTP: `GET /log/checkpoint`, `/log/key` (public: only hashes and a
public key), `/log/proof/inclusion` and `/log/proof/consistency` (for whoever may read events).

Checkpoints are signed notes as text (c2sp.org/tlog-checkpoint), so `curl` output can be saved
as it is; proofs are JSON with base64 hashes in the order RFC 9162 §2.1.3/§2.1.4 give them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from planapi.application.transparency import LOGS, Transparency
from planapi.domain.merkle import ProofError
from planapi.domain.notes import NoteError

Endpoint = Callable[[Request], Awaitable[Response]]
_NOTE = "text/plain; charset=utf-8"
_VOLATILE = {"cache-control": "no-store"}


class _BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name, self.message = name, message


def _refused(name: str, message: str, status: int = 400) -> Response:
    problems = [{"path": name, "message": message}]
    error = "bad_request" if status == 400 else "not_found"
    body = {"error": error, "message": f"{name}: {message}", "problems": problems}
    return JSONResponse(body, status_code=status, headers=_VOLATILE)


def _log(request: Request) -> str:
    log = request.query_params.get("log") or LOGS[0]
    if log not in LOGS:
        raise _BadParameter("log", f"must be one of {', '.join(LOGS)}")
    return log


def _count(request: Request, name: str, default: int | None = None) -> int:
    given = request.query_params.get(name)
    if not given:
        if default is None:
            raise _BadParameter(name, "is required")
        return default
    if not given.isdigit() or len(given) > 18:
        raise _BadParameter(name, "must be a non-negative integer")
    return int(given)


def _answering(
    compute: Callable[[Request, Transparency], Awaitable[Response]],
    service: Callable[[], Transparency],
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await compute(request, service())
        except _BadParameter as error:
            return _refused(error.name, error.message)

    return endpoint


async def _checkpoint(request: Request, logs: Transparency) -> Response:
    log = _log(request)
    found = await logs.checkpoint(log)
    if found is None:
        why = "none signed yet" if logs.keys else "no signing key is configured"
        return _refused("log", f"the {log} log has no checkpoint: {why}", 404)
    return PlainTextResponse(found.note, media_type=_NOTE, headers=_VOLATILE)


async def _key(request: Request, logs: Transparency) -> Response:
    if not logs.keys:
        return _refused("key", "no signing key is configured", 404)
    lines = "".join(key.encode() + "\n" for key in logs.keys)
    return PlainTextResponse(lines, media_type=_NOTE)


async def _size(request: Request, logs: Transparency, log: str, name: str) -> int:
    """The tree size asked for; by default that of the latest checkpoint (what a client holds)."""
    latest = await logs.checkpoint(log)
    return _count(request, name, latest.tree_size if latest else None)


async def _inclusion(request: Request, logs: Transparency) -> Response:
    log = _log(request)
    leaf = _count(request, "leaf")
    size = await _size(request, logs, log, "treeSize")
    try:
        proof: dict[str, Any] = await logs.inclusion(log, leaf, size)
    except ProofError as error:
        raise _BadParameter("leaf" if leaf >= size else "treeSize", str(error)) from error
    return JSONResponse(proof, headers=_VOLATILE)


async def _consistency(request: Request, logs: Transparency) -> Response:
    log = _log(request)
    first = _count(request, "from")
    second = await _size(request, logs, log, "to")
    try:
        proof = await logs.consistency(log, first, second)
    except ProofError as error:
        raise _BadParameter("from" if first > second else "to", str(error)) from error
    return JSONResponse(proof, headers=_VOLATILE)


_MAX_NOTE = 16 * 1024


async def _check(request: Request, logs: Transparency) -> Response:
    """A saved checkpoint (POST body) against the log's latest: signed by a known key, of one
    of the logs, and extended by the present tree (a consistency proof, checked here)."""
    body = await request.body()
    if len(body) > _MAX_NOTE:
        raise _BadParameter("body", f"a checkpoint is at most {_MAX_NOTE} bytes")
    try:
        note = body.decode("utf-8").replace("\r\n", "\n")
        log, saved = logs.open(note)
    except (UnicodeDecodeError, NoteError) as error:
        return JSONResponse({"ok": False, "message": f"refused: {error}"}, headers=_VOLATILE)
    latest = await logs.checkpoint(log)
    if latest is None:
        message = f"the {log} log has no checkpoint of its own to compare with yet"
        return JSONResponse({"ok": False, "message": message}, headers=_VOLATILE)
    if saved.size > latest.tree_size:
        message = (
            f"NOT extended: the {log} log's latest checkpoint has {latest.tree_size} leaves, "
            f"fewer than the saved one's {saved.size}"
        )
        return JSONResponse({"ok": False, "message": message}, headers=_VOLATILE)
    try:
        await logs.witness([note], latest.note)
    except NoteError as error:
        return JSONResponse({"ok": False, "message": f"NOT extended: {error}"}, headers=_VOLATILE)
    message = (
        f"ok: the {log} log's latest checkpoint ({latest.tree_size} leaves) is a consistent "
        f"extension of the saved one ({saved.size} leaves)"
    )
    return JSONResponse({"ok": True, "message": message}, headers=_VOLATILE)


def log_endpoints(service: Callable[[], Transparency]) -> dict[str, Endpoint]:
    return {
        "/log/check": _answering(_check, service),
        "/log/checkpoint": _answering(_checkpoint, service),
        "/log/key": _answering(_key, service),
        "/log/proof/inclusion": _answering(_inclusion, service),
        "/log/proof/consistency": _answering(_consistency, service),
    }
