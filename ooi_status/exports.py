"""Cells of the CSV and TSV exports, safe to open in a spreadsheet.

A spreadsheet takes a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or a carriage return) for a formula: a reference designator, stream, method or note written
into the OOI metadata as ``=HYPERLINK(...)`` would run as one on the desk of whoever opens
the export. ``csv_row`` applies OWASP's CSV-injection rule to every text cell of a row: such a
cell is written with a single quote before it (``'=HYPERLINK(...)``), which a spreadsheet shows
as text. Numbers are never changed: a cell that is a number (an int or a float, or text that is
exactly a decimal number such as ``-3`` or ``-0.25``) is written as it is, negative or not.
Every CSV/TSV export of the API writes its rows (header included) through ``csv_row``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_row(cells: Iterable[Any]) -> list[Any]:
    """The row's cells with every text cell that a spreadsheet would take for a formula quoted."""
    return [_safe(cell) for cell in cells]


def _safe(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
