"""The expected-streams CSV: ``name,method,expected_rate,warn_interval,fail_interval``.

A file is validated whole before anything is written, and is read as a stream: never more
than ``MAX_BYTES`` of it (a larger file is refused at once, from its size, before a row is
read), one record at a time. Each problem is an ExpectedCsvError naming the file, the line
and the field:
- a missing or unknown column, a field count that differs from the header's, an empty file,
  bytes that are not UTF-8, a NUL byte, text that is not CSV;
- an empty name or method, one longer than its column (``NAME_LENGTH``), or one holding a line
  break (a quoted newline) or any other control or separator character (a vertical tab, NEL
  U+0085, LINE SEPARATOR U+2028, ...), each named as what it is: never silently cut or dropped;
- a value that is not a plain decimal number (digits, one optional point, an optional
  exponent: ``1_000``, ``0x10``, ``nan``, ``inf`` or ``٢`` are not numbers here), a
  negative one, a rate that is not finite, an interval that is not a whole number of seconds
  or is above ``MAX_INTERVAL`` (2,147,483,647: the integer column's limit on SQLite and
  PostgreSQL alike, the one the API's PATCH applies);
- a duplicate (name, method).
Only spaces and tabs around a field are trimmed. Loading then upserts every row by (name,
method) in the caller's single transaction (all or nothing).
"""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import String, select
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.model.monitor import ExpectedStream

COLUMNS = ("name", "method", "expected_rate", "warn_interval", "fail_interval")
#: Largest file read (bytes): some 40,000 rows; the OOI table is 4 KB. Bounds the memory of a
#: load to a few tens of MB whatever the file.
MAX_BYTES = 1024 * 1024
#: Largest interval (seconds): the 32-bit integer column, on SQLite and PostgreSQL alike.
MAX_INTERVAL = 2**31 - 1
#: Longest name and method: their columns' length.
NAME_LENGTH = {
    field: getattr(ExpectedStream.__table__.c[field].type, "length", None) or 255
    for field in ("name", "method")
    if isinstance(ExpectedStream.__table__.c[field].type, String)
}
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_PADDING = " \t"
#: Characters a name may not hold, named as a person would look them up.
_NAMED = {
    "\n": "a line break (LF, U+000A)",
    "\r": "a line break (CR, U+000D)",
    "\t": "a tab (U+0009)",
    "\x0b": "a vertical tab (VT, U+000B)",
    "\x0c": "a form feed (FF, U+000C)",
    "\x1c": "a file separator (U+001C)",
    "\x1d": "a group separator (U+001D)",
    "\x1e": "a record separator (U+001E)",
    "\x85": "a next-line character (NEL, U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}


class _Records(Protocol):
    """A csv.reader: records, and the number of lines read so far."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


class ExpectedCsvError(ValueError):
    """The file cannot be loaded; the message names file, line and field."""


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    name: str
    method: str
    expected_rate: float
    warn_interval: int
    fail_interval: int


def read_expected_csv(path: str | Path) -> list[ExpectedRow]:
    try:
        with open(path, "rb") as raw:
            return _read(path, raw)
    except OSError as exc:
        raise ExpectedCsvError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _read(path: str | Path, raw: BinaryIO) -> list[ExpectedRow]:
    size = os.fstat(raw.fileno()).st_size
    if size > MAX_BYTES:
        raise ExpectedCsvError(
            f"{path}: {size:,} bytes, more than the {MAX_BYTES:,} an expected-streams CSV may have"
        )
    lines = _Lines(path, raw)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip(_PADDING) for cell in header):
            raise ExpectedCsvError(f"{path}, line 1: empty file, expected the header {','.join(COLUMNS)}")
        header = [cell.strip(_PADDING) for cell in header]
        _check_header(path, header)
        return _rows(path, header, reader)
    except csv.Error as exc:
        raise ExpectedCsvError(f"{path}, line {lines.number}: not valid CSV: {exc}") from None


class _Lines:
    """The file's text lines for csv.reader, read and decoded one at a time, at most MAX_BYTES
    of them in all (a file that grows while read, a pipe: no size to check first).

    A line ends at LF, CRLF or a lone CR (a spreadsheet's "CSV (Macintosh)"): a vertical tab, NEL
    or U+2028 stays inside its field, for the row's checks to name. ``number`` is the line last
    read.
    """

    def __init__(self, path: str | Path, raw: BinaryIO) -> None:
        self.path, self.raw = path, raw
        self.number = 0
        self._left = MAX_BYTES
        self._pending: list[bytes] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if not self._pending:
            self._pending = _LONE_CR.split(self._read())
        self.number += 1
        data = self._pending.pop(0)
        try:
            line = data.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ExpectedCsvError(
                f"{self.path}, line {self.number}: not UTF-8 text (byte {exc.start + 1} of the line)"
            ) from None
        if "\x00" in line:
            raise ExpectedCsvError(f"{self.path}, line {self.number}: not CSV text (NUL byte)")
        return line

    def _read(self) -> bytes:
        data = self.raw.readline(self._left + 1)
        if not data:
            raise StopIteration
        self._left -= len(data)
        if self._left < 0:
            raise ExpectedCsvError(
                f"{self.path}: more than the {MAX_BYTES:,} bytes an expected-streams CSV may have"
            )
        return data


#: Where a lone CR ends a line: after a CR that no LF follows.
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)(?=.)", re.S)


def _check_header(path: str | Path, header: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing:
        raise ExpectedCsvError(
            f"{path}, line 1: missing column {', '.join(missing)} (header must be {','.join(COLUMNS)})"
        )
    if unknown:
        raise ExpectedCsvError(
            f"{path}, line 1: unknown column {', '.join(_shown(c) for c in unknown)} "
            f"(header must be {','.join(COLUMNS)})"
        )
    if len(set(header)) != len(header):
        raise ExpectedCsvError(f"{path}, line 1: a column is named twice")


def _rows(path: str | Path, header: list[str], reader: _Records) -> list[ExpectedRow]:
    """The rows of the records after the header; a record's line is the one it starts on."""
    rows: list[ExpectedRow] = []
    seen: dict[tuple[str, str], int] = {}
    last = reader.line_num  # the header's last line
    for cells in reader:
        line = last + 1
        last = reader.line_num
        if not any(cell.strip(_PADDING) for cell in cells):
            continue
        if len(cells) != len(header):
            raise ExpectedCsvError(f"{path}, line {line}: {len(cells)} fields, the header has {len(header)}")
        record = dict(zip(header, (c.strip(_PADDING) for c in cells), strict=True))
        row = _row(path, line, record)
        key = (row.name, row.method)
        if key in seen:
            raise ExpectedCsvError(
                f"{path}, line {line}: field name,method: duplicate {row.name},{row.method} "
                f"(first on line {seen[key]})"
            )
        seen[key] = line
        rows.append(row)
    return rows


def _row(path: str | Path, line: int, record: dict[str, str]) -> ExpectedRow:
    return ExpectedRow(
        _name(path, line, "name", record["name"]),
        _name(path, line, "method", record["method"]),
        _number(path, line, "expected_rate", record["expected_rate"], integer=False),
        int(_number(path, line, "warn_interval", record["warn_interval"], integer=True)),
        int(_number(path, line, "fail_interval", record["fail_interval"], integer=True)),
    )


def _name(path: str | Path, line: int, field: str, text: str) -> str:
    where = f"{path}, line {line}: field {field}"
    if not text:
        raise ExpectedCsvError(f"{where}: empty")
    for char in text:
        what = _unwanted(char)
        if what:
            raise ExpectedCsvError(f"{where}: holds {what} in {_shown(text)}; a name is one line of text")
    if len(text) > NAME_LENGTH[field]:
        raise ExpectedCsvError(
            f"{where}: {len(text)} characters, longer than the {NAME_LENGTH[field]} its column holds"
        )
    return text


def _unwanted(char: str) -> str | None:
    """What ``char`` is when a name may not hold it (a control or separator character), else None."""
    if char in _NAMED:
        return _NAMED[char]
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        label = unicodedata.name(char, "a control character").lower()
        return f"{label} (U+{ord(char):04X})"
    return None


def _shown(text: str) -> str:
    """A value for a message: escaped (no control character reaches the terminal), cut short."""
    shown = text if text.isprintable() else ascii(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _number(path: str | Path, line: int, field: str, text: str, *, integer: bool) -> float:
    where = f"{path}, line {line}: field {field}"
    if text.startswith("-") and _NUMBER.fullmatch(text[1:]):
        raise ExpectedCsvError(f"{where}: negative: {text}")
    if not _NUMBER.fullmatch(text):
        raise ExpectedCsvError(
            f"{where}: not a number: {_shown(text)} (digits, an optional point and exponent)"
        )
    value = float(text)
    if not math.isfinite(value):
        raise ExpectedCsvError(f"{where}: not a finite number: {text}")
    if integer and value != int(value):
        raise ExpectedCsvError(f"{where}: seconds must be a whole number: {text}")
    if integer and value > MAX_INTERVAL:
        raise ExpectedCsvError(
            f"{where}: {text} is above {MAX_INTERVAL}, the largest interval the database holds"
        )
    return value


def upsert_expected(session: Session, rows: list[ExpectedRow]) -> tuple[int, int]:
    """Insert or update by (name, method) in the caller's transaction; returns (created, updated).

    A load that changed a row moves the data revision in the same transaction."""
    existing = {(e.name, e.method): e for e in session.scalars(select(ExpectedStream))}
    created = updated = 0
    for row in rows:
        current = existing.get((row.name, row.method))
        if current is None:
            session.add(
                ExpectedStream(
                    name=row.name,
                    method=row.method,
                    expected_rate=row.expected_rate,
                    warn_interval=row.warn_interval,
                    fail_interval=row.fail_interval,
                )
            )
            created += 1
        elif (current.expected_rate, current.warn_interval, current.fail_interval) != (
            row.expected_rate,
            row.warn_interval,
            row.fail_interval,
        ):
            current.expected_rate = row.expected_rate
            current.warn_interval = row.warn_interval
            current.fail_interval = row.fail_interval
            updated += 1
    session.flush()
    if created or updated:
        revision.bump(session)
    return created, updated
