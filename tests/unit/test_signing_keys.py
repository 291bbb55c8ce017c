"""The signing key comes from outside the database; a bad one stops the start, naming the
setting, and `planapi keys create` writes a private file it never overwrites."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from planapi.adapters.signing_keys import SigningKeyError, load_past_keys, load_signer
from planapi.domain.notes import SignerKey, VerifierKey
from planapi.entrypoints.cli import main


def test_the_key_is_read_from_a_file_or_from_its_text(tmp_path: Path) -> None:
    key = SignerKey.generate("planapi.test")
    path = tmp_path / "key"
    path.write_text(key.encode() + "\n")
    assert load_signer(str(path), None) == key
    assert load_signer(None, key.encode()) == key
    assert load_signer(None, None) is None


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("key", "PRIVATE+KEY+x+00000000+AAAA", "not both"),
        ("missing", None, "PLANAPI_LOG_SIGNING_KEY_FILE: .*No such file"),
        (None, "PRIVATE+KEY+x+00000000+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "hash"),
        (None, "x+y", "PLANAPI_LOG_SIGNING_KEY: a signing key reads"),
    ],
)
def test_a_bad_key_names_the_setting(
    tmp_path: Path, file: str | None, text: str | None, message: str
) -> None:
    (tmp_path / "key").write_text("")
    with pytest.raises(SigningKeyError, match=message):
        load_signer(str(tmp_path / file) if file else None, text)


def test_past_keys_are_a_comma_separated_list_of_verifier_keys() -> None:
    keys = [SignerKey.generate(f"k{n}").verifier() for n in range(2)]
    assert load_past_keys(",".join(k.encode() for k in keys)) == tuple(keys)
    with pytest.raises(SigningKeyError, match="PLANAPI_LOG_PAST_KEYS"):
        load_past_keys("nonsense")


def test_keys_create_writes_an_owner_only_file_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signing.key"
    assert main(["keys", "create", "--name", "planapi.example", str(path)]) == 0
    printed = capsys.readouterr().out.splitlines()[-1]
    key = SignerKey.parse(path.read_text())
    assert VerifierKey.parse(printed) == key.verifier()
    assert key.name == "planapi.example"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(SystemExit, match="never overwritten"):
        main(["keys", "create", str(path)])
    assert SignerKey.parse(path.read_text()) == key
