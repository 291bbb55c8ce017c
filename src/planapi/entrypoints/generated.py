"""Files the code generates and the repository commits (the SDL, the trusted documents)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path


def write_or_check(target: Path, text: str, *, check: bool, fix: str, what: str = "") -> int:
    """Write `text` to `target`, or with `check` compare and show the drift; 1 when it drifted."""
    suffix = f" ({what})" if what else ""
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current == text:
            print(f"{target} is up to date{suffix}")
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                str(target),
                "code",
            )
        )
        print(f"\n{target} has drifted from the code: run `{fix}`", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}{suffix}")
    return 0
