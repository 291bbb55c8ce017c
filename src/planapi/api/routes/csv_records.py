"""The records of a CSV body as it streams in, each with the line it starts on: one at a time
(`records`), or all those a chunk completes at once (`record_blocks`, for SDMX-CSV's 10,000
rows, where a turn of an async generator and a decode per line were a tenth of a row's cost).
A record may span lines inside quotes; a line that is not UTF-8 is a record of its own that
says so (`NOT_UTF8`). Both give the same records; tests compare them."""

from __future__ import annotations

from collections.abc import AsyncIterator

NOT_UTF8 = "\x00not-utf8:"
Record = tuple[int, str]


async def records(body: AsyncIterator[bytes]) -> AsyncIterator[Record]:
    """(first line number, text) of each record, one at a time."""
    async for block in record_blocks(body):
        for record in block:
            yield record


async def record_blocks(body: AsyncIterator[bytes]) -> AsyncIterator[list[Record]]:
    """The records each chunk completes (never an empty list), in order."""
    split = _Splitter()
    buffer = b""
    async for chunk in body:
        buffer += chunk
        cut = buffer.rfind(b"\n")
        if cut < 0:
            continue
        block = split.block(buffer[:cut])
        buffer = buffer[cut + 1 :]
        if block:
            yield block
    last = split.end(buffer)
    if last:
        yield last


class _Splitter:
    """Lines into records, a block of whole lines at a time."""

    def __init__(self) -> None:
        self.line = 0  # the last line taken
        self.start = 1  # where the pending record starts
        self.pending = ""  # a record whose quoted field goes on

    def block(self, raw: bytes) -> list[Record]:
        try:
            lines = raw.decode("utf-8").split("\n")
        except UnicodeDecodeError:  # only the lines that are not UTF-8 say so
            return self._lines([self._decode(part, n) for n, part in enumerate(raw.split(b"\n"))])
        if self.pending or b'"' in raw:
            return self._lines([line.rstrip("\r") for line in lines])
        first, self.line = self.line + 1, self.line + len(lines)
        self.start = self.line + 1
        return [(first + n, line.rstrip("\r")) for n, line in enumerate(lines)]

    def end(self, rest: bytes) -> list[Record]:
        if not rest and not self.pending:
            return []
        text = self._decode(rest, 0) if rest else ""
        self.line += 1
        return [(self.start, f"{self.pending}\n{text}" if self.pending else text)]

    def _decode(self, raw: bytes, offset: int) -> str:
        try:
            return raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            return f"{NOT_UTF8}{self.line + offset + 1}"

    def _lines(self, texts: list[str]) -> list[Record]:
        out: list[Record] = []
        for text in texts:
            self.line += 1
            pending = f"{self.pending}\n{text}" if self.pending else text
            if pending.count('"') % 2:
                self.pending = pending  # a quoted field goes on
                continue
            out.append((self.start, pending))
            self.pending, self.start = "", self.line + 1
        return out
