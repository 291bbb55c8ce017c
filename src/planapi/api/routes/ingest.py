"""POST /ingest/readings: bulk readings as NDJSON or CSV for integrations without GraphQL.

The body is parsed as it streams in, one record at a time, so it is never held twice; the batch
is then recorded exactly as `recordReadings` would (same checks, atomicity, idempotency).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planapi.api.routes.csv_records import NOT_UTF8, record_blocks, records
from planapi.api.routes.sdmx import SDMX_CSV_TYPES, parse_sdmx_csv
from planapi.api.routes.sdmx_json import SDMX_JSON_TYPES, parse_sdmx_json
from planapi.api.runtime.nul import NUL, in_json_line, nul_path
from planapi.api.runtime.nul import message as nul_message
from planapi.api.types.naming import render_path
from planapi.api.types.reading_records import (
    CSV_COLUMNS,
    BadRecord,
    decode_line,
    reading_from_record,
)
from planapi.application.access import (
    AccessDeniedError,
    Permission,
    Principal,
)
from planapi.application.freshness import batch_token
from planapi.application.ports import BatchOutcome
from planapi.application.readings import ReadingService, RecordReadings
from planapi.domain.errors import (
    IdempotencyKeyReusedError,
    PlanNotFoundError,
    Problem,
    ValidationError,
)
from planapi.domain.readings import NewReading
from planapi.domain.sdmx import feeds

NDJSON_TYPES = {"application/x-ndjson", "application/jsonl", "application/x-jsonlines"}
CSV_TYPES = {"text/csv"}


@dataclass
class _Parsed:
    readings: list[NewReading] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each reading started on
    problems: list[dict[str, Any]] = field(default_factory=list)
    too_many: bool = False
    limit: int = 0

    def bad(self, line: int, message: str) -> None:
        self.problems.append(_bad_line(line, message))

    def take(self, reading: NewReading, line: int) -> bool:
        return _take(self, reading, line, self.limit)


class _BadHeader(BadRecord):
    """Without a usable header no row can be read: one problem, not one per row."""


def _csv_parser() -> Callable[[str], dict[str, Any] | None]:
    header: list[str] = []

    def parse(text: str) -> dict[str, Any] | None:
        try:
            row = next(csv.reader([text]), [])
        except csv.Error as error:  # a line break outside quotes: this line's problem
            raise BadRecord(f"is not a CSV record: {error}") from error
        if not header:
            unknown = [name for name in row if name.strip() not in CSV_COLUMNS]
            if unknown or "kpi_id" not in row:
                raise _BadHeader(
                    f"header must name columns from {', '.join(CSV_COLUMNS)}; "
                    f"unknown: {', '.join(unknown) or 'none'}"
                )
            header.extend(name.strip() for name in row)
            return None
        if len(row) != len(header):
            raise BadRecord(f"has {len(row)} fields, the header {len(header)}")
        return dict(zip(header, row, strict=True))

    return parse


async def parse_body(body: AsyncIterator[bytes], is_csv: bool, limit: int) -> _Parsed:
    if not is_csv:
        return await _parse_ndjson(body, limit)
    parsed = _Parsed()
    parse_csv = _csv_parser()
    async for line, text in records(body):
        if not text.strip():
            continue
        if text.startswith(NOT_UTF8):
            parsed.problems.append(_bad_line(line, "is not UTF-8"))
            continue
        try:
            record = parse_csv(text)
            if record is None:
                continue
            cell = nul_path(record, "") if NUL in text else None
            if cell is not None:
                raise BadRecord(nul_message(cell))
            reading = reading_from_record(record)
        except BadRecord as error:
            parsed.problems.append(_bad_line(line, str(error)))
            if isinstance(error, _BadHeader):
                break
            continue
        if not _take(parsed, reading, line, limit):
            break
    return parsed


async def _parse_ndjson(body: AsyncIterator[bytes], limit: int) -> _Parsed:
    """One JSON object a line, decoded from the bytes as they arrive (no text copy)."""
    parsed, buffer, line = _Parsed(), b"", 0
    async for chunk in body:
        buffer += chunk
        cut = buffer.rfind(b"\n")
        if cut < 0:
            continue
        complete, buffer = buffer[:cut], buffer[cut + 1 :]
        line = _ndjson_lines(complete, line, parsed, limit)
        if parsed.too_many:
            return parsed
    if buffer:
        _ndjson_lines(buffer, line, parsed, limit)
    return parsed


def _ndjson_lines(block: bytes, line: int, parsed: _Parsed, limit: int) -> int:
    """Decodes the lines of `block`, numbered after `line`; returns the last number."""
    for raw in block.split(b"\n"):
        line += 1
        if not raw.strip():
            continue
        try:
            field = in_json_line(raw)
            if field is not None:
                raise BadRecord(nul_message(field))
            reading = decode_line(raw)
        except BadRecord as error:
            parsed.problems.append(_bad_line(line, str(error)))
            continue
        if not _take(parsed, reading, line, limit):
            break
    return line


def _bad_line(line: int, message: str) -> dict[str, Any]:
    return {"line": line, "path": f"line {line}", "message": message}


def _take(parsed: _Parsed, reading: NewReading, line: int, limit: int) -> bool:
    """Adds a reading; False (and too_many) once the batch is over the limit."""
    if len(parsed.readings) >= limit:
        parsed.too_many = True
        return False
    parsed.readings.append(reading)
    parsed.lines.append(line)
    return True


def ingest_endpoint(
    readings: Callable[[], ReadingService], *, max_body: int
) -> Callable[[Request], Any]:
    async def ingest(request: Request) -> Response:
        plan_id = request.query_params.get("planId")
        if not plan_id:
            return _error(400, "missing_plan_id", "give the plan as ?planId=…")
        # Set by the access middleware, which let only callers who may record readings in.
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None or not principal.can(Permission.RECORD_READINGS):
            return _error(403, "forbidden", "this caller may not record readings")
        if not principal.scope.allows_plan(plan_id):  # before reading a byte of the body
            return _error(
                403,
                "out_of_scope",
                f"{principal.name} may not record readings for plan {plan_id!r}",
                [{"path": "planId", "message": f"plan {plan_id!r} is outside the token's scope"}],
            )
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        refusal = _unreadable(kind, request.headers.get("content-length"), max_body)
        if refusal is not None:
            return refusal
        service = readings()
        try:
            if kind in SDMX_CSV_TYPES | SDMX_JSON_TYPES:
                body = _limited(request.stream(), max_body)
                parsed = await _parse_sdmx(service, plan_id, body, kind in SDMX_JSON_TYPES)
            else:
                parsed = await parse_body(
                    _limited(request.stream(), max_body), kind in CSV_TYPES, service.max_batch
                )
        except PlanNotFoundError as error:
            return _error(404, "plan_not_found", str(error))
        except BodyTooLargeError:  # a chunked body declares no length: found out as it streams
            return _too_large(max_body)
        if parsed.too_many:
            return _error(
                422,
                "validation_failed",
                f"send at most {service.max_batch:,} readings per request",
                [{"path": "readings", "message": "too many readings"}],
            )
        key = request.headers.get("idempotency-key") or request.query_params.get("idempotencyKey")
        command = RecordReadings(plan_id, parsed.readings, key)
        return await _record(service, command, principal, parsed)

    return ingest


async def _parse_sdmx(
    service: ReadingService, plan_id: str, body: AsyncIterator[bytes], is_json: bool
) -> _Parsed:
    """SDMX observations become readings of the KPIs their indicators feed in the latest
    version: CSV row by row as it streams, JSON (not streamable) once the body is in."""
    latest = await service.plans.stored_latest(plan_id)
    if latest is None:
        raise PlanNotFoundError(plan_id)
    parsed = _Parsed(limit=service.max_batch)
    if is_json:
        parse_sdmx_json(b"".join([chunk async for chunk in body]), feeds(latest.state), parsed)
    else:
        await parse_sdmx_csv(record_blocks(body), feeds(latest.state), parsed)
    return parsed


def _unreadable(kind: str, declared: str | None, max_body: int) -> Response | None:
    """The refusal of a body this route cannot take, known from its headers alone."""
    if kind not in NDJSON_TYPES | CSV_TYPES | SDMX_CSV_TYPES | SDMX_JSON_TYPES:
        return _error(
            415,
            "unsupported_media_type",
            "send application/x-ndjson, text/csv (with a header row), or SDMX "
            "(application/vnd.sdmx.data+csv, application/vnd.sdmx.data+json)",
        )
    if declared and declared.isdigit() and int(declared) > max_body:
        return _too_large(max_body)
    return None


def _too_large(max_body: int) -> Response:
    return _error(413, "too_large", f"the body may be at most {max_body:,} bytes")


async def _record(
    service: ReadingService, command: RecordReadings, principal: Principal, parsed: _Parsed
) -> Response:
    """The parsed batch recorded as `recordReadings` would, or every problem found with it."""
    try:
        if parsed.problems:
            # Report what the readings that did parse get wrong too, in one answer; out of
            # scope is refused (by the use case) before anything else is said about it.
            _, found = await service.check(command, principal.name, principal.scope)
            located = [_located(p, parsed.lines) for p in found]
            problems = sorted([*parsed.problems, *located], key=lambda p: p.get("line", 0))
            return _error(422, "validation_failed", "nothing was stored", problems)
        outcome = await service.record(command, principal.name, principal.scope)
    except AccessDeniedError as error:
        forbidden = [
            {**_located(p, parsed.lines), "index": p.path[1]}
            if len(p.path) > 1 and isinstance(p.path[1], int)
            else {"path": render_path(p.path), "message": p.message}
            for p in error.problems
        ]
        return _error(403, "out_of_scope", str(error), forbidden)
    except ValidationError as error:
        problems = [_located(p, parsed.lines) for p in error.problems]
        return _error(422, "validation_failed", "nothing was stored", problems)
    except PlanNotFoundError as error:
        return _error(404, "plan_not_found", str(error))
    except IdempotencyKeyReusedError as error:
        return _error(409, "idempotency_key_reused", str(error))
    return _recorded(outcome)


def _recorded(outcome: BatchOutcome) -> JSONResponse:
    return JSONResponse(
        {
            "batchId": outcome.batch_id,
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "replayed": outcome.replayed,
            "recordedAt": outcome.recorded_at.isoformat(),
            # For PlanAPI-Consistent-With (read-your-writes on any process).
            "consistencyToken": batch_token(outcome.batch_id),
        }
    )


class BodyTooLargeError(Exception):
    pass


async def _limited(body: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in body:
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLargeError(limit)
        yield chunk


def _located(problem: Problem, lines: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"path": render_path(problem.path), "message": problem.message}
    index = problem.path[1] if len(problem.path) > 1 else None
    if isinstance(index, int) and index < len(lines):
        out["line"] = lines[index]
    return out


MAX_PROBLEMS_LISTED = 1_000


def _error(
    status: int, code: str, message: str, problems: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if problems is not None:
        # A batch of 10,000 bad lines needs a few examples and a count, not a 1 MB answer.
        body["problemCount"] = len(problems)
        body["problems"] = problems[:MAX_PROBLEMS_LISTED]
    return JSONResponse(body, status_code=status)
