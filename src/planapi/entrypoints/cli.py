"""`planapi`: serve, relay, migrate, seed, verify, export, export-schema, tokens."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as SettingsError

from planapi.api.schema import build_schema
from planapi.bootstrap import NotMigratedError, bootstrap, engine_for, ensure_schema
from planapi.config import Settings
from planapi.domain.errors import PlanApiError
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
    from planapi.entrypoints.tracing import TracingUnavailableError, tracing

    # Fail fast, with a message saying what to do, before uvicorn starts workers.
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


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _preflight(settings: Settings) -> None:
    """SQLite migrates itself (once, before any worker starts); PostgreSQL must be migrated."""
    engine = engine_for(settings)
    try:
        await ensure_schema(engine, settings)
    finally:
        await engine.dispose()


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

    services = await bootstrap(_settings())
    try:
        return await run(services, args)
    finally:
        await services.close()


async def _verify(plan_id: str | None) -> tuple[bool, list[str]]:
    """Every plan's chain (or one) and the readings chain; ok only if all hold."""
    services = await bootstrap(_settings())
    lines: list[str] = []
    ok = True
    try:
        ids = [plan_id] if plan_id else [p.state.id for p in await services.plans.plans()]
        for each in ids:
            report = await services.plans.verify(each)
            if report.first_break is None:
                head = report.head_hash.hex() if report.head_hash else "-"
                lines.append(
                    f"plan {each}: ok, {report.checked} events checked; "
                    f"version {report.head_version} hash {head}"
                )
            else:
                ok, found = False, report.first_break
                lines.append(
                    f"plan {each}: BROKEN at version {found.version}: {found.what} ({found.detail})"
                )
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


async def _export(args: argparse.Namespace) -> str:
    from planapi.api.rendering import render
    from planapi.application.document import diff_document, plan_document

    services = await bootstrap(_settings())
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

    from planapi.entrypoints import tokens_cli

    tokens_cli.add_parser(commands)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", default=str(SCHEMA_FILE), help="a path, or - for stdout")
    export.add_argument("--check", action="store_true", help="fail if the file differs")

    trusted = commands.add_parser(
        "trusted-documents", help="write the trusted documents (persisted queries) manifest"
    )
    trusted.add_argument("--output", default="schema/trusted-documents.json")
    trusted.add_argument("--check", action="store_true", help="fail if the file differs")
    return parser


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
            case "verify":
                ok, lines = asyncio.run(_verify(args.plan_id))
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
