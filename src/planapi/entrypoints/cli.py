"""`planapi`: serve, relay, migrate, seed, verify, export, export-schema, tokens."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError as SettingsError

from planapi.adapters.database import local_file
from planapi.api.schema import build_schema
from planapi.application.ports import IntegrityReport
from planapi.bootstrap import NotMigratedError, bootstrap, engine_for, ensure_schema
from planapi.config import Settings
from planapi.domain.errors import PlanApiError
from planapi.entrypoints import log_cli
from planapi.entrypoints.generated import write_or_check
from planapi.entrypoints.logs import configure_from_environment

SCHEMA_FILE = Path("schema/planapi.graphql")


def _settings() -> Settings:
    try:
        return Settings()
    except SettingsError as error:
        problems = "; ".join(
            f"PLANAPI_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise SystemExit(f"planapi: bad setting: {problems}") from error


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from planapi.entrypoints.logs import logging_config

    settings = _servable()
    level = args.log_level or settings.log_level
    # uvicorn drains on SIGTERM/SIGINT, then raises the signal again for the handler it found:
    # with this one the drained process exits 0 instead of dying of the signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stopped)
    uvicorn.run(
        "planapi.entrypoints.asgi:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        # Explicitly the fast ones (uvicorn[standard]): uvloop's event loop, httptools' parser.
        loop="uvloop",
        http="httptools",
        log_level=level,
        log_config=logging_config(settings.log_format, level),
        # Access lines are INFO: above that level uvicorn would still build each line's client
        # address and quoted path, on every response, for a logger that drops it (~7,000 of a
        # cached hit's ~300,000 instructions; docs/performance.md, "Where a full-tree hit's
        # time went").
        access_log=level.lower() in ("debug", "info"),
        # No `Server: uvicorn`: it tells a scanner what to try (OWASP secure headers); `Date` stays.
        server_header=False,
        proxy_headers=True,
        # A WebSocket message is read whole before anyone knows who sent it, and subscriptions
        # need small ones: at most what an anonymous caller may POST (docs/security.md).
        ws_max_size=min(
            settings.max_graphql_bytes_anonymous or settings.max_graphql_bytes,
            settings.max_graphql_bytes,
        ),
        # SIGTERM: stop accepting, let in-flight requests finish for up to this long, then stop.
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )
    return 0


def _servable() -> Settings:
    """Fail fast, each with what to do: the settings, tracing, the trusted documents' file and
    the database (migrated: SQLite; found migrated: PostgreSQL), before uvicorn starts workers."""
    from planapi.entrypoints.tracing import TracingUnavailableError, tracing

    settings = _settings()
    try:
        tracing(settings.tracing).shutdown()
    except TracingUnavailableError as error:
        raise SystemExit(f"planapi: {error}") from error
    if settings.trusted_documents_only and not Path(settings.trusted_documents_file).exists():
        raise SystemExit(
            f"planapi: PLANAPI_TRUSTED_DOCUMENTS_ONLY is on but {settings.trusted_documents_file} "
            "does not exist (set PLANAPI_TRUSTED_DOCUMENTS_FILE)"
        )
    asyncio.run(_preflight(settings))
    return settings


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _preflight(settings: Settings) -> None:
    """SQLite migrates itself (once, before any worker starts); PostgreSQL must be migrated."""
    engine = engine_for(settings)
    try:
        await ensure_schema(engine)
    finally:
        await engine.dispose()


def _require_file(settings: Settings) -> None:
    database = local_file(settings.database_url)
    if database is not None and not database.exists():
        raise SystemExit(
            f"planapi: there is no database at {database.resolve()} "
            f"(PLANAPI_DATABASE_URL={settings.database_url}): run this where the server runs, "
            "or set PLANAPI_DATABASE_URL to its database; `planapi migrate` creates one"
        )


async def _existing(settings: Settings) -> Settings:
    """Commands that read or add to a deployment's data (`tokens`, `verify`, `export`) refuse
    to run on a database that is not there: opening SQLite would create an empty one (in
    whatever directory the command was run from) and, say, print a token its server refuses."""
    from planapi.adapters.migrations import pending

    _require_file(settings)
    engine = engine_for(settings)
    try:
        current, _ = await pending(engine)
    finally:
        await engine.dispose()
    if current is None:
        raise SystemExit(
            f"planapi: the database at {settings.database_url} has never been migrated: run "
            "`planapi migrate` (or `planapi serve`) first"
        )
    return settings


async def _migrate() -> str:
    from planapi.adapters.migrations import pending, upgrade

    engine = engine_for(_settings())
    try:
        before, head = await pending(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()
    if before == head:
        return f"already at migration {head}; nothing to do"
    return f"migrated from {before or 'an empty database'} to {head}"


async def _seed(name: str) -> str:
    from planapi.entrypoints.seeding import seed

    services = await bootstrap(_settings())
    try:
        return await seed(build_schema(), services, name)
    finally:
        await services.close()


async def _tokens(args: argparse.Namespace) -> int:
    from planapi.entrypoints.tokens_cli import run

    services = await bootstrap(await _existing(_settings()))
    try:
        return await run(services, args)
    finally:
        await services.close()


async def _verify(plan_id: str | None, checkpoints: list[Path]) -> tuple[bool, list[str]]:
    """Every plan's chain (or one) and the readings chain; ok only if all hold. With saved
    checkpoints, also whether the logs extend each of them."""
    from planapi.entrypoints.log_cli import read_notes

    notes = read_notes(checkpoints)
    services = await bootstrap(await _existing(_settings()))
    lines: list[str] = []
    ok = True
    try:
        if notes:
            assert services.transparency is not None
            ok, lines = await services.transparency.check_saved(notes)
        ids = [plan_id] if plan_id else [p.state.id for p in await services.plans.plans()]
        for each in ids:
            report = await services.plans.verify(each)
            ok = ok and report.ok
            lines += _plan_lines(each, report)
            assert services.proposals is not None
            for chain in await services.proposals.verify(each):  # each proposal's own chain
                ok = ok and chain.ok
                lines += _plan_lines(chain.stream_id.removeprefix("proposal:"), chain)
        readings = await services.readings.verify()
        if readings.first_break is None:
            lines.append(
                f"readings: ok, {readings.checked_batches} batches and "
                f"{readings.checked_readings} readings checked"
            )
        else:
            ok, found = False, readings.first_break
            lines.append(
                f"readings: BROKEN at batch {found.version}: {found.what} ({found.detail})"
            )
    finally:
        await services.close()
    return ok, lines


def _log_command(args: argparse.Namespace) -> int:
    if args.command == "keys":
        verifier = log_cli.create_key(args, _settings().log_origin)
        print(f"verifier key (publish it; PLANAPI_LOG_SIGNING_KEY_FILE={args.file}):\n{verifier}")
    elif args.command == "checkpoint":
        print("\n".join(asyncio.run(_save_checkpoints(args.file))))
    else:
        try:
            print(log_cli.check(args))
        except log_cli.CheckFailedError as error:
            print(f"REFUSED: {error}")
            return 1
    return 0


async def _save_checkpoints(path: Path) -> list[str]:
    services = await bootstrap(_settings())
    try:
        assert services.transparency is not None
        return await log_cli.save_checkpoints(services.transparency, path)
    finally:
        await services.close()


def _plan_lines(plan_id: str, report: IntegrityReport) -> list[str]:
    if report.first_break is not None:
        found = report.first_break
        return [f"plan {plan_id}: BROKEN at version {found.version}: {found.what} ({found.detail})"]
    head = report.head_hash.hex() if report.head_hash else "-"
    verdict = "ok" if report.ok else f"{len(report.findings)} PROBLEMS"
    lines = [
        f"plan {plan_id}: {verdict}, {report.checked} events checked; "
        f"version {report.head_version} hash {head}"
    ]
    for finding in report.findings:
        node = f" node {finding.node_id}" if finding.node_id else ""
        lines.append(f"  {finding.kind} at version {finding.version}{node}: {finding.detail}")
    return lines


async def _export(args: argparse.Namespace) -> str:
    from planapi.api.routes.rendering import render
    from planapi.application.document import diff_document, plan_document

    services = await bootstrap(await _existing(_settings()))
    try:
        if args.diff:
            start, end = args.diff
            return render(
                diff_document(await services.plans.diff(args.plan_id, start, end)), args.format
            )
        try:
            instant = dt.datetime.fromisoformat(args.as_of) if args.as_of else None
        except ValueError as error:
            raise SystemExit(
                f"planapi: --as-of {args.as_of!r} is not an ISO 8601 instant"
            ) from error
        found = await services.plans.plan(args.plan_id, args.version, instant)
        if found is None:
            raise SystemExit(f"planapi: plan {args.plan_id!r} has no such version")
        return render(plan_document(found), args.format)
    finally:
        await services.close()


def export_schema(args: argparse.Namespace) -> int:
    sdl = build_schema().as_str() + "\n"
    if args.output == "-" and not args.check:
        sys.stdout.write(sdl)
        return 0
    return write_or_check(Path(args.output), sdl, check=args.check, fix="planapi export-schema")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve GraphQL (GraphiQL at /graphql)")
    run.add_argument("--host", help="default: PLANAPI_HOST (127.0.0.1)")
    run.add_argument("--port", type=int, help="default: PLANAPI_PORT (8000)")
    run.add_argument("--workers", type=int, help="default: PLANAPI_WORKERS (1)")
    run.add_argument("--log-level", help="default: PLANAPI_LOG_LEVEL (info)")

    commands.add_parser(
        "relay", help="publish the event log, in order, to NATS JetStream (runs until SIGTERM)"
    )

    commands.add_parser("migrate", help="upgrade the database to the latest migration")

    seed = commands.add_parser("seed", help="create a plan from a bundled data file")
    seed.add_argument("name", choices=["baku"])

    verify = commands.add_parser(
        "verify", help="re-compute the hash chains (every plan, or one, and the readings)"
    )
    verify.add_argument("plan_id", nargs="?")
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a witness file of saved checkpoints the logs must extend (repeatable)",
    )

    _add_export_parser(commands)

    from planapi.entrypoints import tokens_cli

    tokens_cli.add_parser(commands)
    log_cli.add_parsers(commands)

    _add_generated_parsers(commands)
    return parser


def _add_export_parser(commands: Any) -> None:
    export_doc = commands.add_parser(
        "export", help="a plan version (or a diff of two) as Markdown, HTML or JSON"
    )
    export_doc.add_argument("plan_id")
    which = export_doc.add_mutually_exclusive_group()
    which.add_argument("--version", type=int)
    which.add_argument("--as-of", help="an ISO 8601 instant with a UTC offset")
    which.add_argument("--diff", type=int, nargs=2, metavar=("FROM", "TO"))
    export_doc.add_argument("--format", choices=["markdown", "html", "json"], default="markdown")
    export_doc.add_argument("--output", default="-", help="a path, or - for stdout")


def _add_generated_parsers(commands: Any) -> None:
    """The commands that write (or check) the files the repository commits from the code."""
    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", default=str(SCHEMA_FILE), help="a path, or - for stdout")
    export.add_argument("--check", action="store_true", help="fail if the file differs")

    trusted = commands.add_parser(
        "trusted-documents", help="write the trusted documents (persisted queries) manifest"
    )
    trusted.add_argument("--output", default="schema/trusted-documents.json")
    trusted.add_argument("--check", action="store_true", help="fail if the file differs")


def main(argv: Sequence[str] | None = None) -> int:
    configure_from_environment()
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "serve":
                return serve(args)
            case "relay":
                from planapi.entrypoints.relay import run_relay

                return run_relay(_settings())
            case "export-schema":
                return export_schema(args)
            case "trusted-documents":
                from planapi.entrypoints.trusted_documents import run as trusted_documents

                return trusted_documents(args.output, args.check)
            case "tokens":
                return asyncio.run(_tokens(args))
            case "migrate":
                print(asyncio.run(_migrate()))
            case "seed":
                print(asyncio.run(_seed(args.name)))
            case "keys" | "checkpoint" | "log":
                return _log_command(args)
            case "verify":
                ok, lines = asyncio.run(_verify(args.plan_id, args.checkpoint))
                print("\n".join(lines))
                return 0 if ok else 1
            case "export":
                text = asyncio.run(_export(args))
                if args.output == "-":
                    sys.stdout.write(text)
                else:
                    Path(args.output).write_text(text, encoding="utf-8")
    except (NotMigratedError, PlanApiError) as error:
        raise SystemExit(f"planapi: {error}") from error
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
