"""The Merkle logs' use cases: keep the trees caught up, sign checkpoints, serve proofs, and
check the present log against checkpoints saved elsewhere (docs/security.md, "Proofs")."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planapi.application.ports import Clock, MerkleTree, Recomputation
from planapi.domain.merkle import ProofError, verify_consistency
from planapi.domain.notes import Checkpoint, NoteError, SignerKey, VerifierKey, open_checkpoint

EVENTS, READINGS = "events", "readings"
LOGS = (EVENTS, READINGS)
# What a leaf's ref is called, per log, when a message names where the log broke.
REF_NAME = {EVENTS: "position", READINGS: "batch"}


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    log: str
    tree_size: int
    root_hash: bytes
    note: str


@dataclass(frozen=True, slots=True)
class LogSettings:
    origin_base: str
    every: int = 1_000  # sign once this many new leaves are in
    seconds: float = 60.0  # or once the newest leaf is this old and unsigned
    signer: SignerKey | None = None
    past_keys: tuple[VerifierKey, ...] = ()


@dataclass
class Transparency:
    tree: MerkleTree
    recompute: Recomputation
    clock: Clock
    settings: LogSettings
    _last_signed: dict[str, float] = field(default_factory=dict)

    def origin(self, log: str) -> str:
        return f"{self.settings.origin_base}/{log}"

    def log_of(self, origin: str) -> str | None:
        return next((log for log in LOGS if self.origin(log) == origin), None)

    @property
    def keys(self) -> list[VerifierKey]:
        """Every key a checkpoint of this log may be signed by: the current one first."""
        current = [self.settings.signer.verifier()] if self.settings.signer else []
        return [*current, *self.settings.past_keys]

    async def catch_up(self, log: str) -> int:
        size = -1
        while (grown := await self.tree.integrate(log)) != size:
            size = grown
        return size

    async def round(self, *, force: bool = False) -> list[StoredCheckpoint]:
        """One follower round: both trees caught up, and a checkpoint signed where one is due —
        by one process at a time however many run (the others skip the round)."""
        signed: list[StoredCheckpoint] = []
        async with self.tree.leading() as leader:
            if not leader:
                return signed
            for log in LOGS:
                size = await self.catch_up(log)
                made = await self._sign_if_due(log, size, force)
                if made is not None:
                    signed.append(made)
        return signed

    async def _sign_if_due(self, log: str, size: int, force: bool) -> StoredCheckpoint | None:
        signer = self.settings.signer
        if signer is None:
            return None
        latest = await self.tree.latest_checkpoint(log)
        signed_size = latest[0].tree_size if latest else -1
        if size == 0 or size <= signed_size:  # an empty tree proves nothing
            return None
        now = self.clock.now()
        waited = now.timestamp() - self._last_signed.get(log, now.timestamp())
        self._last_signed.setdefault(log, now.timestamp())
        fresh = size - max(signed_size, 0)
        if not force and fresh < self.settings.every and waited < self.settings.seconds:
            return None
        root = await self.tree.root(log, size)
        note = signer.sign(Checkpoint(self.origin(log), size, root).body())
        checkpoint = StoredCheckpoint(log, size, root, note)
        await self.tree.save_checkpoint(checkpoint, now.astimezone(dt.UTC))
        self._last_signed[log] = now.timestamp()
        return checkpoint

    async def checkpoint(self, log: str) -> StoredCheckpoint | None:
        latest = await self.tree.latest_checkpoint(log)
        return latest[0] if latest else None

    async def inclusion(self, log: str, leaf: int, size: int) -> dict[str, Any]:
        path = await self.tree.inclusion(log, leaf, size)
        return {"log": log, "origin": self.origin(log), "leaf": leaf, "treeSize": size,
                "hashes": [_b64(h) for h in path]}  # fmt: skip

    async def consistency(self, log: str, first: int, second: int) -> dict[str, Any]:
        proof = await self.tree.consistency(log, first, second)
        return {"log": log, "origin": self.origin(log), "from": first, "to": second,
                "hashes": [_b64(h) for h in proof]}  # fmt: skip

    def open(self, note: str) -> tuple[str, Checkpoint]:
        """(log, checkpoint) of a signed checkpoint of one of our logs; NoteError if refused."""
        origin = note.split("\n", 1)[0]
        log = self.log_of(origin)
        if log is None:
            expected = " or ".join(repr(self.origin(each)) for each in LOGS)
            raise NoteError(f"the checkpoint is for origin {origin!r}, not {expected}")
        return log, open_checkpoint(note, self.keys, origin)

    async def witness(self, saved: Sequence[str], note: str) -> Checkpoint:
        """Checks a new checkpoint as a witness must before keeping it: signed by a known key,
        of one of our logs, and a consistent extension of the last one kept for that log."""
        log, fresh = self.open(note)
        earlier = [c for each in saved for lg, c in [self.open(each)] if lg == log]
        if earlier:
            last = max(earlier, key=lambda c: c.size)
            if fresh.size < last.size:
                raise NoteError(
                    f"tree size {fresh.size} is smaller than the {last.size} already witnessed"
                )
            proof = await self.tree.consistency(log, last.size, fresh.size)
            try:
                verify_consistency(last.size, fresh.size, last.root, fresh.root, proof)
            except ProofError as error:
                raise NoteError(
                    f"not a consistent extension of the witnessed tree of {last.size}: {error}"
                ) from error
        return fresh

    async def check_saved(self, notes: Sequence[str]) -> tuple[bool, list[str]]:
        """Whether the present log extends every saved checkpoint, re-hashed from the rows;
        where it does not, the first leaf (and position) it can name."""
        lines: list[str] = []
        ok = True
        by_log: dict[str, list[Checkpoint]] = {}
        for index, note in enumerate(notes, 1):
            try:
                log, checkpoint = self.open(note)
            except NoteError as error:
                ok = False
                lines.append(f"checkpoint {index}: REFUSED: {error}")
                continue
            by_log.setdefault(log, []).append(checkpoint)
        for log, checkpoints in by_log.items():
            log_ok, found = await self._check_log(log, sorted(checkpoints, key=lambda c: c.size))
            ok = ok and log_ok
            lines.extend(found)
        return ok, lines

    async def _check_log(self, log: str, checkpoints: list[Checkpoint]) -> tuple[bool, list[str]]:
        count, roots = await self.recompute.roots(log, [c.size for c in checkpoints])
        lines, good = [], 0
        for checkpoint in checkpoints:
            size = checkpoint.size
            if size <= count and roots[size] == checkpoint.root:
                lines.append(f"{log}: ok, the log's first {size} leaves match the checkpoint")
                good = max(good, size)
                continue
            lines.append(f"{log}: BROKEN against the checkpoint of {size} leaves: "
                         + await self._where(log, count, good, size))  # fmt: skip
            return False, lines
        return True, lines

    async def _where(self, log: str, count: int, good: int, size: int) -> str:
        found = await self.recompute.first_difference(log, self.tree)
        name = REF_NAME[log]
        if found is not None and good <= found[0] < size:
            leaf, ref = found
            gone = " is gone" if leaf >= count else " no longer matches its leaf"
            return f"leaf {leaf} ({name} {ref}){gone}; the log holds {count} leaves"
        if size > count:
            return f"the log holds {count} leaves: leaves {count}..{size - 1} are gone"
        # The stored tree was rewritten along with the rows: only the checkpoints bound where.
        return (
            f"the rows of leaves {good}..{size - 1} were changed (the stored tree was rewritten "
            "with them; an earlier checkpoint narrows it down)"
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
