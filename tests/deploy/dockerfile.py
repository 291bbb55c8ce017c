"""A small reader of docker/Dockerfile: (KEYWORD, arguments) with continued lines joined."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON-array form (`["planapi", "serve"]`); anything else is refused."""
        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} must use the exec (JSON) form"
        return [str(item) for item in value]

    def flags(self) -> dict[str, str]:
        """`--name=value` options at the start of the arguments (FROM, COPY, HEALTHCHECK)."""
        found = {}
        for word in shlex.split(self.arguments):
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = value
        return found


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    found: list[Instruction] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comments may sit inside a continued instruction too
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def healthcheck_command(items: list[Instruction]) -> list[str]:
    (check,) = [i for i in items if i.keyword == "HEALTHCHECK"]
    _, _, command = check.arguments.partition("CMD ")
    return json.loads(command)  # type: ignore[no-any-return]
