"""Documents as Markdown, HTML (a readable page) or JSON."""

from __future__ import annotations

import html
import json
from typing import Any

from planapi.application.document import Block, Document
from planapi.application.document_languages import direction, header_lines

FORMATS = {
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
_MARKS = {"added": "[+] ", "removed": "[-] ", "changed": "[~] ", None: ""}


def render(document: Document, fmt: str) -> str:
    return {"markdown": markdown, "html": page, "json": as_json}[fmt](document)


def _md(text: str) -> str:
    """Text as Markdown shows it: a `<` could otherwise open raw HTML in a viewer."""
    return text.replace("<", "\\<")


def markdown(document: Document) -> str:
    out = [f"# {_md(document.title)} {document.period}", ""]
    out += [f"> {_md(line)}  " for line in header_lines(document)]
    out.append("")
    previous: Block | None = None
    for block in document.blocks:
        if block.type == "item":
            out.append(f"{'  ' * block.level}- {_MARKS[block.mark]}{_md(block.text)}")
        elif _continues(previous, block):
            # The description of the item above: a paragraph inside that item.
            assert previous is not None
            if out[-1]:
                out.append("")
            out += [f"{'  ' * (previous.level + 1)}{_MARKS[block.mark]}{_md(block.text)}", ""]
            continue  # later items of the same node still nest under it
        else:
            if out[-1]:
                out.append("")
            if block.type == "heading":
                out.append(f"{'#' * block.level} {_MARKS[block.mark]}{_md(block.text)}")
            else:
                out.append(f"{_MARKS[block.mark]}{_md(block.text)}")
            out.append("")
        previous = block
    return "\n".join(out).rstrip() + "\n"


def _continues(item: Block | None, block: Block) -> bool:
    """Whether `block` is a paragraph of the node whose list item `item` is (its description)."""
    return (
        item is not None
        and item.type == "item"
        and block.type == "paragraph"
        and block.node_id is not None
        and block.node_id == item.node_id
    )


_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
header{border-left:4px solid #0a5ea8;padding:.5rem 1rem;background:#f3f7fb;margin-bottom:2rem}
header p{margin:.2rem 0;font-size:.9rem} code{word-break:break-all}
h1{font-size:1.8rem} h2{margin-top:2rem;border-bottom:1px solid #ddd}
ins{background:#e6ffec;text-decoration:none} del{background:#ffebe9}
.changed{background:#fff8c5}
"""


def page(document: Document) -> str:
    esc = html.escape
    title = f"{document.title} {document.period}"
    parts = [
        "<!doctype html>",
        f'<html lang="{esc(document.lang)}" dir="{direction(document.lang)}">'
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1><header>",
        *(f"<p>{esc(line)}</p>" for line in header_lines(document)),
        "</header><main>",
    ]
    depth = -1  # how many lists are open, minus one
    item: Block | None = None  # the last list item, while its <li> is open
    for block in document.blocks:
        if block.type == "item":
            parts += _list_to(depth, block.level)
            depth = block.level
            parts.append(f"<li>{_marked(block)}")
            item = block
            continue
        if _continues(item, block):
            parts.append(f"<p>{_marked(block)}</p>")  # inside the item it describes
            continue
        item = None
        parts += _list_to(depth, -1)
        depth = -1
        if block.type == "heading":
            parts.append(f"<h{block.level}>{_marked(block)}</h{block.level}>")
        else:
            parts.append(f"<p>{_marked(block)}</p>")
    parts += _list_to(depth, -1)
    parts.append("</main></body></html>")
    out = "\n".join(parts) + "\n"
    if direction(document.lang) == "rtl":
        # A text still in the source language (no translation yet) runs left to right inside
        # the right-to-left page: each block finds its own direction from its first letter.
        for tag in ("p", "li", "h2", "h3", "h4", "h5", "h6"):
            out = out.replace(f"<{tag}>", f'<{tag} dir="auto">')
    return out


def _list_to(depth: int, level: int) -> list[str]:
    """Tags taking the open lists from `depth` to `level` (-1: none). A deeper list opens inside
    the last item, whose </li> is still pending; closing a list also closes its parent item."""
    if level > depth:
        return ["<ul>"] * (level - depth)
    if depth < 0:
        return []
    out = ["</li>"]
    for current in range(depth, level, -1):
        out.append("</ul>")
        if current > 0:
            out.append("</li>")
    return out


def _marked(block: Block) -> str:
    text = html.escape(block.text)
    if block.mark == "added":
        return f"<ins>{text}</ins>"
    if block.mark == "removed":
        return f"<del>{text}</del>"
    if block.mark == "changed":
        return f'<span class="changed">{text}</span>'
    return text


def as_json(document: Document) -> str:
    record, info = document.amendment, document.amendment.info
    body: dict[str, Any] = {
        "planId": document.plan_id,
        "lang": document.lang,
        "title": document.title,
        "period": document.period,
        "status": document.status,
        **({"kind": document.kind} if document.kind else {}),
        "version": record.version,
        "fromVersion": document.from_version,
        "recordedAt": record.recorded_at.isoformat(),
        "hash": record.hash.hex(),
        "amendment": {
            "version": record.version,
            "actor": info.actor,
            "authority": info.authority.value,
            "rationale": info.rationale,
            "reference": info.reference,
            "effectiveFrom": info.effective_from.isoformat() if info.effective_from else None,
        },
        "blocks": [
            {
                k: v
                for k, v in {
                    "type": b.type,
                    "text": b.text,
                    "level": b.level,
                    "nodeId": b.node_id,
                    "mark": b.mark,
                }.items()
                if v is not None
            }
            for b in document.blocks
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
