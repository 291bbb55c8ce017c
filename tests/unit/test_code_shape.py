"""The shape of `src/`: no module over 400 lines, no function over 50, so a reader can hold one
whole. Today's offenders are listed below with their size; the list only ever shrinks (a
ratchet): an offender that grows fails, and one brought under the limit fails until it is
struck off the list."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50  # from `def` to its last line (decorators aside)

# Modules over the limit, with their size in lines. None is left (issue 12 split the last ones):
# a new entry here is a step back.
MODULE_ALLOWANCES: dict[str, int] = {}

# Functions over the limit ("module:qualified name"), with their length today; same reason.
# None is left: a new entry here is a step back.
FUNCTION_ALLOWANCES: dict[str, int] = {}


def modules() -> Iterator[tuple[str, str]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines) of every function, nested ones and methods too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                yield name, node.end_lineno - node.lineno + 1
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def module_sizes() -> dict[str, int]:
    return {name: len(text.splitlines()) for name, text in modules()}


def function_sizes() -> dict[str, int]:
    return {
        f"{name}:{function}": length
        for name, text in modules()
        for function, length in functions(ast.parse(text))
    }


def _ratchet(sizes: dict[str, int], allowances: dict[str, int], limit: int) -> list[str]:
    problems = []
    for name, size in sorted(sizes.items()):
        allowed = allowances.get(name, limit)
        if size > allowed:
            problems.append(f"{name}: {size} lines (at most {allowed})")
    for name, allowed in sorted(allowances.items()):
        now = sizes.get(name)
        if now is None or now <= limit:
            problems.append(f"{name}: now {now} lines, within {limit}: strike it off the list")
        elif now < allowed:
            problems.append(f"{name}: now {now} lines: lower its allowance from {allowed}")
    return problems


def test_no_module_is_over_400_lines_beyond_the_shrinking_list() -> None:
    assert _ratchet(module_sizes(), MODULE_ALLOWANCES, MAX_MODULE_LINES) == []


def test_no_function_is_over_50_lines_beyond_the_shrinking_list() -> None:
    assert _ratchet(function_sizes(), FUNCTION_ALLOWANCES, MAX_FUNCTION_LINES) == []


def test_the_measure_counts_from_def_to_the_last_line_nested_functions_by_their_path() -> None:
    source = "class A:\n    @staticmethod\n    def f():\n        def g():\n            pass\n"
    tree = ast.parse(source)
    assert dict(functions(tree)) == {"A.f": 3, "A.f.g": 2}
