"""`planapi`: serve, migrate, seed, verify, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as SettingsError

from planapi.api.schema import build_schema
from planapi.bootstrap import NotMigratedError, bootstrap, engine_for
from planapi.config import Settings
from planapi.domain.errors import PlanApiError

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

    _settings()  # fail fast, before uvicorn starts workers
    uvicorn.run(
        "planapi.entrypoints.asgi:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        proxy_headers=True,
    )
    return 0


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


async def _verify(plan_id: str) -> tuple[bool, str]:
    services = await bootstrap(_settings())
    try:
        report = await services.plans.verify(plan_id)
    finally:
        await services.close()
    if report.first_break is None:
        head = report.head_hash.hex() if report.head_hash else "-"
        return True, f"ok: {report.checked} events checked; version {report.head_version} {head}"
    found = report.first_break
    return False, f"BROKEN at version {found.version}: {found.what} ({found.detail})"


def export_schema(args: argparse.Namespace) -> int:
    sdl = build_schema().as_str() + "\n"
    target = Path(args.output)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current == sdl:
            print(f"{target} is up to date")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                sdl.splitlines(keepends=True),
                str(target),
                "code",
            )
        )
        print(f"\n{target} has drifted from the code: run `planapi export-schema`", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sdl, encoding="utf-8")
        print(f"wrote {target}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planapi", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve GraphQL (GraphiQL at /graphql)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--log-level", default="info")

    commands.add_parser("migrate", help="upgrade the database to the latest migration")

    seed = commands.add_parser("seed", help="create a plan from a bundled data file")
    seed.add_argument("name", choices=["baku"])

    verify = commands.add_parser("verify", help="re-compute a plan's hash chain")
    verify.add_argument("plan_id")

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", default=str(SCHEMA_FILE), help="a path, or - for stdout")
    export.add_argument("--check", action="store_true", help="fail if the file differs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "serve":
                return serve(args)
            case "export-schema":
                return export_schema(args)
            case "migrate":
                print(asyncio.run(_migrate()))
            case "seed":
                print(asyncio.run(_seed(args.name)))
            case "verify":
                ok, message = asyncio.run(_verify(args.plan_id))
                print(message)
                return 0 if ok else 1
    except (NotMigratedError, PlanApiError) as error:
        raise SystemExit(f"planapi: {error}") from error
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
