"""Domain names to API names: `parent_id` → `parentId`, a problem path to `changes[2].addNode.x`."""

from __future__ import annotations


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def render_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{camel(step)}" if out else camel(step)
    return out
