"""HTML as an auditor reads it: the visible text, line by line; and a check that it nests."""

from __future__ import annotations

from html.parser import HTMLParser


class Text(HTMLParser):
    """An HTML page as the lines a reader sees: one per element, tags dropped, entities decoded."""

    BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "title", "ul", "header", "main"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.tags: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("style", "script"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.skip -= 1
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.lines[-1] += data

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        parser.close()
        return [line.strip() for line in parser.lines if line.strip()]


class Nesting(HTMLParser):
    """Checks that lists nest as HTML requires: every tag closed in order, a list only directly
    inside an item (or outside any list), an item only directly inside a list."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        parent = self.open[-1] if self.open else None
        if tag == "li":
            assert parent == "ul", f"<li> inside <{parent}>"
        if tag in ("ul", "p", "h1", "h2", "h3", "h4", "h5", "h6"):
            assert parent != "ul", f"<{tag}> directly inside <ul>"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    @classmethod
    def check(cls, html: str) -> None:
        parser = cls()
        parser.feed(html)
        parser.close()
        assert parser.open == []
