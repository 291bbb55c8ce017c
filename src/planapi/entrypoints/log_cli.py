"""`planapi keys create`, `planapi checkpoint save`, `planapi verify --checkpoint` and the
standalone `planapi log check`, which needs no database: a public key, a checkpoint, a proof and
an event line from `GET /events` (docs/security.md, "Checking a proof by hand")."""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
from pathlib import Path
from typing import Any

from planapi.adapters.hashing import canonical_text, event_bytes_of_text
from planapi.adapters.signing_keys import write_signer
from planapi.application.transparency import LOGS, Transparency
from planapi.domain.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from planapi.domain.notes import (
    Checkpoint,
    NoteError,
    SignerKey,
    VerifierKey,
    open_checkpoint,
    split_notes,
)


class CheckFailedError(Exception):
    """What the standalone check refuses, said plainly."""


def add_parsers(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the checkpoint signing key")
    key_actions = keys.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser(
        "create", help="write a new signing key file (mode 600); print its verifier key"
    )
    create.add_argument("file", type=Path)
    create.add_argument("--name", help="the key name (default: PLANAPI_LOG_ORIGIN)")

    checkpoint = commands.add_parser("checkpoint", help="signed checkpoints of the logs")
    actions = checkpoint.add_subparsers(dest="action", required=True)
    save = actions.add_parser(
        "save", help="sign the current checkpoints and append them to a witness file"
    )
    save.add_argument("file", type=Path)

    log = commands.add_parser("log", help="check proofs without the database")
    log_actions = log.add_subparsers(dest="action", required=True)
    check = log_actions.add_parser(
        "check", help="check an inclusion or consistency proof against signed checkpoints"
    )
    check.add_argument("--key", required=True, help="a verifier key, or a file of them")
    check.add_argument("--checkpoint", required=True, type=Path, action="append")
    check.add_argument("--proof", required=True, type=Path, help="JSON from GET /log/proof/…")
    check.add_argument("--event", type=Path, help="the event's line from GET /events")


def create_key(args: argparse.Namespace, default_name: str) -> str:
    key = SignerKey.generate(args.name or default_name)
    try:
        write_signer(args.file, key)
    except FileExistsError:
        raise SystemExit(f"planapi: {args.file} exists; a key file is never overwritten") from None
    return key.verifier().encode()


def read_notes(paths: list[Path]) -> list[str]:
    notes: list[str] = []
    for path in paths:
        try:
            notes.extend(split_notes(path.read_text(encoding="utf-8")))
        except OSError as error:
            raise SystemExit(f"planapi: {error}") from error
    return notes


async def save_checkpoints(transparency: Transparency, path: Path) -> list[str]:
    """Signs what is due now and appends each log's newest checkpoint to the witness file,
    after checking it as a witness would (signature, origin, consistency with the last kept)."""
    if transparency.settings.signer is None:
        raise SystemExit("planapi: no signing key: set PLANAPI_LOG_SIGNING_KEY_FILE")
    await transparency.round(force=True)
    saved = read_notes([path]) if path.exists() else []  # noqa: ASYNC240 (a small local file)
    lines = []
    for log in LOGS:
        latest = await transparency.checkpoint(log)
        if latest is None or latest.note in saved:
            continue
        try:
            await transparency.witness(saved, latest.note)
        except NoteError as error:
            raise SystemExit(f"planapi: the {log} checkpoint is refused: {error}") from error
        with path.open("a", encoding="utf-8") as file:
            file.write(latest.note)
        saved.append(latest.note)
        lines.append(f"{log}: saved the checkpoint of {latest.tree_size} leaves to {path}")
    return lines or ["nothing new to save"]


def event_leaf(line: str) -> bytes:
    """An event's leaf bytes rebuilt from its `GET /events` line: the stored JSON text is the
    canonical encoding, so re-encoding what was parsed gives it back byte for byte."""
    try:
        event = json.loads(line)
        return event_bytes_of_text(
            bytes.fromhex(event["prevHash"]),
            stream_id=event["streamId"],
            version=event["version"],
            type=event["type"],
            schema_version=event["schemaVersion"],
            data=canonical_text(event["data"]),
            meta=canonical_text(event["meta"]),
            recorded_at=dt.datetime.fromisoformat(event["recordedAt"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise CheckFailedError(f"the event line does not read: {error!r}") from error


def _keys(given: str) -> list[VerifierKey]:
    path = Path(given)
    text = path.read_text(encoding="utf-8") if path.exists() else given
    return [VerifierKey.parse(line) for line in text.splitlines() if line.strip()]


def _hashes(proof: dict[str, Any]) -> list[bytes]:
    try:
        return [base64.b64decode(h, validate=True) for h in proof["hashes"]]
    except (KeyError, TypeError, binascii.Error) as error:
        raise CheckFailedError("the proof's hashes do not read") from error


def check(args: argparse.Namespace) -> str:
    """The standalone check: signatures, then the proof, with nothing from the database."""
    try:
        keys = _keys(args.key)
        proof = json.loads(args.proof.read_text(encoding="utf-8"))
        notes = read_notes(args.checkpoint)
        trees = [open_checkpoint(note, keys, proof["origin"]) for note in notes]
    except (OSError, ValueError, KeyError, NoteError) as error:
        raise CheckFailedError(str(error)) from error
    hashes = _hashes(proof)
    try:
        if "leaf" in proof:
            return _check_inclusion(args, proof, trees[-1], hashes)
        return _check_consistency(proof, trees, hashes)
    except ProofError as error:
        raise CheckFailedError(f"the proof fails: {error}") from error


def _check_inclusion(
    args: argparse.Namespace, proof: dict[str, Any], tree: Checkpoint, hashes: list[bytes]
) -> str:
    if args.event is None:
        raise CheckFailedError("an inclusion proof needs --event (the line from GET /events)")
    if proof["treeSize"] != tree.size:
        raise CheckFailedError(
            f"the proof is for a tree of {proof['treeSize']} leaves, the checkpoint has {tree.size}"
        )
    line = args.event.read_text(encoding="utf-8").strip()
    verify_inclusion(proof["leaf"], tree.size, leaf_hash(event_leaf(line)), hashes, tree.root)
    event = json.loads(line)
    return (
        f"ok: the event at position {event['position']} ({event['streamId']} version "
        f"{event['version']}) is leaf {proof['leaf']} of {tree.origin}'s signed tree of "
        f"{tree.size} leaves"
    )


def _check_consistency(proof: dict[str, Any], trees: list[Checkpoint], hashes: list[bytes]) -> str:
    sizes = {tree.size: tree for tree in trees}
    first, second = sizes.get(proof["from"]), sizes.get(proof["to"])
    if first is None or second is None:
        raise CheckFailedError(
            f"give the checkpoints of {proof['from']} and {proof['to']} leaves the proof joins"
        )
    verify_consistency(first.size, second.size, first.root, second.root, hashes)
    return (
        f"ok: {second.origin}'s signed tree of {second.size} leaves extends its signed tree "
        f"of {first.size}"
    )
