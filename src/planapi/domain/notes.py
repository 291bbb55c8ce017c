"""Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note` envelopes, Ed25519.

A checkpoint body is three lines: the log's origin, its tree size in decimal, its root hash in
standard base64 (c2sp.org/tlog-checkpoint). A signed note is the body, a blank line, and one
line per signature: an em dash, a space, the key name, a space, and base64 of the key's 4-byte
id followed by the 64-byte signature over the body (c2sp.org/signed-note). A key's id is the
first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key); a verifier key is written
`name+hex(id)+base64(0x01 || public key)`, as Go's golang.org/x/mod/sumdb/note reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
_NAME = re.compile(r"^[^\s+]+$")
_DASH = "\u2014 "


class NoteError(ValueError):
    """A note or checkpoint that does not read, is not signed by a known key, or is refused."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def _ed25519(encoded: str, what: str) -> bytes:
    """The 32 key bytes of base64(0x01 || key)."""
    raw = _unb64(encoded, what)
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError(f"{what} is not an Ed25519 key")
    return raw[1:]


def _same_id(key: VerifierKey, given: str, what: str) -> None:
    if key.id.hex() != given:  # lower-case hex only, as Go's note package insists
        raise NoteError(f"{what}'s hash does not match its name and key")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    public: bytes

    @property
    def id(self) -> bytes:
        return _key_id(self.name, self.public)

    def encode(self) -> str:
        return f"{self.name}+{self.id.hex()}+{_b64(bytes([ED25519]) + self.public)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold '+' too
        if len(parts) != 3:
            raise NoteError("a verifier key reads name+hash+key")
        name, given, encoded = parts
        key = cls(_checked_name(name), _ed25519(encoded, "the verifier key"))
        _same_id(key, given, "the verifier key")
        return key

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class SignerKey:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(_checked_name(name), seed)

    def verifier(self) -> VerifierKey:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return VerifierKey(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def encode(self) -> str:
        digest = self.verifier().id.hex()
        return f"PRIVATE+KEY+{self.name}+{digest}+{_b64(bytes([ED25519]) + self.seed)}"

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signing key reads PRIVATE+KEY+name+hash+key")
        key = cls(_checked_name(parts[2]), _ed25519(parts[4], "the signing key"))
        _same_id(key.verifier(), parts[3], "the signing key")
        return key

    def sign(self, body: str) -> str:
        """The signed note: the body, a blank line, this key's signature line."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(body.encode())
        return f"{body}\n{_DASH}{self.name} {_b64(self.verifier().id + signature)}\n"


def open_note(note: str, keys: Sequence[VerifierKey]) -> tuple[str, VerifierKey]:
    """The body of a note and the known key whose signature on it verifies; NoteError if none."""
    body, blank, signatures = note.rpartition("\n\n")
    if not blank or not body or not signatures.endswith("\n"):
        raise NoteError("a signed note is a body, a blank line and signature lines")
    body += "\n"
    names = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(_DASH) or line.count(" ") != 2:
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, encoded = line[len(_DASH) :].split(" ")
        raw = _unb64(encoded, f"the signature by {name}")
        names.append(name)
        for key in keys:
            if key.name == name and hmac.compare_digest(key.id, raw[:4]):
                if not key.verifies(body.encode(), raw[4:]):
                    raise NoteError(f"the signature by key {key.encode()} does not verify")
                return body, key
    raise NoteError(f"signed by no known key (signatures by: {', '.join(names) or 'none'})")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint body is an origin, a tree size and a root hash")
        origin, size, root = lines[:3]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("the checkpoint's origin or tree size does not read")
        digest = _unb64(root, "the checkpoint's root hash")
        if len(digest) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(origin, int(size), digest)


def open_checkpoint(note: str, keys: Sequence[VerifierKey], origin: str) -> Checkpoint:
    """A signed checkpoint of the log `origin`, or NoteError saying why it is refused."""
    body, _ = open_note(note, keys)
    checkpoint = Checkpoint.parse(body)
    if checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def split_notes(text: str) -> list[str]:
    """The notes in a witness file: signed notes one after the other, each ending in its
    signature lines (a body line never starts with the em dash)."""
    notes: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if current and current[-1].startswith(_DASH) and not line.startswith(_DASH):
            notes.append("".join(current))
            current = []
        if line.strip() or current:
            current.append(line)
    if current:
        notes.append("".join(current))
    return notes
