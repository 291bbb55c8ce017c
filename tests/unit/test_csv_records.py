"""A CSV body's records, split a chunk's lines at a time (`record_blocks`), are the records of
reading it line by line, however the body arrives: the same texts, starting on the same lines,
quoted line breaks kept, a line that is not UTF-8 named by its number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from planapi.api.routes.csv_records import NOT_UTF8, record_blocks, records

PIECES = [b"a", b",", b'"', b"\n", b"\r\n", b"\xc3\xa9", b"\xff", b" ", b"2027-M03"]


def _line_by_line(body: bytes) -> list[tuple[int, str]]:
    """The straightforward reading: each line decoded, joined while a quote is open."""
    out, pending, start = [], "", 1
    lines = body.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if number == len(lines) and not raw and not pending:
            break  # the body ended with a line break
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            text = f"{NOT_UTF8}{number}"
        pending = f"{pending}\n{text}" if pending else text
        if pending.count('"') % 2 and number < len(lines):
            continue
        out.append((start, pending))
        pending, start = "", number + 1
    return out


async def _chunks(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    at = 0
    for cut in sorted(cuts):
        yield body[at:cut]
        at = cut
    yield body[at:]


async def _all(body: bytes, cuts: list[int]) -> tuple[list[tuple[int, str]], list[list]]:
    blocks = [block async for block in record_blocks(_chunks(body, cuts))]
    one_by_one = [record async for record in records(_chunks(body, cuts))]
    assert [record for block in blocks for record in block] == one_by_one
    return one_by_one, blocks


@given(
    st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    st.lists(st.integers(0, 200), max_size=6),
)
def test_records_are_those_of_reading_line_by_line(body: bytes, cuts: list[int]) -> None:
    found, blocks = asyncio.run(_all(body, [min(c, len(body)) for c in cuts]))
    assert found == _line_by_line(body)
    assert all(blocks)


def test_a_quoted_line_break_stays_in_its_record_and_the_next_starts_after_it() -> None:
    body = b'h1,h2\r\n"a\nb",c\r\nd,\xff\r\ne,f'
    found, _ = asyncio.run(_all(body, [3, 9]))
    assert found == [(1, "h1,h2"), (2, '"a\nb",c'), (4, f"{NOT_UTF8}4"), (5, "e,f")]
