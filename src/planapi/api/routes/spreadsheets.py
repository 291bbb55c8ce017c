"""Sheets written as XLSX (openpyxl in write-only mode: rows stream out, memory stays flat) or
CSV. A sheet longer than a worksheet's 1,048,576 rows continues on `name (2)`, `name (3)` …,
each with the header again, so nothing is cut off."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal

from openpyxl import Workbook

from planapi.application.spreadsheets import Cell, Sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
MAX_ROWS = 1_048_576  # a worksheet's rows, the header included


def xlsx(sheets: Sequence[Sheet], max_rows: int = MAX_ROWS) -> bytes:
    book = Workbook(write_only=True)
    for name, rows in _parts(sheets, max_rows - 1):
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append([_cell(value) for value in row])
    if not sheets:
        book.create_sheet("Empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parts(sheets: Sequence[Sheet], per_sheet: int) -> Iterator[tuple[str, list[tuple[Cell, ...]]]]:
    for sheet in sheets:
        chunks = [sheet.rows[i : i + per_sheet] for i in range(0, len(sheet.rows), per_sheet)]
        for number, chunk in enumerate(chunks or [[]], start=1):
            name = sheet.name if number == 1 else f"{sheet.name[:25]} ({number})"
            yield name, [sheet.header, *chunk]


def _cell(value: Cell) -> object:
    # Exact decimals as numbers a spreadsheet can sum; CHF amounts have two places, which a
    # float of that size keeps exactly when shown to the centime.
    return float(value) if isinstance(value, Decimal) else value


def csv_text(sheet: Sheet) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow(
            ["" if v is None else (format(v, "f") if isinstance(v, Decimal) else v) for v in row]
        )
    return out.getvalue()
