"""Cells for CSV and XLSX exports that a spreadsheet shows, never runs.

Spreadsheet programs read a cell that starts with = + - or @ as a formula
(and some skip a leading tab or carriage return to find one), so a team name,
a member's display name or a feed title written by a third party could run
`=HYPERLINK(...)` or worse in the program of whoever opens an export ("CSV
injection"). openpyxl even stores such a string as a formula in an XLSX.

Every export writes its rows through here: `csv_writer` for CSV,
`spreadsheet_row` for an XLSX row. A text cell that starts with one of those
characters gets a leading apostrophe, the spreadsheets' own "this is text"
mark; numbers, dates and empty cells pass unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in values]


class SpreadsheetCsvWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, target) -> None:
        self._writer = csv.writer(target)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(spreadsheet_row(row))


def csv_writer(target) -> SpreadsheetCsvWriter:
    """A CSV writer for exports (`target` has a `write`: a response, or an echo for streaming)."""
    return SpreadsheetCsvWriter(target)
