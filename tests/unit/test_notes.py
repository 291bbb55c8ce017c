"""Signed notes and checkpoints in the C2SP formats, checked against Go's reference example."""

from __future__ import annotations

import base64

import pytest

from planapi.domain.notes import (
    Checkpoint,
    NoteError,
    SignerKey,
    VerifierKey,
    open_checkpoint,
    open_note,
    split_notes,
)

# The example key pair and note of golang.org/x/mod/sumdb/note (note_test.go), used as data.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ROOT = bytes(range(32))


def test_keys_and_signatures_match_gos_reference_byte_for_byte() -> None:
    signer = SignerKey.parse(GO_SKEY)
    assert signer.encode() == GO_SKEY
    assert signer.verifier().encode() == GO_VKEY
    assert VerifierKey.parse(GO_VKEY) == signer.verifier()
    assert signer.sign(GO_TEXT) == GO_NOTE  # Ed25519 is deterministic
    assert open_note(GO_NOTE, [VerifierKey.parse(GO_VKEY)]) == (GO_TEXT, signer.verifier())


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "hash"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "hash"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "name"),
        ("PeterNeumann+c74f20a3", "name\\+hash\\+key"),
        ("PeterNeumann+c74f20a3+!!!!", "base64"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "Ed25519"),
    ],
)
def test_a_malformed_verifier_key_is_refused_with_a_reason(key: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        VerifierKey.parse(key)


def test_a_checkpoint_reads_back_and_is_refused_for_another_origin_or_key() -> None:
    signer = SignerKey.generate("planapi.test")
    note = signer.sign(Checkpoint("planapi.test/events", 7, ROOT).body())
    assert note.startswith(f"planapi.test/events\n7\n{base64.b64encode(ROOT).decode()}\n\n— ")

    keys = [signer.verifier()]
    assert open_checkpoint(note, keys, "planapi.test/events") == Checkpoint(
        "planapi.test/events", 7, ROOT
    )
    with pytest.raises(NoteError, match=r"for origin 'planapi\.test/events', not 'x/readings'"):
        open_checkpoint(note, keys, "x/readings")
    stranger = SignerKey.generate("planapi.test").verifier()
    with pytest.raises(NoteError, match="signed by no known key"):
        open_checkpoint(note, [stranger], "planapi.test/events")
    forged = note.replace("\n7\n", "\n8\n")
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(forged, keys, "planapi.test/events")


def test_a_witness_file_splits_into_its_notes() -> None:
    signer = SignerKey.generate("k")
    notes = [signer.sign(Checkpoint("o/events", n, ROOT).body()) for n in (1, 2, 3)]
    assert split_notes("\n".join(notes)) == notes
    assert split_notes("".join(notes)) == notes
